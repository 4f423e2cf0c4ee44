"""``fuchi explain ENTERPRISE ITEM FILES… --year Y --how-to-qualify`` (issue 9, point 4).

Every suggestion is checked here independently of the search: the changed enterprise is evaluated again
(through the loader and ``fuchi evaluate`` where it matters) and must pay, and one unit less of the change
must not. The expected thresholds are computed from the parameters and the data, not written down.
"""

from __future__ import annotations

import json
import textwrap
from decimal import ROUND_FLOOR, Decimal
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from fuchi.cli import main
from fuchi.engines import evaluation
from fuchi.errors import PolicyError, UsageError
from fuchi.explanation.qualify import Qualification, Qualifier
from fuchi.inputs.records import Company, Record
from fuchi.output.qualify import as_dict, write_text
from fuchi.policy import default_policy_dir, load_policy

ROOT = Path(__file__).resolve().parents[1]
CITY = str(ROOT / "facts" / "city.yaml")
COMPANIES = str(ROOT / "facts" / "companies.yaml")
POLICY = load_policy(default_policy_dir())
QUALIFIER = Qualifier(POLICY)
PAYING = ("granted", "pending_assessment")

GATE = """\
registered_in: chongming
industry_code: "6513"
sound_finance: true
good_credit: true
fits_direction: true
"""


def fuchi(*args: str) -> Result:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    assert "Traceback" not in result.stderr
    return result


def data(tmp_path: Path, *parts: str, name: str = "co.yaml") -> str:
    """A data file with one enterprise ``T`` (``parts``: its fields after the id, each dedented)."""
    body = "".join(textwrap.dedent(part) for part in parts)
    path = tmp_path / name
    path.write_text("companies:\n  - id: T\n" + textwrap.indent(body, "    "), encoding="utf-8")
    return str(path)


def qualify(files: list[str], company: str, item: str, year: int) -> tuple[Qualification, Company]:
    co, city = evaluation.find_company(files, company, POLICY.schema)
    return QUALIFIER.qualify(co, city, item, year), co


def param(name: str) -> Decimal:
    return Decimal(str(POLICY.parameters[name].value))


def changed(co: Company, path: str, value: int | Decimal | None) -> Company:
    """``co`` with the value at ``path`` (``revenue.2026``, ``events[0].cost``) replaced, written independently."""
    values = dict(co.values)
    if "[" in path:
        name, rest = path.split("[", 1)
        index, sub = rest.split("].")
        records = list(values[name])  # type: ignore[call-overload]
        rec = Record(records[int(index)])
        rec[sub] = value
        records[int(index)] = rec
        values[name] = records
    else:
        name, year = path.split(".")
        mapping = dict(values.get(name) or {})  # type: ignore[call-overload]
        mapping[int(year)] = value
        values[name] = mapping
    return Company(id=co.id, file=co.file, values=values)


def row(co: Company, files: list[str], item: str, year: int) -> tuple[str | None, int]:
    """(status, amount) of the item in the year, by the normal evaluation (None: not touched)."""
    source = evaluation.open_inputs(files, POLICY.schema)
    result = evaluation.Evaluator(POLICY).run([co], source.city)
    for r in result.rows:
        if r.year == year and r.item == item:
            return r.status, r.amount
    return None, 0


def internal(kind: str, json_value: Any) -> int | Decimal:
    """A JSON value of a change back to the data's representation (money in fen)."""
    exact = Decimal(str(json_value))
    return int(exact * 100) if kind == "money" else exact


def pays(status_amount: tuple[str | None, int]) -> bool:
    return status_amount[0] in PAYING and status_amount[1] > 0


# ---- the shipped example data ----------------------------------------------------------------------------


def test_growth_exactly_at_the_threshold_needs_one_fen_more() -> None:
    """91310230MA1K0B2C3D 2026: growth exactly 1.2 × the average is not "exceeding"; one fen more is."""
    files = [CITY, COMPANIES]
    q, co = qualify(files, "91310230MA1K0B2C3D", "2.2.b", 2026)
    assert q.verdict == "suggestions" and q.current.status == "not_eligible"
    first = q.suggestions[0]
    assert [c.path for c in first.changes] == ["revenue.2026"]
    # growth > factor × average: revenue(2026) > revenue(2025) × (1 + factor × average), the next fen above
    source = evaluation.open_inputs(files, POLICY.schema)
    average = source.city.values["avg_growth"][2026]  # type: ignore[index]
    limit = Decimal(co.values["revenue"][2025]) * (1 + param("growth_factor") * average)  # type: ignore[index]
    expected = int(limit.to_integral_value(ROUND_FLOOR)) + 1
    assert first.changes[0].after == expected
    assert first.changes[0].before == co.values["revenue"][2026]  # type: ignore[index]
    assert pays(row(changed(co, "revenue.2026", expected), files, "2.2.b", 2026))
    assert not pays(row(changed(co, "revenue.2026", expected - 1), files, "2.2.b", 2026))
    assert first.result.status == "pending_assessment" and first.result.amount > 0
    assert first.checks[0].value == expected - 1 and not first.checks[0].result.pays


def test_rd_share_two_independent_ways_ranked() -> None:
    """2027: R&D below 5% of revenue. Raising R&D or lowering revenue: two ways, each exact to the fen."""
    files = [CITY, COMPANIES]
    q, co = qualify(files, "91310230MA1K0B2C3D", "2.8", 2027)
    ways = {s.changes[0].path: s for s in q.suggestions if len(s.changes) == 1}
    assert {"rd_spend.2027", "revenue.2027"} <= set(ways)
    revenue = co.values["revenue"][2027]  # type: ignore[index]
    rd = co.values["rd_spend"][2027]  # type: ignore[index]
    ratio = param("min_rd_ratio")
    rd_needed = int((Decimal(revenue) * ratio).to_integral_value(ROUND_FLOOR))
    rd_needed += Decimal(rd_needed) < Decimal(revenue) * ratio
    revenue_most = int((Decimal(rd) / ratio).to_integral_value(ROUND_FLOOR))
    assert ways["rd_spend.2027"].changes[0].after == rd_needed
    assert ways["revenue.2027"].changes[0].after == revenue_most
    for path, value, closer in (
        ("rd_spend.2027", rd_needed, rd_needed - 1),
        ("revenue.2027", revenue_most, revenue_most + 1),
    ):
        assert pays(row(changed(co, path, value), files, "2.8", 2027)), path
        assert not pays(row(changed(co, path, closer), files, "2.8", 2027)), path
    costs = [
        sum(abs(Decimal(c.after) - Decimal(c.before)) / Decimal(c.before) for c in s.changes) for s in q.suggestions
    ]  # type: ignore[arg-type]
    assert costs == sorted(costs)  # ranked: the smallest relative change first


def test_pue_comes_down_to_the_parameter() -> None:
    """91310230MA1K0A1B2C 2027: project dc-2 has PUE 1.251; the PUE to reach is max_pue, 10^-6 above fails."""
    files = [CITY, COMPANIES]
    q, co = qualify(files, "91310230MA1K0A1B2C", "2.4.b", 2027)
    single = [s for s in q.suggestions if [c.path for c in s.changes] == ["compute_projects[1].pue"]]
    assert single, [[c.path for c in s.changes] for s in q.suggestions]
    assert single[0].changes[0].after == param("max_pue")
    assert single[0].checks[0].value == param("max_pue") + Decimal("0.000001")
    assert pays(row(changed(co, "compute_projects[1].pue", param("max_pue")), files, "2.4.b", 2027))
    assert not pays(row(changed(co, "compute_projects[1].pue", single[0].checks[0].value), files, "2.4.b", 2027))


def test_fraud_cannot_qualify_and_says_why() -> None:
    """91310230MA1K0H8J9K: fraud disqualifies everything; no number changes that (history is never changed)."""
    files = [CITY, COMPANIES]
    q, co = qualify(files, "91310230MA1K0H8J9K", "2.2.a", 2026)
    assert q.verdict == "cannot_qualify" and not q.suggestions
    reason = next(r.reason for r in evaluation.Evaluator(POLICY).run([co], evaluation.open_inputs(files).city).rows
                  if r.item == "2.2.a" and r.year == 2026)  # fmt: skip
    zh, en = reason.split(" / ", 1)
    assert q.reason is not None and zh in q.reason[0] and en in q.reason[1]
    assert "disqualified" in q.reason[1]
    assert q.searched and q.evaluated > len(q.searched)  # it did try


def test_already_paying_item() -> None:
    q, _ = qualify([CITY, COMPANIES], "91310230MA1K0A1B2C", "2.4.b", 2026)
    assert q.current.status in PAYING and q.verdict == "already_pays" and not q.suggestions


# ---- small hand-made enterprises ---------------------------------------------------------------------------


def test_prior_award_blocks_a_one_time_item(tmp_path: Path) -> None:
    """A one-time item already received (prior_awards) cannot be earned again, whatever the revenue."""
    body = """\
        revenue: {2025: 10000000, 2026: 15000000}
        prior_awards:
          - {item: "2.2.a", year: 2024}
    """
    files = [CITY, data(tmp_path, GATE, body)]
    q, co = qualify(files, "T", "2.2.a", 2026)
    assert q.verdict == "cannot_qualify"
    # without the prior award, a revenue change would do: the block is the history, not the numbers
    free = Company(id="T", file=co.file, values={**co.values, "prior_awards": []})
    q_free = QUALIFIER.qualify(free, evaluation.open_inputs(files).city, "2.2.a", 2026)
    assert q_free.verdict == "suggestions"
    after = q_free.suggestions[0].changes[0].after
    assert after == int(param("threshold_2_2_a") * 100) + 1  # 突破: strictly above, one fen
    blocked = row(changed(co, "revenue.2026", after), files, "2.2.a", 2026)
    assert blocked[0] == "not_eligible"
    assert q.reason is not None and "prior" in q.reason[1].lower()


def test_two_conditions_need_two_changes(tmp_path: Path) -> None:
    """PFLOPS and PUE both fail: one change is not enough; both, each at its parameter, are, checked by evaluate."""
    body = """\
        compute_projects:
          - {id: p1, year: 2026, kind: new, pflops: 1500.5, pue: 1.3, cost: 1000000}
    """
    path = data(tmp_path, GATE, body)
    q, _ = qualify([CITY, path], "T", "2.4.b", 2026)
    assert q.verdict == "suggestions"
    best = q.suggestions[0]
    assert {c.path: c.after for c in best.changes} == {
        "compute_projects[0].pflops": param("min_pflops"),
        "compute_projects[0].pue": param("max_pue"),
    }
    # independently: the data file written with the suggested values, through `fuchi evaluate`
    doc = as_dict(q)
    to = {c["field"]: c["to"] for c in doc["suggestions"][0]["changes"]}
    fixed = data(tmp_path, GATE, body.replace("pflops: 1500.5", f"pflops: {to['compute_projects[0].pflops']}").replace(
        "pue: 1.3", f"pue: {to['compute_projects[0].pue']}"), name="fixed.yaml")  # fmt: skip
    out = fuchi("evaluate", CITY, fixed, "--format", "json", "--item", "2.4.b", "--year", "2026")
    assert out.exit_code == 0, out.stderr
    (result,) = json.loads(out.stdout)["results"]
    assert result["status"] in PAYING and result["amount"] == doc["suggestions"][0]["result"]["amount"] > 0
    for check in doc["suggestions"][0]["checks"]:
        assert check["result"]["status"] not in PAYING or check["result"]["amount"] == 0


def test_superseded_by_another_policy_asks_for_more_cost(tmp_path: Path) -> None:
    """2.9 superseded by another policy's 450,000: the event cost whose 50% is more, to the yuan (W3)."""
    body = """\
        events:
          - {id: e1, year: 2026, kind: forum, cost: 800000}
        other_support:
          - {item: "2.9", year: 2026, policy: other, amount: 450000}
    """
    files = [CITY, data(tmp_path, GATE, body)]
    q, co = qualify(files, "T", "2.9", 2026)
    assert q.current.status == "superseded"
    (change,) = q.suggestions[0].changes
    assert change.path == "events[0].cost"
    # share = floor(cost × ratio) yuan must exceed the other amount: the smallest cost in fen
    other, ratio = Decimal(450000), param("ratio_2_9")
    cost = Decimal((other + 1) / ratio).quantize(Decimal("0.01"))
    while (cost * ratio).to_integral_value(ROUND_FLOOR) <= other:
        cost += Decimal("0.01")
    assert change.after == int(cost * 100)
    assert pays(row(changed(co, "events[0].cost", change.after), files, "2.9", 2026))
    assert not pays(row(changed(co, "events[0].cost", change.after - 1), files, "2.9", 2026))


def test_an_absent_value_may_be_added_and_a_blocker_is_named(tmp_path: Path) -> None:
    """No R&D figure for 2026 (2.8 untouched): adding one touches the item; not a key enterprise blocks it."""
    body = """\
        revenue: {2026: 50000000}
        key_fields: [ai]
    """
    files = [CITY, data(tmp_path, GATE, body)]
    q, _ = qualify(files, "T", "2.8", 2026)
    assert q.current.status is None and q.verdict == "cannot_qualify"
    assert "rd_spend.2026" in q.searched
    assert q.reason is not None and "key enterprise" in q.reason[1]
    # as a key enterprise, the R&D to add is min_rd_ratio of revenue, and one fen less does not pay
    files = [CITY, data(tmp_path, GATE, body, "key_enterprise: true\n", name="key.yaml")]
    q, co = qualify(files, "T", "2.8", 2026)
    (change,) = q.suggestions[0].changes
    assert change.path == "rd_spend.2026" and change.before is None
    assert change.after == int(Decimal(50000000) * param("min_rd_ratio") * 100)
    assert pays(row(changed(co, "rd_spend.2026", change.after), files, "2.8", 2026))
    assert not pays(row(changed(co, "rd_spend.2026", change.after - 1), files, "2.8", 2026))


def test_unknown_item_is_a_usage_error(tmp_path: Path) -> None:
    co, city = evaluation.find_company([CITY, COMPANIES], "91310230MA1K0B2C3D", POLICY.schema)
    with pytest.raises(UsageError):
        QUALIFIER.qualify(co, city, "9.9", 2026)


# ---- inputs.yaml: adjustable -------------------------------------------------------------------------------


def _policy_with(tmp_path: Path, old: str, new: str) -> Path:
    import shutil

    root = tmp_path / "policy"
    shutil.copytree(default_policy_dir(), root)
    text = (root / "inputs.yaml").read_text(encoding="utf-8")
    assert old in text
    (root / "inputs.yaml").write_text(text.replace(old, new, 1), encoding="utf-8")
    return root


@pytest.mark.parametrize(
    ("old", "new", "words"),
    [
        ("      fact: fraud(company)\n", "      adjustable: true\n      fact: fraud(company)\n", "only for kind"),
        ("      pattern: '[a-z]+'\n", "      pattern: '[a-z]+'\n      adjustable: 1\n", "expected true or false"),
        (
            "    key_enterprise:\n      kind: boolean\n",
            "    staff:\n      kind: integer\n      adjustable: true\n    key_enterprise:\n      kind: boolean\n",
            "by_year field",
        ),
        (
            "        model: {kind: text, required: false,",
            "        tokens: {kind: integer, adjustable: true}\n        model: {kind: text, required: false,",
            None,
        ),
        (
            "        year: {kind: year, label: {zh: 年度, en: year}}\n        model: {kind: text, required: false,",
            "        n: {kind: integer, adjustable: true}\n        model: {kind: text, required: false,",
            "one field of kind year",
        ),
    ],
)
def test_adjustable_is_validated(tmp_path: Path, old: str, new: str, words: str | None) -> None:
    if words is None:  # a valid declaration: a record field with the record's year
        policy = load_policy(_policy_with(tmp_path, old, new))
        assert policy.schema.field("llm_filings").record_field("tokens").adjustable
        return
    root = _policy_with(tmp_path, old, new)
    with pytest.raises(PolicyError) as exc:
        load_policy(root)
    assert str(exc.value.file).endswith("/inputs.yaml") and exc.value.line is not None
    assert words in exc.value.text


# ---- the command line ----------------------------------------------------------------------------------------


def test_cli_json_shape() -> None:
    out = fuchi(
        "explain",
        "91310230MA1K0B2C3D",
        "2.2.b",
        CITY,
        COMPANIES,
        "--year",
        "2026",
        "--how-to-qualify",
        "--format",
        "json",
    )
    assert out.exit_code == 0, out.stderr
    doc = json.loads(out.stdout)
    assert doc["company"] == "91310230MA1K0B2C3D" and doc["year"] == 2026 and doc["item"] == "2.2.b"
    assert doc["verdict"] == "suggestions" and doc["reason"] is None
    assert set(doc["current"]) == {"status", "amount", "payable_year", "reason"}
    (change,) = doc["suggestions"][0]["changes"]
    assert set(change) == {"field", "from", "to"} and change["field"] == "revenue.2026"
    assert Decimal(str(change["to"])) - Decimal(str(change["from"])) == Decimal("0.01")  # one fen
    assert set(doc["suggestions"][0]["result"]) == {"status", "amount", "payable_year", "reason"}
    assert doc["suggestions"][0]["checks"][0]["field"] == "revenue.2026"
    assert internal("money", doc["suggestions"][0]["checks"][0]["value"]) == internal("money", change["from"])


def test_cli_text_form_and_cannot_qualify() -> None:
    out = fuchi("explain", "91310230MA1K0H8J9K", "2.2.a", CITY, COMPANIES, "--year", "2026", "--how-to-qualify")
    assert out.exit_code == 0, out.stderr
    assert "cannot qualify" in out.stdout and "原因 reason" in out.stdout and "disqualified" in out.stdout
    doc = json.loads(
        fuchi("explain", "91310230MA1K0H8J9K", "2.2.a", CITY, COMPANIES, "--year", "2026", "--how-to-qualify",
              "--format", "json").stdout
    )  # fmt: skip
    assert doc["verdict"] == "cannot_qualify" and doc["suggestions"] == [] and "disqualified" in doc["reason"]


@pytest.mark.parametrize(("company", "item"), [("91310230MA1K0B2C3D", "2.2.b"), ("91310230MA1K0H8J9K", "2.2.a")])
def test_cli_markdown_form_is_golden(company: str, item: str) -> None:
    """``--format markdown``: a heading, a section per suggestion, field paths as code spans; the same content
    as the text form. Golden in tests/golden/qualify/ (``FUCHI_UPDATE_GOLDEN=1`` rewrites it; review the diff)."""
    import os

    args = ("explain", company, item, CITY, COMPANIES, "--year", "2026", "--how-to-qualify")
    md = fuchi(*args, "--format", "markdown")
    text = fuchi(*args)
    assert md.exit_code == 0 and text.exit_code == 0, md.stderr
    assert md.stdout.startswith("# 如何获得支付 How to qualify: ") and md.stdout != text.stdout
    doc = json.loads(fuchi(*args, "--format", "json").stdout)
    for n, suggestion in enumerate(doc["suggestions"], 1):
        assert f"\n## 建议 {n} suggestion {n}" in md.stdout
        for change in suggestion["changes"]:
            assert f"`{change['field']}`" in md.stdout
    golden = ROOT / "tests" / "golden" / "qualify" / f"{company}_2026_{item}.md"
    if os.environ.get("FUCHI_UPDATE_GOLDEN") == "1":
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(md.stdout, encoding="utf-8")
    assert golden.exists(), f"missing golden {golden}; run with FUCHI_UPDATE_GOLDEN=1 and review it"
    assert md.stdout == golden.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    "args",
    [
        ["91310230MA1K0B2C3D", CITY, COMPANIES, "--year", "2026", "--how-to-qualify"],  # no ITEM
        ["91310230MA1K0B2C3D", "2.2.b", CITY, COMPANIES, "--how-to-qualify"],  # no --year
    ],
)
def test_cli_usage_errors(args: list[str]) -> None:
    out = fuchi("explain", *args)
    assert out.exit_code == 2 and "--how-to-qualify" in out.stderr


def test_cli_unknown_enterprise_is_an_input_error() -> None:
    out = fuchi("explain", "NOPE", "2.2.b", CITY, COMPANIES, "--year", "2026", "--how-to-qualify")
    assert out.exit_code == 1


def test_text_escapes_the_data(tmp_path: Path) -> None:
    """A name with a newline and an escape sequence is printed escaped (one line, no terminal control)."""
    import io

    body = 'name: "evil\\n\\u001b[31mred"\nrevenue: {2025: 10000000, 2026: 15000000}\n'
    q, _ = qualify([CITY, data(tmp_path, GATE, body)], "T", "2.2.a", 2026)
    buffer = io.StringIO()
    write_text(buffer, q)
    first = buffer.getvalue().splitlines()[0]
    assert "\x1b" not in buffer.getvalue() and "evil\\n" in first


def test_out_of_period_cannot_qualify() -> None:
    """91310230MA1K0K0L1M's 2025 event: data year 2025 is outside the window; no number of 2025 changes that."""
    q, _ = qualify([CITY, COMPANIES], "91310230MA1K0K0L1M", "2.9", 2025)
    assert q.current.status == "out_of_period" and q.verdict == "cannot_qualify"
    assert q.reason is not None and q.current.reason_en in q.reason[1]


def test_only_the_values_of_the_year_are_searched() -> None:
    """Records of other years (history) are never changed: 2027 searches dc-2 (2027), not dc-1 (2026)."""
    q, co = qualify([CITY, COMPANIES], "91310230MA1K0A1B2C", "2.4.b", 2027)
    projects = co.values["compute_projects"]
    assert isinstance(projects, list)
    for k, project in enumerate(projects):
        assert (f"compute_projects[{k}].pue" in q.searched) == (project.year == 2027)
    assert all(p.endswith(".2027") or "[" in p for p in q.searched)
    assert not any(p.startswith(("prior_awards", "assessments", "other_support", "city_support")) for p in q.searched)

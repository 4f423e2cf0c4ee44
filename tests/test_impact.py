"""What a draft costs: ``--set``, ``fuchi diff``, ``fuchi budget`` and ``fuchi sweep``.

The reference for every figure is plain ``fuchi evaluate --format json`` run once per policy and joined
here by hand (what a drafter had to do before): ``diff`` must list exactly the rows whose status, amount
or payable year differ, its totals must equal each run's totals, its gain/lose counts the per-enterprise
sums; ``budget`` must equal the rows summed by item × payable year × status; each ``sweep`` value must
equal ``budget --set`` with that value.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner, Result

from fuchi.cli import main
from fuchi.policy import default_policy_dir, load_policy

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = [str(ROOT / "facts" / "city.yaml"), str(ROOT / "facts" / "companies.yaml")]
DRAFT = ["--set", "growth_factor=1.5", "--set", "min_rd_ratio=0.04"]
PAID = ("granted", "pending_assessment")


def run(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def ok_json(*args: str) -> Any:
    result = run(*args)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def population(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    path = tmp_path_factory.mktemp("pop") / "pop.jsonl"
    subprocess.run([sys.executable, str(ROOT / "bench" / "generate.py"), "1500", str(path), "--seed", "5"], check=True)
    return [str(path), str(ROOT / "bench" / "city.yaml")]


def _rows(doc: Any) -> dict[tuple[str, int, str], dict[str, Any]]:
    return {(r["company"], r["year"], r["item"]): r for r in doc["results"]}


def _side(row: dict[str, Any] | None) -> dict[str, Any] | None:
    if row is None:
        return None
    return {k: row[k] for k in ("status", "amount", "payable_year", "reason")}


def _hand_diff(base: Any, draft: Any) -> list[dict[str, Any]]:
    """The join a drafter would write: rows whose status, amount or payable year differ, in output order."""
    b, p = _rows(base), _rows(draft)
    order = list(dict.fromkeys([*(k for k in p), *(k for k in b)]))
    companies = list(dict.fromkeys(k[0] for k in order))
    items = [r["item"] for r in draft["results"]]
    rank = {i: n for n, i in enumerate(dict.fromkeys(items))}
    out = []
    for company in companies:
        keys = sorted((k for k in order if k[0] == company), key=lambda k: (k[1], rank.get(k[2], 99)))
        for k in keys:
            money = [(r["status"], r["amount"], r["payable_year"]) if r else None for r in (b.get(k), p.get(k))]
            if money[0] != money[1]:
                out.append(
                    {"company": k[0], "year": k[1], "item": k[2], "base": _side(b.get(k)), "policy": _side(p.get(k))}
                )
    return out


def _paid_by_company(doc: Any) -> dict[str, int]:
    out: dict[str, int] = defaultdict(int)
    for r in doc["results"]:
        if r["status"] in PAID:
            out[r["company"]] += r["amount"]
    return out


def test_diff_equals_the_hand_join_of_two_runs(population: list[str]) -> None:
    base = ok_json("evaluate", *population, "--format", "json", "--workers", "0")
    draft = ok_json("evaluate", *population, "--format", "json", "--workers", "0", *DRAFT)
    doc = ok_json("diff", *population, "--format", "json", "--workers", "0", *DRAFT)
    expected = _hand_diff(base, draft)
    assert len(expected) > 20  # the draft changes something: the comparison is not vacuous
    assert doc["changes"] == expected
    assert doc["base"] == {**base["policy"], "overrides": {}}
    assert doc["policy"] == draft["policy"]
    totals = doc["totals"]
    assert totals["changes"] == len(expected)
    for side, run_doc in (("base", base), ("policy", draft)):
        assert totals["amount"][side] == run_doc["totals"]["amount"]
        for item, t in totals["by_item"].items():
            assert t[side] == run_doc["totals"]["by_item"].get(item, dict.fromkeys(PAID, 0)), item
        for year, t in totals["by_payable_year"].items():
            assert t[side] == run_doc["totals"]["by_payable_year"].get(year, dict.fromkeys(PAID, 0)), year
    for t in [totals["amount"], *totals["by_item"].values(), *totals["by_payable_year"].values()]:
        assert t["delta"] == {s: t["policy"][s] - t["base"][s] for s in PAID}
    before, after = _paid_by_company(base), _paid_by_company(draft)
    changed = {c["company"] for c in expected}
    gain = sum(1 for c in changed if after[c] > before[c])
    lose = sum(1 for c in changed if after[c] < before[c])
    assert totals["enterprises"] == {"gain": gain, "lose": lose, "changed": len(changed)}
    assert gain and lose  # growth 1.5 loses enterprises, R&D 4% gains some


def test_diff_of_a_policy_with_itself_is_empty() -> None:
    doc = ok_json("diff", *EXAMPLE, "--format", "json", "--workers", "0")
    assert doc["changes"] == []
    assert doc["totals"]["enterprises"] == {"gain": 0, "lose": 0, "changed": 0}
    assert doc["totals"]["amount"]["delta"] == dict.fromkeys(PAID, 0)


def test_diff_against_a_base_directory_with_base_set(tmp_path: Path) -> None:
    # the same draft expressed the other way round: base overridden, draft plain → changes mirror
    forward = ok_json("diff", *EXAMPLE, "--format", "json", "--workers", "0", "--set", "min_rd_ratio=0.04")
    backward = ok_json("diff", *EXAMPLE, "--format", "json", "--workers", "0", "--base-set", "min_rd_ratio=0.04")
    assert forward["changes"], "the example must change under the draft"
    mirrored = [{**c, "base": c["policy"], "policy": c["base"]} for c in forward["changes"]]
    assert backward["changes"] == mirrored
    assert backward["base"]["overrides"] == {"min_rd_ratio": "0.04"}
    assert backward["policy"]["overrides"] == {}


def test_diff_is_the_same_on_both_engines_and_with_workers(population: list[str]) -> None:
    outputs = set()
    for extra in (["--engine", "sql", "--workers", "0"], ["--engine", "clingo", "--workers", "0"], ["--workers", "2"]):
        for fmt in ("json",):
            result = run("diff", *population[:1], population[1], "--format", fmt, *DRAFT, *extra)
            assert result.exit_code == 0, result.output
            outputs.add(result.stdout)
    assert len(outputs) == 1


def test_diff_csv_and_markdown_carry_every_change(population: list[str]) -> None:
    doc = ok_json("diff", *population, "--format", "json", "--workers", "0", *DRAFT)
    csv_out = run("diff", *population, "--format", "csv", "--workers", "0", *DRAFT).stdout.splitlines()
    assert csv_out[0].split(",")[:4] == ["company", "year", "item", "base_status"]
    assert len(csv_out) == 1 + len(doc["changes"])
    first = doc["changes"][0]
    assert csv_out[1].startswith(f"{first['company']},{first['year']},{first['item']},")
    md = run("diff", *population, "--format", "markdown", "--workers", "0", *DRAFT).stdout
    change_lines = [line for line in md.splitlines() if line.startswith("| ") and line.count(" | ") >= 7]
    assert len(change_lines) - 1 == len(doc["changes"])  # (minus the header)
    assert "growth\\_factor=1.5" in md  # overrides shown, Markdown-escaped
    table = run("diff", *population, "--workers", "0", *DRAFT).stdout
    assert "受损 lose" in table and f"{doc['totals']['enterprises']['lose']:,}" in table


def test_diff_output_file_and_warnings(tmp_path: Path, population: list[str]) -> None:
    out = tmp_path / "diff.json"
    result = run("diff", *population, "--format", "json", "--workers", "0", *DRAFT, "--output", str(out))
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert doc["totals"]["changes"] == len(doc["changes"])


def test_markdown_escapes_names(tmp_path: Path) -> None:
    data = tmp_path / "co.yaml"
    data.write_text(
        (ROOT / "facts" / "companies.yaml").read_text(encoding="utf-8").replace("name: ", "name: 'a|b*<x>' #", 1),
        encoding="utf-8",
    )
    md = run("diff", EXAMPLE[0], str(data), "--format", "markdown", "--workers", "0", "--set", "min_rd_ratio=0.04")
    assert md.exit_code == 0, md.output
    assert "a|b" not in md.stdout


# ---- budget and sweep -------------------------------------------------------------------------------


def _hand_budget(doc: Any) -> list[dict[str, Any]]:
    cells: dict[tuple[str, int, str], list[Any]] = {}
    for r in doc["results"]:
        if r["status"] not in PAID or r["payable_year"] is None:
            continue
        cell = cells.setdefault((r["item"], r["payable_year"], r["status"]), [0, set(), 0])
        cell[0] += 1
        cell[1].add(r["company"])
        cell[2] += r["amount"]
    items = list(load_policy(default_policy_dir()).items)
    keys = sorted(cells, key=lambda k: (items.index(k[0]), k[1], PAID.index(k[2])))
    return [
        {"item": i, "payable_year": y, "status": s, "enterprises": len(cells[(i, y, s)][1]),
         "rows": cells[(i, y, s)][0], "amount": cells[(i, y, s)][2]}
        for i, y, s in keys
    ]  # fmt: skip


def test_budget_equals_the_rows_summed(population: list[str]) -> None:
    plain = ok_json("evaluate", *population, "--format", "json", "--workers", "0")
    doc = ok_json("budget", *population, "--format", "json", "--workers", "0")
    assert doc["budget"] == _hand_budget(plain)
    assert doc["totals"]["amount"] == plain["totals"]["amount"]
    assert doc["totals"]["companies"] == plain["totals"]["companies"]
    for year, t in doc["totals"]["by_payable_year"].items():
        for s in PAID:
            assert t[s]["amount"] == plain["totals"]["by_payable_year"][year][s]
            companies = {r["company"] for r in plain["results"] if r["status"] == s and str(r["payable_year"]) == year}
            assert t[s]["enterprises"] == len(companies)
    csv_lines = run("budget", *population, "--format", "csv", "--workers", "0").stdout.splitlines()
    assert csv_lines[0] == "item,payable_year,status,enterprises,rows,amount"
    assert len(csv_lines) == 1 + len(doc["budget"])


def test_sweep_equals_budget_with_each_value(population: list[str]) -> None:
    values = ["1.0", "1.2", "1.5"]
    doc = ok_json("sweep", "growth_factor=" + ",".join(values), *population, "--format", "json", "--workers", "0")
    assert [v["value"] for v in doc["values"]] == values
    amounts = []
    for entry in doc["values"]:
        value = f"growth_factor={entry['value']}"
        one = ok_json("budget", *population, "--format", "json", "--workers", "0", "--set", value)
        assert entry["amount"] == one["totals"]["amount"]
        assert entry["by_payable_year"] == one["totals"]["by_payable_year"]
        assert entry["by_item"] == one["totals"]["by_item"]
        amounts.append(entry["amount"]["pending_assessment"])
    assert len(set(amounts)) > 1  # the parameter matters on this population
    assert doc["policy"]["overrides"] == {}


def test_sweep_of_a_table_entry_and_with_set(population: list[str]) -> None:
    sweep = ["sweep", "match_ratio.2.1.a=0.5,1", *population]
    doc = ok_json(*sweep, "--format", "json", "--workers", "0", "--set", "award_2_1_b=150000")
    assert doc["policy"]["overrides"] == {"award_2_1_b": "150000"}
    plain = ok_json("budget", *population, "--format", "json", "--workers", "0")["totals"]["by_item"]["2.1.b"]
    for v in doc["values"]:  # the --set is in force under every value: 2.1.b pays 150,000 instead of 100,000
        assert v["by_item"]["2.1.b"]["granted"] * 100_000 == plain["granted"] * 150_000
    low, high = (v["by_item"].get("2.1.a", {"granted": 0}) for v in doc["values"])
    assert high["granted"] >= low["granted"]


@pytest.mark.parametrize(
    ("assignment", "needle"),
    [
        ("growth_factor", "NAME=V1,V2"),
        ("growth_factor=1.1,,1.2", "NAME=V1,V2"),
        ("growth_factor=1.1,1.1", "twice"),
        ("window_year=2026,2027", "list parameter"),
        ("growth_factor=1.1,abc", "decimal"),
        ("nothing=1", "no parameter 'nothing'"),
    ],
)
def test_sweep_refuses_bad_values(assignment: str, needle: str) -> None:
    result = run("sweep", assignment, *EXAMPLE)
    assert result.exit_code == 1
    assert needle in result.stderr
    assert result.stdout == ""


def test_sweep_of_a_parameter_also_set_is_refused() -> None:
    result = run("sweep", "growth_factor=1.5", *EXAMPLE, "--set", "growth_factor=2.0")
    assert result.exit_code == 1
    assert "also given by --set" in result.stderr
    assert result.stdout == ""


def test_diff_of_an_edited_rule_in_a_policy_copy(tmp_path: Path, population: list[str]) -> None:
    """A drafter's edit of a rule (PUE ≤ 1.25 becomes PUE < 1.25) priced against the shipped policy."""
    draft = tmp_path / "draft"
    shutil.copytree(default_policy_dir(), draft)
    rules = draft / "rules" / "24-compute.lp"
    text = rules.read_text(encoding="utf-8")
    assert "U > Max." in text
    rules.write_text(text.replace("U > Max.", "U >= Max."), encoding="utf-8")
    doc = ok_json("diff", *population, "--policy", str(draft), "--format", "json", "--workers", "0")
    base = ok_json("evaluate", *population, "--format", "json", "--workers", "0")
    edited = ok_json("evaluate", *population, "--policy", str(draft), "--format", "json", "--workers", "0")
    assert doc["changes"] == _hand_diff(base, edited)
    assert doc["changes"], "the generated population has projects at PUE exactly 1.25"
    assert {c["item"] for c in doc["changes"]} == {"2.4.b"}
    assert all(c["policy"]["status"] == "not_eligible" for c in doc["changes"])
    assert doc["totals"]["enterprises"]["gain"] == 0
    assert doc["policy"]["digest"] != doc["base"]["digest"]


def test_changes_come_in_input_order_even_when_one_side_has_no_rows() -> None:
    """An enterprise only the draft decides anything about (a new item) keeps its place in the input."""
    from fuchi.drafting.impact import Differ
    from fuchi.engines.evaluation import BatchResult, Row

    policy = load_policy(default_policy_dir())

    def row(company: str, amount: int) -> Row:
        return Row(company, 2026, "2.1.b", "granted", amount, 2027, "r")

    seen = [(c, "f", n, n) for n, c in enumerate("ABC")]
    base = BatchResult(rows=[row("A", 1), row("C", 1)], companies=3, seen=seen)
    draft = BatchResult(rows=[row("A", 2), row("B", 2), row("C", 2)], companies=3, seen=seen)
    changes: list[str] = []
    Differ(policy, policy, lambda c: changes.append(c.company)).add(base, draft)
    assert changes == ["A", "B", "C"]


def test_an_input_error_under_one_policy_names_it(population: list[str]) -> None:
    """Lowering a maximum below an approved assessment makes that record an input error (ruling P1) under
    the draft only: the message says which policy and which overrides refused it."""
    result = run("sweep", "ratio_2_8=0.01,0.2", *population, "--workers", "0")
    if result.exit_code == 0:
        pytest.skip("no approved 2.8 assessment in this population exceeds the lowered maximum")
    assert result.exit_code == 1
    assert "assessments[" in result.stderr
    assert "overrides ratio_2_8=0.01" in result.stderr


def test_diff_labels_the_warnings_only_one_side_gives(population: list[str]) -> None:
    """A warning both policies give is shown once as it is; one only the base or only the draft gives says so."""
    doc = ok_json("diff", *population, "--format", "json", "--workers", "0", *DRAFT)
    base = set(ok_json("evaluate", *population, "--format", "json", "--workers", "0")["warnings"])
    draft = set(ok_json("evaluate", *population, "--format", "json", "--workers", "0", *DRAFT)["warnings"])
    expected = (
        (base & draft)
        | {f"［仅 only 基准 base］{w}" for w in base - draft}
        | {f"［仅 only 草案 draft］{w}" for w in draft - base}
    )
    assert set(doc["warnings"]) == expected
    assert len(doc["warnings"]) == len(expected)
    assert base - draft or draft - base, "the draft changes which items are pending, so which assessments warn"
    assert base & draft


def test_sweep_labels_the_warnings_only_some_values_give(population: list[str]) -> None:
    doc = ok_json("sweep", "growth_factor=1.2,1.5", *population, "--format", "json", "--workers", "0")
    runs = [
        set(
            ok_json("evaluate", *population, "--format", "json", "--workers", "0", "--set", f"growth_factor={v}")[
                "warnings"
            ]
        )
        for v in ("1.2", "1.5")
    ]
    expected = (runs[0] & runs[1]) | {
        f"［仅 only growth_factor={v}］{w}"
        for v, mine, other in (("1.2", *runs), ("1.5", runs[1], runs[0]))
        for w in mine - other
    }
    assert set(doc["warnings"]) == expected
    assert any(w.startswith("［仅 only") for w in doc["warnings"])


def _draft_with_a_new_input(tmp_path: Path) -> Path:
    """A draft that declares a new enterprise field and a rule reading it (a drafter's new data)."""
    draft = tmp_path / "draft"
    shutil.copytree(default_policy_dir(), draft)
    inputs = draft / "inputs.yaml"
    text = inputs.read_text(encoding="utf-8")
    anchor = "    key_fields:\n"
    assert text.count(anchor) == 1
    new_field = (
        "    designated_key:\n"
        "      kind: boolean\n"
        "      label: {zh: 经认定的重点企业（草案）, en: designated key enterprise (draft)}\n"
        "      fact: designated_key(company)\n"
    )
    inputs.write_text(text.replace(anchor, new_field + anchor), encoding="utf-8")
    rules = draft / "rules" / "28-rd.lp"
    text = rules.read_text(encoding="utf-8")
    old = "not key_enterprise(C)."
    assert text.count(old) == 1
    rules.write_text(text.replace(old, "not key_enterprise(C), not designated_key(C)."), encoding="utf-8")
    return draft


def test_diff_of_a_draft_with_a_new_input_on_data_that_has_it(tmp_path: Path, population: list[str]) -> None:
    """The base ignores a field only the draft declares; the draft reads it; a field nobody declares is refused."""
    draft = _draft_with_a_new_input(tmp_path)
    lines = Path(population[0]).read_text(encoding="utf-8").splitlines()
    marked = []
    for n, line in enumerate(lines):
        doc = json.loads(line)
        if n % 7 == 0:
            doc["designated_key"] = True
            marked.append(doc["id"])
        lines[n] = json.dumps(doc, ensure_ascii=False)
    data = tmp_path / "with-new-field.jsonl"
    data.write_text("\n".join(lines) + "\n", encoding="utf-8")
    files = [str(data), population[1]]
    for workers in ("0", "2"):
        doc = ok_json("diff", *files, "--policy", str(draft), "--format", "json", "--workers", workers)
        base = ok_json("evaluate", *population, "--format", "json", "--workers", "0")  # the data without it
        edited = ok_json("evaluate", *files, "--policy", str(draft), "--format", "json", "--workers", "0")
        assert doc["changes"] == _hand_diff(base, edited)
        assert doc["changes"] and {c["item"] for c in doc["changes"]} == {"2.8"}
        assert {c["company"] for c in doc["changes"]} <= set(marked)
    refused = run("evaluate", *files, "--format", "json", "--workers", "0")  # the base alone: unknown field
    assert refused.exit_code == 1 and "designated_key" in refused.stderr and "unknown field" in refused.stderr
    typo = tmp_path / "typo.jsonl"
    typo.write_text(lines[0].replace('"designated_key"', '"designated_kye"') + "\n", encoding="utf-8")
    bad = run("diff", str(typo), population[1], "--policy", str(draft), "--format", "json", "--workers", "0")
    assert bad.exit_code == 1 and "designated_kye" in bad.stderr and bad.stdout == ""


def test_diff_of_a_draft_with_a_new_input_on_a_yaml_document(tmp_path: Path) -> None:
    """YAML documents are read by each policy's schema: the draft's designation makes 2.8 enterprises key again."""
    draft = _draft_with_a_new_input(tmp_path)
    doc = yaml.safe_load((ROOT / "facts" / "companies.yaml").read_text(encoding="utf-8"))
    for co in doc["companies"]:
        co["key_enterprise"] = False
    plain = tmp_path / "plain.yaml"
    plain.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")
    for co in doc["companies"]:
        co["designated_key"] = True
    data = tmp_path / "companies.yaml"
    data.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")
    diff_doc = ok_json("diff", EXAMPLE[0], str(data), "--policy", str(draft), "--format", "json", "--workers", "0")
    base = ok_json("evaluate", EXAMPLE[0], str(plain), "--format", "json", "--workers", "0")
    edited = ok_json("evaluate", EXAMPLE[0], str(data), "--policy", str(draft), "--format", "json", "--workers", "0")
    assert diff_doc["changes"] == _hand_diff(base, edited)
    assert diff_doc["changes"] and {c["item"] for c in diff_doc["changes"]} == {"2.8"}
    assert all(c["base"]["status"] == "not_eligible" for c in diff_doc["changes"])


# ---- found by a new-user review (2026-12-02) -------------------------------------------------------------


def test_diff_of_a_policy_copy_on_yaml_data_with_workers(tmp_path: Path) -> None:
    """YAML data goes to the worker processes with each policy's schema: the schema pickles without its
    cached closures (it was an "internal error: Can't pickle local object" on the documented workflow)."""
    sys.path.insert(0, str(Path(__file__).parent))
    from policy_copy import copy_policy

    draft = copy_policy(tmp_path)
    args = [str(ROOT / "facts" / "city.yaml"), str(ROOT / "facts" / "companies.yaml"), "--format", "json"]
    r = CliRunner().invoke(main, ["diff", *args, "--policy", str(draft), "--workers", "2"], catch_exceptions=False)
    assert r.exit_code == 0, r.stderr
    assert "internal error" not in r.stderr
    assert json.loads(r.stdout)["changes"] == []  # an unedited copy changes nothing


def test_policy_error_in_a_worker_is_the_policy_error(tmp_path: Path) -> None:
    """A policy the workers cannot build (a rule reading an undefined parameter) is reported as the policy
    error at file:line, exit 1, not a broken process pool."""
    sys.path.insert(0, str(Path(__file__).parent))
    from policy_copy import copy_policy, replace_once

    draft = copy_policy(tmp_path)
    replace_once(draft / "parameters.yaml", "\ngrowth_factor:", "\ngrowth_factorr:")
    data = [str(ROOT / "facts" / "city.yaml"), str(ROOT / "facts" / "companies.yaml")]
    for command in (["evaluate", *data], ["budget", *data]):
        for engine in ("sql", "clingo"):
            extra = ["--engine", engine] if command[0] == "evaluate" else []
            r = CliRunner().invoke(main, [*command, "--policy", str(draft), "--workers", "2", *extra])
            assert r.exit_code == 1, (command, engine, r.stderr)
            assert r.stdout == ""
            assert "growth_factor" in r.stderr and "参数未定义" in r.stderr and "22-growth.lp" in r.stderr
            assert "internal error" not in r.stderr and "Traceback" not in r.stderr


def test_a_broken_base_or_draft_is_named_by_its_directory(tmp_path: Path) -> None:
    """``diff --base A --policy B`` with a bad parameter in one: the message names that policy's file, so
    it says which side is broken (both read 'parameters.yaml:N')."""
    from click.testing import CliRunner

    from fuchi.cli import main
    from policy_copy import copy_policy, replace_once

    broken = copy_policy(tmp_path / "broken")
    replace_once(
        broken / "parameters.yaml",
        "payable_offset:\n  type: int\n  value: 1",
        "payable_offset:\n  type: int\n  value: x",
    )
    good = copy_policy(tmp_path / "good")
    data = [str(ROOT / "facts" / "city.yaml"), str(ROOT / "facts" / "companies.yaml")]
    for base, draft in ((broken, good), (good, broken)):
        r = CliRunner().invoke(main, ["diff", *data, "--base", str(base), "--policy", str(draft)])
        assert r.exit_code == 1, r.output
        assert f"{broken / 'parameters.yaml'}:" in r.stderr

"""Text from the data is data: ids, names and policy names with quotes, %, ``).``, newlines, backslashes, emoji,
ASP-looking text or rich markup change nothing in the results and come out unchanged (or safely escaped).

Each hostile string is used as an enterprise id *and* name next to a plain enterprise with the same records: the
statuses, amounts and reasons must be exactly the plain enterprise's, and the id must round-trip into JSON, CSV and
``explain``. No text from the data may become ASP text (facts.py), rich markup (render.py) or Markdown structure.
"""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from fuchi.cli import main

EVIL = 'evil"). decision(c(0),2026,"2.1.a",granted,m(0,50,0),none,x). %'
HOSTILE = [
    pytest.param(EVIL, id="asp-injection"),
    pytest.param('say "hi"', id="quotes"),
    pytest.param("100% sure", id="percent"),
    pytest.param("a). b(", id="close-paren-dot"),
    pytest.param("line one\nline two", id="newline"),
    pytest.param("back\\slash\\", id="backslash"),
    pytest.param("emoji 😀 👩‍💻 🇨🇳", id="emoji"),
    pytest.param("[bold red]x[/]", id="rich-markup"),
    pytest.param(" spaced\tand\r\ncrlf ", id="whitespace"),
    pytest.param("c(0)", id="looks-like-an-enterprise-term"),
    pytest.param("#show decision/7. #const x=1.", id="asp-directives"),
    pytest.param("%* block comment *%", id="asp-block-comment"),
    pytest.param("\u202edesrever", id="rtl-override"),
    pytest.param("`code` | pipe | # hash", id="markdown-chars"),
    pytest.param("名称\"含\\引号'和“全角”", id="mixed-cjk-quotes"),
    pytest.param("x" * 300, id="very-long"),
]
POLICY_NAME = '崇明区"会展" 100% ). [bold red]x[/] \\ 😀 办法'

CITY = {"avg_growth": {"2025": 0.1, "2026": 0.1, "2027": 0.1}}


def template(ident: str, name: str, policy: str = POLICY_NAME) -> dict[str, Any]:
    """An enterprise touching many items, with hostile text also in record ids and the model name.

    It touches 2.2.a, 2.2.b, 2.4.a, 2.4.b, 2.5.b, 2.8, 2.9 in 2026 — not 2.1.a: a decision injected for 2.1.a
    would show up as an extra row.
    """
    return {
        "id": ident,
        "name": name,
        "registered_in": "chongming",
        "industry_code": "6513",
        "sound_finance": True,
        "good_credit": True,
        "fits_direction": True,
        "key_enterprise": True,
        "key_fields": ["ai"],
        "revenue": {"2025": 18_000_000, "2026": 108_000_000},
        "rd_spend": {"2026": 6_000_000},
        "city_support": [{"year": 2026, "program": "compute_voucher", "amount": 1_234_567}],
        "compute_projects": [
            {"id": 'dc "1"). %', "year": 2026, "kind": "new", "pflops": 2000, "pue": 1.25, "cost": 150_000_000}
        ],
        "llm_filings": [{"year": 2026, "model": 'model"). %\n😀'}],
        "events": [
            {"id": 'ev"). %', "year": 2026, "kind": "forum", "cost": 900_000},
            {"id": "ev\n2", "year": 2026, "kind": "summit", "cost": 200_000},
        ],
        "other_support": [
            {"item": "2.9", "year": 2026, "policy": policy, "amount": 400_000},
            {"item": "2.4.a", "year": 2026, "policy": policy + " (2)", "amount": 700_000},
        ],
        "assessments": [{"item": "2.4.b", "year": 2026, "decision": "approved", "amount": 12_000_000}],
    }


def fuchi(*args: str) -> Result:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    assert "Traceback" not in result.stderr
    return result


def write(path: Path, companies: list[dict[str, Any]], city: bool = True) -> str:
    """YAML (JSON text is YAML; UTF-8, astral characters whole), JSON or JSON Lines by the suffix."""
    if path.suffix == ".jsonl":
        path.write_text("".join(json.dumps(c, ensure_ascii=False) + "\n" for c in companies), encoding="utf-8")
    else:
        doc: dict[str, Any] = {"city": CITY} if city else {}
        doc["companies"] = companies
        path.write_text(json.dumps(doc, ensure_ascii=False, indent=1), encoding="utf-8")
    return str(path)


def evaluate(*files: str, extra: tuple[str, ...] = ()) -> dict[str, Any]:
    result = fuchi("evaluate", *files, "--format", "json", "--workers", "0", *extra)
    assert result.exit_code == 0, result.stderr
    doc: dict[str, Any] = json.loads(result.stdout)
    return doc


def rows_of(doc: dict[str, Any], company: str) -> list[tuple[Any, ...]]:
    return [
        (r["year"], r["item"], r["status"], r["amount"], r["payable_year"], r["reason"])
        for r in doc["results"]
        if r["company"] == company
    ]


@pytest.fixture(scope="module")
def plain_rows(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[Any, ...]]:
    path = write(tmp_path_factory.mktemp("plain") / "plain.yaml", [template("PLAIN", "普通企业")])
    doc = evaluate(path)
    rows = rows_of(doc, "PLAIN")
    # The reference itself is what the rules say (hand-checked), so that "the same as plain" means something.
    assert [(y, i, s, a) for y, i, s, a, _, _ in rows] == [
        (2026, "2.2.a", "granted", 300_000),
        (2026, "2.2.b", "pending_assessment", 100_000),
        (2026, "2.4.a", "superseded", 0),  # 1,234,567 x 0.5 = 617,283 < 700,000 from the other policy
        (2026, "2.4.b", "granted", 12_000_000),
        (2026, "2.5.b", "pending_assessment", 300_000),
        (2026, "2.8", "pending_assessment", 1_200_000),
        (2026, "2.9", "pending_assessment", 550_000),  # 450,000 + 100,000, more than the other policy's 400,000
    ]
    return rows


# ---- results do not depend on the text ---------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", [".yaml", ".json", ".jsonl"])
@pytest.mark.parametrize("hostile", HOSTILE)
def test_hostile_id_and_name_decide_like_a_plain_one(
    tmp_path: Path, plain_rows: list[tuple[Any, ...]], hostile: str, suffix: str
) -> None:
    companies = [template("PLAIN", "普通企业"), template(hostile, hostile)]
    files = [write(tmp_path / f"data{suffix}", companies)]
    if suffix == ".jsonl":
        files.insert(0, write(tmp_path / "city.yaml", []))
    doc = evaluate(*files)
    assert rows_of(doc, "PLAIN") == plain_rows
    assert rows_of(doc, hostile) == plain_rows
    assert {r["company"] for r in doc["results"]} == {"PLAIN", hostile}  # the id round-trips unchanged
    assert doc["totals"]["companies"] == 2


@pytest.mark.parametrize("hostile", HOSTILE)
def test_hostile_id_alone_and_first_in_its_batch(
    tmp_path: Path, plain_rows: list[tuple[Any, ...]], hostile: str
) -> None:
    """Alone, the hostile enterprise is c(0) — the very term the injection attempt names."""
    doc = evaluate(write(tmp_path / "one.yaml", [template(hostile, hostile)]))
    assert rows_of(doc, hostile) == plain_rows
    assert len(doc["results"]) == len(plain_rows)
    assert not any(r["item"] == "2.1.a" for r in doc["results"])


@pytest.mark.parametrize("hostile", HOSTILE)
def test_company_filter_with_a_hostile_id(tmp_path: Path, plain_rows: list[tuple[Any, ...]], hostile: str) -> None:
    path = write(tmp_path / "d.yaml", [template("PLAIN", "p"), template(hostile, "n")])
    doc = evaluate(path, extra=("--company", hostile))
    assert rows_of(doc, hostile) == plain_rows
    assert {r["company"] for r in doc["results"]} == {hostile}


@pytest.mark.parametrize("hostile", HOSTILE)
def test_csv_round_trips_a_hostile_id(tmp_path: Path, hostile: str) -> None:
    path = write(tmp_path / "d.yaml", [template(hostile, hostile)])
    # Raw bytes: click's Result.stdout turns "\r\n" into "\n", the real stdout does not.
    out = fuchi("evaluate", path, "--format", "csv", "--workers", "0").stdout_bytes.decode("utf-8")
    lines = list(csv.reader(io.StringIO(out, newline="")))
    assert lines[0][0] == "company"
    assert {line[0] for line in lines[1:]} == {hostile}
    assert all(len(line) == 7 for line in lines)


@pytest.mark.parametrize("hostile", HOSTILE)
def test_explain_finds_and_shows_a_hostile_id(tmp_path: Path, plain_rows: list[tuple[Any, ...]], hostile: str) -> None:
    files = [
        write(tmp_path / "city.yaml", []),
        write(tmp_path / "d.jsonl", [template("PLAIN", "p"), template(hostile, hostile)]),
    ]
    result = fuchi("explain", hostile, *files, "--format", "json")
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["company"] == hostile and doc["name"] == hostile
    assert doc["source"].endswith("d.jsonl:2")
    got = [(r["year"], r["item"], r["status"], r["amount"], r["payable_year"], r["reason"]) for r in doc["rows"]]
    assert got == plain_rows


def _bad_escape(text: str) -> bool:
    """A backslash before an ASCII letter or digit, or at the end (what ``re`` reads as an escape)."""
    return re.search(r"\\([A-Za-z0-9]|$)", text) is not None


NO_BACKSLASH = [p for p in HOSTILE if not _bad_escape(p.values[0])]
BACKSLASH = [p for p in HOSTILE if _bad_escape(p.values[0])] + [
    pytest.param("group\\1 ref", id="backslash-group-reference"),
    pytest.param("not a newline \\n", id="backslash-n"),
]


@pytest.mark.parametrize("hostile", NO_BACKSLASH)
def test_detailed_explain_of_a_hostile_id(tmp_path: Path, hostile: str) -> None:
    files = [
        write(tmp_path / "city.yaml", []),
        write(tmp_path / "d.jsonl", [template("PLAIN", "p"), template(hostile, hostile)]),
    ]
    detailed = fuchi("explain", hostile, "2.9", *files, "--year", "2026", "--format", "json", "--proof")
    assert detailed.exit_code == 0, detailed.stderr
    [row] = json.loads(detailed.stdout)["rows"]
    assert (row["company"], row["status"], row["amount"]) == (hostile, "pending_assessment", 550_000)
    sources = [s["source"] for s in _steps(row["why"]) if s["source"]]
    assert any(src.endswith(f"d.jsonl:2: 企业 enterprise {hostile}: events[0]") for src in sources), sources
    page = fuchi("explain", hostile, "2.9", *files, "--year", "2026", "--format", "json")  # the auditor's page
    assert page.exit_code == 0, page.stderr
    assert json.loads(page.stdout)["company"] == hostile


def _steps(step: dict[str, Any]) -> list[dict[str, Any]]:
    return [step, *(s for child in step["children"] for s in _steps(child))]


@pytest.mark.parametrize("hostile", NO_BACKSLASH)
def test_evaluate_explain_with_a_hostile_id(tmp_path: Path, plain_rows: list[tuple[Any, ...]], hostile: str) -> None:
    path = write(tmp_path / "d.yaml", [template("PLAIN", "p"), template(hostile, hostile)])
    doc = evaluate(path, extra=("--explain",))
    assert rows_of(doc, hostile) == plain_rows
    plain = [r["explanation"] for r in doc["results"] if r["company"] == "PLAIN"]
    assert [r["explanation"] for r in doc["results"] if r["company"] == hostile] == plain


@pytest.mark.parametrize("hostile", BACKSLASH)
def test_detailed_explain_of_an_id_with_a_backslash(
    tmp_path: Path, plain_rows: list[tuple[Any, ...]], hostile: str
) -> None:
    path = write(tmp_path / "d.yaml", [template(hostile, hostile)])
    detailed = fuchi("explain", hostile, "2.9", path, "--year", "2026", "--format", "json", "--proof")
    assert detailed.exit_code == 0, detailed.stderr
    texts = [s["text"] for s in _steps(json.loads(detailed.stdout)["rows"][0]["why"])]
    assert not any("not a newline \n" in t for t in texts)  # "\\n" must not become a newline
    doc = evaluate(path, extra=("--explain",))
    assert rows_of(doc, hostile) == plain_rows


def test_input_error_message_shows_a_hostile_id_literally(tmp_path: Path) -> None:
    co = template("[bold red]x[/]", "n")
    co["revenue"] = {"2026": -1}
    path = write(tmp_path / "bad.yaml", [co])
    result = fuchi("evaluate", path, "--workers", "0")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert "企业 enterprise '[bold red]x[/]': 字段 field revenue.2026" in result.stderr


# ---- the other policy's name in reasons, table, csv ---------------------------------------------------------------


def test_policy_name_in_reason_json_and_csv(tmp_path: Path) -> None:
    path = write(tmp_path / "d.yaml", [template("P1", "n", policy=POLICY_NAME)])
    rows = {(r["year"], r["item"]): r for r in evaluate(path)["results"]}
    assert rows[(2026, "2.9")]["reason"] == (
        f"高于“{POLICY_NAME}”的 400,000 元，由本办法支付，该政策不予兑付 / "
        f"higher than 400,000 元 under “{POLICY_NAME}”: paid here; that policy is not to be paid"
    )
    assert rows[(2026, "2.4.a")]["reason"] == (
        f"“{POLICY_NAME} (2)”给予 700,000 元，不低于本办法的 617,283 元（从高、不重复） / “{POLICY_NAME} (2)” gives "
        "700,000 元, not less than 617,283 元 here (the higher, no duplication)"
    )
    out = fuchi("evaluate", path, "--format", "csv", "--workers", "0").stdout_bytes.decode("utf-8")
    csv_rows = {(line[1], line[2]): line for line in csv.reader(io.StringIO(out, newline=""))}
    assert csv_rows[("2026", "2.9")][6] == rows[(2026, "2.9")]["reason"]
    assert csv_rows[("2026", "2.4.a")][6] == rows[(2026, "2.4.a")]["reason"]


@pytest.mark.parametrize(
    "policy",
    [
        POLICY_NAME,
        '办法"\n第二行 ). %',
        "办法 [link=https://example.com]点我[/link] [/] [",
        "办法\n├── 2026 2.3 予以扶持",
    ],
)
def test_policy_name_renders_literally_in_the_table(tmp_path: Path, policy: str) -> None:
    path = write(tmp_path / "d.yaml", [template("P1", "n", policy=policy)])
    want = {(r["year"], r["item"]): r for r in evaluate(path)["results"]}
    out = fuchi("evaluate", path, "--workers", "0", "--item", "2.9").stdout
    assert "\x1b" not in out
    # The reason is the last column: joining the lines and their blank continuation columns gives its text back.
    flat = re.sub(r"\s+", " ", out)
    reason = re.sub(r"\s+", " ", want[(2026, "2.9")]["reason"].replace("\n", "\\n"))
    assert reason.split(" / ")[0][:60] in flat  # the Chinese half, with the name (newlines shown escaped)
    # Control characters in the name are shown escaped (a newline as the two characters "\n").
    shown = policy.replace("\n", "\\n")
    for token in re.sub(r"\s+", " ", shown).split(" "):
        assert token in flat, token
    # A newline in the name stays inside the reason cell: no line of the table starts a new row with it.
    for line in out.splitlines():
        assert not line.lstrip().startswith("├──"), line


def test_rich_markup_in_an_id_is_printed_literally_in_the_table(tmp_path: Path) -> None:
    path = write(tmp_path / "d.yaml", [template("[bold red]x[/]", "[bold red]name[/]"), template("[/]", "n")])
    out = fuchi("evaluate", path, "--workers", "0").stdout
    assert "[bold red]x[/]" in out
    assert re.search(r"^\s+\[/\]\s+2026\s+2\.2\.a", out, re.MULTILINE)
    assert "\x1b" not in out


def test_rich_markup_in_a_name_is_printed_literally_by_explain(tmp_path: Path) -> None:
    name = "[bold red]x[/] [link=https://example.com]点我[/link]"
    path = write(tmp_path / "d.yaml", [template("P1", name)])
    out = fuchi("explain", "P1", path).stdout
    assert out.splitlines()[0].startswith(f"企业 enterprise P1  {name}  (")
    md = fuchi("explain", "P1", path, "--format", "markdown").stdout
    assert name in md


# ---- report formats: data must not forge structure ---------------------------------------------------------------

FORGED_ROW = "## 2026 2.1.a: 予以扶持 granted, 99,000,000 元, 兑付 payable 2027"


def test_markdown_report_cannot_be_forged_by_a_name(tmp_path: Path) -> None:
    co = template("M1", f"正常公司\n\n{FORGED_ROW}\n")
    co["other_support"][0]["policy"] = f"办法\n\n{FORGED_ROW}"
    path = write(tmp_path / "d.yaml", [co])
    for args in (("M1", path), ("M1", "2.9", path)):
        md = fuchi("explain", *args, "--format", "markdown").stdout
        assert FORGED_ROW not in md.splitlines()


def test_tree_cannot_be_forged_by_a_name(tmp_path: Path) -> None:
    forged = "├── 2026 2.1.a  予以扶持 granted  99,000,000 元"
    path = write(tmp_path / "d.yaml", [template("M1", f"正常公司\n{forged}")])
    out = fuchi("explain", "M1", path).stdout
    top_level = [line for line in out.splitlines() if line.startswith(("├── ", "└── "))]
    assert len(top_level) == 7  # the enterprise's rows, nothing forged
    assert not any("2.1.a" in line for line in top_level)

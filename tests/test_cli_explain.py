"""``fuchi explain``: every row of an enterprise, and why / why not for one item down to clause and input facts.

Golden files
------------
For every shipped example enterprise (facts/companies.yaml) and every row it has, the Markdown explanation

    fuchi explain <id> <item> --year <year> facts/city.yaml facts/companies.yaml --format markdown

is compared with ``tests/golden/explain/<id>_<year>_<item>.md`` with ``--proof`` (the full chain) and with
``tests/golden/page/<id>_<year>_<item>.md`` without it (the auditor's page). After an intended change to the policy, its
messages or the renderer (the digest and rule file:line references are part of each golden), rewrite them with

    FUCHI_UPDATE_GOLDEN=1 python -m pytest tests/test_cli_explain.py

and review the diff (``git diff tests/golden``) before committing: a golden is only worth what its review was.
Stale goldens (rows that no longer exist) are removed by the same run. The explicit asserts further down pin
the facts an auditor needs (decisive rule, clause text, sourced inputs, failing conditions with their numbers,
the binding cap) independently of the goldens.
"""

from __future__ import annotations

import functools
import json
import os
import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from fuchi.cli import main
from fuchi.engines import evaluation
from fuchi.policy import default_policy_dir, load_policy

ROOT = Path(__file__).resolve().parents[1]
CITY = "facts/city.yaml"
COMPANIES = "facts/companies.yaml"
GOLDEN = Path(__file__).resolve().parent / "golden" / "explain"
UPDATE = os.environ.get("FUCHI_UPDATE_GOLDEN") == "1"

POLICY = load_policy(default_policy_dir())
STATUS_LABELS = {
    "granted": "予以扶持 granted",
    "pending_assessment": "待综合评估 pending_assessment",
    "rejected": "评估未通过 rejected",
    "not_eligible": "不符合条件 not_eligible",
    "needs_data": "缺少数据 needs_data",
    "superseded": "从高不重复 superseded",
    "disqualified": "取消资格 disqualified",
    "excluded": "不予扶持 excluded",
    "out_of_period": "不在有效期 out_of_period",
}
STEP_KINDS = {
    "derived", "input", "parameter", "comparison", "negation", "aggregate", "call", "not_derived", "failed",
    "repeat", "limit",
}  # fmt: skip


def _shipped_rows() -> list[evaluation.Row]:
    """The rows of the shipped example data, from the library (no CLI), for parametrising."""
    source = evaluation.open_inputs([str(ROOT / CITY), str(ROOT / COMPANIES)])
    companies = [evaluation._company_of(item) for item in source.items]
    return evaluation.Evaluator(POLICY).run(companies, source.city).rows


ROWS = _shipped_rows()
COMPANY_IDS = list(dict.fromkeys(r.company for r in ROWS))


@pytest.fixture(autouse=True)
def _in_repo(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)


def fuchi(*args: str) -> Result:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    assert "Traceback" not in result.stderr
    return result


def explain(*args: str) -> str:
    result = fuchi("explain", *args)
    assert result.exit_code == 0, result.stderr
    return result.stdout


@functools.cache
def markdown(company: str, item: str, year: int) -> str:
    """The Markdown proof (``--proof``) of one row (cached: the goldens and the asserts below read the same text)."""
    return explain(company, item, CITY, COMPANIES, "--year", str(year), "--format", "markdown", "--proof")


@functools.cache
def page(company: str, item: str, year: int, fmt: str = "markdown") -> str:
    """The auditor's page of one row (the default of ``explain ENTERPRISE ITEM``)."""
    return explain(company, item, CITY, COMPANIES, "--year", str(year), "--format", fmt)


def golden_name(row: evaluation.Row) -> str:
    return f"{row.company}_{row.year}_{row.item}.md"


def row_of(company: str, year: int, item: str) -> evaluation.Row:
    return next(r for r in ROWS if (r.company, r.year, r.item) == (company, year, item))


def test_the_shipped_data_has_rows_of_every_status() -> None:
    assert len(COMPANY_IDS) == 14
    assert {r.status for r in ROWS} == set(STATUS_LABELS)


# ---- explain ENTERPRISE FILES (every row) -------------------------------------------------------------------------


@pytest.mark.parametrize("company", COMPANY_IDS)
def test_summary_tree_lists_every_row(company: str) -> None:
    out = explain(company, CITY, COMPANIES)
    rows = [r for r in ROWS if r.company == company]
    lines = out.splitlines()
    head, body = lines[: -len(rows)], lines[-len(rows) :]
    assert head[0].startswith(f"企业 enterprise {company}  ")
    assert head[-1].endswith("(facts/companies.yaml; chongming-digital-2025 2025-draft)")
    # A newline in a name (91310230MA1K0L1M2N) is printed as the two characters "\n": one header line only.
    assert len(head) == 1
    for line, r in zip(body, rows, strict=True):
        head = f"{r.year} {r.item}  {STATUS_LABELS[r.status]}  {r.amount:,} 元"
        payable = f"  兑付 payable {r.payable_year}" if r.payable_year is not None else ""
        assert line[4:] == f"{head}{payable}  — {r.reason}", line


@pytest.mark.parametrize("company", COMPANY_IDS)
def test_summary_json_rows_equal_evaluate_rows(company: str) -> None:
    doc = json.loads(explain(company, CITY, COMPANIES, "--format", "json"))
    assert doc["detailed"] is False
    assert doc["company"] == company
    assert doc["source"] == COMPANIES
    got = [
        (r["company"], r["year"], r["item"], r["status"], r["amount"], r["payable_year"], r["reason"])
        for r in doc["rows"]
    ]
    want = [
        (r.company, r.year, r.item, r.status, r.amount, r.payable_year, r.reason) for r in ROWS if r.company == company
    ]
    assert got == want
    assert all(r["why_not"] == [] for r in doc["rows"])


def test_summary_markdown_and_year_filter() -> None:
    company = "91310230MA1K0D4E5F"
    out = explain(company, CITY, COMPANIES, "--format", "markdown", "--year", "2027")
    headings = [line for line in out.splitlines() if line.startswith("## ")]
    want = [r for r in ROWS if r.company == company and r.year == 2027]
    assert len(headings) == len(want) > 0
    for h, r in zip(headings, want, strict=True):
        payable = f", 兑付 payable {r.payable_year}" if r.payable_year is not None else ""
        assert h == f"## {r.year} {r.item}: {STATUS_LABELS[r.status]}, {r.amount:,} 元{payable}"
        assert f"理由 reason: {r.reason}" in out
    assert "### 为什么 Why" not in out  # the summary has no trees


# ---- explain ENTERPRISE ITEM FILES (why / why not), three formats ---------------------------------------------------


def test_item_tree() -> None:
    out = explain("91310230MA1K0A1B2C", "2.4.b", CITY, COMPANIES, "--year", "2027", "--proof")
    assert "2027 2.4.b  不符合条件 not_eligible  0 元" in out
    assert "条款 clause 2.4.b" in out
    assert POLICY.clauses["2.4.b"].zh in out and POLICY.clauses["2.4.b"].en in out
    assert "为什么 why" in out and "为什么没有 why not" in out
    assert "U > Max  ⟹  1.251 > 1.25" in out
    assert "← facts/companies.yaml: 企业 enterprise 91310230MA1K0A1B2C: compute_projects[1]" in out
    assert "2026 2.4.b" not in out  # --year selects the row
    assert "\x1b[" not in out


def test_item_without_year_gives_every_year_of_the_item() -> None:
    out = explain("91310230MA1K0A1B2C", "2.4.a", CITY, COMPANIES, "--format", "markdown", "--proof")
    assert [line for line in out.splitlines() if line.startswith("## ")] == [
        "## 2026 2.4.a: 予以扶持 granted, 1,500,000 元, 兑付 payable 2027",
        "## 2027 2.4.a: 予以扶持 granted, 2,000,000 元, 兑付 payable 2028",
    ]


def _check_step(step: dict[str, Any], depth: int = 0) -> int:
    assert list(step) == ["kind", "text", "holds", "rule", "source", "note", "children"]
    assert step["kind"] in STEP_KINDS
    assert isinstance(step["text"], str) and step["text"]
    assert isinstance(step["holds"], bool)
    if step["rule"] is not None:
        rule = step["rule"]
        assert list(rule) == ["id", "file", "line", "clauses", "rulings", "quote"]
        assert rule["file"].startswith("rules/") and isinstance(rule["line"], int)
        for clause in rule["clauses"]:
            assert list(clause) == ["id", "title", "zh", "en"]
    assert step["source"] is None or isinstance(step["source"], str)
    assert step["note"] is None or isinstance(step["note"], str)
    return 1 + sum(_check_step(child, depth + 1) for child in step["children"])


def test_item_json_schema() -> None:
    doc = json.loads(
        explain("91310230MA1K0B2C3D", "2.2.b", CITY, COMPANIES, "--year", "2026", "--format", "json", "--proof")
    )
    assert list(doc) == ["policy", "company", "name", "source", "detailed", "rows"]
    assert list(doc["policy"]) == ["id", "version", "digest"]
    assert doc["policy"]["digest"] == POLICY.digest
    assert (doc["company"], doc["name"], doc["source"], doc["detailed"]) == (
        "91310230MA1K0B2C3D",
        "上海崇明岛数智软件有限公司",
        COMPANIES,
        True,
    )
    [row] = doc["rows"]
    assert list(row) == [
        "company", "year", "item", "status", "amount", "payable_year", "reason", "clause", "why", "why_not",
        "conditions", "decided_by",
    ]  # fmt: skip
    assert (row["year"], row["item"], row["status"], row["amount"]) == (2026, "2.2.b", "not_eligible", 0)
    assert row["clause"]["id"] == "2.2.b" and row["clause"]["zh"] == POLICY.clauses["2.2.b"].zh
    assert _check_step(row["why"]) > 10
    assert row["why_not"]
    for step in row["why_not"]:
        _check_step(step)
    texts = json.dumps(row, ensure_ascii=False)
    assert "G <= N  ⟹  0.12 <= 0.12" in texts


def test_item_json_for_a_granted_row_has_no_why_not() -> None:
    doc = json.loads(
        explain("91310230MA1K0A1B2C", "2.4.a", CITY, COMPANIES, "--year", "2027", "--format", "json", "--proof")
    )
    [row] = doc["rows"]
    assert row["status"] == "granted" and row["why_not"] == []
    _check_step(row["why"])


def test_an_item_the_data_does_not_touch_gives_no_rows() -> None:
    doc = json.loads(explain("91310230MA1K0A1B2C", "2.9", CITY, COMPANIES, "--format", "json"))
    assert doc["rows"] == []


# ---- golden files --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("row", ROWS, ids=[golden_name(r)[:-3] for r in ROWS])
def test_golden_markdown(row: evaluation.Row) -> None:
    out = markdown(row.company, row.item, row.year)
    path = GOLDEN / golden_name(row)
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(out, encoding="utf-8", newline="")
    assert path.exists(), f"missing golden {path}; run with FUCHI_UPDATE_GOLDEN=1 and review it"
    assert out == path.read_text(encoding="utf-8")


def test_no_stale_goldens() -> None:
    expected = {golden_name(r) for r in ROWS}
    present = {p.name for p in GOLDEN.glob("*.md")}
    if UPDATE:
        for name in present - expected:
            (GOLDEN / name).unlink()
        present &= expected
    assert present == expected


@pytest.mark.parametrize("row", ROWS, ids=[golden_name(r)[:-3] for r in ROWS])
def test_every_row_explains_clause_rule_and_sources(row: evaluation.Row) -> None:
    """What every golden must show, whatever its status."""
    md = markdown(row.company, row.item, row.year)
    clause = POLICY.clauses[row.item]
    payable = f", 兑付 payable {row.payable_year}" if row.payable_year is not None else ""
    assert f"## {row.year} {row.item}: {STATUS_LABELS[row.status]}, {row.amount:,} 元{payable}\n" in md
    assert f"理由 reason: {row.reason}\n" in md
    assert f"> 条款 {row.item} " in md and f"> {clause.zh}\n" in md and f"> {clause.en}\n" in md
    # The decisive rule: the decision atom with this row's values, and the rule (id, file:line) that derived it.
    first = md.split("### 为什么 Why\n\n", 1)[1].splitlines()[0]
    assert first.startswith(f"- ⊢ `decision({row.company}, {row.year}, {row.item}, {row.status}, {row.amount:,} 元, ")
    assert re.search(r" — `P3\.decision_\w+` .*\(rules/90-status\.lp:\d+\)$", first), first
    # At least one input fact with its source (file: enterprise: field path).
    assert re.search(rf"← facts/companies\.yaml: 企业 enterprise {row.company}: [a-z_]+(\[\d+\]|\.\d+)?", md)
    if row.status not in ("granted", "pending_assessment", "rejected", "superseded"):
        # Decided by a stage of P3: the why-not part lists each stage that applied, with its reason.
        assert f"### 为什么没有 Why not\n\n- ✗ `{row.status}: {row.reason}`" in md


# ---- what an auditor checks, pinned explicitly -------------------------------------------------------------------


def test_pue_1_251_denial_shows_the_comparison() -> None:
    md = markdown("91310230MA1K0A1B2C", "2.4.b", 2027)
    assert "`U > Max  ⟹  1.251 > 1.25`" in md
    assert "`2.4.b.pue` 条款 clause 2.4.b 裁定 ruling I6 W1 W2" in md
    assert (
        "compute_project(91310230MA1K0A1B2C, 1, 1, 2027, expansion, 3,200, 1.251, 260,000,000 元)` "
        "← facts/companies.yaml: 企业 enterprise 91310230MA1K0A1B2C: compute_projects[1]"
    ) in md
    assert "`param(max_pue, 1.25)` ← parameters.yaml: max_pue (条款 clause 2.4.b;" in md
    why_not = md.split("### 为什么没有 Why not", 1)[1]
    assert "项目 dc-2 PUE 1.251 高于 1.25 / project dc-2: PUE 1.251 > 1.25" in why_not
    assert "1.251 > 1.25" in why_not


def test_pue_and_pflops_exactly_at_the_boundary_qualify() -> None:
    md = markdown("91310230MA1K0A1B2C", "2.4.b", 2026)
    assert "综合评估通过 / approved by the comprehensive assessment" in md
    assert "← facts/companies.yaml: 企业 enterprise 91310230MA1K0A1B2C: assessments[0]" in md
    assert "12,000,000 元 <= 15,000,000 元" in md  # the approval is checked against the maximum (P1)


def test_growth_exactly_at_the_threshold_shows_equality() -> None:
    md = markdown("91310230MA1K0B2C3D", "2.2.b", 2026)
    assert "`G <= N  ⟹  0.12 <= 0.12`" in md
    assert "`I4.growth_too_low` 条款 clause 2.2.b" in md
    assert "`@growth(112,000,000 元, 100,000,000 元) = 0.12`" in md
    assert "`@scale(1.2, 0.1) = 0.12`" in md
    assert "`city_avg_growth(2026, 0.1)` ← facts/city.yaml: city.avg_growth.2026" in md
    assert "← facts/companies.yaml: 企业 enterprise 91310230MA1K0B2C3D: revenue.2025" in md
    assert "← facts/companies.yaml: 企业 enterprise 91310230MA1K0B2C3D: revenue.2026" in md


def test_revenue_exactly_at_the_milestone_is_not_a_crossing() -> None:
    md = markdown("91310230MA1K0B2C3D", "2.2.b", 2026)
    assert "100,000,000 元 > 100,000,000 元" in md  # the comparison that failed (W1: strictly greater)


def test_cap_binds_on_2_4_a() -> None:
    md = markdown("91310230MA1K0A1B2C", "2.4.a", 2027)
    assert "`@share(5,000,000 元, 0.5) = 2,500,000 元`" in md
    assert "`@cap(2,500,000 元, 2,000,000 元) = 2,000,000 元` *(上限生效 cap binds)*" in md
    assert "← facts/companies.yaml: 企业 enterprise 91310230MA1K0A1B2C: city_support[1]" in md
    assert "`param(match_cap, 2.4.a, 2,000,000 元)` ← parameters.yaml: match_cap" in md
    # 2026 is below the cap: the cap does not bind there.
    assert "上限生效 cap binds" not in markdown("91310230MA1K0A1B2C", "2.4.a", 2026)


def test_cap_and_rounding_on_events() -> None:
    md = markdown("91310230MA1K0C3D4E", "2.9", 2026)
    assert "`@cap(3,319,999 元, 3,000,000 元) = 3,000,000 元` *(上限生效 cap binds)*" in md
    assert "@share(999,999.99 元, 0.5) = 499,999 元" in md and "向下取整 rounded down" in md


def test_used_up_row_names_the_earlier_award_and_year() -> None:
    md = markdown("91310230MA1K0D4E5F", "2.1.b", 2027)
    assert "一次性事项已使用：已在 2026 年度获得、待评估或由其他政策从高支付" in md
    assert "used_up(91310230MA1K0D4E5F, 2027, 2.1.b, earlier(2026))" in md
    assert "`uses_up(91310230MA1K0D4E5F, 2026, 2.1.b)`" in md
    assert "`amount_max(91310230MA1K0D4E5F, 2026, 2.1.b, 100,000 元)`" in md
    assert re.search(
        r"`honour\(91310230MA1K0D4E5F, \d, 2026, \w+\)` ← facts/companies\.yaml: 企业 enterprise "
        r"91310230MA1K0D4E5F: honours\[[01]\]",
        md,
    )  # the 2026 listing that used the item up


def test_used_up_by_a_prior_award_names_the_record() -> None:
    md = markdown("91310230MA1K0M2N3P", "2.2.b", 2026)
    assert "prior_awards 第 1 条" in md and "prior_awards record 1" in md
    assert "← facts/companies.yaml: 企业 enterprise 91310230MA1K0M2N3P: prior_awards[1]" in md


def test_gate_failure_names_the_failing_gate_condition() -> None:
    md = markdown("91310115MA1H9J8K2L", "2.4.a", 2026)
    assert "不符合扶持对象条件：未依法设立在崇明 / fails the eligibility gate: not registered in Chongming" in md
    assert "gate_fail(91310115MA1H9J8K2L, registered_in)" in md
    assert "`1.gate.registered` 条款 clause 1 裁定 ruling E1" in md
    assert "`E1.gate` 条款 clause 1 裁定 ruling E1 P3" in md
    assert "pudong" in md


def test_gate_failure_shows_the_failing_input_with_its_source() -> None:
    md = markdown("91310115MA1H9J8K2L", "2.4.a", 2026)
    assert (
        "`registered_in(91310115MA1H9J8K2L, pudong)` ← facts/companies.yaml: 企业 enterprise 91310115MA1H9J8K2L: "
        "registered_in"
    ) in md
    assert "`param(registered_district, chongming)` ← parameters.yaml: registered_district (条款 clause 1;" in md


def test_superseded_row_names_the_other_policy() -> None:
    md = markdown("91310230MA1K0C3D4E", "2.9", 2027)
    assert "“崇明区会展经济扶持办法”给予 450,000 元，不低于本办法的 400,000 元" in md
    assert "`P2.superseded` 条款 clause 3.4" in md
    assert "400,000 元 <= 450,000 元" in md
    assert "← facts/companies.yaml: 企业 enterprise 91310230MA1K0C3D4E: other_support[0]" in md


def test_fraud_row_shows_the_fraud_input_fact() -> None:
    md = markdown("91310230MA1K0H8J9K", "2.1.a", 2026)
    assert "`fraud(91310230MA1K0H8J9K)` ← facts/companies.yaml: 企业 enterprise 91310230MA1K0H8J9K: fraud" in md
    assert "`E2.fraud` 条款 clause 3.2" in md


def test_market_violation_row_shows_its_input_fact() -> None:
    md = markdown("91310230MA1K0J9K0L", "2.3", 2026)
    assert (
        "`market_violation(91310230MA1K0J9K0L)` ← facts/companies.yaml: 企业 enterprise 91310230MA1K0J9K0L: "
        "market_violation"
    ) in md
    assert "`E3.market` 条款 clause 3.2" in md


def test_out_of_period_row_shows_the_window() -> None:
    md = markdown("91310230MA1K0K0L1M", "2.9", 2025)
    assert "`T1.out_of_period` 条款 clause 3.3" in md
    assert "not in_window(2025)" in md
    assert "← facts/companies.yaml: 企业 enterprise 91310230MA1K0K0L1M: events[0]" in md


def test_needs_data_row_names_the_missing_fact() -> None:
    md = markdown("91310230MA1K0G7H8J", "2.2.a", 2026)
    assert "缺少数据：2025 年营业收入 / missing data: revenue of 2025" in md
    assert "missing(91310230MA1K0G7H8J, 2026, 2.2.a, revenue(2025))" in md
    assert "← facts/companies.yaml: 企业 enterprise 91310230MA1K0G7H8J: revenue.2026" in md


def test_rejected_row_names_the_assessment_record() -> None:
    md = markdown("91310230MA1K0C3D4E", "2.10", 2026)
    assert "综合评估未通过 / rejected by the comprehensive assessment" in md
    assert "`P1.rejected` 条款 clause 2.2.b,2.4.b,2.5.b,2.7.a,2.7.b,2.8,2.9,2.10" in md
    assert "← facts/companies.yaml: 企业 enterprise 91310230MA1K0C3D4E: assessments[0]" in md


def test_granted_with_rounding_down() -> None:
    md = markdown("91310230MA1K0L1M2N", "2.1.a", 2026)
    assert "`@share(1,234,567.89 元, 0.5) = 617,283 元` *(向下取整 rounded down from 617,283.945 元)*" in md


def test_why_not_never_calls_an_existing_parameter_missing() -> None:
    md = markdown("91310230MA1K0A1B2C", "2.4.a", 2027)
    assert "`param(match_cap, 2.4.a, 2,000,000 元)`" in md
    assert "`param(match_cap,2.4.a,Cap)` *(缺少该输入 no such input fact" not in md


def test_parameter_texts_are_shown_whole() -> None:
    md = markdown("91310230MA1K0D4E5F", "2.1.b", 2026)
    assert "`param(award_2_1_b, 100,000 元)` ← parameters.yaml: award_2_1_b" in md
    assert "one-time CNY 100)" not in md
    assert "one-time CNY 100,000" in md
    md = markdown("91310230MA1K0L1M2N", "2.2.a", 2026)
    assert "one-time CNY 300)" not in md


# ---- errors ----------------------------------------------------------------------------------------------------


def test_unknown_enterprise() -> None:
    result = fuchi("explain", "NOBODY", CITY, COMPANIES)
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == (
        "错误 error: facts/city.yaml, facts/companies.yaml: 企业 enterprise 'NOBODY': 字段 field id: "
        "在输入文件中找不到该企业 / no enterprise with this id in the input files\n"
    )


@pytest.mark.parametrize("item", ["9.9", "2.11", "2.2"])
def test_unknown_item_is_a_usage_error(item: str) -> None:
    result = fuchi("explain", "91310230MA1K0A1B2C", item, CITY, COMPANIES)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert f"'{item}'" in result.stderr and "2.1.a, 2.1.b" in result.stderr


def test_missing_files_is_a_usage_error() -> None:
    result = fuchi("explain", "91310230MA1K0A1B2C", "2.4.a")
    assert result.exit_code == 2
    assert result.stdout == ""


def test_missing_file_is_an_input_error() -> None:
    result = fuchi("explain", "91310230MA1K0A1B2C", CITY, "facts/nope.yaml")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert "facts/nope.yaml" in result.stderr


def test_duplicate_enterprise_is_an_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "a.yaml").write_text("companies:\n  - id: DUP\n", encoding="utf-8")
    (tmp_path / "b.jsonl").write_text('{"id": "X"}\n{"id": "DUP"}\n', encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    result = fuchi("explain", "DUP", "a.yaml", "b.jsonl")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert "b.jsonl:2" in result.stderr and "a.yaml" in result.stderr and "'DUP'" in result.stderr


def test_bad_record_of_the_explained_enterprise_is_an_input_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "b.jsonl").write_text('{"id": "OK"}\n{"id": "BAD", "revenue": {"2026": -1}}\n', encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    result = fuchi("explain", "BAD", "b.jsonl")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.startswith("错误 error: b.jsonl:2: 企业 enterprise 'BAD': 字段 field revenue.2026: ")


# ---- one enterprise in a large JSON Lines file ------------------------------------------------------------------


def test_explain_one_of_20000_enterprises(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    gate = (
        '"registered_in": "chongming", "industry_code": "6513", "sound_finance": true, "good_credit": true, '
        '"fits_direction": true'
    )
    with (tmp_path / "big.jsonl").open("w", encoding="utf-8") as fh:
        for i in range(20_000):
            # Ids E0 … E19999: "E1" is a prefix of many others; each has its own voucher amount.
            voucher = 1000 + i
            fh.write(
                f'{{"id": "E{i}", {gate}, "city_support": [{{"year": 2026, "program": "compute_voucher", '
                f'"amount": {voucher}}}]}}\n'
            )
    monkeypatch.chdir(tmp_path)
    for ident, line, amount in (("E1", 2, 500), ("E12345", 12346, 6672), ("E19999", 20000, 10499)):
        doc = json.loads(explain(ident, "big.jsonl", "--format", "json"))
        assert doc["company"] == ident
        assert doc["source"] == f"big.jsonl:{line}"
        assert [(r["year"], r["item"], r["status"], r["amount"]) for r in doc["rows"]] == [
            (2026, "2.4.a", "granted", amount)
        ]
    md = explain("E12345", "2.4.a", "big.jsonl", "--format", "markdown", "--proof")
    assert "← big.jsonl:12346: 企业 enterprise E12345: city_support[0]" in md
    assert "`@share(13,345 元, 0.5) = 6,672 元`" in md


# ---- the auditor's page (explain ENTERPRISE ITEM without --proof) ------------------------------------------------

PAGE_GOLDEN = Path(__file__).resolve().parent / "golden" / "page"
#: One row of each status an auditor signs off, with the rule that decided it.
AUDITED = {
    ("91310230MA1K0A1B2C", 2027, "2.4.a"): "I1.amount",  # granted, the cap binds
    ("91310230MA1K0A1B2C", 2026, "2.4.b"): "P1.approved",  # granted by an assessment
    ("91310230MA1K0B2C3D", 2026, "2.2.b"): "I4.growth_too_low",  # not_eligible, a condition of the clause
    ("91310115MA1H9J8K2L", 2026, "2.4.a"): "1.gate.registered",  # not_eligible, the gate
    ("91310230MA1K0C3D4E", 2027, "2.9"): "P2.superseded",  # superseded (3.4)
    ("91310230MA1K0C3D4E", 2027, "2.10"): "P1.pending",  # pending_assessment
    ("91310230MA1K0C3D4E", 2026, "2.10"): "P1.rejected",  # rejected
    ("91310230MA1K0D4E5F", 2027, "2.1.b"): "T2.used_up_earlier",  # used up by 2026
    ("91310230MA1K0M2N3P", 2026, "2.2.a"): "T2.used_up_prior",  # used up by a prior award
    ("91310230MA1K0H8J9K", 2026, "2.1.a"): "E2.fraud",  # disqualified
    ("91310230MA1K0J9K0L", 2026, "2.3"): "E3.market",  # excluded
    ("91310230MA1K0K0L1M", 2025, "2.9"): "T1.out_of_period",  # out_of_period
    ("91310230MA1K0G7H8J", 2026, "2.2.a"): "I3.previous_year_missing",  # needs_data
}


@pytest.mark.parametrize("row", ROWS, ids=[golden_name(r)[:-3] for r in ROWS])
def test_golden_page(row: evaluation.Row) -> None:
    out = page(row.company, row.item, row.year)
    path = PAGE_GOLDEN / golden_name(row)
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(out, encoding="utf-8", newline="")
    assert path.exists(), f"missing golden {path}; run with FUCHI_UPDATE_GOLDEN=1 and review it"
    assert out == path.read_text(encoding="utf-8")


def test_no_stale_page_goldens() -> None:
    expected = {golden_name(r) for r in ROWS}
    present = {p.name for p in PAGE_GOLDEN.glob("*.md")}
    if UPDATE:
        for name in present - expected:
            (PAGE_GOLDEN / name).unlink()
        present &= expected
    assert present == expected


@pytest.mark.parametrize("row", ROWS, ids=[golden_name(r)[:-3] for r in ROWS])
def test_page_is_short_and_names_the_deciding_rule(row: evaluation.Row) -> None:
    out = page(row.company, row.item, row.year, "tree")
    lines = out.splitlines()
    # At most 40 lines, except a row summing many records (one line of arithmetic per record).
    many = {("91310230MA1K0C3D4E", 2026, "2.9")}  # seven events
    assert len(lines) <= (50 if (row.company, row.year, row.item) in many else 40), out
    assert len(out.encode()) < 8000
    clause = POLICY.clauses[row.item]
    assert clause.zh in out and clause.en in out
    decided = next(line for line in lines if line.startswith("  决定 decided by: "))
    assert re.search(r"\[\S+ (条款 clause \S+ )?rules/\d\d-[a-z]+\.lp:\d+\]$", decided), decided
    assert "⇐ 决定 decides" in out
    # The status layer's plumbing never shows: no money limbs, no reason-term ordering.
    for noise in ("smaller_reason", "first_stage", "money_sum(", "SB", "R0 < R", "P3.open", "P3.decision_stage"):
        assert noise not in out, noise


@pytest.mark.parametrize("key", list(AUDITED), ids=["_".join(map(str, k)) for k in AUDITED])
def test_decided_by_names_the_rule_with_clause_and_file_line(key: tuple[str, int, str]) -> None:
    company, year, item = key
    doc = json.loads(page(company, item, year, "json"))
    [row] = doc["rows"]
    rule = row["decided_by"]
    assert rule["id"] == AUDITED[key]
    info = next(r for r in POLICY.rules if r.id == rule["id"])
    assert rule["file"] == info.file and info.line <= rule["line"] <= info.end_line
    assert rule["clauses"] == list(info.clauses) and rule["clauses"]
    # The clause's rule, or the gate / status rule that truly decided (3.2, 3.3, 3.4, clause 1, P1 of the item).
    assert item in rule["clauses"] or set(rule["clauses"]) & {"1", "3.2", "3.3", "3.4"}, rule
    said = row["decided"]
    assert said["zh"] and said["en"] and "{" not in said["zh"] + said["en"]


def test_decided_by_is_set_for_every_row() -> None:
    for r in ROWS:
        doc = json.loads(page(r.company, r.item, r.year, "json"))
        [row] = doc["rows"]
        assert row["decided_by"] is not None, (r.company, r.year, r.item)
        assert row["decided_by"]["id"] not in ("P3.condition", "P3.decision_stage", "P3.decision_paid")


def test_page_granted_shows_the_arithmetic_as_one_chain_with_sources() -> None:
    out = page("91310230MA1K0A1B2C", "2.4.a", 2027, "tree")
    assert "ƒ 5,000,000 元 × 0.5 = 2,500,000 元 > 上限 cap 2,000,000 元 ⟹ 2,000,000 元（上限生效 cap binds）" in out
    assert "city_support[1]" in out and "parameters.yaml: match_cap (条款 clause" in out
    assert out.count("param(match_cap, 2.4.a, 2,000,000 元)") == 1  # each parameter once
    assert "按市级资助 5,000,000 元 × 配套比例 0.5，上限 2,000,000 元" in out
    assert "city grants 5,000,000 元 × matching ratio 0.5, capped at 2,000,000 元" in out


def test_page_assessed_row_names_the_approval_and_the_boundary_conditions() -> None:
    out = page("91310230MA1K0A1B2C", "2.4.b", 2026, "tree")
    assert "综合评估核定 12,000,000 元（assessments 第 0 条），不高于最高额 15,000,000 元" in out
    assert "ƒ 150,000,000 元 × 0.1 = 15,000,000 元 ≤ 上限 cap 20,000,000 元" in out
    # PFLOPS exactly 2000 and PUE exactly 1.25: the denials did not hold, shown with their values.
    assert "✗ 项目 0 算力 2,000 Pflops 低于 2,000" in out and "不成立 fails: 2,000 < 2,000" in out
    assert "✗ 项目 0 PUE 1.25 高于 1.25" in out and "不成立 fails: 1.25 > 1.25" in out


def test_page_not_eligible_shows_the_failed_condition_with_values_and_sources() -> None:
    out = page("91310230MA1K0B2C3D", "2.2.b", 2026, "tree")
    assert "决定 decided by: 增速 0.12 未超过 1.2 × 0.1 = 0.12" in out
    assert "≟ 0.12 <= 0.12" in out
    assert "ƒ (112,000,000 元 − 100,000,000 元) ÷ 100,000,000 元 = 0.12" in out
    assert "city_avg_growth(2026, 0.1) ← facts/city.yaml: city.avg_growth.2026" in out
    assert "revenue.2025" in out and "revenue.2026" in out


def test_page_superseded_names_the_other_policy_and_its_amount() -> None:
    out = page("91310230MA1K0C3D4E", "2.9", 2027, "tree")
    assert "其他政策（other_support 第 0 条）给予 450,000 元，不低于本办法的 400,000 元" in out
    assert "other_support[0]" in out and "≟ 400,000 元 <= 450,000 元" in out
    assert "ƒ 800,000 元 × 0.5 = 400,000 元 ≤ 上限 cap 500,000 元" in out


def test_page_used_up_names_the_year_that_used_it() -> None:
    out = page("91310230MA1K0D4E5F", "2.1.b", 2027, "tree")
    assert "决定 decided by: 一次性事项已在 2026 年度使用" in out
    assert "2026 年度 2.1.b 符合条件（100,000 元），一次性事项用掉" in out
    assert "honours[1]" in out


def test_page_gate_and_window_show_the_failing_input() -> None:
    out = page("91310115MA1H9J8K2L", "2.4.a", 2026, "tree")
    assert "registered_in(91310115MA1H9J8K2L, pudong) ← facts/companies.yaml" in out
    assert "不成立 fails: 无 no param(registered_district, pudong)" in out
    out = page("91310230MA1K0K0L1M", "2.9", 2025, "tree")
    assert "2025 年度不在有效期（2026–2027）内" in out and "无 no param(window_year, 2025)" in out


def test_page_rejected_and_pending() -> None:
    out = page("91310230MA1K0C3D4E", "2.10", 2026, "tree")
    assert "综合评估未通过（assessments 第 0 条）" in out and "assessments[0]" in out
    out = page("91310230MA1K0C3D4E", "2.10", 2027, "tree")
    assert "2.10 待综合评估，暂按最高额 2,000,000 元" in out
    assert "2027 年度数据于 2028 年兑付 2,000,000 元" in out


def _findings(nodes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for n in nodes:
        out.append(n)
        out += _findings(n["children"])
    return out


@pytest.mark.parametrize("key", list(AUDITED)[:6], ids=["_".join(map(str, k)) for k in list(AUDITED)[:6]])
def test_page_json_and_markdown_carry_the_same_structure(key: tuple[str, int, str]) -> None:
    company, year, item = key
    doc = json.loads(page(company, item, year, "json"))
    md = page(company, item, year)
    [row] = doc["rows"]
    assert list(row) == [
        "company", "year", "item", "status", "amount", "payable_year", "reason", "clause", "decided_by", "decided",
        "line", "findings", "omitted",
    ]  # fmt: skip
    found = _findings(row["findings"])
    assert found
    for f in found:
        assert list(f) == ["rule", "holds", "decides", "zh", "en", "arithmetic", "checks", "facts", "children"]
        mark = "✓" if f["holds"] else "✗"
        assert f"- {mark} {f['zh']} / {f['en']}  [{f['rule']['id']}" in md or f"- {mark} {f['zh']}  [" in md
        for x in f["facts"]:
            assert f"← {x['source']}" in md
        if f["arithmetic"]:
            assert f"ƒ `{f['arithmetic']}`" in md
    assert sum(f["decides"] for f in found) == 1


# ---- data the policy refuses or warns about ---------------------------------------------------------------------


_CAPPED = (
    "companies:\n"
    "  - id: CAP\n    registered_in: chongming\n    sound_finance: true\n    good_credit: true\n"
    '    fits_direction: true\n    industry_code: "6550"\n    key_enterprise: true\n'
    "    key_fields: [computing_center]\n"
    "    compute_projects:\n"
    "      - {id: dc-1, year: 2026, kind: new, pflops: 2000, pue: 1.25, cost: 150000000}\n"
    "    assessments:\n"
    '      - {item: "2.4.b", year: 2026, decision: approved, amount: AMOUNT}\n'
)


@pytest.mark.parametrize("item", [None, "2.4.b"])
def test_data_evaluate_refuses_is_refused_by_explain_the_same_way(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, item: str | None
) -> None:
    """An approved amount above the item's maximum (an ``input_error`` of the policy) is exit 1, not a page."""
    (tmp_path / "c.yaml").write_text(_CAPPED.replace("AMOUNT", "99000000"), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    ev = fuchi("evaluate", "c.yaml", "--format", "json")
    assert ev.exit_code == 1 and ev.stdout == ""
    result = fuchi("explain", "CAP", *([item] if item else []), "c.yaml", "--year", "2026")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == ev.stderr
    assert "assessments[0].amount" in result.stderr and "15,000,000" in result.stderr


def test_explain_prints_the_warnings_evaluate_prints(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = _CAPPED.replace("AMOUNT", "12000000").replace('item: "2.4.b", year: 2026', 'item: "2.4.b", year: 2027')
    (tmp_path / "c.yaml").write_text(data, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    ev = fuchi("evaluate", "c.yaml", "--format", "json")
    assert ev.exit_code == 0 and "assessments[0].decision" in ev.stderr
    result = fuchi("explain", "CAP", "2.4.b", "c.yaml", "--year", "2026")
    assert result.exit_code == 0 and result.stdout
    assert [x for x in result.stderr.splitlines() if "assessments[0]" in x] == [
        x for x in ev.stderr.splitlines() if "assessments[0]" in x
    ]


def test_nothing_touched_message_reads_well() -> None:
    result = fuchi("explain", "91310230MA1K0A1B2C", "2.9", CITY, COMPANIES)
    assert result.exit_code == 0
    assert "nothing in the data touches 2.9 of 91310230MA1K0A1B2C" in result.stderr
    result = fuchi("explain", "91310230MA1K0A1B2C", CITY, COMPANIES, "--year", "2031")
    assert "nothing in the data touches 2031 of 91310230MA1K0A1B2C" in result.stderr


def test_proof_and_how_to_qualify_exclude_each_other() -> None:
    r = fuchi(
        "explain", "91310230MA1K0B2C3D", "2.2.b", CITY, COMPANIES, "--year", "2026", "--how-to-qualify", "--proof"
    )
    assert r.exit_code == 2 and r.stdout == ""
    assert "exclude each other" in r.stderr

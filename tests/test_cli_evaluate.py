"""``fuchi evaluate`` end to end: the JSON contract, determinism, filters, formats and input errors.

The contract is shared/spec/company-data.md ("What ``evaluate --format json`` prints") and docs/data-format.md.
Exit codes: 0 ran, 1 input or policy error, 2 usage, 3 policy tests failed. Results go to stdout only when
the whole run succeeded; diagnostics go to stderr, never with a traceback.

In-process tests use click's ``CliRunner`` with ``--workers 0``; a few tests run the real console script in a
subprocess (true stdout/stderr, the default worker pool).
"""

from __future__ import annotations

import csv
import io
import json
import os
import random
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from fuchi.cli import main

ROOT = Path(__file__).resolve().parents[1]
CITY = "facts/city.yaml"
COMPANIES = "facts/companies.yaml"

ROW_KEYS = ["company", "year", "item", "status", "amount", "payable_year", "reason"]
STATUSES = {
    "granted",
    "pending_assessment",
    "rejected",
    "not_eligible",
    "needs_data",
    "superseded",
    "disqualified",
    "excluded",
    "out_of_period",
}
PAID = {"granted", "pending_assessment"}
ITEMS = [
    "2.1.a", "2.1.b", "2.2.a", "2.2.b", "2.3", "2.4.a", "2.4.b", "2.5.a", "2.5.b",
    "2.6", "2.7.a", "2.7.b", "2.8", "2.9", "2.10",
]  # fmt: skip
SHIPPED_IDS = [
    "91310230MA1K0A1B2C", "91310230MA1K0B2C3D", "91310230MA1K0C3D4E", "91310230MA1K0D4E5F",
    "91310230MA1K0E5F6G", "91310230MA1K0F6G7H", "91310230MA1K0G7H8J", "91310115MA1H9J8K2L",
    "91310230MA1K0H8J9K", "91310230MA1K0J9K0L", "91310230MA1K0K0L1M", "91310230MA1K0L1M2N",
    "91310230MA1K0M2N3P", "91310230MA1K0N3P4Q",
]  # fmt: skip

GATE_OK = {
    "registered_in": "chongming",
    "industry_code": "6513",
    "sound_finance": True,
    "good_credit": True,
    "fits_direction": True,
}
MONEY = "应为不小于 0 的金额（元，最多两位小数） / expected a non-negative amount in yuan with at most two decimals"


# ---- helpers ------------------------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _in_repo(monkeypatch: pytest.MonkeyPatch) -> None:
    """Run from the repository root so that the shipped files are named as in the docs (facts/…)."""
    monkeypatch.chdir(ROOT)


def fuchi(*args: str) -> Result:
    """Run the CLI in this process (stdout and stderr kept apart)."""
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    assert "Traceback" not in result.stderr
    return result


def evaluate_json(*args: str) -> dict[str, Any]:
    result = fuchi("evaluate", *args, "--format", "json", "--workers", "0")
    assert result.exit_code == 0, result.stderr
    doc: dict[str, Any] = json.loads(result.stdout)
    return doc


@pytest.fixture(scope="module")
def shipped() -> dict[str, Any]:
    """The JSON output for the shipped example data."""
    prev = os.getcwd()
    os.chdir(ROOT)
    try:
        return evaluate_json(CITY, COMPANIES)
    finally:
        os.chdir(prev)


@pytest.fixture(scope="module")
def explained() -> dict[str, Any]:
    """The JSON output for the shipped example data with ``--explain``."""
    prev = os.getcwd()
    os.chdir(ROOT)
    try:
        return evaluate_json(CITY, COMPANIES, "--explain")
    finally:
        os.chdir(prev)


def by_key(doc: dict[str, Any]) -> dict[tuple[str, int, str], dict[str, Any]]:
    return {(r["company"], r["year"], r["item"]): r for r in doc["results"]}


def write_yaml_doc(path: Path, companies: list[dict[str, Any]], city: dict[str, Any] | None = None) -> str:
    """Write a YAML document (JSON text is YAML; ensure_ascii=False keeps astral characters whole)."""
    doc: dict[str, Any] = {}
    if city is not None:
        doc["city"] = city
    doc["companies"] = companies
    path.write_text(json.dumps(doc, ensure_ascii=False, indent=1), encoding="utf-8")
    return str(path)


def write_jsonl(path: Path, companies: list[dict[str, Any]]) -> str:
    with path.open("w", encoding="utf-8") as fh:
        for co in companies:
            fh.write(json.dumps(co, ensure_ascii=False) + "\n")
    return str(path)


def expected_totals(rows: list[dict[str, Any]], companies: int) -> dict[str, Any]:
    """Recompute the documented totals from the rows (docs/data-format.md)."""
    by_status: dict[str, dict[str, int]] = {}
    by_item: dict[str, dict[str, int]] = {}
    by_year: dict[str, dict[str, int]] = {}
    for r in rows:
        s = by_status.setdefault(r["status"], {"rows": 0, "amount": 0})
        s["rows"] += 1
        s["amount"] += r["amount"]
        if r["status"] in PAID:
            by_item.setdefault(r["item"], {"granted": 0, "pending_assessment": 0})[r["status"]] += r["amount"]
            by_year.setdefault(str(r["payable_year"]), {"granted": 0, "pending_assessment": 0})[r["status"]] += r[
                "amount"
            ]
    return {
        "companies": companies,
        "rows": len(rows),
        "amount": {p: sum(r["amount"] for r in rows if r["status"] == p) for p in ("granted", "pending_assessment")},
        "by_status": by_status,
        "by_item": by_item,
        "by_payable_year": by_year,
    }


def assert_totals(doc: dict[str, Any], companies: int) -> None:
    totals = doc["totals"]
    want = expected_totals(doc["results"], companies)
    assert totals["companies"] == want["companies"]
    assert totals["rows"] == want["rows"]
    assert totals["amount"] == want["amount"]
    assert totals["by_status"] == want["by_status"]
    assert totals["by_item"] == want["by_item"]
    assert totals["by_payable_year"] == want["by_payable_year"]
    # Deterministic key order: statuses in the order of P3, items in clause order, years ascending.
    p3 = ["granted", "pending_assessment", "rejected", "not_eligible", "needs_data", "superseded", "disqualified",
          "excluded", "out_of_period"]  # fmt: skip
    order = [s for s in p3 if s in totals["by_status"]]
    assert list(totals["by_status"]) == order
    assert list(totals["by_item"]) == [i for i in ITEMS if i in totals["by_item"]]
    assert list(totals["by_payable_year"]) == sorted(totals["by_payable_year"])


# ---- the JSON contract on the shipped data --------------------------------------------------------------------


def test_json_top_level_and_policy(shipped: dict[str, Any]) -> None:
    assert list(shipped) == ["policy", "results", "totals", "warnings"]
    policy = shipped["policy"]
    assert list(policy) == ["id", "version", "digest"]
    assert policy["id"] == "chongming-digital-2025"
    assert policy["version"] == "2025-draft"
    assert re.fullmatch(r"sha256:[0-9a-f]{64}", policy["digest"])


def test_json_rows_follow_the_contract(shipped: dict[str, Any]) -> None:
    rows = shipped["results"]
    assert rows
    for r in rows:
        assert list(r) == ROW_KEYS, r
        assert isinstance(r["company"], str) and r["company"]
        assert type(r["year"]) is int
        assert r["item"] in ITEMS
        assert r["status"] in STATUSES
        assert type(r["amount"]) is int and r["amount"] >= 0, r
        assert isinstance(r["reason"], str) and " / " in r["reason"], r  # 中文 / English
        if r["status"] in PAID:
            assert r["payable_year"] == r["year"] + 1, r
        else:
            assert r["payable_year"] is None, r
            assert r["amount"] == 0, r  # nothing is paid for any other status
    keys = [(r["company"], r["year"], r["item"]) for r in rows]
    assert len(keys) == len(set(keys)), "a (company, year, item) appears twice"


def test_json_rows_in_input_then_year_then_item_order(shipped: dict[str, Any]) -> None:
    rows = shipped["results"]
    order = [(SHIPPED_IDS.index(r["company"]), r["year"], ITEMS.index(r["item"])) for r in rows]
    assert order == sorted(order)
    assert [c for c in SHIPPED_IDS if any(r["company"] == c for r in rows)] == SHIPPED_IDS


def test_shipped_data_touches_every_status_and_every_item(shipped: dict[str, Any]) -> None:
    assert {r["status"] for r in shipped["results"]} == STATUSES
    assert {r["item"] for r in shipped["results"]} == set(ITEMS)


def test_json_totals_match_the_rows(shipped: dict[str, Any]) -> None:
    assert_totals(shipped, companies=14)


# Hand-checked against facts/companies.yaml, facts/city.yaml and shared/spec/rulings.md (not read off the tool).
HAND_CHECKED = [
    # 2.2.b: revenue 250m -> 620m first crosses 300m and 500m; only the highest tier (500,000), pending (I5, P1).
    ("91310230MA1K0A1B2C", 2026, "2.2.b", "pending_assessment", 500_000),
    # 2.4.a: 3,000,000 x 0.5; 2027: 5,000,000 x 0.5 = 2,500,000 capped at 2,000,000 (T3).
    ("91310230MA1K0A1B2C", 2026, "2.4.a", "granted", 1_500_000),
    ("91310230MA1K0A1B2C", 2027, "2.4.a", "granted", 2_000_000),
    # 2.4.b: 2000 PFLOPS / PUE 1.25 qualify (W1), approved at 12,000,000 <= 15,000,000; PUE 1.251 fails.
    ("91310230MA1K0A1B2C", 2026, "2.4.b", "granted", 12_000_000),
    ("91310230MA1K0A1B2C", 2027, "2.4.b", "not_eligible", 0),
    # 2.2.b growth exactly 1.2 x 10% is not "超" (W1, W2); R&D exactly 5% qualifies: 5,600,000 x 0.2.
    ("91310230MA1K0B2C3D", 2026, "2.2.b", "not_eligible", 0),
    ("91310230MA1K0B2C3D", 2026, "2.8", "pending_assessment", 1_120_000),
    ("91310230MA1K0B2C3D", 2027, "2.2.b", "not_eligible", 0),
    # 2.9: seven events, 3,319,999 in all (per-event rounding), capped at 3,000,000; 2027 superseded (450k > 400k).
    ("91310230MA1K0C3D4E", 2026, "2.9", "pending_assessment", 3_000_000),
    ("91310230MA1K0C3D4E", 2027, "2.9", "superseded", 0),
    ("91310230MA1K0C3D4E", 2026, "2.10", "rejected", 0),
    ("91310230MA1K0C3D4E", 2027, "2.10", "pending_assessment", 2_000_000),
    # 2.5.a 300,000 x 0.5 beats the other policy's 100,000; 2027 5,000,000 x 0.5 capped at 2,000,000.
    ("91310230MA1K0D4E5F", 2026, "2.5.a", "granted", 150_000),
    ("91310230MA1K0D4E5F", 2027, "2.5.a", "granted", 2_000_000),
    ("91310230MA1K0D4E5F", 2026, "2.1.b", "granted", 100_000),
    ("91310230MA1K0D4E5F", 2027, "2.1.b", "not_eligible", 0),
    ("91310230MA1K0D4E5F", 2026, "2.6", "granted", 250_000),
    ("91310230MA1K0D4E5F", 2027, "2.6", "not_eligible", 0),
    # 2.7.a: 15m x 0.2 = 3m, approved 2.5m; 2027 30m x 0.2 = 6m capped 5m. 2.7.b: 600,000 + 4,500,000 capped 5m.
    ("91310230MA1K0E5F6G", 2026, "2.7.a", "granted", 2_500_000),
    ("91310230MA1K0E5F6G", 2027, "2.7.a", "pending_assessment", 5_000_000),
    ("91310230MA1K0E5F6G", 2026, "2.7.b", "pending_assessment", 5_000_000),
    ("91310230MA1K0E5F6G", 2027, "2.7.b", "not_eligible", 0),
    ("91310230MA1K0F6G7H", 2026, "2.1.a", "granted", 2_000_000),
    ("91310230MA1K0F6G7H", 2027, "2.1.a", "not_eligible", 0),
    ("91310230MA1K0F6G7H", 2026, "2.3", "superseded", 0),
    ("91310230MA1K0F6G7H", 2027, "2.3", "not_eligible", 0),
    ("91310230MA1K0G7H8J", 2026, "2.2.a", "needs_data", 0),
    ("91310230MA1K0G7H8J", 2026, "2.8", "pending_assessment", 300_000),
    ("91310230MA1K0G7H8J", 2027, "2.8", "needs_data", 0),
    ("91310115MA1H9J8K2L", 2026, "2.4.a", "not_eligible", 0),
    ("91310230MA1K0H8J9K", 2026, "2.1.a", "disqualified", 0),
    ("91310230MA1K0J9K0L", 2026, "2.3", "excluded", 0),
    ("91310230MA1K0K0L1M", 2025, "2.5.b", "out_of_period", 0),
    ("91310230MA1K0K0L1M", 2026, "2.5.b", "pending_assessment", 300_000),
    ("91310230MA1K0K0L1M", 2026, "2.1.b", "granted", 100_000),
    # 1,234,567.89 x 0.5 = 617,283.945 rounded down (W3); 21,000,000.50 > 20m for the first time.
    ("91310230MA1K0L1M2N", 2026, "2.1.a", "granted", 617_283),
    ("91310230MA1K0L1M2N", 2026, "2.2.a", "granted", 300_000),
    ("91310230MA1K0M2N3P", 2026, "2.2.b", "not_eligible", 0),
    ("91310230MA1K0M2N3P", 2026, "2.4.b", "not_eligible", 0),
    ("91310230MA1K0M2N3P", 2026, "2.6", "granted", 900_000),
    ("91310230MA1K0N3P4Q", 2027, "2.2.a", "granted", 300_000),
    ("91310230MA1K0N3P4Q", 2027, "2.2.b", "pending_assessment", 100_000),
]


@pytest.mark.parametrize(("company", "year", "item", "status", "amount"), HAND_CHECKED)
def test_hand_checked_rows(
    shipped: dict[str, Any], company: str, year: int, item: str, status: str, amount: int
) -> None:
    row = by_key(shipped)[(company, year, item)]
    assert (row["status"], row["amount"]) == (status, amount), row


def test_shipped_grand_totals(shipped: dict[str, Any]) -> None:
    assert shipped["totals"]["rows"] == 78
    assert shipped["totals"]["amount"] == {"granted": 24_917_283, "pending_assessment": 19_120_000}


# ---- determinism ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["json", "csv", "table"])
def test_two_runs_are_byte_identical(fmt: str) -> None:
    runs = [fuchi("evaluate", CITY, COMPANIES, "--format", fmt, "--workers", "0") for _ in range(2)]
    assert runs[0].exit_code == runs[1].exit_code == 0
    assert runs[0].stdout_bytes == runs[1].stdout_bytes
    assert runs[0].stdout_bytes  # not trivially equal
    assert runs[0].stderr == ""


def test_file_order_does_not_change_results_of_an_enterprise(shipped: dict[str, Any]) -> None:
    # The city file may come after the companies: the city figures are read before anything is solved.
    doc = evaluate_json(COMPANIES, CITY)
    assert doc["results"] == shipped["results"]


# ---- filters --------------------------------------------------------------------------------------------------


def test_company_filter(shipped: dict[str, Any]) -> None:
    want = [r for r in shipped["results"] if r["company"] == "91310230MA1K0C3D4E"]
    doc = evaluate_json(CITY, COMPANIES, "--company", "91310230MA1K0C3D4E")
    assert doc["results"] == want
    assert_totals(doc, companies=1)


def test_company_filter_repeatable(shipped: dict[str, Any]) -> None:
    chosen = {"91310230MA1K0C3D4E", "91310230MA1K0N3P4Q"}
    doc = evaluate_json(CITY, COMPANIES, "--company", "91310230MA1K0N3P4Q", "--company", "91310230MA1K0C3D4E")
    assert doc["results"] == [r for r in shipped["results"] if r["company"] in chosen]  # input order kept
    assert_totals(doc, companies=2)


def test_year_filter(shipped: dict[str, Any]) -> None:
    doc = evaluate_json(CITY, COMPANIES, "--year", "2027")
    assert doc["results"] == [r for r in shipped["results"] if r["year"] == 2027]
    assert doc["results"]
    assert_totals(doc, companies=14)
    assert list(doc["totals"]["by_payable_year"]) == ["2028"]


def test_item_filter(shipped: dict[str, Any]) -> None:
    doc = evaluate_json(CITY, COMPANIES, "--item", "2.2.b", "--item", "2.9")
    assert doc["results"] == [r for r in shipped["results"] if r["item"] in ("2.2.b", "2.9")]
    assert_totals(doc, companies=14)
    assert set(doc["totals"]["by_item"]) == {"2.2.b", "2.9"}


def test_filters_combine(shipped: dict[str, Any]) -> None:
    doc = evaluate_json(CITY, COMPANIES, "--company", "91310230MA1K0A1B2C", "--year", "2026", "--item", "2.4.b")
    assert doc["results"] == [by_key(shipped)[("91310230MA1K0A1B2C", 2026, "2.4.b")]]
    assert doc["totals"]["amount"] == {"granted": 12_000_000, "pending_assessment": 0}


def test_filter_also_applies_to_csv_and_table() -> None:
    csv_out = fuchi("evaluate", CITY, COMPANIES, "--format", "csv", "--workers", "0", "--item", "2.10").stdout
    lines = list(csv.reader(io.StringIO(csv_out)))
    assert [line[2] for line in lines[1:]] == ["2.10", "2.10"]
    table = fuchi("evaluate", CITY, COMPANIES, "--workers", "0", "--item", "2.10").stdout
    assert "2.2.b" not in table
    assert "2,000,000" in table


def test_unknown_item_is_a_usage_error() -> None:
    result = fuchi("evaluate", CITY, COMPANIES, "--workers", "0", "--item", "9.9")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert "'9.9'" in result.stderr
    assert ", ".join(ITEMS) in result.stderr  # names every valid item


def test_unknown_format_is_a_usage_error() -> None:
    result = fuchi("evaluate", CITY, COMPANIES, "--workers", "0", "--format", "xml")
    assert result.exit_code == 2
    assert result.stdout == ""


def test_company_filter_still_validates_every_enterprise(tmp_path: Path) -> None:
    bad = write_yaml_doc(tmp_path / "bad.yaml", [{"id": "OK", **GATE_OK}, {"id": "BAD", "revenue": {"2026": -1}}])
    result = fuchi("evaluate", bad, "--company", "OK", "--workers", "0", "--format", "json")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert "'BAD'" in result.stderr and "revenue.2026" in result.stderr


# ---- csv and table ----------------------------------------------------------------------------------------------


def test_csv_header_rows_and_quoting(shipped: dict[str, Any]) -> None:
    out = fuchi("evaluate", CITY, COMPANIES, "--format", "csv", "--workers", "0").stdout
    assert out.startswith("company,year,item,status,amount,payable_year,reason\n")
    assert "\r" not in out
    lines = list(csv.reader(io.StringIO(out)))
    assert lines[0] == ROW_KEYS
    want = [
        [str(r[k]) if r[k] is not None else "" for k in ROW_KEYS]  # null payable_year is an empty field
        for r in shipped["results"]
    ]
    assert lines[1:] == want
    # A reason with commas (20,000,000) is quoted as a whole; one without is not.
    assert (
        '91310230MA1K0A1B2C,2026,2.2.a,not_eligible,0,,"非首次突破 20,000,000 元（2000万元）：2024 年营收已达 '
        "180,000,000 元 / not the first time above 20,000,000 元（2000万元）: "
        'revenue 2024 was already 180,000,000 元"\n'
    ) in out
    assert "91310230MA1K0A1B2C,2026,2.4.a,granted,1500000,2027,符合条件 / conditions met\n" in out


def test_csv_empty_result_still_has_its_header() -> None:
    out = fuchi("evaluate", CITY, COMPANIES, "--format", "csv", "--workers", "0", "--company", "NOBODY").stdout
    assert out == "company,year,item,status,amount,payable_year,reason\n"


def test_table_labels_rows_and_totals(shipped: dict[str, Any]) -> None:
    result = fuchi("evaluate", CITY, COMPANIES, "--workers", "0")  # table is the default
    assert result.exit_code == 0
    out = result.stdout
    for label in ("企业", "Enterprise", "年度", "Year", "条款", "Item", "状态", "Status", "金额（元）",
                  "Amount (CNY)", "兑付年度", "Payable", "理由", "Reason"):  # fmt: skip
        assert label in out, label
    assert "关于加快推进崇明数字产业发展的扶持办法" in out
    assert "chongming-digital-2025 2025-draft" in out
    for label in ("合计 Totals", "按条款 By item", "予以扶持", "Granted", "待评估（上限）", "Pending (max)",
                  "兑付年度 payable 2027", "兑付年度 payable 2028", "总计 Total"):  # fmt: skip
        assert label in out, label
    assert re.search(r"总计 Total\s+24,917,283\s+19,120,000", out)
    assert re.search(r"兑付年度 payable 2027\s+20,617,283\s+12,020,000", out)
    for status, rows in (("予以扶持 granted", 15), ("不在有效期 out_of_period", 14), ("缺少数据 needs_data", 2)):
        assert f"{status}: {rows} 行 rows" in out
    for company in SHIPPED_IDS:
        assert company in out
    assert "12,000,000" in out and "617,283" in out
    assert "\x1b[" not in out  # no colour codes when not on a terminal


def test_table_never_truncates_text(shipped: dict[str, Any]) -> None:
    out = fuchi("evaluate", CITY, COMPANIES, "--workers", "0").stdout
    in_data = sum(r["reason"].count("…") for r in shipped["results"])  # e.g. "4.6153…%" is in a reason
    assert out.count("…") == in_data
    assert "no…" not in out


# ---- input errors ------------------------------------------------------------------------------------------------

# (file name, file text, exact stderr). Paths are relative to the test's directory so the text is exact.
INPUT_ERRORS = [
    pytest.param(
        "neg.yaml",
        "companies:\n  - id: E1\n    revenue: {2026: -5}\n",
        f"错误 error: neg.yaml: 企业 enterprise 'E1': 字段 field revenue.2026: {MONEY}, got -5\n",
        id="negative-money",
    ),
    pytest.param(
        "neg-event.yaml",
        "companies:\n  - id: X1\n    events:\n"
        "      - {id: a, year: 2026, kind: forum, cost: 1}\n"
        "      - {id: b, year: 2026, kind: forum, cost: 2}\n"
        "      - {id: c, year: 2026, kind: forum, cost: -5}\n",
        f"错误 error: neg-event.yaml: 企业 enterprise 'X1': 字段 field events[2].cost: {MONEY}, got -5\n",
        id="negative-money-in-a-record",
    ),
    pytest.param(
        "dec3.yaml",
        "companies:\n  - id: E1\n    city_support:\n      - {year: 2026, program: compute_voucher, amount: 100.123}\n",
        f"错误 error: dec3.yaml: 企业 enterprise 'E1': 字段 field city_support[0].amount: {MONEY}, got 100.123\n",
        id="three-decimals",
    ),
    pytest.param(
        "unknown.yaml",
        "companies:\n  - id: E1\n    revenu: {2026: 5}\n",
        "错误 error: unknown.yaml: 企业 enterprise 'E1': 字段 field revenu: 未知字段（允许的字段：id, name, "
        "registered_in, industry_code, sound_finance, good_credit, fits_direction, fraud, market_violation, "
        "key_enterprise, key_fields, honours, revenue, rd_spend, city_support, compute_projects, llm_filings, "
        "ic_purchases, own_ip, events, showcase_centres, prior_awards, other_support, assessments） / unknown field "
        "(allowed: id, name, registered_in, industry_code, sound_finance, good_credit, fits_direction, fraud, "
        "market_violation, key_enterprise, key_fields, honours, revenue, rd_spend, city_support, compute_projects, "
        "llm_filings, ic_purchases, own_ip, events, showcase_centres, prior_awards, other_support, assessments), "
        "got 'revenu'\n",
        id="unknown-field",
    ),
    pytest.param(
        "program.yaml",
        "companies:\n  - id: E1\n    city_support:\n      - {year: 2026, program: space_voucher, amount: 100}\n",
        "错误 error: program.yaml: 企业 enterprise 'E1': 字段 field city_support[0].program: 应为以下之一："
        "industry_quality_fund, digital_transformation_fund, compute_voucher, model_voucher, corpus_voucher / "
        "expected one of: industry_quality_fund, digital_transformation_fund, compute_voucher, model_voucher, "
        "corpus_voucher, got 'space_voucher'\n",
        id="unknown-program",
    ),
    pytest.param(
        "type.yaml",
        "companies:\n  - id: E1\n    sound_finance: yes\n",
        "错误 error: type.yaml: 企业 enterprise 'E1': 字段 field sound_finance: 应为 true 或 false / "
        "expected true or false, got 'yes'\n",
        id="wrong-type-yes-is-not-a-boolean",
    ),
    pytest.param(
        "type2.json",
        '{"companies": [{"id": "E1", "rd_spend": {"2026": "9000000"}}]}\n',
        f"错误 error: type2.json: 企业 enterprise 'E1': 字段 field rd_spend.2026: {MONEY}, got '9000000'\n",
        id="wrong-type-string-money",
    ),
    pytest.param(
        "nan.json",
        '{"companies": [{"id": "E1", "revenue": {"2026": NaN}}]}\n',
        f"错误 error: nan.json: 企业 enterprise 'E1': 字段 field revenue.2026: {MONEY}, got NaN\n",
        id="nan-in-json",
    ),
    pytest.param(
        "nan.jsonl",
        '{"id": "E0"}\n\n{"id": "E1", "revenue": {"2026": NaN}}\n',
        f"错误 error: nan.jsonl:3: 企业 enterprise 'E1': 字段 field revenue.2026: {MONEY}, got NaN\n",
        id="nan-in-json-lines-names-the-line",
    ),
    pytest.param(
        "over.yaml",
        "companies:\n  - id: R4\n    revenue: {2026: 1000000000000.01}\n",
        "错误 error: over.yaml: 企业 enterprise 'R4': 字段 field revenue.2026: "
        "金额超出支持范围（最多 1000000000000 元） / "
        "amount outside the supported range (at most 1000000000000 yuan), got 1000000000000.01\n",
        id="above-10^12",
    ),
]


@pytest.mark.parametrize(("name", "text", "stderr"), INPUT_ERRORS)
def test_input_error_exact_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, text: str, stderr: str
) -> None:
    (tmp_path / name).write_text(text, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    for fmt in ("json", "table", "csv"):
        result = fuchi("evaluate", name, "--workers", "0", "--format", fmt)
        assert result.exit_code == 1
        assert result.stdout == ""
        assert result.stderr == stderr


def test_duplicate_id_across_two_files_exact(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "a.yaml").write_text("companies:\n  - id: DUP\n  - id: OTHER\n", encoding="utf-8")
    (tmp_path / "b.yaml").write_text("companies:\n  - id: X\n  - id: DUP\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    result = fuchi("evaluate", "a.yaml", "b.yaml", "--workers", "0", "--format", "json")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == (
        "错误 error: b.yaml: 企业 enterprise 'DUP': 字段 field companies[1]: "
        "企业 id 重复，首次出现在 a.yaml companies[0] / "
        "duplicate enterprise id, first given at a.yaml companies[0], got 'DUP'\n"
    )


@pytest.mark.parametrize(
    ("order", "stderr"),
    [
        (
            ("a.yaml", "d.jsonl"),
            "错误 error: d.jsonl:2: 企业 enterprise 'DUP': 字段 field id: 企业 id 重复，首次出现在 a.yaml companies[0] "
            "/ duplicate enterprise id, first given at a.yaml companies[0], got 'DUP'\n",
        ),
        (
            ("d.jsonl", "a.yaml"),
            "错误 error: a.yaml: 企业 enterprise 'DUP': 字段 field companies[0]: 企业 id 重复，首次出现在 d.jsonl:2 "
            "/ duplicate enterprise id, first given at d.jsonl:2, got 'DUP'\n",
        ),
    ],
)
def test_duplicate_id_across_jsonl_and_yaml_names_both_places(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, order: tuple[str, str], stderr: str
) -> None:
    (tmp_path / "a.yaml").write_text("companies:\n  - id: DUP\n", encoding="utf-8")
    (tmp_path / "d.jsonl").write_text('{"id": "A"}\n{"id": "DUP"}\n', encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    result = fuchi("evaluate", *order, "--workers", "0", "--format", "json")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == stderr


def test_duplicate_id_within_one_jsonl_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "d.jsonl").write_text('{"id": "A"}\n{"id": "B"}\n{"id": "A"}\n', encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    result = fuchi("evaluate", "d.jsonl", "--workers", "0", "--format", "json")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert "d.jsonl:3" in result.stderr and "d.jsonl:1" in result.stderr and "'A'" in result.stderr


ABOVE_MAX = {
    "id": "E1",
    **GATE_OK,
    "key_enterprise": True,
    "key_fields": ["ai"],
    "revenue": {"2026": 100_000_000},
    "rd_spend": {"2026": 20_000_000},  # 20% = 4,000,000, capped at 3,000,000 (I8)
    "assessments": [{"item": "2.8", "year": 2026, "decision": "approved", "amount": 3_000_001}],
}


def test_approved_assessment_above_maximum_is_an_input_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """P1: found by the policy, reported like a validation error, naming the record field."""
    write_yaml_doc(tmp_path / "max.yaml", [ABOVE_MAX])
    monkeypatch.chdir(tmp_path)
    result = fuchi("evaluate", "max.yaml", "--workers", "0", "--format", "json")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == (
        "错误 error: max.yaml: 企业 enterprise 'E1': 字段 field assessments[0].amount: "
        "核定金额 3,000,001 元 超过本条上限 3,000,000 元 / "
        "expected an approved amount of at most 3,000,000 元, got 3,000,001 元\n"
    )


def test_approved_assessment_at_the_maximum_is_granted(tmp_path: Path) -> None:
    co = {**ABOVE_MAX, "assessments": [{"item": "2.8", "year": 2026, "decision": "approved", "amount": 3_000_000}]}
    doc = evaluate_json(write_yaml_doc(tmp_path / "max.yaml", [co]))
    row = by_key(doc)[("E1", 2026, "2.8")]
    assert (row["status"], row["amount"], row["payable_year"]) == ("granted", 3_000_000, 2027)


def test_assessment_without_effect_is_a_warning_only(tmp_path: Path) -> None:
    co = {"id": "W1", **GATE_OK, "assessments": [{"item": "2.9", "year": 2026, "decision": "rejected"}]}
    path = write_yaml_doc(tmp_path / "w.yaml", [co])
    result = fuchi("evaluate", path, "--workers", "0", "--format", "json")
    assert result.exit_code == 0
    assert json.loads(result.stdout)["results"] == []
    assert result.stderr.startswith("警告 warning: ")
    assert "'W1'" in result.stderr and "assessments[0].decision" in result.stderr


@pytest.mark.parametrize("name", ["missing.yaml", "missing.json", "missing.jsonl"])
def test_missing_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    monkeypatch.chdir(tmp_path)
    result = fuchi("evaluate", name, "--workers", "0", "--format", "json")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.startswith(f"错误 error: {name}: 文件 file: ")
    assert "文件不存在或不可读 / file not found or not readable" in result.stderr
    assert result.stderr.count("\n") == 1


def test_unknown_file_type(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "data.txt").write_text("companies: []\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    result = fuchi("evaluate", "data.txt", "--workers", "0")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert "data.txt" in result.stderr and ".jsonl" in result.stderr


def test_no_files_is_a_usage_error() -> None:
    result = fuchi("evaluate", "--workers", "0")
    assert result.exit_code == 2
    assert result.stdout == ""


def test_error_after_a_full_batch_prints_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A bad enterprise after the first batch of 2,000: the rows already solved never reach stdout."""
    companies: list[dict[str, Any]] = [{"id": f"E{i}", **GATE_OK, "revenue": {"2026": 25_000_000}} for i in range(2050)]
    companies.append({"id": "LAST", "events": [{"id": "e", "year": 2026, "kind": "party", "cost": 1}]})
    write_jsonl(tmp_path / "big.jsonl", companies)
    monkeypatch.chdir(tmp_path)
    result = fuchi("evaluate", "big.jsonl", "--workers", "0", "--format", "json")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == (
        "错误 error: big.jsonl:2051: 企业 enterprise 'LAST': 字段 field events[0].kind: 应为以下之一：summit, "
        "competition, forum, exhibition / expected one of: summit, competition, forum, exhibition, got 'party'\n"
    )


# ---- several files, JSON Lines, city in a separate file ---------------------------------------------------------

GROWER = {  # 18m -> 108m: first above 20m and 100m (2.2.a granted, 2.2.b pending), needs the city figure of 2027
    **GATE_OK,
    "revenue": {"2026": 18_000_000, "2027": 108_000_000},
}


def test_jsonl_with_city_in_a_separate_yaml(tmp_path: Path) -> None:
    data = write_jsonl(tmp_path / "bulk.jsonl", [{"id": "J1", **GROWER}, {"id": "J2"}])
    doc = evaluate_json(CITY, data)
    got = [(r["company"], r["year"], r["item"], r["status"], r["amount"]) for r in doc["results"]]
    assert got == [
        ("J1", 2027, "2.2.a", "granted", 300_000),
        ("J1", 2027, "2.2.b", "pending_assessment", 100_000),
    ]
    assert doc["totals"]["companies"] == 2


def test_jsonl_without_city_needs_data_for_growth(tmp_path: Path) -> None:
    data = write_jsonl(tmp_path / "bulk.jsonl", [{"id": "J1", **GROWER}])
    doc = evaluate_json(data)
    row = by_key(doc)[("J1", 2027, "2.2.b")]
    assert row["status"] == "needs_data"
    assert row["amount"] == 0


def test_jsonl_may_not_hold_city_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "c.jsonl").write_text('{"city": {"avg_growth": {"2026": 0.1}}}\n', encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    result = fuchi("evaluate", "c.jsonl", "--workers", "0", "--format", "json")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.startswith("错误 error: c.jsonl:1: ")
    assert "separate .yaml/.json file" in result.stderr


def test_several_files_in_one_run(tmp_path: Path) -> None:
    jsonl = write_jsonl(tmp_path / "a.jsonl", [{"id": "J1", **GROWER}])
    json_file = tmp_path / "b.json"
    json_file.write_text(
        json.dumps({"companies": [{"id": "J2", **GATE_OK, "llm_filings": [{"year": 2026}]}]}), encoding="utf-8"
    )
    yaml_doc = write_yaml_doc(
        tmp_path / "c.yaml",
        [{"id": "J3", **GATE_OK, "city_support": [{"year": 2026, "program": "compute_voucher", "amount": 10}]}],
    )
    city = tmp_path / "city.json"
    city.write_text('{"city": {"avg_growth": {"2027": 0.095}}}', encoding="utf-8")
    doc = evaluate_json(jsonl, str(json_file), str(city), yaml_doc)
    got = [(r["company"], r["year"], r["item"], r["status"], r["amount"]) for r in doc["results"]]
    assert got == [  # in the order of the files as given
        ("J1", 2027, "2.2.a", "granted", 300_000),
        ("J1", 2027, "2.2.b", "pending_assessment", 100_000),
        ("J2", 2026, "2.5.b", "pending_assessment", 300_000),
        ("J3", 2026, "2.4.a", "granted", 5),
    ]
    assert doc["totals"]["companies"] == 3


def test_conflicting_city_figures_are_an_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "c1.yaml").write_text("city:\n  avg_growth: {2026: 0.10}\n", encoding="utf-8")
    (tmp_path / "c2.yaml").write_text("city:\n  avg_growth: {2026: 0.11}\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    result = fuchi("evaluate", "c1.yaml", "c2.yaml", "--workers", "0", "--format", "json")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert "c2.yaml" in result.stderr and "c1.yaml" in result.stderr and "city.avg_growth.2026" in result.stderr


# ---- the 10^12 range (ruling W3) --------------------------------------------------------------------------------


def test_range_up_to_10_to_the_12(tmp_path: Path) -> None:
    companies = [
        {  # R&D 60bn is 6% of 999,999,999,999.99 (>= 5%): 20% capped at 3,000,000 a year (I8)
            "id": "HUGE-RD",
            **GATE_OK,
            "key_enterprise": True,
            "key_fields": ["ai"],
            "revenue": {"2026": "999999999999.99"},
            "rd_spend": {"2026": 60_000_000_000},
        },
        {  # 1.5bn -> 2.5bn: first above 2bn, growth 66.7% > 1.2 x 10%: the top tier, 1,000,000 (I3-I5)
            "id": "TWO-BN",
            **GATE_OK,
            "revenue": {"2025": 1_500_000_000, "2026": 2_500_000_000},
        },
        {  # 10% of 3bn = 300m, capped at 20,000,000 (I6)
            "id": "BIG-DC",
            **GATE_OK,
            "compute_projects": [
                {"id": "dc", "year": 2026, "kind": "new", "pflops": 5000, "pue": 1.1, "cost": 3_000_000_000}
            ],
        },
        {  # the top of the range is accepted exactly
            "id": "TOP",
            **GATE_OK,
            "revenue": {"2025": 1_000_000_000_000, "2026": 1_000_000_000_000},
        },
    ]
    path = tmp_path / "range.yaml"
    text = json.dumps({"city": {"avg_growth": {"2026": "0.10"}}, "companies": companies}, indent=1)
    # Numbers as numbers (not strings): unquote the decimal values written above as strings.
    text = text.replace('"999999999999.99"', "999999999999.99").replace('"0.10"', "0.10")
    path.write_text(text, encoding="utf-8")
    doc = evaluate_json(str(path))
    rows = by_key(doc)
    assert (rows[("HUGE-RD", 2026, "2.8")]["status"], rows[("HUGE-RD", 2026, "2.8")]["amount"]) == (
        "pending_assessment",
        3_000_000,
    )
    assert (rows[("TWO-BN", 2026, "2.2.b")]["status"], rows[("TWO-BN", 2026, "2.2.b")]["amount"]) == (
        "pending_assessment",
        1_000_000,
    )
    assert (rows[("BIG-DC", 2026, "2.4.b")]["status"], rows[("BIG-DC", 2026, "2.4.b")]["amount"]) == (
        "pending_assessment",
        20_000_000,
    )
    assert rows[("TOP", 2026, "2.2.b")]["status"] == "not_eligible"  # above 2bn already in 2025
    assert "1,000,000,000,000 元" in rows[("TOP", 2026, "2.2.b")]["reason"]


def test_one_fen_above_10_to_the_12_is_rejected(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for field, value in (("revenue", '{"2026": 1000000000000.01}'), ("rd_spend", '{"2026": 1000000000001}')):
        (tmp_path / "over.json").write_text(f'{{"companies": [{{"id": "R", "{field}": {value}}}]}}', encoding="utf-8")
        monkeypatch.chdir(tmp_path)
        result = fuchi("evaluate", "over.json", "--workers", "0", "--format", "json")
        assert result.exit_code == 1
        assert result.stdout == ""
        assert f"'R': 字段 field {field}.2026: 金额超出支持范围" in result.stderr


# ---- --explain --------------------------------------------------------------------------------------------------


def test_explain_adds_one_key_per_json_row_and_changes_nothing_else(
    shipped: dict[str, Any], explained: dict[str, Any]
) -> None:
    doc = explained
    assert doc["policy"] == shipped["policy"]
    assert doc["totals"] == shipped["totals"]
    assert len(doc["results"]) == len(shipped["results"])
    for plain, explained in zip(shipped["results"], doc["results"], strict=True):
        assert list(explained) == [*ROW_KEYS, "explanation"]
        assert isinstance(explained["explanation"], str) and explained["explanation"]
        assert "\n" not in explained["explanation"]
        assert {k: v for k, v in explained.items() if k != "explanation"} == plain
    rows = by_key(doc)
    # The one-line account carries the numbers: the binding cap, the exact comparison, the rounding.
    assert "上限生效 cap binds" in rows[("91310230MA1K0A1B2C", 2027, "2.4.a")]["explanation"]
    assert "1.251 > 1.25" in rows[("91310230MA1K0A1B2C", 2027, "2.4.b")]["explanation"]
    assert "向下取整 rounded down" in rows[("91310230MA1K0L1M2N", 2026, "2.1.a")]["explanation"]


def test_explain_adds_a_csv_column_and_changes_nothing_else() -> None:
    plain = list(
        csv.reader(io.StringIO(fuchi("evaluate", CITY, COMPANIES, "--format", "csv", "--workers", "0").stdout))
    )
    out = fuchi("evaluate", CITY, COMPANIES, "--format", "csv", "--workers", "0", "--explain").stdout
    explained = list(csv.reader(io.StringIO(out)))
    assert explained[0] == [*ROW_KEYS, "explanation"]
    assert len(explained) == len(plain)
    for a, b in zip(plain, explained, strict=True):
        assert b[:-1] == a
    assert all(line[-1] for line in explained[1:])


def test_explain_adds_a_table_column() -> None:
    out = fuchi("evaluate", CITY, COMPANIES, "--workers", "0", "--explain", "--item", "2.4.a").stdout
    assert "解释" in out and "Explanation" in out
    assert "I1.amount" in out


def test_explain_one_liner_names_the_deciding_rule_for_precedence_statuses(explained: dict[str, Any]) -> None:
    doc = explained
    deciding = {"disqualified": "E2.fraud", "excluded": "E3.market", "out_of_period": "T1.out_of_period"}
    wrong = []
    for r in doc["results"]:
        rule = deciding.get(r["status"])
        if r["status"] == "not_eligible" and "eligibility gate" in r["reason"]:
            rule = "1.gate."  # the gate condition that failed (E1.gate only maps it to its stage)
        if r["status"] == "superseded":
            rule = "P2.superseded"
        if rule is None:
            continue
        if not r["explanation"].startswith(rule):
            wrong.append(f"{r['company']} {r['year']} {r['item']} {r['status']}: {r['explanation']}")
    assert wrong == []


# ---- end to end in a subprocess ---------------------------------------------------------------------------------


def fuchi_command() -> list[str]:
    """The installed console script next to this interpreter, else the same entry point via ``-c``."""
    script = Path(sys.executable).parent / "fuchi"
    if script.exists():
        return [str(script)]
    found = shutil.which("fuchi")
    if found:
        return [found]
    return [sys.executable, "-c", "from fuchi.cli import main; main()"]


def run_fuchi(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[bytes]:
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES", "FORCE_COLOR", "NO_COLOR")}
    return subprocess.run([*fuchi_command(), *args], cwd=cwd, capture_output=True, env=env, timeout=900, check=False)


def test_subprocess_json_equals_in_process(shipped: dict[str, Any]) -> None:
    proc = run_fuchi("evaluate", CITY, COMPANIES, "--format", "json")
    assert proc.returncode == 0, proc.stderr.decode()
    assert proc.stderr == b""
    assert json.loads(proc.stdout) == shipped


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (("evaluate", CITY, "no-such-file.yaml", "--format", "json"), 1),
        (("evaluate", CITY, COMPANIES, "--item", "9.9"), 2),
        (("explain", "NOBODY", CITY, COMPANIES), 1),
        (("explain", "91310230MA1K0A1B2C", "9.9", CITY, COMPANIES), 2),
    ],
)
def test_subprocess_errors_print_nothing_on_stdout(args: tuple[str, ...], code: int) -> None:
    proc = run_fuchi(*args)
    assert proc.returncode == code
    assert proc.stdout == b""
    err = proc.stderr.decode("utf-8")
    assert err.strip()
    assert "Traceback" not in err


def test_subprocess_bad_value_message(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text("companies:\n  - id: X1\n    revenue: {2026: -5}\n", encoding="utf-8")
    proc = run_fuchi("evaluate", "bad.yaml", cwd=tmp_path)
    assert proc.returncode == 1
    assert proc.stdout == b""
    assert proc.stderr.decode("utf-8") == (
        f"错误 error: bad.yaml: 企业 enterprise 'X1': 字段 field revenue.2026: {MONEY}, got -5\n"
    )


@pytest.mark.parametrize(
    ("name", "text", "stderr"),
    [
        (
            "bad.jsonl",
            '{"id": "E0"}\n{"id": "E1", "revenue": {"2026": -5}}\n',
            f"错误 error: bad.jsonl:2: 企业 enterprise 'E1': 字段 field revenue.2026: {MONEY}, got -5\n",
        ),
        (
            "max.yaml",
            json.dumps({"companies": [ABOVE_MAX]}),
            "错误 error: max.yaml: 企业 enterprise 'E1': 字段 field assessments[0].amount: 核定金额 3,000,001 元 "
            "超过本条上限 3,000,000 元 / expected an approved amount of at most 3,000,000 元, got 3,000,001 元\n",
        ),
    ],
)
def test_subprocess_input_error_found_in_a_worker(tmp_path: Path, name: str, text: str, stderr: str) -> None:
    (tmp_path / name).write_text(text, encoding="utf-8")
    proc = run_fuchi("evaluate", name, "--workers", "2", cwd=tmp_path)
    assert proc.returncode == 1
    assert proc.stdout == b""
    assert proc.stderr.decode("utf-8") == stderr


# A small seeded generator: every enterprise carries only contract fields, values around the thresholds.
KEY_FIELDS = ("ai", "metaverse", "software_algorithms", "computing_center", "blockchain")
PROGRAMS = (
    "industry_quality_fund",
    "digital_transformation_fund",
    "compute_voucher",
    "model_voucher",
    "corpus_voucher",
)
LISTS = ("national_key_software", "sh_top100", "sh_high_growth_top100")
DECIMAL = "dec:"  # marks a decimal written as a JSON number by write_generated


def _money(rng: random.Random, low: int, high: int) -> int | str:
    fen = rng.randint(low * 100, high * 100)
    return fen // 100 if rng.random() < 0.7 else f"{DECIMAL}{fen // 100}.{fen % 100:02d}"


def generate(n: int, seed: int) -> Iterator[dict[str, Any]]:
    rng = random.Random(seed)
    for i in range(n):
        co: dict[str, Any] = {"id": f"GEN{i:05d}", "name": f"生成企业 {i}"}
        co["registered_in"] = "chongming" if rng.random() < 0.9 else rng.choice(["pudong", "minhang"])
        co["industry_code"] = rng.choice(["6511", "6513", "6520", "6550", "6572", "6410"])
        for flag in ("sound_finance", "good_credit", "fits_direction"):
            co[flag] = rng.random() < 0.96
        if rng.random() < 0.02:
            co["fraud"] = True
        if rng.random() < 0.02:
            co["market_violation"] = True
        if rng.random() < 0.3:
            co["key_enterprise"] = True
            co["key_fields"] = rng.sample(KEY_FIELDS, rng.randint(1, 2))
        level = rng.choice([15_000_000, 80_000_000, 250_000_000, 450_000_000, 900_000_000, 1_800_000_000])
        years = sorted(rng.sample([2024, 2025, 2026, 2027], rng.randint(1, 4)))
        revenue: dict[str, Any] = {}
        for y in years:
            revenue[str(y)] = _money(rng, level, level + level // 3)
            level = int(level * rng.uniform(0.9, 1.6))
        co["revenue"] = revenue
        if rng.random() < 0.4:
            co["rd_spend"] = {str(rng.choice(years)): _money(rng, 100_000, 40_000_000)}
        support = []
        for _ in range(rng.randint(0, 3)):
            rec: dict[str, Any] = {"year": rng.choice([2025, 2026, 2027]), "program": rng.choice(PROGRAMS)}
            rec["amount"] = _money(rng, 1, 6_000_000)
            if rec["program"] == "corpus_voucher":
                rec["related_party"] = rng.random() < 0.2
            support.append(rec)
        co["city_support"] = support
        if rng.random() < 0.2:
            co["honours"] = [{"year": rng.choice([2025, 2026, 2027]), "list": rng.choice(LISTS)}]
        if rng.random() < 0.15:
            co["compute_projects"] = [
                {
                    "id": "dc-1",
                    "year": rng.choice([2026, 2027]),
                    "kind": rng.choice(["new", "expansion"]),
                    "pflops": rng.choice([1999, 2000, 2500]),
                    "pue": DECIMAL + rng.choice(["1.2", "1.25", "1.251"]),
                    "cost": _money(rng, 1_000_000, 300_000_000),
                }
            ]
        if rng.random() < 0.15:
            co["llm_filings"] = [{"year": rng.choice([2026, 2027])}]
        if rng.random() < 0.1:
            co["ic_purchases"] = [{"id": "c1", "year": 2026, "kind": "eda", "amount": _money(rng, 1, 40_000_000)}]
        if rng.random() < 0.1:
            co["own_ip"] = [{"id": "ip1", "year": 2027, "first_batch_amount": _money(rng, 1, 20_000_000)}]
        if rng.random() < 0.25:
            co["events"] = [
                {"id": f"ev{k}", "year": rng.choice([2026, 2027]), "kind": "forum", "cost": _money(rng, 1, 1_500_000)}
                for k in range(rng.randint(1, 8))
            ]
        if rng.random() < 0.05:
            co["showcase_centres"] = [{"id": "sc", "year": 2026, "in_shanghai": True, "cost": 5_000_000}]
        if rng.random() < 0.1:
            co["prior_awards"] = [{"item": "2.2.a", "year": 2024}]
        if rng.random() < 0.1:
            co["other_support"] = [
                {"item": "2.9", "year": 2026, "policy": "其他办法", "amount": _money(rng, 1, 900_000)}
            ]
        if any(e["year"] == 2027 for e in co.get("events", [])) and rng.random() < 0.3:
            co["assessments"] = [{"item": "2.9", "year": 2027, "decision": "rejected"}]
        yield co


def write_generated(path: Path, n: int, seed: int) -> None:
    with path.open("w", encoding="utf-8") as fh:
        for co in generate(n, seed):
            text = json.dumps(co, ensure_ascii=False)
            # Decimal money and PUE as JSON numbers, not strings (exact decimals in the file).
            text = re.sub(rf'"{DECIMAL}(\d+\.\d+)"', r"\1", text)
            fh.write(text + "\n")


def test_output_is_the_same_for_any_number_of_workers(tmp_path: Path) -> None:
    """~3000 enterprises (two batches): default workers, --workers 0 and --workers 1 give the same bytes."""
    write_generated(tmp_path / "gen.jsonl", 3000, seed=20260101)
    city = str(ROOT / CITY)
    outputs = {}
    for label, extra in (("default", ()), ("0", ("--workers", "0")), ("1", ("--workers", "1"))):
        proc = run_fuchi("evaluate", city, "gen.jsonl", "--format", "json", *extra, cwd=tmp_path)
        assert proc.returncode == 0, proc.stderr.decode("utf-8")[-2000:]
        assert "Traceback" not in proc.stderr.decode("utf-8")
        outputs[label] = proc.stdout
    assert outputs["default"] == outputs["0"] == outputs["1"]
    doc = json.loads(outputs["default"])
    assert doc["totals"]["companies"] == 3000
    companies = [r["company"] for r in doc["results"]]
    assert companies == sorted(companies)  # input order (the ids are zero-padded)
    assert len({r["status"] for r in doc["results"]}) >= 8
    assert_totals(doc, companies=3000)


# ---- every warning kept (JSON "warnings", --warnings FILE) -----------------------------------------------------

NO_EFFECT = "assessments[0].decision: 2026 年度 2.9 不处于待评估状态，评估记录不生效"


def _no_effect_companies(n: int) -> list[dict[str, Any]]:
    """``n`` enterprises whose rejected assessment has no effect: one warning each."""
    return [
        {"id": f"W{k:02d}", **GATE_OK, "assessments": [{"item": "2.9", "year": 2026, "decision": "rejected"}]}
        for k in range(n)
    ]


def test_every_warning_in_json_and_in_the_warnings_file(tmp_path: Path) -> None:
    path = write_yaml_doc(tmp_path / "w.yaml", _no_effect_companies(25))
    out = tmp_path / "warnings.txt"
    result = fuchi("evaluate", path, "--workers", "0", "--format", "json", "--warnings", str(out))
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert list(doc) == ["policy", "results", "totals", "warnings"]
    assert len(doc["warnings"]) == 25
    assert [w.split("'")[1] for w in doc["warnings"]] == [f"W{k:02d}" for k in range(25)]
    assert all(NO_EFFECT in w for w in doc["warnings"])
    lines = out.read_text(encoding="utf-8").splitlines()
    assert lines == doc["warnings"]
    # the terminal keeps its short summary, naming the file
    shown = result.stderr.splitlines()
    assert len(shown) == 21
    assert shown[-1] == f"警告 warning: ……另有 5 条警告 and 5 more warnings，见 see {out}"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary file left


def test_no_warnings_is_an_empty_list_and_an_empty_file(tmp_path: Path, shipped: dict[str, Any]) -> None:
    assert shipped["warnings"] == []
    out = tmp_path / "w.txt"
    out.write_text("old\n", encoding="utf-8")
    result = fuchi("evaluate", CITY, COMPANIES, "--workers", "0", "--format", "json", "--warnings", str(out))
    assert result.exit_code == 0, result.stderr
    assert out.read_bytes() == b""


def test_warnings_file_that_cannot_be_written(tmp_path: Path) -> None:
    path = write_yaml_doc(tmp_path / "w.yaml", _no_effect_companies(1))
    result = fuchi("evaluate", path, "--workers", "0", "--warnings", str(tmp_path / "missing" / "w.txt"))
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.startswith(f"错误 error: {tmp_path / 'missing' / 'w.txt'}: 无法写入输出文件 cannot write")


def test_an_output_never_replaces_an_input_or_another_output(tmp_path: Path) -> None:
    """--output / --warnings / --record naming an input file (or each other) is a usage error, exit 2, and
    the file is left as it was (a new-user review found the input silently overwritten, exit 0)."""
    import shutil

    from click.testing import CliRunner

    from fuchi.cli import main

    root = Path(__file__).resolve().parents[1]
    for name in ("city.yaml", "companies.yaml"):
        shutil.copy(root / "facts" / name, tmp_path / name)
    data = [str(tmp_path / "city.yaml"), str(tmp_path / "companies.yaml")]
    before = (tmp_path / "companies.yaml").read_bytes()
    out = str(tmp_path / "o.json")
    for args in (
        ["evaluate", *data, "--output", data[1]],
        ["evaluate", *data, "--warnings", data[1]],
        ["evaluate", *data, "--record", data[0]],
        ["evaluate", *data, "--format", "json", "--output", out, "--warnings", out],
        ["diff", *data, "--format", "html", "--output", data[1]],
        ["budget", *data, "--output", data[1]],
        ["sweep", "growth_factor=1.2,1.5", *data, "--warnings", data[1]],
    ):
        r = CliRunner().invoke(main, args)
        assert r.exit_code == 2, (args, r.output)
        assert "是同一文件 / is the same file as" in r.output, args
        assert (tmp_path / "companies.yaml").read_bytes() == before
        assert not Path(out).exists()


@pytest.mark.parametrize(
    "args",
    [
        ["evaluate", "facts/city.yaml", "facts/companies.yaml"],
        ["evaluate", "facts/city.yaml", "facts/companies.yaml", "--engine", "sql"],
        ["explain", "91310230MA1K0A1B2C", "facts/city.yaml", "facts/companies.yaml"],
        ["compile"],
        ["test", "--engine", "sql"],
    ],
    ids=["auto", "sql", "explain", "compile", "test-sql"],
)
def test_a_rule_that_does_not_parse_is_one_located_error(tmp_path: Path, args: list[str]) -> None:
    """A syntax error: one bilingual error at file:line, no raw clingo log line, no 'using clingo' notice
    (a review found all three, and ``explain`` reporting an internal error)."""
    from policy_copy import copy_policy

    policy = copy_policy(tmp_path)
    rules = policy / "rules" / "20-items.lp"
    line = rules.read_text(encoding="utf-8").count("\n") + 1
    with rules.open("a", encoding="utf-8") as fh:
        fh.write("foo(X :- bar(X).\n")
    result = run_fuchi(*args, "--policy", str(policy))
    err = result.stderr.decode()
    assert result.returncode == 1, err
    assert result.stdout == b""
    assert err.splitlines() == [
        f"错误 error: {rules}:{line}: 政策错误 policy error: 规则无法解析 the rule does not parse: "
        "syntax error, unexpected :-, expecting ) or ;"
    ]


@pytest.mark.parametrize("engine", ["clingo", "sql", "auto"])
def test_a_predicate_typo_is_refused_by_every_engine(tmp_path: Path, engine: str) -> None:
    """A body atom no rule derives and no input declares (``honuor``): the rule would silently never fire,
    so every engine refuses the policy at the rule's file:line, as ``check`` does (not exit 0 with 2.1.b gone)."""
    from policy_copy import copy_policy, replace_once

    policy = copy_policy(tmp_path)
    rules = policy / "rules" / "20-items.lp"
    replace_once(
        rules, 'touched(C, Y, "2.1.b") :- honour(C, _, Y, _).', 'touched(C, Y, "2.1.b") :- honuor(C, _, Y, _).'
    )
    line = rules.read_text(encoding="utf-8").splitlines().index('touched(C, Y, "2.1.b") :- honuor(C, _, Y, _).') + 1
    r = CliRunner().invoke(
        main,
        [
            "evaluate",
            str(ROOT / CITY),
            str(ROOT / COMPANIES),
            "--policy",
            str(policy),
            "--engine",
            engine,
            "--format",
            "csv",
        ],
    )
    assert r.exit_code == 1, r.output
    assert r.stdout == ""
    assert f"{rules}:{line}: " in r.stderr and "undefined predicate" in r.stderr and "honuor/4" in r.stderr
    if engine == "sql":
        c = CliRunner().invoke(main, ["compile", "--policy", str(policy)])
        assert c.exit_code == 1 and c.stdout == "" and "honuor/4" in c.stderr


def test_rules_touching_an_undeclared_item_are_refused(tmp_path: Path) -> None:
    """An item policy.yaml does not declare has no clause text, label or order: a policy error, both engines."""
    from policy_copy import copy_policy, replace_once

    policy = copy_policy(tmp_path)
    replace_once(policy / "rules" / "29-events.lp", 'touched(C, Y, "2.9") :- event', 'touched(C, Y, "2.99") :- event')
    for engine in ("clingo", "sql"):
        r = CliRunner().invoke(
            main, ["evaluate", str(ROOT / CITY), str(ROOT / COMPANIES), "--policy", str(policy), "--engine", engine]
        )
        assert r.exit_code == 1, r.output
        assert r.stdout == ""
        assert "'2.99'" in r.stderr and "policy.yaml" in r.stderr


@pytest.mark.parametrize(
    ("args", "start"),
    [
        (["evaluate", "--nope"], "没有此选项 / No such option '--nope'"),
        (["evaluate"], "缺少参数 / Missing argument 'FILES...'"),
        (["evaluate", "facts/city.yaml", "--format", "pdf"], "取值无效 / Invalid value for '--format'"),
        (["evaluate", "facts/city.yaml", "--year"], "选项用法有误 / Option '--year' requires an argument"),
        (["no-such-command"], "没有此命令 / No such command 'no-such-command'"),
    ],
)
def test_click_usage_errors_read_in_chinese_and_english(args: list[str], start: str) -> None:
    r = CliRunner().invoke(main, args)
    assert r.exit_code == 2
    assert f"Error: {start}" in r.stderr


@pytest.mark.parametrize("bad", ["--output", "--warnings", "--record"])
def test_no_output_is_written_when_another_cannot_be(tmp_path: Path, bad: str) -> None:
    """--record R --warnings W --output O where one of them lies in a missing directory: exit 1 before the
    run, and none of the others is written (the record and warnings were left behind)."""
    paths = {"--output": tmp_path / "o.csv", "--warnings": tmp_path / "w.txt", "--record": tmp_path / "r.json"}
    paths[bad] = tmp_path / "missing" / paths[bad].name
    args = [str(ROOT / CITY), str(ROOT / COMPANIES), "--format", "csv"]
    for option, path in paths.items():
        args += [option, str(path)]
    r = CliRunner().invoke(main, ["evaluate", *args])
    assert r.exit_code == 1, r.output
    assert r.stdout == ""
    assert f"{paths[bad]}: 无法写入输出文件 cannot write the output file: 目录不存在" in r.stderr
    assert list(tmp_path.iterdir()) == []


def test_a_filter_that_keeps_no_row_is_warned_about() -> None:
    """--company NOPE was warned about; --year 1800 or an item without rows gave nothing, silently."""
    r = CliRunner().invoke(
        main, ["evaluate", str(ROOT / CITY), str(ROOT / COMPANIES), "--year", "1800", "--year", "2026", "--item", "2.9"]
    )
    assert r.exit_code == 0
    assert "--year 1800: 没有该年度的结果 / no row of this data year" in r.stderr
    assert "--year 2026" not in r.stderr and "--item 2.9" not in r.stderr
    r = CliRunner().invoke(
        main, ["evaluate", str(ROOT / CITY), str(ROOT / COMPANIES), "--year", "2024", "--item", "2.9"]
    )
    assert "--item 2.9: 没有该条款的结果 / no row of this item (with the other filters)" in r.stderr

"""Excel workbooks: ``evaluate --format xlsx --output`` (sheets, types, formatting, determinism, no half files)
and ``--output`` for the text formats. Workbooks are read back with openpyxl (a dev dependency).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import yaml
from click.testing import CliRunner, Result

from fuchi.cli import main

ROOT = Path(__file__).resolve().parents[1]
CITY = "facts/city.yaml"
COMPANIES = "facts/companies.yaml"
GATE_OK = {
    "registered_in": "chongming",
    "industry_code": "6513",
    "sound_finance": True,
    "good_credit": True,
    "fits_direction": True,
}
SHEETS = ["结果 Results", "合计 Totals", "警告 Warnings", "标记 Flags", "说明 About"]


@pytest.fixture(autouse=True)
def _in_repo(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)


def fuchi(*args: str) -> Result:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    assert "Traceback" not in result.stderr
    return result


def evaluate(*args: str) -> Result:
    return fuchi("evaluate", *args, "--workers", "0")


def rows_of(ws: Any) -> list[tuple[Any, ...]]:
    return [tuple(r) for r in ws.iter_rows(min_row=2, values_only=True)]


@pytest.fixture(scope="module")
def shipped(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], Path]:
    """The JSON output and the workbook for the shipped example data."""
    out = tmp_path_factory.mktemp("xlsx") / "results.xlsx"
    runner = CliRunner()
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(ROOT)
        args = ["evaluate", CITY, COMPANIES, "--workers", "0", "--format"]
        doc = json.loads(runner.invoke(main, [*args, "json"]).stdout)
        result = runner.invoke(main, [*args, "xlsx", "-o", str(out)])
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""
    return doc, out


def test_workbook_sheets_and_result_rows(shipped: tuple[dict[str, Any], Path]) -> None:
    doc, path = shipped
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == SHEETS
    ws = wb["结果 Results"]
    header = [c.value for c in ws[1]]
    assert [h.split("\n") for h in header[:8]] == [
        ["企业", "Enterprise"],
        ["企业名称", "Name"],
        ["年度", "Year"],
        ["条款", "Item"],
        ["状态", "Status"],
        ["金额（元）", "Amount (CNY)"],
        ["兑付年度", "Payable year"],
        ["理由", "Reason"],
    ]
    rows = rows_of(ws)
    assert len(rows) == len(doc["results"]) > 0
    for cells, r in zip(rows, doc["results"], strict=True):
        company, name, year, item, status, amount, payable, zh, en = cells
        assert (company, year, item, amount, payable) == (
            r["company"], r["year"], r["item"], r["amount"], r["payable_year"]
        )  # fmt: skip
        assert status.endswith(" " + r["status"]) and not status.startswith(r["status"])  # 中文 code
        assert f"{zh} / {en}" == r["reason"]
        assert name  # the shipped enterprises all have names
    assert ("91310230MA1K0A1B2C", "上海瀛洲智算科技有限公司") in {(c[0], c[1]) for c in rows}


def test_workbook_types_and_formatting(shipped: tuple[dict[str, Any], Path]) -> None:
    _, path = shipped
    ws = openpyxl.load_workbook(path)["结果 Results"]
    assert ws.freeze_panes == "A2"
    assert ws.auto_filter.ref == f"A1:I{ws.max_row}"
    items = {ws.cell(r, 4).value: ws.cell(r, 4) for r in range(2, ws.max_row + 1)}
    assert items["2.10"].data_type == "s"  # not the number 2.1
    assert items["2.10"].number_format == "@"
    for r in range(2, ws.max_row + 1):
        amount = ws.cell(r, 6)
        assert amount.data_type == "n" and amount.number_format == "#,##0"
        assert ws.cell(r, 1).data_type == "s"
    widths = ws.column_dimensions
    assert widths["A"].width > len("91310230MA1K0A1B2C")  # wide enough for an id
    assert widths["H"].width <= 61  # long reasons capped


def test_workbook_totals_flags_about(shipped: tuple[dict[str, Any], Path]) -> None:
    doc, path = shipped
    wb = openpyxl.load_workbook(path)
    totals = rows_of(wb["合计 Totals"])
    table = [t for t in totals if t[0] not in (None, "总计 Total")]
    by_item: dict[str, dict[str, int]] = {}
    rows = 0
    for item, payable, status, count, amount in table:
        code = status.split(" ")[-1]
        rows += count
        if code in ("granted", "pending_assessment"):
            assert payable is not None
            by_item.setdefault(item, {"granted": 0, "pending_assessment": 0})[code] += amount
    assert rows == doc["totals"]["rows"]
    assert by_item == doc["totals"]["by_item"]
    sums = {t[2].split(" ")[-1]: t[4] for t in totals if t[0] == "总计 Total"}
    assert sums == doc["totals"]["amount"]
    flags = rows_of(wb["标记 Flags"])
    assert [(f[0], f[3]) for f in flags] == [(i, k) for k, ids in doc["totals"]["flags"].items() for i in ids]
    about = dict((k, v) for k, v in rows_of(wb["说明 About"]))
    assert about["摘要 Digest"] == doc["policy"]["digest"]
    assert about["评估企业数 Enterprises evaluated"] == doc["totals"]["companies"]


def test_workbook_is_byte_identical(tmp_path: Path, shipped: tuple[dict[str, Any], Path]) -> None:
    _, first = shipped
    again = tmp_path / "again.xlsx"
    assert evaluate(CITY, COMPANIES, "--format", "xlsx", "--output", str(again)).exit_code == 0
    assert again.read_bytes() == first.read_bytes()
    assert openpyxl.load_workbook(again).properties.created.year == 2025


def test_warnings_sheet_has_every_warning(tmp_path: Path) -> None:
    companies = [
        {"id": f"W{k:02d}", **GATE_OK, "assessments": [{"item": "2.9", "year": 2026, "decision": "rejected"}]}
        for k in range(25)
    ]
    data = tmp_path / "w.yaml"
    data.write_text(json.dumps({"companies": companies}, ensure_ascii=False), encoding="utf-8")
    out = tmp_path / "w.xlsx"
    result = evaluate(str(data), "--format", "xlsx", "-o", str(out))
    assert result.exit_code == 0, result.stderr
    doc = json.loads(evaluate(str(data), "--format", "json").stdout)
    warnings = rows_of(openpyxl.load_workbook(out)["警告 Warnings"])
    assert warnings == [(n, w) for n, w in enumerate(doc["warnings"], 1)]
    assert len(warnings) == 25


def test_texts_stay_texts(tmp_path: Path) -> None:
    doc = yaml.safe_load((ROOT / COMPANIES).read_text(encoding="utf-8"))
    co = {**doc["companies"][0], "id": "=1+1", "name": '=HYPERLINK("http://x","y")'}
    data = tmp_path / "f.yaml"
    data.write_text(json.dumps({"companies": [co]}, ensure_ascii=False, default=str), encoding="utf-8")
    out = tmp_path / "f.xlsx"
    result = evaluate(CITY, str(data), "--format", "xlsx", "-o", str(out))
    assert result.exit_code == 0, result.stderr
    ws = openpyxl.load_workbook(out)["结果 Results"]
    assert ws.max_row > 1
    for r in range(2, ws.max_row + 1):
        assert (ws.cell(r, 1).value, ws.cell(r, 1).data_type) == ("=1+1", "s")
        assert ws.cell(r, 2).value == co["name"] and ws.cell(r, 2).data_type == "s"


def test_xlsx_needs_output() -> None:
    result = evaluate(CITY, COMPANIES, "--format", "xlsx")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert "--output" in result.stderr


@pytest.mark.parametrize("fmt", ["json", "csv", "table"])
def test_output_file_equals_stdout(tmp_path: Path, fmt: str) -> None:
    out = tmp_path / f"r.{fmt}"
    to_file = evaluate(CITY, COMPANIES, "--format", fmt, "--output", str(out))
    assert to_file.exit_code == 0, to_file.stderr
    assert to_file.stdout == ""
    to_stdout = evaluate(CITY, COMPANIES, "--format", fmt)
    assert out.read_bytes() == to_stdout.stdout_bytes
    assert "\x1b" not in out.read_text(encoding="utf-8")


@pytest.mark.parametrize("fmt", ["xlsx", "json"])
def test_nothing_half_written_on_error(tmp_path: Path, fmt: str) -> None:
    out = tmp_path / f"r.{fmt}"
    out.write_bytes(b"previous results")
    bad = tmp_path / "bad.yaml"
    good = {"id": "G1", **GATE_OK}
    bad_co = {"id": "B1", **GATE_OK, "events": [{"kind": "x", "cost": -5}]}
    bad.write_text(json.dumps({"companies": [good, bad_co]}), encoding="utf-8")
    result = evaluate(str(bad), "--format", fmt, "--output", str(out))
    assert result.exit_code == 1
    assert result.stderr.startswith("错误 error: ")
    assert out.read_bytes() == b"previous results"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.yaml", f"r.{fmt}"]


def test_output_that_cannot_be_written(tmp_path: Path) -> None:
    target = tmp_path / "no" / "such" / "r.xlsx"
    result = evaluate(CITY, COMPANIES, "--format", "xlsx", "--output", str(target))
    assert result.exit_code == 1
    assert result.stderr.startswith(f"错误 error: {target}: 无法写入输出文件 cannot write the output file: ")
    assert not target.parent.exists()


@pytest.mark.parametrize(("fmt", "name"), [("xlsx", "r.csv"), ("xlsx", "r"), ("table", "r.xlsx"), ("json", "R.XLSX")])
def test_format_and_output_extension_must_agree(tmp_path: Path, fmt: str, name: str) -> None:
    """A workbook written to r.csv (or text to r.xlsx) is a usage error, exit 2, nothing written."""
    result = evaluate(CITY, COMPANIES, "--format", fmt, "--output", str(tmp_path / name))
    assert result.exit_code == 2
    assert "扩展名不符 / --format" in result.stderr
    assert list(tmp_path.iterdir()) == []

"""Reading a filled input workbook (``fuchi evaluate FILE.xlsx``): the same results as the YAML it was filled
from, and every mistake named by sheet and cell."""

from __future__ import annotations

import datetime
import json
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import yaml
from click.testing import CliRunner, Result

from fuchi.cli import main
from fuchi.inputs.workbook import layout
from fuchi.policy import default_policy_dir, load_policy

ROOT = Path(__file__).resolve().parents[1]


def fuchi(*args: str) -> Result:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    assert "Traceback" not in result.stderr
    return result


def fill(template: Path, doc: dict[str, Any], out: Path) -> Path:
    """Fill the template with a YAML document's data, as an officer would (cell by cell)."""
    schema = load_policy(default_policy_dir()).schema
    wb = openpyxl.load_workbook(template)
    for sheet in layout(schema):
        ws = wb[sheet.name]
        if sheet.shape == "city":
            years = sorted({y for c in sheet.columns[1:] for y in doc.get("city", {}).get(c.key[5:], {})})
            for y in years:
                ws.append([y] + [doc["city"].get(c.key[5:], {}).get(y) for c in sheet.columns[1:]])
            continue
        for co in doc["companies"]:
            if sheet.shape == "enterprise":
                ws.append([co.get(c.key) for c in sheet.columns])
            elif sheet.shape == "records":
                for rec in co.get(sheet.field.name, []):
                    ws.append([co["id"]] + [rec.get(c.field.name) for c in sheet.columns[1:]])
            elif sheet.shape == "list":
                for v in co.get(sheet.field.name, []):
                    ws.append([co["id"], v])
            else:
                for y, v in co.get(sheet.field.name, {}).items():
                    ws.append([co["id"], y, v])
    wb.save(out)
    return out


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("t") / "template.xlsx"
    assert fuchi("template", "-o", str(out)).exit_code == 0
    return out


def _shipped() -> dict[str, Any]:
    doc: dict[str, Any] = yaml.safe_load((ROOT / "facts/companies.yaml").read_text(encoding="utf-8"))
    doc["city"] = yaml.safe_load((ROOT / "facts/city.yaml").read_text(encoding="utf-8"))["city"]
    return doc


def results(*files: str) -> dict[str, Any]:
    r = fuchi("evaluate", *files, "--format", "json", "--workers", "0")
    assert r.exit_code == 0, r.stderr
    doc: dict[str, Any] = json.loads(r.stdout)
    return doc


def test_filled_workbook_gives_the_yaml_results(tmp_path: Path, template: Path) -> None:
    path = fill(template, _shipped(), tmp_path / "filled.xlsx")
    from_yaml = results(str(ROOT / "facts/city.yaml"), str(ROOT / "facts/companies.yaml"))
    from_xlsx = results(str(path))
    assert from_xlsx["results"] == from_yaml["results"]
    assert from_xlsx["totals"] == from_yaml["totals"]


def _one(template: Path, tmp_path: Path, edit: Any) -> Result:
    doc = _shipped()
    path = fill(template, doc, tmp_path / "bad.xlsx")
    wb = openpyxl.load_workbook(path)
    edit(wb)
    wb.save(path)
    return fuchi("evaluate", str(path), "--format", "json", "--workers", "0")


def _set(sheet: str, ref: str, value: object) -> Any:
    def edit(wb: Any) -> None:
        wb[sheet][ref] = value

    return edit


@pytest.mark.parametrize(
    ("sheet", "ref", "value", "expected"),
    [
        (
            "年度营业收入",
            "C5",
            "三百万",
            "年度营业收入!C5: 应为金额（数字） / expected an amount (a number), got '三百万'"[:60],
        ),
        ("年度营业收入", "B3", datetime.datetime(2026, 1, 1), "年度营业收入!B3: 年份（四位数字，不是日期）"),
        (
            "企业 Enterprises",
            "A4",
            None,
            "企业 Enterprises!A4: 缺少统一社会信用代码 / missing the unified",
        ),
        ("企业 Enterprises", "E2", "maybe", "企业 Enterprises!E2: 应为 TRUE 或 FALSE / expected TRUE or FALSE"),
        ("企业 Enterprises", "C2", "=A1", "企业 Enterprises!C2: 不接受公式"),
    ],
)
def test_bad_cell_is_named(tmp_path: Path, template: Path, sheet: str, ref: str, value: object, expected: str) -> None:
    result = _one(template, tmp_path, _set(sheet, ref, value))
    assert result.exit_code == 1
    assert result.stdout == ""
    cell, text = expected.split(": ", 1)
    assert f"字段 field {cell}" in result.stderr and text in result.stderr, result.stderr
    assert result.stderr.count("\n") == 1


@pytest.mark.parametrize(
    ("sheet", "ref", "value", "field"),
    [
        ("年度营业收入", "C5", "三百万", "年度营业收入!C5 revenue: 应为金额"),
        ("年度营业收入", "B3", datetime.datetime(2026, 1, 1), "年度营业收入!B3 revenue.year: 年份"),
        ("企业 Enterprises", "E2", "maybe", "企业 Enterprises!E2 "),
        ("年度营业收入", "C3", None, "年度营业收入!C3 revenue."),
    ],
)
def test_bad_cell_names_enterprise_and_field(
    tmp_path: Path, template: Path, sheet: str, ref: str, value: object, field: str
) -> None:
    """A cell's error names the enterprise of its row (column A) and the column's field, besides the cell."""
    path = fill(template, _shipped(), tmp_path / "ok.xlsx")
    ident = openpyxl.load_workbook(path)[sheet]["A" + ref[1:]].value
    assert isinstance(ident, str) and ident
    result = _one(template, tmp_path, _set(sheet, ref, value))
    assert result.exit_code == 1, result.stderr
    assert f"企业 enterprise {ident!r}: 字段 field {field}" in result.stderr, result.stderr


def test_loader_errors_name_the_cell(tmp_path: Path, template: Path) -> None:
    result = _one(template, tmp_path, _set("企业 Enterprises", "C2", "Chongming!"))
    assert result.exit_code == 1
    assert "企业 Enterprises!C2 registered_in" in result.stderr, result.stderr


def test_merged_cells_refused(tmp_path: Path, template: Path) -> None:
    result = _one(template, tmp_path, lambda wb: wb["企业 Enterprises"].merge_cells("B2:B3"))
    assert result.exit_code == 1
    assert "企业 Enterprises!B2:B3: 不支持合并单元格 / merged cells are not accepted" in result.stderr


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("old.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, "legacy .xls"),
        ("locked.xlsx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, "password-protected"),
        ("broken.xlsx", b"PK\x03\x04 not really a zip", "not a readable .xlsx workbook"),
    ],
)
def test_unreadable_workbooks_refused(tmp_path: Path, name: str, content: bytes, expected: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    result = fuchi("evaluate", str(path), "--workers", "0")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.startswith(f"错误 error: {path}: 文件 file: ")
    assert expected in result.stderr


# ---- the city sheet: a year's cell is located like any other ----------------------------------------------

CITY_SHEET = "城市数据 City"


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (_set(CITY_SHEET, "A3", None), f"{CITY_SHEET}!A3: 缺少年度 / missing the year"),
        (_set(CITY_SHEET, "A3", 1800), f"{CITY_SHEET}!A3: 应为 1900 至 2200 之间的年份 / expected a year from 1900"),
        (
            lambda wb: wb[CITY_SHEET].cell(3, 1, wb[CITY_SHEET]["A2"].value),
            f"{CITY_SHEET}!B3: ",
        ),
        (_set(CITY_SHEET, "A3", "2026年"), f"{CITY_SHEET}!A3: 应为年份（数字） / expected a year (a number)"),
    ],
)
def test_city_year_cells_are_named(tmp_path: Path, template: Path, edit: Any, expected: str) -> None:
    result = _one(template, tmp_path, edit)
    assert result.exit_code == 1
    assert expected in result.stderr, result.stderr
    assert result.stderr.count("\n") == 1


def test_city_figure_given_twice_names_both_cells(tmp_path: Path, template: Path) -> None:
    result = _one(template, tmp_path, lambda wb: wb[CITY_SHEET].cell(3, 1, wb[CITY_SHEET]["A2"].value))
    assert "重复，首次在 城市数据 City!B2 / " in result.stderr and "is given twice, first at 城市数据 City!B2" in (
        result.stderr
    ), result.stderr


# ---- streaming: big workbooks are read row by row -------------------------------------------------------


def test_workbooks_are_read_streaming(tmp_path: Path, template: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """openpyxl's read-only mode (one row at a time), closed afterwards; results as before."""
    opened: list[Any] = []
    real = openpyxl.load_workbook

    def spy(*args: Any, **kwargs: Any) -> Any:
        wb = real(*args, **kwargs)
        opened.append((kwargs, wb))
        return wb

    path = fill(template, _shipped(), tmp_path / "filled.xlsx")
    monkeypatch.setattr(openpyxl, "load_workbook", spy)
    streamed = results(str(path))
    assert opened and all(kw.get("read_only") is True and kw.get("data_only") is False for kw, _ in opened)
    assert all(wb._archive.fp is None for _, wb in opened)  # closed
    monkeypatch.undo()
    assert streamed["results"] == results(str(ROOT / "facts/city.yaml"), str(ROOT / "facts/companies.yaml"))["results"]


def test_a_wrong_sheet_dimension_loses_no_row(tmp_path: Path, template: Path) -> None:
    """Read-only mode trusts a sheet's ``<dimension>``; some writers get it wrong: every row is read anyway."""
    import re
    import zipfile

    path = fill(template, _shipped(), tmp_path / "filled.xlsx")
    wrong = tmp_path / "wrong.xlsx"
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(wrong, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename.startswith("xl/worksheets/sheet"):
                data, n = re.subn(rb'<dimension ref="[^"]*"', b'<dimension ref="A1"', data)
                assert n == 1
            dst.writestr(info, data)
    assert results(str(wrong))["results"] == results(str(path))["results"]


def test_merged_cells_are_found_in_any_sheet(tmp_path: Path, template: Path) -> None:
    result = _one(template, tmp_path, lambda wb: wb["活动（2.9）"].merge_cells("C7:D9"))
    assert result.exit_code == 1
    assert "活动（2.9）!C7:D9: 不支持合并单元格" in result.stderr, result.stderr


@pytest.mark.parametrize("workbook_first", [True, False])
def test_an_id_also_in_another_file_is_named_by_its_cell(tmp_path: Path, template: Path, workbook_first: bool) -> None:
    """The same enterprise in a workbook and a YAML file: the workbook side is its id cell, not companies[0]."""
    doc = _shipped()
    doc["companies"] = doc["companies"][:3]
    path = fill(template, doc, tmp_path / "w.xlsx")
    ident = doc["companies"][2]["id"]
    other = tmp_path / "c.yaml"
    other.write_text(yaml.safe_dump({"companies": [{"id": "X0"}, {"id": ident}]}), encoding="utf-8")
    files = [str(path), str(other)] if workbook_first else [str(other), str(path)]
    r = fuchi("evaluate", *files, "--format", "json", "--workers", "0")
    assert r.exit_code == 1 and r.stdout == ""
    cell = "企业 Enterprises!A4"
    if workbook_first:
        assert f"{other}: 企业 enterprise '{ident}': 字段 field companies[1]: " in r.stderr
        assert f"first given at {path} {cell}" in r.stderr
    else:
        assert f"{path}: 企业 enterprise '{ident}': 字段 field {cell}: " in r.stderr
        assert f"first given at {other} companies[1]" in r.stderr

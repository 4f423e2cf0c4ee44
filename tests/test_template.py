"""``fuchi template --output FILE.xlsx``: the blank input workbook made from the policy's declared inputs."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner, Result
from openpyxl.utils import get_column_letter

from fuchi.cli import main
from fuchi.inputs.workbook import ENTERPRISES, NOTES, VALUES, layout
from fuchi.policy import default_policy_dir, load_policy

ROOT = Path(__file__).resolve().parents[1]


def fuchi(*args: str) -> Result:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    assert "Traceback" not in result.stderr
    return result


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("template") / "inputs.xlsx"
    result = fuchi("template", "--output", str(out))
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""
    return out


def headers(ws: openpyxl.worksheet.worksheet.Worksheet) -> list[str]:
    return [c.value for c in ws[1]]


def test_one_sheet_per_record_kind_with_bilingual_headers(template: Path) -> None:
    schema = load_policy(default_policy_dir()).schema
    wb = openpyxl.load_workbook(template)
    names = wb.sheetnames
    assert names[0] == ENTERPRISES and names[-2:] == [NOTES, VALUES]
    assert wb[VALUES].sheet_state == "hidden"
    ident = f"{schema.id_label.zh}\n{schema.id_label.en}"
    scalars = [f for f in schema.fields if f.shape == "scalar"]
    assert headers(wb[ENTERPRISES]) == [ident] + [f"{f.label.zh}\n{f.label.en}" for f in scalars]
    records = [f for f in schema.fields if f.shape == "records"]
    assert records
    sheets = {s.field.name: s.name for s in layout(schema) if s.field is not None}
    for f in records:
        sheet = wb[sheets[f.name]]
        assert headers(sheet) == [ident] + [f"{r.label.zh}\n{r.label.en}" for r in f.records]
        assert sheet.freeze_panes == "A2"
    # a label's "/" and ":" cannot be in a sheet name: shown full-width
    assert sheets["city_support"] == "获得的市级资金／券（1：x 配套）"
    by_year = [f for f in schema.fields if f.shape == "by_year"]
    for f in by_year:
        assert headers(wb[f.label.zh[:31]]) == [ident, "年度\nyear", f"{f.label.zh}\n{f.label.en}"]
    assert [s.name for s in layout(schema)] == names[:-2]


def _list_validations(ws: openpyxl.worksheet.worksheet.Worksheet) -> dict[str, str]:
    """Column letter -> the list validation's source."""
    out = {}
    for dv in ws.data_validations.dataValidation:
        if dv.type == "list":
            out[str(dv.sqref).split(":")[0].rstrip("0123456789")] = dv.formula1
    return out


def _range_values(wb: openpyxl.Workbook, source: str) -> list[str]:
    sheet, cells = source.split("!")
    assert sheet.strip("'") == VALUES
    first, last = cells.replace("$", "").split(":")
    return [c.value for row in wb[VALUES][first:last] for c in row]


def test_drop_downs_for_enumerations_items_and_booleans(template: Path) -> None:
    policy = load_policy(default_policy_dir())
    wb = openpyxl.load_workbook(template)
    checked = set()
    for sheet in layout(policy.schema):
        ws = wb[sheet.name]
        lists = _list_validations(ws)
        for col, column in enumerate(sheet.columns, 1):
            letter = get_column_letter(col)
            if column.kind == "boolean":
                assert _range_values(wb, lists[letter]) == ["TRUE", "FALSE"]
            elif column.kind == "enumeration":
                assert column.field is not None
                assert _range_values(wb, lists[letter]) == list(column.field.values)
            elif column.kind == "item":
                assert _range_values(wb, lists[letter]) == list(policy.items)
            else:
                assert letter not in lists
                continue
            checked.add(column.kind)
    assert checked == {"boolean", "enumeration", "item"}
    ws = wb["年度营业收入"]
    years = [dv for dv in ws.data_validations.dataValidation if str(dv.sqref).startswith("B2")]
    assert years and (years[0].type, years[0].formula1, years[0].formula2) == ("whole", "1900", "2200")


def test_notes_list_every_column(template: Path) -> None:
    schema = load_policy(default_policy_dir()).schema
    ws = openpyxl.load_workbook(template)[NOTES]
    rows = [r for r in ws.iter_rows(values_only=True)]
    start = next(n for n, r in enumerate(rows) if r[0] == "工作表\nSheet")
    listed = [(r[0], r[1], r[2]) for r in rows[start + 1 :]]
    expected = [(s.name, get_column_letter(n), c.key) for s in layout(schema) for n, c in enumerate(s.columns, 1)]
    assert listed == expected
    assert ("企业 Enterprises", "A", "id") in listed
    assert any(key == "honours[].year" for _, _, key in listed)


def test_text_columns_stay_text(template: Path) -> None:
    wb = openpyxl.load_workbook(template)
    ws = wb[ENTERPRISES]
    # the id and the industry code (a text of digits) are formatted as text for what an officer types
    assert ws.column_dimensions["A"].number_format == "@"
    assert ws.column_dimensions["D"].number_format == "@"


def test_template_is_byte_identical(tmp_path: Path, template: Path) -> None:
    again = tmp_path / "again.xlsx"
    assert fuchi("template", "-o", str(again)).exit_code == 0
    assert again.read_bytes() == template.read_bytes()


def test_template_of_another_policy(tmp_path: Path) -> None:
    policy_dir = tmp_path / "p"
    assert fuchi("new-policy", str(policy_dir)).exit_code == 0
    out = tmp_path / "p.xlsx"
    result = fuchi("template", "--policy", str(policy_dir), "-o", str(out))
    assert result.exit_code == 0, result.stderr
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == [s.name for s in layout(load_policy(policy_dir).schema)] + [NOTES]
    assert wb.sheetnames[0] == ENTERPRISES


@pytest.mark.parametrize("args", [[], ["-o", "inputs.csv"]])
def test_template_usage(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: list[str]) -> None:
    monkeypatch.chdir(tmp_path)
    result = fuchi("template", *args)
    assert result.exit_code == 2
    assert list(tmp_path.iterdir()) == []

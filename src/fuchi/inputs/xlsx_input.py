"""Reading a filled input workbook (``.xlsx``, the layout of ``fuchi template``) as strictly as YAML or JSON.

Each cell is checked against its column's kind first, so a mistake is named by sheet and cell
(``年度营业收入!C5``): a text in an amount cell, a missing id, a year that Excel made a date. The values
then become the same document a YAML file gives and go through the same validation
(:func:`fuchi.inputs.loader.parse_company`), whose messages also name the cell. Formulas, merged cells, a
legacy ``.xls``, an encrypted (password-protected) or corrupt file are refused.

Read with openpyxl: it reports what a strict reader must see — formulas as formulas (not their cached
results), merged ranges, and which numbers are dates.
"""

from __future__ import annotations

import datetime
import zipfile
from decimal import Decimal
from pathlib import Path
from typing import Any

from ..errors import InputError
from .records import City, Company
from .schema import Schema
from .workbook import NOTES, VALUES, Column, Sheet, layout

_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # a legacy .xls, or an encrypted (password-protected) .xlsx


def _refuse(path: str, text: str) -> InputError:
    return InputError(path, None, "", text)


def _at(path: str, ref: str, text: str) -> InputError:
    """An error at a cell (``sheet!C5``) or a range of the workbook."""
    return InputError(path, None, ref, text)


def _open(path: str) -> Any:
    """The workbook (formulas kept as formulas), or a clear refusal."""
    import openpyxl

    p = Path(path)
    if p.suffix.lower() == ".xls":
        raise _refuse(path, "旧版 .xls 工作簿不受支持，请另存为 .xlsx / a legacy .xls workbook: save it as .xlsx")
    try:
        with p.open("rb") as fh:
            head = fh.read(8)
    except OSError:
        raise _refuse(path, "文件不存在或不可读 / file not found or not readable") from None
    if head == _OLE:
        raise _refuse(
            path,
            "工作簿已加密（设有密码）或为旧版 .xls，请取消密码并另存为 .xlsx / "
            "an encrypted (password-protected) or legacy .xls workbook: remove the password, save as .xlsx",
        )
    try:
        return openpyxl.load_workbook(path, data_only=False)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError, TypeError) as exc:
        raise _refuse(
            path, f"不是可读的 .xlsx 工作簿（文件损坏？） / not a readable .xlsx workbook (corrupt?): {exc}"
        ) from None


def read_workbook(path: str, schema: Schema) -> tuple[City | None, list[Company]]:
    """Read and validate a filled input workbook.

    Args:
        path: The ``.xlsx`` file.
        schema: The policy's declared inputs; they decide the sheets (:func:`fuchi.inputs.workbook.layout`).

    Returns:
        The city figures (None when the workbook has none) and the enterprises, in sheet order.

    Raises:
        InputError: A refused file, an unknown sheet or header, or a cell that does not hold what its
            column expects (named ``sheet!cell``).

    """
    from .loader import parse_city, parse_company

    city, companies, city_cells, cells = _document(path, schema)
    out = []
    for n, (ident, data) in enumerate(companies.items()):
        try:
            out.append(parse_company(data, path, n, None, schema))
        except InputError as exc:
            at = _cell_of(exc.field, cells[ident])
            raise InputError(exc.file, exc.company, f"{at} {exc.field}" if at else exc.field, exc.expected) from None
    parsed_city = None
    if city:
        try:
            parsed_city = parse_city(city, path, schema)
        except InputError as exc:
            at = _cell_of(exc.field.removeprefix("city."), city_cells)
            raise InputError(exc.file, None, f"{at} {exc.field}" if at else exc.field, exc.expected) from None
    return parsed_city, out


def workbook_document(path: str, schema: Schema) -> dict[str, Any]:
    """The data of a filled workbook as the data format's document (``city``, ``companies``), unvalidated.

    Each cell is checked for its column's kind (as :func:`read_workbook` does); validating the values is
    the loader's. For ``fuchi convert``.
    """
    city, companies, _, _ = _document(path, schema)
    doc: dict[str, Any] = {"city": city} if city else {}
    doc["companies"] = list(companies.values())
    return doc


def _document(
    path: str, schema: Schema
) -> tuple[dict[str, Any], dict[str, dict[str, Any]], dict[str, str], dict[str, dict[str, str]]]:
    """City figures, enterprises by id, and the cell of every value (city's; each enterprise's)."""
    wb = _open(path)
    sheets = {s.name: s for s in layout(schema)}
    for ws in wb.worksheets:
        if ws.title not in sheets and ws.title not in (NOTES, VALUES):
            expected = "、".join(sheets)
            raise _refuse(path, f"未知工作表 unknown sheet {ws.title!r}; 应为 expected one of: {expected}")
        if ws.merged_cells.ranges:
            first = sorted(str(r) for r in ws.merged_cells.ranges)[0]
            raise _at(path, f"{ws.title}!{first}", "不支持合并单元格 / merged cells are not accepted")
    companies: dict[str, dict[str, Any]] = {}
    cells: dict[str, dict[str, str]] = {}  # enterprise -> field path -> cell
    city: dict[str, Any] = {}
    city_cells: dict[str, str] = {}
    for sheet in sheets.values():
        if sheet.name not in wb.sheetnames:
            continue
        for _row_number, row in _rows(path, wb[sheet.name], sheet):
            if sheet.shape in ("city", "city_values"):
                _city_row(sheet, row, city, city_cells)
                continue
            ident, ident_cell = row[0]
            if ident is None:
                raise _at(path, ident_cell, f"缺少{schema.id_label.zh} / missing the {schema.id_label.en}")
            if sheet.shape == "enterprise":
                if ident in companies:
                    raise _at(path, ident_cell, f"企业 enterprise {ident!r} 重复 / appears twice")
                companies[ident] = {"id": ident}
                cells[ident] = {"id": ident_cell}
                for column, (value, cell) in zip(sheet.columns[1:], row[1:], strict=True):
                    if value is not None:
                        companies[ident][column.key] = value
                        cells[ident][column.key] = cell
                continue
            if ident not in companies:
                raise _at(
                    path,
                    ident_cell,
                    f"企业 enterprise {ident!r} 不在 is not in 企业 Enterprises（请先在该表登记 add it there）",
                )
            _detail_row(path, sheet, row, companies[ident], cells[ident])
    return city, companies, city_cells, cells


def _cell_of(field: str, cells: dict[str, str]) -> str | None:
    """The cell of a field path (``events[2].cost``, ``revenue.2026``), or of its closest parent."""
    path = field
    while path:
        if path in cells:
            return cells[path]
        cut = max(path.rfind("."), path.rfind("["))
        path = path[:cut] if cut > 0 else ""
    return None


def _rows(path: str, ws: Any, sheet: Sheet) -> list[tuple[int, list[tuple[Any, str]]]]:
    """The filled rows of a sheet, each cell converted for its column, after checking the header."""
    header = [c.value for c in next(ws.iter_rows(min_row=1, max_row=1), ())]
    for n, column in enumerate(sheet.columns):
        got = header[n] if n < len(header) else None
        if not isinstance(got, str) or got.split("\n")[0].strip() != column.label.zh:
            ref = f"{ws.title}!{_letter(n)}1"
            raise _at(path, ref, f"表头应为 expected the header {column.label.zh!r} ({column.label.en}), got {got!r}")
    extra = [v for v in header[len(sheet.columns) :] if v is not None]
    if extra:
        raise _at(path, f"{ws.title}!{_letter(len(sheet.columns))}1", f"多余的列 unexpected column {extra[0]!r}")
    out = []
    for cells in ws.iter_rows(min_row=2):
        if all(c.value is None or (isinstance(c.value, str) and not c.value.strip()) for c in cells):
            continue
        for c in cells[len(sheet.columns) :]:
            if c.value is not None:
                raise _at(path, f"{ws.title}!{c.coordinate}", "表头之外的数据 / a value outside the columns")
        row = []
        for column, c in zip(sheet.columns, cells, strict=False):
            ref = f"{ws.title}!{c.coordinate}"
            row.append((_value(path, ref, c, column), ref))
        while len(row) < len(sheet.columns):
            row.append((None, f"{ws.title}!{_letter(len(row))}{cells[0].row}"))
        out.append((cells[0].row, row))
    return out


def _letter(col: int) -> str:
    from openpyxl.utils import get_column_letter

    return str(get_column_letter(col + 1))


def _bad(path: str, ref: str, expected: str, value: object) -> InputError:
    return _at(path, ref, f"{expected}, got {value!r}")


def _value(path: str, ref: str, cell: Any, column: Column) -> Any:
    """A cell's value as the data format has it, or an error naming the cell."""
    value = cell.value
    if cell.data_type == "f" or (isinstance(value, str) and value.startswith("=") and cell.data_type == "f"):
        raise _at(path, ref, f"不接受公式，请填写数值 / a formula: enter the value itself, got {value!r}")
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    kind = column.kind
    if isinstance(value, datetime.datetime | datetime.date | datetime.time | datetime.timedelta):
        what = "年份（四位数字，不是日期）/ a year (four digits, not a date)" if kind == "year" else _EXPECTED[kind]
        raise _bad(path, ref, f"{what}; 单元格是日期 the cell is a date", value)
    if kind in ("money", "decimal", "integer", "year"):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise _bad(path, ref, _EXPECTED[kind], value)
        if isinstance(value, float):
            number = Decimal(repr(value))
            if kind in ("integer", "year"):
                if number != number.to_integral_value():
                    raise _bad(path, ref, _EXPECTED[kind], value)
                return int(number)
            return number
        return value
    if kind == "boolean":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().upper() in ("TRUE", "FALSE"):
            return value.strip().upper() == "TRUE"
        raise _bad(path, ref, _EXPECTED[kind], value)
    # texts: id, text, item, enumeration
    if isinstance(value, bool) or isinstance(value, float):
        raise _bad(path, ref, _EXPECTED[kind], value)
    if isinstance(value, int):
        if kind in ("item", "enumeration"):
            raise _bad(path, ref, _EXPECTED[kind], value)
        field = column.field
        return value if field is not None and field.integers else str(value)
    return str(value)


_EXPECTED = {
    "money": "应为金额（数字） / expected an amount (a number)",
    "decimal": "应为数字 / expected a number",
    "integer": "应为整数 / expected an integer",
    "year": "应为年份（数字） / expected a year (a number)",
    "boolean": "应为 TRUE 或 FALSE / expected TRUE or FALSE",
    "item": '应为文本格式的条款编号（如 "2.10"，数字会变成 2.1） / '
    "expected an item id as text (a number turns 2.10 into 2.1)",
    "enumeration": "应为下拉框中的取值 / expected one of the drop-down's values",
    "text": "应为文本 / expected a text",
    "id": "应为文本 / expected a text",
}


def _detail_row(
    path: str, sheet: Sheet, row: list[tuple[Any, str]], company: dict[str, Any], cells: dict[str, str]
) -> None:
    """Add one row of a records, list or by-year sheet to its enterprise."""
    field = sheet.field
    assert field is not None
    if sheet.shape == "records":
        records = company.setdefault(field.name, [])
        record = {}
        base = f"{field.name}[{len(records)}]"
        cells.setdefault(field.name, row[0][1])
        cells[base] = row[0][1]
        for column, (value, cell) in zip(sheet.columns[1:], row[1:], strict=True):
            assert column.field is not None
            cells[f"{base}.{column.field.name}"] = cell
            if value is not None:
                record[column.field.name] = value
        records.append(record)
    elif sheet.shape == "list":
        value, cell = row[1]
        if value is None:
            raise _at(path, cell, "缺少取值 / missing the value")
        values = company.setdefault(field.name, [])
        cells.setdefault(field.name, cell)
        cells[f"{field.name}[{len(values)}]"] = cell
        values.append(value)
    else:  # by_year
        (year, year_cell), (value, cell) = row[1], row[2]
        if year is None:
            raise _at(path, year_cell, "缺少年度 / missing the year")
        if value is None:
            raise _at(path, cell, "缺少数值 / missing the value")
        by_year = company.setdefault(field.name, {})
        if year in by_year:
            raise _at(path, year_cell, f"年度 {year} 重复 / the year {year} appears twice for this enterprise")
        cells.setdefault(field.name, cell)
        cells[f"{field.name}.{year}"] = cell
        by_year[year] = value


def _city_row(sheet: Sheet, row: list[tuple[Any, str]], city: dict[str, Any], cells: dict[str, str]) -> None:
    if sheet.shape == "city_values":
        for column, (value, cell) in zip(sheet.columns, row, strict=True):
            name = column.key.removeprefix("city.")
            cells[name] = cell
            if value is not None:
                city[name] = value
        return
    year, _ = row[0]
    for column, (value, cell) in zip(sheet.columns[1:], row[1:], strict=True):
        name = column.key.removeprefix("city.")
        if value is not None:
            city.setdefault(name, {})[year] = value
            cells.setdefault(name, cell)
            cells[f"{name}.{year}"] = cell

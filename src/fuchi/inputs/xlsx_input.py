"""Reading a filled input workbook (``.xlsx``, the layout of ``fuchi template``) as strictly as YAML or JSON.

Each cell is checked against its column's kind first, so a mistake is named by sheet and cell
(``年度营业收入!C5``): a text in an amount cell, a missing id, a year that Excel made a date. The values
then become the same document a YAML file gives and go through the same validation
(:func:`fuchi.inputs.loader.parse_company`), whose messages also name the cell. Formulas, merged cells, a
legacy ``.xls``, an encrypted (password-protected) or corrupt file are refused.

Read with openpyxl in read-only mode, which streams each sheet's XML row by row (a 100,000-row workbook
is read without a cell object per cell kept in memory): it reports what a strict reader must see —
formulas as formulas (not their cached results) and which numbers are dates. Merged ranges, which
read-only mode does not parse, are found by scanning the sheet's XML for ``<mergeCell>`` before any row
is read. (python-calamine reads faster but gives formulas' cached results, so a formula would pass for
a value.)
"""

from __future__ import annotations

import datetime
import re
import zipfile
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

from ..errors import InputError
from .records import MAX_YEAR, MIN_YEAR, City, Company
from .schema import Schema
from .workbook import NOTES, VALUES, Column, Sheet, layout

_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # a legacy .xls, or an encrypted (password-protected) .xlsx


def _refuse(path: str, text: str) -> InputError:
    return InputError(path, None, "", text)


def _at(path: str, ref: str, text: str) -> InputError:
    """An error at a cell (``sheet!C5``) or a range of the workbook."""
    return InputError(path, None, ref, text)


def _open(path: str) -> Any:
    """The workbook, read-only (streamed; formulas kept as formulas), or a clear refusal."""
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
        return openpyxl.load_workbook(path, read_only=True, data_only=False)
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

    city, companies, city_cells, _ = _document(path, schema)
    out: list[Company] = []
    for n, ident in enumerate(list(companies)):
        data = companies.pop(ident)  # (the raw values go as the enterprises are made)
        try:
            out.append(parse_company(data, path, n, None, schema))
        except InputError as exc:
            # The cells of one enterprise are found by reading the workbook again, for it alone: a
            # cell reference kept for every value of every enterprise would double the memory of a big file.
            _, _, _, cells = _document(path, schema, track=ident)
            at = _cell_of(exc.field, cells.get(ident, {}))
            raise InputError(exc.file, exc.company, f"{at} {exc.field}" if at else exc.field, exc.expected) from None
    parsed_city = None
    if city:
        try:
            parsed_city = parse_city(city, path, schema)
        except InputError as exc:
            at = _cell_of(exc.field.removeprefix("city."), city_cells)
            raise InputError(exc.file, None, f"{at} {exc.field}" if at else exc.field, exc.expected) from None
    return parsed_city, out


def id_cell(path: str, schema: Schema, ident: str) -> str | None:
    """The cell holding enterprise ``ident``'s id (``企业 Enterprises!A4``), for messages; None if absent.

    Reads the workbook again (only when a message needs it: cells are not kept for every enterprise).
    """
    try:
        _, _, _, cells = _document(path, schema, track=ident)
    except InputError:
        return None
    return cells.get(ident, {}).get("id")


def workbook_document(path: str, schema: Schema) -> dict[str, Any]:
    """The data of a filled workbook as the data format's document (``city``, ``companies``), unvalidated.

    Each cell is checked for its column's kind (as :func:`read_workbook` does); validating the values is
    the loader's. For ``fuchi convert``.
    """
    city, companies, _, _ = _document(path, schema)
    doc: dict[str, Any] = {"city": city} if city else {}
    doc["companies"] = list(companies.values())
    return doc


class _NoCells(dict[str, str]):
    """Where the cells of an enterprise not tracked go: nowhere."""

    def __setitem__(self, key: str, value: str) -> None:
        pass

    def setdefault(self, key: str, default: str = "", /) -> str:
        return default


def _document(
    path: str, schema: Schema, track: str | None = None
) -> tuple[dict[str, Any], dict[str, dict[str, Any]], dict[str, str], dict[str, dict[str, str]]]:
    """City figures, enterprises by id, the city's cells, and the cell of every value of enterprise ``track``."""
    wb = _open(path)
    try:
        return _read(path, wb, schema, track)
    finally:
        wb.close()  # (read-only mode keeps the file open)


def _read(
    path: str, wb: Any, schema: Schema, track: str | None
) -> tuple[dict[str, Any], dict[str, dict[str, Any]], dict[str, str], dict[str, dict[str, str]]]:
    sheets = {s.name: s for s in layout(schema)}
    for ws in wb.worksheets:
        if ws.title not in sheets and ws.title not in (NOTES, VALUES):
            expected = "、".join(sheets)
            raise _refuse(path, f"未知工作表 unknown sheet {ws.title!r}; 应为 expected one of: {expected}")
        merged = _merged_ranges(wb, ws)
        if merged:
            raise _at(path, f"{ws.title}!{min(merged)}", "不支持合并单元格 / merged cells are not accepted")
    companies: dict[str, dict[str, Any]] = {}
    cells: dict[str, dict[str, str]] = {}  # enterprise -> field path -> cell (of ``track`` only)
    nowhere = _NoCells()
    city: dict[str, Any] = {}
    city_cells: dict[str, str] = {}
    for sheet in sheets.values():
        if sheet.name not in wb.sheetnames:
            continue
        for _row_number, row in _rows(path, wb[sheet.name], sheet):
            if sheet.shape in ("city", "city_values"):
                _city_row(path, sheet, row, city, city_cells)
                continue
            ident, ident_cell = row[0]
            if ident is None:
                raise _at(path, ident_cell, f"缺少{schema.id_label.zh} / missing the {schema.id_label.en}")
            if sheet.shape == "enterprise":
                if ident in companies:
                    raise InputError(path, ident, f"{ident_cell} id", "重复出现 / appears twice")
                companies[ident] = {"id": ident}
                if ident == track:
                    cells[ident] = {"id": ident_cell}
                where = cells.get(ident, nowhere)
                for column, (value, cell) in zip(sheet.columns[1:], row[1:], strict=True):
                    if value is not None:
                        companies[ident][column.key] = value
                        where[column.key] = cell
                continue
            if ident not in companies:
                raise InputError(
                    path,
                    ident,
                    f"{ident_cell} id",
                    "不在「企业 Enterprises」表中（请先在该表登记） / "
                    "is not on the 企业 Enterprises sheet (add it there first)",
                )
            try:
                _detail_row(path, sheet, row, companies[ident], cells.get(ident, nowhere))
            except InputError as exc:  # (a cell of this enterprise's row: name it)
                raise InputError(exc.file, ident, exc.field, exc.expected) from None
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


_MERGE = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?mergeCell\b[^>]*?\bref=[\"']([^\"']*)[\"']")
_SCAN = 1 << 20


def _merged_ranges(wb: Any, ws: Any) -> list[str]:
    """The merged ranges of a sheet, from its XML (streamed in 1 MiB pieces; a read-only sheet has none)."""
    part = getattr(ws, "_worksheet_path", None)
    archive = getattr(wb, "_archive", None)
    if part is None or archive is None:  # (not a read-only sheet: openpyxl parsed them)
        return sorted(str(r) for r in ws.merged_cells.ranges)
    found: list[str] = []
    tail = b""
    with archive.open(part) as fh:
        while True:
            chunk = fh.read(_SCAN)
            data = tail + chunk
            end = len(data) if not chunk else max(0, data.rfind(b"<"))  # a tag cut by the piece waits
            found.extend(m.group(1).decode("ascii", "replace") for m in _MERGE.finditer(data, 0, end))
            if not chunk:
                return found
            tail = data[end:]


def _rows(path: str, ws: Any, sheet: Sheet) -> Iterator[tuple[int, list[tuple[Any, str]]]]:
    """The filled rows of a sheet, each cell converted for its column, after checking the header.

    Streamed: one row at a time (read-only cells; a cell left empty is openpyxl's ``EMPTY_CELL``, which has
    no coordinate, so cells are named by their column and row number).
    """
    if hasattr(ws, "reset_dimensions"):
        ws.reset_dimensions()  # read every row, whatever the (writer-given) dimension claims
    header = [c.value for c in next(ws.iter_rows(min_row=1, max_row=1), ())]
    for n, column in enumerate(sheet.columns):
        got = header[n] if n < len(header) else None
        if not isinstance(got, str) or got.split("\n")[0].strip() != column.label.zh:
            ref = f"{ws.title}!{_letter(n)}1"
            raise _at(path, ref, f"表头应为 expected the header {column.label.zh!r} ({column.label.en}), got {got!r}")
    extra = [v for v in header[len(sheet.columns) :] if v is not None]
    if extra:
        raise _at(path, f"{ws.title}!{_letter(len(sheet.columns))}1", f"多余的列 unexpected column {extra[0]!r}")
    width = len(sheet.columns)
    letters = [f"{ws.title}!{_letter(k)}" for k in range(width)]
    for number, cells in enumerate(ws.iter_rows(min_row=2), start=2):
        if all(c.value is None or (isinstance(c.value, str) and not c.value.strip()) for c in cells):
            continue
        for k, c in enumerate(cells[width:], start=width):
            if c.value is not None:
                raise _at(path, f"{ws.title}!{_letter(k)}{number}", "表头之外的数据 / a value outside the columns")
        row: list[tuple[Any, str]] = []
        for column, c, letter in zip(sheet.columns, cells, letters, strict=False):
            ref = f"{letter}{number}"
            try:
                row.append((_value(path, ref, c, column), ref))
            except InputError as exc:
                raise _in_row(exc, sheet, row, column) from None
        while len(row) < width:
            row.append((None, f"{letters[len(row)]}{number}"))
        yield number, row


def _in_row(exc: InputError, sheet: Sheet, row: list[tuple[Any, str]], column: Column) -> InputError:
    """A cell's error naming, besides the cell, the enterprise of its row (column A) and the column's field.

    The enterprise is known once its id cell has been read (an error in the id cell itself names the cell
    only); city sheets have no enterprise.
    """
    if sheet.shape in ("city", "city_values") or not row or not isinstance(row[0][0], str):
        return exc
    return InputError(exc.file, row[0][0], f"{exc.field} {column.key}", exc.expected)


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
            raise _at(path, f"{cell} {field.name}", "缺少取值 / missing the value")
        values = company.setdefault(field.name, [])
        cells.setdefault(field.name, cell)
        cells[f"{field.name}[{len(values)}]"] = cell
        values.append(value)
    else:  # by_year
        (year, year_cell), (value, cell) = row[1], row[2]
        if year is None:
            raise _at(path, f"{year_cell} {field.name}", "缺少年度 / missing the year")
        if value is None:
            raise _at(path, f"{cell} {field.name}.{year}", "缺少数值 / missing the value")
        by_year = company.setdefault(field.name, {})
        if year in by_year:
            raise _at(
                path,
                f"{year_cell} {field.name}.{year}",
                f"年度 {year} 重复 / the year {year} appears twice for this enterprise",
            )
        cells.setdefault(field.name, cell)
        cells[f"{field.name}.{year}"] = cell
        by_year[year] = value


def _city_row(path: str, sheet: Sheet, row: list[tuple[Any, str]], city: dict[str, Any], cells: dict[str, str]) -> None:
    """Add one row of the city sheet: a row of values, or a year's figures (the year located like any cell)."""
    if sheet.shape == "city_values":
        for column, (value, cell) in zip(sheet.columns, row, strict=True):
            name = column.key.removeprefix("city.")
            cells[name] = cell
            if value is not None:
                city[name] = value
        return
    year, year_cell = row[0]
    if year is None:
        raise _at(path, year_cell, "缺少年度 / missing the year")
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise _bad(
            path,
            year_cell,
            f"应为 {MIN_YEAR} 至 {MAX_YEAR} 之间的年份 / expected a year from {MIN_YEAR} to {MAX_YEAR}",
            year,
        )
    for column, (value, cell) in zip(sheet.columns[1:], row[1:], strict=True):
        name = column.key.removeprefix("city.")
        if value is not None:
            first = cells.get(f"{name}.{year}")
            if first is not None:
                raise _at(
                    path,
                    cell,
                    f"{year} 年的该数值重复，首次在 {first} / the figure of {year} is given twice, first at {first}",
                )
            city.setdefault(name, {})[year] = value
            cells.setdefault(name, cell)
            cells[f"{name}.{year}"] = cell

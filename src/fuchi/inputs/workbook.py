"""The layout of an input workbook, derived from a policy's schema: which sheet and column holds which field.

One layout serves both directions: ``fuchi template`` writes a blank workbook from it, and reading a
filled workbook finds each field where the layout puts it. Nothing here names an input of a policy:
the sheets follow the fields of ``inputs.yaml``.

* ``企业 Enterprises``: one row per enterprise — the id and every single-valued field.
* one sheet per list of records (``honours[]`` …): the enterprise id, then the record's fields.
* one sheet per list of values (``key_fields``): the enterprise id and one value per row.
* one sheet per by-year map (``revenue``): the enterprise id, the year and the value.
* ``城市数据 City``: the city figures, one row per year (and a row of single values, if any).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from .schema import Field, Schema, Text

ENTERPRISES = "企业 Enterprises"
CITY = "城市数据 City"
CITY_VALUES = "城市单值 City values"
NOTES = "说明 Notes"
VALUES = "取值 Values"
#: Characters a sheet name cannot hold, and the full-width ones shown instead.
_SHEET_CHARS = str.maketrans({"/": "／", "\\": "＼", "?": "？", "*": "＊", ":": "：", "[": "【", "]": "】"})
#: Excel's longest sheet name.
MAX_SHEET_NAME = 31
YEAR_LABEL = Text("年度", "year")


@dataclass(frozen=True)
class Column:
    """One column of a sheet.

    Attributes:
        key: The field's path in the data format: ``id``, ``name``, ``honours[].year``, ``revenue`` (a by-year
            map's value) or ``year`` (its year).
        label: The header, in Chinese and English.
        kind: The value kind (:data:`fuchi.inputs.schema.KINDS`).
        field: The declared field, or None for the enterprise id and a by-year map's year.
        parent: For a record's field: the list of records it belongs to.

    """

    key: str
    label: Text
    kind: str
    field: Field | None = None
    parent: Field | None = None

    @property
    def required(self) -> bool:
        """True when a row must fill this column."""
        if self.field is None:
            return True
        if self.parent is not None:
            return self.field.required and self.field.when is None
        return self.field.required or self.field.shape in ("list", "by_year")


@dataclass(frozen=True)
class Sheet:
    """One sheet of the workbook.

    Attributes:
        name: The sheet's name (at most 31 characters, none of ``/\\?*:[]``).
        shape: ``enterprise``, ``records``, ``list``, ``by_year``, ``city`` (by year) or ``city_values``.
        columns: Its columns, in order.
        field: The list or map field the sheet holds (None for the enterprise, city sheets).

    """

    name: str
    shape: str
    columns: tuple[Column, ...]
    field: Field | None = None


def sheet_name(label: str, taken: set[str]) -> str:
    """A valid sheet name from a label: forbidden characters made full-width, cut to 31, made unique."""
    base = label.translate(_SHEET_CHARS).strip("'")[:MAX_SHEET_NAME] or "sheet"
    name, n = base, 2
    while name.lower() in taken:
        suffix = f" ({n})"
        name, n = base[: MAX_SHEET_NAME - len(suffix)] + suffix, n + 1
    taken.add(name.lower())
    return name


def layout(schema: Schema) -> tuple[Sheet, ...]:
    """The sheets of the input workbook of ``schema``, in order (the notes and values sheets come after)."""
    taken = {s.lower() for s in (ENTERPRISES, CITY, CITY_VALUES, NOTES, VALUES)}
    ident = Column("id", schema.id_label, "id")
    scalars = [Column(f.name, f.label, f.kind or "text", f) for f in schema.fields if f.shape == "scalar"]
    sheets = [Sheet(ENTERPRISES, "enterprise", (ident, *scalars))]
    for f in schema.fields:
        if f.shape == "scalar":
            continue
        name = sheet_name(f.label.zh, taken)
        if f.shape == "records":
            cols = [Column(f"{f.name}[].{r.name}", r.label, r.kind or "text", r, f) for r in f.records]
            sheets.append(Sheet(name, "records", (ident, *cols), f))
        elif f.shape == "list":
            sheets.append(Sheet(name, "list", (ident, Column(f.name, f.label, f.kind or "text", f)), f))
        else:
            year = Column(f"{f.name}.year", YEAR_LABEL, "year")
            sheets.append(Sheet(name, "by_year", (ident, year, Column(f.name, f.label, f.kind or "text", f)), f))
    by_year = [Column(f"city.{f.name}", f.label, f.kind or "text", f) for f in schema.city if f.shape == "by_year"]
    if by_year:
        sheets.append(Sheet(CITY, "city", (Column("city.year", YEAR_LABEL, "year"), *by_year)))
    values = [Column(f"city.{f.name}", f.label, f.kind or "text", f) for f in schema.city if f.shape == "scalar"]
    if values:
        sheets.append(Sheet(CITY_VALUES, "city_values", tuple(values)))
    return tuple(sheets)


def choices(column: Column, schema: Schema) -> tuple[str, ...]:
    """The values a drop-down offers for ``column`` (empty when the column takes any value of its kind)."""
    if column.kind == "boolean":
        return ("TRUE", "FALSE")
    if column.kind == "enumeration" and column.field is not None:
        return column.field.values
    if column.kind == "item":
        return schema.items
    return ()


def sheet_rows(sheet: Sheet, doc: dict[str, Any]) -> Iterator[list[object]]:
    """The rows of ``sheet`` for a data-format document (``city``, ``companies``): the reader's inverse.

    Args:
        sheet: A sheet of :func:`layout`.
        doc: The document, as the YAML or JSON of docs/data-format.md gives it (validated).

    Yields:
        One list of cell values per row (None: an empty cell).

    """
    companies: list[dict[str, Any]] = doc.get("companies") or []
    city: dict[str, Any] = doc.get("city") or {}
    if sheet.shape == "city":
        names = [c.key.removeprefix("city.") for c in sheet.columns[1:]]
        years = sorted({int(y) for n in names for y in (city.get(n) or {})})
        for year in years:
            yield [year] + [_by_year(city.get(n), year) for n in names]
        return
    if sheet.shape == "city_values":
        yield [city.get(c.key.removeprefix("city.")) for c in sheet.columns]
        return
    for co in companies:
        ident = co.get("id")
        if sheet.shape == "enterprise":
            yield [ident] + [co.get(c.key) for c in sheet.columns[1:]]
            continue
        assert sheet.field is not None
        value = co.get(sheet.field.name)
        if not value:
            continue
        if sheet.shape == "records":
            for record in value:
                yield [ident] + [record.get(c.field.name) if c.field else None for c in sheet.columns[1:]]
        elif sheet.shape == "list":
            for v in value:
                yield [ident, v]
        else:
            for year in sorted(value, key=int):
                yield [ident, int(year), value[year]]


def _by_year(values: dict[Any, Any] | None, year: int) -> object:
    if not values:
        return None
    for key, value in values.items():
        if int(key) == year:
            return value
    return None

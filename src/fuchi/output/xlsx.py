"""Excel workbooks (``.xlsx``) for officers: ``evaluate --format xlsx`` results and the blank input template.

Written with XlsxWriter: it streams rows to disk (``constant_memory``), so a 100,000-row result takes
seconds and little memory; it never turns a text into a number, date, formula or link unless told (every
cell is written with its type); and it stamps its zip entries with a fixed time, so with the fixed document
properties set here the same input gives a byte-identical file. Reading workbooks is a separate concern.

Like the other writers of :mod:`fuchi.output.render`, these write to the stream given; the CLI puts that stream's
bytes into the output file (whole, or not at all).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import IO, Any

import xlsxwriter
from xlsxwriter.worksheet import Worksheet

from ..engines.clingo import STATUSES
from ..engines.evaluation import Row
from ..errors import OutputError
from ..inputs.schema import Text
from ..policy import Policy
from .render import STATUS_LABELS
from .totals import Totals

#: Document properties are fixed (no clock, no user name): the same input gives the same bytes.
CREATED = datetime(2025, 1, 1)
#: Excel's last row (1,048,576) less the header.
MAX_ROWS = 1_048_575
#: Excel's longest cell text.
MAX_TEXT = 32_767
#: Column widths: at least the header's, at most this many character cells.
MAX_WIDTH = 60
#: Widths follow the first rows only (measuring every cell of 100,000 rows costs more than it shows).
WIDTH_ROWS = 2_000
HEADER_HEIGHT = 32
_OPTIONS = {
    "constant_memory": True,  # rows stream to a temporary file: memory does not grow with the rows
    "strings_to_numbers": False,
    "strings_to_formulas": False,  # an enterprise named "=HYPERLINK(…)" stays a text
    "strings_to_urls": False,
}
#: Font colours of the status column (the terminal's colours).
_STATUS_COLOUR = {
    "granted": "#006100",
    "pending_assessment": "#1F4E79",
    "rejected": "#9C0006",
    "needs_data": "#9C5700",
    "disqualified": "#9C0006",
    "excluded": "#9C0006",
}
_FLAG_LABELS = {"credit_platform": "纳入公共信用信息平台 credit platform"}


def display_width(text: str) -> int:
    """Character cells ``text`` takes in a spreadsheet column (CJK and fullwidth characters take two)."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


class _Sheet:
    """A worksheet with a bilingual header row, typed cells, and column widths that follow the data."""

    def __init__(self, book: _Book, name: str, headers: Sequence[tuple[str, str]], kinds: Sequence[str]) -> None:
        self.book = book
        self.ws: Worksheet = book.wb.add_worksheet(name)
        self.kinds = list(kinds)
        self.widths = [max(display_width(zh), display_width(en)) + 2 for zh, en in headers]
        self.ws.set_row(0, HEADER_HEIGHT)
        for col, (zh, en) in enumerate(headers):
            self.ws.write_string(0, col, f"{zh}\n{en}", book.fmt["header"])
        self.rows = 0
        self.ws.freeze_panes(1, 0)

    def write(self, cells: Sequence[object], formats: Sequence[Any] | None = None) -> None:
        """Append one row; ``None`` is an empty cell. Texts stay texts (ids such as ``2.10`` included)."""
        if self.rows >= MAX_ROWS:
            raise OutputError(
                self.book.name,
                f"超过 Excel 的行数上限 more rows than an Excel sheet holds ({MAX_ROWS:,}); "
                "请用 --format csv 或 json / use --format csv or json",
            )
        self.rows += 1
        for col, value in enumerate(cells):
            fmt = formats[col] if formats is not None and formats[col] is not None else self.book.fmt[self.kinds[col]]
            if value is None:
                self.ws.write_blank(self.rows, col, None, fmt)
                continue
            if isinstance(value, bool) or not isinstance(value, int):
                text = str(value)[:MAX_TEXT]
                self.ws.write_string(self.rows, col, text, fmt)
                width = display_width(text) if self.rows <= WIDTH_ROWS else 0
            else:
                self.ws.write_number(self.rows, col, value, fmt)
                width = len(f"{value:,}") if self.rows <= WIDTH_ROWS else 0
            if width + 2 > self.widths[col]:
                self.widths[col] = width + 2

    def close(self) -> None:
        """Set the column widths and the filter over the header and the rows written."""
        for col, width in enumerate(self.widths):
            self.ws.set_column(col, col, min(width, MAX_WIDTH))
        self.ws.autofilter(0, 0, self.rows, len(self.widths) - 1)


class _Book:
    """The workbook, its shared formats and fixed document properties."""

    def __init__(self, out: IO[bytes], policy: Policy, title: str, name: str = "workbook") -> None:
        self.name = name
        self.wb = xlsxwriter.Workbook(out, _OPTIONS)
        self.wb.set_properties(
            {
                "title": f"{policy.title_zh} — {title}",
                "subject": f"{policy.id} {policy.version}",
                "author": "fuchi",
                "comments": f"policy digest {policy.digest}",
                "created": CREATED,
            }
        )
        base = {"font_name": "Microsoft YaHei", "font_size": 10, "valign": "top"}
        self.fmt: dict[str, Any] = {
            "header": self.wb.add_format({**base, "bold": True, "text_wrap": True, "bg_color": "#D9E1F2"}),
            "text": self.wb.add_format({**base, "num_format": "@"}),
            "year": self.wb.add_format({**base, "num_format": "0"}),
            "integer": self.wb.add_format({**base, "num_format": "#,##0"}),
            "money": self.wb.add_format({**base, "num_format": "#,##0"}),
            "bold_money": self.wb.add_format({**base, "num_format": "#,##0", "bold": True}),
            "bold": self.wb.add_format({**base, "bold": True}),
        }
        for status, colour in _STATUS_COLOUR.items():
            self.fmt[f"status:{status}"] = self.wb.add_format({**base, "num_format": "@", "font_color": colour})

    def close(self) -> None:
        """Write the workbook out."""
        self.wb.close()


RESULT_HEADERS = (
    ("企业", "Enterprise"),
    ("企业名称", "Name"),
    ("年度", "Year"),
    ("条款", "Item"),
    ("状态", "Status"),
    ("金额（元）", "Amount (CNY)"),
    ("兑付年度", "Payable year"),
    ("理由", "Reason"),
    ("Reason", "(English)"),
)
RESULT_KINDS = ("text", "text", "year", "text", "text", "money", "year", "text", "text")


class WorkbookWriter:
    """Results as a workbook: 结果 Results, 合计 Totals, 警告 Warnings, 标记 Flags and 说明 About sheets.

    Args:
        out: The binary stream the ``.xlsx`` is written to (when :meth:`finish` is called).
        policy: The policy applied (its items order the totals; its id, version and digest are noted).

    """

    def __init__(self, out: IO[bytes], policy: Policy) -> None:
        self.policy = policy
        self.book = _Book(out, policy, "评估结果 evaluation results")
        self.results: _Sheet | None = None
        self.names: dict[str, str] = {}
        #: (item, payable year, status) -> [rows, amount]
        self.cells: dict[tuple[str, int | None, str], list[int]] = {}

    def _results(self, explained: bool) -> _Sheet:
        headers = RESULT_HEADERS + ((("解释", "Explanation"),) if explained else ())
        kinds = RESULT_KINDS + (("text",) if explained else ())
        return _Sheet(self.book, "结果 Results", headers, kinds)

    def row(self, row: Row) -> None:
        """Write one result row (the sheet's columns are set by the first: ``解释`` only with --explain)."""
        if self.results is None:
            self.results = self._results(row.explanation is not None)
        if row.name:
            self.names.setdefault(row.company, row.name)
        zh, en = _reason_parts(row)
        cells: list[object] = [
            row.company,
            row.name,
            row.year,
            row.item,
            STATUS_LABELS.get(row.status, row.status),
            row.amount,
            row.payable_year,
            zh,
            en,
        ]
        if len(self.results.kinds) > len(RESULT_KINDS):
            cells.append(row.explanation)
        formats: list[Any] = [None] * len(cells)
        formats[4] = self.book.fmt.get(f"status:{row.status}")
        self.results.write(cells, formats)
        entry = self.cells.setdefault((row.item, row.payable_year, row.status), [0, 0])
        entry[0] += 1
        entry[1] += row.amount

    def finish(self, totals: Totals, warnings: Sequence[str] = ()) -> None:
        """Write the totals, warnings, flags and about sheets and close the workbook."""
        if self.results is None:
            self.results = self._results(False)
        self.results.close()
        self._totals(totals)
        sheet = _Sheet(self.book, "警告 Warnings", (("序号", "No."), ("警告", "Warning")), ("integer", "text"))
        for n, text in enumerate(warnings, 1):
            sheet.write([n, text])
        sheet.close()
        sheet = _Sheet(
            self.book,
            "标记 Flags",
            (("企业", "Enterprise"), ("企业名称", "Name"), ("标记", "Flag"), ("代码", "Code")),
            ("text", "text", "text", "text"),
        )
        for kind in sorted(totals.flags):
            for ident in totals.flags[kind]:
                sheet.write([ident, self.names.get(ident), _FLAG_LABELS.get(kind, kind), kind])
        sheet.close()
        self._about(totals, len(warnings))
        self.book.close()

    def _totals(self, totals: Totals) -> None:
        sheet = _Sheet(
            self.book,
            "合计 Totals",
            (
                ("条款", "Item"),
                ("兑付年度", "Payable year"),
                ("状态", "Status"),
                ("行数", "Rows"),
                ("金额（元）", "Amount (CNY)"),
            ),
            ("text", "year", "text", "integer", "money"),
        )
        rank = {item: n for n, item in enumerate(self.policy.items)}
        order = {s: n for n, s in enumerate(STATUSES)}

        def key(k: tuple[str, int | None, str]) -> tuple[int, str, int, int, str]:
            item, year, status = k
            return (rank.get(item, len(rank)), item, year if year is not None else 10**6, order.get(status, 99), status)

        for item, year, status in sorted(self.cells, key=key):
            count, amount = self.cells[(item, year, status)]
            label = STATUS_LABELS.get(status, status)
            colour = self.book.fmt.get(f"status:{status}")
            sheet.write([item, year, label, count, amount], [None, None, colour, None, None])
        sheet.close()
        # below the filtered table, after a blank row: the sums an officer reports
        row = sheet.rows + 2
        bold, money = self.book.fmt["bold"], self.book.fmt["bold_money"]
        for status in ("granted", "pending_assessment"):
            sheet.ws.write_string(row, 0, "总计 Total", bold)
            sheet.ws.write_string(row, 2, STATUS_LABELS[status], bold)
            sheet.ws.write_number(row, 3, totals.by_status.get(status, [0, 0])[0], bold)
            sheet.ws.write_number(row, 4, totals.amount(status), money)
            row += 1

    def _about(self, totals: Totals, warnings: int) -> None:
        sheet = _Sheet(self.book, "说明 About", (("项目", "Field"), ("内容", "Value")), ("text", "text"))
        p = self.policy
        for label, value in (
            ("政策 Policy", p.title_zh),
            ("政策编号 Policy id", p.id),
            ("版本 Version", p.version),
            ("摘要 Digest", p.digest),
            *((("参数覆盖 Override", f"{k}={v}") for k, v in p.override_map().items())),
            ("评估企业数 Enterprises evaluated", totals.companies),
            ("结果行数 Result rows", totals.rows),
            ("警告数 Warnings", warnings),
            ("金额 Amounts", "元（整数）whole yuan; 待综合评估按上限计 pending rows at their maximum"),
        ):
            sheet.write([label, value], [None, self.book.fmt["integer"] if isinstance(value, int) else None])
        sheet.close()


def _reason_parts(row: Row) -> tuple[str, str]:
    """The Chinese and English parts of a row's reason (``中文 / English``)."""
    if row.reason_zh is not None and row.reason.startswith(row.reason_zh + " / "):
        return row.reason_zh, row.reason[len(row.reason_zh) + 3 :]
    return row.reason, ""


# ---- the blank input workbook (fuchi template) ----------------------------------------------------------------

_NUMBER_FORMATS = {"year": "0", "integer": "0", "money": "#,##0.00", "decimal": "0.######"}
_TEMPLATE_ROWS = MAX_ROWS  # validation and formats cover every row an officer may fill
_LIST_LABELS = {"boolean": Text("是否", "TRUE / FALSE"), "item": Text("条款", "items")}


def write_template(out: IO[bytes], policy: Policy, doc: dict[str, Any] | None = None) -> None:
    """Write the blank input workbook of ``policy``: one sheet per record kind, drop-downs, a notes sheet.

    The sheets and columns are those of :func:`fuchi.inputs.workbook.layout`. Headers are ``中文`` over ``English``
    (required ones in red); text columns are formatted as text, so ``6513`` or ``2.10`` typed in stays a text;
    enumerations, items and booleans get a drop-down; years, integers, amounts and decimals a number check;
    every header cell shows its field's kind when selected.

    Args:
        out: The binary stream the ``.xlsx`` is written to.
        policy: The policy whose declared inputs (``inputs.yaml``) shape the workbook.
        doc: Data to fill it with (``fuchi convert``): a validated document of the data format.

    Raises:
        OutputError: A number of ``doc`` that an Excel cell cannot hold exactly (beyond 15 digits).

    """
    from ..inputs.contract import kind_text
    from ..inputs.workbook import VALUES, choices, layout, sheet_rows

    schema = policy.schema
    book = _Book(out, policy, "数据填报模板 input template" if doc is None else "输入数据 input data")
    wb = book.wb
    base = {"font_name": "Microsoft YaHei", "font_size": 10, "valign": "top"}
    required_header = wb.add_format(
        {**base, "bold": True, "text_wrap": True, "bg_color": "#FCE4D6", "font_color": "#9C0006"}
    )
    column_formats = {kind: wb.add_format({**base, "num_format": fmt}) for kind, fmt in _NUMBER_FORMATS.items()}
    text_format = wb.add_format({**base, "num_format": "@"})
    plain = wb.add_format(base)
    sheets = layout(schema)
    lists: dict[tuple[str, ...], tuple[Text, str]] = {}  # drop-down values -> (header, range on the values sheet)
    for sheet in sheets:
        for column in sheet.columns:
            options = choices(column, schema)
            if options and options not in lists:
                letter = _column_letter(len(lists))
                header = _LIST_LABELS.get(column.kind, column.label)
                lists[options] = (header, f"='{VALUES}'!${letter}$2:${letter}${len(options) + 1}")
    notes_rows: list[tuple[str, str, str, str, str, str, str]] = []
    for sheet in sheets:
        ws = wb.add_worksheet(sheet.name)
        ws.set_row(0, HEADER_HEIGHT)
        ws.freeze_panes(1, 0)
        for col, column in enumerate(sheet.columns):
            header = required_header if column.required else book.fmt["header"]
            ws.write_string(0, col, f"{column.label.zh}\n{column.label.en}", header)
            width = max(display_width(column.label.zh), display_width(column.label.en), 10) + 2
            fmt = column_formats.get(column.kind, text_format if column.kind in ("text", "id", "item") else plain)
            ws.set_column(col, col, min(width, MAX_WIDTH), fmt)
            kind = _column_kind(column, kind_text)
            notes_rows.append(
                (
                    sheet.name,
                    _column_letter(col),
                    column.key,
                    column.label.zh,
                    column.label.en,
                    "必填 required" if column.required else "可选 optional",
                    kind,
                )
            )
            validation: dict[str, Any] = {
                "input_title": column.label.zh[:32],
                "input_message": kind[:255],
                "error_title": "不符合要求 not accepted"[:32],
                "error_message": kind[:255],
            }
            options = choices(column, schema)
            if options:
                validation |= {"validate": "list", "source": lists[options][1]}
            elif column.kind in ("year", "integer"):
                low, high = _int_bounds(column)
                validation |= {"validate": "integer", "criteria": "between", "minimum": low, "maximum": high}
            elif column.kind in ("money", "decimal"):
                f = column.field
                floor = f.minimum if f is not None and f.minimum is not None else None
                if floor is None and column.kind == "money":
                    floor = Decimal(0)
                if floor is not None:
                    validation |= {"validate": "decimal", "criteria": ">=", "value": float(floor)}
                else:
                    validation |= {"validate": "any"}
            else:
                validation |= {"validate": "any"}
            ws.data_validation(1, col, _TEMPLATE_ROWS, col, validation)
        rows = 0
        if doc is not None:
            for rows, cells in enumerate(sheet_rows(sheet, doc), 1):
                for col, value in enumerate(cells):
                    _typed(ws, rows, col, value, sheet.name)
        ws.autofilter(0, 0, rows, len(sheet.columns) - 1)
    _notes(book, policy, notes_rows)
    if lists:
        values = wb.add_worksheet(VALUES)  # the drop-downs' lists (ranges, so long lists work too), hidden
        columns = list(lists.items())
        for col, (options, (label, _)) in enumerate(columns):
            values.write_string(0, col, f"{label.zh}\n{label.en}", book.fmt["header"])
            values.set_column(col, col, max(display_width(v) for v in (*options, label.zh, label.en)) + 4)
        for row in range(1, max(len(options) for options in lists) + 1):  # row by row (constant_memory)
            for col, (options, _) in enumerate(columns):
                if row <= len(options):
                    values.write_string(row, col, options[row - 1], text_format)
        values.hide()
    wb.worksheets()[0].activate()
    book.close()


def _column_kind(column: Any, kind_text: Any) -> str:
    if column.field is None:
        if column.kind == "year":
            return "年份 year 1900–2200；必填 required"
        return "必填；非空文本，在所有输入中唯一 · required; a non-empty text, unique across the inputs"
    return str(kind_text(column.field, column.parent))


def _int_bounds(column: Any) -> tuple[int, int]:
    from ..inputs.records import MAX_YEAR, MIN_YEAR

    if column.kind == "year":
        return MIN_YEAR, MAX_YEAR
    f = column.field
    low = int(f.minimum) if f is not None and f.minimum is not None else -(2**31)
    high = int(f.maximum) if f is not None and f.maximum is not None else 2**31 - 1
    return low, high


def _column_letter(col: int) -> str:
    letters = ""
    col += 1
    while col:
        col, rem = divmod(col - 1, 26)
        letters = chr(ord("A") + rem) + letters
    return letters


def _notes(book: _Book, policy: Policy, columns: list[tuple[str, str, str, str, str, str, str]]) -> None:
    from ..inputs.workbook import ENTERPRISES as ENTERPRISES_NAME
    from ..inputs.workbook import NOTES

    ws = book.wb.add_worksheet(NOTES)
    bold, wrap = book.fmt["bold"], book.fmt["text"]
    ident = policy.schema.id_label
    lines = [
        (policy.title_zh, ""),
        ("政策 Policy", f"{policy.id} {policy.version}"),
        ("摘要 Digest", policy.digest),
        ("", ""),
        (
            "填写 How to fill",
            "每张表第一行是表头，请勿修改；从第二行起每行一条记录 · row 1 is the header: keep it; one record a row.",
        ),
        ("", f"企业表每家企业一行；其余各表第一列为{ident.zh} · one row per enterprise in {ENTERPRISES_NAME}; "),
        ("", f"the other sheets name the enterprise by its {ident.en} in their first column."),
        ("", "按年数据每个（企业, 年度）一行 · by-year figures: one row per (enterprise, year)."),
        ("", "金额以元为单位，最多两位小数 · amounts in yuan, at most two decimals."),
        ("", "年度为四位整数，不是日期 · a year is a four-digit number, not a date."),
        ("", "是否类字段选 TRUE 或 FALSE，留空即 FALSE · yes/no fields: TRUE or FALSE, blank means FALSE."),
        ("", "下拉框中的取值为代码，请勿改写 · drop-downs offer codes: choose, do not retype."),
        ("", "请填写数值本身，不用公式 · enter values, not formulas."),
        ("", "不要合并单元格，不设密码 · no merged cells, no password."),
        ("", "红色表头为必填列 · red headers: required columns."),
        ("", ""),
    ]
    row = 0
    for key, value in lines:
        if key:
            ws.write_string(row, 0, key, bold)
        if value:
            ws.write_string(row, 1, value, wrap)
        row += 1
    header = (
        ("工作表", "Sheet"),
        ("列", "Column"),
        ("字段", "Field"),
        ("中文", "Chinese"),
        ("English", ""),
        ("必填", "Required"),
        ("类型与取值", "Kind and values"),
    )
    ws.set_row(row, HEADER_HEIGHT)
    for col, (zh, en) in enumerate(header):
        ws.write_string(row, col, f"{zh}\n{en}" if en else zh, book.fmt["header"])
    first = row
    for cells in columns:
        row += 1
        for col, value in enumerate(cells):
            ws.write_string(row, col, value, wrap)
    ws.autofilter(first, 0, row, len(header) - 1)
    for col, width in enumerate((24, 8, 30, 30, 36, 14, 80)):
        ws.set_column(col, col, width)


def _typed(ws: Any, row: int, col: int, value: object, sheet: str) -> None:
    """Write one data value with its type; a number must survive Excel's 15 digits exactly."""
    if value is None:
        return
    if isinstance(value, bool):
        ws.write_boolean(row, col, value)
    elif isinstance(value, int | Decimal):
        exact = Decimal(value)
        digits = len(exact.normalize().as_tuple().digits) if exact else 1
        exponent = exact.normalize().as_tuple().exponent
        if isinstance(exponent, int) and exponent > 0:
            digits += exponent  # 1E+3 is 1000: four digits in a cell
        number = float(value)
        if digits > 15 or Decimal(repr(number)) != exact:  # what Excel keeps when a cell is saved again
            raise OutputError(
                sheet,
                f"{value} 超出 Excel 单元格的精度（15 位有效数字） / "
                "cannot be held exactly by an Excel cell (15 digits)",
            )
        ws.write_number(row, col, number)
    else:
        ws.write_string(row, col, str(value)[:MAX_TEXT])

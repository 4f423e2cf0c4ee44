"""The one module that owns rich: result writers (table, JSON, CSV), diagnostics and progress.

Results go to the stream given (stdout, after the run succeeded); diagnostics go to stderr. Data is
never interpreted as rich markup: cells are ``Text`` objects and messages are printed with markup off.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from json.encoder import encode_basestring as _encode  # what json.dumps(ensure_ascii=False) uses
from typing import IO, Any, Protocol

from rich import box
from rich.cells import cell_len, chop_cells, set_cell_size
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from ..engines.evaluation import Row
from ..policy import Policy
from .totals import Totals

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
STATUS_STYLE = {
    "granted": "green",
    "pending_assessment": "cyan",
    "rejected": "red",
    "needs_data": "yellow",
    "disqualified": "bold red",
    "excluded": "red",
}
TABLE_WIDTH = 160  # fixed when not on a terminal, so files are byte-identical
#: Characters that change what a terminal shows beyond their own glyph: C0 and C1 controls (ESC starts
#: terminal sequences, U+0085 is a line break), DEL, line and paragraph separators, and the bidirectional
#: controls (U+202E shows the rest of a line reversed).
_UNSAFE = [*range(0x20), *range(0x7F, 0xA0), 0x061C, 0x200E, 0x200F, 0x2028, 0x2029, *range(0x202A, 0x202F)]
_UNSAFE += [*range(0x2066, 0x206A)]
_CONTROL = {c: f"\\x{c:02x}" if c < 0x100 else f"\\u{c:04x}" for c in _UNSAFE}
_CONTROL |= {ord("\n"): "\\n", ord("\r"): "\\r", ord("\t"): "\\t"}
#: The same, keeping line breaks (texts meant to span lines: clause texts, multi-line messages).
_CONTROL_LINES = {c: e for c, e in _CONTROL.items() if c != ord("\n")}
#: JSON output: the same characters as \u escapes (the same strings to a parser, inert in a terminal).
_JSON_UNSAFE = {c: f"\\u{c:04x}" for c in _UNSAFE if c >= 0x7F}
#: Finds any of them (``str.translate`` walks every character through a dict: test first, translate rarely).
_JSON_UNSAFE_RE = re.compile("[" + "".join(re.escape(chr(c)) for c in sorted(_JSON_UNSAFE)) + "]")
_CONTROL_RE = re.compile("[" + "".join(re.escape(chr(c)) for c in sorted(_CONTROL)) + "]")


def json_safe(text: str) -> str:
    """JSON text with the characters that act on a terminal as ``\\u`` escapes (the same string to a parser)."""
    return text.translate(_JSON_UNSAFE) if _JSON_UNSAFE_RE.search(text) else text


def _console(out: IO[str], width: int, soft_wrap: bool, terminal: bool | None = None) -> Console:
    """A console on ``out``: styled for a terminal stdout, else plain with a fixed width (byte-identical files).

    ``terminal=False`` makes it plain whatever stdout is (output meant for a file, ``--output``).
    """
    terminal = sys.stdout.isatty() if terminal is None else terminal
    return Console(
        file=out,
        width=None if terminal else width,
        force_terminal=terminal,
        no_color=not terminal,
        highlight=False,
        soft_wrap=soft_wrap,
    )


def clean(text: str) -> str:
    """Make data safe for line-based output: control characters (newlines included) become visible escapes.

    A name or policy title may hold newlines (the contract allows any text); printed raw, it could start a line
    that looks like a result row or a Markdown heading. Markup is never interpreted anyway (``Text`` objects).
    """
    return text.translate(_CONTROL) if _CONTROL_RE.search(text) else text


def clean_lines(text: str) -> str:
    """Like :func:`clean`, but line breaks stay (for texts that span lines, such as clause texts)."""
    return text.translate(_CONTROL_LINES)


def _message(text: str) -> Text:
    """A diagnostic: data escaped, and every line after the first indented, so none can pass for another."""
    lines = clean_lines(text).split("\n")
    return Text("\n".join([lines[0], *(line if line[:1].isspace() else "    " + line for line in lines[1:])]))


class Writer(Protocol):
    """Receives result rows one by one, then the totals."""

    def row(self, row: Row) -> None:
        """Write or keep one row."""

    def finish(self, totals: Totals, warnings: Sequence[str] = ()) -> None:
        """Write what remains (totals, every warning of the run, closing brackets)."""


def row_dict(row: Row) -> dict[str, Any]:
    """The JSON contract's object for one row (key order fixed; ``explanation`` only with --explain)."""
    out: dict[str, Any] = {
        "company": row.company,
        "year": row.year,
        "item": row.item,
        "status": row.status,
        "amount": row.amount,
        "payable_year": row.payable_year,
        "reason": row.reason,
    }
    if row.explanation is not None:
        out["explanation"] = row.explanation
    return out


def policy_header(policy: Policy) -> dict[str, Any]:
    """The ``policy`` object of the JSON output (``overrides`` only when ``--set`` is in force)."""
    out: dict[str, Any] = {"id": policy.id, "version": policy.version, "digest": policy.digest}
    if policy.overrides:
        out["overrides"] = policy.override_map()
    return out


def overrides_line(overrides: dict[str, str]) -> str:
    """``参数覆盖 overrides: a=1, b.k=2`` for text outputs (empty when none)."""
    if not overrides:
        return ""
    return "参数覆盖 overrides: " + ", ".join(f"{k}={v}" for k, v in overrides.items())


class JsonWriter:
    """Streams ``{"policy": …, "results": [...], "totals": …}`` (one row per line)."""

    def __init__(self, out: IO[str], policy: Policy) -> None:
        self.out = out
        self.first = True
        out.write('{"policy": ' + _dumps(policy_header(policy)) + ',\n "results": [')

    def row(self, row: Row) -> None:
        """Write one row."""
        self.out.write(("\n  " if self.first else ",\n  ") + row_json(row))
        self.first = False

    def finish(self, totals: Totals, warnings: Sequence[str] = ()) -> None:
        """Close the list, write the totals and every warning of the run (none left out)."""
        self.out.write(("\n ]" if not self.first else "]") + ',\n "totals": ' + _dumps(totals.as_json()))
        body = "".join(("\n  " if n == 0 else ",\n  ") + _dumps(w) for n, w in enumerate(warnings))
        self.out.write(',\n "warnings": [' + body + ("\n ]" if warnings else "]") + "}\n")


def row_json(row: Row) -> str:
    """``_dumps(row_dict(row))``, written out field by field (the same bytes, several times faster).

    The strings go through the encoder ``json.dumps(..., ensure_ascii=False)`` itself uses; integers print
    as ``json`` prints them; then the same terminal-unsafe characters are escaped.
    """
    p = row.payable_year
    text = (
        '{"company": ' + _encode(row.company)
        + ', "year": ' + int.__repr__(row.year)
        + ', "item": ' + _encode(row.item)
        + ', "status": ' + _encode(row.status)
        + ', "amount": ' + int.__repr__(row.amount)
        + ', "payable_year": ' + ("null" if p is None else int.__repr__(p))
        + ', "reason": ' + _encode(row.reason)
        + ("" if row.explanation is None else ', "explanation": ' + _encode(row.explanation))
        + "}"
    )  # fmt: skip
    return json_safe(text)


def _dumps(obj: Any) -> str:
    return json_safe(json.dumps(obj, ensure_ascii=False, separators=(", ", ": ")))


#: What a spreadsheet takes as the start of a formula (or, for tab and CR, of a cell that becomes one).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")


def spreadsheet_text(value: str) -> str:
    """A text a spreadsheet shows as text, never runs: one starting like a formula gets a leading ``'``.

    ``=HYPERLINK(…)`` in an enterprise id or name would otherwise run when an officer opens the file
    (OWASP "CSV injection"). The apostrophe is the spreadsheets' own mark for "this cell is text".
    """
    return "'" + value if value.startswith(FORMULA_START) else value


class CsvWriter:
    """Writes a header and one line per row (RFC 4180 quoting, ``\\n`` line ends).

    A text cell that starts like a formula (``=``, ``+``, ``-``, ``@``, tab, CR) is written with a leading
    ``'`` (:func:`spreadsheet_text`), so that a spreadsheet shows it instead of running it.
    """

    FIELDS = ("company", "year", "item", "status", "amount", "payable_year", "reason")

    def __init__(self, out: IO[str], policy: Policy) -> None:
        self.out = out
        self.header = False

    def row(self, row: Row) -> None:
        """Write one row (the header before the first; ``explanation`` column only with --explain)."""
        d = row_dict(row)
        fields = self.FIELDS + (("explanation",) if "explanation" in d else ())
        if not self.header:
            self.out.write(_csv_line(fields))
            self.header = True
        self.out.write(_csv_line([_csv_cell(d[f]) for f in fields]))

    def finish(self, totals: Totals, warnings: Sequence[str] = ()) -> None:
        """CSV carries no totals nor warnings; an empty result still gets its header."""
        if not self.header:
            self.out.write(_csv_line(self.FIELDS))


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    return spreadsheet_text(value) if isinstance(value, str) else str(value)


def _csv_line(cells: Sequence[str]) -> str:
    """One RFC 4180 line: a cell with a comma, quote, CR or LF is quoted.

    (The csv module leaves a lone CR unquoted when lines end in LF, and every reader ends the line there.)
    """
    return ",".join('"' + c.replace('"', '""') + '"' if any(x in c for x in ',"\r\n') else c for c in cells) + "\n"


_WORD = re.compile(r"\s*\S+\s*")


def _divide(text: str, width: int) -> list[str]:
    """Split one line of text into pieces of at most ``width`` cells, as rich wraps a cell (``overflow="fold"``).

    Words (a run of non-space with the spaces after it) go whole onto a line when they fit, else onto the
    next; a word wider than a line is folded by cells (a CJK character is two cells and never split). The
    same breaks as rich's own wrapping, so the table looks as it did when rich laid out every row.
    """
    breaks: list[int] = []
    offset = 0
    for match in _WORD.finditer(text):
        start, word = match.start(), match.group(0)
        size = cell_len(word.rstrip())
        if width - offset >= size:
            offset += cell_len(word)
        elif size > width:
            pieces = chop_cells(word, width)
            for k, piece in enumerate(pieces):
                if start:
                    breaks.append(start)
                if k == len(pieces) - 1:
                    offset = cell_len(piece)
                else:
                    start += len(piece)
        elif offset and start:
            breaks.append(start)
            offset = cell_len(word)
    if not breaks:
        return [text]
    bounds = [0, *breaks, len(text)]
    return [text[a:b] for a, b in zip(bounds, bounds[1:], strict=False)]


def _cell_lines(text: str, width: int, right: bool) -> list[str]:
    """A cell's lines, each exactly ``width`` cells: wrapped, then padded (``right``: on the left)."""
    pieces = [text] if cell_len(text) <= width else _divide(text, width)
    if not right:
        return [set_cell_size(p, width) for p in pieces]  # (crops the space ending a full line; pads)
    out = []
    for piece in pieces:
        piece = piece.rstrip()
        size = cell_len(piece)
        out.append(set_cell_size(piece, width) if size > width else " " * (width - size) + piece)
    return out


class TableWriter:
    """Prints the rows as a table, then the totals by item and payable year.

    Memory stays bounded whatever the number of rows: they are printed in chunks of :attr:`CHUNK`. The
    column widths are rich's layout of the first chunk (as wide as its content, within :data:`TABLE_WIDTH`)
    and kept for every later chunk, so the table reads as one. Rich prints the title, the header and the
    totals; the data rows are laid out here, line by line, with rich's wrapping and cell widths (CJK
    characters take two cells): rich's table layout costs about a millisecond per row, ten times the
    evaluation itself, and every row of one table has the same columns anyway.
    """

    CHUNK = 1000
    COLUMNS = (
        ("企业\nEnterprise", "left"),
        ("年度\nYear", "right"),
        ("条款\nItem", "left"),
        ("状态\nStatus", "left"),
        ("金额（元）\nAmount (CNY)", "right"),
        ("兑付年度\nPayable", "right"),
        ("理由\nReason", "left"),
    )

    def __init__(self, out: IO[str], policy: Policy, terminal: bool | None = None) -> None:
        self.out = out
        self.policy = policy
        self.terminal = terminal  # False: plain text for a file, even when stdout is a terminal
        self.rows: list[Row] = []
        self.console: Console | None = None
        self.chunks = 0
        self.widths: list[int] | None = None  # of every column, once the first chunk has been measured
        self.bottom = ""  # the table's bottom edge, printed after the last chunk
        self.explained = False
        self.styled: dict[tuple[str, str], str] = {}  # (status, padded text) -> the text in its colour

    def row(self, row: Row) -> None:
        """Keep one row; print the chunk when it is full."""
        if not self.rows and not self.chunks:
            self.explained = row.explanation is not None  # (--explain gives every row an explanation)
        self.rows.append(row)
        if len(self.rows) >= self.CHUNK:
            self._flush(last=False)

    def finish(self, totals: Totals, warnings: Sequence[str] = ()) -> None:
        """Print the last rows and the totals (warnings go to stderr, summarised, and to ``--warnings FILE``)."""
        if self.rows or not self.chunks:
            self._flush(last=True)
        elif self.bottom:
            self.out.write(self.bottom)
        self._get_console().print(_totals_tables(totals))

    def _get_console(self) -> Console:
        if self.console is None:
            self.console = _console(self.out, TABLE_WIDTH, soft_wrap=False, terminal=self.terminal)  # to stdout
        return self.console

    def _title(self) -> str:
        title = f"{self.policy.title_zh}\n{self.policy.id} {self.policy.version}"
        extra = overrides_line(self.policy.override_map())
        return f"{title}\n{extra}" if extra else title

    def _cells(self, r: Row) -> list[str]:
        cells = [
            clean(r.company),
            str(r.year),
            clean(r.item),
            STATUS_LABELS.get(r.status, r.status),
            f"{r.amount:,}",
            "" if r.payable_year is None else str(r.payable_year),
            clean(r.reason),
        ]
        if self.explained:
            cells.append(clean(r.explanation or ""))
        return cells

    def _table(self, columns: list[tuple[str, str]], widths: list[int] | None, rows: list[list[str]]) -> Table:
        table = Table(title=Text(clean_lines(self._title())), box=box.SIMPLE_HEAVY, show_lines=False)
        for k, (header, justify) in enumerate(columns):
            width = widths[k] if widths is not None else None
            table.add_column(header, justify=justify, overflow="fold", width=width)  # type: ignore[arg-type]
        for cells in rows:
            table.add_row(*(Text(c) for c in cells))
        return table

    def _measure(self, console: Console, columns: list[tuple[str, str]], rows: list[list[str]]) -> list[int]:
        """The column widths of the first chunk: rich's own layout of those rows (content, within the width)."""
        table = self._table(columns, None, rows)
        measure = getattr(table, "_calculate_column_widths", None)  # (rich's private layout, to keep its look)
        if measure is not None:
            padding = 2  # one space each side of a cell
            edges = 1 + len(columns)  # the box: an edge each side and a divider between columns, one cell each
            options = console.options.update_width(console.options.max_width - edges)  # (as Table does)
            return [w - padding for w in measure(console, options)]
        # Without it: each column as wide as its widest line; the last takes what is left, at least 20 cells.
        widths = [max(cell_len(line) for c in [h, *(r[k] for r in rows)] for line in c.split("\n"))
                  for k, (h, _) in enumerate(columns)]  # fmt: skip
        room = console.width - sum(widths[:-1]) - 3 * len(widths) - 1
        return [*widths[:-1], max(20, min(widths[-1], room))]

    def _flush(self, last: bool) -> None:
        console = self._get_console()
        columns = list(self.COLUMNS) + ([("解释\nExplanation", "left")] if self.explained else [])
        rows = [self._cells(r) for r in self.rows]
        statuses = [r.status for r in self.rows]
        self.rows = []
        if self.widths is None:
            self.widths = self._measure(console, columns, rows)
            with console.capture() as capture:  # title, header and edges: rich's, at these widths
                console.print(self._table(columns, self.widths, []))
            lines = capture.get().splitlines(keepends=True)
            if lines and not lines[-1].strip():
                self.bottom = lines.pop()  # printed once, after the last chunk
            self.out.write("".join(lines))
        self.chunks += 1
        widths = self.widths
        right = [justify == "right" for _, justify in columns]
        styled = console.is_terminal and not console.no_color
        out: list[str] = []
        for status, cells in zip(statuses, rows, strict=True):
            parts = [_cell_lines(c, w, j) for c, w, j in zip(cells, widths, right, strict=True)]
            if styled and status in STATUS_STYLE:
                parts[3] = [self._styled(console, status, piece) for piece in parts[3]]
            height = max(len(p) for p in parts)
            for k in range(height):
                line = "   ".join(p[k] if k < len(p) else " " * w for p, w in zip(parts, widths, strict=True))
                out.append(f"  {line}  \n")
        self.out.write("".join(out))
        if last:
            self.out.write(self.bottom)

    def _styled(self, console: Console, status: str, piece: str) -> str:
        """A status cell line in its colour (on a terminal; rendered by rich once per status and text)."""
        key = (status, piece)
        if key not in self.styled:
            with console.capture() as capture:
                console.print(Text(piece, style=STATUS_STYLE[status]), end="", soft_wrap=True)
            self.styled[key] = capture.get()
        return self.styled[key]


def _totals_tables(totals: Totals) -> Table:
    data = totals.as_json()
    grid = Table(box=box.SIMPLE, title=Text("合计 Totals"))
    grid.add_column("按条款 By item\n条款 Item")
    grid.add_column("予以扶持\nGranted", justify="right")
    grid.add_column("待评估（上限）\nPending (max)", justify="right")
    for item, amounts in data["by_item"].items():
        grid.add_row(item, f"{amounts['granted']:,}", f"{amounts['pending_assessment']:,}")
    grid.add_section()
    for year, amounts in data["by_payable_year"].items():
        grid.add_row(f"兑付年度 payable {year}", f"{amounts['granted']:,}", f"{amounts['pending_assessment']:,}")
    grid.add_section()
    grid.add_row("总计 Total", f"{data['amount']['granted']:,}", f"{data['amount']['pending_assessment']:,}")
    grid.add_section()
    for status, entry in data["by_status"].items():
        grid.add_row(f"{STATUS_LABELS.get(status, status)}: {entry['rows']} 行 rows", "", "")
    for kind, ids in data["flags"].items():
        label = "纳入公共信用信息平台 credit platform" if kind == "credit_platform" else kind
        grid.add_row(Text(f"{clean(label)}: {', '.join(clean(i) for i in ids)}"), "", "")
    return grid


WRITERS: dict[str, type[JsonWriter] | type[CsvWriter] | type[TableWriter]] = {
    "json": JsonWriter,
    "csv": CsvWriter,
    "table": TableWriter,
}


class Messages:
    """Diagnostics on stderr, data escaped (markup off)."""

    def __init__(self) -> None:
        self.console = Console(stderr=True, highlight=False, markup=False, soft_wrap=True)

    def error(self, text: str) -> None:
        """Print an error line."""
        self.console.print(Text("错误 error: ", style="bold red") + _message(text))

    def warning(self, text: str) -> None:
        """Print a warning line."""
        self.console.print(Text("警告 warning: ", style="yellow") + _message(text))

    def info(self, text: str) -> None:
        """Print a note."""
        self.console.print(_message(text))


@contextmanager
def progress(total: int | None, label: str) -> Iterator[Any]:
    """A progress bar on stderr when stderr is a terminal; yields ``advance(n)``."""
    if not sys.stderr.isatty():
        yield lambda n: None
        return
    console = Console(stderr=True)
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as bar:
        task = bar.add_task(label, total=total)
        yield lambda n: bar.advance(task, n)


# ---- explanations ---------------------------------------------------------------------------------------

KIND_MARK = {
    "derived": "⊢",
    "input": "▣",
    "parameter": "⚙",
    "comparison": "≟",
    "negation": "¬",
    "aggregate": "Σ",
    "call": "ƒ",
    "not_derived": "✗",
    "failed": "✗",
    "repeat": "↑",
    "limit": "…",
}


def explanation_dict(exp: Any) -> dict[str, Any]:
    """The documented JSON form of an :class:`fuchi.explanation.explain.Explanation` (docs/auditing.md)."""
    from dataclasses import asdict

    header: dict[str, Any] = {"id": exp.policy_id, "version": exp.policy_version, "digest": exp.policy_digest}
    if exp.policy_overrides:
        header["overrides"] = dict(exp.policy_overrides)
    return {
        "policy": header,
        "company": exp.company,
        "name": exp.name,
        "source": exp.source,
        "detailed": exp.detailed,
        "rows": [{k: v for k, v in asdict(r).items() if k not in ("page", "line")} for r in exp.rows],
    }


def write_explanation_json(out: IO[str], exp: Any) -> None:
    """Write an explanation as one JSON document."""
    out.write(json.dumps(explanation_dict(exp), ensure_ascii=False, indent=1).translate(_JSON_UNSAFE) + "\n")


def _step_text(step: Any) -> Text:
    mark = KIND_MARK.get(step.kind, "•")
    style = "" if step.holds else "red"
    text = Text(f"{mark} ", style="dim")
    text.append(clean(step.text), style=style)
    if step.rule is not None:
        clauses = ",".join(c.id for c in step.rule.clauses)
        text.append(f"  [{step.rule.id}", style="cyan")
        if clauses:
            text.append(f" 条款 clause {clauses}", style="cyan")
        if step.rule.rulings:
            text.append(f" 裁定 ruling {' '.join(step.rule.rulings)}", style="cyan")
        text.append(f" {step.rule.file}:{step.rule.line}]", style="cyan")
    if step.source:
        text.append(f"  ← {clean(step.source)}", style="green")
    if step.note:
        text.append(f"  ({clean(step.note)})", style="yellow")
    return text


def _tree(step: Any, parent: Any) -> None:
    node = parent.add(_step_text(step))
    for child in step.children:
        _tree(child, node)


def write_explanation_tree(out: IO[str], exp: Any) -> None:
    """Print an explanation as a rich tree (plain text when not on a terminal)."""
    from rich.tree import Tree

    terminal = sys.stdout.isatty()
    console = _console(out, 4000, soft_wrap=True)
    head = Text(f"企业 enterprise {clean(exp.company)}")
    if exp.name:
        head.append(f"  {clean(exp.name)}")
    head.append(f"  ({clean(exp.source)}; {exp.policy_id} {exp.policy_version})")
    if exp.policy_overrides:
        head.append(f"\n{clean(overrides_line(exp.policy_overrides))}")
    root = Tree(head)
    for row in exp.rows:
        label = Text(f"{row.year} {row.item}  ")
        label.append(STATUS_LABELS.get(row.status, row.status), style=STATUS_STYLE.get(row.status, ""))
        label.append(f"  {row.amount:,} 元")
        if row.payable_year is not None:
            label.append(f"  兑付 payable {row.payable_year}")
        label.append(f"  — {clean(row.reason)}")
        node = root.add(label)
        if not exp.detailed:
            continue
        if row.clause is not None:
            clause = node.add(Text(clean(f"条款 clause {row.clause.id} {row.clause.title}"), style="bold"))
            clause.add(Text(clean_lines(row.clause.zh)))
            clause.add(Text(clean_lines(row.clause.en), style="dim"))
        why = node.add(Text("为什么 why", style="bold"))
        _tree(row.why, why)
        if row.why_not:
            why_not = node.add(Text("为什么没有 why not", style="bold"))
            for step in row.why_not:
                _tree(step, why_not)
    console.print(root)
    if not terminal:
        return


def _md_step(step: Any, depth: int, lines: list[str]) -> None:
    rule = ""
    if step.rule is not None:
        clauses = ",".join(c.id for c in step.rule.clauses)
        rule = (
            f" — `{step.rule.id}`"
            + (f" 条款 clause {clauses}" if clauses else "")
            + (f" 裁定 ruling {' '.join(step.rule.rulings)}" if step.rule.rulings else "")
            + f" ({step.rule.file}:{step.rule.line})"
        )
    mark = KIND_MARK.get(step.kind, "•")
    src = f" ← {clean(step.source)}" if step.source else ""
    note = f" *({clean(step.note)})*" if step.note else ""
    text = clean(step.text).replace("`", "'")
    lines.append(f"{'  ' * depth}- {mark} `{text}`{rule}{src}{note}")
    for child in step.children:
        _md_step(child, depth + 1, lines)


def write_explanation_markdown(out: IO[str], exp: Any) -> None:
    """Write an explanation as Markdown for reports."""
    lines = [
        f"# 企业 Enterprise {clean(exp.company)}" + (f" {clean(exp.name)}" if exp.name else ""),
        "",
        f"- 来源 source: {clean(exp.source)}",
        f"- 政策 policy: {exp.policy_id} {exp.policy_version} ({exp.policy_digest})",
        *([f"- {clean(overrides_line(exp.policy_overrides))}"] if exp.policy_overrides else []),
        "",
    ]
    for row in exp.rows:
        payable = f", 兑付 payable {row.payable_year}" if row.payable_year is not None else ""
        lines.append(
            f"## {row.year} {row.item}: {STATUS_LABELS.get(row.status, row.status)}, {row.amount:,} 元{payable}"
        )
        lines.append("")
        lines.append(f"理由 reason: {clean(row.reason)}")
        lines.append("")
        if not exp.detailed:
            continue
        if row.clause is not None:
            lines += [
                f"> 条款 {row.clause.id} {row.clause.title}",
                ">",
                f"> {row.clause.zh}",
                ">",
                f"> {row.clause.en}",
                "",
            ]
        lines.append("### 为什么 Why")
        lines.append("")
        _md_step(row.why, 0, lines)
        lines.append("")
        if row.why_not:
            lines.append("### 为什么没有 Why not")
            lines.append("")
            for step in row.why_not:
                _md_step(step, 0, lines)
            lines.append("")
    out.write("\n".join(lines).rstrip() + "\n")


EXPLAIN_WRITERS = {
    "tree": write_explanation_tree,
    "json": write_explanation_json,
    "markdown": write_explanation_markdown,
}


# ---- the auditor's page (explain ENTERPRISE ITEM; the full chain is --proof) -----------------------------------


def _rule_dict(rule: Any) -> dict[str, Any] | None:
    if rule is None:
        return None
    return {"id": rule.id, "file": rule.file, "line": rule.line, "clauses": [c.id for c in rule.clauses]}


def _finding_dict(f: Any) -> dict[str, Any]:
    return {
        "rule": _rule_dict(f.rule),
        "holds": f.holds,
        "decides": f.decides,
        "zh": f.zh,
        "en": f.en,
        "arithmetic": f.arithmetic,
        "checks": list(f.checks),
        "facts": [{"kind": x.kind, "text": x.text, "source": x.source} for x in f.facts],
        "children": [_finding_dict(c) for c in f.children],
    }


def page_dict(exp: Any) -> dict[str, Any]:
    """The JSON form of the auditor's pages of an explanation (docs/auditing.md).

    Markdown and the tree render the same structure.
    """
    header: dict[str, Any] = {"id": exp.policy_id, "version": exp.policy_version, "digest": exp.policy_digest}
    if exp.policy_overrides:
        header["overrides"] = dict(exp.policy_overrides)
    rows = []
    for r in exp.rows:
        page = r.page
        rows.append(
            {
                "company": r.company,
                "year": r.year,
                "item": r.item,
                "status": r.status,
                "amount": r.amount,
                "payable_year": r.payable_year,
                "reason": r.reason,
                "clause": None
                if r.clause is None
                else {"id": r.clause.id, "title": r.clause.title, "zh": r.clause.zh, "en": r.clause.en},
                "decided_by": _rule_dict(r.decided_by),
                "decided": None if page is None else {"zh": page.decided_zh, "en": page.decided_en},
                "line": r.line,
                "findings": [] if page is None else [_finding_dict(f) for f in page.findings],
                "omitted": 0 if page is None else page.omitted,
            }
        )
    return {"policy": header, "company": exp.company, "name": exp.name, "source": exp.source, "rows": rows}


def write_page_json(out: IO[str], exp: Any) -> None:
    """Write the auditor's pages as one JSON document."""
    out.write(json.dumps(page_dict(exp), ensure_ascii=False, indent=1).translate(_JSON_UNSAFE) + "\n")


def _rule_label(rule: dict[str, Any] | None) -> str:
    if rule is None:
        return ""
    clauses = ",".join(rule["clauses"])
    return f"{rule['id']}" + (f" 条款 clause {clauses}" if clauses else "") + f" {rule['file']}:{rule['line']}"


def _said(zh: str, en: str) -> str:
    return clean(zh) if zh == en else f"{clean(zh)} / {clean(en)}"


def _code(text: str, md: bool) -> str:
    return f"`{clean(text).replace('`', chr(39))}`" if md else clean(text)


def _finding_lines(f: dict[str, Any], depth: int, md: bool, lines: list[str]) -> None:
    """One finding (its sentence, arithmetic, checks, facts) and those under it, as page lines."""
    pad = "  " * depth if md else "  " * (depth + 2)
    bullet = "- " if md else ""
    mark = "✓" if f["holds"] else "✗"
    decides = "  ⇐ 决定 decides" if f["decides"] else ""
    lines.append(f"{pad}{bullet}{mark} {_said(f['zh'], f['en'])}  [{_rule_label(f['rule'])}]{decides}")
    sub = pad + ("  - " if md else "    ")
    if f["arithmetic"]:
        lines.append(f"{sub}ƒ {_code(f['arithmetic'], md)}")
    for check in f["checks"]:
        lines.append(f"{sub}≟ {_code(check, md)}")
    for x in f["facts"]:
        mark_x = "▣" if x["kind"] == "input" else "⚙"
        lines.append(f"{sub}{mark_x} {_code(x['text'], md)} ← {clean(x['source'])}")
    for child in f["children"]:
        _finding_lines(child, depth + 1, md, lines)


def _page_lines(doc: dict[str, Any], md: bool) -> list[str]:
    """The page as lines; ``md``: Markdown (headings, bullets, code spans), else indented plain text."""
    head = f"企业 enterprise {clean(doc['company'])}" + (f"  {clean(doc['name'])}" if doc["name"] else "")
    policy = doc["policy"]
    lines = [f"# {head}" if md else head, ""] if md else [head]
    where = f"来源 source: {clean(doc['source'])}; 政策 policy: {policy['id']} {policy['version']}"
    lines += [f"- {where} ({policy['digest']})", ""] if md else [f"  {where}"]
    if policy.get("overrides"):
        lines.append(("- " if md else "  ") + clean(overrides_line(policy["overrides"])))
    for r in doc["rows"]:
        payable = f"  兑付 payable {r['payable_year']}" if r["payable_year"] is not None else ""
        status = STATUS_LABELS.get(r["status"], r["status"])
        title = f"{r['year']} {r['item']}  {status}  {r['amount']:,} 元{payable}"
        lines += ["", f"## {title}", "", f"理由 reason: {clean(r['reason'])}", ""] if md else ["", title]
        if not md:
            lines.append(f"  理由 reason: {clean(r['reason'])}")
        clause = r["clause"]
        if clause is not None:
            if md:
                lines += [f"> 条款 {clause['id']} {clause['title']}", ">", f"> {clause['zh']}", ">"]
                lines += [f"> {clause['en']}", ""]
            else:
                lines += [f"  条款 clause {clause['id']} {clean(clause['title'])}"]
                lines += [f"    {clean_lines(clause['zh'])}", f"    {clean_lines(clause['en'])}"]
        if r["decided_by"] is not None and r["decided"] is not None:
            said = _said(r["decided"]["zh"], r["decided"]["en"])
            text = f"决定 decided by: {said}  [{_rule_label(r['decided_by'])}]"
            lines += [f"**{text}**", ""] if md else [f"  {text}"]
        if md and r["findings"]:
            lines += ["### 依据 Grounds", ""]
        elif r["findings"]:
            lines.append("  依据 grounds (✓ 成立 holds, ✗ 不成立 does not hold):")

        for f in r["findings"]:
            _finding_lines(f, 0, md, lines)
        if r["omitted"]:
            n = r["omitted"]
            more = f"另有 {n} 条未成立的条件从略（--proof 全部列出） {n} more conditions not shown (--proof)"
            lines.append(("- " if md else "    ") + more)
    return lines


def write_page_tree(out: IO[str], exp: Any) -> None:
    """Write the auditor's pages as indented text."""
    out.write("\n".join(_page_lines(page_dict(exp), md=False)) + "\n")


def write_page_markdown(out: IO[str], exp: Any) -> None:
    """Write the auditor's pages as Markdown."""
    lines: list[str] = []
    for line in _page_lines(page_dict(exp), md=True):
        if line or (lines and lines[-1]):
            lines.append(line)
    out.write("\n".join(lines).rstrip() + "\n")


PAGE_WRITERS = {"tree": write_page_tree, "json": write_page_json, "markdown": write_page_markdown}


# ---- policy tests, coverage, checks ---------------------------------------------------------------------


def write_test_table(out: IO[str], results: list[Any], explanations: dict[str, Any]) -> None:
    """Pass/fail table of policy cases, then each failure with expected vs got and its explanation."""
    console = _console(out, TABLE_WIDTH, soft_wrap=True)
    table = Table(box=box.SIMPLE_HEAVY, title=Text("政策测试 Policy cases"))
    table.add_column("结果\nResult")
    table.add_column("用例\nCase")
    table.add_column("文件\nFile")
    table.add_column("裁定\nRulings")
    for r in results:
        table.add_row(
            Text("通过 pass", style="green") if r.passed else Text("失败 FAIL", style="bold red"),
            Text(clean(r.case.name)),
            Text(clean(r.case.file)),
            " ".join(r.case.rulings),
        )
    console.print(table)
    failed = [r for r in results if not r.passed]
    for r in failed:
        console.print(Text(clean(f"✗ {r.case.name} ({r.case.file})"), style="bold red"))
        for f in r.failures:
            console.print(Text(f"    {clean(f)}"))
        exp = explanations.get(r.case.name)
        if exp is not None:
            buf = _StringIO()
            write_explanation_tree(buf, exp)  # type: ignore[arg-type]
            for line in buf.getvalue().splitlines():
                console.print(Text("    " + line))
    console.print(
        Text(f"{len(results) - len(failed)} 通过 passed, {len(failed)} 失败 failed, {len(results)} 用例 cases")
    )


class _StringIO:
    def __init__(self) -> None:
        import io

        self.buf = io.StringIO()

    def write(self, s: str) -> int:
        return self.buf.write(s)

    def isatty(self) -> bool:
        return False

    def flush(self) -> None:
        pass

    def getvalue(self) -> str:
        return self.buf.getvalue()


def test_results_dict(results: list[Any], explanations: dict[str, Any]) -> dict[str, Any]:
    """JSON form of policy test results."""
    return {
        "passed": sum(1 for r in results if r.passed),
        "failed": sum(1 for r in results if not r.passed),
        "cases": [
            {
                "name": r.case.name,
                "file": r.case.file,
                "rulings": list(r.case.rulings),
                "passed": r.passed,
                "failures": r.failures,
                **({"explanation": explanation_dict(explanations[r.case.name])} if r.case.name in explanations else {}),
            }
            for r in results
        ],
    }


def write_junit(path: str, results: list[Any], policy: Policy | None = None) -> None:
    """Write a JUnit XML report (for CI dashboards), whole or not at all.

    The suite's ``<properties>`` name the policy (id, version, digest) and every ``--set`` override in
    force, so that a dashboard tells a run of an overridden draft from one of the policy as written.

    Raises:
        OutputError: The file cannot be written (its directory is missing, it is a directory …).

    """
    from xml.etree import ElementTree as ET

    suite = ET.Element(
        "testsuite",
        name="fuchi-policy-cases",
        tests=str(len(results)),
        failures=str(sum(1 for r in results if not r.passed)),
    )
    if policy is not None:
        props = ET.SubElement(suite, "properties")
        for name, value in (
            ("policy.id", policy.id),
            ("policy.version", policy.version),
            ("policy.digest", policy.digest),
        ):
            ET.SubElement(props, "property", name=name, value=str(value))
        for key, text in policy.override_map().items():
            ET.SubElement(props, "property", name=f"override.{key}", value=text)
    for r in results:
        case = ET.SubElement(suite, "testcase", classname=r.case.file, name=r.case.name)
        if not r.passed:
            failure = ET.SubElement(case, "failure", message=r.failures[0][:200])
            failure.text = "\n".join(r.failures)
    from .files import atomic_output

    with atomic_output(path) as fh:  # (a missing directory: OutputError, nothing written)
        ET.ElementTree(suite).write(fh, encoding="utf-8", xml_declaration=True)


def write_coverage(out: IO[str], report: Any) -> None:
    """Coverage table: each rule, whether a case made it fire and one made it fail."""
    console = _console(out, TABLE_WIDTH, soft_wrap=True)
    table = Table(box=box.SIMPLE, title=Text("规则覆盖 Rule coverage"))
    for col in ("规则 Rule", "位置 Location", "条款 Clause", "触发 Fired", "不触发 Failed"):
        table.add_column(col)
    for r in report.rules:
        table.add_row(
            r.rule_id,
            f"{r.file}:{r.line}",
            " ".join(r.clauses) or "-",
            Text("✓", style="green") if r.fired else Text("✗ 无用例", style="red"),
            Text("—" if r.is_fact else "✓", style="green") if r.failed else Text("✗ 无用例", style="red"),
        )
    console.print(table)
    console.print(
        Text(
            f"触发 fired {report.percent('fired'):.1f}% · 不触发 failed {report.percent('failed'):.1f}% "
            f"· {len(report.rules)} rules"
        )
    )
    if report.clauses_without_case:
        console.print(
            Text("无用例的条款 clauses without a case: " + ", ".join(report.clauses_without_case), style="red")
        )


def coverage_dict(report: Any) -> dict[str, Any]:
    """JSON form of a coverage report."""
    return {
        "fired_percent": round(report.percent("fired"), 2),
        "failed_percent": round(report.percent("failed"), 2),
        "clauses_without_case": report.clauses_without_case,
        "rules": [
            {
                "rule": r.rule_id,
                "file": r.file,
                "line": r.line,
                "clauses": list(r.clauses),
                "fired": r.fired,
                "failed": r.failed,
                "fact": r.is_fact,
                "fired_by": r.fired_by[:5],
                "failed_by": r.failed_by[:5],
            }
            for r in report.rules
        ],
    }


def write_findings(findings: list[Any], out: IO[str] | None = None) -> None:
    """Print check findings (stderr by default)."""
    console = Console(
        file=out, stderr=out is None, highlight=False, markup=False, soft_wrap=True, no_color=out is not None
    )
    for f in findings:
        style = "bold red" if f.severity == "error" else "yellow"
        text = Text(f"{clean(f.file)}:{f.line}:{f.column}: ")
        text.append(f.severity, style=style)
        text.append(": ")
        text.append(_message(f.message))
        console.print(text)
        if f.hint:
            console.print(Text(f"    提示 hint: {clean(f.hint)}", style="dim"))


def _param_value(p: Any) -> str:
    if isinstance(p.value, dict):
        return ", ".join(f"{k}: {v}" for k, v in p.value.items())
    if isinstance(p.value, list):
        return ", ".join(str(v) for v in p.value)
    return str(p.value)


def write_policy_markdown(out: IO[str], policy: Policy, views: list[Any]) -> None:
    """Each clause: text, rules (file:line), parameters and rulings, as Markdown (feeds docs/)."""
    lines = [
        f"# {policy.title_zh}",
        "",
        f"{policy.title_en}",
        "",
        f"- 编号 id: `{policy.id}` · 版本 version: `{policy.version}` · 有效期 effective: "
        f"{policy.effective_from} – {policy.effective_to}",
        f"- digest: `{policy.digest}`",
        "",
    ]
    for v in views:
        c = v.clause
        lines += [f"## {c.id} {c.title_zh} / {c.title_en}", "", f"> {c.zh}", ">", f"> {c.en}", ""]
        if v.rules:
            lines.append("**规则 Rules**")
            lines.append("")
            for r in v.rules:
                quote = f" — {r.quote[0]}" if r.quote else ""
                lines.append(f"- `{r.id}` ({r.file}:{r.line}) 裁定 rulings: {' '.join(r.rulings) or '-'}{quote}")
            lines.append("")
        if v.parameters:
            lines.append("**参数 Parameters**")
            lines.append("")
            lines.append("| 参数 parameter | 值 value | 类型 type | 说明 text |")
            lines.append("|---|---|---|---|")
            for p in v.parameters:
                lines.append(f"| `{p.name}` | {_param_value(p)} | {p.type} | {p.text_zh} / {p.text_en} |")
            lines.append("")
        if v.rulings:
            lines.append(f"**裁定 Rulings**: {' '.join(v.rulings)}")
            lines.append("")
    out.write("\n".join(lines).rstrip() + "\n")


def write_policy_table(out: IO[str], policy: Policy, views: list[Any]) -> None:
    """The same as a rich table."""
    console = _console(out, TABLE_WIDTH, soft_wrap=True)
    title = Text(clean_lines(f"{policy.title_zh}\n{policy.id} {policy.version}"))
    table = Table(box=box.SIMPLE_HEAVY, show_lines=True, title=title)
    for col in ("条款 Clause", "条文 Text", "规则 Rules", "参数 Parameters", "裁定 Rulings"):
        table.add_column(col)
    for v in views:
        c = v.clause
        rules = "\n".join(f"{r.id} ({r.file}:{r.line})" for r in v.rules)
        params = "\n".join(f"{p.name} = {_param_value(p)}" for p in v.parameters)
        table.add_row(
            Text(clean_lines(f"{c.id}\n{c.title_zh}\n{c.title_en}")),
            Text(clean_lines(f"{c.zh}\n{c.en}")),
            Text(rules),
            Text(params),
            Text(" ".join(v.rulings)),
        )
    console.print(table)


# ---- impact reports (diff, budget, sweep): the terminal tables ----------------------------------------------


def _paid_text(status: str, amount: int, payable_year: int | None) -> Text:
    text = Text(STATUS_LABELS.get(status, status), style=STATUS_STYLE.get(status, ""))
    if status in ("granted", "pending_assessment"):
        text.append(f" {amount:,}")
    if payable_year is not None:
        text.append(f" →{payable_year}")
    return text


class DiffTableWriter:
    """The changes of ``fuchi diff`` as tables of 1,000 rows (fixed widths: chunks line up), then the totals."""

    CHUNK = 1000
    COLUMNS = (
        ("企业\nEnterprise", 20),
        ("年度\nYear", 4),
        ("条款\nItem", 6),
        ("原政策\nBase", 28),
        ("草案\nDraft", 28),
        ("差额\nDelta", 12),
        ("理由（草案）\nReason (draft)", 44),
    )

    def __init__(self, out: IO[str], base: Policy, policy: Policy, terminal: bool | None = None) -> None:
        self.out = out
        self.base, self.policy = base, policy
        self.console = _console(out, TABLE_WIDTH, soft_wrap=False, terminal=terminal)
        self.rows: list[Any] = []
        self.chunks = 0

    def change(self, change: Any) -> None:
        """Add one change (a :class:`fuchi.drafting.impact.Change`)."""
        self.rows.append(change)
        if len(self.rows) >= self.CHUNK:
            self._flush()

    def _flush(self) -> None:
        first = self.chunks == 0
        title = None
        if first:
            lines = [
                f"{self.policy.title_zh}",
                f"原 base {self.base.id} {self.base.version} → 草案 draft {self.policy.id} {self.policy.version}",
            ]
            for label, p in (("原 base", self.base), ("草案 draft", self.policy)):
                extra = overrides_line(p.override_map())
                if extra:
                    lines.append(f"{label} {extra}")
            title = Text(clean_lines("\n".join(lines)))
        table = Table(title=title, box=box.SIMPLE_HEAVY, show_header=first)
        for header, width in self.COLUMNS:
            justify = "right" if header.startswith(("差额", "年度")) else "left"
            table.add_column(header, width=width, overflow="fold", justify=justify)  # type: ignore[arg-type]
        for c in self.rows:
            reason = (c.policy or c.base).reason if (c.policy or c.base) else ""
            cells: list[Any] = [Text(clean(c.company)), str(c.year), c.item]
            for side in (c.base, c.policy):
                cells.append(Text("—") if side is None else _paid_text(side.status, side.amount, side.payable_year))
            delta = c.delta
            cells.append(Text(f"{delta:+,}" if delta else "0", style="green" if delta > 0 else "red" if delta else ""))
            cells.append(Text(clean(reason)))
            table.add_row(*cells)
        self.console.print(table)
        self.rows = []
        self.chunks += 1

    def finish(self, totals: Any, warnings: Sequence[str] = ()) -> None:
        """Print the last changes and the totals (a :class:`fuchi.drafting.impact.DiffTotals`)."""
        if self.rows or self.chunks == 0:
            if not self.rows:
                self.console.print(Text("没有变化 no changes"))
                self.chunks = 1
            else:
                self._flush()
        data = totals.as_json()
        grid = Table(box=box.SIMPLE, title=Text("合计 Totals (原 base → 草案 draft)"))
        grid.add_column("")
        for label in ("予以扶持 granted", "待评估 pending (max)"):
            for side in ("原 base", "草案 draft", "差额 delta"):
                grid.add_column(f"{side}\n{label}", justify="right")

        def cells(t: dict[str, dict[str, int]]) -> list[str]:
            out = []
            for status in ("granted", "pending_assessment"):
                out += [f"{t['base'][status]:,}", f"{t['policy'][status]:,}", f"{t['delta'][status]:+,}"]
            return out

        for year, t in data["by_payable_year"].items():
            grid.add_row(f"兑付年度 payable {year}", *cells(t))
        grid.add_section()
        grid.add_row("总计 Total", *cells(data["amount"]))
        grid.add_section()
        for item, t in data["by_item"].items():
            grid.add_row(item, *cells(t))
        self.console.print(grid)
        e = data["enterprises"]
        self.console.print(
            Text(
                f"企业 enterprises {data['companies']:,} · 变化行 changed rows {data['changes']:,} · 受益 gain "
                f"{e['gain']:,} · 受损 lose {e['lose']:,} · 有变化 changed {e['changed']:,}"
            )
        )


def write_budget_table(out: IO[str], policy: Policy, budget: Any, warnings: Sequence[str] = ()) -> None:
    """``fuchi budget`` on the terminal: item × payable year × status, then totals by payable year."""
    console = _console(out, TABLE_WIDTH, soft_wrap=False)
    lines = [policy.title_zh, f"{policy.id} {policy.version}"]
    extra = overrides_line(policy.override_map())
    if extra:
        lines.append(extra)
    table = Table(title=Text(clean_lines("\n".join(lines))), box=box.SIMPLE_HEAVY)
    for header, justify in (
        ("条款\nItem", "left"),
        ("兑付年度\nPayable", "right"),
        ("状态\nStatus", "left"),
        ("企业\nEnterprises", "right"),
        ("行\nRows", "right"),
        ("金额（元）\nAmount", "right"),
    ):
        table.add_column(header, justify=justify)  # type: ignore[arg-type]
    for item, year, status, rows, enterprises, amount in budget.ordered_cells():
        table.add_row(
            item,
            str(year),
            Text(STATUS_LABELS.get(status, status), style=STATUS_STYLE.get(status, "")),
            f"{enterprises:,}",
            f"{rows:,}",
            f"{amount:,}",
        )
    console.print(table)
    totals = budget.as_json()["totals"]
    grid = Table(box=box.SIMPLE, title=Text(f"合计 Totals ({budget.companies:,} 企业 enterprises)"))
    for header in ("兑付年度 Payable", "予以扶持 granted", "企业 ent.", "待评估（上限）pending (max)", "企业 ent."):
        grid.add_column(header, justify="right")
    for year, t in totals["by_payable_year"].items():
        g, p = t["granted"], t["pending_assessment"]
        grid.add_row(year, f"{g['amount']:,}", f"{g['enterprises']:,}", f"{p['amount']:,}", f"{p['enterprises']:,}")
    grid.add_section()
    a, e = totals["amount"], totals["enterprises"]
    grid.add_row(
        "总计 Total",
        f"{a['granted']:,}",
        f"{e['granted']:,}",
        f"{a['pending_assessment']:,}",
        f"{e['pending_assessment']:,}",
    )
    console.print(grid)


def write_sweep_table(
    out: IO[str], policy: Policy, name: str, values: Sequence[str], budgets: Sequence[Any], warnings: Sequence[str] = ()
) -> None:
    """``fuchi sweep`` on the terminal: one row per value, granted and pending by payable year."""
    console = _console(out, TABLE_WIDTH, soft_wrap=False)
    years = sorted({y for b in budgets for y, _ in b.years})
    lines = [policy.title_zh, f"{policy.id} {policy.version} · 扫描 sweep {name}"]
    extra = overrides_line(policy.override_map())
    if extra:
        lines.append(extra)
    table = Table(title=Text(clean_lines("\n".join(lines))), box=box.SIMPLE_HEAVY)
    table.add_column(clean(name), justify="right")
    for year in years:
        table.add_column(f"{year}\n予以扶持 granted", justify="right")
        table.add_column(f"{year}\n待评估 pending", justify="right")
    table.add_column("合计\ngranted", justify="right")
    table.add_column("合计\npending", justify="right")
    table.add_column("受扶持企业\nenterprises", justify="right")
    for value, budget in zip(values, budgets, strict=True):
        cells = [Text(clean(value))]
        for year in years:
            cells += [Text(f"{budget.years.get((year, s), [0, 0])[1]:,}") for s in ("granted", "pending_assessment")]
        cells += [Text(f"{budget.amount(s):,}") for s in ("granted", "pending_assessment")]
        cells.append(Text(f"{budget.overall.get('granted', [0, 0])[0]:,}"))
        table.add_row(*cells)
    console.print(table)

"""The one module that owns rich: result writers (table, JSON, CSV), diagnostics and progress.

Results go to the stream given (stdout, after the run succeeded); diagnostics go to stderr. Data is
never interpreted as rich markup: cells are ``Text`` objects and messages are printed with markup off.
"""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, Any, Protocol

from rich import box
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from .evaluation import Row
from .policy import Policy
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


class Writer(Protocol):
    """Receives result rows one by one, then the totals."""

    def row(self, row: Row) -> None:
        """Write or keep one row."""

    def finish(self, totals: Totals) -> None:
        """Write what remains (totals, closing brackets)."""


def row_dict(row: Row) -> dict[str, Any]:
    """The JSON contract's object for one row (key order fixed)."""
    return {
        "company": row.company,
        "year": row.year,
        "item": row.item,
        "status": row.status,
        "amount": row.amount,
        "payable_year": row.payable_year,
        "reason": row.reason,
    }


def policy_header(policy: Policy) -> dict[str, str]:
    """The ``policy`` object of the JSON output."""
    return {"id": policy.id, "version": policy.version, "digest": policy.digest}


class JsonWriter:
    """Streams ``{"policy": …, "results": [...], "totals": …}`` (one row per line)."""

    def __init__(self, out: IO[str], policy: Policy) -> None:
        self.out = out
        self.first = True
        out.write('{"policy": ' + _dumps(policy_header(policy)) + ',\n "results": [')

    def row(self, row: Row) -> None:
        """Write one row."""
        self.out.write(("\n  " if self.first else ",\n  ") + _dumps(row_dict(row)))
        self.first = False

    def finish(self, totals: Totals) -> None:
        """Close the list and write the totals."""
        self.out.write(("\n ]" if not self.first else "]") + ',\n "totals": ' + _dumps(totals.as_json()) + "}\n")


def _dumps(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(", ", ": "))


class CsvWriter:
    """Writes a header and one line per row (RFC 4180 quoting, ``\\n`` line ends)."""

    FIELDS = ("company", "year", "item", "status", "amount", "payable_year", "reason")

    def __init__(self, out: IO[str], policy: Policy) -> None:
        self.writer = csv.writer(out, lineterminator="\n")
        self.writer.writerow(self.FIELDS)

    def row(self, row: Row) -> None:
        """Write one row."""
        d = row_dict(row)
        self.writer.writerow(["" if d[f] is None else d[f] for f in self.FIELDS])

    def finish(self, totals: Totals) -> None:
        """CSV carries no totals."""


class TableWriter:
    """Collects rows and prints a rich table with totals by item and payable year."""

    def __init__(self, out: IO[str], policy: Policy) -> None:
        self.out = out
        self.policy = policy
        self.rows: list[Row] = []

    def row(self, row: Row) -> None:
        """Keep one row."""
        self.rows.append(row)

    def finish(self, totals: Totals) -> None:
        """Print the tables."""
        terminal = sys.stdout.isatty()  # rows are buffered in a file; the final stream is stdout
        console = Console(file=self.out, width=None if terminal else TABLE_WIDTH, force_terminal=terminal,
                          no_color=not terminal, highlight=False, soft_wrap=False)
        title = Text(f"{self.policy.title_zh}\n{self.policy.id} {self.policy.version}")
        table = Table(title=title, box=box.SIMPLE_HEAVY, show_lines=False)
        for header, justify in (
            ("企业\nEnterprise", "left"),
            ("年度\nYear", "right"),
            ("条款\nItem", "left"),
            ("状态\nStatus", "left"),
            ("金额（元）\nAmount (CNY)", "right"),
            ("兑付年度\nPayable", "right"),
            ("理由\nReason", "left"),
        ):
            table.add_column(header, justify=justify)  # type: ignore[arg-type]
        for r in self.rows:
            table.add_row(
                Text(r.company),
                str(r.year),
                r.item,
                Text(STATUS_LABELS.get(r.status, r.status), style=STATUS_STYLE.get(r.status, "")),
                f"{r.amount:,}",
                "" if r.payable_year is None else str(r.payable_year),
                Text(r.reason),
            )
        console.print(table)
        console.print(_totals_tables(totals))


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
        self.console.print(Text("错误 error: ", style="bold red") + Text(text))

    def warning(self, text: str) -> None:
        """Print a warning line."""
        self.console.print(Text("警告 warning: ", style="yellow") + Text(text))

    def info(self, text: str) -> None:
        """Print a note."""
        self.console.print(Text(text))


@contextmanager
def progress(total: int | None, label: str) -> Iterator[Any]:
    """A progress bar on stderr when stderr is a terminal; yields ``advance(n)``."""
    if not sys.stderr.isatty():
        yield lambda n: None
        return
    console = Console(stderr=True)
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=console, transient=True) as bar:
        task = bar.add_task(label, total=total)
        yield lambda n: bar.advance(task, n)

"""Impact reports as JSON, CSV and Markdown: ``fuchi diff``, ``fuchi budget``, ``fuchi sweep``.

The terminal tables are in :mod:`fuchi.output.render` (the one module that uses rich). Changes stream:
JSON and CSV write each change as it arrives; Markdown, which puts the totals first, spools the changes to
a temporary file meanwhile. Every text from the data is escaped (:func:`~fuchi.output.render.clean`,
spreadsheet-safe CSV cells, ``|`` in Markdown tables).
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Sequence
from typing import IO, Any

from ..drafting.impact import EXPOSED, Budget, Change, DiffTotals
from ..policy import Policy
from .render import STATUS_LABELS, _csv_cell, _csv_line, _dumps, clean, policy_header


def impact_header(policy: Policy) -> dict[str, Any]:
    """The policy object of an impact report: id, version, digest and the overrides (``{}`` when none)."""
    return {**policy_header(policy), "overrides": policy.override_map()}


def _md(text: str) -> str:
    """A Markdown table cell: escaped, with ``|`` and ``*``/``_`` taken literally."""
    out = clean(text)
    for ch in "\\|*_`<>[]":
        out = out.replace(ch, "\\" + ch)
    return out


def _yuan(amount: int) -> str:
    return f"{amount:,}"


def _signed(amount: int) -> str:
    return f"{amount:+,}" if amount else "0"


def _side_text(side: Any) -> str:
    if side is None:
        return "—"
    paid = f" {side.amount:,}" if side.status in EXPOSED else ""
    when = f" → {side.payable_year}" if side.payable_year is not None else ""
    return f"{STATUS_LABELS.get(side.status, side.status)}{paid}{when}"


# ---- diff --------------------------------------------------------------------------------------------


class DiffJsonWriter:
    """Streams ``{"base": …, "policy": …, "changes": [...], "totals": …, "warnings": [...]}``."""

    def __init__(self, out: IO[str], base: Policy, policy: Policy) -> None:
        self.out = out
        self.first = True
        out.write('{"base": ' + _dumps(impact_header(base)) + ',\n "policy": ' + _dumps(impact_header(policy)))
        out.write(',\n "changes": [')

    def change(self, change: Change) -> None:
        """Write one change (one per line)."""
        self.out.write(("\n  " if self.first else ",\n  ") + _dumps(change.as_json()))
        self.first = False

    def finish(self, totals: DiffTotals, warnings: Sequence[str]) -> None:
        """Close the list; write the totals and every warning."""
        self.out.write(("\n ]" if not self.first else "]") + ',\n "totals": ' + _dumps(totals.as_json()))
        self.out.write(',\n "warnings": ' + _dumps(list(warnings)) + "\n}\n")


class DiffCsvWriter:
    """One line per change: both sides' status, amount, payable year and reason, and the delta."""

    FIELDS = (
        "company",
        "year",
        "item",
        "base_status",
        "base_amount",
        "base_payable_year",
        "base_reason",
        "policy_status",
        "policy_amount",
        "policy_payable_year",
        "policy_reason",
        "delta",
    )

    def __init__(self, out: IO[str], base: Policy, policy: Policy) -> None:
        self.out = out
        out.write(_csv_line(self.FIELDS))

    def change(self, change: Change) -> None:
        """Write one change."""
        cells: list[Any] = [change.company, change.year, change.item]
        for side in (change.base, change.policy):
            cells += [None] * 4 if side is None else [side.status, side.amount, side.payable_year, side.reason]
        cells.append(change.delta)
        self.out.write(_csv_line([_csv_cell(c) for c in cells]))

    def finish(self, totals: DiffTotals, warnings: Sequence[str]) -> None:
        """CSV carries the changes only (totals: the other formats)."""


def _policy_line(label: str, policy: Policy) -> str:
    overrides = ", ".join(f"`{_md(k)}={_md(v)}`" for k, v in policy.override_map().items())
    extra = f" · 参数覆盖 overrides: {overrides}" if overrides else ""
    return f"- {label}: {_md(policy.id)} {_md(policy.version)} (`{policy.digest}`){extra}"


def _three_table(title: str, rows: dict[str, dict[str, dict[str, int]]]) -> list[str]:
    lines = [
        f"| {title} | 原 base 予以扶持 granted | 草案 draft 予以扶持 granted | 差额 delta | 原 base 待评估 pending "
        "| 草案 draft 待评估 pending | 差额 delta |",
        "|---|--:|--:|--:|--:|--:|--:|",
    ]
    for key, t in rows.items():
        lines.append(f"| {_md(key)} | " + " | ".join(_three_cells(t)) + " |")
    return lines


class DiffMarkdownWriter:
    """A Markdown report: the two policies, the totals, who gains and loses, then every change."""

    def __init__(self, out: IO[str], base: Policy, policy: Policy) -> None:
        self.out = out
        self.base, self.policy = base, policy
        self.spool = tempfile.TemporaryFile("w+", encoding="utf-8", newline="")

    def change(self, change: Change) -> None:
        """Spool one change (written after the totals)."""
        side = change.policy or change.base
        reason = side.reason if side is not None else ""
        self.spool.write(
            f"| {_md(change.company)} | {_md(change.name or '')} | {change.year} | {change.item} | "
            f"{_md(_side_text(change.base))} | {_md(_side_text(change.policy))} | {_signed(change.delta)} | "
            f"{_md(reason)} |\n"
        )

    def finish(self, totals: DiffTotals, warnings: Sequence[str]) -> None:
        """Write the report."""
        data = totals.as_json()
        e = data["enterprises"]
        out = [
            f"# 政策差异 Policy diff: {_md(self.policy.title_zh)}",
            "",
            _policy_line("原 base", self.base),
            _policy_line("草案 draft", self.policy),
            f"- 企业 enterprises: {data['companies']:,} · 变化行 changed rows: {data['changes']:,} · "
            f"受益 gain: {e['gain']:,} · 受损 lose: {e['lose']:,} · 有变化 changed: {e['changed']:,}",
            "",
            "## 合计 Totals",
            "",
            *_three_table("兑付年度 Payable year", data["by_payable_year"]),
            f"| **总计 Total** | {' | '.join(_three_cells(data['amount']))} |",
            "",
            *_three_table("条款 Item", data["by_item"]),
            "",
            "## 变化 Changes",
            "",
            "| 企业 Enterprise | 名称 Name | 年度 Year | 条款 Item | 原 Base | 草案 Draft | 差额 Delta | 理由 Reason |",
            "|---|---|--:|---|---|---|--:|---|",
        ]
        self.out.write("\n".join(out) + "\n")
        self.spool.seek(0)
        for line in self.spool:
            self.out.write(line)
        self.spool.close()
        if warnings:
            self.out.write(f"\n## 警告 Warnings ({len(warnings)})\n\n")
            self.out.write("".join(f"- {_md(w)}\n" for w in warnings))


def _three_cells(t: dict[str, dict[str, int]]) -> list[str]:
    cells = []
    for status in EXPOSED:
        cells += [_yuan(t["base"][status]), _yuan(t["policy"][status]), _signed(t["delta"][status])]
    return cells


# ---- budget ------------------------------------------------------------------------------------------


def budget_json(out: IO[str], policy: Policy, budget: Budget, warnings: Sequence[str]) -> None:
    """``{"policy": …, "budget": [...], "totals": …, "warnings": [...]}``."""
    doc = {"policy": impact_header(policy), **budget.as_json(), "warnings": list(warnings)}
    out.write(json.dumps(doc, ensure_ascii=False, indent=1) + "\n")


BUDGET_FIELDS = ("item", "payable_year", "status", "enterprises", "rows", "amount")


def budget_csv(out: IO[str], policy: Policy, budget: Budget, warnings: Sequence[str]) -> None:
    """One line per item × payable year × status."""
    out.write(_csv_line(BUDGET_FIELDS))
    for cell in budget.ordered_cells():
        item, year, status, rows, enterprises, amount = cell
        out.write(_csv_line([_csv_cell(v) for v in (item, year, status, enterprises, rows, amount)]))


def budget_markdown(out: IO[str], policy: Policy, budget: Budget, warnings: Sequence[str]) -> None:
    """The exposure as Markdown tables: by payable year, then item × payable year × status."""
    totals = budget.as_json()["totals"]
    lines = [
        f"# 预算敞口 Budget exposure: {_md(policy.title_zh)}",
        "",
        _policy_line("政策 policy", policy),
        f"- 企业 enterprises: {budget.companies:,}",
        "",
        "| 兑付年度 Payable year | 予以扶持 granted | 企业 enterprises | 待评估（上限）pending (max) "
        "| 企业 enterprises |",
        "|--:|--:|--:|--:|--:|",
    ]
    for year, t in totals["by_payable_year"].items():
        g, p = t["granted"], t["pending_assessment"]
        lines.append(
            f"| {year} | {_yuan(g['amount'])} | {g['enterprises']:,} | {_yuan(p['amount'])} | {p['enterprises']:,} |"
        )
    amount, ents = totals["amount"], totals["enterprises"]
    lines.append(
        f"| **总计 Total** | {_yuan(amount['granted'])} | {ents['granted']:,} | "
        f"{_yuan(amount['pending_assessment'])} | {ents['pending_assessment']:,} |"
    )
    lines += [
        "",
        "| 条款 Item | 兑付年度 Payable year | 状态 Status | 企业 Enterprises | 行 Rows | 金额（元）Amount |",
        "|---|--:|---|--:|--:|--:|",
    ]
    for item, year, status, rows, enterprises, amt in budget.ordered_cells():
        lines.append(
            f"| {item} | {year} | {STATUS_LABELS.get(status, status)} | {enterprises:,} | {rows:,} | {_yuan(amt)} |"
        )
    out.write("\n".join(lines) + "\n")
    if warnings:
        out.write(f"\n## 警告 Warnings ({len(warnings)})\n\n" + "".join(f"- {_md(w)}\n" for w in warnings))


# ---- sweep -------------------------------------------------------------------------------------------


def sweep_rows(name: str, values: Sequence[str], budgets: Sequence[Budget]) -> list[dict[str, Any]]:
    """One entry per swept value: the value, its totals and its figures by payable year and item."""
    out = []
    for value, budget in zip(values, budgets, strict=True):
        data = budget.as_json()["totals"]
        out.append({"value": value, **{k: data[k] for k in ("amount", "enterprises", "by_payable_year", "by_item")}})
    return out


def sweep_json(
    out: IO[str], policy: Policy, name: str, values: Sequence[str], budgets: Sequence[Budget], warnings: Sequence[str]
) -> None:
    """``{"policy": …, "parameter": NAME, "current": value, "values": [...], "warnings": [...]}``."""
    doc = {
        "policy": impact_header(policy),
        "parameter": name,
        "values": sweep_rows(name, values, budgets),
        "companies": budgets[0].companies if budgets else 0,
        "warnings": list(warnings),
    }
    out.write(json.dumps(doc, ensure_ascii=False, indent=1) + "\n")


def sweep_years(budgets: Sequence[Budget]) -> list[int]:
    """Every payable year any value exposes, in order."""
    return sorted({y for b in budgets for y, _ in b.years})


def sweep_csv(
    out: IO[str], policy: Policy, name: str, values: Sequence[str], budgets: Sequence[Budget], warnings: Sequence[str]
) -> None:
    """One line per value × payable year × status: amount and enterprises."""
    out.write(_csv_line(("parameter", "value", "payable_year", "status", "enterprises", "amount")))
    for value, budget in zip(values, budgets, strict=True):
        for year in sweep_years(budgets):
            for status in EXPOSED:
                ents, amount = budget.years.get((year, status), [0, 0])
                out.write(_csv_line([_csv_cell(v) for v in (name, value, year, status, ents, amount)]))


def sweep_markdown(
    out: IO[str], policy: Policy, name: str, values: Sequence[str], budgets: Sequence[Budget], warnings: Sequence[str]
) -> None:
    """A Markdown table: one row per value, granted and pending by payable year."""
    years = sweep_years(budgets)
    head = " | ".join(f"{y} 予以扶持 granted | {y} 待评估 pending" for y in years)
    lines = [
        f"# 参数扫描 Sweep of `{_md(name)}`: {_md(policy.title_zh)}",
        "",
        _policy_line("政策 policy", policy),
        f"- 企业 enterprises: {budgets[0].companies if budgets else 0:,}",
        "",
        f"| {_md(name)} | {head} | 合计 granted | 合计 pending | 受扶持企业 enterprises granted |",
        "|--:|" + "--:|" * (2 * len(years) + 3),
    ]
    for value, budget in zip(values, budgets, strict=True):
        cells = []
        for year in years:
            cells += [_yuan(budget.years.get((year, s), [0, 0])[1]) for s in EXPOSED]
        cells += [_yuan(budget.amount(s)) for s in EXPOSED]
        cells.append(f"{budget.overall.get('granted', [0, 0])[0]:,}")
        lines.append(f"| {_md(value)} | " + " | ".join(cells) + " |")
    out.write("\n".join(lines) + "\n")
    if warnings:
        out.write(f"\n## 警告 Warnings ({len(warnings)})\n\n" + "".join(f"- {_md(w)}\n" for w in warnings))


__all__ = [
    "DiffCsvWriter",
    "DiffJsonWriter",
    "DiffMarkdownWriter",
    "budget_csv",
    "budget_json",
    "budget_markdown",
    "impact_header",
    "sweep_csv",
    "sweep_json",
    "sweep_markdown",
]

"""Totals of result rows: by status, by item and by payable year (data, not text)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..engines.clingo import STATUSES

PAID = ("granted", "pending_assessment")


@dataclass
class Totals:
    """Running totals over result rows, in a deterministic order for output."""

    items: tuple[str, ...]
    companies: int = 0
    rows: int = 0
    by_status: dict[str, list[int]] = field(default_factory=dict)  # status -> [rows, amount]
    by_item: dict[str, dict[str, int]] = field(default_factory=dict)  # item -> paid status -> amount
    by_payable_year: dict[int, dict[str, int]] = field(default_factory=dict)
    #: kind -> enterprise ids flagged by the policy (e.g. credit_platform, ruling E2), in input order.
    flags: dict[str, list[str]] = field(default_factory=dict)

    def add(self, status: str, item: str, amount: int, payable_year: int | None) -> None:
        """Count one row."""
        self.rows += 1
        entry = self.by_status.setdefault(status, [0, 0])
        entry[0] += 1
        entry[1] += amount
        if status in PAID:
            per_item = self.by_item.setdefault(item, dict.fromkeys(PAID, 0))
            per_item[status] += amount
            if payable_year is not None:
                per_year = self.by_payable_year.setdefault(payable_year, dict.fromkeys(PAID, 0))
                per_year[status] += amount

    def amount(self, status: str) -> int:
        """Total amount of one status."""
        return self.by_status.get(status, [0, 0])[1]

    def as_json(self) -> dict[str, Any]:
        """Return the ``totals`` object of the JSON output (documented in docs/output.md)."""
        rank = {item: n for n, item in enumerate(self.items)}
        return {
            "companies": self.companies,
            "rows": self.rows,
            "amount": {s: self.amount(s) for s in PAID},
            "by_status": {
                s: {"rows": self.by_status[s][0], "amount": self.by_status[s][1]}
                for s in STATUSES
                if s in self.by_status
            },
            "by_item": {i: self.by_item[i] for i in sorted(self.by_item, key=lambda i: (rank.get(i, len(rank)), i))},
            "by_payable_year": {str(y): self.by_payable_year[y] for y in sorted(self.by_payable_year)},
            "flags": {k: self.flags[k] for k in sorted(self.flags)},
        }

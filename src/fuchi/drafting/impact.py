"""What a draft costs and whom it changes: budget exposure, the diff of two policy versions, parameter sweeps.

Every figure here comes from evaluating the same data under each policy in one pass
(:func:`fuchi.engines.evaluation.evaluate_many`): the data is read and validated once, each batch is decided
under every policy, and the rows of one enterprise are compared side by side as they arrive. Nothing is
joined afterwards, and memory stays bounded (changes stream to the caller).

Amounts are whole yuan as in ``evaluate``: granted rows at their amount, rows pending an assessment at their
maximum (ruling P1), kept apart everywhere.

An enterprise *gains* when its total (granted + pending maximum, over all its rows) is larger under the draft
than under the base, *loses* when it is smaller; an enterprise whose rows change without a change of total
(e.g. granted → pending at the same amount) is counted as *changed* only.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..engines.clingo import STATUSES
from ..engines.evaluation import BatchResult, Row, Source, evaluate_many
from ..output.totals import PAID
from ..policy import Policy

#: The statuses that carry money (granted, pending at its maximum): the budget's exposure.
EXPOSED = PAID


@dataclass(frozen=True)
class Side:
    """One side (base or draft) of a changed (enterprise, year, item)."""

    status: str
    amount: int
    payable_year: int | None
    reason: str

    def as_json(self) -> dict[str, Any]:
        """The side as in the JSON contract."""
        return {"status": self.status, "amount": self.amount, "payable_year": self.payable_year, "reason": self.reason}


@dataclass(frozen=True)
class Change:
    """An (enterprise, year, item) whose status, amount or payable year differs between base and draft.

    ``base`` or ``policy`` is None when only one side decides the row (e.g. an item the draft adds).
    """

    company: str
    name: str | None
    year: int
    item: str
    base: Side | None
    policy: Side | None

    @property
    def delta(self) -> int:
        """Draft amount minus base amount (whole yuan)."""
        return (self.policy.amount if self.policy else 0) - (self.base.amount if self.base else 0)

    def as_json(self) -> dict[str, Any]:
        """The change as in the JSON contract."""
        return {
            "company": self.company,
            "year": self.year,
            "item": self.item,
            "base": None if self.base is None else self.base.as_json(),
            "policy": None if self.policy is None else self.policy.as_json(),
        }


def _side(row: Row | None) -> Side | None:
    return None if row is None else Side(row.status, row.amount, row.payable_year, row.reason)


def _money(row: Row | None) -> tuple[str, int, int | None] | None:
    return None if row is None else (row.status, row.amount, row.payable_year)


@dataclass
class Budget:
    """Exposure by item × payable year × status, with the number of enterprises in each cell.

    Rows arrive grouped by enterprise (input order), so an enterprise is counted once per cell without
    keeping the ids: a cell counts a new enterprise when its last one differs.
    """

    items: tuple[str, ...]
    companies: int = 0
    #: (item, payable year, status) -> [rows, enterprises, amount]
    cells: dict[tuple[str, int, str], list[int]] = field(default_factory=dict)
    #: (payable year, status) -> [enterprises, amount]
    years: dict[tuple[int, str], list[int]] = field(default_factory=dict)
    #: status -> [enterprises, amount]
    overall: dict[str, list[int]] = field(default_factory=dict)
    _last: dict[object, int] = field(default_factory=dict, repr=False)
    _serial: int = field(default=0, repr=False)

    def add_company(self, rows: Sequence[Row]) -> None:
        """Count one enterprise's rows (all its rows, at once)."""
        self._serial += 1
        for r in rows:
            if r.status not in EXPOSED or r.payable_year is None:
                continue
            cell = self.cells.setdefault((r.item, r.payable_year, r.status), [0, 0, 0])
            cell[0] += 1
            cell[1] += self._first(("cell", r.item, r.payable_year, r.status))
            cell[2] += r.amount
            year = self.years.setdefault((r.payable_year, r.status), [0, 0])
            year[0] += self._first(("year", r.payable_year, r.status))
            year[1] += r.amount
            overall = self.overall.setdefault(r.status, [0, 0])
            overall[0] += self._first(("all", r.status))
            overall[1] += r.amount

    def _first(self, key: object) -> int:
        """1 the first time ``key`` is counted for the current enterprise, else 0."""
        if self._last.get(key) == self._serial:
            return 0
        self._last[key] = self._serial
        return 1

    def amount(self, status: str) -> int:
        """Total exposure of one status (whole yuan)."""
        return self.overall.get(status, [0, 0])[1]

    def ordered_cells(self) -> list[tuple[str, int, str, int, int, int]]:
        """``(item, payable year, status, rows, enterprises, amount)``, in the policy's item order."""
        rank = {item: n for n, item in enumerate(self.items)}
        srank = {s: n for n, s in enumerate(STATUSES)}
        keys = sorted(self.cells, key=lambda k: (rank.get(k[0], len(rank)), k[0], k[1], srank.get(k[2], 99)))
        return [
            (i, y, s, self.cells[(i, y, s)][0], self.cells[(i, y, s)][1], self.cells[(i, y, s)][2]) for i, y, s in keys
        ]

    def by_item(self) -> dict[str, dict[str, int]]:
        """Item -> exposed status -> amount (every exposed status present)."""
        out: dict[str, dict[str, int]] = {}
        for item, _, status, _, _, amount in self.ordered_cells():
            out.setdefault(item, dict.fromkeys(EXPOSED, 0))[status] += amount
        return out

    def by_payable_year(self) -> dict[int, dict[str, int]]:
        """Payable year -> exposed status -> amount."""
        out: dict[int, dict[str, int]] = {}
        for (year, status), (_, amount) in sorted(self.years.items()):
            out.setdefault(year, dict.fromkeys(EXPOSED, 0))[status] += amount
        return out

    def as_json(self) -> dict[str, Any]:
        """The ``budget`` and ``totals`` of ``fuchi budget --format json``."""
        return {
            "budget": [
                {"item": i, "payable_year": y, "status": s, "enterprises": e, "rows": n, "amount": a}
                for i, y, s, n, e, a in self.ordered_cells()
            ],
            "totals": {
                "companies": self.companies,
                "amount": {s: self.amount(s) for s in EXPOSED},
                "enterprises": {s: self.overall.get(s, [0, 0])[0] for s in EXPOSED},
                "by_payable_year": {
                    str(y): {
                        s: {
                            "enterprises": self.years.get((y, s), [0, 0])[0],
                            "amount": self.years.get((y, s), [0, 0])[1],
                        }
                        for s in EXPOSED
                    }
                    for y in sorted({y for y, _ in self.years})
                },
                "by_item": self.by_item(),
            },
        }


def _delta(base: dict[str, int], draft: dict[str, int]) -> dict[str, int]:
    return {s: draft.get(s, 0) - base.get(s, 0) for s in EXPOSED}


@dataclass
class DiffTotals:
    """Totals of a diff: base, draft and delta by item and payable year; who gains and who loses."""

    base: Budget
    policy: Budget
    changes: int = 0
    gain: int = 0
    lose: int = 0
    changed: int = 0

    def as_json(self) -> dict[str, Any]:
        """The ``totals`` object of ``fuchi diff --format json``."""
        zero = dict.fromkeys(EXPOSED, 0)
        bi, pi = self.base.by_item(), self.policy.by_item()
        items = [i for i in self.policy.items if i in bi or i in pi]
        items += [i for i in self.base.items if i not in items and (i in bi or i in pi)]
        by, py = self.base.by_payable_year(), self.policy.by_payable_year()
        base_amount = {s: self.base.amount(s) for s in EXPOSED}
        policy_amount = {s: self.policy.amount(s) for s in EXPOSED}

        def three(b: dict[str, int], p: dict[str, int]) -> dict[str, dict[str, int]]:
            return {"base": dict(b), "policy": dict(p), "delta": _delta(b, p)}

        return {
            "companies": self.policy.companies,
            "changes": self.changes,
            "enterprises": {"gain": self.gain, "lose": self.lose, "changed": self.changed},
            "amount": three(base_amount, policy_amount),
            "by_item": {i: three(bi.get(i, zero), pi.get(i, zero)) for i in items},
            "by_payable_year": {str(y): three(by.get(y, zero), py.get(y, zero)) for y in sorted({*by, *py})},
        }


def _by_company(rows: Sequence[Row]) -> Iterator[tuple[str, list[Row]]]:
    """Rows grouped by enterprise, in order (an enterprise's rows are contiguous)."""
    current: str | None = None
    group: list[Row] = []
    for r in rows:
        if r.company != current:
            if group:
                yield current or "", group
            current, group = r.company, []
        group.append(r)
    if group:
        yield current or "", group


def _paid(rows: Sequence[Row]) -> int:
    return sum(r.amount for r in rows if r.status in EXPOSED)


class Differ:
    """Compares base and draft results, enterprise by enterprise, as batches arrive.

    Args:
        base: The base policy (its items order base-only rows after the draft's).
        policy: The draft policy (its items order the changes).
        on_change: Receives each change, in input order (enterprise, then year, then item).

    """

    def __init__(self, base: Policy, policy: Policy, on_change: Callable[[Change], None]) -> None:
        self.rank = {item: n for n, item in enumerate(policy.items)}
        for item in base.items:
            self.rank.setdefault(item, len(self.rank))
        self.on_change = on_change
        self.totals = DiffTotals(Budget(base.items), Budget(policy.items))

    def add(self, base: BatchResult, draft: BatchResult) -> None:
        """Compare one batch decided under both policies (the same enterprises, in the same order)."""
        self.totals.base.companies += base.companies
        self.totals.policy.companies += draft.companies
        theirs = dict(_by_company(draft.rows))
        ours = dict(_by_company(base.rows))
        # input order (an enterprise only one side decides anything about keeps its place)
        order = [c for c in dict.fromkeys(ident for ident, *_ in draft.seen) if c in ours or c in theirs]
        placed = set(order)
        order += [c for c in dict.fromkeys([*ours, *theirs]) if c not in placed]
        for company in order:
            b_rows, p_rows = ours.get(company, []), theirs.get(company, [])
            self.totals.base.add_company(b_rows)
            self.totals.policy.add_company(p_rows)
            self._compare(company, b_rows, p_rows)

    def _compare(self, company: str, b_rows: list[Row], p_rows: list[Row]) -> None:
        b = {(r.year, r.item): r for r in b_rows}
        p = {(r.year, r.item): r for r in p_rows}
        name = next((r.name for r in (*p_rows, *b_rows) if r.name), None)
        keys = sorted({*b, *p}, key=lambda k: (k[0], self.rank.get(k[1], len(self.rank)), k[1]))
        any_change = False
        for key in keys:
            br, pr = b.get(key), p.get(key)
            if _money(br) == _money(pr):
                continue
            any_change = True
            self.totals.changes += 1
            self.on_change(Change(company, name, key[0], key[1], _side(br), _side(pr)))
        if any_change:
            self.totals.changed += 1
            delta = _paid(p_rows) - _paid(b_rows)
            if delta > 0:
                self.totals.gain += 1
            elif delta < 0:
                self.totals.lose += 1


#: How a warning given under one side only of a diff is labelled.
BASE_LABEL = "基准 base"
DRAFT_LABEL = "草案 draft"


@dataclass
class Run:
    """What a population run under several policies collected besides its figures.

    Attributes:
        labels: One label per policy (``基准 base``, ``草案 draft``; ``NAME=value`` for a sweep): a warning
            that not every policy gives is prefixed with the labels of those that give it. None (one
            policy): warnings as they are.
    """

    labels: Sequence[str] | None = None
    warnings: list[str] = field(default_factory=list)
    _seen: set[str] = field(default_factory=set, repr=False)

    def add_warnings(self, results: Sequence[BatchResult]) -> None:
        """Keep every warning once (the same data warns alike under each policy), in input order.

        The warnings of one batch are merged by enterprise (then policy, then their own order), so that the
        result does not depend on how the input was cut into batches; the policies' diagnostics follow.
        """
        about = sorted(
            (at, n, k, text)
            for n, result in enumerate(results)
            for k, (at, text) in enumerate(zip(result.warning_at, result.warnings, strict=True))
        )
        texts = [(n, text) for _, n, _, text in about]
        texts += [(n, d.render()) for n, result in enumerate(results) for d in result.diagnostics]
        given: dict[str, set[int]] = {}
        for n, text in texts:
            given.setdefault(text, set()).add(n)
        for _, text in texts:
            sides = given[text]
            if self.labels is not None and len(sides) < len(results):
                shown = "、".join(self.labels[n] for n in sorted(sides))
                labelled = f"［仅 only {shown}］{text}"
            else:
                labelled = text
            if labelled not in self._seen:
                self._seen.add(labelled)
                self.warnings.append(labelled)


def diff(
    base: tuple[Policy, str],
    policy: tuple[Policy, str],
    source: Source,
    on_change: Callable[[Change], None],
    workers: int | None = None,
) -> tuple[DiffTotals, list[str]]:
    """Evaluate ``source`` under base and draft in one pass; report each change; return totals and warnings.

    Args:
        base: The base policy and its engine name (``sql`` or ``clingo``).
        policy: The draft policy and its engine name.
        source: The inputs (:func:`fuchi.engines.evaluation.open_inputs`).
        on_change: Receives each change in input order.
        workers: Worker processes (as ``evaluate``).

    Raises:
        InputError: Bad data (the first problem in input order).
        PolicyError: A policy cannot be solved.

    """
    differ = Differ(base[0], policy[0], on_change)
    run = Run(labels=(BASE_LABEL, DRAFT_LABEL))

    def on_batch(results: list[BatchResult]) -> None:
        run.add_warnings(results)
        differ.add(results[0], results[1])

    evaluate_many([base, policy], source, on_batch, workers=workers)
    return differ.totals, run.warnings


def budgets(
    policies: Sequence[tuple[Policy, str]],
    source: Source,
    workers: int | None = None,
    labels: Sequence[str] | None = None,
) -> tuple[list[Budget], list[str]]:
    """The budget of each policy over the same data, in one pass (``budget``: one policy; ``sweep``: several).

    Args:
        policies: Each policy with its engine name.
        source: The inputs.
        workers: Worker processes (as ``evaluate``).
        labels: One label per policy for warnings only some of them give (see :class:`Run`).

    Raises:
        InputError: Bad data (the first problem in input order).
        PolicyError: A policy cannot be solved.

    """
    out = [Budget(p.items) for p, _ in policies]
    run = Run(labels=labels)

    def on_batch(results: list[BatchResult]) -> None:
        run.add_warnings(results)
        for budget, result in zip(out, results, strict=True):
            budget.companies += result.companies
            for _, rows in _by_company(result.rows):
                budget.add_company(rows)

    evaluate_many(list(policies), source, on_batch, workers=workers)
    return out, run.warnings


__all__ = ["Budget", "Change", "DiffTotals", "Differ", "Side", "budgets", "diff"]

"""How to qualify: the smallest changes to an enterprise's own numbers of a year that make an item pay.

``fuchi explain ENTERPRISE ITEM FILES… --year Y --how-to-qualify`` asks which changes to the enterprise's
own inputs of year Y (revenue, R&D spend, costs, PUE, PFLOPS …) would make ITEM pay (granted, or pending
assessment, with an amount above 0). Only the fields inputs.yaml declares ``adjustable: true`` are changed
(:data:`fuchi.inputs.schema.ADJUSTABLE_KINDS`; a by_year field's value of Y, or a field of the records of
year Y); history and findings (prior awards, assessments, fraud, gate facts, other years) never are. Nothing
here names a field or a clause of any policy.

The logic engine decides every candidate: each candidate is the enterprise with some values changed, and a
batch of candidates is solved in one ``Engine.solve`` (enterprises are independent), exactly as
``fuchi evaluate`` solves them. The search:

1. Candidate values of each adjustable value, on the field's grid (a fen for money, a yuan for ``whole``
   money, 10^-6 for decimals, 1 for integers): every parameter of the same kind and one unit either side
   (the thresholds) and the city figures, the bounds, and a ladder of changes of 1, 2, 4, 8 … units up and
   down (a threshold relative to another amount is reached by the ladder, then cut by the boundary search).
2. One changed value first; when none pays, two (the first one a change that moved the outcome to another
   reason and no further from paying: one condition met, the next one failing), then three.
3. Each paying change is cut to the last unit by a boundary search on the grid between the current value
   and the paying one (the other changes held), and a change that is not needed is dropped.
4. Every suggestion is checked: the changed enterprise, evaluated again, pays (its ``result``), and the
   same enterprise with any one changed value one unit closer to its current value does not (its
   ``checks``). A suggestion that fails a check is never returned.

When nothing pays, the verdict is ``cannot_qualify`` with the reason of the current decision (the same text
as ``fuchi evaluate``), which names what blocks the item (fraud, the gate, a one-time item used up …).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction

import clingo

from ..engines.clingo import Engine
from ..errors import PolicyError, UsageError
from ..inputs.records import MAX_DECIMAL, MAX_DECIMALS, MAX_MONEY_FEN, City, Company, Record
from ..inputs.schema import ADJUSTABLE_KINDS, Field, Schema, Text
from ..numbers import is_decimal, is_money
from ..policy import Policy
from .reasons import ReasonRenderer

#: Statuses that pay (with an amount above 0).
PAYING = ("granted", "pending_assessment")
#: At most this many values are changed together.
MAX_CHANGES = 3
#: At most this many suggestions are returned (the best first).
MAX_SUGGESTIONS = 5
#: Candidate enterprises evaluated at most for one change (a bound on time: 1–3 ms each) …
MAX_EVALUATIONS = 6_000
#: … and at most for two or three changes together.
MAX_EVALUATIONS_MORE = 3_000
#: Partial changes (one condition met) tried as the first of two or three changes.
MAX_PROGRESS = 4
#: How far a status is from paying (framework statuses, engines/clingo.py): a partial change must not move
#: the item further away (a zero cost turning "rejected" into "not_eligible" is no step forward).
_RANK = {
    "disqualified": 0,
    "excluded": 0,
    "out_of_period": 0,
    "not_eligible": 1,
    "needs_data": 1,
    "rejected": 2,
    "superseded": 2,
    "pending_assessment": 3,
    "granted": 3,
}
#: Points evaluated per round of the boundary search.
SEARCH_POINTS = 24
#: The grid of decimals: the places the loader accepts.
DECIMAL_SCALE = 10**MAX_DECIMALS
_INT32 = (-(2**31), 2**31 - 1)

Value = int | Decimal
#: An assignment: slot position → the new value in grid steps (None: the value is absent).
Assignment = tuple[tuple[int, int | None], ...]


@dataclass(frozen=True)
class Slot:
    """One value the search may change.

    Attributes:
        path: The field path, as the loader's messages write it (``revenue.2026``, ``events[2].cost``).
        field: The enterprise field (a by_year map or a list of records).
        label: The label of the value's field.
        kind: ``money``, ``decimal`` or ``integer``.
        unit: The grid of the value: fen for money, 10^-6 for decimals, 1 for integers.
        low: The smallest value the loader accepts, in grid steps.
        high: The largest value the loader accepts, in grid steps.
        current: The value in the data, in grid steps (None: absent).
        year: The by_year key (by_year fields).
        index: The record's position (records).
        sub: The record field (records).

    """

    path: str
    field: str
    label: Text
    kind: str
    unit: Value
    low: int
    high: int
    current: int | None
    year: int | None = None
    index: int | None = None
    sub: str | None = None

    def value(self, steps: int | None) -> Value | None:
        """The value of ``steps`` grid steps (money in fen, decimals as Decimal)."""
        if steps is None:
            return None
        if self.kind == "decimal":
            value: Decimal = Decimal(steps).scaleb(-MAX_DECIMALS).normalize()
            return value
        assert isinstance(self.unit, int)
        return steps * self.unit


@dataclass(frozen=True)
class Result:
    """What the engine decided for the item in the year (``None`` status: the data does not touch it)."""

    status: str | None
    amount: int
    payable_year: int | None
    reason_zh: str
    reason_en: str
    #: The reason term without its numbers and texts (``pue_above(_,_,_)``): what the search compares.
    shape: str = field(default="", compare=False, repr=False)

    @property
    def pays(self) -> bool:
        """Granted or pending assessment, with an amount above 0."""
        return self.status in PAYING and self.amount > 0


@dataclass(frozen=True)
class Check:
    """The evaluation showing a change is minimal: the value one unit closer to the current one."""

    path: str
    value: Value | None
    result: Result


@dataclass(frozen=True)
class Change:
    """One changed value: ``before`` → ``after`` (money in fen, decimals as Decimal; None: absent)."""

    path: str
    label: Text
    kind: str
    before: Value | None
    after: Value | None


@dataclass(frozen=True)
class Suggestion:
    """Changes that together make the item pay, each minimal to the last unit."""

    changes: tuple[Change, ...]
    result: Result
    checks: tuple[Check, ...]


@dataclass
class Qualification:
    """The answer of ``--how-to-qualify``.

    Attributes:
        verdict: ``already_pays``, ``suggestions`` or ``cannot_qualify``.
        current: The decision on the data as it is.
        suggestions: Ranked: fewest changes, then the smallest relative change.
        reason: For ``cannot_qualify``: why (zh, en).
        searched: The paths of the values the search could change.
        evaluated: Candidate enterprises the engine evaluated.

    """

    company: str
    name: str | None
    year: int
    item: str
    verdict: str
    current: Result
    suggestions: list[Suggestion] = field(default_factory=list)
    reason: tuple[str, str] | None = None
    searched: list[str] = field(default_factory=list)
    evaluated: int = 0


# ---- the values that may change -----------------------------------------------------------------------------


def _grid(f: Field) -> tuple[Value, int, int]:
    """The unit and the bounds (in steps) of an adjustable field, as the loader validates it."""
    if f.kind == "money":
        unit = 100 if f.whole else 1
        low = 1 if f.positive else 0
        return unit, low, MAX_MONEY_FEN // unit
    if f.kind == "decimal":
        lo = f.minimum if f.minimum is not None else -MAX_DECIMAL
        hi = f.maximum if f.maximum is not None else MAX_DECIMAL
        low = -int(-lo * DECIMAL_SCALE // 1)  # ceil
        return Decimal(1) / DECIMAL_SCALE, low, int(hi * DECIMAL_SCALE // 1)
    low = int(f.minimum) if f.minimum is not None else _INT32[0]
    high = int(f.maximum) if f.maximum is not None else _INT32[1]
    return 1, low, high


def _steps(kind: str, unit: Value, value: object) -> int:
    if kind == "decimal":
        assert isinstance(value, Decimal | int)
        return int(Decimal(value) * DECIMAL_SCALE)
    assert isinstance(value, int) and isinstance(unit, int)
    return value // unit


def slots(company: Company, schema: Schema, year: int) -> list[Slot]:
    """The values of ``year`` the search may change: adjustable by_year values (present or not) and records.

    Records carry their year in their one field of kind ``year`` (inputs.yaml is checked for it).
    """
    out: list[Slot] = []
    for f in schema.fields:
        if f.shape == "by_year" and f.adjustable and f.kind in ADJUSTABLE_KINDS:
            unit, low, high = _grid(f)
            mapping = company.values.get(f.name) or {}
            assert isinstance(mapping, dict)
            raw = mapping.get(year)
            current = None if raw is None else _steps(f.kind, unit, raw)
            out.append(Slot(f"{f.name}.{year}", f.name, f.label, f.kind, unit, low, high, current, year=year))
        elif f.shape == "records" and any(r.adjustable for r in f.records):
            year_field = next(r.name for r in f.records if r.kind == "year")
            records = company.values.get(f.name) or []
            assert isinstance(records, list)
            for k, rec in enumerate(records):
                if rec.get(year_field) != year:
                    continue
                for r in f.records:
                    if not r.adjustable or r.kind not in ADJUSTABLE_KINDS or rec.get(r.name) is None:
                        continue
                    unit, low, high = _grid(r)
                    current = _steps(r.kind, unit, rec[r.name])
                    out.append(
                        Slot(
                            f"{f.name}[{k}].{r.name}",
                            f.name,
                            r.label,
                            r.kind,
                            unit,
                            low,
                            high,
                            current,
                            index=k,
                            sub=r.name,
                        )
                    )
    return out


def _numbers(policy: Policy, city: City) -> dict[str, set[Fraction]]:
    """Every number of each kind the parameters and the city figures hold (the thresholds), money in fen.

    The enterprise's own amounts are not needed: a threshold relative to one (another policy's support, a
    share of revenue) is reached by the ladder of changes, then cut to the last unit by the boundary search.
    """
    found: dict[str, set[Fraction]] = {"money": set(), "decimal": set(), "integer": set()}
    kinds = {"yuan": "money", "decimal": "decimal", "int": "integer"}

    def add(kind: str | None, value: object, fen: bool = False) -> None:
        if kind not in found or isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
            return
        try:
            q = Fraction(Decimal(str(value)))
        except (ArithmeticError, ValueError):
            return
        found[kind].add(q if kind != "money" or fen else q * 100)  # money in fen

    for p in policy.parameters.values():
        if p.type == "table":
            for key, value in p.value.items():
                add(kinds.get(p.key_type or ""), key)
                add(kinds.get(p.value_type or ""), value)
        else:
            for value in p.value if isinstance(p.value, list) else [p.value]:
                add(kinds.get(p.type), value)
    for f in policy.schema.city:
        raw = city.values.get(f.name)
        for value in raw.values() if isinstance(raw, dict) else [raw]:
            add(f.kind, value, fen=True)
    return found


def _candidates(slot: Slot, numbers: dict[str, set[Fraction]]) -> list[int]:
    """Candidate values of a slot, in grid steps, nearest to the current value first."""
    origin = slot.current if slot.current is not None else max(slot.low, min(0, slot.high))
    out = {slot.low, slot.high}
    k = 1
    while k <= slot.high - slot.low:
        out.update((origin + k, origin - k))
        k *= 2
    unit = Fraction(slot.unit)  # (numbers hold money in fen, like the unit)
    for q in numbers[slot.kind]:
        s = q / unit
        base = s.numerator // s.denominator
        out.update((base - 1, base, base + 1, base + 2))
    if slot.current is None:
        out.add(origin)
    keep = [s for s in out if slot.low <= s <= slot.high and s != slot.current]
    return sorted(keep, key=lambda s: (abs(s - origin), s))


# ---- the search -----------------------------------------------------------------------------------------------


class Qualifier:
    """Finds how an enterprise could make an item pay, under one policy.

    Args:
        policy: The policy.

    """

    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        self.engine = Engine(policy)
        self.renderer = ReasonRenderer(policy)

    def qualify(self, company: Company, city: City, item: str, year: int) -> Qualification:
        """Search the smallest changes of ``company``'s adjustable values of ``year`` that make ``item`` pay.

        Raises:
            UsageError: ``item`` is not an item of the policy.
            InputError: The enterprise's data is rejected by the policy (as ``fuchi evaluate`` would).
            PolicyError: The policy cannot be solved.

        """
        if item not in self.policy.items:
            raise UsageError(f"未知条款 unknown item {item!r}; expected one of {', '.join(self.policy.items)}")
        run = _Search(self, company, city, item, year)
        return run.answer()


class _Search:
    """One search (the memo of evaluated candidates lives here)."""

    def __init__(self, owner: Qualifier, company: Company, city: City, item: str, year: int) -> None:
        self.owner = owner
        self.company = company
        self.city = city
        self.item = item
        self.year = year
        self.slots = slots(company, owner.policy.schema, year)
        self.memo: dict[Assignment, Result | None] = {}
        self.evaluated = 0

    # -- evaluation --

    def variant(self, assignment: Assignment) -> Company:
        """The enterprise with the values of ``assignment`` (slot position → steps) changed."""
        values = dict(self.company.values)
        for pos, steps in assignment:
            slot = self.slots[pos]
            new = slot.value(steps)
            if slot.year is not None:
                mapping = dict(values.get(slot.field) or {})  # type: ignore[call-overload]
                if new is None:
                    mapping.pop(slot.year, None)
                else:
                    mapping[slot.year] = new
                values[slot.field] = dict(sorted(mapping.items()))
            else:
                records = list(values[slot.field])  # type: ignore[call-overload]
                assert slot.index is not None and slot.sub is not None
                rec = Record(records[slot.index])
                rec[slot.sub] = new
                records[slot.index] = rec
                values[slot.field] = records
        co = self.company
        return Company(id=co.id, file=co.file, line=co.line, index=co.index, values=values)

    def evaluate(self, assignments: Sequence[Assignment]) -> list[Result | None]:
        """The result of each assignment (None: refused, e.g. the policy flags the changed data as an error)."""
        todo = [a for a in dict.fromkeys(assignments) if a not in self.memo]
        for start in range(0, len(todo), 2000):
            self._solve(todo[start : start + 2000])
        return [self.memo[a] for a in assignments]

    def _solve(self, batch: list[Assignment]) -> None:
        if not batch:
            return
        companies = [self.variant(a) for a in batch]
        try:
            outcome = self.owner.engine.solve(companies, self.city)
        except PolicyError:
            if len(batch) == 1:  # exact arithmetic refused this candidate's values
                self.memo[batch[0]] = None
                self.evaluated += 1
                return
            half = len(batch) // 2
            self._solve(batch[:half])
            self._solve(batch[half:])
            return
        self.evaluated += len(batch)
        refused = {f.company for f in outcome.errors}
        found: dict[int, Result] = {}
        for d in outcome.decisions:
            if d.year == self.year and d.item == self.item:
                zh, en = self.owner.renderer.pair(d.reason, companies[d.company])
                found[d.company] = Result(d.status, d.amount, d.payable_year, zh, en, _shape(d.reason))
        for c, a in enumerate(batch):
            self.memo[a] = None if c in refused else found.get(c, _UNTOUCHED)

    def pays(self, assignment: Assignment) -> bool:
        (result,) = self.evaluate([assignment])
        return result is not None and result.pays

    # -- the answer --

    def answer(self) -> Qualification:
        from ..engines.evaluation import check_flags

        outcome = self.owner.engine.solve([self.company], self.city)
        check_flags(outcome, [self.company], self.owner.renderer)  # data the policy rejects: as evaluate says
        current = _UNTOUCHED
        for d in outcome.decisions:
            if d.year == self.year and d.item == self.item:
                zh, en = self.owner.renderer.pair(d.reason, self.company)
                current = Result(d.status, d.amount, d.payable_year, zh, en, _shape(d.reason))
        self.memo[()] = current
        self.evaluated += 1
        out = Qualification(
            self.company.id,
            self.company.name,
            self.year,
            self.item,
            "already_pays" if current.pays else "suggestions",
            current,
            searched=[s.path for s in self.slots],
        )
        if not current.pays:
            out.suggestions = self.search()
            if not out.suggestions:
                out.verdict = "cannot_qualify"
                out.reason = self.why_not(current)
        out.evaluated = self.evaluated
        return out

    def why_not(self, current: Result) -> tuple[str, str]:
        if not self.slots:
            return (
                f"{self.year} 年没有可调整的数值（inputs.yaml 的 adjustable 字段）",
                f"the data of {self.year} has no adjustable value (inputs.yaml's adjustable fields)",
            )
        touched = [(self.cost(a), a, r) for a, r in self.memo.items() if a and r is not None and r.status is not None]
        if current.status is None and touched:  # a change makes the data touch the item, but it still does not pay
            _, a, r = min(touched, key=lambda x: (len(x[1]), x[0], x[1]))
            paths = ", ".join(self.slots[pos].path for pos, _ in a)
            return (
                f"调整 {self.year} 年的数值可使数据涉及该条款（如 {paths}），但仍不获支付：{r.status}，{r.reason_zh}",
                f"a change to the values of {self.year} makes the data touch the item (e.g. {paths}), but it still "
                f"does not pay: {r.status}: {r.reason_en}",
            )
        if current.status is None:
            return (
                f"调整 {self.year} 年的数值也不会涉及该条款：{current.reason_zh}",
                f"no change to the values of {self.year} makes the data touch the item: {current.reason_en}",
            )
        return (
            f"调整 {self.year} 年的数值都不能使该条款获得支付；当前结论：{current.status}，{current.reason_zh}",
            f"no change to the values of {self.year} makes the item pay; the decision stays {current.status}: "
            f"{current.reason_en}",
        )

    def search(self) -> list[Suggestion]:
        numbers = _numbers(self.owner.policy, self.city)
        candidates = [_candidates(s, numbers) for s in self.slots]
        found: list[Assignment] = []
        frontier: list[Assignment] = [()]
        for _ in range(MAX_CHANGES):
            level: list[Assignment] = []
            for base in frontier:
                used = {pos for pos, _ in base}
                for pos, values in enumerate(candidates):
                    if pos not in used:
                        level.extend(tuple(sorted((*base, (pos, v)))) for v in values)
            level = list(dict.fromkeys(level))
            budget = MAX_EVALUATIONS if not frontier[0] else MAX_EVALUATIONS_MORE // len(frontier)
            if len(level) > budget:  # the nearest candidates of every value first
                level = sorted(level, key=lambda a: (self.cost(a), a))[:budget]
            results = self.evaluate(level)
            found = [a for a, r in zip(level, results, strict=True) if r is not None and r.pays]
            if found or not level:
                break
            frontier = self.progress(frontier, level, results)
            if not frontier:
                break
        return self.suggestions(found)

    def progress(
        self, frontier: list[Assignment], level: list[Assignment], results: list[Result | None]
    ) -> list[Assignment]:
        """The partial changes that moved the outcome on (another status or reason): the nearest of each."""
        before = {a: _signature(self.memo.get(a)) for a in frontier}
        best: dict[tuple[frozenset[int], tuple[str, ...]], tuple[Fraction, Assignment]] = {}
        for a, r in zip(level, results, strict=True):
            if r is None:
                continue
            sig = _signature(r)
            parent = [b for b in frontier if set(b) <= set(a)]
            if not parent or sig in (before[p] for p in parent):
                continue
            if any(_rank(r) < _rank(self.memo.get(p)) for p in parent):
                continue
            key = (frozenset(pos for pos, _ in a), sig)
            cost = self.cost(a)
            if key not in best or cost < best[key][0]:
                best[key] = (cost, a)
        ranked = sorted(best.values(), key=lambda x: (x[0], x[1]))
        return [a for _, a in ranked[:MAX_PROGRESS]]

    def cost(self, assignment: Assignment) -> Fraction:
        """The relative size of a change: the sum of |new − current| / |current| (1 per added value)."""
        total = Fraction(0)
        for pos, steps in assignment:
            cur = self.slots[pos].current
            if cur is None or steps is None:
                total += 1
            else:
                total += Fraction(abs(steps - cur), max(abs(cur), 1))
        return total

    def suggestions(self, found: Iterable[Assignment]) -> list[Suggestion]:
        ranked = sorted(found, key=lambda a: (len(a), self.cost(a), a))
        chosen: list[tuple[Assignment, Suggestion]] = []
        seen: set[Assignment] = set()
        tried = 0
        for a in ranked:
            if len(chosen) >= MAX_SUGGESTIONS or tried >= 4 * MAX_SUGGESTIONS:
                break
            # one suggestion per way: the same values changed in the same directions
            if any(_same_way(a, b, self.slots) for b, _ in chosen):
                continue
            tried += 1
            final = self.minimise(a)
            if final is None or final in seen:
                continue
            if any({p for p, _ in b} < {p for p, _ in final} for b, _ in chosen):
                continue
            suggestion = self.checked(final)
            if suggestion is not None:
                seen.add(final)
                chosen.append((final, suggestion))
        chosen.sort(key=lambda x: (len(x[0]), self.cost(x[0]), x[0]))
        return [s for _, s in chosen]

    def minimise(self, assignment: Assignment) -> Assignment | None:
        """Cut each change to the last unit (the others held); drop changes that are not needed."""
        current = dict(assignment)
        for _ in range(3):
            stable = True
            for pos in sorted(current):
                others = tuple(sorted((p, v) for p, v in current.items() if p != pos))
                slot = self.slots[pos]
                if self.pays(others):  # this change is not needed
                    del current[pos]
                    stable = False
                    continue
                target = current[pos]
                assert target is not None
                edge = self.boundary(others, pos, slot.current, target)
                if edge != target:
                    current[pos] = edge
                    stable = False
            if stable:
                break
        final = tuple(sorted(current.items()))
        return final if final and self.pays(final) else None

    def boundary(self, others: Assignment, pos: int, start: int | None, target: int) -> int:
        """The paying value on the grid between ``start`` (does not pay) and ``target`` (pays) nearest ``start``.

        ``start`` None (an absent value): the search starts at the slot's bound nearest to the target.
        """
        slot = self.slots[pos]

        def with_(steps: int) -> Assignment:
            return tuple(sorted((*others, (pos, steps))))

        if start is None:
            start = slot.low
            if self.pays(with_(start)):
                return start
        lo, hi = start, target  # lo does not pay, hi pays
        while abs(hi - lo) > 1:
            span = hi - lo
            points = sorted(
                {lo + span * i // (SEARCH_POINTS + 1) for i in range(1, SEARCH_POINTS + 1)} - {lo, hi},
                key=lambda s: abs(s - lo),
            )
            if not points:
                points = [lo + (1 if span > 0 else -1)]
            results = self.evaluate([with_(s) for s in points])
            previous = lo
            for s, r in zip(points, results, strict=True):
                if r is not None and r.pays:
                    lo, hi = previous, s
                    break
                previous = s
            else:
                lo = previous
        return hi

    def checked(self, assignment: Assignment) -> Suggestion | None:
        """The suggestion, if it pays and one unit less of any of its changes does not."""
        (result,) = self.evaluate([assignment])
        if result is None or not result.pays:
            return None
        checks: list[Check] = []
        changes: list[Change] = []
        for pos, steps in assignment:
            slot = self.slots[pos]
            assert steps is not None
            if slot.current is None:  # an added value: one unit less, or not added at all
                closer: int | None = steps - 1 if steps > slot.low else None
            else:
                closer = steps - 1 if steps > slot.current else steps + 1
            probe = tuple(sorted((*((p, v) for p, v in assignment if p != pos), (pos, closer))))
            (r,) = self.evaluate([probe])
            if r is None or r.pays:
                return None
            checks.append(Check(slot.path, slot.value(closer), r))
            changes.append(Change(slot.path, slot.label, slot.kind, slot.value(slot.current), slot.value(steps)))
        return Suggestion(tuple(changes), result, tuple(checks))


_UNTOUCHED = Result(None, 0, None, "数据未涉及该年度的该条款", "nothing in the data touches the item in the year")


def _rank(result: Result | None) -> int:
    """How close a result is to paying (-1: the data does not touch the item; -2: refused)."""
    if result is None:
        return -2
    return -1 if result.status is None else _RANK.get(result.status, 1)


def _signature(result: Result | None) -> tuple[str, ...]:
    """What a result says, without its numbers: the status and the reason's shape."""
    if result is None:
        return ("refused",)
    return (str(result.status), result.shape)


def _shape(sym: clingo.Symbol) -> str:
    """A reason term with its numbers, texts and amounts left out: ``pue_above(_,_,_)``, ``gate(registered_in)``."""
    if sym.type != clingo.SymbolType.Function or is_money(sym) or is_decimal(sym):
        return "_"
    if not sym.arguments:
        return sym.name
    return f"{sym.name}({','.join(_shape(a) for a in sym.arguments)})"


def _same_way(a: Assignment, b: Assignment, slots: Sequence[Slot]) -> bool:
    """Whether two assignments change the same values in the same directions."""
    if {p for p, _ in a} != {p for p, _ in b}:
        return False
    da, db = dict(a), dict(b)
    for p in da:
        cur = slots[p].current
        ref = 0 if cur is None else cur
        va, vb = da[p], db[p]
        assert va is not None and vb is not None
        if (va > ref) != (vb > ref):
            return False
    return True


def symbol_reason(result: Result) -> str:
    """``中文 / English`` of a result's reason."""
    return f"{result.reason_zh} / {result.reason_en}"


__all__ = [
    "MAX_CHANGES",
    "PAYING",
    "Change",
    "Check",
    "Qualification",
    "Qualifier",
    "Result",
    "Slot",
    "Suggestion",
    "slots",
]

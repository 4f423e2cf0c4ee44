"""Enterprise data → clingo symbols (the input predicates of rules/00-schema.lp).

No text from the data ever becomes ASP text. Enterprises are numbered (the number ``C`` is local to one
solve), records are identified by their position in their list, project and IP ids are numbered per
enterprise, and the few strings a rule compares (district, industry division) become ``clingo.String``
symbols. Enumerations (programme, kind, list) were validated against fixed tables and become constants
taken from those tables, never from the data.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import clingo

from .numbers import decimal, money, number
from .records import City, Company

F = clingo.Function
_CONST: dict[str, clingo.Symbol] = {}
_TRUE = F("true")
_FALSE = F("false")
_NONE = F("none")


def const(name: str) -> clingo.Symbol:
    """Return the constant for an enumeration value already validated against a fixed table."""
    sym = _CONST.get(name)
    if sym is None:
        sym = _CONST[name] = F(name)
    return sym


_ITEM: dict[str, clingo.Symbol] = {}


def item(name: str) -> clingo.Symbol:
    """Return the string symbol of an item id (``"2.2.b"``)."""
    sym = _ITEM.get(name)
    if sym is None:
        sym = _ITEM[name] = clingo.String(name)
    return sym


class Interner:
    """Numbers the distinct strings of one enterprise (project ids, IP ids)."""

    def __init__(self) -> None:
        self.ids: dict[str, int] = {}

    def __call__(self, text: str) -> clingo.Symbol:
        """Return the number of ``text``, assigning the next one on first sight."""
        n = self.ids.setdefault(text, len(self.ids))
        return number(n)


_COMPANY: dict[int, clingo.Symbol] = {}
#: ``c(N)`` → N, for reading answer sets without calling into clingo per argument.
COMPANY_INDEX: dict[clingo.Symbol, int] = {}


def company_term(c: int) -> clingo.Symbol:
    """Return ``c(N)``, the term standing for the N-th enterprise of a solve."""
    sym = _COMPANY.get(c)
    if sym is None:
        sym = _COMPANY[c] = F("c", [number(c)])
        COMPANY_INDEX[sym] = c
    return sym


Emit = Callable[[clingo.Symbol, str], None]


def company_facts(c: int, co: Company, emit: Emit) -> None:
    """Emit the facts of one enterprise, each with the path of the field it comes from.

    Args:
        c: The number standing for the enterprise in this solve (the fact term is ``c(N)``).
        co: The validated enterprise.
        emit: Called with each fact and its field path (``revenue.2026``, ``events[2]``).

    """
    _company(c, co, emit, SYMBOLS)


def city_facts(city: City, emit: Emit) -> None:
    """Emit the city figures, each with its field path."""
    _city(city, emit, SYMBOLS)


Row = tuple[str, int, tuple[object, ...]]


def company_rows(c: int, co: Company, emit: Callable[[Row, str], None]) -> None:
    """The facts of :func:`company_facts` as rows for the SQL engine, without making clingo symbols.

    Each fact is ``(predicate, arity, leaves)``: the leaf values of its arguments left to right, as
    :func:`fuchi.compiler.shapes.flatten` would give them (money ``m(A,B,C)`` is three integers, a constant
    its name). One builder for both engines: the facts are the same by construction.
    """
    _company(c, co, emit, ROWS)


def city_rows(city: City, emit: Callable[[Row, str], None]) -> None:
    """The city figures as rows (see :func:`company_rows`)."""
    _city(city, emit, ROWS)


class _Symbols:
    """Terms as clingo symbols."""

    true = _TRUE
    false = _FALSE
    none = _NONE

    @staticmethod
    def fact(name: str, args: list[clingo.Symbol]) -> clingo.Symbol:
        return F(name, args)

    company = staticmethod(company_term)
    string = staticmethod(clingo.String)
    const = staticmethod(const)
    number = staticmethod(number)
    money = staticmethod(money)
    decimal = staticmethod(decimal)
    item = staticmethod(item)
    interner = Interner


class _Rows:
    """Terms as tuples of leaf values (see :func:`company_rows`)."""

    true = ("true",)
    false = ("false",)
    none = ("none",)

    @staticmethod
    def fact(name: str, args: list[tuple[object, ...]]) -> Row:
        return (name, len(args), tuple(v for a in args for v in a))

    @staticmethod
    def company(c: int) -> tuple[object, ...]:
        return (c,)

    @staticmethod
    def string(s: str) -> tuple[object, ...]:
        return (s,)

    const = string
    item = string

    @staticmethod
    def number(n: int) -> tuple[object, ...]:
        if not -(2**31) <= n < 2**31:
            number(n)  # raises the same range error as the clingo path
        return (n,)

    @staticmethod
    def money(fen: int) -> tuple[object, ...]:
        return tuple(a.number for a in money(fen).arguments) if fen > _FAST_MONEY or fen < 0 else _limbs(fen)

    @staticmethod
    def decimal(value: Any) -> tuple[object, ...]:
        return tuple(a.number for a in decimal(value).arguments)

    class interner(Interner):  # noqa: N801 - used like a function
        def __call__(self, text: str) -> clingo.Symbol:
            return (self.ids.setdefault(text, len(self.ids)),)  # type: ignore[return-value]


_FAST_MONEY = 10**19  # below this, limbs are plain divmods (the range checks of money() cannot fail)


def _limbs(fen: int) -> tuple[object, ...]:
    high, low = divmod(fen, 100000)
    top, mid = divmod(high, 100000)
    return (top, mid, low)


SYMBOLS = _Symbols()
ROWS = _Rows()


def _company(c: int, co: Company, emit: Callable[[Any, str], None], T: Any) -> None:
    """Emit the facts of one enterprise, each with the path of the field it comes from.

    Args:
        c: The number standing for the enterprise in this solve (the fact term is ``c(N)``).
        co: The validated enterprise.
        emit: Called with each fact and its field path (``revenue.2026``, ``events[2]``).
        T: Makes the terms: :data:`SYMBOLS` (clingo) or :data:`ROWS` (the SQL engine).

    """
    C = T.company(c)
    emit(T.fact("company", [C]), "id")
    if co.registered_in is not None:
        emit(T.fact("registered_in", [C, T.string(co.registered_in)]), "registered_in")
    if co.industry_code is not None:
        emit(T.fact("industry_division", [C, T.string(co.industry_code[:2])]), "industry_code")
    for flag, on in (
        ("sound_finance", co.sound_finance),
        ("good_credit", co.good_credit),
        ("fits_direction", co.fits_direction),
        ("fraud", co.fraud),
        ("market_violation", co.market_violation),
        ("key_enterprise", co.key_enterprise),
    ):
        if on:
            emit(T.fact(flag, [C]), flag)
    for n, f in enumerate(co.key_fields):
        emit(T.fact("key_field", [C, T.const(f)]), f"key_fields[{n}]")
    for k, h in enumerate(co.honours):
        emit(T.fact("honour", [C, T.number(k), T.number(h.year), T.const(h.list)]), f"honours[{k}]")
    for y, fen in co.revenue.items():
        emit(T.fact("revenue", [C, T.number(y), T.money(fen)]), f"revenue.{y}")
    for y, fen in co.rd_spend.items():
        emit(T.fact("rd_spend", [C, T.number(y), T.money(fen)]), f"rd_spend.{y}")
    for k, s in enumerate(co.city_support):
        K = T.number(k)
        emit(
            T.fact("city_support", [C, K, T.number(s.year), T.const(s.program), T.money(s.amount)]),
            f"city_support[{k}]",
        )
        if s.related_party:
            emit(T.fact("related_party", [C, K]), f"city_support[{k}].related_party")
    projects = T.interner()
    for k, p in enumerate(co.compute_projects):
        emit(
            T.fact(
                "compute_project",
                [
                    C,
                    T.number(k),
                    projects(p.id),
                    T.number(p.year),
                    T.const(p.kind),
                    T.decimal(p.pflops),
                    T.decimal(p.pue),
                    T.money(p.cost),
                ],
            ),
            f"compute_projects[{k}]",
        )
    for k, lf in enumerate(co.llm_filings):
        emit(T.fact("llm_filing", [C, T.number(k), T.number(lf.year)]), f"llm_filings[{k}]")
    for k, ic in enumerate(co.ic_purchases):
        emit(
            T.fact("ic_purchase", [C, T.number(k), T.number(ic.year), T.const(ic.kind), T.money(ic.amount)]),
            f"ic_purchases[{k}]",
        )
    ips = T.interner()
    for k, ip in enumerate(co.own_ip):
        emit(
            T.fact("own_ip", [C, T.number(k), ips(ip.id), T.number(ip.year), T.money(ip.first_batch_amount)]),
            f"own_ip[{k}]",
        )
    for k, e in enumerate(co.events):
        emit(T.fact("event", [C, T.number(k), T.number(e.year), T.const(e.kind), T.money(e.cost)]), f"events[{k}]")
    for k, centre in enumerate(co.showcase_centres):
        emit(
            T.fact(
                "showcase_centre",
                [
                    C,
                    T.number(k),
                    T.number(centre.year),
                    T.true if centre.in_shanghai else T.false,
                    T.money(centre.cost),
                ],
            ),
            f"showcase_centres[{k}]",
        )
    for k, a in enumerate(co.prior_awards):
        K = T.number(k)
        emit(T.fact("prior_award", [C, K, T.item(a.item), T.number(a.year)]), f"prior_awards[{k}]")
        if a.tier is not None:
            emit(T.fact("prior_award_tier", [C, K, T.money(a.tier)]), f"prior_awards[{k}].tier")
        if a.project is not None:
            emit(T.fact("prior_award_project", [C, K, projects(a.project)]), f"prior_awards[{k}].project")
    for k, o in enumerate(co.other_support):
        emit(
            T.fact("other_support", [C, T.number(k), T.item(o.item), T.number(o.year), T.money(o.amount)]),
            f"other_support[{k}]",
        )
    for k, asm in enumerate(co.assessments):
        amount = T.money(asm.amount) if asm.amount is not None else T.none
        emit(
            T.fact("assessment", [C, T.number(k), T.item(asm.item), T.number(asm.year), T.const(asm.decision), amount]),
            f"assessments[{k}]",
        )


def _city(city: City, emit: Callable[[Any, str], None], T: Any) -> None:
    """Emit the city figures, each with its field path."""
    for y, g in sorted(city.avg_growth.items()):
        emit(T.fact("city_avg_growth", [T.number(y), T.decimal(g)]), f"city.avg_growth.{y}")


#: The number kind of each argument of the input predicates (0-based position → "money" | "decimal"), for
#: ``fuchi check``'s comparison typing: clingo orders unlike terms by type, so comparing a money term with a
#: decimal term or a plain integer is silently wrong.
FACT_TYPES: dict[tuple[str, int], dict[int, str]] = {
    ("revenue", 3): {2: "money"},
    ("rd_spend", 3): {2: "money"},
    ("city_support", 5): {4: "money"},
    ("compute_project", 8): {5: "decimal", 6: "decimal", 7: "money"},
    ("ic_purchase", 5): {4: "money"},
    ("own_ip", 5): {4: "money"},
    ("event", 5): {4: "money"},
    ("showcase_centre", 5): {4: "money"},
    ("prior_award_tier", 3): {2: "money"},
    ("other_support", 5): {4: "money"},
    ("assessment", 6): {5: "money"},
    ("city_avg_growth", 2): {1: "decimal"},
}

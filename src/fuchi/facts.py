"""Enterprise data → clingo symbols (the input predicates of rules/00-schema.lp).

No text from the data ever becomes ASP text. Enterprises are numbered (the number ``C`` is local to one
solve), records are identified by their position in their list, project and IP ids are numbered per
enterprise, and the few strings a rule compares (district, industry division) become ``clingo.String``
symbols. Enumerations (programme, kind, list) were validated against fixed tables and become constants
taken from those tables, never from the data.
"""

from __future__ import annotations

from collections.abc import Callable

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
    C = company_term(c)
    emit(F("company", [C]), "id")
    if co.registered_in is not None:
        emit(F("registered_in", [C, clingo.String(co.registered_in)]), "registered_in")
    if co.industry_code is not None:
        emit(F("industry_division", [C, clingo.String(co.industry_code[:2])]), "industry_code")
    for flag, on in (
        ("sound_finance", co.sound_finance),
        ("good_credit", co.good_credit),
        ("fits_direction", co.fits_direction),
        ("fraud", co.fraud),
        ("market_violation", co.market_violation),
        ("key_enterprise", co.key_enterprise),
    ):
        if on:
            emit(F(flag, [C]), flag)
    for n, f in enumerate(co.key_fields):
        emit(F("key_field", [C, const(f)]), f"key_fields[{n}]")
    for k, h in enumerate(co.honours):
        emit(F("honour", [C, number(k), number(h.year), const(h.list)]), f"honours[{k}]")
    for y, fen in co.revenue.items():
        emit(F("revenue", [C, number(y), money(fen)]), f"revenue.{y}")
    for y, fen in co.rd_spend.items():
        emit(F("rd_spend", [C, number(y), money(fen)]), f"rd_spend.{y}")
    for k, s in enumerate(co.city_support):
        K = number(k)
        emit(F("city_support", [C, K, number(s.year), const(s.program), money(s.amount)]), f"city_support[{k}]")
        if s.related_party:
            emit(F("related_party", [C, K]), f"city_support[{k}].related_party")
    projects = Interner()
    for k, p in enumerate(co.compute_projects):
        emit(
            F(
                "compute_project",
                [
                    C,
                    number(k),
                    projects(p.id),
                    number(p.year),
                    const(p.kind),
                    decimal(p.pflops),
                    decimal(p.pue),
                    money(p.cost),
                ],
            ),
            f"compute_projects[{k}]",
        )
    for k, lf in enumerate(co.llm_filings):
        emit(F("llm_filing", [C, number(k), number(lf.year)]), f"llm_filings[{k}]")
    for k, ic in enumerate(co.ic_purchases):
        emit(F("ic_purchase", [C, number(k), number(ic.year), const(ic.kind), money(ic.amount)]), f"ic_purchases[{k}]")
    ips = Interner()
    for k, ip in enumerate(co.own_ip):
        emit(F("own_ip", [C, number(k), ips(ip.id), number(ip.year), money(ip.first_batch_amount)]), f"own_ip[{k}]")
    for k, e in enumerate(co.events):
        emit(F("event", [C, number(k), number(e.year), const(e.kind), money(e.cost)]), f"events[{k}]")
    for k, centre in enumerate(co.showcase_centres):
        emit(
            F(
                "showcase_centre",
                [C, number(k), number(centre.year), _TRUE if centre.in_shanghai else _FALSE, money(centre.cost)],
            ),
            f"showcase_centres[{k}]",
        )
    for k, a in enumerate(co.prior_awards):
        K = number(k)
        emit(F("prior_award", [C, K, item(a.item), number(a.year)]), f"prior_awards[{k}]")
        if a.tier is not None:
            emit(F("prior_award_tier", [C, K, money(a.tier)]), f"prior_awards[{k}].tier")
        if a.project is not None:
            emit(F("prior_award_project", [C, K, projects(a.project)]), f"prior_awards[{k}].project")
    for k, o in enumerate(co.other_support):
        emit(F("other_support", [C, number(k), item(o.item), number(o.year), money(o.amount)]), f"other_support[{k}]")
    for k, asm in enumerate(co.assessments):
        amount = money(asm.amount) if asm.amount is not None else _NONE
        emit(
            F("assessment", [C, number(k), item(asm.item), number(asm.year), const(asm.decision), amount]),
            f"assessments[{k}]",
        )


def city_facts(city: City, emit: Emit) -> None:
    """Emit the city figures, each with its field path."""
    for y, g in sorted(city.avg_growth.items()):
        emit(F("city_avg_growth", [number(y), decimal(g)]), f"city.avg_growth.{y}")


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

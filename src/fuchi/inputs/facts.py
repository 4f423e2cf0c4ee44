"""Enterprise data → the input facts, as the policy's schema (inputs.yaml) declares them.

No text from the data ever becomes ASP text. Enterprises are numbered (the number ``C`` is local to one
solve), records are identified by their position in their list, ids declared ``numbered:`` are numbered
per enterprise, texts become ``clingo.String`` symbols, and enumeration values (validated against the
schema's ``values:``) become constants. The same builder writes clingo symbols (:data:`SYMBOLS`) or the
SQL engine's rows (:data:`ROWS`), so both engines see the same facts by construction.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import clingo

from ..numbers import decimal, money, number
from .records import City, Company
from .schema import Fact, Field, Schema

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


def company_facts(c: int, co: Company, emit: Emit, schema: Schema | None = None) -> None:
    """Emit the facts of one enterprise, each with the path of the field it comes from.

    Args:
        c: The number standing for the enterprise in this solve (the fact term is ``c(N)``).
        co: The validated enterprise.
        emit: Called with each fact and its field path (``field.2026``, ``list[2]``).
        schema: The policy's declared inputs (default: the shipped policy's).

    """
    _company(c, co, emit, SYMBOLS, schema)


def city_facts(city: City, emit: Emit, schema: Schema | None = None) -> None:
    """Emit the city figures, each with its field path."""
    _city(city, emit, SYMBOLS, schema)


Row = tuple[str, int, tuple[object, ...]]


def company_rows(c: int, co: Company, emit: Callable[[Row, str], None], schema: Schema | None = None) -> None:
    """The facts of :func:`company_facts` as rows for the SQL engine, without making clingo symbols.

    Each fact is ``(predicate, arity, leaves)``: the leaf values of its arguments left to right, as
    :func:`fuchi.compiler.shapes.flatten` would give them (money ``m(A,B,C)`` is three integers, a constant
    its name). One builder for both engines: the facts are the same by construction.
    """
    _company(c, co, emit, ROWS, schema)


def city_rows(city: City, emit: Callable[[Row, str], None], schema: Schema | None = None) -> None:
    """The city figures as rows (see :func:`company_rows`)."""
    _city(city, emit, ROWS, schema)


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
        out: list[object] = []
        for a in args:
            out += a
        return (name, len(args), tuple(out))

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


Emitter = Callable[[int, Any, Callable[[Any, str], None], Any, Any], None]


def _builder(schema: Schema) -> tuple[list[tuple[str, bool, Emitter]], list[Emitter]]:
    """The fact builders of a schema, built once per schema.

    Returns:
        For the enterprise: (field, whether an empty value writes nothing, its emitter) per field that
        writes facts; for the city: the emitters.
    """
    cached = schema._compiled.get("facts")
    if cached is None:
        cached = schema._compiled["facts"] = (
            [(f.name, _skips_empty(f), _field_emitter(f, city=False)) for f in schema.fields if f.fact or f.records],
            [_field_emitter(f, city=True) for f in schema.city if f.fact is not None],
        )
    return cached  # type: ignore[return-value]


def _skips_empty(f: Field) -> bool:
    """True when a falsy value of ``f`` writes no fact: an empty list or map, a false flag (not a 0)."""
    if f.shape != "scalar":
        return True
    return f.kind == "boolean" and f.fact is not None and not _reads_value(f.fact)


def _term(kind: str | None, numbered: str | None, prefix: int | None) -> Callable[[Any, Any, Any], Any]:
    """How one value becomes a term: ``(T, value, interners) -> term``."""
    if prefix is not None:
        return lambda T, v, ids: T.string(v[:prefix])
    if numbered is not None:
        return lambda T, v, ids: ids.number(numbered, v)
    if kind in ("text", "id"):
        return lambda T, v, ids: T.string(v)
    if kind == "item":
        return lambda T, v, ids: T.item(v)
    if kind == "enumeration":
        return lambda T, v, ids: T.const(v)
    if kind == "boolean":
        return lambda T, v, ids: T.true if v else T.false
    if kind in ("year", "integer"):
        return lambda T, v, ids: T.number(v)
    if kind == "money":
        return lambda T, v, ids: T.money(v)
    assert kind == "decimal", kind
    return lambda T, v, ids: T.decimal(v)


def _args(fact: Fact, value_field: Field, record: tuple[Field, ...]) -> list[tuple[str, Any, str | None]]:
    """For each argument: (source, term maker, absent constant)."""
    by_name = {f.name: f for f in record}
    out: list[tuple[str, Any, str | None]] = []
    for a in fact.args:
        if a.source in ("company", "key") or (a.source == "year" and a.source not in by_name):
            out.append((a.source, None, None))
            continue
        f = value_field if a.source == "value" else by_name[a.source]
        out.append((a.source, _term(f.kind, f.numbered, a.prefix), f.absent))
    return out


def _field_emitter(f: Field, *, city: bool) -> Emitter:
    """The facts of one field (and, for a list of records, of the record's own fields)."""
    name = f.name
    fact = f.fact
    if f.shape == "records":
        assert fact is not None
        main = _args(fact, f, f.records)
        subs = [
            (s.name, s.fact.predicate, _args(s.fact, s, f.records), s.kind == "boolean" and not _reads_value(s.fact))
            for s in f.records
            if s.fact is not None
        ]

        def records(c: int, co: Company, emit: Callable[[Any, str], None], T: Any, ids: Any) -> None:
            C = T.company(c)
            rec: Any
            for k, rec in enumerate(co.values[name]):  # type: ignore[arg-type]
                K = T.number(k)
                emit(T.fact(fact.predicate, _build(main, T, C, K, None, rec, ids)), f"{name}[{k}]")
                for sub, pred, args, flag in subs:
                    v = rec[sub]
                    if v is None or (flag and not v):
                        continue
                    emit(T.fact(pred, _build(args, T, C, K, None, rec, ids, v)), f"{name}[{k}].{sub}")

        return records
    assert fact is not None
    args = _args(fact, f, ())
    pred = fact.predicate
    flag = f.kind == "boolean" and not _reads_value(fact)
    if f.shape == "by_year":

        def by_year(c: int, co: Company | City, emit: Callable[[Any, str], None], T: Any, ids: Any) -> None:
            C = None if city else T.company(c)
            prefix = f"city.{name}" if city else name
            value = co.values.get(name)
            for y, v in (value or {}).items():  # type: ignore[attr-defined]
                emit(T.fact(pred, _build(args, T, C, None, y, None, None, v)), f"{prefix}.{y}")

        return by_year
    if f.shape == "list":

        def listed(c: int, co: Company, emit: Callable[[Any, str], None], T: Any, ids: Any) -> None:
            C = T.company(c)
            v: Any
            for n, v in enumerate(co.values[name]):  # type: ignore[arg-type]
                emit(T.fact(pred, _build(args, T, C, None, None, None, None, v)), f"{name}[{n}]")

        return listed

    def scalar(c: int, co: Company | City, emit: Callable[[Any, str], None], T: Any, ids: Any) -> None:
        v = co.values.get(name)
        if v is None or (flag and not v):
            return
        C = None if city else T.company(c)
        emit(T.fact(pred, _build(args, T, C, None, None, None, None, v)), f"city.{name}" if city else name)

    return scalar


def _reads_value(fact: Fact) -> bool:
    return any(a.source == "value" for a in fact.args)


def _build(
    args: list[tuple[str, Any, str | None]], T: Any, C: Any, K: Any, year: Any, rec: Any, ids: Any, value: Any = None
) -> list[Any]:
    out: list[Any] = []
    for source, make, absent in args:
        if make is None:
            out.append(C if source == "company" else K if source == "key" else T.number(year))
            continue
        v = value if source == "value" else rec[source]
        if v is None:
            out.append(T.const(absent))
        else:
            out.append(make(T, v, ids))
    return out


def _company(c: int, co: Company, emit: Callable[[Any, str], None], T: Any, schema: Schema | None = None) -> None:
    """Emit the facts of one enterprise, each with the path of the field it comes from.

    Args:
        c: The number standing for the enterprise in this solve (the fact term is ``c(N)``).
        co: The validated enterprise.
        emit: Called with each fact and its field path (``field.2026``, ``list[2]``).
        T: Makes the terms: :data:`SYMBOLS` (clingo) or :data:`ROWS` (the SQL engine).
        schema: The policy's declared inputs (default: the shipped policy's).

    """
    schema = schema or _default()
    emitters, _ = _builder(schema)
    emit(T.fact(schema.id_fact.predicate, [T.company(c)]), "id")
    ids = _Numbering(T)
    values = co.values
    for name, skips_empty, e in emitters:
        v = values.get(name)
        if v is None or (skips_empty and not v):
            continue
        e(c, co, emit, T, ids)


def _city(city: City, emit: Callable[[Any, str], None], T: Any, schema: Schema | None = None) -> None:
    """Emit the city figures, each with its field path."""
    _, emitters = _builder(schema or _default())
    for e in emitters:
        e(0, city, emit, T, None)


class _Numbering:
    """One numbering per ``numbered:`` name, per enterprise (the same text → the same number)."""

    __slots__ = ("T", "spaces")

    def __init__(self, T: Any) -> None:
        self.T = T
        self.spaces: dict[str, Any] = {}

    def number(self, space: str, text: str) -> Any:
        interner = self.spaces.get(space)
        if interner is None:
            interner = self.spaces[space] = self.T.interner()
        return interner(text)


def _default() -> Schema:
    from .loader import default_schema

    return default_schema()


def number_kinds(schema: Schema) -> dict[tuple[str, int], dict[int, str]]:
    """The number kind of each argument of the input predicates (position → "money" | "decimal" | "integer").

    For ``fuchi check``'s typing: clingo orders unlike terms by type, so comparing a money term with a
    decimal term or a plain integer is silently wrong. Years, record keys and integers are "integer".
    """
    number = {"money": "money", "decimal": "decimal", "year": "integer", "key": "integer", "integer": "integer"}
    out: dict[tuple[str, int], dict[int, str]] = {}
    for sig, kinds in schema.predicates().items():
        found = {n: number[k.split("|")[0]] for n, k in enumerate(kinds) if k.split("|")[0] in number}
        if found:
            out[sig] = found
    return out

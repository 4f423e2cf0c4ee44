"""Shapes: how a clingo term is laid out in SQL columns, and clingo's order between shapes.

A *shape* is the structure of a term with its leaves left open. A term of shape
``Fun("m", (INT, INT, INT))`` is stored as three ``BIGINT`` columns; a string as one ``VARCHAR``; a
constant (a function of arity 0, ``rejected``) as one ``VARCHAR`` holding its name. Every predicate is
split into *variants*, one table per tuple of argument shapes, so that a column always holds one kind of
value and pattern matching (``money_sum(match(C, Y, I), S)``) is a choice of table plus column equalities.

clingo orders terms (``R0 < R`` between reason terms, ``#max`` of money) as measured with clingo 5.8:
``#inf`` < integers < constants (by name) < strings < functions with arguments (by arity, then name, then
arguments left to right) < ``#sup``. Two shapes that differ at some position are therefore ordered
statically at that position; equal shapes compare leaf by leaf.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import clingo

from ..inputs.facts import const
from ..numbers import number


@dataclass(frozen=True)
class Leaf:
    """A leaf of a shape: ``int`` (BIGINT), ``str`` (VARCHAR string) or ``sym`` (VARCHAR constant name)."""

    kind: str

    def __str__(self) -> str:
        return {"int": "Int", "str": "Str", "sym": "Const"}[self.kind]


@dataclass(frozen=True)
class Fun:
    """A function term of the given argument shapes.

    With no arguments it is one particular constant (``Fun("match_ratio", ())``, no column): the names of
    parameters, known when the policy is compiled, so that ``param(ratio_2_4_b, R)`` matches only the
    variant of that parameter. Constants in data are the leaf :data:`SYM`.
    """

    name: str
    args: tuple[Shape, ...]

    def __str__(self) -> str:
        if not self.args:
            return self.name
        return f"{self.name}({', '.join(str(a) for a in self.args)})"


@dataclass(frozen=True)
class Special:
    """``#inf`` or ``#sup`` (the value of ``#max``/``#min`` over an empty set); no columns."""

    which: str  # "inf" | "sup"

    def __str__(self) -> str:
        return f"#{self.which}"


Shape = Leaf | Fun | Special

INT = Leaf("int")
STR = Leaf("str")
SYM = Leaf("sym")
INF = Special("inf")
SUP = Special("sup")


@functools.lru_cache(maxsize=4096)
def width(shape: Shape) -> int:
    """Number of SQL columns a term of this shape takes."""
    if isinstance(shape, Leaf):
        return 1
    if isinstance(shape, Special):
        return 0
    return sum(width(a) for a in shape.args)


def leaves(shape: Shape) -> list[Leaf]:
    """The leaves of a shape, left to right (one per column)."""
    if isinstance(shape, Leaf):
        return [shape]
    if isinstance(shape, Special):
        return []
    out: list[Leaf] = []
    for a in shape.args:
        out.extend(leaves(a))
    return out


def split(shape: Fun, cols: Sequence[str]) -> list[list[str]]:
    """Cut the columns of a function-shaped term into those of each argument."""
    out = []
    at = 0
    for a in shape.args:
        w = width(a)
        out.append(list(cols[at : at + w]))
        at += w
    return out


def _rank(shape: Shape) -> int:
    if isinstance(shape, Special):
        return 0 if shape.which == "inf" else 9
    if isinstance(shape, Leaf):
        return {"int": 1, "sym": 2, "str": 4}[shape.kind]
    return 2 if not shape.args else 5


def static_order(a: Shape, b: Shape) -> int | None:
    """Order of every term of shape ``a`` against every term of shape ``b`` at their top level.

    Returns -1 or 1 when the shapes alone decide, None when they are the same kind of leaf or the same
    function symbol (the values, or the arguments, decide).
    """
    ra, rb = _rank(a), _rank(b)
    if ra != rb:
        return -1 if ra < rb else 1
    if isinstance(a, Leaf) and isinstance(b, Leaf):
        return None  # same kind
    if isinstance(a, Special) and isinstance(b, Special):
        return None
    if isinstance(a, Leaf) or isinstance(b, Leaf):
        return None  # a constant leaf against one particular constant: the value decides
    assert isinstance(a, Fun) and isinstance(b, Fun)
    ka, kb = (len(a.args), a.name.encode()), (len(b.args), b.name.encode())
    if ka != kb:
        return -1 if ka < kb else 1
    return None


def shape_of(sym: clingo.Symbol) -> Shape:
    """The shape of a ground term (negative functions and #inf/#sup are not data)."""
    t = sym.type
    if t == clingo.SymbolType.Number:
        return INT
    if t == clingo.SymbolType.String:
        return STR
    if t == clingo.SymbolType.Function:
        if not sym.positive:
            raise ValueError(f"negative term {sym} has no SQL shape")
        args = sym.arguments
        if not args:
            return SYM
        return Fun(sym.name, tuple(shape_of(a) for a in args))
    if t == clingo.SymbolType.Infimum:
        return INF
    return SUP


def flatten(sym: clingo.Symbol, out: list[object]) -> None:
    """Append the leaf values of a ground term (int, str or constant name) to ``out``."""
    t = sym.type
    if t == clingo.SymbolType.Number:
        out.append(sym.number)
    elif t == clingo.SymbolType.String:
        out.append(sym.string)
    elif t == clingo.SymbolType.Function:
        args = sym.arguments
        if not args:
            out.append(sym.name)
        else:
            for a in args:
                flatten(a, out)


def fits(shape: Shape, sym: clingo.Symbol) -> bool:
    """Tell whether a ground term has this shape (a named constant of the shape must be that constant)."""
    t = sym.type
    if isinstance(shape, Leaf):
        if shape.kind == "int":
            return t == clingo.SymbolType.Number
        if shape.kind == "str":
            return t == clingo.SymbolType.String
        return t == clingo.SymbolType.Function and sym.positive and not sym.arguments
    if isinstance(shape, Special):
        return t == (clingo.SymbolType.Infimum if shape.which == "inf" else clingo.SymbolType.Supremum)
    if t != clingo.SymbolType.Function or not sym.positive or sym.name != shape.name:
        return False
    args = sym.arguments
    return len(args) == len(shape.args) and all(fits(s, a) for s, a in zip(shape.args, args, strict=True))


def flatten_as(shape: Shape, sym: clingo.Symbol, out: list[object]) -> None:
    """Append the leaf values of a ground term laid out as ``shape`` (constants of the shape take no column)."""
    if isinstance(shape, Leaf):
        t = sym.type
        if t == clingo.SymbolType.Number:
            out.append(sym.number)
        elif t == clingo.SymbolType.String:
            out.append(sym.string)
        else:
            out.append(sym.name)
    elif isinstance(shape, Fun):
        for s, a in zip(shape.args, sym.arguments, strict=True):
            flatten_as(s, a, out)


def build(shape: Shape, values: Iterator[object]) -> clingo.Symbol:
    """Rebuild a clingo term from its shape and its leaf values (the inverse of :func:`flatten`)."""
    if isinstance(shape, Leaf):
        v = next(values)
        if shape.kind == "int":
            assert isinstance(v, int)
            return number(v)
        assert isinstance(v, str)
        return clingo.String(v) if shape.kind == "str" else const(v)
    if isinstance(shape, Special):
        return clingo.Infimum if shape.which == "inf" else clingo.Supremum
    return clingo.Function(shape.name, [build(a, values) for a in shape.args])


def sql_type(leaf: Leaf) -> str:
    """DuckDB column type of a leaf."""
    return "BIGINT" if leaf.kind == "int" else "VARCHAR"


MONEY = Fun("m", (INT, INT, INT))
DECIMAL = Fun("d", (INT, INT, INT, INT))

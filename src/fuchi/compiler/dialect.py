"""SQL dialects: what differs between the engines that run the compiled plan (DuckDB, Spark SQL).

The plan (:mod:`fuchi.compiler.plan`) is generic: tables, joins, ``NOT EXISTS``, ``UNION``, grouped
sub-queries, clingo's term order. What a dialect decides is small and all here:

* the column types of the leaves (``BIGINT`` / ``VARCHAR`` or ``STRING``);
* bound parameters: the compiler writes ``$n`` while it builds a statement (and renumbers them); the
  dialect gives the final marker (DuckDB ``$n``, Spark ``:pn``) and how the values are passed;
* integer division with clingo's truncation, checked at 32 bits;
* struct literals (DuckDB ``{'l0': x}``, Spark ``named_struct('l0', x)``);
* how a statement creates its table, and an empty one;
* the exact arithmetic of the ``@functions`` (:mod:`fuchi.compiler.functions`): DuckDB macros over
  ``HUGEINT``, or, for Spark (which has no SQL macros in 3.5 and no 128-bit integer), the same arithmetic
  inlined as expressions over ``DECIMAL(38,0)``, with ``div``/``%`` only (never ``/``, which would
  change the scale), and errors through ``raise_error('fuchi: …')``.

Nothing here ever sees data or a string of the rules: constants are bound parameters, identifiers are made
by the compiler, and the only literals are integers and the compiler's own error texts.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Protocol

from ..numbers import Functions
from .shapes import Leaf

LIMB = 10**5
PART = 10**9
SCALE = 10**12
MAX_TERM_FEN = (2**31 - 1) * LIMB * LIMB
TIMES_MAX_FEN = Functions.TIMES_MAX_FEN

Stage = Callable[[str], str]
#: (the first stage's expression, the later stages, a condition under which there is a value or None)
FunctionSql = tuple[str, list[Stage], str | None]

_MARKER = re.compile(r"\$(\d+)")


class Dialect(Protocol):
    """What the plan needs from a SQL dialect."""

    #: ``duckdb`` | ``spark``
    name: str

    @property
    def prelude(self) -> str:
        """Text run (DuckDB) or shown (Spark) before the statements."""
        ...

    #: a final parameter marker in the statement text (group 1: its number), for the listing
    marker: re.Pattern[str]

    def type_of(self, leaf: Leaf) -> str:
        """The column type of a leaf."""
        ...

    def param(self, n: int) -> str:
        """The compiler's placeholder for bound parameter ``n`` (a string), renumbered by the statement."""
        ...

    def markers(self, text: str) -> str:
        """The statement text with the compiler's placeholders as this dialect's markers."""
        ...

    def int_div(self, x: str, y: str) -> str:
        """32-bit integer division truncating toward zero (clingo's ``/``); raises beyond 32 bits."""
        ...

    def struct(self, fields: Sequence[tuple[str, str]]) -> str:
        """A struct value with these (field name, expression) pairs."""
        ...

    def create(self, name: str, query: str) -> str:
        """The statement creating table ``name`` from ``query``."""
        ...

    def create_empty(self, name: str, columns: Sequence[tuple[str, str]]) -> str:
        """The statement creating the empty table ``name`` with these (column, type) pairs."""
        ...

    def function(self, name: str, args: Sequence[Sequence[str]]) -> FunctionSql:
        """The exact SQL of ``@name`` over the leaf expressions of its arguments (see :class:`Function`)."""
        ...


class DuckDB:
    """DuckDB: ``HUGEINT`` macros (created by :data:`fuchi.compiler.functions.PRELUDE`), ``$n`` parameters."""

    name = "duckdb"
    marker = _MARKER

    @property
    def prelude(self) -> str:
        """The macros of the exact arithmetic."""
        from .functions import PRELUDE

        return PRELUDE

    def type_of(self, leaf: Leaf) -> str:
        """``BIGINT`` or ``VARCHAR``."""
        return "BIGINT" if leaf.kind == "int" else "VARCHAR"

    def param(self, n: int) -> str:
        """``CAST($n AS VARCHAR)``."""
        return f"CAST(${n} AS VARCHAR)"

    def markers(self, text: str) -> str:
        """Unchanged: DuckDB takes ``$n``."""
        return text

    def int_div(self, x: str, y: str) -> str:
        """``//`` on 32-bit INTEGER operands truncates and raises on overflow."""
        return f"({x} // {y})"

    def struct(self, fields: Sequence[tuple[str, str]]) -> str:
        """``{'l0': x, …}``."""
        inner = ", ".join(f"'{k}': {v}" for k, v in fields)
        return "{" + inner + "}"

    def create(self, name: str, query: str) -> str:
        """``CREATE TABLE name AS query``."""
        return f"CREATE TABLE {name} AS\n{query}"

    def create_empty(self, name: str, columns: Sequence[tuple[str, str]]) -> str:
        """``CREATE TABLE name (c0 BIGINT, …)``."""
        cols = ", ".join(f"{c} {t}" for c, t in columns)
        return f"CREATE TABLE {name} ({cols or 'one INTEGER'})"

    def function(self, name: str, args: Sequence[Sequence[str]]) -> FunctionSql:
        """The macro calls of :mod:`fuchi.compiler.functions`."""
        from .functions import FUNCTIONS

        return FUNCTIONS[name].sql(args)


# ---- Spark SQL ---------------------------------------------------------------------------------------

_D = "DECIMAL(38,0)"


def _dec(x: str) -> str:
    return f"CAST({x} AS {_D})"


def _n(k: int) -> str:
    """An integer literal as DECIMAL(38,0) (so every step has an explicit precision and scale)."""
    return f"CAST({k} AS {_D})"


def _s(x: str) -> str:
    return f"CAST({x} AS STRING)"


def _raise(*parts: str) -> str:
    """``raise_error`` of the concatenated parts (compiler text in quotes, or expressions)."""
    return f"raise_error({' || '.join(parts)})"


_C = 10**13  # the limb of the long division: every quotient of a `div` below is < 10^13 < 2^63


def _trunc(x: str, b: str) -> str:
    """floor(x / b) for 0 <= x < 10^38 and 0 < b < 10^25, both DECIMAL(38,0), without ``/``.

    Spark's ``div`` returns a LONG, so the quotient is computed as a long division in limbs of 10^13:
    x = a2·10^26 + a1·10^13 + a0 (a2 < 10^12); each step divides a number below b·10^13 < 10^38 by b,
    giving a digit below 10^13, which fits a LONG exactly. ``%`` on decimals is exact.
    """
    c, cc = _n(_C), _n(_C * _C)
    a2 = _dec(f"{x} div {cc}")
    a1 = _dec(f"({x} % {cc}) div {c}")
    a0 = _dec(f"{x} % {c}")
    q2 = _dec(f"{a2} div {b}")
    r2 = _dec(f"{a2} % {b}")
    n1 = _dec(f"{r2} * {c} + {a1}")
    q1 = _dec(f"{n1} div {b}")
    r1 = _dec(f"{n1} % {b}")
    n0 = _dec(f"{r1} * {c} + {a0}")
    q0 = _dec(f"{n0} div {b}")
    return _dec(f"({q2} * {c} + {q1}) * {c} + {q0}")


def _floordiv(a: str, b: str) -> str:
    """floor(a / b) for |a| < 10^38 and a positive divisor b < 10^25 (every divisor of the functions is)."""
    neg = f"(-{a})"
    return _dec(
        f"CASE WHEN {a} >= 0 THEN {_trunc(a, b)} "
        f"ELSE -({_trunc(neg, b)} + CASE WHEN {neg} % {b} = 0 THEN 0 ELSE 1 END) END"
    )


def _fen(cols: Sequence[str]) -> str:
    a, b, c = cols
    return _dec(
        f"CASE WHEN {a} < 0 OR {b} < 0 OR {b} >= {LIMB} OR {c} < 0 OR {c} >= {LIMB} THEN "
        + _raise("'fuchi: m('", _s(a), "','", _s(b), "','", _s(c), "') is not a normalised money term'")
        + f" ELSE {_dec(a)} * {_n(LIMB * LIMB)} + {_dec(b)} * {_n(LIMB)} + {_dec(c)} END"
    )


def _dnum(cols: Sequence[str]) -> str:
    n2, n1, n0, x = cols
    return _dec(
        f"CASE WHEN {n1} < 0 OR {n1} >= {PART} OR {n0} < 0 OR {n0} >= {PART} OR {x} < 0 OR {x} > 1 THEN "
        + _raise(
            "'fuchi: d('", _s(n2), "','", _s(n1), "','", _s(n0), "','", _s(x), "') is not a normalised decimal term'"
        )
        + f" ELSE ({_dec(n2)} * {_n(PART)} + {_dec(n1)}) * {_n(PART)} + {_dec(n0)} END"
    )


def _exact(cols: Sequence[str], what: str) -> str:
    n2, n1, n0, x = cols
    return _dec(
        f"CASE WHEN {x} = 1 THEN "
        + _raise(
            f"'fuchi: {what}: d('",
            _s(n2),
            "','",
            _s(n1),
            "','",
            _s(n0),
            "',1) is a rounded ratio and cannot be multiplied exactly'",
        )
        + f" ELSE {_dnum(cols)} END"
    )


def _money(f: str) -> str:
    """A fen amount (DECIMAL) as the limbs of m(A, B, C); 0 <= f <= MAX_TERM_FEN < 2^65, so f div 10^5 < 2^63."""
    return (
        f"CASE WHEN {f} < 0 OR {f} > {_n(MAX_TERM_FEN)} THEN "
        + _raise("'fuchi: money amount '", _s(f), f"' fen is outside 0..{MAX_TERM_FEN}'")
        + f" ELSE named_struct('l0', CAST({f} div {_n(LIMB * LIMB)} AS BIGINT), "
        f"'l1', CAST(({f} div {_n(LIMB)}) % {LIMB} AS BIGINT), 'l2', CAST({f} % {_n(LIMB)} AS BIGINT)) END"
    )


def _spark_to_decimal() -> list[Stage]:
    """Quotient → d(N2, N1, N0, X): floor(num / den) with the inexact flag, split at 10^9 twice, range-checked."""
    part = _n(PART)

    def divide(p: str) -> str:
        q = _floordiv(f"{p}.num", f"{p}.den")
        return (
            f"CASE WHEN {p}.den = 0 THEN NULL ELSE named_struct('q', {q}, "
            f"'x', CASE WHEN {p}.num % {p}.den = 0 THEN 0 ELSE 1 END) END"
        )

    def split(p: str) -> str:
        hi = _floordiv(f"{p}.q", part)
        return f"named_struct('hi', {hi}, 'lo', {_dec(f'{p}.q - {hi} * {part}')}, 'x', {p}.x)"

    def split_hi(p: str) -> str:
        return f"named_struct('hh', {_floordiv(f'{p}.hi', part)}, 'hi', {p}.hi, 'lo', {p}.lo, 'x', {p}.x)"

    def dterm(p: str) -> str:
        return (
            f"CASE WHEN {p}.hh < -2147483648 OR {p}.hh > 2147483647 THEN "
            + _raise(
                "'fuchi: decimal '",
                _s(f"{p}.hi"),
                "'×10^9+'",
                _s(f"{p}.lo"),
                "' (×10^-12) is outside the supported range'",
            )
            + f" ELSE named_struct('l0', CAST({p}.hh AS BIGINT), 'l1', CAST({p}.hi - {p}.hh * {part} AS BIGINT), "
            f"'l2', CAST({p}.lo AS BIGINT), 'l3', CAST({p}.x AS BIGINT)) END"
        )

    return [divide, split, split_hi, dterm]


def _spark_function(name: str, a: Sequence[Sequence[str]]) -> FunctionSql:
    scale = _n(SCALE)
    if name == "share":
        first = f"named_struct('f', {_fen(a[0])}, 'r', {_exact(a[1], '@share')})"

        def share(p: str) -> str:  # f >= 0 and r >= 0: the product is >= 0; rounded down to the yuan (W3)
            return _dec(
                f"CASE WHEN {p}.r < 0 THEN {_raise(repr('fuchi: @share: negative ratio'))} "
                f"ELSE {_trunc(_dec(f'{p}.f * {p}.r'), _n(100 * SCALE))} * {_n(100)} END"
            )

        return first, [share, _money], None
    if name == "cap":
        (a0, b0, c0), (a1, b1, c1) = a
        low = f"named_struct('l0', {a0}, 'l1', {b0}, 'l2', {c0})"
        high = f"named_struct('l0', {a1}, 'l1', {b1}, 'l2', {c1})"
        return f"CASE WHEN {_fen(a[0])} <= {_fen(a[1])} THEN {low} ELSE {high} END", [], None
    if name == "ratio":
        return (
            f"named_struct('num', {_dec(f'{_fen(a[0])} * {scale}')}, 'den', {_fen(a[1])})",
            _spark_to_decimal(),
            f"{_fen(a[1])} <> 0",
        )
    if name == "growth":
        num = _dec(f"({_fen(a[0])} - {_fen(a[1])}) * {scale}")
        return f"named_struct('num', {num}, 'den', {_fen(a[1])})", _spark_to_decimal(), f"{_fen(a[1])} <> 0"
    if name == "scale":
        num = _dec(f"{_exact(a[0], '@scale')} * {_exact(a[1], '@scale')}")
        return f"named_struct('num', {num}, 'den', {scale})", _spark_to_decimal(), None
    if name == "times":
        first = f"named_struct('f', {_fen(a[0])}, 'n', {_dec(a[1][0])})"

        def times(p: str) -> str:  # f < 2^65 and n < 2^31: the product is below 10^29
            product = _dec(f"{p}.f * {p}.n")
            return _dec(
                f"CASE WHEN {p}.n < 0 THEN {_raise(repr('fuchi: @times: negative count '), _s(f'{p}.n'))} "
                f"WHEN {product} > {_n(TIMES_MAX_FEN)} THEN "
                + _raise("'fuchi: @times: product '", _s(product), f"' fen is above {TIMES_MAX_FEN} fen (10^12 yuan)'")
                + f" ELSE {product} END"
            )

        return first, [times, _money], None
    raise KeyError(name)


class Spark:
    """Spark SQL 3.5 with ``spark.sql.ansi.enabled=true``: ``DECIMAL(38,0)`` fen inlined, ``:pn`` parameters."""

    name = "spark"
    marker = re.compile(r":p(\d+)")
    prelude = (
        "-- Spark SQL has no macros: the exact arithmetic is inlined in each statement, over DECIMAL(38,0)\n"
        "-- (div and % only; never /, never DOUBLE). Run with ANSI mode, so that an overflow is an error:\n"
        "SET spark.sql.ansi.enabled = true;"
    )

    def type_of(self, leaf: Leaf) -> str:
        """``BIGINT`` or ``STRING``."""
        return "BIGINT" if leaf.kind == "int" else "STRING"

    def param(self, n: int) -> str:
        """``CAST($n AS STRING)`` (``$n`` becomes ``:pn``)."""
        return f"CAST(${n} AS STRING)"

    def markers(self, text: str) -> str:
        """``$n`` → ``:pn`` (Spark's named parameter markers; the values go in ``args={'pn': …}``)."""
        return _MARKER.sub(lambda m: f":p{m.group(1)}", text)

    def int_div(self, x: str, y: str) -> str:
        """``div`` truncates toward zero but returns a LONG: cast back to INT (raises beyond 32 bits)."""
        return f"CAST(({x} div {y}) AS INTEGER)"

    def struct(self, fields: Sequence[tuple[str, str]]) -> str:
        """``named_struct('l0', x, …)``."""
        return "named_struct(" + ", ".join(f"'{k}', {v}" for k, v in fields) + ")"

    def create(self, name: str, query: str) -> str:
        """``CACHE TABLE name AS query`` (a temporary view, materialised; the engine checkpoints it)."""
        return f"CACHE TABLE {name} AS\n{query}"

    def create_empty(self, name: str, columns: Sequence[tuple[str, str]]) -> str:
        """The same, of a query without rows."""
        return self.create(name, empty_query(columns))

    def function(self, name: str, args: Sequence[Sequence[str]]) -> FunctionSql:
        """The exact arithmetic inlined."""
        return _spark_function(name, args)


def empty_query(columns: Sequence[tuple[str, str]]) -> str:
    """A query with these (column, type) pairs and no rows."""
    cols = ", ".join(f"CAST(NULL AS {t}) AS {c}" for c, t in columns) or "1 AS one"
    return f"SELECT {cols} WHERE 1 = 0"


DUCKDB: Dialect = DuckDB()
SPARK: Dialect = Spark()
DIALECTS: dict[str, Dialect] = {"duckdb": DUCKDB, "spark": SPARK}

__all__ = ["DIALECTS", "DUCKDB", "SPARK", "Dialect", "DuckDB", "Spark", "empty_query"]

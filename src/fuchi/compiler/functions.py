"""Exact SQL equivalents of the ``@functions`` of :mod:`fuchi.numbers`, as DuckDB macros.

Amounts are computed in ``HUGEINT`` (128-bit) fen; nothing goes through ``DOUBLE`` (DuckDB's ``/`` on
integers or decimals returns a double: only ``//`` and ``%`` are used, with an explicit floor where the
sign can be negative). A value out of range raises through ``error('fuchi: …')`` (or DuckDB's own
``Overflow`` error, which the engine reports the same way), never wraps: the engine turns it into the
same policy error as the clingo engine (exit 1).

Each function has a signature (argument shapes → result shape). A call whose arguments have other shapes,
or an unknown ``@function``, is outside the fragment (the compiler reports it at ``file:line``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ..numbers import Functions
from .shapes import DECIMAL, INT, MONEY, Shape

LIMB = 10**5
PART = 10**9
SCALE = 10**12
MAX_TERM_FEN = (2**31 - 1) * LIMB * LIMB
#: Largest product of ``@times``, in fen: 10**12 yuan, as in the clingo engine.
TIMES_MAX_FEN = Functions.TIMES_MAX_FEN

#: Macros created on every connection before the plan runs (no data in them).
PRELUDE = f"""
CREATE OR REPLACE MACRO fuchi_fen(a, b, c) AS
  CASE WHEN a < 0 OR b < 0 OR b >= {LIMB} OR c < 0 OR c >= {LIMB}
       THEN error('fuchi: m(' || a::VARCHAR || ',' || b::VARCHAR || ',' || c::VARCHAR || ') is not a normalised money term')
       ELSE (a::HUGEINT * {LIMB * LIMB} + b::HUGEINT * {LIMB} + c::HUGEINT) END;
CREATE OR REPLACE MACRO fuchi_money(f) AS
  CASE WHEN f < 0 OR f > {MAX_TERM_FEN}::HUGEINT
       THEN error('fuchi: money amount ' || f::VARCHAR || ' fen is outside 0..{MAX_TERM_FEN}')
       ELSE {{'l0': (f // {LIMB * LIMB})::BIGINT, 'l1': ((f // {LIMB}) % {LIMB})::BIGINT, 'l2': (f % {LIMB})::BIGINT}} END;
CREATE OR REPLACE MACRO fuchi_dnum(n2, n1, n0, x) AS
  CASE WHEN n1 < 0 OR n1 >= {PART} OR n0 < 0 OR n0 >= {PART} OR x < 0 OR x > 1
       THEN error('fuchi: d(' || n2::VARCHAR || ',' || n1::VARCHAR || ',' || n0::VARCHAR || ',' || x::VARCHAR || ') is not a normalised decimal term')
       ELSE (n2::HUGEINT * {PART} + n1::HUGEINT) * {PART} + n0::HUGEINT END;
CREATE OR REPLACE MACRO fuchi_exact(n2, n1, n0, x, what) AS
  CASE WHEN x = 1
       THEN error('fuchi: ' || what || ': d(' || n2::VARCHAR || ',' || n1::VARCHAR || ',' || n0::VARCHAR || ',1) is a rounded ratio and cannot be multiplied exactly')
       ELSE fuchi_dnum(n2, n1, n0, x) END;
CREATE OR REPLACE MACRO fuchi_floordiv(a, b) AS
  (a // b) - CASE WHEN a % b <> 0 AND ((a < 0) <> (b < 0)) THEN 1 ELSE 0 END;
CREATE OR REPLACE MACRO fuchi_divide(num, den) AS
  CASE WHEN den = 0 THEN NULL
       ELSE {{'q': fuchi_floordiv(num, den), 'x': CASE WHEN num % den = 0 THEN 0 ELSE 1 END}} END;
CREATE OR REPLACE MACRO fuchi_split9(q, x) AS
  {{'hi': fuchi_floordiv(q, {PART}), 'lo': q - fuchi_floordiv(q, {PART}) * {PART}, 'x': x}};
CREATE OR REPLACE MACRO fuchi_dterm(hi, lo, x) AS
  CASE WHEN fuchi_floordiv(hi, {PART}) < -2147483648 OR fuchi_floordiv(hi, {PART}) > 2147483647
       THEN error('fuchi: decimal ' || hi::VARCHAR || '×10^9+' || lo::VARCHAR || ' (×10^-12) is outside the supported range')
       ELSE {{'l0': fuchi_floordiv(hi, {PART})::BIGINT, 'l1': (hi - fuchi_floordiv(hi, {PART}) * {PART})::BIGINT,
             'l2': lo::BIGINT, 'l3': x::BIGINT}} END;
CREATE OR REPLACE MACRO fuchi_share_fen(f, r) AS
  CASE WHEN r < 0 THEN error('fuchi: @share: negative ratio') ELSE (f * r) // {100 * SCALE} * 100 END;
CREATE OR REPLACE MACRO fuchi_times_fen(f, n) AS
  CASE WHEN n < 0 THEN error('fuchi: @times: negative count ' || n::VARCHAR)
       WHEN f * n > {TIMES_MAX_FEN}::HUGEINT
       THEN error('fuchi: @times: product ' || (f * n)::VARCHAR || ' fen is above {TIMES_MAX_FEN} fen (10^12 yuan)')
       ELSE f * n END;
CREATE OR REPLACE MACRO fuchi_cap(a, b, c, p, q, r) AS
  CASE WHEN fuchi_fen(a, b, c) <= fuchi_fen(p, q, r)
       THEN {{'l0': a, 'l1': b, 'l2': c}} ELSE {{'l0': p, 'l1': q, 'l2': r}} END;
"""


Stage = Callable[[str], str]


@dataclass(frozen=True)
class Function:
    """One ``@function``: its signature and its SQL, in stages.

    ``sql(args)`` gets the column expressions of each argument and returns (the first stage's expression,
    the later stages, a condition under which there is a value or None). Each later stage is computed in
    its own layer from the previous stage's column (so no expression is expanded more than once); the last
    stage is a STRUCT whose fields ``l0, l1, …`` are the leaves of the result.
    """

    name: str
    args: tuple[Shape, ...]
    result: Shape
    sql: Callable[[Sequence[Sequence[str]]], tuple[str, list[Stage], str | None]]
    doc: str


def _fen(cols: Sequence[str]) -> str:
    return f"fuchi_fen({', '.join(cols)})"


def _exact(cols: Sequence[str], what: str) -> str:
    return f"fuchi_exact({', '.join(cols)}, '{what}')"


#: quotient → decimal term: floor(num / den) with the inexact flag, then split into d(N2, N1, N0, X)
_TO_DECIMAL: list[Stage] = [
    lambda p: f"fuchi_divide({p}.num, {p}.den)",
    lambda p: f"fuchi_split9({p}.q, {p}.x)",
    lambda p: f"fuchi_dterm({p}.hi, {p}.lo, {p}.x)",
]


def _share(a: Sequence[Sequence[str]]) -> tuple[str, list[Stage], str | None]:
    first = f"{{'f': {_fen(a[0])}, 'r': {_exact(a[1], '@share')}}}"
    return first, [lambda p: f"fuchi_share_fen({p}.f, {p}.r)", lambda p: f"fuchi_money({p})"], None


def _cap(a: Sequence[Sequence[str]]) -> tuple[str, list[Stage], str | None]:
    return f"fuchi_cap({', '.join(a[0])}, {', '.join(a[1])})", [], None


def _ratio(a: Sequence[Sequence[str]]) -> tuple[str, list[Stage], str | None]:
    return f"{{'num': {_fen(a[0])} * {SCALE}, 'den': {_fen(a[1])}}}", _TO_DECIMAL, f"{_fen(a[1])} <> 0"


def _growth(a: Sequence[Sequence[str]]) -> tuple[str, list[Stage], str | None]:
    first = f"{{'num': ({_fen(a[0])} - {_fen(a[1])}) * {SCALE}, 'den': {_fen(a[1])}}}"
    return first, _TO_DECIMAL, f"{_fen(a[1])} <> 0"


def _scale(a: Sequence[Sequence[str]]) -> tuple[str, list[Stage], str | None]:
    first = f"{{'num': {_exact(a[0], '@scale')} * {_exact(a[1], '@scale')}, 'den': {SCALE}::HUGEINT}}"
    return first, _TO_DECIMAL, None


def _times(a: Sequence[Sequence[str]]) -> tuple[str, list[Stage], str | None]:
    # 32-bit limbs and count: the HUGEINT product is below 2**97 (and DuckDB raises on overflow, never wraps)
    first = f"{{'f': {_fen(a[0])}, 'n': CAST({a[1][0]} AS HUGEINT)}}"
    return first, [lambda p: f"fuchi_times_fen({p}.f, {p}.n)", lambda p: f"fuchi_money({p})"], None


FUNCTIONS: dict[str, Function] = {
    f.name: f
    for f in (
        Function("share", (MONEY, DECIMAL), MONEY, _share, "money × decimal, rounded down to the yuan (W3)"),
        Function("cap", (MONEY, MONEY), MONEY, _cap, "the smaller of two money terms"),
        Function("ratio", (MONEY, MONEY), DECIMAL, _ratio, "M1 / M2 as a decimal (no value when M2 = 0)"),
        Function("growth", (MONEY, MONEY), DECIMAL, _growth, "(M1 - M0) / M0 (no value when M0 = 0)"),
        Function("scale", (DECIMAL, DECIMAL), DECIMAL, _scale, "D1 × D2, exact"),
        Function("times", (MONEY, INT), MONEY, _times, "money × a count ≥ 0, exact (at most 10^12 yuan)"),
    )
}

"""Exact numbers as clingo terms, and the arithmetic functions the policy calls (docs/numbers.md).

clingo integers are 32-bit and wrap silently, so no amount is ever a plain clingo integer:

* **Money** is ``m(A, B, C)`` with ``fen = A*10**10 + B*10**5 + C`` and ``0 <= B, C < 10**5``.
  Terms of the same shape compare lexicographically, which is numeric order, so a rule can write
  ``R > X``. Limbs below 10**5 let ``#sum`` add up to 20,000 parts per limb without passing 2**31.
* **Decimals** (PUE, PFLOPS, growth, ratios) are ``d(N2, N1, N0, X)`` with
  ``floor(value * 10**12) = N2*10**18 + N1*10**9 + N0`` (``0 <= N1, N0 < 10**9``) and ``X = 1`` when
  the value is strictly above that (a derived ratio with more than 12 places), else 0. Comparing a
  derived decimal with an exact one (a parameter, an input with at most 6 places, or the product of
  two such) is therefore exact.

Every function raises :class:`ArithmeticRangeError` instead of producing a value out of range.
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import clingo

from .errors import PolicyError

LIMB = 10**5
SCALE = 10**12  # decimal places kept by d/4 terms
PART = 10**9
#: Largest fen value a money term may hold (A must stay a comfortable 32-bit int).
MAX_TERM_FEN = (2**31 - 1) * LIMB * LIMB


class ArithmeticRangeError(PolicyError):
    """A number that cannot be represented exactly; never wrapped or clamped (a policy error, exit 1)."""


_NUMBERS: dict[int, clingo.Symbol] = {}


def number(n: int) -> clingo.Symbol:
    """Return ``clingo.Number(n)``, cached (creating symbols is the costly part of fact building)."""
    sym = _NUMBERS.get(n)
    if sym is None:
        if not -(2**31) <= n < 2**31:
            raise ArithmeticRangeError(f"{n} does not fit a 32-bit clingo integer")
        sym = clingo.Number(n)
        if len(_NUMBERS) < 1_000_000:
            _NUMBERS[n] = sym
    return sym


def money(fen: int) -> clingo.Symbol:
    """Return the money term for an amount in fen."""
    if fen < 0 or fen > MAX_TERM_FEN:
        raise ArithmeticRangeError(f"money amount {fen} fen is outside 0..{MAX_TERM_FEN}")
    high, low = divmod(fen, LIMB)
    top, mid = divmod(high, LIMB)
    sym = clingo.Function("m", [number(top), number(mid), number(low)])
    if len(_FEN) > _CACHE_LIMIT:
        _FEN.clear()
    _FEN[sym] = fen
    return sym


ZERO = clingo.Function("m", [clingo.Number(0)] * 3)


def is_money(sym: clingo.Symbol) -> bool:
    """Tell whether a symbol has the shape of a money term."""
    if sym in _FEN:  # every money term made or read here is cached (reading arguments goes through CFFI)
        return True
    if sym.type != clingo.SymbolType.Function or sym.name != "m":
        return False
    args = sym.arguments
    return len(args) == 3 and all(a.type == clingo.SymbolType.Number for a in args)


_FEN: dict[clingo.Symbol, int] = {}
_FRACTION: dict[clingo.Symbol, tuple[Fraction, bool]] = {}
_CACHE_LIMIT = 200_000


def fen_of_limbs(a: int, b: int, c: int) -> int:
    """The fen of the limbs of ``m(A,B,C)``, as written (normalised when ``A >= 0`` and ``0 <= B, C < LIMB``)."""
    return (a * LIMB + b) * LIMB + c


def fen_of(sym: clingo.Symbol) -> int:
    """Return the amount in fen of a money term (limbs are re-checked; results are cached)."""
    fen = _FEN.get(sym)
    if fen is not None:
        return fen
    if sym.type != clingo.SymbolType.Function or sym.name != "m":
        raise ArithmeticRangeError(f"{sym} is not a money term m(A,B,C)")
    args = sym.arguments
    if len(args) != 3 or any(x.type != clingo.SymbolType.Number for x in args):
        raise ArithmeticRangeError(f"{sym} is not a money term m(A,B,C)")
    a, b, c = (x.number for x in args)
    if a < 0 or not (0 <= b < LIMB and 0 <= c < LIMB):
        raise ArithmeticRangeError(f"{sym} is not a normalised money term")
    fen = fen_of_limbs(a, b, c)
    if len(_FEN) > _CACHE_LIMIT:
        _FEN.clear()
    _FEN[sym] = fen
    return fen


def decimal(value: Decimal | Fraction | int) -> clingo.Symbol:
    """Return the decimal term of an exact value (Fractions get the inexact flag when needed)."""
    q = Fraction(value)
    scaled = q * SCALE
    n = scaled.numerator // scaled.denominator  # floor, also for negatives
    inexact = 0 if scaled.denominator == 1 else 1
    high, n0 = divmod(n, PART)
    n2, n1 = divmod(high, PART)
    if not -(2**31) <= n2 < 2**31:
        raise ArithmeticRangeError(f"decimal {value} is outside the supported range")
    return clingo.Function("d", [number(n2), number(n1), number(n0), number(inexact)])


def is_decimal(sym: clingo.Symbol) -> bool:
    """Tell whether a symbol has the shape of a decimal term."""
    if sym in _FRACTION:
        return True
    if sym.type != clingo.SymbolType.Function or sym.name != "d":
        return False
    args = sym.arguments
    return len(args) == 4 and all(a.type == clingo.SymbolType.Number for a in args)


def fraction_of(sym: clingo.Symbol) -> tuple[Fraction, bool]:
    """Return (floor value at 12 places, exact?) of a decimal term (cached)."""
    hit = _FRACTION.get(sym)
    if hit is not None:
        return hit
    if len(_FRACTION) > _CACHE_LIMIT:
        _FRACTION.clear()
    _FRACTION[sym] = result = _fraction_of(sym)
    return result


def _fraction_of(sym: clingo.Symbol) -> tuple[Fraction, bool]:
    if not is_decimal(sym):
        raise ArithmeticRangeError(f"{sym} is not a decimal term d(N2,N1,N0,X)")
    n2, n1, n0, x = (a.number for a in sym.arguments)
    if not (0 <= n1 < PART and 0 <= n0 < PART and x in (0, 1)):
        raise ArithmeticRangeError(f"{sym} is not a normalised decimal term")
    return Fraction((n2 * PART + n1) * PART + n0, SCALE), x == 0


def _exact(sym: clingo.Symbol, what: str) -> Fraction:
    value, exact = fraction_of(sym)
    if not exact:
        raise ArithmeticRangeError(f"{what}: {sym} is a rounded ratio and cannot be multiplied exactly")
    return value


#: The declared signature of every exact @function: name → (argument kinds, result kind). Kinds are
#: "money" (m/3), "decimal" (d/4) and "integer". ``fuchi check`` types calls against this table; the SQL
#: compiler (compiler/functions.py) has one macro per entry.
SIGNATURES: dict[str, tuple[tuple[str, ...], str]] = {
    "share": (("money", "decimal"), "money"),
    "cap": (("money", "money"), "money"),
    "ratio": (("money", "money"), "decimal"),
    "growth": (("money", "money"), "decimal"),
    "scale": (("decimal", "decimal"), "decimal"),
    "times": (("money", "integer"), "money"),
}


class Functions:
    """The exact arithmetic a policy may call as ``@name(...)`` (the clingo context).

    Each method takes and returns clingo symbols; see docs/numbers.md for the vocabulary.
    """

    def results(self, name: str, args: list[clingo.Symbol]) -> list[clingo.Symbol]:
        """The values of ``@name(args)`` as a list (none for an unknown name), as the grounder sees them."""
        method = getattr(self, name, None)
        if method is None:
            return []
        result = method(*args)
        return result if isinstance(result, list) else [result]

    #: Largest product ``@times`` returns, in fen: 10**12 yuan, the limit of an input field. A product is
    #: thus an amount like any input, and ``lib.money_sum`` may add 20,000 of them without a limb wrapping
    #: (the range proof of docs/numbers.md); a larger product raises.
    TIMES_MAX_FEN = 10**14

    def share(self, amount: clingo.Symbol, ratio: clingo.Symbol) -> clingo.Symbol:
        """Money × decimal, rounded down to the whole yuan (ruling W3)."""
        fen = fen_of(amount)
        r = _exact(ratio, "@share")
        if r < 0:
            raise ArithmeticRangeError(f"@share: negative ratio {r}")
        yuan = (fen * r.numerator) // (100 * r.denominator)
        return money(yuan * 100)

    def cap(self, amount: clingo.Symbol, maximum: clingo.Symbol) -> clingo.Symbol:
        """The smaller of two money terms."""
        return amount if fen_of(amount) <= fen_of(maximum) else maximum

    # (fen_of is cached per symbol, so a cap against a parameter costs one lookup after the first call.)

    def ratio(self, num: clingo.Symbol, den: clingo.Symbol) -> list[clingo.Symbol]:
        """Num / den as a decimal term; no value (the rule does not apply) when den is zero."""
        d = fen_of(den)
        if d == 0:
            return []
        return [decimal(Fraction(fen_of(num), d))]

    def growth(self, new: clingo.Symbol, old: clingo.Symbol) -> list[clingo.Symbol]:
        """(new - old) / old as a decimal term; no value when old is zero."""
        o = fen_of(old)
        if o == 0:
            return []
        return [decimal(Fraction(fen_of(new) - o, o))]

    def scale(self, a: clingo.Symbol, b: clingo.Symbol) -> clingo.Symbol:
        """Exact product of two decimal terms (inexact inputs are refused)."""
        return decimal(_exact(a, "@scale") * _exact(b, "@scale"))

    def times(self, amount: clingo.Symbol, count: clingo.Symbol) -> clingo.Symbol:
        """Money × a count of units (per-head, per-unit awards), exact.

        Args:
            amount: The amount per unit, a money term.
            count: The number of units, a clingo integer ``>= 0``.

        Returns:
            The money term of ``amount × count``.

        Raises:
            ArithmeticRangeError: ``amount`` is not a money term, ``count`` is not an integer or is negative,
                or the product is above :attr:`TIMES_MAX_FEN` (10**12 yuan).
        """
        if not is_money(amount):
            raise ArithmeticRangeError(f"@times: {amount} is not a money term m(A,B,C)")
        if count.type != clingo.SymbolType.Number:
            raise ArithmeticRangeError(f"@times: the count {count} is not an integer")
        n = count.number
        if n < 0:
            raise ArithmeticRangeError(f"@times: negative count {n}")
        fen = fen_of(amount) * n
        if fen > self.TIMES_MAX_FEN:
            raise ArithmeticRangeError(f"@times: product {fen} fen is above {self.TIMES_MAX_FEN} fen (10^12 yuan)")
        return money(fen)


def describe_call(name: str, args: list[clingo.Symbol], result: clingo.Symbol) -> tuple[str, str | None]:
    """Explain one call of an arithmetic function: (text with values, note or None).

    The note marks a cap that binds (``@cap`` returned its second argument because the first was larger)
    and a share that was rounded down.
    """
    shown = ", ".join(render_value(a) for a in args)
    text = f"@{name}({shown}) = {render_value(result)}"
    note = None
    if name == "cap" and len(args) == 2 and is_money(args[0]) and is_money(args[1]):
        if fen_of(args[0]) > fen_of(args[1]):
            note = "上限生效 cap binds"
    elif name == "share" and len(args) == 2 and is_money(args[0]) and is_decimal(args[1]):
        exact = Fraction(fen_of(args[0]), 100) * fraction_of(args[1])[0]
        if exact != Fraction(fen_of(result), 100):
            note = f"向下取整 rounded down from {_plain(exact, 6)} 元"
    return text, note


def render_value(sym: clingo.Symbol) -> str:
    """Render any term for people: money in 元, decimals exactly, strings as text, others as written."""
    if is_money(sym):
        return render_money(fen_of(sym))
    if is_decimal(sym):
        return render_decimal(sym, places=6)
    if sym.type == clingo.SymbolType.String:
        return sym.string
    if sym.type == clingo.SymbolType.Function and sym.arguments:
        inner = ", ".join(render_value(a) for a in sym.arguments)
        return f"{sym.name}({inner})" if sym.name else f"({inner})"
    return str(sym)


def render_money(fen: int, unit: str = "yuan") -> str:
    """Format fen as ``1,234,567.50 元`` (``unit='wan'``: ``123.456750 万元``, exact, trailing zeros cut).

    ``unit='yuan+wan'``: yuan, then the amount as the measures write it, in 万元 below 1亿元 and in 亿元 from
    there (``20,000,000 元（2000万元）``, ``150,000,000 元（1.5亿元）``).
    """
    if unit == "wan":
        text = _plain(Fraction(fen, 100 * 10_000))
        return f"{text} 万元"
    if unit == "yuan+wan":  # as the clause states it too: 20,000,000 元（2000万元）, 2,000,000,000 元（20亿元）
        if fen >= 100 * 10**8:
            yi = _plain(Fraction(fen, 100 * 10**8)).replace(",", "")
            return f"{render_money(fen)}（{yi}亿元）"
        wan = _plain(Fraction(fen, 100 * 10_000)).replace(",", "")
        return f"{render_money(fen)}（{wan}万元）"
    yuan, cents = divmod(fen, 100)
    return f"{yuan:,}.{cents:02d} 元" if cents else f"{yuan:,} 元"


def _plain(q: Fraction, places: int = 12) -> str:
    """Decimal text of a fraction, cut (toward zero) after ``places`` digits with ``…`` when cut."""
    sign = "-" if q < 0 else ""
    q = abs(q)
    whole, rest = divmod(q.numerator, q.denominator)
    digits = ""
    while rest and len(digits) < places:
        rest *= 10
        digit, rest = divmod(rest, q.denominator)
        digits += str(digit)
    text = f"{whole:,}" + (f".{digits}" if digits else "")
    return sign + text + ("…" if rest else "")


def render_decimal(sym: clingo.Symbol, percent: bool = False, places: int = 4) -> str:
    """Format a decimal term exactly when it has at most ``places`` decimals, else cut with ``…``.

    ``percent`` multiplies by 100 and appends ``%``. A rounded ratio (flag X = 1) always ends in ``…``.
    """
    value, exact = fraction_of(sym)
    if percent:
        value *= 100
    text = _plain(value, places)
    if not exact and not text.endswith("…"):
        text += "…"
    return text + ("%" if percent else "")

"""Reason terms → Chinese and English text, from the policy's messages.yaml templates."""

from __future__ import annotations

import re
from typing import Any

import clingo

from ..inputs.records import Company
from ..numbers import fen_of, is_decimal, is_money, render_decimal, render_money
from ..policy import Policy

_FIELD = re.compile(r"\{(\d+)(?::([^}]*))?\}")
_FUN, _NUM, _STR, _OTHER = 0, 1, 2, 3
#: symbol → (kind, name or value, arguments): reading a clingo symbol goes through CFFI each time, and the
#: same sub-terms (amounts, record keys) recur across many reasons
_PARTS: dict[clingo.Symbol, tuple[int, Any, tuple[clingo.Symbol, ...]]] = {}


def _parts(sym: clingo.Symbol) -> tuple[int, Any, tuple[clingo.Symbol, ...]]:
    hit = _PARTS.get(sym)
    if hit is not None:
        return hit
    t = sym.type
    if t == clingo.SymbolType.Function:
        hit = (_FUN, sym.name, tuple(sym.arguments))
    elif t == clingo.SymbolType.Number:
        hit = (_NUM, sym.number, ())
    elif t == clingo.SymbolType.String:
        hit = (_STR, sym.string, ())
    else:
        hit = (_OTHER, str(sym), ())
    if len(_PARTS) > 200_000:
        _PARTS.clear()
    _PARTS[sym] = hit
    return hit


def parts(sym: clingo.Symbol) -> tuple[int, Any, tuple[clingo.Symbol, ...]]:
    """``(kind, name or value, arguments)`` of a symbol, cached (kind 0: a function, 1: a number, 2: a string)."""
    return _parts(sym)


def _key(sym: clingo.Symbol) -> str:
    kind, name, args = _parts(sym)
    if kind == _FUN:
        return f"{name}/{len(args)}"
    return str(sym)


class ReasonRenderer:
    """Renders reason terms of one policy.

    Args:
        policy: The policy whose messages.yaml holds the templates.

    """

    def __init__(self, policy: Policy) -> None:
        self.messages = policy.messages
        #: Rendered texts of reasons that do not look into the enterprise's records.
        self._cache: dict[clingo.Symbol, tuple[str, str]] = {}
        self._company_free = {
            key: all(":rec:" not in t and "rec:" not in t for t in templates.values())
            for key, templates in self.messages.items()
            if isinstance(templates, dict)
        }

    def render(self, sym: clingo.Symbol, company: Company | None, lang: str) -> str:
        """Render a reason term in ``lang`` ('zh' or 'en'); unknown terms print as the term itself."""
        kind, name, args = _parts(sym)
        template = self.messages.get(f"{name}/{len(args)}" if kind == _FUN else str(sym), {}).get(lang)
        if template is None:
            return str(sym)

        def field(m: re.Match[str]) -> str:
            n = int(m.group(1))
            if n >= len(args):
                return m.group(0)
            return self.format(args[n], m.group(2) or "", company, lang)

        return _FIELD.sub(field, template)

    def both(self, sym: clingo.Symbol, company: Company | None) -> str:
        """Render as ``中文 / English``."""
        zh, en = self.pair(sym, company)
        return f"{zh} / {en}"

    def pair(self, sym: clingo.Symbol, company: Company | None) -> tuple[str, str]:
        """Render as ``(中文, English)`` (cached when the text does not depend on the enterprise)."""
        hit = self._cache.get(sym)
        if hit is not None:
            return hit
        pair = (self.render(sym, company, "zh"), self.render(sym, company, "en"))
        if self._free(sym):
            if len(self._cache) > 100_000:
                self._cache.clear()
            self._cache[sym] = pair
        return pair

    def _free(self, sym: clingo.Symbol) -> bool:
        """True when neither the reason nor a nested reason reads the enterprise's records."""
        kind, name, args = _parts(sym)
        if kind != _FUN:
            return True
        if not self._company_free.get(f"{name}/{len(args)}", True):
            return False
        return all(self._free(a) for a in args)

    def format(self, arg: clingo.Symbol, fmt: str, company: Company | None, lang: str) -> str:
        """Format one argument of a reason term."""
        if fmt == "reason":
            return self.render(arg, company, lang)
        if fmt in ("money", "wan", "yw") and is_money(arg):
            return render_money(fen_of(arg), {"wan": "wan", "yw": "yuan+wan"}.get(fmt, "yuan"))
        if fmt in ("pct", "dec") and is_decimal(arg):
            return render_decimal(arg, percent=fmt == "pct")
        kind, value, _ = _parts(arg)
        if fmt.startswith("rec:") and company is not None and kind == _NUM:
            _, lst, attr = (fmt.split(":") + ["", ""])[:3]
            records: Any = getattr(company, lst, None)
            if isinstance(records, list) and 0 <= value < len(records):
                return str(getattr(records[value], attr, value))
        if kind == _STR:
            return str(value)
        if kind == _NUM:
            return str(value)
        return str(arg)

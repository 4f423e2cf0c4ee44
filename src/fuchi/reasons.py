"""Reason terms → Chinese and English text, from the policy's messages.yaml templates."""

from __future__ import annotations

import re
from typing import Any

import clingo

from .numbers import fen_of, is_decimal, is_money, render_decimal, render_money
from .policy import Policy
from .records import Company

_FIELD = re.compile(r"\{(\d+)(?::([^}]*))?\}")


def _key(sym: clingo.Symbol) -> str:
    if sym.type == clingo.SymbolType.Function:
        return f"{sym.name}/{len(sym.arguments)}"
    return str(sym)


class ReasonRenderer:
    """Renders reason terms of one policy.

    Args:
        policy: The policy whose messages.yaml holds the templates.

    """

    def __init__(self, policy: Policy) -> None:
        self.messages = policy.messages
        #: Rendered texts of reasons that do not look into the enterprise's records.
        self._cache: dict[clingo.Symbol, str] = {}
        self._company_free = {
            key: all(":rec:" not in t and "rec:" not in t for t in templates.values())
            for key, templates in self.messages.items()
            if isinstance(templates, dict)
        }

    def render(self, sym: clingo.Symbol, company: Company | None, lang: str) -> str:
        """Render a reason term in ``lang`` ('zh' or 'en'); unknown terms print as the term itself."""
        is_fun = sym.type == clingo.SymbolType.Function
        args = sym.arguments if is_fun else []
        template = self.messages.get(f"{sym.name}/{len(args)}" if is_fun else str(sym), {}).get(lang)
        if template is None:
            return str(sym)

        def field(m: re.Match[str]) -> str:
            n = int(m.group(1))
            if n >= len(args):
                return m.group(0)
            return self.format(args[n], m.group(2) or "", company, lang)

        return _FIELD.sub(field, template)

    def both(self, sym: clingo.Symbol, company: Company | None) -> str:
        """Render as ``中文 / English`` (cached when the text does not depend on the enterprise)."""
        hit = self._cache.get(sym)
        if hit is not None:
            return hit
        text = f"{self.render(sym, company, 'zh')} / {self.render(sym, company, 'en')}"
        if self._free(sym):
            if len(self._cache) > 100_000:
                self._cache.clear()
            self._cache[sym] = text
        return text

    def _free(self, sym: clingo.Symbol) -> bool:
        """True when neither the reason nor a nested reason reads the enterprise's records."""
        if sym.type != clingo.SymbolType.Function:
            return True
        if not self._company_free.get(_key(sym), True):
            return False
        return all(self._free(a) for a in sym.arguments)

    def format(self, arg: clingo.Symbol, fmt: str, company: Company | None, lang: str) -> str:
        """Format one argument of a reason term."""
        if fmt == "reason":
            return self.render(arg, company, lang)
        if fmt in ("money", "wan", "yw") and is_money(arg):
            return render_money(fen_of(arg), {"wan": "wan", "yw": "yuan+wan"}.get(fmt, "yuan"))
        if fmt in ("pct", "dec") and is_decimal(arg):
            return render_decimal(arg, percent=fmt == "pct")
        if fmt.startswith("rec:") and company is not None and arg.type == clingo.SymbolType.Number:
            _, lst, attr = (fmt.split(":") + ["", ""])[:3]
            records: Any = getattr(company, lst, None)
            if isinstance(records, list) and 0 <= arg.number < len(records):
                return str(getattr(records[arg.number], attr, arg.number))
        if arg.type == clingo.SymbolType.String:
            return arg.string
        if arg.type == clingo.SymbolType.Number:
            return str(arg.number)
        return str(arg)

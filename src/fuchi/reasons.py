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

    def render(self, sym: clingo.Symbol, company: Company | None, lang: str) -> str:
        """Render a reason term in ``lang`` ('zh' or 'en'); unknown terms print as the term itself."""
        template = self.messages.get(_key(sym), {}).get(lang)
        if template is None:
            return str(sym)
        args = list(sym.arguments) if sym.type == clingo.SymbolType.Function else []

        def field(m: re.Match[str]) -> str:
            n = int(m.group(1))
            if n >= len(args):
                return m.group(0)
            return self.format(args[n], m.group(2) or "", company, lang)

        return _FIELD.sub(field, template)

    def both(self, sym: clingo.Symbol, company: Company | None) -> str:
        """Render as ``中文 / English``."""
        return f"{self.render(sym, company, 'zh')} / {self.render(sym, company, 'en')}"

    def format(self, arg: clingo.Symbol, fmt: str, company: Company | None, lang: str) -> str:
        """Format one argument of a reason term."""
        if fmt == "reason":
            return self.render(arg, company, lang)
        if fmt in ("money", "wan") and is_money(arg):
            return render_money(fen_of(arg), "wan" if fmt == "wan" else "yuan")
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

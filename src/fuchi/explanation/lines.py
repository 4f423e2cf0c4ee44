"""Fast one-line explanations for ``fuchi evaluate --explain``: one solve per batch, not one per enterprise.

The batch is solved once with the rules rewritten to record only their ``_fired`` bindings (no ``_reach``
prefixes, no why-not), and each row's line is built from its decision and the rule instance that decided
it (:func:`fuchi.explanation.page.one_line`), found by following the decision's values down the recorded
derivations. Derivations are indexed lazily, per predicate, only for the predicates the walks visit.

Whatever engine computed the rows (sql or clingo), the lines come from this one solve of the same rules,
so both engines give the same lines byte for byte; and they are the lines ``fuchi explain`` gives
(``RowExplanation.line``), since the walk and the text are the same functions on the same derivations.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import clingo

from ..inputs.records import City, Company
from ..numbers import render_value
from .explain import Explainer, _pattern_signature
from .instrument import InstrumentedRule, TermError, bind, ground_atom, match
from .page import Binding
from .page import one_line as line_of


class LineExplainer:
    """Builds the one-liners of whole batches for one policy.

    Args:
        explainer: The policy's explainer (its parsed rules and rule references are shared).

    """

    def __init__(self, explainer: Explainer) -> None:
        self.ex = explainer
        self.program = dataclasses.replace(explainer.program, reach=False)

    def lines(self, companies: Sequence[Company], city: City) -> dict[tuple[str, int, str], str]:
        """The one-liner of every row of a batch, by (enterprise id, data year, item)."""
        if not companies:
            return {}
        symbols = self.ex.engine.model(list(companies), city, program=self.program)
        batch = _Batch(self.ex, companies, symbols)
        out: dict[tuple[str, int, str], str] = {}
        for dec in batch.atoms.get(("decision", 7), {}).values():
            for sym in dec:
                c = sym.arguments[0].arguments[0].number
                batch.current = companies[c].id
                text = line_of(batch, sym, self.ex.rule_ref)
                if text is not None:
                    out[(companies[c].id, sym.arguments[1].number, sym.arguments[2].string)] = text
        return out


class _Batch:
    """One ``_fired`` solve of a batch, as the :class:`fuchi.explanation.page.Model` of the walk."""

    def __init__(self, ex: Explainer, companies: Sequence[Company], symbols: list[clingo.Symbol]) -> None:
        self.ex = ex
        self.current = ""
        #: (name, arity) → first argument → atoms (the enterprise for nearly every predicate)
        self.atoms: dict[tuple[str, int], dict[clingo.Symbol | None, list[clingo.Symbol]]] = defaultdict(
            lambda: defaultdict(list)
        )
        self.all: set[clingo.Symbol] = set()
        self.fired: dict[int, list[clingo.Symbol]] = defaultdict(list)
        for sym in symbols:
            if sym.name == "_fired":
                self.fired[sym.arguments[0].number].append(sym.arguments[1])
                continue
            self.all.add(sym)
            args = sym.arguments
            self.atoms[(sym.name, len(args))][args[0] if args else None].append(sym)
        for lst in self.fired.values():
            lst.sort()
        for by_first in self.atoms.values():
            for lst in by_first.values():
                lst.sort()
        self.derivations: dict[tuple[str, int], dict[clingo.Symbol, tuple[InstrumentedRule, Binding]]] = {}

    @property
    def constants(self) -> dict[str, Any]:
        return self.ex.program.constants

    def call(self, name: str, args: list[clingo.Symbol]) -> list[clingo.Symbol]:
        method = getattr(self.ex.functions, name, None)
        if method is None:
            return []
        result = method(*args)
        return result if isinstance(result, list) else [result]

    def show(self, sym: clingo.Symbol) -> str:
        if sym.type == clingo.SymbolType.Function and sym.name == "c" and len(sym.arguments) == 1:
            return self.current
        if sym.type == clingo.SymbolType.Function and sym.name not in ("m", "d") and sym.arguments:
            inner = ", ".join(self.show(a) for a in sym.arguments)
            return f"{sym.name}({inner})"
        return render_value(sym)

    def derivation(self, sym: clingo.Symbol) -> tuple[InstrumentedRule, Binding] | None:
        sig = (sym.name, len(sym.arguments)) if sym.type == clingo.SymbolType.Function else None
        if sig is None:
            return None
        index = self.derivations.get(sig)
        if index is None:
            index = self.derivations[sig] = {}
            for rule in self.ex.by_head.get(sig, []):
                for values in self.fired.get(rule.index, []):
                    binding = bind(rule.variables, values)
                    try:
                        head = ground_atom(rule.head, binding, self.constants, self.call)
                    except TermError:
                        continue
                    index.setdefault(head, (rule, binding))
        return index.get(sym)

    def matching(self, pattern: Any, binding: Binding) -> list[clingo.Symbol]:
        try:
            ground = ground_atom(pattern, binding, self.constants, self.call)
            return [ground] if ground in self.all else []
        except TermError:
            sig = _pattern_signature(pattern)
            if sig is None:
                return []
            by_first = self.atoms.get(sig)
            if not by_first:
                return []
            first = None
            args = getattr(pattern, "arguments", None)
            if args:
                try:
                    first = ground_atom(args[0], binding, self.constants, self.call)
                except TermError:
                    first = None
            pool = by_first.get(first, []) if first is not None else sorted(s for lst in by_first.values() for s in lst)
            return [s for s in pool if match(pattern, binding, s, self.constants) is not None]

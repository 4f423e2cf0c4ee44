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
from clingo import ast

from ..inputs.records import City, Company
from ..numbers import render_value
from .explain import Explainer
from .instrument import InstrumentedRule, TermError, bind, compiled_term, ground_atom, match
from .page import Binding
from .page import one_line as line_of
from .reasons import parts

_UNKNOWN = object()
#: (head variable positions, head constants, key decides, bindings by key): see :meth:`_Batch._plan`
Plan = tuple[list[tuple[int, int]], list[tuple[int, clingo.Symbol]], bool, dict[tuple[clingo.Symbol, ...], list[Any]]]


class LineExplainer:
    """Builds the one-liners of whole batches for one policy.

    Args:
        explainer: The policy's explainer (its parsed rules and rule references are shared).

    """

    def __init__(self, explainer: Explainer) -> None:
        self.ex = explainer
        self.program = dataclasses.replace(explainer.program, reach=False, atoms=False)

    def lines(self, companies: Sequence[Company], city: City) -> dict[tuple[str, int, str], str]:
        """The one-liner of every row of a batch, by (enterprise id, data year, item)."""
        if not companies:
            return {}
        symbols = self.ex.engine.model(list(companies), city, program=self.program)
        batch = _Batch(self.ex, companies, symbols)
        out: dict[tuple[str, int, str], str] = {}
        for sym in batch.decisions:
            args = sym.arguments
            co = companies[args[0].arguments[0].number]
            batch.current = co.id
            text = line_of(batch, sym, self.ex.rule_ref)
            if text is not None:
                out[(co.id, args[1].number, args[2].string)] = text
        return out


class _Batch:
    """One ``_fired`` solve of a batch, as the :class:`fuchi.explanation.page.Model` of the walk.

    The solve returns only the shown atoms and the ``_fired`` bindings: an atom is known through the rule
    instance that derived it (every atom the walk follows is derived), looked up by the head's first argument
    (the enterprise, for nearly every predicate).
    """

    def __init__(self, ex: Explainer, companies: Sequence[Company], symbols: list[clingo.Symbol]) -> None:
        self.ex = ex
        self.current = ""
        self.decisions: list[clingo.Symbol] = []
        self.fired: dict[int, list[clingo.Symbol]] = defaultdict(list)
        for sym in symbols:
            name = sym.name
            if name == "_fired":
                args = sym.arguments
                self.fired[args[0].number].append(args[1])
            elif name == "decision":
                self.decisions.append(sym)
        for lst in self.fired.values():
            lst.sort()
        self.decisions.sort()
        self.derivations: dict[clingo.Symbol, tuple[InstrumentedRule, Binding] | None] = {}
        #: rule index → value of the head's first argument → the rule's recorded bindings (sorted)
        self.by_first: dict[int, dict[clingo.Symbol | None, list[clingo.Symbol]]] = {}
        self.first_pos: dict[int, int] = {}
        self.heads: dict[tuple[int, clingo.Symbol], clingo.Symbol | None] = {}
        self.plans: dict[int, Plan] = {}

    @property
    def constants(self) -> dict[str, Any]:
        return self.ex.program.constants

    def call(self, name: str, args: list[clingo.Symbol]) -> list[clingo.Symbol]:
        return self.ex.functions.results(name, args)

    def show(self, sym: clingo.Symbol) -> str:
        if sym.type == clingo.SymbolType.Function and sym.name == "c" and len(sym.arguments) == 1:
            return self.current
        if sym.type == clingo.SymbolType.Function and sym.name not in ("m", "d") and sym.arguments:
            inner = ", ".join(self.show(a) for a in sym.arguments)
            return f"{sym.name}({inner})"
        return render_value(sym)

    def _head(self, rule: InstrumentedRule, values: clingo.Symbol) -> clingo.Symbol | None:
        key = (rule.index, values)
        if key not in self.heads:
            try:
                self.heads[key] = ground_atom(rule.head, bind(rule.variables, values), self.constants, self.call)
            except TermError:
                self.heads[key] = None
        return self.heads[key]

    def derivation(self, sym: clingo.Symbol) -> tuple[InstrumentedRule, Binding] | None:
        hit = self.derivations.get(sym, _UNKNOWN)
        if hit is not _UNKNOWN:
            return hit  # type: ignore[return-value]
        found: tuple[InstrumentedRule, Binding] | None = None
        kind, name, args = parts(sym)
        if kind == 0:
            for rule in self.ex.by_head.get((name, len(args)), []):
                keys, consts, exact, index = self._plan(rule)
                if any(args[i] != c for i, c in consts):
                    continue
                for values in index.get(tuple(args[i] for i, _ in keys), ()):
                    if exact or self._head(rule, values) == sym:
                        found = (rule, dict(zip(rule.variables, parts(values)[2], strict=True)))
                        break
                if found is not None:
                    break
        self.derivations[sym] = found
        return found

    def _plan(self, rule: InstrumentedRule) -> Plan:
        """How to find a rule's instance for a head.

        Returns:
            The head's variable positions (a key into the recorded bindings), its constants, whether the key
            alone decides (no computed argument), and the bindings by key.
        """
        hit = self.plans.get(rule.index)
        if hit is not None:
            return hit
        compiled = compiled_term(rule.head, self.constants)
        keys: list[tuple[int, int]] = []
        consts: list[tuple[int, clingo.Symbol]] = []
        exact = compiled[0] == "f"
        for i, arg in enumerate(compiled[2] if compiled[0] == "f" else ()):
            if arg[0] == "v" and arg[1] in rule.variables:
                keys.append((i, rule.variables.index(arg[1])))
            elif arg[0] == "s":
                consts.append((i, arg[1]))
            else:
                exact = False
        index: dict[tuple[clingo.Symbol, ...], list[Any]] = defaultdict(list)
        for values in self.fired.get(rule.index, []):
            vals = parts(values)[2]
            index[tuple(vals[j] for _, j in keys)].append(values)
        plan: Plan = (keys, consts, exact, index)
        self.plans[rule.index] = plan
        return plan

    def _candidates(self, rule: InstrumentedRule, first: clingo.Symbol | None) -> list[clingo.Symbol]:
        """The recorded bindings of a rule that can give a head with this first argument (sorted)."""
        index = self.by_first.get(rule.index)
        if index is None:
            head = rule.head.atom.symbol
            args = head.arguments if head.ast_type == ast.ASTType.Function else []
            pos = -1
            if args and args[0].ast_type == ast.ASTType.Variable and args[0].name in rule.variables:
                pos = rule.variables.index(args[0].name)
            index = self.by_first[rule.index] = defaultdict(list)
            for values in self.fired.get(rule.index, []):
                index[values.arguments[pos] if pos >= 0 else None].append(values)
            self.first_pos[rule.index] = pos
        if self.first_pos[rule.index] < 0:
            return index.get(None, [])
        return index.get(first, []) if first is not None else [v for lst in index.values() for v in lst]

    def matching(self, pattern: Any, binding: Binding) -> list[clingo.Symbol]:
        """The *derived* atoms matching a pattern (input facts are not recorded by this solve)."""
        compiled = compiled_term(pattern, self.constants)
        if compiled[0] != "f":
            return []
        rules = self.ex.by_head.get((compiled[1], len(compiled[2])), [])
        if not rules:
            return []
        try:
            ground = ground_atom(pattern, binding, self.constants, self.call)
            return [ground] if self.derivation(ground) is not None else []
        except TermError:
            pass
        first = None
        if compiled[2]:
            try:
                first = ground_atom(pattern.arguments[0], binding, self.constants, self.call)
            except TermError:
                first = None
        found = set()
        for rule in rules:
            for values in self._candidates(rule, first):
                head = self._head(rule, values)
                if head is not None and match(pattern, binding, head, self.constants) is not None:
                    found.add(head)
        return sorted(found)

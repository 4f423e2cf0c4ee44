"""Rule coverage of policy cases: did some case make each rule fire, and some case make it fail.

Each case is solved with the instrumented program (:mod:`fuchi.explanation.instrument`). A rule *fired* in a case
when a ``_fired`` atom of it exists. A rule *failed* in a case when some prefix of its body held for a
binding that no firing extends (the rule was tried and a later condition stopped it); for a rule with a
single body literal, when it did not fire at all in that case.

Some rules cannot fail once their first condition holds: facts, and rules whose other literals are only
parameters (``param/2,3``, always present) or assignment aggregates (``X = #sum{…}`` always has a value).
Their "failed" direction is reported as not applicable (—) and counts as covered; the rule still has to
fire. Cases with parameter overrides are solved with those parameters; cases expecting an input error are
included when their data passes the loader (the error may come from the policy itself).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import clingo
from clingo import ast

from ..errors import FuchiError
from ..explanation.explain import Explainer
from ..explanation.instrument import InstrumentedRule
from ..inputs.records import City, Company
from .cases import Case


@dataclass
class RuleCoverage:
    """Coverage of one rule."""

    rule_id: str
    file: str
    line: int
    clauses: tuple[str, ...]
    fired_by: list[str] = field(default_factory=list)
    failed_by: list[str] = field(default_factory=list)
    is_fact: bool = False

    @property
    def fired(self) -> bool:
        """Some case made it fire."""
        return bool(self.fired_by)

    @property
    def failed(self) -> bool:
        """Some case made it fail (facts count as covered)."""
        return self.is_fact or bool(self.failed_by)


@dataclass
class CoverageReport:
    """Coverage of all rules, and clause ids without a case."""

    rules: list[RuleCoverage]
    clauses_without_case: list[str]

    def percent(self, attr: str) -> float:
        """Share of rules covered for ``fired`` or ``failed``, in percent."""
        if not self.rules:
            return 100.0
        return 100.0 * sum(1 for r in self.rules if getattr(r, attr)) / len(self.rules)


def _cited_items(case: Case) -> set[str]:
    return {e.item for e in case.expect}


def measure(explainer: Explainer, cases: list[Case]) -> CoverageReport:
    """Solve every case with instrumentation and collect coverage."""
    program = explainer.program
    lists = {p.name for p in explainer.policy.parameters.values() if isinstance(p.value, list)}
    per_rule = {
        r.index: RuleCoverage(
            r.rule_id, r.file, r.line, r.info.clauses if r.info else (), is_fact=cannot_fail(r, lists)
        )
        for r in program.rules
    }
    items_with_case: set[str] = set()
    for case in cases:
        items_with_case |= _cited_items(case)
        try:
            companies, city = case.data(explainer.policy.schema)
            params = (
                explainer.policy.with_parameters(case.parameters).param_symbols()
                if case.parameters
                else explainer.engine.params
            )
        except FuchiError:
            continue
        fired, reach = _solve(explainer, companies, city, params)
        for rule in program.rules:
            cov = per_rule[rule.index]
            f = fired.get(rule.index, [])
            if f:
                cov.fired_by.append(case.name)
            if _failed(rule, f, reach):
                cov.failed_by.append(case.name)
    clauses = {cid for r in program.rules if r.info for cid in r.info.clauses}
    # A clause has a case when a case expects a row of it, or a case exercises one of its rules.
    exercised = {cid for r in program.rules if r.info and per_rule[r.index].fired for cid in r.info.clauses}
    missing = sorted(
        c for c in clauses | set(explainer.policy.items) if c not in items_with_case and c not in exercised
    )
    return CoverageReport([per_rule[r.index] for r in program.rules], missing)


def _always_holds(lit: Any, lists: set[str]) -> bool:
    """Tell whether a literal holds whenever its variables are bound.

    True for a scalar or table parameter and for an assignment aggregate; membership in a list parameter
    (``param(event_kinds, Kind)``) can fail and does not count.
    """
    if lit.ast_type != ast.ASTType.Literal or lit.sign != ast.Sign.NoSign:
        return False
    atom = lit.atom
    if atom.ast_type == ast.ASTType.SymbolicAtom:
        sym = atom.symbol
        if sym.ast_type != ast.ASTType.Function or sym.name != "param" or not sym.arguments:
            return False
        first = sym.arguments[0]
        name = first.name if first.ast_type == ast.ASTType.Function else str(first)
        return len(sym.arguments) == 3 or name not in lists
    if atom.ast_type == ast.ASTType.BodyAggregate:
        guard = atom.left_guard
        return bool(
            guard is not None
            and atom.right_guard is None
            and guard.comparison == ast.ComparisonOperator.Equal
            and guard.term.ast_type == ast.ASTType.Variable
        )
    return False


def cannot_fail(rule: InstrumentedRule, lists: set[str]) -> bool:
    """True for facts and rules whose literals after the first always hold (see the module docstring).

    Args:
        rule: The rule.
        lists: Names of list-valued parameters (membership can fail).
    """
    if not rule.body:
        return True
    if len(rule.body) == 1:  # a rule copying a parameter (even a list) holds for each of its values
        return _always_holds(rule.body[0], set())
    return all(_always_holds(lit, lists) for lit in rule.body[1:])


def _failed(
    rule: InstrumentedRule, fired: list[clingo.Symbol], reach: dict[tuple[int, int], list[clingo.Symbol]]
) -> bool:
    n = len(rule.body)
    if n == 0:
        return False
    if n == 1:
        return not fired
    fired_bindings = [dict(zip(rule.variables, f.arguments, strict=True)) for f in fired]
    for k in range(1, n):
        names = rule.prefix_vars[k - 1]
        if names is None:
            continue
        projections = {tuple(b.get(v) for v in names) for b in fired_bindings}
        for values in reach.get((rule.index, k), []):
            if tuple(values.arguments) not in projections:
                return True
    return False


def _solve(
    explainer: Explainer,
    companies: list[Company],
    city: City,
    params: list[clingo.Symbol],
) -> tuple[dict[int, list[clingo.Symbol]], dict[tuple[int, int], list[clingo.Symbol]]]:
    fired: dict[int, list[clingo.Symbol]] = defaultdict(list)
    reach: dict[tuple[int, int], list[clingo.Symbol]] = defaultdict(list)
    for sym in explainer.engine.model(companies, city, program=explainer.program, params=params):
        if sym.name == "_fired":
            fired[sym.arguments[0].number].append(sym.arguments[1])
        elif sym.name == "_reach":
            reach[(sym.arguments[0].number, sym.arguments[1].number)].append(sym.arguments[2])
    return fired, reach

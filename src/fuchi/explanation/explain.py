"""Why and why-not explanations, as data (rendered by :mod:`fuchi.output.render`).

One enterprise is solved alone with the instrumented program (:mod:`fuchi.explanation.instrument`). From the
recorded ``_fired`` bindings every derived atom gets its rule instance: rule id, clause, file:line, the
body literals with their values, the arithmetic calls with the binding cap marked, down to the input
facts with their source (file, enterprise, field path) and the parameters with their clause. From the
``_reach`` prefixes, an atom that was *not* derived gets, for each rule that could derive it, the first
literal that failed, with its values. Nothing here knows a clause: a rule added to a policy is
explained the same way.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import clingo
from clingo import ast

from ..compiler.program import COMPARISON
from ..engines.clingo import Engine, Flag, Outcome
from ..engines.evaluation import check_flags
from ..inputs import facts as factmod
from ..inputs.records import City, Company
from ..numbers import Functions, describe_call, render_value
from ..policy import Policy
from .instrument import (
    InstrumentedRule,
    Program,
    TermError,
    _variables,
    bind,
    evaluate_term,
    ground_atom,
    match,
    parse_policy,
)
from .page import (
    DENIAL_DEPTH,
    MAX_PAGE_DENIALS,
    Fact,
    Finding,
    Page,
    chain,
    comparison_text,
    decider,
    head_calls,
    tell,
)
from .page import checks as numeric_checks
from .page import one_line as _line_of
from .reasons import ReasonRenderer

MAX_DEPTH = 14
MAX_INSTANCES = 3
_NOT_STARTED = "首个条件不成立 its first condition fails"
WHY_NOT_DEPTH = 4
PAID = ("granted", "pending_assessment")


@dataclass(frozen=True)
class ClauseRef:
    """A clause with its Chinese and English text."""

    id: str
    title: str
    zh: str
    en: str


@dataclass(frozen=True)
class RuleRef:
    """The rule that decided a step."""

    id: str
    file: str
    line: int
    clauses: tuple[ClauseRef, ...]
    rulings: tuple[str, ...]
    quote: tuple[str, ...]


@dataclass
class Step:
    """One node of an explanation tree.

    Attributes:
        kind: ``derived`` (an atom and the rule that derived it), ``input`` (an enterprise or city fact),
            ``parameter``, ``comparison``, ``negation``, ``aggregate``, ``call`` (arithmetic),
            ``not_derived`` (why-not: no rule derived the atom), ``failed`` (the first failing literal of a
            rule), ``repeat`` (explained above), ``limit`` (depth limit reached).
        text: The atom or literal with values.
        holds: Whether it holds in the answer set.
        rule: The rule, for derived and failed steps.
        source: Where an input or parameter comes from.
        note: A remark (cap binds, rounded down, the gap to a threshold).
        children: Sub-steps.

    """

    kind: str
    text: str
    holds: bool = True
    rule: RuleRef | None = None
    source: str | None = None
    note: str | None = None
    children: list[Step] = field(default_factory=list)


@dataclass
class RowExplanation:
    """The explanation of one (enterprise, data year, item)."""

    company: str
    year: int
    item: str
    status: str
    amount: int
    payable_year: int | None
    reason: str
    clause: ClauseRef | None
    why: Step
    why_not: list[Step] = field(default_factory=list)
    conditions: list[str] = field(default_factory=list)
    #: The rule that decided the row (:func:`fuchi.explanation.page.decider`): the clause's rule, not the
    #: status layer's plumbing; set for every status of a detailed row.
    decided_by: RuleRef | None = None
    #: The auditor's page (detailed rows).
    page: Page | None = None
    #: The one-line explanation (the deciding rule's sentence and arithmetic), as ``evaluate --explain`` gives it.
    line: str | None = None


@dataclass
class Explanation:
    """Everything ``fuchi explain`` shows for one enterprise."""

    policy_id: str
    policy_version: str
    policy_digest: str
    company: str
    name: str | None
    source: str
    rows: list[RowExplanation]
    detailed: bool
    #: Parameter overrides in force (``--set``): ``{"NAME" or "NAME.KEY": value}``.
    policy_overrides: dict[str, str] = field(default_factory=dict)
    #: The policy's ``input_warning`` messages about this enterprise, as ``evaluate`` prints them (stderr).
    warnings: list[str] = field(default_factory=list)


class Explainer:
    """Explains decisions of one policy.

    Args:
        policy: The policy; its rules are parsed and instrumented once.

    """

    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        self.engine = Engine(policy)
        self.program: Program = parse_policy(policy)
        self.renderer = ReasonRenderer(policy)
        self.functions = Functions()
        self.by_head: dict[tuple[str, int], list[InstrumentedRule]] = defaultdict(list)
        for rule in self.program.rules:
            sig = _head_signature(rule.head)
            if sig is not None:
                self.by_head[sig].append(rule)
        self.param_info = {}
        for p in policy.parameters.values():
            clauses = ", ".join(p.clauses)
            self.param_info[p.name] = f"parameters.yaml: {p.name} (条款 clause {clauses}; {p.text_zh} / {p.text_en})"

    def clause(self, cid: str) -> ClauseRef | None:
        """The clause of an id, if the policy has it."""
        c = self.policy.clauses.get(cid)
        if c is None:
            return None
        return ClauseRef(c.id, f"{c.title_zh} / {c.title_en}", c.zh, c.en)

    def rule_ref(self, rule: InstrumentedRule) -> RuleRef:
        """The reference to a rule, with the text of the clauses it cites."""
        info = rule.info
        clauses = tuple(c for c in (self.clause(x) for x in (info.clauses if info else ())) if c is not None)
        return RuleRef(
            rule.rule_id, rule.file, rule.line, clauses, info.rulings if info else (), info.quote if info else ()
        )

    def explain(
        self,
        company: Company,
        city: City,
        item: str | None = None,
        year: int | None = None,
        detailed: bool | None = None,
    ) -> Explanation:
        """Explain one enterprise: all its rows (summary) or the rows of one item (detailed).

        ``detailed`` defaults to whether an item was asked for.

        Raises:
            InputError: The policy refuses the enterprise's data (an ``input_error``, e.g. an approved
                amount above the item's maximum), with the message ``evaluate`` gives.
        """
        if detailed is None:
            detailed = item is not None
        run = _Run(self, company, city)
        flagged = Outcome(
            errors=[Flag(0, s.arguments[1], s.arguments[2]) for s in run.by_sig.get(("input_error", 3), [])],
            warnings=[Flag(0, s.arguments[1], s.arguments[2]) for s in run.by_sig.get(("input_warning", 3), [])],
        )
        for flags in (flagged.errors, flagged.warnings):
            flags.sort(key=lambda f: str(f.field))  # evaluate's order (engines.clingo.complete)
        warnings = check_flags(flagged, [company], self.renderer)
        rows = []
        for dec in run.decisions:
            if item is not None and dec.item != item:
                continue
            if year is not None and dec.year != year:
                continue
            rows.append(run.explain_row(dec, detailed=detailed))
        where = company.file if company.line is None else f"{company.file}:{company.line}"
        return Explanation(
            self.policy.id,
            self.policy.version,
            self.policy.digest,
            company.id,
            company.name,
            where,
            rows,
            detailed,
            self.policy.override_map(),
            warnings,
        )


def _head_signature(head: Any) -> tuple[str, int] | None:
    if head.ast_type != ast.ASTType.Literal or head.atom.ast_type != ast.ASTType.SymbolicAtom:
        return None
    sym = head.atom.symbol
    if sym.ast_type != ast.ASTType.Function:
        return None
    return (sym.name, len(sym.arguments))


class _Run:
    """One instrumented solve of one enterprise and the indexes built from it."""

    def __init__(self, ex: Explainer, company: Company, city: City) -> None:
        self.ex = ex
        self.company = company
        self.sources: dict[clingo.Symbol, str] = {}
        self.params: dict[clingo.Symbol, str] = {}
        where = company.file if company.line is None else f"{company.file}:{company.line}"

        def on_fact(sym: clingo.Symbol, path: str, co: Company | None) -> None:
            if co is not None:
                self.sources[sym] = f"{where}: 企业 enterprise {company.id}: {path}"
            elif sym.name == "param":
                self.params[sym] = ex.param_info.get(sym.arguments[0].name, "parameters.yaml")
            else:
                self.sources[sym] = f"{city.sources.get(path, '?')}: {path}"

        symbols = ex.engine.model([company], city, program=ex.program, on_fact=on_fact)
        self.atoms: set[clingo.Symbol] = set()
        self.by_sig: dict[tuple[str, int], list[clingo.Symbol]] = defaultdict(list)
        self.fired: dict[int, list[clingo.Symbol]] = defaultdict(list)
        self.reach: dict[tuple[int, int], list[clingo.Symbol]] = defaultdict(list)
        for sym in symbols:
            if sym.name == "_fired":
                self.fired[sym.arguments[0].number].append(sym.arguments[1])
            elif sym.name == "_reach":
                self.reach[(sym.arguments[0].number, sym.arguments[1].number)].append(sym.arguments[2])
            else:
                self.atoms.add(sym)
                self.by_sig[(sym.name, len(sym.arguments))].append(sym)
        for lst in (*self.by_sig.values(), *self.fired.values(), *self.reach.values()):
            lst.sort()
        self.derivations: dict[clingo.Symbol, list[tuple[InstrumentedRule, dict[str, clingo.Symbol]]]] = defaultdict(
            list
        )
        for rule in ex.program.rules:
            for values in self.fired.get(rule.index, []):
                binding = bind(rule.variables, values)
                try:
                    head = ground_atom(rule.head, binding, ex.program.constants, self.call)
                except TermError:
                    continue
                self.derivations[head].append((rule, binding))
        outcome_decisions = []
        for sym in self.by_sig.get(("decision", 7), []):
            outcome_decisions.append(sym)
        self.decisions = sorted(
            (_Decision(sym) for sym in outcome_decisions),
            key=lambda d: (d.year, ex.engine._item_rank(d.item)),
        )

    # ---- the Model protocol of fuchi.explanation.page ----------------------------------------------------

    @property
    def constants(self) -> dict[str, Any]:
        """The program's ``#const`` definitions."""
        return self.ex.program.constants

    def derivation(self, sym: clingo.Symbol) -> tuple[InstrumentedRule, dict[str, clingo.Symbol]] | None:
        """The first recorded rule instance deriving ``sym``."""
        found = self.derivations.get(sym)
        return found[0] if found else None

    # ---- the auditor's page ----------------------------------------------------------------------------

    def page(self, dec: _Decision) -> Page:
        """The auditor's page of a row: the deciding rule and every rule instance that led to the decision."""
        found = decider(self, dec.sym)
        clauses = {dec.item}
        if found is not None and found[0].info is not None and dec.item not in found[0].info.clauses:
            clauses |= set(found[0].info.clauses)  # a gate or status rule decided: its conditions too
        ctx = _PageContext(clauses, found[2] if found else None)
        findings, _ = self.findings(dec.sym, ctx)
        if found is None:
            return Page(None, "", "", findings, ctx.omitted)
        zh, en = tell(found[0], found[1], self)
        return Page(self.ex.rule_ref(found[0]), zh, en, findings, ctx.omitted)

    def findings(self, sym: clingo.Symbol, ctx: _PageContext) -> tuple[list[Finding], list[Fact]]:
        """The findings of a derived atom (internal rules collapsed into what they read) and loose facts."""
        found = self.derivation(sym)
        if found is None or sym in ctx.seen:
            return [], []
        ctx.seen.add(sym)
        rule, binding = found
        kids: list[Finding] = []
        facts: list[Fact] = []

        def read(m: clingo.Symbol) -> None:
            fact = self.fact(m, ctx)
            if fact is not None:
                facts.append(fact)
            elif m not in self.sources and m not in self.params:
                sub, loose = self.findings(m, ctx)
                kids.extend(sub)
                facts.extend(loose)

        for lit in rule.body:
            atom = lit.atom
            if atom.ast_type == ast.ASTType.SymbolicAtom:
                if lit.sign == ast.Sign.NoSign:
                    for m in self.matching(atom.symbol, binding)[:MAX_INSTANCES]:
                        read(m)
                else:
                    kids.extend(self.denials(atom.symbol, binding, ctx, DENIAL_DEPTH))
            elif atom.ast_type == ast.ASTType.BodyAggregate:
                for el in atom.elements:
                    for cond in el.condition:
                        if (
                            cond.ast_type == ast.ASTType.Literal
                            and cond.atom.ast_type == ast.ASTType.SymbolicAtom
                            and cond.sign == ast.Sign.NoSign
                        ):
                            for m in sorted(set(self.matching(cond.atom.symbol, binding))):
                                read(m)
        info = rule.info
        if info is None or info.internal:
            return kids, facts
        checks = numeric_checks(rule, binding, self)
        zh, en = tell(rule, binding, self)
        arithmetic = chain(head_calls(rule, binding, self))
        merged: list[Finding] = []
        for kid in kids:
            twin = next(
                (
                    m
                    for m in merged
                    if m.holds and kid.holds and m.rule.id == kid.rule.id and m.rule.line != kid.rule.line
                ),
                None,
            )
            if twin is not None:
                # Two statements of one annotated block read side by side (one sentence): one finding.
                twin.facts.extend(kid.facts)
                twin.checks.extend(c for c in kid.checks if c not in twin.checks)
                twin.children.extend(kid.children)
            elif kid.holds and kid.rule.id == info.id:
                # Another statement of the same annotated block (one sentence): one finding.
                arithmetic = "; ".join(a for a in (kid.arithmetic, arithmetic) if a) or None
                checks = kid.checks + checks
                facts = kid.facts + facts
                merged.extend(kid.children)
            else:
                merged.append(kid)
        finding = Finding(
            self.ex.rule_ref(rule),
            True,
            zh,
            en,
            arithmetic,
            checks,
            facts,
            merged,
            decides=sym == ctx.decisive,
        )
        return [finding], []

    def fact(self, sym: clingo.Symbol, ctx: _PageContext) -> Fact | None:
        """An input fact or parameter, the first time the page shows it (None: derived, or shown above)."""
        if sym in self.sources:
            kind, source = "input", self.sources[sym]
        elif sym in self.params:
            name = sym.arguments[0].name if sym.arguments else ""
            p = self.ex.policy.parameters.get(name)
            kind = "parameter"
            source = f"parameters.yaml: {name} (条款 clause {', '.join(p.clauses)})" if p else "parameters.yaml"
        else:
            return None
        if sym in ctx.facts:
            return None
        ctx.facts.add(sym)
        return Fact(kind, self.show(sym), source)

    def denials(self, pattern: Any, binding: dict[str, clingo.Symbol], ctx: _PageContext, depth: int) -> list[Finding]:
        """For a negated atom that holds: the rules of the row's clause that could derive it and did not.

        Internal rules on the way are looked through, ``depth`` levels; rules of other clauses (the gate,
        fraud, the window) are not listed: the page is about the row's clause (and the deciding rule's).
        """
        sig = _pattern_signature(pattern)
        if sig is None:
            return []
        args = self.partial_args(pattern, binding)
        out: list[Finding] = []
        consts = self.ex.program.constants
        for rule in self.ex.by_head.get(sig, []):
            start: dict[str, clingo.Symbol] | None = {}
            for pat, val in zip(rule.head.atom.symbol.arguments, args, strict=True):
                if val is None or start is None:
                    continue
                if (
                    pat.ast_type == ast.ASTType.Variable
                    or pat.ast_type == ast.ASTType.SymbolicTerm
                    or (pat.ast_type == ast.ASTType.Function and not pat.external)
                ):
                    start = match(pat, start, val, consts)
            if start is None or rule.index in ctx.tried:
                continue
            ctx.tried.add(rule.index)
            info = rule.info
            if info is not None and not info.internal and ctx.clauses & set(info.clauses):
                finding = self.not_held(rule, start, ctx)
                if finding is None:
                    continue
                if ctx.denials >= MAX_PAGE_DENIALS:
                    ctx.omitted += 1
                    continue
                ctx.denials += 1
                out.append(finding)
            elif depth > 0 and (info is None or info.internal):
                for lit in rule.body:
                    if lit.atom.ast_type == ast.ASTType.SymbolicAtom and lit.sign == ast.Sign.NoSign:
                        out.extend(self.denials(lit.atom.symbol, start, ctx, depth - 1))
        return out

    def not_held(self, rule: InstrumentedRule, start: dict[str, clingo.Symbol], ctx: _PageContext) -> Finding | None:
        """A rule that did not fire for these values: its sentence and the first condition that failed.

        None when it fired after all (with other values), or failed at its first condition (not applicable).
        """
        for values in self.fired.get(rule.index, []):
            b = bind(rule.variables, values)
            if all(b.get(v, s) == s for v, s in start.items()):
                return None
        best_k = 0
        binding = start
        for k in range(len(rule.body) - 1, 0, -1):
            names = rule.prefix_vars[k - 1]
            if names is None:
                continue
            for values in self.reach.get((rule.index, k), []):
                b = bind(names, values)
                if all(b.get(v, s) == s for v, s in start.items()):
                    best_k, binding = k, {**start, **b}
                    break
            if best_k:
                break
        if best_k == 0:
            first = rule.body[0] if rule.body else None
            if first is None or not set(_variables(first)) <= set(start):
                return None  # failed at a condition with open values: not applicable here
        facts = []
        for lit in rule.body[:best_k]:
            if lit.atom.ast_type == ast.ASTType.SymbolicAtom and lit.sign == ast.Sign.NoSign:
                for m in self.matching(lit.atom.symbol, binding)[:1]:
                    fact = self.fact(m, ctx)
                    if fact is not None:
                        facts.append(fact)
        lit = rule.body[best_k]
        atom = lit.atom
        if atom.ast_type == ast.ASTType.Comparison:
            text, _holds = comparison_text(atom, binding, self)
            check = f"不成立 fails: {text}"
        elif atom.ast_type == ast.ASTType.SymbolicAtom and lit.sign != ast.Sign.NoSign:
            held = self.matching(atom.symbol, binding)
            if held and held[0] not in self.sources and held[0] not in self.params:
                return None  # blocked by a derived atom the page explains where it is read
            check = f"不成立 fails: {self.pattern_text(atom.symbol, binding)} 成立 holds"
        elif atom.ast_type == ast.ASTType.SymbolicAtom:
            sig = _pattern_signature(atom.symbol)
            rules = self.ex.by_head.get(sig, []) if sig is not None else []
            if rules and all(r.info is None or r.info.internal for r in rules):
                return None  # an internal atom (an exact sum) is missing: its own conditions are listed
            check = f"不成立 fails: 无 no {self.pattern_text(atom.symbol, binding)}"
        else:
            check = f"不成立 fails: {lit}"
        zh, en = tell(rule, binding, self)
        return Finding(self.ex.rule_ref(rule), False, zh, en, None, [check], facts, [])

    # ---- helpers ---------------------------------------------------------------------------------------

    def call(self, name: str, args: list[clingo.Symbol]) -> list[clingo.Symbol]:
        return self.ex.functions.results(name, args)

    def show(self, sym: clingo.Symbol) -> str:
        """Render an atom for people (the enterprise term shows as its id)."""
        if sym.type == clingo.SymbolType.Function and sym.name == "c" and len(sym.arguments) == 1:
            return self.company.id  # renderers escape control characters (render.clean)
        if sym.type == clingo.SymbolType.Function and sym.name not in ("m", "d") and sym.arguments:
            inner = ", ".join(self.show(a) for a in sym.arguments)
            return f"{sym.name}({inner})"
        return render_value(sym)

    # ---- why ---------------------------------------------------------------------------------------------

    def why(self, sym: clingo.Symbol, depth: int, seen: set[clingo.Symbol]) -> Step:
        text = self.show(sym)
        if sym in self.sources:
            return Step("input", text, source=self.sources[sym])
        if sym in self.params:
            return Step("parameter", text, source=self.params[sym])
        if sym in seen:
            return Step("repeat", text, note="见上 see above")
        derivations = self.derivations.get(sym)
        if not derivations:
            return Step("input" if sym in self.atoms else "not_derived", text, holds=sym in self.atoms)
        if depth <= 0:
            return Step("limit", text, note="……（深度限制 depth limit）")
        seen.add(sym)
        rule, binding = derivations[0]
        step = Step("derived", text, rule=self.ex.rule_ref(rule))
        calls: list[tuple[str, list[clingo.Symbol], clingo.Symbol]] = []
        try:
            ground_atom(rule.head, binding, self.ex.program.constants, self.call, calls)
        except TermError:
            pass
        for lit in rule.body:
            step.children.append(self.literal(lit, binding, depth - 1, seen, calls))
        for name, args, result in calls:
            text_call, note = describe_call(name, args, result)
            step.children.append(Step("call", text_call, note=note))
        return step

    def literal(
        self,
        lit: Any,
        binding: dict[str, clingo.Symbol],
        depth: int,
        seen: set[clingo.Symbol],
        calls: list[tuple[str, list[clingo.Symbol], clingo.Symbol]],
    ) -> Step:
        atom = lit.atom
        if atom.ast_type == ast.ASTType.SymbolicAtom:
            matches = self.matching(atom.symbol, binding)
            if lit.sign == ast.Sign.NoSign:
                if not matches:
                    return Step("not_derived", str(lit), holds=False)
                return self.why(matches[0], depth, seen)
            shown = self.pattern_text(atom.symbol, binding)
            if matches:
                return Step("negation", f"not {shown}", holds=False, children=[self.why(matches[0], depth, seen)])
            step = Step("negation", f"not {shown}", note="成立：无此事实 holds: no such atom")
            sig = _pattern_signature(atom.symbol)
            if sig is not None and sig in self.ex.by_head and depth > 0:
                # Why the atom is absent: each rule that could derive it and the condition that failed.
                step.children.append(
                    self.why_not(sig[0], self.partial_args(atom.symbol, binding), min(depth, WHY_NOT_DEPTH))
                )
            return step
        if atom.ast_type == ast.ASTType.Comparison:
            return self.comparison(atom, binding, calls)
        if atom.ast_type == ast.ASTType.BodyAggregate:
            return self.aggregate(atom, binding, depth, seen)
        return Step("comparison", str(lit))

    def comparison(
        self, atom: Any, binding: dict[str, clingo.Symbol], calls: list[tuple[str, list[clingo.Symbol], clingo.Symbol]]
    ) -> Step:
        consts = self.ex.program.constants
        parts = [atom.term] + [g.term for g in atom.guards]
        values = []
        for t in parts:
            try:
                values.append(self.show(evaluate_term(t, binding, consts, self.call, calls)))
            except TermError:
                values.append(str(t))
        shown = values[0]
        for g, v in zip(atom.guards, values[1:], strict=True):
            shown += f" {COMPARISON.get(g.comparison, '?')} {v}"
        holds = True
        try:
            holds = _holds(atom, binding, consts, self.call)
        except TermError:
            pass
        return Step("comparison", f"{atom}  ⟹  {shown}", holds=holds)

    def aggregate(self, atom: Any, binding: dict[str, clingo.Symbol], depth: int, seen: set[clingo.Symbol]) -> Step:
        guard = atom.left_guard
        value = None
        if guard is not None and guard.term.ast_type == ast.ASTType.Variable:
            value = binding.get(guard.term.name)
        text = str(atom)
        if value is not None:
            text += f"  ⟹  {guard.term.name} = {self.show(value)}"
        step = Step("aggregate", text)
        members: list[clingo.Symbol] = []
        for el in atom.elements:
            for cond in el.condition:
                if (
                    cond.ast_type == ast.ASTType.Literal
                    and cond.atom.ast_type == ast.ASTType.SymbolicAtom
                    and cond.sign == ast.Sign.NoSign
                ):
                    members.extend(self.matching(cond.atom.symbol, binding))
        for sym in sorted(set(members)):
            step.children.append(self.why(sym, depth, seen))
        return step

    def matching(self, pattern: Any, binding: dict[str, clingo.Symbol]) -> list[clingo.Symbol]:
        """Atoms of the answer set matching a pattern under a binding (``_`` and unbound variables match)."""
        consts = self.ex.program.constants
        try:
            ground = ground_atom(pattern, binding, consts, self.call)
            return [ground] if ground in self.atoms else []
        except TermError:
            sig = _pattern_signature(pattern)
            if sig is None:
                return []
            return [s for s in self.by_sig.get(sig, []) if match(pattern, binding, s, consts) is not None]

    def pattern_text(self, pattern: Any, binding: dict[str, clingo.Symbol]) -> str:
        try:
            return self.show(ground_atom(pattern, binding, self.ex.program.constants, self.call))
        except TermError:
            return _substituted(pattern, binding, self.show)

    # ---- why not -----------------------------------------------------------------------------------------

    def why_not(self, name: str, args: list[clingo.Symbol | None], depth: int) -> Step:
        """Why no atom ``name(args)`` (None = any value) was derived: each rule's first failing literal."""
        shown = f"{name}({', '.join('_' if a is None else self.show(a) for a in args)})"
        step = Step("not_derived", shown, holds=False)
        consts = self.ex.program.constants
        for rule in self.ex.by_head.get((name, len(args)), []):
            head_args = rule.head.atom.symbol.arguments
            start: dict[str, clingo.Symbol] | None = {}
            for pat, val in zip(head_args, args, strict=True):
                if val is None or start is None:
                    continue
                if (
                    pat.ast_type == ast.ASTType.Variable
                    or pat.ast_type == ast.ASTType.SymbolicTerm
                    or (pat.ast_type == ast.ASTType.Function and not pat.external)
                ):
                    start = match(pat, start, val, consts)
            if start is None:
                continue  # this rule can never give this atom
            step.children.append(self.rule_failure(rule, start, depth))
        if not step.children:
            step.note = "没有规则能推出该原子 no rule can derive this atom"
            return step
        # Rules that did not even get past their first condition are noise when another rule got further
        # (e.g. the matching-item rule tried for a compute project): keep the informative ones.
        started = [c for c in step.children if c.note != _NOT_STARTED]
        if started and len(started) < len(step.children):
            omitted = len(step.children) - len(started)
            step.children = started
            step.note = (
                f"另有 {omitted} 条规则首个条件即不成立，从略 {omitted} more rules fail at their first condition"
            )
        return step

    def rule_failure(self, rule: InstrumentedRule, start: dict[str, clingo.Symbol], depth: int) -> Step:
        n = len(rule.body)
        ref = self.ex.rule_ref(rule)
        best_k = 0
        best: list[dict[str, clingo.Symbol]] = [start]
        for k in range(n - 1, 0, -1):
            names = rule.prefix_vars[k - 1]
            if names is None:
                continue
            found = []
            for values in self.reach.get((rule.index, k), []):
                b = bind(names, values)
                if all(b.get(v, s) == s for v, s in start.items()):
                    found.append({**start, **b})
            if found:
                best_k, best = k, found
                break
        step = Step("failed", f"{ref.id}: {_head_text(rule)}", holds=False, rule=ref)
        if n == 0:
            step.note = "事实规则 a fact"
            return step
        # The rule may have fired for these values but derived something else (a computed amount, another tier).
        consistent = [
            b
            for b in (bind(rule.variables, v) for v in self.fired.get(rule.index, []))
            if all(b.get(v, s) == s for v, s in start.items())
        ]
        if consistent:
            heads = []
            for b in consistent[:MAX_INSTANCES]:
                try:
                    heads.append(self.show(ground_atom(rule.head, b, self.ex.program.constants, self.call)))
                except TermError:
                    continue
            step.note = "规则成立，但得出 the rule holds but gives: " + "; ".join(heads)
            return step
        if best_k == 0:
            step.note = _NOT_STARTED
        for binding in best[:MAX_INSTANCES]:
            held = [self.held_literal(lit, binding) for lit in rule.body[:best_k]]
            child = self.failing_literal(rule.body[best_k], binding, depth - 1)
            if best_k:
                child.note = (child.note + "; " if child.note else "") + f"前 {best_k} 个条件成立 first {best_k} held"
            step.children.extend([*held, child])
        return step

    def held_literal(self, lit: Any, binding: dict[str, clingo.Symbol]) -> Step:
        """A literal of a reached prefix, shown with its values and (for facts) its source, not expanded."""
        atom = lit.atom
        if atom.ast_type == ast.ASTType.SymbolicAtom and lit.sign == ast.Sign.NoSign:
            matches = self.matching(atom.symbol, binding)
            if matches:
                sym = matches[0]
                if sym in self.sources:
                    return Step("input", self.show(sym), source=self.sources[sym])
                if sym in self.params:
                    return Step("parameter", self.show(sym), source=self.params[sym])
                return Step("derived", self.show(sym), note="成立 holds")
        if atom.ast_type == ast.ASTType.Comparison:
            return self.comparison(atom, binding, [])
        if atom.ast_type == ast.ASTType.SymbolicAtom:
            return Step("negation", f"not {self.pattern_text(atom.symbol, binding)}", note="成立 holds")
        return Step("comparison", str(lit))

    def failing_literal(self, lit: Any, binding: dict[str, clingo.Symbol], depth: int) -> Step:
        atom = lit.atom
        calls: list[tuple[str, list[clingo.Symbol], clingo.Symbol]] = []
        if atom.ast_type == ast.ASTType.Comparison:
            step = self.comparison(atom, binding, calls)
            step.holds = False
            return step
        if atom.ast_type == ast.ASTType.SymbolicAtom:
            matches = self.matching(atom.symbol, binding)
            if lit.sign != ast.Sign.NoSign:
                shown = self.pattern_text(atom.symbol, binding)
                kids = [self.why(m, depth, set()) for m in matches[:MAX_INSTANCES]]
                return Step("negation", f"not {shown}", holds=False, note="该事实成立 it holds", children=kids)
            sig = _pattern_signature(atom.symbol)
            args = self.partial_args(atom.symbol, binding)
            if sig is not None and depth > 0 and sig in self.ex.by_head:
                return self.why_not(sig[0], args, depth)
            shown = self.pattern_text(atom.symbol, binding)
            if sig is not None and sig[0] == "param" and args and args[0] is not None:
                # A parameter lookup that failed: show what the parameter does hold.
                values = [s for s in self.by_sig.get(sig, []) if s.arguments[0] == args[0]]
                kids = [Step("parameter", self.show(s), source=self.params.get(s)) for s in values]
                return Step(
                    "not_derived", shown, holds=False, note="参数中无此值 not a value of the parameter", children=kids
                )
            return Step("not_derived", shown, holds=False, note="缺少该输入 no such input fact")
        if atom.ast_type == ast.ASTType.BodyAggregate:
            step = self.aggregate(atom, binding, depth, set())
            step.holds = False
            return step
        return Step("failed", str(lit), holds=False)

    def partial_args(self, pattern: Any, binding: dict[str, clingo.Symbol]) -> list[clingo.Symbol | None]:
        out: list[clingo.Symbol | None] = []
        for a in pattern.arguments if pattern.ast_type == ast.ASTType.Function else []:
            try:
                out.append(evaluate_term(a, binding, self.ex.program.constants, self.call))
            except TermError:
                out.append(None)
        return out

    # ---- rows --------------------------------------------------------------------------------------------

    def explain_row(self, dec: _Decision, detailed: bool) -> RowExplanation:
        reason = self.ex.renderer.both(dec.reason, self.company)
        c = factmod.company_term(0)
        stages = sorted(
            s
            for s in self.by_sig.get(("stage", 6), [])
            if s.arguments[0] == c and s.arguments[1].number == dec.year and s.arguments[2].string == dec.item
        )
        conditions = [f"{s.arguments[4].name}: {self.ex.renderer.both(s.arguments[5], self.company)}" for s in stages]
        row = RowExplanation(
            self.company.id,
            dec.year,
            dec.item,
            dec.status,
            dec.amount,
            dec.payable_year,
            reason,
            self.ex.clause(dec.item),
            Step("derived", self.show(dec.sym)),
            [],
            conditions,
        )
        if not detailed:
            return row
        seen: set[clingo.Symbol] = set()
        row.why = self.why(dec.sym, MAX_DEPTH, seen)
        row.page = self.page(dec)
        row.decided_by = row.page.decided_by
        row.line = _line_of(self, dec.sym, self.ex.rule_ref)
        if dec.status not in PAID:
            # Every stage that applies (not only the decisive one): each failing condition with its values.
            for s in stages:
                text = f"{s.arguments[4].name}: {self.ex.renderer.both(s.arguments[5], self.company)}"
                row.why_not.append(Step("failed", text, holds=False, children=[self.why(s, MAX_DEPTH, seen)]))
            item = clingo.String(dec.item)
            year = clingo.Number(dec.year)
            has_amount = any(
                a.arguments[0] == c and a.arguments[1] == year and a.arguments[2] == item
                for a in self.by_sig.get(("amount_max", 4), [])
            )
            if not has_amount and ("amount_max", 4) in self.ex.by_head:
                row.why_not.append(self.why_not("amount_max", [c, year, item, None], MAX_DEPTH))
        return row


@dataclass
class _PageContext:
    """What one page has shown so far (atoms, facts, rules tried for denials)."""

    #: The row's clause and the deciding rule's clauses: the rules whose unmet conditions the page lists.
    clauses: set[str]
    decisive: clingo.Symbol | None
    seen: set[clingo.Symbol] = field(default_factory=set)
    facts: set[clingo.Symbol] = field(default_factory=set)
    tried: set[int] = field(default_factory=set)
    denials: int = 0
    omitted: int = 0


@dataclass(frozen=True)
class _Decision:
    sym: clingo.Symbol

    @property
    def year(self) -> int:
        return int(self.sym.arguments[1].number)

    @property
    def item(self) -> str:
        return str(self.sym.arguments[2].string)

    @property
    def status(self) -> str:
        return str(self.sym.arguments[3].name)

    @property
    def amount(self) -> int:
        from ..numbers import fen_of

        return fen_of(self.sym.arguments[4]) // 100

    @property
    def payable_year(self) -> int | None:
        p = self.sym.arguments[5]
        return p.number if p.type == clingo.SymbolType.Number else None

    @property
    def reason(self) -> clingo.Symbol:
        return self.sym.arguments[6]


def _pattern_signature(pattern: Any) -> tuple[str, int] | None:
    if pattern.ast_type == ast.ASTType.Function and not pattern.external:
        return (pattern.name, len(pattern.arguments))
    if pattern.ast_type == ast.ASTType.SymbolicTerm and pattern.symbol.type == clingo.SymbolType.Function:
        return (pattern.symbol.name, len(pattern.symbol.arguments))
    return None


def _holds(atom: Any, binding: dict[str, clingo.Symbol], consts: dict[str, Any], call: Any) -> bool:
    left = evaluate_term(atom.term, binding, consts, call)
    for g in atom.guards:
        right = evaluate_term(g.term, binding, consts, call)
        op = g.comparison
        ok = {
            ast.ComparisonOperator.Equal: left == right,
            ast.ComparisonOperator.NotEqual: left != right,
            ast.ComparisonOperator.LessThan: left < right,
            ast.ComparisonOperator.LessEqual: left <= right,
            ast.ComparisonOperator.GreaterThan: left > right,
            ast.ComparisonOperator.GreaterEqual: left >= right,
        }[op]
        if not ok:
            return False
        left = right
    return True


def _head_text(rule: InstrumentedRule) -> str:
    return str(rule.head)


def _substituted(pattern: Any, binding: dict[str, clingo.Symbol], show: Any) -> str:
    """Text of a pattern with bound variables replaced by their values."""
    text = str(pattern)
    for name, value in sorted(binding.items(), key=lambda kv: -len(kv[0])):
        text = _replace_var(text, name, show(value))
    return text


def _replace_var(text: str, name: str, value: str) -> str:
    import re

    return re.sub(rf"(?<![A-Za-z0-9_\"]){re.escape(name)}(?![A-Za-z0-9_])", lambda _m: value, text)


def flatten(steps: Iterable[Step]) -> Iterable[Step]:
    """Every step of the trees, depth first."""
    for s in steps:
        yield s
        yield from flatten(s.children)


def one_line(row: RowExplanation) -> str:
    """The one-line explanation of a detailed row (:func:`fuchi.explanation.page.one_line`), else its reason."""
    return row.line or row.reason

"""The auditor's page and the one-line explanation, as data, driven by the rules' ``%@ zh:`` / ``%@ en:`` sentences.

A rule instance (a rule and the values it fired with) is told by its sentence, the placeholders ``{Var}`` filled
with the values of the rule's variables (docs/drafting.md). A rule marked ``%@ internal:`` (the status layer's
plumbing, exact sums) is not told: the conditions it reads take its place. Nothing here knows a clause or a
predicate of a policy: the walk follows the values of the decision down the recorded derivations.

* :func:`decider` finds the rule that decided a row: from the decision atom down, following the body atom
  that carries the reason term (else the amount), the first rule that is not internal, cites a clause and
  builds the value it passes up (not a rule that only passes the reason through).
* :func:`one_line` tells that rule instance in one line (its sentence and its arithmetic as one chain).
* :func:`build_page` tells the whole chain: every rule instance that held, the values it read with their
  sources, and the rules of the row's clause that could have denied or paid it and did not hold, with
  the condition that failed.

The same functions run on an instrumented solve of one enterprise (``fuchi explain``) and on one solve of
a whole batch recording only the ``_fired`` bindings (``fuchi evaluate --explain``,
:class:`fuchi.explanation.lines.LineExplainer`): the one-liners of both are the same text.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Set
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Protocol

import clingo
from clingo import ast

from ..compiler.program import COMPARISON
from ..numbers import fen_of, fraction_of, is_decimal, is_money, render_decimal, render_value
from .instrument import InstrumentedRule, TermError, evaluate_term, ground_atom
from .reasons import parts

Binding = dict[str, clingo.Symbol]
Calls = list[tuple[str, list[clingo.Symbol], clingo.Symbol]]
_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)(?::(\w+))?\}")
#: Placeholder formats: ``{R:pct}`` shows a decimal as a percentage.
FORMATS = ("pct",)
MAX_PAGE_DENIALS = 8
DENIAL_DEPTH = 3
MAX_WALK = 40


class Model(Protocol):
    """What the walk needs from a solve (one enterprise, instrumented; or a batch, ``_fired`` only)."""

    def derivation(self, sym: clingo.Symbol) -> tuple[InstrumentedRule, Binding] | None:
        """The first recorded rule instance deriving ``sym`` (None: an input fact or not derived)."""

    def matching(self, pattern: Any, binding: Binding) -> list[clingo.Symbol]:
        """Atoms of the answer set matching a body pattern under a binding."""

    def show(self, sym: clingo.Symbol) -> str:
        """An atom or value for people."""

    def call(self, name: str, args: list[clingo.Symbol]) -> list[clingo.Symbol]:
        """Evaluate an ``@function``."""

    @property
    def constants(self) -> dict[str, Any]:
        """The program's ``#const`` definitions."""


@dataclass
class Fact:
    """An input fact or a parameter a rule read, with where it comes from."""

    kind: str  # input | parameter
    text: str
    source: str


@dataclass
class Finding:
    """One rule instance on the auditor's page.

    Attributes:
        rule: The rule (id, file:line, clauses).
        holds: True for a rule that fired; False for a rule of the row's clause that did not.
        zh: The rule's sentence with its values, in Chinese (the atom with values when it has none).
        en: The same in English.
        arithmetic: The arithmetic of the instance as one chain (``a × r = b > 上限 cap c ⟹ c``), or None.
        checks: The comparisons of the body with their values; for a rule that did not hold, the condition
            that failed.
        facts: The input facts and parameters it read (each shown once per page), with their sources.
        children: The rule instances that derived what it read (internal rules collapsed).
        decides: This instance decided the row (:func:`decider`).

    """

    rule: Any
    holds: bool
    zh: str
    en: str
    arithmetic: str | None = None
    checks: list[str] = field(default_factory=list)
    facts: list[Fact] = field(default_factory=list)
    children: list[Finding] = field(default_factory=list)
    decides: bool = False


@dataclass
class Page:
    """The auditor's page of one row: who decided, and every rule instance that led there."""

    decided_by: Any
    decided_zh: str
    decided_en: str
    findings: list[Finding]
    #: Rule instances left out to keep the page short (they are in ``--proof``).
    omitted: int = 0


# ---- sentences ---------------------------------------------------------------------------------------------


def placeholders(template: str) -> list[tuple[str, str]]:
    """The ``(variable, format)`` placeholders of a sentence, in order."""
    return [(m.group(1), m.group(2) or "") for m in _PLACEHOLDER.finditer(template)]


def say(template: str, binding: Binding, show: Callable[[clingo.Symbol], str]) -> str:
    """Fill a sentence's placeholders with the values of a binding (an unbound variable shows as ``?``)."""

    def one(m: re.Match[str]) -> str:
        value = binding.get(m.group(1))
        if value is None:
            return "?"
        if m.group(2) == "pct" and is_decimal(value):
            return render_decimal(value, percent=True, places=6)
        return show(value)

    return _PLACEHOLDER.sub(one, template)


def tell(rule: InstrumentedRule, binding: Binding, model: Model) -> tuple[str, str]:
    """The rule's zh/en sentence for a binding; without one, the head atom with its values (both)."""
    info = rule.info
    if info is not None and info.says_zh:
        zh = say(info.says_zh, binding, model.show)
        return zh, say(info.says_en, binding, model.show) if info.says_en else zh
    try:
        text = model.show(ground_atom(rule.head, binding, model.constants, model.call))
    except TermError:
        text = str(rule.head)
    return text, text


def chain(calls: Calls) -> str | None:
    """The arithmetic calls of an instance as one chain of values, each result feeding the next call."""
    parts: list[str] = []
    last: clingo.Symbol | None = None
    for name, args, result in calls:
        left, rest = _step(name, args, result)
        if last is not None and args and args[0] == last and parts:
            parts[-1] += f" {rest}"
        else:
            parts.append(f"{left} {rest}".strip())
        last = result
    return "; ".join(parts) if parts else None


def _step(name: str, args: list[clingo.Symbol], result: clingo.Symbol) -> tuple[str, str]:
    v = [render_value(a) for a in args]
    r = render_value(result)
    if name == "share" and len(args) == 2:
        note = ""
        if is_money(args[0]) and is_decimal(args[1]):
            exact = Fraction(fen_of(args[0]), 100) * fraction_of(args[1])[0]
            if exact != Fraction(fen_of(result), 100):
                note = "（向下取整 rounded down）"
        return v[0], f"× {v[1]} = {r}{note}"
    if name == "cap" and len(args) == 2:
        if is_money(args[0]) and is_money(args[1]) and fen_of(args[0]) > fen_of(args[1]):
            return v[0], f"> 上限 cap {v[1]} ⟹ {r}（上限生效 cap binds）"
        return v[0], f"≤ 上限 cap {v[1]}"
    if name in ("scale", "times") and len(args) == 2:
        return v[0], f"× {v[1]} = {r}"
    if name == "ratio" and len(args) == 2:
        return v[0], f"÷ {v[1]} = {r}"
    if name == "growth" and len(args) == 2:
        return "", f"({v[0]} − {v[1]}) ÷ {v[1]} = {r}"
    return "", f"@{name}({', '.join(v)}) = {r}"


def comparison_text(atom: Any, binding: Binding, model: Model, calls: Calls | None = None) -> tuple[str, bool]:
    """A comparison with its values (``1.251 > 1.25``) and whether it holds."""
    values = []
    syms: list[clingo.Symbol | None] = []
    for t in [atom.term] + [g.term for g in atom.guards]:
        try:
            s = evaluate_term(t, binding, model.constants, model.call, calls)
            syms.append(s)
            values.append(model.show(s))
        except TermError:
            syms.append(None)
            values.append(str(t))
    shown = values[0]
    holds = True
    for g, v, left, right in zip(atom.guards, values[1:], syms, syms[1:], strict=False):
        op = COMPARISON.get(g.comparison, "?")
        shown += f" {op} {v}"
        if left is not None and right is not None:
            holds = holds and _compare(g.comparison, left, right)
    return shown, holds


def checks(rule: InstrumentedRule, binding: Binding, model: Model) -> list[str]:
    """The body's comparisons of numbers (money, decimals, counts, years) with their values.

    Assignments (``V = term``: the arithmetic chain shows them) and comparisons with a constant
    (``S != rejected``: plumbing) are left out.
    """
    out = []
    for lit in rule.body:
        atom = lit.atom
        if atom.ast_type != ast.ASTType.Comparison or _assignment(atom):
            continue
        values: list[clingo.Symbol | None] = []
        for t in [atom.term] + [g.term for g in atom.guards]:
            try:
                values.append(evaluate_term(t, binding, model.constants, model.call))
            except TermError:
                values.append(None)
        if all(v is not None and (v.type == clingo.SymbolType.Number or is_money(v) or is_decimal(v)) for v in values):
            out.append(comparison_text(atom, binding, model)[0])
    return out


def _assignment(atom: Any) -> bool:
    """``V = term``: a binding, shown by the arithmetic chain rather than as a check."""
    if len(atom.guards) != 1 or atom.guards[0].comparison != ast.ComparisonOperator.Equal:
        return False
    return bool(atom.term.ast_type == ast.ASTType.Variable or atom.guards[0].term.ast_type == ast.ASTType.Variable)


def _compare(op: Any, left: clingo.Symbol, right: clingo.Symbol) -> bool:
    return bool(
        {
            ast.ComparisonOperator.Equal: left == right,
            ast.ComparisonOperator.NotEqual: left != right,
            ast.ComparisonOperator.LessThan: left < right,
            ast.ComparisonOperator.LessEqual: left <= right,
            ast.ComparisonOperator.GreaterThan: left > right,
            ast.ComparisonOperator.GreaterEqual: left >= right,
        }[op]
    )


# ---- the deciding rule ----------------------------------------------------------------------------------------


_SUBTERMS: dict[clingo.Symbol, frozenset[clingo.Symbol]] = {}
_POSITIVE: dict[int, tuple[InstrumentedRule, list[Any]]] = {}
_HEAD_VARS: dict[int, tuple[InstrumentedRule, list[bool]]] = {}


def _subterms(sym: clingo.Symbol) -> frozenset[clingo.Symbol]:
    hit = _SUBTERMS.get(sym)
    if hit is not None:
        return hit
    out = {sym}
    kind, name, args = parts(sym)
    if kind == 0 and name not in ("m", "d"):
        for a in args:
            out |= _subterms(a)
    if len(_SUBTERMS) > 200_000:
        _SUBTERMS.clear()
    hit = _SUBTERMS[sym] = frozenset(out)
    return hit


def _contains(sym: clingo.Symbol, wanted: Set[clingo.Symbol]) -> bool:
    return not _subterms(sym).isdisjoint(wanted)


def _positive_atoms(rule: InstrumentedRule) -> list[Any]:
    """The positive body atoms of a rule, aggregate conditions included (cached per rule)."""
    hit = _POSITIVE.get(id(rule))
    if hit is not None and hit[0] is rule:
        return hit[1]
    out = []
    for lit in rule.body:
        if lit.atom.ast_type == ast.ASTType.SymbolicAtom and lit.sign == ast.Sign.NoSign:
            out.append(lit.atom.symbol)
        elif lit.atom.ast_type == ast.ASTType.BodyAggregate:
            for el in lit.atom.elements:
                for cond in el.condition:
                    if (
                        cond.ast_type == ast.ASTType.Literal
                        and cond.atom.ast_type == ast.ASTType.SymbolicAtom
                        and cond.sign == ast.Sign.NoSign
                    ):
                        out.append(cond.atom.symbol)
    _POSITIVE[id(rule)] = (rule, out)
    return out


def decider(model: Model, decision: clingo.Symbol) -> tuple[InstrumentedRule, Binding, clingo.Symbol] | None:
    """The rule instance that decided a row, and the atom it derived (see the module docstring).

    The reason term of the decision (and its parts) is followed first, then the amount when it is not 0.
    A rule that only passes the reason through (its head has a variable where the value is) is plumbing
    even when it cites a clause (3.4's "no other policy", 3.3's payable year). When no rule on the way
    builds a value, the deepest rule that is not internal decided (e.g. "no rule gives an amount").
    """
    args = decision.arguments
    company, year, item, amount, reason = args[0], args[1], args[2], args[4], args[6]
    trivial = {company, year, item}
    parts = _subterms(reason) - trivial
    whole = {reason}
    named = {p for p in parts if p.type != clingo.SymbolType.Number}
    money = {amount} if is_money(amount) and fen_of(amount) > 0 else set()
    wanted = parts | money
    sym: clingo.Symbol = decision
    last: tuple[InstrumentedRule, Binding, clingo.Symbol] | None = None
    seen: set[clingo.Symbol] = set()
    for _ in range(MAX_WALK):
        found = model.derivation(sym)
        if found is None or sym in seen:
            break
        seen.add(sym)
        rule, binding = found
        info = rule.info
        if info is not None and not info.internal:
            last = (rule, binding, sym)
            if info.clauses and _builds(rule, sym, wanted):
                return last
        best: clingo.Symbol | None = None
        score = 0
        for pattern in _positive_atoms(rule):
            for m in model.matching(pattern, binding):
                if m in seen or model.derivation(m) is None:
                    continue
                s = (
                    4
                    if _contains(m, whole)
                    else 3
                    if _contains(m, named)
                    else 2
                    if _contains(m, parts)
                    else 1
                    if _contains(m, money)
                    else 0
                )
                if s > score:
                    best, score = m, s
        if best is None:
            break
        sym = best
    return last


def _builds(rule: InstrumentedRule, head: clingo.Symbol, wanted: Set[clingo.Symbol]) -> bool:
    """The head has a non-variable term at a position whose value is one of ``wanted``."""
    hit = _HEAD_VARS.get(id(rule))
    if hit is None or hit[0] is not rule:
        pattern = rule.head.atom.symbol
        flags = (
            [a.ast_type == ast.ASTType.Variable for a in pattern.arguments]
            if pattern.ast_type == ast.ASTType.Function
            else []
        )
        hit = _HEAD_VARS[id(rule)] = (rule, flags)
    for is_var, value in zip(hit[1], parts(head)[2], strict=False):
        if not is_var and _contains(value, wanted):
            return True
    return False


def head_calls(rule: InstrumentedRule, binding: Binding, model: Model) -> Calls:
    """The arithmetic of an instance: the ``@function`` calls of its head, then of its body comparisons."""
    calls: Calls = []
    try:
        ground_atom(rule.head, binding, model.constants, model.call, calls)
    except TermError:
        pass
    for lit in rule.body:
        if lit.atom.ast_type == ast.ASTType.Comparison:
            comparison_text(lit.atom, binding, model, calls)
    return calls


def one_line(model: Model, decision: clingo.Symbol, rule_ref: Callable[[InstrumentedRule], Any]) -> str | None:
    """The one-line explanation of a row: the deciding rule, its sentence with values, its arithmetic and checks."""
    found = decider(model, decision)
    if found is None:
        return None
    rule, binding, _ = found
    ref = rule_ref(rule)
    zh, en = tell(rule, binding, model)
    text = f"{ref.id} ({ref.file}:{ref.line}): {zh} / {en}" if zh != en else f"{ref.id} ({ref.file}:{ref.line}): {zh}"
    for part in (chain(head_calls(rule, binding, model)), *checks(rule, binding, model)):
        if part:
            text += f"; {part}"
    return text

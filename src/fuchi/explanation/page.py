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
from collections.abc import Callable, Sequence, Set
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Protocol

import clingo
from clingo import ast

from ..compiler.program import COMPARISON
from ..numbers import fen_of, fraction_of, is_decimal, is_money, render_decimal, render_value
from .instrument import InstrumentedRule, TermError, evaluate_term, ground_atom, head_calls_of
from .reasons import parts

Binding = dict[str, clingo.Symbol]
Calls = list[tuple[str, list[clingo.Symbol], clingo.Symbol]]
_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)(?::(\w+))?\}")
#: Placeholder formats: ``{R:pct}`` shows a decimal as a percentage.
FORMATS = ("pct",)
MAX_PAGE_DENIALS = 8
DENIAL_DEPTH = 3
MAX_WALK = 40


class Derivations(Protocol):
    """What the walk of :func:`decider` needs from a solve (one enterprise, instrumented; or a batch)."""

    def derivation(self, sym: Any) -> tuple[InstrumentedRule, Binding] | None:
        """The first recorded rule instance deriving ``sym`` (None: an input fact or not derived)."""

    def matching(self, pattern: Any, binding: Binding) -> list[Any]:
        """Atoms of the answer set matching a body pattern under a binding."""


class Model(Protocol):
    """What the text of a rule instance needs from a solve (its values as clingo symbols)."""

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
    out: list[str] = []
    for text, name, form in _template(template):
        out.append(text)
        if name is None:
            continue
        value = binding.get(name)
        if value is None:
            out.append("?")
        elif form == "pct" and is_decimal(value):
            out.append(render_decimal(value, percent=True, places=6))
        else:
            out.append(show(value))
    return "".join(out)


#: A sentence cut at its placeholders: (text before, variable or None at the end, format) — see :func:`say`.
_TEMPLATES: dict[str, list[tuple[str, str | None, str | None]]] = {}


def _template(template: str) -> list[tuple[str, str | None, str | None]]:
    hit = _TEMPLATES.get(template)
    if hit is None:
        hit, at = [], 0
        for m in _PLACEHOLDER.finditer(template):
            hit.append((template[at : m.start()], m.group(1), m.group(2)))
            at = m.end()
        hit.append((template[at:], None, None))
        _TEMPLATES[template] = hit
    return hit


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


@dataclass(frozen=True)
class _Comparison:
    """A comparison of a rule body, read from the AST once (each access to an AST node goes through CFFI)."""

    terms: tuple[Any, ...]  # the left term, then each guard's
    ops: tuple[Any, ...]  # each guard's comparison operator
    assignment: bool


#: id of a rule → (the rule, its head, its body comparisons): kept with the rule so that an id is not reused
_SHAPES: dict[int, tuple[InstrumentedRule, Any, list[_Comparison]]] = {}


def _comparison(atom: Any) -> _Comparison:
    guards = list(atom.guards)
    return _Comparison((atom.term, *(g.term for g in guards)), tuple(g.comparison for g in guards), _assignment(atom))


def _shape(rule: InstrumentedRule) -> tuple[Any, list[_Comparison]]:
    """A rule's head and body comparisons (cached per rule)."""
    hit = _SHAPES.get(id(rule))
    if hit is None or hit[0] is not rule:
        comparisons = [_comparison(lit.atom) for lit in rule.body if lit.atom.ast_type == ast.ASTType.Comparison]
        hit = _SHAPES[id(rule)] = (rule, rule.head, comparisons)
    return hit[1], hit[2]


def comparison_text(atom: Any, binding: Binding, model: Model, calls: Calls | None = None) -> tuple[str, bool]:
    """A comparison with its values (``1.251 > 1.25``) and whether it holds."""
    return _shown(_comparison(atom), binding, model, calls)


def _values(
    comparison: _Comparison, binding: Binding, model: Model, calls: Calls | None = None
) -> list[clingo.Symbol | None]:
    out: list[clingo.Symbol | None] = []
    for t in comparison.terms:
        try:
            out.append(evaluate_term(t, binding, model.constants, model.call, calls))
        except TermError:
            out.append(None)
    return out


def _shown(
    comparison: _Comparison,
    binding: Binding,
    model: Model,
    calls: Calls | None = None,
    syms: list[clingo.Symbol | None] | None = None,
) -> tuple[str, bool]:
    """A comparison's text with its values (``syms``: the values already evaluated) and whether it holds."""
    if syms is None:
        syms = _values(comparison, binding, model, calls)
    values = [str(t) if s is None else model.show(s) for t, s in zip(comparison.terms, syms, strict=True)]
    shown = values[0]
    holds = True
    for op, v, left, right in zip(comparison.ops, values[1:], syms, syms[1:], strict=False):
        shown += f" {COMPARISON.get(op, '?')} {v}"
        if left is not None and right is not None:
            holds = holds and _compare(op, left, right)
    return shown, holds


def checks(
    rule: InstrumentedRule,
    binding: Binding,
    model: Model,
    evaluated: Sequence[list[clingo.Symbol | None]] | None = None,
) -> list[str]:
    """The body's comparisons of numbers (money, decimals, counts, years) with their values.

    Assignments (``V = term``: the arithmetic chain shows them) and comparisons with a constant
    (``S != rejected``: plumbing) are left out. ``evaluated``: the comparisons' values, already evaluated
    (:func:`_arithmetic`).
    """
    out = []
    for k, comparison in enumerate(_shape(rule)[1]):
        if comparison.assignment:
            continue
        values = _values(comparison, binding, model) if evaluated is None else evaluated[k]
        if all(v is not None and (v.type == clingo.SymbolType.Number or is_money(v) or is_decimal(v)) for v in values):
            out.append(_shown(comparison, binding, model, syms=values)[0])
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


def positive_atoms(rule: InstrumentedRule) -> list[Any]:
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


@dataclass(frozen=True)
class Terms:
    """How the walk of :func:`decider` reads the values of a model (clingo symbols, or plain Python values).

    Attributes:
        arguments: The arguments of a function term (none for a number or a string).
        subterms: A term and its sub-terms, money and decimal terms taken whole.
        is_number: Whether a term is an integer.
        positive_money: Whether a term is a money term above 0.

    """

    arguments: Callable[[Any], Sequence[Any]]
    subterms: Callable[[Any], frozenset[Any]]
    is_number: Callable[[Any], bool]
    positive_money: Callable[[Any], bool]


#: The terms of a solve read as clingo symbols (``fuchi explain``).
SYMBOLS = Terms(
    arguments=lambda sym: parts(sym)[2],
    subterms=_subterms,
    is_number=lambda sym: sym.type == clingo.SymbolType.Number,
    positive_money=lambda sym: is_money(sym) and fen_of(sym) > 0,
)


def decider(model: Derivations, decision: Any, terms: Terms = SYMBOLS) -> tuple[InstrumentedRule, Binding, Any] | None:
    """The rule instance that decided a row, and the atom it derived (see the module docstring).

    The reason term of the decision (and its parts) is followed first, then the amount when it is not 0.
    A rule that only passes the reason through (its head has a variable where the value is) is plumbing
    even when it cites a clause (3.4's "no other policy", 3.3's payable year). When no rule on the way
    builds a value, the deepest rule that is not internal decided (e.g. "no rule gives an amount").

    ``terms`` says how to read the model's values: the walk is the same on clingo symbols and on the plain
    Python values of :mod:`fuchi.explanation.lines`.
    """
    args = terms.arguments(decision)
    company, year, item, amount, reason = args[0], args[1], args[2], args[4], args[6]
    subterms = terms.subterms
    trivial = {company, year, item}
    parts = subterms(reason) - trivial
    whole = {reason}
    named = {p for p in parts if not terms.is_number(p)}
    money = {amount} if terms.positive_money(amount) else set()
    wanted = parts | money
    sym: Any = decision
    last: tuple[InstrumentedRule, Binding, Any] | None = None
    seen: set[Any] = set()
    for _ in range(MAX_WALK):
        found = model.derivation(sym)
        if found is None or sym in seen:
            break
        seen.add(sym)
        rule, binding = found
        info = rule.info
        if info is not None and not info.internal:
            last = (rule, binding, sym)
            if info.clauses and _builds(rule, terms.arguments(sym), wanted, subterms):
                return last
        best: Any = None
        score = 0
        for pattern in positive_atoms(rule):
            for m in model.matching(pattern, binding):
                if m in seen or model.derivation(m) is None:
                    continue
                sub = subterms(m)
                s = (
                    4
                    if not sub.isdisjoint(whole)
                    else 3
                    if not sub.isdisjoint(named)
                    else 2
                    if not sub.isdisjoint(parts)
                    else 1
                    if not sub.isdisjoint(money)
                    else 0
                )
                if s > score:
                    best, score = m, s
        if best is None:
            break
        sym = best
    return last


def _builds(
    rule: InstrumentedRule, head_args: Sequence[Any], wanted: Set[Any], subterms: Callable[[Any], frozenset[Any]]
) -> bool:
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
    for is_var, value in zip(hit[1], head_args, strict=False):
        if not is_var and not subterms(value).isdisjoint(wanted):
            return True
    return False


def head_calls(rule: InstrumentedRule, binding: Binding, model: Model) -> Calls:
    """The arithmetic of an instance: the ``@function`` calls of its head, then of its body comparisons."""
    return _arithmetic(rule, binding, model)[0]


def _arithmetic(
    rule: InstrumentedRule, binding: Binding, model: Model
) -> tuple[Calls, list[list[clingo.Symbol | None]]]:
    """The ``@function`` calls of an instance (:func:`head_calls`) and the values of its body comparisons."""
    calls: Calls = []
    head, comparisons = _shape(rule)
    try:
        head_calls_of(head, binding, model.constants, model.call, calls)
    except TermError:
        pass
    return calls, [_values(comparison, binding, model, calls) for comparison in comparisons]


class Solve(Derivations, Model, Protocol):
    """A solve the walk and the text both read (clingo symbols)."""


def one_line(model: Solve, decision: clingo.Symbol, rule_ref: Callable[[InstrumentedRule], Any]) -> str | None:
    """The one-line explanation of a row: the deciding rule, its sentence with values, its arithmetic and checks."""
    found = decider(model, decision)
    if found is None:
        return None
    return instance_line(model, found[0], found[1], rule_ref)


def instance_line(
    model: Model, rule: InstrumentedRule, binding: Binding, rule_ref: Callable[[InstrumentedRule], Any]
) -> str:
    """The one line of a rule instance (the deciding one of a row): its sentence with values, arithmetic, checks."""
    ref = rule_ref(rule)
    zh, en = tell(rule, binding, model)
    text = f"{ref.id} ({ref.file}:{ref.line}): {zh} / {en}" if zh != en else f"{ref.id} ({ref.file}:{ref.line}): {zh}"
    calls, evaluated = _arithmetic(rule, binding, model)
    for part in (chain(calls), *checks(rule, binding, model, evaluated)):
        if part:
            text += f"; {part}"
    return text

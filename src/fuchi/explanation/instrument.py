"""Rewrite a policy's rules so that a solve records, for every rule, what fired and how far it got.

For rule number ``i`` with body ``b1, …, bn`` (put in a safe order, see :func:`safe_order`) the rewrite
adds, beside the unchanged rule:

* ``_fired(i, (V1, …, Vm)) :- b1, …, bn.`` — the ground bindings of the rule's global variables each
  time the body holds (why);
* ``_reach(i, k, (V…)) :- b1, …, bk.`` for k = 1 … n-1 — the bindings of each prefix reached (why not:
  the deepest prefix reached names the literal b(k+1) that failed).

The extra atoms occur in no rule body, so the program stays stratified and its other atoms are those of
the plain program. Nothing here is specific to a clause: any rule a drafter writes is instrumented.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import clingo
from clingo import ast
from clingo._internal import _ffi  # type: ignore[attr-defined]  # an AST node's address (its wrappers vary)

from ..errors import PolicyError
from ..policy import Policy, RuleInfo
from ..rules import parse_rule_files

AST = Any  # clingo.ast.AST; kept loose for mypy (the AST API is dynamically typed)


@dataclass
class InstrumentedRule:
    """One rule of the policy and what the rewrite knows about it.

    Attributes:
        index: Its number in the policy (order of the rule files, then of statements).
        node: The parsed rule.
        body: The body literals in the safe order used for prefixes.
        variables: The global variables recorded by ``_fired`` (sorted).
        prefix_vars: For each k, the variables recorded by ``_reach(i, k, …)`` (None: no prefix rule).
        info: The ``%@`` annotations covering the rule, if any.
        file: The rule file, relative to the policy directory.
        line: The rule's first line.

    """

    index: int
    node: AST
    body: list[AST]
    variables: list[str]
    prefix_vars: list[list[str] | None]
    info: RuleInfo | None
    file: str
    line: int

    @cached_property
    def head(self) -> AST:
        """The head literal (read once: each access to an AST node goes through CFFI)."""
        return self.node.head

    @property
    def rule_id(self) -> str:
        """The annotated rule id, or ``file:line``."""
        return self.info.id if self.info is not None else f"{self.file}:{self.line}"


@dataclass
class Program:
    """The parsed policy, its rules and its constant definitions."""

    statements: list[AST]
    rules: list[InstrumentedRule]
    constants: dict[str, AST] = field(default_factory=dict)
    #: Whether the rewrite adds the ``_reach`` prefix rules (why-not); the one-liners need ``_fired`` only.
    reach: bool = True
    #: Whether a solve returns every atom (explanations) or only the shown ones and ``_fired`` (one-liners).
    atoms: bool = True
    #: The rules whose ``_fired`` bindings are recorded (None: every rule).
    recorded: frozenset[int] | None = None


def _variables(node: AST) -> Iterator[str]:
    """Every variable name under ``node`` (anonymous ``_`` excluded)."""
    if isinstance(node, ast.AST):
        if node.ast_type == ast.ASTType.Variable:
            if node.name != "_":
                yield node.name
            return
        for key in node.child_keys:
            yield from _variables(getattr(node, key))
    elif isinstance(node, list | tuple | ast.ASTSequence):
        for child in node:
            yield from _variables(child)


def _binding_vars(term: AST) -> set[str]:
    """Variables a positive atom binds: those not under arithmetic or external functions."""
    out: set[str] = set()

    def walk(t: AST) -> None:
        kind = t.ast_type
        if kind == ast.ASTType.Variable:
            if t.name != "_":
                out.add(t.name)
        elif kind == ast.ASTType.Function and not t.external:
            for a in t.arguments:
                walk(a)
        elif kind == ast.ASTType.SymbolicAtom:
            walk(t.symbol)

    walk(term)
    return out


def _needs_binds(lit: AST, global_vars: set[str]) -> tuple[set[str], set[str]]:
    """(variables needed before the literal, variables it binds)."""
    if lit.ast_type != ast.ASTType.Literal:
        return set(_variables(lit)) & global_vars, set()
    atom = lit.atom
    allv = set(_variables(atom))
    if atom.ast_type == ast.ASTType.SymbolicAtom:
        if lit.sign == ast.Sign.NoSign:
            binds = _binding_vars(atom)
            return allv - binds, binds
        return allv & global_vars, set()
    if atom.ast_type == ast.ASTType.Comparison:
        if len(atom.guards) == 1 and atom.guards[0].comparison == ast.ComparisonOperator.Equal:
            left, right = atom.term, atom.guards[0].term
            if left.ast_type == ast.ASTType.Variable:
                return set(_variables(right)), {left.name}
            if right.ast_type == ast.ASTType.Variable:
                return set(_variables(left)), {right.name}
        return allv, set()
    if atom.ast_type == ast.ASTType.BodyAggregate:
        binds = set()
        guard = atom.left_guard
        if (
            guard is not None
            and guard.comparison == ast.ComparisonOperator.Equal
            and guard.term.ast_type == ast.ASTType.Variable
        ):
            binds = {guard.term.name}
        needs = set()
        for el in atom.elements:
            needs |= set(_variables(el)) & global_vars
        for g in (atom.left_guard, atom.right_guard):
            if g is not None:
                needs |= set(_variables(g.term)) - binds
        return needs - binds, binds
    return allv, set()


def _global_vars(rule: AST) -> set[str]:
    """Variables of the rule outside aggregate elements (plus aggregate guards)."""
    out = set(_variables(rule.head))
    for lit in rule.body:
        if lit.ast_type == ast.ASTType.Literal and lit.atom.ast_type == ast.ASTType.BodyAggregate:
            for g in (lit.atom.left_guard, lit.atom.right_guard):
                if g is not None:
                    out |= set(_variables(g.term))
        else:
            out |= set(_variables(lit))
    return out


def safe_order(body: Sequence[AST], global_vars: set[str]) -> list[tuple[AST, set[str]]]:
    """Order body literals as written, moving a literal later only until its variables are bound.

    Returns:
        (literal, variables bound after it) pairs; literals that can never be placed come last.

    """
    todo = list(body)
    bound: set[str] = set()
    out: list[tuple[AST, set[str]]] = []
    while todo:
        for n, lit in enumerate(todo):
            needs, binds = _needs_binds(lit, global_vars)
            if needs <= bound:
                bound = bound | binds
                out.append((lit, set(bound)))
                del todo[n]
                break
        else:
            for lit in todo:
                bound = bound | set(_variables(lit))
                out.append((lit, set(bound)))
            todo = []
    return out


def _var(loc: AST, name: str) -> AST:
    return ast.Variable(loc, name)


def _tuple(loc: AST, names: Sequence[str]) -> AST:
    return ast.Function(loc, "", [_var(loc, v) for v in names], 0)


def _num(loc: AST, n: int) -> AST:
    return ast.SymbolicTerm(loc, clingo.Number(n))


def _head(loc: AST, name: str, args: list[AST]) -> AST:
    return ast.Literal(loc, ast.Sign.NoSign, ast.SymbolicAtom(ast.Function(loc, name, args, 0)))


def parse_policy(policy: Policy) -> Program:
    """Parse the policy's rule files and number their rules.

    Raises:
        PolicyError: clingo could not parse a file (at its first error, ``file:line``).

    """
    statements: list[AST] = []
    for f in policy.rule_files:  # one file at a time keeps statements in file order
        parse_rule_files([str(f)], statements.append)
    rules: list[InstrumentedRule] = []
    constants: dict[str, AST] = {}
    root = str(policy.root.resolve())
    for stm in statements:
        if stm.ast_type == ast.ASTType.Definition:
            constants[stm.name] = stm.value
        if stm.ast_type != ast.ASTType.Rule:
            continue
        loc = stm.location
        filename = loc.begin.filename
        try:
            rel = Path(filename).resolve().relative_to(root).as_posix()
        except ValueError:
            rel = filename
        glob = _global_vars(stm)
        order = safe_order(list(stm.body), glob)
        body = [lit for lit, _ in order]
        prefix_vars: list[list[str] | None] = []
        for k in range(1, len(body)):
            bound = order[k - 1][1]
            prefix = body[:k]
            needed = set()
            for lit in prefix:
                needed |= _needs_binds(lit, glob)[0]
            prefix_vars.append(sorted(bound & glob) if needed <= bound else None)
        rules.append(
            InstrumentedRule(
                index=len(rules),
                node=stm,
                body=body,
                variables=sorted(glob & order[-1][1]) if order else [],
                prefix_vars=prefix_vars,
                info=policy.rule_at(rel, loc.begin.line),
                file=rel,
                line=loc.begin.line,
            )
        )
    return Program(statements, rules, constants)


def instrumented_statements(program: Program) -> Iterator[AST]:
    """Yield the program's statements followed by the ``_fired`` and ``_reach`` rules."""
    yield from program.statements
    if not program.atoms and program.rules:
        loc = program.rules[0].node.location
        yield ast.ShowSignature(loc, "_fired", 2, True)
        yield ast.ShowSignature(loc, "touched", 3, True)  # (the outputs, as a plain solve shows them)
    for rule in program.rules:
        if program.recorded is not None and rule.index not in program.recorded:
            continue
        loc = rule.node.location
        idx = _num(loc, rule.index)
        yield ast.Rule(loc, _head(loc, "_fired", [idx, _tuple(loc, rule.variables)]), list(rule.body))
        if not program.reach:
            continue
        for k, names in enumerate(rule.prefix_vars, start=1):
            if names is None:
                continue
            yield ast.Rule(loc, _head(loc, "_reach", [idx, _num(loc, k), _tuple(loc, names)]), list(rule.body[:k]))


def add_instrumented(ctl: clingo.Control, program: Program) -> None:
    """Add the instrumented program to a Control."""
    with ast.ProgramBuilder(ctl) as builder:
        for stm in instrumented_statements(program):
            builder.add(stm)


# ---- evaluating terms under bindings (for explanations) ----------------------------------------------------

Call = Callable[[str, list[clingo.Symbol]], list[clingo.Symbol]]


class TermError(ValueError):
    """A term could not be evaluated (unbound variable, undefined operation)."""


_DIVISIONS = (ast.BinaryOperator.Division, ast.BinaryOperator.Modulo)
_BINOPS: dict[Any, Callable[[int, int], int]] = {
    ast.BinaryOperator.Plus: lambda a, b: a + b,
    ast.BinaryOperator.Minus: lambda a, b: a - b,
    ast.BinaryOperator.Multiplication: lambda a, b: a * b,
    ast.BinaryOperator.Division: lambda a, b: int(a / b),
    ast.BinaryOperator.Modulo: lambda a, b: a - b * int(a / b),
}


#: Terms compiled from the clingo AST once (reading an AST node goes through CFFI on every access):
#: (address of the C node, id of the constants) → (the node and the constants, kept alive so that neither
#: address is reused; the term).
_COMPILED: dict[tuple[int, int], tuple[AST, dict[str, AST], tuple[Any, ...]]] = {}


def _compile(term: AST, constants: dict[str, AST]) -> tuple[Any, ...]:
    """A term as nested tuples.

    ``("v", name)``, ``("s", symbol)``, ``("f", name, args)`` (a function term), ``("x", name, args)`` (an
    ``@function`` call), ``("b", op, divides, left, right)``, ``("u", arg)``, ``("?", text)``.
    """
    key = (int(_ffi.cast("uintptr_t", term._rep)), id(constants))  # the C node: stable, unlike its wrappers
    hit = _COMPILED.get(key)
    if hit is not None:
        return hit[2]
    kind = term.ast_type
    out: tuple[Any, ...]
    if kind == ast.ASTType.Variable:
        out = ("v", term.name)
    elif kind == ast.ASTType.SymbolicTerm:
        sym = term.symbol
        if sym.type == clingo.SymbolType.Function and not sym.arguments and sym.name in constants:
            out = _compile(constants[sym.name], constants)
        else:
            out = ("s", sym)
    elif kind == ast.ASTType.UnaryOperation:
        out = ("u", _compile(term.argument, constants))
    elif kind == ast.ASTType.BinaryOperation:
        out = ("b", _BINOPS.get(term.operator_type), term.operator_type in _DIVISIONS, _compile(term.left, constants),
               _compile(term.right, constants))  # fmt: skip
    elif kind == ast.ASTType.Function:
        if not term.arguments and term.name in constants and not term.external:
            out = _compile(constants[term.name], constants)
        else:
            args = tuple(_compile(a, constants) for a in term.arguments)
            out = ("x" if term.external else "f", term.name, args)
    elif kind == ast.ASTType.SymbolicAtom:
        out = _compile(term.symbol, constants)
    elif kind == ast.ASTType.Literal:
        out = _compile(term.atom, constants)
    else:
        out = ("?", str(term))
    _COMPILED[key] = (term, constants, out)
    return out


def compiled_term(term: AST, constants: dict[str, AST]) -> tuple[Any, ...]:
    """The compiled form of a term (see :func:`_compile`), e.g. ``("f", name, args)`` for ``name(args)``."""
    return _compile(term, constants)


def _eval(
    t: tuple[Any, ...],
    binding: dict[str, clingo.Symbol],
    call: Call,
    calls: list[tuple[str, list[clingo.Symbol], clingo.Symbol]] | None,
) -> clingo.Symbol:
    kind = t[0]
    if kind == "v":
        value = binding.get(t[1])
        if value is None:
            raise TermError(f"unbound variable {t[1]}")
        return value
    if kind == "s":
        return t[1]  # type: ignore[no-any-return]
    if kind == "f":
        return clingo.Function(t[1], [_eval(a, binding, call, calls) for a in t[2]])
    if kind == "x":
        args = [_eval(a, binding, call, calls) for a in t[2]]
        results = call(t[1], args)
        if len(results) != 1:
            raise TermError(f"@{t[1]} has no value for these arguments")
        if calls is not None:
            calls.append((t[1], args, results[0]))
        return results[0]
    if kind == "u":
        v = _eval(t[1], binding, call, calls)
        if v.type != clingo.SymbolType.Number:
            raise TermError("unary operation on a non-number")
        return clingo.Number(-v.number)
    if kind == "b":
        a = _eval(t[3], binding, call, calls)
        b = _eval(t[4], binding, call, calls)
        if a.type != clingo.SymbolType.Number or b.type != clingo.SymbolType.Number:
            raise TermError("arithmetic on a non-number")
        op = t[1]
        if op is None or (b.number == 0 and t[2]):
            raise TermError("undefined operation")
        value = op(a.number, b.number)
        if not -(2**31) <= value < 2**31:  # clingo wrapped it: no explanation of a wrapped value
            raise PolicyError(
                "integer arithmetic beyond clingo's 32-bit range (clingo would wrap silently) / 整数超出 32 位范围: "
                f"{a.number} and {b.number} give {value}"
            )
        return clingo.Number(value)
    raise TermError(f"cannot evaluate {t[1]}")


def evaluate_term(
    term: AST,
    binding: dict[str, clingo.Symbol],
    constants: dict[str, AST],
    call: Call,
    calls: list[tuple[str, list[clingo.Symbol], clingo.Symbol]] | None = None,
) -> clingo.Symbol:
    """Evaluate a term under variable bindings, recording external calls in ``calls``."""
    return _eval(_compile(term, constants), binding, call, calls)


def ground_atom(
    atom: AST,
    binding: dict[str, clingo.Symbol],
    constants: dict[str, AST],
    call: Call,
    calls: list[tuple[str, list[clingo.Symbol], clingo.Symbol]] | None = None,
) -> clingo.Symbol:
    """Evaluate a SymbolicAtom (or a head literal) to a symbol."""
    return _eval(_compile(atom, constants), binding, call, calls)


def head_calls_of(
    atom: AST,
    binding: dict[str, clingo.Symbol],
    constants: dict[str, AST],
    call: Call,
    calls: list[tuple[str, list[clingo.Symbol], clingo.Symbol]],
) -> None:
    """Record the ``@function`` calls that evaluating an atom makes, without building the atom.

    The same calls in the same order, and the same errors, as :func:`ground_atom`: the one-liners need only
    an instance's arithmetic, and building its head's symbols costs more than the calls.
    """
    _calls_of(_compile(atom, constants), binding, call, calls)


def _calls_of(
    t: tuple[Any, ...],
    binding: dict[str, clingo.Symbol],
    call: Call,
    calls: list[tuple[str, list[clingo.Symbol], clingo.Symbol]],
) -> None:
    kind = t[0]
    if kind == "f":
        for a in t[2]:
            _calls_of(a, binding, call, calls)
    elif kind == "v":
        if binding.get(t[1]) is None:
            raise TermError(f"unbound variable {t[1]}")
    elif kind != "s":
        _eval(t, binding, call, calls)


def bind(names: Sequence[str], values: clingo.Symbol) -> dict[str, clingo.Symbol]:
    """Zip variable names with the arguments of a recorded tuple."""
    return dict(zip(names, values.arguments, strict=True))


def match(
    pattern: AST, binding: dict[str, clingo.Symbol], sym: clingo.Symbol, constants: dict[str, AST]
) -> dict[str, clingo.Symbol] | None:
    """Unify a term pattern with a ground symbol, extending ``binding`` (arithmetic must be bound)."""
    out = dict(binding)

    def walk(t: tuple[Any, ...], s: clingo.Symbol) -> bool:
        kind = t[0]
        if kind == "v":
            if t[1] == "_":
                return True
            if t[1] in out:
                return bool(out[t[1]] == s)
            out[t[1]] = s
            return True
        if kind == "f":
            if s.type != clingo.SymbolType.Function or s.name != t[1]:
                return False
            args = s.arguments
            if len(args) != len(t[2]):
                return False
            return all(walk(a, b) for a, b in zip(t[2], args, strict=True))
        try:
            return bool(_eval(t, out, lambda n, a: [], None) == s)
        except TermError:
            return False

    return out if walk(_compile(pattern, constants), sym) else None

"""The fragment of ASP the compiler takes, read from the rule files through ``clingo.ast``.

Normal rules ``h :- b1, …, bn.`` whose body literals are positive or negated atoms, comparisons and
``#sum``/``#min``/``#max``/``#count`` aggregates; terms are variables, integers, strings, constants,
function terms, integer arithmetic and ``@function`` calls; ``#const`` definitions are substituted. Anything
else (choice rules, disjunction, pools, intervals, conditional literals, ``#external``, ``#program``,
``#script``, optimisation, theory atoms …) raises :class:`~fuchi.compiler.errors.CompileError` at the
``file:line`` of the statement: it is reported, never mistranslated.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import clingo
from clingo import ast

from ..rules import parse_rule_files
from .errors import CompileError

AST = Any  # clingo.ast.AST is dynamically typed


# ---- terms -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Var:
    """A variable (``_`` is anonymous)."""

    name: str


@dataclass(frozen=True)
class Num:
    """An integer constant."""

    value: int


@dataclass(frozen=True)
class Str:
    """A string constant."""

    value: str


@dataclass(frozen=True)
class Func:
    """A function term or constant (``rejected``, ``m(0,0,0)``, ``not_first(X, Y0, R0)``)."""

    name: str
    args: tuple[Term, ...]


@dataclass(frozen=True)
class BinOp:
    """Integer arithmetic: ``+ - * / \\ **`` (``/`` truncates, ``\\`` is the remainder, as in clingo)."""

    op: str
    left: Term
    right: Term


@dataclass(frozen=True)
class Neg:
    """Unary minus (``-X``) or absolute value (``|X|``)."""

    op: str  # "-" | "abs"
    arg: Term


@dataclass(frozen=True)
class Call:
    """An external ``@name(args)`` call, computed exactly (see :mod:`fuchi.compiler.functions`)."""

    name: str
    args: tuple[Term, ...]


Term = Var | Num | Str | Func | BinOp | Neg | Call


# ---- literals ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Atom:
    """``name(args)``."""

    name: str
    args: tuple[Term, ...]

    @property
    def signature(self) -> tuple[str, int]:
        """(name, arity)."""
        return (self.name, len(self.args))


@dataclass(frozen=True)
class Lit:
    """A positive or negated atom in a body."""

    atom: Atom
    negated: bool


@dataclass(frozen=True)
class Cmp:
    """A comparison ``left op right`` (op one of ``= != < <= > >=``)."""

    op: str
    left: Term
    right: Term


@dataclass(frozen=True)
class Element:
    """``t1, …, tk : l1, …, lm`` of an aggregate."""

    terms: tuple[Term, ...]
    condition: tuple[Lit, ...]


@dataclass(frozen=True)
class Agg:
    """``left op #fn{ elements } op right`` (either guard may be absent)."""

    function: str  # sum | min | max | count
    elements: tuple[Element, ...]
    left: tuple[str, Term] | None  # (op, term) as written: term op #agg
    right: tuple[str, Term] | None  # (op, term): #agg op term


BodyItem = Lit | Cmp | Agg


@dataclass(frozen=True)
class Rule:
    """A normal rule (a fact has an empty body)."""

    head: Atom
    body: tuple[BodyItem, ...]
    file: str
    line: int

    @property
    def where(self) -> str:
        """``file:line``."""
        return f"{self.file}:{self.line}"

    def reads(self) -> set[tuple[str, int]]:
        """Every predicate the body reads: positive and negated atoms and aggregate conditions."""
        out: set[tuple[str, int]] = set()
        for b in self.body:
            if isinstance(b, Lit):
                out.add(b.atom.signature)
            elif isinstance(b, Agg):
                out |= {c.atom.signature for el in b.elements for c in el.condition}
        return out


#: clingo's comparison operators as written (also used by the explanations)
COMPARISON = {
    ast.ComparisonOperator.Equal: "=",
    ast.ComparisonOperator.NotEqual: "!=",
    ast.ComparisonOperator.LessThan: "<",
    ast.ComparisonOperator.LessEqual: "<=",
    ast.ComparisonOperator.GreaterThan: ">",
    ast.ComparisonOperator.GreaterEqual: ">=",
}
_BIN = {
    ast.BinaryOperator.Plus: "+",
    ast.BinaryOperator.Minus: "-",
    ast.BinaryOperator.Multiplication: "*",
    ast.BinaryOperator.Division: "/",
    ast.BinaryOperator.Modulo: "\\",
    ast.BinaryOperator.Power: "**",
}
_AGG = {
    ast.AggregateFunction.Sum: "sum",
    ast.AggregateFunction.Min: "min",
    ast.AggregateFunction.Max: "max",
    ast.AggregateFunction.Count: "count",
}
#: flip a guard written on the left (``T op #agg``) into ``#agg op' T``
FLIP = {"=": "=", "!=": "!=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}


class _Reader:
    def __init__(self, file: str, constants: dict[str, Term]) -> None:
        self.file = file
        self.constants = constants

    def fail(self, node: AST, what: str) -> CompileError:
        return CompileError(what, self.file, node.location.begin.line)

    def term(self, t: AST) -> Term:
        k = t.ast_type
        if k == ast.ASTType.Variable:
            return Var(t.name)
        if k == ast.ASTType.SymbolicTerm:
            return self.symbol(t, t.symbol)
        if k == ast.ASTType.Function:
            if t.external:
                return Call(t.name, tuple(self.term(a) for a in t.arguments))
            if not t.arguments and t.name in self.constants:
                return self.constants[t.name]
            if not t.name and len(t.arguments) != 1:
                return Func("", tuple(self.term(a) for a in t.arguments))
            if not t.name:
                raise self.fail(t, "a one-element tuple is not supported by the SQL compiler")
            return Func(t.name, tuple(self.term(a) for a in t.arguments))
        if k == ast.ASTType.BinaryOperation:
            op = _BIN.get(t.operator_type)
            if op is None:
                shown = {ast.BinaryOperator.And: "&", ast.BinaryOperator.Or: "?", ast.BinaryOperator.XOr: "^"}
                sign = shown.get(t.operator_type, str(t.operator_type))
                raise self.fail(t, f"bitwise operator {sign} is not supported by the SQL compiler")
            return BinOp(op, self.term(t.left), self.term(t.right))
        if k == ast.ASTType.UnaryOperation:
            if t.operator_type == ast.UnaryOperator.Minus:
                return Neg("-", self.term(t.argument))
            if t.operator_type == ast.UnaryOperator.Absolute:
                return Neg("abs", self.term(t.argument))
            raise self.fail(t, "bitwise negation is not supported by the SQL compiler")
        if k == ast.ASTType.Pool:
            if len(t.arguments) == 1:
                return self.term(t.arguments[0])
            raise self.fail(t, "pools (;) are not supported by the SQL compiler")
        if k == ast.ASTType.Interval:
            raise self.fail(t, "intervals (..) are not supported by the SQL compiler")
        raise self.fail(t, f"term {k.name} is not supported by the SQL compiler")

    def symbol(self, node: AST, s: clingo.Symbol) -> Term:
        if s.type == clingo.SymbolType.Number:
            return Num(s.number)
        if s.type == clingo.SymbolType.String:
            return Str(s.string)
        if s.type == clingo.SymbolType.Function:
            if not s.positive:
                raise self.fail(node, f"negative term {s} is not supported by the SQL compiler")
            if not s.arguments and s.name in self.constants:
                return self.constants[s.name]
            return Func(s.name, tuple(self.symbol(node, a) for a in s.arguments))
        raise self.fail(node, f"{s} is not supported by the SQL compiler")

    def atom(self, a: AST) -> Atom:
        if a.ast_type != ast.ASTType.SymbolicAtom:
            raise self.fail(a, f"{a.ast_type.name} is not supported by the SQL compiler")
        t = self.term(a.symbol)
        if isinstance(t, Func):
            return Atom(t.name, t.args)
        raise self.fail(a, f"atom {a} is not supported by the SQL compiler")

    def aggregate(self, lit: AST, a: AST) -> Agg:
        if a.function not in _AGG:
            raise self.fail(a, "this aggregate function is not supported by the SQL compiler")
        if lit.sign != ast.Sign.NoSign:
            raise self.fail(lit, "a negated aggregate is not supported by the SQL compiler")
        elements = []
        for el in a.elements:
            cond = []
            for c in el.condition:
                item = self.literal(c)
                if not isinstance(item, Lit):
                    raise self.fail(c, "only atoms are supported in an aggregate condition by the SQL compiler")
                cond.append(item)
            elements.append(Element(tuple(self.term(t) for t in el.terms), tuple(cond)))
        left = None
        if a.left_guard is not None:
            left = (COMPARISON[a.left_guard.comparison], self.term(a.left_guard.term))
        right = None
        if a.right_guard is not None:
            right = (COMPARISON[a.right_guard.comparison], self.term(a.right_guard.term))
        return Agg(_AGG[a.function], tuple(elements), left, right)

    def literal(self, lit: AST) -> BodyItem:
        if lit.ast_type == ast.ASTType.ConditionalLiteral:
            raise self.fail(lit, "conditional literals (:) are not supported by the SQL compiler")
        if lit.ast_type != ast.ASTType.Literal:
            raise self.fail(lit, f"{lit.ast_type.name} is not supported by the SQL compiler")
        if lit.sign == ast.Sign.DoubleNegation:
            raise self.fail(lit, "double negation is not supported by the SQL compiler")
        a = lit.atom
        if a.ast_type == ast.ASTType.BodyAggregate:
            return self.aggregate(lit, a)
        if a.ast_type == ast.ASTType.Comparison:
            if lit.sign != ast.Sign.NoSign:
                raise self.fail(lit, "a negated comparison is not supported by the SQL compiler")
            if len(a.guards) != 1:
                raise self.fail(lit, "chained comparisons are not supported by the SQL compiler")
            g = a.guards[0]
            return Cmp(COMPARISON[g.comparison], self.term(a.term), self.term(g.term))
        if a.ast_type == ast.ASTType.BooleanConstant:
            raise self.fail(lit, "#true/#false are not supported by the SQL compiler")
        return Lit(self.atom(a), lit.sign == ast.Sign.Negation)

    def rule(self, r: AST) -> Rule:
        head = r.head
        if head.ast_type != ast.ASTType.Literal or head.sign != ast.Sign.NoSign:
            kind = head.ast_type.name
            if head.ast_type == ast.ASTType.Literal:
                kind = "integrity constraint or negated head"
            raise self.fail(r, f"{kind} is not supported by the SQL compiler (only normal rules)")
        if head.atom.ast_type == ast.ASTType.BooleanConstant:
            raise self.fail(r, "integrity constraints are not supported by the SQL compiler")
        body = tuple(self.literal(b) for b in r.body)
        return Rule(self.atom(head.atom), body, self.file, r.location.begin.line)


@dataclass
class Source:
    """The rules of a policy, as the compiler reads them."""

    rules: list[Rule]
    #: predicates declared ``#defined`` (inputs)
    defined: set[tuple[str, int]]


def read_rules(files: Sequence[Path], root: Path, extra: Sequence[tuple[str, AST]] = ()) -> Source:
    """Parse the rule files into the compiler's fragment.

    Args:
        files: The rule files, in order.
        root: The policy directory (rules are named by their file relative to it).
        extra: Rules to compile after the files', each with the file it is reported at: the ``_fired``
            recording rules of the one-liners (:mod:`fuchi.explanation.lines`), built from the policy's own.

    Raises:
        CompileError: A statement outside the fragment, with its file and line.
        PolicyError: A file does not parse (no engine can run it).

    """
    statements: list[tuple[str, AST]] = []
    for f in files:
        rel = f.relative_to(root).as_posix() if f.is_relative_to(root) else str(f)

        def add(stm: AST, rel: str = rel) -> None:
            statements.append((rel, stm))

        parse_rule_files([str(f)], add)  # a syntax error is a policy error, not a fallback to clingo
    statements.extend(extra)
    constants: dict[str, Term] = {}
    for rel, s in statements:
        if s.ast_type == ast.ASTType.Definition:
            constants[s.name] = _Reader(rel, constants).term(s.value)
    rules: list[Rule] = []
    defined: set[tuple[str, int]] = set()
    for rel, s in statements:
        k = s.ast_type
        reader = _Reader(rel, constants)
        if k == ast.ASTType.Rule:
            rules.append(reader.rule(s))
        elif k == ast.ASTType.Defined:
            defined.add((s.name, s.arity))
        elif k in (ast.ASTType.Definition, ast.ASTType.ShowSignature, ast.ASTType.Comment):
            continue
        elif k == ast.ASTType.Program:
            if s.name != "base" or s.parameters:
                raise reader.fail(s, f"#program {s.name} is not supported by the SQL compiler")
        else:
            raise reader.fail(s, f"{k.name} statements are not supported by the SQL compiler")
    return Source(rules, defined)

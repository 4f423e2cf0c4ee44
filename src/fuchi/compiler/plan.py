"""Compile a stratified policy to a SQL plan: one table per predicate variant, in dependency order.

For every predicate (in topological order of the predicate dependency graph; recursion is outside the
fragment) and every rule defining it, the rule is compiled once per combination of the variants of its
positive body literals that can match (:mod:`fuchi.compiler.shapes`). Each compiled rule is a ``SELECT``
whose columns are the leaves of the head; the rules giving the same head variant are combined with
``UNION`` (set semantics, as in the answer set). Negated literals become ``NOT EXISTS``; comparisons of
terms follow clingo's term order (static between shapes, leaf by leaf within a shape); aggregates are
grouped sub-queries over the distinct element tuples (clingo's set semantics); ``@function`` calls are the
exact macros of :mod:`fuchi.compiler.functions`.

Constants of the rules (strings, constant names) are bound parameters of each statement (``$1``…); only
integers written in the rules and identifiers made by the compiler appear in the SQL text.
"""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

from .dialect import DUCKDB, Dialect
from .errors import CompileError
from .functions import FUNCTIONS
from .program import FLIP, Agg, Atom, BinOp, Call, Cmp, Func, Lit, Neg, Num, Rule, Str, Term, Var
from .shapes import (
    DECIMAL,
    INF,
    INT,
    MONEY,
    STR,
    SUP,
    SYM,
    Fun,
    Leaf,
    Shape,
    Special,
    leaves,
    split,
    static_order,
    width,
)

Signature = tuple[str, int]
_TABLE_NAME = re.compile(r"\bp_[a-z0-9_]+_v\d+\b")
_LOWER = re.compile(r"[a-z][a-z0-9_]*")


@dataclass(frozen=True)
class Table:
    """One variant of a predicate: the argument shapes and the SQL table holding its tuples."""

    signature: Signature
    shapes: tuple[Shape, ...]
    name: str

    @property
    def columns(self) -> list[str]:
        """``c0, c1, …`` one per leaf."""
        return _columns(self.shapes)

    @property
    def leaf_types(self) -> list[Leaf]:
        """The leaf of each column."""
        out: list[Leaf] = []
        for s in self.shapes:
            out.extend(leaves(s))
        return out

    def describe(self) -> str:
        """``name(shape, …)``."""
        return f"{self.signature[0]}({', '.join(str(s) for s in self.shapes)})"


@functools.lru_cache(maxsize=4096)
def _columns(shapes: tuple[Shape, ...]) -> list[str]:
    return [f"c{i}" for i in range(sum(width(s) for s in shapes))]


@dataclass(frozen=True)
class Select:
    """One compiled rule instance: its rule, its SELECT, and the tables it joins (empty one: no rows)."""

    rule: Rule
    sql: str
    requires: frozenset[str]


@dataclass
class Statement:
    """``CREATE TABLE`` of one predicate variant from the rules that derive it."""

    table: Table
    selects: list[Select]
    params: list[object]
    dialect: Dialect = DUCKDB
    #: finalized text per choice of SELECTs (the engine finalizes every statement for every batch)
    _done: dict[tuple[int, ...], tuple[str | None, list[object]]] = field(default_factory=dict, repr=False)

    def finalize(
        self, label: Callable[[Rule], str] | None = None, empty: set[str] | frozenset[str] = frozenset()
    ) -> tuple[str, list[object]]:
        """The statement to run and its parameters (numbered in order of first use, unused ones dropped).

        Args:
            label: Gives a comment line put above each rule's SELECT (``fuchi compile``).
            empty: Tables known to have no rows: a SELECT joining one of them is left out (it has no rows
                either); with none left the statement creates the empty table directly.
        """
        query, params = self.query(label, empty)
        if query is None:
            return self.dialect.create_empty(self.table.name, self.column_types()), []
        return self.dialect.create(self.table.name, query), params

    def column_types(self) -> list[tuple[str, str]]:
        """(column, dialect type) of each column of the table."""
        return [
            (c, self.dialect.type_of(leaf)) for c, leaf in zip(self.table.columns, self.table.leaf_types, strict=True)
        ]

    def query(
        self, label: Callable[[Rule], str] | None = None, empty: set[str] | frozenset[str] = frozenset()
    ) -> tuple[str | None, list[object]]:
        """The query giving the table's rows and its parameters, as :meth:`finalize`; None: no rows."""
        chosen = tuple(k for k, x in enumerate(self.selects) if not (x.requires & empty))
        if label is None and chosen in self._done:
            return self._done[chosen]
        selects = [self.selects[k] for k in chosen]
        if not selects:
            return None, []
        if label is None:
            body = "\nUNION\n".join(x.sql for x in selects)
        else:
            body = "\nUNION\n".join(f"-- {label(x.rule)}\n{x.sql}" for x in selects)
        mapping: dict[int, int] = {}
        params: list[object] = []

        def renum(m: re.Match[str]) -> str:
            old = int(m.group(1))
            if old not in mapping:
                mapping[old] = len(params) + 1
                params.append(self.params[old - 1])
            return f"${mapping[old]}"

        text = re.sub(r"\$(\d+)", renum, body)
        if len(selects) == 1:  # UNION removes duplicates; a single SELECT needs DISTINCT (set semantics)
            text = f"SELECT DISTINCT * FROM ({text})"
        done: tuple[str | None, list[object]] = (self.dialect.markers(text), params)
        if label is None:
            self._done[chosen] = done
        return done


@dataclass
class Plan:
    """A compiled policy."""

    inputs: dict[Signature, list[Table]]
    statements: list[Statement]
    variants: dict[Signature, list[Table]]
    dialect: Dialect = DUCKDB
    rule_ids: dict[tuple[str, int], str] = field(default_factory=dict)
    #: every predicate some rule body reads (facts of other predicates are ignored, as clingo ignores them)
    reads: set[Signature] = field(default_factory=set)
    #: (rule, text) of comparisons between unlike numbers (money, decimal, integer): clingo decides them by
    #: the kind of term, not by value (``fuchi check`` reports them as errors)
    kind_mismatches: list[tuple[Rule, str]] = field(default_factory=list)
    _drops: dict[frozenset[str], dict[int, list[str]]] = field(default_factory=dict, repr=False)

    def tables(self, signature: Signature) -> list[Table]:
        """Every variant of a predicate (empty when nothing can derive it)."""
        return self.variants.get(signature, [])

    def drops(self, keep: set[str]) -> dict[int, list[str]]:
        """For each statement (by position), the tables no later statement reads, except ``keep``.

        The engine drops them as soon as it can: DuckDB gives every table whole blocks, and a plan has a
        table per predicate variant.
        """
        key = frozenset(keep)
        hit = self._drops.get(key)
        if hit is None:
            last: dict[str, int] = {}
            for k, st in enumerate(self.statements):
                for x in st.selects:
                    for name in _TABLE_NAME.findall(x.sql):
                        last[name] = k
            hit = {}
            for name, k in sorted(last.items()):
                if name not in keep:
                    hit.setdefault(k, []).append(name)
            self._drops[key] = hit
        return hit


# ---- query state -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Value:
    """A term's shape and the SQL expression of each of its leaves."""

    shape: Shape
    cols: tuple[str, ...]


@dataclass
class State:
    """A partially compiled rule body: CTEs so far, the current FROM/WHERE, and the variable bindings."""

    ctes: list[tuple[str, str]]
    froms: list[str]
    where: list[str]
    env: dict[str, Value]
    params: list[object]
    counter: list[int]
    dialect: Dialect = DUCKDB

    def fork(self) -> State:
        return State(
            list(self.ctes), list(self.froms), list(self.where), dict(self.env), self.params, self.counter, self.dialect
        )

    def fresh(self, prefix: str) -> str:
        self.counter[0] += 1
        return f"{prefix}{self.counter[0]}"

    def param(self, value: object) -> str:
        self.params.append(value)
        return self.dialect.param(len(self.params))

    def select_text(self, columns: Sequence[tuple[str, str]]) -> str:
        cols = ", ".join(f"{e} AS {n}" for e, n in columns) if columns else "1 AS one"
        text = f"SELECT {cols}"
        if self.froms:
            text += " FROM " + ", ".join(self.froms)
        if self.where:
            text += " WHERE " + " AND ".join(self.where)
        return text

    def layer(self, extra: Sequence[tuple[str, str]] = ()) -> None:
        """Materialise the bindings (plus ``extra`` named expressions) as a CTE and continue from it."""
        name = self.fresh("q")
        columns: list[tuple[str, str]] = []
        newenv: dict[str, Value] = {}
        for var, v in self.env.items():
            names = []
            for col in v.cols:
                n = self.fresh("v")
                columns.append((col, n))
                names.append(f"{name}.{n}")
            newenv[var] = Value(v.shape, tuple(names))
        columns.extend(extra)
        self.ctes.append((name, self.select_text(columns)))
        self.froms = [name]
        self.where = []
        self.env = newenv


def _vars(t: Term | Atom | Lit | Cmp | Agg) -> set[str]:
    if isinstance(t, Var):
        return set() if t.name == "_" else {t.name}
    if isinstance(t, Num | Str):
        return set()
    if isinstance(t, Func | Call | Atom):
        out: set[str] = set()
        for a in t.args:
            out |= _vars(a)
        return out
    if isinstance(t, BinOp):
        return _vars(t.left) | _vars(t.right)
    if isinstance(t, Neg):
        return _vars(t.arg)
    if isinstance(t, Lit):
        return _vars(t.atom)
    if isinstance(t, Cmp):
        return _vars(t.left) | _vars(t.right)
    out = set()
    for el in t.elements:
        for x in el.terms:
            out |= _vars(x)
        for c in el.condition:
            out |= _vars(c)
    for g in (t.left, t.right):
        if g is not None:
            out |= _vars(g[1])
    return out


def _eq(a: Sequence[str], b: Sequence[str]) -> list[str]:
    return [f"{x} = {y}" for x, y in zip(a, b, strict=True)]


class _NoMatch(Exception):
    """A combination of variants that can never match (the rule instance has no tuples)."""


def _lex(left: Value, right: Value, param: Callable[[object], str] | None = None) -> list[tuple[str, str] | int]:
    """Pairs of leaf expressions to compare left to right, ending with a static outcome when shapes differ."""
    out: list[tuple[str, str] | int] = []

    def walk(a: Shape, acols: Sequence[str], b: Shape, bcols: Sequence[str]) -> bool:
        order = static_order(a, b)
        if order is not None:
            out.append(order)
            return False
        if isinstance(a, Leaf) and isinstance(b, Leaf):
            out.append((acols[0], bcols[0]))
            return True
        if isinstance(a, Leaf) or isinstance(b, Leaf):  # a constant column against a named constant
            named = b if isinstance(a, Leaf) else a
            assert isinstance(named, Fun) and param is not None
            lit = param(named.name)
            out.append((acols[0], lit) if isinstance(a, Leaf) else (lit, bcols[0]))
            return True
        if isinstance(a, Special):
            return True
        assert isinstance(a, Fun) and isinstance(b, Fun)
        for (sa, ca), (sb, cb) in zip(
            zip(a.args, split(a, acols), strict=True), zip(b.args, split(b, bcols), strict=True), strict=True
        ):
            if not walk(sa, ca, sb, cb):
                return False
        return True

    walk(left.shape, left.cols, right.shape, right.cols)
    return out


def compare(op: str, left: Value, right: Value, param: Callable[[object], str] | None = None) -> str | bool:
    """SQL for ``left op right`` in clingo's term order, or a static truth value."""
    seq = _lex(left, right, param)
    if op in ("=", "!="):
        if seq and isinstance(seq[-1], int):
            return op == "!="
        pairs = [p for p in seq if not isinstance(p, int)]
        if not pairs:
            return op == "="
        eq = " AND ".join(f"{a} = {b}" for a, b in pairs)
        return f"({eq})" if op == "=" else f"NOT ({eq})"
    strict = op in ("<", ">")
    less = op in ("<", "<=")

    def build(i: int) -> str | bool:
        if i == len(seq):
            return not strict  # all equal
        item = seq[i]
        if isinstance(item, int):
            return (item < 0) == less
        a, b = item
        rest = build(i + 1)
        head = f"{a} {'<' if less else '>'} {b}"
        if rest is False:
            return head
        if rest is True:
            return f"{a} {'<=' if less else '>='} {b}"
        return f"({head} OR ({a} = {b} AND {rest}))"

    return build(0)


class Compiler:
    """Compiles the rules of one policy against the input variants."""

    def __init__(
        self, rules: Sequence[Rule], inputs: dict[Signature, list[tuple[Shape, ...]]], dialect: Dialect = DUCKDB
    ) -> None:
        self.rules = list(rules)
        self.dialect = dialect
        self.variants: dict[Signature, list[Table]] = {}
        self._idents: dict[Signature, int] = {}
        self.inputs: dict[Signature, list[Table]] = {}
        for sig, shape_list in inputs.items():
            for shapes in shape_list:
                t = self._table(sig, shapes)
                self.inputs.setdefault(sig, []).append(t)
        self.statements: list[Statement] = []
        self.kind_mismatches: dict[tuple[str, int], tuple[Rule, str]] = {}

    def _ident(self, sig: Signature) -> str:
        """The predicate's part of its table names.

        The name itself when it is lower-case (SQL identifiers ignore case, so ``fooBar`` and ``foobar``
        would meet), else a number no predicate name can start with.
        """
        if _LOWER.fullmatch(sig[0]):
            return sig[0]
        n = self._idents.setdefault(sig, len(self._idents))
        return f"0{n}"

    def _table(self, sig: Signature, shapes: tuple[Shape, ...]) -> Table:
        for t in self.variants.get(sig, []):
            if t.shapes == shapes:
                return t
        n = len(self.variants.get(sig, []))
        t = Table(sig, shapes, f"p_{self._ident(sig)}_{sig[1]}_v{n}")
        self.variants.setdefault(sig, []).append(t)
        return t

    # ---- order --------------------------------------------------------------------------------------

    def order(self) -> list[Signature]:
        """The derived predicates in dependency order (raises CompileError on recursion)."""
        by_head: dict[Signature, list[Rule]] = {}
        for r in self.rules:
            by_head.setdefault(r.head.signature, []).append(r)
        for sig, rs in by_head.items():
            if sig in self.inputs:
                raise CompileError(
                    f"a rule derives the input predicate {sig[0]}/{sig[1]}; the SQL compiler keeps inputs as given",
                    rs[0].file,
                    rs[0].line,
                )
        deps = {sig: {x for r in rs for x in r.reads() if x in by_head} for sig, rs in by_head.items()}
        done: list[Signature] = []
        state: dict[Signature, int] = {}

        def visit(sig: Signature, path: list[Signature]) -> None:
            if state.get(sig) == 2:
                return
            if state.get(sig) == 1:
                cycle = path[path.index(sig) :]
                members = set(cycle)
                # the rule that closes the cycle: one of sig's rules whose body reads a predicate of it
                r = next((x for x in by_head[sig] if x.reads() & members), by_head[sig][0])
                names = " → ".join(f"{s[0]}/{s[1]}" for s in [*cycle, sig])
                raise CompileError(
                    f"recursive predicates ({names}) are not supported by the SQL compiler", r.file, r.line
                )
            state[sig] = 1
            for d in sorted(deps[sig]):
                visit(d, [*path, sig])
            state[sig] = 2
            done.append(sig)

        for sig in by_head:  # rule order: the plan reads like the rule files
            visit(sig, [])
        self.by_head = by_head
        return done

    def compile(self) -> Plan:
        """Compile every rule; return the plan."""
        for sig in self.order():
            grouped: dict[tuple[Shape, ...], Statement] = {}
            for rule in self.by_head[sig]:
                for shapes, select, params, requires in self.rule(rule):
                    st = grouped.get(shapes)
                    if st is None:
                        st = grouped[shapes] = Statement(self._table(sig, shapes), [], [], self.dialect)
                    # renumber this select's parameters after those already in the statement
                    st.selects.append(Select(rule, _renumber(select, len(st.params)), requires))
                    st.params.extend(params)
            for shapes in sorted(grouped, key=lambda s: self._table(sig, s).name):
                self.statements.append(grouped[shapes])
        reads: set[Signature] = set()
        for r in self.rules:
            reads |= r.reads()
        return Plan(
            self.inputs,
            self.statements,
            self.variants,
            self.dialect,
            reads=reads,
            kind_mismatches=list(self.kind_mismatches.values()),
        )

    # ---- one rule -----------------------------------------------------------------------------------

    def rule(self, rule: Rule) -> Iterator[tuple[tuple[Shape, ...], str, list[object], frozenset[str]]]:
        """Each instance of a rule: (head shapes, SELECT, its parameters, the tables it joins)."""
        positives = [b for b in rule.body if isinstance(b, Lit) and not b.negated]
        others = [b for b in rule.body if not (isinstance(b, Lit) and not b.negated)]

        def combos(
            k: int, st: State, pending: list[Cmp], used: tuple[str, ...]
        ) -> Iterator[tuple[State, list[Cmp], tuple[str, ...]]]:
            """Variants of positive literal k onward that can match, given the bindings so far (pruned early)."""
            if k == len(positives):
                yield st, pending, used
                return
            lit = positives[k]
            for table in self.variants.get(lit.atom.signature, []):
                nxt = st.fork()
                more = list(pending)
                alias = nxt.fresh("t")
                nxt.froms.append(f"{table.name} AS {alias}")
                cols = [f"{alias}.{c}" for c in table.columns]
                at = 0
                try:
                    for arg, shape in zip(lit.atom.args, table.shapes, strict=True):
                        w = width(shape)
                        self.match(nxt, arg, shape, cols[at : at + w], more, rule)
                        at += w
                except _NoMatch:
                    continue
                yield from combos(k + 1, nxt, more, (*used, table.name))

        for st, pending, used in combos(0, State([], [], [], {}, [], [0], self.dialect), [], ()):
            st.params = list(st.params)  # each combination numbers its own parameters
            requires = frozenset(used)
            for shapes, select, params in self.finish(st, rule, [*pending, *others]):
                yield shapes, select, params, requires

    def match(self, st: State, t: Term, shape: Shape, cols: Sequence[str], pending: list[Cmp], rule: Rule) -> None:
        """Unify a positive literal's argument with a column group (binds variables, adds equalities)."""
        if isinstance(t, Var):
            if t.name == "_":
                return
            bound = st.env.get(t.name)
            if bound is None:
                st.env[t.name] = Value(shape, tuple(cols))
                return
            if bound.shape != shape:
                raise _NoMatch
            st.where.extend(_eq(bound.cols, cols))
            return
        if isinstance(t, Num):
            if shape != INT:
                raise _NoMatch
            st.where.append(f"{cols[0]} = {int(t.value)}")
            return
        if isinstance(t, Str):
            if shape != STR:
                raise _NoMatch
            st.where.append(f"{cols[0]} = {st.param(t.value)}")
            return
        if isinstance(t, Func):
            if not t.args:
                if isinstance(shape, Fun) and not shape.args:
                    if shape.name != t.name:
                        raise _NoMatch
                    return
                if shape != SYM:
                    raise _NoMatch
                st.where.append(f"{cols[0]} = {st.param(t.name)}")
                return
            if not isinstance(shape, Fun) or shape.name != t.name or len(shape.args) != len(t.args):
                raise _NoMatch
            for a, s, c in zip(t.args, shape.args, split(shape, cols), strict=True):
                self.match(st, a, s, c, pending, rule)
            return
        # arithmetic or a call: compare once its variables are bound
        hidden = f"%{st.fresh('h')}"
        st.env[hidden] = Value(shape, tuple(cols))
        pending.append(Cmp("=", Var(hidden), t))

    def finish(
        self, st: State, rule: Rule, items: list[Cmp | Lit | Agg]
    ) -> Iterator[tuple[tuple[Shape, ...], str, list[object]]]:
        """Place the remaining body items once their variables are bound (forking on aggregates)."""
        if not items:
            yield self.head(st, rule)
            return
        for i, item in enumerate(items):
            if self.ready(st, item, rule, items):
                rest = items[:i] + items[i + 1 :]
                try:
                    for nxt in self.place(st, item, rule):
                        yield from self.finish(nxt, rule, rest)
                except _NoMatch:
                    pass
                return
        unbound = sorted(set().union(*(_vars(x) for x in items)) - set(st.env))
        raise CompileError(
            f"unsafe variables {', '.join(unbound)} (no positive literal binds them)", rule.file, rule.line
        )

    def ready(self, st: State, item: Cmp | Lit | Agg, rule: Rule, items: Sequence[Cmp | Lit | Agg]) -> bool:
        """Tell whether a body item can be placed now (the variables it needs are bound)."""
        bound = set(st.env)
        if isinstance(item, Cmp):
            if item.op == "=":
                for a, b in ((item.left, item.right), (item.right, item.left)):
                    if isinstance(a, Var) and a.name != "_" and a.name not in bound and _vars(b) <= bound:
                        return True
            return _vars(item) <= bound
        if isinstance(item, Lit):
            return _vars(item) <= bound
        target = self._agg_target(item, bound)
        need = self._agg_globals(item, rule) - ({target} if target else set())
        return need <= bound

    def _agg_target(self, agg: Agg, bound: set[str]) -> str | None:
        for g in (agg.left, agg.right):
            if g is not None and g[0] == "=" and isinstance(g[1], Var) and g[1].name not in bound:
                return g[1].name
        return None

    def _agg_globals(self, agg: Agg, rule: Rule) -> set[str]:
        inside: set[str] = set()
        for el in agg.elements:
            for x in el.terms:
                inside |= _vars(x)
            for c in el.condition:
                inside |= _vars(c)
        # global: occurring in the head, in a body item other than an aggregate, or in a guard; variables
        # that occur only inside aggregate elements are local to each element (as in clingo)
        outside = _vars(rule.head)
        for b in rule.body:
            if isinstance(b, Agg):
                for g in (b.left, b.right):
                    if g is not None:
                        outside |= _vars(g[1])
            else:
                outside |= _vars(b)
        guards: set[str] = set()
        for g in (agg.left, agg.right):
            if g is not None:
                guards |= _vars(g[1])
        return (inside & outside) | guards

    def place(self, st: State, item: Cmp | Lit | Agg, rule: Rule) -> Iterator[State]:
        """Add a body item to the query (aggregates may fork it)."""
        if isinstance(item, Cmp):
            yield self.comparison(st.fork(), item, rule)
        elif isinstance(item, Lit):
            s = st.fork()
            s.where.extend(self.negation(s, item, rule))
            yield s
        else:
            yield from self.aggregate(st, item, rule)

    # ---- terms ---------------------------------------------------------------------------------------

    def value(self, st: State, t: Term, rule: Rule) -> Value:
        """The value of a term whose variables are bound (may add a layer for ``@function`` calls)."""
        if isinstance(t, Var):
            v = st.env.get(t.name)
            if v is None:
                raise CompileError(f"unsafe variable {t.name}", rule.file, rule.line)
            return v
        if isinstance(t, Num):
            return Value(INT, (str(int(t.value)),))
        if isinstance(t, Str):
            return Value(STR, (st.param(t.value),))
        if isinstance(t, Func):
            if not t.args:
                return Value(SYM, (st.param(t.name),))
            vals = [self.value(st, a, rule) for a in t.args]
            return Value(Fun(t.name, tuple(v.shape for v in vals)), tuple(c for v in vals for c in v.cols))
        if isinstance(t, BinOp | Neg):
            return Value(INT, (self.arith(st, t, rule),))
        assert isinstance(t, Call)
        fn = FUNCTIONS.get(t.name)
        if fn is None:
            known = ", ".join(f"@{n}" for n in sorted(FUNCTIONS))
            raise CompileError(f"unknown function @{t.name} (known: {known}) / 未知函数", rule.file, rule.line)
        args = [self.bind_calls(st, a, rule) for a in t.args]
        vals = [self.value(st, a, rule) for a in args]  # after any layer the calls added: current columns
        shapes = tuple(v.shape for v in vals)
        if shapes != fn.args:
            got = ", ".join(str(s) for s in shapes)
            want = ", ".join(str(s) for s in fn.args)
            raise CompileError(f"@{t.name}({got}): expected @{t.name}({want})", rule.file, rule.line)
        expr, stages, cond = self.dialect.function(t.name, [v.cols for v in vals])
        if cond is not None:
            st.where.append(cond)
        col = st.fresh("f")
        st.layer([(expr, col)])
        for stage in stages:
            prev = f"{st.froms[0]}.{col}"
            col = st.fresh("f")
            st.layer([(stage(prev), col)])
        src = st.froms[0]
        return Value(fn.result, tuple(f"{src}.{col}.l{i}" for i in range(width(fn.result))))

    def arith(self, st: State, t: Term, rule: Rule) -> str:
        """Integer arithmetic in 32-bit INTEGER, whose every operation raises on overflow (Spark: in ANSI mode).

        clingo wraps silently at 32 bits; the SQL engine stops with an error instead (never a wrong number).
        The dialect's integer division (DuckDB ``//``, Spark ``div`` cast back to INTEGER) and ``%`` truncate
        toward zero like clingo's ``/`` and ``\\``; a division by zero is an error in every engine.
        """
        if isinstance(t, BinOp):
            if t.op == "**":
                raise CompileError("** is not supported by the SQL compiler", rule.file, rule.line)
            x, y = self.arith(st, t.left, rule), self.arith(st, t.right, rule)
            if t.op == "/":
                return self.dialect.int_div(x, y)
            sql_op = {"+": "+", "-": "-", "*": "*", "\\": "%"}[t.op]
            return f"({x} {sql_op} {y})"
        if isinstance(t, Neg):
            x = self.arith(st, t.arg, rule)
            return f"(-{x})" if t.op == "-" else f"abs({x})"
        v = self.value(st, t, rule)
        if v.shape != INT:
            raise CompileError(
                f"arithmetic on a non-integer term ({v.shape}); money and decimals need the @functions "
                "(docs/numbers.md)",
                rule.file,
                rule.line,
            )
        return f"CAST({v.cols[0]} AS INTEGER)"

    def bind_calls(self, st: State, t: Term, rule: Rule) -> Term:
        """Compute every ``@function`` call inside ``t`` into a hidden variable; return the call-free term.

        Calls add a layer (a CTE), after which earlier column references are stale: callers compute the
        values of their terms only once every call is bound.
        """
        if isinstance(t, Call):
            hidden = f"%{st.fresh('c')}"
            st.env[hidden] = self.value(st, t, rule)
            return Var(hidden)
        if isinstance(t, Func) and t.args:
            return Func(t.name, tuple(self.bind_calls(st, a, rule) for a in t.args))
        if isinstance(t, BinOp):
            return BinOp(t.op, self.bind_calls(st, t.left, rule), self.bind_calls(st, t.right, rule))
        if isinstance(t, Neg):
            return Neg(t.op, self.bind_calls(st, t.arg, rule))
        return t

    # ---- body items ----------------------------------------------------------------------------------

    def comparison(self, st: State, c: Cmp, rule: Rule) -> State:
        """An assignment ``V = term`` binds V; any other comparison filters (or decides statically)."""
        if c.op == "=":
            for a, b in ((c.left, c.right), (c.right, c.left)):
                if isinstance(a, Var) and a.name != "_" and a.name not in st.env:
                    st.env[a.name] = self.value(st, self.bind_calls(st, b, rule), rule)
                    return st
        lt, rt = self.bind_calls(st, c.left, rule), self.bind_calls(st, c.right, rule)
        left = self.value(st, lt, rule)
        right = self.value(st, rt, rule)
        self._check_kinds(rule, c.op, left.shape, right.shape)
        cond = compare(c.op, left, right, st.param)
        if cond is False:
            raise _NoMatch
        if cond is not True:
            st.where.append(cond)
        return st

    def _check_kinds(self, rule: Rule, op: str, a: Shape, b: Shape) -> None:
        kinds = {MONEY: "money", DECIMAL: "decimal", INT: "integer"}
        ka, kb = kinds.get(a), kinds.get(b)
        if a != b and ka and kb:
            key = (rule.file, rule.line)
            if key not in self.kind_mismatches:
                self.kind_mismatches[key] = (
                    rule,
                    f"comparison {ka} {op} {kb}: clingo orders unlike terms by kind, not "
                    f"by value ({a} {op} {b}) / 比较了不同种类的数",
                )

    def negation(self, st: State, lit: Lit, rule: Rule) -> list[str]:
        """``NOT EXISTS`` over every variant of the negated atom that can match."""
        out = []
        for table in self.variants.get(lit.atom.signature, []):
            sub = State([], [], [], dict(st.env), st.params, st.counter, st.dialect)
            alias = st.fresh("n")
            cols = [f"{alias}.{c}" for c in table.columns]
            pending: list[Cmp] = []
            try:
                at = 0
                for arg, shape in zip(lit.atom.args, table.shapes, strict=True):
                    w = width(shape)
                    self.match(sub, arg, shape, cols[at : at + w], pending, rule)
                    at += w
                for p in pending:  # arithmetic arguments: compare with the column
                    assert isinstance(p.left, Var)
                    col = sub.env[p.left.name]
                    val = self.value_plain(sub, p.right, rule)
                    cond = compare("=", col, val, sub.param)
                    if cond is False:
                        raise _NoMatch
                    if cond is not True:
                        sub.where.append(cond)
            except _NoMatch:
                continue
            new = set(sub.env) - set(st.env)
            if any(not v.startswith("%") for v in new):
                raise CompileError(
                    f"unsafe variables in a negated literal: {', '.join(sorted(new))}", rule.file, rule.line
                )
            where = " AND ".join(sub.where) if sub.where else "TRUE"
            out.append(f"NOT EXISTS (SELECT 1 FROM {table.name} AS {alias} WHERE {where})")
        return out

    def value_plain(self, st: State, t: Term, rule: Rule) -> Value:
        """A term's value without calls (inside NOT EXISTS there is no layer to add)."""
        if _has_call(t):
            raise CompileError("an @function call inside a negated literal is not supported", rule.file, rule.line)
        return self.value(st, t, rule)

    def aggregate(self, st: State, agg: Agg, rule: Rule) -> Iterator[State]:
        """A grouped sub-query over the distinct element tuples, joined back on the global variables."""
        target = self._agg_target(agg, set(st.env))
        globals_ = sorted(self._agg_globals(agg, rule) - ({target} if target else set()))
        base = st.fork()
        base.layer()
        gname = base.froms[0]
        gcols: list[tuple[str, str]] = []
        genv: dict[str, Value] = {}
        for g in globals_:
            v = base.env[g]
            names = []
            for col in v.cols:
                n = col.split(".", 1)[1]
                gcols.append((col, n))
                names.append(n)
            genv[g] = Value(v.shape, tuple(names))
        gkey = [n for _, n in gcols]
        groups = base.fresh("g")
        base.ctes.append(
            (groups, f"SELECT DISTINCT {', '.join(f'{c} AS {n}' for c, n in gcols) or '1 AS one'} FROM {gname}")
        )
        selects: list[str] = []
        tuple_shapes: tuple[Shape, ...] | None = None
        for el in agg.elements:
            positives = [c for c in el.condition if not c.negated]
            negatives = [c for c in el.condition if c.negated]
            for combo in itertools.product(*[self.variants.get(p.atom.signature, []) for p in positives]):
                es = State([], [f"{groups} AS gg"], [], {}, st.params, st.counter, st.dialect)
                for g, v in genv.items():
                    es.env[g] = Value(v.shape, tuple(f"gg.{c}" for c in v.cols))
                pending: list[Cmp] = []
                try:
                    for lit, table in zip(positives, combo, strict=True):
                        alias = es.fresh("t")
                        es.froms.append(f"{table.name} AS {alias}")
                        cols = [f"{alias}.{c}" for c in table.columns]
                        at = 0
                        for arg, shape in zip(lit.atom.args, table.shapes, strict=True):
                            w = width(shape)
                            self.match(es, arg, shape, cols[at : at + w], pending, rule)
                            at += w
                    for p in pending:
                        es = self.comparison(es, p, rule)
                    for lit in negatives:
                        es.where.extend(self.negation(es, lit, rule))
                    vals = [self.value(es, t, rule) for t in el.terms]
                    if es.ctes:
                        raise CompileError(
                            "an @function call in an aggregate element is not supported by the SQL compiler",
                            rule.file,
                            rule.line,
                        )
                except _NoMatch:
                    continue
                shapes = tuple(v.shape for v in vals)
                if tuple_shapes is None:
                    tuple_shapes = shapes
                elif shapes != tuple_shapes:
                    raise CompileError(
                        "aggregate elements with tuples of different shapes are not supported by the SQL compiler",
                        rule.file,
                        rule.line,
                    )
                named: list[tuple[str, str]] = [(f"gg.{n}", n) for n in gkey]
                named += [(c, f"e{i}") for i, c in enumerate(c for v in vals for c in v.cols)]
                selects.append(es.select_text(named))
        fn = agg.function
        if tuple_shapes is not None and fn in ("sum", "min", "max") and not tuple_shapes:
            raise CompileError("an aggregate element needs a weight", rule.file, rule.line)
        if fn == "sum" and tuple_shapes is not None and tuple_shapes[0] != INT:
            raise CompileError(
                f"#sum over a non-integer weight ({tuple_shapes[0]}); sum money with money_sum", rule.file, rule.line
            )
        result = st.fork()
        result.ctes = base.ctes
        result.froms = [gname]
        result.where = []
        result.env = dict(base.env)
        value_name = result.fresh("a")
        if not selects:
            # no element can ever hold: the aggregate is over the empty set
            yield from self._agg_empty(result, agg, fn, value_name, rule)
            return
        elements = result.fresh("e")
        # the distinct element tuples (clingo's set semantics: #sum{A,K : …} adds each (A, K) once)
        union = "\nUNION\n".join(selects)
        result.ctes.append((elements, union if len(selects) > 1 else f"SELECT DISTINCT * FROM ({union})"))
        assert tuple_shapes is not None
        wshape = tuple_shapes[0] if tuple_shapes else INT
        wcols = [f"e{i}" for i in range(width(wshape))]
        key = ", ".join(gkey)
        grouped = result.fresh("r")
        if fn in ("sum", "count"):
            expr = "count(*)" if fn == "count" else "sum(e0)"
            sel = f"SELECT {key + ', ' if key else ''}{expr} AS val FROM {elements}" + (
                f" GROUP BY {key}" if key else ""
            )
            result.ctes.append((grouped, sel))
            on = " AND ".join(f"{gname}.{k} = {grouped}.{k}" for k in gkey) or "TRUE"
            result.froms = [f"{gname} LEFT JOIN {grouped} ON {on}"]
            val = Value(INT, (f"CAST(coalesce({grouped}.val, 0) AS INTEGER)",))  # raises beyond 32 bits
            yield from self._agg_guards(result, agg, val, rule)
            return
        # min / max: a group with elements takes the extreme tuple weight; one without gets #inf / #sup
        func = "max" if fn == "max" else "min"
        if len(wcols) == 1:
            sel_val = f"{func}({wcols[0]}) AS val"
        else:
            sel_val = f"{func}({self.dialect.struct([(f'l{i}', c) for i, c in enumerate(wcols)])}) AS val"
        sel = f"SELECT {key + ', ' if key else ''}{sel_val} FROM {elements}" + (f" GROUP BY {key}" if key else "")
        result.ctes.append((grouped, sel))
        on = " AND ".join(f"{gname}.{k} = {grouped}.{k}" for k in gkey) or "TRUE"
        full = result.fork()
        full.froms = [f"{gname} JOIN {grouped} ON {on}"]
        if len(wcols) == 1:
            val = Value(wshape, (f"{grouped}.val",))
        else:
            val = Value(wshape, tuple(f"{grouped}.val.l{i}" for i in range(len(wcols))))
        try:
            yield from self._agg_guards(full, agg, val, rule)
        except _NoMatch:
            pass
        empty = result.fork()
        empty.froms = [gname]
        empty.where = [f"NOT EXISTS (SELECT 1 FROM {grouped} WHERE {on})"]
        try:
            yield from self._agg_guards(empty, agg, Value(INF if fn == "max" else SUP, ()), rule)
        except _NoMatch:
            pass

    def _agg_empty(self, st: State, agg: Agg, fn: str, name: str, rule: Rule) -> Iterator[State]:
        if fn in ("sum", "count"):
            val = Value(INT, ("0",))
        else:
            val = Value(INF if fn == "max" else SUP, ())
        try:
            yield from self._agg_guards(st, agg, val, rule)
        except _NoMatch:
            return

    def _agg_guards(self, st: State, agg: Agg, val: Value, rule: Rule) -> Iterator[State]:
        guards: list[tuple[str, Term]] = []
        if agg.left is not None:
            guards.append((FLIP[agg.left[0]], agg.left[1]))
        if agg.right is not None:
            guards.append(agg.right)
        for op, term in guards:
            if op == "=" and isinstance(term, Var) and term.name not in st.env:
                st.env[term.name] = val
                continue
            if _has_call(term):
                raise CompileError("an @function call in an aggregate guard is not supported", rule.file, rule.line)
            other = self.value(st, term, rule)
            cond = compare(op, val, other, st.param)
            if cond is False:
                raise _NoMatch
            if cond is not True:
                st.where.append(cond)
        yield st

    # ---- head ----------------------------------------------------------------------------------------

    def head(self, st: State, rule: Rule) -> tuple[tuple[Shape, ...], str, list[object]]:
        """The SELECT of the head's leaves, cast to the column types."""
        args = [self.bind_calls(st, a, rule) for a in rule.head.args]
        vals = [self.value(st, a, rule) for a in args]
        shapes = tuple(v.shape for v in vals)
        cols: list[tuple[str, str]] = []
        types = [self.dialect.type_of(leaf) for s in shapes for leaf in leaves(s)]
        flat = [c for v in vals for c in v.cols]
        for i, (c, ty) in enumerate(zip(flat, types, strict=True)):
            cols.append((f"CAST({c} AS {ty})", f"c{i}"))
        text = _with(st, cols) if st.ctes else st.select_text(cols)
        return shapes, f"SELECT * FROM ({text})" if st.ctes else text, list(st.params)


def _with(st: State, cols: Sequence[tuple[str, str]]) -> str:
    ctes = ",\n  ".join(f"{n} AS ({q})" for n, q in st.ctes)
    return f"WITH {ctes}\n{st.select_text(cols)}"


def _has_call(t: Term) -> bool:
    if isinstance(t, Call):
        return True
    if isinstance(t, Func):
        return any(_has_call(a) for a in t.args)
    if isinstance(t, BinOp):
        return _has_call(t.left) or _has_call(t.right)
    if isinstance(t, Neg):
        return _has_call(t.arg)
    return False


def _renumber(select: str, offset: int) -> str:
    if offset == 0:
        return select
    return re.sub(r"\$(\d+)", lambda m: f"${int(m.group(1)) + offset}", select)


__all__ = ["Compiler", "Plan", "Statement", "Table", "compare"]

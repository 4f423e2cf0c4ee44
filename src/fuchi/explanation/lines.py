"""Fast one-line explanations for ``fuchi evaluate --explain``: recorded bindings per batch, no solve per row.

Each row's line is built from its decision and the rule instance that decided it, found by following the
decision's values down the recorded derivations (:func:`fuchi.explanation.page.decider`), then told by
:func:`fuchi.explanation.page.instance_line`. The bindings are recorded for a whole batch, only for the
rules a walk may look up (:func:`walked`), in one of two ways:

* on the SQL engine, in the same run as the decisions: each such rule I gives a recording rule
  ``_fired_I(I, V1, …, Vm) :- body.`` (:attr:`LineExplainer.recording`), compiled into the plan with the
  policy's rules, and the rows of those tables come back with the outcome
  (:meth:`LineExplainer.lines_recorded`); no second solve;
* on clingo, by one more solve of the batch with the rules rewritten to record their ``_fired`` bindings
  (no ``_reach`` prefixes, no why-not; :meth:`LineExplainer.lines`).

The walk runs on plain Python values, not on clingo symbols (every access to a symbol goes through CFFI):
each recorded binding is read once into nested tuples (:class:`_Reader`), the rules' terms are evaluated
and matched on those values (:func:`_evaluate`, :func:`_match`), and only the deciding instance of a row
is told, with the clingo symbols the solve recorded for it. Where the walk's choice depends on the order of
atoms (the first recorded instance, the first of equally good atoms), ties are put in clingo's order, so
the walk picks what a walk on the symbols picks.

Both record the same bindings of the same rules (the SQL engine's are decoded from their columns into the
same values, :func:`_decoder`), so both engines give the same lines byte for byte; and they are the lines
``fuchi explain`` gives (``RowExplanation.line``), since the walk and the text are the same functions on
the same derivations (tests/test_explain_lines.py checks all three).
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Callable, Sequence
from operator import itemgetter
from typing import Any

import clingo
from clingo import ast
from clingo._internal import _ffi, _lib  # type: ignore[attr-defined]  # one C call per symbol access

from ..compiler.shapes import Leaf, Shape, Special
from ..engines.clingo import Outcome, Recording
from ..engines.collector import paused
from ..errors import PolicyError
from ..inputs.records import City, Company
from ..numbers import LIMB, fen_of, fen_of_limbs, is_money, render_value
from .explain import Explainer
from .instrument import InstrumentedRule, TermError, bind, compiled_term
from .page import Binding, Terms, decider, instance_line, positive_atoms

#: A term as a plain Python value: an ``int`` (number), a ``str`` (string), or a tuple ``(name, *arguments)``
#: (a function; ``""`` names a tuple, a constant has no arguments, a classically negated one's name starts
#: with ``-``; ``#inf`` and ``#sup`` are the two special symbols).
Value = Any
_UNKNOWN = object()
_FUNCTION = _lib.clingo_symbol_type_function
_NUMBER = _lib.clingo_symbol_type_number
_STRING = _lib.clingo_symbol_type_string
_INFIMUM = _lib.clingo_symbol_type_infimum


class LineExplainer:
    """Builds the one-liners of whole batches for one policy.

    Args:
        explainer: The policy's explainer (its parsed rules and rule references are shared).

    """

    def __init__(self, explainer: Explainer) -> None:
        self.ex = explainer
        self.program = dataclasses.replace(explainer.program, reach=False, atoms=False, recorded=walked(explainer))
        self._recording: Recording | None = None
        #: The rules' compiled terms with their constants as values: id of the AST node → (the node, kept so
        #: that its id is not reused; the term)
        self.terms: dict[int, tuple[Any, tuple[Any, ...], Evaluate]] = {}
        self.refs: dict[int, Any] = {}

    def lines(self, companies: Sequence[Company], city: City) -> dict[tuple[str, int, str], str]:
        """The one-liner of every row of a batch, by (enterprise id, data year, item)."""
        if not companies:
            return {}
        symbols = self.ex.engine.model(list(companies), city, program=self.program)
        return self.lines_of_model(symbols, companies)

    def lines_of_model(
        self, symbols: list[clingo.Symbol], companies: Sequence[Company]
    ) -> dict[tuple[str, int, str], str]:
        """The one-liners of a batch from the symbols of its solve with :attr:`program` (as :meth:`lines`)."""
        with paused():
            return self._told(_Batch(self, symbols), companies)

    @property
    def recording(self) -> Recording:
        """The recording rules for the SQL engine: ``_fired_I(I, V1, …, Vm) :- body.`` for each walked rule I.

        Compiled with the policy's rules into the same plan (:meth:`fuchi.engines.sql.SqlEngine.solve`), they
        give the bindings the ``_fired`` solve records, in the same run as the decisions: no second solve.
        """
        if self._recording is None:
            rules: list[tuple[str, Any]] = []
            read = {("decision", 7)}
            for rule in self.ex.program.rules:
                if self.program.recorded is not None and rule.index not in self.program.recorded:
                    continue
                loc = rule.node.location
                args = [ast.SymbolicTerm(loc, clingo.Number(rule.index))]
                args += [ast.Variable(loc, v) for v in rule.variables]
                name = f"_fired_{rule.index}"
                head = ast.Literal(loc, ast.Sign.NoSign, ast.SymbolicAtom(ast.Function(loc, name, args, 0)))
                rules.append((rule.file, ast.Rule(loc, head, list(rule.node.body))))  # as written, as the rule compiles
                read.add((name, len(args)))
            self._recording = Recording("_fired", tuple(rules), frozenset(read))
        return self._recording

    def lines_recorded(self, outcome: Outcome, companies: Sequence[Company]) -> dict[tuple[str, int, str], str]:
        """The one-liners of a batch the SQL engine solved with :attr:`recording` (as :meth:`lines` gives)."""
        with paused():
            return self._lines_recorded(outcome, companies)

    def _lines_recorded(self, outcome: Outcome, companies: Sequence[Company]) -> dict[tuple[str, int, str], str]:
        fired: dict[int, list[tuple[Callable[[Sequence[object]], tuple[Value, ...]], list[tuple[object, ...]]]]] = {}
        decisions: list[Value] = []
        recorded, outcome.recorded = outcome.recorded, {}  # (the rows go as they are decoded)
        for (name, _), variants in recorded.items():
            if name == "decision":
                for shapes, rows in variants:
                    decode = _decoder(shapes)
                    decisions.extend(("decision", *decode(r)) for r in rows)
                continue
            index = int(name.removeprefix("_fired_"))
            fired[index] = [(_decoder(shapes[1:], skip=1), rows) for shapes, rows in variants]
        del recorded
        batch = _Batch(self, [], fired)
        batch.decisions = decisions
        return self._told(batch, companies)

    def _told(self, batch: _Batch, companies: Sequence[Company]) -> dict[tuple[str, int, str], str]:
        text = _Text(self.ex)
        out: dict[tuple[str, int, str], str] = {}
        terms = batch.value_terms()
        for decision in batch.decisions:
            _, company, year, item = decision[:4]
            found = decider(batch, decision, terms)
            if found is None:
                continue
            rule, binding, _ = found
            co = companies[company[1]]
            text.current = co.id
            out[(co.id, year, item)] = instance_line(text, rule, batch.symbols(rule, binding), self.rule_ref)
        return out

    def rule_ref(self, rule: InstrumentedRule) -> Any:
        """The reference to a rule (cached)."""
        hit = self.refs.get(rule.index)
        if hit is None:
            hit = self.refs[rule.index] = self.ex.rule_ref(rule)
        return hit


def walked(ex: Explainer) -> frozenset[int]:
    """The rules whose instances a walk may look up: those deriving a decision or a positive body atom.

    The walk asks for the derivation of a decision and of atoms matching the positive body atoms (aggregate
    conditions included) of the rules it passes; a rule whose head is read only under ``not`` (or nowhere)
    is never asked for, so its bindings need not be recorded.
    """
    wanted = {("decision", 7)}
    for rule in ex.program.rules:
        for pattern in positive_atoms(rule):
            compiled = compiled_term(pattern, ex.program.constants)
            if compiled[0] == "f":
                wanted.add((compiled[1], len(compiled[2])))
    return frozenset(r.index for sig in wanted for r in ex.by_head.get(sig, []))


class _Reader:
    """Reads clingo symbols into :data:`Value` once each (by the symbol's C value: clingo interns symbols)."""

    def __init__(self) -> None:
        self.values: dict[int, Value] = {}
        self._args = _ffi.new("clingo_symbol_t**")
        self._size = _ffi.new("size_t*")
        self._text = _ffi.new("char**")
        self._number = _ffi.new("int*")
        self._flag = _ffi.new("bool*")

    def value(self, rep: int) -> Value:
        """The value of the symbol whose C value is ``rep``."""
        hit = self.values.get(rep)
        if hit is not None:
            return hit
        kind = _lib.clingo_symbol_type(rep)
        out: Value
        if kind == _FUNCTION:
            _lib.clingo_symbol_name(rep, self._text)
            name = _ffi.string(self._text[0]).decode()
            _lib.clingo_symbol_is_positive(rep, self._flag)
            if not self._flag[0]:
                name = "-" + name
            _lib.clingo_symbol_arguments(rep, self._args, self._size)
            args, size = self._args[0], self._size[0]
            items = [name]
            values = self.values
            for i in range(size):
                arg = args[i]
                hit = values.get(arg)
                items.append(self.value(arg) if hit is None else hit)
            out = tuple(items)
        elif kind == _NUMBER:
            _lib.clingo_symbol_number(rep, self._number)
            out = self._number[0]
        elif kind == _STRING:
            _lib.clingo_symbol_string(rep, self._text)
            out = _ffi.string(self._text[0]).decode()
        else:
            out = ("#inf",) if kind == _INFIMUM else ("#sup",)
        self.values[rep] = out
        return out

    def name(self, rep: int) -> Any:
        """The name of a function symbol, as clingo's pointer to it (clingo interns names); None for others."""
        if _lib.clingo_symbol_type(rep) != _FUNCTION:
            return None
        _lib.clingo_symbol_name(rep, self._text)
        return self._text[0]

    def name_of(self, name: str) -> Any:
        """The pointer :meth:`name` gives for a name."""
        _lib.clingo_symbol_name(clingo.Function(name)._rep, self._text)
        return self._text[0]

    def arguments(self, rep: int) -> list[int]:
        """The C values of a function symbol's arguments."""
        _lib.clingo_symbol_arguments(rep, self._args, self._size)
        args = self._args[0]
        return [args[i] for i in range(self._size[0])]


def symbol(value: Value) -> clingo.Symbol:
    """The clingo symbol of a value."""
    if isinstance(value, int):
        return clingo.Number(value)
    if isinstance(value, str):
        return clingo.String(value)
    name = value[0]
    if name == "#inf":
        return clingo.Infimum
    if name == "#sup":
        return clingo.Supremum
    args = [symbol(a) for a in value[1:]]
    return clingo.Function(name[1:], args, False) if name.startswith("-") else clingo.Function(name, args)


class _Unordered(Exception):
    """A value :func:`order_key` does not order (a classically negated term): compare clingo symbols."""


def order_key(value: Value) -> tuple[Any, ...]:
    """A sort key putting values in clingo's order of their symbols, without making the symbols.

    clingo 5.8 orders ``#inf`` < integers < constants (by name) < strings < functions with arguments (by
    arity, then name, then arguments left to right) < ``#sup`` (:mod:`fuchi.compiler.shapes`); names and
    strings compare as their UTF-8 bytes, which is the order of their code points.

    Raises:
        _Unordered: A classically negated term (left to clingo).
    """
    if type(value) is int:
        return (1, value)
    if type(value) is str:
        return (3, value)
    name = value[0]
    if name == "#inf":
        return (0,)
    if name == "#sup":
        return (5,)
    if name.startswith("-"):
        raise _Unordered(name)
    if len(value) == 1:
        return (2, name)
    return (4, len(value) - 1, name, *[order_key(a) for a in value[1:]])


def _decoder(shapes: Sequence[Shape], skip: int = 0) -> Callable[[Sequence[object]], tuple[Value, ...]]:
    """Turns a row of leaf values (a table of the SQL plan) into the values of its arguments.

    Args:
        shapes: The shapes of the arguments read.
        skip: Leading columns not read (the rule index of a ``_fired_I`` row).
    """
    if all(isinstance(sh, Leaf) and sh.kind != "sym" for sh in shapes):
        return (lambda row: tuple(row[skip:])) if skip else tuple
    parts = []
    pos = skip
    for sh in shapes:
        part, pos = _part(sh, pos)
        parts.append(part)

    def decode(row: Sequence[object]) -> tuple[Value, ...]:
        return tuple([part(row) for part in parts])

    return decode


def _part(shape: Shape, pos: int) -> tuple[Callable[[Sequence[object]], Value], int]:
    """The reader of one term from a row, its first leaf at ``pos``; and the position after it."""
    if isinstance(shape, Leaf):
        if shape.kind == "sym":
            return (lambda row: (row[pos],)), pos + 1
        return (lambda row: row[pos]), pos + 1
    if isinstance(shape, Special):
        value: Value = ("#inf",) if shape.which == "inf" else ("#sup",)
        return (lambda row: value), pos
    name = shape.name
    if all(isinstance(a, Leaf) and a.kind != "sym" for a in shape.args):  # money, decimals: flat leaves
        end = pos + len(shape.args)
        return (lambda row: (name, *row[pos:end])), end
    parts = []
    for a in shape.args:
        part, pos = _part(a, pos)
        parts.append(part)
    return (lambda row: (name, *[part(row) for part in parts])), pos


def _arguments(value: Value) -> tuple[Value, ...]:
    return value[1:] if isinstance(value, tuple) else ()


# ---- terms on values (the compiled terms of fuchi.explanation.instrument) ------------------------------------


def _evaluate(t: tuple[Any, ...], binding: dict[str, Value], call: Callable[[str, list[Value]], list[Value]]) -> Value:
    """A compiled term's value under a binding (as ``instrument``'s evaluation, on values)."""
    kind = t[0]
    if kind == "v":
        value = binding.get(t[1])
        if value is None:
            raise TermError(f"unbound variable {t[1]}")
        return value
    if kind == "s":
        return t[1]
    if kind == "f":
        return (t[1], *[_evaluate(a, binding, call) for a in t[2]])
    if kind == "x":
        results = call(t[1], [_evaluate(a, binding, call) for a in t[2]])
        if len(results) != 1:
            raise TermError(f"@{t[1]} has no value for these arguments")
        return results[0]
    if kind == "u":
        v = _evaluate(t[1], binding, call)
        if not isinstance(v, int):
            raise TermError("unary operation on a non-number")
        return -v
    if kind == "b":
        a = _evaluate(t[3], binding, call)
        b = _evaluate(t[4], binding, call)
        if not isinstance(a, int) or not isinstance(b, int):
            raise TermError("arithmetic on a non-number")
        op = t[1]
        if op is None or (b == 0 and t[2]):
            raise TermError("undefined operation")
        value = op(a, b)
        if not -(2**31) <= value < 2**31:  # clingo wrapped it (as instrument's evaluation refuses)
            raise PolicyError(
                "integer arithmetic beyond clingo's 32-bit range (clingo would wrap silently) / 整数超出 32 位范围: "
                f"{a} and {b} give {value}"
            )
        return value
    raise TermError(f"cannot evaluate {t[1]}")


#: A compiled term as a Python function of a binding and the ``@function`` caller (see :func:`_function`).
Evaluate = Callable[[dict[str, Value], Callable[[str, list[Value]], list[Value]]], Value]


def _function(t: tuple[Any, ...]) -> Evaluate:
    """A compiled term as a Python function: the same value as :func:`_evaluate`, the same errors.

    The walk evaluates a few terms hundreds of thousands of times a batch; a function per term does not
    interpret the term's tuples again each time.
    """
    kind = t[0]
    if kind == "v":
        name = t[1]
        unbound = f"unbound variable {name}"

        def variable(binding: dict[str, Value], call: Callable[[str, list[Value]], list[Value]]) -> Value:
            value = binding.get(name)
            if value is None:
                raise TermError(unbound)
            return value

        return variable
    if kind == "s":
        constant = t[1]
        return lambda binding, call: constant
    if kind == "f":
        fname, parts = t[1], [_function(a) for a in t[2]]
        if not parts:
            empty = (fname,)
            return lambda binding, call: empty
        if len(parts) == 1:
            (p0,) = parts
            return lambda binding, call: (fname, p0(binding, call))
        if len(parts) == 2:
            p0, p1 = parts
            return lambda binding, call: (fname, p0(binding, call), p1(binding, call))
        if len(parts) == 3:
            p0, p1, p2 = parts
            return lambda binding, call: (fname, p0(binding, call), p1(binding, call), p2(binding, call))

        def function(binding: dict[str, Value], call: Callable[[str, list[Value]], list[Value]]) -> Value:
            out = [fname]
            for p in parts:
                out.append(p(binding, call))
            return tuple(out)

        return function
    if kind == "x":
        xname, args = t[1], [_function(a) for a in t[2]]
        none = f"@{xname} has no value for these arguments"

        def external(binding: dict[str, Value], call: Callable[[str, list[Value]], list[Value]]) -> Value:
            results = call(xname, [a(binding, call) for a in args])
            if len(results) != 1:
                raise TermError(none)
            return results[0]

        return external
    # arithmetic is rare in the walk: evaluated as written
    return lambda binding, call: _evaluate(t, binding, call)


def _no_call(name: str, args: list[Value]) -> list[Value]:
    return []


def _match(t: tuple[Any, ...], binding: Binding, value: Value) -> dict[str, Value] | None:
    """Unify a compiled pattern with a value, extending ``binding`` (as ``instrument.match``, on values)."""
    out = dict(binding)

    def walk(t: tuple[Any, ...], v: Value) -> bool:
        kind = t[0]
        if kind == "v":
            if t[1] == "_":
                return True
            if t[1] in out:
                return bool(out[t[1]] == v)
            out[t[1]] = v
            return True
        if kind == "f":
            if not isinstance(v, tuple) or v[0] != t[1] or len(v) != len(t[2]) + 1:
                return False
            return all(walk(a, b) for a, b in zip(t[2], v[1:], strict=True))
        try:
            return bool(_evaluate(t, out, _no_call) == v)
        except TermError:
            return False

    return out if walk(t, value) else None


# ---- the batch -------------------------------------------------------------------------------------------


class _Entry:
    """One recorded binding of a rule.

    The C values of its tuple and of the tuple's items (the values of the rule's variables); the values are
    read when the walk first needs them all (:meth:`_Batch.values`).
    """

    __slots__ = ("head", "items", "rep", "values")

    def __init__(self, rep: int | None, items: list[int] | None, values: tuple[Value, ...] | None = None) -> None:
        self.rep = rep
        self.items = items
        self.values = values
        #: The head atom it derives (None: it has none), once :meth:`_Batch._head` has evaluated it.
        self.head: Value = _UNKNOWN


#: (key of a head atom, head constants, key decides, bindings by key): see :meth:`_Batch._plan`
Plan = tuple[Callable[[Sequence[Value]], Any], list[tuple[int, Value]], bool, dict[Any, list[_Entry]]]


def _key(positions: Sequence[int]) -> Callable[[Sequence[Value]], Any]:
    """The values at these positions of a sequence, as one key (a tuple; one position: the value itself)."""
    if not positions:
        return lambda seq: ()
    if len(positions) == 1:
        (only,) = positions
        return lambda seq: seq[only]
    return itemgetter(*positions)


class _Batch:
    """One ``_fired`` solve of a batch, as the :class:`fuchi.explanation.page.Model` of the walk, on values.

    The solve returns only the shown atoms and the ``_fired`` bindings: an atom is known through the rule
    instance that derived it (every atom the walk follows is derived), looked up by the head's variables
    (or its first argument, the enterprise for nearly every predicate).
    """

    def __init__(
        self,
        owner: LineExplainer,
        symbols: list[clingo.Symbol],
        recorded: dict[int, list[tuple[Callable[[Sequence[object]], tuple[Value, ...]], list[tuple[object, ...]]]]]
        | None = None,
    ) -> None:
        self.ex = owner.ex
        self.owner = owner
        self.reader = reader = _Reader()
        self.decisions: list[Value] = []
        #: rule index → C values of the recorded tuples, in the solve's order (read into values when the walk
        #: first looks at the rule: :meth:`entries`)
        self.recorded_by_rule: dict[int, list[int]] = defaultdict(list)
        self.read: dict[int, list[_Entry]] = {}
        fired, decision = reader.name_of("_fired"), reader.name_of("decision")
        for sym in symbols:
            rep = sym._rep
            name = reader.name(rep)
            if name == fired:
                index, values = reader.arguments(rep)
                self.recorded_by_rule[reader.value(index)].append(values)
            elif name == decision:
                self.decisions.append(reader.value(rep))
        #: rule index → (decoder, rows) of the bindings the SQL engine recorded (decoded when first looked at)
        self.rows = recorded or {}
        self.derivations: dict[Value, tuple[InstrumentedRule, Binding] | None] = {}
        #: id of a derivation's binding → its recorded entry (the bindings live in derivations)
        self.recorded: dict[int, _Entry] = {}
        #: rule index → value of the head's first argument → the rule's recorded bindings
        self.by_first: dict[int, dict[Value, list[_Entry]]] = {}
        self.first_pos: dict[int, int] = {}
        self.plans: dict[int, Plan] = {}
        #: (name, arity) → each rule deriving it, with its index (:meth:`derivation`)
        self.rules_by_head: dict[tuple[str, int], list[tuple[InstrumentedRule, int]]] = {}
        #: ids of the lists of bindings by key already in clingo's order (:meth:`derivation` orders them)
        self.ordered: set[int] = set()
        self.calls: dict[tuple[Any, ...], list[Value]] = {}
        self.subterm_sets: dict[Value, frozenset[Value]] = {}
        self.syms: dict[Value, clingo.Symbol] = {}

    def value_terms(self) -> Terms:
        """How the walk reads this batch's values.

        Built for each walk, never kept by the batch: its bound methods would make a cycle, and a batch in a
        cycle outlives its run until the collector traverses its millions of values (about 0.5 s a batch).
        """
        return Terms(
            arguments=_arguments,
            subterms=self.subterms,
            is_number=lambda v: isinstance(v, int),
            positive_money=self._positive_money,
        )

    # ---- values and symbols ----------------------------------------------------------------------------

    def entries(self, rule: InstrumentedRule) -> list[_Entry]:
        """The recorded bindings of a rule, in solve order."""
        hit = self.read.get(rule.index)
        if hit is None and self.rows:
            hit = self.read[rule.index] = [
                _Entry(None, None, decode(r)) for decode, rows in self.rows.pop(rule.index, ()) for r in rows
            ]
        if hit is None:
            items = self.reader.arguments
            hit = self.read[rule.index] = [_Entry(rep, items(rep)) for rep in self.recorded_by_rule.get(rule.index, ())]
        return hit

    def values(self, entry: _Entry) -> tuple[Value, ...]:
        """The values of a recorded binding, in the order of the rule's variables."""
        if entry.values is None:
            assert entry.items is not None
            value, known = self.reader.value, self.reader.values
            entry.values = tuple([known[item] if item in known else value(item) for item in entry.items])
        return entry.values

    def symbol(self, value: Value) -> clingo.Symbol:
        """The clingo symbol of a value (cached)."""
        hit = self.syms.get(value)
        if hit is None:
            hit = self.syms[value] = symbol(value)
        return hit

    def _sorted(self, values: list[Value]) -> list[Value]:
        """Values in clingo's order of their symbols."""
        if len(values) < 2:
            return values
        try:
            return sorted(values, key=order_key)
        except _Unordered:
            return sorted(values, key=self.symbol)

    def symbols(self, rule: InstrumentedRule, binding: Binding) -> dict[str, clingo.Symbol]:
        """The binding of a derivation as the clingo symbols the solve recorded."""
        entry = self.recorded[id(binding)]
        if entry.rep is None:
            return dict(zip(rule.variables, [self.symbol(v) for v in self.values(entry)], strict=True))
        return bind(rule.variables, clingo.Symbol(entry.rep))  # type: ignore[no-untyped-call]

    def subterms(self, value: Value) -> frozenset[Value]:
        """A value and its sub-terms (money and decimal terms whole), as ``page``'s walk reads them."""
        hit = self.subterm_sets.get(value)
        if hit is not None:
            return hit
        out = {value}
        if type(value) is tuple and value[0] not in ("m", "d"):
            for a in value[1:]:
                if type(a) is tuple:
                    out |= self.subterms(a)
                else:  # a number or a string: itself
                    out.add(a)
        hit = self.subterm_sets[value] = frozenset(out)
        return hit

    def _positive_money(self, value: Value) -> bool:
        if not (isinstance(value, tuple) and value[0] == "m"):
            return False
        if len(value) == 4:
            a, b, c = value[1:]
            if type(a) is int and type(b) is int and type(c) is int and a >= 0 and 0 <= b < LIMB and 0 <= c < LIMB:
                return fen_of_limbs(a, b, c) > 0
        sym = self.symbol(value)  # (not a normalised money term: as the symbols' test says)
        return is_money(sym) and fen_of(sym) > 0

    def call(self, name: str, args: list[Value]) -> list[Value]:
        """An ``@function``'s values, on values (cached)."""
        key = (name, *args)
        hit = self.calls.get(key)
        if hit is None:
            results = self.ex.functions.results(name, [self.symbol(a) for a in args])
            hit = self.calls[key] = [self.reader.value(r._rep) for r in results]
        return hit

    def term(self, node: Any) -> tuple[Any, ...]:
        """A term of the rules compiled, its constants as values (cached by the node, kept with it)."""
        return self._compiled(node)[1]

    def function(self, node: Any) -> Evaluate:
        """A term of the rules as a Python function of a binding (:func:`_function`; cached as :meth:`term`)."""
        return self._compiled(node)[2]

    def _compiled(self, node: Any) -> tuple[Any, tuple[Any, ...], Evaluate]:
        hit = self.owner.terms.get(id(node))
        if hit is None or hit[0] is not node:
            term = self._term(compiled_term(node, self.ex.program.constants))
            hit = self.owner.terms[id(node)] = (node, term, _function(term))
        return hit

    def _term(self, t: tuple[Any, ...]) -> tuple[Any, ...]:
        kind = t[0]
        if kind == "s":
            return ("s", self.reader.value(t[1]._rep))
        if kind in ("f", "x"):
            return (kind, t[1], tuple(self._term(a) for a in t[2]))
        if kind == "u":
            return ("u", self._term(t[1]))
        if kind == "b":
            return ("b", t[1], t[2], self._term(t[3]), self._term(t[4]))
        return t

    # ---- the Model of the walk ---------------------------------------------------------------------------

    def _head(self, rule: InstrumentedRule, entry: _Entry) -> Value:
        """The head a recorded binding derives (None: it has no value)."""
        hit = entry.head
        if hit is _UNKNOWN:
            try:
                hit = self.function(rule.head)(dict(zip(rule.variables, self.values(entry), strict=True)), self.call)
            except TermError:
                hit = None
            entry.head = hit
        return hit

    def derivation(self, sym: Value) -> tuple[InstrumentedRule, Binding] | None:
        """The first recorded rule instance deriving an atom (None: not derived, or an input fact)."""
        derivations = self.derivations
        hit = derivations.get(sym, _UNKNOWN)
        if hit is not _UNKNOWN:
            return hit  # type: ignore[return-value]
        found: tuple[InstrumentedRule, Binding] | None = None
        if type(sym) is tuple:
            signature = (sym[0], len(sym) - 1)
            rules = self.rules_by_head.get(signature)
            if rules is None:
                rules = self.rules_by_head[signature] = [
                    (rule, rule.index) for rule in self.ex.by_head.get(signature, ())
                ]
            plans = self.plans
            for rule, number in rules:
                plan = plans.get(number)
                key, consts, exact, index = self._plan(rule) if plan is None else plan
                for i, c in consts:
                    if sym[i] != c:
                        break
                else:
                    lst = index.get(key(sym))
                    if lst is None:
                        continue
                    if len(lst) > 1 and id(lst) not in self.ordered:  # clingo's order, put when first looked up
                        self._order(lst)
                        self.ordered.add(id(lst))
                    for entry in lst:
                        if exact or self._head(rule, entry) == sym:
                            binding = dict(zip(rule.variables, self.values(entry), strict=True))
                            self.recorded[id(binding)] = entry
                            found = (rule, binding)
                            break
                    if found is not None:
                        break
        derivations[sym] = found
        return found

    def _plan(self, rule: InstrumentedRule) -> Plan:
        """How to find a rule's instance for a head.

        Returns:
            The key of a head atom into the recorded bindings (the values at the head's variable positions),
            the head's constants (by position in the atom), whether the key alone decides (no computed
            argument), and the bindings by key (in clingo's order once :meth:`derivation` looks them up).
        """
        hit = self.plans.get(rule.index)
        if hit is not None:
            return hit
        compiled = self.term(rule.head)
        at: list[int] = []  # positions in the atom (its name first)
        of: list[int] = []  # the same variables' positions in a binding
        consts: list[tuple[int, Value]] = []
        exact = compiled[0] == "f"
        for i, arg in enumerate(compiled[2] if compiled[0] == "f" else ()):
            if arg[0] == "v" and arg[1] in rule.variables:
                at.append(i + 1)
                of.append(rule.variables.index(arg[1]))
            elif arg[0] == "s":
                consts.append((i + 1, arg[1]))
            else:
                exact = False
        index: dict[Any, list[_Entry]] = defaultdict(list)
        value, known = self.reader.value, self.reader.values
        of_values, of_items = _key(of), _key(range(len(of)))
        for entry in self.entries(rule):
            if entry.items is None:
                assert entry.values is not None
                index[of_values(entry.values)].append(entry)
                continue
            items = [entry.items[j] for j in of]
            index[of_items([known[item] if item in known else value(item) for item in items])].append(entry)
        plan: Plan = (_key(at), consts, exact, index)
        self.plans[rule.index] = plan
        return plan

    def _order(self, entries: list[_Entry]) -> None:
        """Sort recorded bindings in clingo's order of their tuples (as the solve's symbols compare)."""
        if entries[0].rep is None:
            try:
                entries.sort(key=lambda e: tuple([order_key(v) for v in self.values(e)]))
                return
            except _Unordered:
                pass
        entries.sort(key=self._entry_symbol)

    def _entry_symbol(self, entry: _Entry) -> clingo.Symbol:
        if entry.rep is None:
            return self.symbol(("", *self.values(entry)))
        return clingo.Symbol(entry.rep)  # type: ignore[no-untyped-call]

    def _candidates(self, rule: InstrumentedRule, first: Value) -> list[_Entry]:
        """The recorded bindings of a rule that can give a head with this first argument (None: any)."""
        index = self.by_first.get(rule.index)
        if index is None:
            head = self.term(rule.head)
            args = head[2] if head[0] == "f" else ()
            pos = -1
            if args and args[0][0] == "v" and args[0][1] in rule.variables:
                pos = rule.variables.index(args[0][1])
            index = self.by_first[rule.index] = defaultdict(list)
            value = self.reader.value
            for entry in self.entries(rule):
                if pos < 0:
                    index[None].append(entry)
                elif entry.items is None:
                    index[self.values(entry)[pos]].append(entry)
                else:
                    index[value(entry.items[pos])].append(entry)
            self.first_pos[rule.index] = pos
        if self.first_pos[rule.index] < 0:
            return index.get(None, [])
        return index.get(first, []) if first is not None else [v for lst in index.values() for v in lst]

    def matching(self, pattern: Any, binding: Binding) -> list[Value]:
        """The *derived* atoms matching a pattern (input facts are not recorded by this solve)."""
        compiled = self.term(pattern)
        if compiled[0] != "f":
            return []
        rules = self.ex.by_head.get((compiled[1], len(compiled[2])), [])
        if not rules:
            return []
        try:
            ground = self.function(pattern)(binding, self.call)
            return [ground] if self.derivation(ground) is not None else []
        except TermError:
            pass
        first = None
        if compiled[2]:
            try:
                first = _evaluate(compiled[2][0], binding, self.call)
            except TermError:
                first = None
        found = set()
        for rule in rules:
            for entry in self._candidates(rule, first):
                head = self._head(rule, entry)
                if head is not None and _match(compiled, binding, head) is not None:
                    found.add(head)
        return self._sorted(list(found))


class _Text:
    """The :class:`fuchi.explanation.page.Model` that tells a deciding instance (on clingo symbols)."""

    def __init__(self, ex: Explainer) -> None:
        self.ex = ex
        self.current = ""
        #: C value of a symbol → its text, for the symbols :func:`fuchi.numbers.render_value` shows
        self.shown: dict[int, str] = {}

    @property
    def constants(self) -> dict[str, Any]:
        return self.ex.program.constants

    def call(self, name: str, args: list[clingo.Symbol]) -> list[clingo.Symbol]:
        return self.ex.functions.results(name, args)

    def show(self, sym: clingo.Symbol) -> str:
        rep = sym._rep
        hit = self.shown.get(rep)
        if hit is not None:
            return hit
        if sym.type == clingo.SymbolType.Function:
            name, args = sym.name, sym.arguments
            if name == "c" and len(args) == 1:
                return self.current
            if name not in ("m", "d") and args:
                inner = ", ".join(self.show(a) for a in args)
                return f"{name}({inner})"
        hit = self.shown[rep] = render_value(sym)  # only values that show the same in every row are kept
        return hit

"""The one module that owns ``clingo.Control``: ground the policy on a batch of facts and read the model.

Every Control gets a logger. clingo's messages become :class:`Diagnostic` records with file:line so the
drafter sees them; "operation undefined" (a missing ``@function``, a division by zero) is an error,
because it silently drops a rule instance. The model must be unique (the policy is stratified) and
every touched (enterprise, year, item) must get exactly one decision.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import clingo

from ..errors import PolicyError
from ..explanation.instrument import Program, add_instrumented
from ..inputs import facts as factmod
from ..inputs.records import City, Company
from ..numbers import SIGNATURES, ArithmeticRangeError, Functions, fen_of
from ..policy import Policy, require_parameters
from ..rules import UNDEFINED, Diagnostic, parse_message, parse_rule_files, program_error, relative

STATUSES = (
    "granted",
    "pending_assessment",
    "rejected",
    "not_eligible",
    "needs_data",
    "superseded",
    "disqualified",
    "excluded",
    "out_of_period",
)


class Decision:
    """The outcome of one (enterprise, data year, item).

    Attributes:
        company: The enterprise's position in the batch.
        year: The data year.
        item: The clause id of the item.
        status: One of :data:`STATUSES`.
        amount: Whole yuan.
        payable_year: The year it is paid in, or None when nothing is payable.
        reason: The reason term the policy gave (an engine may hand a function that builds it: it is then
            built the first time it is read).
        text: The reason's (中文, English) texts when the engine rendered them itself (the SQL engine
            renders them in SQL from messages.yaml); None: rendered from ``reason`` by the caller. Not
            compared: two decisions are equal when their terms are.

    """

    __slots__ = ("company", "year", "item", "status", "amount", "payable_year", "_reason", "text")

    def __init__(
        self,
        company: int,
        year: int,
        item: str,
        status: str,
        amount: int,
        payable_year: int | None,
        reason: clingo.Symbol | Callable[[], clingo.Symbol],
        text: tuple[str, str] | None = None,
    ) -> None:
        self.company = company
        self.year = year
        self.item = item
        self.status = status
        self.amount = amount
        self.payable_year = payable_year
        self._reason = reason
        self.text = text

    @property
    def reason(self) -> clingo.Symbol:
        """The reason term."""
        r = self._reason
        if not isinstance(r, clingo.Symbol):
            r = self._reason = r()
        return r

    def _key(self) -> tuple[object, ...]:
        return (self.company, self.year, self.item, self.status, self.amount, self.payable_year, self.reason)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Decision) and self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        fields = ("company", "year", "item", "status", "amount", "payable_year")
        inner = ", ".join(f"{f}={getattr(self, f)!r}" for f in fields)
        return f"Decision({inner}, reason={self.reason!r})"


@dataclass(frozen=True)
class Flag:
    """An ``input_error`` or ``input_warning`` the policy derived about a record field."""

    company: int
    field: clingo.Symbol
    reason: clingo.Symbol


@dataclass
class Outcome:
    """Everything one solve produced."""

    decisions: list[Decision] = field(default_factory=list)
    errors: list[Flag] = field(default_factory=list)
    warnings: list[Flag] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    #: ``flag(C, Kind)`` atoms: (enterprise position, kind), e.g. (3, "credit_platform").
    flags: list[tuple[int, str]] = field(default_factory=list)
    #: With a :class:`Recording` (SQL engine): the rows of the recorded predicates, by signature, each
    #: variant as (argument shapes, rows of leaf values).
    recorded: dict[tuple[str, int], list[tuple[tuple[Any, ...], list[tuple[object, ...]]]]] = field(
        default_factory=dict
    )
    #: With an instrumented program (clingo engine): the symbols of the model.
    model: list[clingo.Symbol] | None = None


@dataclass(frozen=True)
class Recording:
    """Rules compiled and run with the policy's, and the predicates whose rows a solve hands back.

    Attributes:
        key: Names the rules (the compiled plan is cached by it, with the policy and parameters).
        rules: ``clingo.ast`` rules, each with its file relative to the policy directory.
        read: The signatures whose rows go to :attr:`Outcome.recorded`.

    """

    key: str
    rules: tuple[tuple[str, Any], ...]
    read: frozenset[tuple[str, int]]


class Engine:
    """Solves batches of enterprises against one policy.

    Args:
        policy: The loaded policy.

    """

    def __init__(self, policy: Policy) -> None:
        require_parameters(policy)
        self.policy = policy
        self.params = policy.param_symbols()
        self.functions = Functions()

    def model(
        self,
        companies: Sequence[Company],
        city: City,
        *,
        program: Program | None = None,
        params: Sequence[clingo.Symbol] | None = None,
        on_fact: Callable[[clingo.Symbol, str, Company | None], None] | None = None,
        diagnostics: list[Diagnostic] | None = None,
    ) -> list[clingo.Symbol]:
        """Ground and solve the policy on a batch; return the unique answer set.

        The one place a ``clingo.Control`` is made for solving: every caller gets the logger, the typed
        errors and the unique-model check.

        Args:
            companies: The enterprises (numbered c(0), c(1), … in this order).
            city: The city figures.
            program: The instrumented program (explanations, coverage); None: the rule files as they are,
                showing only the outputs.
            params: Parameter facts replacing the policy's (what-if cases).
            on_fact: Called with each input fact, its field path and its enterprise (None for parameters
                and city figures), for explanations that name sources.
            diagnostics: Receives clingo's messages.

        Raises:
            PolicyError: The program does not load or ground, calls an undefined operation, or does not have
                exactly one answer set.
        """
        messages: list[Diagnostic] = [] if diagnostics is None else diagnostics

        def logger(code: clingo.MessageCode, text: str) -> None:
            if code != clingo.MessageCode.GlobalVariable:
                messages.append(parse_message(code, text))

        ctl = clingo.Control(["--models=2"], logger=logger, message_limit=1000)
        try:
            if program is None:
                for rf in self.policy.rule_files:
                    ctl.load(str(rf))
                ctl.add("base", [], "#show touched/3.")
            else:
                add_instrumented(ctl, program)
            with ctl.backend() as backend:
                for sym in self.params if params is None else params:
                    backend.add_rule([backend.add_atom(sym)])
                    if on_fact is not None:
                        on_fact(sym, "", None)
                for c, co in enumerate(companies):

                    def emit(sym: clingo.Symbol, path: str, co: Company = co) -> None:
                        backend.add_rule([backend.add_atom(sym)])
                        if on_fact is not None:
                            on_fact(sym, path, co)

                    factmod.company_facts(c, co, emit, self.policy.schema)

                def emit_city(sym: clingo.Symbol, path: str) -> None:
                    backend.add_rule([backend.add_atom(sym)])
                    if on_fact is not None:
                        on_fact(sym, path, None)

                factmod.city_facts(city, emit_city, self.policy.schema)
            ctl.ground([("base", [])], context=self.functions)
        except ArithmeticRangeError as exc:
            # clingo re-raises a context function's exception as type(exc)(exc): the text may be the original.
            text = exc.text.text if isinstance(exc.text, PolicyError) else exc.text
            raise PolicyError(f"exact arithmetic refused a value / 精确运算拒绝: {text}") from exc
        except RuntimeError as exc:
            raise program_error(messages, exc) from exc
        except (AttributeError, TypeError):  # an @function fuchi lacks, or called with the wrong arity
            check_calls(external_calls([str(rf) for rf in self.policy.rule_files], self.policy.root))
            raise
        errors = [d for d in messages if d.level == "error"]
        if errors:
            raise PolicyError(errors[0].text, errors[0].file, errors[0].line)
        undefined = [d for d in messages if d.code == "AtomUndefined" and d.text.startswith("atom does not occur")]
        if undefined:  # a typo or an undeclared input: the rule silently never fires (`check` calls it an error)
            d = undefined[0]
            raise PolicyError(
                f"{UNDEFINED} {_signature_of(d.text)} (no rule derives it and no input declares it)", d.file, d.line
            )
        models: list[list[clingo.Symbol]] = []
        with ctl.solve(yield_=True) as handle:
            for m in handle:
                models.append(m.symbols(shown=True) if program is None or not program.atoms else m.symbols(atoms=True))
        if len(models) != 1:
            raise PolicyError(
                f"the program has {'no' if not models else 'more than one'} answer set; a policy must be "
                "stratified (exactly one answer set for any data) / 政策程序必须恰有一个回答集"
            )
        return models[0]

    def solve(self, companies: Sequence[Company], city: City, program: Program | None = None) -> Outcome:
        """Solve one batch.

        Args:
            companies: The enterprises; decision.company indexes this sequence.
            city: The city figures.
            program: An instrumented program showing only the outputs and ``_fired`` (the one-liners'
                recording, :mod:`fuchi.explanation.lines`): the same decisions, and the model's symbols in
                :attr:`Outcome.model`, so that rows and one-liners come from one solve.

        Returns:
            The decisions, flagged input problems and clingo diagnostics.

        Raises:
            PolicyError: See :meth:`model`; also a touched item without exactly one decision.
        """
        out = Outcome()
        symbols = self.model(companies, city, program=program, diagnostics=out.diagnostics)
        if program is not None:
            out.model = symbols
        self._read(symbols, out)
        shown = {"flag/2", "decision/7", "input_error/3", "input_warning/3", "touched/3", "_fired/2"}
        out.diagnostics = [d for d in out.diagnostics if not _about_shown(d, shown)]
        return out

    def _read(self, symbols: list[clingo.Symbol], out: Outcome) -> None:
        touched: set[tuple[int, int, str]] = set()
        decisions: list[Decision] = []
        for sym in symbols:
            name = sym.name
            args = sym.arguments
            if name == "decision":
                decisions.append(_decision(args))
            elif name == "touched":
                touched.add((_company(args[0]), args[1].number, args[2].string))
            elif name == "input_error":
                out.errors.append(Flag(_company(args[0]), args[1], args[2]))
            elif name == "input_warning":
                out.warnings.append(Flag(_company(args[0]), args[1], args[2]))
            elif name == "flag" and len(args) == 2:
                out.flags.append((_company(args[0]), str(args[1])))
        complete(self.policy, decisions, touched, out)

    def _item_rank(self, item: str) -> tuple[int, str]:
        return item_rank(self.policy, item)


def item_rank(policy: Policy, item: str) -> tuple[int, str]:
    """Sort key of an item: the policy's item order, then undeclared items by id."""
    try:
        return (policy.items.index(item), item)
    except ValueError:
        return (len(policy.items), item)


def complete(policy: Policy, decisions: Sequence[Decision], touched: set[tuple[int, int, str]], out: Outcome) -> None:
    """Check that every touched (enterprise, year, item) has exactly one decision; put everything in order.

    Shared by the engines: whatever computed the decisions, the outcome is checked and ordered here.

    Raises:
        PolicyError: Two decisions for one item, none for a touched item, or one for an untouched item.
    """
    undeclared = sorted({i for _, _, i in touched} - set(policy.items))
    if undeclared:  # no clause text, label or order for its rows (`check` names the rule)
        raise PolicyError(
            f"规则涉及 policy.yaml 未声明的条款 {undeclared[0]} / the rules touch item {undeclared[0]!r}, "
            "which policy.yaml does not declare (fuchi check names the rule)",
            str(policy.root / "policy.yaml"),
        )
    seen: dict[tuple[int, int, str], Decision] = {}
    twice: list[tuple[tuple[int, int, str], str, str]] = []
    for dec in decisions:
        key = (dec.company, dec.year, dec.item)
        if key in seen:
            twice.append((key, *sorted((seen[key].status, dec.status))))  # type: ignore[arg-type]
        seen[key] = dec
    if twice:  # the first in (enterprise, year, item) order, whatever order the engine returned them in
        (c, y, i), first, second = min(twice)
        raise PolicyError(
            f"two decisions for enterprise #{c}, year {y}, item {i}: {first} and {second} / 同一事项得到两个结论"
        )
    # An input error (e.g. an approved amount above the maximum) leaves its row undecided on purpose:
    # the caller reports the error; completeness is only required of accepted data.
    missing = set() if out.errors else touched - seen.keys()
    if missing:
        c, y, i = sorted(missing)[0]
        raise PolicyError(
            f"no decision for enterprise #{c}, year {y}, item {i} although the data touches it / 数据涉及的事项没有结论"
        )
    extra = seen.keys() - touched
    if extra:
        c, y, i = sorted(extra)[0]
        raise PolicyError(f"a decision for enterprise #{c}, year {y}, item {i} that nothing touches")

    out.decisions = sorted(seen.values(), key=lambda d: (d.company, d.year, item_rank(policy, d.item)))
    out.errors.sort(key=lambda f: (f.company, str(f.field)))
    out.warnings.sort(key=lambda f: (f.company, str(f.field)))
    out.flags.sort()


def _decision(args: Sequence[clingo.Symbol]) -> Decision:
    c, y, i, s, a, p, r = args
    status = s.name
    if status not in STATUSES:
        raise PolicyError(f"unknown status {status!r} in decision {args} / 未知状态")
    try:
        fen = fen_of(a)
    except ArithmeticRangeError as exc:
        raise PolicyError(f"decision amount is not a money term: {exc}") from exc
    if fen % 100:
        raise PolicyError(f"decision amount {a} is not whole yuan (ruling W3) / 金额须为整元")
    payable = p.number if p.type == clingo.SymbolType.Number else None
    return Decision(_company(c), y.number, i.string, status, fen // 100, payable, r)


def _company(sym: clingo.Symbol) -> int:
    """The batch position N of an enterprise term ``c(N)``."""
    n = factmod.COMPANY_INDEX.get(sym)
    if n is not None:
        return n
    if sym.type != clingo.SymbolType.Function or sym.name != "c" or len(sym.arguments) != 1:
        raise PolicyError(f"expected an enterprise term c(N), got {sym}")
    return int(sym.arguments[0].number)


def _about_shown(d: Diagnostic, shown: set[str]) -> bool:
    """Tell whether a diagnostic is clingo's note that a #show signature of ours has no atoms yet.

    clingo emits it when all atoms come from the backend; the signatures are ours, so it is noise.
    """
    if not d.text.startswith("no atoms over signature occur in program"):
        return False
    return d.text.rsplit(":", 1)[-1].strip() in shown


@dataclass(frozen=True)
class Call:
    """One ``@function(...)`` call in a rule file."""

    name: str
    arity: int
    file: str
    line: int


def external_calls(files: Sequence[str], root: Path | None = None) -> list[Call]:
    """Every ``@function`` call in ``files`` (and the files they include), in file order.

    Files are named relative to ``root`` (the policy directory) when given and inside it.

    Raises:
        PolicyError: A file does not parse (at clingo's first error).

    """
    from clingo import ast

    calls: list[Call] = []

    class Visitor(ast.Transformer):
        def visit_Function(self, node: ast.AST) -> ast.AST:  # noqa: N802 - clingo's visitor naming
            if node.external:
                loc = node.location.begin
                calls.append(Call(node.name, len(node.arguments), relative(loc.filename, root), loc.line))
            node.update(**self.visit_children(node))
            return node

    visitor = Visitor()
    parse_rule_files(files, lambda stm: None if visitor(stm) else None, root)
    return calls


def check_calls(calls: Sequence[Call]) -> None:
    """Refuse a call of a function fuchi does not define, or with the wrong number of arguments.

    Raises:
        PolicyError: At the call's file:line.

    """
    known = ", ".join(f"@{n}" for n in sorted(SIGNATURES))
    for c in calls:
        signature = SIGNATURES.get(c.name)
        if signature is None:
            raise PolicyError(f"unknown function @{c.name} (known: {known}) / 未知函数", c.file, c.line)
        if len(signature[0]) != c.arity:
            raise PolicyError(
                f"@{c.name} takes {len(signature[0])} arguments, not {c.arity} / 参数个数不符", c.file, c.line
            )


class TracingFunctions:
    """fuchi's @functions as a clingo context that remembers the call in progress (to locate a refusal)."""

    def __init__(self) -> None:
        self._inner = Functions()
        self.current: tuple[str, int] | None = None

    def __getattr__(self, name: str) -> Callable[..., object]:
        if name.startswith("_") or name not in SIGNATURES:
            raise AttributeError(name)
        method = getattr(self._inner, name)

        def call(*args: clingo.Symbol) -> object:
            self.current = (name, len(args))
            return method(*args)

        return call


def refusal(exc: PolicyError, current: tuple[str, int] | None, calls: Sequence[Call]) -> PolicyError:
    """A refusal of an @function (``exc``) located at its call, when the program calls it at one place.

    clingo re-raises a context function's exception as ``type(exc)(exc)``: the text may be the original error.
    """
    text = exc.text.text if isinstance(exc.text, PolicyError) else exc.text
    sites = [c for c in calls if current is not None and (c.name, c.arity) == current]
    if len(sites) == 1:
        return PolicyError(text, sites[0].file, sites[0].line)
    if sites:
        places = ", ".join(f"{c.file}:{c.line}" for c in sites[:5]) + (" …" if len(sites) > 5 else "")
        return PolicyError(f"{text} (at one of the calls of @{sites[0].name}: {places})")
    return PolicyError(text)


def _signature_of(message: str) -> str:
    """``name/arity`` of the atom in clingo's "atom does not occur in any rule head:\n  name(...)"."""
    atom = message.partition(":")[2].strip()
    try:
        sym = clingo.parse_term(re.sub(r"#Anon\d+|\b[A-Z_]\w*", "x", atom))  # variables → a constant
    except RuntimeError:
        return atom
    return f"{sym.name}/{len(sym.arguments)}" if sym.type == clingo.SymbolType.Function else atom

"""``fuchi check``: is a policy directory well-formed? Findings with file:line:col, severity and a hint.

Checks, in order: the policy files load (metadata, parameters); every rule file parses; the program
grounds (unsafe variables); predicates used in a body but defined nowhere (clingo's "atom does not occur
in any rule head", usually a typo); parameters used in rules but not defined, or defined but unused;
rules without a ``%@ rule/clause`` annotation, clause ids the metadata does not know, duplicate rule
ids; quote fidelity (every 「…」 of a rule comment verbatim in the source text, every clause a rule cites
quoted whole at least once: :mod:`.quotes`); stratification (a static predicate-dependency check:
negation or an aggregate inside a recursive cycle, choice or disjunctive heads); the type checker
(unknown ``@functions`` or wrong arity, and every comparison, join, arithmetic, aggregate, call and head
mixing money, decimals and integers, with kinds flowing from inputs, parameters and signatures through
derived predicates); then warnings on the texts: parameters whose ``text`` states another number than
their value, clauses with a text that no rule cites, reason terms without a zh/en entry in
messages.yaml; then at run time on the policy's own cases: every atom is a fact after grounding and
there is exactly one answer set.
"""

from __future__ import annotations

import difflib
import re
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

import clingo
from clingo import ast

from ..compiler.program import COMPARISON
from ..errors import FuchiError, PolicyError
from ..policy import Policy, load_policy
from ..rules import Diagnostic, parse_message

INPUT_PREDICATES_NOTE = "declare inputs with #defined name/arity. in rules/00-schema.lp"


@dataclass(frozen=True)
class Finding:
    """One problem found in a policy."""

    file: str
    line: int
    column: int
    severity: str  # error | warning
    message: str
    hint: str
    code: str

    def render(self) -> str:
        """Return ``file:line:col: severity: message (hint)``."""
        return f"{self.file}:{self.line}:{self.column}: {self.severity}: {self.message}" + (
            f"\n    提示 hint: {self.hint}" if self.hint else ""
        )


def _rel(path: str, root: Path) -> str:
    try:
        return Path(path).resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return path


def check_policy(path: str | Path) -> list[Finding]:
    """Run every check on a policy directory and return the findings (errors first, then by place)."""
    root = Path(path)
    try:
        policy = load_policy(root)
    except PolicyError as exc:
        return [
            Finding(
                exc.file or str(root),
                exc.line or 1,
                1,
                "error",
                exc.text,
                "fix the file's YAML shape (see docs/drafting.md)",
                "policy-load",
            )
        ]
    findings: list[Finding] = []
    statements = _parse(policy, findings)
    if any(f.severity == "error" for f in findings):
        return _sorted(findings)
    _bounded(_ground, policy, findings)
    if any(f.code in ("unsafe", "ground", "ground-timeout") for f in findings):
        return _sorted(findings)
    _annotations(policy, statements, findings)
    _sentences(policy, statements, findings)
    _uncited_clauses(policy, findings)
    _quotes(policy, findings)
    _parameters(policy, statements, findings)
    _parameter_texts(policy, findings)
    _stratification(policy, statements, findings)
    _functions(policy, statements, findings)
    _number_kinds(policy, statements, findings)
    _literals(statements, findings)
    if not any(f.severity == "error" for f in findings):
        _reasons(policy, statements, findings)  # (the texts officers read: once the rules are sound)
    if not any(f.code in ("not-stratified", "choice-head") for f in findings):
        _sql(policy, findings)  # (an unstratified program is reported once, not also as not compilable)
    if not any(f.severity == "error" for f in findings):
        _bounded(_runtime, policy, findings)
    return _sorted(findings)


def _quotes(policy: Policy, findings: list[Finding]) -> None:
    """Compare the rule comments' 「…」 quotes and the clause texts with the source text (:mod:`.quotes`)."""
    from .quotes import quote_findings

    findings.extend(quote_findings(policy))


#: Seconds a grounding step of check may take (a rule deriving ever new terms never finishes grounding).
GROUND_SECONDS = 120.0


def _bounded(step: Any, policy: Policy, findings: list[Finding]) -> None:
    """Run a grounding step in a child process for at most :data:`GROUND_SECONDS`, and say so if it does not end.

    clingo cannot be interrupted while it grounds, so a policy whose grounding does not terminate (``n(X+1)
    :- n(X).``) made check hang; the child is killed instead and the finding names the policy. Where there
    is no ``fork`` (Windows), the step runs here, unbounded.
    """
    import multiprocessing

    try:
        context = multiprocessing.get_context("fork")
    except ValueError:
        step(policy, findings)
        return
    reader, writer = context.Pipe(duplex=False)

    def child() -> None:
        out: list[Finding] = []
        try:
            step(policy, out)
            writer.send(("ok", out))
        except BaseException as exc:  # (sent to the parent, which raises it there)
            writer.send(("raise", exc))

    proc = context.Process(target=child, daemon=True)
    proc.start()
    writer.close()
    try:
        ready = reader.poll(GROUND_SECONDS)
        outcome = reader.recv() if ready else None
    except EOFError:  # the child died (out of memory …)
        outcome = ("died", None)
    finally:
        if proc.is_alive():
            proc.kill()
        proc.join()
        reader.close()
    if outcome is None or outcome[0] == "died":
        why = f"did not finish within {GROUND_SECONDS:g} s" if outcome is None else "ran out of resources"
        findings.append(
            Finding(
                str(policy.root),
                1,
                1,
                "error",
                f"grounding the rules {why} / 规则实例化未能完成",
                "a rule probably derives new terms without end (e.g. n(X+1) :- n(X).); bound it with a "
                "condition on a finite domain",
                "ground-timeout",
            )
        )
        return
    if outcome[0] == "raise":
        raise outcome[1]
    findings.extend(outcome[1])


def _sql(policy: Policy, findings: list[Finding]) -> None:
    """Check that the policy compiles to SQL and that inputs.yaml agrees with the inputs the rules read.

    A rule the compiler cannot take is a warning at its line (``evaluate`` then runs clingo, more slowly).
    """
    from ..compiler import CompileError, compile_policy
    from ..compiler.inputs import input_shapes
    from ..compiler.program import read_rules

    try:
        source = read_rules(policy.rule_files, policy.root)
        declared = input_shapes(policy)
    except CompileError as exc:
        findings.append(_sql_finding(policy, exc))
        return
    except PolicyError:  # a file that does not parse: reported by the syntax pass, at its column
        return
    heads = {r.head.signature for r in source.rules}
    read: dict[tuple[str, int], tuple[str, int]] = {}
    for r in source.rules:
        for sig in sorted(r.reads()):
            read.setdefault(sig, (r.file, r.line))
    _item_ids(policy, source.rules, findings)
    names = {name: arity for name, arity in declared}
    for sig, (file, line) in sorted(read.items()):
        if sig in heads or sig in declared or sig[0] == "param":
            continue
        if sig[0] in names:
            findings.append(
                Finding(
                    _rel(str(policy.root / file), policy.root),
                    line,
                    1,
                    "error",
                    f"{sig[0]}/{sig[1]} is read with {sig[1]} arguments but inputs.yaml declares {names[sig[0]]}",
                    "make the rule and inputs.yaml agree on the arguments (docs/sql-engine.md)",
                    "inputs",
                )
            )
        elif sig in source.defined:
            findings.append(
                Finding(
                    _rel(str(policy.root / "inputs.yaml"), policy.root),
                    1,
                    1,
                    "warning",
                    f"input predicate {sig[0]}/{sig[1]} (#defined, read at {file}:{line}) is not declared in "
                    "inputs.yaml",
                    f"declare the field whose fact is {sig[0]}(…) in inputs.yaml (docs/drafting.md), or derive it "
                    "by a rule",
                    "inputs",
                )
            )
    for fact, _kinds in policy.schema.facts():
        sig = fact.signature
        if sig in heads:
            findings.append(
                Finding(
                    _rel(str(policy.root / "inputs.yaml"), policy.root),
                    fact.line,
                    1,
                    "error",
                    f"{sig[0]}/{sig[1]} is written from the data by inputs.yaml and also derived by a rule / "
                    "输入谓词不得由规则推出",
                    "rename the input or the derived predicate",
                    "inputs",
                )
            )
        elif sig not in source.defined:
            findings.append(
                Finding(
                    _rel(str(policy.root / "inputs.yaml"), policy.root),
                    fact.line,
                    1,
                    "warning",
                    f"input {sig[0]}/{sig[1]} of inputs.yaml is not declared in the rules / 输入谓词未在规则中声明",
                    f"add '#defined {sig[0]}/{sig[1]}.' to rules/00-schema.lp (clingo then knows it when no data "
                    "gives it)",
                    "inputs",
                )
            )
    try:
        plan = compile_policy(policy)
    except CompileError as exc:
        if not _type_error_in_block(policy, exc, findings):  # (the type error says why, and where exactly)
            findings.append(_sql_finding(policy, exc))
        return
    except PolicyError:  # an undefined predicate: the undefined-atom finding names it with a suggestion
        return
    if any(f.code in _TYPE_CODES for f in findings):
        return  # the compiler's shapes follow the same kinds: reported once, at the cause, by the type checker
    for rule, text in plan.kind_mismatches:
        findings.append(
            Finding(
                _rel(str(policy.root / rule.file), policy.root),
                rule.line,
                1,
                "error",
                text,
                "compare money with money and decimals with decimals; a plain number needs m(A,B,C) or a parameter "
                "(docs/numbers.md)",
                "number-kinds",
            )
        )


_ITEM_ID = re.compile(r"\d+(\.\d+)*(\.[a-z])?")


def _item_ids(policy: Policy, rules: Any, findings: list[Finding]) -> None:
    """A string in the rules written like a clause item (``"2.11.a"``) must be an item of policy.yaml.

    Otherwise every row of it is quietly ``not_eligible`` (the status rules know only declared items) and
    it is sorted after all others.
    """
    from ..compiler.program import Agg, BinOp, Call, Cmp, Func, Lit, Neg, Str

    def strings(t: Any) -> list[str]:
        if isinstance(t, Str):
            return [t.value]
        if isinstance(t, Func | Call):
            return [x for a in t.args for x in strings(a)]
        if isinstance(t, BinOp):
            return strings(t.left) + strings(t.right)
        if isinstance(t, Neg):
            return strings(t.arg)
        return []

    reported: set[str] = set()
    for r in rules:
        terms: list[Any] = list(r.head.args)
        for b in r.body:
            if isinstance(b, Lit):
                terms += b.atom.args
            elif isinstance(b, Cmp):
                terms += [b.left, b.right]
            elif isinstance(b, Agg):
                terms += [t for el in b.elements for t in el.terms]
                terms += [a for el in b.elements for c in el.condition for a in c.atom.args]
        for value in (v for t in terms for v in strings(t)):
            if _ITEM_ID.fullmatch(value) and value not in policy.items and value not in reported:
                reported.add(value)
                findings.append(
                    Finding(
                        _rel(str(policy.root / r.file), policy.root),
                        r.line,
                        1,
                        "error",
                        f"item {value!r} is not declared in policy.yaml (items: {', '.join(policy.items)}) "
                        "/ 条款未在 policy.yaml 中声明",
                        "add it to items: and clauses: in policy.yaml, or correct the id",
                        "unknown-item",
                    )
                )


def _type_error_in_block(policy: Policy, exc: FuchiError, findings: list[Finding]) -> bool:
    """Whether the type checker reported an error in the annotated rule block the compiler refused."""
    file, line = getattr(exc, "file", None), getattr(exc, "line", None)
    info = policy.rule_at(str(file), line) if file and line else None
    if info is None:
        return False
    path = (policy.root / info.file).resolve()
    return any(
        f.code in _TYPE_CODES and Path(f.file).resolve() == path and info.line <= f.line <= info.end_line
        for f in findings
    )


def _sql_finding(policy: Policy, exc: FuchiError) -> Finding:
    file = getattr(exc, "file", None) or "inputs.yaml"
    line = getattr(exc, "line", None) or 1
    return Finding(
        _rel(str(policy.root / file), policy.root),
        line,
        1,
        "warning",
        f"{getattr(exc, 'text', str(exc))} — evaluate will run on clingo / 无法编译为 SQL，将使用 clingo",
        "rewrite the rule in the compiler's fragment (docs/sql-engine.md), or accept the slower clingo engine",
        "sql-compile",
    )


def _sorted(findings: list[Finding]) -> list[Finding]:
    return sorted(findings, key=lambda f: (f.severity != "error", f.file, f.line, f.column, f.message))


def _parse(policy: Policy, findings: list[Finding]) -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    for rf in policy.rule_files:
        messages: list[Diagnostic] = []

        def logger(code: clingo.MessageCode, text: str, messages: list[Diagnostic] = messages) -> None:
            messages.append(parse_message(code, text))

        try:
            ast.parse_files([str(rf)], lambda s, rf=rf: out.append((str(rf), s)), logger=logger)  # type: ignore[misc]
        except RuntimeError:
            for d in messages:
                hint = ""
                if "syntax error" in d.text:
                    hint = (
                        "clingo reports a syntax error at the next token: look at the end of the statement "
                        "before it (a missing '.', an unclosed bracket or quote)"
                    )
                findings.append(Finding(_rel(d.file, policy.root), d.line, d.column, "error", d.text, hint, "syntax"))
    return out


def _ground(policy: Policy, findings: list[Finding]) -> None:
    """Ground the rules with the parameters and no data: catches unsafe variables and undefined atoms."""
    from ..numbers import Functions

    messages: list[Diagnostic] = []

    def logger(code: clingo.MessageCode, text: str) -> None:
        if code != clingo.MessageCode.GlobalVariable:
            messages.append(parse_message(code, text))

    ctl = clingo.Control(logger=logger, message_limit=10_000)
    try:
        for rf in policy.rule_files:
            ctl.load(str(rf))
        with ctl.backend() as backend:
            for sym in policy.param_symbols():
                backend.add_rule([backend.add_atom(sym)])
        ctl.ground([("base", [])], context=Functions())
    except RuntimeError:
        pass
    except FuchiError as exc:
        findings.append(Finding(str(policy.root), 1, 1, "error", exc.message(), "", "ground"))
    known = _head_predicates(policy)
    for d in messages:
        file = _rel(d.file, policy.root)
        first = d.text.splitlines()[0] if d.text else d.text
        if "unsafe variables" in d.text:
            var = [ln for ln in d.text.splitlines() if "is unsafe" in ln]
            findings.append(
                Finding(
                    file,
                    d.line,
                    d.column,
                    "error",
                    first + " " + " ".join(v.strip() for v in var),
                    "every variable must occur in a positive body atom (not only under 'not', in a "
                    "comparison or in arithmetic)",
                    "unsafe",
                )
            )
        elif d.code == "AtomUndefined" and d.text.startswith("no atoms over signature"):
            sig = d.text.split(":", 1)[-1].strip()
            if sig.split("/", 1)[0] in known or any(
                f.code == "show-undefined" and f.message.endswith(sig) for f in findings
            ):
                continue  # a #show of a predicate the rules define, or one reported already
            findings.append(
                Finding(
                    file,
                    d.line,
                    d.column,
                    "warning",
                    f"#show of a predicate no rule derives: {sig}",
                    "remove the #show, or derive the predicate or declare it with #defined",
                    "show-undefined",
                )
            )
        elif d.code == "AtomUndefined":
            atom = d.text.split(":", 1)[-1].strip()
            if any(
                f.code == "undefined-atom" and (f.file, f.line, f.column) == (file, d.line, d.column) for f in findings
            ):
                continue  # clingo repeats some messages
            name = atom.split("(", 1)[0]
            close = difflib.get_close_matches(name, sorted(known), n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            findings.append(
                Finding(
                    file,
                    d.line,
                    d.column,
                    "error",
                    f"atom does not occur in any rule head: {atom} / 谓词未定义",
                    hint + "an input predicate must be declared: " + INPUT_PREDICATES_NOTE,
                    "undefined-atom",
                )
            )
        elif d.level == "error":
            findings.append(Finding(file, d.line, d.column, "error", first, "", "ground"))


def _head_predicates(policy: Policy) -> set[str]:
    names: set[str] = set()

    def collect(stm: Any) -> None:
        if stm.ast_type == ast.ASTType.Rule:
            for sig in _heads(stm.head):
                names.add(sig[0])
        elif stm.ast_type == ast.ASTType.Defined:
            names.add(stm.name)

    for rf in policy.rule_files:
        try:
            ast.parse_files([str(rf)], collect)
        except RuntimeError:
            pass
    names.add("param")
    return names


def _heads(head: Any) -> list[tuple[str, int]]:
    """Predicate signatures a head can derive."""
    out: list[tuple[str, int]] = []

    def atom_sig(node: Any) -> None:
        if node.ast_type == ast.ASTType.SymbolicAtom and node.symbol.ast_type == ast.ASTType.Function:
            out.append((node.symbol.name, len(node.symbol.arguments)))
        elif node.ast_type == ast.ASTType.SymbolicAtom and node.symbol.ast_type == ast.ASTType.SymbolicTerm:
            out.append((str(node.symbol.symbol.name), 0))

    if head.ast_type == ast.ASTType.Literal:
        atom_sig(head.atom)
    elif head.ast_type in (ast.ASTType.Disjunction, ast.ASTType.HeadAggregate, ast.ASTType.Aggregate):
        for el in head.elements:
            lit = el.literal if hasattr(el, "literal") else el.condition.literal
            atom_sig(lit.atom)
    return out


def _body_deps(body: Any) -> list[tuple[str, int, str]]:
    """(name, arity, kind) of body atoms; kind is pos, neg or agg."""
    out: list[tuple[str, int, str]] = []

    def sym_sig(atom: Any) -> tuple[str, int] | None:
        if atom.ast_type != ast.ASTType.SymbolicAtom:
            return None
        s = atom.symbol
        if s.ast_type == ast.ASTType.Function:
            return (s.name, len(s.arguments))
        if s.ast_type == ast.ASTType.SymbolicTerm and s.symbol.type == clingo.SymbolType.Function:
            return (s.symbol.name, 0)
        return None

    for lit in body:
        if lit.ast_type != ast.ASTType.Literal:
            continue
        atom = lit.atom
        if atom.ast_type == ast.ASTType.SymbolicAtom:
            sig = sym_sig(atom)
            if sig is not None:
                out.append((*sig, "pos" if lit.sign == ast.Sign.NoSign else "neg"))
        elif atom.ast_type == ast.ASTType.BodyAggregate:
            for el in atom.elements:
                for cond in el.condition:
                    sig = sym_sig(cond.atom) if cond.ast_type == ast.ASTType.Literal else None
                    if sig is not None:
                        out.append((*sig, "agg"))
    return out


def _sentences(policy: Policy, statements: list[tuple[str, Any]], findings: list[Finding]) -> None:
    """The ``%@ zh:`` / ``%@ en:`` sentences of the auditor's page (docs/drafting.md).

    A rule that is not ``%@ internal:`` and has no sentence is a warning (the page then shows its atom); a
    placeholder naming no variable of the rule's statements, or with an unknown format, is an error.
    """
    from ..explanation.page import FORMATS, placeholders

    names: dict[str, set[str]] = {}
    for file, stm in statements:
        if stm.ast_type != ast.ASTType.Rule:
            continue
        rel = Path(file).resolve().relative_to(policy.root.resolve()).as_posix()
        info = policy.rule_at(rel, stm.location.begin.line)
        if info is not None:
            names.setdefault(info.id, set()).update(_variable_names(stm))
    for info in policy.rules:
        where = _rel(str(policy.root / info.file), policy.root)
        line = info.says_line or info.clause_line
        if info.internal:
            continue
        if not info.says_zh or not info.says_en:
            missing = "zh and en" if not info.says_zh and not info.says_en else "zh" if not info.says_zh else "en"
            findings.append(
                Finding(
                    where,
                    line,
                    1,
                    "warning",
                    f"rule {info.id!r} has no {missing} sentence for the auditor's page / 规则缺少说明句",
                    "add `%@ zh: …` and `%@ en: …` with {Var} placeholders (or `%@ internal: why` for plumbing)",
                    "no-sentence",
                )
            )
        for text in (info.says_zh, info.says_en):
            for var, fmt in placeholders(text):
                if var not in names.get(info.id, set()):
                    findings.append(
                        Finding(
                            where,
                            line,
                            1,
                            "error",
                            f"sentence of rule {info.id!r} names {{{var}}}, not a variable of the rule / "
                            "说明句中的变量不在规则中",
                            f"use one of: {', '.join(sorted(names.get(info.id, set()))) or '(the rule has none)'}",
                            "sentence-unknown-variable",
                        )
                    )
                elif fmt and fmt not in FORMATS:
                    findings.append(
                        Finding(
                            where,
                            line,
                            1,
                            "error",
                            f"sentence of rule {info.id!r}: unknown format {{{var}:{fmt}}} / 未知格式",
                            f"formats: {', '.join(FORMATS)}",
                            "sentence-unknown-format",
                        )
                    )


def _variable_names(node: Any) -> set[str]:
    """Every variable name under a clingo AST node."""
    out: set[str] = set()

    def walk(n: Any) -> None:
        if isinstance(n, ast.AST):
            if n.ast_type == ast.ASTType.Variable:
                out.add(n.name)
                return
            for key in n.child_keys:
                walk(getattr(n, key))
        elif isinstance(n, list | tuple | ast.ASTSequence):
            for child in n:
                walk(child)

    walk(node)
    return out


def _annotations(policy: Policy, statements: list[tuple[str, Any]], findings: list[Finding]) -> None:
    seen: dict[str, str] = {}
    for info in policy.rules:
        if info.clauses and not info.quote:
            findings.append(
                Finding(
                    _rel(str(policy.root / info.file), policy.root),
                    info.clause_line,
                    1,
                    "warning",
                    f"rule {info.id!r} cites clause {' '.join(info.clauses)} but quotes no text / 规则未引用条文",
                    "quote the clause text it implements in a % comment under the annotations (「…」)",
                    "no-quote",
                )
            )
        where = f"{info.file}:{info.line}"
        if info.id in seen:
            findings.append(
                Finding(
                    _rel(str(policy.root / info.file), policy.root),
                    info.line,
                    1,
                    "error",
                    f"rule id {info.id!r} is also used at {seen[info.id]} / 规则编号重复",
                    "give each annotated block its own `%@ rule:` id",
                    "duplicate-rule-id",
                )
            )
        seen.setdefault(info.id, where)
        for cid in info.clauses:
            if cid not in policy.clauses:
                findings.append(
                    Finding(
                        _rel(str(policy.root / info.file), policy.root),
                        info.clause_line,
                        1,
                        "error",
                        f"clause {cid!r} is not in policy.yaml clauses / 元数据中无此条款",
                        "add the clause with its zh/en text to policy.yaml, or fix the id",
                        "unknown-clause",
                    )
                )
    for file, stm in statements:
        if stm.ast_type != ast.ASTType.Rule:
            continue
        rel = Path(file).resolve().relative_to(policy.root.resolve()).as_posix()
        if policy.rule_at(rel, stm.location.begin.line) is None:
            findings.append(
                Finding(
                    _rel(file, policy.root),
                    stm.location.begin.line,
                    stm.location.begin.column,
                    "error",
                    f"rule without a clause citation: {stm} / 规则未引用条款",
                    "put `%@ rule: <id>`, `%@ clause: <ids>` (or `-`), `%@ ruling: <ids>` and the "
                    "quoted clause text in % comments right above the rule",
                    "no-citation",
                )
            )
    for item in policy.items:
        if item not in policy.clauses:
            findings.append(
                Finding(
                    _rel(str(policy.root / "policy.yaml"), policy.root),
                    1,
                    1,
                    "error",
                    f"item {item!r} has no clause text in policy.yaml",
                    "add it under clauses:",
                    "unknown-clause",
                )
            )
    for p in policy.parameters.values():
        for cid in p.clauses:
            if cid not in policy.clauses:
                findings.append(
                    Finding(
                        _rel(str(policy.root / "parameters.yaml"), policy.root),
                        1,
                        1,
                        "error",
                        f"parameter {p.name}: clause {cid!r} is not in policy.yaml",
                        "fix the clause id",
                        "unknown-clause",
                    )
                )
        if not p.clauses:
            findings.append(
                Finding(
                    _rel(str(policy.root / "parameters.yaml"), policy.root),
                    1,
                    1,
                    "warning",
                    f"parameter {p.name} cites no clause",
                    "add `clause:`",
                    "no-citation",
                )
            )


def _nodes(statements: list[tuple[str, Any]]) -> Iterator[tuple[str, Any]]:
    """Every AST node of the statements, depth first, with the file it is in."""
    stack: list[tuple[str, Any]] = [(file, stm) for file, stm in reversed(statements)]
    while stack:
        file, node = stack.pop()
        if isinstance(node, ast.AST):
            yield file, node
            stack.extend((file, getattr(node, key)) for key in reversed(node.child_keys))
        elif isinstance(node, list | tuple | ast.ASTSequence):
            stack.extend((file, child) for child in reversed(list(node)))


def _parameters(policy: Policy, statements: list[tuple[str, Any]], findings: list[Finding]) -> None:
    used: dict[str, tuple[str, int, int]] = {}

    for file, node in _nodes(statements):
        if node.ast_type == ast.ASTType.Function and node.name == "param" and node.arguments:
            first = node.arguments[0]
            name = None
            if first.ast_type == ast.ASTType.Function and not first.arguments:
                name = first.name
            elif first.ast_type == ast.ASTType.SymbolicTerm and first.symbol.type == clingo.SymbolType.Function:
                name = first.symbol.name
            if name is not None:
                used.setdefault(name, (file, node.location.begin.line, node.location.begin.column))
    for name, (file, line, col) in sorted(used.items()):
        if name not in policy.parameters:
            close = difflib.get_close_matches(name, sorted(policy.parameters), n=1)
            findings.append(
                Finding(
                    _rel(file, policy.root),
                    line,
                    col,
                    "error",
                    f"parameter {name!r} is not defined in parameters.yaml / 参数未定义",
                    (f"did you mean {close[0]!r}? " if close else "") + "define it with its clause",
                    "undefined-parameter",
                )
            )
    lines = _parameter_lines(policy)
    for name in sorted(set(policy.parameters) - set(used)):
        findings.append(
            Finding(
                _rel(str(policy.root / "parameters.yaml"), policy.root),
                lines.get(name, 1),
                1,
                "warning",
                f"parameter {name!r} is not used by any rule / 参数未被使用",
                "remove it or use it in a rule",
                "unused-parameter",
            )
        )


def _parameter_lines(policy: Policy) -> dict[str, int]:
    """The line of each top-level ``name:`` in parameters.yaml."""
    out: dict[str, int] = {}
    path = policy.root / "parameters.yaml"
    for n, text in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if text and not text[0].isspace() and not text.startswith("#") and ":" in text:
            out.setdefault(text.split(":", 1)[0].strip(), n)
    return out


_KINDS = {"yuan": "money", "decimal": "decimal", "int": "integer", "year": "integer"}
#: Kinds clingo compares and adds by term shape, not by value: never mixed with another kind.
_UNLIKE = frozenset({"money", "decimal"})
#: The findings of the type checker (the compiler's own kind report is dropped at their lines).
_TYPE_CODES = frozenset(
    {
        "number-kinds",
        "predicate-kinds",
        "arithmetic-kinds",
        "aggregate-kinds",
        "unknown-function",
        "function-arity",
        "function-argument",
    }
)
_NUMBERS_HINT = (
    "clingo orders money terms, decimal terms and integers by type, not by value: compare money with money "
    "(parameters of type yuan) and decimals with decimals (docs/numbers.md)"
)


def _input_kinds(policy: Policy) -> dict[tuple[str, int], dict[int, str]]:
    """The number kinds of the input predicates' arguments: ``(name, arity) -> {position: kind}``.

    The one place the type checker learns what the inputs hold: the kinds the policy's ``inputs.yaml``
    declares (:func:`fuchi.inputs.facts.number_kinds`).

    Args:
        policy: The policy being checked.

    Returns:
        Kinds ``money``, ``decimal`` or ``integer`` by argument position (0-based); positions that hold
        no number are absent.

    """
    from ..inputs.facts import number_kinds

    return number_kinds(policy.schema)


def _signatures_text() -> str:
    from ..numbers import SIGNATURES

    return ", ".join(f"@{n}({', '.join(a)}) → {r}" for n, (a, r) in SIGNATURES.items())


def _functions(policy: Policy, statements: list[tuple[str, Any]], findings: list[Finding]) -> None:
    """Every ``@function`` a rule calls must be one of numbers.SIGNATURES, with its number of arguments.

    An unknown name passes clingo's parser and grounder and fails only when a rule fires on real data.
    """
    from ..numbers import SIGNATURES

    seen: set[tuple[str, int, int]] = set()

    for file, node in _nodes(statements):
        if node.ast_type == ast.ASTType.Function and node.external:
            where = (file, node.location.begin.line, node.location.begin.column)
            signature = SIGNATURES.get(node.name)
            if where not in seen and signature is None:
                seen.add(where)
                close = difflib.get_close_matches(node.name, sorted(SIGNATURES), n=1)
                findings.append(
                    Finding(
                        _rel(file, policy.root),
                        where[1],
                        where[2],
                        "error",
                        f"unknown function @{node.name}/{len(node.arguments)}: {node} / 未知函数",
                        (f"did you mean @{close[0]}? " if close else "")
                        + f"the exact functions are {_signatures_text()} (docs/numbers.md)",
                        "unknown-function",
                    )
                )
            elif where not in seen and signature is not None and len(signature[0]) != len(node.arguments):
                seen.add(where)
                findings.append(
                    Finding(
                        _rel(file, policy.root),
                        where[1],
                        where[2],
                        "error",
                        f"@{node.name} takes {len(signature[0])} arguments ({', '.join(signature[0])}), "
                        f"given {len(node.arguments)}: {node} / 函数参数个数不符",
                        f"@{node.name}({', '.join(signature[0])}) → {signature[1]} (docs/numbers.md)",
                        "function-arity",
                    )
                )


def _policy_path(file: str, policy: Policy) -> str:
    """A rule file's path relative to the policy directory (``rules/20-items.lp``)."""
    try:
        return Path(file).resolve().relative_to(policy.root.resolve()).as_posix()
    except ValueError:
        return file


def _kinds_text(kinds: set[str]) -> str:
    return " / ".join(sorted(kinds))


class _TypeChecker:
    """The number kind (money, decimal, integer) of every predicate argument, and rules that mix kinds.

    Kinds come from the input predicates (:func:`_input_kinds`), the parameters' declared types, ``#const``
    definitions (``zero`` is money), the term shapes ``m/3`` (money) and ``d/4`` (decimal), integer literals
    and arithmetic, aggregates (``#sum``/``#count`` are integers, ``#min``/``#max`` have their elements'
    kind) and the declared signatures of the @functions (numbers.SIGNATURES). They flow through rule heads
    to derived predicates until nothing changes: ``money_sum/2``, whose total is ``m(SA+…, …)`` built from
    ``#sum`` over the limbs of money parts, is money, and so is every predicate fed from it.
    """

    def __init__(self, policy: Policy, statements: list[tuple[str, Any]]) -> None:
        self.policy = policy
        self.rules = [(file, stm) for file, stm in statements if stm.ast_type == ast.ASTType.Rule]
        self.inputs = {k: {pos: {kind} for pos, kind in v.items()} for k, v in _input_kinds(policy).items()}
        params = policy.parameters.values()
        self.param2 = {p.name: _KINDS.get(p.type) for p in params if p.type != "table"}
        self.param3 = {p.name: _KINDS.get(p.value_type or "") for p in params if p.type == "table"}
        self.keys3 = {p.name: _KINDS.get(p.key_type or "") for p in params if p.type == "table"}
        self.slots: dict[tuple[str, int], dict[int, set[str]]] = {}
        self.consts: dict[str, set[str]] = {}
        #: (rule index, head position) whose kind disagrees with other rules for that argument: the finding
        self.mixed: dict[tuple[int, int], str] = {}
        #: the minority among them, left out of the propagation
        self.excluded: set[tuple[int, int]] = set()
        self.findings: list[Finding] = []
        self.reporting = False
        self.file = ""
        self._reported: set[tuple[str, int, int, str]] = set()
        for _, stm in statements:
            if stm.ast_type == ast.ASTType.Definition:
                self.consts[stm.name] = self.kinds(stm.value, {})

    # ---- kinds of terms ------------------------------------------------------------------------------

    def kinds(self, t: Any, env: dict[str, set[str]]) -> set[str]:
        """The kinds term ``t`` may have (empty: no number, or unknown); reports mixing when reporting."""
        tt = t.ast_type
        if tt == ast.ASTType.Variable:
            return set(env.get(t.name, ()))
        if tt == ast.ASTType.SymbolicTerm:
            return self._symbol_kinds(t.symbol)
        if tt == ast.ASTType.Function:
            if t.external:
                return self._call(t, env)
            for a in t.arguments:
                self.kinds(a, env)
            if not t.arguments and t.name in self.consts:
                return set(self.consts[t.name])
            return self._shape(t.name, len(t.arguments))
        if tt in (ast.ASTType.UnaryOperation, ast.ASTType.BinaryOperation):
            operands = [t.argument] if tt == ast.ASTType.UnaryOperation else [t.left, t.right]
            found: set[str] = set()
            for o in operands:
                found |= self.kinds(o, env)
            if found & _UNLIKE:
                self.report(
                    t,
                    "arithmetic-kinds",
                    f"arithmetic on {_kinds_text(found)}: {t} / 金额或小数不能直接做算术运算",
                    "clingo's + - * / \\ work on plain integers: on a money term m(A,B,C) or a decimal d(…) the "
                    "result is undefined and the rule silently never fires. Add money with sum_part/money_sum "
                    "(rules/01-money.lp), multiply and bound it with the @functions (" + _signatures_text() + ")",
                )
            return {"integer"}
        if tt == ast.ASTType.Interval:
            self.kinds(t.left, env)
            self.kinds(t.right, env)
            return {"integer"}
        if tt == ast.ASTType.Pool:
            out: set[str] = set()
            for a in t.arguments:
                out |= self.kinds(a, env)
            return out
        return set()

    def _symbol_kinds(self, sym: clingo.Symbol) -> set[str]:
        if sym.type == clingo.SymbolType.Number:
            return {"integer"}
        if sym.type == clingo.SymbolType.Function:
            if not sym.arguments and sym.name in self.consts:
                return set(self.consts[sym.name])
            return self._shape(sym.name, len(sym.arguments))
        return set()

    @staticmethod
    def _shape(name: str, arity: int) -> set[str]:
        if name == "m" and arity == 3:
            return {"money"}
        if name == "d" and arity == 4:
            return {"decimal"}
        return set()

    def _call(self, t: Any, env: dict[str, set[str]]) -> set[str]:
        from ..numbers import SIGNATURES

        args = [self.kinds(a, env) for a in t.arguments]
        signature = SIGNATURES.get(t.name)
        if signature is None:
            return set()  # reported by _functions
        wanted, result = signature
        if len(wanted) == len(args):  # (a wrong arity is reported by _functions)
            for n, (want, got) in enumerate(zip(wanted, args, strict=True), start=1):
                if got and not got <= {want}:
                    self.report(
                        t.arguments[n - 1],
                        "function-argument",
                        f"argument {n} of @{t.name} must be {want}, got {_kinds_text(got)}: {t} / 函数参数类型不符",
                        f"@{t.name}({', '.join(wanted)}) → {result} (docs/numbers.md)",
                    )
        return {result}

    # ---- kinds of variables ----------------------------------------------------------------------------

    def atom_kinds(self, sym: Any) -> dict[int, set[str]]:
        """The kinds of the arguments of a body atom ``sym`` (a Function node), parameters by their name."""
        args = sym.arguments
        known = {pos: set(k) for pos, k in self.slots.get((sym.name, len(args)), {}).items()}
        name = _constant_name(args[0]) if sym.name == "param" and args else None
        if name is not None:
            value = (self.param3 if len(args) == 3 else self.param2).get(name)
            if value:
                known[len(args) - 1] = {value}
            key = self.keys3.get(name) if len(args) == 3 else None
            if key:
                known[1] = {key}
        return known

    def env_of(self, body: Any, outer: dict[str, set[str]] | None = None) -> dict[str, set[str]]:
        """The kinds of the variables a body binds (positive atoms, ``V = term``, ``V = #agg{…}``)."""
        saved, self.reporting = self.reporting, False
        env = {k: set(v) for k, v in (outer or {}).items()}
        try:
            for _ in range(4):  # an assignment may use a variable bound further right
                before = {k: set(v) for k, v in env.items()}
                for lit in body:
                    self._bind_literal(lit, env)
                if env == before:
                    break
        finally:
            self.reporting = saved
        return env

    def _bind_literal(self, lit: Any, env: dict[str, set[str]]) -> None:
        if lit.ast_type != ast.ASTType.Literal or lit.sign != ast.Sign.NoSign:
            return
        atom = lit.atom
        if atom.ast_type == ast.ASTType.Comparison:
            if len(atom.guards) == 1 and atom.guards[0].comparison == ast.ComparisonOperator.Equal:
                left, right = atom.term, atom.guards[0].term
                for a, b in ((left, right), (right, left)):
                    if a.ast_type == ast.ASTType.Variable and a.name != "_":
                        env.setdefault(a.name, set()).update(self.kinds(b, env))
        elif atom.ast_type == ast.ASTType.SymbolicAtom and atom.symbol.ast_type == ast.ASTType.Function:
            known = self.atom_kinds(atom.symbol)
            for pos, arg in enumerate(atom.symbol.arguments):
                self._bind(arg, known.get(pos, set()), env)
        elif atom.ast_type == ast.ASTType.BodyAggregate:
            result = self.aggregate_kinds(atom, env)
            for guard in (atom.left_guard, atom.right_guard):
                if (
                    guard is not None
                    and guard.comparison == ast.ComparisonOperator.Equal
                    and guard.term.ast_type == ast.ASTType.Variable
                ):
                    env.setdefault(guard.term.name, set()).update(result)

    def _bind(self, arg: Any, kinds: set[str], env: dict[str, set[str]]) -> None:
        if arg.ast_type == ast.ASTType.Variable:
            if arg.name != "_":
                env.setdefault(arg.name, set()).update(kinds)
        elif arg.ast_type == ast.ASTType.Function and not arg.external and self._shape(arg.name, len(arg.arguments)):
            for limb in arg.arguments:  # m(A, B, C) / d(N2, N1, N0, X): the limbs are integers
                self._bind(limb, {"integer"}, env)

    def aggregate_kinds(self, atom: Any, env: dict[str, set[str]]) -> set[str]:
        """The kinds of a body aggregate's value: integers for #count and #sum, the elements' for #min/#max."""
        if atom.function not in (ast.AggregateFunction.Min, ast.AggregateFunction.Max):
            return {"integer"}
        out: set[str] = set()
        for el in atom.elements:
            if el.terms:
                out |= self.kinds(el.terms[0], self.env_of(el.condition, env))
        return out

    # ---- propagation -----------------------------------------------------------------------------------

    @staticmethod
    def head_of(stm: Any) -> Any:
        """The head atom (a Function node) of a normal rule, or None."""
        head = stm.head
        if head.ast_type != ast.ASTType.Literal or head.atom.ast_type != ast.ASTType.SymbolicAtom:
            return None
        sym = head.atom.symbol
        return sym if sym.ast_type == ast.ASTType.Function else None

    def propagate(self) -> None:
        """Give every derived predicate's arguments their kinds, to a fixpoint; then blame mixed heads.

        A head argument whose kind differs from what most rules of the predicate put there (an integer
        amount among money amounts) is reported at its rule and left out, so that the rules reading the
        predicate are not reported for it too. Without a majority (one decimal, one money) every rule of
        the conflict is reported and the kinds stay mixed.
        """
        while True:
            self.slots = {k: {p: set(s) for p, s in v.items()} for k, v in self.inputs.items()}
            changed = True
            while changed:
                changed = False
                for i, (_, stm) in enumerate(self.rules):
                    head = self.head_of(stm)
                    if head is None:
                        continue
                    env = self.env_of(stm.body)
                    slot = self.slots.setdefault((head.name, len(head.arguments)), {})
                    for pos, arg in enumerate(head.arguments):
                        if (i, pos) in self.excluded:
                            continue
                        new = self.kinds(arg, env)
                        if not new <= slot.get(pos, set()):
                            slot.setdefault(pos, set()).update(new)
                            changed = True
            if not self._blame_mixed_heads():
                return

    def _blame_mixed_heads(self) -> bool:
        """Record head arguments of unlike kinds (self.mixed); True when new ones are to be left out."""
        contributions: dict[tuple[str, int, int], list[tuple[int, set[str]]]] = defaultdict(list)
        for i, (_, stm) in enumerate(self.rules):
            head = self.head_of(stm)
            if head is None:
                continue
            env = self.env_of(stm.body)
            for pos, arg in enumerate(head.arguments):
                found = self.kinds(arg, env)
                if found and (i, pos) not in self.excluded:
                    contributions[(head.name, len(head.arguments), pos)].append((i, found))
        blamed = False
        for (name, arity, pos), items in contributions.items():
            every = set().union(*(k for _, k in items))
            if len(every) < 2 or not every & _UNLIKE:
                continue
            count = {k: sum(1 for _, ks in items if k in ks) for k in every}
            top = max(count.values())
            majority = [k for k in every if count[k] == top]
            for i, ks in items:
                if len(majority) == 1 and majority[0] in ks:
                    continue
                others = [j for j, ks2 in items if j != i and not ks2 & ks]
                if not others:
                    continue
                file, stm = self.rules[others[0]]
                where = f"{_policy_path(file, self.policy)}:{stm.location.begin.line}"
                kind = _kinds_text(set().union(*(k for j, k in items if j in others)))
                self.mixed[(i, pos)] = (
                    f"argument {pos + 1} of {name}/{arity} is {_kinds_text(ks)} here but {kind} in "
                    + (f"{len(others)} other rules (e.g. {where})" if len(others) > 1 else where)
                )
                if len(majority) == 1:
                    self.excluded.add((i, pos))
                    blamed = True
        return blamed

    # ---- findings ------------------------------------------------------------------------------------

    def report(self, node: Any, code: str, message: str, hint: str) -> None:
        """Add a finding at ``node`` (a term or literal of the rule being checked), once."""
        if not self.reporting:
            return
        line, col = node.location.begin.line, node.location.begin.column
        key = (self.file, line, col, code)
        if key in self._reported:
            return
        self._reported.add(key)
        self.findings.append(Finding(_rel(self.file, self.policy.root), line, col, "error", message, hint, code))

    def check(self) -> list[Finding]:
        """Propagate, then report every comparison, join, arithmetic, aggregate and call of unlike kinds."""
        self.propagate()
        for i, (file, stm) in enumerate(self.rules):
            self.file = file
            env = self.env_of(stm.body)
            self.reporting = True
            head = self.head_of(stm)
            if head is not None:
                for pos, arg in enumerate(head.arguments):
                    self.kinds(arg, env)
                    if (i, pos) in self.mixed:
                        self.report(
                            arg,
                            "predicate-kinds",
                            f"{self.mixed[(i, pos)]}: {head} / 同一谓词参数的数类型不一致",
                            "every rule deriving a predicate must put the same kind of number in each argument: "
                            + _NUMBERS_HINT,
                        )
            self.check_body(stm.body, env)
            self.reporting = False
        return self.findings

    def check_body(self, body: Any, env: dict[str, set[str]]) -> None:
        """Report the literals of a body (or of an aggregate element's condition) that mix kinds."""
        joins: dict[str, tuple[set[str], str]] = {}
        for lit in body:
            if lit.ast_type != ast.ASTType.Literal:
                continue
            atom = lit.atom
            if atom.ast_type == ast.ASTType.SymbolicAtom and atom.symbol.ast_type == ast.ASTType.Function:
                self._check_atom(lit, atom.symbol, env, joins)
            elif atom.ast_type == ast.ASTType.Comparison:
                sides = [self.kinds(t, env) for t in [atom.term, *(g.term for g in atom.guards)]]
                found = set().union(*sides)
                if found & _UNLIKE and len(found) > 1:
                    shown = _kinds_text(found)
                    if len(sides) == 2 and all(sides):
                        op = COMPARISON.get(atom.guards[0].comparison, "?")
                        shown = f"{_kinds_text(sides[0])} {op} {_kinds_text(sides[1])}"
                    self.report(
                        lit,
                        "number-kinds",
                        f"comparison of unlike numbers ({shown}): {atom} / 比较了不同类型的数",
                        _NUMBERS_HINT,
                    )
            elif atom.ast_type == ast.ASTType.BodyAggregate:
                self._check_aggregate(lit, atom, env)

    def _check_atom(self, lit: Any, sym: Any, env: dict[str, set[str]], joins: dict[str, tuple[set[str], str]]) -> None:
        known = self.atom_kinds(sym)
        positive = lit.sign == ast.Sign.NoSign
        for pos, arg in enumerate(sym.arguments):
            got = self.kinds(arg, env)
            want = known.get(pos, set())
            where = f"argument {pos + 1} of {sym.name}/{len(sym.arguments)}"
            if arg.ast_type == ast.ASTType.Variable:
                if arg.name == "_" or not want:
                    continue
                if positive and arg.name not in joins:
                    joins[arg.name] = (want, where)
                    continue
                got, other = joins.get(arg.name, (got, "its binding"))
                if got and not got & want and (got | want) & _UNLIKE:
                    self.report(
                        arg,
                        "number-kinds",
                        f"{arg} is {_kinds_text(got)} ({other}) but {where} is {_kinds_text(want)}: {sym} never "
                        "matches / 变量在两处的数类型不同",
                        _NUMBERS_HINT,
                    )
            elif got and want and not got & want and (got | want) & _UNLIKE:
                self.report(
                    arg,
                    "number-kinds",
                    f"{where} is {_kinds_text(want)}, {arg} is {_kinds_text(got)}: {sym} never matches "
                    "/ 参数的数类型不符，永不匹配",
                    _NUMBERS_HINT,
                )

    def _check_aggregate(self, lit: Any, atom: Any, env: dict[str, set[str]]) -> None:
        name = {ast.AggregateFunction.Min: "#min", ast.AggregateFunction.Max: "#max"}.get(atom.function)
        every: set[str] = set()
        for el in atom.elements:
            inner = self.env_of(el.condition, env)
            self.check_body(el.condition, inner)
            if not el.terms:
                continue
            weight = self.kinds(el.terms[0], inner)
            for t in el.terms[1:]:
                self.kinds(t, inner)
            every |= weight
            if name is None and atom.function != ast.AggregateFunction.Count and weight & _UNLIKE:
                self.report(
                    el.terms[0],
                    "aggregate-kinds",
                    f"#sum over {_kinds_text(weight)} weights: {el.terms[0]} in {atom} / #sum 只能加整数",
                    "clingo's #sum adds integers and silently skips every other weight (the total comes out 0 or "
                    "too small): write each amount as sum_part(Group, Key, Money) and read money_sum(Group, "
                    "Total) (rules/01-money.lp)",
                )
        if name is not None and every & _UNLIKE and len(every) > 1:
            self.report(
                lit,
                "aggregate-kinds",
                f"{name} over unlike numbers ({_kinds_text(every)}): {atom} / 聚合中混用了不同类型的数",
                f"{name} orders its elements by term type before value: " + _NUMBERS_HINT,
            )
        result = every if name is not None else {"integer"}
        for guard in (atom.left_guard, atom.right_guard):
            if guard is None or (
                guard.comparison == ast.ComparisonOperator.Equal and guard.term.ast_type == ast.ASTType.Variable
            ):
                continue  # (V = #agg{…}: V takes the aggregate's kinds)
            found = self.kinds(guard.term, env) | result
            if found & _UNLIKE and len(found) > 1:
                self.report(
                    lit,
                    "number-kinds",
                    f"comparison of unlike numbers ({_kinds_text(found)}): {atom} / 比较了不同类型的数",
                    _NUMBERS_HINT,
                )


def _number_kinds(policy: Policy, statements: list[tuple[str, Any]], findings: list[Finding]) -> None:
    """Numbers of unlike kinds must never meet (docs/numbers.md); see :class:`_TypeChecker` for the kinds.

    Errors, each at its rule's line: a comparison, a join of two atoms or an atom's argument mixing money,
    decimals and integers (also through derived predicates and ``money_sum``); arithmetic on money or
    decimals; ``#sum`` over money, ``#min``/``#max`` over mixed kinds; a @function argument of the wrong
    kind; a head putting another kind in an argument than the predicate's other rules.
    """
    findings.extend(_TypeChecker(policy, statements).check())


def _literals(statements: list[tuple[str, Any]], findings: list[Finding]) -> None:
    """Money and decimal literals written in the rules must be normalised (W2, W3), an error otherwise.

    ``m(A,B,C)`` is A·10^10 + B·10^5 + C fen with ``0 ≤ B, C < 100000`` and ``A ≥ 0``; ``d(N2,N1,N0,X)`` is
    (N2·10^18 + N1·10^9 + N0) / 10^12 with ``0 ≤ N1, N0 < 10^9`` and X 0 or 1. clingo compares and joins
    terms, not amounts: ``m(0,100000,0)`` is neither equal to ``m(1,0,0)`` nor ordered as 1,000,000 元, so
    such a literal would decide silently wrong. The hint gives the normalised literal of the same amount.
    """
    from ..numbers import PART, SCALE, ArithmeticRangeError, decimal, fen_of, fen_of_limbs, fraction_of, money

    def visit(file: str, node: Any) -> None:
        if node.ast_type == ast.ASTType.Function and node.name in ("m", "d") and not node.external:
            args = list(node.arguments)
            numbers = [a.symbol.number for a in args if _is_number_term(a)]
            if len(numbers) == len(args) and len(args) == (3 if node.name == "m" else 4):
                _literal(file, node, numbers)
        for key in node.child_keys:
            value = getattr(node, key)
            if isinstance(value, ast.AST):
                visit(file, value)
            elif isinstance(value, (list, tuple)) or type(value).__name__ == "ASTSequence":
                for item in value:
                    if isinstance(item, ast.AST):
                        visit(file, item)

    def _literal(file: str, node: Any, numbers: list[int]) -> None:
        sym = clingo.Function(node.name, [clingo.Number(n) for n in numbers])
        try:
            fen_of(sym) if node.name == "m" else fraction_of(sym)
            return
        except ArithmeticRangeError:
            pass
        if node.name == "m":
            a, b, c = numbers
            fen = fen_of_limbs(a, b, c)
            en, zh = "money literal", "金额字面量"
            same = f"write {money(fen)} for the same amount / 同一金额应写作 {money(fen)}" if fen >= 0 else ""
        else:
            n2, n1, n0, x = numbers
            en, zh = "decimal literal", "小数字面量"
            value = Fraction((n2 * PART + n1) * PART + n0, SCALE)
            same = f"write {decimal(value)} for the same value / 同一数值应写作 {decimal(value)}" if x in (0, 1) else ""
        loc = node.location.begin
        findings.append(
            Finding(
                file,
                loc.line,
                loc.column,
                "error",
                f"{en} {node} is not normalised: clingo compares terms, not amounts, so it would decide "
                f"silently wrong / {zh} {node} 未规范化：clingo 比较的是项而不是数额，结果会悄然出错",
                same or "use a parameter (parameters.yaml) for the amount / 金额请用参数",
                "literal-not-normalised",
            )
        )

    for file, statement in statements:
        visit(file, statement)


def _is_number_term(node: Any) -> bool:
    return bool(node.ast_type == ast.ASTType.SymbolicTerm and node.symbol.type == clingo.SymbolType.Number)


# ---- reasons, parameter texts, clauses ---------------------------------------------------------------------

#: The arguments that hold a reason term, rendered through messages.yaml: (name, arity) → position.
_REASON_SLOTS = {("decision", 7): 6, ("input_error", 3): 2, ("input_warning", 3): 2}
_PLACEHOLDER = re.compile(r"\{(\d+)(?::([^}]*))?\}")


@dataclass
class _TermNode:
    """A function term or constant a rule head builds (a candidate reason term)."""

    name: str
    arity: int
    file: str
    line: int
    column: int
    text: str
    #: where each argument's values come from: ("slot", name, arity, position) or ("term", node index)
    args: list[list[tuple[Any, ...]]]


def _reasons(policy: Policy, statements: list[tuple[str, Any]], findings: list[Finding]) -> None:
    """Every reason term the rules can give must have a zh and an en text in messages.yaml (a warning).

    Reasons are followed from the Reason arguments of decision/7, input_error/3 and input_warning/3 back
    through the rules (``stage(…, R) :- fails(…, R)``) to the heads that build them, and into the arguments
    a template renders as ``{N:reason}`` (``gate(G)``, ``missing(revenue(Y))``). Without a text, officers
    would read the bare term (``not_ai_field / not_ai_field``).
    """
    nodes: list[_TermNode] = []
    sources: dict[tuple[Any, ...], list[tuple[Any, ...]]] = defaultdict(list)

    def symbol_node(sym: clingo.Symbol, file: str, loc: Any) -> list[tuple[Any, ...]]:
        if sym.type != clingo.SymbolType.Function:
            return []
        args = [symbol_node(a, file, loc) for a in sym.arguments]
        nodes.append(_TermNode(sym.name, len(sym.arguments), file, loc.begin.line, loc.begin.column, str(sym), args))
        return [("term", len(nodes) - 1)]

    def term_sources(t: Any, binds: dict[str, list[tuple[Any, ...]]], file: str) -> list[tuple[Any, ...]]:
        if t.ast_type == ast.ASTType.Variable:
            return binds.get(t.name, [])
        if t.ast_type == ast.ASTType.SymbolicTerm:
            return symbol_node(t.symbol, file, t.location)
        if t.ast_type == ast.ASTType.Function and not t.external:
            args = [term_sources(a, binds, file) for a in t.arguments]
            loc = t.location.begin
            nodes.append(_TermNode(t.name, len(t.arguments), file, loc.line, loc.column, str(t), args))
            return [("term", len(nodes) - 1)]
        if t.ast_type == ast.ASTType.Pool:
            return [s for a in t.arguments for s in term_sources(a, binds, file)]
        return []

    for file, stm in statements:
        if stm.ast_type != ast.ASTType.Rule:
            continue
        head = _TypeChecker.head_of(stm)
        if head is None:
            continue
        binds: dict[str, list[tuple[Any, ...]]] = defaultdict(list)
        for lit in stm.body:
            if lit.ast_type != ast.ASTType.Literal or lit.sign != ast.Sign.NoSign:
                continue
            atom = lit.atom
            if atom.ast_type == ast.ASTType.SymbolicAtom and atom.symbol.ast_type == ast.ASTType.Function:
                sym = atom.symbol
                for pos, arg in enumerate(sym.arguments):
                    if arg.ast_type == ast.ASTType.Variable and arg.name != "_":
                        binds[arg.name].append(("slot", sym.name, len(sym.arguments), pos))
            elif atom.ast_type == ast.ASTType.Comparison and len(atom.guards) == 1:
                left, right = atom.term, atom.guards[0].term
                if atom.guards[0].comparison == ast.ComparisonOperator.Equal and left.ast_type == ast.ASTType.Variable:
                    binds[left.name].extend(term_sources(right, binds, file))
        for pos, arg in enumerate(head.arguments):
            sources[(head.name, len(head.arguments), pos)].extend(term_sources(arg, binds, file))

    def reach(start: list[tuple[Any, ...]]) -> list[int]:
        out: list[int] = []
        seen: set[tuple[Any, ...]] = set()
        stack = list(start)
        while stack:
            src = stack.pop()
            if src[0] == "term":
                out.append(src[1])
            elif src[1:] not in seen:
                seen.add(src[1:])
                stack.extend(sources.get(src[1:], []))
        return sorted(out)

    missing: dict[str, tuple[_TermNode, str]] = {}
    queue = [n for (name, arity), pos in _REASON_SLOTS.items() for n in reach([("slot", name, arity, pos)])]
    done: set[int] = set()
    while queue:
        index = queue.pop(0)
        if index in done:
            continue
        done.add(index)
        node = nodes[index]
        if not node.name:
            continue  # a tuple: shown as written
        key = f"{node.name}/{node.arity}"
        entry = policy.messages.get(key)
        texts = {lang: entry.get(lang) for lang in ("zh", "en")} if isinstance(entry, dict) else {}
        absent = [lang for lang in ("zh", "en") if not isinstance(texts.get(lang), str)]
        if absent:
            missing.setdefault(key, (node, " and ".join(absent)))
            continue
        for template in texts.values():
            for m in _PLACEHOLDER.finditer(str(template)):
                n = int(m.group(1))
                if m.group(2) == "reason" and n < len(node.args):
                    queue.extend(reach(node.args[n]))
    known = sorted(str(k) for k in policy.messages)
    for key, (node, langs) in sorted(missing.items(), key=lambda kv: (kv[1][0].file, kv[1][0].line, kv[0])):
        close = difflib.get_close_matches(key, known, n=1)
        what = "no entry" if langs == "zh and en" else f"no {langs} text"
        findings.append(
            Finding(
                _rel(node.file, policy.root),
                node.line,
                node.column,
                "warning",
                f"reason {key}" + (f" ({node.text})" if node.arity else "") + f" has {what} in messages.yaml: "
                f"officers would read “{node.text} / {node.text}” / 理由在 messages.yaml 中没有说明文字",
                (f"did you mean {close[0]!r}? " if close else "")
                + f"add `{key}: {{zh: …, en: …}}` to messages.yaml; {{0:money}}, {{0:int}}, {{0:reason}} … "
                "render its arguments (see the file's header)",
                "unknown-reason",
            )
        )


_AMOUNT = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"
#: A number a parameter's text states, with its unit (dates and clause ids are read so as to be skipped).
_STATED = re.compile(
    r"(?P<date>(?<![\d.])(?P<year>\d{4})-\d{1,2}-\d{1,2})"
    r"|(?P<clause>(?<![\d.])\d+(?:\.\d+)+\.[a-z](?![a-z]))"
    r"|(?<![\d.,])(?P<ra>" + _AMOUNT + r")\s*[:：]\s*(?P<rb>" + _AMOUNT + r")"
    r"|(?P<cur>CNY|RMB|¥|￥)?\s*(?<![\d.,])(?P<n>" + _AMOUNT + r")\s*"
    r"(?P<unit>亿元|亿|万元|万|千元|元|billion|bn|million|mn|thousand|yuan|%|％|倍|times|×|petaflops|pflops"
    r"|年|月|日|号|条|款|项|个|次|家|人|名|件|台|m(?![a-z])|k(?![a-z]))?",
    re.IGNORECASE,
)
_MONEY_UNITS = {
    "亿元": 10**8, "亿": 10**8, "万元": 10**4, "万": 10**4, "千元": 10**3, "元": 1, "yuan": 1,
    "billion": 10**9, "bn": 10**9, "million": 10**6, "mn": 10**6, "m": 10**6, "thousand": 10**3, "k": 10**3,
}  # fmt: skip
_TIMES_UNITS = {"倍", "times", "×", "petaflops", "pflops"}
_COUNT_UNITS = {"项", "个", "次", "家", "人", "名", "件", "台"}
_PARAM_DIMENSIONS = {"yuan": "money", "decimal": "decimal", "year": "year", "int": "count"}


def _stated_numbers(text: str, dims: set[str]) -> list[tuple[str, Decimal, str]]:
    """The numbers ``text`` states in the dimensions ``dims`` (money, decimal, year, count): (dim, value, as written).

    Units are read as the measures write them: 万元/亿元/元 and CNY/million/bn are money in yuan, % a
    fraction, 倍/times/PFLOPS and a bare number a decimal, ``1:x`` the ratio x, a four-digit number before
    年 or in a date a year; a bare number with thousands separators is money. Months, days and clause ids
    (``2.2.b``) are skipped.
    """
    out: list[tuple[str, Decimal, str]] = []
    for m in _STATED.finditer(text):
        raw = m.group(0).strip()
        if m.group("clause"):
            continue
        if m.group("date"):
            out.append(("year", Decimal(m.group("year")), raw))
            continue
        if m.group("ra"):
            a, b = Decimal(m.group("ra").replace(",", "")), Decimal(m.group("rb").replace(",", ""))
            if a:
                out.append(("decimal", b / a, raw))
            continue
        written = m.group("n")
        value = Decimal(written.replace(",", ""))
        unit = (m.group("unit") or "").lower()
        if unit in _MONEY_UNITS:
            out.append(("money", value * _MONEY_UNITS[unit], raw))
        elif m.group("cur"):
            out.append(("money", value, raw))
        elif unit in ("%", "％"):
            out.append(("decimal", value / 100, raw))
        elif unit in _TIMES_UNITS:
            out.append(("decimal", value, raw))
        elif unit == "年":
            if len(written) == 4 and written.isdigit():
                out.append(("year", value, raw))
        elif unit in _COUNT_UNITS:
            out.append(("count", value, raw))
        elif not unit:
            if "," in written and "money" in dims:
                out.append(("money", value, raw))
            elif "decimal" in dims:
                out.append(("decimal", value, raw))
            elif "count" in dims and written.isdigit():
                out.append(("count", value, raw))
            elif "year" in dims and len(written) == 4 and written.isdigit():
                out.append(("year", value, raw))
    return [s for s in out if s[0] in dims]


def _as_decimal(value: Any) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        return None
    try:
        dec = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    except ArithmeticError:
        return None
    return dec if dec.is_finite() else None


def _parameter_values(p: Any) -> dict[str, set[Decimal]]:
    """The numbers a parameter holds, by dimension (a table's keys and values each by their type)."""
    out: dict[str, set[Decimal]] = defaultdict(set)
    if p.type == "table" and isinstance(p.value, dict):
        pairs = [(p.key_type, list(p.value)), (p.value_type, list(p.value.values()))]
    else:
        pairs = [(p.type, p.value if isinstance(p.value, list) else [p.value])]
    for kind, values in pairs:
        dim = _PARAM_DIMENSIONS.get(str(kind))
        if dim is None:
            continue
        for v in values:
            dec = _as_decimal(v)
            if dec is not None:
                out[dim].add(dec)
    return dict(out)


def _plain_decimal(d: Decimal) -> str:
    return format(d.normalize(), "f")


def _parameter_texts(policy: Policy, findings: list[Finding]) -> None:
    """A parameter's ``text`` must state its value: 1.5 with a text of 1.2倍 is a warning at the text line.

    Every number of the parameter's kind that the zh or en text states (see :func:`_stated_numbers`) must be
    one of its values (a table's keys or values); a list or table whose text states two numbers or more of a
    kind must state each of its values of that kind.
    """
    lines = _parameter_text_lines(policy)
    for p in policy.parameters.values():
        values = _parameter_values(p)
        if not values:
            continue
        wrong: list[str] = []
        unstated: list[str] = []
        for lang, text in (("zh", p.text_zh), ("en", p.text_en)):
            stated = _stated_numbers(text, set(values))
            for dim, value, raw in stated:
                if value not in values[dim] and f"“{raw}” ({lang})" not in wrong:
                    wrong.append(f"“{raw}” ({lang})")
            many = isinstance(p.value, list | dict)
            for dim, have in values.items():
                said = {v for d, v, _ in stated if d == dim}
                if many and len(said) >= 2:
                    for v in sorted(have - said):
                        if _plain_decimal(v) not in unstated:
                            unstated.append(_plain_decimal(v))
        if not wrong and not unstated:
            continue
        shown = ", ".join(_plain_decimal(v) for dim in values for v in sorted(values[dim]))
        parts = []
        if wrong:
            parts.append(f"its text states {', '.join(wrong)}, not its value ({shown})")
        if unstated:
            parts.append(f"its text does not state the value(s) {', '.join(unstated)}")
        findings.append(
            Finding(
                _rel(str(policy.root / "parameters.yaml"), policy.root),
                lines.get(p.name, 1),
                1,
                "warning",
                f"parameter {p.name!r}: {'; '.join(parts)} / 参数说明中的数字与取值不符",
                "update `text:` to the value (show-policy and explain show it to officers and auditors), or correct "
                "the value; the text is read in its units: 万元 = 10,000 元, 1亿元 = 100,000,000 元, 5% = 0.05, "
                "1:0.5 = 0.5, 1.2倍 = 1.2",
                "parameter-text",
            )
        )


def _parameter_text_lines(policy: Policy) -> dict[str, int]:
    """The line of each parameter's ``text:`` in parameters.yaml (else of its name)."""
    out = _parameter_lines(policy)
    path = policy.root / "parameters.yaml"
    current = None
    for n, text in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if text and not text[0].isspace() and not text.startswith("#") and ":" in text:
            current = text.split(":", 1)[0].strip()
        elif current is not None and text.strip().startswith("text:"):
            out[current] = n
            current = None
    return out


def _uncited_clauses(policy: Policy, findings: list[Finding]) -> None:
    """A clause with a text in policy.yaml that no rule cites is a warning at its line.

    A clause without zh/en text (a chapter heading, kept for its title) may be cited nowhere.
    """
    cited = {cid for info in policy.rules for cid in info.clauses}
    path = policy.root / "policy.yaml"
    lines = path.read_text(encoding="utf-8").splitlines()
    start = next((n for n, text in enumerate(lines) if text.startswith("clauses:")), 0)
    for cid, clause in policy.clauses.items():
        if cid in cited or not (clause.zh or clause.en):
            continue
        entry = re.compile(r"^\s+([\"']?)" + re.escape(cid) + r"\1\s*:")
        line = next((n + 1 for n in range(start, len(lines)) if entry.match(lines[n])), 1)
        title = clause.title_zh or clause.title_en
        findings.append(
            Finding(
                _rel(str(path), policy.root),
                line,
                1,
                "warning",
                f"clause {cid!r}" + (f" ({title})" if title else "") + " is cited by no rule / 条款未被任何规则引用",
                f"implement it in a rule annotated `%@ clause: {cid}` (or add {cid} to the `%@ clause:` of the rule "
                "that implements it); a heading that needs no rule keeps only its title, without zh/en text",
                "uncited-clause",
            )
        )


def _constant_name(t: Any) -> str | None:
    """The name of a constant term (``growth_factor``), whichever way clingo's parser represents it."""
    if t.ast_type == ast.ASTType.Function and not t.arguments and not t.external:
        return str(t.name)
    if t.ast_type == ast.ASTType.SymbolicTerm and t.symbol.type == clingo.SymbolType.Function:
        return str(t.symbol.name)
    return None


def _stratification(policy: Policy, statements: list[tuple[str, Any]], findings: list[Finding]) -> None:
    edges: dict[tuple[str, int], set[tuple[str, int]]] = defaultdict(set)
    labelled: list[tuple[tuple[str, int], tuple[str, int], str, str, int, int]] = []
    for file, stm in statements:
        if stm.ast_type != ast.ASTType.Rule:
            continue
        head = stm.head
        if head.ast_type in (ast.ASTType.Disjunction, ast.ASTType.HeadAggregate, ast.ASTType.Aggregate):
            findings.append(
                Finding(
                    _rel(file, policy.root),
                    stm.location.begin.line,
                    stm.location.begin.column,
                    "error",
                    f"choice or disjunctive head: {stm} / 选择规则或析取规则",
                    "a policy must have exactly one answer set for any data: derive the atom with an ordinary rule",
                    "not-stratified",
                )
            )
        for h in _heads(head):
            for name, arity, kind in _body_deps(stm.body):
                edges[h].add((name, arity))
                labelled.append((h, (name, arity), kind, file, stm.location.begin.line, stm.location.begin.column))
    scc = _sccs(edges)
    reported: set[tuple[str, int]] = set()
    for h, b, kind, file, line, col in labelled:
        if kind == "pos" or scc.get(h) is None or scc.get(h) != scc.get(b):
            continue
        if (line, col) in reported:  # type: ignore[comparison-overlap]
            continue
        what = "negation" if kind == "neg" else "an aggregate"
        findings.append(
            Finding(
                _rel(file, policy.root),
                line,
                col,
                "error",
                f"not stratified: {h[0]}/{h[1]} depends on {b[0]}/{b[1]} through {what} inside a "
                "recursive cycle / 非分层：递归环中含否定或聚合",
                "break the cycle: compute the negated/aggregated predicate from inputs only, or split "
                "the predicate by stage (e.g. by data year)",
                "not-stratified",
            )
        )
        reported.add((line, col))  # type: ignore[arg-type]


def _sccs(edges: dict[tuple[str, int], set[tuple[str, int]]]) -> dict[tuple[str, int], int]:
    """Strongly connected components (Tarjan); nodes in a cycle get a component id (others None)."""
    index: dict[Any, int] = {}
    low: dict[Any, int] = {}
    stack: list[Any] = []
    on: set[Any] = set()
    comp: dict[Any, int] = {}
    counter = [0, 0]
    nodes = set(edges) | {b for bs in edges.values() for b in bs}

    def strong(v: Any) -> None:
        work = [(v, iter(sorted(edges.get(v, ()))))]
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        while work:
            node, it = work[-1]
            advanced = False
            for w in it:
                if w not in index:
                    index[w] = low[w] = counter[0]
                    counter[0] += 1
                    stack.append(w)
                    on.add(w)
                    work.append((w, iter(sorted(edges.get(w, ())))))
                    advanced = True
                    break
                if w in on:
                    low[node] = min(low[node], index[w])
            if advanced:
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                members = []
                while True:
                    w = stack.pop()
                    on.discard(w)
                    members.append(w)
                    if w == node:
                        break
                cyclic = len(members) > 1 or node in edges.get(node, set())
                if cyclic:
                    for m in members:
                        comp[m] = counter[1]
                    counter[1] += 1

    for v in sorted(nodes):
        if v not in index:
            strong(v)
    return comp


def _runtime(policy: Policy, findings: list[Finding]) -> None:
    """Ground the policy's own cases: every atom must be a fact and the model unique."""
    from ..inputs import facts as factmod
    from ..numbers import Functions
    from .cases import load_cases

    try:
        cases = load_cases(policy)
    except PolicyError as exc:
        findings.append(Finding(exc.file or "cases", exc.line or 1, 1, "error", exc.text, "", "cases"))
        return
    for case in cases:
        if case.expect_error is not None:
            continue
        try:
            companies, city = case.data(policy.schema)
        except FuchiError:
            continue
        ctl = clingo.Control(["--models=2"], logger=lambda c, m: None)
        for rf in policy.rule_files:
            ctl.load(str(rf))
        with ctl.backend() as backend:

            def emit(sym: clingo.Symbol, path: str = "") -> None:
                backend.add_rule([backend.add_atom(sym)])

            for sym in policy.param_symbols():
                emit(sym)
            for n, co in enumerate(companies):
                factmod.company_facts(n, co, emit, policy.schema)
            factmod.city_facts(city, emit, policy.schema)
        try:
            ctl.ground([("base", [])], context=Functions())
        except (RuntimeError, FuchiError):
            continue
        not_facts = [a.symbol for a in ctl.symbolic_atoms if not a.is_fact]
        models = 0
        with ctl.solve(yield_=True) as handle:
            for _ in handle:
                models += 1
        if not_facts or models != 1:
            sample = ", ".join(str(s) for s in sorted(not_facts)[:3])
            findings.append(
                Finding(
                    case.file,
                    1,
                    1,
                    "error",
                    f"case {case.name!r}: {models} answer set(s); atoms left undecided by the "
                    f"grounder: {sample or 'none'} / 运行时非分层",
                    "the program is not stratified for this data: look for recursion through "
                    "negation or aggregates involving these predicates",
                    "not-stratified",
                )
            )
            return

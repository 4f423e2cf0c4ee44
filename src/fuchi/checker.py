"""``fuchi check``: is a policy directory well-formed? Findings with file:line:col, severity and a hint.

Checks, in order: the policy files load (metadata, parameters); every rule file parses; the program
grounds (unsafe variables); predicates used in a body but defined nowhere (clingo's "atom does not
occur in any rule head", usually a typo); parameters used in rules but not defined, or defined but
unused; rules without a ``%@ rule/clause`` annotation, clause ids the metadata does not know, duplicate
rule ids; stratification (a static predicate-dependency check: negation or an aggregate inside a
recursive cycle, choice or disjunctive heads), then at run time on the policy's own cases: every atom is
a fact after grounding and there is exactly one answer set.
"""

from __future__ import annotations

import difflib
import re
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import clingo
from clingo import ast

from .engines.clingo import Diagnostic, parse_message
from .errors import FuchiError, PolicyError
from .policy import Policy, load_policy

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
    _ground(policy, findings)
    if any(f.code in ("unsafe", "ground") for f in findings):
        return _sorted(findings)
    _annotations(policy, statements, findings)
    _parameters(policy, statements, findings)
    _stratification(policy, statements, findings)
    _number_kinds(policy, statements, findings)
    if not any(f.code in ("not-stratified", "choice-head") for f in findings):
        _sql(policy, findings)  # (an unstratified program is reported once, not also as not compilable)
    if not any(f.severity == "error" for f in findings):
        _runtime(policy, findings)
    return _sorted(findings)


def _sql(policy: Policy, findings: list[Finding]) -> None:
    """Check that the policy compiles to SQL and that inputs.yaml agrees with the inputs the rules read.

    A rule the compiler cannot take is a warning at its line (``evaluate`` then runs clingo, more slowly).
    """
    from .compiler import CompileError, compile_policy
    from .compiler.inputs import input_shapes
    from .compiler.program import read_rules

    try:
        source = read_rules(policy.rule_files, policy.root)
        declared = input_shapes(policy)
    except CompileError as exc:
        findings.append(_sql_finding(policy, exc))
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
                    f"add '{sig[0]}: [kind, …]' under predicates: (docs/sql-engine.md)",
                    "inputs",
                )
            )
    try:
        plan = compile_policy(policy)
    except CompileError as exc:
        findings.append(_sql_finding(policy, exc))
        return
    seen = {(Path(f.file).name, f.line) for f in findings if f.code == "number-kinds"}
    for rule, text in plan.kind_mismatches:
        if (Path(rule.file).name, rule.line) in seen:
            continue  # reported by the kind propagation above
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
    from .compiler.program import Agg, BinOp, Call, Cmp, Func, Lit, Neg, Str

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
    from .numbers import Functions

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


def _parameters(policy: Policy, statements: list[tuple[str, Any]], findings: list[Finding]) -> None:
    used: dict[str, tuple[str, int, int]] = {}

    def visit(node: Any, file: str) -> None:
        if isinstance(node, ast.AST):
            if node.ast_type == ast.ASTType.Function and node.name == "param" and node.arguments:
                first = node.arguments[0]
                name = None
                if first.ast_type == ast.ASTType.Function and not first.arguments:
                    name = first.name
                elif first.ast_type == ast.ASTType.SymbolicTerm and first.symbol.type == clingo.SymbolType.Function:
                    name = first.symbol.name
                if name is not None:
                    used.setdefault(name, (file, node.location.begin.line, node.location.begin.column))
            for key in node.child_keys:
                visit(getattr(node, key), file)
        elif isinstance(node, list | tuple | ast.ASTSequence):
            for child in node:
                visit(child, file)

    for file, stm in statements:
        visit(stm, file)
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
_FUNCTION_KINDS = {"share": "money", "cap": "money", "ratio": "decimal", "growth": "decimal", "scale": "decimal"}


def _number_kinds(policy: Policy, statements: list[tuple[str, Any]], findings: list[Finding]) -> None:
    """Comparisons must compare like with like: money with money, decimals with decimals (docs/numbers.md).

    Kinds come from the input predicates (facts.FACT_TYPES), the parameters' declared types, the constant
    ``zero`` and the @functions, and flow through rule heads to derived predicates until nothing changes. A
    comparison whose sides may hold unlike kinds (e.g. a money input against a parameter declared decimal,
    possibly through a derived predicate) is an error.
    """
    from .facts import FACT_TYPES

    kinds: dict[tuple[str, int], dict[int, set[str]]] = {
        k: {pos: {kind} for pos, kind in v.items()} for k, v in FACT_TYPES.items()
    }
    param2 = {p.name: _KINDS.get(p.type) for p in policy.parameters.values() if p.type != "table"}
    param3 = {p.name: _KINDS.get(p.value_type or "") for p in policy.parameters.values() if p.type == "table"}
    keys3 = {p.name: _KINDS.get(p.key_type or "") for p in policy.parameters.values() if p.type == "table"}
    rules = [(file, stm) for file, stm in statements if stm.ast_type == ast.ASTType.Rule]

    def term_kinds(t: Any, env: dict[str, set[str]]) -> set[str]:
        if t.ast_type == ast.ASTType.Variable:
            return env.get(t.name, set())
        if t.ast_type == ast.ASTType.SymbolicTerm:
            sym = t.symbol
            if sym.type == clingo.SymbolType.Number:
                return {"integer"}
            if sym.type == clingo.SymbolType.Function and sym.name == "zero" and not sym.arguments:
                return {"money"}
            return set()
        if t.ast_type == ast.ASTType.Function:
            if t.external:
                return {_FUNCTION_KINDS[t.name]} if t.name in _FUNCTION_KINDS else set()
            if t.name == "zero" and not t.arguments:
                return {"money"}
        return set()

    def env_of(body: Any) -> dict[str, set[str]]:
        env: dict[str, set[str]] = {}
        for lit in body:
            if lit.ast_type != ast.ASTType.Literal or lit.sign != ast.Sign.NoSign:
                continue
            atom = lit.atom
            if atom.ast_type == ast.ASTType.Comparison and len(atom.guards) == 1:
                left, right = atom.term, atom.guards[0].term
                if left.ast_type == ast.ASTType.Variable and atom.guards[0].comparison == ast.ComparisonOperator.Equal:
                    env.setdefault(left.name, set()).update(term_kinds(right, env))
                continue
            if atom.ast_type != ast.ASTType.SymbolicAtom or atom.symbol.ast_type != ast.ASTType.Function:
                continue
            sym = atom.symbol
            args = sym.arguments
            known = {pos: set(k) for pos, k in kinds.get((sym.name, len(args)), {}).items()}
            name = _constant_name(args[0]) if sym.name == "param" and args else None
            if name is not None:
                value = (param3 if len(args) == 3 else param2).get(name)
                if value:
                    known[len(args) - 1] = {value}
                key = keys3.get(name) if len(args) == 3 else None
                if key:
                    known[1] = {key}
            for pos, kind in known.items():
                if pos < len(args) and args[pos].ast_type == ast.ASTType.Variable:
                    env.setdefault(args[pos].name, set()).update(kind)
        return env

    changed = True
    while changed:  # propagate kinds to derived predicates
        changed = False
        for _, stm in rules:
            head = stm.head
            if head.ast_type != ast.ASTType.Literal or head.atom.ast_type != ast.ASTType.SymbolicAtom:
                continue
            sym = head.atom.symbol
            if sym.ast_type != ast.ASTType.Function:
                continue
            env = env_of(stm.body)
            slot = kinds.setdefault((sym.name, len(sym.arguments)), {})
            for pos, arg in enumerate(sym.arguments):
                new = term_kinds(arg, env) & {"money", "decimal"}
                if not new <= slot.get(pos, set()):
                    slot.setdefault(pos, set()).update(new)
                    changed = True
    for file, stm in rules:
        env = env_of(stm.body)
        for lit in stm.body:
            if lit.ast_type != ast.ASTType.Literal or lit.atom.ast_type != ast.ASTType.Comparison:
                continue
            atom = lit.atom
            found: set[str] = set()
            for t in [atom.term, *(g.term for g in atom.guards)]:
                found |= term_kinds(t, env)
            if found & {"money", "decimal"} and len(found) > 1:
                findings.append(
                    Finding(
                        _rel(file, policy.root),
                        lit.location.begin.line,
                        lit.location.begin.column,
                        "error",
                        f"comparison of unlike numbers ({' / '.join(sorted(found))}): {atom} / 比较了不同类型的数",
                        "clingo orders money terms, decimal terms and integers by type, not by value: compare money "
                        "with money (parameters of type yuan) and decimals with decimals (docs/numbers.md)",
                        "number-kinds",
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
    from . import facts as factmod
    from .cases import load_cases
    from .numbers import Functions

    try:
        cases = load_cases(policy)
    except PolicyError as exc:
        findings.append(Finding(exc.file or "cases", exc.line or 1, 1, "error", exc.text, "", "cases"))
        return
    for case in cases:
        if case.expect_error is not None:
            continue
        try:
            companies, city = case.data()
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
                factmod.company_facts(n, co, emit)
            factmod.city_facts(city, emit)
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

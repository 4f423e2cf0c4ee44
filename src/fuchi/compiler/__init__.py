"""The policy compiler: ``.lp`` rules (through ``clingo.ast``) → a SQL plan for DuckDB or Spark SQL.

* :mod:`.program` reads the rules into the fragment the compiler takes;
* :mod:`.shapes` lays clingo terms out in columns and orders them as clingo does;
* :mod:`.plan` compiles the rules, in stratified order, into one table per predicate variant;
* :mod:`.functions` gives the exact SQL of the ``@functions`` (DuckDB macros);
* :mod:`.dialect` is what differs between DuckDB and Spark SQL (types, parameters, structs, division, the
  ``@functions`` inlined for Spark);
* :mod:`.inputs` reads the policy's declared input predicates (``inputs.yaml``);
* :mod:`.reader` compiles that schema to SQL that reads raw JSON Lines in DuckDB and lays out their facts;
* :mod:`.messages` compiles the reason templates (``messages.yaml``) to SQL expressions.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import clingo

from ..errors import PolicyError
from ..policy import Policy
from ..rules import UNDEFINED
from .dialect import DIALECTS, DUCKDB, Dialect
from .errors import CompileError
from .inputs import input_shapes
from .plan import Compiler, Plan, Statement, Table
from .program import Rule, read_rules
from .shapes import Fun, Shape, shape_of

__all__ = ["DIALECTS", "CompileError", "Dialect", "Plan", "Statement", "Table", "compile_policy"]


def compile_policy(
    policy: Policy,
    params: Sequence[clingo.Symbol] | None = None,
    dialect: Dialect = DUCKDB,
    extra: Sequence[tuple[str, Any]] = (),
) -> Plan:
    """Compile a policy to a SQL plan.

    Args:
        policy: The loaded policy.
        params: Parameter facts replacing the policy's (their shapes decide the ``param`` tables).
        dialect: The SQL dialect of the statements (:data:`fuchi.compiler.dialect.DUCKDB` or ``SPARK``).
        extra: More rules (``clingo.ast`` rules, each with its file relative to the policy), compiled with
            the policy's: the recording rules of :mod:`fuchi.explanation.lines`.

    Raises:
        CompileError: A rule outside the fragment, recursion, an unknown ``@function``, a missing or
            malformed ``inputs.yaml``; each at its ``file:line``.
        PolicyError: A rule file does not parse, or a rule reads a predicate that no rule derives and no
            input declares (as the clingo engine refuses it: no engine runs such a policy).

    """
    source = read_rules(policy.rule_files, policy.root, extra)
    inputs = input_shapes(policy)
    for sym in policy.param_symbols() if params is None else params:
        name, *rest = sym.arguments  # the parameter's name is part of the variant (no column)
        shapes: tuple[Shape, ...] = (Fun(name.name, ()), *(shape_of(a) for a in rest))
        lst = inputs.setdefault((sym.name, len(sym.arguments)), [])
        if shapes not in lst:
            lst.append(shapes)
    for sig in sorted(source.defined):
        inputs.setdefault(sig, [])
    _refuse_undefined(policy, source.rules, inputs.keys())
    plan = Compiler(source.rules, inputs, dialect).compile()
    for rule in source.rules:
        info = policy.rule_at(rule.file, rule.line)
        if info is not None:
            plan.rule_ids[(rule.file, rule.line)] = info.id
    return plan


def _refuse_undefined(policy: Policy, rules: Sequence[Rule], inputs: Iterable[tuple[str, int]]) -> None:
    """Refuse the first rule (in file order) reading a predicate nothing defines: a typo, never a fallback."""
    known = set(inputs) | {r.head.signature for r in rules}
    for rule in rules:
        missing = sorted(rule.reads() - known)
        if missing:
            name, arity = missing[0]
            where = policy.root / rule.file
            raise PolicyError(
                f"{UNDEFINED} {name}/{arity} (no rule derives it and no input declares it)", str(where), rule.line
            )

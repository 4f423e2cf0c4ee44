"""The compiled plan and the compiled JSON Lines reader as text for a reviewer (``fuchi compile``)."""

from __future__ import annotations

import re

from ..policy import Policy
from .functions import FUNCTIONS
from .plan import Plan
from .program import Rule
from .reader import READER_PRELUDE, Reader


def _literal(value: object) -> str:
    """A parameter value shown in the listing (the engine binds it; this text is never executed).

    Control characters, C1 controls and bidi overrides are shown as escapes, so a string in a rule file
    cannot move the terminal's cursor or reorder the listing.
    """
    if isinstance(value, int):
        return str(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_literal(v) for v in value) + "]"
    out = []
    for ch in str(value).replace("'", "''"):
        code = ord(ch)
        if code < 0x20 or 0x7F <= code <= 0x9F or 0x202A <= code <= 0x202E or 0x2066 <= code <= 0x2069:
            out.append(f"\\u{code:04x}")
        else:
            out.append(ch)
    return "'" + "".join(out) + "'"


def render_plan(plan: Plan, policy: Policy) -> str:
    """Render the plan: inputs, the exact-arithmetic macros, then each statement with its rules."""
    dialect = plan.dialect
    if dialect.name == "duckdb":
        header = [
            "-- 由 fuchi 从规则文件编译 compiled by fuchi from the rule files; the DuckDB engine runs these statements",
            "-- in this order. Parameters ($n) are bound when run; their values are shown here in /* */.",
        ]
    else:
        header = [
            "-- 由 fuchi 从规则文件编译 compiled by fuchi from the rule files, Spark SQL: fuchi evaluate --engine",
            "-- spark runs each query in this order and checkpoints its result as the temporary view of that name.",
            "-- Parameters (:pn) are bound when run; their values are shown here in /* */.",
        ]
    out = [
        f"-- fuchi compile: {policy.id} {policy.version} {policy.digest}",
        *header,
        "",
        "-- ---- 输入表 input tables (one per variant of each input predicate; columns are the term leaves) ----",
    ]
    for tables in plan.inputs.values():
        for t in tables:
            cols = ", ".join(f"{c} {dialect.type_of(leaf)}" for c, leaf in zip(t.columns, t.leaf_types, strict=True))
            out.append(f"-- {t.name}({cols})  ← {t.describe()}")
    out += ["", "-- ---- 精确运算 exact arithmetic (@functions) ----"]
    for f in FUNCTIONS.values():
        args = ", ".join(str(a) for a in f.args)
        out.append(f"-- @{f.name}({args}) → {f.result}: {f.doc}")
    out.append(dialect.prelude.strip())
    out += ["", "-- ---- 规则 rules, in stratified order ----"]

    def label(rule: Rule) -> str:
        rid = plan.rule_ids.get((rule.file, rule.line), "")
        return f"rule {rid + ' ' if rid else ''}({rule.file}:{rule.line})"

    for st in plan.statements:
        sql, params = st.finalize(label)
        out.append("")
        out.append(f"-- ==== {st.table.describe()}")

        def shown(m: re.Match[str], params: list[object] = params) -> str:
            return f"{m.group(0)} /* {_literal(params[int(m.group(1)) - 1])} */"

        out.append(dialect.marker.sub(shown, sql) + ";")
    return "\n".join(out) + "\n"


def render_reader(reader: Reader, policy: Policy) -> str:
    """Render the compiled JSON Lines reader (:mod:`fuchi.compiler.reader`): its statements, in order."""
    out = [
        f"-- fuchi compile --reader: {policy.id} {policy.version} {policy.digest}",
        "-- 由 fuchi 从 inputs.yaml 编译 compiled by fuchi from inputs.yaml: the SQL engine runs these statements in",
        "-- this order on fuchi_lines(n, t), the raw JSON Lines of a batch. fuchi_unsure collects the lines it does",
        "-- not vouch for (the Python loader reads those); the INSERTs lay out the facts of the others.",
        "-- Parameters ($n) are bound when run; their values are shown here in /* */.",
        "",
        "-- ---- 宏 macros ----",
        READER_PRELUDE.strip(),
    ]
    marker = re.compile(r"\$(\d+)")
    sections = (
        ("检查 reading and checks", reader.setup),
        ("事实 facts of the lines vouched for", reader.facts),
        ("企业 the enterprises read in SQL (id, name)", (reader.light,)),
        ("记录文本 record texts of the reason templates (INSERT INTO fuchi_rec)", reader.records),
    )
    for title, queries in sections:
        out += ["", f"-- ---- {title} ----"]
        for q in queries:

            def shown(m: re.Match[str], params: tuple[object, ...] = q.params) -> str:
                return f"{m.group(0)} /* {_literal(params[int(m.group(1)) - 1])} */"

            out.append(marker.sub(shown, q.sql) + ";")
    return "\n".join(out) + "\n"

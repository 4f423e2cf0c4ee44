"""The SQL engine: run the compiled plan of a policy on embedded DuckDB.

The facts of a batch are the clingo engine's (the same fact builder, :mod:`fuchi.facts`), laid out in the
input tables of the plan (one per variant of each input predicate, :mod:`fuchi.compiler.shapes`) and
handed to DuckDB as Arrow columns; then every statement of the plan runs in order, and the output
predicates (``decision/7``, ``touched/3``, ``input_error/3``, ``input_warning/3``, ``flag/2``) are read
back into the same :class:`~fuchi.engine.Outcome` the clingo engine produces, checked and ordered by the
same code. Same facts and the same rules: the same outcome, byte for byte after rendering.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence

import clingo
import duckdb
import pyarrow as pa

from .. import facts as factmod
from ..compiler import Plan, Table, compile_policy
from ..compiler.functions import PRELUDE
from ..compiler.shapes import Fun, Leaf, Shape, Special, build, fits, flatten_as, leaves, sql_type, width
from ..engine import Decision, Flag, Outcome, complete
from ..errors import PolicyError
from ..numbers import LIMB
from ..policy import Policy
from ..records import City, Company

log = logging.getLogger(__name__)

_OUTPUTS = {("decision", 7), ("touched", 3), ("input_error", 3), ("input_warning", 3), ("flag", 2)}
_STATUSES = frozenset(
    (
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
)


class SqlEngine:
    """Solves batches of enterprises with the policy compiled to SQL.

    Args:
        policy: The loaded policy.
        threads: DuckDB threads per connection (None: DuckDB's default).

    Raises:
        CompileError: The policy is outside the compiler's fragment (see :mod:`fuchi.compiler`).

    """

    name = "sql"

    def __init__(self, policy: Policy, threads: int | None = None) -> None:
        self.policy = policy
        self.params = policy.param_symbols()
        self.plan = compile_policy(policy, self.params)
        self._plans: dict[tuple[clingo.Symbol, ...], Plan] = {tuple(self.params): self.plan}
        self.threads = threads
        self._symbols: dict[tuple[Shape, tuple[object, ...]], clingo.Symbol] = {}

    def plan_for(self, params: Sequence[clingo.Symbol] | None) -> Plan:
        """The plan for these parameter facts (compiled once per distinct set)."""
        key = tuple(self.params if params is None else params)
        plan = self._plans.get(key)
        if plan is None:
            plan = self._plans[key] = compile_policy(self.policy, key)
        return plan

    def solve(self, companies: Sequence[Company], city: City, params: Sequence[clingo.Symbol] | None = None) -> Outcome:
        """Solve one batch.

        Raises:
            PolicyError: The plan fails (exact arithmetic out of range, a division by zero), a fact does not
                match ``inputs.yaml``, or the decisions are not one per touched item.
        """
        plan = self.plan_for(params)
        con = duckdb.connect(config={"threads": self.threads} if self.threads else {})
        try:
            con.execute(PRELUDE)
            self._load(con, plan, companies, city, self.params if params is None else params)
            for st in plan.statements:
                sql, values = st.finalize()
                try:
                    con.execute(sql, values)
                except duckdb.Error as exc:
                    raise _plan_error(exc, st.selects[0][0].file, st.selects[0][0].line) from exc
            return self._read(con, plan)
        finally:
            con.close()

    # ---- input ----------------------------------------------------------------------------------------

    def _load(
        self,
        con: duckdb.DuckDBPyConnection,
        plan: Plan,
        companies: Sequence[Company],
        city: City,
        params: Sequence[clingo.Symbol],
    ) -> None:
        columns: dict[str, list[list[object]]] = {}
        for tables in plan.inputs.values():
            for t in tables:
                columns[t.name] = [[] for _ in t.columns]
        index: dict[tuple[str, int], list[Table]] = plan.inputs
        row: list[object] = []

        def emit(sym: clingo.Symbol, path: str = "") -> None:
            args = sym.arguments
            tables = index.get((sym.name, len(args)))
            if tables is None:
                raise PolicyError(f"input fact {sym} has no predicate in inputs.yaml / 输入谓词未声明", "inputs.yaml")
            table = _variant_of(tables, sym)
            row.clear()
            try:
                for s, a in zip(table.shapes, args, strict=True):
                    flatten_as(s, a, row)
            except (ValueError, AttributeError, RuntimeError) as exc:
                raise PolicyError(f"input fact {sym} does not match inputs.yaml / 输入与声明不符", "inputs.yaml") from exc
            cols = columns[table.name]
            if len(row) != len(cols):
                raise PolicyError(f"input fact {sym} does not match inputs.yaml / 输入与声明不符", "inputs.yaml")
            for c, v in zip(cols, row, strict=True):
                c.append(v)

        for sym in params:
            emit(sym)
        for c, co in enumerate(companies):
            factmod.company_facts(c, co, emit)
        factmod.city_facts(city, emit)
        for tables in plan.inputs.values():
            for t in tables:
                _create(con, t, columns[t.name])

    # ---- output ---------------------------------------------------------------------------------------

    def _read(self, con: duckdb.DuckDBPyConnection, plan: Plan) -> Outcome:
        out = Outcome()
        decisions: list[Decision] = []
        touched: set[tuple[int, int, str]] = set()
        for t in plan.tables(("decision", 7)):
            c_s, y_s, i_s, st_s, a_s, p_s, r_s = t.shapes
            if c_s != Fun("c", (Leaf("int"),)) or y_s != Leaf("int") or i_s != Leaf("str") or st_s != Leaf("sym"):
                raise PolicyError(f"decision/7 with arguments {t.describe()}: expected decision(c(N), Year, Item, …)")
            for r in _rows(con, t):
                status = r[3]
                if status not in _STATUSES:
                    raise PolicyError(f"unknown status {status!r} in a decision / 未知状态")
                at = 4
                fen = _fen(a_s, r[at : at + width(a_s)])
                at += width(a_s)
                payable = r[at] if p_s == Leaf("int") else None
                at += width(p_s)
                reason = self._symbol(r_s, r[at:])
                if fen % 100:
                    raise PolicyError(f"decision amount {fen} fen is not whole yuan (ruling W3) / 金额须为整元")
                decisions.append(Decision(r[0], r[1], r[2], status, fen // 100, payable, reason))
        for t in plan.tables(("touched", 3)):
            if t.shapes[:2] == (Fun("c", (Leaf("int"),)), Leaf("int")) and t.shapes[2] == Leaf("str"):
                touched.update((r[0], r[1], r[2]) for r in _rows(con, t))
        for sig, dest in ((("input_error", 3), out.errors), (("input_warning", 3), out.warnings)):
            for t in plan.tables(sig):
                company_s, field_s, reason_s = t.shapes
                w = width(field_s)
                for r in _rows(con, t):
                    dest.append(Flag(_company(company_s, r[0]), self._symbol(field_s, r[1 : 1 + w]),
                                     self._symbol(reason_s, r[1 + w :])))
        for t in plan.tables(("flag", 2)):
            for r in _rows(con, t):
                out.flags.append((_company(t.shapes[0], r[0]), str(self._symbol(t.shapes[1], r[1:]))))
        complete(self.policy, decisions, touched, out)
        return out

    def _symbol(self, shape: Shape, values: Sequence[object]) -> clingo.Symbol:
        key = (shape, tuple(values))
        sym = self._symbols.get(key)
        if sym is None:
            if len(self._symbols) > 200_000:
                self._symbols.clear()
            sym = self._symbols[key] = build(shape, iter(values))
        return sym


def _variant_of(tables: Sequence[Table], sym: clingo.Symbol) -> Table:
    args = sym.arguments
    for t in tables:
        if all(fits(s, a) for s, a in zip(t.shapes, args, strict=True)):
            return t
    raise PolicyError(f"input fact {sym} does not match inputs.yaml / 输入与声明不符", "inputs.yaml")


def _create(con: duckdb.DuckDBPyConnection, table: Table, cols: list[list[object]]) -> None:
    types = [sql_type(leaf) for leaf in table.leaf_types]
    if not cols:  # a predicate without arguments: one row when it holds
        raise PolicyError(f"input predicate {table.signature[0]}/0 is not supported by the SQL engine")
    arrays = [pa.array(c, type=pa.int64() if ty == "BIGINT" else pa.string()) for c, ty in zip(cols, types, strict=True)]
    data = pa.Table.from_arrays(arrays, names=table.columns)
    con.register("fuchi_input", data)
    con.execute(f"CREATE TABLE {table.name} AS SELECT * FROM fuchi_input")
    con.unregister("fuchi_input")


def _rows(con: duckdb.DuckDBPyConnection, t: Table) -> list[tuple[object, ...]]:
    return con.execute(f"SELECT * FROM {t.name}").fetchall()


def _company(shape: Shape, value: object) -> int:
    if shape != Fun("c", (Leaf("int"),)) or not isinstance(value, int):
        raise PolicyError(f"expected an enterprise term c(N), got a term of shape {shape}")
    return value


def _fen(shape: Shape, values: Sequence[object]) -> int:
    if not (isinstance(shape, Fun) and shape.name == "m" and len(shape.args) == 3 and all(
        a == Leaf("int") for a in shape.args)):
        raise PolicyError(f"decision amount is not a money term: a term of shape {shape}")
    a, b, c = (int(v) for v in values)  # type: ignore[call-overload]
    if a < 0 or not (0 <= b < LIMB and 0 <= c < LIMB):
        raise PolicyError(f"decision amount m({a},{b},{c}) is not a normalised money term")
    return (a * LIMB + b) * LIMB + c


_FUCHI = re.compile(r"fuchi: (.*)", re.S)


def _plan_error(exc: duckdb.Error, file: str, line: int) -> PolicyError:
    text = str(exc)
    m = _FUCHI.search(text)
    if m is not None:
        return PolicyError(f"exact arithmetic refused a value / 精确运算拒绝: {m.group(1).strip()}")
    if "Overflow" in text or "out of range" in text.lower():
        return PolicyError(f"exact arithmetic refused a value / 精确运算拒绝: {text.splitlines()[0]}", file, line)
    if "Division by zero" in text:
        return PolicyError("division by zero in a rule (clingo: operation undefined) / 规则中除以零", file, line)
    return PolicyError(f"the SQL engine failed: {text.splitlines()[0]}", file, line)


__all__ = ["SqlEngine", "Special", "leaves"]

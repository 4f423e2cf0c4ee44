"""The Spark engine: run the policy's compiled plan (Spark SQL dialect) through pyspark.

The same plan as the DuckDB engine (:mod:`fuchi.engines.sql`), compiled with the Spark dialect
(:mod:`fuchi.compiler.dialect`): exact arithmetic inlined over ``DECIMAL(38,0)`` fen, ANSI mode so that
every overflow is an error, never a NULL. The facts of a batch are the clingo engine's, laid out by the same
code (:func:`fuchi.compiler.inputs.batch_columns`), so validation and its messages are the loader's: on the
executors for JSON Lines files, which Spark reads itself (:meth:`SparkEngine.solve_files`,
:mod:`fuchi.engines.spark_input`); otherwise on the driver, handed to Spark as DataFrames with an explicit
schema (:meth:`SparkEngine.solve`). Each statement's query runs in plan order (the statements
of one dependency level side by side, from a few driver threads) and its result is checkpointed
(``localCheckpoint``) as the temporary view of the table's name; the output views are read back into the
same :class:`~fuchi.engines.clingo.Outcome` as the other engines, checked and ordered by the same code.

pyspark is optional (``pip install 'fuchi[spark]'``, Java 17). One SparkContext (one JVM) per process, reused
by every batch; each batch has a session of its own (its temporary views), so batches may run side by side
from threads. Local mode ``local[2]`` unless a master URL is given (``--spark-master``, or
``FUCHI_SPARK_MASTER``).
"""

from __future__ import annotations

import os
import re
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

import clingo

from ..compiler import Plan, Statement, Table, compile_policy
from ..compiler.dialect import SPARK, empty_query
from ..compiler.inputs import InputLayout, batch_columns
from ..compiler.messages import record_fields
from ..compiler.plan import _TABLE_NAME
from ..compiler.shapes import MONEY, Fun, Leaf, Shape, build, width
from ..errors import FuchiError, PolicyError
from ..inputs.records import City, Company
from ..inputs.schema import Schema
from ..numbers import LIMB
from ..policy import Policy
from .clingo import STATUSES, Decision, Flag, Outcome, complete

DEFAULT_MASTER = "local[2]"
MASTER_ENV = "FUCHI_SPARK_MASTER"
#: Session settings the engine relies on (exactness) or that suit a plan of many small statements.
SETTINGS = {
    "spark.sql.ansi.enabled": "true",  # overflow and invalid casts raise, never NULL
    "spark.sql.storeAssignmentPolicy": "ANSI",
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.adaptive.enabled": "false",  # small statements: re-planning costs more than it saves
    # clingo's term order compiles to chains of (a < b OR (a = b AND …)): inferring constraints from them
    # explodes combinatorially in the optimizer (millions of And/Or nodes, minutes per statement)
    "spark.sql.constraintPropagation.enabled": "false",
    "spark.sql.ui.retainedExecutions": "20",  # plans of finished statements are not kept
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.cleaner.periodicGC.interval": "1min",  # checkpointed tables of finished batches are freed on GC
    # input tables travel as Arrow batches (no Python worker processes); never fall back to pickled rows
    "spark.sql.execution.arrow.pyspark.enabled": "true",
    "spark.sql.execution.arrow.pyspark.fallback.enabled": "false",
}
_STATIC = {"spark.sql.ui.retainedExecutions"}
#: Settings for local mode only (on a cluster the cluster's own apply).
LOCAL_SETTINGS = {"spark.sql.shuffle.partitions": "2", "spark.default.parallelism": "2", "spark.driver.memory": "2g"}
#: Driver threads submitting the statements of one dependency level side by side.
THREADS = 4
#: Skip the SELECTs that join a table found empty (one small job per statement to find out).
CHECK_EMPTY = True

_OUTPUTS = {("decision", 7), ("touched", 3), ("input_error", 3), ("input_warning", 3), ("flag", 2)}
_STATUSES = frozenset(STATUSES)
_SESSION: Any = None
_SESSION_LOCK = threading.Lock()
_PLANS: dict[tuple[str, str, tuple[clingo.Symbol, ...]], Plan] = {}


class SparkUnavailable(FuchiError):
    """pyspark (or Java) is not available."""


_MASTER: list[str] = []


def set_master(url: str) -> None:
    """Use this master URL for the sessions this process creates (``fuchi evaluate --spark-master``)."""
    _MASTER[:] = [url]


def master_url(master: str | None = None) -> str:
    """The master URL: the one given, else :func:`set_master`'s, else ``$FUCHI_SPARK_MASTER``, else ``local[2]``."""
    return master or (_MASTER[0] if _MASTER else None) or os.environ.get(MASTER_ENV) or DEFAULT_MASTER


def session(master: str | None = None) -> Any:
    """The process's SparkSession (created on first use with :data:`SETTINGS`; reused afterwards).

    Raises:
        SparkUnavailable: pyspark is not installed or the JVM does not start.
        PolicyError: A session with another master already runs in this process.
    """
    global _SESSION
    url = master_url(master)
    with _SESSION_LOCK:
        if _SESSION is not None:
            running = _SESSION.sparkContext.master
            if running != url:
                raise PolicyError(f"a Spark session with master {running} already runs in this process, not {url}")
            return _SESSION
        try:
            from pyspark.sql import SparkSession
        except ImportError as exc:
            raise SparkUnavailable(
                "the Spark engine needs pyspark: pip install 'fuchi[spark]' (and Java 17) / 需要安装 pyspark"
            ) from exc
        if url.startswith("local"):  # the executors' Python (JSON Lines read by Spark) is this one, with fuchi
            os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
        builder = SparkSession.builder.master(url).appName("fuchi")
        for k, v in {**SETTINGS, **(LOCAL_SETTINGS if url.startswith("local") else {})}.items():
            builder = builder.config(k, v)
        try:
            spark = builder.getOrCreate()
        except Exception as exc:  # the JVM did not start (no Java, a bad master URL)
            raise SparkUnavailable(f"Spark did not start (master {url}): {str(exc).splitlines()[0]}") from exc
        spark.sparkContext.setLogLevel("FATAL")  # its task failures are in the exception fuchi reports
        _SESSION = spark
        return spark


def spark_plan(policy: Policy, params: Sequence[clingo.Symbol] | None) -> Plan:
    """The policy's plan in the Spark dialect for these parameter facts (compiled once per process).

    Raises:
        CompileError: The policy is outside the compiler's fragment.
    """
    syms = tuple(policy.param_symbols() if params is None else params)
    key = (str(policy.root), policy.digest, syms)
    plan = _PLANS.get(key)
    if plan is None:
        if len(_PLANS) > 64:
            _PLANS.clear()
        plan = _PLANS[key] = compile_policy(policy, syms, dialect=SPARK)
    return plan


class SparkEngine:
    """Solves batches of enterprises with the policy compiled to Spark SQL.

    Args:
        policy: The loaded policy.
        master: The Spark master URL (None: ``$FUCHI_SPARK_MASTER`` or ``local[2]``).

    Raises:
        CompileError: The policy is outside the compiler's fragment.
        SparkUnavailable: pyspark or Java is missing.

    """

    name = "spark"

    def __init__(self, policy: Policy, master: str | None = None) -> None:
        self.policy = policy
        self.params = policy.param_symbols()
        self.plan = spark_plan(policy, self.params)
        self.spark = session(master)
        self._symbols: dict[str, dict[tuple[object, ...], clingo.Symbol]] = {}
        self._symbols_lock = threading.Lock()

    def solve(self, companies: Sequence[Company], city: City, params: Sequence[clingo.Symbol] | None = None) -> Outcome:
        """Solve one batch.

        Raises:
            PolicyError: The plan fails (exact arithmetic out of range, integer arithmetic beyond 32 bits, a
                division by zero), a fact does not match ``inputs.yaml``, or the decisions are not one per
                touched item.
        """
        plan = spark_plan(self.policy, params) if params is not None else self.plan
        with self._session() as (spark, views):
            empty = self._load(spark, plan, companies, city, self.params if params is None else params, views)
            self._run(spark, plan, empty, views)
            return self._read(spark, plan)

    def solve_files(
        self, files: Sequence[str], city: City, schema: Schema, batch: int
    ) -> Iterator[tuple[Outcome, list[Company]]]:
        """Solve JSON Lines files read by Spark itself (:mod:`fuchi.engines.spark_input`), batch by batch.

        Every line is read and validated on the executors first; then each batch of ``batch`` lines of a
        file is solved. Yields each batch's outcome and its enterprises (each with its id, file, line, name
        and the record texts the reasons need), in input order.

        Raises:
            InputError: The first line the loader refuses or the first id given twice, in input order; a file
                Spark cannot read.
            PolicyError: As :meth:`solve`.
        """
        from .spark_input import WideInput

        layout = InputLayout.of(self.plan)
        wide = WideInput(self.spark, files, schema, layout, sorted(record_fields(self.policy.messages)))
        try:
            wide.check()
            driver = batch_columns(self.plan, [], city, self.params, schema)
            for f, lo, hi in wide.batches(batch):
                part = wide.batch(f, lo, hi)
                try:
                    if not part.companies:
                        continue
                    with self._session() as (spark, views):
                        tables = [t for t in wide.tables if driver[t.name][0]]
                        frames = {t.name: self._frame(spark, t, driver[t.name]) for t in tables}
                        empty = wide.load(spark, part, frames, views)
                        self._run(spark, self.plan, empty, views)
                        out = self._read(spark, self.plan)
                finally:
                    wide.release(part)
                yield _renumbered(out, part.positions), part.companies
        finally:
            wide.close()

    @contextmanager
    def _session(self) -> Iterator[tuple[Any, list[str]]]:
        """A session of the batch's own, dropping its views afterwards.

        The same SparkContext; its temporary views are the batch's, so batches may be solved side by side
        from several threads.
        """
        spark = self.spark.newSession()
        for k, v in SETTINGS.items():
            if k.startswith("spark.sql.") and k not in _STATIC:  # (runtime settings: again on the new session)
                spark.conf.set(k, v)
        views: list[str] = []
        try:
            yield spark, views
        finally:
            for name in views:
                spark.catalog.dropTempView(name)
            spark._jvm.System.gc()  # let the ContextCleaner free the batch's checkpointed blocks now

    # ---- input ----------------------------------------------------------------------------------------

    def _load(
        self,
        spark: Any,
        plan: Plan,
        companies: Sequence[Company],
        city: City,
        params: Sequence[clingo.Symbol],
        views: list[str],
    ) -> set[str]:
        """Create the input views; return the names of those without rows."""
        columns = batch_columns(plan, companies, city, params, self.policy.schema)
        empty: set[str] = set()
        for tables in plan.inputs.values():
            for t in tables:
                cols = columns[t.name]
                if not cols[0]:
                    empty.add(t.name)
                df = self._frame(spark, t, cols)
                df.createOrReplaceTempView(t.name)
                views.append(t.name)
        return empty

    def _frame(self, spark: Any, table: Table, cols: list[list[object]]) -> Any:
        """A DataFrame of an input table: Arrow columns of the declared types, sent to the JVM as Arrow.

        Arrow (through pandas) keeps the rows out of Python worker processes: each later job reads them in
        the JVM. Types are checked here (a value of another type is the same error as on DuckDB).
        """
        import pyarrow as pa  # type: ignore[import-untyped]
        from pyspark.sql.types import LongType, StringType, StructField, StructType

        fields, arrays = [], []
        try:
            for c, leaf, values in zip(table.columns, table.leaf_types, cols, strict=True):
                kind = leaf.kind == "int"
                fields.append(StructField(c, LongType() if kind else StringType(), False))
                arrays.append(pa.array(values, type=pa.int64() if kind else pa.string()))
        except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError) as exc:
            raise PolicyError(
                f"input facts of {table.describe()} do not match inputs.yaml: {exc} / 输入与声明不符", "inputs.yaml"
            ) from exc
        data = pa.Table.from_arrays(arrays, names=table.columns).to_pandas()
        return spark.createDataFrame(data, StructType(fields))

    # ---- the plan ---------------------------------------------------------------------------------------

    def _run(self, spark: Any, plan: Plan, empty: set[str], views: list[str]) -> None:
        """Run the statements level by level (a level's statements read only earlier levels).

        The statements of one level are submitted side by side from :data:`THREADS` driver threads (a Spark
        job costs tens of milliseconds whatever its size); each query's result is checkpointed, every column
        computed (an exact arithmetic error is raised as on DuckDB, never pruned away). A small job finds
        whether a table is empty when a later SELECT joins it (that SELECT is then left out, as on DuckDB).
        When a level fails, the error of its first failing statement in plan order is reported.
        """
        keep = {t.name for sig in _OUTPUTS for t in plan.tables(sig)}
        levels = _levels(plan)
        last = _last_use(plan, levels)
        joined = {n for st in plan.statements for x in st.selects for n in x.requires}
        with ThreadPoolExecutor(max_workers=THREADS, thread_name_prefix="fuchi-spark") as pool:
            for k, level in enumerate(levels):
                results = list(pool.map(lambda st: self._statement(spark, st, empty, st.table.name in joined), level))
                for r in results:
                    if isinstance(r, PolicyError):
                        raise r  # the first in plan order, as the DuckDB engine would report it
                for st, r in zip(level, results, strict=True):
                    assert not isinstance(r, PolicyError)
                    frame, is_empty = r
                    frame.createOrReplaceTempView(st.table.name)
                    views.append(st.table.name)
                    if is_empty:
                        empty.add(st.table.name)
                for name in last.get(k, ()):  # no later statement reads it: let Spark free it
                    if name not in keep:
                        spark.catalog.dropTempView(name)

    def _statement(self, spark: Any, st: Statement, empty: set[str], joined: bool) -> tuple[Any, bool] | PolicyError:
        """Run one statement's query and checkpoint it; find out whether it is empty if a later SELECT joins it."""
        query, params = st.query(empty=empty)
        if query is None:
            return spark.sql(empty_query(st.column_types())), True
        args = {f"p{i + 1}": v for i, v in enumerate(params)}
        try:
            frame = spark.sql(query, args=args).localCheckpoint(eager=True)
            return frame, (frame.isEmpty() if CHECK_EMPTY and joined else False)
        except Exception as exc:  # pyspark's captured exceptions and py4j errors
            rule = st.selects[0].rule
            return plan_error(str(exc), rule.file, rule.line)

    # ---- output ---------------------------------------------------------------------------------------

    def _rows(self, spark: Any, t: Table) -> list[tuple[object, ...]]:
        rows = [tuple(r) for r in spark.table(t.name).collect()]
        rows.sort()  # Spark's row order is not stable; sorted, ties in the outcome fall the same way each run
        return rows

    def _read(self, spark: Any, plan: Plan) -> Outcome:
        out = Outcome()
        decisions: list[Decision] = []
        touched: set[tuple[int, int, str]] = set()
        company = Fun("c", (Leaf("int"),))
        for t in plan.tables(("decision", 7)):
            c_s, y_s, i_s, st_s, a_s, p_s, r_s = t.shapes
            if (c_s, y_s, i_s, st_s) != (company, Leaf("int"), Leaf("str"), Leaf("sym")):
                raise PolicyError(f"decision/7 with arguments {t.describe()}: expected decision(c(N), Year, Item, …)")
            if a_s != MONEY:  # a variant the rules allow but the data may never fill
                if self._rows(spark, t):
                    raise PolicyError(f"decision amount is not a money term: {t.describe()}")
                continue
            paid = p_s == Leaf("int")
            at_r = 7 + width(p_s)
            symbol = self._symbols_of(t.name, r_s)
            for r in self._rows(spark, t):
                status = r[3]
                if status not in _STATUSES:
                    raise PolicyError(f"unknown status {status!r} in a decision / 未知状态")
                a, b, c = r[4], r[5], r[6]
                if a < 0 or not (0 <= b < LIMB and 0 <= c < LIMB):  # type: ignore[operator]
                    raise PolicyError(f"decision amount m({a},{b},{c}) is not a normalised money term")
                fen = (a * LIMB + b) * LIMB + c  # type: ignore[operator]
                if fen % 100:
                    raise PolicyError(f"decision amount {fen} fen is not whole yuan (ruling W3) / 金额须为整元")
                payable = r[7] if paid else None
                decisions.append(Decision(r[0], r[1], r[2], status, fen // 100, payable, symbol(r[at_r:])))  # type: ignore[arg-type]
        for t in plan.tables(("touched", 3)):
            if t.shapes == (company, Leaf("int"), Leaf("str")):
                touched.update(self._rows(spark, t))  # type: ignore[arg-type]
        for sig, dest in ((("input_error", 3), out.errors), (("input_warning", 3), out.warnings)):
            for t in plan.tables(sig):
                company_s, field_s, reason_s = t.shapes
                if company_s != company:
                    raise PolicyError(f"{t.describe()}: expected an enterprise term c(N) first")
                w = width(field_s)
                field_sym, reason_sym = self._symbols_of(t.name + "f", field_s), self._symbols_of(t.name, reason_s)
                for r in self._rows(spark, t):
                    dest.append(Flag(r[0], field_sym(r[1 : 1 + w]), reason_sym(r[1 + w :])))  # type: ignore[arg-type]
        for t in plan.tables(("flag", 2)):
            if t.shapes[0] != company:
                raise PolicyError(f"{t.describe()}: expected an enterprise term c(N) first")
            kind = self._symbols_of(t.name, t.shapes[1])
            for r in self._rows(spark, t):
                out.flags.append((r[0], str(kind(r[1:]))))  # type: ignore[arg-type]
        complete(self.policy, decisions, touched, out)
        return out

    def _symbols_of(self, table: str, shape: Shape) -> Callable[[Sequence[object]], clingo.Symbol]:
        """A cached decoder from leaf values to the clingo term of ``shape`` (reason terms repeat)."""
        with self._symbols_lock:
            cache = self._symbols.setdefault(table, {})

        def symbol(values: Sequence[object]) -> clingo.Symbol:
            key = tuple(values)
            sym = cache.get(key)
            if sym is None:
                if len(cache) > 100_000:
                    cache.clear()
                sym = cache[key] = build(shape, iter(values))
            return sym

        return symbol


def _renumbered(out: Outcome, positions: dict[int, int]) -> Outcome:
    """The outcome with each enterprise numbered by its position in the batch (the facts carry its line index)."""
    for d in out.decisions:
        d.company = positions[d.company]
    out.errors = [replace(f, company=positions[f.company]) for f in out.errors]
    out.warnings = [replace(f, company=positions[f.company]) for f in out.warnings]
    out.flags = [(positions[c], kind) for c, kind in out.flags]
    return out


def _levels(plan: Plan) -> list[list[Statement]]:
    """The statements by dependency level (level 0 reads only inputs), each level in plan order."""
    level: dict[str, int] = {}
    out: list[list[Statement]] = []
    for st in plan.statements:
        reads = {n for x in st.selects for n in _TABLE_NAME.findall(x.sql)}
        k = max((level[n] + 1 for n in reads if n in level), default=0)
        level[st.table.name] = k
        while len(out) <= k:
            out.append([])
        out[k].append(st)
    return out


def _last_use(plan: Plan, levels: list[list[Statement]]) -> dict[int, list[str]]:
    """For each level, the tables (inputs included) no later level reads."""
    last: dict[str, int] = {}
    for k, level in enumerate(levels):
        for st in level:
            last.setdefault(st.table.name, k)
            for x in st.selects:
                for n in _TABLE_NAME.findall(x.sql):
                    last[n] = max(last.get(n, k), k)
    out: dict[int, list[str]] = {}
    for name, k in sorted(last.items()):
        out.setdefault(k, []).append(name)
    return out


_FUCHI = re.compile(r"fuchi: ([^\n]*)")
_CONDITION = re.compile(r"\[([A-Z_]+)\]")


def plan_error(text: str, file: str, line: int) -> PolicyError:
    """The policy error for a failed Spark statement (the same wording as the DuckDB engine's)."""
    m = _FUCHI.search(text)
    if m is not None:
        return PolicyError(f"exact arithmetic refused a value / 精确运算拒绝: {m.group(1).strip()}")
    if "OutOfMemoryError" in text or "UNABLE_TO_ACQUIRE_MEMORY" in text:
        return PolicyError(
            "Spark ran out of memory / Spark 内存不足: give the driver and executors more memory "
            "(spark.driver.memory, spark.executor.memory in spark-defaults.conf or PYSPARK_SUBMIT_ARGS) or more "
            "shuffle partitions (spark.sql.shuffle.partitions); nothing was written",
            file,
            line,
        )
    cond = _CONDITION.search(text)
    first = text.strip().splitlines()[0] if text.strip() else "?"
    name = cond.group(1) if cond else ""
    if name == "ARITHMETIC_OVERFLOW" or (name == "CAST_OVERFLOW" and '"INT"' in text):
        return PolicyError(
            "integer arithmetic beyond clingo's 32-bit range (clingo would wrap silently) / 整数超出 32 位范围: "
            + first,
            file,
            line,
        )
    if name in ("NUMERIC_VALUE_OUT_OF_RANGE", "CAST_OVERFLOW", "DECIMAL_PRECISION_EXCEEDS_MAX_PRECISION"):
        return PolicyError(f"exact arithmetic refused a value / 精确运算拒绝: {first}", file, line)
    if name in ("DIVIDE_BY_ZERO", "REMAINDER_BY_ZERO", "INTERVAL_DIVIDED_BY_ZERO"):
        return PolicyError("division by zero in a rule (clingo: operation undefined) / 规则中除以零", file, line)
    return PolicyError(f"the Spark engine failed: {first}", file, line)


__all__ = [
    "DEFAULT_MASTER",
    "MASTER_ENV",
    "SparkEngine",
    "SparkUnavailable",
    "master_url",
    "session",
    "set_master",
    "spark_plan",
]

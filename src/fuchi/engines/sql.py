"""The SQL engine: run the compiled plan of a policy on embedded DuckDB.

The facts of a batch are the clingo engine's, laid out in the input tables of the plan (one per variant of
each input predicate, :mod:`fuchi.compiler.shapes`): raw JSON Lines are parsed by DuckDB and their facts
computed in SQL (:mod:`fuchi.compiler.reader`; the lines it does not vouch for are read by the Python loader);
other inputs go through the one fact builder (:mod:`fuchi.inputs.facts`) and reach DuckDB as Arrow columns.
Then every statement of the plan runs in order, and the output predicates (``decision/7``, ``touched/3``,
``input_error/3``, ``input_warning/3``, ``flag/2``) are read back into the same
:class:`~fuchi.engine.Outcome` the clingo engine produces, checked and ordered by the same code. Same facts
and the same rules: the same outcome, byte for byte after rendering.
"""

from __future__ import annotations

import array
import functools
import itertools
import re
from collections.abc import Callable, Sequence

import clingo
import duckdb
import pyarrow as pa  # type: ignore[import-untyped]

from ..compiler import Plan, Table
from ..compiler.functions import PRELUDE
from ..compiler.inputs import batch_columns
from ..compiler.messages import MESSAGES_PRELUDE, reason_sql, record_fields, record_texts
from ..compiler.reader import READER_PRELUDE, Reader, Unsupported, compile_reader
from ..compiler.shapes import MONEY, Fun, Leaf, Shape, build, sql_type, width
from ..errors import PolicyError
from ..inputs import loader
from ..inputs.records import City, Company
from ..inputs.schema import Schema
from ..numbers import LIMB
from ..policy import Policy
from .clingo import STATUSES, Decision, Flag, Outcome, Recording, complete
from .plans import cached_plan

_OUTPUTS = {("decision", 7), ("touched", 3), ("input_error", 3), ("input_warning", 3), ("flag", 2)}
_STATUSES = frozenset(STATUSES)


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
        self.plan = cached_plan(policy, self.params)
        self.threads = threads
        self._symbols: dict[str, dict[tuple[object, ...], clingo.Symbol]] = {}
        #: the (list, field) pairs reason templates look up in the enterprise's records
        self._rec_fields = sorted(record_fields(policy.messages))
        self._queries: dict[tuple[int, str], tuple[str, list[object]] | None] = {}
        self._readers: dict[tuple[int, int], tuple[Schema, Plan, Reader | None]] = {}

    def plan_for(self, params: Sequence[clingo.Symbol] | None, recording: Recording | None = None) -> Plan:
        """The plan for these parameter facts (compiled once per distinct set), with the recording's rules."""
        return cached_plan(self.policy, params, recording)

    def solve(
        self,
        companies: Sequence[Company],
        city: City,
        params: Sequence[clingo.Symbol] | None = None,
        recording: Recording | None = None,
    ) -> Outcome:
        """Solve one batch.

        Args:
            companies: The enterprises; decision.company indexes this sequence.
            city: The city figures.
            params: Parameter facts replacing the policy's.
            recording: More rules to run with the policy's, and the predicates whose rows to hand back in
                :attr:`Outcome.recorded` (the one-liners' ``_fired`` bindings).

        Raises:
            PolicyError: The plan fails (exact arithmetic out of range, a division by zero), a fact does not
                match ``inputs.yaml``, or the decisions are not one per touched item.
        """
        plan = self.plan_for(params, recording)
        con = connect(self.threads)
        try:
            con.execute(PRELUDE)
            con.execute(MESSAGES_PRELUDE)
            empty = self._load(con, plan, companies, city, self.params if params is None else params)
            return self._run(con, plan, empty, recording)
        finally:
            con.close()

    def reader(self, schema: Schema, recording: Recording | None = None) -> Reader | None:
        """The compiled JSON Lines reader of ``schema`` for the policy's plan (None: the schema needs Python's)."""
        plan = self.plan_for(None, recording)
        key = (id(schema), id(plan))
        hit = self._readers.get(key)
        if hit is None or hit[0] is not schema or hit[1] is not plan:
            try:
                reader: Reader | None = compile_reader(schema, plan, self._rec_fields)
            except Unsupported:
                reader = None
            hit = self._readers[key] = (schema, plan, reader)
        return hit[2]

    def solve_lines(
        self, lines: Sequence[tuple[str, int, str]], city: City, schema: Schema, recording: Recording | None = None
    ) -> tuple[Outcome, list[Company], set[int]]:
        """Solve one batch of raw JSON Lines, read by DuckDB itself (:mod:`fuchi.compiler.reader`).

        The lines the compiled reader does not vouch for are read by the Python loader (its messages, its
        facts); the others' facts are computed in SQL.

        Args:
            lines: (file, line number, text) of each enterprise; decision.company indexes this sequence.
            city: The city figures.
            schema: The schema the lines are read with (:meth:`reader` must have given a reader for it).
            recording: As for :meth:`solve`.

        Returns:
            The outcome; the enterprises (those read in SQL carry only their id, file, line and name); the
            positions of those read in SQL (:func:`fuchi.inputs.loader.parse_jsonl_line` reads one in full).

        Raises:
            InputError: The first line, in batch order, that the loader refuses.
            PolicyError: As :meth:`solve`.
        """
        con = connect(self.threads)
        try:
            con.execute(PRELUDE)
            con.execute(MESSAGES_PRELUDE)
            plan = self.plan_for(None, recording)
            companies, light, empty = self._load_lines(con, lines, city, schema, recording=recording)
            return self._run(con, plan, empty, recording), companies, light
        finally:
            con.close()

    def _load_lines(
        self,
        con: duckdb.DuckDBPyConnection,
        lines: Sequence[tuple[str, int, str]],
        city: City,
        schema: Schema,
        parse: Callable[[str, str, int, Schema], Company | None] = loader.parse_jsonl_line,
        recording: Recording | None = None,
    ) -> tuple[list[Company], set[int], set[str]]:
        """Create the input tables of a batch of raw JSON Lines (see :meth:`solve_lines`).

        ``parse`` reads a line the compiled reader does not vouch for (the tests' may return None: the line
        is then left out). Returns the enterprises, the positions of those read in SQL, the empty tables.
        """
        reader = self.reader(schema, recording)
        assert reader is not None
        plan = self.plan_for(None, recording)
        con.execute(READER_PRELUDE)
        data = pa.Table.from_arrays(
            [arrow_column(range(len(lines)), True), arrow_column([t for _, _, t in lines], False)],
            names=["n", "t"],
        )
        con.register("fuchi_lines", data)
        for q in reader.setup:
            con.execute(q.sql, q.params)
        unsure = [r[0] for r in con.execute("SELECT DISTINCT n FROM fuchi_unsure ORDER BY n").fetchall()]
        companies: list[Company | None] = [None] * len(lines)
        for n in unsure:  # the loader's reading, and its message for the first line it refuses
            file, line, text = lines[n]
            companies[n] = parse(text, file, line, schema)
        light: set[int] = set()
        for n, ident, name in con.execute(reader.light.sql, reader.light.params).fetchall():
            file, line, _ = lines[n]
            companies[n] = Company(ident, file, line, line - 1, {"name": name} if name is not None else {})
            light.add(n)
        read = [n for n in unsure if companies[n] is not None]
        if len(read) + len(light) != len(lines) and parse is loader.parse_jsonl_line:
            raise PolicyError("the compiled JSON Lines reader lost an enterprise / 读取器遗漏了企业")  # (a bug)
        fulls: list[Company] = [companies[n] for n in read]
        empty = self._load(con, plan, fulls, city, self.params, positions=read)
        for q in reader.facts:
            con.execute(q.sql, q.params)
        for q in reader.records:
            con.execute(f"INSERT INTO fuchi_rec {q.sql}", q.params)
        for name in reader.temporary:  # free their memory before the plan runs
            con.execute(f"DROP TABLE IF EXISTS {name}")
        con.unregister("fuchi_lines")
        empty = {t.name for ts in plan.inputs.values() for t in ts if t.name in empty and _is_empty(con, t.name)}
        return [c for c in companies if c is not None], light, empty

    def _run(self, con: duckdb.DuckDBPyConnection, plan: Plan, empty: set[str], recording: Recording | None) -> Outcome:
        """Run the plan's statements on the loaded input tables and read the outcome."""
        read = recording.read if recording is not None else frozenset()
        drops = plan.drops(keep={t.name for sig in _OUTPUTS | read for t in plan.tables(sig)})
        for k, st in enumerate(plan.statements):
            sql, values = st.finalize(empty=empty)
            try:
                result = con.execute(sql, values).fetchone()
            except duckdb.Error as exc:
                raise _plan_error(exc, st.selects[0].rule.file, st.selects[0].rule.line) from exc
            if not result or not result[0]:
                empty.add(st.table.name)
            for name in drops.get(k, ()):  # no later statement reads it: free its memory now
                con.execute(f"DROP TABLE {name}")
        out = self._read(con, plan)
        for sig in sorted(read):
            out.recorded[sig] = [(t.shapes, _rows(con, t)) for t in plan.tables(sig)]
        return out

    # ---- input ----------------------------------------------------------------------------------------

    def _load(
        self,
        con: duckdb.DuckDBPyConnection,
        plan: Plan,
        companies: Sequence[Company],
        city: City,
        params: Sequence[clingo.Symbol],
        positions: Sequence[int] | None = None,
    ) -> set[str]:
        """Create the input tables; return the names of those without rows.

        ``positions``: each enterprise's number in the batch, when the other enterprises' facts are
        inserted afterwards (:meth:`solve_lines`).
        """
        columns = batch_columns(plan, companies, city, params, self.policy.schema, positions)
        rec: list[list[object]] = [[], [], [], [], []]

        def add_record(n: int, lst: str, k: int, attr: str, text: str) -> None:
            for column, v in zip(rec, (n, lst, k, attr, text), strict=True):
                column.append(v)

        record_texts(companies, set(self._rec_fields), add_record, positions)
        _create_records(con, rec)
        empty: set[str] = set()
        for tables in plan.inputs.values():
            for t in tables:
                _create(con, t, columns[t.name])
                if not columns[t.name] or not columns[t.name][0]:
                    empty.add(t.name)
        return empty

    # ---- output ---------------------------------------------------------------------------------------

    def _read(self, con: duckdb.DuckDBPyConnection, plan: Plan) -> Outcome:
        out = Outcome()
        decisions: list[Decision] = []
        touched: set[tuple[int, int, str]] = set()
        company = Fun("c", (Leaf("int"),))
        for t in plan.tables(("decision", 7)):
            c_s, y_s, i_s, st_s, a_s, p_s, r_s = t.shapes
            if (c_s, y_s, i_s, st_s) != (company, Leaf("int"), Leaf("str"), Leaf("sym")):
                raise PolicyError(f"decision/7 with arguments {t.describe()}: expected decision(c(N), Year, Item, …)")
            if a_s != MONEY:  # a variant the rules allow but the data may never fill
                if _rows(con, t):
                    raise PolicyError(f"decision amount is not a money term: {t.describe()}")
                continue
            paid = p_s == Leaf("int")
            at_r = 7 + width(p_s)
            symbol = self._symbols_of(t.name, r_s)
            query = self._decision_query(plan, t, at_r)
            rows = _rows(con, t) if query is None else con.execute(*query).fetchall()
            for r in rows:
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
                reason: clingo.Symbol | Callable[[], clingo.Symbol]
                if query is None:
                    reason, text = symbol(r[at_r:]), None
                else:
                    reason, text = functools.partial(symbol, r[at_r:-2]), (r[-2], r[-1])
                decisions.append(Decision(r[0], r[1], r[2], status, fen // 100, payable, reason, text))  # type: ignore[arg-type]
        for t in plan.tables(("touched", 3)):
            if t.shapes == (company, Leaf("int"), Leaf("str")):
                touched.update(_rows(con, t))  # type: ignore[arg-type]
        for sig, dest in ((("input_error", 3), out.errors), (("input_warning", 3), out.warnings)):
            for t in plan.tables(sig):
                company_s, field_s, reason_s = t.shapes
                if company_s != company:
                    raise PolicyError(f"{t.describe()}: expected an enterprise term c(N) first")
                w = width(field_s)
                field_sym, reason_sym = self._symbols_of(t.name + "f", field_s), self._symbols_of(t.name, reason_s)
                for r in _rows(con, t):
                    dest.append(Flag(r[0], field_sym(r[1 : 1 + w]), reason_sym(r[1 + w :])))  # type: ignore[arg-type]
        for t in plan.tables(("flag", 2)):
            if t.shapes[0] != company:
                raise PolicyError(f"{t.describe()}: expected an enterprise term c(N) first")
            kind = self._symbols_of(t.name, t.shapes[1])
            for r in _rows(con, t):
                out.flags.append((r[0], str(kind(r[1:]))))  # type: ignore[arg-type]
        complete(self.policy, decisions, touched, out)
        return out

    def _decision_query(self, plan: Plan, t: Table, at_r: int) -> tuple[str, list[object]] | None:
        """The query reading a decision table with its reason texts rendered in SQL (None: in Python)."""
        key = (id(plan), t.name)
        if key not in self._queries:
            cols = [f"t.{c}" for c in t.columns]
            texts = reason_sql(t.shapes[6], cols[at_r:], self.policy.messages)
            if texts is None:
                self._queries[key] = None
            else:
                self._queries[key] = (texts.query(cols, t.name, "t.c0", "fuchi_rec"), texts.params)
        return self._queries[key]

    def _symbols_of(self, table: str, shape: Shape) -> Callable[[Sequence[object]], clingo.Symbol]:
        """A cached decoder from leaf values to the clingo term of ``shape`` (reason terms repeat)."""
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


def connect(threads: int | None) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection as the engine uses it.

    DuckDB prints a progress bar *on stdout* for a statement running longer than two seconds (a large
    batch, a loaded machine): it would land in the middle of the JSON or CSV fuchi writes there. It is
    turned off on every connection.
    """
    con = duckdb.connect(config={"threads": threads} if threads else {})
    con.execute("SET enable_progress_bar = false")
    return con


def arrow_column(values: Sequence[object], integers: bool) -> pa.Array:
    """An Arrow column of BIGINT (``integers``) or VARCHAR values, laid out from its buffers.

    ``pa.array`` imports pandas whenever pandas is installed (to recognise its objects), about 57 MiB in
    every worker; the buffers are built here instead (``array('q')``, the UTF-8 bytes and their offsets).
    Anything the buffers do not take (a value of another type, a lone surrogate, over 2 GiB of text) goes
    to ``pa.array``, which accepts or refuses it as before.
    """
    try:
        if integers:
            ints = array.array("q", values)  # type: ignore[type-var]
            return pa.Array.from_buffers(pa.int64(), len(ints), [None, pa.py_buffer(ints)])
        encoded = [v.encode("utf-8") for v in values]  # type: ignore[attr-defined]
        data = b"".join(encoded)
        if len(data) < 2**31:
            offsets = array.array("i", [0])
            offsets.extend(itertools.accumulate(map(len, encoded)))
            return pa.Array.from_buffers(pa.string(), len(encoded), [None, pa.py_buffer(offsets), pa.py_buffer(data)])
    except (TypeError, AttributeError, OverflowError, UnicodeEncodeError):
        pass
    return pa.array(values, type=pa.int64() if integers else pa.string())


def _create(con: duckdb.DuckDBPyConnection, table: Table, cols: list[list[object]]) -> None:
    types = [sql_type(leaf) for leaf in table.leaf_types]
    if not cols:  # a predicate without arguments: one row when it holds
        raise PolicyError(f"input predicate {table.signature[0]}/0 is not supported by the SQL engine")
    try:
        arrays = [arrow_column(c, ty == "BIGINT") for c, ty in zip(cols, types, strict=True)]
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError) as exc:
        raise PolicyError(
            f"input facts of {table.describe()} do not match inputs.yaml: {exc} / 输入与声明不符", "inputs.yaml"
        ) from exc
    data = pa.Table.from_arrays(arrays, names=table.columns)
    con.register("fuchi_input", data)
    con.execute(f"CREATE TABLE {table.name} AS SELECT * FROM fuchi_input")
    con.unregister("fuchi_input")


def _create_records(con: duckdb.DuckDBPyConnection, cols: list[list[object]]) -> None:
    """The records side table the reason texts look fields up in (one row per record field looked up)."""
    data = pa.Table.from_arrays(
        [
            arrow_column(cols[0], True),
            arrow_column(cols[1], False),
            arrow_column(cols[2], True),
            arrow_column(cols[3], False),
            arrow_column(cols[4], False),
        ],
        names=["company", "list", "k", "field", "text"],
    )
    con.register("fuchi_input", data)
    con.execute("CREATE TABLE fuchi_rec AS SELECT * FROM fuchi_input")
    con.unregister("fuchi_input")


def _is_empty(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    return con.execute(f"SELECT 1 FROM {name} LIMIT 1").fetchone() is None


def _rows(con: duckdb.DuckDBPyConnection, t: Table) -> list[tuple[object, ...]]:
    return con.execute(f"SELECT * FROM {t.name}").fetchall()


_FUCHI = re.compile(r"fuchi: (.*)", re.S)


def _plan_error(exc: duckdb.Error, file: str, line: int) -> PolicyError:
    text = str(exc)
    m = _FUCHI.search(text)
    if m is not None:
        return PolicyError(f"exact arithmetic refused a value / 精确运算拒绝: {m.group(1).strip()}")
    if "INT32" in text or ("INTEGER" in text and "out of range" in text):
        return PolicyError(
            f"integer arithmetic beyond clingo's 32-bit range (clingo would wrap silently) / 整数超出 32 位范围: "
            f"{text.splitlines()[0]}",
            file,
            line,
        )
    if "Overflow" in text or "out of range" in text.lower():
        return PolicyError(f"exact arithmetic refused a value / 精确运算拒绝: {text.splitlines()[0]}", file, line)
    if "Division by zero" in text:
        return PolicyError("division by zero in a rule (clingo: operation undefined) / 规则中除以零", file, line)
    return PolicyError(f"the SQL engine failed: {text.splitlines()[0]}", file, line)


__all__ = ["SqlEngine", "cached_plan"]

"""Evaluate enterprises in batches: read, validate, solve, turn decisions into result rows.

Enterprises are independent of each other, so the input is cut into batches of :data:`BATCH`
enterprises, each solved by its own ``clingo.Control`` (grounding stays linear), in worker processes
that are replaced after :data:`TASKS_PER_WORKER` batches (clingo keeps every symbol it has seen for the
life of a process). Results come back in input order, whatever the number of workers.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import clingo

from ..errors import FuchiError, InputError
from ..explanation.reasons import ReasonRenderer
from ..inputs import loader
from ..inputs.records import City, Company
from ..inputs.schema import Schema
from ..policy import Policy, load_policy
from ..rules import Diagnostic
from . import make_engine
from .clingo import Engine, Outcome
from .collector import paused

BATCH = 2000
#: Enterprises per batch on the SQL engine (each batch pays the plan's fixed cost, about 0.6 s of CPU). 8,000 keeps
#: a 1M run under 1 GiB summed over the process tree (1,014 MiB; 10,000: 1,083 MiB) for about the same CPU.
SQL_BATCH = 8_000
#: Enterprises per batch with ``--explain`` on clingo: the one-liners cost more per enterprise than the
#: solve, so batches are small enough for the workers to share them evenly (bench/explain.py).
EXPLAIN_BATCH = 1000
#: With ``--explain`` on the SQL engine, the size of each worker's first batch; later ones are of
#: :data:`SQL_BATCH`, since each batch pays the plan's fixed cost (about 0.7 s, twice that with the
#: one-liners' recording rules). A population of 5,000 still keeps both workers busy (bench/explain.py).
EXPLAIN_SQL_BATCH = 2500
TASKS_PER_WORKER = 8


@dataclass(frozen=True)
class Row:
    """One result row of ``evaluate`` (the JSON contract's fields)."""

    company: str
    year: int
    item: str
    status: str
    amount: int
    payable_year: int | None
    reason: str
    explanation: str | None = None
    #: The enterprise's name when the data gives one, and the Chinese part of ``reason`` (``中文 / English``):
    #: for workbooks, which show them in their own columns; not part of the JSON contract.
    name: str | None = None
    reason_zh: str | None = None


@dataclass
class BatchResult:
    """What one batch produced."""

    rows: list[Row] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    companies: int = 0
    #: (enterprise id, kind) of each ``flag`` the policy derived, in input order.
    flags: list[tuple[str, str]] = field(default_factory=list)
    #: (id, file, line, index) of every enterprise of the batch, selected or not, for the duplicate check.
    seen: list[tuple[str, str, int | None, int]] = field(default_factory=list)
    #: For each of ``warnings``, the position in the batch of the enterprise it is about (to merge the
    #: warnings of several policies in input order).
    warning_at: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class ReadAlike:
    """One enterprise of a YAML/JSON/xlsx document read by each of several policies' schemas."""

    schemas: tuple[Schema, ...]
    companies: tuple[Company, ...]

    def under(self, schema: Schema | None) -> Company:
        """The enterprise as ``schema`` reads it."""
        for s, co in zip(self.schemas, self.companies, strict=True):
            if s == schema:
                return co
        return self.companies[0]


# A raw batch is either validated companies (YAML/JSON files; read by each schema of several policies) or raw
# JSON Lines (file, line, text).
RawItem = Company | ReadAlike | tuple[str, int, str]


def _company_of(item: RawItem, schema: Schema | None = None) -> Company:
    if isinstance(item, Company):
        return item
    if isinstance(item, ReadAlike):
        return item.under(schema)
    file, line, text = item
    return loader.parse_jsonl_line(text, file, line, schema)


def flag_path(field_sym: clingo.Symbol) -> str:
    """Render ``rec(assessments, 0, amount)`` as ``assessments[0].amount``."""
    if field_sym.type == clingo.SymbolType.Function and field_sym.name == "rec" and len(field_sym.arguments) == 3:
        lst, k, attr = field_sym.arguments
        return f"{lst}[{k}].{attr}"
    return str(field_sym)


def rows_of(outcome: Outcome, companies: Sequence[Company], renderer: ReasonRenderer) -> list[Row]:
    """Turn decisions into rows, rendering each reason in Chinese and English."""
    rows = []
    for d in outcome.decisions:
        co = companies[d.company]
        zh, en = d.text if d.text is not None else renderer.pair(d.reason, co)
        reason = f"{zh} / {en}"
        rows.append(Row(co.id, d.year, d.item, d.status, d.amount, d.payable_year, reason, name=co.name, reason_zh=zh))
    return rows


def check_flags(outcome: Outcome, companies: Sequence[Company], renderer: ReasonRenderer) -> list[str]:
    """Raise the first ``input_error`` the policy derived; return the warnings as text."""
    if outcome.errors:
        f = outcome.errors[0]
        co = companies[f.company]
        raise InputError(co.file, co.id, flag_path(f.field), renderer.both(f.reason, co), co.line)
    out = []
    for f in outcome.warnings:
        co = companies[f.company]
        where = co.file if co.line is None else f"{co.file}:{co.line}"
        out.append(f"{where}: 企业 enterprise {co.id!r}: {flag_path(f.field)}: {renderer.both(f.reason, co)}")
    return out


class Evaluator:
    """Solves batches in this process.

    Args:
        policy: The policy to apply.

    """

    def __init__(
        self, policy: Policy, explain: bool = False, engine: str = "clingo", threads: int | None = None
    ) -> None:
        self.policy = policy
        #: The schema this policy reads the data with (see :func:`reading_schemas`).
        self.schema = policy.schema
        self.engine_name = engine
        self.engine, self.notice = make_engine(policy, engine, threads)
        self.renderer = ReasonRenderer(policy)
        self.explainer = None
        self.lines: Any = None
        self.recording_refused = False
        self.recording: Any = None
        #: JSON Lines batches go to the SQL engine raw, read by DuckDB (:mod:`fuchi.compiler.reader`); False: the
        #: Python loader reads them (the differential tests compare both).
        self.native = True
        if explain:
            from ..explanation.explain import Explainer

            self.explainer = Explainer(policy)

    def run(self, companies: Sequence[Company], city: City) -> BatchResult:
        """Solve one batch and return its rows (input order, then year, then item).

        With ``explain``, each row also gets its one-line explanation (:mod:`fuchi.explanation.lines`: the rules'
        bindings recorded for the batch — by the SQL plan in the same run, or by one more clingo solve —, then
        the deciding rule's sentence per row).
        """
        recording = self._recording()
        if recording is not None:  # the SQL engine records the one-liners' bindings in the same run
            outcome = self.engine.solve(companies, city, recording=recording)  # type: ignore[call-arg]
        elif self.explainer is not None and isinstance(self.engine, Engine):  # clingo: rows and lines, one solve
            outcome = self.engine.solve(companies, city, program=self._line_explainer().program)
        else:
            outcome = self.engine.solve(companies, city)
        return self._result(outcome, companies, city, recording is not None)

    def _result(self, outcome: Outcome, companies: Sequence[Company], city: City, recorded: bool) -> BatchResult:
        """The batch's rows (with their one-liners when explaining), warnings and flags."""
        warnings = check_flags(outcome, companies, self.renderer)
        rows = rows_of(outcome, companies, self.renderer)
        if self.explainer is not None:
            rows = self._explained(rows, companies, city, outcome, recorded)
        flags = [(companies[c].id, kind) for c, kind in outcome.flags]
        at = [f.company for f in outcome.warnings]
        return BatchResult(rows, warnings, outcome.diagnostics, len(companies), flags, warning_at=at)

    def reads_lines(self) -> bool:
        """Whether this evaluator hands raw JSON Lines to its engine (the SQL engine's compiled reader)."""
        from .sql import SqlEngine

        if not self.native or not isinstance(self.engine, SqlEngine):
            return False
        recording = self._recording()
        if self.explainer is not None and recording is None:  # the one-liners from clingo need every fact
            return False
        return self.engine.reader(self.schema, recording) is not None

    def run_lines(self, lines: Sequence[tuple[str, int, str]], city: City) -> tuple[BatchResult, list[Company]]:
        """Solve one batch of raw JSON Lines read by the engine itself (see :meth:`reads_lines`).

        With ``explain``, the one-liners come from the plan's recording (they name an enterprise by its id
        only). An enterprise the decisions' or flags' texts need in full (a warning's reason, a reason the SQL
        could not render) is read again by the Python loader.
        """
        from .sql import SqlEngine

        assert isinstance(self.engine, SqlEngine)
        recording = self._recording()
        outcome, companies, light = self.engine.solve_lines(lines, city, self.schema, recording)
        wanted = {f.company for f in outcome.errors} | {f.company for f in outcome.warnings}
        wanted |= {d.company for d in outcome.decisions if d.text is None}
        for n in sorted(wanted & light):
            file, line, text = lines[n]
            companies[n] = loader.parse_jsonl_line(text, file, line, self.schema)
        # (with explain, the recording is there: reads_lines; the one-liners need only each enterprise's id)
        return self._result(outcome, companies, city, True), companies

    def reads_files(self) -> bool:
        """Whether this evaluator hands whole JSON Lines files to its engine (Spark reads them: not explaining)."""
        from .spark import SparkEngine

        return self.native and self.explainer is None and isinstance(self.engine, SparkEngine)

    def run_files(self, files: Sequence[str], city: City, batch: int) -> Iterator[BatchResult]:
        """Solve whole JSON Lines files read by the engine itself (see :meth:`reads_files`), batch by batch.

        Raises:
            InputError: The first refused line or duplicate id in input order (before any batch is solved),
                then a policy-derived ``input_error`` of a batch.
            PolicyError: The policy cannot be solved.
        """
        from .spark import SparkEngine

        assert isinstance(self.engine, SparkEngine)
        for outcome, companies in self.engine.solve_files(files, city, self.schema, batch):
            with paused():  # (not across the yield: the caller's writing is not the batch's)
                result = self._result(outcome, companies, city, False)
            yield result

    def _line_explainer(self) -> Any:
        from ..explanation.lines import LineExplainer

        assert self.explainer is not None
        if self.lines is None:
            self.lines = LineExplainer(self.explainer)
        return self.lines

    def _recording(self) -> Any:
        """The SQL engine's recording rules for the one-liners (None: not explaining, or on clingo)."""
        from ..compiler import CompileError
        from .sql import SqlEngine

        if self.explainer is None or not isinstance(self.engine, SqlEngine) or self.recording_refused:
            return None
        if self.recording is None:  # compiled once: the plan is cached, the answer too
            recording = self._line_explainer().recording
            try:
                self.engine.plan_for(None, recording)
            except CompileError:  # (a recording rule the compiler cannot take: the lines come from clingo)
                self.recording_refused = True
                return None
            self.recording = recording
        return self.recording

    def _explained(
        self, rows: list[Row], companies: Sequence[Company], city: City, outcome: Outcome, recorded: bool
    ) -> list[Row]:
        from dataclasses import replace

        explainer = self._line_explainer()
        if recorded:
            lines = explainer.lines_recorded(outcome, companies)
        elif outcome.model is not None:
            lines = explainer.lines_of_model(outcome.model, companies)
        else:
            lines = explainer.lines(companies, city)
        return [replace(r, explanation=lines.get((r.company, r.year, r.item), r.reason)) for r in rows]


# ---- worker processes -----------------------------------------------------------------------------------

_WORKERS: list[Evaluator] = []
#: The error a worker met building its policies (an undefined parameter, a rule the engine refuses): every
#: batch it is given returns it, and the main process reports it as it would without workers.
_WORKER_ERROR: list[FuchiError] = []

#: How a worker process rebuilds one policy: its directory, the ``--set`` overrides, the engine name.
PolicySpec = tuple[str, Sequence[str], str]


def _spec(policy: Policy, engine: str) -> PolicySpec:
    return (str(policy.root), [o.label() for o in policy.overrides], engine)


def _init_worker(specs: Sequence[PolicySpec], explain: bool) -> None:
    from ..drafting.overrides import apply_overrides

    _WORKERS.clear()
    _WORKER_ERROR.clear()
    try:
        for policy_dir, overrides, engine in specs:
            policy = apply_overrides(load_policy(policy_dir), overrides)
            _WORKERS.append(Evaluator(policy, explain, engine, threads=1))  # the pool already fills the cores
    except FuchiError as exc:  # raised here, it would break the pool: "internal error" instead of the message
        _WORKER_ERROR.append(exc)
        return
    _read_alike(_WORKERS)


def reading_schemas(schemas: Sequence[Schema]) -> list[Schema]:
    """The schema each of several policies reads the same data with: its own, tolerating the others'.

    A field that only some of the policies declare (a draft's new input) is accepted by the others and
    ignored there; the policies that declare it validate it. With one policy (or equal schemas) nothing
    changes.
    """
    return [s.tolerating([o for o in schemas if o != s]) for s in schemas]


def _read_alike(evaluators: Sequence[Evaluator]) -> None:
    for ev, schema in zip(evaluators, reading_schemas([e.policy.schema for e in evaluators]), strict=True):
        ev.schema = schema


def _run_all(
    evaluators: Sequence[Evaluator], batch: list[RawItem], city: City, wanted: frozenset[str] | None
) -> list[BatchResult]:
    """Solve one batch under every policy; each policy's schema validates it (parsed once per distinct schema).

    The cyclic garbage collector is paused meanwhile (:mod:`fuchi.engines.collector`).
    """
    with paused():
        return _run_each(evaluators, batch, city, wanted)


def _run_each(
    evaluators: Sequence[Evaluator], batch: list[RawItem], city: City, wanted: frozenset[str] | None
) -> list[BatchResult]:
    parsed: list[tuple[Schema, list[Company]]] = []
    results = []
    for n, ev in enumerate(evaluators):
        try:
            companies = next((cos for schema, cos in parsed if schema == ev.schema), None)
            if companies is None and wanted is None and ev.reads_lines() and all(isinstance(i, tuple) for i in batch):
                result, companies = ev.run_lines(batch, city)  # type: ignore[arg-type]
            else:
                if companies is None:
                    companies = [_company_of(item, ev.schema) for item in batch]
                    parsed.append((ev.schema, companies))
                result = ev.run(_select(companies, wanted), city)
        except InputError as exc:
            if len(evaluators) == 1 and not ev.policy.overrides:
                raise
            raise _under(exc, ev.policy, n) from None
        result.seen = [(c.id, c.file, c.line, c.index) for c in companies]
        results.append(result)
    return results


def _under(exc: InputError, policy: Policy, n: int) -> InputError:
    """The input error, saying under which of several policies (or which overrides) it arose.

    A draft can refuse data the shipped policy accepts: e.g. an approved assessment above the maximum a
    lowered cap allows (ruling P1) is an input error under that draft only.
    """
    overrides = ", ".join(o.label() for o in policy.overrides)
    which = f"{policy.id} {policy.version}" + (f"，参数覆盖 overrides {overrides}" if overrides else "")
    note = f"（第 {n + 1} 个政策 policy #{n + 1}: {which} ({policy.root})）"
    return InputError(exc.file, exc.company, exc.field, f"{exc.expected} {note}", exc.line)


def _work(batch: list[RawItem], city: City, wanted: frozenset[str] | None) -> list[BatchResult] | FuchiError:
    if _WORKER_ERROR:
        return _WORKER_ERROR[0]
    try:
        return _run_all(_WORKERS, batch, city, wanted)
    except FuchiError as exc:
        return exc


def _select(companies: list[Company], wanted: frozenset[str] | None) -> list[Company]:
    return companies if wanted is None else [c for c in companies if c.id in wanted]


@dataclass
class Source:
    """The inputs of one run: city figures and a stream of enterprises (validated or raw)."""

    city: City
    items: Iterable[RawItem]
    count_hint: int | None = None
    #: The JSON Lines files among the inputs, in input order (an engine may read them itself).
    jsonl: tuple[str, ...] = ()
    #: Whether some YAML/JSON document of the inputs holds enterprises (not only city figures).
    document_companies: bool = False


def open_inputs(paths: Sequence[str], schema: Schema | Sequence[Schema] | None = None) -> Source:
    """Read YAML/JSON files now (they carry the city figures) and stream JSON Lines files later.

    Args:
        paths: The input files.
        schema: The policy's declared inputs (default: the shipped policy's); for a run of several
            policies (``diff``), each one's: documents are then read by each (:func:`reading_schemas`).

    Raises:
        InputError: A YAML/JSON file is malformed (JSON Lines lines are checked when they are read).

    """
    if schema is None or isinstance(schema, Schema):
        schemas: list[Schema | None] = [schema]
    else:
        distinct: list[Schema] = []
        for s in schema:
            if s not in distinct:
                distinct.append(s)
        schemas = list(reading_schemas(distinct))
    cities: list[tuple[City, str]] = []
    documents: list[tuple[str, list[Company] | list[ReadAlike]]] = []
    jsonl: list[str] = []
    for p in paths:
        if Path(p).suffix.lower() == ".jsonl":
            if "://" in p:  # shared storage (hdfs://, s3a://): the Spark engine reads it; the others cannot
                jsonl.append(p)
                continue
            if Path(p).is_dir():  # (a FIFO or a device is read like a file: streamed, never sought)
                raise InputError(p, None, "", "文件不存在或不可读 / file not found or not readable, got Is a directory")
            if not Path(p).exists():
                raise InputError(p, None, "", "文件不存在或不可读 / file not found or not readable")
            jsonl.append(p)
            continue
        read = [loader.read_document(p, s) for s in schemas]
        cities.extend((city, p) for city, _ in read if city is not None)
        if len(read) == 1:
            documents.append((p, read[0][1]))
        else:
            chosen = tuple(s for s in schemas if s is not None)
            documents.append((p, [ReadAlike(chosen, cos) for cos in zip(*(r[1] for r in read), strict=True)]))
    city = loader.merge_city(cities) if cities else City()

    def items() -> Iterator[RawItem]:
        for p in paths:
            if p in jsonl:
                for line, text in loader.iter_jsonl(p):
                    yield (p, line, text)
            else:
                for doc_path, companies in documents:
                    if doc_path == p:
                        yield from companies
                        break

    hint = sum(len(c) for _, c in documents) if not jsonl else None
    return Source(city, items(), hint, tuple(jsonl), any(c for _, c in documents))


def _batches(items: Iterable[RawItem], size: int, first: tuple[int, int] = (0, 0)) -> Iterator[list[RawItem]]:
    """The items in batches of ``size``; ``first`` = (count, size): the first ``count`` batches of that size."""
    batch: list[RawItem] = []
    count, small = first
    for item in items:
        batch.append(item)
        if len(batch) >= (small if count > 0 else size):
            yield batch
            batch = []
            count -= 1
    if batch:
        yield batch


def evaluate(
    policy: Policy,
    source: Source,
    on_batch: Callable[[BatchResult], None],
    companies: frozenset[str] | None = None,
    workers: int | None = None,
    batch_size: int | None = None,
    explain: bool = False,
    engine: str = "clingo",
) -> None:
    """Evaluate every enterprise of ``source`` under one policy, calling ``on_batch`` in input order.

    See :func:`evaluate_many`, of which this is the one-policy case.
    """
    evaluate_many(
        [(policy, engine)],
        source,
        lambda results: on_batch(results[0]),
        companies=companies,
        workers=workers,
        batch_size=batch_size,
        explain=explain,
    )


def evaluate_many(
    policies: Sequence[tuple[Policy, str]],
    source: Source,
    on_batch: Callable[[list[BatchResult]], None],
    companies: frozenset[str] | None = None,
    workers: int | None = None,
    batch_size: int | None = None,
    explain: bool = False,
) -> None:
    """Evaluate every enterprise of ``source`` under several policies in one pass over the data.

    Each batch is read once and solved under every policy (a base and a draft for ``diff``, one policy per
    value for ``sweep``), so reading and validating the data is paid once. ``on_batch`` receives, in input
    order, one result per policy (in the order of ``policies``).

    Enterprise ids are checked for duplicates across all files. The caller decides what to do with rows
    (stream them to a temporary file, total them); nothing is written to stdout here.

    Args:
        policies: Each policy with its engine (``clingo`` or ``sql``; see :func:`fuchi.engines.resolve`).
        source: From :func:`open_inputs`.
        on_batch: Receives each batch's results (one per policy), in input order.
        companies: Only these enterprise ids are solved (all are still validated).
        workers: Worker processes; None picks min(2, cpu count); 0 or 1 solves in this process.
        batch_size: Enterprises per batch (default: :data:`BATCH` for clingo, :data:`SQL_BATCH` for SQL).
        explain: Add a one-line explanation to each row (slower).

    Raises:
        InputError: Bad data (the first problem in input order).
        PolicyError: The policy cannot be solved.

    """
    registry = loader.IdRegistry(policies[0][0].schema if policies else None)
    if workers is None:
        workers = min(2, os.cpu_count() or 1)
    first = (0, 0)
    if batch_size is None:
        sql = all(engine == "sql" for _, engine in policies)
        if explain and not sql:
            batch_size = EXPLAIN_BATCH
        elif explain:  # a small batch per worker first: a small population still keeps every worker busy
            batch_size, first = SQL_BATCH, (max(workers, 1), EXPLAIN_SQL_BATCH)
        else:
            batch_size = SQL_BATCH if sql else BATCH
    batches = _batches(source.items, batch_size, first)

    def deliver(results: list[BatchResult]) -> None:
        for ident, file, line, index in results[0].seen:
            registry.add(Company(id=ident, file=file, line=line, index=index))
        on_batch(results)

    if workers <= 1 and len(policies) == 1 and companies is None and source.jsonl and not source.document_companies:
        ev = Evaluator(policies[0][0], explain, policies[0][1])
        if ev.reads_files():  # the engine reads the files itself (Spark: on its executors)
            for result in ev.run_files(source.jsonl, source.city, batch_size):
                deliver([result])  # (ids were checked for duplicates by the engine, over every file)
            return
        evaluators = [ev]
    else:
        evaluators = []
    if workers <= 1:
        evaluators = evaluators or [Evaluator(policy, explain, engine) for policy, engine in policies]
        _read_alike(evaluators)
        for batch in batches:
            deliver(_run_all(evaluators, batch, source.city, companies))
        return

    # Worker processes are replaced after TASKS_PER_WORKER batches, which the "fork" start method does not
    # allow; "forkserver" forks them from a server that has already imported fuchi and clingo.
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(
        ["fuchi.engines.evaluation", "fuchi.explanation.explain", "clingo", "fuchi.engines.sql"]
    )
    _start_forkserver()
    with _signals_held():  # the pool's threads are born with the signals blocked: only this thread takes them
        pool = ProcessPoolExecutor(
            max_workers=workers,
            mp_context=context,
            initializer=_init_worker,
            initargs=([_spec(policy, engine) for policy, engine in policies], explain),
            max_tasks_per_child=TASKS_PER_WORKER,
        )
    pending: deque[Future[list[BatchResult] | FuchiError]] = deque()
    try:
        for batch in batches:
            with _signals_held():  # a worker being started is never left half started
                pending.append(pool.submit(_work, batch, source.city, companies))
            if len(pending) > workers:  # one batch waiting per worker: each result held here costs memory
                _deliver(pending.popleft(), deliver)
        while pending:
            _deliver(pending.popleft(), deliver)
    except BaseException as exc:
        _stop_pool(pool, final=isinstance(exc, KeyboardInterrupt))
        raise
    pool.shutdown(wait=True)


_HELD = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


@contextmanager
def _signals_held() -> Iterator[None]:
    """Block the terminating signals in this thread for a moment (they are delivered at the end).

    Threads started meanwhile inherit the mask, so a signal always reaches the main thread, where it
    raises (fuchi.cli); and no worker is half started when it does.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    old = signal.pthread_sigmask(signal.SIG_BLOCK, _HELD)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


def _start_forkserver() -> None:
    """Start the fork server (and the resource tracker) with SIGINT and SIGHUP blocked; they inherit it.

    Ctrl-C or a hang-up from the terminal reaches the whole process group: the server, importing clingo and
    DuckDB, would print a traceback, the tracker would die (and a new one complain), the workers would stop
    on their own. Only this process should react, and it stops the workers (:func:`_stop_pool`). SIGTERM
    still stops each of them.
    """
    from multiprocessing import forkserver, resource_tracker

    if threading.current_thread() is not threading.main_thread():
        forkserver.ensure_running()
        return
    old = signal.pthread_sigmask(signal.SIG_BLOCK, (signal.SIGINT, signal.SIGHUP))
    try:
        resource_tracker.ensure_running()  # first: starting it unblocks SIGINT (and SIGTERM) again
        signal.pthread_sigmask(signal.SIG_BLOCK, (signal.SIGINT, signal.SIGHUP))
        forkserver.ensure_running()
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


def _stop_pool(pool: ProcessPoolExecutor, final: bool = False, grace: float = 5.0) -> None:
    """Stop a pool now (an error or a signal): kill the workers instead of waiting for their batches.

    Without this a signal leaves the workers (and through them the fork server) running for ever: they
    wait on a queue whose writing end they hold themselves. ``final`` (a signal: the process is about to
    exit) also stops the fork server and waits for it, so that no process outlives this one.
    """
    processes = dict(getattr(pool, "_processes", None) or {})
    for proc in processes.values():
        proc.terminate()
    for proc in processes.values():
        proc.join(grace)
        if proc.is_alive():
            proc.kill()
            proc.join(grace)
    pool.shutdown(wait=True, cancel_futures=True)
    for proc in processes.values():  # a worker the pool started meanwhile (replacing one) is stopped by it
        proc.join(grace)
    if final:
        import gc
        from multiprocessing import forkserver

        gc.collect()  # the pool's queues: their semaphores released now
        server = getattr(forkserver, "_forkserver", None)
        server_pid = getattr(server, "_forkserver_pid", None)
        if server_pid is not None:
            # A worker forked but not yet handed its task (a signal while the pool started it) waits on this
            # process for ever and holds the fork server's "alive" pipe open: the server would never see it
            # close, and stopping it would wait for ever. Every child the server still has is stopped first.
            for pid in live_processes(1, server_pid):  # its children
                with suppress(OSError):
                    os.kill(pid, signal.SIGKILL)
        stop = getattr(server, "_stop", None)
        if stop is not None:  # CPython's own clean-up (its tests use it); elsewhere the server exits when
            stop()  # this process does
        # The resource tracker is left to exit when this process does (it sees its pipe close): stopped here, it
        # would unlink the semaphores of a pool still referenced (a signal while the pool started), and this
        # process's own clean-up at exit would then print a traceback for each.


def live_processes(field: int, value: int) -> list[int]:
    """The live (not zombie) processes whose ``/proc/PID/stat`` field ``field`` (after the name) is ``value``.

    Field 1 is the parent's pid, field 3 the session id. Linux only: elsewhere there are none.
    """
    out: list[int] = []
    try:
        entries = os.listdir("/proc")
    except OSError:
        return out
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[field]) == value and fields[0] != "Z":
            out.append(int(entry))
    return out


def _deliver(fut: Future[list[BatchResult] | FuchiError], deliver: Callable[[list[BatchResult]], None]) -> None:
    result = fut.result()
    if isinstance(result, FuchiError):
        raise result
    deliver(result)


def _has_id(text: str, company_id: str) -> bool:
    """Whether a JSON Lines line is the enterprise ``company_id`` (its id spelled with escapes); never raises."""
    import json

    try:
        obj = json.loads(text)
    except (ValueError, RecursionError):
        return False  # (a line that does not parse is not this enterprise; evaluate reports it)
    return isinstance(obj, dict) and obj.get("id") == company_id


def find_company(paths: Sequence[str], company_id: str, schema: Schema | None = None) -> tuple[Company, City]:
    """Find one enterprise in the inputs without solving (or fully validating) the others.

    JSON Lines lines are parsed only when they contain the id's JSON text (or a JSON escape, which may
    spell it otherwise: ``"A\\/B"``, ``"\\u0041BC"``), so finding one enterprise in a large file costs little
    more than reading it.

    Raises:
        InputError: The enterprise is absent or appears twice, or its record is malformed.

    """
    import json

    source = open_inputs(paths, schema)
    needles = {json.dumps(company_id, ensure_ascii=False)[1:-1], json.dumps(company_id)[1:-1]}
    found: Company | None = None
    for item in source.items:
        if isinstance(item, tuple) and not any(n in item[2] for n in needles):
            if "\\" not in item[2] or not _has_id(item[2], company_id):
                continue
        co = _company_of(item, schema)
        if co.id != company_id:
            continue
        if found is not None:
            first = found.file if found.line is None else f"{found.file}:{found.line}"
            raise InputError(
                co.file,
                co.id,
                "id",
                f"企业编号重复（首次出现于 {first}） / duplicate enterprise id (first seen at {first})",
                co.line,
            )
        found = co
    if found is None:
        raise InputError(
            ", ".join(paths),
            company_id,
            "id",
            "在输入文件中找不到该企业 / no enterprise with this id in the input files",
        )
    return found, source.city

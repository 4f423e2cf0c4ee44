"""Command line: the only place that prints results, turns errors into messages and picks exit codes.

Exit codes: 0 ran; 1 input or policy error; 2 usage; 3 policy tests failed; 128 + N when signal N (SIGINT,
SIGTERM, SIGHUP) ended the run (workers stopped, nothing on stdout, no temporary files left).
"""

from __future__ import annotations

import json
import shutil
import signal
import sys
import tempfile
import traceback
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from functools import wraps
from typing import IO, Any, TypeVar, cast

import click

from .engines import evaluation, spark_batch
from .engines import resolve as resolve_engine
from .errors import TERMINATING_SIGNALS, FuchiError, PolicyError, raise_interrupted
from .output.files import atomic_output, check_writable
from .output.render import WRITERS, Messages, TableWriter, Writer, clean, overrides_line, progress
from .output.totals import Totals
from .policy import Policy, default_policy_dir, load_policy

F = TypeVar("F", bound=Callable[..., Any])
MAX_WARNINGS = 20


@contextmanager
def signals_handled() -> Iterator[None]:
    """SIGINT, SIGTERM and SIGHUP raise :class:`~fuchi.errors.Interrupted` while a command runs.

    The run then unwinds like on Ctrl-C: worker processes are stopped, temporary files removed, and
    :func:`handle_errors` exits 128 + N. Outside the main thread (where Python cannot set handlers) nothing
    changes.
    """
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {sig: signal.getsignal(sig) for sig in TERMINATING_SIGNALS}
    for sig in TERMINATING_SIGNALS:
        signal.signal(sig, raise_interrupted)
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _interrupted(exc: KeyboardInterrupt) -> None:
    """Exit 128 + N for a signal (Ctrl-C is SIGINT), with a note on stderr if stderr is still there."""
    signum = int(getattr(exc, "signum", signal.SIGINT))
    try:
        Messages().error(f"已中断 interrupted ({signal.Signals(signum).name})")
    except (OSError, ValueError):  # SIGHUP: the terminal may be gone
        pass
    sys.exit(128 + signum)


def _utf8_stdout() -> None:
    """Results are UTF-8 whatever the locale or PYTHONIOENCODING says (ids and reasons are Chinese text).

    An ASCII stdout cannot hold them; escaping them would change the data, so the bytes are UTF-8 as the
    data contract says (docs/data-format.md). Diagnostics on stderr keep its encoding (escaped if need be).
    """
    import io

    out = sys.stdout
    if isinstance(out, io.TextIOWrapper) and out.encoding.replace("-", "").lower() != "utf8":
        try:
            out.reconfigure(encoding="utf-8")
        except (OSError, ValueError):  # (a stream that cannot change: left as it is)
            pass
    err = sys.stderr
    if isinstance(err, io.TextIOWrapper) and err.errors == "strict":
        try:
            err.reconfigure(errors="backslashreplace")
        except (OSError, ValueError):
            pass


def handle_errors(func: F) -> F:
    """Turn fuchi's typed errors into a message on stderr and their exit code (no traceback)."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        _utf8_stdout()
        messages = Messages()
        try:
            with signals_handled():
                return func(*args, **kwargs)
        except FuchiError as exc:
            messages.error(exc.message())
            sys.exit(exc.exit_code)
        except KeyboardInterrupt as exc:
            _interrupted(exc)
        except BrokenPipeError:  # the reader (e.g. `| head`) closed the pipe: stop quietly
            import os

            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            sys.exit(0)
        except (click.exceptions.Exit, click.ClickException, SystemExit):
            raise
        except Exception as exc:  # a bug: say so plainly, keep the details for the report
            messages.error(f"内部错误 internal error: {type(exc).__name__}: {exc}")
            if kwargs.get("debug"):
                traceback.print_exc()
            sys.exit(1)

    return wrapper  # type: ignore[return-value]


def _policy(path: str | None, overrides: Sequence[str] = (), option: str = "--set") -> Policy:
    """The policy of ``--policy`` (default: the shipped one) with the ``--set`` overrides applied."""
    from .drafting.overrides import apply_overrides

    return apply_overrides(load_policy(path or default_policy_dir()), overrides, option)


set_option = click.option(
    "--set",
    "overrides",
    multiple=True,
    metavar="NAME=VALUE",
    help="覆盖参数 Override a parameter of parameters.yaml without copying the policy (repeatable; a table entry "
    "as NAME.KEY=VALUE, a list as V1,V2). Typed and checked like parameters.yaml; outputs and the digest show it.",
)


policy_option = click.option(
    "--policy",
    "policy_dir",
    type=click.Path(file_okay=False),
    default=None,
    help="政策目录 Policy directory (default: the shipped policy/chongming-digital-2025).",
)


#: click's usage messages (English) by how they start, with the Chinese put before them.
_USAGE_ZH = (
    ("No such option", "没有此选项"),
    ("No such command", "没有此命令"),
    ("Missing argument", "缺少参数"),
    ("Missing option", "缺少选项"),
    ("Invalid value", "取值无效"),
    ("Got unexpected extra argument", "多余的参数"),
    ("Option", "选项用法有误"),  # "Option '--year' requires an argument." and the like
)


def _bilingual_usage(exc: click.UsageError) -> click.UsageError:
    """Put a Chinese gloss before click's own usage message (fuchi's own usage errors are already bilingual)."""
    text = exc.format_message()  # (a missing or bad parameter composes its message here)
    if any("\u4e00" <= ch <= "\u9fff" for ch in text):
        return exc
    zh = next((z for en, z in _USAGE_ZH if text.startswith(en)), "用法错误")
    return click.UsageError(f"{zh} / {text}", ctx=exc.ctx)


class _Command(click.Command):
    """A command whose argument errors read in Chinese and English."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        try:
            return super().parse_args(ctx, args)
        except click.UsageError as exc:
            raise _bilingual_usage(exc) from None


class _Group(click.Group):
    """The ``fuchi`` group: its commands are :class:`_Command`; its own usage errors are bilingual too."""

    command_class = _Command

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        try:
            return super().parse_args(ctx, args)
        except click.UsageError as exc:
            raise _bilingual_usage(exc) from None

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        try:
            return super().resolve_command(ctx, args)
        except click.UsageError as exc:
            raise _bilingual_usage(exc) from None


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="fuchi")
def main() -> None:
    """Fuchi 扶持 — 扶持政策即代码 policy-as-code for government support measures."""


@main.command()
@click.argument("files", nargs=-1, required=True, type=click.Path())  # (a directory: an input error, exit 1)
@policy_option
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "json", "csv", "xlsx"]),
    default="table",
    show_default=True,
    help="输出格式 Output format (xlsx: an Excel workbook, with --output).",
)
@click.option(
    "--output",
    "-o",
    "output",
    type=click.Path(dir_okay=False),
    default=None,
    help="写入文件 Write the results to FILE instead of stdout (whole or not at all).",
)
@click.option("--company", "companies", multiple=True, help="只输出该企业 Only this enterprise id (repeatable).")
@click.option("--year", "years", multiple=True, type=int, help="只输出该数据年度 Only this data year (repeatable).")
@click.option("--item", "items", multiple=True, help="只输出该条款 Only this clause item, e.g. 2.2.b (repeatable).")
@click.option(
    "--workers",
    type=click.IntRange(0, 64),
    default=None,
    help="工作进程数 Worker processes (default: up to 2; 0 = in this process).",
)
@click.option(
    "--explain",
    "explain_rows",
    is_flag=True,
    help="每行附一行解释 Add a one-line explanation to each row (instrumented; slower).",
)
@click.option(
    "--engine",
    type=click.Choice(["auto", "sql", "clingo", "spark"]),
    default="auto",
    show_default=True,
    help="求解引擎 Engine: sql (the policy compiled to SQL on DuckDB), clingo (the reference), auto (sql when the "
    "policy compiles), spark (the same plan on Spark SQL through pyspark; pip install 'fuchi[spark]', docs/spark.md).",
)
@click.option(
    "--spark-master",
    metavar="URL",
    default=None,
    help="Spark 主节点 The Spark master URL for --engine spark (default: $FUCHI_SPARK_MASTER or local[2]).",
)
@click.option(
    "--warnings",
    "warnings_file",
    type=click.Path(dir_okay=False),
    default=None,
    help=f"全部警告写入该文件 Write every warning to FILE, one per line (the terminal shows the first {MAX_WARNINGS}).",
)
@click.option(
    "--record",
    "record",
    type=click.Path(dir_okay=False),
    default=None,
    help="审计记录 Write an audit record to FILE: every input and policy file with its sha256, the parameters in "
    "force, every row with its one-line explanation; `fuchi verify FILE` re-runs it (docs/auditing.md).",
)
@set_option
@click.option("--debug", is_flag=True, hidden=True)
@handle_errors
def evaluate(
    files: tuple[str, ...],
    policy_dir: str | None,
    fmt: str,
    output: str | None,
    companies: tuple[str, ...],
    years: tuple[int, ...],
    items: tuple[str, ...],
    workers: int | None,
    explain_rows: bool,
    engine: str,
    warnings_file: str | None,
    overrides: tuple[str, ...],
    debug: bool,
    record: str | None = None,
    spark_master: str | None = None,
) -> None:
    """评估企业数据 Evaluate enterprise data: every touched (enterprise, year, item) with status and amount.

    FILES are YAML, JSON, JSON Lines or filled .xlsx workbooks in the format of docs/data-format.md.
    """
    if fmt == "xlsx" and output is None:
        raise click.UsageError("--format xlsx 需要 --output FILE / --format xlsx needs --output FILE")
    if output is not None and (fmt == "xlsx") != output.lower().endswith(".xlsx"):
        raise click.UsageError(
            f"--format {fmt} 与输出文件 {output!r} 的扩展名不符 / --format {fmt} does not match the output file's "
            "extension (.xlsx is for --format xlsx, and --format xlsx writes .xlsx)"
        )
    _outputs_free(files, ("--output", output), ("--warnings", warnings_file), ("--record", record))
    if spark_master is not None:
        if engine != "spark":
            raise click.UsageError("--spark-master 需要 --engine spark / --spark-master needs --engine spark")
        from .engines import spark as spark_engine

        spark_engine.set_master(spark_master)
    policy = _policy(policy_dir, overrides)
    unknown = [i for i in items if i not in policy.items]
    if unknown:
        raise click.UsageError(f"未知条款 unknown item {unknown[0]!r}; 应为 expected one of {', '.join(policy.items)}")
    messages = Messages()
    engine_name, notice = resolve_engine(policy, engine)
    if notice is not None:
        messages.info(notice)
    recorder = None
    if record is not None:
        from .output.record import Recorder, options_entry

        options = options_entry(companies, years, items, engine_name)
        recorder = Recorder(policy, policy_dir, files, options, ["fuchi", *sys.argv[1:]])
    with tempfile.TemporaryFile("w+", encoding="utf-8", newline="") as buffer:
        raw = cast(IO[bytes], buffer.buffer)
        writer: Writer
        if fmt == "xlsx":
            from .output.xlsx import WorkbookWriter

            writer = WorkbookWriter(raw, policy)  # the workbook's bytes, under the text layer
        elif fmt == "table" and output is not None:
            writer = TableWriter(buffer, policy, terminal=False)
        else:
            writer = WRITERS[fmt](buffer, policy)

        def sink(row: evaluation.Row) -> None:
            if recorder is not None:  # the record always carries the one-liners; stdout only with --explain
                recorder.row(row)
                if not explain_rows:
                    row = replace(row, explanation=None)
            writer.row(row)

        try:
            totals, warnings = _run_evaluation(
                policy, files, sink, companies, years, items, workers, explain_rows or recorder is not None, engine_name
            )
            writer.finish(totals, warnings)
            if recorder is not None and record is not None:
                recorder.finish(totals, warnings)
                recorder.write(record)  # only a run that succeeded leaves a record (whole or not at all)
        finally:
            if recorder is not None:
                recorder.close()
        _report_warnings(messages, warnings, warnings_file)
        _emit(buffer, output)


def _outputs_free(files: Sequence[str], *outputs: tuple[str, str | None]) -> None:
    """No output option (``("--output", path)``, …) names an input file or another output.

    Written at the end of a run, it would silently replace the data it was computed from, or the other output.

    Raises:
        click.UsageError: Two of them are the same file (exit 2, nothing run).
        OutputError: One cannot be created (a missing or read-only directory: exit 1, nothing run).
    """
    import os

    seen: list[tuple[str, str]] = [("FILES", os.path.realpath(f)) for f in files]
    for option, path in outputs:
        if path is None or path == "-":
            continue
        target = os.path.realpath(path)
        for other, there in seen:
            if there == target:
                raise click.UsageError(f"{option} {path!r} 与 {other} 是同一文件 / is the same file as {other}")
        seen.append((option, target))
    for _, path in outputs:  # then each can be created: none is written unless all can be
        if path is not None and path != "-":
            check_writable(path)


def _run_evaluation(
    policy: Policy,
    files: Sequence[str],
    sink: Callable[[evaluation.Row], None],
    companies: Sequence[str],
    years: Sequence[int],
    items: Sequence[str],
    workers: int | None,
    explain: bool,
    engine_name: str,
) -> tuple[Totals, list[str]]:
    """Evaluate FILES as ``evaluate`` does: each kept row to ``sink``; return the totals and every warning.

    ``verify`` re-runs a record through this same loop, so that what it compares is what evaluate wrote.
    """
    source = evaluation.open_inputs(list(files), policy.schema)
    totals = Totals(items=policy.items)
    year_set, item_set = set(years), set(items)
    seen_diagnostics: set[str] = set()
    warnings: list[str] = []
    years_seen: set[int] = set()
    items_seen: set[str] = set()
    with progress(source.count_hint, "评估 evaluating") as advance:

        def on_batch(result: evaluation.BatchResult) -> None:
            totals.companies += result.companies
            for ident, kind in result.flags:
                totals.flags.setdefault(kind, []).append(ident)
            for row in result.rows:
                if (year_set and row.year not in year_set) or (item_set and row.item not in item_set):
                    continue
                years_seen.add(row.year)
                items_seen.add(row.item)
                sink(row)
                totals.add(row.status, row.item, row.amount, row.payable_year)
            warnings.extend(result.warnings)
            for d in result.diagnostics:
                text = d.render()
                if text not in seen_diagnostics:
                    seen_diagnostics.add(text)
                    warnings.append(text)
            advance(len(result.seen))

        seen_ids: set[str] = set()

        def on_batch_seen(result: evaluation.BatchResult) -> None:
            seen_ids.update(ident for ident, *_ in result.seen if ident in companies)
            on_batch(result)

        evaluation.evaluate(
            policy,
            source,
            on_batch_seen,
            companies=frozenset(companies) if companies else None,
            workers=0 if engine_name == "spark" else workers,  # Spark parallelises itself: one session, here
            batch_size=spark_batch() if engine_name == "spark" else None,
            explain=explain,
            engine=engine_name,
        )
    for ident in companies:
        if ident not in seen_ids:
            warnings.insert(0, f"--company {ident!r}: 输入中没有该企业 / no enterprise with this id in the input")
    for year in sorted(year_set - years_seen, reverse=True):
        warnings.insert(0, f"--year {year}: 没有该年度的结果 / no row of this data year (with the other filters)")
    for item in sorted(item_set - items_seen, reverse=True):
        warnings.insert(0, f"--item {item}: 没有该条款的结果 / no row of this item (with the other filters)")
    return totals, warnings


def _report_warnings(messages: Messages, warnings: Sequence[str], warnings_file: str | None) -> None:
    """Write every warning to ``--warnings FILE``; show the first :data:`MAX_WARNINGS` on stderr."""
    if warnings_file is not None:
        with atomic_output(warnings_file) as fh:
            fh.write("".join(clean(w) + "\n" for w in warnings).encode("utf-8"))
    for w in warnings[:MAX_WARNINGS]:
        messages.warning(w)
    if len(warnings) > MAX_WARNINGS:
        more = len(warnings) - MAX_WARNINGS
        where = f"，见 see {warnings_file}" if warnings_file else "（--warnings FILE 可全部写出 writes them all）"
        messages.warning(f"……另有 {more} 条警告 and {more} more warnings{where}")


def _emit(buffer: IO[str], output: str | None) -> None:
    """Send the finished output (a temporary file) to ``--output FILE`` atomically, or to stdout."""
    buffer.flush()
    if output is not None:
        raw = cast(IO[bytes], getattr(buffer, "buffer", buffer))
        raw.seek(0)
        with atomic_output(output) as fh:
            shutil.copyfileobj(raw, fh)
        return
    buffer.seek(0)
    shutil.copyfileobj(buffer, sys.stdout)
    sys.stdout.flush()


@main.command("verify")
@click.argument("record_file", metavar="RECORD", type=click.Path())  # (a directory: cannot be read, exit 1)
@click.option(
    "--engine",
    type=click.Choice(["recorded", "auto", "sql", "clingo"]),
    default="recorded",
    show_default=True,
    help="求解引擎 Engine of the re-run: the recorded one, or another to cross-check (results are the same).",
)
@click.option(
    "--workers",
    type=click.IntRange(0, 64),
    default=None,
    help="工作进程数 Worker processes (default: up to 2; 0 = in this process).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="输出格式 Output: a line, or a JSON object {verified, record, …} on stdout (also when it fails).",
)
@click.option("--debug", is_flag=True, hidden=True)
@handle_errors
def verify_command(record_file: str, engine: str, workers: int | None, fmt: str, debug: bool) -> None:
    """核验审计记录 Verify an audit record (evaluate --record): re-run it and compare. Exit 0 when all matches.

    \b
    In order: the record's own sha256 (an edited record fails); every policy file and input file it
    names, by sha256 (the first missing or changed file is named, recorded vs now); the policy re-loaded
    with the recorded overrides (files, digests, parameters in force); then the evaluation re-run with
    the recorded options, row by row (the first differing row: enterprise, year, item, field, recorded
    vs now), the totals and the warnings. Exit 1 at the first difference.

    \b
    --format json prints {"verified": true, "record", "policy": {id, version, digest}, "policy_files",
    "input_files", "rows", "warnings", "engine"}, or {"verified": false, "record", "difference"} and exit 1.
    """
    from .output import record as rec

    if fmt == "json":
        try:
            summary = _verify(record_file, engine, workers)
        except (rec.VerifyError, rec.RecordError) as exc:
            _json_line({"verified": False, "record": record_file, "difference": exc.text})
            sys.exit(exc.exit_code)
        except FuchiError as exc:  # a policy or input the record names that no longer loads
            _json_line({"verified": False, "record": record_file, "difference": exc.message()})
            raise
        _json_line({"verified": True, **summary})
        return
    summary = _verify(record_file, engine, workers)
    policy_ = summary["policy"]
    click.echo(
        f"核验通过 verified {record_file}: 政策 policy {policy_['id']} {policy_['version']} {policy_['digest']}; "
        f"{summary['policy_files']} 个政策文件 policy files, {summary['input_files']} 个输入文件 input files "
        f"unchanged; {summary['rows']} 行 rows, 合计 totals and {summary['warnings']} 条警告 warnings identical "
        f"(engine {summary['engine']})"
    )


def _json_line(obj: dict[str, Any]) -> None:
    from .output.render import json_safe

    click.echo(json_safe(json.dumps(obj, ensure_ascii=False, separators=(", ", ": "))))


def _verify(record_file: str, engine: str, workers: int | None) -> dict[str, Any]:
    """Re-run an audit record; return what was verified.

    Raises:
        VerifyError: A file changed or is missing, or the re-run differs.
    """
    from .drafting.overrides import apply_overrides
    from .output import record as rec

    messages = Messages()
    doc = rec.read_record(record_file)
    rec.check_files(record_file, doc)
    root = rec.policy_root(doc)
    policy = apply_overrides(load_policy(root), doc["policy"]["overrides"])
    rec.check_policy(record_file, doc, policy)
    if doc["fuchi"] != rec.fuchi_version():
        messages.warning(
            f"记录由 fuchi {doc['fuchi']} 生成，现为 {rec.fuchi_version()} / recorded with fuchi {doc['fuchi']}, "
            f"verifying with {rec.fuchi_version()}"
        )
    options = doc["options"]
    engine_name, notice = resolve_engine(policy, options["engine"] if engine == "recorded" else engine)
    if notice is not None:
        messages.info(notice)
    inputs = [rec.input_path(e) for e in doc["inputs"]]
    unknown = [i for i in options["items"] if i not in policy.items]
    if unknown:
        raise rec.VerifyError(record_file, f"options.items: 未知条款 unknown item {unknown[0]!r}")
    checker = rec.RowChecker(record_file, doc["results"])
    filters = (options["companies"], options["years"], options["items"])
    totals, warnings = _run_evaluation(policy, inputs, checker.row, *filters, workers, True, engine_name)
    checker.finish(doc, totals, warnings, rec.localiser(doc, root, inputs))
    rec.check_files(record_file, doc)  # and nothing changed while it ran
    return {
        "record": record_file,
        "policy": {"id": policy.id, "version": policy.version, "digest": policy.digest},
        "policy_files": len(doc["policy"]["files"]),
        "input_files": len(doc["inputs"]),
        "rows": checker.count,
        "warnings": len(warnings),
        "engine": engine_name,
    }


def _population_options(func: F) -> F:
    """The options every population report shares (diff, budget, sweep)."""
    for option in reversed(
        (
            policy_option,
            set_option,
            click.option(
                "--output",
                "-o",
                "output",
                type=click.Path(dir_okay=False),
                default=None,
                help="写入文件 Write the report to FILE instead of stdout (whole or not at all).",
            ),
            click.option(
                "--warnings",
                "warnings_file",
                type=click.Path(dir_okay=False),
                default=None,
                help="全部警告写入该文件 Write every warning to FILE, one per line.",
            ),
            click.option(
                "--engine",
                type=click.Choice(["auto", "sql", "clingo"]),
                default="auto",
                show_default=True,
                help="求解引擎 Engine (as for evaluate).",
            ),
            click.option(
                "--workers",
                type=click.IntRange(0, 64),
                default=None,
                help="工作进程数 Worker processes (default: up to 2; 0 = in this process).",
            ),
            click.option("--debug", is_flag=True, hidden=True),
        )
    ):
        func = option(func)
    return func


def _write_report(
    write: Callable[[IO[str]], None],
    messages: Messages,
    warnings: Sequence[str],
    warnings_file: str | None,
    output: str | None,
) -> None:
    """Write a finished report to a temporary file, report the warnings, then deliver it whole."""
    with tempfile.TemporaryFile("w+", encoding="utf-8", newline="") as buffer:
        write(buffer)
        _report_warnings(messages, warnings, warnings_file)
        _emit(buffer, output)


def _engine_for(policy: Policy, engine: str, messages: Messages) -> tuple[Policy, str]:
    name, notice = resolve_engine(policy, engine)
    if notice is not None:
        messages.info(notice)
    return policy, name


REPORT_FORMATS = ["table", "json", "csv", "markdown"]
#: diff and budget also write one self-contained HTML page (fuchi.output.html).
IMPACT_FORMATS = [*REPORT_FORMATS, "html"]


@main.command("diff")
@click.argument("files", nargs=-1, required=True, type=click.Path())
@click.option(
    "--base",
    "base_dir",
    type=click.Path(file_okay=False),
    default=None,
    help="原政策目录 The base policy directory (default: the shipped policy).",
)
@click.option(
    "--base-set",
    "base_overrides",
    multiple=True,
    metavar="NAME=VALUE",
    help="覆盖原政策参数 Override a parameter of the base (as --set does for the draft).",
)
@click.option(
    "--format", "fmt", type=click.Choice(IMPACT_FORMATS), default="table", show_default=True, help="输出格式 Format."
)
@_population_options
@handle_errors
def diff_command(
    files: tuple[str, ...],
    base_dir: str | None,
    base_overrides: tuple[str, ...],
    fmt: str,
    policy_dir: str | None,
    overrides: tuple[str, ...],
    output: str | None,
    warnings_file: str | None,
    engine: str,
    workers: int | None,
    debug: bool,
) -> None:
    """政策差异 Who a draft changes and what it costs: every (enterprise, year, item) that differs.

    \b
    The base is --base DIR (default: the shipped policy) with --base-set; the draft is --policy DIR
    (default: the shipped policy) with --set. Both decide the same data in one pass. Listed: each row
    whose status, amount or payable year differs, with both sides and their reasons; then totals by
    item and payable year for base, draft and delta (granted and pending maximum apart), and the
    enterprises that gain and lose.
    """
    _outputs_free(files, ("--output", output), ("--warnings", warnings_file))
    from .drafting.impact import diff
    from .output.html import DiffHtmlWriter
    from .output.impact import DiffCsvWriter, DiffJsonWriter, DiffMarkdownWriter
    from .output.render import DiffTableWriter

    messages = Messages()
    base = _engine_for(_policy(base_dir, base_overrides, "--base-set"), engine, messages)
    draft = _engine_for(_policy(policy_dir, overrides), engine, messages)
    source = evaluation.open_inputs(list(files), [base[0].schema, draft[0].schema])
    with tempfile.TemporaryFile("w+", encoding="utf-8", newline="") as buffer:
        writers: dict[str, Any] = {
            "json": DiffJsonWriter,
            "csv": DiffCsvWriter,
            "markdown": DiffMarkdownWriter,
            "html": DiffHtmlWriter,
        }
        if fmt == "table":
            writer: Any = DiffTableWriter(buffer, base[0], draft[0], terminal=None if output is None else False)
        else:
            writer = writers[fmt](buffer, base[0], draft[0])
        with progress(source.count_hint, "比较 comparing"):
            totals, warnings = diff(base, draft, source, writer.change, workers=workers)
        writer.finish(totals, warnings)
        _report_warnings(messages, warnings, warnings_file)
        _emit(buffer, output)


@main.command("budget")
@click.argument("files", nargs=-1, required=True, type=click.Path())
@click.option(
    "--format", "fmt", type=click.Choice(IMPACT_FORMATS), default="table", show_default=True, help="输出格式 Format."
)
@_population_options
@handle_errors
def budget_command(
    files: tuple[str, ...],
    fmt: str,
    policy_dir: str | None,
    overrides: tuple[str, ...],
    output: str | None,
    warnings_file: str | None,
    engine: str,
    workers: int | None,
    debug: bool,
) -> None:
    """预算敞口 Budget exposure: amounts by item × payable year × status, with enterprise counts.

    Granted rows count at their amount, rows pending an assessment at their maximum (kept apart).
    """
    _outputs_free(files, ("--output", output), ("--warnings", warnings_file))
    from .drafting.impact import budgets
    from .output.html import budget_html
    from .output.impact import budget_csv, budget_json, budget_markdown
    from .output.render import write_budget_table

    messages = Messages()
    policy, engine_name = _engine_for(_policy(policy_dir, overrides), engine, messages)
    source = evaluation.open_inputs(list(files), policy.schema)
    with progress(source.count_hint, "评估 evaluating"):
        (budget,), warnings = budgets([(policy, engine_name)], source, workers=workers)
    writers = {
        "json": budget_json,
        "csv": budget_csv,
        "markdown": budget_markdown,
        "html": budget_html,
        "table": write_budget_table,
    }
    _write_report(lambda out: writers[fmt](out, policy, budget, warnings), messages, warnings, warnings_file, output)


@main.command("sweep")
@click.argument("assignment", metavar="NAME=V1,V2,…")
@click.argument("files", nargs=-1, required=True, type=click.Path())
@click.option(
    "--format", "fmt", type=click.Choice(REPORT_FORMATS), default="table", show_default=True, help="输出格式 Format."
)
@_population_options
@handle_errors
def sweep_command(
    assignment: str,
    files: tuple[str, ...],
    fmt: str,
    policy_dir: str | None,
    overrides: tuple[str, ...],
    output: str | None,
    warnings_file: str | None,
    engine: str,
    workers: int | None,
    debug: bool,
) -> None:
    """参数扫描 The budget for each value of one parameter, in one run over the data.

    \b
    fuchi sweep growth_factor=1.0,1.2,1.5,2.0 FILES...
    fuchi sweep match_ratio.2.1.a=0.5,0.6 FILES...   (a table entry)
    Each value is checked like --set; the other parameters are as in the policy (and --set).
    """
    _outputs_free(files, ("--output", output), ("--warnings", warnings_file))
    from .drafting.impact import budgets
    from .drafting.overrides import sweep_values
    from .output.impact import sweep_csv, sweep_json, sweep_markdown
    from .output.render import write_sweep_table

    messages = Messages()
    policy = _policy(policy_dir, overrides)
    name, values, variants = sweep_values(policy, assignment)
    runs = [_engine_for(v, engine, messages) for v in variants]
    source = evaluation.open_inputs(list(files), policy.schema)
    with progress(source.count_hint, "评估 evaluating"):
        results, warnings = budgets(runs, source, workers=workers, labels=[f"{name}={v}" for v in values])
    writers = {"json": sweep_json, "csv": sweep_csv, "markdown": sweep_markdown, "table": write_sweep_table}

    def write(out: IO[str]) -> None:
        writers[fmt](out, policy, name, values, results, warnings)

    _write_report(write, messages, warnings, warnings_file, output)


@main.command(name="compile")
@policy_option
@click.option(
    "--dialect",
    type=click.Choice(["duckdb", "spark"]),
    default="duckdb",
    show_default=True,
    help="SQL 方言 SQL dialect: duckdb (the sql engine) or spark (Spark SQL, --engine spark).",
)
@click.option(
    "--reader",
    is_flag=True,
    help="读取器 Print instead the SQL that reads raw JSON Lines in DuckDB (compiled from inputs.yaml).",
)
@handle_errors
def compile_command(policy_dir: str | None, dialect: str = "duckdb", reader: bool = False) -> None:
    """编译为 SQL Print the SQL plan compiled from the policy's rules (the DuckDB engine runs it).

    Each statement creates the table of one variant of a predicate; each SELECT in it is annotated with the
    rule id and file:line it comes from. Parameters ($1 …, Spark :p1 …) are shown with their values. With
    --reader: the statements that read and check raw JSON Lines in DuckDB and lay out their facts.
    """
    from .compiler import DIALECTS, compile_policy
    from .compiler.render import render_plan, render_reader
    from .policy import require_parameters

    policy = _policy(policy_dir)
    require_parameters(policy)  # as every engine does: no plan for a policy no engine can run
    plan = compile_policy(policy, dialect=DIALECTS[dialect])
    if reader:
        from .compiler.messages import record_fields
        from .compiler.reader import Unsupported, compile_reader

        if dialect != "duckdb":
            raise click.UsageError("--reader: 只有 duckdb 方言 the reader is compiled for DuckDB only")
        try:
            compiled = compile_reader(policy.schema, plan, sorted(record_fields(policy.messages)))
        except Unsupported as exc:
            text = f"-- 此 inputs.yaml 由 Python 读取器读取 the Python loader reads JSON Lines of this schema: {exc}\n"
        else:
            text = render_reader(compiled, policy)
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    text = render_plan(plan, policy)
    sys.stdout.write(text)
    sys.stdout.flush()


@main.command()
@click.argument("enterprise")
@click.argument("args", nargs=-1, required=True)
@policy_option
@click.option("--year", type=int, default=None, help="数据年度 Data year.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["tree", "json", "markdown"]),
    default="tree",
    show_default=True,
    help="输出格式 Output format.",
)
@set_option
@click.option(
    "--how-to-qualify",
    is_flag=True,
    help="最小调整 The smallest changes to the enterprise's numbers of --year that make ITEM pay.",
)
@click.option(
    "--proof",
    is_flag=True,
    help="完整推理链 With ITEM: the full rule chain down to every input fact and every why-not (not the page).",
)
@click.option("--debug", is_flag=True, hidden=True)
@handle_errors
def explain(
    enterprise: str,
    args: tuple[str, ...],
    policy_dir: str | None,
    year: int | None,
    fmt: str,
    overrides: tuple[str, ...],
    debug: bool,
    how_to_qualify: bool = False,
    proof: bool = False,
) -> None:
    """解释结论 Explain why (or why not) ENTERPRISE gets what it gets.

    \b
    fuchi explain ENTERPRISE [ITEM] FILES... [--year Y] [--format tree|json|markdown]
    Without ITEM: every item of the enterprise with status, amount and reason.
    With ITEM (a clause id such as 2.2.b): the auditor's page — the decision, the clause text, the rule
    that decided, each condition held or not with its values and their sources, the arithmetic as one
    chain. With ITEM and --proof: the full rule chain down to the input facts (why) and each failing
    condition with its values (why not).
    With ITEM, --year Y and --how-to-qualify: the smallest changes to the enterprise's own numbers of Y
    (inputs.yaml's adjustable fields) that make ITEM pay, each checked by the engine, or why none can.
    """
    from .explanation.explain import Explainer
    from .output.render import EXPLAIN_WRITERS

    policy = _policy(policy_dir, overrides)
    item: str | None = None
    files = list(args)
    if files and files[0] in policy.items:
        item = files.pop(0)
    elif files and not any(files[0].lower().endswith(ext) for ext in (".yaml", ".yml", ".json", ".jsonl", ".xlsx")):
        raise click.UsageError(f"未知条款 unknown item {files[0]!r}; 应为 expected one of {', '.join(policy.items)}")
    if not files:
        raise click.UsageError("缺少输入文件 missing FILES")
    if how_to_qualify and (item is None or year is None):
        raise click.UsageError("--how-to-qualify 需要条款与年度 needs ITEM and --year")
    if how_to_qualify and proof:
        raise click.UsageError(
            "--proof 与 --how-to-qualify 不能同时使用 / --proof and --how-to-qualify exclude each other"
        )
    company, city = evaluation.find_company(files, enterprise, policy.schema)
    if how_to_qualify:
        from .explanation.qualify import Qualifier
        from .output.qualify import WRITERS as QUALIFY_WRITERS

        assert item is not None and year is not None
        answer = Qualifier(policy).qualify(company, city, item, year)
        with tempfile.TemporaryFile("w+", encoding="utf-8", newline="") as buffer:
            QUALIFY_WRITERS[fmt](buffer, answer)
            buffer.seek(0)
            shutil.copyfileobj(buffer, sys.stdout)
        sys.stdout.flush()
        return
    exp = Explainer(policy).explain(company, city, item=item, year=year)
    for warning in exp.warnings:
        Messages().warning(warning)
    if not exp.rows:
        asked = " ".join(str(x) for x in (year, item) if x is not None)
        zh = f"数据未涉及该企业的 {asked} 事项" if asked else "数据未涉及该企业的任何事项"
        en = (
            f"nothing in the data touches {asked} of {enterprise}"
            if asked
            else f"nothing in the data touches {enterprise}"
        )
        Messages().info(f"{zh} / {en}")
    with tempfile.TemporaryFile("w+", encoding="utf-8", newline="") as buffer:
        if exp.detailed and not proof:
            from .output.render import PAGE_WRITERS

            PAGE_WRITERS[fmt](buffer, exp)
        else:
            EXPLAIN_WRITERS[fmt](buffer, exp)
        buffer.seek(0)
        shutil.copyfileobj(buffer, sys.stdout)
    sys.stdout.flush()


@main.command()
@policy_option
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@handle_errors
def check(policy_dir: str | None, fmt: str) -> None:
    """检查政策 Check a policy: syntax, safety, undefined atoms, parameters, citations, stratification.

    Exit 1 when there is an error (warnings alone exit 0).
    """
    import json

    from .drafting.checker import check_policy
    from .output.render import write_findings

    path = policy_dir or str(default_policy_dir())
    findings = check_policy(path)
    errors = [f for f in findings if f.severity == "error"]
    if fmt == "json":
        click.echo(
            json.dumps(
                {"policy": path, "errors": len(errors), "findings": [f.__dict__ for f in findings]},
                ensure_ascii=False,
                indent=1,
            )
        )
    else:
        write_findings(findings)
        Messages().info(f"{path}: {len(errors)} 错误 errors, {len(findings) - len(errors)} 警告 warnings")
    if errors:
        sys.exit(1)


@main.command("test")
@policy_option
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.option("--junit", type=click.Path(dir_okay=False), default=None, help="写 JUnit XML Write a JUnit report.")
@click.option("--coverage", is_flag=True, help="规则覆盖 Show which rules some case made fire and fail.")
@click.option("-k", "select", default=None, help="只运行名称含该文本的用例 Only cases whose name contains this.")
@click.option(
    "--engine",
    type=click.Choice(["clingo", "sql"]),
    default="clingo",
    show_default=True,
    help="求解引擎 Engine the cases run on: clingo (the reference) or sql (the compiled plan, to check it too).",
)
@set_option
@click.option("--debug", is_flag=True, hidden=True)
@handle_errors
def test_cmd(
    policy_dir: str | None,
    fmt: str,
    junit: str | None,
    coverage: bool,
    select: str | None,
    engine: str,
    overrides: tuple[str, ...],
    debug: bool,
) -> None:
    """运行政策用例 Run the policy's cases (policy/<id>/cases/*.yaml). Exit 3 when a case fails."""
    import json

    from .drafting.cases import load_cases, run_case
    from .explanation.explain import Explainer
    from .output.render import coverage_dict, test_results_dict, write_coverage, write_junit, write_test_table

    policy = _policy(policy_dir, overrides)
    cases = load_cases(policy)
    if select:
        cases = [c for c in cases if select in c.name]
    evaluator = evaluation.Evaluator(policy, engine=engine)
    results = [run_case(evaluator, c) for c in cases]
    explainer = Explainer(policy)
    explanations: dict[str, Any] = {}
    for r in results:
        if r.passed or r.case.expect_error is not None or not r.case.expect:
            continue
        wrong = next(
            (e for e in r.case.expect if any(f.startswith(f"{e.company} {e.year} {e.item}") for f in r.failures)), None
        )
        if wrong is None:
            continue
        try:
            companies, city = r.case.data(policy.schema)
        except FuchiError:
            continue
        target = next((c for c in companies if c.id == wrong.company), None)
        if target is not None:
            explanations[r.case.name] = explainer.explain(target, city, item=wrong.item, year=wrong.year)
    report = None
    if coverage:
        from .drafting.coverage import measure

        report = measure(explainer, cases)
    if junit:
        write_junit(junit, results, policy)
    with tempfile.TemporaryFile("w+", encoding="utf-8", newline="") as buffer:
        if fmt == "json":
            doc = test_results_dict(results, explanations)
            if policy.overrides:  # (the cases ran under a changed policy: say so in the result itself)
                doc = {"overrides": policy.override_map(), **doc}
            if report is not None:
                doc["coverage"] = coverage_dict(report)
            buffer.write(json.dumps(doc, ensure_ascii=False, indent=1) + "\n")
        else:
            if policy.overrides:
                buffer.write(clean(overrides_line(policy.override_map())) + "\n")
            write_test_table(buffer, results, explanations)
            if report is not None:
                write_coverage(buffer, report)
        buffer.seek(0)
        shutil.copyfileobj(buffer, sys.stdout)
    sys.stdout.flush()
    if any(not r.passed for r in results):
        sys.exit(3)


@main.command("new-policy")
@click.argument("directory", type=click.Path(file_okay=False))
@handle_errors
def new_policy_cmd(directory: str) -> None:
    """新建政策 Scaffold a policy directory (metadata, parameters, one clause, cases) that passes check and test."""
    from .drafting.scaffold import new_policy

    for path in new_policy(directory):
        click.echo(str(path))


@main.command("show-policy")
@policy_option
@click.option("--clause", default=None, help="只显示该条款 Only this clause id.")
@click.option("--format", "fmt", type=click.Choice(["table", "markdown"]), default="table", show_default=True)
@handle_errors
def show_policy(policy_dir: str | None, clause: str | None, fmt: str) -> None:
    """显示政策 Show each clause with its text, the rules implementing it, parameters and rulings."""
    from .output.render import write_policy_markdown, write_policy_table
    from .policy import clause_views

    policy = _policy(policy_dir)
    if clause is not None and clause not in policy.clauses:
        raise click.UsageError(f"未知条款 unknown clause {clause!r}; expected one of {', '.join(policy.clauses)}")
    views = clause_views(policy, clause)
    with tempfile.TemporaryFile("w+", encoding="utf-8", newline="") as buffer:
        (write_policy_markdown if fmt == "markdown" else write_policy_table)(buffer, policy, views)
        buffer.seek(0)
        shutil.copyfileobj(buffer, sys.stdout)
    sys.stdout.flush()


@main.command("inputs")
@policy_option
@handle_errors
def inputs_command(policy_dir: str | None) -> None:
    """输入字段 Print the policy's declared input fields (inputs.yaml) as the data format's Markdown tables.

    Every field an enterprise record and the city figures may carry: its zh/en label, kind and values,
    and the input fact it becomes. docs/data-format.md carries this output for the shipped policy.
    """
    from .inputs.contract import fields_markdown

    policy = _policy(policy_dir)
    sys.stdout.write(fields_markdown(policy.schema))
    sys.stdout.flush()


@main.command("template")
@policy_option
@click.option(
    "--output",
    "-o",
    "output",
    type=click.Path(dir_okay=False),
    required=True,
    help="写入的工作簿 The workbook to write (FILE.xlsx).",
)
@click.option("--debug", is_flag=True, hidden=True)
@handle_errors
def template_command(policy_dir: str | None, output: str, debug: bool) -> None:
    """数据填报模板 Write a blank Excel workbook for the policy's declared inputs (inputs.yaml).

    One sheet for the enterprises, one per list of records, list of values and by-year figure, and the
    city figures; headers in Chinese and English; drop-downs for enumerations, items and TRUE/FALSE; a
    notes sheet with every column's field, kind and values. Written whole or not at all.
    """
    from .output.xlsx import write_template

    if not output.lower().endswith(".xlsx"):
        raise click.UsageError(f"--output {output!r}: 应为 .xlsx 文件 / expected a .xlsx file")
    policy = _policy(policy_dir)
    with atomic_output(output) as fh:
        write_template(fh, policy)
    Messages().info(f"已写入 wrote {output}")


@main.command("convert")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@policy_option
@click.option(
    "--to", "fmt", type=click.Choice(["xlsx", "yaml", "json", "jsonl"]), required=True, help="目标格式 Format."
)
@click.option(
    "--output", "-o", "output", type=click.Path(dir_okay=False), required=True, help="写入文件 The file to write."
)
@click.option("--debug", is_flag=True, hidden=True)
@handle_errors
def convert_command(files: tuple[str, ...], policy_dir: str | None, fmt: str, output: str, debug: bool) -> None:
    """转换数据格式 Convert input FILES (YAML, JSON, JSON Lines, Excel) to one file of another format.

    The inputs are validated as evaluate validates them; numbers stay exact, so evaluating the converted
    file gives the same results. --to xlsx writes the workbook of `fuchi template`, filled; JSON Lines
    holds enterprises only (convert the city figures to yaml). Written whole or not at all.
    """
    from .inputs.convert import read_documents, write_document

    _outputs_free(files, ("--output", output))
    suffixes = {"xlsx": (".xlsx",), "yaml": (".yaml", ".yml"), "json": (".json",), "jsonl": (".jsonl",)}[fmt]
    if not output.lower().endswith(suffixes):
        raise click.UsageError(
            f"--to {fmt} 应写入 {'/'.join(suffixes)} 文件 / --to {fmt} writes a {' or '.join(suffixes)} file, "
            f"not {output!r} (evaluate reads a file by its extension)"
        )
    policy = _policy(policy_dir)
    doc = read_documents(list(files), policy)
    with atomic_output(output) as fh:
        write_document(fh, doc, fmt, policy, output)
    Messages().info(f"已写入 wrote {output}: {len(doc['companies'])} 家企业 enterprises")


@main.command("facts")
@click.argument("files", nargs=-1, required=True, type=click.Path())
@policy_option
@handle_errors
def facts_cmd(files: tuple[str, ...], policy_dir: str | None) -> None:
    """导出事实 Print the input facts of FILES (and the policy's parameters) as clingo text.

    For running the rules with clingo directly: ``fuchi facts data.yaml > facts.lp`` then
    ``fuchi clingo policy/<id>/rules/*.lp facts.lp``. Every fact is printed by clingo itself
    (``str(Symbol)``), so names with quotes or newlines stay data; enterprise c(N) is named in a comment.
    """
    from .inputs.facts import city_facts, company_facts

    policy = _policy(policy_dir)
    source = evaluation.open_inputs(list(files), policy.schema)
    lines = [f"% parameters of {policy.id} {policy.version}"]
    lines += [f"{sym}." for sym in policy.param_symbols()]
    for n, item in enumerate(source.items):
        co = evaluation._company_of(item, policy.schema)
        lines.append(f"% c({n}) = {json.dumps(co.id, ensure_ascii=False)}")
        company_facts(n, co, lambda sym, path: lines.append(f"{sym}.  % {path}"), policy.schema)
    city_facts(source.city, lambda sym, path: lines.append(f"{sym}."), policy.schema)
    click.echo("\n".join(lines))


@main.command("clingo", context_settings={"ignore_unknown_options": True})
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def clingo_cmd(args: tuple[str, ...]) -> None:
    """用 clingo 运行 Run clingo itself on rule and fact files, with fuchi's exact-arithmetic @functions.

    ``fuchi clingo policy/chongming-digital-2025/rules/*.lp facts.lp [clingo options]``; the same as the
    ``clingo`` executable, plus @share, @cap, @ratio, @growth, @scale, @times (docs/numbers.md). It exits as
    clingo does (10 satisfiable, 20 unsatisfiable, 30 optimum found, 65 an error).
    """
    import clingo

    from .engines.clingo import TracingFunctions, check_calls, external_calls, refusal

    class App(clingo.Application):
        program_name = "fuchi-clingo"

        def __init__(self) -> None:
            self.error: PolicyError | None = None

        def main(self, ctl: clingo.Control, files: Any) -> None:
            from pathlib import Path

            context = TracingFunctions()
            calls: list[Any] = []
            try:
                for f in files:
                    if f != "-" and (not Path(f).exists() or Path(f).is_dir()):
                        raise PolicyError("文件不存在或不可读 / file not found or not readable", f)
                named = [f for f in files if f != "-"]
                calls = external_calls(named) if named else []  # (no file: parse_files would read stdin)
                check_calls(calls)
                for f in files:
                    ctl.load(f)
                if not files:
                    ctl.load("-")
                ctl.ground([("base", [])], context=context)
            except PolicyError as exc:  # a refusal of an @function, or a call fuchi cannot make
                self.error = refusal(exc, context.current, calls) if context.current is not None else exc
                return
            except RuntimeError:  # clingo has printed the located message (parsing or grounding failed)
                self.error = PolicyError("")
                return
            except AttributeError as exc:  # a program read from stdin calls what fuchi lacks
                self.error = PolicyError(f"unknown function @{exc} / 未知函数")
                return
            except TypeError as exc:
                self.error = PolicyError(f"an @function called with the wrong arguments / 参数个数不符: {exc}")
                return
            ctl.solve()

    app = App()
    with signals_handled():
        try:
            code = clingo.clingo_main(app, list(args))
        except KeyboardInterrupt as exc:
            _interrupted(exc)
    if app.error is not None:
        if app.error.text:
            Messages().error(app.error.message())
        sys.exit(65)
    sys.exit(code)

"""The Spark engine (the compiled plan in the Spark SQL dialect, local mode) against the clingo reference.

The differential suite of the SQL engine (tests/test_sql_engine.py) again on Spark: every policy case (one
batch per group of cases sharing parameters and city), the shipped example and a generated population,
byte for byte in JSON and CSV; plus an integer overflow that clingo would wrap, refused on Spark too.

Needs pyspark and Java (``pip install -e '.[dev,spark]'``); without them the tests are skipped and say
why, unless ``FUCHI_REQUIRE_SPARK=1`` (set by .ci/run), where a missing Spark is a failure. One
SparkSession serves the whole module (the JVM takes seconds to start); each batch costs about 10–20 s of
Spark jobs in local mode whatever its size, so the population is small.
"""

from __future__ import annotations

import itertools
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from fuchi.cli import main
from fuchi.compiler import DIALECTS, compile_policy
from fuchi.engines.clingo import Engine, Outcome
from fuchi.errors import FuchiError, InputError
from fuchi.inputs import loader
from fuchi.policy import default_policy_dir, load_policy

ROOT = Path(__file__).resolve().parents[1]
POLICY = load_policy(default_policy_dir())


def _spark_missing() -> str | None:
    try:
        import pyspark  # noqa: F401
    except ImportError:
        return "pyspark is not installed (pip install -e '.[dev,spark]')"
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        return "no Java runtime (Spark needs Java 17)"
    return None


MISSING = _spark_missing()
if MISSING and os.environ.get("FUCHI_REQUIRE_SPARK") == "1":
    raise RuntimeError(f"FUCHI_REQUIRE_SPARK=1 but {MISSING}")
needs_spark = pytest.mark.skipif(MISSING is not None, reason=f"Spark engine not tested: {MISSING}")


def _key(o: Outcome) -> tuple[object, ...]:
    return (o.decisions, o.errors, o.warnings, o.flags)


def _evaluate(*args: str) -> tuple[int, str, str]:
    r = CliRunner().invoke(main, ["evaluate", *args], catch_exceptions=False)
    return r.exit_code, r.stdout, r.stderr


# ---- the Spark dialect (no Spark needed) ----------------------------------------------------------------


def test_spark_dialect_listing() -> None:
    """The Spark plan: no DOUBLE, no HUGEINT, no `/`, no DuckDB syntax; named parameters; errors raised."""
    r = CliRunner().invoke(main, ["compile", "--dialect", "spark"], catch_exceptions=False)
    assert r.exit_code == 0
    out = r.stdout
    statements = re.sub(r"/\*.*?\*/", "", "\n".join(x for x in out.splitlines() if not x.startswith("--")))
    for banned in ("DOUBLE", "HUGEINT", "FLOAT", "::", "//", " / ", "VARCHAR", "CREATE TABLE", "{'", "$1"):
        assert banned not in statements, banned
    assert "CACHE TABLE p_decision_7_v0 AS" in out
    assert "named_struct(" in out and "raise_error('fuchi: " in out and "DECIMAL(38,0)" in out
    assert re.search(r":p1 /\* '[^']*' \*/", out)
    assert "SET spark.sql.ansi.enabled = true;" in out
    # the DuckDB listing is the default and unchanged in kind
    duck = CliRunner().invoke(main, ["compile"], catch_exceptions=False).stdout
    assert "CREATE TABLE p_decision_7_v0 AS" in duck and "fuchi_share" in duck


def test_same_plan_in_both_dialects() -> None:
    """The plan is generic: the same tables and statements in the same order, only the SQL text differs."""
    duck, spark = compile_policy(POLICY), compile_policy(POLICY, dialect=DIALECTS["spark"])
    assert [s.table for s in duck.statements] == [s.table for s in spark.statements]
    assert [[x.rule for x in s.selects] for s in duck.statements] == [
        [x.rule for x in s.selects] for s in spark.statements
    ]
    assert [s.params for s in duck.statements] == [s.params for s in spark.statements]


def test_local_mode_batches_are_small() -> None:
    """Local mode solves batches of 2,000 (a batch of 10,000 ran out of execution memory); a cluster 50,000."""
    from fuchi.engines import spark_batch

    assert spark_batch("local[2]") == 2000 and spark_batch("local") == 2000
    assert spark_batch("spark://master:7077") == 50_000 and spark_batch("yarn") == 50_000


def test_out_of_memory_is_told_plainly() -> None:
    """A Spark task out of memory is a clear error naming the settings to change, not a Java trace."""
    from fuchi.engines.spark import plan_error

    text = (
        "An error occurred while calling o1040.localCheckpoint.\n: org.apache.spark.SparkException: Job aborted"
        "\norg.apache.spark.memory.SparkOutOfMemoryError: [UNABLE_TO_ACQUIRE_MEMORY] Unable to acquire 65536 bytes"
    )
    err = plan_error(text, "rules/90-status.lp", 25)
    assert "out of memory" in str(err) and "内存不足" in str(err) and "spark.driver.memory" in str(err)
    assert "o1040" not in str(err)
    assert "the Spark engine failed" in str(plan_error("An error occurred: something else", "r.lp", 1))


# ---- the differential suite on Spark local mode ----------------------------------------------------------


def _groups() -> dict[str, tuple[object, list[object]]]:
    sys.path.insert(0, str(Path(__file__).parent))
    from test_sql_engine import GROUPS

    return GROUPS  # type: ignore[return-value]


@needs_spark
def test_every_policy_case_same_outcome_on_spark() -> None:
    """Every policy case, one batch per group of cases (parameters, city), one session for all."""
    from fuchi.engines.spark import SparkEngine

    groups = _groups()
    assert len(groups) > 10

    def outcome(engine: Engine | SparkEngine, city: object, companies: list[object]) -> object:
        try:
            return _key(engine.solve(companies, city))  # type: ignore[arg-type]
        except FuchiError as exc:
            return ("error", exc.message())

    reference = {}
    for key in sorted(groups):
        policy, (city, companies) = groups[key]  # type: ignore[misc]
        reference[key] = outcome(Engine(policy), city, companies)

    def differs(key: str) -> bool:
        policy, (city, companies) = groups[key]  # type: ignore[misc]
        return outcome(SparkEngine(policy), city, companies) != reference[key]

    # one batch at a time: three side by side filled a 2 GiB driver heap in local mode
    mismatched = [k for k in sorted(groups) if differs(k)]
    assert mismatched == []


@needs_spark
@pytest.mark.parametrize("fmt", ["json", "csv"])
def test_shipped_example_byte_identical_on_spark(fmt: str) -> None:
    files = ["facts/city.yaml", "facts/companies.yaml", "--format", fmt]
    spark = _evaluate(*files, "--engine", "spark")
    ref = _evaluate(*files, "--engine", "clingo", "--workers", "0")
    assert spark[0] == ref[0] == 0
    assert spark[1] == ref[1]
    assert spark[2] == ref[2]
    assert len(spark[1]) > 1000


@pytest.fixture(scope="module")
def population(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("pop") / "1k.jsonl"
    subprocess.run([sys.executable, str(ROOT / "bench" / "generate.py"), "1000", str(path), "--seed", "11"], check=True)
    return path


def _driver_reads_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make the driver unable to read a JSON Lines record or to solve a batch of loaded enterprises."""
    from fuchi.engines.spark import SparkEngine

    def refuse(*_: object, **__: object) -> None:
        raise AssertionError("the driver read a record: JSON Lines must be read by Spark")

    monkeypatch.setattr(loader, "parse_jsonl_line", refuse)
    monkeypatch.setattr(loader, "iter_jsonl", refuse)
    monkeypatch.setattr(SparkEngine, "solve", refuse)


@needs_spark
@pytest.mark.parametrize("fmt", ["json", "csv"])
def test_generated_population_byte_identical_on_spark(
    population: Path, fmt: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The JSON Lines file is read by Spark (the executors run the loader); not a record on the driver."""
    files = [str(population), str(ROOT / "bench" / "city.yaml"), "--format", fmt]
    ref = _evaluate(*files, "--engine", "clingo")
    _driver_reads_nothing(monkeypatch)
    spark = _evaluate(*files, "--engine", "spark", "--spark-master", "local[2]")
    assert spark[0] == ref[0] == 0
    assert spark[1].count("\n") > 4_000
    assert spark[1] == ref[1]
    assert spark[2] == ref[2]


@needs_spark
def test_arithmetic_out_of_range_is_an_error_on_spark(tmp_path: Path) -> None:
    """clingo would wrap at 32 bits; Spark (ANSI mode) stops, with the DuckDB engine's message."""
    from fuchi.engines.spark import SparkEngine
    from fuchi.inputs import loader
    from fuchi.inputs.records import City

    sys.path.insert(0, str(Path(__file__).parent))
    from test_sql_engine import _policy_with

    policy = _policy_with(tmp_path, "% extra\nhuge(C, X * 4) :- company(C), X = 2000000000.\n")
    with pytest.raises(FuchiError) as info:
        SparkEngine(policy).solve([loader.parse_company({"id": "Z"}, "x.yaml", 0)], City())
    assert "32-bit" in info.value.message()


def test_spark_master_needs_the_spark_engine() -> None:
    r = CliRunner().invoke(main, ["evaluate", "facts/city.yaml", "facts/companies.yaml", "--spark-master", "local[1]"])
    assert r.exit_code == 2
    assert "--spark-master" in r.stderr


# ---- JSON Lines read by Spark (fuchi.engines.spark_input) -------------------------------------------------

_LINES = [
    b'\xef\xbb\xbf{"id": "A1", "registered_in": "chongming", "revenue": {"2026": 12000000}}\r',
    b"",
    b"   \t",
    b'{"id": "A2", "revenue": {"2026": "12"}}',
    b'{"id": "A3", "name": "\xff"}',
    b'{"id": "A4", "revenue": {"2026": 1.234}}',
    b'{"id": "A5", "id": "A6"}',
    b"[1, 2]",
    b'{"id": "A7", "revenue": {"2026": 1e400}}',
    b'{"id": "A8", "city": {}}',
    b'{"id": "A9"',
]


def test_executors_read_each_line_as_the_loader(population: Path) -> None:
    """The executors' reader (no Spark needed): the loader's refusal, or its enterprise's facts and texts."""
    from fuchi.compiler.inputs import InputLayout, batch_columns
    from fuchi.compiler.messages import record_fields, record_texts
    from fuchi.engines.spark import spark_plan
    from fuchi.engines.spark_input import LineReader, input_tables

    plan = spark_plan(POLICY, None)
    layout = InputLayout.of(plan)
    fields = tuple(sorted(record_fields(POLICY.messages)))
    assert fields  # (the shipped templates look up records: the texts are exercised)
    raw = _LINES + population.read_bytes().splitlines()[:200]
    rows = {r[1]: r for r in LineReader("in.jsonl", 3, POLICY.schema, layout, fields)(zip(raw, itertools.count()))}
    tables = input_tables(layout)
    refused = []
    for n, line in enumerate(raw):
        try:
            text = loader.jsonl_text(line, "in.jsonl", n + 1)
            co = None if text is None else loader.parse_jsonl_line(text, "in.jsonl", n + 1, POLICY.schema)
        except InputError as exc:
            refused.append(n)
            assert rows[n][:6] == (3, n, exc.company, exc.field, exc.expected, exc.line)
            assert rows[n][6:] == (None, None, [], *[[] for _ in tables])
            continue
        if co is None:
            assert n not in rows  # a blank line is no enterprise
            continue
        cols = batch_columns(plan, [co], None, (), POLICY.schema, positions=[n])
        assert rows[n][:8] == (3, n, None, None, None, None, co.id, co.name)
        texts: list[tuple[str, int, str, str]] = []
        record_texts([co], set(fields), lambda _n, lst, k, attr, text, out=texts: out.append((lst, k, attr, text)))
        assert sorted(rows[n][8]) == sorted(texts)  # type: ignore[arg-type]
        assert rows[n][9:] == tuple(list(zip(*cols[t.name], strict=True)) for t in tables)
    assert refused == list(range(3, 11)) and len(rows) == len(raw) - 2  # every line of _LINES after the blanks


def _jsonl(path: Path, lines: list[bytes]) -> str:
    path.write_bytes(b"\n".join(lines) + b"\n")
    return str(path)


def _both(*files: str) -> tuple[tuple[int, str, str], tuple[int, str, str]]:
    args = [*files, str(ROOT / "bench" / "city.yaml")]
    return _evaluate(*args, "--engine", "spark"), _evaluate(*args, "--engine", "clingo", "--workers", "0")


@needs_spark
@pytest.mark.parametrize(
    "bad",
    [
        b'{"id": "B1", "revenue": {"2026": "12"}}',  # a wrong type, named by field
        b'{"id": "B1", "name": "\xff\xfe"}',  # not UTF-8
        b'{"id": "B1", "id": "B2"}',  # a key twice
        b'{"id": "91310230MA0000001A"}',  # an id given twice (the first at line 2)
    ],
)
def test_a_bad_line_read_by_spark_is_refused_as_on_clingo(population: Path, tmp_path: Path, bad: bytes) -> None:
    lines = population.read_bytes().splitlines()[:6]
    path = _jsonl(tmp_path / "bad.jsonl", [lines[0], b"", lines[1], b"   ", lines[2], bad, lines[3]])
    spark, ref = _both(path)
    assert ref[0] == 1 and ref[1] == ""
    assert spark == ref
    assert "bad.jsonl:6" in spark[2]


@needs_spark
def test_an_id_in_two_files_is_refused_as_on_clingo(population: Path, tmp_path: Path) -> None:
    lines = population.read_bytes().splitlines()[:4]
    first = _jsonl(tmp_path / "a.jsonl", lines[:3])
    second = _jsonl(tmp_path / "b.jsonl", [lines[3], lines[1]])
    spark, ref = _both(first, second)
    assert ref[0] == 1 and spark == ref
    assert "b.jsonl:2" in spark[2] and "a.jsonl:2" in spark[2]


@needs_spark
def test_the_first_problem_in_input_order_is_reported(population: Path, tmp_path: Path) -> None:
    """Every line is checked before a batch is solved: a duplicate id before a bad line is the error."""
    lines = population.read_bytes().splitlines()[:3]
    path = _jsonl(tmp_path / "two.jsonl", [*lines, lines[0], b'{"id": "Z", "revenue": 5}'])
    code, out, err = _evaluate(path, str(ROOT / "bench" / "city.yaml"), "--engine", "spark")
    assert (code, out) == (1, "")
    assert "two.jsonl:4" in err and "duplicate enterprise id, first given at" in err and "two.jsonl:1" in err


@needs_spark
def test_files_read_by_spark_in_several_batches(
    population: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two files, a byte-order mark, CRLF and blank lines, batches of 10 lines: the clingo engine's rows."""
    from fuchi.engines import evaluation

    lines = population.read_bytes().splitlines()[:17]
    first = _jsonl(tmp_path / "a.jsonl", [b"\xef\xbb\xbf" + lines[0] + b"\r", *lines[1:8], b"", b" ", *lines[8:12]])
    second = _jsonl(tmp_path / "b.jsonl", [line + b"\r" for line in lines[12:]])
    city = str(ROOT / "bench" / "city.yaml")

    def rows(engine: str) -> tuple[list[object], list[str], int]:
        out: list[object] = []
        warnings: list[str] = []
        count = [0]

        def on_batch(result: evaluation.BatchResult) -> None:
            out.extend(result.rows)
            warnings.extend(result.warnings)
            count[0] += 1

        source = evaluation.open_inputs([first, second, city], POLICY.schema)
        evaluation.evaluate(POLICY, source, on_batch, workers=0, batch_size=10, engine=engine)
        return out, warnings, count[0]

    ref = rows("clingo")
    _driver_reads_nothing(monkeypatch)
    got = rows("spark")
    assert got[:2] == ref[:2] and len(ref[0]) > 20
    assert got[2] == 3  # a.jsonl: lines 1–10, 11–14; b.jsonl: 1–5


def test_a_uri_is_left_to_the_engine_that_reads_it() -> None:
    """``hdfs://…`` is not a local file: open_inputs passes it on; an engine reading locally refuses it plainly."""
    code, out, err = _evaluate("hdfs://namenode:8020/register.jsonl", "facts/city.yaml", "--engine", "sql")
    assert (code, out) == (1, "")
    assert "hdfs://namenode:8020/register.jsonl" in err and "file not found or not readable" in err


@needs_spark
def test_a_file_spark_cannot_read_is_an_input_error(tmp_path: Path) -> None:
    uri = (tmp_path / "missing.jsonl").as_uri()
    code, out, err = _evaluate(uri, "facts/city.yaml", "--engine", "spark")
    assert (code, out) == (1, "")
    assert f"{uri}: " in err and "file not found or not readable, got [PATH_NOT_FOUND] Path does not exist" in err
    assert not re.search(r"calling o[0-9]+", err) and "Traceback" not in err

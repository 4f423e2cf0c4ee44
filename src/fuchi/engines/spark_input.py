"""JSON Lines read by Spark itself: every line validated on the executors by the loader, its facts laid out there.

The Spark engine's own input path for ``fuchi evaluate --engine spark`` over JSON Lines files (on a
cluster, files on shared storage: ``hdfs://…``, ``s3a://…``, or a path every node sees). The driver never
reads a record:

1. Spark reads each file as lines of raw bytes (``spark.read.text`` with ``lineSep`` ``\\n``, the bytes
   taken before any decoding) and numbers them (``zipWithIndex``: line = index + 1).
2. On the executors, :class:`LineReader` reads each line exactly as the driver would: the same decoding
   (:func:`fuchi.inputs.loader.jsonl_text`: UTF-8, a byte-order mark, blank lines), the same validation
   and messages (:func:`fuchi.inputs.loader.parse_jsonl_line`), the same facts
   (:func:`fuchi.compiler.inputs.batch_columns`, the one fact builder). Each line becomes one row of a
   wide table: its refusal (file, enterprise, field, expectation, line) or its id, its name, the record
   texts the reason templates look up, and its facts as one array per input table.
3. The driver asks Spark for the first problem in input order — a line the loader refused, or the second
   use of an enterprise id (a window over the ids: only the duplicates reach the driver) — and raises it
   as the loader and :class:`fuchi.inputs.loader.IdRegistry` word it: exit 1, the same message, nothing
   on stdout.
4. Batches are ranges of lines of one file: the plan reads each input table as the batch's rows of the
   wide table (``explode``), plus the city figures and parameters (few, from the driver); the enterprise
   number in the facts is the line's index, mapped back to the batch's position once the outcome is read.
   Only each batch's ids, names and record texts are collected, for the output rows.

What differs from reading on the driver: every line is validated before the first batch is solved, so a
refused line or a duplicate id is reported before any policy-derived ``input_error`` (the driver path
checks those batch by batch, in input order). The executors need fuchi installed (``pip install
'fuchi[spark]'`` on every node; in local mode they run this interpreter).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..compiler.inputs import InputLayout, batch_columns
from ..compiler.plan import Table
from ..errors import FuchiError, InputError
from ..inputs import loader
from ..inputs.records import Company, Record
from ..inputs.schema import Schema

_UNREADABLE = "文件不存在或不可读 / file not found or not readable"


def table_column(k: int) -> str:
    """The wide table's column holding the facts of the plan's ``k``-th input table."""
    return f"t{k}"


def input_tables(layout: InputLayout) -> list[Table]:
    """The plan's input tables in a fixed order (the wide table's ``t0``, ``t1``, …)."""
    return [t for sig in sorted(layout.inputs) for t in layout.inputs[sig]]


@dataclass(frozen=True)
class LineReader:
    """Reads the lines of one file on an executor (pickled there with the schema and the input layout).

    Attributes:
        file: The file as the user gave it (named in every message).
        number: The file's position among the run's inputs (input order across files).
        schema: The schema the lines are read with.
        layout: The plan's input tables.
        records: The ``(list, field)`` pairs the reason templates look up (their texts go to the driver).
    """

    file: str
    number: int
    schema: Schema
    layout: InputLayout
    records: tuple[tuple[str, str], ...]

    def __call__(self, lines: Iterable[tuple[bytes, int]]) -> Iterator[tuple[object, ...]]:
        """The wide rows of ``(raw bytes, index)`` lines (a partition); blank lines give none."""
        tables = input_tables(self.layout)
        none: list[list[tuple[object, ...]]] = [[] for _ in tables]
        for raw, n in lines:
            try:
                text = loader.jsonl_text(bytes(raw), self.file, n + 1)
                if text is None:
                    continue
                co = loader.parse_jsonl_line(text, self.file, n + 1, self.schema)
            except InputError as exc:
                yield (self.number, n, exc.company, exc.field, exc.expected, exc.line, None, None, [], *none)
                continue
            cols = batch_columns(self.layout, [co], None, (), self.schema, positions=[n])
            facts = [list(zip(*cols[t.name], strict=True)) for t in tables]
            yield (self.number, n, None, None, None, None, co.id, co.name, self._texts(co), *facts)

    def _texts(self, co: Company) -> list[tuple[str, int, str, str]]:
        """``(list, key, field, text)`` of every looked-up record field: the renderer's own text."""
        out: list[tuple[str, int, str, str]] = []
        for lst, attr in self.records:
            records = getattr(co, lst, None)
            if isinstance(records, list):
                out.extend((lst, k, attr, str(getattr(rec, attr, k))) for k, rec in enumerate(records))
        return out


def wide_schema(layout: InputLayout) -> Any:
    """The Spark schema of the wide table (see the module's docstring)."""
    from pyspark.sql.types import ArrayType, LongType, StringType, StructField, StructType

    def col(name: str, kind: Any, nullable: bool = True) -> Any:
        return StructField(name, kind, nullable)

    texts = StructType([col("lst", StringType(), False), col("k", LongType(), False)] + [
        col("attr", StringType(), False), col("text", StringType(), False)
    ])  # fmt: skip
    fields = [
        col("f", LongType(), False), col("n", LongType(), False), col("e_company", StringType()),
        col("e_field", StringType()), col("e_expected", StringType()), col("e_line", LongType()),
        col("id", StringType()), col("name", StringType()), col("recs", ArrayType(texts, False), False),
    ]  # fmt: skip
    for k, t in enumerate(input_tables(layout)):
        kinds = [LongType() if leaf.kind == "int" else StringType() for leaf in t.leaf_types]
        row = StructType([col(c, kind, False) for c, kind in zip(t.columns, kinds, strict=True)])
        fields.append(col(table_column(k), ArrayType(row, False), False))
    return StructType(fields)


def file_uri(path: str) -> str:
    """The URI Spark reads ``path`` from: a URI as given (``hdfs://…``), a local path made absolute."""
    if "://" in path or path.startswith("file:"):
        return path
    return Path(path).resolve().as_uri()


@dataclass
class Batch:
    """One batch of lines of one file, as the plan reads it.

    Attributes:
        file: The file's position among the inputs.
        lo: The first line index of the batch (inclusive).
        hi: The end of the range (exclusive).
        companies: The enterprises of the batch, in file order (each carries its id, file, line, name and
            the record texts the reasons need: enough for the output rows).
        positions: Line index → position in ``companies``.
        view: The global temporary view of the batch's rows of the wide table.
        frame: Those rows, checkpointed.
        counts: The number of facts of each input table in the batch.
    """

    file: int
    lo: int
    hi: int
    companies: list[Company]
    positions: dict[int, int]
    view: str
    frame: Any
    counts: list[int]


class WideInput:
    """The JSON Lines files of a run, read and validated by Spark (see the module's docstring).

    Args:
        spark: The SparkSession the wide table is created in (kept as a global temporary view, so that each
            batch's own session reads it).
        files: The JSON Lines files, in input order, as given.
        schema: The schema to read them with.
        layout: The plan's input tables.
        records: The record fields the reason templates look up.

    Raises:
        InputError: A file Spark cannot read.
    """

    _count = itertools.count()

    def __init__(
        self, spark: Any, files: Sequence[str], schema: Schema, layout: InputLayout, records: Sequence[tuple[str, str]]
    ) -> None:
        self.spark = spark
        self.files = list(files)
        self.layout = layout
        self.tables = input_tables(layout)
        self.view = f"fuchi_wide_{next(self._count)}"
        sc = spark.sparkContext
        parts = []
        for number, path in enumerate(self.files):
            try:
                lines = spark.read.option("lineSep", "\n").text(file_uri(path))
            except Exception as exc:  # (not found, no permission, an unknown file system)
                raise InputError(path, None, "", f"{_UNREADABLE}, got {_first(exc)}") from None
            raw = lines.selectExpr("CAST(value AS BINARY) AS b").rdd.map(lambda r: r[0]).zipWithIndex()
            parts.append(raw.mapPartitions(LineReader(path, number, schema, layout, tuple(records))))
        rows = sc.union(parts) if len(parts) > 1 else parts[0]
        try:
            frame = spark.createDataFrame(rows, wide_schema(layout), verifySchema=False)
            self.frame = frame.localCheckpoint(eager=True)
        except Exception as exc:
            raise _failure(exc, self.files) from None
        self.frame.createOrReplaceGlobalTempView(self.view)

    def close(self) -> None:
        """Drop the wide table (its checkpointed blocks are freed when the JVM collects them)."""
        self.spark.catalog.dropGlobalTempView(self.view)
        self.frame.unpersist()

    def check(self) -> None:
        """Raise the first problem in input order: a refused line, or an enterprise id given twice.

        Raises:
            InputError: The loader's refusal, or :class:`~fuchi.inputs.loader.IdRegistry`'s duplicate message.
        """
        sql = self.spark.sql
        refused = sql(
            f"SELECT f, n, e_company, e_field, e_expected, e_line FROM global_temp.{self.view} "
            "WHERE e_expected IS NOT NULL ORDER BY f, n LIMIT 1"
        ).collect()
        twice = sql(
            "SELECT f, n, id, first_f, first_n FROM (SELECT f, n, id, "
            "row_number() OVER (PARTITION BY id ORDER BY f, n) AS r, "
            "first(f) OVER (PARTITION BY id ORDER BY f, n) AS first_f, "
            "first(n) OVER (PARTITION BY id ORDER BY f, n) AS first_n "
            f"FROM global_temp.{self.view} WHERE id IS NOT NULL) WHERE r = 2 ORDER BY f, n LIMIT 1"
        ).collect()
        problems: list[tuple[int, int, int, Any]] = [(r[0], r[1], 0, r) for r in refused]
        problems += [(r[0], r[1], 1, r) for r in twice]
        if not problems:
            return
        _, _, kind, r = min(problems, key=lambda p: p[:3])
        if kind == 0:
            raise InputError(self.files[r[0]], r[2], r[3], r[4], r[5])
        registry = loader.IdRegistry()
        registry.add(Company(r[2], self.files[r[3]], r[4] + 1, r[4]))
        registry.add(Company(r[2], self.files[r[0]], r[1] + 1, r[1]))  # raises: the registry's own message
        raise AssertionError("a duplicate id the registry accepted")  # (a bug)

    def batches(self, size: int) -> Iterator[tuple[int, int, int]]:
        """``(file, lo, hi)``: each file's lines in ranges of ``size`` (up to its last enterprise)."""
        ends = dict(self.spark.sql(f"SELECT f, max(n) FROM global_temp.{self.view} GROUP BY f").collect())
        for f in range(len(self.files)):
            if f in ends:
                for lo in range(0, ends[f] + 1, size):
                    yield f, lo, min(lo + size, ends[f] + 1)

    def batch(self, f: int, lo: int, hi: int) -> Batch:
        """One batch: its rows of the wide table, and its enterprises collected to the driver.

        The rows are checkpointed apart (each input table of the plan reads them, not the whole input); the
        enterprises carry their ids, names and record texts.

        Call :meth:`release` once the batch is solved.
        """
        from pyspark.sql import functions as F  # noqa: N812 - Spark's own convention

        part = self.spark.sql(
            f"SELECT * FROM global_temp.{self.view} WHERE f = :f AND n >= :lo AND n < :hi",
            args={"f": f, "lo": lo, "hi": hi},
        ).localCheckpoint(eager=True)
        view = f"{self.view}_batch"
        part.createOrReplaceGlobalTempView(view)
        counts = part.agg(*[F.sum(F.size(table_column(k))) for k in range(len(self.tables))]).collect()[0]
        file = self.files[f]
        companies = []
        for n, ident, name, recs in part.select("n", "id", "name", "recs").orderBy("n").collect():
            values: dict[str, object] = {} if name is None else {"name": name}
            lists: dict[str, list[Record]] = {}
            for lst, k, attr, text in recs:
                records = lists.setdefault(lst, [])
                while len(records) <= k:
                    records.append(Record())
                records[k][attr] = text
            values.update(lists)
            companies.append(Company(ident, file, n + 1, n, values))
        positions = {c.index: i for i, c in enumerate(companies)}
        return Batch(f, lo, hi, companies, positions, view, part, [int(c or 0) for c in counts])

    def release(self, batch: Batch) -> None:
        """Drop a batch's rows (checkpointed by :meth:`batch`)."""
        self.spark.catalog.dropGlobalTempView(batch.view)
        batch.frame.unpersist()

    def load(self, spark: Any, batch: Batch, driver: dict[str, Any], views: list[str]) -> set[str]:
        """Create a batch's input views in ``spark`` (its own session); return the names of those without rows.

        ``driver``: per input table, a DataFrame of its rows from the driver (the city figures, the
        parameters) or None.
        """
        from pyspark.sql import functions as F  # noqa: N812 - Spark's own convention

        part = spark.table(f"global_temp.{batch.view}")
        empty: set[str] = set()
        for k, t in enumerate(self.tables):
            facts = part.select(F.explode(table_column(k)).alias("x")).select("x.*")
            extra = driver.get(t.name)
            if extra is not None:
                facts = facts.unionByName(extra)
            elif not batch.counts[k]:
                empty.add(t.name)
            facts.createOrReplaceTempView(t.name)
            views.append(t.name)
        return empty


_JAVA_ERROR = re.compile(r"(?:[a-z0-9_]+\.)+[A-Za-z0-9_$]+(?:Exception|Error): (.*)")


def _first(exc: BaseException) -> str:
    """What a Spark error says, in one line: its first line after py4j's, without the Java class name."""
    for line in str(exc).splitlines():
        line = line.strip().lstrip(": ")
        if line and not line.startswith("An error occurred while calling"):
            while (m := _JAVA_ERROR.match(line)) is not None:  # (causes are nested: "a.B: c.D: text")
                line = m.group(1)
            return line
    return type(exc).__name__


def _failure(exc: BaseException, files: Sequence[str]) -> FuchiError:
    """The error of a failed read: the file unreadable, or a bug on the executors, said plainly."""
    text = str(exc)
    if "FileNotFoundException" in text or "Path does not exist" in text:  # (removed after it was listed)
        path = next((p for p in files if p in text or file_uri(p) in text), files[0])
        return InputError(path, None, "", f"{_UNREADABLE}, got {_first(exc)}")
    from .spark import plan_error

    return plan_error(text, "inputs.yaml", 0)


__all__ = ["Batch", "LineReader", "WideInput", "file_uri", "input_tables", "table_column", "wide_schema"]

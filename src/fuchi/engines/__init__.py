"""The engines that decide a population, behind one small interface.

* ``clingo`` (:class:`fuchi.engine.Engine`): the reference semantics; explanations and coverage use it;
* ``sql`` (:class:`fuchi.engines.sql.SqlEngine`): the policy compiled to SQL (:mod:`fuchi.compiler`) on
  embedded DuckDB, for populations;
* ``spark`` (:class:`fuchi.engines.spark.SparkEngine`): the same plan in the Spark SQL dialect through
  pyspark (optional: ``pip install 'fuchi[spark]'``), local mode or a cluster.

Both take a batch of validated enterprises and the city figures and return the same
:class:`~fuchi.engine.Outcome`; everything after that (rows, reasons, totals, output) is shared.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from ..compiler import CompileError
from ..inputs.records import City, Company
from ..policy import Policy, require_parameters
from .clingo import Engine, Outcome

ENGINES = ("auto", "sql", "clingo", "spark")
#: Enterprises per batch on the Spark engine: a batch pays about 15 s of Spark jobs (one per statement) in
#: local mode, whatever its size, so batches are large (docs/spark.md).
SPARK_BATCH = 50_000
#: Enterprises per batch in Spark local mode (``local[N]``). A statement with many ``NOT EXISTS`` (``uses_up``:
#: 20 anti joins) keeps one sorter per join alive in each task: batches of 2,000 ran, one batch of 10,000
#: exhausted the driver's execution memory (``UNABLE_TO_ACQUIRE_MEMORY``, with a 2 GiB and a 4 GiB driver).
SPARK_LOCAL_BATCH = 2_000


def spark_batch(master: str | None = None) -> int:
    """Enterprises per batch on the Spark engine with this master URL (None: the one the engine will use)."""
    if master is None:
        from .spark import master_url

        master = master_url()
    return SPARK_LOCAL_BATCH if master.startswith("local") else SPARK_BATCH


class PopulationEngine(Protocol):
    """What every engine offers: decide one batch."""

    def solve(self, companies: Sequence[Company], city: City) -> Outcome:
        """Decide every touched (enterprise, year, item) of the batch."""
        ...


def resolve(policy: Policy, name: str = "auto") -> tuple[str, str | None]:
    """Decide which engine runs: ``auto`` is ``sql`` when the policy compiles, else ``clingo``.

    Returns:
        The engine name (``sql``, ``spark`` or ``clingo``) and, when ``auto`` fell back to clingo, a one-line
        notice naming the rule the compiler cannot take (``file:line``).

    Raises:
        CompileError: ``sql`` or ``spark`` was asked for and the policy does not compile (``spark`` never
            falls back: a cluster job should fail, not run elsewhere).

    """
    if name == "clingo":
        return "clingo", None
    if name == "spark":
        from .spark import spark_plan

        spark_plan(policy, None)
        return "spark", None
    from .plans import cached_plan

    try:
        cached_plan(policy, None)
    except CompileError as exc:
        if name == "sql":
            raise
        return "clingo", fallback_notice(exc)
    return "sql", None


def fallback_notice(exc: CompileError) -> str:
    """The one line printed when ``auto`` runs clingo because the policy does not compile."""
    return (
        "注意 notice: 政策无法编译为 SQL，改用 clingo 引擎 / the policy does not compile to SQL, using the clingo "
        f"engine: {exc.message()}"
    )


def make_engine(policy: Policy, name: str = "auto", threads: int | None = None) -> tuple[PopulationEngine, str | None]:
    """Make the engine called ``name`` for a policy.

    Args:
        policy: The policy.
        name: ``auto`` (SQL when the policy compiles, else clingo), ``sql``, ``spark`` or ``clingo``.
        threads: DuckDB threads of the SQL engine (None: all cores; worker processes use 1 each). The Spark
            engine ignores it (its master URL, :func:`fuchi.engines.spark.master_url`, sets the cores).

    Returns:
        The engine, and for ``auto`` falling back to clingo a one-line notice naming the rule the compiler
        cannot take (``file:line``); None otherwise.

    Raises:
        CompileError: ``sql`` or ``spark`` was asked for and the policy does not compile.
        SparkUnavailable: ``spark`` was asked for and pyspark or Java is missing.

    """
    if name == "clingo":
        return Engine(policy), None
    require_parameters(policy)  # (as the clingo engine: rules reading a parameter nobody defined)
    if name == "spark":
        from .spark import SparkEngine

        return SparkEngine(policy), None
    from .sql import SqlEngine

    try:
        return SqlEngine(policy, threads=threads), None
    except CompileError as exc:
        if name == "sql":
            raise
        return Engine(policy), fallback_notice(exc)


__all__ = [
    "ENGINES",
    "SPARK_BATCH",
    "SPARK_LOCAL_BATCH",
    "CompileError",
    "PopulationEngine",
    "make_engine",
    "spark_batch",
]

"""What the SQL engine loads, and how it builds its Arrow columns (docs/performance.md, memory at 1M).

Two things cost memory in every run without doing any work: pandas, which ``pa.array`` imports whenever
it is installed (about 57 MiB per worker), and DuckDB with Arrow in the main process, which only reads,
checks ids and writes (about 47 MiB). These tests keep both out, and check that the columns the engine
lays out from buffers are the columns ``pa.array`` would make, refusals included.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pyarrow as pa  # type: ignore[import-untyped]
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fuchi.engines.sql import arrow_column

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = [str(ROOT / "facts" / "companies.yaml"), str(ROOT / "facts" / "city.yaml")]


def _run(code: str) -> str:
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    return done.stdout.strip()


def test_choosing_the_engine_does_not_load_duckdb() -> None:
    # The main process of a run with workers resolves the engine (compiling the plan) and nothing else.
    out = _run(
        "import sys\n"
        "from fuchi.engines import resolve\n"
        "from fuchi.policy import default_policy_dir, load_policy\n"
        "engine = resolve(load_policy(default_policy_dir()), 'auto')[0]\n"
        "print(engine, 'duckdb' in sys.modules, 'pyarrow' in sys.modules)"
    )
    assert out == "sql False False"


def test_a_batch_on_the_sql_engine_does_not_import_pandas() -> None:
    pytest.importorskip("pandas")  # (without pandas installed there is nothing to keep out)
    out = _run(
        "import sys\n"
        "from fuchi.engines.evaluation import Evaluator, open_inputs, _run_all\n"
        "from fuchi.policy import default_policy_dir, load_policy\n"
        "policy = load_policy(default_policy_dir())\n"
        f"source = open_inputs({EXAMPLE!r}, policy.schema)\n"
        "result = _run_all([Evaluator(policy, False, 'sql', threads=1)], list(source.items), source.city, None)\n"
        "print(len(result[0].rows) > 0, 'pandas' in sys.modules)"
    )
    assert out == "True False"


_INTS = st.lists(st.integers(min_value=-(2**63), max_value=2**63 - 1), max_size=20)
_TEXTS = st.lists(st.text(max_size=12), max_size=20)


@settings(max_examples=200, deadline=None)
@given(_INTS)
def test_integer_columns_are_those_of_pa_array(values: list[int]) -> None:
    assert arrow_column(values, True).equals(pa.array(values, type=pa.int64()))


@settings(max_examples=200, deadline=None)
@given(_TEXTS)
def test_text_columns_are_those_of_pa_array(values: list[str]) -> None:
    column = arrow_column(values, False)
    column.validate(full=True)
    assert column.equals(pa.array(values, type=pa.string()))


@pytest.mark.parametrize(
    ("values", "integers", "error"),
    [
        ([1, "x"], True, pa.ArrowInvalid),
        ([2**64], True, OverflowError),
        (["a", 1], False, pa.ArrowTypeError),
    ],
)
def test_values_the_buffers_do_not_take_are_refused_as_by_pa_array(
    values: list[object], integers: bool, error: type[Exception]
) -> None:
    with pytest.raises(error):
        arrow_column(values, integers)
    with pytest.raises(error):
        pa.array(values, type=pa.int64() if integers else pa.string())

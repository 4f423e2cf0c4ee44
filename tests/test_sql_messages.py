"""Reason texts rendered in SQL (fuchi.compiler.messages) equal the Python renderer's, format by format."""

from __future__ import annotations

import clingo
import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fuchi.compiler.functions import PRELUDE
from fuchi.compiler.messages import MESSAGES_PRELUDE, reason_sql, record_fields
from fuchi.compiler.shapes import INT, MONEY, STR, Fun, Shape, flatten_as, shape_of, width
from fuchi.explanation.reasons import ReasonRenderer
from fuchi.inputs.records import Company, Record
from fuchi.numbers import LIMB, PART, money, render_decimal, render_money
from fuchi.policy import default_policy_dir, load_policy

POLICY = load_policy(default_policy_dir())
MAX_FEN = (2**31 - 1) * LIMB * LIMB


@pytest.fixture(scope="module")
def con() -> duckdb.DuckDBPyConnection:
    c = duckdb.connect()
    c.execute(PRELUDE)
    c.execute(MESSAGES_PRELUDE)
    return c


def _limbs(fen: int) -> tuple[int, int, int]:
    return fen // (LIMB * LIMB), (fen // LIMB) % LIMB, fen % LIMB


_FEN_EDGES = [0, 1, 99, 100, 10**6, 10**10 - 1, 10**10, 10**10 + 1, 15 * 10**9, MAX_FEN]  # (1亿元 = 10**10 fen)


@settings(max_examples=300, deadline=None)
@given(fen=st.one_of(st.integers(0, MAX_FEN), st.integers(0, 10**9), st.sampled_from(_FEN_EDGES)))
def test_money_formats(con: duckdb.DuckDBPyConnection, fen: int) -> None:
    a, b, c = _limbs(fen)
    got = con.execute(
        "SELECT fuchi_txt_money(f), fuchi_txt_wan(f), fuchi_txt_yw(f) FROM (SELECT fuchi_fen($1, $2, $3) AS f)",
        [a, b, c],
    ).fetchone()
    assert got == (render_money(fen), render_money(fen, "wan"), render_money(fen, "yuan+wan"))


_N2 = st.one_of(st.integers(-(2**31), 2**31 - 1), st.integers(-3, 3))
_PARTS = st.one_of(st.integers(0, PART - 1), st.sampled_from([0, 1, 10**8, 5 * 10**8, 123400000, PART - 1]))


@settings(max_examples=400, deadline=None)
@given(n2=_N2, n1=_PARTS, n0=_PARTS, x=st.integers(0, 1), pct=st.booleans())
def test_decimal_formats(con: duckdb.DuckDBPyConnection, n2: int, n1: int, n0: int, x: int, pct: bool) -> None:
    sym = clingo.Function("d", [clingo.Number(v) for v in (n2, n1, n0, x)])
    got = con.execute(
        "SELECT fuchi_txt_dec(fuchi_dnum($1, $2, $3, $4) * CASE WHEN $5 THEN 100 ELSE 1 END, $4, $5)",
        [n2, n1, n0, x, pct],
    ).fetchone()
    assert got == (render_decimal(sym, percent=pct),)


def test_a_non_normalised_term_is_refused_not_printed(con: duckdb.DuckDBPyConnection) -> None:
    with pytest.raises(duckdb.Error, match="not a normalised money term"):
        con.execute("SELECT fuchi_txt_money(fuchi_fen(1, 100000, 0))").fetchone()
    with pytest.raises(duckdb.Error, match="not a normalised decimal term"):
        con.execute("SELECT fuchi_txt_dec(fuchi_dnum(0, 1000000000, 0, 0), 0, false)").fetchone()


def _render_sql(con: duckdb.DuckDBPyConnection, sym: clingo.Symbol, company: Company | None = None) -> tuple[str, str]:
    shape = shape_of(sym)
    values: list[object] = []
    flatten_as(shape, sym, values)
    cols = [f"t.c{i}" for i in range(len(values))]
    texts = reason_sql(shape, cols, POLICY.messages)
    assert texts is not None, f"{sym} should render in SQL"
    con.execute(
        "CREATE OR REPLACE TEMP TABLE v AS SELECT " + ", ".join(f"${i + 1} AS c{i}" for i in range(len(values))), values
    )
    con.execute(
        "CREATE OR REPLACE TEMP TABLE recs (company BIGINT, list VARCHAR, k BIGINT, field VARCHAR, text VARCHAR)"
    )
    if company is not None:
        for lst, attr in record_fields(POLICY.messages):
            for k, rec in enumerate(getattr(company, lst, None) or []):
                con.execute("INSERT INTO recs VALUES (0, $1, $2, $3, $4)", [lst, k, attr, str(getattr(rec, attr, k))])
    row = con.execute(texts.query(cols, "v", "0", "recs"), texts.params).fetchone()
    assert row is not None
    return row[-2], row[-1]


def test_every_template_renders_as_in_python(con: duckdb.DuckDBPyConnection) -> None:
    """One term per messages.yaml entry, its arguments of the kinds the placeholders ask for."""
    company = Company(
        "E1",
        values={
            "other_support": [Record(policy="区人才政策「A」")],
            "compute_projects": [Record(id="dc-1"), Record(id="dc-2")],
            "own_ip": [Record(id="ip-9")],
            "showcase_centres": [Record(id=None)],  # an absent field prints as Python prints None
        },
    )
    gate = clingo.Function("gate", [clingo.Function("industry")])
    by_format = {
        "money": money(123456789),
        "wan": money(2 * 10**9),
        "yw": money(20_000_000 * 100),
        "pct": clingo.Function("d", [clingo.Number(v) for v in (0, 119000000, 0, 1)]),
        "dec": clingo.Function("d", [clingo.Number(v) for v in (1, 200000000, 0, 0)]),
        "int": clingo.Number(2026),
        "item": clingo.String("2.2.b"),
        "const": clingo.Function("sh_top100"),
        "reason": gate,
    }
    checked = 0
    for key, templates in POLICY.messages.items():
        name, arity = key.rsplit("/", 1)
        text = templates["zh"] + templates["en"]
        args = []
        for n in range(int(arity)):
            fmt = next((f for f in by_format if f"{{{n}:{f}}}" in text), None)
            if fmt is None and f"{{{n}:rec:" in text:
                args.append(clingo.Number(n % 2))  # record 0 or 1 (out of range for some lists)
            else:
                args.append(by_format[fmt or "int"])
        sym = clingo.Function(name, args)
        renderer = ReasonRenderer(POLICY)
        assert _render_sql(con, sym, company) == renderer.pair(sym, company), key
        checked += 1
    assert checked == len(POLICY.messages)


def test_terms_without_a_template_print_as_clingo_prints_them(con: duckdb.DuckDBPyConnection) -> None:
    sym = clingo.Function("no_such_reason", [clingo.Number(-5), clingo.Function("k"), money(150)])
    assert _render_sql(con, sym) == (str(sym), str(sym))
    sup = clingo.Function("other_not_paid", [clingo.Supremum, money(100)])
    assert _render_sql(con, sup) == ReasonRenderer(POLICY).pair(sup, None)
    nested = clingo.Function("gate", [clingo.Function("fraud")])
    assert _render_sql(con, nested) == ReasonRenderer(POLICY).pair(nested, None)


@pytest.mark.parametrize(
    "shape",
    [
        Fun("no_such_reason", (STR,)),  # clingo quotes and escapes strings: left to Python
        Fun("", (INT, INT)),  # a tuple
        STR,
    ],
)
def test_shapes_sql_cannot_render_are_left_to_python(shape: Shape) -> None:
    cols = [f"c{i}" for i in range(width(shape))]
    assert reason_sql(shape, cols, POLICY.messages) is None
    with pytest.raises(ValueError, match="columns for a reason"):
        reason_sql(shape, [*cols, "extra"], POLICY.messages)


def test_renderable_shapes_of_the_shipped_policy() -> None:
    """Every reason shape of the shipped policy's decisions renders in SQL (none falls back to Python)."""
    from fuchi.engines.sql import cached_plan

    plan = cached_plan(POLICY, None)
    tables = plan.tables(("decision", 7))
    assert tables
    for t in tables:
        if t.shapes[4] != MONEY:
            continue  # variants the rules allow but data never fills (the engine refuses them if filled)
        at = 7 + width(t.shapes[5])
        assert reason_sql(t.shapes[6], t.columns[at:], POLICY.messages) is not None, t.describe()


def test_the_engine_connection_prints_no_progress_bar() -> None:
    """DuckDB's progress bar goes to stdout (where the JSON is written) for statements over two seconds."""
    from fuchi.engines.sql import connect

    con = connect(1)
    assert con.execute("SELECT current_setting('enable_progress_bar')").fetchone() == (False,)

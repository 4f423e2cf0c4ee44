"""``evaluate --explain``: the fast one-liners (one ``_fired`` solve per batch, :mod:`fuchi.explanation.lines`).

They must be the lines ``fuchi explain`` builds from its full instrumented solve of each enterprise alone
(``RowExplanation.line``), and the same bytes whichever engine computed the rows.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import clingo as clingo_mod
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from fuchi.cli import main
from fuchi.engines import evaluation
from fuchi.explanation.explain import Explainer
from fuchi.explanation.lines import LineExplainer
from fuchi.policy import default_policy_dir, load_policy

ROOT = Path(__file__).resolve().parents[1]
POLICY = load_policy(default_policy_dir())


@pytest.fixture(scope="module")
def shipped() -> tuple[list[Any], Any]:
    source = evaluation.open_inputs([str(ROOT / "facts/city.yaml"), str(ROOT / "facts/companies.yaml")])
    return [evaluation._company_of(item) for item in source.items], source.city


def _population(tmp_path: Path, n: int, seed: int) -> Path:
    """A generated JSON Lines population (bench/generate.py: enterprises clustered around the thresholds)."""
    import subprocess
    import sys

    data = tmp_path / "population.jsonl"
    subprocess.run(
        [sys.executable, str(ROOT / "bench/generate.py"), str(n), str(data), "--seed", str(seed), "--city",
         str(ROOT / "bench/city.yaml")],
        check=True,
    )  # fmt: skip
    return data


def _companies(data: Path) -> tuple[list[Any], Any]:
    source = evaluation.open_inputs([str(ROOT / "bench/city.yaml"), str(data)])
    return [evaluation._company_of(item) for item in source.items], source.city


def test_fast_lines_equal_the_lines_of_a_full_explain(shipped: tuple[list[Any], Any]) -> None:
    companies, city = shipped
    explainer = Explainer(POLICY)
    fast = LineExplainer(explainer).lines(companies, city)
    slow = {}
    for co in companies:
        for row in explainer.explain(co, city, detailed=True).rows:
            slow[(co.id, row.year, row.item)] = row.line
            # The line starts with the rule that decided the row (decided_by), with its file:line.
            rule = row.decided_by
            assert rule is not None and row.line is not None
            assert row.line.startswith(f"{rule.id} ({rule.file}:{rule.line}): ")
    assert len(slow) == 78
    assert fast == slow


def test_fast_lines_do_not_depend_on_the_batch(shipped: tuple[list[Any], Any]) -> None:
    companies, city = shipped
    lines = LineExplainer(Explainer(POLICY))
    whole = lines.lines(companies, city)
    alone: dict[tuple[str, int, str], str] = {}
    for co in companies[::-1]:
        alone.update(lines.lines([co], city))
    assert alone == whole


def _explained(engine: str, workers: str = "0") -> list[dict[str, Any]]:
    result = CliRunner().invoke(
        main,
        ["evaluate", "facts/city.yaml", "facts/companies.yaml", "--format", "json", "--explain", "--engine", engine,
         "--workers", workers],
        catch_exceptions=False,
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    rows: list[dict[str, Any]] = json.loads(result.stdout)["results"]
    return rows


def test_one_liners_are_the_same_bytes_on_both_engines(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    sql, clingo = _explained("sql"), _explained("clingo")
    assert [r["explanation"] for r in sql] == [r["explanation"] for r in clingo]
    assert sql == clingo


def test_explained_output_is_the_plain_output_with_lines(tmp_path: Path) -> None:
    """--explain adds the lines and changes nothing else: rows, totals, warnings (no note of the recording's
    own ``#show``), on both engines (each of which gets rows and lines from one run)."""
    data = _population(tmp_path, 200, seed=5)
    docs = {}
    for engine in ("sql", "clingo"):
        for explain in (False, True):
            args = ["evaluate", str(data), str(ROOT / "bench/city.yaml"), "--format", "json", "--engine", engine]
            result = CliRunner().invoke(main, [*args, "--workers", "0", *(["--explain"] if explain else [])])
            assert result.exit_code == 0, result.stderr
            docs[(engine, explain)] = json.loads(result.stdout)
    assert docs[("sql", True)] == docs[("clingo", True)]
    explained = docs[("sql", True)]
    assert all(r.pop("explanation") for r in explained["results"])
    assert explained == docs[("sql", False)] == docs[("clingo", False)]


def test_one_liners_carry_the_deciding_values(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    rows = {(r["company"], r["year"], r["item"]): r["explanation"] for r in _explained("sql")}
    assert rows[("91310230MA1K0C3D4E", 2027, "2.9")].startswith("P2.superseded (rules/90-status.lp:")
    assert "给予 450,000 元，不低于本办法的 400,000 元" in rows[("91310230MA1K0C3D4E", 2027, "2.9")]
    assert rows[("91310230MA1K0B2C3D", 2026, "2.2.b")].startswith("I4.growth_too_low (rules/22-growth.lp:")
    assert rows[("91310230MA1K0D4E5F", 2027, "2.1.b")].startswith("T2.used_up_earlier")
    assert "2026" in rows[("91310230MA1K0D4E5F", 2027, "2.1.b")]
    assert rows[("91310115MA1H9J8K2L", 2026, "2.4.a")].startswith("1.gate.registered (rules/10-gate.lp:")
    assert "12,000,000 元（assessments 第 0 条）" in rows[("91310230MA1K0A1B2C", 2026, "2.4.b")]


def test_values_read_from_symbols_are_the_symbols() -> None:
    # The walk runs on plain values read from clingo's symbols; the text goes back to symbols: both ways agree.
    from fuchi.explanation.lines import _Reader, symbol

    syms = [
        clingo_mod.parse_term(t)
        for t in (
            'f(c(3),2026,"2.1.b",m(0,12,345600),d(1,25,0,100))',
            '("a \\"quoted\\" \\\\ text\\n", -7, (), (x,), (1,2), granted)',
            '-p(1,"企业")',
            "#inf",
            "#sup",
            "0",
            '""',
        )
    ]
    reader = _Reader()
    for sym in syms:
        value = reader.value(sym._rep)
        assert symbol(value) == sym, sym
        assert reader.value(symbol(value)._rep) is value  # clingo interns symbols: one value per symbol


_NAMES = st.sampled_from(["a", "b", "m", "d", "ab", "企业", "Z"])
_LEAVES = st.one_of(
    st.integers(min_value=-(2**31), max_value=2**31 - 1),
    st.sampled_from(["", "a", "b", "企", "a\u00e9", "\U0001f600", "Z"]),
    _NAMES.map(lambda n: (n,)),
    st.sampled_from([("#inf",), ("#sup",)]),
)
_VALUES = st.recursive(
    _LEAVES,
    lambda inner: st.tuples(st.sampled_from(["", "a", "m", "f"]), st.lists(inner, min_size=1, max_size=3)).map(
        lambda t: (t[0], *t[1])
    ),
    max_leaves=8,
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_VALUES, min_size=2, max_size=6))
def test_values_sort_in_clingo_order_without_symbols(values: list[Any]) -> None:
    # The walk breaks ties in clingo's order of the symbols; it sorts plain values by order_key instead of
    # making the symbols: both orders must be the same, for every kind of term and mixed kinds.
    from fuchi.explanation.lines import order_key, symbol

    assert sorted(values, key=order_key) == sorted(values, key=symbol)
    for a, b in zip(values, values[1:], strict=False):
        assert (order_key(a) < order_key(b)) == (symbol(a) < symbol(b)), (a, b)
        assert (order_key(a) == order_key(b)) == (symbol(a) == symbol(b)), (a, b)


def test_fast_lines_record_only_the_rules_a_walk_looks_up(shipped: tuple[list[Any], Any]) -> None:
    companies, city = shipped
    lines = LineExplainer(Explainer(POLICY))
    recorded = lines.program.recorded
    assert recorded is not None and 0 < len(recorded) < len(lines.program.rules)
    every = LineExplainer(Explainer(POLICY))
    every.program = dataclasses.replace(every.program, recorded=None)
    assert lines.lines(companies, city) == every.lines(companies, city)


def test_fast_lines_equal_full_explain_on_a_generated_population(tmp_path: Path) -> None:
    # Generated enterprises cluster around the thresholds and reach far more rules than the shipped example.
    companies, city = _companies(_population(tmp_path, 30, seed=7))
    explainer = Explainer(POLICY)
    fast = LineExplainer(explainer).lines(companies, city)
    slow = {}
    for co in companies:
        for row in explainer.explain(co, city, detailed=True).rows:
            slow[(co.id, row.year, row.item)] = row.line
    assert len(slow) > 100
    assert fast == slow


def test_integer_arithmetic_clingo_would_wrap_is_refused_by_explain_and_test(tmp_path: Path) -> None:
    """A rule multiplying integers past 32 bits: clingo wraps silently; explain and test said 'internal error:
    OverflowError'. Now the same policy error as the SQL engine's."""
    from click.testing import CliRunner

    from fuchi.cli import main
    from policy_copy import copy_policy, replace_once

    policy = copy_policy(tmp_path)
    replace_once(policy / "rules" / "10-gate.lp", "payable_year(Y, Y + D)", "payable_year(Y, Y + D * 1000000000 * 3)")
    data = [str(ROOT / "facts" / "city.yaml"), str(ROOT / "facts" / "companies.yaml")]
    for args in (
        ["explain", "91310230MA1K0A1B2C", "2.4.a", *data, "--year", "2027"],
        ["test"],
        ["evaluate", *data, "--engine", "sql"],
        ["evaluate", *data, "--explain"],
    ):
        r = CliRunner().invoke(main, [*args, "--policy", str(policy)])
        assert r.exit_code == 1, (args, r.output)
        assert "integer arithmetic beyond clingo's 32-bit range" in r.stderr, args
        assert "internal error" not in r.stderr


def test_sql_engine_records_the_same_bindings_as_the_fired_solve(tmp_path: Path) -> None:
    """On the SQL engine the one-liners' bindings come from the plan itself (the ``_fired_I`` rules compiled
    with the policy's, in the same run as the decisions): the lines are those of the clingo ``_fired`` solve,
    and the rows those of a run without the recording."""
    from fuchi.engines.sql import SqlEngine

    companies, city = _companies(_population(tmp_path, 300, seed=11))
    lines = LineExplainer(Explainer(POLICY))
    engine = SqlEngine(POLICY, threads=1)
    recorded = engine.solve(companies, city, recording=lines.recording)
    assert {sig[0] for sig in recorded.recorded} >= {"decision", *(f"_fired_{i}" for i in lines.program.recorded or ())}
    from_sql = lines.lines_recorded(recorded, companies)
    assert len(from_sql) > 1000
    assert from_sql == lines.lines(companies, city)
    assert recorded.decisions == engine.solve(companies, city).decisions


def test_a_recording_the_compiler_refuses_falls_back_to_the_clingo_solve(
    monkeypatch: pytest.MonkeyPatch, shipped: tuple[list[Any], Any]
) -> None:
    """Should a recording rule be outside the compiler's fragment, the one-liners come from the clingo solve."""
    from clingo import ast

    from fuchi.engines.clingo import Recording

    companies, city = shipped
    refused: list[tuple[str, Any]] = []
    ast.parse_string(
        "_fired_x(1..2).", lambda stm: refused.append(("rules/x.lp", stm)) if stm.ast_type == ast.ASTType.Rule else None
    )
    bogus = Recording("bogus", tuple(refused), frozenset({("decision", 7)}))
    monkeypatch.setattr(LineExplainer, "recording", property(lambda self: bogus))
    ev = evaluation.Evaluator(POLICY, True, "sql", threads=1)
    rows = ev.run(companies, city).rows
    assert ev.recording_refused
    expected = LineExplainer(Explainer(POLICY)).lines(companies, city)
    assert {(r.company, r.year, r.item): r.explanation for r in rows} == expected

"""The SQL engine against the clingo reference: every policy case, the shipped example, a generated
population of 10,000 enterprises — byte for byte — plus the compiler's reports of what it cannot take.

(Random enterprises clustered at every threshold, and edited copies of the policy: test_sql_property.py.)
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from fuchi.cli import main
from fuchi.compiler import CompileError, compile_policy
from fuchi.drafting.cases import load_cases
from fuchi.engines import make_engine, resolve
from fuchi.engines.clingo import Engine, Outcome
from fuchi.engines.sql import SqlEngine
from fuchi.errors import FuchiError, InputError
from fuchi.explanation.reasons import ReasonRenderer
from fuchi.policy import Policy, default_policy_dir, load_policy

ROOT = Path(__file__).resolve().parents[1]
POLICY = load_policy(default_policy_dir())


def _key(o: Outcome) -> tuple[object, ...]:
    return (o.decisions, o.errors, o.warnings, o.flags)


def _groups(policy: Policy) -> dict[str, tuple[Policy, list]]:  # type: ignore[type-arg]
    """Cases grouped by (parameters, city): each group is solved as one batch by each engine."""
    groups: dict[str, tuple[Policy, list]] = {}  # type: ignore[type-arg]
    for case in load_cases(policy):
        try:
            companies, city = case.data()
        except InputError:
            continue  # refused by the loader: the same loader serves both engines
        key = json.dumps([case.parameters, case.city], sort_keys=True, default=str)
        if key not in groups:
            p = policy.with_parameters(case.parameters) if case.parameters else policy
            groups[key] = (p, [city, []])
        groups[key][1][1].extend(companies)
    return groups


GROUPS = _groups(POLICY)


@pytest.mark.parametrize("key", sorted(GROUPS), ids=lambda k: f"group{sorted(GROUPS).index(k)}")
def test_every_policy_case_same_outcome(key: str) -> None:
    policy, (city, companies) = GROUPS[key]
    results = []
    for engine in (Engine(policy), SqlEngine(policy)):
        try:
            outcome = engine.solve(companies, city)
        except FuchiError as exc:
            results.append(("error", exc.message()))
            continue
        results.append(_key(outcome))
        if isinstance(engine, SqlEngine):  # the reason texts rendered in SQL are the Python renderer's
            renderer = ReasonRenderer(policy)
            texts = [d.text for d in outcome.decisions]
            assert None not in texts
            assert texts == [renderer.pair(d.reason, companies[d.company]) for d in outcome.decisions]
    assert results[0] == results[1]


def test_cases_cover_every_item() -> None:
    """The grouped cases are not vacuous: they decide every item of the policy both ways."""
    items = set()
    for policy, (city, companies) in GROUPS.values():
        items |= {d.item for d in SqlEngine(policy).solve(companies, city).decisions} if policy is POLICY else set()
    assert items == set(POLICY.items)


def _evaluate(*args: str) -> tuple[int, str, str]:
    r = CliRunner().invoke(main, ["evaluate", *args], catch_exceptions=False)
    return r.exit_code, r.stdout, r.stderr


@pytest.mark.parametrize("fmt", ["json", "csv", "table"])
def test_shipped_example_byte_identical(fmt: str) -> None:
    files = ["facts/city.yaml", "facts/companies.yaml"]
    sql = _evaluate(*files, "--format", fmt, "--engine", "sql", "--workers", "0")
    ref = _evaluate(*files, "--format", fmt, "--engine", "clingo", "--workers", "0")
    assert sql[0] == ref[0] == 0
    assert sql[1] == ref[1]
    assert sql[2] == ref[2]
    assert len(sql[1]) > 1000


def test_default_engine_is_sql_and_agrees() -> None:
    files = ["facts/city.yaml", "facts/companies.yaml", "--format", "json", "--workers", "0"]
    assert resolve(POLICY, "auto") == ("sql", None)
    assert _evaluate(*files) == _evaluate(*files, "--engine", "clingo")


@pytest.fixture(scope="module")
def population(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("pop") / "10k.jsonl"
    subprocess.run(
        [sys.executable, str(ROOT / "bench" / "generate.py"), "10000", str(path), "--seed", "11"], check=True
    )
    return path


@pytest.mark.parametrize("fmt", ["json", "csv"])
def test_generated_population_byte_identical(population: Path, fmt: str) -> None:
    files = [str(population), str(ROOT / "bench" / "city.yaml"), "--format", fmt]
    sql = _evaluate(*files, "--engine", "sql")
    ref = _evaluate(*files, "--engine", "clingo")
    assert sql[0] == ref[0] == 0
    assert sql[1].count("\n") > 40_000
    assert sql[1] == ref[1]
    assert sql[2] == ref[2]


def test_input_error_same_message(tmp_path: Path) -> None:
    """An error the policy derives (an approval above the maximum) is reported identically by both engines."""
    data = {
        "city": {"avg_growth": {2026: 0.1}},
        "companies": [
            {
                "id": "A1",
                "registered_in": "chongming",
                "industry_code": "6513",
                "sound_finance": True,
                "good_credit": True,
                "fits_direction": True,
                "llm_filings": [{"year": 2026}],
                "assessments": [{"item": "2.5.b", "year": 2026, "decision": "approved", "amount": 999999999}],
            }
        ],
    }
    f = tmp_path / "bad.yaml"
    f.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    sql = _evaluate(str(f), "--engine", "sql", "--workers", "0")
    ref = _evaluate(str(f), "--engine", "clingo", "--workers", "0")
    assert sql == ref
    assert sql[0] == 1 and sql[1] == "" and "assessments[0].amount" in sql[2]


# ---- what the compiler cannot take is reported at file:line, and auto falls back to clingo ----------


def _policy_with(tmp_path: Path, extra: str) -> Policy:
    root = tmp_path / "p"
    shutil.copytree(default_policy_dir(), root)
    rf = root / "rules" / "50-extra.lp"
    rf.write_text(extra, encoding="utf-8")
    return load_policy(root)


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ("{ chosen(C) } :- company(C).\n", "not supported by the SQL compiler"),
        ("reach(C) :- company(C).\nreach(C) :- reach(C), company(C).\n", "recursive predicates"),
        ("big(C) :- company(C), X = @nosuch(1, 2), X > 0.\n", "unknown function @nosuch"),
        ("odd(C, X) :- revenue(C, _, R), X = R + 1.\n", "arithmetic on a non-integer term"),
        ("range(1..3).\n", "intervals"),
        ("odd(C, X) :- registered_in(C, _), X = 2026 ^ 3.\n", "bitwise operator ^"),
        ("odd(C, X) :- registered_in(C, _), X = 2026 ? 3.\n", "bitwise operator ?"),
        ("odd(C, X) :- registered_in(C, _), X = 2026 & 3.\n", "bitwise operator &"),
        ("odd(C, X) :- registered_in(C, _), X = ~2026.\n", "bitwise negation"),
    ],
)
def test_unsupported_rule_reported_at_its_line(tmp_path: Path, rule: str, message: str) -> None:
    policy = _policy_with(tmp_path, "% extra\n" + rule)
    with pytest.raises(CompileError) as info:
        compile_policy(policy)
    assert info.value.file == "rules/50-extra.lp"
    assert info.value.line in (2, 3)
    assert message in info.value.text


def test_auto_falls_back_with_a_notice(tmp_path: Path) -> None:
    policy = _policy_with(tmp_path, "reach(C) :- company(C).\nreach(C) :- reach(C), company(C).\n")
    engine, notice = make_engine(policy, "auto")
    assert isinstance(engine, Engine)
    assert notice is not None and "rules/50-extra.lp:2" in notice
    r = CliRunner().invoke(
        main,
        ["evaluate", "facts/city.yaml", "facts/companies.yaml", "--policy", str(policy.root), "--workers", "0"],
        catch_exceptions=False,
    )
    assert r.exit_code == 0
    assert "rules/50-extra.lp:2" in r.stderr and "clingo" in r.stderr
    r = CliRunner().invoke(
        main,
        ["evaluate", "facts/city.yaml", "facts/companies.yaml", "--policy", str(policy.root), "--engine", "sql"],
        catch_exceptions=False,
    )
    assert r.exit_code == 1 and r.stdout == ""
    assert "rules/50-extra.lp:2" in r.stderr and "recursive" in r.stderr


def test_compile_prints_annotated_plan() -> None:
    r = CliRunner().invoke(main, ["compile"], catch_exceptions=False)
    assert r.exit_code == 0
    out = r.stdout
    assert "-- rule 2.2.b.grant (rules/22-growth.lp:" in out
    assert "CREATE TABLE p_decision_7_v0 AS" in out
    assert "fuchi_share" in out and "DOUBLE" not in out
    # string constants of the rules are bound parameters, shown beside their placeholder
    assert "$1 /* '2.1.b' */" in out or "/* '2.2.b' */" in out


def test_arithmetic_out_of_range_is_an_error_not_a_wrap(tmp_path: Path) -> None:
    policy = _policy_with(tmp_path, "% extra\nhuge(C, X * 4) :- company(C), X = 2000000000.\n")
    companies, city = [], None
    from fuchi.inputs import loader
    from fuchi.inputs.records import City

    companies = [loader.parse_company({"id": "Z"}, "x.yaml", 0)]
    city = City()
    with pytest.raises(FuchiError) as info:
        SqlEngine(policy).solve(companies, city)
    assert "32-bit" in info.value.message()


def test_check_warns_where_the_compiler_stops(tmp_path: Path) -> None:
    from fuchi.drafting.checker import check_policy

    policy = _policy_with(tmp_path, "% extra\nreach(C) :- company(C).\nreach(C) :- reach(C), company(C).\n")
    found = [f for f in check_policy(policy.root) if f.code == "sql-compile"]
    assert [(Path(f.file).name, f.line, f.severity) for f in found] == [("50-extra.lp", 3, "warning")]
    assert "recursive" in found[0].message and "clingo" in found[0].message


def test_check_inputs_yaml_against_the_rules(tmp_path: Path) -> None:
    from fuchi.drafting.checker import check_policy

    policy = _policy_with(tmp_path, "% extra\n")
    path = policy.root / "inputs.yaml"
    text = path.read_text(encoding="utf-8")
    fact = "      fact: rd_spend(company, year, value)\n"
    assert fact in text
    path.write_text(text.replace(fact, "      fact: rd_spend(company, value)\n"), "utf-8")
    found = [f for f in check_policy(policy.root) if f.code == "inputs"]
    assert found and found[0].severity == "error" and "rd_spend/3" in found[0].message
    path.write_text(text.replace(fact, ""), "utf-8")
    found = [f for f in check_policy(policy.root) if f.code == "inputs"]
    assert found and found[0].file.endswith("inputs.yaml") and "rd_spend/3" in found[0].message
    path.write_text(text.replace("      kind: money\n", "      kind: cash\n", 1), "utf-8")
    found = [f for f in check_policy(policy.root) if f.code == "policy-load"]
    assert found and found[0].file.endswith("inputs.yaml") and "got 'cash'" in found[0].message


def test_scaffolded_policy_runs_on_both_engines(tmp_path: Path) -> None:
    r = CliRunner().invoke(main, ["new-policy", str(tmp_path / "np")], catch_exceptions=False)
    assert r.exit_code == 0
    # The scaffold declares its own inputs (id, name, registered_in, revenue): data in that contract.
    data = tmp_path / "np-data.yaml"
    data.write_text(
        "companies:\n"
        "  - {id: A, registered_in: chongming, revenue: {2026: 25000000, 2027: 20000000}}\n"
        "  - {id: B, registered_in: pudong, revenue: {2026: 30000000.5}}\n"
        "  - {id: C, name: x, registered_in: chongming, revenue: {2028: 25000000}}\n",
        encoding="utf-8",
    )
    args = [str(data), "--policy", str(tmp_path / "np"), "--workers", "0"]
    sql = _evaluate(*args, "--format", "json", "--engine", "sql")
    ref = _evaluate(*args, "--format", "json", "--engine", "clingo")
    assert sql == ref and sql[0] == 0 and '"results"' in sql[1]


def test_aggregate_set_semantics(tmp_path: Path) -> None:
    """#sum{A : p(K, A)} adds each distinct tuple once (two records with the same amount count once)."""
    extra = (
        "% extra\n"
        "part(C, K, V) :- company(C), event(C, K, _, _, m(_, _, V)).\n"
        "amount_once(C, S) :- company(C), S = #sum{ V : part(C, _, V) }.\n"
        "amount_each(C, S) :- company(C), S = #sum{ V, K : part(C, K, V) }.\n"
        "count_kinds(C, N) :- company(C), N = #count{ Kind : event(C, _, _, Kind, _) }.\n"
        "flag(C, once(S)) :- amount_once(C, S).\nflag(C, each(S)) :- amount_each(C, S).\n"
        "flag(C, kinds(N)) :- count_kinds(C, N).\n"
    )
    policy = _policy_with(tmp_path, extra)
    from fuchi.inputs import loader
    from fuchi.inputs.records import City

    co = loader.parse_company(
        {
            "id": "E",
            "events": [
                {"id": "a", "year": 2026, "kind": "forum", "cost": Decimal("1.5")},
                {"id": "b", "year": 2026, "kind": "forum", "cost": Decimal("1.5")},
                {"id": "c", "year": 2027, "kind": "summit", "cost": Decimal("0.2")},
            ],
        },
        "x.yaml",
        0,
    )
    got = SqlEngine(policy).solve([co], City())
    ref = Engine(policy).solve([co], City())
    assert got.flags == ref.flags
    assert (0, "once(170)") in got.flags and (0, "each(320)") in got.flags and (0, "kinds(2)") in got.flags


def test_policy_cases_run_on_the_sql_engine() -> None:
    """`fuchi test --engine sql` runs the drafter's cases on the compiled plan (with what-if parameters)."""
    for k in ("2.10", "what-if"):
        sql = CliRunner().invoke(main, ["test", "--engine", "sql", "-k", k, "--format", "json"], catch_exceptions=False)
        ref = CliRunner().invoke(main, ["test", "-k", k, "--format", "json"], catch_exceptions=False)
        assert sql.exit_code == ref.exit_code == 0
        assert sql.stdout == ref.stdout
        assert json.loads(sql.stdout)["passed"] > 3


def test_check_finds_money_compared_with_an_integer_through_money_sum(tmp_path: Path) -> None:
    """The compiler's shapes see through money_sum: money > 100 is decided by term order (an error)."""
    from fuchi.drafting.checker import check_policy

    rule = (
        "%@ rule: 2.8.test\n%@ clause: 2.8\n%@ ruling: I8\n%  「研发投入」\n"
        'fails(C, Y, "2.8", big) :- touched(C, Y, "2.8"), money_sum(events(C, Y), S), S > 100.\n'
    )
    policy = _policy_with(tmp_path, rule)
    found = [f for f in check_policy(policy.root) if f.code == "number-kinds"]
    assert [(Path(f.file).name, f.line, f.severity) for f in found] == [("50-extra.lp", 5, "error")]
    assert "money > integer" in found[0].message
    assert not [f for f in check_policy(default_policy_dir()) if f.code == "number-kinds"]


def test_check_finds_an_undeclared_item(tmp_path: Path) -> None:
    from fuchi.drafting.checker import check_policy

    rule = (
        "%@ rule: 2.11.touch\n%@ clause: 2.8\n%@ ruling: I8\n%  「研发投入」\n"
        'touched(C, Y, "2.11.a") :- rd_spend(C, Y, _).\n'
    )
    policy = _policy_with(tmp_path, rule)
    found = [f for f in check_policy(policy.root) if f.code == "unknown-item"]
    assert [(Path(f.file).name, f.line) for f in found] == [("50-extra.lp", 5)]
    assert "'2.11.a'" in found[0].message
    assert not [f for f in check_policy(default_policy_dir()) if f.code == "unknown-item"]


def test_predicate_names_that_differ_in_case_stay_apart(tmp_path: Path) -> None:
    """SQL identifiers ignore case; fooBar/1 and foobar/1 must not share a table."""
    extra = (
        "% extra\nfooBar(C) :- company(C), fraud(C).\nfoobar(C) :- company(C).\n"
        "flag(C, both) :- fooBar(C), foobar(C).\nflag(C, one) :- foobar(C), not fooBar(C).\n"
    )
    policy = _policy_with(tmp_path, extra)
    from fuchi.inputs import loader
    from fuchi.inputs.records import City

    cos = [
        loader.parse_company({"id": "A", "fraud": True}, "x.yaml", 0),
        loader.parse_company({"id": "B"}, "x.yaml", 1),
    ]
    got = SqlEngine(policy).solve(cos, City())
    assert got.flags == Engine(policy).solve(cos, City()).flags
    assert (0, "both") in got.flags and (1, "one") in got.flags and (1, "both") not in got.flags


def test_compile_listing_escapes_control_characters(tmp_path: Path) -> None:
    policy = _policy_with(tmp_path, '% extra\nflag(C, odd) :- registered_in(C, "a\x1b[2Jb").\n')  # a raw ESC
    r = CliRunner().invoke(main, ["compile", "--policy", str(policy.root)], catch_exceptions=False)
    assert r.exit_code == 0
    assert "\x1b" not in r.stdout and "\\u001b[2Jb" in r.stdout

"""``@times``: money × a count of units, exact (docs/numbers.md), on both engines.

Unit tests of :meth:`fuchi.numbers.Functions.times`, then a per-head award added to a copy of the shipped
policy and solved by the clingo reference and the SQL engine, which must agree — also when the product
leaves the range or the count is negative (both raise the same policy error).
"""

from __future__ import annotations

import shutil
from decimal import Decimal
from pathlib import Path
from typing import Any

import clingo
import pytest
import yaml

from fuchi.compiler import CompileError, compile_policy
from fuchi.compiler.functions import FUNCTIONS
from fuchi.compiler.shapes import DECIMAL, INT, MONEY
from fuchi.engines.clingo import Engine, Outcome
from fuchi.engines.sql import SqlEngine
from fuchi.errors import FuchiError
from fuchi.inputs import loader
from fuchi.numbers import (
    MAX_TERM_FEN,
    SIGNATURES,
    ArithmeticRangeError,
    Functions,
    decimal,
    describe_call,
    fen_of,
    money,
    number,
)
from fuchi.policy import Policy, default_policy_dir, load_policy

F = Functions()
YUAN = 100  # fen


# ---- Functions.times ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fen", "count"),
    [
        (10_000 * YUAN, 7),
        (1, 1),
        (12_345_678_901, 3),  # carries across every limb
        (99_999, 100_001),
        (10**14, 1),  # the largest input times one
        (10**7, 10**7),  # exactly 10^12 yuan
        (1, 2**31 - 1),  # the largest clingo count
    ],
)
def test_times_is_the_exact_product(fen: int, count: int) -> None:
    got = F.times(money(fen), number(count))
    assert fen_of(got) == fen * count
    assert got == money(fen * count)  # normalised limbs


@pytest.mark.parametrize(("fen", "count"), [(0, 0), (0, 5), (10_000 * YUAN, 0), (10**14, 0)])
def test_times_zero(fen: int, count: int) -> None:
    assert F.times(money(fen), number(count)) == money(0)


@pytest.mark.parametrize(
    ("fen", "count"),
    [(10**14, 2), (10**14 + 1, 1), (10**7 + 1, 10**7), (MAX_TERM_FEN, 1), (MAX_TERM_FEN, 2**31 - 1)],
)
def test_times_beyond_range_raises(fen: int, count: int) -> None:
    with pytest.raises(ArithmeticRangeError, match=r"@times: product .* above 100000000000000 fen"):
        F.times(money(fen), number(count))


def test_times_range_is_the_input_limit() -> None:
    """The product stays an amount like an input (≤ 10^12 yuan), so money_sum's range proof covers it."""
    assert Functions.TIMES_MAX_FEN == 10**12 * YUAN <= MAX_TERM_FEN
    assert fen_of(F.times(money(Functions.TIMES_MAX_FEN), number(1))) == Functions.TIMES_MAX_FEN


@pytest.mark.parametrize("count", [-1, -(2**31)])
def test_times_negative_count_raises(count: int) -> None:
    with pytest.raises(ArithmeticRangeError, match=f"@times: negative count {count}$"):
        F.times(money(100), number(count))


@pytest.mark.parametrize(
    "count",
    [clingo.String("3"), clingo.Function("three"), money(300), decimal(3), clingo.Function("", [number(3)])],
)
def test_times_non_integer_count_raises(count: clingo.Symbol) -> None:
    with pytest.raises(ArithmeticRangeError, match="@times: the count .* is not an integer"):
        F.times(money(100), count)


@pytest.mark.parametrize(
    "amount", [number(100), decimal(1), clingo.String("m(0,0,1)"), clingo.Function("m", [number(1), number(2)])]
)
def test_times_non_money_amount_raises(amount: clingo.Symbol) -> None:
    with pytest.raises(ArithmeticRangeError, match="@times: .* is not a money term"):
        F.times(amount, number(3))


def test_times_unnormalised_money_raises() -> None:
    bad = clingo.Function("m", [number(0), number(100_000), number(0)])
    with pytest.raises(ArithmeticRangeError, match="not a normalised money term"):
        F.times(bad, number(3))


def test_describe_times() -> None:
    args = [money(10_000 * YUAN), number(7)]
    assert describe_call("times", args, F.times(*args)) == ("@times(10,000 元, 7) = 70,000 元", None)
    args = [money(1_050), number(3)]
    assert describe_call("times", args, F.times(*args)) == ("@times(10.50 元, 3) = 31.50 元", None)


def test_signature_and_sql_function_agree() -> None:
    kinds = {MONEY: "money", DECIMAL: "decimal", INT: "integer"}
    assert SIGNATURES["times"] == (("money", "integer"), "money")
    assert set(SIGNATURES) == set(FUNCTIONS)
    for name, (args, result) in SIGNATURES.items():
        fn = FUNCTIONS[name]
        assert (tuple(kinds[a] for a in fn.args), kinds[fn.result]) == (args, result), name
        assert callable(getattr(F, name))


# ---- both engines --------------------------------------------------------------------------------------

#: A per-head award: per_head yuan for each event of the year, at most cap_per_head a year, plus the
#: uncapped product and products with literal and computed counts.
RULES = """\
% extra: a per-unit award (@times)
units(C, Y, N) :- event(C, _, Y, _, _), N = #count{ K : event(C, K, Y, _, _) }.
per_head(C, Y, @cap(@times(P, N), Max)) :- units(C, Y, N), param(per_head, P), param(cap_per_head, Max).
flag(C, award(Y, A)) :- per_head(C, Y, A).
flag(C, raw(Y, @times(P, N))) :- units(C, Y, N), param(per_head, P).
flag(C, twice(Y, A)) :- units(C, Y, N), param(per_head, P), A = @times(P, N * 2).
flag(C, none(@times(P, 0))) :- company(C), param(per_head, P).
flag(C, zero(@times(zero, N))) :- units(C, _, N).
flag(C, big) :- per_head(C, _, A), A >= Max, param(cap_per_head, Max).
"""

PARAMETERS = """
per_head:
  type: yuan
  value: 10000
  clause: "2.9"
  ruling: I9
  text: {zh: 每人1万元, en: "CNY 10,000 per head"}
cap_per_head:
  type: yuan
  value: 200000
  clause: "2.9"
  ruling: I9
  text: {zh: 每年最高20万元, en: "at most CNY 200,000 a year"}
"""


def _policy(tmp_path: Path, rules: str = RULES) -> Policy:
    root = tmp_path / "p"
    shutil.copytree(default_policy_dir(), root)
    (root / "rules" / "50-times.lp").write_text(rules, encoding="utf-8")
    with (root / "parameters.yaml").open("a", encoding="utf-8") as f:
        f.write(PARAMETERS)
    return load_policy(root)


def _events(n: int, year: int = 2026) -> list[dict[str, Any]]:
    return [{"id": f"e{k}", "year": year, "kind": "forum", "cost": 1000} for k in range(n)]


def _data(tmp_path: Path, companies: list[dict[str, Any]]) -> tuple[Any, list[Any]]:
    path = tmp_path / "companies.yaml"
    doc = {"city": {"avg_growth": {2026: 0.1}}, "companies": companies}
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    city, cos = loader.read_document(str(path))
    assert city is not None
    return city, cos


def _key(o: Outcome) -> tuple[object, ...]:
    return (o.decisions, o.errors, o.warnings, o.flags)


def _both(policy: Policy, city: Any, companies: list[Any]) -> list[object]:
    """Both engines' outcomes, or their error messages (which must be the same, prefix and all)."""
    results: list[object] = []
    for engine in (Engine(policy), SqlEngine(policy)):
        try:
            results.append(_key(engine.solve(companies, city)))
        except FuchiError as exc:
            results.append(("error", exc.message()))
    return results


COMPANIES: list[dict[str, Any]] = [
    {"id": "NONE"},
    {"id": "ONE", "events": _events(1)},
    {"id": "SEVEN", "events": _events(7) + [{"id": "x", "year": 2027, "kind": "summit", "cost": 5}]},
    {"id": "MANY", "events": _events(25)},  # 250,000 yuan: the yearly cap binds
]


def test_per_head_award_same_on_both_engines(tmp_path: Path) -> None:
    policy = _policy(tmp_path)
    compile_policy(policy)  # @times is inside the SQL fragment (no fallback to clingo)
    city, companies = _data(tmp_path, COMPANIES)
    ref, sql = _both(policy, city, companies)
    assert ref == sql
    flags = Engine(policy).solve(companies, city).flags
    wan = 10_000 * YUAN
    expected = {
        (0, "none(m(0,0,0))"),
        (1, f"award(2026,{money(wan)})"),
        (1, f"twice(2026,{money(2 * wan)})"),
        (2, f"award(2026,{money(7 * wan)})"),
        (2, f"raw(2026,{money(7 * wan)})"),
        (2, f"award(2027,{money(wan)})"),
        (2, "zero(m(0,0,0))"),
        (3, f"award(2026,{money(20 * wan)})"),
        (3, f"raw(2026,{money(25 * wan)})"),
        (3, f"twice(2026,{money(50 * wan)})"),
        (3, "big"),
    }
    assert expected <= set(flags)
    assert (2, "big") not in flags


def test_per_head_what_if_parameters_same_on_both_engines(tmp_path: Path) -> None:
    policy = _policy(tmp_path).with_parameters({"per_head": Decimal("12345.67"), "cap_per_head": 10**12})
    city, companies = _data(tmp_path, COMPANIES)
    ref, sql = _both(policy, city, companies)
    assert ref == sql
    assert (3, f"award(2026,{money(25 * 1_234_567)})") in Engine(policy).solve(companies, city).flags


#: One @times call, so that the product which leaves the range is the same whichever engine grounds first.
ONE_CALL = """\
% extra: one per-unit product
units(C, Y, N) :- event(C, _, Y, _, _), N = #count{ K : event(C, K, Y, _, _) }.
flag(C, raw(Y, @times(P, N))) :- units(C, Y, N), param(per_head, P).
"""

REFUSED = "政策错误 policy error: exact arithmetic refused a value / 精确运算拒绝: "
ABOVE = "@times: product {} fen is above 100000000000000 fen (10^12 yuan)"


@pytest.mark.parametrize(
    ("per_head", "events", "product"),
    [
        (10**12, 2, 2 * 10**14),  # the largest input amount, twice
        (Decimal("100000000000.01"), 10, 10**14 + 10),  # one fen per unit above 10^12 yuan
        (1, 20_000, None),  # far below: no error
        (Decimal("50000000.01"), 20_000, 10**14 + 20_000),  # the longest list
    ],
)
def test_product_out_of_range_raises_on_both_engines(
    tmp_path: Path, per_head: Decimal | int, events: int, product: int | None
) -> None:
    policy = _policy(tmp_path, ONE_CALL).with_parameters({"per_head": per_head})
    city, companies = _data(tmp_path, [{"id": "A", "events": _events(events)}, {"id": "B", "events": _events(1)}])
    ref, sql = _both(policy, city, companies)
    assert ref == sql
    if product is None:
        assert isinstance(ref, tuple) and ref[0] != "error"
    else:
        assert ref == ("error", f"{REFUSED}{ABOVE.format(product)}")


def test_largest_product_is_in_range_on_both_engines(tmp_path: Path) -> None:
    policy = _policy(tmp_path, ONE_CALL).with_parameters({"per_head": Decimal("500000000000")})
    city, companies = _data(tmp_path, [{"id": "A", "events": _events(2)}])
    ref, sql = _both(policy, city, companies)
    assert ref == sql
    assert (0, f"raw(2026,{money(10**14)})") in Engine(policy).solve(companies, city).flags


def test_negative_count_raises_on_both_engines(tmp_path: Path) -> None:
    rules = ONE_CALL.replace("@times(P, N)", "@times(P, N - 5)")
    policy = _policy(tmp_path, rules)
    city, companies = _data(tmp_path, [{"id": "A", "events": _events(7)}])
    ref, sql = _both(policy, city, companies)
    assert ref == sql and isinstance(ref, tuple) and ref[0] != "error"
    city, companies = _data(tmp_path, [{"id": "A", "events": _events(2)}])
    ref, sql = _both(policy, city, companies)
    assert ref == sql == ("error", f"{REFUSED}@times: negative count -3")


def test_sql_compiler_refuses_unlike_arguments(tmp_path: Path) -> None:
    rules = "% extra\nflag(C, odd(A)) :- revenue(C, _, R), A = @times(R, R).\n"
    with pytest.raises(CompileError) as info:
        compile_policy(_policy(tmp_path, rules))
    assert info.value.file == "rules/50-times.lp" and info.value.line == 2
    assert "expected @times(m(Int, Int, Int), Int)" in info.value.text


def test_clingo_engine_error_text_is_not_prefixed_twice(tmp_path: Path) -> None:
    policy = _policy(tmp_path, ONE_CALL).with_parameters({"per_head": 10**12})
    city, companies = _data(tmp_path, [{"id": "A", "events": _events(2)}])
    ref, sql = _both(policy, city, companies)
    assert ref == sql

"""``--set NAME=VALUE``: a parameter overridden without copying the policy, typed like parameters.yaml."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from fuchi.cli import main
from fuchi.drafting.overrides import apply_overrides
from fuchi.errors import OverrideError
from fuchi.policy import default_policy_dir, load_policy

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = [str(ROOT / "facts" / "city.yaml"), str(ROOT / "facts" / "companies.yaml")]
POLICY = load_policy(default_policy_dir())


def run(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def evaluate_json(*extra: str) -> Any:
    result = run("evaluate", *EXAMPLE, "--format", "json", "--workers", "0", *extra)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.mark.parametrize(
    ("text", "name", "value"),
    [
        ("award_2_1_b=150000", "award_2_1_b", 150000),
        ("award_2_1_b=150000.5", "award_2_1_b", Decimal("150000.5")),
        ("growth_factor=1.5", "growth_factor", Decimal("1.5")),
        ("payable_offset=2", "payable_offset", 2),
        ("window_year=2026,2027,2028", "window_year", [2026, 2027, 2028]),
        ("registered_district=chongxin", "registered_district", "chongxin"),
        ("honour_lists=sh_top100", "honour_lists", ["sh_top100"]),
    ],
)
def test_values_are_typed_like_parameters_yaml(text: str, name: str, value: Any) -> None:
    policy = apply_overrides(POLICY, [text])
    assert policy.parameters[name].value == value
    assert policy.overrides[0].label() == text
    assert POLICY.parameters[name].value != value  # the loaded policy itself is untouched


def test_a_table_entry_existing_or_new() -> None:
    policy = apply_overrides(POLICY, ["match_ratio.2.1.a=0.6", "tier_2_2_b.100000000.00=150000", "tier_2_2_b.1=5"])
    assert policy.parameters["match_ratio"].value["2.1.a"] == Decimal("0.6")
    assert policy.parameters["match_ratio"].value["2.3"] == POLICY.parameters["match_ratio"].value["2.3"]
    assert policy.parameters["tier_2_2_b"].value[100000000] == 150000  # the key as written in parameters.yaml
    assert policy.parameters["tier_2_2_b"].value[1] == 5  # a new numeric key adds a tier
    assert len(policy.parameters["tier_2_2_b"].value) == len(POLICY.parameters["tier_2_2_b"].value) + 1


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("growth_factor", "NAME=VALUE"),
        ("=1", "NAME=VALUE"),
        ("growth=1.5", "no parameter 'growth'"),
        ("growth_factor=abc", "a decimal number"),
        ("growth_factor=1.1234567", "at most 6 decimal places"),
        ("award_2_1_b=-5", "not a non-negative amount"),
        ("award_2_1_b=1.001", "at most two decimals"),
        ("award_2_1_b=1e5", "an amount in yuan"),
        ("payable_offset=1.5", "a whole number"),
        ("payable_offset=99999999999", "at most 1,000,000,000 in size"),
        ("window_year=2026,,2027", "comma-separated list"),
        ("match_ratio=0.5", "set one entry as match_ratio.KEY=VALUE"),
        ("match_ratio.2.1.a=x", "match_ratio"),
        ("growth_factor.a=1", "is not a table"),
        ("honour_lists=Not-A-Symbol", "lower-case identifier"),
        ("match_ratio.2.1a=0.9", "has no entry '2.1a' (keys: 2.1.a"),  # a typo in a text key: never a silent no-op
    ],
)
def test_bad_overrides_name_the_parameter_and_the_expectation(text: str, needle: str) -> None:
    with pytest.raises(OverrideError) as info:
        apply_overrides(POLICY, [text])
    assert needle in info.value.message()
    assert info.value.message().startswith(f"--set {text}: ")
    result = run("evaluate", *EXAMPLE, "--set", text)
    assert result.exit_code == 1
    assert result.stdout == ""
    assert needle in result.stderr


def test_an_override_changes_results_and_is_shown() -> None:
    plain = evaluate_json()
    more = evaluate_json("--set", "award_2_1_b=150000")
    assert plain["policy"].get("overrides") is None
    assert more["policy"]["overrides"] == {"award_2_1_b": "150000"}
    assert more["policy"]["digest"] != plain["policy"]["digest"]
    paid = [(a, b) for a, b in zip(plain["results"], more["results"], strict=True) if a["item"] == "2.1.b"]
    granted = [(a, b) for a, b in paid if a["status"] == "granted"]
    assert granted and all(a["amount"] == 100000 and b["amount"] == 150000 for a, b in granted)
    assert more["totals"]["amount"]["granted"] - plain["totals"]["amount"]["granted"] == 50000 * len(granted)
    table = run("evaluate", *EXAMPLE, "--workers", "0", "--set", "award_2_1_b=150000").stdout
    assert "参数覆盖 overrides: award_2_1_b=150000" in table


def test_digest_is_reproducible_and_independent_of_order() -> None:
    a = evaluate_json("--set", "award_2_1_b=150000", "--set", "growth_factor=1.5")
    b = evaluate_json("--set", "growth_factor=1.5", "--set", "award_2_1_b=150000")
    c = evaluate_json("--set", "growth_factor=1.4", "--set", "growth_factor=1.5", "--set", "award_2_1_b=150000")
    assert a == b == c  # (a later --set of the same entry wins)
    assert list(a["policy"]["overrides"]) == ["award_2_1_b", "growth_factor"]
    same_value = evaluate_json("--set", "growth_factor=1.2")  # the shipped value, but said: still shown
    assert same_value["policy"]["overrides"] == {"growth_factor": "1.2"}
    assert same_value["results"] == evaluate_json()["results"]


def test_workers_rebuild_the_overridden_policy() -> None:
    args = ["evaluate", *EXAMPLE, "--format", "json", "--set", "award_2_1_b=150000", "--set", "match_ratio.2.1.a=1"]
    in_process = run(*args, "--workers", "0")
    pooled = run(*args, "--workers", "2", "--engine", "clingo")
    assert in_process.exit_code == pooled.exit_code == 0
    assert in_process.stdout == pooled.stdout


def test_explain_with_set_shows_and_uses_the_override() -> None:
    doc = evaluate_json()
    row = next(r for r in doc["results"] if r["item"] == "2.1.b" and r["status"] == "granted")
    args = ["explain", row["company"], "2.1.b", *EXAMPLE, "--year", str(row["year"]), "--format", "json"]
    plain = json.loads(run(*args).stdout)
    more = json.loads(run(*args, "--set", "award_2_1_b=150000").stdout)
    assert more["policy"]["overrides"] == {"award_2_1_b": "150000"}
    assert "overrides" not in plain["policy"]
    assert [r["amount"] for r in plain["rows"]] == [100000]
    assert [r["amount"] for r in more["rows"]] == [150000]


def test_policy_tests_under_an_override_report_what_breaks() -> None:
    assert run("test").exit_code == 0
    result = run("test", "--set", "award_2_1_b=150000")
    assert result.exit_code == 3
    assert "2.1.b" in result.stdout


def test_policy_tests_say_which_overrides_were_in_force() -> None:
    doc = json.loads(run("test", "--format", "json", "--set", "growth_factor=1.2").stdout)
    assert doc["overrides"] == {"growth_factor": "1.2"}
    assert "overrides" not in json.loads(run("test", "--format", "json").stdout)
    assert run("test", "--set", "growth_factor=1.2").stdout.startswith("参数覆盖 overrides: growth_factor=1.2")


def test_digest_is_that_of_the_values_not_of_their_spelling() -> None:
    """``1.2`` and ``1.20`` are one value: one digest; another value, another digest."""
    digest = {
        v: evaluate_json("--set", f"growth_factor={v}")["policy"]["digest"] for v in ("1.5", "1.50", "1.500", "1.6")
    }
    assert digest["1.5"] == digest["1.50"] == digest["1.500"] != digest["1.6"]
    a = evaluate_json("--set", "match_ratio.2.1.a=1")["policy"]["digest"]
    b = evaluate_json("--set", "match_ratio.2.1.a=1.0")["policy"]["digest"]
    c = evaluate_json("--set", "match_ratio.2.1.a=0.9")["policy"]["digest"]
    assert a == b != c
    assert a != evaluate_json()["policy"]["digest"]


@pytest.mark.parametrize(
    ("override", "needle"),
    [
        ("payable_offset=2147483647", "expected an integer of at most 1,000,000,000 in size"),
        ("payable_offset=-1000000001", "expected an integer of at most 1,000,000,000 in size"),
        ("window_year=2026,3000", "expected a year from 1900 to 2200"),
    ],
)
def test_integer_parameters_stay_far_from_clingo_wrapping(override: str, needle: str) -> None:
    """An offset of 2**31 - 1 made clingo wrap the payable year silently (-2147481623, exit 0): refused on
    every engine, before anything runs."""
    for engine in ("clingo", "sql"):
        r = CliRunner().invoke(main, ["evaluate", *EXAMPLE, "--set", override, "--engine", engine])
        assert r.exit_code == 1, r.output
        assert r.stdout == "" and needle in r.stderr


def test_a_list_override_with_a_repeated_value_is_refused() -> None:
    r = CliRunner().invoke(main, ["evaluate", *EXAMPLE, "--set", "window_year=2026,2026"])
    assert r.exit_code == 1 and r.stdout == ""
    assert "列表中的值重复 / a value repeated in the list" in r.stderr

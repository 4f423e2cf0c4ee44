"""``fuchi check``'s type checker and text checks (issue 7, item 4).

Every test copies the shipped policy into tmp_path, changes one rule, parameter or text and checks the
finding (code, severity, file, line) — and, next to it, that the correct variant gives no such finding.
"""

from __future__ import annotations

from pathlib import Path

from fuchi.drafting.checker import Finding, _input_kinds, check_policy
from fuchi.policy import load_policy
from policy_copy import copy_policy, replace_once

SHIPPED = Path(__file__).resolve().parents[1] / "policy" / "chongming-digital-2025"
TYPE_CODES = {
    "number-kinds",
    "predicate-kinds",
    "arithmetic-kinds",
    "aggregate-kinds",
    "unknown-function",
    "function-arity",
    "function-argument",
}
EVENTS_AMOUNT = 'amount_max(C, Y, "2.9", @cap(S, Cap)) :- money_sum(events(C, Y), S), param(cap_2_9_year, Cap).'


# ---- helpers ---------------------------------------------------------------------------------------------


def line_of(path: Path, needle: str) -> int:
    hits = [n for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1) if needle in line]
    assert len(hits) == 1, f"{needle!r} occurs on lines {hits} of {path}"
    return hits[0]


def add_rule(policy: Path, body: str, rule_id: str = "2.9.test", clause: str = "2.9") -> Path:
    """Append an annotated rule block to rules/29-events.lp; return the file."""
    path = policy / "rules" / "29-events.lp"
    text = path.read_text(encoding="utf-8")
    path.write_text(
        text + f"\n%@ rule: {rule_id}\n%@ clause: {clause}\n%@ ruling: I9\n%  「测试」 a test rule.\n{body}\n",
        encoding="utf-8",
    )
    return path


def same_file(f: Finding, path: Path) -> bool:
    return Path(f.file).resolve() == path.resolve()


def of_code(findings: list[Finding], code: str) -> list[Finding]:
    return [f for f in findings if f.code == code]


def type_findings(findings: list[Finding]) -> list[Finding]:
    return [f for f in findings if f.code in TYPE_CODES]


def only(findings: list[Finding], code: str) -> Finding:
    hits = of_code(findings, code)
    assert len(hits) == 1, "\n".join(f.render() for f in findings)
    return hits[0]


def assert_at(f: Finding, code: str, severity: str, path: Path, line: int) -> None:
    assert (f.code, f.severity, f.line) == (code, severity, line), f.render()
    assert same_file(f, path), f.render()
    assert f.hint, "every finding has a hint"
    assert " / " in f.message, "zh/en message"


# ---- the input kinds: one function ---------------------------------------------------------------------------


def test_input_kinds_give_money_and_decimal_arguments() -> None:
    kinds = _input_kinds(load_policy(SHIPPED))
    assert kinds[("revenue", 3)] == {1: "integer", 2: "money"}  # year, amount
    assert kinds[("city_avg_growth", 2)] == {0: "integer", 1: "decimal"}
    assert kinds[("compute_project", 8)][7] == "money"


def test_shipped_policy_has_no_type_findings() -> None:
    assert type_findings(check_policy(SHIPPED)) == []


# ---- @functions: name, arity, argument kinds ---------------------------------------------------------------


def test_unknown_function_is_an_error_at_its_call(tmp_path: Path) -> None:
    policy = copy_policy(tmp_path)
    rules = policy / "rules" / "29-events.lp"
    replace_once(rules, EVENTS_AMOUNT, EVENTS_AMOUNT.replace("@cap(S, Cap)", "@cap(@time(S, 2), Cap)"))
    f = only(check_policy(policy), "unknown-function")
    assert_at(f, "unknown-function", "error", rules, line_of(rules, "@time("))
    assert "@time/2" in f.message
    assert "did you mean @times?" in f.hint and "@times(money, integer) → money" in f.hint
    assert of_code(check_policy(policy), "sql-compile") == []  # said once, by the type checker


def test_declared_function_with_right_kinds_passes(tmp_path: Path) -> None:
    policy = copy_policy(tmp_path)
    rules = policy / "rules" / "29-events.lp"
    replace_once(rules, EVENTS_AMOUNT, EVENTS_AMOUNT.replace("@cap(S, Cap)", "@cap(@times(S, 2), Cap)"))
    assert type_findings(check_policy(policy)) == []


def test_wrong_arity_is_an_error(tmp_path: Path) -> None:
    policy = copy_policy(tmp_path)
    rules = policy / "rules" / "29-events.lp"
    replace_once(rules, EVENTS_AMOUNT, EVENTS_AMOUNT.replace("@cap(S, Cap)", "@cap(S)"))
    f = only(check_policy(policy), "function-arity")
    assert_at(f, "function-arity", "error", rules, line_of(rules, "@cap(S)"))
    assert "@cap takes 2 arguments (money, money), given 1" in f.message


def test_argument_of_the_wrong_kind_is_an_error(tmp_path: Path) -> None:
    policy = copy_policy(tmp_path)
    rules = policy / "rules" / "29-events.lp"
    replace_once(rules, EVENTS_AMOUNT, EVENTS_AMOUNT.replace("@cap(S, Cap)", "@times(S, Cap)"))
    f = only(check_policy(policy), "function-argument")
    assert_at(f, "function-argument", "error", rules, line_of(rules, "@times(S, Cap)"))
    assert "argument 2 of @times must be integer, got money" in f.message


def test_share_of_money_by_a_decimal_parameter_passes(tmp_path: Path) -> None:
    policy = copy_policy(tmp_path)
    rules = policy / "rules" / "29-events.lp"
    new = (
        'amount_max(C, Y, "2.9", @cap(@share(S, R), Cap)) :- money_sum(events(C, Y), S), param(ratio_2_9, R), '
        "param(cap_2_9_year, Cap)."
    )
    replace_once(rules, EVENTS_AMOUNT, new)
    assert type_findings(check_policy(policy)) == []
    replace_once(rules, new, new.replace("@share(S, R)", "@share(S, Cap)"))  # money × money: the wrong kind
    assert [f.code for f in type_findings(check_policy(policy))] == ["function-argument"]


# ---- comparisons through money_sum and derived predicates ------------------------------------------------------


def test_money_sum_compared_with_an_integer_is_an_error(tmp_path: Path) -> None:
    policy = copy_policy(tmp_path)
    rules = policy / "rules" / "29-events.lp"
    replace_once(rules, EVENTS_AMOUNT, EVENTS_AMOUNT.replace("Cap).", "Cap), S > 100."))
    f = only(check_policy(policy), "number-kinds")
    assert_at(f, "number-kinds", "error", rules, line_of(rules, "S > 100"))
    assert "money > integer" in f.message and "S > 100" in f.message


def test_money_sum_compared_with_money_passes(tmp_path: Path) -> None:
    policy = copy_policy(tmp_path)
    rules = policy / "rules" / "29-events.lp"
    replace_once(rules, EVENTS_AMOUNT, EVENTS_AMOUNT.replace("Cap).", "Cap), S > zero, S <= Cap."))
    assert type_findings(check_policy(policy)) == []


def test_unlike_comparison_through_a_derived_predicate(tmp_path: Path) -> None:
    policy = copy_policy(tmp_path)
    rules = add_rule(
        policy,
        "event_total(C, Y, S) :- money_sum(events(C, Y), S).\n"
        "event_large(C, Y) :- event_total(C, Y, S), param(ratio_2_9, R), S > R.",
    )
    f = only(check_policy(policy), "number-kinds")
    assert_at(f, "number-kinds", "error", rules, line_of(rules, "S > R"))
    assert "money > decimal" in f.message


def test_like_comparison_through_a_derived_predicate_passes(tmp_path: Path) -> None:
    policy = copy_policy(tmp_path)
    add_rule(
        policy,
        "event_total(C, Y, S) :- money_sum(events(C, Y), S).\n"
        "event_large(C, Y) :- event_total(C, Y, S), param(cap_2_9_event, M), S > M.",
    )
    assert type_findings(check_policy(policy)) == []


def test_join_of_unlike_kinds_never_matches(tmp_path: Path) -> None:
    policy = copy_policy(tmp_path)
    rules = add_rule(
        policy,
        "event_total(C, Y, S) :- money_sum(events(C, Y), S).\n"
        "event_odd(C, Y) :- event_total(C, Y, S), city_avg_growth(Y, S).",
    )
    f = only(check_policy(policy), "number-kinds")
    assert_at(f, "number-kinds", "error", rules, line_of(rules, "city_avg_growth(Y, S)."))
    assert "never matches" in f.message and "decimal" in f.message and "money" in f.message


def test_join_of_like_kinds_passes(tmp_path: Path) -> None:
    policy = copy_policy(tmp_path)
    add_rule(
        policy,
        "event_total(C, Y, S) :- money_sum(events(C, Y), S).\n"
        "event_as_revenue(C, Y) :- event_total(C, Y, S), revenue(C, Y, S).",
    )
    assert type_findings(check_policy(policy)) == []


def test_integer_in_a_money_argument_never_matches(tmp_path: Path) -> None:
    policy = copy_policy(tmp_path)
    rules = policy / "rules" / "28-rd.lp"
    replace_once(rules, "revenue(C, Y, zero).", "revenue(C, Y, 0).")
    f = only(check_policy(policy), "number-kinds")
    assert_at(f, "number-kinds", "error", rules, line_of(rules, "revenue(C, Y, 0)."))
    assert "argument 3 of revenue/3 is money" in f.message
    # the shipped revenue(C, Y, zero) is money against money: nothing (test_shipped_policy_has_no_type_findings)


def test_head_of_another_kind_is_blamed_at_its_rule_only(tmp_path: Path) -> None:
    policy = copy_policy(tmp_path)
    rules = policy / "rules" / "25-models.lp"
    old = 'amount_max(C, Y, "2.5.b", A) :- llm_filing(C, _, Y), param(cap_2_5_b, A).'
    replace_once(rules, old, 'amount_max(C, Y, "2.5.b", 300000) :- llm_filing(C, _, Y), param(cap_2_5_b, _).')
    found = type_findings(check_policy(policy))
    assert len(found) == 1, "\n".join(f.render() for f in found)  # the readers of amount_max/4 are not blamed
    assert_at(found[0], "predicate-kinds", "error", rules, line_of(rules, "300000"))
    assert "argument 4 of amount_max/4 is integer here but money" in found[0].message


def test_head_of_the_same_kind_passes(tmp_path: Path) -> None:
    policy = copy_policy(tmp_path)
    rules = policy / "rules" / "25-models.lp"
    old = 'amount_max(C, Y, "2.5.b", A) :- llm_filing(C, _, Y), param(cap_2_5_b, A).'
    replace_once(rules, old, 'amount_max(C, Y, "2.5.b", m(0, 30, 0)) :- llm_filing(C, _, Y), param(cap_2_5_b, _).')
    assert type_findings(check_policy(policy)) == []


# ---- arithmetic and aggregates ---------------------------------------------------------------------------------


def test_arithmetic_on_money_is_an_error(tmp_path: Path) -> None:
    policy = copy_policy(tmp_path)
    rules = add_rule(policy, "event_plus(C, Y, T) :- money_sum(events(C, Y), S), T = S + 1.")
    f = only(check_policy(policy), "arithmetic-kinds")
    assert_at(f, "arithmetic-kinds", "error", rules, line_of(rules, "T = S + 1"))
    assert "money" in f.message and "money_sum" in f.hint


def test_arithmetic_on_decimals_is_an_error(tmp_path: Path) -> None:
    policy = copy_policy(tmp_path)
    rules = add_rule(policy, "double_growth(Y, G * 2) :- city_avg_growth(Y, G).")
    f = only(check_policy(policy), "arithmetic-kinds")
    assert_at(f, "arithmetic-kinds", "error", rules, line_of(rules, "G * 2"))


def test_arithmetic_on_integers_passes(tmp_path: Path) -> None:
    policy = copy_policy(tmp_path)
    add_rule(policy, "next_event_year(C, Y + 1, K * 2) :- event(C, K, Y, _, _).")
    assert type_findings(check_policy(policy)) == []


def test_sum_over_money_is_an_error(tmp_path: Path) -> None:
    policy = copy_policy(tmp_path)
    rules = add_rule(policy, "event_count(C, Y, N) :- event(C, _, Y, _, _), N = #sum{ M,K : event(C, K, Y, _, M) }.")
    f = only(check_policy(policy), "aggregate-kinds")
    assert_at(f, "aggregate-kinds", "error", rules, line_of(rules, "#sum{ M,K"))
    assert "#sum over money" in f.message and "money_sum" in f.hint


def test_sum_over_money_limbs_passes_and_makes_money(tmp_path: Path) -> None:
    """#sum over the limbs of money parts, packed into m/3, is money (as rules/01-money.lp writes it)."""
    policy = copy_policy(tmp_path)
    body = (
        "event_fen(C, Y, m(0, 0, V)) :- event(C, _, Y, _, _), V = #sum{ L,K : event(C, K, Y, _, m(_, _, L)) }.\n"
        "event_small(C, Y) :- event_fen(C, Y, F), F < zero."
    )
    add_rule(policy, body)
    assert type_findings(check_policy(policy)) == []
    replace_once(policy / "rules" / "29-events.lp", "F < zero", "F < 5")  # money against an integer
    assert [f.code for f in type_findings(check_policy(policy))] == ["number-kinds"]


def test_max_over_mixed_kinds_is_an_error(tmp_path: Path) -> None:
    policy = copy_policy(tmp_path)
    rules = add_rule(
        policy, "event_top(C, T) :- company(C), T = #max{ M : revenue(C, _, M); G : city_avg_growth(_, G) }."
    )
    f = only(check_policy(policy), "aggregate-kinds")
    assert_at(f, "aggregate-kinds", "error", rules, line_of(rules, "#max{"))
    assert "#max over unlike numbers (decimal / money)" in f.message


def test_max_over_one_kind_passes(tmp_path: Path) -> None:
    policy = copy_policy(tmp_path)
    add_rule(policy, "event_top(C, T) :- company(C), T = #max{ M : revenue(C, _, M); M : rd_spend(C, _, M) }.")
    assert type_findings(check_policy(policy)) == []


def test_count_compared_with_money_is_an_error(tmp_path: Path) -> None:
    policy = copy_policy(tmp_path)
    rules = add_rule(policy, "many_events(C, Y) :- event(C, _, Y, _, _), #count{ K : event(C, K, Y, _, _) } > zero.")
    f = only(check_policy(policy), "number-kinds")
    assert_at(f, "number-kinds", "error", rules, line_of(rules, "#count{"))
    replace_once(rules, "} > zero.", "} > 2.")
    assert type_findings(check_policy(policy)) == []


# ---- reason terms need texts ---------------------------------------------------------------------------------


def test_reason_without_a_text_is_a_warning(tmp_path: Path) -> None:
    policy = copy_policy(tmp_path)
    rules = policy / "rules" / "28-rd.lp"
    replace_once(rules, 'fails(C, Y, "2.8", not_key_field)', 'fails(C, Y, "2.8", not_ai_field)')
    findings = check_policy(policy)
    f = only(findings, "unknown-reason")
    assert_at(f, "unknown-reason", "warning", rules, line_of(rules, "not_ai_field"))
    assert "not_ai_field/0" in f.message and "not_ai_field / not_ai_field" in f.message
    assert "did you mean 'not_key_field/0'?" in f.hint
    assert not [x for x in findings if x.severity == "error"]


def test_reason_with_a_text_passes(tmp_path: Path) -> None:
    policy = copy_policy(tmp_path)
    replace_once(policy / "rules" / "28-rd.lp", 'fails(C, Y, "2.8", not_key_field)', 'fails(C, Y, "2.8", not_ai_field)')
    messages = policy / "messages.yaml"
    messages.write_text(
        messages.read_text(encoding="utf-8") + "not_ai_field/0: {zh: 不属于人工智能领域, en: not in the AI field}\n",
        encoding="utf-8",
    )
    assert of_code(check_policy(policy), "unknown-reason") == []


def test_nested_reason_is_followed_through_its_template(tmp_path: Path) -> None:
    """gate(G) renders G as a {0:reason}: a new gate reason needs its own text too."""
    policy = copy_policy(tmp_path)
    rules = policy / "rules" / "10-gate.lp"
    replace_once(rules, "gate_fail(C, good_credit)", "gate_fail(C, credit_unknown)")
    f = only(check_policy(policy), "unknown-reason")
    assert_at(f, "unknown-reason", "warning", rules, line_of(rules, "credit_unknown"))
    assert "credit_unknown/0" in f.message


def test_reason_with_only_a_chinese_text_is_a_warning(tmp_path: Path) -> None:
    policy = copy_policy(tmp_path)
    messages = policy / "messages.yaml"
    replace_once(
        messages,
        "not_key_field/0: {zh: 不属于重点领域, en: not in a key field}",
        "not_key_field/0: {zh: 不属于重点领域}",
    )
    rules = policy / "rules" / "28-rd.lp"
    f = only(check_policy(policy), "unknown-reason")
    assert_at(f, "unknown-reason", "warning", rules, line_of(rules, "not_key_field)"))
    assert "no en text" in f.message


# ---- parameter texts state the value ---------------------------------------------------------------------------


def test_parameter_value_changed_but_not_its_text(tmp_path: Path) -> None:
    policy = copy_policy(tmp_path)
    params = policy / "parameters.yaml"
    replace_once(
        params, "growth_factor:\n  type: decimal\n  value: 1.2\n", "growth_factor:\n  type: decimal\n  value: 1.5\n"
    )
    findings = check_policy(policy)
    f = only(findings, "parameter-text")
    assert_at(f, "parameter-text", "warning", params, line_of(params, "增速超全市平均增速1.2倍"))
    assert "growth_factor" in f.message and "1.2倍" in f.message and "1.2 times" in f.message and "1.5" in f.message
    assert not [x for x in findings if x.severity == "error"]


def test_parameter_value_and_text_changed_together_passes(tmp_path: Path) -> None:
    policy = copy_policy(tmp_path)
    params = policy / "parameters.yaml"
    replace_once(
        params, "growth_factor:\n  type: decimal\n  value: 1.2\n", "growth_factor:\n  type: decimal\n  value: 1.5\n"
    )
    replace_once(
        params,
        "text: {zh: 增速超全市平均增速1.2倍, en: growth exceeding 1.2 times the city-wide average}",
        "text: {zh: 增速超全市平均增速1.5倍, en: growth exceeding 1.5 times the city-wide average}",
    )
    assert of_code(check_policy(policy), "parameter-text") == []


def test_parameter_text_in_wan_yuan(tmp_path: Path) -> None:
    """300万元 and CNY 3,000,000 state 3000000 yuan: a cap of 2,000,000 contradicts them both."""
    policy = copy_policy(tmp_path)
    params = policy / "parameters.yaml"
    replace_once(params, "cap_2_8:\n  type: yuan\n  value: 3000000\n", "cap_2_8:\n  type: yuan\n  value: 2000000\n")
    f = only(check_policy(policy), "parameter-text")
    assert_at(f, "parameter-text", "warning", params, line_of(params, "年度最高不超过300万元"))
    assert "300万元" in f.message and "CNY 3,000,000" in f.message


def test_parameter_text_in_percent_passes_when_it_agrees(tmp_path: Path) -> None:
    policy = copy_policy(tmp_path)
    params = policy / "parameters.yaml"
    replace_once(params, "ratio_2_8:\n  type: decimal\n  value: 0.2\n", "ratio_2_8:\n  type: decimal\n  value: 0.25\n")
    text_line = line_of(params, "不超过研发投入20%")
    f = only(check_policy(policy), "parameter-text")
    assert_at(f, "parameter-text", "warning", params, text_line)
    replace_once(
        params,
        "text: {zh: 不超过研发投入20%, en: not more than 20% of R&D investment}",
        "text: {zh: 不超过研发投入25%, en: not more than 25% of R&D investment}",
    )
    assert of_code(check_policy(policy), "parameter-text") == []


def test_table_value_the_text_does_not_state(tmp_path: Path) -> None:
    """match_ratio's text lists 1:0.5 / 1:1; a row changed to 0.6 is stated nowhere."""
    policy = copy_policy(tmp_path)
    params = policy / "parameters.yaml"
    replace_once(params, '"2.6": 0.5}', '"2.6": 0.6}')
    f = only(check_policy(policy), "parameter-text")
    assert_at(f, "parameter-text", "warning", params, line_of(params, "按照1:0.5 / 1:1予以区级配套"))
    assert "does not state the value(s) 0.6" in f.message


# ---- clauses no rule cites -------------------------------------------------------------------------------------

NEW_CLAUSE = (
    '  "2.11":\n    title: {zh: 支持人才引进, en: Talent}\n'
    "    zh: 对当年新引进的人工智能工程师，每人给予1万元扶持，每年最高不超过20万元。\n"
    "    en: CNY 10,000 per AI engineer hired in the year, at most CNY 200,000 a year.\n"
)


def test_clause_no_rule_cites_is_a_warning(tmp_path: Path) -> None:
    policy = copy_policy(tmp_path)
    meta = policy / "policy.yaml"
    replace_once(meta, '  "3.2":\n', NEW_CLAUSE + '  "3.2":\n')
    f = only(check_policy(policy), "uncited-clause")
    assert_at(f, "uncited-clause", "warning", meta, line_of(meta, '"2.11":'))
    assert "'2.11'" in f.message and "%@ clause: 2.11" in f.hint


def test_cited_clause_and_heading_without_text_pass(tmp_path: Path) -> None:
    policy = copy_policy(tmp_path)
    meta = policy / "policy.yaml"
    heading = '  "2":\n    title: {zh: 扶持内容, en: What is supported}\n'
    replace_once(meta, '  "3.2":\n', heading + NEW_CLAUSE + '  "3.2":\n')
    add_rule(policy, "hires(C) :- company(C).", rule_id="2.11.test", clause="2.11")
    assert of_code(check_policy(policy), "uncited-clause") == []

"""``fuchi check``: each kind of policy mistake is reported at its file:line with a hint.

Every test copies the shipped policy into tmp_path, breaks the copy in one way and checks the finding, both
through :func:`fuchi.drafting.checker.check_policy` and through the CLI (exit 1 for errors, 0 for warnings only).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from click.testing import CliRunner, Result

from fuchi.cli import main
from fuchi.drafting.checker import Finding, check_policy
from policy_copy import copy_policy, replace_once

SHIPPED = Path(__file__).resolve().parents[1] / "policy" / "chongming-digital-2025"
FINDING_KEYS = {"file", "line", "column", "severity", "message", "hint", "code"}


# ---- helpers ---------------------------------------------------------------------------------------------


def append(path: Path, text: str) -> None:
    path.write_text(path.read_text(encoding="utf-8") + text, encoding="utf-8")


def line_of(path: Path, needle: str) -> int:
    """1-based line of the only line containing ``needle``."""
    hits = [n for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1) if needle in line]
    assert len(hits) == 1, f"{needle!r} occurs on lines {hits} of {path}"
    return hits[0]


def same_file(finding: Finding | dict[str, object], path: Path) -> bool:
    """Whether a finding names ``path`` (findings give paths relative to the cwd when they can)."""
    file = finding.file if isinstance(finding, Finding) else str(finding["file"])
    return Path(file).resolve() == path.resolve()


def errors(findings: list[Finding]) -> list[Finding]:
    return [f for f in findings if f.severity == "error"]


def run_check(policy: Path, *args: str) -> Result:
    return CliRunner().invoke(main, ["check", "--policy", str(policy), *args])


def only_finding(findings: list[Finding], code: str) -> Finding:
    hits = [f for f in findings if f.code == code]
    assert len(hits) == 1, f"expected one {code} finding, got {findings}"
    return hits[0]


# ---- the shipped policy --------------------------------------------------------------------------------------


def test_shipped_policy_has_no_findings() -> None:
    findings = check_policy(SHIPPED)
    assert findings == [], "\n".join(f.render() for f in findings)


def test_shipped_policy_cli_exit_0() -> None:
    result = run_check(SHIPPED)
    assert result.exit_code == 0, result.output
    assert "0 错误 errors, 0 警告 warnings" in result.stderr


def test_shipped_policy_json_is_empty() -> None:
    result = run_check(SHIPPED, "--format", "json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["errors"] == 0
    assert doc["findings"] == []


# ---- syntax -----------------------------------------------------------------------------------------------


def test_missing_full_stop_reported_at_next_token(tmp_path: Path) -> None:
    policy = copy_policy(tmp_path)
    rules = policy / "rules" / "28-rd.lp"
    statement = 'touched(C, Y, "2.8") :- rd_spend(C, Y, _).'
    broken_line = line_of(rules, statement)
    replace_once(rules, statement, statement[:-1])
    # clingo reports the error at the next token: the first line after the broken statement that is neither
    # blank nor a % comment.
    lines = rules.read_text(encoding="utf-8").splitlines()
    next_token_line = next(
        n
        for n, line in enumerate(lines, start=1)
        if n > broken_line and line.strip() and not line.lstrip().startswith("%")
    )
    assert next_token_line > broken_line + 1  # comments in between: the report is not on the broken line

    findings = check_policy(policy)
    syntax = [f for f in findings if f.code == "syntax"]
    assert len(syntax) == 1, findings
    f = syntax[0]
    assert f.severity == "error"
    assert same_file(f, rules)
    assert f.line == next_token_line
    assert f.column == 1
    assert "syntax error" in f.message
    assert "missing '.'" in f.hint
    assert "next token" in f.hint

    result = run_check(policy)
    assert result.exit_code == 1
    assert f"28-rd.lp:{next_token_line}:1: error: syntax error" in result.stderr
    assert "missing '.'" in result.stderr
    assert result.stdout == ""


# ---- grounding: unsafe variables, undefined predicates -----------------------------------------------------------


def test_unsafe_head_variable(tmp_path: Path) -> None:
    policy = copy_policy(tmp_path)
    rules = policy / "rules" / "28-rd.lp"
    old = 'fails(C, Y, "2.8", not_key_enterprise) :- touched(C, Y, "2.8"), not key_enterprise(C).'
    line = line_of(rules, old)
    replace_once(rules, old, old.replace("fails(C, Y,", "fails(C, Z,"))

    f = only_finding(check_policy(policy), "unsafe")
    assert f.severity == "error"
    assert same_file(f, rules)
    assert f.line == line
    assert "unsafe" in f.message
    assert "'Z'" in f.message
    assert "'Y'" not in f.message
    assert f.hint and "positive body atom" in f.hint

    result = run_check(policy)
    assert result.exit_code == 1
    assert f"28-rd.lp:{line}:" in result.stderr
    assert "'Z' is unsafe" in result.stderr
    assert "提示 hint:" in result.stderr


def test_unsafe_variable_only_under_negation(tmp_path: Path) -> None:
    policy = copy_policy(tmp_path)
    rules = policy / "rules" / "28-rd.lp"
    old = 'fails(C, Y, "2.8", not_key_field) :- touched(C, Y, "2.8"), not in_key_field(C).'
    line = line_of(rules, old)
    replace_once(rules, old, old.replace("not in_key_field(C)", "not in_key_field(D)"))

    f = only_finding(check_policy(policy), "unsafe")
    assert same_file(f, rules)
    assert f.line == line
    assert "'D'" in f.message


def test_misspelt_body_predicate_suggests_the_right_one(tmp_path: Path) -> None:
    policy = copy_policy(tmp_path)
    rules = policy / "rules" / "28-rd.lp"
    old = "rd_ratio(C, Y, Q) :- rd_spend(C, Y, D), revenue(C, Y, R), R > zero, Q = @ratio(D, R)."
    line = line_of(rules, old)
    replace_once(rules, old, old.replace("revenue(C, Y, R)", "revenu(C, Y, R)"))
    column = rules.read_text(encoding="utf-8").splitlines()[line - 1].index("revenu(") + 1

    findings = check_policy(policy)
    f = only_finding(findings, "undefined-atom")
    assert f.severity == "error"
    assert same_file(f, rules)
    assert f.line == line
    assert f.column == column
    assert "revenu(C,Y,R)" in f.message
    assert "did you mean 'revenue'?" in f.hint

    result = run_check(policy)
    assert result.exit_code == 1
    assert f"28-rd.lp:{line}:{column}: error: atom does not occur in any rule head" in result.stderr
    assert "did you mean 'revenue'?" in result.stderr


# ---- stratification ---------------------------------------------------------------------------------------------

LOOP_RULE = 'fails(C, Y, "2.8", loop) :- touched(C, Y, "2.8"), not decision(C, Y, "2.8", granted, _, _, _).'


def test_recursion_through_negation_is_not_stratified(tmp_path: Path) -> None:
    policy = copy_policy(tmp_path)
    rules = policy / "rules" / "28-rd.lp"
    append(
        rules,
        f"\n%@ rule: test.loop\n%@ clause: 2.8\n%@ ruling: I8\n%  Depends on its own outcome.\n{LOOP_RULE}\n",
    )
    line = line_of(rules, LOOP_RULE)

    findings = check_policy(policy)
    assert not [f for f in findings if f.code not in ("not-stratified", "no-sentence")], findings
    at_rule = [f for f in findings if same_file(f, rules) and f.line == line]
    assert len(at_rule) == 1, findings
    f = at_rule[0]
    assert f.severity == "error"
    assert f.code == "not-stratified"
    assert "not stratified" in f.message
    assert "fails/4" in f.message and "decision/7" in f.message
    assert "negation" in f.message
    assert f.hint and "break the cycle" in f.hint

    result = run_check(policy)
    assert result.exit_code == 1
    assert f"28-rd.lp:{line}:1: error: not stratified: fails/4 depends on decision/7" in result.stderr


def test_even_loop_is_not_stratified(tmp_path: Path) -> None:
    policy = copy_policy(tmp_path)
    rules = policy / "rules" / "28-rd.lp"
    append(rules, "\n%@ rule: test.even\n%@ clause: 2.8\n%@ ruling: I8\n%  Choice-like.\na :- not b.\nb :- not a.\n")
    line_a, line_b = line_of(rules, "a :- not b."), line_of(rules, "b :- not a.")

    findings = check_policy(policy)
    strat = [f for f in findings if f.code == "not-stratified"]
    assert {f.line for f in strat if same_file(f, rules)} == {line_a, line_b}, findings
    assert all(f.severity == "error" and f.hint for f in strat)
    assert any("a/0 depends on b/0" in f.message for f in strat)
    assert run_check(policy).exit_code == 1


def test_choice_rule_is_an_error(tmp_path: Path) -> None:
    policy = copy_policy(tmp_path)
    rules = policy / "rules" / "28-rd.lp"
    append(rules, "\n%@ rule: test.choice\n%@ clause: 2.8\n%@ ruling: I8\n{ x(C) } :- company(C).\n")
    line = line_of(rules, "{ x(C) } :- company(C).")

    findings = check_policy(policy)
    f = only_finding(findings, "not-stratified")
    assert f.severity == "error"
    assert same_file(f, rules)
    assert f.line == line
    assert "choice" in f.message
    assert f.hint and "exactly one answer set" in f.hint
    assert run_check(policy).exit_code == 1


def test_disjunctive_rule_is_an_error(tmp_path: Path) -> None:
    policy = copy_policy(tmp_path)
    rules = policy / "rules" / "28-rd.lp"
    append(rules, "\n%@ rule: test.disjunction\n%@ clause: 2.8\n%@ ruling: I8\np(C) ; q(C) :- company(C).\n")
    line = line_of(rules, "p(C) ; q(C) :- company(C).")

    f = only_finding(check_policy(policy), "not-stratified")
    assert same_file(f, rules) and f.line == line
    assert "disjunctive" in f.message


# ---- parameters ------------------------------------------------------------------------------------------------


def test_undefined_parameter_suggests_the_defined_one(tmp_path: Path) -> None:
    policy = copy_policy(tmp_path)
    rules = policy / "rules" / "22-growth.lp"
    old = "growth_needed(Y, @scale(F, A)) :- city_avg_growth(Y, A), param(growth_factor, F)."
    line = line_of(rules, old)
    replace_once(rules, old, old.replace("growth_factor", "growth_factr"))
    column = rules.read_text(encoding="utf-8").splitlines()[line - 1].index("param(growth_factr") + 1

    findings = check_policy(policy)
    f = only_finding(findings, "undefined-parameter")
    assert f.severity == "error"
    assert same_file(f, rules)
    assert (f.line, f.column) == (line, column)
    assert "'growth_factr'" in f.message
    assert "did you mean 'growth_factor'?" in f.hint
    # growth_factor is still used by I4.growth_too_low: no unused-parameter warning for it.
    assert not [x for x in findings if x.code == "unused-parameter"], findings

    result = run_check(policy)
    assert result.exit_code == 1
    assert "did you mean 'growth_factor'?" in result.stderr


def test_unused_parameter_is_only_a_warning(tmp_path: Path) -> None:
    policy = copy_policy(tmp_path)
    append(
        policy / "parameters.yaml",
        '\nspare_award:\n  type: yuan\n  value: 1000\n  clause: "2.8"\n  text: {zh: 备用, en: spare}\n',
    )

    findings = check_policy(policy)
    assert errors(findings) == []
    f = only_finding(findings, "unused-parameter")
    assert f.severity == "warning"
    assert same_file(f, policy / "parameters.yaml")
    assert "'spare_award'" in f.message
    assert f.hint

    result = run_check(policy)
    assert result.exit_code == 0, result.output
    assert "warning: parameter 'spare_award' is not used by any rule" in result.stderr
    assert "0 错误 errors, 1 警告 warnings" in result.stderr


# ---- annotations ------------------------------------------------------------------------------------------------


def test_rule_without_annotation(tmp_path: Path) -> None:
    policy = copy_policy(tmp_path)
    rules = policy / "rules" / "28-rd.lp"
    append(rules, "\n\nrd_reported(C) :- rd_spend(C, _, _).\n")
    line = line_of(rules, "rd_reported(C) :- rd_spend(C, _, _).")

    f = only_finding(check_policy(policy), "no-citation")
    assert f.severity == "error"
    assert same_file(f, rules)
    assert f.line == line
    assert "rule without a clause citation" in f.message
    assert "rd_reported(C)" in f.message
    assert "%@ rule:" in f.hint

    result = run_check(policy)
    assert result.exit_code == 1
    assert f"28-rd.lp:{line}:1: error: rule without a clause citation" in result.stderr


def test_rule_after_blank_line_is_not_covered_by_the_annotation_above(tmp_path: Path) -> None:
    """An annotation covers the statements up to the next blank line only."""
    policy = copy_policy(tmp_path)
    rules = policy / "rules" / "28-rd.lp"
    old = 'touched(C, Y, "2.8") :- rd_spend(C, Y, _).'
    replace_once(rules, old, old + "\n\nrd_year(Y) :- rd_spend(_, Y, _).")
    line = line_of(rules, "rd_year(Y) :- rd_spend(_, Y, _).")

    f = only_finding(check_policy(policy), "no-citation")
    assert same_file(f, rules) and f.line == line


def test_unknown_clause_id(tmp_path: Path) -> None:
    policy = copy_policy(tmp_path)
    rules = policy / "rules" / "28-rd.lp"
    replace_once(rules, "%@ rule: 2.8.touch\n%@ clause: 2.8\n", "%@ rule: 2.8.touch\n%@ clause: 9.9\n")
    rule_line = line_of(rules, 'touched(C, Y, "2.8") :- rd_spend(C, Y, _).')

    findings = check_policy(policy)
    f = only_finding(findings, "unknown-clause")
    assert f.severity == "error"
    assert same_file(f, rules)
    assert rule_line - 6 <= f.line <= rule_line  # within the annotated block
    assert "'9.9'" in f.message
    assert f.hint
    assert run_check(policy).exit_code == 1


def test_unknown_clause_id_reported_at_its_annotation_line(tmp_path: Path) -> None:
    policy = copy_policy(tmp_path)
    rules = policy / "rules" / "28-rd.lp"
    replace_once(rules, "%@ rule: 2.8.touch\n%@ clause: 2.8\n", "%@ rule: 2.8.touch\n%@ clause: 9.9\n")
    clause_line = line_of(rules, "%@ clause: 9.9")

    f = only_finding(check_policy(policy), "unknown-clause")
    assert f.line == clause_line


def test_unknown_item_in_metadata(tmp_path: Path) -> None:
    policy = copy_policy(tmp_path)
    replace_once(policy / "policy.yaml", '"2.9", "2.10"]', '"2.9", "2.10", "2.12"]')

    f = only_finding(check_policy(policy), "unknown-clause")
    assert f.severity == "error"
    assert "'2.12'" in f.message
    assert same_file(f, policy / "policy.yaml")


def test_duplicate_rule_id(tmp_path: Path) -> None:
    policy = copy_policy(tmp_path)
    rules = policy / "rules" / "28-rd.lp"
    first = line_of(rules, 'fails(C, Y, "2.8", not_key_enterprise) :-')
    replace_once(rules, "%@ rule: 2.8.key_field\n", "%@ rule: 2.8.key_enterprise\n")
    second = line_of(rules, 'fails(C, Y, "2.8", not_key_field) :-')

    f = only_finding(check_policy(policy), "duplicate-rule-id")
    assert f.severity == "error"
    assert same_file(f, rules)
    assert f.line == second
    assert "'2.8.key_enterprise'" in f.message
    assert f"rules/28-rd.lp:{first}" in f.message
    assert f.hint
    assert run_check(policy).exit_code == 1


# ---- output format -----------------------------------------------------------------------------------------------


def test_json_output(tmp_path: Path) -> None:
    policy = copy_policy(tmp_path)
    rules = policy / "rules" / "28-rd.lp"
    old = "rd_ratio(C, Y, Q) :- rd_spend(C, Y, D), revenue(C, Y, R), R > zero, Q = @ratio(D, R)."
    line = line_of(rules, old)
    replace_once(rules, old, old.replace("revenue(C, Y, R)", "revenu(C, Y, R)"))
    append(
        policy / "parameters.yaml",
        '\nspare_award:\n  type: yuan\n  value: 1000\n  clause: "2.8"\n  text: {zh: 备用, en: spare}\n',
    )

    result = run_check(policy, "--format", "json")
    assert result.exit_code == 1
    doc = json.loads(result.stdout)  # stdout is one JSON document, nothing else
    assert doc["policy"] == str(policy)
    assert doc["errors"] == 1
    assert doc["findings"], doc
    for f in doc["findings"]:
        assert set(f) == FINDING_KEYS
        assert isinstance(f["line"], int) and f["line"] >= 1
        assert isinstance(f["column"], int) and f["column"] >= 1
        assert f["severity"] in ("error", "warning")
        assert isinstance(f["message"], str) and f["message"]
        assert isinstance(f["hint"], str)
        assert isinstance(f["code"], str) and re.fullmatch(r"[a-z-]+", f["code"])
    err = doc["findings"][0]  # errors first
    assert err["severity"] == "error"
    assert err["code"] == "undefined-atom"
    assert same_file(err, rules) and err["line"] == line
    assert "did you mean 'revenue'?" in err["hint"]


def test_json_output_warnings_only_exit_0(tmp_path: Path) -> None:
    policy = copy_policy(tmp_path)
    append(
        policy / "parameters.yaml",
        '\nspare_award:\n  type: yuan\n  value: 1000\n  clause: "2.8"\n  text: {zh: 备用, en: spare}\n',
    )
    result = run_check(policy, "--format", "json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["errors"] == 0
    assert [f["code"] for f in doc["findings"]] == ["unused-parameter"]
    assert doc["findings"][0]["severity"] == "warning"


def test_broken_policy_yaml_is_a_finding_not_a_crash(tmp_path: Path) -> None:
    policy = copy_policy(tmp_path)
    append(policy / "parameters.yaml", "\nbroken: [unclosed\n")
    findings = check_policy(policy)
    f = only_finding(findings, "policy-load")
    assert f.severity == "error"
    assert "YAML" in f.message
    assert run_check(policy).exit_code == 1


# ---- number kinds (docs/numbers.md): money, decimals and integers never compared with each other ----------------


def test_parameter_of_the_wrong_kind_is_caught_through_a_derived_predicate(tmp_path: Path) -> None:
    policy = copy_policy(tmp_path)
    params = policy / "parameters.yaml"
    text = params.read_text(encoding="utf-8")
    params.write_text(text.replace("threshold_2_2_a:\n  type: yuan", "threshold_2_2_a:\n  type: decimal"), "utf-8")
    findings = [f for f in check_policy(policy) if f.code == "number-kinds"]
    assert findings, "a decimal threshold compared with money revenue must be reported"
    assert all(f.severity == "error" and f.file.endswith("rules/22-growth.lp") for f in findings)
    assert "R > X" in findings[0].message


def test_integer_literal_compared_with_money_is_caught(tmp_path: Path) -> None:
    policy = copy_policy(tmp_path)
    rules = policy / "rules" / "22-growth.lp"
    text = rules.read_text(encoding="utf-8")
    rules.write_text(
        text.replace(
            "crossed(C, Y, I, X) :- revenue(C, Y, R), milestone(I, X), R > X.",
            "crossed(C, Y, I, X) :- revenue(C, Y, R), milestone(I, X), R > 20000000.",
        ),
        "utf-8",
    )
    findings = [f for f in check_policy(policy) if f.code == "number-kinds"]
    line = line_of(rules, "R > 20000000.")
    assert [(f.line, "R > 20000000" in f.message) for f in findings] == [(line, True)]


def test_shipped_policy_compares_like_with_like() -> None:
    assert [f for f in check_policy(SHIPPED) if f.code == "number-kinds"] == []


# ---- literals ---------------------------------------------------------------------------------------------


def test_money_and_decimal_literals_must_be_normalised(tmp_path: Path) -> None:
    # W2/W3: clingo compares terms, not amounts; m(0,100000,0) is not m(1,0,0) and orders below m(0,99999,1).
    policy = copy_policy(tmp_path)
    rules = policy / "rules" / "00-schema.lp"
    replace_once(rules, "#const zero = m(0,0,0).", "#const zero = m(0,100000,0).")
    append(rules, "\n#const one_share = d(0,1000000000,0,0).\n#const fine = d(0,1,500000000,0).\n")
    findings = [f for f in check_policy(policy) if f.code == "literal-not-normalised"]
    assert [(f.line, f.severity) for f in findings] == [
        (line_of(rules, "#const zero"), "error"),
        (line_of(rules, "#const one_share"), "error"),
    ], findings
    money, share = findings
    assert same_file(money, rules) and money.column == len("#const zero = ") + 1
    assert "m(0,100000,0)" in money.message and "金额字面量" in money.message
    assert "m(1,0,0)" in money.hint
    assert "d(1,0,0,0)" in share.hint
    result = run_check(policy)
    assert result.exit_code == 1
    assert "m(0,100000,0)" in result.stderr


def test_normalised_literals_are_not_findings(tmp_path: Path) -> None:
    policy = copy_policy(tmp_path)
    rules = policy / "rules" / "00-schema.lp"
    append(rules, "\n#const top = m(3,99999,99999).\n#const half = d(0,500,0,0).\n")
    assert not [f for f in check_policy(policy) if f.code == "literal-not-normalised"]

"""Drafter tools: ``fuchi test`` (cases, JSON, JUnit, coverage), ``fuchi new-policy`` and ``fuchi show-policy``.

Tests that change the policy work on a copy in tmp_path.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from fuchi.cli import main
from fuchi.drafting.cases import load_cases
from fuchi.drafting.checker import check_policy
from fuchi.policy import load_policy
from policy_copy import copy_policy, replace_once

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ROOT / "policy" / "chongming-digital-2025"
FIXTURES = Path(__file__).resolve().parent / "fixtures"
# Coverage: the shipped cases make every rule fire and every rule that can fail fail (rules whose later
# literals are only scalar parameters or assignment aggregates report "—"; see fuchi/coverage.py). The rules
# that act only when a drafter narrows a list are pinned by "what-if" cases with parameter overrides
# (policy/chongming-digital-2025/cases/what-if-and-zero-approvals.yaml).


# ---- helpers ---------------------------------------------------------------------------------------------


def fuchi(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


def gaps(coverage: dict[str, Any]) -> set[tuple[str, str]]:
    out = set()
    for r in coverage["rules"]:
        if not r["fired"]:
            out.add((r["rule"], "fired"))
        if not r["failed"]:
            out.add((r["rule"], "failed"))
    return out


def case_names(policy: Path) -> list[str]:
    return [c.name for c in load_cases(load_policy(policy))]


# ---- fuchi test on the shipped policy ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def shipped_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Result, Path]:
    junit = tmp_path_factory.mktemp("junit") / "cases.xml"
    return fuchi("test", "--policy", str(SHIPPED), "--format", "json", "--junit", str(junit)), junit


@pytest.fixture(scope="module")
def shipped_coverage() -> Result:
    return fuchi("test", "--policy", str(SHIPPED), "--coverage", "--format", "json")


def test_shipped_cases_all_pass(shipped_run: tuple[Result, Path]) -> None:
    result, _ = shipped_run
    assert result.exit_code == 0, result.output[-3000:]
    doc = json.loads(result.stdout)
    names = case_names(SHIPPED)
    assert doc["failed"] == 0, [c for c in doc["cases"] if not c["passed"]]
    assert doc["passed"] == len(names) == len(doc["cases"])
    assert [c["name"] for c in doc["cases"]] == names
    assert all(c["passed"] and c["failures"] == [] for c in doc["cases"])
    assert all("explanation" not in c for c in doc["cases"])


def test_shipped_table_output() -> None:
    result = fuchi("test", "--policy", str(SHIPPED), "-k", "2.8:")
    assert result.exit_code == 0, result.output[-3000:]
    assert "通过 pass" in result.stdout
    assert "失败 FAIL" not in result.stdout
    assert re.search(r"(\d+) 通过 passed, 0 失败 failed, \1 用例 cases", result.stdout)


def test_junit_report(shipped_run: tuple[Result, Path]) -> None:
    result, junit = shipped_run
    assert junit.exists(), result.output[-2000:]
    suite = ET.parse(junit).getroot()
    assert suite.tag == "testsuite"
    cases = suite.findall("testcase")
    names = case_names(SHIPPED)
    assert suite.get("tests") == str(len(names))
    assert suite.get("failures") == "0"
    assert [c.get("name") for c in cases] == names
    assert all(c.get("classname", "").startswith("cases/") for c in cases)
    assert not list(suite.iter("failure"))
    props = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert props["policy.id"] == "chongming-digital-2025"
    assert props["policy.digest"].startswith("sha256:")
    assert not any(k.startswith("override.") for k in props)


def test_junit_report_names_the_overrides_in_force(tmp_path: Path) -> None:
    junit = tmp_path / "cases.xml"
    fuchi("test", "--policy", str(SHIPPED), "-k", "2.1.b", "--set", "growth_factor=1.5", "--junit", str(junit))
    suite = ET.parse(junit).getroot()
    props = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert props["override.growth_factor"] == "1.5"
    assert props["policy.digest"] != load_policy(SHIPPED).digest


def test_junit_report_records_failures(tmp_path: Path) -> None:
    policy = copy_policy(tmp_path)
    replace_once(
        policy / "rules" / "28-rd.lp",
        "param(min_rd_ratio, Min), Q < Min.",
        "param(min_rd_ratio, Min), Q <= Min.",
    )
    junit = tmp_path / "out.xml"
    result = fuchi("test", "--policy", str(policy), "-k", "2.8", "--junit", str(junit))
    assert result.exit_code == 3
    suite = ET.parse(junit).getroot()
    failing = [c for c in suite.findall("testcase") if c.find("failure") is not None]
    assert suite.get("failures") == str(len(failing)) == "2"
    names = {c.get("name") for c in failing}
    assert "2.8: R&D exactly 5% of revenue (1m of 20m) -> pending 200,000" in names
    failure = failing[0].find("failure")
    assert failure is not None and "expected status pending_assessment, got not_eligible" in (failure.text or "")


# ---- a broken rule or a changed parameter is caught -----------------------------------------------------------------


def test_broken_rd_ratio_is_caught(tmp_path: Path) -> None:
    """``Q < Min`` -> ``Q <= Min``: R&D of exactly 5% (以上 includes the number, W1) now fails."""
    policy = copy_policy(tmp_path)
    replace_once(
        policy / "rules" / "28-rd.lp",
        "param(min_rd_ratio, Min), Q < Min.",
        "param(min_rd_ratio, Min), Q <= Min.",
    )
    result = fuchi("test", "--policy", str(policy))
    assert result.exit_code == 3
    out = result.stdout
    name = "2.8: R&D exactly 5% of revenue (1m of 20m) -> pending 200,000"
    assert f"✗ {name} (cases/2.8-rd.yaml)" in out
    assert "RD1 2026 2.8: expected status pending_assessment, got not_eligible" in out
    assert "RD1 2026 2.8: expected amount 200,000, got 0" in out
    # The explanation tree of the failing item: the rule that now fires, its comparison with the values.
    failure = out.split(f"✗ {name}", 1)[1]
    assert "企业 enterprise RD1" in failure
    assert "条款 clause 2.8" in failure
    assert "为什么 why" in failure
    assert "2.8.rd_ratio" in failure
    assert "Q <= Min  ⟹  0.05 <= 0.05" in failure
    assert "rd_spend(RD1, 2026, 1,000,000 元)" in failure
    assert "param(min_rd_ratio, 0.05)" in failure
    # The float-trap case breaks the same way; the one-fen-under case still passes.
    assert "✗ 2.8: R&D 500,000.04 of revenue 10,000,000.80 is exactly 5%" in out
    assert "✗ 2.8: R&D one fen under 5%" not in out
    assert re.search(r"\d+ 通过 passed, 2 失败 failed", out)


def test_broken_rd_ratio_json(tmp_path: Path) -> None:
    policy = copy_policy(tmp_path)
    replace_once(
        policy / "rules" / "28-rd.lp",
        "param(min_rd_ratio, Min), Q < Min.",
        "param(min_rd_ratio, Min), Q <= Min.",
    )
    result = fuchi("test", "--policy", str(policy), "--format", "json")
    assert result.exit_code == 3
    doc = json.loads(result.stdout)
    assert doc["failed"] == 2
    assert doc["passed"] == len(case_names(policy)) - 2
    failed = {c["name"]: c for c in doc["cases"] if not c["passed"]}
    case = failed["2.8: R&D exactly 5% of revenue (1m of 20m) -> pending 200,000"]
    assert any("expected status pending_assessment, got not_eligible" in f for f in case["failures"])
    row = case["explanation"]["rows"][0]
    assert (row["company"], row["year"], row["item"], row["status"]) == ("RD1", 2026, "2.8", "not_eligible")
    assert "Q <= Min  ⟹  0.05 <= 0.05" in json.dumps(row["why"], ensure_ascii=False)


def test_broken_growth_comparison_is_caught(tmp_path: Path) -> None:
    """``G <= N`` -> ``G < N``: growth of exactly 1.2 x the average (超 is strictly greater, W1) now passes."""
    policy = copy_policy(tmp_path)
    replace_once(policy / "rules" / "22-growth.lp", "growth_needed(Y, N), G <= N,", "growth_needed(Y, N), G < N,")
    result = fuchi("test", "--policy", str(policy))
    assert result.exit_code == 3
    out = result.stdout
    name = "2.2.b: growth exactly 1.2 x average (0.12) does not exceed -> not_eligible"
    assert f"✗ {name}" in out
    assert "G2 2026 2.2.b: expected status not_eligible, got pending_assessment" in out
    failure = out.split(f"✗ {name}", 1)[1].split("\n✗ ", 1)[0]
    assert "企业 enterprise G2" in failure
    assert "pending_assessment" in failure
    assert "为什么 why" in failure
    assert "2.2.b.grant" in failure
    assert "G < N" in failure  # the changed comparison, shown with its values


def test_changed_growth_factor_shows_what_changed(tmp_path: Path) -> None:
    policy = copy_policy(tmp_path)
    replace_once(
        policy / "parameters.yaml",
        "growth_factor:\n  type: decimal\n  value: 1.2\n",
        "growth_factor:\n  type: decimal\n  value: 1.5\n",
    )
    # The number changed but its text still says 1.2倍: check warns at the text, and nothing else.
    [finding] = check_policy(policy)
    assert (finding.code, finding.severity, finding.line) == ("parameter-text", "warning", 105)
    assert "1.2倍" in finding.message and "1.5" in finding.message
    replace_once(
        policy / "parameters.yaml",
        "增速超全市平均增速1.2倍, en: growth exceeding 1.2 times",
        "增速超全市平均增速1.5倍, en: growth exceeding 1.5 times",
    )
    assert check_policy(policy) == []  # value and text agree: the policy is well-formed
    result = fuchi("test", "--policy", str(policy))
    assert result.exit_code == 3
    out = result.stdout
    name = "2.2.b: growth one fen above 1.2 x average -> pending 100,000"
    assert f"✗ {name}" in out
    assert "G3 2026 2.2.b: expected status pending_assessment, got not_eligible" in out
    assert "1.5 × 10% = 15%" in out  # the reason names the new factor
    failure = out.split(f"✗ {name}", 1)[1]
    assert "为什么没有 why not" in failure
    assert "I4.growth_too_low" in failure
    assert "param(growth_factor, 1.5)" in failure
    failed = re.search(r"\d+ 通过 passed, (\d+) 失败 failed", out)
    assert failed and int(failed.group(1)) >= 1
    # Only growth cases change.
    for line in out.splitlines():
        if line.startswith("✗ "):
            assert line.startswith("✗ 2.2.b:"), line


# ---- coverage -----------------------------------------------------------------------------------------------------


def test_shipped_coverage_runs(shipped_coverage: Result) -> None:
    result = shipped_coverage
    assert result.exit_code == 0, result.output[-3000:]
    cov = json.loads(result.stdout)["coverage"]
    assert set(cov) >= {"fired_percent", "failed_percent", "clauses_without_case", "rules"}
    assert cov["clauses_without_case"] == []
    policy = load_policy(SHIPPED)
    assert {r["rule"] for r in cov["rules"]} == {r.id for r in policy.rules}
    for r in cov["rules"]:
        assert (SHIPPED / r["file"]).is_file()
        assert r["fired"] == bool(r["fired_by"])


def test_shipped_coverage_has_no_new_gaps(shipped_coverage: Result) -> None:
    """Every rule lacking a direction is one of the known gaps (a new rule must come with its cases)."""
    cov = json.loads(shipped_coverage.stdout)["coverage"]
    assert gaps(cov) == set(), sorted(gaps(cov))


def test_shipped_coverage_is_complete(shipped_coverage: Result) -> None:
    cov = json.loads(shipped_coverage.stdout)["coverage"]
    assert cov["fired_percent"] == 100
    assert cov["failed_percent"] == 100
    assert cov["clauses_without_case"] == []


def test_coverage_table_output() -> None:
    result = fuchi("test", "--policy", str(SHIPPED), "--coverage", "-k", "2.8:")
    assert result.exit_code == 0, result.output[-3000:]
    assert "规则覆盖 Rule coverage" in result.stdout
    assert re.search(r"触发 fired [\d.]+% · 不触发 failed [\d.]+% · \d+ rules", result.stdout)
    assert "2.8.rd_ratio" in result.stdout


# ---- new-policy ---------------------------------------------------------------------------------------------------


def test_new_policy_writes_the_files(tmp_path: Path) -> None:
    target = tmp_path / "my-measures"
    result = fuchi("new-policy", str(target))
    assert result.exit_code == 0, result.output
    written = [Path(line) for line in result.stdout.splitlines()]
    assert all(p.is_file() for p in written)
    assert {p.relative_to(target).as_posix() for p in written} >= {
        "policy.yaml",
        "parameters.yaml",
        "messages.yaml",
        "cases/example.yaml",
    }
    assert any(p.parent.name == "rules" and p.suffix == ".lp" for p in written)
    policy = load_policy(target)
    assert policy.id == "my-measures"
    assert policy.items and all(i in policy.clauses for i in policy.items)


def test_new_policy_passes_its_own_tests(tmp_path: Path) -> None:
    target = tmp_path / "my-measures"
    assert fuchi("new-policy", str(target)).exit_code == 0
    result = fuchi("test", "--policy", str(target), "--format", "json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["failed"] == 0 and doc["passed"] >= 1


def test_new_policy_reports_coverage(tmp_path: Path) -> None:
    target = tmp_path / "my-measures"
    assert fuchi("new-policy", str(target)).exit_code == 0
    result = fuchi("test", "--policy", str(target), "--coverage", "--format", "json")
    assert result.exit_code == 0, result.output
    cov = json.loads(result.stdout)["coverage"]
    assert 0 < cov["fired_percent"] <= 100
    assert 0 < cov["failed_percent"] <= 100
    assert cov["clauses_without_case"] == []
    assert {r["rule"] for r in cov["rules"]} == {r.id for r in load_policy(target).rules}

    table = fuchi("test", "--policy", str(target), "--coverage")
    assert table.exit_code == 0
    assert "规则覆盖 Rule coverage" in table.stdout


def test_new_policy_passes_check(tmp_path: Path) -> None:
    target = tmp_path / "my-measures"
    assert fuchi("new-policy", str(target)).exit_code == 0
    findings = check_policy(target)
    assert findings == [], "\n".join(f.render() for f in findings)  # a scaffold to copy: no warning either
    result = fuchi("check", "--policy", str(target))
    assert result.exit_code == 0, result.output


def test_new_policy_into_an_existing_empty_directory(tmp_path: Path) -> None:
    target = tmp_path / "empty-dir"
    target.mkdir()
    result = fuchi("new-policy", str(target))
    assert result.exit_code == 0, result.output
    assert (target / "policy.yaml").is_file()


def test_new_policy_refuses_a_non_empty_directory(tmp_path: Path) -> None:
    target = tmp_path / "taken"
    target.mkdir()
    (target / "notes.txt").write_text("keep me", encoding="utf-8")
    result = fuchi("new-policy", str(target))
    assert result.exit_code == 2
    assert "not empty" in result.stderr
    assert result.stdout == ""
    assert sorted(p.name for p in target.iterdir()) == ["notes.txt"]
    assert (target / "notes.txt").read_text(encoding="utf-8") == "keep me"


@pytest.mark.parametrize("name", ["Bad_Name", "UPPER", "-leading-hyphen", "has space", "dots.in.name"])
def test_new_policy_refuses_a_bad_name(tmp_path: Path, name: str) -> None:
    target = tmp_path / name
    result = fuchi("new-policy", str(target))
    assert result.exit_code == 2, result.output
    assert "lower-case id" in result.stderr
    assert not target.exists()


# ---- show-policy --------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def markdown() -> str:
    result = fuchi("show-policy", "--policy", str(SHIPPED), "--format", "markdown")
    assert result.exit_code == 0, result.output
    return result.stdout


def _sections(md: str) -> dict[str, str]:
    parts = re.split(r"^## ", md, flags=re.M)[1:]
    return {p.split(" ", 1)[0]: p for p in parts}


def test_show_policy_markdown_lists_every_clause(markdown: str) -> None:
    policy = load_policy(SHIPPED)
    sections = _sections(markdown)
    assert list(sections) == list(policy.clauses)  # every clause, in metadata order
    for cid, clause in policy.clauses.items():
        body = sections[cid]
        assert clause.title_zh in body.splitlines()[0]
        assert f"> {clause.zh}" in body
        assert f"> {clause.en}" in body


def test_show_policy_markdown_rules_parameters_rulings(markdown: str) -> None:
    policy = load_policy(SHIPPED)
    sections = _sections(markdown)
    for cid in policy.clauses:
        body = sections[cid]
        rules = [r for r in policy.rules if cid in r.clauses]
        for r in rules:
            assert f"`{r.id}` ({r.file}:{r.line})" in body, (cid, r.id)
            # file:line points at the rule itself
            line = (SHIPPED / r.file).read_text(encoding="utf-8").splitlines()[r.line - 1]
            assert line.strip() and not line.startswith("%"), (r.id, line)
        for p in policy.parameters.values():
            if cid in p.clauses:
                assert f"| `{p.name}` |" in body, (cid, p.name)
        rulings = {x for r in rules for x in r.rulings} | {
            x for p in policy.parameters.values() if cid in p.clauses for x in p.rulings
        }
        if rulings:
            m = re.search(r"\*\*裁定 Rulings\*\*: (.*)", body)
            assert m and set(m.group(1).split()) == rulings, cid


def test_show_policy_markdown_2_2_b_details(markdown: str) -> None:
    body = _sections(markdown)["2.2.b"]
    assert "企业年度营收首次突破1亿元、3亿元、5亿元、10亿元、20亿元的且增速超全市平均增速1.2倍的" in body
    assert "`I4.growth_too_low` (rules/22-growth.lp:" in body
    assert "`2.2.b.grant` (rules/22-growth.lp:" in body
    assert "| `growth_factor` | 1.2 | decimal |" in body
    assert "| `tier_2_2_b` |" in body
    assert "`threshold_2_2_a`" not in body


def test_show_policy_clause_narrows() -> None:
    result = fuchi("show-policy", "--policy", str(SHIPPED), "--clause", "2.2.b", "--format", "markdown")
    assert result.exit_code == 0, result.output
    assert list(_sections(result.stdout)) == ["2.2.b"]
    assert "growth_factor" in result.stdout
    assert "2.2.a.grant" not in result.stdout


def test_show_policy_unknown_clause_is_usage_error() -> None:
    result = fuchi("show-policy", "--policy", str(SHIPPED), "--clause", "9.9")
    assert result.exit_code == 2
    assert "9.9" in result.stderr
    assert result.stdout == ""


def test_show_policy_table() -> None:
    result = fuchi("show-policy", "--policy", str(SHIPPED), "--format", "table")
    assert result.exit_code == 0, result.output
    out = result.stdout
    policy = load_policy(SHIPPED)
    assert policy.id in out
    for cid, clause in policy.clauses.items():
        assert clause.title_zh in out, cid
    assert "growth_factor = 1.2" in out
    assert "I4.growth_too_low" in out


def test_show_policy_table_one_clause() -> None:
    result = fuchi("show-policy", "--policy", str(SHIPPED), "--clause", "2.8")
    assert result.exit_code == 0, result.output
    assert "2.8.rd_ratio" in result.stdout
    assert "min_rd_ratio = 0.05" in result.stdout
    assert "I4.growth_too_low" not in result.stdout


def test_show_policy_on_a_copy_follows_the_copy(tmp_path: Path) -> None:
    policy = copy_policy(tmp_path)
    replace_once(
        policy / "parameters.yaml",
        "growth_factor:\n  type: decimal\n  value: 1.2\n",
        "growth_factor:\n  type: decimal\n  value: 1.5\n",
    )
    result = fuchi("show-policy", "--policy", str(policy), "--clause", "2.2.b", "--format", "markdown")
    assert result.exit_code == 0, result.output
    assert "| `growth_factor` | 1.5 | decimal |" in result.stdout


def test_a_case_file_with_a_yaml_syntax_error_is_located(tmp_path: Path) -> None:
    """The YAML error of a case file names its line (not PyYAML's '<unicode string>'), in one bilingual line."""
    from policy_copy import copy_policy

    policy = copy_policy(tmp_path)
    case = sorted((policy / "cases").glob("*.yaml"))[0]
    lines = case.read_text(encoding="utf-8").splitlines()
    n = next(i for i, x in enumerate(lines) if x.lstrip().startswith("- name:"))
    lines[n] += " ["
    case.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = fuchi("test", "--policy", str(policy))
    assert result.exit_code == 1
    assert result.stderr.startswith(f"错误 error: cases/{case.name}:{n + 1}: 政策错误 policy error: YAML 语法错误 ")
    assert "<unicode string>" not in result.stderr and len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("value", ['"x2026"', "true", "2026.5"])
def test_an_expectation_of_the_wrong_type_is_a_policy_error(tmp_path: Path, value: str) -> None:
    """A case's expected year that is not an integer is a located policy error (it was an internal error)."""
    from policy_copy import copy_policy

    policy = copy_policy(tmp_path)
    case = policy / "cases" / "2.10-showcase.yaml"
    text = case.read_text(encoding="utf-8")
    assert "{company: SC1, year: 2026," in text
    case.write_text(text.replace("{company: SC1, year: 2026,", f"{{company: SC1, year: {value},", 1), encoding="utf-8")
    result = fuchi("test", "--policy", str(policy))
    assert result.exit_code == 1
    assert result.stderr.startswith("错误 error: cases/2.10-showcase.yaml: 政策错误 policy error: case ")
    assert "expect year 应为整数 / expected an integer" in result.stderr


def test_compile_refuses_a_policy_without_its_parameters(tmp_path: Path) -> None:
    """No engine runs a policy whose rules read undefined parameters: compile printed a plan all the same."""
    from policy_copy import copy_policy

    policy = copy_policy(tmp_path)
    (policy / "parameters.yaml").write_text("", encoding="utf-8")
    r = fuchi("compile", "--policy", str(policy))
    assert r.exit_code == 1 and r.stdout == ""
    assert "is not defined in parameters.yaml" in r.stderr

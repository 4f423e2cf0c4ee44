"""A rule added to a copy of the policy is checked, evaluated and explained without code changes.

The copy gets a new item 2.11 (an open-source award): a clause in policy.yaml and in the source text, two
parameters, and a new rule file ``rules/26-open-source.lp`` with annotated rules and no ``fails`` rule at all.
Everything below goes through the generic machinery only (instrumented why / why-not, parameter and input
sources, reason rendering).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from fuchi.cli import main
from fuchi.drafting.checker import check_policy
from fuchi.policy import load_policy

SHIPPED = Path(__file__).resolve().parents[1] / "policy" / "chongming-digital-2025"

CLAUSE_ZH = "对开源贡献突出、算力达到2000Pflops以上的重点企业，给予10万元扶持。"
CLAUSE_EN = (
    "A key enterprise with outstanding open-source contributions and 2,000 PFLOPS or more may receive CNY 100,000."
)

CLAUSE_YAML = f"""  "2.11":
    title: {{zh: 支持开源贡献, en: Open-source award}}
    zh: {CLAUSE_ZH}
    en: "{CLAUSE_EN}"
"""

PARAMETERS_YAML = """
# ---- 2.11 开源贡献 / open-source award (added by tests/test_new_rule_explained.py) ----------------------------
award_2_11:
  type: yuan
  value: 100000
  clause: "2.11"
  ruling: T2
  text: {zh: 给予10万元扶持, en: "CNY 100,000"}
min_pflops_2_11:
  type: decimal
  value: 2000
  clause: "2.11"
  ruling: W1
  text: {zh: 算力达到2000Pflops以上, en: "2,000 PFLOPS or more"}
"""

RULES_LP = """% =====================================================================================================
% （十一）支持开源贡献 / 2.11 open-source award (added by tests/test_new_rule_explained.py).
% =====================================================================================================

%@ rule: 2.11.touch
%@ clause: 2.11
%@ ruling: P3
%@ zh: {Y} 年度有算力项目，涉及 2.11
%@ en: a computing project in {Y} touches 2.11
%  An enterprise with a compute project in Y has something to say about 2.11 in Y.
touched(C, Y, "2.11") :- compute_project(C, _, _, Y, _, _, _, _).

%@ rule: 2.11.grant
%@ clause: 2.11
%@ ruling: W1 T2
%@ zh: 重点企业，算力 {F} Pflops 达到 {M}，给予 {A}
%@ en: a key enterprise with {F} PFLOPS, at least {M}: {A}
%  「对开源贡献突出、算力达到2000Pflops以上的重点企业，给予10万元扶持」: 以上 includes the number (≥).
amount_max(C, Y, "2.11", A) :-
    compute_project(C, _, _, Y, _, F, _, _), param(min_pflops_2_11, M), F >= M,
    key_enterprise(C), param(award_2_11, A).
"""

GATE = 'registered_in: chongming, industry_code: "6513", sound_finance: true, good_credit: true, fits_direction: true'
DATA_YAML = f"""companies:
  - {{id: OSS-OK, {GATE}, key_enterprise: true,
     compute_projects: [{{id: dc-1, year: 2026, kind: new, pflops: 2400, pue: 1.22, cost: 180000000}}]}}
  - {{id: OSS-SMALL, {GATE}, key_enterprise: true,
     compute_projects: [{{id: dc-1, year: 2026, kind: new, pflops: 1500, pue: 1.22, cost: 180000000}}]}}
  - {{id: OSS-NOTKEY, {GATE},
     compute_projects: [{{id: dc-1, year: 2026, kind: new, pflops: 2400, pue: 1.22, cost: 180000000}}]}}
"""


# ---- the copy ------------------------------------------------------------------------------------------------


def _replace_once(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"expected exactly one {old!r} in {path}"
    path.write_text(text.replace(old, new), encoding="utf-8")


@pytest.fixture(scope="module")
def copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The shipped policy plus item 2.11."""
    root = tmp_path_factory.mktemp("new-rule") / "policy-copy"
    shutil.copytree(SHIPPED, root)
    meta = root / "policy.yaml"
    _replace_once(meta, '"2.9", "2.10"]', '"2.9", "2.10", "2.11"]')
    _replace_once(meta, '  "3.2":\n', CLAUSE_YAML + '  "3.2":\n')
    params = root / "parameters.yaml"
    params.write_text(params.read_text(encoding="utf-8") + PARAMETERS_YAML, encoding="utf-8")
    (root / "rules" / "26-open-source.lp").write_text(RULES_LP, encoding="utf-8")
    source = root / "source" / "chongming-digital-2025.zh.txt"  # the amended text the new rule quotes
    showcase = next(ln for ln in source.read_text(encoding="utf-8").splitlines() if ln.startswith("（十）"))
    _replace_once(source, showcase + "\n", showcase + "\n（十一）支持开源贡献。" + CLAUSE_ZH + "\n")
    return root


@pytest.fixture(scope="module")
def data(copy: Path) -> Path:
    path = copy.parent / "open-source-data.yaml"
    path.write_text(DATA_YAML, encoding="utf-8")
    return path


def fuchi(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


def explain_json(copy: Path, data: Path, company: str) -> dict[str, Any]:
    result = fuchi("explain", company, "2.11", str(data), "--policy", str(copy), "--format", "json", "--proof")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["company"] == company
    assert [(r["year"], r["item"]) for r in doc["rows"]] == [(2026, "2.11")]
    row: dict[str, Any] = doc["rows"][0]
    return row


def steps(node: dict[str, Any] | list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """Every step of a tree (or list of trees), depth first."""
    nodes = node if isinstance(node, list) else [node]
    for n in nodes:
        yield n
        yield from steps(n["children"])


def rule_id(step: dict[str, Any]) -> str | None:
    return step["rule"]["id"] if step.get("rule") else None


def line_of(path: Path, needle: str) -> int:
    hits = [n for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1) if needle in line]
    assert len(hits) == 1, hits
    return hits[0]


# ---- the copy is a well-formed policy --------------------------------------------------------------------------


def test_copy_passes_check(copy: Path) -> None:
    findings = check_policy(copy)
    assert findings == [], "\n".join(f.render() for f in findings)
    result = fuchi("check", "--policy", str(copy))
    assert result.exit_code == 0, result.output


def test_copy_knows_the_new_rules(copy: Path) -> None:
    policy = load_policy(copy)
    assert policy.items[-1] == "2.11"
    assert policy.clauses["2.11"].zh == CLAUSE_ZH
    new = {r.id: r for r in policy.rules if r.file == "rules/26-open-source.lp"}
    assert set(new) == {"2.11.touch", "2.11.grant"}
    assert new["2.11.grant"].clauses == ("2.11",)
    assert new["2.11.grant"].line == line_of(copy / "rules" / "26-open-source.lp", 'amount_max(C, Y, "2.11", A) :-')


def test_show_policy_lists_the_new_clause(copy: Path) -> None:
    result = fuchi("show-policy", "--policy", str(copy), "--clause", "2.11", "--format", "markdown")
    assert result.exit_code == 0, result.output
    assert CLAUSE_ZH in result.stdout
    assert "`2.11.grant` (rules/26-open-source.lp:" in result.stdout
    assert "| `min_pflops_2_11` | 2000 | decimal |" in result.stdout
    assert "| `award_2_11` | 100000 | yuan |" in result.stdout


# ---- evaluate ----------------------------------------------------------------------------------------------------


def test_evaluate_includes_the_new_rows(copy: Path, data: Path) -> None:
    result = fuchi("evaluate", str(data), "--policy", str(copy), "--format", "json", "--workers", "0")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    rows = {(r["company"], r["item"]): r for r in doc["results"]}
    ok = rows[("OSS-OK", "2.11")]
    assert (ok["year"], ok["status"], ok["amount"], ok["payable_year"]) == (2026, "granted", 100000, 2027)
    for company in ("OSS-SMALL", "OSS-NOTKEY"):
        row = rows[(company, "2.11")]
        assert (row["year"], row["status"], row["amount"], row["payable_year"]) == (2026, "not_eligible", 0, None)
    # The shipped items are untouched: the same projects still give their 2.4.b rows.
    assert rows[("OSS-OK", "2.4.b")]["status"] == "pending_assessment"
    assert rows[("OSS-SMALL", "2.4.b")]["status"] == "not_eligible"
    assert doc["totals"]["by_item"]["2.11"]["granted"] == 100000


def test_evaluate_item_filter_accepts_the_new_item(copy: Path, data: Path) -> None:
    result = fuchi("evaluate", str(data), "--policy", str(copy), "--item", "2.11", "--format", "csv", "--workers", "0")
    assert result.exit_code == 0, result.output
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 4  # header + one row per enterprise
    assert all(",2.11," in line for line in lines[1:])


# ---- explain: why ----------------------------------------------------------------------------------------------


def test_why_granted(copy: Path, data: Path) -> None:
    row = explain_json(copy, data, "OSS-OK")
    assert (row["status"], row["amount"], row["payable_year"]) == ("granted", 100000, 2027)
    assert row["clause"]["id"] == "2.11"
    assert row["clause"]["zh"] == CLAUSE_ZH
    assert row["why_not"] == []

    grants = [s for s in steps(row["why"]) if s["kind"] == "derived" and rule_id(s) == "2.11.grant"]
    assert grants, "the why tree must reach the new rule"
    grant = grants[0]
    assert grant["text"] == "amount_max(OSS-OK, 2026, 2.11, 100,000 元)"
    rule = grant["rule"]
    assert rule["file"] == "rules/26-open-source.lp"
    assert rule["line"] == line_of(copy / "rules" / "26-open-source.lp", 'amount_max(C, Y, "2.11", A) :-')
    assert [c["id"] for c in rule["clauses"]] == ["2.11"]
    assert rule["clauses"][0]["zh"] == CLAUSE_ZH
    assert rule["rulings"] == ["W1", "T2"]
    assert any("以上 includes the number" in q for q in rule["quote"])

    kids = grant["children"]
    by_kind: dict[str, list[dict[str, Any]]] = {}
    for k in kids:
        by_kind.setdefault(k["kind"], []).append(k)
    # Input facts with their source: the data file, the enterprise, the field path.
    project = next(k for k in by_kind["input"] if k["text"].startswith("compute_project(OSS-OK"))
    assert "2,400" in project["text"]
    assert str(data) in project["source"]
    assert "OSS-OK" in project["source"]
    assert "compute_projects[0]" in project["source"]
    key = next(k for k in by_kind["input"] if k["text"] == "key_enterprise(OSS-OK)")
    assert str(data) in key["source"] and key["source"].endswith("key_enterprise")
    # Parameters with their clause.
    params = {k["text"]: k["source"] for k in by_kind["parameter"]}
    assert "param(min_pflops_2_11, 2,000)" in params
    assert "parameters.yaml: min_pflops_2_11" in params["param(min_pflops_2_11, 2,000)"]
    assert "clause 2.11" in params["param(min_pflops_2_11, 2,000)"]
    assert "param(award_2_11, 100,000 元)" in params
    # The comparison with its values.
    (cmp,) = by_kind["comparison"]
    assert cmp["text"] == "F >= M  ⟹  2,400 >= 2,000"
    assert cmp["holds"] is True

    touch = [s for s in steps(row["why"]) if s["kind"] == "derived" and rule_id(s) == "2.11.touch"]
    assert touch and touch[0]["text"] == "touched(OSS-OK, 2026, 2.11)"


def test_why_granted_tree(copy: Path, data: Path) -> None:
    result = fuchi("explain", "OSS-OK", "2.11", str(data), "--policy", str(copy), "--proof")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "2026 2.11  予以扶持 granted  100,000 元  兑付 payable 2027" in out
    assert "条款 clause 2.11 支持开源贡献 / Open-source award" in out
    assert CLAUSE_ZH in out
    assert "[2.11.grant 条款 clause 2.11 裁定 ruling W1 T2 rules/26-open-source.lp:" in out
    assert "≟ F >= M  ⟹  2,400 >= 2,000" in out
    assert "▣ key_enterprise(OSS-OK)  ← " in out
    assert "⚙ param(min_pflops_2_11, 2,000)  ← parameters.yaml: min_pflops_2_11" in out


def test_explain_summary_includes_the_new_item(copy: Path, data: Path) -> None:
    result = fuchi("explain", "OSS-OK", str(data), "--policy", str(copy), "--format", "json")
    assert result.exit_code == 0, result.output
    rows = {r["item"]: r for r in json.loads(result.stdout)["rows"]}
    assert rows["2.11"]["status"] == "granted"
    assert rows["2.11"]["amount"] == 100000
    assert "2.4.b" in rows


# ---- explain: why not --------------------------------------------------------------------------------------------


def _failed_grant(row: dict[str, Any]) -> dict[str, Any]:
    """The why-not step of the new rule: its first failing literal."""
    hits = [s for s in steps(row["why_not"]) if s["kind"] == "failed" and rule_id(s) == "2.11.grant"]
    assert hits, json.dumps(row["why_not"], ensure_ascii=False)[:2000]
    step = hits[0]
    assert step["holds"] is False
    assert step["rule"]["clauses"][0]["id"] == "2.11"
    assert step["rule"]["clauses"][0]["zh"] == CLAUSE_ZH
    # The conditions that held (with values and sources), then the one that failed.
    assert all(c["holds"] for c in step["children"][:-1])
    assert step["children"][-1]["holds"] is False
    return step


def test_why_not_below_the_pflops_threshold(copy: Path, data: Path) -> None:
    row = explain_json(copy, data, "OSS-SMALL")
    assert (row["status"], row["amount"], row["payable_year"]) == ("not_eligible", 0, None)
    assert row["clause"]["zh"] == CLAUSE_ZH
    literal = _failed_grant(row)["children"][-1]  # held conditions come first, the failing one last
    assert literal["kind"] == "comparison"
    assert literal["holds"] is False
    assert literal["text"] == "F >= M  ⟹  1,500 >= 2,000"
    assert "first 2 held" in (literal["note"] or "")  # the project and the parameter were found


def test_why_not_below_the_pflops_threshold_tree(copy: Path, data: Path) -> None:
    result = fuchi("explain", "OSS-SMALL", "2.11", str(data), "--policy", str(copy), "--proof")
    assert result.exit_code == 0, result.output
    out = result.stdout
    why_not = out.split("为什么没有 why not", 1)[1]
    assert "✗ 2.11.grant: " in why_not
    assert "≟ F >= M  ⟹  1,500 >= 2,000" in why_not


def test_why_not_missing_key_enterprise(copy: Path, data: Path) -> None:
    row = explain_json(copy, data, "OSS-NOTKEY")
    assert (row["status"], row["amount"], row["payable_year"]) == ("not_eligible", 0, None)
    literal = _failed_grant(row)["children"][-1]  # held conditions come first, the failing one last
    assert literal["kind"] == "not_derived"
    assert literal["holds"] is False
    assert literal["text"] == "key_enterprise(OSS-NOTKEY)"
    assert "no such input fact" in (literal["note"] or "")
    assert "first 3 held" in (literal["note"] or "")  # project, parameter and the PFLOPS comparison held


def test_why_not_missing_key_enterprise_tree(copy: Path, data: Path) -> None:
    result = fuchi("explain", "OSS-NOTKEY", "2.11", str(data), "--policy", str(copy), "--format", "markdown", "--proof")
    assert result.exit_code == 0, result.output
    assert "key_enterprise(OSS-NOTKEY)" in result.stdout
    assert "2.11.grant" in result.stdout


def test_unknown_item_still_refused_on_the_shipped_policy(data: Path) -> None:
    """2.11 exists only in the copy: the shipped policy does not know it (usage error)."""
    result = fuchi("explain", "OSS-OK", "2.11", str(data), "--policy", str(SHIPPED))
    assert result.exit_code == 2
    assert "2.11" in result.stderr


# ---- the auditor's page and the one-liner: the new rule's sentence, no code -------------------------------------


def page_json(copy: Path, data: Path, company: str) -> dict[str, Any]:
    result = fuchi("explain", company, "2.11", str(data), "--policy", str(copy), "--format", "json")
    assert result.exit_code == 0, result.output
    row: dict[str, Any] = json.loads(result.stdout)["rows"][0]
    return row


def test_page_tells_the_new_rule_by_its_sentence(copy: Path, data: Path) -> None:
    row = page_json(copy, data, "OSS-OK")
    grant_line = line_of(copy / "rules" / "26-open-source.lp", 'amount_max(C, Y, "2.11", A) :-')
    assert row["decided_by"] == {"id": "2.11.grant", "file": "rules/26-open-source.lp", "line": grant_line,
                                 "clauses": ["2.11"]}  # fmt: skip
    assert row["decided"] == {
        "zh": "重点企业，算力 2,400 Pflops 达到 2,000，给予 100,000 元",
        "en": "a key enterprise with 2,400 PFLOPS, at least 2,000: 100,000 元",
    }
    assert row["line"] == (
        f"2.11.grant (rules/26-open-source.lp:{grant_line}): 重点企业，算力 2,400 Pflops 达到 2,000，给予 100,000 元 / "
        "a key enterprise with 2,400 PFLOPS, at least 2,000: 100,000 元; 2,400 >= 2,000"
    )
    result = fuchi("explain", "OSS-OK", "2.11", str(data), "--policy", str(copy))
    out = result.stdout
    assert "✓ 2026 年度有算力项目，涉及 2.11 / a computing project in 2026 touches 2.11" in out
    assert "≟ 2,400 >= 2,000" in out
    assert "▣ key_enterprise(OSS-OK) ← " in out
    assert len(out.splitlines()) <= 40


def test_page_tells_why_not_by_the_sentence_and_the_failed_condition(copy: Path, data: Path) -> None:
    result = fuchi("explain", "OSS-SMALL", "2.11", str(data), "--policy", str(copy))
    out = result.stdout
    assert (
        "✗ 重点企业，算力 1,500 Pflops 达到 2,000，给予 ? / a key enterprise with 1,500 PFLOPS, at least 2,000: ?"
        in out
    )
    assert "不成立 fails: 1,500 >= 2,000" in out
    row = page_json(copy, data, "OSS-SMALL")
    assert row["decided_by"]["id"] == "P3.conditions_not_met"


def test_evaluate_explain_uses_the_new_sentence(copy: Path, data: Path) -> None:
    result = fuchi("evaluate", str(data), "--policy", str(copy), "--format", "json", "--workers", "0", "--explain")
    assert result.exit_code == 0, result.output
    rows = {(r["company"], r["item"]): r for r in json.loads(result.stdout)["results"]}
    assert rows[("OSS-OK", "2.11")]["explanation"].startswith("2.11.grant (rules/26-open-source.lp:")
    assert "给予 100,000 元" in rows[("OSS-OK", "2.11")]["explanation"]


def test_check_warns_about_a_rule_without_a_sentence_and_refuses_an_unknown_variable(
    copy: Path, tmp_path: Path
) -> None:
    bad = tmp_path / "policy-bad"
    shutil.copytree(copy, bad)
    lp = bad / "rules" / "26-open-source.lp"
    text = lp.read_text(encoding="utf-8")
    text = text.replace("%@ zh: {Y} 年度有算力项目，涉及 2.11\n%@ en: a computing project in {Y} touches 2.11\n", "")
    text = text.replace("给予 {A}\n", "给予 {Amount}\n")
    lp.write_text(text, encoding="utf-8")
    findings = {(f.code, f.severity) for f in check_policy(bad)}
    assert ("no-sentence", "warning") in findings
    assert ("sentence-unknown-variable", "error") in findings
    messages = [f.message for f in check_policy(bad) if f.code == "sentence-unknown-variable"]
    assert any("{Amount}" in m and "2.11.grant" in m for m in messages)

"""``fuchi check``, quote fidelity: every 「…」 of a rule comment is verbatim in the source text (issue 10.5).

Each test copies the shipped policy into tmp_path, changes one quote (or the source, or a clause text) and
checks the finding at its file:line:col; most go through :func:`fuchi.drafting.quotes.quote_findings`
(fast), two through ``check_policy`` and the CLI to show the check is wired in.
"""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from fuchi.cli import main
from fuchi.drafting.checker import Finding, check_policy
from fuchi.drafting.quotes import compact, scan_quotes
from fuchi.drafting.quotes import quote_findings as _quote_findings
from fuchi.policy import load_policy
from policy_copy import copy_policy, replace_once

SHIPPED = Path(__file__).resolve().parents[1] / "policy" / "chongming-digital-2025"
SOURCE = "source/chongming-digital-2025.zh.txt"
QUOTE_CODES = {
    "quote-not-verbatim",
    "quote-elision",
    "quote-unclosed",
    "quote-empty",
    "clause-text",
    "source-missing",
    "no-source",
    "clause-not-quoted",
}


def place_of(path: Path, needle: str) -> tuple[int, int]:
    """1-based (line, column) of the only occurrence of ``needle``."""
    hits = [
        (n, line.index(needle) + 1)
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if needle in line
    ]
    assert len(hits) == 1, f"{needle!r} occurs at {hits} in {path}"
    return hits[0]


def quote_findings(policy: Path) -> list[Finding]:
    return _quote_findings(load_policy(policy))


def only(findings: list[Finding], code: str) -> Finding:
    hits = [f for f in findings if f.code == code]
    assert len(hits) == 1, f"expected one {code} finding, got:\n" + "\n".join(f.render() for f in findings)
    assert len(findings) == 1, "\n".join(f.render() for f in findings)
    return hits[0]


def at(finding: Finding, path: Path, place: tuple[int, int]) -> bool:
    return Path(finding.file).resolve() == path.resolve() and (finding.line, finding.column) == place


# ---- the shipped policy ----------------------------------------------------------------------------------------


def test_shipped_policy_quotes_are_verbatim_and_every_clause_is_quoted_whole() -> None:
    assert quote_findings(SHIPPED) == []


def test_the_shipped_policy_quotes_the_four_clauses_of_the_issue_whole() -> None:
    policy = load_policy(SHIPPED)
    quotes: list[str] = []
    for rf in policy.rule_files:
        found, _ = scan_quotes(rf.read_text(encoding="utf-8"), rf.relative_to(SHIPPED).as_posix(), policy.rules)
        quotes += [compact(q.text) for q in found if q.rule is not None and q.rule.clauses]
    for cid in ("2.1.a", "2.3", "2.4.a", "2.5.a"):
        assert any(compact(policy.clauses[cid].zh).rstrip("。") in q for q in quotes), cid
    assert not any("1:x" in q or "突破X" in q or "（券）" in q for q in quotes)  # the three stitched quotes


# ---- a quote not in the source ---------------------------------------------------------------------------------


def test_quote_not_in_the_source_is_an_error_at_its_place(tmp_path: Path) -> None:
    policy = copy_policy(tmp_path)
    gate = policy / "rules" / "10-gate.lp"
    replace_once(gate, "「财务管理制度健全」", "「财务制度健全」")
    finding = only(quote_findings(policy), "quote-not-verbatim")
    assert finding.severity == "error"
    assert at(finding, gate, place_of(gate, "「财务制度健全」"))
    assert "引文与政策原文不符 / quote is not verbatim in" in finding.message
    assert SOURCE in finding.message and "「财务制度健全」" in finding.message
    assert "「财务」" in finding.hint  # the longest beginning the source has


def test_punctuation_must_be_as_in_the_source(tmp_path: Path) -> None:
    policy = copy_policy(tmp_path)
    gate = policy / "rules" / "10-gate.lp"
    replace_once(gate, "「信用良好」", "「财务管理制度健全,信用良好」")  # the source has 、, not a half-width comma
    finding = only(quote_findings(policy), "quote-not-verbatim")
    assert at(finding, gate, place_of(gate, "「财务管理制度健全,信用良好」"))
    replace_once(gate, "「财务管理制度健全,信用良好」", "「财务管理制度健全、信用良好」")
    assert quote_findings(policy) == []


def test_line_breaks_and_spaces_do_not_count(tmp_path: Path) -> None:
    policy = copy_policy(tmp_path)
    gate = policy / "rules" / "10-gate.lp"
    replace_once(gate, "%  「信用良好」\n", "%  「财务管理制度健全、\n%     信用 良好」\n")
    assert quote_findings(policy) == []
    replace_once(gate, "%     信用 良好」\n", "%     信用 优良」\n")
    finding = only(quote_findings(policy), "quote-not-verbatim")
    assert at(finding, gate, place_of(gate, "「财务管理制度健全、"))  # the place of the opening 「


def test_quote_in_a_file_header_is_checked(tmp_path: Path) -> None:
    policy = copy_policy(tmp_path)
    items = policy / "rules" / "20-items.lp"
    replace_once(items, "% comprehensive assessment/review", "% comprehensive assessment/review「一次性补贴」")
    finding = only(quote_findings(policy), "quote-not-verbatim")
    assert at(finding, items, place_of(items, "「一次性补贴」"))
    replace_once(items, "「一次性补贴」", "「一次性」")  # a short word of the source is a passage of it
    assert quote_findings(policy) == []


def test_text_that_is_not_the_source_goes_in_double_quotes(tmp_path: Path) -> None:
    policy = copy_policy(tmp_path)
    growth = policy / "rules" / "22-growth.lp"
    replace_once(growth, "「突破」 a milestone X", "“突破X”")
    assert quote_findings(policy) == []
    replace_once(growth, "“突破X”", "「突破X」")
    finding = only(quote_findings(policy), "quote-not-verbatim")
    assert at(finding, growth, place_of(growth, "「突破X」"))


def test_unclosed_quote_is_an_error(tmp_path: Path) -> None:
    policy = copy_policy(tmp_path)
    gate = policy / "rules" / "10-gate.lp"
    replace_once(gate, "「信用良好」", "「信用良好")
    finding = only(quote_findings(policy), "quote-unclosed")
    assert finding.severity == "error" and at(finding, gate, place_of(gate, "「信用良好"))


def test_quotes_are_read_from_comments_only() -> None:
    text = (
        '%@ rule: x\n%@ clause: 1\n%  「信用良好」 and 「依法设立\n%  在崇明」\nr("「not a comment」") :- s. % 「尾」\n'
        "%* 「块\n注释」 *%\n"
    )
    [rule] = load_policy(SHIPPED).rules[:1]
    quotes, unclosed = scan_quotes(text, rule.file, [rule])
    assert [(q.line, q.column, compact(q.text)) for q in quotes] == [
        (3, 4, "信用良好"),
        (3, 15, "依法设立在崇明"),
        (5, 30, "尾"),
        (6, 4, "块注释"),
    ]
    assert unclosed == []


# ---- elision ---------------------------------------------------------------------------------------------------


def test_elided_quote_whose_parts_are_verbatim_passes(tmp_path: Path) -> None:
    policy = copy_policy(tmp_path)
    gate = policy / "rules" / "10-gate.lp"
    replace_once(gate, "「信用良好」", "「财务管理制度健全……依法设立在崇明的……企业」")
    assert quote_findings(policy) == []


def test_elided_parts_out_of_order_fail(tmp_path: Path) -> None:
    policy = copy_policy(tmp_path)
    gate = policy / "rules" / "10-gate.lp"
    replace_once(gate, "「信用良好」", "「依法设立在崇明的……财务管理制度健全」")
    finding = only(quote_findings(policy), "quote-elision")
    assert finding.severity == "error"
    assert at(finding, gate, place_of(gate, "「依法设立在崇明的……财务管理制度健全」"))
    assert "同一条款" in finding.message and "one clause" in finding.message


def test_elided_parts_from_two_clauses_fail(tmp_path: Path) -> None:
    """In the source's order, but the first part is from 2.1.a and the second from 2.3: a stitched quote."""
    policy = copy_policy(tmp_path)
    items = policy / "rules" / "20-items.lp"
    replace_once(items, "「购买非关联方的语料」", "「专项资金（信息化相关领域）……可按照1:1予以区级配套」")
    finding = only(quote_findings(policy), "quote-elision")
    assert at(finding, items, place_of(items, "「专项资金（信息化相关领域）"))


def test_elided_part_not_in_the_source_fails(tmp_path: Path) -> None:
    policy = copy_policy(tmp_path)
    gate = policy / "rules" / "10-gate.lp"
    replace_once(gate, "「信用良好」", "「财务管理制度健全……信用优良」")
    finding = only(quote_findings(policy), "quote-not-verbatim")
    assert at(finding, gate, place_of(gate, "「财务管理制度健全……信用优良」"))


# ---- every clause quoted whole ---------------------------------------------------------------------------------

WHOLE_2_4_B = (
    "「对企业新建或改扩建后，按照有关规定计算的算力达到2000Pflops以上，且数据中心电能利用效率（PUE）不高于1.25的项目，"
    "经综合评估，可按照设备和软件等建设费用的10%给予一次性不超过2000万元扶持」"
)


def test_clause_never_quoted_whole_is_reported(tmp_path: Path) -> None:
    policy = copy_policy(tmp_path)
    compute = policy / "rules" / "24-compute.lp"
    replace_once(compute, WHOLE_2_4_B, "「可按照设备和软件等建设费用的10%给予一次性不超过2000万元扶持」")
    finding = only(quote_findings(policy), "clause-not-quoted")
    assert finding.severity == "warning"
    assert "条款 2.4.b 从未被完整逐字引用 / clause 2.4.b is never quoted whole" in finding.message
    items = policy / "rules" / "20-items.lp"  # the first rule citing 2.4.b: P1.assessed, at its %@ clause: line
    assert at(finding, items, place_of(items, "%@ clause: 2.2.b 2.4.b"))
    assert "对企业新建或改扩建后" in finding.hint


def test_an_elided_quote_is_not_a_whole_quote(tmp_path: Path) -> None:
    policy = copy_policy(tmp_path)
    compute = policy / "rules" / "24-compute.lp"
    replace_once(compute, WHOLE_2_4_B, WHOLE_2_4_B.replace("按照有关规定计算的算力", "……"))
    assert only(quote_findings(policy), "clause-not-quoted").message.startswith("条款 2.4.b ")


def test_a_whole_quote_counts_only_for_the_clauses_its_rule_cites(tmp_path: Path) -> None:
    policy = copy_policy(tmp_path)
    compute = policy / "rules" / "24-compute.lp"
    replace_once(compute, "%@ rule: 2.4.b.share\n%@ clause: 2.4.b\n", "%@ rule: 2.4.b.share\n%@ clause: 2.4.a\n")
    assert "2.4.b" in only(quote_findings(policy), "clause-not-quoted").message


# ---- clause texts and the source file --------------------------------------------------------------------------


def test_clause_text_not_in_the_source_is_an_error_at_its_line(tmp_path: Path) -> None:
    policy = copy_policy(tmp_path)
    meta = policy / "policy.yaml"
    replace_once(meta, "zh: 本办法自2026年1月1日起施行，", "zh: 本办法自2026年1月1日施行，")
    finding = only(quote_findings(policy), "clause-text")
    assert at(finding, meta, (place_of(meta, "zh: 本办法自2026年1月1日施行，")[0], 1))
    assert "clause 3.3" in finding.message


def test_missing_source_file_is_an_error_and_no_source_a_warning(tmp_path: Path) -> None:
    policy = copy_policy(tmp_path)
    (policy / SOURCE).unlink()
    assert only(quote_findings(policy), "source-missing").severity == "error"
    replace_once(policy / "policy.yaml", f"  zh: {SOURCE}\n", "")
    assert only(quote_findings(policy), "no-source").severity == "warning"


# ---- through check and the CLI ---------------------------------------------------------------------------------


def test_check_reports_the_quote_and_exits_1(tmp_path: Path) -> None:
    policy = copy_policy(tmp_path)
    items = policy / "rules" / "20-items.lp"
    replace_once(items, "「购买非关联方的语料」", "「购买非关联方的语料（券）」")
    findings = [f for f in check_policy(policy) if f.code in QUOTE_CODES]
    assert [(f.code, f.line) for f in findings] == [("quote-not-verbatim", place_of(items, "（券）」")[0])]
    result = CliRunner().invoke(main, ["check", "--policy", str(policy)])
    assert result.exit_code == 1
    line, column = place_of(items, "「购买非关联方的语料（券）」")
    assert f"20-items.lp:{line}:{column}: error: 引文与政策原文不符" in result.output


def test_check_warns_of_a_clause_never_quoted_whole_and_exits_0(tmp_path: Path) -> None:
    policy = copy_policy(tmp_path)
    compute = policy / "rules" / "24-compute.lp"
    replace_once(compute, WHOLE_2_4_B, "「可按照设备和软件等建设费用的10%给予一次性不超过2000万元扶持」")
    assert [f.code for f in check_policy(policy)] == ["clause-not-quoted"]
    result = CliRunner().invoke(main, ["check", "--policy", str(policy)])
    assert result.exit_code == 0, result.output
    assert "clause 2.4.b is never quoted whole" in result.output


def test_explanation_sentences_are_not_quotes() -> None:
    """``%@ zh:`` / ``%@ en:`` lines are the drafter's own text: a 「…」 there is not compared with the source."""
    text = (
        "%@ rule: x.y\n%@ clause: 2.8\n%@ ruling: I8\n%@ zh: 「不是原文」{Y} 年度\n%@ en: 「not the source」\n"
        "%  「按照研发投入」\np(1).\n"
    )
    quotes, unclosed = scan_quotes(text, "rules/x.lp", [])
    assert [q.text for q in quotes] == ["按照研发投入"]
    assert unclosed == []
    # An unclosed 「 in a sentence neither opens a quote nor swallows the comment lines below it.
    quotes, unclosed = scan_quotes("%@ zh: 「开\n%  「原文」\np(1).\n", "rules/x.lp", [])
    assert [q.text for q in quotes] == ["原文"] and unclosed == []

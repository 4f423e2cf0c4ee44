"""The input schema a policy declares (inputs.yaml): what it drives, and its mistakes as policy errors."""

from __future__ import annotations

import ast
import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from fuchi.cli import main
from fuchi.errors import InputError, PolicyError
from fuchi.inputs import loader
from fuchi.inputs.contract import fields_markdown
from fuchi.inputs.facts import company_facts
from fuchi.policy import default_policy_dir, load_policy

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = default_policy_dir()
POLICY = load_policy(SHIPPED)


def copy_policy(tmp_path: Path) -> Path:
    dest = tmp_path / "policy"
    shutil.copytree(SHIPPED, dest)
    return dest


def edit_inputs(root: Path, old: str, new: str) -> None:
    path = root / "inputs.yaml"
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def policy_error(root: Path) -> PolicyError:
    with pytest.raises(PolicyError) as info:
        load_policy(root)
    return info.value


def line_of(root: Path, needle: str) -> int:
    lines = (root / "inputs.yaml").read_text(encoding="utf-8").splitlines()
    return [n for n, text in enumerate(lines, 1) if needle in text][-1]  # the last: the edited one


# ---- what the schema drives ---------------------------------------------------------------------------------


def test_docs_carry_the_generated_field_tables() -> None:
    """docs/data-format.md's field tables are `fuchi inputs` of the shipped policy, byte for byte."""
    doc = (ROOT / "docs" / "data-format.md").read_text(encoding="utf-8")
    assert fields_markdown(POLICY.schema) in doc
    result = CliRunner().invoke(main, ["inputs"])
    assert result.exit_code == 0 and result.output == fields_markdown(POLICY.schema)


def test_schema_lp_declares_exactly_the_schema_inputs() -> None:
    """rules/00-schema.lp's #defined input declarations agree with inputs.yaml (same names, same arities)."""
    text = (SHIPPED / "rules" / "00-schema.lp").read_text(encoding="utf-8")
    defined = {(n, int(a)) for n, a in re.findall(r"^#defined (\w+)/(\d+)\.", text, re.M)}
    assert defined - {("param", 2), ("param", 3)} == set(POLICY.schema.predicates())


def _code_only(source: str) -> str:
    """The module's code without docstrings and comments."""
    tree = ast.parse(source)
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr):
            if isinstance(body[0].value, ast.Constant) and isinstance(body[0].value.value, str):
                body[0] = ast.Pass()
    return ast.unparse(tree)


def test_the_package_names_no_input_of_the_policy() -> None:
    """No field of the shipped policy is spelled in the loader, the fact builder or the records."""
    names = {f.name for f in POLICY.schema.fields} - {"name"}
    names |= {p for p, _ in POLICY.schema.predicates()} - {"company"}
    for module in sorted((ROOT / "src" / "fuchi" / "inputs").glob("*.py")):  # files in, up to the facts
        text = _code_only(module.read_text(encoding="utf-8"))  # (docstrings may use them as examples)
        found = sorted(n for n in names if re.search(rf"[\"'`]{n}[\"'`.\[]", text))
        assert not found, (module.name, found)


def test_a_new_field_needs_no_python(tmp_path: Path) -> None:
    """A per-year integer declared in inputs.yaml is validated, written as a fact and typed for the SQL engine."""
    root = copy_policy(tmp_path)
    edit_inputs(
        root,
        "    honours:\n",
        "    ai_engineer_hires:\n"
        "      kind: integer\n"
        "      min: 0\n"
        "      max: 100000\n"
        "      by_year: true\n"
        "      label: {zh: 当年新招聘人工智能工程师人数, en: AI engineers hired in the year}\n"
        "      fact: ai_engineer_hires(company, year, value)\n"
        "    honours:\n",
    )
    policy = load_policy(root)
    assert policy.schema.predicates()[("ai_engineer_hires", 3)] == ["company", "year", "integer"]
    co = loader.parse_company({"id": "A", "ai_engineer_hires": {2026: 7, "2027": 0}}, "f.yaml", 0, None, policy.schema)
    assert co.ai_engineer_hires == {2026: 7, 2027: 0}
    facts: list[tuple[str, str]] = []
    company_facts(0, co, lambda sym, path: facts.append((str(sym), path)), policy.schema)
    assert ("ai_engineer_hires(c(0),2026,7)", "ai_engineer_hires.2026") in facts
    for bad, shown in ((-1, "-1"), (True, "true"), ("7", "'7'"), (100001, "100001")):
        with pytest.raises(InputError) as info:
            loader.parse_company({"id": "A", "ai_engineer_hires": {2026: bad}}, "f.yaml", 0, None, policy.schema)
        assert str(info.value) == (
            "f.yaml: 企业 enterprise 'A': 字段 field ai_engineer_hires.2026: 应为 0 至 100000 之间的整数 / "
            f"expected an integer from 0 to 100000, got {shown}"
        )
    # The shipped schema does not know the field: it is an unknown field there, as before.
    with pytest.raises(InputError) as info:
        loader.parse_company({"id": "A", "ai_engineer_hires": {2026: 7}}, "f.yaml", 0)
    assert "unknown field" in str(info.value) and "ai_engineer_hires" in info.value.field


def test_enumeration_values_are_the_schema_s(tmp_path: Path) -> None:
    root = copy_policy(tmp_path)
    edit_inputs(
        root,
        "values: [summit, competition, forum, exhibition]",
        "values: [summit, competition, forum, exhibition, hackathon]",
    )
    policy = load_policy(root)
    doc = {"id": "A", "events": [{"id": "e", "year": 2026, "kind": "hackathon", "cost": 1}]}
    assert loader.parse_company(doc, "f", 0, None, policy.schema).events[0].kind == "hackathon"
    with pytest.raises(InputError, match="expected one of: summit, competition, forum, exhibition, got 'hackathon'"):
        loader.parse_company(doc, "f", 0)


def test_city_fields_come_from_the_schema(tmp_path: Path) -> None:
    root = copy_policy(tmp_path)
    edit_inputs(
        root,
        "city:\n  fields:\n",
        "city:\n  fields:\n    wage:\n      kind: money\n      label: {zh: 平均工资, en: average wage}\n"
        "      fact: city_wage(value)\n",
    )
    policy = load_policy(root)
    city = loader.parse_city({"wage": 12345}, "c.yaml", policy.schema)
    assert city.wage == 1234500 and city.sources == {"city.wage": "c.yaml"}
    merged = loader.merge_city(
        [(city, "c.yaml"), (loader.parse_city({"wage": 12345}, "d.yaml", policy.schema), "d.yaml")]
    )
    assert merged.values == {"wage": 1234500}
    other = loader.parse_city({"wage": 1}, "d.yaml", policy.schema)
    with pytest.raises(InputError) as info:
        loader.merge_city([(city, "c.yaml"), (other, "d.yaml")])
    assert info.value.field == "city.wage" and "differs from 1234500 given in c.yaml" in info.value.expected


# ---- schema mistakes are policy errors at inputs.yaml:line ------------------------------------------------------


@pytest.mark.parametrize(
    ("old", "new", "needle", "text"),
    [
        (
            "      kind: integer\n" if False else "    revenue:\n      kind: money\n",
            "    revenue:\n      kind: currency\n",
            "kind: currency",
            "kind: expected one of text, id, boolean",
        ),
        (
            "      fact: revenue(company, year, value)",
            "      fact: revenue(company, year, amount)",
            "fact: revenue(company, year, amount)",
            "argument amount is not one of company, year, value",
        ),
        (
            "      fact: rd_spend(company, year, value)",
            "      fact: revenue(company, year, value)",
            "fact: revenue(company, year, value)\n",
            "revenue/3 is written by two fields",
        ),
        (
            "      fact: rd_spend(company, year, value)",
            "      fact: revenue(company, value)",
            "fact: revenue(company, value)",
            "revenue is written with 2 and with 3 arguments",
        ),
        ("values: [new, expansion]", "values: []", "values: []", "values: expected a list of lower-case names"),
        (
            "        model: {kind: text, required: false,",
            "        model: {kind: text, requird: false,",
            "requird",
            "unknown key 'requird'",
        ),
        (
            "      fact: llm_filing(company, key, year)",
            "      fact: llm_filing(company, key, year, model)",
            "fact: llm_filing(company, key, year, model)",
            "reads the optional field model; give it absent:",
        ),
        (
            "          when: {program: corpus_voucher}",
            "          when: {program: corpus}",
            "when: {program: corpus}",
            "'corpus' is not a value of program",
        ),
        (
            '          when: {item: "2.2.b"}',
            '          when: {item: "2.22"}',
            'when: {item: "2.22"}',
            "'2.22' is not an item of policy.yaml",
        ),
        (
            "    key_fields:\n",
            "    revenue:\n      kind: money\n    key_fields:\n",
            "    revenue:\n",
            "enterprise.fields.revenue: 键重复：同一映射中每个键只能出现一次（首次在第",
        ),
        ("      pattern: '[a-z]+'", "      pattern: '[a-z'", "pattern: '[a-z'", "pattern: not a regular expression"),
        (
            "      kind: money\n      by_year: true\n      label: {zh: 年度营业收入",
            "      kind: money\n      by_year: true\n      list: true\n      label: {zh: 年度营业收入",
            "    revenue:",
            "give at most one of list, by_year, records",
        ),
        (
            "      fact: industry_division(company, prefix(value, 2))",
            "      fact: industry_division(company, prefix(value, 0))",
            "prefix(value, 0)",
            "prefix(NAME, N) takes a name and a count",
        ),
        (
            "      kind: boolean\n      label: {zh: 财务管理制度健全",
            "      kind: integer\n      min: 1.5\n      label: {zh: 财务管理制度健全",
            "min: 1.5",
            "min: expected an integer",
        ),
    ],
)
def test_schema_mistakes_name_the_line(tmp_path: Path, old: str, new: str, needle: str, text: str) -> None:
    root = copy_policy(tmp_path)
    edit_inputs(root, old, new)
    err = policy_error(root)
    assert err.file is not None and Path(err.file) == root / "inputs.yaml" and text in err.text, err.message()
    wanted = line_of(root, needle.strip("\n").split("\n")[-1])
    assert err.line == wanted, (err.line, wanted, err.message())


def test_a_missing_or_broken_schema_is_a_policy_error(tmp_path: Path) -> None:
    root = copy_policy(tmp_path)
    (root / "inputs.yaml").write_bytes(b"enterprise: [\n")
    assert "YAML syntax error" in policy_error(root).text
    (root / "inputs.yaml").write_bytes(b"\xff\xfe")
    assert "UTF-8" in policy_error(root).text
    (root / "inputs.yaml").unlink()
    assert "inputs.yaml is missing" in policy_error(root).text
    result = CliRunner().invoke(main, ["evaluate", "--policy", str(root), str(ROOT / "facts" / "companies.yaml")])
    assert result.exit_code == 1 and "inputs.yaml" in result.output and "internal error" not in result.output


def test_inputs_decide_results_so_they_are_in_the_digest(tmp_path: Path) -> None:
    root = copy_policy(tmp_path)
    before = load_policy(root).digest
    edit_inputs(root, "label: {zh: 企业名称, en: enterprise name}", "label: {zh: 企业名称, en: the enterprise's name}")
    assert load_policy(root).digest != before


def test_check_compares_the_schema_with_the_rules_declarations(tmp_path: Path) -> None:
    from fuchi.drafting.checker import check_policy

    root = copy_policy(tmp_path)
    schema_lp = root / "rules" / "00-schema.lp"
    text = schema_lp.read_text(encoding="utf-8")
    schema_lp.write_text(text.replace("#defined good_credit/1.", "% (removed)", 1), encoding="utf-8")
    found = [f for f in check_policy(root) if f.code == "inputs"]
    assert [(Path(f.file).name, f.line, f.severity) for f in found] == [
        ("inputs.yaml", line_of(root, "fact: good_credit(company)"), "warning")
    ]
    assert "good_credit/1" in found[0].message and "#defined good_credit/1." in found[0].hint
    schema_lp.write_text(text + "\nfraud(C) :- company(C), market_violation(C).\n", encoding="utf-8")
    found = [f for f in check_policy(root) if f.code == "inputs"]
    assert found and found[0].severity == "error" and found[0].line == line_of(root, "fact: fraud(company)")


GENERIC_FIELDS = """    listed:
      kind: boolean
      label: {zh: 上市, en: listed}
      fact: listed(company, value)
    staff:
      kind: integer
      min: 0
      label: {zh: 员工数, en: staff}
      fact: staff(company, value)
    grants:
      label: {zh: 资助, en: grants}
      records:
        code: {kind: text, pattern: '[A-Z]{2}[0-9]+', fact: 'grant_area(company, key, prefix(value, 2))'}
        kind: {kind: enumeration, values: [cash, loan]}
        rate: {kind: decimal, min: 0, max: 1, when: {kind: loan}, required: false, absent: none}
        note: {kind: text, required: false}
      fact: grant(company, key, kind, rate)
"""


def test_every_shape_of_field_becomes_the_declared_facts(tmp_path: Path) -> None:
    """A boolean written as true/false, a 0 that is still a fact, a prefix, an optional amount as none."""
    from decimal import Decimal

    root = copy_policy(tmp_path)
    edit_inputs(root, "    honours:\n", GENERIC_FIELDS + "    honours:\n")
    policy = load_policy(root)
    kinds = policy.schema.predicates()
    assert kinds[("grant", 4)] == ["company", "key", "constant", "decimal|none"]
    assert kinds[("grant_area", 3)] == ["company", "key", "string"]
    assert kinds[("listed", 2)] == ["company", "constant"]
    grants = [
        {"code": "SH12", "kind": "cash"},
        {"code": "BJ1", "kind": "loan", "rate": Decimal("0.25")},
        {"code": "BJ2", "kind": "loan", "note": "x"},
    ]
    doc = {"id": "A", "listed": False, "staff": 0, "grants": grants}
    co = loader.parse_company(doc, "f", 0, None, policy.schema)
    facts: list[tuple[str, str]] = []
    company_facts(0, co, lambda sym, path: facts.append((str(sym), path)), policy.schema)
    assert facts == [
        ("company(c(0))", "id"),
        ("listed(c(0),false)", "listed"),
        ("staff(c(0),0)", "staff"),
        ("grant(c(0),0,cash,none)", "grants[0]"),
        ('grant_area(c(0),0,"SH")', "grants[0].code"),
        ("grant(c(0),1,loan,d(0,250,0,0))", "grants[1]"),
        ('grant_area(c(0),1,"BJ")', "grants[1].code"),
        ("grant(c(0),2,loan,none)", "grants[2]"),
        ('grant_area(c(0),2,"BJ")', "grants[2].code"),
    ]
    bad = [
        ({"grants": [{"code": "x", "kind": "cash"}]}, "grants[0].code: 应为匹配 [A-Z]{2}[0-9]+ 的文本"),
        ({"grants": [{"code": "SH1", "kind": "cash", "rate": 0}]}, "grants[0].rate: 只有 loan 记录有此字段"),
        ({"grants": [{"code": "SH1", "kind": "loan", "rate": 2}]}, "grants[0].rate: 应为 0 至 1 之间的数"),
        ({"staff": -1}, "staff: 应为 0 至 2147483647 之间的整数"),
    ]
    for fields, message in bad:
        with pytest.raises(InputError) as info:
            loader.parse_company({"id": "A", **fields}, "f", 0, None, policy.schema)
        assert message in str(info.value)


def test_a_schema_tolerates_what_another_policy_of_the_run_declares(tmp_path: Path) -> None:
    """diff of a draft with new inputs: the base accepts (and ignores) them, a name nobody declares is refused."""
    root = copy_policy(tmp_path)
    edit_inputs(
        root,
        "        cost: {kind: money, adjustable: true, label: {zh: 活动费用, en: cost}}\n",
        "        cost: {kind: money, adjustable: true, label: {zh: 活动费用, en: cost}}\n"
        "        online: {kind: boolean, required: false, label: {zh: 线上举办, en: held online}}\n",
    )
    edit_inputs(
        root,
        "    honours:\n",
        "    staff:\n      kind: integer\n      min: 0\n      label: {zh: 员工人数, en: staff}\n    honours:\n",
    )
    base, draft = load_policy(SHIPPED).schema, load_policy(root).schema
    line = (
        '{"id": "E1", "staff": 12, "events": [{"id": "e1", "year": 2026, "kind": "forum", "cost": 1000, '
        '"online": true}]}'
    )
    with pytest.raises(InputError, match="staff"):
        loader.parse_jsonl_line(line, "x.jsonl", 1, base)
    tolerant = base.tolerating([draft])
    assert tolerant.tolerated == ("staff",) and tolerant.tolerated_records == (("events", ("online",)),)
    co = loader.parse_jsonl_line(line, "x.jsonl", 1, tolerant)
    assert "staff" not in co.values and "online" not in co.events[0]  # ignored by the base
    drafted = loader.parse_jsonl_line(line, "x.jsonl", 1, draft.tolerating([base]))
    assert drafted.values["staff"] == 12 and drafted.events[0]["online"] is True
    with pytest.raises(InputError, match="stafff"):
        loader.parse_jsonl_line(line.replace('"staff"', '"stafff"'), "x.jsonl", 1, tolerant)
    assert base.tolerating([base]) is base

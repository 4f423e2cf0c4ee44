"""Strict reading of the input contract (shared/spec/company-data.md; ruling W3 on money)."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from fuchi.errors import InputError
from fuchi.inputs import loader
from fuchi.inputs.records import MAX_RECORDS, City, Company

CONTRACT_EXAMPLE = """\
city:                              # published city figures
  avg_growth: {2025: 0.095, 2026: 0.102, 2027: 0.10}   # software & IT services revenue growth, Shanghai

companies:
  - id: 91310230MA1K00001X         # unified social credit code (统一社会信用代码); unique; any string
    name: 上海示例智能科技有限公司    # free text; may hold quotes, backslashes, newlines, any Unicode
    registered_in: chongming       # district of registration
    industry_code: "6513"          # GB/T 4754-2017 code
    sound_finance: true            # 财务管理制度健全
    good_credit: true              # 信用良好
    fits_direction: true           # 符合本区数字产业化发展导向
    fraud: false                   # 3.2, found to have obtained support by fraud
    market_violation: false        # 3.2, violates unified-market / investment-attraction rules
    key_enterprise: true           # 重点企业 (district designation), for 2.8
    key_fields: [ai]               # ai | metaverse | software_algorithms | computing_center | blockchain
    honours:                       # 2.1.b; lists are published yearly
      - {year: 2026, list: sh_top100}   # list: national_key_software | sh_top100 | sh_high_growth_top100
    revenue: {2024: 15000000, 2025: 18000000, 2026: 125000000.50}
    rd_spend: {2026: 9000000}
    city_support:                  # city-level grants received (basis of the 1:x matching items)
      - {year: 2026, program: industry_quality_fund, amount: 4000000}        # 2.1.a
      - {year: 2026, program: digital_transformation_fund, amount: 600000}   # 2.3
      - {year: 2026, program: compute_voucher, amount: 1000000}              # 2.4.a
      - {year: 2026, program: model_voucher, amount: 300000}                 # 2.5.a
      - {year: 2026, program: corpus_voucher, amount: 500000, related_party: false}   # 2.6
    compute_projects:              # 2.4.b
      - {id: dc-1, year: 2026, kind: new, pflops: 2400, pue: 1.22, cost: 180000000}  # kind: new | expansion
    llm_filings:                   # 2.5.b
      - {year: 2026, model: 示例大模型}
    ic_purchases:                  # 2.7.a
      - {id: eda-1, year: 2026, kind: eda, amount: 3000000}                   # kind: ip | eda
    own_ip:                        # 2.7.b
      - {id: ip-1, year: 2026, first_batch_amount: 2000000}
    events:                        # 2.9
      - {id: ev-1, year: 2026, kind: summit, cost: 800000}    # summit | competition | forum | exhibition
    showcase_centres:              # 2.10
      - {id: sc-1, year: 2026, in_shanghai: true, cost: 3000000}
    prior_awards:                  # one-time items already received (this or an earlier version)
      - {item: "2.2.a", year: 2025}
      - {item: "2.2.b", year: 2025, tier: 100000000}                         # tier required for 2.2.b
    other_support:                 # 3.4: another district policy supports the same item
      - {item: "2.9", year: 2026, policy: 崇明区会展扶持办法, amount: 400000}
    assessments:                   # P1: outcome of the comprehensive assessment
      - {item: "2.8", year: 2026, decision: approved, amount: 1500000}        # decision: approved | rejected
"""

MONEY = "应为不小于 0 的金额（元，最多两位小数） / expected a non-negative amount in yuan with at most two decimals"
RANGE = "金额超出支持范围（最多 1000000000000 元） / amount outside the supported range (at most 1000000000000 yuan)"
BOOL = "应为 true 或 false / expected true or false"


def write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def one(tmp_path: Path, body: str, name: str = "c.yaml") -> Company:
    """Read a YAML file holding one enterprise (``body`` is its mapping, indented by 4)."""
    _, companies = loader.read_document(write(tmp_path, name, "companies:\n  - id: X1\n" + body))
    assert len(companies) == 1
    return companies[0]


def error_of(tmp_path: Path, body: str) -> str:
    with pytest.raises(InputError) as info:
        one(tmp_path, body)
    return str(info.value)


def company(**fields: Any) -> dict[str, Any]:
    return {"id": "X1", **fields}


def parse_error(obj: object, file: str = "f.yaml", index: int = 0) -> InputError:
    with pytest.raises(InputError) as info:
        loader.parse_company(obj, file, index)
    return info.value


# ---- the contract example -----------------------------------------------------------------------------


def test_contract_example_parses_exactly(tmp_path: Path) -> None:
    path = write(tmp_path, "example.yaml", CONTRACT_EXAMPLE)
    city, companies = loader.read_document(path)
    assert city is not None
    assert city.avg_growth == {2025: Decimal("0.095"), 2026: Decimal("0.102"), 2027: Decimal("0.1")}
    assert str(city.avg_growth[2027]) == "0.1"
    assert city.sources == {f"city.avg_growth.{y}": path for y in (2025, 2026, 2027)}
    [co] = companies
    assert (co.id, co.file, co.index, co.line) == ("91310230MA1K00001X", path, 0, None)
    assert co.name == "上海示例智能科技有限公司"
    assert (co.registered_in, co.industry_code) == ("chongming", "6513")
    assert (co.sound_finance, co.good_credit, co.fits_direction, co.key_enterprise) == (True,) * 4
    assert (co.fraud, co.market_violation) == (False, False)
    assert co.key_fields == ["ai"]
    assert co.revenue == {2024: 1_500_000_000, 2025: 1_800_000_000, 2026: 12_500_000_050}
    assert co.rd_spend == {2026: 900_000_000}
    assert [(s.program, s.amount, s.related_party) for s in co.city_support] == [
        ("industry_quality_fund", 400_000_000, None),
        ("digital_transformation_fund", 60_000_000, None),
        ("compute_voucher", 100_000_000, None),
        ("model_voucher", 30_000_000, None),
        ("corpus_voucher", 50_000_000, False),
    ]
    [p] = co.compute_projects
    assert (p.id, p.year, p.kind, p.pflops, p.pue, p.cost) == (
        "dc-1",
        2026,
        "new",
        Decimal(2400),
        Decimal("1.22"),
        18_000_000_000,
    )
    assert str(p.pflops) == "2400"
    assert co.llm_filings[0].model == "示例大模型"
    assert (co.ic_purchases[0].kind, co.ic_purchases[0].amount) == ("eda", 300_000_000)
    assert co.own_ip[0].first_batch_amount == 200_000_000
    assert (co.events[0].kind, co.events[0].cost) == ("summit", 80_000_000)
    assert (co.showcase_centres[0].in_shanghai, co.showcase_centres[0].cost) == (True, 300_000_000)
    assert [(a.item, a.year, a.tier, a.project) for a in co.prior_awards] == [
        ("2.2.a", 2025, None, None),
        ("2.2.b", 2025, 10_000_000_000, None),
    ]
    assert (co.other_support[0].policy, co.other_support[0].amount) == ("崇明区会展扶持办法", 40_000_000)
    assert [(a.item, a.decision, a.amount) for a in co.assessments] == [("2.8", "approved", 150_000_000)]
    assert [(h.year, h.list) for h in co.honours] == [(2026, "sh_top100")]


def test_contract_example_as_json_reads_the_same(tmp_path: Path) -> None:
    doc = loader.load_yaml(CONTRACT_EXAMPLE, "example.yaml")
    text = json.dumps(doc, default=str, ensure_ascii=False)  # Decimals as strings: fix them up below
    text = text.replace('"125000000.50"', "125000000.50").replace('"1.22"', "1.22")
    for g in ("0.095", "0.102", "0.10"):
        text = text.replace(f'"{g}"', g)
    path = write(tmp_path, "example.json", text)
    city, [co] = loader.read_document(path)
    assert city is not None and city.avg_growth[2027] == Decimal("0.1")
    assert co.revenue[2026] == 12_500_000_050
    assert co.compute_projects[0].pue == Decimal("1.22")


# ---- money (ruling W3) --------------------------------------------------------------------------------


def test_money_limits_exact(tmp_path: Path) -> None:
    co = one(tmp_path, "    revenue: {2026: 999999999999.99, 2027: 1000000000000, 2025: 0, 2024: 0.01}\n")
    assert co.revenue == {2026: 99_999_999_999_999, 2027: 10**14, 2025: 0, 2024: 1}
    msg = error_of(tmp_path, "    revenue: {2026: 1000000000000.01}\n")
    assert msg.endswith(f"字段 field revenue.2026: {RANGE}, got 1000000000000.01")


def test_money_limits_json(tmp_path: Path) -> None:
    path = write(tmp_path, "m.json", '{"companies": [{"id": "J", "rd_spend": {"2026": 999999999999.99}}]}')
    assert loader.read_document(path)[1][0].rd_spend == {2026: 99_999_999_999_999}
    path = write(tmp_path, "m.json", '{"companies": [{"id": "J", "rd_spend": {"2026": 1000000000001}}]}')
    with pytest.raises(InputError) as info:
        loader.read_document(path)
    assert str(info.value) == f"{path}: 企业 enterprise 'J': 字段 field rd_spend.2026: {RANGE}, got 1000000000001"


def test_negative_money_exact_message(tmp_path: Path) -> None:
    path = str(tmp_path / "c.yaml")
    msg = error_of(tmp_path, "    events: [{id: e, year: 2026, kind: forum, cost: -5}]\n")
    assert msg == f"{path}: 企业 enterprise 'X1': 字段 field events[0].cost: {MONEY}, got -5"


def test_three_decimals_rejected(tmp_path: Path) -> None:
    msg = error_of(tmp_path, "    revenue: {2026: 1.005}\n")
    assert msg.endswith(f"字段 field revenue.2026: {MONEY}, got 1.005")
    # trailing zeros are not decimals that matter
    assert one(tmp_path, "    revenue: {2026: 1.5000}\n").revenue == {2026: 150}


def test_bool_is_not_a_number(tmp_path: Path) -> None:
    msg = error_of(tmp_path, "    city_support: [{year: 2026, program: model_voucher, amount: true}]\n")
    assert msg.endswith(f"字段 field city_support[0].amount: {MONEY}, got true")
    err = parse_error(company(revenue={2026: True}))
    assert err.field == "revenue.2026"


@pytest.mark.parametrize("value", ["'100'", "1_000", "0x1F", "1e400", "null"])
def test_money_non_numbers_rejected(tmp_path: Path, value: str) -> None:
    msg = error_of(tmp_path, f"    revenue: {{2026: {value}}}\n")
    assert "revenue.2026" in msg


def test_binary_float_rejected() -> None:
    err = parse_error(company(revenue={2026: 1.5}))
    assert err.expected == (
        "应为精确的十进制数，不接受二进制浮点数（请用 fuchi.inputs.loader 读取 YAML/JSON） / "
        "expected an exact decimal, not a binary float (read YAML/JSON with fuchi.inputs.loader), got 1.5"
    )


def test_whole_yuan_fields(tmp_path: Path) -> None:
    msg = error_of(tmp_path, "    assessments: [{item: '2.8', year: 2026, decision: approved, amount: 1500000.50}]\n")
    assert msg.endswith(
        "字段 field assessments[0].amount: 应为不小于 0 的整元金额 / "
        "expected a non-negative amount in whole yuan, "
        "got 1500000.50"
    )
    msg = error_of(tmp_path, "    prior_awards: [{item: '2.2.b', year: 2025, tier: 0}]\n")
    assert msg.endswith("prior_awards[0].tier: 应为大于 0 的整元金额 / expected an amount in whole yuan above 0, got 0")
    co = one(tmp_path, "    assessments: [{item: '2.8', year: 2026, decision: approved, amount: 0}]\n")
    assert co.assessments[0].amount == 0


# ---- non-money decimals -------------------------------------------------------------------------------


def test_decimals(tmp_path: Path) -> None:
    body = "    compute_projects: [{id: p, year: 2026, kind: new, pflops: 2000.000001, pue: 1.250, cost: 0}]\n"
    p = one(tmp_path, body).compute_projects[0]
    assert (p.pflops, str(p.pue)) == (Decimal("2000.000001"), "1.25")
    body = "    compute_projects: [{id: p, year: 2026, kind: new, pflops: 1, pue: 1.2500001, cost: 0}]\n"
    assert error_of(tmp_path, body).endswith(
        "compute_projects[0].pue: 应为不小于 0 的数（最多 6 位小数） / "
        "expected a non-negative number with at most 6 decimals, got 1.2500001"
    )
    body = "    compute_projects: [{id: p, year: 2026, kind: new, pflops: -1, pue: 1, cost: 0}]\n"
    assert "compute_projects[0].pflops" in error_of(tmp_path, body)


def test_city_growth_may_be_negative() -> None:
    city = loader.parse_city({"avg_growth": {2026: Decimal("-0.05"), "2027": 0}}, "city.yaml")
    assert city.avg_growth == {2026: Decimal("-0.05"), 2027: Decimal(0)}
    with pytest.raises(InputError) as info:
        loader.parse_city({"avg_growth": {2026: Decimal("1E+13")}}, "city.yaml")
    assert str(info.value) == (
        "city.yaml: 文件 file: 字段 field city.avg_growth.2026: "
        "数值超出支持范围（绝对值最大 1000000000000） / "
        "number outside the supported range (absolute value at most 1000000000000), got 1E+13"
    )


# ---- NaN and infinities -------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["NaN", "Infinity", "-Infinity"])
def test_json_nan_infinity_rejected(tmp_path: Path, value: str) -> None:
    path = write(tmp_path, "n.json", f'{{"companies": [{{"id": "J", "revenue": {{"2026": {value}}}}}]}}')
    with pytest.raises(InputError) as info:
        loader.read_document(path)
    assert str(info.value) == f"{path}: 企业 enterprise 'J': 字段 field revenue.2026: {MONEY}, got {value}"


@pytest.mark.parametrize("value", [".nan", ".NaN", ".inf", "-.inf", "+.INF"])
def test_yaml_nan_infinity_rejected(tmp_path: Path, value: str) -> None:
    msg = error_of(tmp_path, f"    revenue: {{2026: {value}}}\n")
    assert "字段 field revenue.2026: " in msg
    with pytest.raises(InputError):
        loader.read_document(write(tmp_path, "g.yaml", f"city: {{avg_growth: {{2026: {value}}}}}\n"))


# ---- YAML 1.1 surprises -------------------------------------------------------------------------------


def test_yaml_yes_stays_a_string(tmp_path: Path) -> None:
    co = one(tmp_path, "    registered_in: yes\n    name: no\n    industry_code: 0651\n")
    assert (co.registered_in, co.name, co.industry_code) == ("yes", "no", "0651")
    path = str(tmp_path / "c.yaml")
    assert error_of(tmp_path, "    sound_finance: yes\n") == (
        f"{path}: 企业 enterprise 'X1': 字段 field sound_finance: {BOOL}, got 'yes'"
    )
    assert one(tmp_path, "    fraud: TRUE\n    good_credit: False\n").fraud is True


def test_yaml_dates_and_odd_ints_stay_strings() -> None:
    doc = loader.load_yaml("a: 2026-01-01\nb: 0o7\nc: 0x1F\nd: 1_000\ne: 2026\nf: 1e3\ng: ~\n", "x.yaml")
    assert doc == {
        "a": "2026-01-01",
        "b": "0o7",
        "c": "0x1F",
        "d": "1_000",
        "e": 2026,
        "f": Decimal("1E+3"),
        "g": None,
    }


def test_registered_in_and_industry_code(tmp_path: Path) -> None:
    assert one(tmp_path, "    industry_code: 6513\n").industry_code == "6513"
    assert error_of(tmp_path, "    registered_in: Chongming\n").endswith(
        "字段 field registered_in: 应为小写拼音区名（仅字母 a-z，如 chongming） / "
        "expected a lower-case pinyin district name (letters a-z only, e.g. chongming), got 'Chongming'"
    )
    assert "industry_code" in error_of(tmp_path, "    industry_code: '6'\n")
    assert "industry_code" in error_of(tmp_path, "    industry_code: 1234567\n")


# ---- unknown fields, types, enums ---------------------------------------------------------------------


def test_unknown_top_level_field_exact(tmp_path: Path) -> None:
    path = str(tmp_path / "c.yaml")
    assert error_of(tmp_path, "    revenu: {2026: 1}\n") == (
        f"{path}: 企业 enterprise 'X1': 字段 field revenu: 未知字段（允许的字段：id, name, registered_in, "
        "industry_code, sound_finance, good_credit, fits_direction, fraud, market_violation, key_enterprise, "
        "key_fields, honours, revenue, rd_spend, city_support, compute_projects, llm_filings, ic_purchases, "
        "own_ip, events, showcase_centres, prior_awards, other_support, assessments） / "
        "unknown field (allowed: "
        "id, name, registered_in, industry_code, sound_finance, good_credit, fits_direction, fraud, "
        "market_violation, key_enterprise, key_fields, honours, revenue, rd_spend, city_support, "
        "compute_projects, llm_filings, ic_purchases, own_ip, events, showcase_centres, prior_awards, "
        "other_support, assessments), got 'revenu'"
    )


def test_unknown_record_field_exact(tmp_path: Path) -> None:
    path = str(tmp_path / "c.yaml")
    assert error_of(tmp_path, "    events: [{id: e, year: 2026, kind: forum, cost: 1, costs: 2}]\n") == (
        f"{path}: 企业 enterprise 'X1': 字段 field events[0].costs: "
        "未知字段（允许的字段：id, year, kind, cost） / "
        "unknown field (allowed: id, year, kind, cost), got 'costs'"
    )


def test_unknown_document_and_city_fields(tmp_path: Path) -> None:
    path = write(tmp_path, "d.yaml", "company: []\n")
    with pytest.raises(InputError) as info:
        loader.read_document(path)
    assert str(info.value) == (
        f"{path}: 文件 file: 字段 field company: 未知字段（允许的字段：city, companies） / "
        "unknown field (allowed: city, companies), got 'company'"
    )
    with pytest.raises(InputError) as info:
        loader.parse_city({"growth": {}}, "c.yaml")
    assert info.value.field == "city.growth"


@pytest.mark.parametrize(
    ("body", "field", "options", "got"),
    [
        ("    events: [{id: e, year: 2026, kind: party, cost: 1}]\n", "events[0].kind",
         "summit, competition, forum, exhibition", "'party'"),
        ("    honours: [{year: 2026, list: top10}]\n", "honours[0].list",
         "national_key_software, sh_top100, sh_high_growth_top100", "'top10'"),
        ("    key_fields: [AI]\n", "key_fields[0]",
         "ai, metaverse, software_algorithms, computing_center, blockchain", "'AI'"),
        ("    ic_purchases: [{id: i, year: 2026, kind: 1, amount: 1}]\n", "ic_purchases[0].kind",
         "ip, eda", "1"),
        ("    assessments: [{item: '2.8', year: 2026, decision: ok}]\n", "assessments[0].decision",
         "approved, rejected", "'ok'"),
    ],
)  # fmt: skip
def test_unknown_enum_values(tmp_path: Path, body: str, field: str, options: str, got: str) -> None:
    assert error_of(tmp_path, body).endswith(
        f"字段 field {field}: 应为以下之一：{options} / expected one of: {options}, got {got}"
    )


def test_item_must_be_a_quoted_clause_id(tmp_path: Path) -> None:
    assert error_of(tmp_path, "    other_support: [{item: 2.10, year: 2026, policy: p, amount: 1}]\n").endswith(
        '字段 field other_support[0].item: 应为加引号的条款编号，如 "2.9" / '
        'expected a clause id as a quoted string, e.g. "2.9", got 2.10'
    )
    assert "应为以下之一：2.1.a, 2.1.b" in error_of(
        tmp_path, "    other_support: [{item: '2.11', year: 2026, policy: p, amount: 1}]\n"
    )


def test_years(tmp_path: Path) -> None:
    assert error_of(tmp_path, "    honours: [{year: '2026', list: sh_top100}]\n").endswith(
        "字段 field honours[0].year: 应为 1900 至 2200 之间的整数年份 / "
        "expected a year from 1900 to 2200 as an integer, got '2026'"
    )
    assert "revenue" in error_of(tmp_path, "    revenue: {'２０２６': 1}\n")  # full-width digits
    assert "revenue" in error_of(tmp_path, "    revenue: {1899: 1}\n")
    assert "honours[0].year" in error_of(tmp_path, "    honours: [{year: true, list: sh_top100}]\n")


def test_duplicate_year_keys(tmp_path: Path) -> None:
    path = str(tmp_path / "c.yaml")
    assert error_of(tmp_path, "    revenue: {2026: 1, '2026': 2}\n") == (
        f"{path}: 企业 enterprise 'X1': 字段 field revenue.2026: 同一年份出现两次 / "
        "the same year is given twice, got 2026 and '2026'"
    )


_DUP = "键重复：同一映射中每个键只能出现一次"
_DUP_EN = "duplicate key: each key at most once in a mapping"


def dup(first: int | None = None) -> str:
    """The expected text of a duplicate key (``first``: the line of the first occurrence, when shown)."""
    if first is None:
        return f"{_DUP} / {_DUP_EN}"
    return f"{_DUP}（首次在第 {first} 行） / {_DUP_EN} (first at line {first})"


@pytest.mark.parametrize(
    ("name", "text", "where", "who", "field", "got"),
    [
        # YAML: a field of an enterprise, a year of a by-year map, a field of a record, a city figure.
        ("d.yaml", "companies:\n  - id: A\n    name: x\n    name: y\n", 4, "A", "name", f"{dup(3)}, got 'name'"),
        ("d.yaml", "companies:\n  - id: A\n    revenue: {2026: 1, 2026: 2}\n", 3, "A", "revenue.2026",
         f"{dup()}, got 2026"),
        (
            "d.yaml",
            "companies:\n  - id: A\n  - id: B\n    events:\n      - {id: e, year: 2026}\n"
            "      - id: f\n        cost: 1\n        cost: 2\n",
            8, "B", "events[1].cost", f"{dup(7)}, got 'cost'",
        ),
        ("d.yaml", "city:\n  avg_growth: {2025: 0.1, 2025: 0.2}\n", 2, None, "city.avg_growth.2025",
         f"{dup()}, got 2025"),
        # No usable id: the enterprise is named by its position.
        ("d.yaml", "companies:\n  - id: A\n  - id: B\n    id: C\n", 4, None, "companies[1].id", f"{dup(3)}, got 'id'"),
        ("d.yaml", "companies:\n  - name: x\n    revenue: {2026: 1, 2026: 2}\n", 3, None,
         "companies[0].revenue.2026", f"{dup()}, got 2026"),
        ("d.yaml", "city: {}\ncity: {}\n", 2, None, "city", f"{dup(1)}, got 'city'"),
        # JSON: the same places, the lines found too.
        ("d.json", '{"companies": [{"id": "A", "revenue": {"2026": 1, "2026": 2}}]}', 1, "A", "revenue.2026",
         f"{dup()}, got '2026'"),
        (
            "d.json",
            '{"companies": [\n {"id": "A"},\n {"id": "B",\n  "events": [{"id": "e"},\n'
            '   {"id": "f", "cost": 1,\n    "cost": 2}]}]}',
            6, "B", "events[1].cost", f"{dup(5)}, got 'cost'",
        ),
        ("d.json", '{"companies": [{"id": "A"}, {"id": "A", "id": "B"}]}', 1, None, "companies[1].id",
         f"{dup()}, got 'id'"),
        ("d.json", '{"city": {"avg_growth": {"2025": 0.1,\n "2025": 0.2}}}', 2, None, "city.avg_growth.2025",
         f"{dup(1)}, got '2025'"),
        # JSON Lines: the line is the enterprise's.
        ("d.jsonl", '{"id": "A"}\n{"id": "B", "revenue": {"2026": 1, "2026": 2}}\n', 2, "B", "revenue.2026",
         f"{dup()}, got '2026'"),
        ("d.jsonl", '{"id": "A", "name": "x", "name": "y"}\n', 1, "A", "name", f"{dup()}, got 'name'"),
        ("d.jsonl", '{"id": "A"}\n\n{"id": "B", "events": [{"id": "e", "cost": 1, "cost": 2}]}\n', 3, "B",
         "events[0].cost", f"{dup()}, got 'cost'"),
        ("d.jsonl", '{"id": "C", "id": "D"}\n', 1, None, "id", f"{dup()}, got 'id'"),
    ],
)  # fmt: skip
def test_duplicate_keys_name_the_enterprise_and_field(
    tmp_path: Path, name: str, text: str, where: int, who: str | None, field: str, got: str
) -> None:
    path = write(tmp_path, name, text)
    with pytest.raises(InputError) as info:
        loader.read_document(path)
    err = info.value
    assert (err.file, err.line, err.company, err.field) == (path, where, who, field)
    assert err.expected == f"{got} twice"
    person = f"企业 enterprise {who!r}" if who is not None else "文件 file"
    assert str(err) == f"{path}:{where}: {person}: 字段 field {field}: {got} twice"


def test_duplicate_keys_in_policy_files(tmp_path: Path) -> None:
    import shutil

    from fuchi.errors import PolicyError
    from fuchi.policy import default_policy_dir, load_policy

    root = tmp_path / "policy"
    shutil.copytree(default_policy_dir(), root)
    params = root / "parameters.yaml"
    lines = params.read_text(encoding="utf-8").splitlines(keepends=True)
    at = next(n for n, line in enumerate(lines) if line.startswith("registered_district:"))
    clause = next(n for n in range(at, len(lines)) if lines[n].startswith("  clause:"))
    lines.insert(clause + 1, '  clause: "9"\n')
    params.write_text("".join(lines), encoding="utf-8")
    with pytest.raises(PolicyError) as info:
        load_policy(root)
    assert (info.value.file, info.value.line) == (str(params), clause + 2)
    assert info.value.text == (f"registered_district.clause: {dup(clause + 1)}, got 'clause' twice")
    meta = root / "policy.yaml"
    meta.write_text(meta.read_text(encoding="utf-8") + "id: again\n", encoding="utf-8")
    with pytest.raises(PolicyError) as info:
        load_policy(root)
    assert info.value.file == str(meta) and info.value.text.startswith("id: 键重复")


def test_lists_and_maps_must_be_lists_and_maps(tmp_path: Path) -> None:
    assert error_of(tmp_path, "    events:\n").endswith("字段 field events: 应为列表 / expected a list, got null")
    assert error_of(tmp_path, "    revenue: [1]\n").endswith(
        "字段 field revenue: 应为映射（键: 值） / expected a mapping (key: value), got [1]"
    )
    assert "events[0]: 应为映射（一条记录）" in error_of(tmp_path, "    events: [e1]\n")
    co = one(tmp_path, "    events: []\n    revenue: {}\n    key_fields: []\n")
    assert (co.events, co.revenue, co.key_fields) == ([], {}, [])


def test_too_many_records() -> None:
    events = [{"id": f"e{k}", "year": 2026, "kind": "forum", "cost": 1} for k in range(MAX_RECORDS + 1)]
    err = parse_error(company(events=events))
    assert err.expected == (
        "列表最多 20000 条（此上限保证求和精确） / "
        "a list holds at most 20000 records (the limit keeps sums exact), "
        "got 20001 records"
    )
    assert len(loader.parse_company(company(events=events[:MAX_RECORDS]), "f", 0).events) == MAX_RECORDS


# ---- required and conditional fields ------------------------------------------------------------------


def test_required_fields(tmp_path: Path) -> None:
    assert error_of(tmp_path, "    events: [{id: e, year: 2026, kind: forum}]\n").endswith(
        "字段 field events[0].cost: 缺少必填字段 / required field is missing, "
        "got {'id': 'e', 'year': 2026, 'kind': 'forum'}"
    )
    co = one(tmp_path, "    llm_filings: [{year: 2026}]\n")
    assert co.llm_filings[0].model is None


def test_related_party_only_on_corpus_voucher(tmp_path: Path) -> None:
    assert "city_support[0].related_party: 缺少必填字段" in error_of(
        tmp_path, "    city_support: [{year: 2026, program: corpus_voucher, amount: 1}]\n"
    )
    assert error_of(
        tmp_path,
        "    city_support: [{year: 2026, program: model_voucher, amount: 1, related_party: false}]\n",
    ).endswith(
        "字段 field city_support[0].related_party: 只有 corpus_voucher 记录有此字段 / "
        "only corpus_voucher records take this field, got false"
    )
    assert "related_party: 应为 true 或 false" in error_of(
        tmp_path, "    city_support: [{year: 2026, program: corpus_voucher, amount: 1, related_party: no}]\n"
    )


def test_prior_award_tier_and_project(tmp_path: Path) -> None:
    co = one(tmp_path, "    prior_awards: [{item: '2.4.b', year: 2025, project: dc-1}]\n")
    assert co.prior_awards[0].project == "dc-1"
    assert "prior_awards[0].tier: 缺少必填字段" in error_of(
        tmp_path, "    prior_awards: [{item: '2.2.b', year: 2025}]\n"
    )
    assert "prior_awards[0].project: 缺少必填字段" in error_of(
        tmp_path, "    prior_awards: [{item: '2.4.b', year: 2025}]\n"
    )
    assert "prior_awards[0].tier: 只有 2.2.b 记录有此字段" in error_of(
        tmp_path, "    prior_awards: [{item: '2.2.a', year: 2025, tier: 20000000}]\n"
    )
    assert "prior_awards[0].project: 只有 2.4.b 记录有此字段" in error_of(
        tmp_path, "    prior_awards: [{item: '2.2.b', year: 2025, tier: 1, project: p}]\n"
    )


def test_assessments(tmp_path: Path) -> None:
    assert error_of(tmp_path, "    assessments: [{item: '2.9', year: 2026, decision: rejected, amount: 5}]\n").endswith(
        "assessments[0].amount: 只有 approved 的评审结果有金额 / only approved assessments take an amount, got 5"
    )
    assert "assessments[0].amount: 缺少必填字段" in error_of(
        tmp_path, "    assessments: [{item: '2.9', year: 2026, decision: approved}]\n"
    )
    body = (
        "    assessments:\n      - {item: '2.9', year: 2026, decision: rejected}\n"
        "      - {item: '2.9', year: 2026, decision: approved, amount: 1}\n"
    )
    assert error_of(tmp_path, body).endswith(
        "字段 field assessments[1]: 同一 (item, year) 至多一条评审结果，首条为 assessments[0] / "
        "at most one assessment per (item, year); the first is assessments[0], got ('2.9', 2026)"
    )
    body = (
        "    other_support:\n      - {item: '2.9', year: 2026, policy: a, amount: 1}\n"
        "      - {item: '2.9', year: 2026, policy: b, amount: 2}\n"
    )
    assert len(one(tmp_path, body).other_support) == 2


def test_duplicate_id_year_in_events(tmp_path: Path) -> None:
    path = str(tmp_path / "c.yaml")
    body = (
        "    events:\n      - {id: ev-1, year: 2026, kind: summit, cost: 1}\n"
        "      - {id: ev-1, year: 2027, kind: summit, cost: 1}\n"
        "      - {id: ev-1, year: 2026, kind: forum, cost: 2}\n"
    )
    assert error_of(tmp_path, body) == (
        f"{path}: 企业 enterprise 'X1': 字段 field events[2]: 同一列表中 (id, year) 重复，首条为 events[0] / "
        "the pair (id, year) is already given in events[0], got ('ev-1', 2026)"
    )


def test_duplicate_key_fields() -> None:
    err = parse_error(company(key_fields=["ai", "blockchain", "ai"]))
    assert (err.field, err.expected) == (
        "key_fields[2]",
        "重复的取值（首次在 key_fields[0]） / duplicate value (first at key_fields[0]), got 'ai'",
    )


# ---- strings ------------------------------------------------------------------------------------------


def test_nul_rejected(tmp_path: Path) -> None:
    path = str(tmp_path / "c.yaml")
    assert error_of(tmp_path, '    name: "a\\0b"\n') == (
        f"{path}: 企业 enterprise 'X1': 字段 field name: 文本不得包含 NUL 字符（\\x00） / "
        "text must not contain the NUL character (\\x00), got 'a\\x00b'"
    )
    err = parse_error({"id": "A\x00"}, "f.json", 3)
    assert (err.company, err.field) == (None, "companies[3]")
    err = parse_error(company(events=[{"id": "e\x00", "year": 2026, "kind": "forum", "cost": 1}]))
    assert err.field == "events[0].id"


NASTY = [
    "引号 \"双\" '单' \\ 反斜杠",
    "100% 完成 %s %d",
    "结束).",
    "换行\n第二行\r\n",
    "emoji 🚀👩‍💻",
    " ",
    "a" * 500,
]


@pytest.mark.parametrize("name", NASTY)
def test_names_kept_unchanged(tmp_path: Path, name: str) -> None:
    path = write(tmp_path, "n.json", json.dumps({"companies": [{"id": name, "name": name}]}))
    [co] = loader.read_document(path)[1]
    assert (co.id, co.name) == (name, name)
    quoted = json.dumps(name, ensure_ascii=False)  # a YAML double-quoted scalar
    path = write(tmp_path, "n.yaml", f"companies:\n  - id: {quoted}\n    name: {quoted}\n")
    [co] = loader.read_document(path)[1]
    assert (co.id, co.name) == (name, name)


def test_enterprise_id(tmp_path: Path) -> None:
    path = write(tmp_path, "i.yaml", "companies:\n  - {name: x}\n  - id: 12345\n")
    with pytest.raises(InputError) as info:
        loader.read_document(path)
    assert str(info.value) == (
        f"{path}: 文件 file: 字段 field companies[0]: 缺少企业 id / the enterprise has no id, got {{'name': 'x'}}"
    )
    err = parse_error({"id": 12345}, index=1)
    assert str(err) == (
        "f.yaml: 文件 file: 字段 field companies[1]: 企业 id 应为不含 NUL 的非空字符串 / "
        "the enterprise id must be a non-empty string without NUL, got 12345"
    )
    assert parse_error({"id": ""}).field == "companies[0]"
    assert "companies[0]: 应为映射（一个企业）" in str(parse_error(["id"]))


def test_long_values_are_truncated_in_messages() -> None:
    err = parse_error(company(name=["x" * 200]))
    got = err.expected.split(", got ", 1)[1]
    assert len(got) == 60 and got.endswith("…")


# ---- files and JSON Lines -----------------------------------------------------------------------------


def test_file_problems(tmp_path: Path) -> None:
    with pytest.raises(InputError) as info:
        loader.read_document(write(tmp_path, "c.txt", "x"))
    assert info.value.expected == (
        "未知的文件类型（应为 .yaml、.yml、.json、.jsonl 或 .xlsx） / "
        "unknown file type (expected .yaml, .yml, .json, .jsonl or .xlsx), got '.txt'"
    )
    missing = str(tmp_path / "missing.yaml")
    with pytest.raises(InputError) as info:
        loader.read_document(missing)
    assert str(info.value) == (
        f"{missing}: 文件 file: 字段 field (top level): 文件不存在或不可读 / file not found or not readable, "
        "got No such file or directory"
    )
    bad = tmp_path / "bad.yaml"
    bad.write_bytes(b"companies:\n  - id: \xff\n")
    with pytest.raises(InputError) as info:
        loader.read_document(str(bad))
    assert (
        str(info.value) == f"{bad}:2: 文件 file: 字段 field (top level): "
        "不是有效的 UTF-8 文本 / not valid UTF-8 text, got byte 0xff"
    )


def test_syntax_errors_give_lines(tmp_path: Path) -> None:
    path = write(tmp_path, "s.yaml", "companies:\n  - id: A\n    name: [x\n")
    with pytest.raises(InputError) as info:
        loader.read_document(path)
    assert info.value.line == 4 and "YAML 语法错误 / YAML syntax error" in info.value.expected
    path = write(tmp_path, "s.json", '{"companies": [\n {"id": "A",}\n]}')
    with pytest.raises(InputError) as info:
        loader.read_document(path)
    assert str(info.value) == (
        f"{path}:2: 文件 file: 字段 field (top level): JSON 语法错误 / JSON syntax error: "
        "Expecting property name enclosed in double quotes (column 13)"
    )


def test_document_shape(tmp_path: Path) -> None:
    assert loader.read_document(write(tmp_path, "e.yaml", "{}\n")) == (None, [])
    with pytest.raises(InputError) as info:
        loader.read_document(write(tmp_path, "e.yaml", "- id: A\n"))
    assert info.value.expected == (
        "应为含 city 和/或 companies 的映射 / expected a mapping with city and/or companies, got [{'id': 'A'}]"
    )
    with pytest.raises(InputError) as info:
        loader.read_document(write(tmp_path, "e.yaml", "companies:\n"))
    assert info.value.field == "companies"
    city, companies = loader.read_document(write(tmp_path, "c.yml", "city: {avg_growth: {}}\n"))
    assert city == City({"avg_growth": {}}) and companies == []


def test_jsonl(tmp_path: Path) -> None:
    lines = [
        '{"id": "A", "revenue": {"2026": 1}}',
        "",
        "   ",
        '{"id": "B"}',
        '{"id": "C", "revenue": {"2026": -1}}',
    ]
    path = write(tmp_path, "b.jsonl", "\n".join(lines) + "\n")
    read = list(loader.iter_jsonl(path))
    assert [n for n, _ in read] == [1, 4, 5]
    a = loader.parse_jsonl_line(read[0][1], path, 1)
    assert (a.id, a.line, a.index, a.revenue) == ("A", 1, 0, {2026: 100})
    assert (loader.parse_jsonl_line(read[1][1], path, 4).index) == 3
    with pytest.raises(InputError) as info:
        loader.parse_jsonl_line(read[2][1], path, 5)
    assert str(info.value) == f"{path}:5: 企业 enterprise 'C': 字段 field revenue.2026: {MONEY}, got -1"
    with pytest.raises(InputError) as info:
        loader.read_document(path)
    assert info.value.line == 5


def test_jsonl_errors(tmp_path: Path) -> None:
    with pytest.raises(InputError) as info:
        loader.parse_jsonl_line('{"city": {"avg_growth": {}}}', "b.jsonl", 7)
    assert str(info.value) == (
        "b.jsonl:7: 文件 file: 字段 field city: "
        "JSON Lines 每行一个企业；城市数据请放在单独的 .yaml/.json 文件中 / "
        "JSON Lines holds one enterprise per line; put city data in a separate .yaml/.json file, got 'city'"
    )
    with pytest.raises(InputError) as info:
        loader.parse_jsonl_line("[1, 2]", "b.jsonl", 2)
    assert info.value.expected == "应为一个 JSON 对象（一个企业） / expected a JSON object (one enterprise), got [1, 2]"
    with pytest.raises(InputError) as info:
        loader.parse_jsonl_line('{"id": "A"', "b.jsonl", 9)
    assert info.value.line == 9 and info.value.expected.startswith("JSON 语法错误 / JSON syntax error: ")
    with pytest.raises(InputError) as info:
        loader.parse_jsonl_line('{"name": "x"}', "b.jsonl", 3)
    assert (info.value.field, info.value.line) == ("id", 3)
    bad = tmp_path / "u.jsonl"
    bad.write_bytes(b'{"id": "A"}\n{"id": "\xc3"}\n')
    with pytest.raises(InputError) as info:
        list(loader.iter_jsonl(str(bad)))
    assert info.value.line == 2 and info.value.expected.startswith("不是有效的 UTF-8 文本")


def test_jsonl_keeps_unicode_line_separators(tmp_path: Path) -> None:
    path = write(tmp_path, "s.jsonl", '{"id": "A", "name": "x\u2028y\u0085z"}\r\n{"id": "B"}\n')
    read = list(loader.iter_jsonl(path))
    assert [n for n, _ in read] == [1, 2]
    assert loader.parse_jsonl_line(read[0][1], path, 1).name == "x\u2028y\u0085z"


# ---- several files ------------------------------------------------------------------------------------


def test_id_registry_across_files(tmp_path: Path) -> None:
    first = write(tmp_path, "a.yaml", "companies:\n  - id: A\n  - id: DUP\n")
    second = write(tmp_path, "b.jsonl", '{"id": "B"}\n{"id": "DUP"}\n')
    registry = loader.IdRegistry()
    for co in loader.read_document(first)[1]:
        registry.add(co)
    lines = list(loader.iter_jsonl(second))
    registry.add(loader.parse_jsonl_line(lines[0][1], second, lines[0][0]))
    with pytest.raises(InputError) as info:
        registry.add(loader.parse_jsonl_line(lines[1][1], second, lines[1][0]))
    assert str(info.value) == (
        f"{second}:2: 企业 enterprise 'DUP': 字段 field id: 企业 id 重复，首次出现在 {first} companies[1] / "
        f"duplicate enterprise id, first given at {first} companies[1], got 'DUP'"
    )
    assert len(registry) == 3 and "B" in registry
    other = loader.IdRegistry()
    other.add(Company(id="Z", file="x.jsonl", line=4, index=3))
    with pytest.raises(InputError) as info:
        other.add(Company(id="Z", file="y.yaml", index=0))
    assert info.value.field == "companies[0]" and "first given at x.jsonl:4" in info.value.expected


def test_merge_city(tmp_path: Path) -> None:
    a = loader.parse_city({"avg_growth": {2024: Decimal("0.119"), 2026: Decimal("0.10")}}, "a.yaml")
    b = loader.parse_city({"avg_growth": {"2025": Decimal("0.095"), 2026: Decimal("0.1")}}, "b.yaml")
    merged = loader.merge_city([(a, "a.yaml"), (b, "b.yaml")])
    assert merged.avg_growth == {2024: Decimal("0.119"), 2025: Decimal("0.095"), 2026: Decimal("0.1")}
    files = {2024: "a.yaml", 2025: "b.yaml", 2026: "a.yaml"}
    assert merged.sources == {f"city.avg_growth.{y}": f for y, f in files.items()}
    c = loader.parse_city({"avg_growth": {2026: Decimal("0.11")}}, "c.yaml")
    with pytest.raises(InputError) as info:
        loader.merge_city([(a, "a.yaml"), (c, "c.yaml")])
    assert str(info.value) == (
        "c.yaml: 文件 file: 字段 field city.avg_growth.2026: 与 a.yaml 给出的 0.1 不一致 / "
        "differs from 0.1 given in a.yaml, got 0.11"
    )

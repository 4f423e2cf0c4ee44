"""Strict reading and validation of enterprise and city data (the input contract, docs/data-format.md).

Files are YAML (``.yaml``/``.yml``), JSON (``.json``) or JSON Lines (``.jsonl``, one enterprise per line).
Nothing is guessed: unknown fields, wrong types, binary floats, NaN/Infinity, money with more than two
decimals or out of range (ruling W3), unknown enumeration values and NUL characters are all rejected with
an :class:`~fuchi.errors.InputError` naming the file, the enterprise, the field path and, in Chinese and
English, what was expected and what was found.

Numbers are read exactly: JSON and YAML decimals become :class:`decimal.Decimal` straight from their text,
money is stored as an ``int`` of fen. YAML is read with :class:`StrictLoader`, which knows only
``true``/``false`` as booleans (``yes``/``no``/``on``/``off`` stay strings), only plain decimal integers as
integers (``0x1F``, ``0o7``, ``1_000``, ``0651`` stay strings) and never turns dates into date objects.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

import yaml

from .errors import InputError
from .records import (
    DECISIONS,
    EVENT_KINDS,
    HONOUR_LISTS,
    IC_KINDS,
    ITEMS,
    KEY_FIELDS,
    MAX_DECIMAL,
    MAX_DECIMALS,
    MAX_MONEY_YUAN,
    MAX_RECORDS,
    MAX_YEAR,
    MIN_YEAR,
    PROGRAMS,
    PROJECT_KINDS,
    Assessment,
    City,
    CitySupport,
    Company,
    ComputeProject,
    Event,
    Honour,
    IcPurchase,
    LlmFiling,
    OtherSupport,
    OwnIp,
    PriorAward,
    ShowcaseCentre,
)

__all__ = [
    "IdRegistry",
    "StrictLoader",
    "iter_jsonl",
    "load_yaml",
    "merge_city",
    "parse_city",
    "parse_company",
    "parse_jsonl_line",
    "read_document",
]

T = TypeVar("T")
V = TypeVar("V")

# ---- messages (pinned by tests/test_loader.py; every one is "中文 / English") ---------------------------

_MONEY = "应为不小于 0 的金额（元，最多两位小数） / expected a non-negative amount in yuan with at most two decimals"
_WHOLE = "应为不小于 0 的整元金额 / expected a non-negative amount in whole yuan"
_TIER = "应为大于 0 的整元金额 / expected an amount in whole yuan above 0"
_MONEY_RANGE = (
    f"金额超出支持范围（最多 {MAX_MONEY_YUAN} 元） / amount outside the supported range (at most {MAX_MONEY_YUAN} yuan)"
)
_FLOAT = (
    "应为精确的十进制数，不接受二进制浮点数（请用 fuchi.loader 读取 YAML/JSON） / "
    "expected an exact decimal, not a binary float (read YAML/JSON with fuchi.loader)"
)
_NONNEG = (
    f"应为不小于 0 的数（最多 {MAX_DECIMALS} 位小数） / "
    f"expected a non-negative number with at most {MAX_DECIMALS} decimals"
)
_SIGNED = (
    f"应为数值（可为负，最多 {MAX_DECIMALS} 位小数） / "
    f"expected a number (may be negative) with at most {MAX_DECIMALS} decimals"
)
_DECIMAL_RANGE = (
    f"数值超出支持范围（绝对值最大 {MAX_DECIMAL}） / "
    f"number outside the supported range (absolute value at most {MAX_DECIMAL})"
)
_YEAR = f"应为 {MIN_YEAR} 至 {MAX_YEAR} 之间的整数年份 / expected a year from {MIN_YEAR} to {MAX_YEAR} as an integer"
_YEAR_KEY = (
    f"应为 {MIN_YEAR} 至 {MAX_YEAR} 之间的年份（整数或数字字符串） / "
    f"expected a year from {MIN_YEAR} to {MAX_YEAR} (an integer or a string of digits)"
)
_DUP_YEAR = "同一年份出现两次 / the same year is given twice"
_STRING = "应为字符串 / expected a string"
_NONEMPTY = "应为非空字符串 / expected a non-empty string"
_NUL = "文本不得包含 NUL 字符（\\x00） / text must not contain the NUL character (\\x00)"
_SURROGATE = "文本含有孤立的代理码位，不是有效的 Unicode / text holds a lone surrogate and is not valid Unicode"
_BOOL = "应为 true 或 false / expected true or false"
_LIST = "应为列表 / expected a list"
_MAP = "应为映射（键: 值） / expected a mapping (key: value)"
_RECORD = "应为映射（一条记录） / expected a mapping (one record)"
_ENTERPRISE = "应为映射（一个企业） / expected a mapping (one enterprise)"
_MISSING = "缺少必填字段 / required field is missing"
_TOO_MANY = (
    f"列表最多 {MAX_RECORDS} 条（此上限保证求和精确） / "
    f"a list holds at most {MAX_RECORDS} records (the limit keeps sums exact)"
)
_ITEM_TYPE = '应为加引号的条款编号，如 "2.9" / expected a clause id as a quoted string, e.g. "2.9"'
_REGISTERED = (
    "应为小写拼音区名（仅字母 a-z，如 chongming） / "
    "expected a lower-case pinyin district name (letters a-z only, e.g. chongming)"
)
_INDUSTRY = (
    "应为 2 至 6 位数字的行业代码（GB/T 4754-2017） / expected an industry code of 2 to 6 digits (GB/T 4754-2017)"
)
_ID_MISSING = "缺少企业 id / the enterprise has no id"
_ID_BAD = "企业 id 应为不含 NUL 的非空字符串 / the enterprise id must be a non-empty string without NUL"
_ONLY_CORPUS = "只有 corpus_voucher 记录有此字段 / only corpus_voucher records take this field"
_ONLY_APPROVED = "只有 approved 的评审结果有金额 / only approved assessments take an amount"
_ONLY_TIER = "只有 2.2.b 记录有此字段 / only 2.2.b records take this field"
_ONLY_PROJECT = "只有 2.4.b 记录有此字段 / only 2.4.b records take this field"
_DUP_KEY = "同一映射中键重复 / duplicate key in one mapping"
_DOCUMENT = "应为含 city 和/或 companies 的映射 / expected a mapping with city and/or companies"
_JSONL_OBJECT = "应为一个 JSON 对象（一个企业） / expected a JSON object (one enterprise)"
_JSONL_ONE = (
    "JSON Lines 每行一个企业；城市数据请放在单独的 .yaml/.json 文件中 / "
    "JSON Lines holds one enterprise per line; put city data in a separate .yaml/.json file"
)
_FILE_TYPE = (
    "未知的文件类型（应为 .yaml、.yml、.json 或 .jsonl） / unknown file type (expected .yaml, .yml, .json or .jsonl)"
)
_UNREADABLE = "文件不存在或不可读 / file not found or not readable"
_UTF8 = "不是有效的 UTF-8 文本 / not valid UTF-8 text"
_TOO_DEEP = "嵌套过深 / nesting too deep"
_YAML_SYNTAX = "YAML 语法错误 / YAML syntax error"
_JSON_SYNTAX = "JSON 语法错误 / JSON syntax error"


def _unknown(allowed: tuple[str, ...]) -> str:
    names = ", ".join(allowed)
    return f"未知字段（允许的字段：{names}） / unknown field (allowed: {names})"


def _one_of(options: tuple[str, ...]) -> str:
    names = ", ".join(options)
    return f"应为以下之一：{names} / expected one of: {names}"


# ---- showing what was found -----------------------------------------------------------------------------

_SHOW_LIMIT = 60


def _show(value: object) -> str:
    """Render a found value for a message, YAML/JSON-like, at most 60 characters."""
    text = _render(value, 0)
    return text if len(text) <= _SHOW_LIMIT else text[: _SHOW_LIMIT - 1] + "…"


def _render(value: object, depth: int) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        # str() of a huge int is slow and limited (sys.set_int_max_str_digits); such a value is wrong anyway.
        return str(value) if value.bit_length() <= 256 else f"<an integer of {value.bit_length()} bits>"
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, str):
        return repr(value[: _SHOW_LIMIT + 1])
    if isinstance(value, dict | list):
        if depth >= 2:
            return "{…}" if isinstance(value, dict) else "[…]"
        parts: list[str] = []
        size = 0
        pairs = value.items() if isinstance(value, dict) else ((None, x) for x in value)
        for key, item in pairs:
            part = _render(item, depth + 1)
            if isinstance(value, dict):
                part = f"{_render(key, depth + 1)}: {part}"
            parts.append(part)
            size += len(part) + 2
            if size > _SHOW_LIMIT:
                break
        inner = ", ".join(parts)
        return "{" + inner + "}" if isinstance(value, dict) else "[" + inner + "]"
    return repr(value)[: _SHOW_LIMIT + 1]


def _key_path(prefix: str, key: object) -> str:
    text = key if isinstance(key, str) and key.isprintable() and len(key) <= _SHOW_LIMIT else _show(key)
    return f"{prefix}.{text}" if prefix else text


@dataclass(frozen=True)
class _Where:
    """The file, enterprise and line that errors are reported against."""

    file: str
    company: str | None
    line: int | None

    def error(self, field: str, expected: str, got: object) -> InputError:
        return InputError(self.file, self.company, field, f"{expected}, got {_show(got)}", self.line)

    def error_text(self, field: str, text: str) -> InputError:
        return InputError(self.file, self.company, field, text, self.line)


# ---- scalars ----------------------------------------------------------------------------------------------


def _scaled(value: Decimal, places: int) -> int | None:
    """Return ``value * 10**places`` as an int when that is exact, else None.

    Works on the digits (no decimal context, so no rounding); ``value`` must be finite and at most
    about 10**13 in absolute value (the callers check the range first).
    """
    sign, digits, exponent = value.as_tuple()
    assert isinstance(exponent, int)
    n = len(digits)
    while n > 0 and digits[n - 1] == 0:
        n -= 1
        exponent += 1
    if n == 0:
        return 0
    shift = exponent + places
    if shift < 0 or n + shift > 40:
        return None
    coefficient = int("".join(str(d) for d in digits[:n]))
    scale: int = 10**shift
    return (-1 if sign else 1) * coefficient * scale


def _decimal_of(scaled: int, places: int) -> Decimal:
    """Return ``scaled / 10**places`` as a normalised Decimal (``1.25``, ``2400``: no exponent)."""
    while places > 0 and scaled % 10 == 0:
        scaled //= 10
        places -= 1
    digits = tuple(int(c) for c in str(abs(scaled)))
    return Decimal((1 if scaled < 0 else 0, digits, -places))


def _money(where: _Where, path: str, value: object, *, whole: bool = False, positive: bool = False) -> int:
    """Validate an amount in yuan (ruling W3) and return it in fen."""
    expected = _TIER if positive else _WHOLE if whole else _MONEY
    if isinstance(value, float):
        raise where.error(path, _FLOAT, value)
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        raise where.error(path, expected, value)
    if isinstance(value, Decimal) and not value.is_finite():
        raise where.error(path, expected, value)
    if value < 0 or (positive and value == 0):
        raise where.error(path, expected, value)
    if value > MAX_MONEY_YUAN:
        raise where.error(path, _MONEY_RANGE, value)
    fen = value * 100 if isinstance(value, int) else _scaled(value, 2)
    if fen is None or (whole and fen % 100):
        raise where.error(path, expected, value)
    return fen


def _number(where: _Where, path: str, value: object, *, signed: bool) -> Decimal:
    """Validate a non-money decimal (PFLOPS, PUE, growth) and return it as a normalised Decimal."""
    expected = _SIGNED if signed else _NONNEG
    if isinstance(value, float):
        raise where.error(path, _FLOAT, value)
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        raise where.error(path, expected, value)
    if isinstance(value, Decimal) and not value.is_finite():
        raise where.error(path, expected, value)
    if not signed and value < 0:
        raise where.error(path, expected, value)
    if abs(Decimal(value)) > MAX_DECIMAL:
        raise where.error(path, _DECIMAL_RANGE, value)
    scaled = value * 10**MAX_DECIMALS if isinstance(value, int) else _scaled(value, MAX_DECIMALS)
    if scaled is None:
        raise where.error(path, expected, value)
    return _decimal_of(scaled, MAX_DECIMALS)


def _year(where: _Where, path: str, value: object) -> int:
    """Validate a ``year`` field: an integer (not a string, not a boolean) in range."""
    if isinstance(value, bool) or not isinstance(value, int) or not MIN_YEAR <= value <= MAX_YEAR:
        raise where.error(path, _YEAR, value)
    return value


_DIGITS = re.compile(r"[0-9]{1,9}")


def _year_key(where: _Where, path: str, key: object) -> int:
    """Validate a year used as a map key: an integer or a string of ASCII digits, in range."""
    if isinstance(key, str) and _DIGITS.fullmatch(key):
        year = int(key)
    elif isinstance(key, int) and not isinstance(key, bool):
        year = key
    else:
        raise where.error(path, _YEAR_KEY, key)
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise where.error(path, _YEAR_KEY, key)
    return year


def _text(where: _Where, path: str, value: object, *, nonempty: bool) -> str:
    """Validate a string from the data: any Unicode except NUL (clingo strings end at NUL)."""
    if not isinstance(value, str) or (nonempty and not value):
        raise where.error(path, _NONEMPTY if nonempty else _STRING, value)
    if "\x00" in value:
        raise where.error(path, _NUL, value)
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise where.error(path, _SURROGATE, value) from None
    return value


def _flag(where: _Where, path: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise where.error(path, _BOOL, value)
    return value


def _choice(where: _Where, path: str, value: object, options: tuple[str, ...]) -> str:
    if not isinstance(value, str) or value not in options:
        raise where.error(path, _one_of(options), value)
    return value


def _item(where: _Where, path: str, value: object) -> str:
    """Validate a clause id; an unquoted YAML ``2.3`` is a number and must be quoted."""
    if not isinstance(value, str):
        raise where.error(path, _ITEM_TYPE, value)
    return _choice(where, path, value, ITEMS)


_PINYIN = re.compile(r"[a-z]+")
_INDUSTRY_CODE = re.compile(r"[0-9]{2,6}")


def _registered_in(where: _Where, path: str, value: object) -> str:
    if not isinstance(value, str) or not _PINYIN.fullmatch(value):
        raise where.error(path, _REGISTERED, value)
    return value


def _industry_code(where: _Where, path: str, value: object) -> str:
    # An unquoted code (YAML/JSON integer 6513) is accepted and turned into the string "6513": an integer
    # cannot carry a leading zero, so nothing is lost. The quoted form is the documented one.
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 10**6:
        value = str(value)
    if not isinstance(value, str) or not _INDUSTRY_CODE.fullmatch(value):
        raise where.error(path, _INDUSTRY, value)
    return value


# ---- containers -------------------------------------------------------------------------------------------


def _no_unknown(where: _Where, prefix: str, data: dict[object, object], allowed: tuple[str, ...]) -> None:
    for key in data:
        if not isinstance(key, str) or key not in allowed:
            raise where.error(_key_path(prefix, key), _unknown(allowed), key)


def _list(where: _Where, path: str, value: object) -> list[object]:
    if not isinstance(value, list):
        raise where.error(path, _LIST, value)
    if len(value) > MAX_RECORDS:
        raise where.error_text(path, f"{_TOO_MANY}, got {len(value)} records")
    return value


def _year_map(where: _Where, path: str, value: object, convert: Callable[[_Where, str, object], V]) -> dict[int, V]:
    """Validate a map keyed by year (``2026`` or ``"2026"``, not both) and convert its values."""
    if not isinstance(value, dict):
        raise where.error(path, _MAP, value)
    keys: dict[int, object] = {}
    out: dict[int, V] = {}
    for key, item in value.items():
        year = _year_key(where, path, key)
        if year in keys:
            raise where.error_text(f"{path}.{year}", f"{_DUP_YEAR}, got {_show(keys[year])} and {_show(key)}")
        keys[year] = key
        out[year] = convert(where, f"{path}.{year}", item)
    return out


def _any_money(where: _Where, path: str, value: object) -> int:
    return _money(where, path, value)


def _growth(where: _Where, path: str, value: object) -> Decimal:
    return _number(where, path, value, signed=True)


@dataclass(frozen=True)
class _Rec:
    """One record of a list, e.g. ``events[2]``, with helpers naming its fields."""

    where: _Where
    path: str
    data: dict[object, object]

    def at(self, key: str) -> str:
        return f"{self.path}.{key}"

    def req(self, key: str) -> object:
        if key not in self.data:
            raise self.where.error(self.at(key), _MISSING, self.data)
        return self.data[key]

    def forbid(self, key: str, expected: str) -> None:
        if key in self.data:
            raise self.where.error(self.at(key), expected, self.data[key])

    def year(self) -> int:
        return _year(self.where, self.at("year"), self.req("year"))

    def ident(self) -> str:
        return _text(self.where, self.at("id"), self.req("id"), nonempty=True)

    def money(self, key: str) -> int:
        return _money(self.where, self.at(key), self.req(key))

    def choice(self, key: str, options: tuple[str, ...]) -> str:
        return _choice(self.where, self.at(key), self.req(key), options)

    def item(self) -> str:
        return _item(self.where, self.at("item"), self.req("item"))


def _records(where: _Where, name: str, value: object, fields: tuple[str, ...], build: Callable[[_Rec], T]) -> list[T]:
    """Validate a list of records: each a mapping with only ``fields``, built by ``build``."""
    out: list[T] = []
    for k, raw in enumerate(_list(where, name, value)):
        path = f"{name}[{k}]"
        if not isinstance(raw, dict):
            raise where.error(path, _RECORD, raw)
        _no_unknown(where, path, raw, fields)
        out.append(build(_Rec(where, path, raw)))
    return out


def _unique(where: _Where, name: str, keys: list[tuple[str, int]], what: str) -> None:
    """Reject a second record with the same (id, year) or (item, year) in one list."""
    first: dict[tuple[str, int], int] = {}
    for k, key in enumerate(keys):
        if key in first:
            at = f"{name}[{first[key]}]"
            if what == "item":
                text = (
                    f"同一 (item, year) 至多一条评审结果，首条为 {at} / "
                    f"at most one assessment per (item, year); the first is {at}"
                )
            else:
                text = f"同一列表中 (id, year) 重复，首条为 {at} / the pair (id, year) is already given in {at}"
            raise where.error_text(f"{name}[{k}]", f"{text}, got {_show(key)}")
        first[key] = k


# ---- records ----------------------------------------------------------------------------------------------


def _honour(r: _Rec) -> Honour:
    return Honour(r.year(), r.choice("list", HONOUR_LISTS))


def _city_support(r: _Rec) -> CitySupport:
    year, program, amount = r.year(), r.choice("program", PROGRAMS), r.money("amount")
    related: bool | None = None
    if program == "corpus_voucher":
        related = _flag(r.where, r.at("related_party"), r.req("related_party"))
    else:
        r.forbid("related_party", _ONLY_CORPUS)
    return CitySupport(year, program, amount, related)


def _compute_project(r: _Rec) -> ComputeProject:
    ident, year, kind = r.ident(), r.year(), r.choice("kind", PROJECT_KINDS)
    pflops = _number(r.where, r.at("pflops"), r.req("pflops"), signed=False)
    pue = _number(r.where, r.at("pue"), r.req("pue"), signed=False)
    return ComputeProject(ident, year, kind, pflops, pue, r.money("cost"))


def _llm_filing(r: _Rec) -> LlmFiling:
    year = r.year()
    model = _text(r.where, r.at("model"), r.data["model"], nonempty=False) if "model" in r.data else None
    return LlmFiling(year, model)


def _ic_purchase(r: _Rec) -> IcPurchase:
    return IcPurchase(r.ident(), r.year(), r.choice("kind", IC_KINDS), r.money("amount"))


def _own_ip(r: _Rec) -> OwnIp:
    return OwnIp(r.ident(), r.year(), r.money("first_batch_amount"))


def _event(r: _Rec) -> Event:
    return Event(r.ident(), r.year(), r.choice("kind", EVENT_KINDS), r.money("cost"))


def _showcase(r: _Rec) -> ShowcaseCentre:
    ident, year = r.ident(), r.year()
    in_shanghai = _flag(r.where, r.at("in_shanghai"), r.req("in_shanghai"))
    return ShowcaseCentre(ident, year, in_shanghai, r.money("cost"))


def _prior_award(r: _Rec) -> PriorAward:
    item, year = r.item(), r.year()
    tier: int | None = None
    project: str | None = None
    if item == "2.2.b":
        tier = _money(r.where, r.at("tier"), r.req("tier"), whole=True, positive=True)
    else:
        r.forbid("tier", _ONLY_TIER)
    if item == "2.4.b":
        project = _text(r.where, r.at("project"), r.req("project"), nonempty=True)
    else:
        r.forbid("project", _ONLY_PROJECT)
    return PriorAward(item, year, tier, project)


def _other_support(r: _Rec) -> OtherSupport:
    item, year = r.item(), r.year()
    policy = _text(r.where, r.at("policy"), r.req("policy"), nonempty=True)
    return OtherSupport(item, year, policy, r.money("amount"))


def _assessment(r: _Rec) -> Assessment:
    item, year, decision = r.item(), r.year(), r.choice("decision", DECISIONS)
    amount: int | None = None
    if decision == "approved":
        amount = _money(r.where, r.at("amount"), r.req("amount"), whole=True)
    else:
        r.forbid("amount", _ONLY_APPROVED)
    return Assessment(item, year, decision, amount)


_COMPANY_FIELDS = (
    "id", "name", "registered_in", "industry_code", "sound_finance", "good_credit", "fits_direction",
    "fraud", "market_violation", "key_enterprise", "key_fields", "honours", "revenue", "rd_spend",
    "city_support", "compute_projects", "llm_filings", "ic_purchases", "own_ip", "events",
    "showcase_centres", "prior_awards", "other_support", "assessments",
)  # fmt: skip
_FLAGS = ("sound_finance", "good_credit", "fits_direction", "fraud", "market_violation", "key_enterprise")


def _id_field(index: int, line: int | None) -> str:
    """Where an enterprise sits when its id cannot name it: ``companies[3]``, or ``id`` in JSON Lines."""
    return "id" if line is not None else f"companies[{index}]"


def parse_company(obj: object, file: str, index: int, line: int | None = None) -> Company:
    """Validate one enterprise object (a dict from JSON/YAML).

    Args:
        obj: The enterprise as read by :func:`load_yaml` or JSON (decimals as ``Decimal``, never float).
        file: The file it came from, as given (stored in ``Company.file``).
        index: Its position in the file's ``companies`` list, or the JSON Lines line number - 1.
        line: Its JSON Lines line number; None for YAML/JSON.

    Returns:
        The validated enterprise, money in fen.

    Raises:
        InputError: The first problem found (field order of the contract).

    """
    anonymous = _Where(file, None, line)
    if not isinstance(obj, dict):
        raise anonymous.error("" if line is not None else f"companies[{index}]", _ENTERPRISE, obj)
    data: dict[object, object] = obj
    if "id" not in data:
        raise anonymous.error(_id_field(index, line), _ID_MISSING, data)
    ident = data["id"]
    if not isinstance(ident, str) or not ident or "\x00" in ident:
        raise anonymous.error(_id_field(index, line), _ID_BAD, ident)
    _text(anonymous, _id_field(index, line), ident, nonempty=True)  # lone surrogates
    where = _Where(file, ident, line)
    _no_unknown(where, "", data, _COMPANY_FIELDS)

    co = Company(id=ident, file=file, line=line, index=index)
    if "name" in data:
        co.name = _text(where, "name", data["name"], nonempty=False)
    if "registered_in" in data:
        co.registered_in = _registered_in(where, "registered_in", data["registered_in"])
    if "industry_code" in data:
        co.industry_code = _industry_code(where, "industry_code", data["industry_code"])
    for flag in _FLAGS:
        if flag in data:
            setattr(co, flag, _flag(where, flag, data[flag]))
    if "key_fields" in data:
        seen: dict[str, int] = {}
        for k, value in enumerate(_list(where, "key_fields", data["key_fields"])):
            path = f"key_fields[{k}]"
            key_field = _choice(where, path, value, KEY_FIELDS)
            if key_field in seen:
                first = f"key_fields[{seen[key_field]}]"
                raise where.error(path, f"重复的取值（首次在 {first}） / duplicate value (first at {first})", value)
            seen[key_field] = k
        co.key_fields = list(seen)
    if "honours" in data:
        co.honours = _records(where, "honours", data["honours"], ("year", "list"), _honour)
    if "revenue" in data:
        co.revenue = _year_map(where, "revenue", data["revenue"], _any_money)
    if "rd_spend" in data:
        co.rd_spend = _year_map(where, "rd_spend", data["rd_spend"], _any_money)
    if "city_support" in data:
        co.city_support = _records(
            where,
            "city_support",
            data["city_support"],
            ("year", "program", "amount", "related_party"),
            _city_support,
        )
    if "compute_projects" in data:
        co.compute_projects = _records(
            where, "compute_projects", data["compute_projects"],
            ("id", "year", "kind", "pflops", "pue", "cost"), _compute_project,
        )  # fmt: skip
        _unique(where, "compute_projects", [(p.id, p.year) for p in co.compute_projects], "id")
    if "llm_filings" in data:
        co.llm_filings = _records(where, "llm_filings", data["llm_filings"], ("year", "model"), _llm_filing)
    if "ic_purchases" in data:
        co.ic_purchases = _records(
            where, "ic_purchases", data["ic_purchases"], ("id", "year", "kind", "amount"), _ic_purchase
        )
        _unique(where, "ic_purchases", [(p.id, p.year) for p in co.ic_purchases], "id")
    if "own_ip" in data:
        co.own_ip = _records(where, "own_ip", data["own_ip"], ("id", "year", "first_batch_amount"), _own_ip)
        _unique(where, "own_ip", [(p.id, p.year) for p in co.own_ip], "id")
    if "events" in data:
        co.events = _records(where, "events", data["events"], ("id", "year", "kind", "cost"), _event)
        _unique(where, "events", [(e.id, e.year) for e in co.events], "id")
    if "showcase_centres" in data:
        co.showcase_centres = _records(
            where,
            "showcase_centres",
            data["showcase_centres"],
            ("id", "year", "in_shanghai", "cost"),
            _showcase,
        )
        _unique(where, "showcase_centres", [(s.id, s.year) for s in co.showcase_centres], "id")
    if "prior_awards" in data:
        co.prior_awards = _records(
            where, "prior_awards", data["prior_awards"], ("item", "year", "tier", "project"), _prior_award
        )
    if "other_support" in data:
        co.other_support = _records(
            where,
            "other_support",
            data["other_support"],
            ("item", "year", "policy", "amount"),
            _other_support,
        )
    if "assessments" in data:
        co.assessments = _records(
            where, "assessments", data["assessments"], ("item", "year", "decision", "amount"), _assessment
        )
        _unique(where, "assessments", [(a.item, a.year) for a in co.assessments], "item")
    return co


def parse_city(obj: object, file: str) -> City:
    """Validate the ``city`` mapping of a document.

    Args:
        obj: The value of ``city`` (a mapping with at most ``avg_growth``).
        file: The file it came from; recorded in ``City.sources`` for every year.

    Returns:
        The city figures, growth rates as normalised Decimals.

    Raises:
        InputError: Not a mapping, an unknown field, a bad year or a bad growth figure.

    """
    where = _Where(file, None, None)
    if not isinstance(obj, dict):
        raise where.error("city", _MAP, obj)
    data: dict[object, object] = obj
    _no_unknown(where, "city", data, ("avg_growth",))
    city = City()
    if "avg_growth" in data:
        city.avg_growth = _year_map(where, "city.avg_growth", data["avg_growth"], _growth)
        city.sources = dict.fromkeys(city.avg_growth, file)
    return city


def merge_city(parts: list[tuple[City, str]]) -> City:
    """Merge the city figures of several files.

    Args:
        parts: Each file's city figures and the file's path.

    Returns:
        One :class:`City`, years in ascending order, each with the file that first gave it.

    Raises:
        InputError: The same year is given with different values (named at the later file).

    """
    growth: dict[int, Decimal] = {}
    sources: dict[int, str] = {}
    for city, file in parts:
        for year, value in city.avg_growth.items():
            source = city.sources.get(year, file)
            if year not in growth:
                growth[year] = value
                sources[year] = source
            elif growth[year] != value:
                first, old = sources[year], growth[year]
                text = f"与 {first} 给出的 {old} 不一致 / differs from {old} given in {first}"
                text = f"{text}, got {_show(value)}"
                raise InputError(source, None, f"city.avg_growth.{year}", text)
    years = sorted(growth)
    return City({y: growth[y] for y in years}, {y: sources[y] for y in years})


class IdRegistry:
    """Enterprise ids seen so far in a run (across all files); a second use of an id is an input error."""

    def __init__(self) -> None:
        self._seen: dict[str, tuple[str, int | None, int]] = {}

    def __len__(self) -> int:
        return len(self._seen)

    def __contains__(self, ident: object) -> bool:
        return ident in self._seen

    def add(self, company: Company) -> None:
        """Record an enterprise.

        Args:
            company: The enterprise (only ``id``, ``file``, ``line`` and ``index`` are used).

        Raises:
            InputError: Its id was already used; the message names the first place.

        """
        first = self._seen.get(company.id)
        if first is None:
            self._seen[company.id] = (company.file, company.line, company.index)
            return
        file, line, index = first
        place = f"{file}:{line}" if line is not None else f"{file} companies[{index}]"
        raise InputError(
            company.file, company.id, _id_field(company.index, company.line),
            f"企业 id 重复，首次出现在 {place} / duplicate enterprise id, first given at {place}, "
            f"got {_show(company.id)}",
            company.line,
        )  # fmt: skip


# ---- YAML -------------------------------------------------------------------------------------------------


class _DuplicateKeyError(yaml.constructor.ConstructorError):
    """A mapping that gives the same key twice."""

    def __init__(self, key: object, mark: yaml.Mark | None) -> None:
        super().__init__("while constructing a mapping", None, f"found duplicate key {_show(key)}", mark)
        self.key = key


class StrictLoader(yaml.SafeLoader):
    """A YAML loader for the data contract: exact decimals, few implicit types, no duplicate keys.

    Implicit types: ``true``/``false`` (any case), ``null``/``~``/empty, plain decimal integers
    (``-12``, ``2026``; not ``0651``, ``1_000``, ``0x1F``, ``0o7``, which stay strings), and decimals
    (``1.25``, ``1e6``, ``.nan``, ``.inf``) which become :class:`decimal.Decimal` built from their text
    (NaN and infinities are then rejected by validation, with the field named). Everything else,
    including ``yes``/``no``/``on``/``off`` and dates, is a string.
    """

    yaml_implicit_resolvers: dict[Any, Any] = {}

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        """Build a mapping, refusing a key given twice."""
        seen: set[object] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            try:
                duplicate = key in seen
            except TypeError:  # unhashable: the base class reports it
                break
            if duplicate:
                raise _DuplicateKeyError(key, key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep)


_YAML_INT = re.compile(r"[-+]?(?:0|[1-9][0-9]*)")
_YAML_FLOAT = re.compile(r"[-+]?(?:[0-9]+\.[0-9]*|\.[0-9]+|[0-9]+(?=[eE]))(?:[eE][-+]?[0-9]+)?")
_YAML_SPECIAL = re.compile(r"([-+]?)\.(?:(inf|Inf|INF)|nan|NaN|NAN)")
# Explicit ``!!float`` also takes an integer's text.
_FLOAT_TEXT = re.compile(r"[-+]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?")

StrictLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:[Tt][Rr][Uu][Ee]|[Ff][Aa][Ll][Ss][Ee])$"), list("tTfF")
)
StrictLoader.add_implicit_resolver("tag:yaml.org,2002:int", re.compile(rf"^{_YAML_INT.pattern}$"), list("-+0123456789"))
StrictLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(rf"^(?:{_YAML_FLOAT.pattern}|{_YAML_SPECIAL.pattern})$"),
    list("-+0123456789."),
)
StrictLoader.add_implicit_resolver(
    "tag:yaml.org,2002:null", re.compile(r"^(?:~|null|Null|NULL|)$"), ["~", "n", "N", ""]
)


def _int_of(text: str) -> int | Decimal:
    # Over-long integers stay exact Decimals (int() refuses more than 4300 digits); validation rejects them.
    return int(text) if len(text) <= 100 else Decimal(text)


def _construct_bool(loader: StrictLoader, node: yaml.Node) -> bool:
    value = loader.construct_scalar(node)  # type: ignore[arg-type]
    if value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise yaml.constructor.ConstructorError(None, None, f"not a boolean: {value!r}", node.start_mark)


def _construct_int(loader: StrictLoader, node: yaml.Node) -> int | Decimal:
    value = loader.construct_scalar(node)  # type: ignore[arg-type]
    if _YAML_INT.fullmatch(value):
        return _int_of(value)
    raise yaml.constructor.ConstructorError(None, None, f"not a plain decimal integer: {value!r}", node.start_mark)


def _construct_float(loader: StrictLoader, node: yaml.Node) -> Decimal:
    value = loader.construct_scalar(node)  # type: ignore[arg-type]
    special = _YAML_SPECIAL.fullmatch(value)
    if special:
        if special.group(2) is None:
            return Decimal("NaN")
        return Decimal("-Infinity" if special.group(1) == "-" else "Infinity")
    if _FLOAT_TEXT.fullmatch(value):
        return Decimal(value)
    raise yaml.constructor.ConstructorError(None, None, f"not a decimal number: {value!r}", node.start_mark)


StrictLoader.add_constructor("tag:yaml.org,2002:bool", _construct_bool)
StrictLoader.add_constructor("tag:yaml.org,2002:int", _construct_int)
StrictLoader.add_constructor("tag:yaml.org,2002:float", _construct_float)


def load_yaml(text: str, file: str) -> object:
    """Parse YAML text with :class:`StrictLoader` (also for other modules holding contract data in YAML).

    Args:
        text: The YAML text (one document).
        file: The file name, for errors.

    Returns:
        The document: dicts, lists, str, int, Decimal, bool, None.

    Raises:
        InputError: Syntax error or duplicate key (with the line when known).

    """
    try:
        return yaml.load(text, Loader=StrictLoader)
    except _DuplicateKeyError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark is not None else None
        raise InputError(file, None, "", f"{_DUP_KEY}, got {_show(exc.key)}", line) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        raise InputError(file, None, "", f"{_YAML_SYNTAX}: {exc.problem or exc.context}", line) from None
    except yaml.reader.ReaderError as exc:
        line = text[: exc.position].count("\n") + 1
        what = f"#x{exc.character:04x}" if isinstance(exc.character, int) else repr(exc.character)
        raise InputError(file, None, "", f"{_YAML_SYNTAX}: unacceptable character {what}", line) from None
    except yaml.YAMLError as exc:
        raise InputError(file, None, "", f"{_YAML_SYNTAX}: {exc}") from None
    except RecursionError:
        raise InputError(file, None, "", _TOO_DEEP) from None


# ---- JSON -------------------------------------------------------------------------------------------------


class _JsonDuplicateKeyError(Exception):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _json_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _JsonDuplicateKeyError(key)
        out[key] = value
    return out


def _load_json(text: str, file: str, line: int | None) -> object:
    """Parse JSON exactly; ``line`` is the JSON Lines line (None: a whole .json file)."""
    try:
        # NaN/Infinity become non-finite Decimals so that validation rejects them naming the field.
        return json.loads(
            text,
            parse_float=Decimal,
            parse_int=_int_of,
            parse_constant=Decimal,
            object_pairs_hook=_json_object,
        )
    except _JsonDuplicateKeyError as exc:
        raise InputError(file, None, "", f"{_DUP_KEY}, got {_show(exc.key)}", line) from None
    except json.JSONDecodeError as exc:
        raise InputError(
            file,
            None,
            "",
            f"{_JSON_SYNTAX}: {exc.msg} (column {exc.colno})",
            exc.lineno if line is None else line,
        ) from None
    except RecursionError:
        raise InputError(file, None, "", _TOO_DEEP, line) from None


def parse_jsonl_line(text: str, file: str, line: int) -> Company:
    """Parse and validate one JSON Lines line (blank lines are the caller's business).

    Args:
        text: The line, without its line break.
        file: The file, as given.
        line: The line number (1-based); the enterprise gets ``index = line - 1``.

    Returns:
        The validated enterprise.

    Raises:
        InputError: Bad JSON, not an object, city data, or a bad enterprise.

    """
    obj = _load_json(text, file, line)
    where = _Where(file, None, line)
    if not isinstance(obj, dict):
        raise where.error("", _JSONL_OBJECT, obj)
    for key in ("city", "companies"):
        if key in obj:
            raise where.error(key, _JSONL_ONE, key)
    return parse_company(obj, file, line - 1, line)


# ---- files ------------------------------------------------------------------------------------------------

_SUFFIXES = (".yaml", ".yml", ".json", ".jsonl")


def _read_text(path: str) -> str:
    try:
        with open(path, "rb") as fh:
            data = fh.read()
    except OSError as exc:
        raise InputError(path, None, "", f"{_UNREADABLE}, got {exc.strerror or type(exc).__name__}") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise InputError(path, None, "", f"{_UTF8}, got byte {data[exc.start]:#04x}", line) from None
    return text.removeprefix("\ufeff")


def read_document(path: str) -> tuple[City | None, list[Company]]:
    """Read and validate a YAML or JSON file (a JSON Lines file is read whole, line by line).

    Args:
        path: The file; its extension decides the format.

    Returns:
        The file's city figures (None when it has no ``city``) and its enterprises, in file order.

    Raises:
        InputError: Unknown extension, unreadable file, bad UTF-8, syntax error, or bad data.

    """
    suffix = Path(path).suffix.lower()
    if suffix not in _SUFFIXES:
        raise InputError(path, None, "", f"{_FILE_TYPE}, got {_show(suffix or Path(path).name)}")
    if suffix == ".jsonl":
        return None, [parse_jsonl_line(text, path, n) for n, text in iter_jsonl(path)]
    text = _read_text(path)
    doc = _load_json(text, path, None) if suffix == ".json" else load_yaml(text, path)
    where = _Where(path, None, None)
    if not isinstance(doc, dict):
        raise where.error("", _DOCUMENT, doc)
    data: dict[object, object] = doc
    _no_unknown(where, "", data, ("city", "companies"))
    city = parse_city(data["city"], path) if "city" in data else None
    companies: list[Company] = []
    if "companies" in data:
        items = data["companies"]
        if not isinstance(items, list):
            raise where.error("companies", _LIST, items)
        companies = [parse_company(obj, path, k) for k, obj in enumerate(items)]
    return city, companies


def iter_jsonl(path: str) -> Iterator[tuple[int, str]]:
    """Stream the non-blank lines of a JSON Lines file.

    Args:
        path: The file (UTF-8; a leading byte-order mark is ignored).

    Yields:
        (line number from 1, the line's text without its line break).

    Raises:
        InputError: The file cannot be read or a line is not valid UTF-8 (raised when reached).

    """
    try:
        fh = open(path, "rb")  # closed by the ``with`` below
    except OSError as exc:
        raise InputError(path, None, "", f"{_UNREADABLE}, got {exc.strerror or type(exc).__name__}") from None
    with fh:
        n = 0
        while True:
            try:
                raw = fh.readline()
            except OSError as exc:
                raise InputError(path, None, "", f"{_UNREADABLE}, got {exc.strerror or type(exc).__name__}") from None
            if not raw:
                return
            n += 1
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise InputError(path, None, "", f"{_UTF8}, got byte {raw[exc.start]:#04x}", n) from None
            if n == 1:
                text = text.removeprefix("\ufeff")
            text = text.rstrip("\r\n")
            if text.strip(" \t\r"):
                yield n, text

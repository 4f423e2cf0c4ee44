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

from ..errors import InputError
from .records import (
    MAX_DECIMAL,
    MAX_DECIMALS,
    MAX_MONEY_YUAN,
    MAX_RECORDS,
    MAX_YEAR,
    MIN_YEAR,
    City,
    Company,
    Record,
)
from .schema import Field, Schema, Text

__all__ = [
    "HugeNumber",
    "IdRegistry",
    "DuplicateKeyError",
    "StrictLoader",
    "duplicate_text",
    "exact_decimal",
    "field_path",
    "iter_jsonl",
    "jsonl_text",
    "load_yaml",
    "load_yaml_data",
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
    "应为精确的十进制数，不接受二进制浮点数（请用 fuchi.inputs.loader 读取 YAML/JSON） / "
    "expected an exact decimal, not a binary float (read YAML/JSON with fuchi.inputs.loader)"
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
_ID_MISSING = "缺少企业 id / the enterprise has no id"
_ID_BAD = "企业 id 应为不含 NUL 的非空字符串 / the enterprise id must be a non-empty string without NUL"
_DUP_KEY = "键重复：同一映射中每个键只能出现一次"
_DUP_KEY_EN = "duplicate key: each key at most once in a mapping"
_DOCUMENT = "应为含 city 和/或 companies 的映射 / expected a mapping with city and/or companies"
_JSONL_OBJECT = "应为一个 JSON 对象（一个企业） / expected a JSON object (one enterprise)"
_JSONL_ONE = (
    "JSON Lines 每行一个企业；城市数据请放在单独的 .yaml/.json 文件中 / "
    "JSON Lines holds one enterprise per line; put city data in a separate .yaml/.json file"
)
_FILE_TYPE = (
    "未知的文件类型（应为 .yaml、.yml、.json、.jsonl 或 .xlsx） / "
    "unknown file type (expected .yaml, .yml, .json, .jsonl or .xlsx)"
)
_UNREADABLE = "文件不存在或不可读 / file not found or not readable"
_UTF8 = "不是有效的 UTF-8 文本 / not valid UTF-8 text"
_TOO_DEEP = "嵌套过深 / nesting too deep"
_YAML_SYNTAX = "YAML 语法错误 / YAML syntax error"
_JSON_SYNTAX = "JSON 语法错误 / JSON syntax error"


def _unknown(allowed: tuple[str, ...]) -> str:
    if not allowed:
        return "未知字段（本政策未声明此处的任何字段） / unknown field (the policy's inputs.yaml declares none here)"
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
    if isinstance(value, HugeNumber):
        raise where.error(path, expected if value.tiny else _MONEY_RANGE, value)
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
    if isinstance(value, HugeNumber):
        raise where.error(path, expected if value.tiny else _DECIMAL_RANGE, value)
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        raise where.error(path, expected, value)
    if isinstance(value, Decimal) and not value.is_finite():
        raise where.error(path, expected, value)
    if not signed and value < 0:
        raise where.error(path, expected, value)
    if Decimal(value).copy_abs() > MAX_DECIMAL:  # (copy_abs: exact, no context to overflow)
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


_DIGITS = re.compile(r"[1-9][0-9]{0,8}")  # (no leading zero: "02026" is not a year)


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


def _item(where: _Where, path: str, value: object, items: tuple[str, ...]) -> str:
    """Validate a clause id; an unquoted YAML ``2.3`` is a number and must be quoted."""
    if not isinstance(value, str):
        raise where.error(path, _ITEM_TYPE, value)
    return _choice(where, path, value, items)


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


def _integer(where: _Where, path: str, value: object, lo: int, hi: int) -> int:
    """Validate a whole number (a count of units, a rank) within its declared bounds."""
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise where.error(path, f"应为 {lo} 至 {hi} 之间的整数 / expected an integer from {lo} to {hi}", value)
    return value


def _bounded(where: _Where, path: str, value: object, lo: Decimal | None, hi: Decimal | None) -> Decimal:
    """Validate a decimal; the usual cases (no bound, ``min: 0``) keep their long-standing messages."""
    if hi is None and lo is None:
        return _number(where, path, value, signed=True)
    if hi is None and lo == 0:
        return _number(where, path, value, signed=False)
    number = _number(where, path, value, signed=True)
    if (lo is not None and number < lo) or (hi is not None and number > hi):
        low = "" if lo is None else str(lo)
        high = "" if hi is None else str(hi)
        text = (
            f"应为 {low or '-∞'} 至 {high or '∞'} 之间的数（最多 {MAX_DECIMALS} 位小数） / "
            f"expected a number from {low or '-∞'} to {high or '∞'} with at most {MAX_DECIMALS} decimals"
        )
        raise where.error(path, text, value)
    return number


Convert = Callable[[_Where, str, object], object]


def _converter(f: Field, items: tuple[str, ...]) -> Convert:
    """The validation of one value of field ``f`` (its kind and options), as a function."""
    kind = f.kind
    if kind == "money":
        whole, positive = f.whole, f.positive
        return lambda w, p, v: _money(w, p, v, whole=whole, positive=positive)
    if kind == "decimal":
        lo, hi = f.minimum, f.maximum
        return lambda w, p, v: _bounded(w, p, v, lo, hi)
    if kind == "year":
        return _year
    if kind == "integer":
        ilo = int(f.minimum) if f.minimum is not None else -(2**31)
        ihi = int(f.maximum) if f.maximum is not None else 2**31 - 1
        return lambda w, p, v: _integer(w, p, v, ilo, ihi)
    if kind == "boolean":
        return _flag
    if kind == "enumeration":
        options = f.values
        return lambda w, p, v: _choice(w, p, v, options)
    if kind == "item":
        return lambda w, p, v: _item(w, p, v, items)
    nonempty = kind == "id"
    if f.pattern is None:
        return lambda w, p, v: _text(w, p, v, nonempty=nonempty)
    pattern = re.compile(f.pattern)
    expected = (
        f.expected.both()
        if f.expected is not None
        else (f"应为匹配 {f.pattern} 的文本 / expected a text matching {f.pattern}")
    )
    digits = f.integers

    def text(w: _Where, p: str, v: object) -> object:
        if digits and isinstance(v, int) and not isinstance(v, bool) and 0 <= v < 10**digits:
            # An unquoted code (6513) is taken as its digits: an integer has no leading zero to lose.
            v = str(v)
        if not isinstance(v, str) or not pattern.fullmatch(v):
            raise w.error(p, expected, v)
        return _text(w, p, v, nonempty=nonempty)

    return text


def _list_converter(f: Field, one: Convert) -> Convert:
    name, unique = f.name, f.unique

    def convert(where: _Where, _path: str, value: object) -> object:
        out: list[object] = []
        seen: dict[object, int] = {}
        for k, raw in enumerate(_list(where, name, value)):
            path = f"{name}[{k}]"
            item = one(where, path, raw)
            if unique:
                if item in seen:
                    first = f"{name}[{seen[item]}]"
                    raise where.error(path, f"重复的取值（首次在 {first}） / duplicate value (first at {first})", raw)
                seen[item] = k
            out.append(item)
        return out

    return convert


def _records_converter(f: Field, items: tuple[str, ...], tolerated: tuple[str, ...] = ()) -> Convert:
    """Validate a list of records: each a mapping of the declared fields only, in declaration order.

    ``tolerated``: record fields another policy of the run declares (accepted, not read here).
    """
    name = f.name
    allowed = (*(r.name for r in f.records), *tolerated)
    subs = [(r.name, _converter(r, items), r.required, r.when, _only(r)) for r in f.records]
    unique_by = f.unique_by
    if f.unique_message is not None:
        template = f.unique_message
    else:
        pair = f"({', '.join(unique_by)})"
        what = "the pair" if len(unique_by) == 2 else "the values"
        template = Text(f"同一列表中 {pair} 重复，首条为 {{first}}", f"{what} {pair} is already given in {{first}}")

    def convert(where: _Where, _path: str, value: object) -> object:
        out: list[Record] = []
        for k, raw in enumerate(_list(where, name, value)):
            path = f"{name}[{k}]"
            if not isinstance(raw, dict):
                raise where.error(path, _RECORD, raw)
            _no_unknown(where, path, raw, allowed)
            rec = Record()
            for sub, conv, required, when, only in subs:
                present = sub in raw
                if when is not None and rec.get(when[0]) != when[1]:
                    if present:
                        raise where.error(f"{path}.{sub}", only, raw[sub])
                    rec[sub] = None
                elif present:
                    rec[sub] = conv(where, f"{path}.{sub}", raw[sub])
                elif required:
                    raise where.error(f"{path}.{sub}", _MISSING, raw)
                else:
                    rec[sub] = None
            out.append(rec)
        if unique_by:
            first: dict[tuple[object, ...], int] = {}
            for k, rec in enumerate(out):
                key = tuple(rec[u] for u in unique_by)
                if key in first:
                    at = f"{name}[{first[key]}]"
                    text = f"{template.zh.format(first=at)} / {template.en.format(first=at)}"
                    raise where.error_text(f"{name}[{k}]", f"{text}, got {_show(key)}")
                first[key] = k
        return out

    return convert


def _only(f: Field) -> str:
    if f.only is not None:
        return f.only.both()
    if f.when is None:
        return ""
    return f"只有 {f.when[1]} 记录有此字段 / only {f.when[1]} records take this field"


@dataclass(frozen=True)
class _Compiled:
    """The validation of a schema's fields, built once per schema."""

    allowed: tuple[str, ...]
    fields: tuple[tuple[str, Convert, bool, object], ...]  # name, convert, required, value when absent
    city_allowed: tuple[str, ...]
    city: tuple[tuple[str, Convert, str], ...]


def _absent(f: Field) -> object:
    """What an absent enterprise field reads as: an empty list or map (made fresh), false, or None."""
    if f.shape in ("list", "records"):
        return list
    if f.shape == "by_year":
        return dict
    return False if f.kind == "boolean" else None


def _compile(schema: Schema) -> _Compiled:
    cached = schema._compiled.get("loader")
    if isinstance(cached, _Compiled):
        return cached

    tolerated_records = dict(schema.tolerated_records)

    def conv(f: Field) -> Convert:
        if f.shape == "records":
            return _records_converter(f, schema.items, tolerated_records.get(f.name, ()))
        one = _converter(f, schema.items)
        if f.shape == "list":
            return _list_converter(f, one)
        if f.shape == "by_year":
            return lambda w, p, v: _year_map(w, p, v, one)
        return one

    compiled = _Compiled(
        allowed=("id", *(f.name for f in schema.fields), *schema.tolerated),
        fields=tuple((f.name, conv(f), f.required, _absent(f)) for f in schema.fields),
        city_allowed=(*(f.name for f in schema.city), *schema.city_tolerated),
        city=tuple((f.name, conv(f), f.shape) for f in schema.city),
    )
    schema._compiled["loader"] = compiled
    return compiled


def _id_field(index: int, line: int | None) -> str:
    """Where an enterprise sits when its id cannot name it: ``companies[3]``, or ``id`` in JSON Lines."""
    return "id" if line is not None else f"companies[{index}]"


_DEFAULT_SCHEMA: list[Schema] = []


def default_schema() -> Schema:
    """The input schema of the shipped policy (for callers that give none)."""
    if not _DEFAULT_SCHEMA:
        from ..policy import default_policy_dir, load_policy

        _DEFAULT_SCHEMA.append(load_policy(default_policy_dir()).schema)
    return _DEFAULT_SCHEMA[0]


def parse_company(obj: object, file: str, index: int, line: int | None = None, schema: Schema | None = None) -> Company:
    """Validate one enterprise object (a dict from JSON/YAML) against the policy's input schema.

    Args:
        obj: The enterprise as read by :func:`load_yaml` or JSON (decimals as ``Decimal``, never float).
        file: The file it came from, as given (stored in ``Company.file``).
        index: Its position in the file's ``companies`` list, or the JSON Lines line number - 1.
        line: Its JSON Lines line number; None for YAML/JSON.
        schema: The policy's declared inputs (default: the shipped policy's).

    Returns:
        The validated enterprise, money in fen.

    Raises:
        InputError: The first problem found (in the field order of the schema).

    """
    compiled = _compile(schema or default_schema())
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
    _no_unknown(where, "", data, compiled.allowed)
    values: dict[str, object] = {}
    for name, convert, required, absent in compiled.fields:
        if name in data:
            values[name] = convert(where, name, data[name])
        elif required:
            raise where.error(name, _MISSING, data)
        else:
            values[name] = absent() if absent is list or absent is dict else absent
    return Company(id=ident, file=file, line=line, index=index, values=values)


def parse_city(obj: object, file: str, schema: Schema | None = None) -> City:
    """Validate the ``city`` mapping of a document.

    Args:
        obj: The value of ``city`` (a mapping of the schema's city fields).
        file: The file it came from; recorded in ``City.sources`` for every figure.
        schema: The policy's declared inputs (default: the shipped policy's).

    Returns:
        The city figures (decimals as normalised Decimals).

    Raises:
        InputError: Not a mapping, an unknown field, a bad year or a bad figure.

    """
    compiled = _compile(schema or default_schema())
    where = _Where(file, None, None)
    if not isinstance(obj, dict):
        raise where.error("city", _MAP, obj)
    data: dict[object, object] = obj
    _no_unknown(where, "city", data, compiled.city_allowed)
    city = City()
    for name, convert, shape in compiled.city:
        if name in data:
            value = convert(where, f"city.{name}", data[name])
            city.values[name] = value
            if shape == "by_year":
                assert isinstance(value, dict)
                city.sources.update((f"city.{name}.{y}", file) for y in value)
            else:
                city.sources[f"city.{name}"] = file
    return city


def merge_city(parts: list[tuple[City, str]]) -> City:
    """Merge the city figures of several files.

    Args:
        parts: Each file's city figures and the file's path.

    Returns:
        One :class:`City`, by_year maps in ascending year order, each figure with the file that first gave it.

    Raises:
        InputError: The same figure is given with different values (named at the later file).

    """
    merged: dict[str, object] = {}
    sources: dict[str, str] = {}
    for city, file in parts:
        for name, value in city.values.items():
            pairs = value.items() if isinstance(value, dict) else [(None, value)]
            target = merged.setdefault(name, {} if isinstance(value, dict) else {None: None})
            assert isinstance(target, dict)
            for year, figure in pairs:
                path = f"city.{name}.{year}" if year is not None else f"city.{name}"
                source = city.sources.get(path, file)
                if path not in sources:
                    target[year] = figure
                    sources[path] = source
                elif target[year] != figure:
                    first, old = sources[path], target[year]
                    text = f"与 {first} 给出的 {old} 不一致 / differs from {old} given in {first}"
                    text = f"{text}, got {_show(figure)}"
                    raise InputError(source, None, path, text)
    out = City()
    for name, target in merged.items():
        assert isinstance(target, dict)
        if None in target:
            out.values[name] = target[None]
        else:
            out.values[name] = {y: target[y] for y in sorted(target)}
    out.sources = {p: sources[p] for p in sorted(sources)}
    return out


class IdRegistry:
    """Enterprise ids seen so far in a run (across all files); a second use of an id is an input error.

    A run over millions of enterprises keeps every id, so each is stored with one packed integer (the
    file's number, and the line or the list index) rather than a tuple: about half the memory.
    """

    _LINE = 1 << 40

    def __init__(self, schema: Schema | None = None) -> None:
        #: The schema the files were read with (to name an .xlsx enterprise by its id cell).
        self.schema = schema
        self._seen: dict[str, int] = {}
        self._files: list[str] = []
        self._file_no: dict[str, int] = {}

    def __len__(self) -> int:
        return len(self._seen)

    def __contains__(self, ident: object) -> bool:
        return ident in self._seen

    def _where(self, file: str, ident: str, index: int) -> str:
        """``companies[3]`` in a YAML or JSON file; the id's cell in a workbook."""
        if self.schema is not None and file.lower().endswith(".xlsx"):
            from .xlsx_input import id_cell

            cell = id_cell(file, self.schema, ident)
            if cell is not None:
                return cell
        return f"companies[{index}]"

    def add(self, company: Company) -> None:
        """Record an enterprise.

        Args:
            company: The enterprise (only ``id``, ``file``, ``line`` and ``index`` are used).

        Raises:
            InputError: Its id was already used; the message names the first place.

        """
        first = self._seen.get(company.id)
        if first is None:
            no = self._file_no.get(company.file)
            if no is None:
                no = self._file_no[company.file] = len(self._files)
                self._files.append(company.file)
            at = self._LINE | company.line if company.line is not None else company.index
            self._seen[company.id] = (no << 41) | at
            return
        file, at = self._files[first >> 41], first & ((1 << 41) - 1)
        place = f"{file}:{at & (self._LINE - 1)}" if at & self._LINE else f"{file} {self._where(file, company.id, at)}"
        raise InputError(
            company.file,
            company.id,
            self._where(company.file, company.id, company.index) if company.line is None else "id",
            f"企业 id 重复，首次出现在 {place} / duplicate enterprise id, first given at {place}, "
            f"got {_show(company.id)}",
            company.line,
        )  # fmt: skip


# ---- YAML -------------------------------------------------------------------------------------------------


class _DuplicateKeyError(yaml.constructor.ConstructorError):
    """A mapping that gives the same key twice (raised while constructing; located by :func:`load_yaml_data`)."""

    def __init__(self, key: object, node: yaml.MappingNode, first: yaml.Node, second: yaml.Node) -> None:
        super().__init__("while constructing a mapping", None, f"found duplicate key {_show(key)}", second.start_mark)
        self.key = key
        self.node = node
        self.first = first
        self.second = second


class DuplicateKeyError(Exception):
    """A key given twice in one mapping of a YAML or JSON document, located from the document's root.

    Attributes:
        key: The key as read (a string, or an int for an unquoted YAML ``2026``).
        path: The keys and list indices from the root to the key, the key last (``("companies", 3, "revenue",
            "2026")``).
        ids: For each prefix of ``path`` (``ids[n]`` for ``path[:n]``), the ``id`` of the mapping found there when
            it has exactly one string ``id`` and that is not the key given twice, else None.
        line: The line of the second occurrence (1-based), when known.
        first_line: The line of the first occurrence, when known.

    """

    def __init__(
        self,
        key: object,
        path: tuple[str | int, ...],
        ids: tuple[str | None, ...],
        line: int | None,
        first_line: int | None,
    ) -> None:
        super().__init__(key, path)
        self.key = key
        self.path = path
        self.ids = ids
        self.line = line
        self.first_line = first_line

    @property
    def field(self) -> str:
        """The path as text: ``companies[3].revenue.2026``."""
        return field_path(self.path)


def field_path(path: tuple[str | int, ...]) -> str:
    """Write a document path as a field path: keys joined by ``.``, list indices as ``[k]``.

    Args:
        path: Keys and list indices from the root.

    Returns:
        The text, e.g. ``events[1].cost``; a key that is not short printable text is shown quoted.

    """
    out = ""
    for part in path:
        out = f"{out}[{part}]" if isinstance(part, int) else _key_path(out, part)
    return out


class StrictLoader(yaml.SafeLoader):
    """A YAML loader for the data contract: exact decimals, few implicit types, no duplicate keys.

    Implicit types: ``true``/``false`` (also ``True``, ``TRUE`` …), ``null``/``~``/empty, plain decimal integers
    (``-12``, ``2026``; not ``0651``, ``1_000``, ``0x1F``, ``0o7``, which stay strings), and decimals
    (``1.25``, ``1e6``, ``.nan``, ``.inf``) which become :class:`decimal.Decimal` built from their text
    (NaN and infinities are then rejected by validation, with the field named). Everything else,
    including ``yes``/``no``/``on``/``off`` and dates, is a string.
    """

    yaml_implicit_resolvers: dict[Any, Any] = {}

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        """Build a mapping, refusing a key given twice."""
        seen: dict[object, yaml.Node] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            try:
                first = seen.get(key)
            except TypeError:  # unhashable: the base class reports it
                break
            if first is not None:
                raise _DuplicateKeyError(key, node, first, key_node)
            seen[key] = key_node
        return super().construct_mapping(node, deep)


def _node_key(node: yaml.Node) -> str:
    """A key node as a path component: its text as written (``2026``, ``name``), ``{…}``/``[…]`` if not a scalar."""
    if isinstance(node, yaml.ScalarNode):
        return str(node.value)
    return "{…}" if isinstance(node, yaml.MappingNode) else "[…]"


def _node_id(node: yaml.MappingNode, duplicated: object) -> str | None:
    """The ``id`` of a mapping node: its one string ``id`` value (None if absent, not text, or given twice)."""
    values = [v for k, v in node.value if isinstance(k, yaml.ScalarNode) and k.value == "id"]
    if len(values) != 1 or duplicated == "id" or not isinstance(values[0], yaml.ScalarNode):
        return None
    value = values[0]
    if value.tag != "tag:yaml.org,2002:str" or not value.value or "\x00" in value.value:
        return None
    return str(value.value)


def _locate_yaml(root: yaml.Node, exc: _DuplicateKeyError) -> DuplicateKeyError:
    """Find the mapping of ``exc`` under ``root`` (depth first, aliases visited once) and name its path."""
    stack: list[tuple[yaml.Node, tuple[str | int, ...], tuple[yaml.Node, ...]]] = [(root, (), ())]
    seen: set[int] = set()
    found: tuple[tuple[str | int, ...], tuple[yaml.Node, ...]] = ((), ())
    while stack:
        node, path, nodes = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if node is exc.node:
            found = (path, (*nodes, node))
            break
        if isinstance(node, yaml.MappingNode):
            children = [(v, (*path, _node_key(k)), (*nodes, node)) for k, v in node.value]
        elif isinstance(node, yaml.SequenceNode):
            children = [(v, (*path, k), (*nodes, node)) for k, v in enumerate(node.value)]
        else:
            continue
        stack.extend(reversed(children))
    path, nodes = found
    ids = tuple(
        _node_id(n, exc.key if n is exc.node else None) if isinstance(n, yaml.MappingNode) else None for n in nodes
    )
    return DuplicateKeyError(
        exc.key,
        (*path, _node_key(exc.first)),
        (*ids, None),
        exc.second.start_mark.line + 1,
        exc.first.start_mark.line + 1,
    )


_YAML_INT = re.compile(r"[-+]?(?:0|[1-9][0-9]*)")
_YAML_FLOAT = re.compile(r"[-+]?(?:[0-9]+\.[0-9]*|\.[0-9]+|[0-9]+(?=[eE]))(?:[eE][-+]?[0-9]+)?")
_YAML_SPECIAL = re.compile(r"([-+]?)\.(?:(inf|Inf|INF)|nan|NaN|NAN)")
# Explicit ``!!float`` also takes an integer's text.
_FLOAT_TEXT = re.compile(r"[-+]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?")

StrictLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
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


class HugeNumber:
    """A number written with an exponent no :class:`~decimal.Decimal` holds (``1e99999999999999999999``).

    Kept as its text; validation rejects it as out of range, naming the file, enterprise and field.
    """

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return self.text

    @property
    def tiny(self) -> bool:
        """A negative exponent: the number is not too large but has too many decimal places."""
        return "e-" in self.text.lower()


_ZERO_DIGITS = re.compile(r"[-+]?[0.]*(?:[eE].*)?")


def exact_decimal(text: str) -> Decimal | HugeNumber:
    """The exact Decimal of a number's text; a :class:`HugeNumber` when its exponent is out of reach."""
    try:
        return Decimal(text)
    except ArithmeticError:  # decimal.InvalidOperation: the exponent exceeds what Decimal can hold
        return Decimal(0) if _ZERO_DIGITS.fullmatch(text) else HugeNumber(text)


def _int_of(text: str) -> int | Decimal:
    # Over-long integers stay exact Decimals (int() refuses more than 4300 digits); validation rejects them.
    return int(text) if len(text) <= 100 else Decimal(text)


#: YAML 1.2's booleans (not ``tRuE``, not ``yes``/``on``): anything else is a string, which validation names.
_BOOLEANS = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}


def _construct_bool(loader: StrictLoader, node: yaml.Node) -> bool:
    value = loader.construct_scalar(node)  # type: ignore[arg-type]
    if value in _BOOLEANS:
        return _BOOLEANS[value]
    raise yaml.constructor.ConstructorError(None, None, f"not a boolean: {value!r}", node.start_mark)


def _construct_int(loader: StrictLoader, node: yaml.Node) -> int | Decimal:
    value = loader.construct_scalar(node)  # type: ignore[arg-type]
    if _YAML_INT.fullmatch(value):
        return _int_of(value)
    raise yaml.constructor.ConstructorError(None, None, f"not a plain decimal integer: {value!r}", node.start_mark)


def _construct_float(loader: StrictLoader, node: yaml.Node) -> Decimal | HugeNumber:
    value = loader.construct_scalar(node)  # type: ignore[arg-type]
    special = _YAML_SPECIAL.fullmatch(value)
    if special:
        if special.group(2) is None:
            return Decimal("NaN")
        return Decimal("-Infinity" if special.group(1) == "-" else "Infinity")
    if _FLOAT_TEXT.fullmatch(value):
        return exact_decimal(value)
    raise yaml.constructor.ConstructorError(None, None, f"not a decimal number: {value!r}", node.start_mark)


StrictLoader.add_constructor("tag:yaml.org,2002:bool", _construct_bool)
StrictLoader.add_constructor("tag:yaml.org,2002:int", _construct_int)
StrictLoader.add_constructor("tag:yaml.org,2002:float", _construct_float)


def load_yaml_data(text: str) -> object:
    """Parse YAML text with :class:`StrictLoader`, locating a key given twice from the document's root.

    Args:
        text: The YAML text (one document).

    Returns:
        The document: dicts, lists, str, int, Decimal, bool, None.

    Raises:
        DuplicateKeyError: A mapping gives a key twice (with its path and both lines).
        yaml.YAMLError: A syntax error.
        RecursionError: Nesting too deep.

    """
    loader = StrictLoader(text)
    try:
        root = loader.get_single_node()
        if root is None:
            return None
        try:
            return loader.construct_document(root)
        except _DuplicateKeyError as exc:
            raise _locate_yaml(root, exc) from None
    finally:
        loader.dispose()


def load_yaml(text: str, file: str) -> object:
    """Parse YAML text with :class:`StrictLoader` (also for other modules holding contract data in YAML).

    Args:
        text: The YAML text (one document).
        file: The file name, for errors.

    Returns:
        The document: dicts, lists, str, int, Decimal, bool, None.

    Raises:
        InputError: Syntax error or duplicate key (with the line when known; a duplicate key names the
            enterprise and field path).

    """
    try:
        return load_yaml_data(text)
    except DuplicateKeyError as exc:
        raise _duplicate(exc, file, jsonl=False) from None
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


def duplicate_text(exc: DuplicateKeyError) -> str:
    """What a duplicate key message says was expected and found (Chinese, then English).

    Args:
        exc: The duplicate key.

    Returns:
        ``键重复：每个键只能出现一次 / duplicate key: each key at most once, got 'name' twice (first at line 3)``.

    """
    first = exc.first_line
    where = "" if first is None or first == exc.line else f"（首次在第 {first} 行）"
    where_en = "" if not where else f" (first at line {first})"
    return f"{_DUP_KEY}{where} / {_DUP_KEY_EN}{where_en}, got {_show(exc.key)} twice"


def _duplicate(exc: DuplicateKeyError, file: str, *, jsonl: bool, line: int | None = None) -> InputError:
    """The input error of a duplicate key: the enterprise by id (else by position) and the field path.

    ``jsonl``: the document is one enterprise (a JSON Lines line); else a document of ``city`` and
    ``companies``, whose ``companies[k]`` are the enterprises.
    """
    path = exc.path
    at: int | None = None
    if jsonl:
        at = 0
    elif len(path) > 2 and path[0] == "companies" and isinstance(path[1], int):
        at = 2
    ident = exc.ids[at] if at is not None and at < len(exc.ids) else None
    if ident is not None and at is not None:
        company, field = ident, field_path(path[at:])
    else:
        company, field = None, field_path(path)
    return InputError(file, company, field, duplicate_text(exc), line if line is not None else exc.line)


# ---- JSON -------------------------------------------------------------------------------------------------


class _JsonDuplicateAt(Exception):
    """The positions of a key given twice (the second pass of :func:`_json_lines_of`)."""

    def __init__(self, first: int, second: int) -> None:
        super().__init__(first, second)
        self.first = first
        self.second = second


def _json_options(hook: Callable[[list[tuple[str, Any]]], dict[str, Any]]) -> dict[str, Any]:
    # NaN/Infinity become non-finite Decimals so that validation rejects them naming the field.
    return {"parse_float": exact_decimal, "parse_int": _int_of, "parse_constant": Decimal, "object_pairs_hook": hook}


def _json_lines_of(text: str) -> tuple[int, int] | None:
    """The lines of the second and first occurrence of the first key given twice (None if not found).

    Only on the error path: the text is parsed again by :mod:`json`'s pure-Python scanner, whose object
    parser is wrapped to see where each value starts (the C scanner tells no positions). Objects close in the
    same order in both scanners, so the object found is the one :func:`_load_json` found.
    """
    decoder = json.JSONDecoder(**_json_options(dict))
    parse = json.decoder.JSONObject  # type: ignore[attr-defined]

    def parse_object(s_and_end: tuple[str, int], strict: bool, scan_once: Any, *rest: Any) -> Any:
        starts: list[int] = []

        def scan(string: str, idx: int) -> Any:
            starts.append(idx)
            return scan_once(string, idx)

        def hook(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
            first: dict[str, int] = {}
            for (key, _), at in zip(pairs, starts, strict=False):
                if key in first:
                    raise _JsonDuplicateAt(first[key], at)
                first[key] = at
            return dict(pairs)

        object_hook, _pairs_hook, *memo = rest
        return parse(s_and_end, strict, scan, object_hook, hook, *memo)

    decoder.parse_object = parse_object  # type: ignore[attr-defined]
    decoder.scan_once = json.scanner.py_make_scanner(decoder)  # type: ignore[attr-defined]
    try:
        decoder.decode(text)
    except _JsonDuplicateAt as at:
        # The line of the colon before each value (a key's line: JSON strings hold no raw line break).
        return tuple(text.count("\n", 0, text.rindex(":", 0, v)) + 1 for v in (at.second, at.first))  # type: ignore[return-value]
    except (ValueError, RecursionError):
        return None
    return None


def _locate_json(doc: object, target: dict[str, Any], key: str) -> tuple[tuple[str | int, ...], tuple[str | None, ...]]:
    """The path from ``doc`` to the dict ``target`` (found by identity, depth first) and the ids along it."""
    stack: list[tuple[object, tuple[str | int, ...], tuple[object, ...]]] = [(doc, (), ())]
    while stack:
        value, path, values = stack.pop()
        if value is target:
            found = (*values, value)
            ids = tuple(
                v["id"]
                if isinstance(v, dict) and isinstance(v.get("id"), str) and v["id"] and "\x00" not in v["id"]
                and not (v is target and key == "id")
                else None
                for v in found
            )  # fmt: skip
            return (*path, key), (*ids, None)
        if isinstance(value, dict):
            stack.extend(reversed([(v, (*path, k), (*values, value)) for k, v in value.items()]))
        elif isinstance(value, list):
            stack.extend(reversed([(v, (*path, k), (*values, value)) for k, v in enumerate(value)]))
    return (key,), (None, None)


def _load_json(text: str, file: str, line: int | None, *, jsonl: bool | None = None) -> object:
    """Parse JSON exactly; ``line`` is the JSON Lines line (None: a whole .json file).

    A key given twice is an :class:`InputError` naming the enterprise (``jsonl``: the document is one
    enterprise; default: when ``line`` is given) and the field path, e.g. ``revenue.2026``.
    """
    duplicated: list[tuple[dict[str, Any], str]] = []

    def hook(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        out = dict(pairs)
        if len(out) != len(pairs) and not duplicated:
            seen: set[str] = set()
            for key, _ in pairs:
                if key in seen:
                    duplicated.append((out, key))
                    break
                seen.add(key)
        return out

    try:
        doc = json.loads(text, **_json_options(hook))
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
    if duplicated:
        target, key = duplicated[0]
        path, ids = _locate_json(doc, target, key)
        lines = _json_lines_of(text) if line is None else None
        dup = DuplicateKeyError(key, path, ids, *(lines or (line, None)))
        raise _duplicate(dup, file, jsonl=line is not None if jsonl is None else jsonl)
    return doc


def parse_jsonl_line(text: str, file: str, line: int, schema: Schema | None = None) -> Company:
    """Parse and validate one JSON Lines line (blank lines are the caller's business).

    Args:
        text: The line, without its line break.
        file: The file, as given.
        line: The line number (1-based); the enterprise gets ``index = line - 1``.
        schema: The policy's declared inputs (default: the shipped policy's).

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
    return parse_company(obj, file, line - 1, line, schema)


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


def read_document(path: str, schema: Schema | None = None) -> tuple[City | None, list[Company]]:
    """Read and validate a YAML or JSON file (a JSON Lines file is read whole, line by line).

    Args:
        path: The file; its extension decides the format.
        schema: The policy's declared inputs (default: the shipped policy's).

    Returns:
        The file's city figures (None when it has no ``city``) and its enterprises, in file order.

    Raises:
        InputError: Unknown extension, unreadable file, bad UTF-8, syntax error, or bad data.

    """
    suffix = Path(path).suffix.lower()
    if suffix in (".xlsx", ".xls"):  # a filled input workbook (the layout of `fuchi template`)
        from .xlsx_input import read_workbook

        return read_workbook(path, schema or default_schema())
    if suffix not in _SUFFIXES:
        raise InputError(path, None, "", f"{_FILE_TYPE}, got {_show(suffix or Path(path).name)}")
    if suffix == ".jsonl":
        return None, [parse_jsonl_line(text, path, n, schema) for n, text in iter_jsonl(path)]
    text = _read_text(path)
    doc = _load_json(text, path, None) if suffix == ".json" else load_yaml(text, path)
    where = _Where(path, None, None)
    if not isinstance(doc, dict):
        raise where.error("", _DOCUMENT, doc)
    data: dict[object, object] = doc
    _no_unknown(where, "", data, ("city", "companies"))
    city = parse_city(data["city"], path, schema) if "city" in data else None
    companies: list[Company] = []
    if "companies" in data:
        items = data["companies"]
        if not isinstance(items, list):
            raise where.error("companies", _LIST, items)
        companies = [parse_company(obj, path, k, None, schema) for k, obj in enumerate(items)]
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
            text = jsonl_text(raw, path, n)
            if text is not None:
                yield n, text


def jsonl_text(raw: bytes, path: str, n: int) -> str | None:
    """The text of one JSON Lines line as :func:`iter_jsonl` reads it (None: a blank line, skipped).

    Args:
        raw: The line's bytes, with or without its line break.
        path: The file, as given (named in the error).
        n: The line number from 1 (line 1 may start with a byte-order mark, which is dropped).

    Raises:
        InputError: The line is not valid UTF-8.
    """
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(path, None, "", f"{_UTF8}, got byte {raw[exc.start]:#04x}", n) from None
    if n == 1:
        text = text.removeprefix("\ufeff")
    text = text.rstrip("\r\n")
    return text if text.strip(" \t\r") else None

"""The input schema a policy declares in ``inputs.yaml``: fields, their kinds, and the facts they become.

The loader validates enterprise and city data against it, the fact builder writes the input predicates
from it, the SQL compiler lays out its input tables from it, ``fuchi check`` types the rules with it and
``fuchi inputs`` renders it as the field tables of the data format. No input of any policy is named in
Python. A malformed schema is a :class:`~fuchi.errors.PolicyError` at ``inputs.yaml:line``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from pathlib import Path
from typing import Any

import clingo
import yaml

from ..errors import PolicyError
from .records import MAX_DECIMAL, MAX_MONEY_YUAN

#: The kinds a field may have.
KINDS = ("text", "id", "boolean", "year", "integer", "money", "decimal", "enumeration", "item")
#: The kinds a field declared ``adjustable: true`` may have (numbers; booleans, ids, enumerations never change).
ADJUSTABLE_KINDS = ("money", "decimal", "integer")
#: Argument kinds of input predicates (the compiler's vocabulary, compiler/inputs.py).
_ARG_KIND = {
    "text": "string",
    "id": "string",
    "item": "string",
    "boolean": "constant",
    "enumeration": "constant",
    "year": "year",
    "integer": "integer",
    "money": "money",
    "decimal": "decimal",
}
_NAME = re.compile(r"[a-z][a-z0-9_]*")
_INT32 = (-(2**31), 2**31 - 1)
_FILE = "inputs.yaml"
#: Names a field cannot take: the enterprise id, the document's keys, the names of fact arguments.
_RESERVED = ("id", "city", "companies", "company", "key", "value", "prefix")


@dataclass(frozen=True)
class Text:
    """A text in Chinese and English."""

    zh: str
    en: str

    def both(self) -> str:
        """``中文 / English``."""
        return f"{self.zh} / {self.en}"


@dataclass(frozen=True)
class Arg:
    """One argument of a fact template.

    Attributes:
        source: ``company``, ``key``, ``year`` (a by_year key), ``value`` or a record field's name.
        prefix: For ``prefix(value, N)``: N, the number of leading characters kept.
    """

    source: str
    prefix: int | None = None


@dataclass(frozen=True)
class Fact:
    """The input predicate a field (or a record) becomes: ``pred(company, key, year, kind, cost)``."""

    predicate: str
    args: tuple[Arg, ...]
    line: int

    @property
    def signature(self) -> tuple[str, int]:
        """``(name, arity)``."""
        return (self.predicate, len(self.args))


@dataclass(frozen=True)
class Field:
    """One declared field.

    Attributes:
        name: The key in the data.
        kind: One of :data:`KINDS`; ``None`` for a list of records.
        shape: ``scalar``, ``list``, ``by_year`` or ``records``.
        records: For ``records``: the fields of one record, in validation order.
        unique_by: For ``records``: fields whose values together must not repeat in the list.
        adjustable: The enterprise's own number of a data year, which ``fuchi explain --how-to-qualify`` may
            change (a money, decimal or integer field of a by_year map, or of records with a year field);
            history and findings are never declared so.
    """

    name: str
    kind: str | None
    shape: str
    label: Text
    line: int
    required: bool = False
    values: tuple[str, ...] = ()
    minimum: Decimal | None = None
    maximum: Decimal | None = None
    whole: bool = False
    positive: bool = False
    pattern: str | None = None
    integers: int = 0
    expected: Text | None = None
    unique: bool = False
    numbered: str | None = None
    when: tuple[str, str] | None = None
    only: Text | None = None
    absent: str | None = None
    fact: Fact | None = None
    records: tuple[Field, ...] = ()
    unique_by: tuple[str, ...] = ()
    unique_message: Text | None = None
    adjustable: bool = False

    def record_field(self, name: str) -> Field:
        """The field ``name`` of this list's records (KeyError when there is none)."""
        for f in self.records:
            if f.name == name:
                return f
        raise KeyError(name)


@dataclass(frozen=True)
class Schema:
    """A policy's declared inputs.

    Attributes:
        id_label: The label of the enterprise id (``id``, always required, unique across files).
        id_fact: The fact written for every enterprise (``company(company)``).
        fields: The enterprise fields, in validation order.
        city: The city figures' fields.
        items: The item ids of policy.yaml (the values of kind ``item``).
        file: Where the schema was read from.
    """

    id_label: Text
    id_fact: Fact
    fields: tuple[Field, ...]
    city: tuple[Field, ...]
    items: tuple[str, ...]
    file: str
    #: Names another policy of the same run declares and this one does not (``diff`` of a draft with new
    #: inputs): accepted in the data and ignored here — the policy that declares them validates them.
    #: Enterprise fields; record fields by list (``(list, (field, …))``); city fields.
    tolerated: tuple[str, ...] = ()
    tolerated_records: tuple[tuple[str, tuple[str, ...]], ...] = ()
    city_tolerated: tuple[str, ...] = ()
    _by_name: dict[str, Field] = field(default_factory=dict, repr=False, compare=False)
    #: Per-schema caches of the loader and the fact builder (built on first use).
    _compiled: dict[str, object] = field(default_factory=dict, repr=False, compare=False)

    def __getstate__(self) -> dict[str, object]:
        """Pickled without the caches (closures): a schema travels to worker processes (``diff`` of YAML data)."""
        state = dict(self.__dict__)
        state["_compiled"] = {}
        return state

    def tolerating(self, others: Sequence[Schema]) -> Schema:
        """The same schema, also accepting (and ignoring) the fields that ``others`` declare and it does not.

        For a run of several policies over the same data (``diff``, ``sweep``): a field only the draft
        declares is no typo, and the draft validates it; the base, which has no rule reading it, ignores it.
        A field nobody declares is still refused.
        """
        own = {f.name for f in self.fields}
        own_city = {f.name for f in self.city}
        extra = sorted({f.name for o in others for f in o.fields} - own)
        city_extra = sorted({f.name for o in others for f in o.city} - own_city)
        records: list[tuple[str, tuple[str, ...]]] = []
        for f in self.fields:
            if f.shape != "records":
                continue
            mine = {r.name for r in f.records}
            theirs = {
                r.name for o in others for g in o.fields if g.name == f.name and g.shape == "records" for r in g.records
            }
            if theirs - mine:
                records.append((f.name, tuple(sorted(theirs - mine))))
        if not extra and not city_extra and not records:
            return self
        return Schema(
            self.id_label, self.id_fact, self.fields, self.city, self.items, self.file,
            tuple(extra), tuple(records), tuple(city_extra),
        )  # fmt: skip

    def field(self, name: str) -> Field:
        """The enterprise field ``name`` (KeyError when there is none)."""
        if not self._by_name:
            self._by_name.update((f.name, f) for f in self.fields)
        return self._by_name[name]

    def facts(self) -> list[tuple[Fact, list[str]]]:
        """Every fact template with the argument kinds it writes (``money|none`` for an absent amount)."""
        out: list[tuple[Fact, list[str]]] = [(self.id_fact, ["company"])]
        for f in self.fields:
            out.extend(_field_facts(f))
        for f in self.city:
            out.extend(_field_facts(f))
        return out

    def predicates(self) -> dict[tuple[str, int], list[str]]:
        """Input predicate → the kind of each argument (``company``, ``key``, ``year``, ``money|none`` …)."""
        out: dict[tuple[str, int], list[str]] = {}
        for fact, kinds in self.facts():
            out[fact.signature] = kinds
        return out


def _field_facts(f: Field) -> list[tuple[Fact, list[str]]]:
    out: list[tuple[Fact, list[str]]] = []
    if f.fact is not None:
        out.append((f.fact, [_arg_kind(a, f, f) for a in f.fact.args]))
    for sub in f.records:
        if sub.fact is not None:
            out.append((sub.fact, [_arg_kind(a, sub, f) for a in sub.fact.args]))
    return out


def _arg_kind(arg: Arg, owner: Field, parent: Field) -> str:
    if arg.source in ("company", "key", "year") and not (arg.source == "year" and parent.shape == "records"):
        return arg.source
    target = owner if arg.source == "value" else parent.record_field(arg.source)
    if arg.prefix is not None:
        return "string"
    assert target.kind is not None
    kind = "integer" if target.numbered else _ARG_KIND[target.kind]
    if target.absent is not None:
        kind = f"{kind}|none" if target.absent == "none" else f"{kind}|constant"
    return kind


# ---- reading inputs.yaml ------------------------------------------------------------------------------------


class _Lines(dict[Any, Any]):
    """A mapping that remembers the line of each key."""

    line = 0
    key_lines: dict[Any, int]


class _Loader(yaml.SafeLoader):
    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        out = _Lines()
        out.line = node.start_mark.line + 1
        out.key_lines = {}
        for key_node, value_node in node.value:
            key = self.construct_object(key_node, deep=True)
            if key in out.key_lines:
                raise PolicyError(f"{key!r} is given twice", _FILE, key_node.start_mark.line + 1)
            out.key_lines[key] = key_node.start_mark.line + 1
            out[key] = self.construct_object(value_node, deep=True)
        return out


_Loader.add_constructor("tag:yaml.org,2002:map", _Loader.construct_mapping)


def _no_duplicate_keys(text: str) -> None:
    """Refuse a key given twice, naming its path from the root (``enterprise.fields.revenue.kind``) and both lines.

    Raises:
        PolicyError: A mapping gives a key twice (other problems are left to the schema's own reader).
    """
    from .loader import DuplicateKeyError, duplicate_text, load_yaml_data

    try:
        load_yaml_data(text)
    except DuplicateKeyError as exc:
        raise PolicyError(f"{exc.field}: {duplicate_text(exc)}", _FILE, exc.line) from None
    except (yaml.YAMLError, RecursionError, ValueError):
        return  # reported by the schema's reader, with its own location


def load_schema(root: Path, items: tuple[str, ...]) -> Schema:
    """Read ``inputs.yaml`` of a policy directory.

    Args:
        root: The policy directory.
        items: The item ids of policy.yaml (the values a field of kind ``item`` takes).

    Returns:
        The schema.

    Raises:
        PolicyError: The file is missing, does not parse, or declares something malformed (file:line).

    """
    path = root / _FILE
    if not path.is_file():
        raise PolicyError(
            "inputs.yaml is missing: every policy declares its input fields there (docs/drafting.md) / "
            "缺少 inputs.yaml：政策须在其中声明输入字段",
            _FILE,
        )
    try:
        text = path.read_text(encoding="utf-8")
        _no_duplicate_keys(text)
        data = yaml.load(text, Loader=_Loader)  # noqa: S506 - SafeLoader subclass
    except UnicodeDecodeError:
        raise PolicyError("not valid UTF-8 text / 不是有效的 UTF-8 文本", _FILE) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        raise PolicyError(
            f"YAML syntax error / YAML 语法错误: {exc.problem or exc.context}",
            _FILE,
            mark.line + 1 if mark else None,
        ) from None
    except yaml.YAMLError as exc:
        raise PolicyError(f"YAML syntax error / YAML 语法错误: {exc}", _FILE) from None
    if not isinstance(data, _Lines):
        raise PolicyError("expected a mapping with enterprise: and city: / 应为含 enterprise 与 city 的映射", _FILE, 1)
    _keys(data, ("enterprise", "city"), "the top level")
    enterprise = data.get("enterprise")
    if not isinstance(enterprise, _Lines):
        raise PolicyError("enterprise: expected a mapping with id: and fields:", _FILE, data.line)
    _keys(enterprise, ("id", "fields"), "enterprise")
    ident = enterprise.get("id")
    if not isinstance(ident, _Lines) or "fact" not in ident:
        raise PolicyError("enterprise.id: expected {label: …, fact: company(company)}", _FILE, enterprise.line)
    _keys(ident, ("label", "fact"), "enterprise.id")
    id_fact = _fact(ident["fact"], ident.key_lines["fact"], scope=("company",))
    fields = _fields(enterprise.get("fields"), enterprise, "enterprise.fields", items, city=False)
    city_fields: tuple[Field, ...] = ()
    if "city" in data:
        city = data["city"]
        if not isinstance(city, _Lines):
            raise PolicyError("city: expected a mapping with fields:", _FILE, data.key_lines["city"])
        _keys(city, ("fields",), "city")
        city_fields = _fields(city.get("fields"), city, "city.fields", items, city=True)
    schema = Schema(_text(ident.get("label"), ident, "label"), id_fact, fields, city_fields, items, str(path))
    seen: dict[tuple[str, int], int] = {}
    names: dict[str, tuple[int, int]] = {}
    for fact, _ in schema.facts():
        if fact.signature in seen:
            raise PolicyError(
                f"{fact.predicate}/{len(fact.args)} is written by two fields (the other at line "
                f"{seen[fact.signature]}) / 两个字段写同一输入谓词",
                _FILE,
                fact.line,
            )
        other = names.get(fact.predicate)
        if other is not None:
            raise PolicyError(
                f"{fact.predicate} is written with {len(fact.args)} and with {other[0]} arguments (line "
                f"{other[1]}) / 同一谓词的参数个数不一致",
                _FILE,
                fact.line,
            )
        seen[fact.signature] = fact.line
        names[fact.predicate] = (len(fact.args), fact.line)
    return schema


def _keys(node: _Lines, allowed: tuple[str, ...], where: str) -> None:
    for key in node:
        if key not in allowed:
            raise PolicyError(
                f"{where}: unknown key {key!r} (allowed: {', '.join(allowed)}) / 未知的键",
                _FILE,
                node.key_lines.get(key, node.line),
            )


def _text(value: object, node: _Lines, key: str) -> Text:
    line = node.key_lines.get(key, node.line)
    if value is None:
        return Text("", "")
    if not isinstance(value, dict) or set(value) - {"zh", "en"} or not all(isinstance(v, str) for v in value.values()):
        raise PolicyError(f"{key}: expected {{zh: …, en: …}} (texts) / 应为中英文文本", _FILE, line)
    return Text(str(value.get("zh", "")), str(value.get("en", "")))


_FIELD_KEYS = (
    "kind", "label", "list", "by_year", "records", "fact", "required", "values", "min", "max", "whole",
    "positive", "pattern", "integers", "expected", "unique", "numbered", "when", "only", "absent",
    "unique_message", "adjustable",
)  # fmt: skip


def _fields(value: object, parent: _Lines, where: str, items: tuple[str, ...], *, city: bool) -> tuple[Field, ...]:
    if not isinstance(value, _Lines) or not value:
        raise PolicyError(f"{where}: expected a mapping of fields / 应为字段映射", _FILE, parent.line)
    out: list[Field] = []
    for name, spec in value.items():
        line = value.key_lines[name]
        if not isinstance(name, str) or not _NAME.fullmatch(name):
            raise PolicyError(
                f"{where}: field name {name!r} is not a lower-case identifier / 字段名应为小写标识符", _FILE, line
            )
        if name in _RESERVED:
            raise PolicyError(
                f"{where}: {name!r} is reserved (the enterprise id, the document) / 保留字段名", _FILE, line
            )
        out.append(_field(name, spec, line, items, record_of=None, city=city))
    return tuple(out)


def _field(
    name: str, spec: object, line: int, items: tuple[str, ...], *, record_of: list[Field] | None, city: bool
) -> Field:
    if not isinstance(spec, _Lines):
        raise PolicyError(f"field {name}: expected a mapping (kind, label, fact …) / 字段应为映射", _FILE, line)

    def at(key: str) -> int:
        return spec.key_lines.get(key, spec.line)

    def fail(text: str, key: str | None = None) -> PolicyError:
        return PolicyError(f"field {name}: {text}", _FILE, at(key) if key else line)

    for key in spec:
        if key not in _FIELD_KEYS:
            raise fail(f"unknown key {key!r} (allowed: {', '.join(_FIELD_KEYS)}) / 未知的键", key)
    shapes = [s for s in ("list", "by_year", "records") if spec.get(s)]
    if len(shapes) > 1:
        raise fail(f"give at most one of list, by_year, records (got {', '.join(shapes)}) / 形状只能选一种")
    shape = shapes[0] if shapes else "scalar"
    for s in ("list", "by_year"):
        if s in spec and not isinstance(spec[s], bool):
            raise fail(f"{s}: expected true or false", s)
    if record_of is not None and shape != "scalar":
        raise fail("a record field holds one value (no list, by_year or records inside records) / 记录字段只能是单值")
    if city and shape in ("list", "records"):
        raise fail("city figures are single values or by_year maps / 城市数据只能是单值或按年映射")
    kind = spec.get("kind")
    if shape == "records":
        if kind is not None:
            raise fail("a list of records has no kind (its fields have) / 记录列表本身没有 kind", "kind")
    elif kind not in KINDS:
        raise fail(
            f"kind: expected one of {', '.join(KINDS)}, got {kind!r} / 未知的类型", "kind" if "kind" in spec else None
        )
    required = spec.get("required", record_of is not None)
    if not isinstance(required, bool):
        raise fail("required: expected true or false", "required")
    if required and record_of is None and shape != "scalar":
        raise fail("only single-value fields can be required / 只有单值字段可设为必填", "required")

    values: tuple[str, ...] = ()
    if kind == "enumeration":
        raw = spec.get("values")
        if not isinstance(raw, list) or not raw or not all(isinstance(v, str) and _NAME.fullmatch(v) for v in raw):
            raise fail(
                "values: expected a list of lower-case names (they become constants) / 枚举值应为小写名称", "values"
            )
        if len(set(raw)) != len(raw):
            raise fail("values: a value is listed twice / 枚举值重复", "values")
        values = tuple(raw)
    elif "values" in spec:
        raise fail("values: only an enumeration has values / 只有 enumeration 有 values", "values")

    minimum = _bound(spec, "min", kind, fail)
    maximum = _bound(spec, "max", kind, fail)
    if minimum is not None and maximum is not None and minimum > maximum:
        raise fail("min is above max / 下限大于上限", "min")
    flags = {}
    for key, allowed in (("whole", ("money",)), ("positive", ("money",)), ("unique", None)):
        v = spec.get(key, False)
        if key == "unique" and shape == "records":
            continue
        if not isinstance(v, bool):
            raise fail(f"{key}: expected true or false", key)
        if v and allowed is not None and kind not in allowed:
            raise fail(f"{key}: only for kind {' or '.join(allowed)} / 仅适用于 {'/'.join(allowed)}", key)
        flags[key] = v
    flags.setdefault("unique", False)
    if flags["unique"] and shape != "list":
        raise fail("unique: true is for lists (records: unique: [field, …]) / unique 仅用于列表", "unique")
    integers = spec.get("integers", 0)
    if isinstance(integers, bool) or not isinstance(integers, int) or not 0 <= integers <= 18:
        raise fail("integers: the most digits an unquoted number may have to be taken as text (1–18)", "integers")
    if integers and (kind not in ("text", "id") or "pattern" not in spec):
        raise fail("integers: for a text with a pattern / integers 仅用于有 pattern 的文本", "integers")
    pattern = spec.get("pattern")
    if pattern is not None:
        if kind not in ("text", "id") or not isinstance(pattern, str):
            raise fail("pattern: a regular expression, for a text or id / pattern 仅用于文本", "pattern")
        try:
            re.compile(pattern)
        except re.error as exc:
            raise fail(f"pattern: not a regular expression ({exc}) / 不是有效的正则表达式", "pattern") from None
    expected = _text(spec["expected"], spec, "expected") if "expected" in spec else None
    numbered = spec.get("numbered")
    if numbered is not None and (kind != "id" or not isinstance(numbered, str) or not _NAME.fullmatch(numbered)):
        raise fail("numbered: a lower-case name, for a field of kind id / numbered 仅用于 id", "numbered")
    if numbered is not None and record_of is None:
        raise fail("numbered: only for a field of a record / numbered 仅用于记录字段", "numbered")
    when: tuple[str, str] | None = None
    if "when" in spec:
        raw_when = spec["when"]
        if record_of is None:
            raise fail("when: only for a field of a record / when 仅用于记录字段", "when")
        if not isinstance(raw_when, dict) or len(raw_when) != 1:
            raise fail("when: expected {field: value}, one field / when 应为 {字段: 值}", "when")
        ((other, wanted),) = raw_when.items()
        earlier = {f.name: f for f in record_of}
        if other not in earlier:
            raise fail(f"when: {other!r} is not a field declared above this one / when 须引用上方已声明的字段", "when")
        target = earlier[other]
        if target.kind == "enumeration" and wanted not in target.values:
            raise fail(f"when: {wanted!r} is not a value of {other} / 不是 {other} 的取值", "when")
        if target.kind == "item" and wanted not in items:
            raise fail(f"when: {wanted!r} is not an item of policy.yaml / 不是 policy.yaml 的条款", "when")
        if target.kind not in ("enumeration", "item", "text", "id"):
            raise fail(
                "when: the field it tests must be an enumeration, item or text / when 只能测试枚举、条款或文本", "when"
            )
        when = (str(other), str(wanted))
    only = _text(spec["only"], spec, "only") if "only" in spec else None
    adjustable = spec.get("adjustable", False)
    if not isinstance(adjustable, bool):
        raise fail("adjustable: expected true or false", "adjustable")
    if adjustable:
        if kind not in ADJUSTABLE_KINDS:
            raise fail(
                f"adjustable: only for kind {', '.join(ADJUSTABLE_KINDS)} (booleans, ids, enumerations are never "
                "changed) / adjustable 仅适用于金额、小数与整数",
                "adjustable",
            )
        if city or (record_of is None and shape != "by_year"):
            raise fail(
                "adjustable: only for an enterprise's by_year field or a field of its records (a value of one data "
                "year) / adjustable 仅适用于企业的按年字段或记录字段",
                "adjustable",
            )
    if only is not None and when is None:
        raise fail("only: goes with when: / only 须与 when 同用", "only")
    absent = spec.get("absent")
    if absent is not None:
        if record_of is None or not isinstance(absent, str) or not _NAME.fullmatch(absent):
            raise fail("absent: a constant (e.g. none), for a record field / absent 应为常量，仅用于记录字段", "absent")
        if required and when is None:
            raise fail("absent: the field is required, so never absent / 必填字段不会缺省", "absent")

    records: tuple[Field, ...] = ()
    unique_by: tuple[str, ...] = ()
    unique_message = None
    if shape == "records":
        raw_records = spec["records"]
        if not isinstance(raw_records, _Lines) or not raw_records:
            raise fail("records: expected a mapping of the record's fields / records 应为字段映射", "records")
        built: list[Field] = []
        for sub_name, sub_spec in raw_records.items():
            sub_line = raw_records.key_lines[sub_name]
            if not isinstance(sub_name, str) or not _NAME.fullmatch(sub_name):
                raise PolicyError(f"field {name}: {sub_name!r} is not a lower-case identifier", _FILE, sub_line)
            if sub_name in _RESERVED[3:]:
                raise PolicyError(
                    f"field {name}: {sub_name!r} is reserved (a fact argument) / 保留字段名", _FILE, sub_line
                )
            built.append(_field(sub_name, sub_spec, sub_line, items, record_of=built, city=city))
        records = tuple(built)
        years = [f for f in records if f.kind == "year"]
        for sub in records:
            if sub.adjustable and len(years) != 1:
                raise PolicyError(
                    f"field {name}: {sub.name}: adjustable: the records need exactly one field of kind year (the data "
                    f"year of the value), got {len(years)} / 可调整字段所在记录须恰有一个 year 字段",
                    _FILE,
                    sub.line,
                )
        if "unique" in spec:
            raw_unique = spec["unique"]
            names = [f.name for f in records]
            if not isinstance(raw_unique, list) or not raw_unique or not all(u in names for u in raw_unique):
                raise fail(f"unique: expected a list of this record's fields ({', '.join(names)})", "unique")
            unique_by = tuple(raw_unique)
        if "unique_message" in spec:
            if not unique_by:
                raise fail("unique_message: goes with unique: / unique_message 须与 unique 同用", "unique_message")
            unique_message = _text(spec["unique_message"], spec, "unique_message")
    elif "unique_message" in spec:
        raise fail("unique_message: only for a list of records", "unique_message")

    result = Field(
        name=name,
        kind=kind,
        shape=shape,
        label=_text(spec.get("label"), spec, "label"),
        line=line,
        required=required,
        values=values,
        minimum=minimum,
        maximum=maximum,
        whole=flags["whole"],
        positive=flags["positive"],
        pattern=pattern,
        integers=integers,
        expected=expected,
        unique=flags["unique"],
        numbered=numbered,
        when=when,
        only=only,
        absent=absent,
        records=records,
        unique_by=unique_by,
        unique_message=unique_message,
        adjustable=adjustable,
    )
    if "fact" in spec:
        scope = _scope(result, record_of, city)
        fact = _fact(spec["fact"], at("fact"), scope=scope)
        for a in fact.args:
            if a.prefix is not None:
                target = result if a.source == "value" else next(f for f in (record_of or []) if f.name == a.source)
                if target.kind not in ("text", "id") or target.numbered:
                    raise PolicyError(f"field {name}: prefix() takes a text / prefix() 仅用于文本", _FILE, at("fact"))
            src = a.source
            if src in [f.name for f in records] or (record_of is not None and src in [f.name for f in record_of]):
                ref = next(f for f in (list(records) + list(record_of or [])) if f.name == src)
                if not ref.required and ref.absent is None and ref.when is None:
                    raise PolicyError(
                        f"field {name}: the fact reads the optional field {src}; give it absent: (e.g. none) / "
                        "事实引用了可缺省字段，须声明 absent",
                        _FILE,
                        at("fact"),
                    )
                if ref.when is not None and ref.absent is None:
                    raise PolicyError(
                        f"field {name}: the fact reads {src}, which is absent unless {ref.when[0]} is "
                        f"{ref.when[1]}; give it absent: (e.g. none) / 事实引用了条件字段，须声明 absent",
                        _FILE,
                        at("fact"),
                    )
        result = replace(result, fact=fact)
    elif shape == "records":
        raise fail(
            "fact: a list of records needs its fact (e.g. pred(company, key, year, …)) / 记录列表须声明事实", None
        )
    return result


def _bound(spec: _Lines, key: str, kind: object, fail: Any) -> Decimal | None:
    if key not in spec:
        return None
    if kind not in ("integer", "decimal"):
        raise fail(f"{key}: only for kind integer or decimal / 仅适用于 integer 与 decimal", key)
    raw = spec[key]
    if isinstance(raw, bool) or not isinstance(raw, int | float | str):
        raise fail(f"{key}: expected a number", key)
    try:
        value = Decimal(str(raw))
    except ArithmeticError:
        raise fail(f"{key}: expected a number, got {raw!r}", key) from None
    if not value.is_finite():
        raise fail(f"{key}: expected a finite number", key)
    if kind == "integer":
        if value != value.to_integral_value() or not _INT32[0] <= value <= _INT32[1]:
            raise fail(f"{key}: expected an integer from {_INT32[0]} to {_INT32[1]} (clingo's range)", key)
    elif abs(value) > MAX_DECIMAL:
        raise fail(f"{key}: outside the decimal range (absolute value at most {MAX_DECIMAL})", key)
    return value


def _scope(f: Field, record_of: list[Field] | None, city: bool) -> tuple[str, ...]:
    """The names a fact template of ``f`` may use."""
    if f.shape == "records":
        return ("company", "key", *(r.name for r in f.records))
    base: tuple[str, ...] = () if city else ("company",)
    if record_of is not None:
        return (*base, "key", "value", *(r.name for r in record_of))
    return (*base, "year", "value") if f.shape == "by_year" else (*base, "value")


def _fact(raw: object, line: int, *, scope: tuple[str, ...]) -> Fact:
    if not isinstance(raw, str):
        raise PolicyError("fact: expected a template like pred(company, value) / fact 应为事实模板", _FILE, line)
    try:
        term = clingo.parse_term(raw)
    except (RuntimeError, ValueError):
        raise PolicyError(
            f"fact: {raw!r} is not a term like pred(company, value) / 不是有效的事实模板", _FILE, line
        ) from None
    if term.type != clingo.SymbolType.Function or not _NAME.fullmatch(term.name) or term.name in ("param", "decision"):
        raise PolicyError(f"fact: {raw!r}: expected a lower-case predicate name / 谓词名应为小写", _FILE, line)
    args: list[Arg] = []
    for a in term.arguments:
        prefix = None
        if a.type == clingo.SymbolType.Function and a.name == "prefix" and len(a.arguments) == 2:
            inner, n = a.arguments
            if (
                inner.type != clingo.SymbolType.Function
                or inner.arguments
                or n.type != clingo.SymbolType.Number
                or n.number < 1
            ):
                raise PolicyError(f"fact: {raw!r}: prefix(NAME, N) takes a name and a count ≥ 1", _FILE, line)
            a, prefix = inner, n.number
        if a.type != clingo.SymbolType.Function or a.arguments or a.name not in scope:
            raise PolicyError(
                f"fact: {raw!r}: argument {a} is not one of {', '.join(scope)} / 事实参数须取自 {', '.join(scope)}",
                _FILE,
                line,
            )
        args.append(Arg(a.name, prefix))
    return Fact(term.name, tuple(args), line)


__all__ = ["ADJUSTABLE_KINDS", "KINDS", "MAX_MONEY_YUAN", "Arg", "Fact", "Field", "Schema", "Text", "load_schema"]

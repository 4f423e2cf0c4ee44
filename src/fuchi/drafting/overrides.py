"""Parameter overrides: ``--set NAME=VALUE`` (and ``NAME.KEY=VALUE`` for a table entry) without copying the policy.

A drafter answering a comment ("what if the growth factor were 1.5?") runs the shipped policy with one number
changed. Each override is typed and range-checked exactly as its entry in ``parameters.yaml`` would be
(:func:`fuchi.policy.Policy.with_parameters`): money has at most two decimals and is not negative, decimals at
most six places, years and integers fit clingo's 32 bits, symbols are lower-case identifiers. A list parameter
takes its values separated by commas (``window_year=2026,2027,2028``); a table takes one entry at a time, an
existing key or a new one (``match_ratio.2.1.a=0.6``, ``tier_2_2_b.100000000=150000``).

The policy that results carries its overrides (:attr:`fuchi.policy.Policy.overrides`) and a digest that covers
them, so every output shows that they are in force.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from ..errors import OverrideError, PolicyError
from ..policy import Override, Parameter, Policy

_EXPECTED = {
    "yuan": "金额（元，最多两位小数，非负）/ an amount in yuan, at most two decimals, not negative, e.g. 2000000",
    "decimal": "小数（最多六位小数）/ a decimal number with at most six places, e.g. 1.5",
    "year": "年份（整数）/ a year, e.g. 2027",
    "int": "整数 / a whole number, e.g. 1",
    "string": "文本 / a text",
    "symbol": "小写标识符 / a lower-case identifier, e.g. sh_top100",
}
_INTEGER = re.compile(r"-?[0-9]+")
_NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?")


def expectation(p: Parameter) -> str:
    """What a value of parameter ``p`` must look like, in Chinese and English (for messages)."""
    if p.type == "table":
        assert p.key_type is not None and p.value_type is not None
        keys = ", ".join(str(k) for k in p.value)
        return (
            f"表参数：逐项设置 NAME.KEY=VALUE / a table: set one entry as {p.name}.KEY=VALUE, KEY "
            f"{_EXPECTED[p.key_type]}, VALUE {_EXPECTED[p.value_type]} (keys: {keys})"
        )
    what = _EXPECTED.get(p.type, p.type)
    if isinstance(p.value, list):
        return f"以逗号分隔的列表 / a comma-separated list, each {what}"
    return what


def _convert(text: str, kind: str) -> Any:
    """The text of one value as the Python value parameters.yaml would give; None when it is not of the kind."""
    text = text.strip()
    if kind in ("yuan", "decimal"):
        if not _NUMBER.fullmatch(text):
            return None
        try:
            return Decimal(text) if "." in text else int(text)
        except InvalidOperation:  # pragma: no cover - the pattern admits only plain numbers
            return None
    if kind in ("year", "int"):
        return int(text) if _INTEGER.fullmatch(text) and len(text) <= 20 else None
    return text if text else None


def parse_override(policy: Policy, text: str) -> Override:
    """Read one ``NAME=VALUE`` or ``NAME.KEY=VALUE`` against the policy's parameters.

    Raises:
        OverrideError: No ``=``, an unknown parameter or table key syntax, or a value of the wrong kind or out
            of range; the message names the parameter and what it expects.

    """
    name_part, eq, value_text = text.partition("=")
    if not eq or not name_part.strip():
        raise OverrideError(text, "应写作 NAME=VALUE 或 NAME.KEY=VALUE / expected NAME=VALUE or NAME.KEY=VALUE")
    name, dot, key_text = name_part.strip().partition(".")
    p = policy.parameters.get(name)
    if p is None:
        known = ", ".join(sorted(policy.parameters))
        raise OverrideError(text, f"没有该参数 / no parameter {name!r} in parameters.yaml (parameters: {known})")
    if p.type == "table":
        assert p.key_type is not None and p.value_type is not None
        if not dot:
            raise OverrideError(text, f"参数 parameter {name}: {expectation(p)}")
        key = _convert(key_text, p.key_type)
        value = _convert(value_text, p.value_type)
        if key is None or value is None:
            raise OverrideError(text, f"参数 parameter {name}: {expectation(p)}")
        # ``100000000.00`` names the entry ``100000000``
        existing = next((k for k in p.value if _same(k, key)), None)
        if existing is None and p.key_type in ("string", "symbol"):
            # a new text key is almost always a typo (``2.1a``); a new numeric key adds a tier or a year
            keys = ", ".join(str(k) for k in p.value)
            raise OverrideError(
                text,
                f"参数 parameter {name} 没有该项 has no entry {key_text!r} (keys: {keys}); 新增项请编辑 "
                "parameters.yaml / to add an entry, edit parameters.yaml",
            )
        key = key if existing is None else existing
        return Override(name, key, value_text.strip(), {**p.value, key: value})
    if dot:
        expected = f"expected {name}=VALUE, {expectation(p)}"
        raise OverrideError(text, f"参数 parameter {name} 不是表 is not a table: {expected}")
    if isinstance(p.value, list):
        values = [_convert(v, p.type) for v in value_text.split(",")]
        if not values or any(v is None for v in values):
            raise OverrideError(text, f"参数 parameter {name}: {expectation(p)}")
        if len({str(v) for v in values}) != len(values):
            raise OverrideError(text, f"参数 parameter {name}: 列表中的值重复 / a value repeated in the list")
        return Override(name, None, value_text.strip(), values)
    value = _convert(value_text, p.type)
    if value is None:
        raise OverrideError(text, f"参数 parameter {name}: {expectation(p)}")
    return Override(name, None, value_text.strip(), value)


def _same(a: Any, b: Any) -> bool:
    try:
        return bool(Decimal(str(a)) == Decimal(str(b)))
    except InvalidOperation:
        return str(a) == str(b)


def apply_overrides(policy: Policy, texts: Sequence[str], option: str = "--set") -> Policy:
    """The policy with every ``--set`` applied, in order (a later one on the same entry wins).

    As a script appending ``--set`` to a base command expects; the outputs and the digest show the value
    in force.

    Raises:
        OverrideError: An override that does not parse, names no parameter, or gives a value parameters.yaml
            would refuse (type, decimals, range).

    """
    if not texts:
        return policy
    current = policy
    applied: list[Override] = list(policy.overrides)
    for text in texts:
        try:
            o = parse_override(current, text)
        except OverrideError as exc:
            raise OverrideError(exc.text, exc.expected, option) from None
        try:
            current = current.with_parameters({o.name: o.value})
        except PolicyError as exc:
            expected = f"{exc.text}; 应为 expected {expectation(current.parameters[o.name])}"
            raise OverrideError(text, expected, option) from None
        applied = [a for a in applied if (a.name, a.key) != (o.name, o.key)]
        applied.append(o)
    # (distinct entries commute: in a fixed order, the same overrides give the same digest and output)
    return current.with_overrides(tuple(sorted(applied, key=lambda a: (a.name, str(a.key)))))


def sweep_values(policy: Policy, assignment: str) -> tuple[str, list[str], list[Policy]]:
    """Read ``NAME=V1,V2,…`` (or ``NAME.KEY=V1,V2,…``): the name, the values and one policy per value.

    Raises:
        OverrideError: No values, a list parameter (its values are themselves comma-separated), a repeated
            value, or a value the parameter cannot take.

    """
    name, eq, values_text = assignment.partition("=")
    values = [v.strip() for v in values_text.split(",")] if eq else []
    if not eq or not name.strip() or not values or any(not v for v in values):
        raise OverrideError(assignment, "应写作 NAME=V1,V2,… / expected NAME=V1,V2,… (or NAME.KEY=V1,V2,…)", "sweep")
    param = policy.parameters.get(name.strip().partition(".")[0])
    if param is not None and isinstance(param.value, list):
        raise OverrideError(
            assignment, f"列表参数不能扫描 / a list parameter cannot be swept: use --set {name}=…", "sweep"
        )
    if name.strip() in policy.override_map():
        expected = f"该参数已由 --set 设定 / {name.strip()} is also given by --set: sweep it or set it, not both"
        raise OverrideError(assignment, expected, "sweep")
    if len(set(values)) != len(values):
        raise OverrideError(assignment, "值重复 / a value is given twice", "sweep")
    variants = [apply_overrides(policy, [f"{name.strip()}={v}"], "sweep") for v in values]
    return name.strip(), values, variants


__all__ = ["apply_overrides", "expectation", "parse_override", "sweep_values"]

"""Output of ``fuchi explain … --how-to-qualify``: JSON, a plain bilingual text and Markdown (data escaped).

The JSON (docs/drafting.md, "How to qualify")::

    {"company": …, "name": …, "year": 2026, "item": "2.2.b", "verdict": "suggestions",
     "current": {"status", "amount", "payable_year", "reason"},
     "suggestions": [{"changes": [{"field": "revenue.2026", "from": 112000000, "to": 112000000.01}],
                      "result": {"status", "amount", "payable_year", "reason"},
                      "checks": [{"field": "revenue.2026", "value": 112000000, "result": {…}}]}],
     "reason": null, "searched": ["revenue.2026", …], "evaluated": 300}

Money is in yuan, decimals as written; a value a JSON number cannot hold exactly is a string. ``from`` (or a
check's ``value``) is null for a value the data does not give.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import IO, Any

from ..explanation.qualify import Change, Qualification, Result
from ..numbers import render_money
from .render import clean

#: JSON output: the characters fuchi.output.render escapes in its JSON too (C1 controls, DEL, line and paragraph
#: separators, bidirectional controls), as \u escapes: the same strings to a parser, inert in a terminal.
_UNSAFE = (*range(0x7F, 0xA0), 0x061C, 0x200E, 0x200F, 0x2028, 0x2029, *range(0x202A, 0x202F), *range(0x2066, 0x206A))
_JSON_UNSAFE = {c: f"\\u{c:04x}" for c in _UNSAFE}

_VERDICT = {
    "already_pays": "已获支付，无需调整 already pays: nothing to change",
    "suggestions": "可通过以下调整获得支付 these changes make it pay",
    "cannot_qualify": "无法通过调整获得支付 cannot qualify",
}


def _number(kind: str, value: int | Decimal | None) -> int | float | str | None:
    """A value for JSON: money in yuan; exact (a string when a JSON number would not be)."""
    if value is None:
        return None
    exact = Decimal(value) / 100 if kind == "money" else Decimal(value)
    if exact == exact.to_integral_value():
        return int(exact)
    as_float = float(exact)
    return as_float if Decimal(repr(as_float)) == exact else format(exact.normalize(), "f")


def _text(kind: str, value: int | Decimal | None) -> str:
    """A value for people: money as ``1,234.56 元``, decimals as written, an absent value as ``(无 none)``."""
    if value is None:
        return "（无 none）"
    if kind == "money":
        assert isinstance(value, int)
        return render_money(value)
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    return str(value)


def _result(r: Result) -> dict[str, Any]:
    return {
        "status": r.status,
        "amount": r.amount,
        "payable_year": r.payable_year,
        "reason": f"{r.reason_zh} / {r.reason_en}",
    }


def as_dict(q: Qualification) -> dict[str, Any]:
    """The JSON document of a qualification."""
    kinds = {c.path: c.kind for s in q.suggestions for c in s.changes}
    return {
        "company": q.company,
        "name": q.name,
        "year": q.year,
        "item": q.item,
        "verdict": q.verdict,
        "current": _result(q.current),
        "suggestions": [
            {
                "changes": [
                    {"field": c.path, "from": _number(c.kind, c.before), "to": _number(c.kind, c.after)}
                    for c in s.changes
                ],
                "result": _result(s.result),
                "checks": [
                    {"field": k.path, "value": _number(kinds[k.path], k.value), "result": _result(k.result)}
                    for k in s.checks
                ],
            }
            for s in q.suggestions
        ],
        "reason": None if q.reason is None else f"{q.reason[0]} / {q.reason[1]}",
        "searched": q.searched,
        "evaluated": q.evaluated,
    }


def write_json(out: IO[str], q: Qualification) -> None:
    """Write the JSON document (UTF-8 text, one document)."""
    text = json.dumps(as_dict(q), ensure_ascii=False, indent=1)
    out.write(text.translate(_JSON_UNSAFE) + "\n")


def _status(r: Result) -> str:
    if r.status is None:
        return "未涉及 not touched"
    paid = f"，{r.payable_year} 年兑付 payable {r.payable_year}" if r.payable_year is not None else ""
    return f"{r.status}，{r.amount:,} 元{paid}"


def _field(path: str, md: bool) -> str:
    """A field path: a Markdown code span (a backtick cannot end it), or plain text (data escaped)."""
    return f"`{clean(path).replace('`', chr(39))}`" if md else clean(path)


def _change(c: Change, md: bool) -> str:
    label = clean(f"{c.label.zh} {c.label.en}".strip())
    return f"{_field(c.path, md)}（{label}）: {_text(c.kind, c.before)} → {_text(c.kind, c.after)}"


def _lines(q: Qualification, md: bool) -> list[str]:
    """The readable form as lines; ``md``: Markdown (headings, bullets, code spans), else indented text."""
    item = "- " if md else "  "
    title = (
        f"如何获得支付 How to qualify: {clean(q.company)}"
        + (f" {clean(q.name)}" if q.name else "")
        + f" — {q.year} 年 条款 item {clean(q.item)}"
    )
    verdict = _VERDICT.get(q.verdict, q.verdict)
    now = f"现状 now: {_status(q.current)} — {clean(q.current.reason_zh)} / {clean(q.current.reason_en)}"
    if md:
        lines = [f"# {title}", "", f"- {now}", f"- 结论 verdict: **{verdict}**"]
    else:
        lines = [title, now, f"结论 verdict: {verdict}"]
    for n, s in enumerate(q.suggestions, 1):
        kinds = {c.path: c.kind for c in s.changes}
        head = f"建议 {n} suggestion {n}（{len(s.changes)} 项改动 change{'s' if len(s.changes) > 1 else ''}）"
        lines += ["", f"## {head}", ""] if md else ["", f"{head}:"]
        lines.extend(f"{item}改 change {_change(c, md)}" for c in s.changes)
        lines.append(
            f"{item}结果 result: {_status(s.result)} — {clean(s.result.reason_zh)} / {clean(s.result.reason_en)}"
        )
        for k in s.checks:
            lines.append(
                f"{item}核对 check: {_field(k.path, md)} = {_text(kinds[k.path], k.value)}"
                f"（少改一个单位 one unit less of change）→ {_status(k.result)}，不获支付 does not pay"
            )
    if q.reason is not None:
        lines += ([""] if md else []) + [f"原因 reason: {clean(q.reason[0])} / {clean(q.reason[1])}"]
    searched = ", ".join(_field(p, md) for p in q.searched) or "（无 none）"
    lead = "- " if md else ""
    lines += [
        "",
        f"{lead}可调整的数值 adjustable values: {searched}",
        f"{lead}引擎评估的候选 candidates the engine evaluated: {q.evaluated:,}",
    ]
    return lines


def write_text(out: IO[str], q: Qualification) -> None:
    """Write the readable form: the current decision, then each suggestion with its result and checks."""
    out.write("\n".join(_lines(q, md=False)) + "\n")


def write_markdown(out: IO[str], q: Qualification) -> None:
    """Write the Markdown form (for reports): the same content as :func:`write_text`, headed per suggestion."""
    out.write("\n".join(_lines(q, md=True)) + "\n")


WRITERS = {"json": write_json, "tree": write_text, "markdown": write_markdown}

__all__ = ["WRITERS", "as_dict", "write_json", "write_markdown", "write_text"]

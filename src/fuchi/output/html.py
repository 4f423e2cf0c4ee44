"""Impact reports as one self-contained HTML page: ``fuchi diff --format html``, ``fuchi budget --format html``.

The page is meant to be handed on (a drafter to a director during a public-comment period): Chinese first
with English beside, amounts in whole yuan with thousands separators, the enterprises that gain and lose
most by id and name. Everything is inline: CSS in a ``<style>`` element, charts as SVG drawn here; no
JavaScript (a Content-Security-Policy forbids scripts and any fetch), no network, no external fonts. Every
text from the data (ids, names, reasons, warnings, policy texts) is escaped (:func:`_e`). The same input
gives the same bytes (no timestamps, fixed ordering and number formatting).

Every figure that a totals table shows carries a ``data-figure`` attribute naming its place in the JSON
output (``amount/policy/granted``, ``by_item/2.8/delta/pending_assessment``…), so that the page can be
checked against ``--format json`` mechanically.

Size is bounded whatever the population: the diff page lists the :attr:`DiffHtmlWriter.TOP` largest
gainers and losers with their changed rows, and the first :attr:`DiffHtmlWriter.ROW_LIMIT` changed rows in
input order (in a collapsed section), and says how many it leaves out (``--format csv`` lists them all).
"""

from __future__ import annotations

import heapq
import html
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import IO, Any

from ..drafting.impact import EXPOSED, Budget, Change, DiffTotals, Side
from ..policy import Policy
from .impact import impact_header
from .render import STATUS_LABELS, clean

#: Warnings listed on a page (the rest are counted; ``--warnings FILE`` writes them all).
WARNING_LIMIT = 200

_CSS = """
:root{--g0:#a5d6a7;--g1:#2e7d32;--p0:#90caf9;--p1:#1565c0;--up:#2e7d32;--down:#c62828;--ink:#1f2328;--mute:#57606a;
--line:#d0d7de;--bg:#f6f8fa}
*{box-sizing:border-box}
body{margin:0;color:var(--ink);background:#fff;font:14px/1.55 "Noto Sans CJK SC","Source Han Sans SC","PingFang SC",
"Hiragino Sans GB","Microsoft YaHei","WenQuanYi Zen Hei","Noto Sans SC",system-ui,sans-serif}
main{max-width:1100px;margin:0 auto;padding:24px 28px 48px}
h1{font-size:24px;margin:0 0 4px}
h2{font-size:19px;margin:32px 0 8px;padding-bottom:4px;border-bottom:2px solid var(--line)}
h3{font-size:15px;margin:20px 0 6px}
.en{color:var(--mute);font-weight:normal}
.sub{color:var(--mute);margin:0 0 16px}
table{border-collapse:collapse;margin:8px 0 12px;width:100%}
th,td{border:1px solid var(--line);padding:4px 8px;vertical-align:top;text-align:left}
th{background:var(--bg);font-weight:600}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}td.n{white-space:nowrap}
td.id{white-space:nowrap}td.name{min-width:14em}
tr.total td{font-weight:700;background:var(--bg)}
td.pos{color:var(--up)}td.neg{color:var(--down)}
code{font-family:"Noto Sans Mono CJK SC","DejaVu Sans Mono",monospace;font-size:12px;overflow-wrap:anywhere}
code.digest{word-break:break-all}
.cards{display:flex;flex-wrap:wrap;gap:12px;margin:12px 0}
.card{flex:1 1 200px;border:1px solid var(--line);border-radius:6px;padding:10px 14px;background:var(--bg)}
.card .k{color:var(--mute);font-size:13px}.card .v{font-size:20px;font-weight:700;font-variant-numeric:tabular-nums}
.card .d{font-size:13px;font-variant-numeric:tabular-nums}
figure{margin:12px 0 16px}figcaption{font-weight:600;margin-bottom:4px}
svg{max-width:100%;height:auto;font-family:inherit}
svg text{font-size:12px;fill:var(--ink)}svg text.v{font-size:11px;font-variant-numeric:tabular-nums}
.legend{display:flex;flex-wrap:wrap;gap:4px 16px;font-size:12px;margin:2px 0 4px}
.legend i{display:inline-block;width:12px;height:12px;margin-right:4px;vertical-align:-1px}
.note{color:var(--mute);font-size:13px}
details{margin:8px 0}summary{cursor:pointer;font-weight:600}
ul.warn{font-size:13px;color:var(--mute)}
@media print{main{max-width:none;padding:0}details{display:block}h2{break-after:avoid}figure,tr{break-inside:avoid}}
"""

_HEAD = (
    '<!DOCTYPE html>\n<html lang="zh-CN">\n<head>\n<meta charset="utf-8">\n'
    "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; "
    'img-src data:">\n'
    '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
    '<meta name="generator" content="fuchi">\n'
)

#: Bar colours: (granted, pending) × (base, draft); the base light, the draft dark.
_COLOR = {
    ("granted", "base"): "#a5d6a7",
    ("granted", "policy"): "#2e7d32",
    ("pending_assessment", "base"): "#90caf9",
    ("pending_assessment", "policy"): "#1565c0",
}
_STATUS_ZH = {"granted": ("予以扶持", "granted"), "pending_assessment": ("待评估（上限）", "pending (max)")}
_SIDE = {"base": ("原政策", "base"), "policy": ("草案", "draft"), "delta": ("差额", "delta")}


# ---- text --------------------------------------------------------------------------------------------


def _e(text: object) -> str:
    """Data text as HTML: control characters made visible (:func:`~fuchi.output.render.clean`), then escaped."""
    return html.escape(clean(str(text)), quote=True)


def _bi(zh: str, en: str) -> str:
    """A label, Chinese first with English beside (both are the program's own texts, not data)."""
    return f'{html.escape(zh)} <span class="en">{html.escape(en)}</span>'


def _yuan(amount: int) -> str:
    return f"{amount:,}"


def _signed(amount: int) -> str:
    return f"{amount:+,}" if amount else "0"


def _num(amount: int, figure: str | None = None, signed: bool = False) -> str:
    """A right-aligned number cell; ``figure`` names its place in the JSON output (``data-figure``)."""
    attr = f' data-figure="{_e(figure)}"' if figure is not None else ""
    cls = "n" + ((" pos" if amount > 0 else " neg" if amount < 0 else "") if signed else "")
    return f'<td class="{cls}"{attr}>{_signed(amount) if signed else _yuan(amount)}</td>'


def _width(ch: str) -> int:
    return 2 if ord(ch) >= 0x1100 else 1


def _fit(text: str, units: int) -> str:
    """``text`` cut to about ``units`` half-width characters (a CJK character counts two), with an ellipsis."""
    out: list[str] = []
    used = 0
    for ch in text:
        used += _width(ch)
        if used > units:
            return "".join(out).rstrip() + "…"
        out.append(ch)
    return text


def _item_label(item: str, policies: Sequence[Policy]) -> str:
    """``2.8 研发投入…``: the item and its clause title (zh) from the first policy that has one."""
    for p in policies:
        clause = p.clauses.get(item)
        if clause is not None and clause.title_zh:
            return f"{item} {clause.title_zh}"
    return item


def _item_cell(item: str, policies: Sequence[Policy]) -> str:
    for p in policies:
        clause = p.clauses.get(item)
        if clause is not None and (clause.title_zh or clause.title_en):
            return f'<td><b>{_e(item)}</b> {_e(clause.title_zh)} <span class="en">{_e(clause.title_en)}</span></td>'
    return f"<td><b>{_e(item)}</b></td>"


def _side_text(side: Side | None, short: bool = False) -> str:
    """A side as ``予以扶持 granted 1,000 → 2027``; ``short``: the Chinese label only (the full one on hover)."""
    if side is None:
        return "—"
    paid = f" {side.amount:,}" if side.status in EXPOSED else ""
    when = f" → {side.payable_year}" if side.payable_year is not None else ""
    label = STATUS_LABELS.get(side.status, side.status)
    if short:
        return f'<span title="{_e(label)}">{_e(label.split(" ")[0])}</span>{_e(paid + when)}'
    return _e(f"{label}{paid}{when}")


# ---- page parts --------------------------------------------------------------------------------------


def _start(out: IO[str], title_zh: str, title_en: str, policy: Policy) -> None:
    out.write(_HEAD)
    out.write(f"<title>{_e(title_zh)}：{_e(policy.title_zh)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n<main>\n")
    out.write(f"<h1>{_bi(title_zh, title_en)}</h1>\n")
    out.write(f'<p class="sub">{_e(policy.title_zh)}<br><span class="en">{_e(policy.title_en)}</span></p>\n')


def _end(out: IO[str], warnings: Sequence[str], notes: Sequence[str]) -> None:
    if warnings:
        out.write(f'<h2>{_bi("警告", "Warnings")} ({len(warnings):,})</h2>\n<ul class="warn">\n')
        out.write("".join(f"<li>{_e(w)}</li>\n" for w in warnings[:WARNING_LIMIT]))
        out.write("</ul>\n")
        if len(warnings) > WARNING_LIMIT:
            rest = len(warnings) - WARNING_LIMIT
            out.write(
                f'<p class="note">另有 {rest:,} 条警告未列出（<code>--warnings FILE</code> 可全部写出）。'
                f'<span class="en">{rest:,} more warnings not listed (<code>--warnings FILE</code> writes them all).'
                "</span></p>\n"
            )
    out.write(f'<h2>{_bi("说明", "About this report")}</h2>\n<ul class="note">\n')
    out.write("".join(f"<li>{n}</li>\n" for n in notes))
    out.write("</ul>\n</main>\n</body>\n</html>\n")


_COMMON_NOTES = (
    "金额单位：人民币元（整数）。予以扶持按核定金额计，待评估按政策上限计，二者分列，不相加。"
    '<span class="en">Amounts in whole yuan. Granted rows count at their amount, rows pending an assessment at '
    "their maximum; the two are kept apart.</span>",
    "本页由 fuchi 生成，自包含（无脚本、无网络、无外部字体）；同样的数据与政策生成同样的文件。"
    '<span class="en">Generated by fuchi; self-contained (no script, no network, no external fonts); the same '
    "data and policies give the same file.</span>",
)


def _policy_rows(label: tuple[str, str], policy: Policy) -> str:
    head = impact_header(policy)
    overrides = head["overrides"]
    shown = ", ".join(f"<code>{_e(k)}={_e(v)}</code>" for k, v in overrides.items()) if overrides else _bi("无", "none")
    return (
        f"<tr><th>{_bi(*label)}</th><td><code>{_e(head['id'])}</code></td><td>{_e(head['version'])}</td>"
        f"<td>{_e(policy.effective_from)} – {_e(policy.effective_to)}</td>"
        f"<td><code class='digest'>{_e(head['digest'])}</code></td><td>{shown}</td></tr>\n"
    )


def _policy_table(rows: Sequence[tuple[tuple[str, str], Policy]]) -> str:
    head = (
        f"<tr><th></th><th>{_bi('政策', 'Policy id')}</th><th>{_bi('版本', 'Version')}</th>"
        f"<th>{_bi('有效期', 'Effective')}</th><th>{_bi('摘要', 'Digest')}</th>"
        f"<th>{_bi('参数覆盖', 'Overrides')}</th></tr>\n"
    )
    return "<table>\n" + head + "".join(_policy_rows(label, p) for label, p in rows) + "</table>\n"


def _card(key: tuple[str, str], value: str, extra: str = "") -> str:
    d = f'<div class="d">{extra}</div>' if extra else ""
    return f'<div class="card"><div class="k">{_bi(*key)}</div><div class="v">{value}</div>{d}</div>'


# ---- charts (inline SVG) -----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Series:
    zh: str
    en: str
    color: str


_LABEL_W, _PLOT_W, _VALUE_W = 250, 580, 110
_BAR_H, _BAR_GAP, _GROUP_GAP, _TOP = 12, 2, 12, 6


def _f(x: float) -> str:
    return f"{x:.1f}"


def _legend(series: Sequence[_Series]) -> str:
    keys = "".join(
        f'<span><i style="background:{s.color}"></i>{html.escape(s.zh)} <span class="en">{html.escape(s.en)}</span>'
        "</span>"
        for s in series
    )
    return f'<div class="legend">{keys}</div>\n'


def _chart(
    caption: tuple[str, str],
    rows: Sequence[tuple[str, Sequence[int]]],
    series: Sequence[_Series],
    signed: bool = False,
    label_w: int = _LABEL_W,
) -> str:
    """Horizontal bars, one group per row, one bar per series, each with its exact amount at its end.

    ``signed`` draws around a zero line (a delta): bars to the right are positive, to the left negative (their
    amount is written right of the zero line). ``label_w`` is the width of the row labels (pixels); the plot
    narrows as they widen.
    """
    width = _LABEL_W + _PLOT_W + _VALUE_W
    plot_w = width - _VALUE_W - label_w
    n = len(series)
    group = n * _BAR_H + (n - 1) * _BAR_GAP
    height = _TOP + len(rows) * (group + _GROUP_GAP) + 4
    values = [v for _, vs in rows for v in vs]
    if signed:
        pos = max([0, *values])
        neg = max([0, *(-v for v in values)])
        span = (pos + neg) or 1
        zero = label_w + plot_w * neg / span
    else:
        span = max([0, *values]) or 1
        zero = label_w
    scale = plot_w / span
    label = html.escape(f"{caption[0]} {caption[1]}")
    parts = [
        f"<figure><figcaption>{_bi(*caption)}</figcaption>\n{_legend(series)}"
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="{label}" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}">\n'
    ]
    y = _TOP
    for text, vs in rows:
        shown_label = _e(_fit(text, label_w // 7))
        parts.append(f'<text x="{label_w - 8}" y="{_f(y + group / 2 + 4)}" text-anchor="end">{shown_label}</text>\n')
        for k, (s, v) in enumerate(zip(series, vs, strict=True)):
            top = y + k * (_BAR_H + _BAR_GAP)
            w = abs(v) * scale
            if v and w < 1:
                w = 1.0  # a small amount stays visible (the exact figure is beside it)
            left = zero - w if v < 0 else zero
            parts.append(f'<rect x="{_f(left)}" y="{top}" width="{_f(w)}" height="{_BAR_H}" fill="{s.color}"/>')
            shown = _signed(v) if signed else _yuan(v)
            at = zero + 4 if v < 0 else zero + w + 4
            parts.append(f'<text class="v" x="{_f(at)}" y="{top + _BAR_H - 2}">{shown}</text>\n')
        y += group + _GROUP_GAP
    parts.append(
        f'<line x1="{_f(zero)}" y1="{_TOP - 4}" x2="{_f(zero)}" y2="{height - 4}" stroke="#57606a" stroke-width="1"/>\n'
    )
    parts.append("</svg></figure>\n")
    return "".join(parts)


def _four_series() -> list[_Series]:
    out = []
    for status in EXPOSED:
        for side in ("base", "policy"):
            zh, en = _STATUS_ZH[status]
            sz, se = _SIDE[side]
            out.append(_Series(f"{sz}·{zh}", f"{se} {en}", _COLOR[(status, side)]))
    return out


def _delta_series() -> list[_Series]:
    return [_Series(f"差额·{_STATUS_ZH[s][0]}", f"delta {_STATUS_ZH[s][1]}", _COLOR[(s, "policy")]) for s in EXPOSED]


# ---- diff --------------------------------------------------------------------------------------------


@dataclass
class _Enterprise:
    """One enterprise's changed rows and its change of exposure (draft − base), by status."""

    company: str
    name: str | None
    serial: int
    delta: dict[str, int] = field(default_factory=lambda: dict.fromkeys(EXPOSED, 0))
    changes: list[Change] = field(default_factory=list)

    def add(self, change: Change) -> None:
        self.changes.append(change)
        if self.name is None and change.name:
            self.name = change.name
        for side, sign in ((change.base, -1), (change.policy, 1)):
            if side is not None and side.status in EXPOSED:
                self.delta[side.status] += sign * side.amount

    @property
    def total(self) -> int:
        return sum(self.delta.values())


def _three_table(
    head: tuple[str, str], key: str, rows: dict[str, dict[str, dict[str, int]]], first: Any, total: Any = None
) -> str:
    """Base, draft and delta for granted and pending, one row per payable year or item (+ a total row)."""
    cols = "".join(
        f'<th class="n">{_bi(_SIDE[side][0], _SIDE[side][1])}</th>'
        for _ in EXPOSED
        for side in ("base", "policy", "delta")
    )
    groups = "".join(f'<th colspan="3">{_bi(*_STATUS_ZH[s])}</th>' for s in EXPOSED)
    out = [f'<table>\n<tr><th rowspan="2">{_bi(*head)}</th>{groups}</tr>\n<tr>{cols}</tr>\n']

    def cells(prefix: str, t: dict[str, dict[str, int]]) -> str:
        return "".join(
            _num(t[side][s], f"{prefix}/{side}/{s}", signed=side == "delta")
            for s in EXPOSED
            for side in ("base", "policy", "delta")
        )

    for name, t in rows.items():
        out.append(f"<tr>{first(name)}{cells(f'{key}/{name}', t)}</tr>\n")
    if total is not None:
        out.append(f'<tr class="total"><td>{_bi("总计", "Total")}</td>{cells("amount", total)}</tr>\n')
    out.append("</table>\n")
    return "".join(out)


def _three_rows(rows: dict[str, dict[str, dict[str, int]]], label: Any) -> list[tuple[str, list[int]]]:
    return [(label(k), [t[side][s] for s in EXPOSED for side in ("base", "policy")]) for k, t in rows.items()]


class DiffHtmlWriter:
    """The diff as one HTML page: totals and charts first, then who gains and loses, then the changed rows.

    Changes stream in (enterprise by enterprise, in input order); the page is written by :meth:`finish`, as
    it puts the totals first. Memory and size are bounded: the :attr:`TOP` largest gainers and losers are
    kept in heaps, and only the first :attr:`ROW_LIMIT` changed rows are kept for the list of changes.
    """

    #: Gainers and losers listed (each), the largest first.
    TOP = 20
    #: Of those, how many the charts draw.
    TOP_CHART = 10
    #: Changed rows listed in input order (the rest are counted).
    ROW_LIMIT = 1000

    def __init__(self, out: IO[str], base: Policy, policy: Policy) -> None:
        self.out = out
        self.base, self.policy = base, policy
        self.rows: list[str] = []
        self.current: _Enterprise | None = None
        self.serial = 0
        self.gainers: list[tuple[int, int, _Enterprise]] = []
        self.losers: list[tuple[int, int, _Enterprise]] = []

    def change(self, change: Change) -> None:
        """Take one change (kept for the list while under :attr:`ROW_LIMIT`; counted for its enterprise)."""
        if len(self.rows) < self.ROW_LIMIT:
            self.rows.append(self._row(change))
        if self.current is None or self.current.company != change.company:
            self._close()
            self.serial += 1
            self.current = _Enterprise(change.company, change.name, self.serial)
        self.current.add(change)

    def _close(self) -> None:
        """Rank the enterprise whose changes are complete (its rows are contiguous in the stream)."""
        ent, self.current = self.current, None
        if ent is None or ent.total == 0:
            return
        heap = self.gainers if ent.total > 0 else self.losers
        entry = (abs(ent.total), -ent.serial, ent)  # larger first; on a tie, the earlier in input order
        if len(heap) < self.TOP:
            heapq.heappush(heap, entry)
        elif entry[:2] > heap[0][:2]:
            heapq.heapreplace(heap, entry)

    def _row(self, c: Change) -> str:
        side = c.policy or c.base
        reason = side.reason if side is not None else ""
        delta = c.delta
        return (
            f"<tr><td class='id'><code>{_e(c.company)}</code></td><td class='name'>{_e(c.name or '')}</td>"
            f"<td>{c.year}</td>"
            f"<td>{_e(c.item)}</td><td>{_side_text(c.base)}</td><td>{_side_text(c.policy)}</td>"
            f"{_num(delta, signed=True)}<td>{_e(reason)}</td></tr>\n"
        )

    def finish(self, totals: DiffTotals, warnings: Sequence[str]) -> None:
        """Write the page."""
        self._close()
        data = totals.as_json()
        out = self.out
        pols = (self.policy, self.base)
        _start(out, "政策影响报告", "Policy impact report", self.policy)
        out.write(f"<h2>{_bi('比较的政策', 'Policies compared')}</h2>\n")
        out.write(_policy_table([(("原政策", "base"), self.base), (("草案", "draft"), self.policy)]))
        self._summary(data)
        out.write(f"<h2>{_bi('按兑付年度', 'By payable year')}</h2>\n")
        years = data["by_payable_year"]
        out.write(_chart(("敞口：原政策与草案", "Exposure, base vs draft"), _three_rows(years, str), _four_series()))
        delta_rows = [(y, [t["delta"][s] for s in EXPOSED]) for y, t in years.items()]
        out.write(_chart(("差额（草案 − 原政策）", "Delta (draft − base)"), delta_rows, _delta_series(), True))
        out.write(
            _three_table(
                ("兑付年度", "Payable year"),
                "by_payable_year",
                years,
                lambda y: f"<td>{_e(y)}</td>",
                data["amount"],
            )
        )
        out.write(f"<h2>{_bi('按条款', 'By item')}</h2>\n")
        items = data["by_item"]

        def label(i: str) -> str:
            return _item_label(i, pols)

        out.write(_chart(("敞口：原政策与草案", "Exposure, base vs draft"), _three_rows(items, label), _four_series()))
        changed = [(label(i), [t["delta"][s] for s in EXPOSED]) for i, t in items.items() if any(t["delta"].values())]
        if changed:
            out.write(_chart(("有变化条款的差额", "Delta of the items that change"), changed, _delta_series(), True))
        out.write(_three_table(("条款", "Item"), "by_item", items, lambda i: _item_cell(i, pols), data["amount"]))
        self._people(data)
        self._changes(data)
        notes = [
            *_COMMON_NOTES,
            "受益：企业全部条款（予以扶持＋待评估上限）合计在草案下增加；受损：减少；仅有变化：行变化但合计不变。"
            '<span class="en">An enterprise gains when its total (granted + pending maximum, over all its rows) '
            "is larger under the draft, loses when smaller; changed only: rows differ, the total does not.</span>",
            f"受益、受损企业各列出金额最大的 {self.TOP} 家（图示前 {self.TOP_CHART} 家）；变化行按输入顺序列出前 "
            f"{self.ROW_LIMIT:,} 行；完整清单请用 <code>fuchi diff … --format csv</code>。"
            f'<span class="en">The {self.TOP} largest gainers and losers are listed (the first {self.TOP_CHART} '
            f"drawn); the first {self.ROW_LIMIT:,} changed rows in input order; <code>fuchi diff … --format csv</code> "
            "lists them all.</span>",
        ]
        _end(out, warnings, notes)

    def _summary(self, data: dict[str, Any]) -> None:
        e, a = data["enterprises"], data["amount"]
        cards = []
        for s in EXPOSED:
            d = a["delta"][s]
            cards.append(
                _card(
                    (f"草案{_STATUS_ZH[s][0]}（元）", f"draft {_STATUS_ZH[s][1]}, yuan"),
                    f'<span data-figure="amount/policy/{s}">{_yuan(a["policy"][s])}</span>',
                    f'{_bi("原政策", "base")} <span data-figure="amount/base/{s}">{_yuan(a["base"][s])}</span> · '
                    f'{_bi("差额", "delta")} <span data-figure="amount/delta/{s}">{_signed(d)}</span>',
                )
            )
        only = e["changed"] - e["gain"] - e["lose"]
        cards.append(
            _card(
                ("有变化的企业", "enterprises changed"),
                f'<span data-figure="enterprises/changed">{e["changed"]:,}</span>',
                f'{_bi("共", "of")} <span data-figure="companies">{data["companies"]:,}</span> · '
                f'{_bi("变化行", "rows")} <span data-figure="changes">{data["changes"]:,}</span>',
            )
        )
        cards.append(
            _card(
                ("受益 / 受损企业", "gain / lose"),
                f'<span data-figure="enterprises/gain">{e["gain"]:,}</span> / '
                f'<span data-figure="enterprises/lose">{e["lose"]:,}</span>',
                f"{_bi('仅有变化', 'changed only')} {only:,}",
            )
        )
        self.out.write(f'<h2>{_bi("要点", "Summary")}</h2>\n<div class="cards">{"".join(cards)}</div>\n')

    def _people(self, data: dict[str, Any]) -> None:
        out = self.out
        e = data["enterprises"]
        out.write(f"<h2>{_bi('受益与受损企业', 'Who gains and who loses')}</h2>\n")
        only = e["changed"] - e["gain"] - e["lose"]
        counts = [
            ("受益 gain", [e["gain"]]),
            ("受损 lose", [e["lose"]]),
            ("仅有变化 changed only", [only]),
        ]
        out.write(_chart(("企业数", "Enterprises"), counts, [_Series("企业", "enterprises", "#6e7781")]))
        for heap, kind, color, count in (
            (self.gainers, ("受益最多的企业", "Largest gainers"), "#2e7d32", e["gain"]),
            (self.losers, ("受损最多的企业", "Largest losers"), "#c62828", e["lose"]),
        ):
            ranked = [ent for _, _, ent in sorted(heap, key=lambda t: (-t[0], -t[1]))]
            out.write(f"<h3>{_bi(*kind)}</h3>\n")
            if not ranked:
                out.write(f'<p class="note">{_bi("无", "none")}</p>\n')
                continue
            bars = [
                (f"{_fit(ent.name, 30)} {ent.company}" if ent.name else ent.company, [ent.total])
                for ent in ranked[: self.TOP_CHART]
            ]
            series = [_Series("差额", "delta", color)]
            out.write(_chart((kind[0] + "（元）", kind[1] + " (yuan)"), bars, series, True, label_w=400))
            out.write(self._people_table(ranked))
            if count > len(ranked):
                rest = count - len(ranked)
                out.write(
                    f'<p class="note">另有 {rest:,} 家未列出。<span class="en">{rest:,} more not listed.</span></p>\n'
                )

    def _people_table(self, ranked: Sequence[_Enterprise]) -> str:
        head = (
            f'<tr><th class="n">#</th><th>{_bi("企业", "Enterprise")}</th><th>{_bi("名称", "Name")}</th>'
            + "".join(
                f'<th class="n">{_bi("差额·" + _STATUS_ZH[s][0], "delta " + _STATUS_ZH[s][1])}</th>' for s in EXPOSED
            )
            + f'<th class="n">{_bi("差额合计", "delta total")}</th><th>{_bi("变化的行", "Changed rows")}</th></tr>\n'
        )
        rows = []
        for n, ent in enumerate(ranked, 1):
            what = "<br>".join(
                f"{c.year} · {_e(c.item)}：{_side_text(c.base, True)} ⇒ {_side_text(c.policy, True)}"
                for c in ent.changes
            )
            rows.append(
                f'<tr><td class="n">{n}</td><td class="id"><code>{_e(ent.company)}</code></td>'
                f'<td class="name">{_e(ent.name or "")}</td>'
                + "".join(_num(ent.delta[s], signed=True) for s in EXPOSED)
                + f"{_num(ent.total, signed=True)}<td>{what}</td></tr>\n"
            )
        return "<table>\n" + head + "".join(rows) + "</table>\n"

    def _changes(self, data: dict[str, Any]) -> None:
        out = self.out
        total = data["changes"]
        out.write(f"<h2>{_bi('变化的行', 'Changed rows')} ({total:,})</h2>\n")
        if not total:
            out.write(f"<p>{_bi('没有变化', 'No changes')}</p>\n")
            return
        shown = len(self.rows)
        out.write(
            f"<details><summary>按输入顺序的前 {shown:,} 行 "
            f'<span class="en">the first {shown:,} in input order</span></summary>\n<table>\n'
            f"<tr><th>{_bi('企业', 'Enterprise')}</th><th>{_bi('名称', 'Name')}</th><th>{_bi('年度', 'Year')}</th>"
            f"<th>{_bi('条款', 'Item')}</th><th>{_bi('原政策', 'Base')}</th><th>{_bi('草案', 'Draft')}</th>"
            f'<th class="n">{_bi("差额", "Delta")}</th><th>{_bi("理由", "Reason")}</th></tr>\n'
        )
        out.write("".join(self.rows))
        out.write("</table></details>\n")
        if total > shown:
            rest = total - shown
            out.write(
                f'<p class="note">另有 {rest:,} 行未列出（<code>--format csv</code> 列出全部）。'
                f'<span class="en">{rest:,} more rows not listed (<code>--format csv</code> lists them all).'
                "</span></p>\n"
            )


# ---- budget ------------------------------------------------------------------------------------------


def budget_html(out: IO[str], policy: Policy, budget: Budget, warnings: Sequence[str]) -> None:
    """The exposure of one policy as an HTML page: by payable year, by item, then item × payable year × status."""
    totals = budget.as_json()["totals"]
    a, ents = totals["amount"], totals["enterprises"]
    pols = (policy,)
    _start(out, "预算敞口报告", "Budget exposure report", policy)
    out.write(f"<h2>{_bi('政策', 'Policy')}</h2>\n" + _policy_table([(("政策", "policy"), policy)]))
    cards = [
        _card(
            (f"{_STATUS_ZH[s][0]}（元）", f"{_STATUS_ZH[s][1]}, yuan"),
            f'<span data-figure="amount/{s}">{_yuan(a[s])}</span>',
            f'{_bi("企业", "enterprises")} <span data-figure="enterprises/{s}">{ents[s]:,}</span>',
        )
        for s in EXPOSED
    ]
    cards.append(
        _card(
            ("参与测算的企业", "enterprises in the data"), f'<span data-figure="companies">{budget.companies:,}</span>'
        )
    )
    out.write(f'<h2>{_bi("要点", "Summary")}</h2>\n<div class="cards">{"".join(cards)}</div>\n')
    two = [_Series(zh, en, _COLOR[(s, "policy")]) for s, (zh, en) in _STATUS_ZH.items()]

    out.write(f"<h2>{_bi('按兑付年度', 'By payable year')}</h2>\n")
    years = totals["by_payable_year"]
    rows = [(y, [t[s]["amount"] for s in EXPOSED]) for y, t in years.items()]
    out.write(_chart(("敞口", "Exposure"), rows, two))
    groups = "".join(f'<th colspan="2">{_bi(*_STATUS_ZH[s])}</th>' for s in EXPOSED)
    sub = "".join(
        f'<th class="n">{_bi("金额（元）", "yuan")}</th><th class="n">{_bi("企业", "ent.")}</th>' for _ in EXPOSED
    )
    table = [f'<table>\n<tr><th rowspan="2">{_bi("兑付年度", "Payable year")}</th>{groups}</tr>\n<tr>{sub}</tr>\n']
    for y, t in years.items():
        cells = "".join(
            _num(t[s]["amount"], f"by_payable_year/{y}/{s}/amount")
            + _num(t[s]["enterprises"], f"by_payable_year/{y}/{s}/enterprises")
            for s in EXPOSED
        )
        table.append(f"<tr><td>{_e(y)}</td>{cells}</tr>\n")
    cells = "".join(_num(a[s]) + _num(ents[s]) for s in EXPOSED)
    table.append(f'<tr class="total"><td>{_bi("总计", "Total")}</td>{cells}</tr>\n</table>\n')
    out.write("".join(table))

    out.write(f"<h2>{_bi('按条款', 'By item')}</h2>\n")
    items = totals["by_item"]
    out.write(
        _chart(("敞口", "Exposure"), [(_item_label(i, pols), [t[s] for s in EXPOSED]) for i, t in items.items()], two)
    )
    table = [
        f"<table>\n<tr><th>{_bi('条款', 'Item')}</th>"
        + "".join(f'<th class="n">{_bi(*_STATUS_ZH[s])}</th>' for s in EXPOSED)
        + "</tr>\n"
    ]
    for i, t in items.items():
        table.append(
            f"<tr>{_item_cell(i, pols)}" + "".join(_num(t[s], f"by_item/{i}/{s}") for s in EXPOSED) + "</tr>\n"
        )
    table.append(
        f'<tr class="total"><td>{_bi("总计", "Total")}</td>'
        + "".join(_num(a[s]) for s in EXPOSED)
        + "</tr>\n</table>\n"
    )
    out.write("".join(table))

    out.write(f"<h2>{_bi('条款 × 兑付年度 × 状态', 'Item × payable year × status')}</h2>\n<table>\n")
    out.write(
        f'<tr><th>{_bi("条款", "Item")}</th><th class="n">{_bi("兑付年度", "Payable year")}</th>'
        f'<th>{_bi("状态", "Status")}</th><th class="n">{_bi("企业", "Enterprises")}</th>'
        f'<th class="n">{_bi("行", "Rows")}</th><th class="n">{_bi("金额（元）", "Amount (yuan)")}</th></tr>\n'
    )
    for item, year, status, n_rows, enterprises, amount in budget.ordered_cells():
        out.write(
            f'<tr><td>{_e(item)}</td><td class="n">{year}</td><td>{_e(STATUS_LABELS.get(status, status))}</td>'
            f"{_num(enterprises)}{_num(n_rows)}{_num(amount)}</tr>\n"
        )
    out.write("</table>\n")
    notes = [
        *_COMMON_NOTES,
        "企业数：某一格（条款、兑付年度、状态）中至少有一行的企业；合计行的企业数按企业去重，不等于各格之和。"
        '<span class="en">Enterprises: those with at least one row in the cell; a total counts each enterprise '
        "once, so it is not the sum of the cells.</span>",
    ]
    _end(out, warnings, notes)


__all__ = ["DiffHtmlWriter", "budget_html"]

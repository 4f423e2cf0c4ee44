"""Reason texts in SQL: the templates of messages.yaml compiled, by term shape, into SQL expressions.

The clingo path renders a reason term in Python (:class:`fuchi.explanation.reasons.ReasonRenderer`), one
row at a time. The SQL engine knows the shape of every reason column when the policy is compiled
(:mod:`fuchi.compiler.shapes`), so each template becomes one SQL expression over the leaf columns of its
term, evaluated by DuckDB for the whole batch: literal text of the template as bound parameters, each
placeholder ``{N:format}`` as the exact SQL equivalent of the Python formatting (money with thousands
separators, ``万元``, decimals cut after four places with ``…``, records of the enterprise looked up in a
side table). The rules are the renderer's, placeholder by placeholder, so the text is byte for byte the
same; a shape or a format the SQL cannot render exactly (a term without a template that holds a string,
say) makes :func:`reason_sql` return None and the engine keeps the Python renderer for that table.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from .shapes import DECIMAL, INT, MONEY, STR, SYM, Fun, Leaf, Shape, Special, split, width

_FIELD = re.compile(r"\{(\d+)(?::([^}]*))?\}")

#: Macros for the formats (created on the connection with the plan's prelude; no data in them).
MESSAGES_PRELUDE = """
CREATE OR REPLACE MACRO fuchi_txt_yuan(f) AS
  format('{:,}', f // 100) || CASE WHEN f % 100 <> 0 THEN '.' || lpad((f % 100)::VARCHAR, 2, '0') ELSE '' END;
CREATE OR REPLACE MACRO fuchi_txt_wanplain(f) AS
  format('{:,}', f // 1000000)
  || CASE WHEN f % 1000000 <> 0 THEN '.' || rtrim(lpad((f % 1000000)::VARCHAR, 6, '0'), '0') ELSE '' END;
CREATE OR REPLACE MACRO fuchi_txt_money(f) AS fuchi_txt_yuan(f) || ' 元';
CREATE OR REPLACE MACRO fuchi_txt_wan(f) AS fuchi_txt_wanplain(f) || ' 万元';
CREATE OR REPLACE MACRO fuchi_txt_yiplain(f) AS
  (f // 10000000000)::VARCHAR
  || CASE WHEN f % 10000000000 <> 0 THEN '.' || rtrim(lpad((f % 10000000000)::VARCHAR, 10, '0'), '0') ELSE '' END;
CREATE OR REPLACE MACRO fuchi_txt_yw(f) AS
  fuchi_txt_yuan(f) || ' 元（'
  || CASE WHEN f >= 10000000000 THEN fuchi_txt_yiplain(f) || '亿元）'
          ELSE replace(fuchi_txt_wanplain(f), ',', '') || '万元）' END;
CREATE OR REPLACE MACRO fuchi_txt_dec(v, x, pct) AS
  CASE WHEN v < 0 THEN '-' ELSE '' END
  || format('{:,}', abs(v) // 1000000000000)
  || CASE WHEN abs(v) % 100000000 <> 0 THEN '.' || lpad(((abs(v) % 1000000000000) // 100000000)::VARCHAR, 4, '0') || '…'
          WHEN (abs(v) % 1000000000000) // 100000000 <> 0
          THEN '.' || rtrim(lpad(((abs(v) % 1000000000000) // 100000000)::VARCHAR, 4, '0'), '0')
          ELSE '' END
  || CASE WHEN x = 1 AND abs(v) % 100000000 = 0 THEN '…' ELSE '' END
  || CASE WHEN pct THEN '%' ELSE '' END;
"""
#: The macros take a value computed once per row (``fuchi_fen(a, b, c)``: fen; ``fuchi_dnum(…) × 1 or 100``:
#: the decimal scaled by 10^12), not the leaf columns: a macro's argument is expanded at every use.


@dataclass
class RecordLookup:
    """A ``{N:rec:list:field}`` placeholder: the record's field, joined from the records side table."""

    alias: str
    list: str
    field: str
    key_column: str


@dataclass
class ReasonSql:
    """The SQL of one reason column's texts.

    Attributes:
        zh: The expression giving the Chinese text.
        en: The expression giving the English text.
        lookups: The record fields the expressions read (each a ``LEFT JOIN`` of the records table).
        params: The bound values of ``$1``, ``$2``, … in ``zh``, ``en`` and the joins, in order.
    """

    zh: str = ""
    en: str = ""
    lookups: list[RecordLookup] = field(default_factory=list)
    params: list[object] = field(default_factory=list)
    #: Values computed once per row before the texts (``pre(expression)`` names them ``fuchi_p0``, …).
    pres: dict[str, str] = field(default_factory=dict)

    def param(self, value: object) -> str:
        """A placeholder for a bound value."""
        self.params.append(value)
        return f"${len(self.params)}"

    def pre(self, expression: str) -> str:
        """The column of a value computed once per row (the same expression, the same column)."""
        name = self.pres.get(expression)
        if name is None:
            name = self.pres[expression] = f"fuchi_p{len(self.pres)}"
        return name

    def query(self, columns: Sequence[str], table: str, company: str, records: str) -> str:
        """``SELECT columns, zh, en`` from ``table`` (aliased ``t``), values computed first, records joined.

        The expressions refer to the table's columns as ``t.cN``; so do ``columns`` and ``company``.
        """
        inner = f"SELECT t.*{''.join(f', {e} AS {n}' for e, n in self.pres.items())} FROM {table} t"
        return f"SELECT {', '.join(columns)}, {self.zh}, {self.en} FROM ({inner}) t{self.joins(company, records)}"

    def joins(self, company: str, table: str) -> str:
        """The ``LEFT JOIN`` clauses of the record lookups (``table`` holds the records)."""
        out = []
        for lk in self.lookups:
            a = lk.alias
            out.append(
                f" LEFT JOIN {table} {a} ON {a}.company = {company} AND {a}.list = {self.param(lk.list)}"
                f" AND {a}.field = {self.param(lk.field)} AND {a}.k = {lk.key_column}"
            )
        return "".join(out)


class _Unrenderable(Exception):
    """The SQL cannot give the renderer's text for this shape (the engine keeps Python for the table)."""


def record_fields(messages: Mapping[str, object]) -> set[tuple[str, str]]:
    """Every ``(list, field)`` the templates look up with ``{N:rec:list:field}``."""
    out: set[tuple[str, str]] = set()
    for templates in messages.values():
        if not isinstance(templates, dict):
            continue
        for text in templates.values():
            for m in _FIELD.finditer(str(text)):
                fmt = m.group(2) or ""
                if fmt.startswith("rec:"):
                    _, lst, attr = (fmt.split(":") + ["", ""])[:3]
                    out.add((lst, attr))
    return out


def reason_sql(shape: Shape, cols: Sequence[str], messages: Mapping[str, object]) -> ReasonSql | None:
    """Compile the zh and en texts of a reason column of this shape.

    Args:
        shape: The shape of the reason term.
        cols: Its leaf columns (SQL expressions), left to right.
        messages: The policy's messages.yaml (``name/arity`` → ``{zh: …, en: …}``).

    Returns:
        The expressions, or None when some part cannot be rendered in SQL exactly as the Python renderer
        does (then the caller renders that column in Python).
    """
    if len(cols) != width(shape):
        raise ValueError(f"{len(cols)} columns for a reason of shape {shape} ({width(shape)} leaves)")
    out = ReasonSql()
    try:
        out.zh = _Renderer(messages, "zh", out).render(shape, list(cols))
        out.en = _Renderer(messages, "en", out).render(shape, list(cols))
    except _Unrenderable:
        return None
    return out


class _Renderer:
    def __init__(self, messages: Mapping[str, object], lang: str, out: ReasonSql) -> None:
        self.messages = messages
        self.lang = lang
        self.out = out

    def template(self, key: str) -> str | None:
        entry = self.messages.get(key, {})
        if not isinstance(entry, dict):
            return None
        text = entry.get(self.lang)
        return None if text is None else str(text)

    def render(self, shape: Shape, cols: list[str]) -> str:
        """``ReasonRenderer.render``: the template of the term's ``name/arity``, else the term's text."""
        if isinstance(shape, Fun):
            text = self.template(f"{shape.name}/{len(shape.args)}")
            if text is None:
                return self.term(shape, cols)
            return self.fill(text, shape, cols)
        if shape == SYM:  # a constant from the data: its template (``name/0``) chosen by value
            col = cols[0]
            whens = []
            for key in sorted(self.messages):
                if key.endswith("/0") and (text := self.template(key)) is not None:
                    name = key[:-2]
                    whens.append(f"WHEN {self.out.param(name)} THEN {self.out.param(text)}")
            return f"(CASE {col} {' '.join(whens)} ELSE {col} END)" if whens else col
        if shape == INT:
            if any(re.fullmatch(r"-?\d+", k) for k in self.messages):
                raise _Unrenderable  # a template keyed by a number: not worth a CASE
            return f"({cols[0]})::VARCHAR"
        if isinstance(shape, Special):
            return self.term(shape, cols)
        raise _Unrenderable  # a string (clingo quotes it)

    def fill(self, text: str, shape: Fun, cols: list[str]) -> str:
        args = split(shape, cols)
        parts: list[str] = []
        at = 0
        for m in _FIELD.finditer(text):
            if m.start() > at:
                parts.append(self.out.param(text[at : m.start()]))
            at = m.end()
            n = int(m.group(1))
            if n >= len(shape.args):
                parts.append(self.out.param(m.group(0)))
                continue
            parts.append(self.format(shape.args[n], args[n], m.group(2) or ""))
        if at < len(text):
            parts.append(self.out.param(text[at:]))
        if not parts:
            return "''"
        return "(" + " || ".join(parts) + ")"

    def format(self, shape: Shape, cols: list[str], fmt: str) -> str:
        """``ReasonRenderer.format``, case by case, for a term of this shape."""
        if fmt == "reason":
            return self.render(shape, cols)
        if fmt in ("money", "wan", "yw") and shape == MONEY:
            macro = {"money": "fuchi_txt_money", "wan": "fuchi_txt_wan", "yw": "fuchi_txt_yw"}[fmt]
            fen = self.out.pre(f"fuchi_fen({', '.join(cols)})")
            return f"{macro}(t.{fen})"
        if fmt in ("pct", "dec") and shape == DECIMAL:
            scale = 100 if fmt == "pct" else 1
            value = self.out.pre(f"fuchi_dnum({', '.join(cols)}) * {scale}")
            return f"fuchi_txt_dec(t.{value}, {cols[3]}, {'true' if fmt == 'pct' else 'false'})"
        if fmt.startswith("rec:") and shape == INT:
            _, lst, attr = (fmt.split(":") + ["", ""])[:3]
            lookup = RecordLookup(f"fuchi_r{len(self.out.lookups)}", lst, attr, cols[0])
            self.out.lookups.append(lookup)
            return f"COALESCE({lookup.alias}.text, ({cols[0]})::VARCHAR)"
        if shape == STR:
            return cols[0]
        if shape == INT:
            return f"({cols[0]})::VARCHAR"
        return self.term(shape, cols)

    def term(self, shape: Shape, cols: list[str]) -> str:
        """The text clingo gives a term (``str(symbol)``) for the shapes whose text needs no quoting."""
        if isinstance(shape, Leaf):
            if shape == STR:
                raise _Unrenderable  # clingo quotes and escapes strings
            return cols[0] if shape == SYM else f"({cols[0]})::VARCHAR"
        if isinstance(shape, Special):
            return self.out.param(f"#{shape.which}")
        if not shape.args:
            return self.out.param(shape.name)
        if not shape.name:
            raise _Unrenderable  # a tuple: (a,b) and (a,)
        inner: list[str] = []
        for s, c in zip(shape.args, split(shape, cols), strict=True):
            if inner:
                inner.append(self.out.param(","))
            inner.append(self.term(s, c))
        return "(" + " || ".join([self.out.param(shape.name + "("), *inner, self.out.param(")")]) + ")"


def record_texts(
    companies: Sequence[object],
    wanted: set[tuple[str, str]],
    add: Callable[[int, str, int, str, str], None],
    positions: Sequence[int] | None = None,
) -> None:
    """Hand every looked-up record field of the batch to ``add(company, list, key, field, text)``.

    The text is the renderer's ``str(getattr(record, field, key))``, so the lookup gives what the Python
    renderer would print. ``positions``: each enterprise's number in the batch (default: its position).
    """
    for n, co in zip(range(len(companies)) if positions is None else positions, companies, strict=True):
        for lst, attr in wanted:
            records = getattr(co, lst, None)
            if not isinstance(records, list):
                continue
            for k, rec in enumerate(records):
                add(n, lst, k, attr, str(getattr(rec, attr, k)))


__all__ = ["MESSAGES_PRELUDE", "ReasonSql", "reason_sql", "record_fields", "record_texts", "width"]

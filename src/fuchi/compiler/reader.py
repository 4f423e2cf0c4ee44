"""JSON Lines read by the database: the policy's input schema (``inputs.yaml``) compiled to SQL.

The SQL engine hands a batch of raw JSON Lines to DuckDB, which parses them itself (``json_extract``,
``json_each``: far faster than Python's loader). DuckDB's JSON reading is lenient where the data
contract is strict — it accepts trailing commas, reads numbers as doubles (``0.1000000000000000055``
reads as ``0.1``, ``1e-400`` as ``0.0``), keeps duplicate keys and ignores what a structure does not name
— so the compiled reader does not decide what is an error. It **vouches** for a line or not:

* a line is vouched for when a conservative screen finds nothing unusual in its text (no trailing comma,
  no number with an exponent, a sign or more than 15 significant digits, no ``NaN``, no ``\\u0000`` or
  surrogate escape) and every declared check holds in SQL: an object, no key twice at any level, the
  declared keys only, each value of its JSON type, amounts with at most two places (whole yuan, above zero
  where declared), decimals with at most six, within their bounds, years and integers in range,
  enumerations among their values, patterns matched, ``when:`` conditions, unique values and records;
* every other line goes to the Python loader (:mod:`fuchi.inputs.loader`), which stays the reference and
  the author of every message: a line it refuses is refused exactly as on the clingo engine (file:line,
  enterprise, field, expectation; exit 1), a line it accepts is laid out by the one fact builder.

The vouched lines' facts are computed in SQL, argument by argument as :mod:`fuchi.inputs.facts` writes
them (money in fen limbs, decimals scaled by 10^12, ids ``numbered:`` in order of first appearance), and
inserted into the plan's input tables. A schema the reader cannot compile exactly (a pattern outside the
subset Python's ``re`` and DuckDB's RE2 read alike, a record text of a decimal field) raises
:class:`Unsupported`: the engine then reads every line with the Python loader — the same results, slower.
No text from the data becomes SQL text: the data are rows of a registered table, names from the schema
are bound parameters or JSON paths, and numbers from the schema are Python integers.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from ..inputs.records import MAX_DECIMAL, MAX_DECIMALS, MAX_MONEY_FEN, MAX_RECORDS, MAX_YEAR, MIN_YEAR
from ..inputs.schema import Arg, Fact, Field, Schema

if TYPE_CHECKING:
    from .plan import Plan

#: Text the screen hands to the Python loader: a trailing comma (DuckDB accepts it, JSON does not); a
#: value starting with a sign, ``N``/``n`` not of ``null`` (DuckDB reads ``NaN``, ``nan``), ``I``
#: (Infinity) or anything but a string, digit, literal, object or array; a number with an exponent or of
#: 17 characters or more (more than 15 significant digits may not survive DuckDB's doubles); ``\u0000``
#: (NUL) and surrogate escapes.
SCREEN = r',\s*[\]}]|[:,\[]\s*([^"0-9tfn{\[\]\s]|n[^u]|[0-9.]*[eE]|[0-9.]{17})|\\u(0000|[dD][89abAB])'
#: The subset of regular-expression syntax that Python's ``re.fullmatch`` and RE2 read alike: letters,
#: digits, classes, groups, alternatives, the quantifiers ``* + ? {m} {m,} {m,n}`` (at most 1000) — not
#: ``{,n}`` (a count in Python, literal text in RE2), possessive quantifiers (Python 3.11) or ``(?…)``.
_SAFE_PATTERN = re.compile(r"[A-Za-z0-9_\-\[\]{}(),|+*? ]*")
_UNSAFE_PATTERN = re.compile(r"\(\?|[*+?}]\+")
_COUNT = re.compile(r"\{([0-9]+)(,([0-9]*))?\}")
_MONEY_TEXT = r"[0-9]{1,13}(\.[0-9]{1,2})?"
_DECIMAL_TEXT = r"[0-9]{1,13}(\.[0-9]{1,%s})?".replace("%s", str(MAX_DECIMALS))
_YEAR_KEY = r"[1-9][0-9]{0,8}"
_INTEGER_TYPES = "('UBIGINT', 'BIGINT')"
_NUMBER_TYPES = "('UBIGINT', 'BIGINT', 'DOUBLE')"
_SCALE = 10**12  # decimals: d(N2, N1, N0, X) of the value × 10^12 (docs/numbers.md)

#: Macros of the reader (no data in them): a vouched number's text as exact fen or decimal × 10^12.
READER_PRELUDE = f"""
CREATE OR REPLACE MACRO fuchi_rd_fen(r) AS
  TRY_CAST(split_part(r, '.', 1) AS HUGEINT) * 100 + TRY_CAST(rpad(split_part(r, '.', 2), 2, '0') AS HUGEINT);
CREATE OR REPLACE MACRO fuchi_rd_dec(r) AS
  TRY_CAST(split_part(r, '.', 1) AS HUGEINT) * {_SCALE}
  + TRY_CAST(rpad(split_part(r, '.', 2), 12, '0') AS HUGEINT);
"""


class Unsupported(Exception):
    """The schema uses something the compiled reader cannot check exactly (the Python loader reads it)."""


@dataclass(frozen=True)
class Query:
    """One SQL statement and its bound parameters."""

    sql: str
    params: tuple[object, ...] = ()


@dataclass(frozen=True)
class Reader:
    """The compiled reader of one schema for one plan.

    Run :attr:`setup` in order on a connection where ``fuchi_lines(n BIGINT, t VARCHAR)`` holds the batch
    (``n``: the enterprise's position in it). Then ``fuchi_unsure(n)`` holds the lines it does not vouch
    for (with duplicates); :attr:`light` selects ``(n, id, name)`` of the others, :attr:`facts` gives, per
    input table, the INSERT of their facts, and :attr:`records` selects the record texts of the reason
    templates' side table (``company, list, k, field, text``).
    """

    setup: tuple[Query, ...]
    light: Query
    facts: tuple[Query, ...]
    records: tuple[Query, ...]
    #: the reader's own tables, dropped once the facts are inserted
    temporary: tuple[str, ...] = ()


def compile_reader(schema: Schema, plan: Plan, record_fields: Sequence[tuple[str, str]] = ()) -> Reader:
    """Compile the reader of ``schema`` for the input tables of ``plan``.

    Args:
        schema: The policy's declared inputs (a ``tolerating`` schema accepts the others' fields too).
        plan: The compiled plan (its input tables, the predicates its rules read).
        record_fields: The ``(list, field)`` pairs the reason templates look up.

    Raises:
        Unsupported: See the module's docstring.
    """
    return _Compiler(schema, plan).compile(record_fields)


# ---- value checks and conversions (SQL over one JSON value ``x``) -----------------------------------------


_PLACEHOLDER = re.compile(r"\$(\d+)")


def _query(sql: str, params: Sequence[object] = ()) -> Query:
    """A statement with only the parameters it uses, renumbered ``$1``, ``$2`` … in order of first use."""
    used: dict[int, int] = {}

    def renumber(m: re.Match[str]) -> str:
        k = int(m.group(1))
        if k not in used:
            used[k] = len(used) + 1
        return f"${used[k]}"

    text = _PLACEHOLDER.sub(renumber, sql)
    return Query(text, tuple(params[k - 1] for k in sorted(used, key=used.__getitem__)))


def _q(s: str) -> str:
    """A SQL string literal of a text from the schema or this module (never data)."""
    return "'" + s.replace("'", "''") + "'"


def _path(name: str) -> str:
    return '$."' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _str(x: str) -> str:
    return f"({x} ->> '$')"


def _check(f: Field, x: str, items: tuple[str, ...], params: list[object]) -> str:
    """A SQL condition: the JSON value ``x`` (not SQL NULL) is a valid value of field ``f``'s kind."""
    kind = f.kind
    t = f"json_type({x})"
    if kind == "money":
        fen = f"fuchi_rd_fen({x}::VARCHAR)"
        cond = f"{t} IN {_NUMBER_TYPES} AND regexp_full_match({x}::VARCHAR, {_q(_MONEY_TEXT)})"
        cond += f" AND {fen} <= {MAX_MONEY_FEN}"
        if f.whole:
            cond += f" AND {fen} % 100 = 0"
        if f.positive:
            cond += f" AND {fen} > 0"
        return cond
    if kind == "decimal":
        n = f"fuchi_rd_dec({x}::VARCHAR)"
        cond = f"{t} IN {_NUMBER_TYPES} AND regexp_full_match({x}::VARCHAR, {_q(_DECIMAL_TEXT)})"
        cond += f" AND {n} <= {int(MAX_DECIMAL) * _SCALE}"
        if f.minimum is not None:
            cond += f" AND {n} >= {_scaled(f.minimum)}"
        if f.maximum is not None:
            cond += f" AND {n} <= {_scaled(f.maximum)}"
        return cond
    if kind in ("year", "integer"):
        lo, hi = (MIN_YEAR, MAX_YEAR) if kind == "year" else _int_bounds(f)
        return f"{t} IN {_INTEGER_TYPES} AND TRY_CAST({x}::VARCHAR AS HUGEINT) BETWEEN {lo} AND {hi}"
    if kind == "boolean":
        return f"{t} = 'BOOLEAN'"
    if kind in ("enumeration", "item"):
        params.append(list(f.values if kind == "enumeration" else items))
        return f"{t} = 'VARCHAR' AND list_contains(${len(params)}::VARCHAR[], {_str(x)})"
    if kind in ("text", "id"):
        cond = f"{t} = 'VARCHAR'"
        if kind == "id":
            cond += f" AND {_str(x)} <> ''"
        if f.pattern is not None:
            _safe_pattern(f)
            params.append(f.pattern)
            cond += f" AND regexp_full_match({_str(x)}, ${len(params)})"
        return cond
    raise Unsupported(f"kind {kind!r} of {f.name}")


def _safe_pattern(f: Field) -> None:
    """Raise :class:`Unsupported` unless Python's ``re`` and DuckDB's RE2 read ``f.pattern`` alike."""
    pattern = f.pattern or ""
    counts = [int(c) for m in _COUNT.finditer(pattern) for c in (m.group(1), m.group(3)) if c]
    stray = re.search(r"[{}]", _COUNT.sub("", pattern))  # a brace that is not a count {m}, {m,}, {m,n}
    if (
        not _SAFE_PATTERN.fullmatch(pattern)
        or _UNSAFE_PATTERN.search(pattern)
        or stray
        or max(counts, default=0) > 1000
    ):
        raise Unsupported(f"pattern {pattern!r} of {f.name}")
    import duckdb

    con = duckdb.connect()
    try:
        con.execute("SELECT regexp_full_match('', $1)", [pattern]).fetchall()
    except duckdb.Error as exc:
        raise Unsupported(f"pattern {pattern!r} of {f.name}: {exc}") from None
    finally:
        con.close()


def _scaled(value: Decimal) -> int:
    scaled = value * _SCALE
    if scaled != scaled.to_integral_value():
        raise Unsupported(f"bound {value} has more than 12 places")
    return int(scaled)


def _int_bounds(f: Field) -> tuple[int, int]:
    lo = int(f.minimum) if f.minimum is not None else -(2**31)
    hi = int(f.maximum) if f.maximum is not None else 2**31 - 1
    return lo, hi


def _converted(f: Field, x: str) -> str:
    """The SQL value the loader would hold for a vouched JSON value (for equality: unique, when)."""
    kind = f.kind
    if kind == "money":
        return f"fuchi_rd_fen({x}::VARCHAR)"
    if kind == "decimal":
        return f"fuchi_rd_dec({x}::VARCHAR)"
    if kind in ("year", "integer"):
        return f"TRY_CAST({x}::VARCHAR AS BIGINT)"
    if kind == "boolean":
        return f"({x}::VARCHAR = 'true')"
    return _str(x)


def _text_of(f: Field, x: str) -> str:
    """``str()`` of the loader's value of a vouched JSON value (the reason templates' record lookups)."""
    kind = f.kind
    if kind == "money":
        return f"fuchi_rd_fen({x}::VARCHAR)::VARCHAR"
    if kind in ("year", "integer"):
        return f"{x}::VARCHAR"
    if kind == "boolean":
        return f"CASE WHEN {x}::VARCHAR = 'true' THEN 'True' ELSE 'False' END"
    if kind in ("text", "id", "enumeration", "item"):
        return _str(x)
    raise Unsupported(f"record text of a {kind} field ({f.name})")


def _leaves(f: Field, arg: Arg, x: str, number: str | None) -> list[str]:
    """The leaf columns of the term the fact builder writes for a vouched value (:mod:`fuchi.inputs.facts`)."""
    if arg.prefix is not None:
        return [f"substr({_str(x)}, 1, {int(arg.prefix)})"]
    if f.numbered is not None:
        assert number is not None
        return [number]
    kind = f.kind
    if kind in ("text", "id", "item", "enumeration"):
        return [_str(x)]
    if kind == "boolean":
        return [f"CASE WHEN {x}::VARCHAR = 'true' THEN 'true' ELSE 'false' END"]
    if kind in ("year", "integer"):
        return [f"CAST({x}::VARCHAR AS BIGINT)"]
    if kind == "money":
        fen = f"fuchi_rd_fen({x}::VARCHAR)"
        return [f"CAST({fen} // 10000000000 AS BIGINT)", f"CAST(({fen} // 100000) % 100000 AS BIGINT)",
                f"CAST({fen} % 100000 AS BIGINT)"]  # fmt: skip
    if kind == "decimal":
        n = f"fuchi_rd_dec({x}::VARCHAR)"
        return [f"CAST({n} // 1000000000000000000 AS BIGINT)", f"CAST(({n} // 1000000000) % 1000000000 AS BIGINT)",
                f"CAST({n} % 1000000000 AS BIGINT)", "0"]  # fmt: skip
    raise Unsupported(f"kind {kind!r} of {f.name}")


# ---- the compiler -----------------------------------------------------------------------------------------


class _Compiler:
    def __init__(self, schema: Schema, plan: Plan) -> None:
        self.schema = schema
        self.plan = plan
        self.setup: list[Query] = []
        self.facts: list[Query] = []
        #: for each numbered space: the SELECTs of (n, text, order) of every value the builder numbers
        self.numbered: list[tuple[str, list[object]]] = []
        self.fields = list(schema.fields)
        #: 1-based index of each enterprise field in ``fuchi_top.v`` (``v[1]`` is the id)
        self.at = {f.name: i + 2 for i, f in enumerate(self.fields)}

    def compile(self, record_fields: Sequence[tuple[str, str]]) -> Reader:
        s = self.schema
        top_paths = ["$.id", *(_path(f.name) for f in self.fields)]
        # (the fields another policy of the run declares are not among them: a line giving one is read by the
        # loader, which checks its JSON — a value no check of this schema reads could hide a nan or a key twice)
        allowed = ["id", *(f.name for f in self.fields)]
        self.setup.append(
            _query(
                "CREATE TABLE fuchi_ok AS SELECT n, t FROM fuchi_lines "
                "WHERE json_valid(t) AND NOT regexp_matches(t, $1)",
                (SCREEN,),
            )
        )
        self.setup.append(
            _query(
                "CREATE TABLE fuchi_top AS SELECT n, json_keys(t) AS keys, json_extract(t, $1::VARCHAR[]) AS v "
                "FROM fuchi_ok WHERE json_type(t) = 'OBJECT'",
                (top_paths,),
            )
        )
        self.setup.append(_query("DROP TABLE fuchi_ok"))
        # the lines not vouched for: not valid JSON for both parsers, not an object, or a check below fails
        checks: list[str] = [
            "len(keys) = len(list_distinct(keys))",
            "list_has_all($1::VARCHAR[], keys)",
            "json_type(v[1]) = 'VARCHAR'",
            "v[1] ->> '$' <> ''",
        ]
        params: list[object] = [allowed]
        for f in self.fields:
            x = f"v[{self.at[f.name]}]"
            if f.shape == "scalar":
                cond = _check(f, x, s.items, params)
            elif f.shape in ("list", "records"):
                cond = f"json_type({x}) = 'ARRAY' AND json_array_length({x}) <= {MAX_RECORDS}"
            elif f.shape == "by_year":
                cond = f"json_type({x}) = 'OBJECT'"
            else:
                raise Unsupported(f"shape {f.shape} of {f.name}")
            checks.append(f"{x} IS NOT NULL" if f.required else f"({x} IS NULL OR ({cond}))")
            if f.required:
                checks.append(f"({cond})")
        self.setup.append(
            _query(
                "CREATE TABLE fuchi_unsure AS SELECT n FROM fuchi_lines WHERE n NOT IN (SELECT n FROM fuchi_top) "
                "UNION ALL SELECT n FROM fuchi_top WHERE NOT coalesce(" + " AND ".join(checks) + ", false)",
                tuple(params),
            )
        )
        for fi, f in enumerate(self.fields):
            if f.shape == "list":
                self._list(fi, f)
            elif f.shape == "by_year":
                self._by_year(fi, f)
            elif f.shape == "records":
                self._records(fi, f)
        self._numbering()
        sure = "n NOT IN (SELECT n FROM fuchi_unsure)"
        self.setup.append(_query(f"CREATE TABLE fuchi_stop AS SELECT * FROM fuchi_top WHERE {sure}"))
        self.setup.append(_query("DROP TABLE fuchi_top"))
        for fi, f in enumerate(self.fields):
            self._facts(fi, f)
        self._insert(s.id_fact, [["n"] for _ in s.id_fact.args], "fuchi_stop", "true")
        light = self._light()
        records = tuple(self._record_texts(lst, attr) for lst, attr in record_fields)
        temporary = ("fuchi_stop", "fuchi_unsure", "fuchi_num", *(f"fuchi_f{i}" for i, f in enumerate(self.fields)))
        return Reader(
            tuple(self.setup), light, tuple(self.facts), tuple(q for q in records if q is not None), temporary
        )

    # ---- exploded fields: one table each, rows (n, k | key, x …) --------------------------------------

    def _unsure_unless(self, table: str, cond: str, params: Sequence[object] = ()) -> None:
        """The lines with a row of ``table`` where ``cond`` does not hold are not vouched for."""
        self.setup.append(
            _query(f"INSERT INTO fuchi_unsure SELECT n FROM {table} WHERE NOT coalesce({cond}, false)", params)
        )

    def _unsure_repeated(self, table: str, by: str) -> None:
        """The lines giving two rows of ``table`` alike in ``by`` are not vouched for (``unique:``, a key twice)."""
        self.setup.append(
            _query(f"INSERT INTO fuchi_unsure SELECT n FROM {table} GROUP BY n, {by} HAVING count(*) > 1")
        )

    def _list(self, fi: int, f: Field) -> None:
        x = f"v[{self.at[f.name]}]"
        table = f"fuchi_f{fi}"
        self.setup.append(
            _query(
                f"CREATE TABLE {table} AS SELECT n, generate_subscripts(l, 1) - 1 AS k, unnest(l) AS x FROM "
                f"(SELECT n, json_transform({x}, '[\"JSON\"]') AS l FROM fuchi_top WHERE json_type({x}) = 'ARRAY')"
            )
        )
        params: list[object] = []
        self._unsure_unless(table, _check(f, "x", self.schema.items, params), params)
        if f.unique:
            self._unsure_repeated(table, _converted(f, "x"))

    def _by_year(self, fi: int, f: Field) -> None:
        x = f"v[{self.at[f.name]}]"
        table = f"fuchi_f{fi}"
        self.setup.append(
            _query(
                f"CREATE TABLE {table} AS SELECT d.n, j.key AS key, j.value AS x FROM "
                f"(SELECT n, {x} AS m FROM fuchi_top WHERE json_type({x}) = 'OBJECT') d, json_each(d.m) j"
            )
        )
        params: list[object] = []
        key = f"regexp_full_match(key, {_q(_YEAR_KEY)}) AND TRY_CAST(key AS BIGINT) BETWEEN {MIN_YEAR} AND {MAX_YEAR}"
        self._unsure_unless(table, f"{key} AND {_check(f, 'x', self.schema.items, params)}", params)
        self._unsure_repeated(table, "key")

    def _records(self, fi: int, f: Field) -> None:
        x = f"v[{self.at[f.name]}]"
        table = f"fuchi_f{fi}"
        subs = list(f.records)
        paths = [_path(r.name) for r in subs]
        self.setup.append(
            _query(
                f"CREATE TABLE {table} AS SELECT n, k, json_type(r) AS rt, CASE WHEN json_type(r) = 'OBJECT' "
                f"THEN json_keys(r) END AS keys, json_extract(r, $1::VARCHAR[]) AS x FROM "
                f"(SELECT n, generate_subscripts(l, 1) - 1 AS k, unnest(l) AS r FROM "
                f"(SELECT n, json_transform({x}, '[\"JSON\"]') AS l FROM fuchi_top WHERE json_type({x}) = 'ARRAY'))",
                (paths,),
            )
        )
        allowed = [r.name for r in subs]  # (not the record fields only another policy declares: see compile)
        params: list[object] = [allowed]
        checks = ["rt = 'OBJECT'", "len(keys) = len(list_distinct(keys))", "list_has_all($1::VARCHAR[], keys)"]
        for j, r in enumerate(subs):
            xj = f"x[{j + 1}]"
            ok = _check(r, xj, self.schema.items, params)
            present = f"({xj} IS NOT NULL AND {ok})" if r.required else f"({xj} IS NULL OR ({ok}))"
            gate = self._gate(f, j, params)
            checks.append(present if gate is None else f"(CASE WHEN {gate} THEN {present} ELSE {xj} IS NULL END)")
        self._unsure_unless(table, " AND ".join(checks), params)
        if f.unique_by:
            names = [r.name for r in subs]
            self._unsure_repeated(table, ", ".join(self._value_or_null(f, names.index(u), []) for u in f.unique_by))

    def _gate(self, f: Field, j: int, params: list[object]) -> str | None:
        """The SQL condition under which record field ``j`` may be given (None: always)."""
        r = f.records[j]
        if r.when is None:
            return None
        name, value = r.when
        at = next((i for i, s in enumerate(f.records) if s.name == name), None)
        if at is None or at >= j:  # the loader compares with a field not read yet: never given
            return "false"
        w = f.records[at]
        if w.kind not in ("text", "id", "enumeration", "item"):
            raise Unsupported(f"when: on a {w.kind} field ({f.name}.{r.name})")
        params.append(value)
        # the loader's rec.get(name) is the when-field's value, or None when it was not given (or gated out)
        inner = self._gate(f, at, params)
        given = f"x[{at + 1}] IS NOT NULL" + (f" AND {inner}" if inner is not None else "")
        return f"coalesce({given} AND {_str(f'x[{at + 1}]')} = ${len(params)}, false)"

    def _value_or_null(self, f: Field, j: int, params: list[object]) -> str:
        """Record field ``j``'s loader value, NULL when absent (or gated out)."""
        r = f.records[j]
        gate = self._gate(f, j, params)
        if params:
            raise Unsupported(f"unique: over a when: field ({f.name}.{r.name})")
        value = _converted(r, f"x[{j + 1}]")
        return value if gate is None else f"CASE WHEN {gate} THEN {value} END"

    # ---- numbered ids ---------------------------------------------------------------------------------

    def _numbering(self) -> None:
        """``fuchi_num(nn, space, text, num)``: the builder's numbers, in order of first appearance."""
        selects: list[str] = []
        params: list[object] = []
        for fi, f in enumerate(self.fields):
            if f.shape != "records":
                if f.numbered is not None and f.fact is not None:
                    raise Unsupported(f"numbered: outside records ({f.name})")
                continue
            order = 0
            for fact, owner, cond in self._record_facts(f, params):
                for arg in fact.args:
                    order += 1
                    if arg.source in ("company", "key") or arg.prefix is not None:
                        continue
                    src = owner if arg.source == "value" else f.record_field(arg.source)
                    if src.numbered is None:
                        continue
                    j = f.records.index(src)
                    params.append(src.numbered)
                    space = len(params)
                    selects.append(
                        f"SELECT n, ${space} AS space, {_str(f'x[{j + 1}]')} AS text, "
                        f"{fi} * 10000000000 + k * 10000 + {order} AS o FROM fuchi_f{fi} "
                        f"WHERE {cond} AND x[{j + 1}] IS NOT NULL"
                    )
        if not selects:
            self.setup.append(_query("CREATE TABLE fuchi_num (nn BIGINT, space VARCHAR, text VARCHAR, num BIGINT)"))
            return
        self.setup.append(
            _query(
                "CREATE TABLE fuchi_num AS SELECT n AS nn, space, text, "
                "row_number() OVER (PARTITION BY n, space ORDER BY o) - 1 AS num FROM "
                "(SELECT n, space, text, min(o) AS o FROM (" + " UNION ALL ".join(selects) + ") "
                "WHERE n NOT IN (SELECT n FROM fuchi_unsure) GROUP BY n, space, text)",
                tuple(params),
            )
        )

    def _record_facts(self, f: Field, params: list[object]) -> list[tuple[Fact, Field, str]]:
        """The facts each record writes, in the builder's order: (fact, its value field, when it is written)."""
        out: list[tuple[Fact, Field, str]] = []
        if f.fact is not None:
            out.append((f.fact, f, "true"))
        for j, r in enumerate(f.records):
            if r.fact is None:
                continue
            gate = self._gate(f, j, params)
            cond = f"x[{j + 1}] IS NOT NULL" + (f" AND {gate}" if gate is not None else "")
            if r.kind == "boolean" and not any(a.source == "value" for a in r.fact.args):
                cond += f" AND x[{j + 1}]::VARCHAR = 'true'"
            out.append((r.fact, r, cond))
        return out

    # ---- facts ----------------------------------------------------------------------------------------

    def _facts(self, fi: int, f: Field) -> None:
        if f.shape == "records":
            params: list[object] = []
            for fact, owner, cond in self._record_facts(f, params):
                per_arg = [self._arg_options(f, owner, a, params) for a in fact.args]
                self._insert(fact, per_arg, f"fuchi_f{fi}", cond, params)
            return
        if f.fact is None:
            return
        flag = f.kind == "boolean" and not any(a.source == "value" for a in f.fact.args)
        if f.shape == "scalar":
            x = f"v[{self.at[f.name]}]"
            if f.kind == "boolean" and not flag:  # an absent flag reads as false and is written so
                x = f"coalesce({x}, 'false'::JSON)"
                cond = "true"
            else:
                cond = f"{x} IS NOT NULL" + (f" AND {x}::VARCHAR = 'true'" if flag else "")
            source = "fuchi_stop"
        else:
            x, cond, source = "x", "true", f"fuchi_f{fi}"
        options: list[list[str] | tuple[list[str], list[str], str]] = []
        for a in f.fact.args:
            if a.source == "company":
                options.append(["n"])
            elif a.source == "year" and f.shape == "by_year":
                options.append(["CAST(key AS BIGINT)"])
            elif a.source == "key" and f.shape == "list":
                raise Unsupported(f"key of a list ({f.name})")
            elif a.source == "value":
                options.append(_leaves(f, a, x, None))
            else:
                raise Unsupported(f"argument {a.source} of {f.name}")
        self._insert(f.fact, options, source, cond)

    def _arg_options(
        self, f: Field, owner: Field, a: Arg, params: list[object]
    ) -> list[str] | tuple[list[str], list[str], str]:
        """An argument's leaves; for a field that may be absent (``absent:``): (present, absent, condition)."""
        if a.source == "company":
            return ["n"]
        if a.source == "key":
            return ["k"]
        src = owner if a.source == "value" else f.record_field(a.source)
        j = f.records.index(src)
        xj = f"x[{j + 1}]"
        number = None
        if src.numbered is not None:
            params.append(src.numbered)
            number = (
                f"(SELECT u.num FROM fuchi_num u WHERE u.nn = n AND u.space = ${len(params)} AND u.text = {_str(xj)})"
            )
        present = _leaves(src, a, xj, number)
        if src.absent is None:
            return present
        gate = self._gate(f, j, params)
        given = f"{xj} IS NOT NULL" + (f" AND {gate}" if gate is not None else "")
        params.append(src.absent)
        return (present, [f"${len(params)}"], given)

    def _insert(
        self,
        fact: Fact,
        options: Sequence[list[str] | tuple[list[str], list[str], str]],
        source: str,
        cond: str,
        params: Sequence[object] = (),
    ) -> None:
        """INSERT the fact's rows into the input table of each variant (an absent field: another variant)."""
        tables = self.plan.inputs.get(fact.signature)
        if not tables:
            if fact.signature in self.plan.reads:
                raise Unsupported(f"{fact.predicate}/{len(fact.args)} has no input table")
            return  # no rule reads it: without effect, as in clingo
        by_width = {len(t.columns): t for t in tables}
        variants: list[tuple[list[str], list[str]]] = [([], [])]
        for opt in options:
            if isinstance(opt, tuple):
                present, absent, given = opt
                variants = [(v + present, c + [given]) for v, c in variants] + [
                    (v + absent, c + [f"NOT ({given})"]) for v, c in variants
                ]
            else:
                variants = [(v + opt, c) for v, c in variants]
        for leaves, conds in variants:
            table = by_width.get(len(leaves))
            if table is None:
                raise Unsupported(f"{fact.predicate}/{len(fact.args)}: no input table of {len(leaves)} columns")
            where = " AND ".join([cond, *conds])
            sql = f"INSERT INTO {table.name} SELECT {', '.join(leaves)} FROM {source} WHERE {where}"
            if source != "fuchi_stop":
                sql += " AND n NOT IN (SELECT n FROM fuchi_unsure)"
            self.facts.append(_query(sql, tuple(params)))

    # ---- what the engine reads besides the facts ------------------------------------------------------

    def _light(self) -> Query:
        """``(n, id, name)`` of the vouched lines, in batch order (the name when the schema declares one)."""
        name = "NULL"
        named = self.schema.field("name") if "name" in self.at else None
        if named is not None and named.kind in ("text", "id") and named.shape == "scalar":
            x = f"v[{self.at['name']}]"
            name = f"CASE WHEN json_type({x}) = 'VARCHAR' THEN {_str(x)} END"
        return _query(f"SELECT n, v[1] ->> '$', {name} FROM fuchi_stop ORDER BY n")

    def _record_texts(self, lst: str, attr: str) -> Query | None:
        f = next((g for g in self.fields if g.name == lst), None)
        if f is None:
            return None  # not a field: the renderer finds no records either
        if f.shape != "records":
            raise Unsupported(f"record lookup in {lst}, which is not a list of records")
        fi = self.fields.index(f)
        j = next((i for i, r in enumerate(f.records) if r.name == attr), None)
        if j is None:
            text = "'None'"
            params: list[object] = [lst, attr]
        else:
            params = [lst, attr]
            gate = self._gate(f, j, params)
            given = f"x[{j + 1}] IS NOT NULL" + (f" AND {gate}" if gate is not None else "")
            text = f"CASE WHEN {given} THEN {_text_of(f.records[j], f'x[{j + 1}]')} ELSE 'None' END"
        return _query(
            f"SELECT n, $1, k, $2, {text} FROM fuchi_f{fi} WHERE n NOT IN (SELECT n FROM fuchi_unsure)", tuple(params)
        )


__all__ = ["READER_PRELUDE", "SCREEN", "Query", "Reader", "Unsupported", "compile_reader"]

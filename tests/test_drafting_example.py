"""docs/drafting.md's worked example (clause 2.11), applied block by block to a copy of the policy.

Each ``<!-- example-2.11 FILE MODE -->`` marker is followed by a fenced block; the test applies it to the
copy (``create``, ``append``, ``after:LINE``, ``before:LINE``, ``replace-line:LINE``; LINE is the start
of the first line it matches) and checks what the
doc claims: check clean, every case passing on both engines, coverage 100% both ways, the amounts, and no
file under ``src/`` touched.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from fuchi.cli import main
from fuchi.drafting.checker import check_policy
from fuchi.policy import default_policy_dir

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "drafting.md"
_BLOCK = re.compile(r"<!-- example-2\.11 (\S+) (.*?) -->\n```\w*\n(.*?)```\n", re.S)


def _src_digest() -> str:
    h = hashlib.sha256()
    for p in sorted((ROOT / "src").rglob("*")):
        if p.is_file() and "__pycache__" not in p.parts:
            h.update(p.relative_to(ROOT).as_posix().encode() + b"\0" + p.read_bytes())
    return h.hexdigest()


def apply_example(dest: Path) -> int:
    """Apply every block of the worked example to the policy copy ``dest``; return how many."""
    blocks = _BLOCK.findall(DOC.read_text(encoding="utf-8"))
    for file, mode, body in blocks:
        path = dest / file
        if mode == "create":
            assert not path.exists(), file
            path.write_text(body, encoding="utf-8")
            continue
        text = path.read_text(encoding="utf-8")
        if mode == "append":
            text = text + body
        else:
            how, _, line = mode.partition(":")
            lines = text.splitlines(keepends=True)
            at = next(n for n, t in enumerate(lines) if t.startswith(line))
            if how == "after":
                lines.insert(at + 1, body)
            elif how == "before":
                lines.insert(at, body)
            else:
                assert how == "replace-line", mode
                lines[at] = body
            text = "".join(lines)
        path.write_text(text, encoding="utf-8")
    return len(blocks)


@pytest.fixture(scope="module")
def drafted(tmp_path_factory: pytest.TempPathFactory) -> Path:
    dest = tmp_path_factory.mktemp("draft") / "policy"
    shutil.copytree(default_policy_dir(), dest)
    assert apply_example(dest) == 8
    return dest


def test_check_is_clean(drafted: Path) -> None:
    before = _src_digest()
    findings = check_policy(drafted)
    assert findings == [], [f.render() for f in findings]
    assert _src_digest() == before


def test_cases_pass_with_full_coverage_on_both_engines(drafted: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(main, ["test", "--policy", str(drafted), "--coverage", "--format", "json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    coverage = report["coverage"]
    rules = {r["rule"]: r for r in coverage["rules"]}
    for rule_id in ("2.11.touch", "2.11.amount"):
        assert rules[rule_id]["fired"] and rules[rule_id]["failed"], rules[rule_id]
    assert all(r["fired"] and r["failed"] for r in coverage["rules"]), [
        r["rule"] for r in coverage["rules"] if not (r["fired"] and r["failed"])
    ]
    sql = runner.invoke(main, ["test", "--policy", str(drafted), "--engine", "sql"])
    assert sql.exit_code == 0, sql.output


def test_amounts_and_errors(drafted: Path, tmp_path: Path) -> None:
    data = tmp_path / "talent.yaml"
    data.write_text(
        "companies:\n"
        "  - {id: A, registered_in: chongming, industry_code: '6513', sound_finance: true, good_credit: true,\n"
        "     fits_direction: true, ai_engineer_hires: {2026: 3, 2027: 21}}\n",
        encoding="utf-8",
    )
    runner = CliRunner()
    outputs = []
    for engine in ("clingo", "sql"):
        result = runner.invoke(
            main, ["evaluate", "--policy", str(drafted), "--engine", engine, "--format", "json", str(data)]
        )
        assert result.exit_code == 0, result.output
        outputs.append(result.output)
        rows = [(r["year"], r["item"], r["status"], r["amount"]) for r in json.loads(result.output)["results"]]
        assert rows == [(2026, "2.11", "granted", 30000), (2027, "2.11", "granted", 200000)]
    assert outputs[0] == outputs[1]
    bad = tmp_path / "bad.yaml"
    bad.write_text("companies:\n  - {id: A, ai_engineer_hires: {2026: 2.5}}\n", encoding="utf-8")
    result = runner.invoke(main, ["evaluate", "--policy", str(drafted), str(bad)])
    assert result.exit_code == 1
    assert "字段 field ai_engineer_hires.2026: 应为 0 至 100000 之间的整数 / expected an integer from 0 to 100000" in (
        result.output
    )


def test_the_shipped_policy_refuses_the_new_field(tmp_path: Path) -> None:
    data = tmp_path / "talent.yaml"
    data.write_text("companies:\n  - {id: A, ai_engineer_hires: {2026: 3}}\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["evaluate", str(data)])
    assert result.exit_code == 1 and "unknown field" in result.output


@pytest.mark.parametrize(
    ("old", "new", "code"),
    [
        ("@cap(@times(P, N), Cap)", "@cap(@time(P, N), Cap)", None),
        ("@cap(@times(P, N), Cap)", "@cap(@times(N, P), Cap)", None),
        ('touched(C, Y, "2.11")', 'touched(C, Y, "2.11.a")', None),
    ],
)
def test_mistakes_are_caught_at_the_line(drafted: Path, tmp_path: Path, old: str, new: str, code: str | None) -> None:
    dest = tmp_path / "policy"
    shutil.copytree(drafted, dest)
    rules = dest / "rules" / "30-talent.lp"
    text = rules.read_text(encoding="utf-8")
    assert old in text
    rules.write_text(text.replace(old, new, 1), encoding="utf-8")
    line = next(n for n, t in enumerate(rules.read_text(encoding="utf-8").splitlines(), 1) if new in t)
    errors = [f for f in check_policy(dest) if f.severity == "error"]
    assert any(Path(f.file).name == "30-talent.lp" and f.line == line for f in errors), [f.render() for f in errors]

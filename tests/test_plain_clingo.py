"""The rule files run under clingo itself: `fuchi facts` + `fuchi clingo` give the decisions of `evaluate`."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RULES = sorted(str(p) for p in (ROOT / "policy" / "chongming-digital-2025" / "rules").glob("*.lp"))
DATA = [str(ROOT / "facts" / "city.yaml"), str(ROOT / "facts" / "companies.yaml")]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    code = "from fuchi.cli import main; main()"
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, cwd=ROOT)


def test_clingo_on_exported_facts_gives_the_same_decisions(tmp_path: Path) -> None:
    facts = run("facts", *DATA)
    assert facts.returncode == 0, facts.stderr
    path = tmp_path / "facts.lp"
    path.write_text(facts.stdout, encoding="utf-8")
    ids = dict(re.findall(r"^% c\((\d+)\) = (.*)$", facts.stdout, re.M))
    solved = run("clingo", *RULES, str(path), "--outf=0", "-V0")
    assert solved.returncode in (10, 30), solved.stderr  # clingo's exit codes for SAT
    atoms = solved.stdout.split()
    got = set()
    for atom in atoms:
        m = re.match(r'decision\(c\((\d+)\),(\d+),"([^"]+)",(\w+),m\((\d+),(\d+),(\d+)\)', atom)
        if m:
            n, year, item, status, a, b, c = m.groups()
            fen = (int(a) * 100_000 + int(b)) * 100_000 + int(c)
            got.add((json.loads(ids[n]), int(year), item, status, fen // 100))
    evaluated = run("evaluate", *DATA, "--format", "json", "--workers", "0")
    assert evaluated.returncode == 0, evaluated.stderr
    want = {
        (r["company"], r["year"], r["item"], r["status"], r["amount"]) for r in json.loads(evaluated.stdout)["results"]
    }
    assert got == want
    assert len(want) > 50


def test_exported_facts_keep_hostile_ids_as_data(tmp_path: Path) -> None:
    data = tmp_path / "d.yaml"
    hostile = 'evil"). decision(c(0),2026,"2.1.a",granted,m(0,50,0),none,x). %\nnext'
    data.write_text(
        "companies:\n  - id: " + json.dumps(hostile) + "\n    revenue: {2025: 1, 2026: 30000000}\n", encoding="utf-8"
    )
    out = run("facts", str(data))
    assert out.returncode == 0, out.stderr
    assert "% c(0) = " + json.dumps(hostile, ensure_ascii=False) in out.stdout
    assert "decision(" not in out.stdout.replace(json.dumps(hostile, ensure_ascii=False), "")

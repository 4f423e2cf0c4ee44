"""Benchmark ``fuchi evaluate --explain`` (the one-liners) against plain ``fuchi evaluate`` in the same run.

    python bench/explain.py [--sizes 5000] [--engines sql,clingo] [--workers 2] [--seed 7] [--repeat 1] [--json]

For each size N: generate N enterprises (bench/generate.py), then measure, each under bench/_measure.py
(wall time, CPU of the process tree, peak memory summed over the tree):

* ``plain``: ``fuchi evaluate FILE bench/city.yaml --format json --engine E``;
* ``explain``: the same with ``--explain``.

Printed: both times and their ratio. The target of issue 10.3 is ``explain`` within 3× ``plain`` on a
population. The one-liners of both engines are compared too (they must be the same bytes). Nothing here
asserts on time: the figures go to docs/performance.md.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from run import fuchi_command, machine, measure  # noqa: E402  (bench/ is not a package)


def evaluate(data: Path, city: Path, engine: str, workers: int, explain: bool, out: Path) -> dict[str, Any]:
    """Measure one ``fuchi evaluate`` (stdout to ``out``)."""
    command = [*fuchi_command(), "evaluate", str(data), str(city), "--format", "json", "--engine", engine]
    command += ["--workers", str(workers)] + (["--explain"] if explain else [])
    shell = [sys.executable, "-c", _TO_FILE, str(out), *command]
    return measure(shell)


#: Runs a command with its stdout in a file (bench/_measure.py measures this process and its children).
_TO_FILE = (
    "import subprocess, sys\n"
    "with open(sys.argv[1], 'wb') as f:\n"
    "    sys.exit(subprocess.run(sys.argv[2:], stdout=f, stderr=subprocess.DEVNULL).returncode)\n"
)


def run_size(n: int, engines: list[str], workers: int, seed: int, repeat: int, tmp: Path) -> list[dict[str, Any]]:
    """Generate N enterprises and measure plain and explained evaluate on them, per engine."""
    city = HERE / "city.yaml"
    data = tmp / f"enterprises-{n}.jsonl"
    subprocess.run(
        [sys.executable, str(HERE / "generate.py"), str(n), str(data), "--seed", str(seed), "--city", str(city)],
        check=True,
    )
    results = []
    lines: dict[str, list[str]] = {}
    for engine in engines:
        plain_out, explain_out = tmp / f"plain-{engine}.json", tmp / f"explain-{engine}.json"
        plain = min((evaluate(data, city, engine, workers, False, plain_out) for _ in range(repeat)), key=_wall)
        explained = min((evaluate(data, city, engine, workers, True, explain_out) for _ in range(repeat)), key=_wall)
        doc = json.loads(explain_out.read_text(encoding="utf-8"))
        lines[engine] = [r["explanation"] for r in doc["results"]]
        same_rows = [{k: v for k, v in r.items() if k != "explanation"} for r in doc["results"]] == json.loads(
            plain_out.read_text(encoding="utf-8")
        )["results"]
        results.append(
            {
                "size": n,
                "engine": engine,
                "workers": workers,
                "rows": len(doc["results"]),
                "plain_s": plain["wall_s"],
                "plain_cpu_s": plain["tree_cpu_s"],
                "explain_s": explained["wall_s"],
                "explain_cpu_s": explained["tree_cpu_s"],
                "explain_tree_peak_kib": explained["tree_peak_kib"],
                "ratio": round(explained["wall_s"] / plain["wall_s"], 2) if plain["wall_s"] else None,
                "rows_unchanged": same_rows,
            }
        )
    if len(lines) > 1:
        first = next(iter(lines.values()))
        for r in results:
            r["lines_equal_across_engines"] = all(v == first for v in lines.values())
    return results


def _wall(report: dict[str, Any]) -> float:
    return float(report["wall_s"])


def main() -> None:
    """Parse the arguments, run the sizes and print the table (or JSON)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="5000")
    parser.add_argument("--engines", default="sql,clingo")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in (int(x) for x in args.sizes.split(",")):
            results += run_size(n, args.engines.split(","), args.workers, args.seed, args.repeat, Path(tmp))
    if args.json:
        print(json.dumps({"machine": machine(), "results": results}, indent=1))
        return
    print("| Enterprises | engine | rows | evaluate | evaluate --explain | ratio | CPU plain / explain | rows same |")
    print("|---:|---|---:|---:|---:|---:|---:|---|")
    for r in results:
        print(
            f"| {r['size']:,} | {r['engine']} | {r['rows']:,} | {r['plain_s']:.1f} s | {r['explain_s']:.1f} s | "
            f"{r['ratio']}× | {r['plain_cpu_s']:.1f} / {r['explain_cpu_s']:.1f} s | {r['rows_unchanged']} |"
        )
    if any("lines_equal_across_engines" in r for r in results):
        print(f"one-liners equal across engines: {all(r['lines_equal_across_engines'] for r in results)}")


if __name__ == "__main__":
    main()

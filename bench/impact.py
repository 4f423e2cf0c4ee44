"""Benchmark ``fuchi diff`` (and ``budget``, ``sweep``) against one ``fuchi evaluate`` of the same data.

    python bench/impact.py [--sizes 10000,100000] [--workers 2] [--engine auto] [--values 1.0,1.2,1.5,2.0]

For each size: generate N enterprises (bench/generate.py), then measure in the same run, each under
bench/_measure.py (wall time, peak memory summed over the process tree):

* ``evaluate``: ``fuchi evaluate FILE --format json`` — the baseline;
* ``diff``: ``fuchi diff FILE --set growth_factor=1.5 --set min_rd_ratio=0.04 --format json``;
* ``budget``: ``fuchi budget FILE --format json``;
* ``sweep``: ``fuchi sweep growth_factor=V1,… FILE --format json``.

Printed: each command's time, its ratio to ``evaluate`` and the tree's peak memory. The target of issue 9
is ``diff`` within 2× ``evaluate``. Nothing here asserts: the figures go to docs/performance.md.
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

from run import fuchi_command, measure  # noqa: E402  (bench/ is not a package)

DRAFT = ["--set", "growth_factor=1.5", "--set", "min_rd_ratio=0.04"]


def run_size(n: int, workers: int, engine: str, values: str, tmp: Path, seed: int) -> dict[str, Any]:
    """Measure the four commands on N generated enterprises."""
    data = tmp / f"enterprises-{n}.jsonl"
    subprocess.run([sys.executable, str(HERE / "generate.py"), str(n), str(data), "--seed", str(seed)], check=True)
    common = ["--format", "json", "--workers", str(workers), "--engine", engine]
    files = [str(data), str(HERE / "city.yaml")]
    commands = {
        "evaluate": ["evaluate", *files, *common],
        "diff": ["diff", *files, *DRAFT, *common],
        "budget": ["budget", *files, *common],
        "sweep": ["sweep", f"growth_factor={values}", *files, *common],
    }
    out: dict[str, Any] = {"size": n, "workers": workers, "engine": engine, "sweep_values": values}
    for name, args in commands.items():
        report = measure([*fuchi_command(), *args], stderr=tmp / f"{name}-{n}.stderr")
        if report["rc"] != 0:
            raise SystemExit(f"{name} failed: {(tmp / f'{name}-{n}.stderr').read_text()[-2000:]}")
        out[name] = {"wall_s": report["wall_s"], "tree_peak_kib": report["tree_peak_kib"]}
    base = out["evaluate"]["wall_s"]
    for name in commands:
        out[name]["ratio"] = round(out[name]["wall_s"] / base, 2) if base else None
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Benchmark fuchi diff/budget/sweep against fuchi evaluate.")
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--engine", default="auto")
    parser.add_argument("--values", default="1.0,1.2,1.5,2.0", help="the growth_factor values of the sweep")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in (int(s) for s in args.sizes.split(",")):
            results.append(run_size(n, args.workers, args.engine, args.values, Path(tmp), args.seed))
            if not args.json:
                r = results[-1]
                print(f"{n:>9,} enterprises (engine {args.engine}, {args.workers} workers)")
                for name in ("evaluate", "diff", "budget", "sweep"):
                    m = r[name]
                    print(
                        f"  {name:<9} {m['wall_s']:>8.2f} s  {m['ratio']:>5.2f}× evaluate  "
                        f"peak {m['tree_peak_kib'] / 1024:>7.0f} MiB"
                    )
    if args.json:
        print(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

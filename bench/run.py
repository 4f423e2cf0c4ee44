"""Benchmark ``fuchi evaluate`` against the cost of just parsing the same JSON Lines file.

    python bench/run.py [--sizes 10000,100000] [--engines sql,clingo] [--workers 2] [--seed 7] [--json]

For each size N: generate N enterprises (bench/generate.py) into a temporary directory, then measure,
each in its own ``bench/_measure.py`` wrapper process:

(a) baseline: a fresh ``python -c`` process that reads the file and ``json.loads`` every line;
(b) ``fuchi evaluate FILE bench/city.yaml --format json --workers W`` with stdout to /dev/null.

It prints wall time, the ratio (b)/(a), CPU time of fuchi's process tree, and peak memory:
``ru_maxrss`` is ``getrusage(RUSAGE_CHILDREN).ru_maxrss`` in the wrapper (the largest single process
among those reaped through the wrapper's wait chain; it misses workers of a multiprocessing forkserver,
which nobody waits for); ``largest process`` is the largest sampled RSS of any one process of the tree;
``tree peak`` is the largest sampled sum of RSS over the whole tree (main process + workers).
Targets (docs/performance.md): 100k enterprises at ≤ 5× the parse time and ≤ 1 GiB; product goal 1M
streamed at ≤ 2× and ≤ 512 MiB.

This is a script, not a test: nothing asserts on time.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
BASELINE = (
    "import json, sys\nwith open(sys.argv[1], encoding='utf-8') as f:\n    for line in f:\n        json.loads(line)\n"
)
GiB_KIB = 1024 * 1024


def fuchi_command() -> list[str]:
    """Return the ``fuchi`` console script next to this interpreter, else the one on PATH."""
    local = Path(sys.executable).with_name("fuchi")
    if local.exists():
        return [str(local)]
    found = shutil.which("fuchi")
    if found:
        return [found]
    return [sys.executable, "-c", "import sys; from fuchi.cli import main; sys.exit(main())"]


def measure(command: list[str], stderr: Path | None = None) -> dict[str, Any]:
    """Run ``command`` under bench/_measure.py and return its report."""
    wrapper = [sys.executable, str(HERE / "_measure.py")]
    if stderr is not None:
        wrapper += ["--stderr", str(stderr)]
    out = subprocess.run([*wrapper, "--", *command], check=True, capture_output=True, text=True)
    report: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return report


def tail(path: Path, lines: int = 5) -> list[str]:
    """Return the last lines of a text file (for error reports)."""
    if not path.exists():
        return []
    return path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:]


def count_lines(path: Path) -> int:
    """Return the number of lines of a file."""
    with path.open("rb") as f:
        return sum(1 for _ in f)


def run_size(
    n: int, workers: int, seed: int, city: Path, tmp: Path, repeat: int, engine: str = "auto"
) -> dict[str, Any]:
    """Generate N enterprises and measure the baseline and fuchi on them."""
    data = tmp / f"enterprises-{n}.jsonl"
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, str(HERE / "generate.py"), str(n), str(data), "--seed", str(seed), "--city", str(city)],
        check=True,
    )
    gen_s = time.perf_counter() - start

    base_runs = [measure([sys.executable, "-c", BASELINE, str(data)]) for _ in range(repeat)]
    errors = tmp / f"fuchi-{n}.stderr"
    fuchi_runs = [
        measure(
            [
                *fuchi_command(),
                "evaluate",
                str(data),
                str(city),
                "--format",
                "json",
                "--workers",
                str(workers),
                "--engine",
                engine,
            ],
            stderr=errors,
        )
        for _ in range(repeat)
    ]
    base = min(base_runs, key=lambda r: r["wall_s"])
    fuchi = min(fuchi_runs, key=lambda r: r["wall_s"])
    result: dict[str, Any] = {
        "size": n,
        "file_bytes": data.stat().st_size,
        "generate_s": round(gen_s, 3),
        "workers": workers,
        "engine": engine,
        "repeat": repeat,
        "json_s": base["wall_s"],
        "json_maxrss_kib": max(r["maxrss_kib"] for r in base_runs),
        "fuchi_s": fuchi["wall_s"],
        "fuchi_cpu_s": fuchi["tree_cpu_s"],
        "fuchi_maxrss_kib": max(r["maxrss_kib"] for r in fuchi_runs),
        "fuchi_largest_process_kib": max(r["largest_process_peak_kib"] for r in fuchi_runs),
        "fuchi_tree_peak_kib": max(r["tree_peak_kib"] for r in fuchi_runs),
        "fuchi_processes": fuchi["processes"],
        "fuchi_rc": max(r["rc"] for r in fuchi_runs),
        "fuchi_stderr_lines": count_lines(errors) if errors.exists() else 0,
        "ratio": round(fuchi["wall_s"] / base["wall_s"], 2) if base["wall_s"] > 0 else None,
    }
    if result["fuchi_rc"] != 0:
        result["fuchi_stderr_tail"] = tail(errors)
    return result


def machine() -> dict[str, Any]:
    """Describe the machine and versions the figures were taken on."""
    info: dict[str, Any] = {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
    }
    try:
        from importlib.metadata import version

        info["fuchi"] = version("fuchi")
        info["clingo"] = version("clingo")
    except Exception:  # not installed: the run itself will say so
        pass
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            info["mem_total_kib"] = int(f.readline().split()[1])
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as f:
            for line in f:
                if line.startswith("model name"):
                    info["cpu"] = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return info


def mib(kib: int) -> str:
    """Format KiB as MiB."""
    return f"{kib / 1024:.0f} MiB"


def print_table(results: list[dict[str, Any]], info: dict[str, Any]) -> None:
    """Print a small human-readable table."""
    print(
        f"# {info['date']}  cpus={info['cpus']}  python {info['python']}  "
        f"fuchi {info.get('fuchi', '?')}  clingo {info.get('clingo', '?')}"
    )
    head = (
        "size",
        "engine",
        "file",
        "json.loads",
        "fuchi",
        "ratio",
        "fuchi CPU",
        "json max RSS",
        "fuchi ru_maxrss",
        "fuchi largest process",
        "fuchi tree peak",
        "rc",
    )
    rows = [head]
    for r in results:
        rows.append(
            (
                f"{r['size']:,}",
                r["engine"],
                f"{r['file_bytes'] / 2**20:.1f} MiB",
                f"{r['json_s']:.2f} s",
                f"{r['fuchi_s']:.2f} s",
                f"{r['ratio']}×",
                f"{r['fuchi_cpu_s']:.1f} s",
                mib(r["json_maxrss_kib"]),
                mib(r["fuchi_maxrss_kib"]),
                mib(r["fuchi_largest_process_kib"]),
                mib(r["fuchi_tree_peak_kib"]),
                str(r["fuchi_rc"]),
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(head))]
    for k, row in enumerate(rows):
        print("  ".join(cell.rjust(w) for cell, w in zip(row, widths, strict=True)))
        if k == 0:
            print("  ".join("-" * w for w in widths))
    for r in results:
        if r["fuchi_rc"] != 0:
            print(
                f"\nfuchi failed on {r['size']:,} (exit {r['fuchi_rc']}):", *r.get("fuchi_stderr_tail", []), sep="\n  "
            )
        elif r["fuchi_stderr_lines"]:
            print(f"({r['size']:,}: fuchi wrote {r['fuchi_stderr_lines']} line(s) on stderr)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Benchmark fuchi evaluate against json.loads of the input.")
    parser.add_argument("--sizes", default="10000,100000", help="comma-separated enterprise counts")
    parser.add_argument("--workers", type=int, default=2, help="fuchi --workers")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--engines", default="sql,clingo", help="comma-separated fuchi --engine values to measure")
    parser.add_argument("--repeat", type=int, default=1, help="runs per measurement; the fastest is kept")
    parser.add_argument("--city", type=Path, default=HERE / "city.yaml")
    parser.add_argument("--json", action="store_true", help="print machine-readable JSON instead of a table")
    parser.add_argument("--keep", type=Path, default=None, help="keep generated files in this directory")
    args = parser.parse_args(argv)
    try:
        sizes = [int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()]
    except ValueError:
        parser.error(f"--sizes: not a list of integers: {args.sizes!r}")
    info = machine()
    results = []
    with tempfile.TemporaryDirectory(prefix="fuchi-bench-") as tmpdir:
        tmp = args.keep or Path(tmpdir)
        tmp.mkdir(parents=True, exist_ok=True)
        for n in sizes:
            for engine in [e.strip() for e in args.engines.split(",") if e.strip()]:
                results.append(run_size(n, args.workers, args.seed, args.city.resolve(), tmp, args.repeat, engine))
                if not args.json:
                    print(f"... {n:,} {engine} done", file=sys.stderr)
    if args.json:
        json.dump({"machine": info, "results": results}, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        print_table(results, info)
    return 1 if any(r["fuchi_rc"] != 0 for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())

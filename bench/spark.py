"""Benchmark ``fuchi evaluate --engine spark`` (local mode) next to the DuckDB engine, in the same run.

    python bench/spark.py [--sizes 2000,10000] [--engines sql,spark,spark-driver] [--master local[2]] [--seed 7]
                          [--json]

For each size N: generate N enterprises (bench/generate.py), then measure under bench/_measure.py (wall
time from process start, so the JVM's start-up is included for Spark; CPU and peak memory of the process
tree, the JVM included) ``fuchi evaluate FILE bench/city.yaml --format json --engine E``. The outputs of
the engines are compared byte for byte. ``spark-driver`` is the Spark engine fed the same enterprises as one
JSON document, which the driver reads (the JSON Lines file is read by Spark itself): the cost of reading on
the driver against reading on the executors. Nothing here asserts on time: the figures go to
docs/performance.md.
"""

from __future__ import annotations

import argparse
import filecmp
import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from run import fuchi_command, machine, measure, mib  # noqa: E402  (bench/ is not a package)

_TO_FILE = (
    "import subprocess, sys\n"
    "with open(sys.argv[1], 'wb') as f:\n"
    "    sys.exit(subprocess.run(sys.argv[2:], stdout=f, stderr=subprocess.DEVNULL).returncode)\n"
)


def evaluate(data: Path, city: Path, engine: str, master: str, out: Path) -> dict[str, Any]:
    """Measure one ``fuchi evaluate`` (stdout to ``out``)."""
    if engine.endswith(("-driver", "-document")):  # the same enterprises as one JSON document (the driver reads it)
        document = data.with_suffix(".json")
        if not document.exists():
            lines = [t for t in data.read_text(encoding="utf-8").splitlines() if t.strip()]
            document.write_text('{"companies": [\n' + ",\n".join(lines) + "\n]}\n", encoding="utf-8")  # (the text kept)
        data, engine = document, engine.split("-")[0]
    command = [*fuchi_command(), "evaluate", str(data), str(city), "--format", "json", "--engine", engine]
    if engine == "spark":
        command += ["--spark-master", master]
    return measure([sys.executable, "-c", _TO_FILE, str(out), *command])


def run_size(n: int, engines: list[str], master: str, seed: int, tmp: Path) -> list[dict[str, Any]]:
    """Generate N enterprises and measure each engine on them."""
    city = HERE / "city.yaml"
    data = tmp / f"enterprises-{n}.jsonl"
    subprocess.run(
        [sys.executable, str(HERE / "generate.py"), str(n), str(data), "--seed", str(seed), "--city", str(city)],
        check=True,
    )
    results = []
    outs = []
    for engine in engines:
        out = tmp / f"out-{n}-{engine}.json"
        report = evaluate(data, city, engine, master, out)
        outs.append(out)
        results.append({"size": n, "engine": engine, **report})
    # the JSON Lines runs against the first of them; spark-driver against DuckDB on the same document (the
    # warnings name the file the enterprise came from, so a document's output differs from the file's)
    lines = [o for e, o in zip(engines, outs, strict=True) if e != "spark-driver"]
    same = all(filecmp.cmp(lines[0], o, shallow=False) for o in lines[1:])
    if "spark-driver" in engines:
        reference = tmp / f"out-{n}-sql-document.json"
        evaluate(data, city, "sql-document", master, reference)
        same = same and filecmp.cmp(reference, outs[engines.index("spark-driver")], shallow=False)
    for r in results:
        r["identical"] = same
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="2000,10000")
    parser.add_argument("--engines", default="sql,spark")
    parser.add_argument("--master", default="local[2]")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    results: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in (int(x) for x in args.sizes.split(",")):
            results += run_size(n, args.engines.split(","), args.master, args.seed, Path(tmp))
    if args.json:
        print(json.dumps({"machine": machine(), "results": results}, indent=2))
        return 0
    print("| Enterprises | engine | wall | CPU (tree) | tree peak | rc | output identical |")
    print("|---:|---|---:|---:|---:|---:|---|")
    for r in results:
        print(
            f"| {r['size']:,} | {r['engine']} | {r['wall_s']:.1f} s | {r['tree_cpu_s']:.1f} s | "
            f"{mib(r['tree_peak_kib'])} | {r['rc']} | {r['identical']} |"
        )
    return 1 if any(r["rc"] != 0 for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())

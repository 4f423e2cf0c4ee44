"""Run one command and report its wall time and peak memory as one JSON line on stdout.

    python bench/_measure.py [--stdout FILE] [--stderr FILE] -- COMMAND [ARG ...]

Run by bench/run.py, one wrapper process per measurement, so that
``resource.getrusage(RUSAGE_CHILDREN).ru_maxrss`` covers exactly that command and its descendants.

Reported (sizes in KiB):

* ``wall_s``: wall-clock time from start to exit of the command.
* ``maxrss_kib``: ``ru_maxrss`` of the children — the peak resident set of the *largest single process*
  among the command and every descendant it waited for (the kernel keeps a max, not a sum).
* ``tree_peak_kib``: the largest *sum* of resident sets over the command's process tree, sampled from
  /proc every ``--interval`` seconds (Linux only; 0 elsewhere). With worker processes this is the
  figure that matters for a memory budget; being sampled it can miss a short spike.
* ``rc``: the command's exit code.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import threading
import time
from pathlib import Path

PAGE_KIB = os.sysconf("SC_PAGE_SIZE") // 1024 if hasattr(os, "sysconf") else 4


def _children() -> dict[int, list[int]]:
    """Map each pid to its children's pids, from /proc."""
    out: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as f:
                stat = f.read()
        except OSError:
            continue
        # the command name may hold spaces or parentheses: the fields after the last ")" are fixed
        fields = stat[stat.rfind(b")") + 2 :].split()
        out.setdefault(int(fields[1]), []).append(int(entry.name))
    return out


def tree_rss_kib(root: int) -> int:
    """Return the summed resident set of ``root`` and all its descendants, in KiB."""
    children = _children()
    total, stack = 0, [root]
    while stack:
        pid = stack.pop()
        try:
            with open(f"/proc/{pid}/statm", "rb") as f:
                total += int(f.read().split()[1]) * PAGE_KIB
        except (OSError, IndexError, ValueError):
            pass
        stack.extend(children.get(pid, ()))
    return total


class TreeSampler(threading.Thread):
    """Samples the process tree's total RSS until stopped, keeping the peak."""

    def __init__(self, root: int, interval: float) -> None:
        super().__init__(daemon=True)
        self.root = root
        self.interval = interval
        self.peak_kib = 0
        self.samples = 0
        self._done = threading.Event()

    def run(self) -> None:
        if not os.path.isdir("/proc"):
            return
        while not self._done.is_set():
            self.peak_kib = max(self.peak_kib, tree_rss_kib(self.root))
            self.samples += 1
            self._done.wait(self.interval)

    def stop(self) -> None:
        self._done.set()
        self.join()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Measure one command's wall time and peak memory.")
    parser.add_argument("--stdout", type=Path, default=None, help="file for the command's stdout")
    parser.add_argument("--stderr", type=Path, default=None, help="file for the command's stderr")
    parser.add_argument("--interval", type=float, default=0.02, help="seconds between /proc samples")
    parser.add_argument("command", nargs=argparse.REMAINDER, help="-- COMMAND [ARG ...]")
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("no command given")
    out = args.stdout.open("wb") if args.stdout else subprocess.DEVNULL
    err = args.stderr.open("wb") if args.stderr else subprocess.DEVNULL
    try:
        start = time.perf_counter()
        proc = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=out, stderr=err)
        sampler = TreeSampler(proc.pid, args.interval)
        sampler.start()
        rc = proc.wait()
        wall = time.perf_counter() - start
        sampler.stop()
    finally:
        for f in (out, err):
            if not isinstance(f, int):
                f.close()
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    report = {
        "command": command,
        "rc": rc,
        "wall_s": round(wall, 3),
        "user_s": round(usage.ru_utime, 3),
        "sys_s": round(usage.ru_stime, 3),
        "maxrss_kib": usage.ru_maxrss if sys.platform != "darwin" else usage.ru_maxrss // 1024,
        "tree_peak_kib": sampler.peak_kib,
        "samples": sampler.samples,
    }
    sys.stdout.write(json.dumps(report) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

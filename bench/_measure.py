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
* ``largest_process_peak_kib``: the largest sampled RSS of any one process of the tree. Unlike
  ``maxrss_kib`` it also sees processes the wrapper never reaps indirectly (e.g. workers started by a
  multiprocessing forkserver, which is not waited for).
* ``tree_cpu_s``: user + system CPU seconds of the tree's processes as last sampled (a lower bound);
  ``user_s`` / ``sys_s`` are the rusage figures, which have the same blind spot as ``maxrss_kib``.
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
CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _stat_fields(pid: int | str) -> list[bytes] | None:
    """Return the fields of /proc/PID/stat after the command name (state, ppid, …), or None."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
    except OSError:
        return None
    # the command name may hold spaces or parentheses: the fields after the last ")" are fixed
    return stat[stat.rfind(b")") + 2 :].split()


def _children() -> dict[int, list[int]]:
    """Map each pid to its children's pids, from /proc."""
    out: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            fields = _stat_fields(entry.name)
            if fields is not None:
                out.setdefault(int(fields[1]), []).append(int(entry.name))
    return out


def tree_sample(root: int) -> dict[int, tuple[int, float]]:
    """Return {pid: (RSS in KiB, CPU seconds so far)} for ``root`` and all its descendants."""
    children = _children()
    out: dict[int, tuple[int, float]] = {}
    stack = [root]
    while stack:
        pid = stack.pop()
        fields = _stat_fields(pid)
        try:
            with open(f"/proc/{pid}/statm", "rb") as f:
                rss = int(f.read().split()[1]) * PAGE_KIB
        except (OSError, IndexError, ValueError):
            continue
        cpu = (int(fields[11]) + int(fields[12])) / CLOCK_TICKS if fields is not None else 0.0
        out[pid] = (rss, cpu)
        stack.extend(children.get(pid, ()))
    return out


def tree_rss_kib(root: int) -> int:
    """Return the summed resident set of ``root`` and all its descendants, in KiB."""
    return sum(rss for rss, _ in tree_sample(root).values())


class TreeSampler(threading.Thread):
    """Samples the process tree until stopped.

    Keeps the peak of the summed RSS, the peak RSS of each process, and the last CPU time seen for
    each process (a lower bound of the tree's CPU time: work after a process's last sample is missed).
    """

    def __init__(self, root: int, interval: float) -> None:
        super().__init__(daemon=True)
        self.root = root
        self.interval = interval
        self.peak_kib = 0
        self.process_peak_kib: dict[int, int] = {}
        self.process_cpu_s: dict[int, float] = {}
        self.samples = 0
        self._done = threading.Event()

    def run(self) -> None:
        if not os.path.isdir("/proc"):
            return
        while not self._done.is_set():
            sample = tree_sample(self.root)
            self.peak_kib = max(self.peak_kib, sum(rss for rss, _ in sample.values()))
            for pid, (rss, cpu) in sample.items():
                self.process_peak_kib[pid] = max(self.process_peak_kib.get(pid, 0), rss)
                self.process_cpu_s[pid] = cpu
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
        "largest_process_peak_kib": max(sampler.process_peak_kib.values(), default=0),
        "tree_cpu_s": round(sum(sampler.process_cpu_s.values()), 2),
        "processes": len(sampler.process_peak_kib),
        "samples": sampler.samples,
    }
    sys.stdout.write(json.dumps(report) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

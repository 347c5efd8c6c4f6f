"""Run a command and record the peak memory of its whole process tree.

Usage: peak_rss.py [--tsv FILE] [--label TEXT] [--interval SECONDS] -- COMMAND [ARG...]

GNU time (and getrusage) report the maximum resident set of the largest single process, which
for a process pool is one worker, not the run. This wrapper samples the command and all its
descendants (psutil; every 50 ms at first, every second after about 100 s) and appends one row
to --tsv:

    label  exit  wall_s  tree_rss_kb  tree_pss_kb  largest_rss_kb  rusage_maxrss_kb  procs  samples

tree_rss_kb is the largest sum of RSS over the tree seen in one sample (it counts pages that
forked workers share with their parent once per process, so it overstates); tree_pss_kb is the
largest sum of PSS (shared pages split between the processes that map them: the honest total);
largest_rss_kb is the largest RSS of one process; rusage_maxrss_kb is what the kernel reports
for the command's tree (the same figure as GNU time's "Maximum resident set size"). The exit
status is the command's own.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

import psutil


def sample(root: psutil.Process) -> tuple[int, int, int, int]:
    """(sum of RSS, sum of PSS, largest RSS, process count) of root and its descendants, bytes."""
    try:
        procs = [root, *root.children(recursive=True)]
    except psutil.Error:
        return 0, 0, 0, 0
    rss_sum = pss_sum = largest = count = 0
    for proc in procs:
        try:
            info = proc.memory_full_info()
        except psutil.Error:  # exited between listing and reading, or a zombie
            continue
        rss_sum += info.rss
        pss_sum += getattr(info, "pss", info.rss)
        largest = max(largest, info.rss)
        count += 1
    return rss_sum, pss_sum, largest, count


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tsv", type=Path, help="append one result row to this file")
    parser.add_argument("--label", default="", help="first column of the row")
    parser.add_argument(
        "--interval",
        type=float,
        default=0.05,
        help="seconds between samples at the start; the interval grows to 1 s over a long run, "
        "since reading a big process's PSS costs CPU the command would otherwise have",
    )
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("no command given")

    start = time.perf_counter()
    child = subprocess.Popen(command)
    root = psutil.Process(child.pid)
    peak_rss = peak_pss = peak_one = peak_procs = samples = 0
    while True:
        pid, status, usage = os.wait4(child.pid, os.WNOHANG)
        if pid:
            break
        rss, pss, one, procs = sample(root)
        peak_rss, peak_pss = max(peak_rss, rss), max(peak_pss, pss)
        peak_one, peak_procs = max(peak_one, one), max(peak_procs, procs)
        samples += 1
        time.sleep(min(1.0, args.interval + (time.perf_counter() - start) / 100))
    wall = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    child.returncode = code  # reaped by wait4 above; keep Popen from waiting again
    if code < 0:  # killed by a signal: report it the way a shell does
        code = 128 - code

    if args.tsv:
        new = not args.tsv.exists()
        with args.tsv.open("a", encoding="utf-8") as out:
            if new:
                out.write(
                    "label\texit\twall_s\ttree_rss_kb\ttree_pss_kb\tlargest_rss_kb"
                    "\trusage_maxrss_kb\tprocs\tsamples\n"
                )
            out.write(
                f"{args.label}\t{code}\t{wall:.3f}\t{peak_rss // 1024}\t{peak_pss // 1024}"
                f"\t{peak_one // 1024}\t{usage.ru_maxrss}\t{peak_procs}\t{samples}\n"
            )
    return code


if __name__ == "__main__":
    sys.exit(main())

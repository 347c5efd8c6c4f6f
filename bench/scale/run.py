"""Ingest throughput with 1, 2 and 4 worker processes, locally and on a dask cluster, and the
memory of each worker; writes the Scale section of docs/benchmarks.md.

Usage: .venv/bin/python bench/scale/run.py [--messages 3000] [--workers 1,2,4]
       [--work /tmp/strongroom-bench-scale] [--doc docs/benchmarks.md] [--no-write]

Each configuration ingests the same demo dump into a new case with bench/scale/one_run.py,
whose process tree (and, for the cluster, the `dask worker` processes) is sampled with psutil
every 100 ms for RSS and CPU time. Local: `IngestPolicy(workers=N)`, a process pool. Cluster:
a `dask scheduler` and N `dask worker --nthreads 1` processes started before the timed run
(a standing cluster), then `IngestPolicy(cluster=ADDRESS)`.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil

from strongroom.demo import DemoSpec, build_dump

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
ONE_RUN = Path(__file__).with_name("one_run.py")
START, END = "<!-- scale:start -->", "<!-- scale:end -->"


@dataclass
class Sample:
    """Peak RSS and last CPU seconds per process, for the driver and for the workers."""

    driver_peak: int = 0
    worker_peak: dict[int, int] = field(default_factory=dict)
    worker_cpu: dict[int, float] = field(default_factory=dict)
    worker_cpu_start: dict[int, float] = field(default_factory=dict)
    driver_cpu: float = 0.0


def is_pool_worker(proc: psutil.Process) -> bool:
    try:
        return "resource_tracker" not in " ".join(proc.cmdline())
    except psutil.Error:
        return False


def sample(driver: psutil.Process, workers: list[psutil.Process], into: Sample) -> None:
    try:
        into.driver_peak = max(into.driver_peak, driver.memory_info().rss)
        times = driver.cpu_times()
        into.driver_cpu = times.user + times.system
        children = driver.children(recursive=True)
    except psutil.Error:
        return
    for proc in [*children, *workers]:
        if proc in children and not is_pool_worker(proc):
            continue
        try:
            rss = proc.memory_info().rss
            times = proc.cpu_times()
        except psutil.Error:
            continue
        into.worker_peak[proc.pid] = max(into.worker_peak.get(proc.pid, 0), rss)
        into.worker_cpu[proc.pid] = times.user + times.system
        if proc in workers:  # a standing cluster's worker: count only this run's CPU
            into.worker_cpu_start.setdefault(proc.pid, times.user + times.system)


def timed_run(args: list[str], workers: list[psutil.Process]) -> tuple[dict[str, Any], Sample]:
    """Run one_run.py; sample until its extraction run ends (what follows the run, such as
    DKIM verification's own process pool, is not a worker of the ingest)."""
    done = Path(args[0] + ".run-done")
    done.unlink(missing_ok=True)
    process = subprocess.Popen(
        [sys.executable, str(ONE_RUN), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "BENCH_RUN_DONE": str(done)},
    )
    driver = psutil.Process(process.pid)
    seen = Sample()
    while process.poll() is None:
        if not done.exists():
            sample(driver, workers, seen)
        time.sleep(0.1)
    stdout, stderr = process.communicate()
    if process.returncode != 0:
        sys.exit(f"one_run.py {' '.join(args)} failed:\n{stderr.decode()[-4000:]}")
    return json.loads(stdout.decode().strip().splitlines()[-1]), seen


class Cluster:
    def __init__(self, work: Path, workers: int) -> None:
        file = work / "scheduler.json"
        file.unlink(missing_ok=True)
        log = (work / "cluster.log").open("ab")
        self.procs = [
            subprocess.Popen(
                [
                    BIN / "dask",
                    "scheduler",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    "0",
                    "--no-dashboard",
                    "--scheduler-file",
                    str(file),
                ],
                stdout=log,
                stderr=log,
            )
        ]
        while not file.exists():
            time.sleep(0.1)
        time.sleep(0.3)
        self.address = json.loads(file.read_text())["address"]
        for n in range(workers):
            self.procs.append(
                subprocess.Popen(
                    [
                        BIN / "dask",
                        "worker",
                        self.address,
                        "--nthreads",
                        "1",
                        "--no-dashboard",
                        "--name",
                        f"bench{n}",
                    ],
                    stdout=log,
                    stderr=log,
                )
            )
        # The worker processes are the nannies' children; wait until each has one.
        deadline = time.monotonic() + 120
        while True:
            self.workers = [
                child
                for nanny in self.procs[1:]
                for child in psutil.Process(nanny.pid).children()
                if is_pool_worker(child)
            ]
            if len(self.workers) >= workers or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        time.sleep(3)  # registration with the scheduler

    def close(self) -> None:
        for proc in reversed(self.procs):
            proc.terminate()
        for proc in self.procs:
            proc.wait(timeout=30)


def measure(mode: str, n: int, dump: Path, work: Path) -> dict[str, Any]:
    case = work / "cases" / f"{mode}-{n}"
    shutil.rmtree(case, ignore_errors=True)
    case.parent.mkdir(parents=True, exist_ok=True)
    load_before = os.getloadavg()[0]
    if mode == "local":
        result, seen = timed_run([str(case), str(dump), "--workers", str(n)], [])
    else:
        cluster = Cluster(work, n)
        try:
            result, seen = timed_run(
                [str(case), str(dump), "--workers", str(n), "--cluster", cluster.address],
                cluster.workers,
            )
        finally:
            cluster.close()
    peaks = sorted(seen.worker_peak.values())
    result.update(
        mode=mode,
        workers=n,
        load=(load_before, os.getloadavg()[0]),
        driver_peak_mib=seen.driver_peak / 2**20,
        worker_peak_mib=(peaks[-1] / 2**20) if peaks else 0.0,
        worker_mean_mib=(sum(peaks) / len(peaks) / 2**20) if peaks else 0.0,
        worker_cpu_s=sum(seen.worker_cpu.values()) - sum(seen.worker_cpu_start.values()),
        driver_cpu_s=seen.driver_cpu,
    )
    print(json.dumps(result), flush=True)
    return result


def render(rows: list[dict[str, Any]], spec: DemoSpec, dump_mib: float) -> str:
    lines = [
        START,
        "<!-- written by bench/scale/run.py; rerun `.venv/bin/python bench/scale/run.py` -->",
        "",
        "## Scale: worker processes and a dask cluster (`bench/scale`)",
        "",
        (
            "`.venv/bin/python bench/scale/run.py --messages "
            f"{spec.messages}`: the demo dump ({spec.messages:,} emails, {spec.attachments:,} "
            f"attachments, {dump_mib:.1f} MB, mixed layout) ingested into a new case by a process "
            "pool of N workers (`--workers N`) and by a standing dask cluster of N "
            "`dask worker --nthreads 1` processes (`--cluster tcp://…`). *extraction s* is the "
            "driver's `IngestRun.run` (walk, store, parse, catalog writes); *total s* adds "
            "custody, threads, DKIM verification, the search index and the other post-ingest "
            "analyses, which run the same either way. "
            "*catalog* is the driver's serial catalog writer inside the run (wall s, and its share "
            "of the run); *waiting* is the driver blocked on workers. RSS is the peak per process, "
            "sampled every 100 ms (with 1 worker the pool is not used: the driver parses). "
            "CPU s are user+system: the driver's whole process during the run, with its "
            "catalog calls' share in brackets; the workers' over the run (a pool's workers "
            "include their start-up)."
        ),
        "",
        (
            "| executor | workers | items | extraction s | items/s | total s | catalog s (share) "
            "| waiting s | driver CPU s in run (catalog) | workers' CPU s "
            "| peak RSS MiB: driver / worker max (mean) | load avg |"
        ),
        "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for r in rows:
        run = r["seconds"].get("run", 0.0)
        catalog = r["seconds"].get("catalog", 0.0)
        executor = "process pool" if r["mode"] == "local" else "dask cluster"
        lines.append(
            f"| {executor} | {r['workers']} | {r['items']:,} | {run:.1f} "
            f"| {r['items'] / run:.0f} | {r['total_s']:.1f} "
            f"| {catalog:.1f} ({catalog / run:.0%}) | {r['seconds'].get('wait', 0.0):.1f} "
            f"| {r['run_process_cpu_s']:.1f} ({r['cpu'].get('catalog', 0.0):.1f}) "
            f"| {r['worker_cpu_s']:.1f} "
            f"| {r['driver_peak_mib']:.0f} / {r['worker_peak_mib']:.0f} "
            f"({r['worker_mean_mib']:.0f}) | {r['load'][0]:.1f}-{r['load'][1]:.1f} |"
        )
    lines += ["", *projection(rows)]
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"],
        check=False,
        capture_output=True,
        text=True,
        cwd=REPO,
    ).stdout.strip()
    lines += [
        "",
        (
            f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python "
            f"{platform.python_version()}; commit {commit} (working tree with uncommitted changes)."
        ),
        "",
        END,
    ]
    return "\n".join(lines)


def projection(rows: list[dict[str, Any]]) -> list[str]:
    """Per-item CPU costs (steadier than wall time on a busy machine) and what they imply."""
    farmed = [r for r in rows if r["mode"] == "cluster" or r["workers"] > 1]
    if not farmed:
        return []

    def per_item(key: str, mode: str | None = None, picked: list[dict[str, Any]] = farmed) -> float:
        picked = [r for r in picked if mode is None or r["mode"] == mode]
        return sum(key_of(r, key) for r in picked) / sum(r["items"] for r in picked) * 1000

    driver = per_item("run_process_cpu_s")
    catalog = per_item("catalog")
    # After the run, with one worker everything (DKIM verification too) runs in the driver.
    alone = [r for r in rows if r["mode"] == "local" and r["workers"] == 1 and "process_cpu_s" in r]
    after = per_item("after", picked=alone) if alone else 0.0
    lines = [
        (
            f"Per item, in CPU milliseconds (mean of the rows that use a pool or a cluster): the "
            f"driver's serial part of the run **{driver:.2f} ms**, of which the catalog writer "
            f"**{catalog:.2f} ms ({catalog / driver:.0%})**; what follows the run (custody, "
            f"threads, DKIM, analyses, index; measured with one worker, start-up included) "
            f"{after:.2f} ms"
        ),
    ]
    busy = []
    for mode, label in (("local", "a process-pool worker"), ("cluster", "a dask worker")):
        if any(r["mode"] == mode for r in farmed):
            work = per_item("worker_cpu_s", mode)
            lines[-1] += f"; {label} {work:.2f} ms"
            busy.append(f"{work / driver:.1f} {label.split(' ', 1)[1]}s")
    lines[-1] += "."
    if busy:
        lines[-1] += f" About {' or '.join(busy)} keep the driver fully busy."
    lines += [
        "",
        (
            f"So the driver alone can commit at most about {1000 / driver:,.0f} items a second of "
            f"one core, whatever the number of workers; for 1,000,000 items its serial part is "
            f"about {driver * 1e6 / 1000 / 60:,.0f} CPU minutes ({catalog * 1e6 / 1000 / 60:,.0f} "
            f"of them catalog writes), and the steps after the run about "
            f"{after * 1e6 / 1000 / 60:,.0f} more."
        ),
    ]
    return lines


def key_of(row: dict[str, Any], key: str) -> float:
    if key == "catalog":
        return float(row["cpu"].get("catalog", 0.0))
    if key == "after":  # the driver process's CPU outside the run (start-up included)
        return float(row["process_cpu_s"] - row["run_process_cpu_s"])
    return float(row[key])


def write_section(doc: Path, section: str, notes: str) -> None:
    text = doc.read_text()
    block = section.replace(END, notes.rstrip() + "\n" + END) if notes else section
    if START in text and END in text:
        head, rest = text.split(START, 1)
        _old, tail = rest.split(END, 1)
        text = head + block + tail
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    doc.write_text(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=3000)
    parser.add_argument("--workers", default="1,2,4")
    parser.add_argument("--modes", default="local,cluster")
    parser.add_argument("--work", type=Path, default=Path("/tmp/strongroom-bench-scale"))
    parser.add_argument("--doc", type=Path, default=REPO / "docs" / "benchmarks.md")
    parser.add_argument("--notes", type=Path, default=Path(__file__).with_name("notes.md"))
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument(
        "--render", type=Path, metavar="RESULTS", help="Write the section from saved results."
    )
    args = parser.parse_args()
    spec = DemoSpec(messages=args.messages, attachments=args.messages * 5 // 12)
    dump = args.work / f"dump-{args.messages}"
    if not dump.exists():
        build_dump(dump, spec)
    dump_mib = sum(p.stat().st_size for p in dump.rglob("*") if p.is_file()) / 1e6
    if args.render:
        rows = json.loads(args.render.read_text())
    else:
        rows = [
            measure(mode, int(n), dump, args.work)
            for mode in args.modes.split(",")
            for n in args.workers.split(",")
        ]
        (args.work / "results.json").write_text(json.dumps(rows, indent=1))
    if not args.no_write:
        notes = args.notes.read_text() if args.notes.exists() else ""
        write_section(args.doc, render(rows, spec, dump_mib), notes)


if __name__ == "__main__":
    main()

"""One timed ingest in this process, for bench/scale/run.py: prints one JSON line.

Usage: one_run.py CASE_DIR DUMP (--workers N | --cluster ADDRESS)

Times, in this process (the driver) and only during the extraction run (`IngestRun.run`):
the whole run, the serial catalog writer (every Catalog call the driver makes) and the time
spent waiting for workers, each as wall seconds and as CPU seconds of the driver's main thread.
What follows the run (custody log, threads, DKIM verification, search index) is the rest of
`total_s`. Workers are measured from outside, by run.py.
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import functools
import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from strongroom.case import Case
from strongroom.catalog.store import Catalog
from strongroom.config import IngestPolicy
from strongroom.ingest import runner
from strongroom.ingest.cluster import ClusterExecutor

SECONDS: dict[str, float] = {}
CPU: dict[str, float] = {}  # CPU seconds of this process's main thread, by group
RUN_PROCESS_CPU: list[float] = []  # CPU seconds of the whole driver process during the run
ACTIVE: set[str] = set()


def timed(group: str, func: Callable[..., Any]) -> Callable[..., Any]:
    """Time calls made during the extraction run, outermost call of each group only."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if group in ACTIVE or (group != "run" and "run" not in ACTIVE):
            return func(*args, **kwargs)
        ACTIVE.add(group)
        start, cpu, process = time.perf_counter(), time.thread_time(), time.process_time()
        try:
            return func(*args, **kwargs)
        finally:
            SECONDS[group] = SECONDS.get(group, 0.0) + time.perf_counter() - start
            CPU[group] = CPU.get(group, 0.0) + time.thread_time() - cpu
            if group == "run":
                RUN_PROCESS_CPU.append(time.process_time() - process)
                if done := os.environ.get("BENCH_RUN_DONE"):
                    Path(done).touch()  # run.py stops counting workers here
            ACTIVE.discard(group)

    return wrapper


def install() -> None:
    # The serial catalog writer: every statement the driver sends to the catalog.
    for name in ("write", "begin_input", "finish_inputs", "item_num", "input_with_sha_done"):
        if hasattr(Catalog, name):
            setattr(Catalog, name, timed("catalog", getattr(Catalog, name)))
    runner.IngestRun.run = timed("run", runner.IngestRun.run)  # type: ignore[method-assign]
    # Waiting for workers: a pool's future, a cluster batch (its redo included).
    cf.Future.result = timed("wait", cf.Future.result)  # type: ignore[method-assign]
    ClusterExecutor._result = timed("wait", ClusterExecutor._result)  # type: ignore[method-assign]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("case", type=Path)
    parser.add_argument("dump", type=Path)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--cluster")
    args = parser.parse_args()
    install()
    policy = IngestPolicy(workers=args.workers, cluster=args.cluster)
    start = time.perf_counter()
    summary = Case.init(args.case).ingest([args.dump], policy)
    total = time.perf_counter() - start
    out = {
        "total_s": total,
        "items": summary.report["items"],
        "emails": summary.report["emails"],
        "failed": summary.report["failed"],
        "seconds": SECONDS,
        "cpu": CPU,
        "run_process_cpu_s": sum(RUN_PROCESS_CPU),
        "process_cpu_s": time.process_time(),  # the whole command, start-up included
    }
    print(json.dumps(out))


if __name__ == "__main__":
    main()

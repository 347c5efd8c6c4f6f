"""Run one strongroom command in this process and say where its time went.

Usage: profile_ingest.py (--cprofile OUT.prof | --timers OUT.json) -- STRONGROOM_ARGS...
e.g.   profile_ingest.py --timers t.json -- --case /tmp/case ingest --workers 1 --json MAILDIR

With `--workers 1` the whole ingest (walk, blob store, parsing, catalog writes) runs in this
one process. --cprofile records every call (and slows Python-heavy code several fold);
--timers wraps only the functions in TIMED with a wall clock, so its seconds are close to an
unprofiled run's. Timers are inclusive; a function that calls itself is timed once, at its
outermost call; `Catalog.item_num` is split by whether `Catalog.write` called it. With a
worker pool the timers see only the main process (the driver), and `Future.result` is the time
it spent waiting for the workers. Exit status is strongroom's own.
"""

from __future__ import annotations

import argparse
import cProfile
import functools
import importlib
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from strongroom.cli import main as strongroom_main

# (module, class or "", function): the costs worth naming in an ingest.
TIMED = [
    ("strongroom.ingest.worker", "Dispatcher", "handle_batch"),
    ("strongroom.formats.rfc822", "EmailFormat", "parse"),
    ("strongroom.formats.rfc822", "", "_header_defects"),
    ("strongroom.formats.rfc822", "EmailFormat", "_collect"),
    ("strongroom.formats.rfc822", "", "walk"),  # the name rfc822 calls
    ("strongroom.formats.rfc822", "", "parse_addresses"),
    ("strongroom.ingest.worker", "Dispatcher", "_child"),
    ("strongroom.ingest.worker", "Dispatcher", "store_input"),
    ("strongroom.catalog.store", "Catalog", "write"),
    ("strongroom.catalog.store", "Catalog", "input_done"),
    ("strongroom.catalog.store", "Catalog", "begin_input"),
    ("strongroom.catalog.store", "Catalog", "begin_inputs"),
    ("strongroom.catalog.store", "Catalog", "item_num"),
    ("strongroom.catalog.store", "Catalog", "finish_inputs"),
    ("strongroom.catalog.store", "Catalog", "report"),
    ("strongroom.blobs", "BlobStore", "put_file"),
    ("strongroom.ingest.runner", "", "detect_blob"),
    ("strongroom.ingest.runner", "IngestRun", "run"),
    # the steps after the run, in the order Case.ingest takes them
    ("strongroom.case", "", "record_custody"),
    ("strongroom.case", "", "rethread"),
    ("strongroom.case", "Case", "verify"),
    ("strongroom.case", "", "assign_inputs"),
    ("strongroom.case", "", "analyse_case"),
    ("strongroom.analyze.entities", "", "analyse_texts"),
    ("strongroom.analyze.people", "", "analyse_people"),
    ("strongroom.index.store", "SearchIndex", "update"),
    ("strongroom.index.store", "SearchIndex", "refresh"),
    ("strongroom.case", "", "record_alerts"),
    ("concurrent.futures", "Future", "result"),  # with a pool: the driver waiting for workers
]


class Timers:
    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.calls: dict[str, int] = {}
        self.active: dict[str, int] = {}

    def wrap(self, name: str, func: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(func)
        def timed(*args: Any, **kwargs: Any) -> Any:
            key = name
            if name == "Catalog.item_num":
                key += " (in write)" if self.active.get("Catalog.write") else " (driver)"
            if self.active.get(key):  # recursion: the outermost call has the time
                return func(*args, **kwargs)
            self.active[key] = 1
            start = time.perf_counter()
            try:
                return func(*args, **kwargs)
            finally:
                self.seconds[key] = self.seconds.get(key, 0.0) + time.perf_counter() - start
                self.calls[key] = self.calls.get(key, 0) + 1
                self.active[key] = 0

        return timed

    def install(self) -> list[str]:
        missing = []
        for module_name, owner_name, func_name in TIMED:
            try:
                module = importlib.import_module(module_name)
            except ImportError:
                module = None
            owner = getattr(module, owner_name, None) if owner_name else module
            func = getattr(owner, func_name, None)
            if func is None:
                missing.append(f"{module_name}.{owner_name}.{func_name}")
                continue
            label = f"{owner_name}.{func_name}" if owner_name else func_name
            setattr(owner, func_name, self.wrap(label, func))
        return missing


def run_cli(args: list[str]) -> int:
    sys.argv = ["strongroom", *args]
    try:
        strongroom_main()
    except SystemExit as done:
        code = done.code
        return code if isinstance(code, int) else (0 if code is None else 1)
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--cprofile", type=Path, help="write cProfile stats here")
    mode.add_argument("--timers", type=Path, help="write wall-clock timers (JSON) here")
    parser.add_argument("args", nargs=argparse.REMAINDER, help="strongroom's arguments")
    options = parser.parse_args()
    args = options.args[1:] if options.args[:1] == ["--"] else options.args
    if options.cprofile:
        profiler = cProfile.Profile()
        profiler.enable()
        try:
            code = run_cli(args)
        finally:
            profiler.disable()
            profiler.dump_stats(options.cprofile)
        return code
    timers = Timers()
    missing = timers.install()
    start, cpu = time.perf_counter(), time.process_time()
    code = run_cli(args)
    total = time.perf_counter() - start
    result = {
        "total": total,
        "cpu": time.process_time() - cpu,  # this process only, not its workers
        "seconds": timers.seconds,
        "calls": timers.calls,
        "missing": missing,
        "exit": code,
    }
    options.timers.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    return code


if __name__ == "__main__":
    sys.exit(main())

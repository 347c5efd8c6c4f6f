"""In-process search latency: the library call a web request makes, without process start-up.

Usage: .venv/bin/python bench/search/inprocess.py CASE_DIR [--runs 50] [--json OUT]
Runs every query of bench/search/queries.tsv (the strongroom column) --runs times, with and
without facets and snippets, and prints median and p99 in milliseconds and the hit count.
"""

from __future__ import annotations

import argparse
import json
import shlex
import statistics
import time
from pathlib import Path

from strongroom.case import Case

HERE = Path(__file__).parent


def queries() -> list[tuple[str, str]]:
    out = []
    for line in (HERE / "queries.tsv").read_text().splitlines():
        if line.startswith("#") or not line.strip():
            continue
        name, *_peers, ours = line.split("\t")
        out.append((name, " ".join(shlex.split(ours))))
    return out


def measure(case: Case, query: str, runs: int, *, full: bool) -> tuple[float, float, int]:
    times = []
    total = 0
    for _ in range(runs):
        started = time.perf_counter()
        total = case.search(query, limit=20).total if full else case.count(query)
        times.append(time.perf_counter() - started)
    times.sort()
    return statistics.median(times) * 1000, times[int(len(times) * 0.99) - 1] * 1000, total


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("case", type=Path)
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    case = Case.open(args.case)
    rows = []
    for name, query in queries():
        case.search(query)  # warm
        count_median, count_p99, hits = measure(case, query, args.runs, full=False)
        page_median, page_p99, _ = measure(case, query, args.runs, full=True)
        rows.append(
            {
                "name": name,
                "query": query,
                "hits": hits,
                "count_median_ms": count_median,
                "count_p99_ms": count_p99,
                "page_median_ms": page_median,
                "page_p99_ms": page_p99,
            }
        )
        print(
            f"{name:11s} {hits:7d} hits  count {count_median:7.2f} / {count_p99:7.2f} ms  "
            f"page {page_median:7.2f} / {page_p99:7.2f} ms"
        )
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()

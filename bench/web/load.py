"""Load test of the reading room on loopback: concurrent clients, a bounded number of requests.

Usage: .venv/bin/python bench/web/load.py CASE_DIR [--requests 2000] [--clients 8] [--port 8765]
Starts `strongroom serve` on 127.0.0.1, sends a fixed mix of search and item requests (pages and
JSON twins), and prints median/p99 latency per kind and the error count; with --write, updates the
`web` section of docs/benchmarks.md. Only loopback is ever contacted.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[2]
QUERIES = [
    "budget",
    "donors",
    '"quarterly report"',
    "from:@northwind-civic.org",
    "date:2016-05..2016-06",
    "(budget OR donors) -spam",
    "has:attachment",
    "secur*",
    "subject:meeting",
    "type:pdf",
]


def _wait(port: int) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit("server did not start")


async def _client(
    base: str, plan: list[tuple[str, str]], results: dict[str, list[float]], errors: list[str]
) -> None:
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        for kind, path in plan:
            started = time.perf_counter()
            try:
                response = await client.get(path)
                if response.status_code != 200:
                    errors.append(f"{response.status_code} {path}")
            except httpx.HTTPError as error:
                errors.append(f"{type(error).__name__} {path}")
            results.setdefault(kind, []).append(time.perf_counter() - started)


def _plan(total: int, items: int, seed: int = 7) -> list[tuple[str, str]]:
    rng = random.Random(seed)
    plan = []
    for n in range(total):
        if n % 2 == 0:
            query = rng.choice(QUERIES)
            suffix = ".json" if n % 4 == 0 else ""
            plan.append((f"search{suffix}", f"/search{suffix}?q={query}"))
        else:
            num = rng.randint(1, items)
            suffix = ".json" if n % 4 == 1 else ""
            plan.append((f"item{suffix}", f"/items/{num}{suffix}"))
    return plan


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("case", type=Path)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    strongroom = str(Path(sys.executable).parent / "strongroom")
    report = json.loads(
        subprocess.run(
            [strongroom, "--case", str(args.case), "report", "--json"],
            check=True,
            capture_output=True,
        ).stdout
    )
    server = subprocess.Popen(
        [strongroom, "--case", str(args.case), "serve", "--port", str(args.port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait(args.port)
        plan = _plan(args.requests, report["items"])
        chunks = [plan[i :: args.clients] for i in range(args.clients)]
        results: dict[str, list[float]] = {}
        errors: list[str] = []
        started = time.perf_counter()

        async def run() -> None:
            base = f"http://127.0.0.1:{args.port}"
            await asyncio.gather(*(_client(base, c, results, errors) for c in chunks))

        asyncio.run(run())
        wall = time.perf_counter() - started
    finally:
        server.terminate()
        server.wait(timeout=10)
    rows = []
    for kind in sorted(results):
        times = sorted(results[kind])
        p99 = times[min(len(times) - 1, int(len(times) * 0.99))]
        rows.append((kind, len(times), statistics.median(times) * 1000, p99 * 1000))
    table = ["| request | count | median ms | p99 ms |", "|---|---|---|---|"]
    table += [f"| {k} | {n} | {m:.1f} | {p:.1f} |" for k, n, m, p in rows]
    summary = (
        f"{args.requests} requests from {args.clients} concurrent clients on loopback in "
        f"{wall:.1f} s ({args.requests / wall:.0f} req/s), errors: {len(errors)}; case: "
        f"{report['emails']} emails, {report['attachments']} attachments, {report['items']} items; "
        f"{os.cpu_count()} cores, {platform.python_version()}, one uvicorn worker."
    )
    text = "\n".join([summary, "", *table])
    print(text)
    if errors:
        print("first errors:", errors[:5])
    if args.write:
        _write_section(text)


def _write_section(text: str) -> None:
    doc = REPO / "docs" / "benchmarks.md"
    current = doc.read_text() if doc.exists() else "# Benchmarks\n"
    start, end = "<!-- web:start -->", "<!-- web:end -->"
    command = "`.venv/bin/python bench/web/load.py demo/case --write` (reference-scale demo case)"
    block = f"{start}\n## Reading room under load\n\nCommand: {command}.\n\n{text}\n{end}"
    if start in current:
        before, rest = current.split(start, 1)
        current = before + block + rest.split(end, 1)[1]
    else:
        current = current.rstrip() + "\n\n" + block + "\n"
    doc.write_text(current)


if __name__ == "__main__":
    main()

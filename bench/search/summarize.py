"""Write the Search section of docs/benchmarks.md from bench/search/run.sh's results."""

from __future__ import annotations

import csv
import json
import statistics
import sys
from pathlib import Path
from typing import Any

START, END = "<!-- search:start -->", "<!-- search:end -->"


def _whole_commands(peers: Path, page: Path) -> list[str]:
    rows = [
        (
            "| query | notmuch count | notmuch search | mu find | strongroom search --count "
            "| strongroom search (first page) |"
        ),
        "|---|---|---|---|---|---|",
    ]
    cpu: dict[str, list[float]] = {}
    for path in sorted(peers.glob("q-*.json")):
        results = {r["command"]: r for r in json.loads(path.read_text())["results"]}
        if (page / path.name).exists():
            results.update(
                {r["command"]: r for r in json.loads((page / path.name).read_text())["results"]}
            )

        def cell(name: str, results: dict[str, dict[str, Any]] = results) -> str:
            result = results.get(name)
            if not result:
                return "-"
            times = sorted(result.get("times") or [result["median"]])
            p99 = times[min(len(times) - 1, int(len(times) * 0.99))]
            return f"{result['median'] * 1000:.0f} / {p99 * 1000:.0f}"

        rows.append(
            f"| {path.stem[2:]} | {cell('notmuch-count')} | {cell('notmuch-search')} | "
            f"{cell('mu-find')} | {cell('strongroom')} | {cell('strongroom-page')} |"
        )
        for name, result in results.items():
            if "user" in result:
                cpu.setdefault(name, []).append(result["user"] + result["system"])
    # CPU time is what other load on a shared machine does not inflate, unlike wall time.
    names = {
        "notmuch-count": "notmuch count",
        "notmuch-search": "notmuch search",
        "mu-find": "mu find",
        "strongroom": "strongroom search --count",
        "strongroom-page": "strongroom search (first page)",
    }
    spent = [
        f"{label} {statistics.median(cpu[name]) * 1000:.0f}"
        for name, label in names.items()
        if cpu.get(name)
    ]
    if spent:
        rows.append(
            "\nCPU time (user + system) per command, median over the queries, ms: "
            + ", ".join(spent)
            + "."
        )
    return rows


def _index_sizes(peers: Path, own_index: int, own_case: int | None) -> str:
    sizes: dict[str, int] = {}
    with (peers / "index.tsv").open() as handle:
        for row in csv.DictReader(handle, delimiter="\t"):
            if row["tool"] in ("notmuch", "mu"):
                sizes[row["tool"]] = int(row["index_bytes"] or 0)
            if row["tool"] == "strongroom":
                sizes["strongroom case (catalog, blobs, index)"] = int(row["index_bytes"] or 0)
    if own_case is not None:  # a case reused, not ingested here (BENCH_*_CASE)
        sizes["strongroom case (catalog, blobs, index)"] = own_case
    sizes["strongroom search index alone"] = own_index
    return ", ".join(f"{name} {size / 2**20:.1f} MiB" for name, size in sizes.items())


def _number(path: Path) -> int | None:
    return int(path.read_text()) if path.exists() else None


def _inprocess(path: Path) -> list[str]:
    rows = [
        (
            "| query | hits | count: median / p99 ms | first page with facets and snippets: "
            "median / p99 ms |"
        ),
        "|---|---|---|---|",
    ]
    data = json.loads(path.read_text())
    for row in data:
        rows.append(
            f"| {row['name']} | {row['hits']} | {row['count_median_ms']:.2f} / "
            f"{row['count_p99_ms']:.2f} | {row['page_median_ms']:.2f} / "
            f"{row['page_p99_ms']:.2f} |"
        )
    medians = [row["page_median_ms"] for row in data]
    rows.append(
        f"\nMedian of the per-query medians (full page): {statistics.median(medians):.2f} ms."
    )
    return rows


def main() -> None:
    results, doc = Path(sys.argv[1]), Path(sys.argv[2])
    lines = [
        START,
        "## Search",
        "",
        (
            "Command: `bash bench/search/run.sh` (queries in `bench/search/queries.tsv`; whole "
            "commands timed by hyperfine through `../shared/tools/bench_peers.sh`). Whole-command "
            "figures include process start-up (a Python interpreter, click, tantivy and the "
            "query modules: `search` on a case directory whose index is current reads the "
            "catalog with stdlib sqlite3, not SQLAlchemy); the first page is the default output "
            "(20 hits with snippets), while `notmuch search` and `mu find` print every hit, so "
            "on common words they do more work; `notmuch count` against `search --count` is the "
            "like-for-like pair. The in-process figures are what the reading room pays per "
            "request."
        ),
        "",
    ]
    for set_dir in sorted(p for p in results.iterdir() if p.is_dir()):
        machine = (set_dir / "peers" / "machine.txt").read_text().splitlines()
        facts = {k: v.strip() for k, _, v in (line.partition(":") for line in machine)}
        lines += [
            f"### {set_dir.name}: {facts.get('files', '?')} messages",
            "",
            f"{facts.get('date', '')}; {facts.get('cpus', '?')} cores, {facts.get('cpu', '')}",
            "",
            "Whole command, median / p99 ms:",
            "",
            *_whole_commands(set_dir / "peers", set_dir / "page"),
            "",
            "Index size: "
            + _index_sizes(
                set_dir / "peers",
                int((set_dir / "index_bytes.txt").read_text()),
                _number(set_dir / "case_bytes.txt"),
            ),
            "",
            "In process:",
            "",
            *_inprocess(set_dir / "inprocess.json"),
            "",
        ]
    lines.append(END)
    block = "\n".join(lines)
    text = doc.read_text() if doc.exists() else "# Benchmarks\n"
    if START in text:
        before, rest = text.split(START, 1)
        text = before + block + rest.split(END, 1)[1]
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    doc.write_text(text)


if __name__ == "__main__":
    main()

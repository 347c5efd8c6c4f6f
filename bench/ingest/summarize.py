"""Rewrite the "Ingest" section of docs/benchmarks.md from the results of bench/ingest/run.sh.

Usage: summarize.py --work DIR [--doc FILE]

Reads DIR/results/<set>/ (bench_peers.sh's index.tsv and machine.txt, plus peak_rss.py's
strongroom-rss.tsv, the ingest JSON, the case sizes and kept.json) and DIR/results/profile/
(a cProfile of one `--workers 1` ingest), and replaces the text between the ingest markers of
the doc, creating the doc or the section if absent. Text outside the markers is left alone.
"""

from __future__ import annotations

import argparse
import csv
import json
import statistics
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from where_time_goes import Profile, Timings, profile_section

START, END = "<!-- ingest:start -->", "<!-- ingest:end -->"
DOC_HEADER = """# Benchmarks

Measured by the scripts in `bench/` (see `bench/README.md`); each section is rewritten by its
script between its markers, so edit only outside them.
"""
MIB = 1024 * 1024


# -- reading the results ------------------------------------------------------------------
def read_facts(path: Path) -> dict[str, str]:
    facts: dict[str, str] = {}
    if path.exists():
        for line in path.read_text(encoding="utf-8").splitlines():
            key, sep, value = line.partition(": ")
            if sep:
                facts.setdefault(key.strip(), value.strip())
    return facts


def read_tsv(path: Path) -> list[dict[str, str]]:
    if not path.exists():
        return []
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


def read_json_stream(path: Path) -> list[Any]:
    """The JSON objects printed one after another (`ingest --json` once per run)."""
    if not path.exists():
        return []
    text, decoder, out, pos = path.read_text(encoding="utf-8"), json.JSONDecoder(), [], 0
    while True:
        while pos < len(text) and text[pos].isspace():
            pos += 1
        if pos >= len(text):
            return out
        value, pos = decoder.raw_decode(text, pos)
        out.append(value)


@dataclass
class Row:
    tool: str
    runs: int
    wall: list[float]
    cpu: list[float]
    maxrss_mib: float
    index_bytes: int
    indexed: str
    noop_wall: float | None
    tree_pss_mib: float | None = None
    tree_rss_mib: float | None = None


@dataclass
class BenchSet:
    name: str
    path: Path
    facts: dict[str, str]
    rows: dict[str, Row]
    manifest: dict[str, Any]
    ingest: dict[str, Any]
    sizes: dict[str, int]
    kept: dict[str, Any]
    load: list[str]

    @property
    def files(self) -> int:
        return int(self.facts.get("files", "0"))

    @property
    def mail_bytes(self) -> int:
        return int(float(self.facts.get("bytes", "0")))


def _tool_rows(index: list[dict[str, str]], rss: list[dict[str, str]]) -> dict[str, Row]:
    rows: dict[str, Row] = {}
    for tool in dict.fromkeys(r["tool"] for r in index):
        if tool.endswith("-noop"):
            continue
        runs = [r for r in index if r["tool"] == tool]
        noop = [float(r["wall_s"]) for r in index if r["tool"] == f"{tool}-noop"]
        rows[tool] = Row(
            tool=tool,
            runs=len(runs),
            wall=[float(r["wall_s"]) for r in runs],
            cpu=[float(r["user_s"]) + float(r["sys_s"]) for r in runs],
            maxrss_mib=statistics.median(int(r["maxrss_kb"] or 0) for r in runs) / 1024,
            index_bytes=int(statistics.median(int(r["index_bytes"] or 0) for r in runs)),
            indexed=runs[-1]["indexed"],
            noop_wall=noop[0] if noop else None,
        )
    fresh = [r for r in rss if not r["label"].endswith("-noop")]
    if fresh and "strongroom" in rows:
        rows["strongroom"].tree_pss_mib = statistics.median(int(r["tree_pss_kb"]) for r in fresh)
        rows["strongroom"].tree_rss_mib = statistics.median(int(r["tree_rss_kb"]) for r in fresh)
        rows["strongroom"].tree_pss_mib /= 1024
        rows["strongroom"].tree_rss_mib /= 1024
    return rows


def load_set(path: Path) -> BenchSet:
    facts = read_facts(path / "machine.txt")
    maildir = facts.get("maildir", "")
    manifest_path = Path(maildir.rstrip("/") + ".manifest.json") if maildir else None
    manifest = (
        json.loads(manifest_path.read_text(encoding="utf-8"))
        if manifest_path and manifest_path.exists()
        else {}
    )
    runs = read_json_stream(path / "strongroom-ingest.json")
    fresh = [r for r in runs if r.get("this_run", {}).get("inputs_skipped_unchanged") == 0]
    sizes = {}
    for row in read_tsv_plain(path / "case-sizes.tsv"):
        sizes[Path(row[1]).name] = int(row[0])
    kept_path = path / "kept.json"
    return BenchSet(
        name=path.name,
        path=path,
        facts=facts,
        rows=_tool_rows(read_tsv(path / "index.tsv"), read_tsv(path / "strongroom-rss.tsv")),
        manifest=manifest,
        ingest=fresh[-1] if fresh else (runs[-1] if runs else {}),
        sizes=sizes,
        kept=json.loads(kept_path.read_text(encoding="utf-8")) if kept_path.exists() else {},
        load=(path / "load.txt").read_text(encoding="utf-8").splitlines()
        if (path / "load.txt").exists()
        else [],
    )


def read_tsv_plain(path: Path) -> list[list[str]]:
    if not path.exists():
        return []
    return [line.split("\t") for line in path.read_text(encoding="utf-8").splitlines() if line]


# -- the tables -------------------------------------------------------------------------------
def _spread(values: list[float], fmt: str) -> str:
    median = fmt.format(statistics.median(values))
    if len(values) == 1:
        return median
    return f"{median} [{fmt.format(min(values))}-{fmt.format(max(values))}]"


def _indexed(row: Row, bench: BenchSet) -> str:
    if row.tool == "strongroom" and bench.ingest:
        other = bench.ingest.get("items", 0) - bench.ingest.get("emails", 0)
        return f"{bench.ingest.get('emails', 0):,} emails + {other:,} other items"
    if row.indexed in ("", "-"):
        return "-"
    return f"{int(row.indexed):,} messages"


def _label(tool: str, bench: BenchSet) -> str:
    if tool == "cat":
        return "read every file (`cat`, baseline)"
    if tool == "notmuch":
        return f"notmuch new ({bench.facts.get('notmuch', '?')})"
    if tool == "mu":
        return "mu index (" + bench.facts.get("mu", "?").split(" version ")[-1] + ")"
    if bench.name.endswith("-workers1"):
        return "strongroom ingest --workers 1"
    return f"strongroom ingest ({bench.facts.get('cpus', '?')} workers)"


def table(bench: BenchSet, extra: list[tuple[BenchSet, Row]]) -> list[str]:
    lines = [
        (
            "| tool | messages | indexed | runs | wall s, median [min-max] | messages/s | CPU s "
            "| peak RSS MiB, largest process | peak MiB, process tree (PSS / RSS sum) "
            "| on disk MiB (x mail) | no-op rerun s |"
        ),
        "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    entries = [(bench, row) for row in bench.rows.values()]
    entries += extra
    for owner, row in entries:
        median_wall = statistics.median(row.wall)
        rate = owner.files / median_wall if median_wall > 0 else float("nan")
        if row.tree_pss_mib is not None and row.tree_rss_mib is not None:
            tree = f"{row.tree_pss_mib:.0f} / {row.tree_rss_mib:.0f}"
        else:
            tree = "-" if row.tool == "cat" else "(one process)"
        disk = (
            f"{row.index_bytes / MIB:.1f} ({row.index_bytes / owner.mail_bytes:.2f})"
            if row.index_bytes and owner.mail_bytes
            else "-"
        )
        lines.append(
            f"| {_label(row.tool, owner)} | {owner.files:,} | {_indexed(row, owner)} | {row.runs} "
            f"| {_spread(row.wall, '{:.2f}')} | {rate:,.0f} | {statistics.median(row.cpu):.2f} "
            f"| {row.maxrss_mib:.0f} | {tree} | {disk} "
            f"| {'-' if row.noop_wall is None else f'{row.noop_wall:.2f}'} |"
        )
    return lines


def verdict(bench: BenchSet) -> str:
    rows = bench.rows
    if "strongroom" not in rows:
        return ""
    parts = []
    for measure, what in ((lambda r: r.wall, "wall"), (lambda r: r.cpu, "CPU")):
        ours = statistics.median(measure(rows["strongroom"]))
        for peer in ("notmuch", "mu"):
            if peer in rows:
                ratio = statistics.median(measure(rows[peer])) / ours
                word = "faster" if ratio >= 1 else "slower"
                factor = ratio if ratio >= 1 else 1 / ratio
                parts.append(f"{factor:.2f}x {word} than {peer} in {what} time")
    return "strongroom is " + ", ".join(parts) + " (medians)." if parts else ""


def case_facts(bench: BenchSet) -> list[str]:
    out = []
    if bench.sizes:
        catalog = sum(v for k, v in bench.sizes.items() if k.startswith("catalog.sqlite"))
        index = bench.sizes.get("index")
        out.append(
            f"The case is {bench.sizes.get('case', 0) / MIB:.1f} MiB: `blobs/` "
            f"{bench.sizes.get('blobs', 0) / MIB:.1f} MiB (every original byte, plus each "
            f"attachment decoded once), `catalog.sqlite` {catalog / MIB:.1f} MiB"
            + (f", the search index `index/` {index / MIB:.1f} MiB" if index else "")
            + "; notmuch's and mu's figures are their Xapian database alone, which needs the "
            "Maildir kept beside it."
        )
    if bench.kept:
        out.append(
            f"Kept: {bench.kept['kept']:,} of {bench.kept['files']:,} message files are in "
            "`blobs/` under the sha256 of their bytes, re-hashed after the run (`kept.py`)."
        )
    ingest = bench.ingest
    if ingest:
        out.append(
            f"strongroom's report: {ingest.get('inputs', 0):,} inputs, {ingest.get('items', 0):,} "
            f"items ({ingest.get('emails', 0):,} emails, {ingest.get('attachments', 0):,} "
            f"attachments, {ingest.get('documents', 0):,} documents), "
            f"{ingest.get('duplicates', 0):,} duplicate locations, {ingest.get('failed', 0):,} "
            "failed."
        )
    return out


# -- the section ------------------------------------------------------------------------------
def _load(line: str) -> str:
    """A load.txt line, "load before: 0.52 0.61 0.70 1/200 123", as "before 0.52/0.61/0.70"."""
    words = line.replace(":", "").split()
    return f"{words[1]} " + "/".join(words[2:5]) if len(words) >= 5 else line


def machine_lines(sets: list[BenchSet], work: Path) -> list[str]:
    facts = sets[0].facts
    git = read_facts(work / "results" / "git.txt")
    scratch = facts.get("scratch", "")
    fs = " ".join(scratch.partition("(")[2].rstrip(")").split())
    version = git.get("strongroom", "?").rpartition(" ")[2]
    steps = [(s.name, s.load) for s in sets]
    profile_load = work / "results" / "profile" / "load.txt"
    if profile_load.exists():
        steps.append(("profile", profile_load.read_text(encoding="utf-8").splitlines()))
    loads = "; ".join(f"{name}: " + ", ".join(_load(line) for line in load) for name, load in steps)
    dates = sorted(s.facts["date"] for s in sets if "date" in s.facts)
    return [
        (
            f"Machine: {facts.get('cpus', '?')} CPUs ({facts.get('cpu', '?')}), "
            f"{int(facts.get('mem_bytes', '0')) / 1024**3:.0f} GiB RAM, {facts.get('host', '?')}, "
            f"scratch on {fs or '?'}; strongroom {version}, {git.get('python', '?')}, "
            f"{facts.get('notmuch', 'notmuch ?')}, {facts.get('mu', 'mu ?')}. "
            + (f"Steps run between {dates[0]} and {dates[-1]}." if dates else "")
        ),
        "",
        (
            "The machine was shared with other work while this ran; load average (1/5/15 min) "
            f"before and after each step: {loads}. Wall times move with the load; CPU seconds "
            "much less."
        ),
    ]


def _pool_note(path: Path) -> str:
    """What the main process did in a pooled run (profile_ingest.py --timers, default workers)."""
    if not path.exists():
        return ""
    pool = json.loads(path.read_text(encoding="utf-8"))
    waited = pool.get("seconds", {}).get("Future.result")
    if waited is None:
        return ""
    verdict = (
        "the workers keep up and the serial driver sets the pace"
        if waited < 0.1 * pool["total"]
        else "parsing in the workers sets the pace"
    )
    return (
        f"In a run with the default worker pool, timed in the main process only, that process "
        f"took {pool['total']:.1f} s ({pool.get('cpu', 0):.1f} s of CPU) and spent {waited:.2f} s "
        f"of it waiting for workers' results: {verdict}."
    )


def _wall_note(sets: dict[str, BenchSet]) -> str:
    for name, bench in sets.items():
        one_set = sets.get(f"{name}-workers1")
        if one_set is None or "strongroom" not in bench.rows:
            continue
        one = statistics.median(one_set.rows["strongroom"].wall)
        many = statistics.median(bench.rows["strongroom"].wall)
        return (
            f"Measured on {name} without instruments: {many:.1f} s with "
            f"{bench.facts.get('cpus', '?')} workers against {one:.1f} s with one "
            f"({one / many:.2f}x)."
        )
    return ""


def _set_lines(bench: BenchSet, sets: dict[str, BenchSet]) -> list[str]:
    one_set = sets.get(f"{bench.name}-workers1")
    extra = [(one_set, one_set.rows["strongroom"])] if one_set else []
    man = bench.manifest
    copies = man.get("replicas", 1) - 1
    kind = (
        f" (the real messages and {copies} rewritten {'copy' if copies == 1 else 'copies'}: "
        "Message-IDs suffixed, dates shifted back)"
        if man.get("scaled")
        else " (the real corpora as they are)"
        if man
        else ""
    )
    lines = [
        f"### {bench.name}: {bench.files:,} messages, {bench.mail_bytes / 1e6:.1f} MB{kind}",
        "",
        *table(bench, extra),
        "",
    ]
    summary = verdict(bench)
    return [
        *lines,
        *([summary] if summary else []),
        *case_facts(bench),
        *_code(bench.path),
        *_peers_kept(bench.path),
        "",
        *phase_lines(bench),
    ]


# Timers of the unprofiled pooled run (run.sh runs strongroom under profile_ingest.py --timers):
# the run itself, then each step Case.ingest takes after it, in order.
PHASES = (
    ("IngestRun.run", "the run: walk, store, parse (workers), commit in order (driver)"),
    ("Catalog.write", "- of which the driver's catalog writes, one transaction per batch"),
    ("record_custody", "custody log (`record_custody`)"),
    ("rethread", "conversation threads, recomputed (`rethread`)"),
    ("Case.verify", "DKIM and ARC of the new emails (`verify`, a process pool)"),
    ("assign_inputs", "collections (`assign_inputs`)"),
    ("analyse_case", "analyses of the new items (`analyse_case`)"),
    ("analyse_texts", "- entities (a process pool) and languages (lingua) of their texts"),
    ("analyse_people", "- people: every address regrouped (`analyse_people`)"),
    ("SearchIndex.update", "the Tantivy index of the new items (`SearchIndex.update`)"),
    ("SearchIndex.refresh", "re-indexing items whose facts changed (`SearchIndex.refresh`)"),
    ("record_alerts", "saved-search alerts (`record_alerts`)"),
    ("Catalog.report", "the report before and after (`Catalog.report`)"),
)


def phase_lines(bench: BenchSet) -> list[str]:
    """Where the wall time of the benchmark's own strongroom run went, step by step."""
    runs = sorted(bench.path.glob("timers.own-*.json"))
    runs = [r for r in runs if not r.stem.endswith("-noop")]
    if not runs:
        return []
    timers = json.loads(runs[-1].read_text(encoding="utf-8"))
    seconds, total = timers["seconds"], timers["total"]
    lines = [
        f"#### Where the wall time goes: {bench.name}",
        "",
        (
            "The last strongroom run of the table above, with wall-clock timers around each step "
            "(`profile_ingest.py --timers`, in the main process):"
        ),
        "",
        "| step | wall s | share |",
        "|---|--:|--:|",
    ]
    for name, label in PHASES:
        if name in seconds:
            value = seconds[name]
            lines.append(f"| {label} | {value:.1f} | {100 * value / total:.0f}% |")
    lines.append(f"| total | {total:.1f} | 100% |")
    row = bench.rows.get("strongroom")
    cpus = int(bench.facts.get("cpus", "0") or 0)
    if row is not None and cpus:
        wall, cpu = statistics.median(row.wall), statistics.median(row.cpu)
        lines += [
            "",
            (
                f"All of strongroom's processes used {cpu:.0f} CPU seconds in {wall:.0f} s: "
                f"{100 * cpu / (wall * cpus):.0f}% of the {cpus} CPUs "
                f"(the main process alone {timers.get('cpu', 0):.0f} s). The driver waited "
                f"{seconds.get('Future.result', 0):.0f} s in all for worker processes' results."
            ),
        ]
    return [*lines, ""]


def _peers_kept(path: Path) -> list[str]:
    """run.sh with BENCH_TOOLS leaving peers out keeps their rows from the earlier run."""
    facts = read_facts(path / "peers-kept.txt")
    if not facts:
        return []
    when = (facts.get("earlier run commit") or "?").split()[0]
    tools = facts.get("tools", "peer").replace(",", " and ")
    line = f"The {tools} rows are from the earlier run of this step (commit {when}); "
    return [line + "only strongroom was rerun."]


def _code(path: Path) -> list[str]:
    """Which strongroom a step ran: others commit while the benchmark runs."""
    git = read_facts(path / "git.txt")
    if not git:
        return []
    commit, dirty = git.get("commit", "?"), git.get("uncommitted")
    if dirty is None:
        return [f"Code: commit {commit}."]
    return [f"Code: commit {commit} with {dirty} uncommitted paths in the working tree."]


INTRO = (
    "Indexing a Maildir with `notmuch new`, `mu index` and `strongroom ingest`: "
    "`bench/ingest/run.sh` drives `../shared/tools/bench_peers.sh -Q`, which starts every run "
    "from an empty index or case with the page cache warm and times it with `/usr/bin/time -v`; "
    "the no-op rerun indexes the same Maildir again into the last run's index or case. "
    'messages/s is Maildir files over the median wall time. "Peak RSS, largest process" is '
    "GNU time's figure, the largest single process (for strongroom, its main process or one "
    "worker); the process-tree column is the peak of the sum over all of strongroom's "
    "processes (`bench/ingest/peak_rss.py`, sampled every 50 ms, slowing to once a second on "
    "long runs): PSS counts the pages that "
    "forked workers share once, RSS once per process. On disk: the notmuch or mu database, "
    "or strongroom's whole case (catalog, blobs and search index)."
)
PROFILE_INTRO = (
    "`strongroom ingest --workers 1` on the real Maildir, so that one process does all the "
    "work, measured twice (`bench/ingest/profile_ingest.py`): with wall-clock timers around "
    "the named functions (close to an unprofiled run; the seconds column) and under cProfile "
    "(every call, but Python-heavy code such as SQLAlchemy and `email` is inflated more than C; "
    "the share column). Rows within a side do not overlap; the rest of a side is glue "
    "(batching, dataclasses, JSON)."
)


def section(work: Path) -> list[str]:
    results = work / "results"
    sets = {p.name: load_set(p) for p in sorted(results.iterdir()) if (p / "index.tsv").exists()}
    if not sets:
        raise SystemExit(f"no results under {results}")
    lines = [
        "## Ingest",
        "",
        START,
        "<!-- written by bench/ingest/summarize.py; rerun `bash bench/ingest/run.sh` -->",
        "",
        INTRO,
        "",
    ]
    for bench in sets.values():
        if not bench.name.endswith("-workers1"):
            lines += _set_lines(bench, sets)
    timers_path = results / "profile" / "timers.json"
    prof_path = results / "profile" / "ingest.prof"
    if timers_path.exists():
        timings = Timings(
            json.loads(timers_path.read_text(encoding="utf-8")),
            Profile(prof_path) if prof_path.exists() else None,
        )
        lines += [
            "### Where the time goes",
            "",
            PROFILE_INTRO,
            "",
            *profile_section(
                timings,
                " ".join(
                    n
                    for n in (
                        _wall_note(sets),
                        _pool_note(results / "profile" / "timers-pool.json"),
                    )
                    if n
                ),
            ),
            *_code(results / "profile"),
            "",
        ]
    lines += [*machine_lines(list(sets.values()), work), "", END]
    return lines


def rewrite(doc: Path, body: list[str]) -> None:
    text = doc.read_text(encoding="utf-8") if doc.exists() else DOC_HEADER
    block = "\n".join(body)
    if START in text and END in text:
        head, _, rest = text.partition(START)
        _, _, tail = rest.partition(END)
        heading = "## Ingest\n\n"
        head = head.removesuffix(heading)
        text = head + block + tail
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    doc.parent.mkdir(parents=True, exist_ok=True)
    doc.write_text(text, encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, required=True, help="run.sh's work directory")
    parser.add_argument("--doc", type=Path, default=Path("docs/benchmarks.md"))
    args = parser.parse_args()
    rewrite(args.doc, section(args.work))
    print(f"wrote the ingest section of {args.doc}")


if __name__ == "__main__":
    main()

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
import pstats
import statistics
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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
    ours = statistics.median(rows["strongroom"].wall)
    parts = []
    for peer in ("notmuch", "mu"):
        if peer in rows:
            ratio = statistics.median(rows[peer].wall) / ours
            word = "faster" if ratio >= 1 else "slower"
            factor = ratio if ratio >= 1 else 1 / ratio
            parts.append(f"{factor:.2f}x {word} than {peer}")
    return "strongroom is " + " and ".join(parts) + " (median wall time)." if parts else ""


def case_facts(bench: BenchSet) -> list[str]:
    out = []
    if bench.sizes:
        catalog = sum(v for k, v in bench.sizes.items() if k.startswith("catalog.sqlite"))
        out.append(
            f"The case is {bench.sizes.get('case', 0) / MIB:.1f} MiB: `blobs/` "
            f"{bench.sizes.get('blobs', 0) / MIB:.1f} MiB (every original byte, plus each "
            f"attachment decoded once) and `catalog.sqlite` {catalog / MIB:.1f} MiB; notmuch's "
            "and mu's figures are the Xapian database alone and need the Maildir beside them."
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


# -- the profile ------------------------------------------------------------------------------
Key = tuple[str, int, str]


class Profile:
    def __init__(self, path: Path) -> None:
        self.stats: dict[Key, Any] = pstats.Stats(str(path)).stats  # type: ignore[attr-defined]

    def keys(self, file_suffix: str, func: str) -> list[Key]:
        return [k for k in self.stats if k[0].endswith(file_suffix) and k[2] == func]

    def cum(self, file_suffix: str, func: str, caller: tuple[str, str] | None = None) -> float:
        total = 0.0
        for key in self.keys(file_suffix, func):
            if caller is None:
                total += self.stats[key][3]
            else:
                for ckey, edge in self.stats[key][4].items():
                    if ckey[0].endswith(caller[0]) and ckey[2] == caller[1]:
                        total += edge[3]
        return total

    def self_time(self, match: Any) -> float:
        return sum(v[2] for k, v in self.stats.items() if match(k))

    def calls(self, file_suffix: str, func: str) -> int:
        return sum(self.stats[k][1] for k in self.keys(file_suffix, func))


# (label, [(file suffix, function)] summed for cProfile, [timer keys] summed for --timers)
Part = tuple[str, list[tuple[str, str]], list[str]]
WORKER_PARTS: list[Part] = [
    (
        "re-parsing every header with `policy.default` to list defects (`rfc822._header_defects`)",
        [("formats/rfc822.py", "_header_defects")],
        ["_header_defects"],
    ),
    (
        "MIME walk: compat32 header parse, boundary split (`mime.walk`)",
        [("formats/mime.py", "walk")],
        ["walk"],
    ),
    (
        "address lists (`mailheaders.parse_addresses`)",
        [("formats/mailheaders.py", "parse_addresses")],
        ["parse_addresses"],
    ),
    (
        "bodies to text: transfer decoding, charsets, HTML (`EmailFormat._collect`)",
        [("formats/rfc822.py", "_collect")],
        ["EmailFormat._collect"],
    ),
    (
        "attachments: store, detect, parse each child (`Dispatcher._child`)",
        [("ingest/worker.py", "_child")],
        ["Dispatcher._child"],
    ),
]
DRIVER_PARTS: list[Part] = [
    (
        "catalog writes of parsed items, about 6 statements each (`Catalog.write`)",
        [("catalog/store.py", "write")],
        ["Catalog.write"],
    ),
    (
        "per-input catalog round trips (`input_done`, `begin_input`, `item_num`, `finish_inputs`)",
        [
            ("catalog/store.py", "input_done"),
            ("catalog/store.py", "begin_input"),
            ("catalog/store.py", "finish_inputs"),
        ],
        [
            "Catalog.input_done",
            "Catalog.begin_input",
            "Catalog.item_num (driver)",
            "Catalog.finish_inputs",
        ],
    ),
    (
        "hashing and copying each input into `blobs/` (`BlobStore.put_file`)",
        [("blobs.py", "put_file")],
        ["BlobStore.put_file"],
    ),
    (
        "type detection, libmagic (`detect_blob`)",
        [("ingest/worker.py", "detect_blob")],
        ["detect_blob"],
    ),
    ("walking the Maildir (`walk_inputs`)", [("ingest/walk.py", "walk_inputs")], []),
    (
        "the report before and after the run (`Catalog.report`)",
        [("catalog/store.py", "report")],
        ["Catalog.report"],
    ),
]


def _self_parts(prof: Profile) -> list[tuple[str, float]]:
    return [
        (
            "SQLAlchemy Core, Python side (statement building, cache keys)",
            prof.self_time(lambda k: "/sqlalchemy/" in k[0]),
        ),
        ("SQLite itself (execute, commit)", prof.self_time(lambda k: "sqlite3." in k[2])),
        ("the stdlib `email` package", prof.self_time(lambda k: "/email/" in k[0])),
        ("sha256", prof.self_time(lambda k: "_hashlib" in k[2])),
        (
            "file system calls (open, read, write, rename, stat, mkdir)",
            prof.self_time(
                lambda k: k[0] == "~" and any(s in k[2] for s in ("_io.", "io.open", "posix."))
            ),
        ),
        ("libmagic", prof.self_time(lambda k: "/magic/" in k[0] or "magic_" in k[2])),
        (
            "charset detection (charset_normalizer)",
            prof.self_time(lambda k: "charset_normalizer" in k[0]),
        ),
    ]


@dataclass
class Timings:
    """Seconds per part from --timers (close to an unprofiled run) and shares from cProfile."""

    timers: dict[str, Any]
    prof: Profile | None

    def timer(self, keys: list[str]) -> float | None:
        seconds = self.timers.get("seconds", {})
        if not keys or not any(k in seconds for k in keys):
            return None
        return float(sum(seconds.get(k, 0.0) for k in keys))

    def share(self, funcs: list[tuple[str, str]]) -> float | None:
        if self.prof is None:
            return None
        value = sum(self.prof.cum(f, n) for f, n in funcs)
        if ("catalog/store.py", "input_done") in funcs:  # item_num as the driver calls it
            value += self.prof.cum(
                "catalog/store.py", "item_num", ("ingest/runner.py", "_ingest_input")
            )
        return value / self.prof_total

    @property
    def prof_total(self) -> float:
        assert self.prof is not None
        return self.prof.cum("strongroom/cli.py", "main") or max(
            v[3] for v in self.prof.stats.values()
        )


def _cells(t: Timings, funcs: list[tuple[str, str]], keys: list[str], total: float) -> str:
    seconds = t.timer(keys)
    share = t.share(funcs)
    left = "-" if seconds is None else f"{seconds:.2f} ({100 * seconds / total:.0f}%)"
    right = "-" if share is None else f"{100 * share:.0f}%"
    return f"{left} | {right}"


def profile_section(t: Timings, wall_note: str) -> list[str]:
    total = float(t.timers.get("total") or 0.0)
    worker = t.timer(["Dispatcher.handle_batch"]) or 0.0
    driver = total - worker
    worker_share = t.share([("ingest/worker.py", "handle_batch")])
    lines = [
        "| where | seconds (share), timers | share, cProfile |",
        "|---|--:|--:|",
        (
            f"| **parsing**: `Dispatcher.handle_batch`, what the workers run in parallel "
            f"| **{worker:.2f} ({100 * worker / total:.0f}%)** "
            f"| **{'-' if worker_share is None else f'{100 * worker_share:.0f}%'}** |"
        ),
    ]
    ranked: list[tuple[str, float]] = []
    for label, funcs, keys in WORKER_PARTS:
        lines.append(f"| - {label} | {_cells(t, funcs, keys, total)} |")
        ranked.append((label, t.timer(keys) or 0.0))
    driver_share = None if worker_share is None else 1 - worker_share
    lines.append(
        f"| **driver**: the main process, serial, everything else "
        f"| **{driver:.2f} ({100 * driver / total:.0f}%)** "
        f"| **{'-' if driver_share is None else f'{100 * driver_share:.0f}%'}** |"
    )
    for label, funcs, keys in DRIVER_PARTS:
        lines.append(f"| - {label} | {_cells(t, funcs, keys, total)} |")
        ranked.append((label, t.timer(keys) or 0.0))
    lines.append(f"| total | {total:.2f} | 100% |")
    if t.prof is not None:
        lines += [
            "",
            "Self time by layer across both sides (cProfile):",
            "",
            "| layer | share |",
            "|---|--:|",
        ]
        lines += [
            f"| {label} | {100 * value / t.prof_total:.0f}% |"
            for label, value in _self_parts(t.prof)
        ]
    top = sorted(ranked, key=lambda p: p[1], reverse=True)[:3]
    lines += [
        "",
        f"In one process, parsing takes {100 * worker / total:.0f}% of the time and the driver "
        f"{100 * driver / total:.0f}%. The three largest costs: "
        + "; ".join(f"{label}, {100 * value / total:.0f}%" for label, value in top)
        + f". The driver's {driver:.1f} s stay serial whatever the number of workers, and on "
        "this machine the workers share the cores with it. " + wall_note,
    ]
    return lines


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
    loads = "; ".join(f"{s.name}: " + ", ".join(_load(line) for line in s.load) for s in sets)
    return [
        (
            f"Machine: {facts.get('cpus', '?')} CPUs ({facts.get('cpu', '?')}), "
            f"{int(facts.get('mem_bytes', '0')) / 1024**3:.0f} GiB RAM, {facts.get('host', '?')}, "
            f"scratch on {fs or '?'}. Run {facts.get('date', '?')}: strongroom {version} at "
            f"commit {git.get('commit', '?')} ({git.get('uncommitted', '?')} uncommitted paths), "
            f"{git.get('python', '?')}."
        ),
        "",
        (
            "The machine was shared with other work while this ran; load average (1/5/15 min) "
            f"before and after each step: {loads}. Wall times move with the load; CPU seconds "
            "much less."
        ),
    ]


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
    kind = (
        f"the real messages and {man.get('replicas', 1) - 1} rewritten copies "
        "(Message-IDs suffixed, dates shifted back)"
        if man.get("scaled")
        else "the real corpora as they are"
    )
    lines = [
        f"### {bench.name}: {bench.files:,} messages, {bench.mail_bytes / 1e6:.1f} MB ({kind})",
        "",
        *table(bench, extra),
        "",
    ]
    summary = verdict(bench)
    return [*lines, *([summary] if summary else []), *case_facts(bench), ""]


INTRO = (
    "Indexing a Maildir with `notmuch new`, `mu index` and `strongroom ingest`: "
    "`bench/ingest/run.sh` drives `../shared/tools/bench_peers.sh -Q`, which starts every run "
    "from an empty index or case with the page cache warm and times it with `/usr/bin/time -v`; "
    "the no-op rerun indexes the same Maildir again into the last run's index or case. "
    'messages/s is Maildir files over the median wall time. "Peak RSS, largest process" is '
    "GNU time's figure, the largest single process (for strongroom, its main process or one "
    "worker); the process-tree column is the peak of the sum over all of strongroom's "
    "processes (`bench/ingest/peak_rss.py`, sampled every 50 ms): PSS counts the pages that "
    "forked workers share once, RSS once per process. On disk: the notmuch or mu database, "
    "or strongroom's whole case (catalog and blobs)."
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
            *profile_section(timings, _wall_note(sets)),
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

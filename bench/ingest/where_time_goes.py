"""Where an ingest's time goes: the "Where the time goes" table of docs/benchmarks.md.

Reads profile_ingest.py's outputs: timers.json (wall-clock timers around named functions, close
to an unprofiled run) and ingest.prof (cProfile, every call, for shares). Used by summarize.py.
"""

from __future__ import annotations

import pstats
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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
        "hashing, copying and typing each input file (`Dispatcher.store_input`)",
        [("ingest/worker.py", "store_input")],
        ["Dispatcher.store_input"],
    ),
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
        (
            "catalog writes of parsed items, a many-row statement per table and batch "
            "(`Catalog.write`)"
        ),
        [("catalog/store.py", "write")],
        ["Catalog.write"],
    ),
    (
        (
            "inputs marked started and finished (`begin_inputs`, `begin_input`, `item_num`, "
            "`finish_inputs`)"
        ),
        [
            ("catalog/store.py", "input_done"),
            ("catalog/store.py", "begin_input"),
            ("catalog/store.py", "begin_inputs"),
            ("catalog/store.py", "finish_inputs"),
        ],
        [
            "Catalog.input_done",
            "Catalog.begin_input",
            "Catalog.begin_inputs",
            "Catalog.item_num (driver)",
            "Catalog.finish_inputs",
        ],
    ),
    (
        "hashing and copying inputs the driver opens itself, containers (`BlobStore.put_file`)",
        [("blobs.py", "put_file")],
        ["BlobStore.put_file"],
    ),
    (
        "type detection of each input's first bytes (`detect_blob`)",
        [("ingest/worker.py", "detect_blob")],
        ["detect_blob"],
    ),
    ("walking the Maildir (`walk_inputs`)", [("ingest/walk.py", "walk_inputs")], []),
    (
        "conversation threads, after the run (`rethread`)",
        [("catalog/threading.py", "rethread")],
        ["rethread"],
    ),
    (
        "custody log and collections, after the run (`record_custody`, `assign_inputs`)",
        [("custody/events.py", "record_custody"), ("accounts/collections.py", "assign_inputs")],
        ["record_custody", "assign_inputs"],
    ),
    (
        "DKIM and ARC of new emails, after the run, a process pool (`verify`)",
        [("strongroom/case.py", "verify")],
        ["Case.verify"],
    ),
    (
        "entities, languages, people of new items, after the run (`analyse_case`)",
        [("analyze/entities.py", "analyse_case")],
        ["analyse_case"],
    ),
    (
        "the Tantivy search index, after the run (`SearchIndex.update`)",
        [("index/store.py", "update")],
        ["SearchIndex.update"],
    ),
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
        if self.prof is None or not any(self.prof.keys(f, n) for f, n in funcs):
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
        if t.timer(keys) is None and t.share(funcs) is None:
            continue  # not in this version of strongroom
        lines.append(f"| - {label} | {_cells(t, funcs, keys, total)} |")
        ranked.append((label, t.timer(keys) or 0.0))
    driver_share = None if worker_share is None else 1 - worker_share
    lines.append(
        f"| **driver**: the main process, serial, everything else "
        f"| **{driver:.2f} ({100 * driver / total:.0f}%)** "
        f"| **{'-' if driver_share is None else f'{100 * driver_share:.0f}%'}** |"
    )
    for label, funcs, keys in DRIVER_PARTS:
        if t.timer(keys) is None and t.share(funcs) is None:
            continue  # not in this version of strongroom
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
        + f". The main process's {driver:.1f} s are serial whatever the number of parsing "
        "workers (only `verify` and the entity analysis use process pools of their own), and "
        "on this machine the workers share the cores with it. " + wall_note,
    ]
    return lines

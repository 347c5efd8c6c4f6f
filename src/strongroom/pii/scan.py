"""Scanning a case for personal data: incremental, in parallel, safe to kill.

Each run looks at the items not yet scanned with the current detector version (the code's
version plus a digest of the case's word lists). The main process reads items in number order
and hands batches of texts (an email's headers and body, an attachment's or document's text) to
a process pool; each batch's findings and searchable facts are committed in one transaction, and
the index is refreshed for the items whose facts changed (a killed run's leftovers first).
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from email.header import decode_header, make_header
from typing import Any

from strongroom.catalog import pii_store as store
from strongroom.catalog.store import Catalog
from strongroom.index.store import SearchIndex
from strongroom.parallel import pool_map_unordered
from strongroom.pii.detect import Detector, detector_version, normalise

BATCH = 32
PAGE = 512  # items read from the catalog at a time
REFRESH_CHUNK = 1000
# Headers that hold only machine data (signatures, ids, structure) and the sending date.
SKIPPED_HEADERS = frozenset(
    {
        "dkim-signature",
        "arc-seal",
        "arc-message-signature",
        "arc-authentication-results",
        "authentication-results",
        "message-id",
        "references",
        "in-reply-to",
        "content-type",
        "content-transfer-encoding",
        "content-disposition",
        "content-id",
        "mime-version",
        "date",
        "x-strongroom-derived",
    }
)

# Headers looked at for some types only: a Received line's digits are dates, times and ids.
HEADER_TYPES = {"received": ("ip", "email"), "x-originating-ip": ("ip",)}

ScanProgress = Callable[[int, int], None]  # (items done, items to do)
Unit = tuple[str, str]  # (place, text)


@dataclass(frozen=True)
class ScanStats:
    scanned: int
    findings: int
    seconds: float
    by_type: dict[str, int]  # this run
    case: dict[str, dict[str, int]]  # whole case: type -> status -> findings
    version: str
    workers: int

    def to_json(self) -> dict[str, Any]:
        return {
            "scanned": self.scanned,
            "findings": self.findings,
            "seconds": round(self.seconds, 3),
            "items_per_second": round(self.scanned / self.seconds, 1) if self.seconds else 0.0,
            "this_run": self.by_type,
            "case": self.case,
            "detector_version": self.version,
            "workers": self.workers,
        }


def units_of(item: dict[str, Any]) -> list[Unit]:
    """The texts of one item that are scanned, each named by where it is."""
    units: list[Unit] = []
    text = item.get("body") or ""
    if item["kind"] == "email":
        seen: Counter[str] = Counter()
        for name, value in json.loads(item["record"]).get("headers") or []:
            seen[name.lower()] += 1
            if name.lower() in SKIPPED_HEADERS or not isinstance(value, str):
                continue
            count = seen[name.lower()]
            units.append((f"header:{name}" + (f"#{count}" if count > 1 else ""), _decoded(value)))
        units.append(("body", text))
    else:
        units.append(("text", text))
    return [(place, value) for place, value in units if value.strip()]


def _decoded(value: str) -> str:
    """A header's RFC 2047 words decoded (`=?utf-8?b?...?=` names), as the reading room shows."""
    if "=?" not in value:
        return value
    try:
        return str(make_header(decode_header(value)))
    except (ValueError, LookupError, UnicodeError):
        return value


def _types_for(place: str) -> tuple[str, ...] | None:
    if not place.startswith("header:"):
        return None
    return HEADER_TYPES.get(place[len("header:") :].split("#", 1)[0].lower())


# -- worker processes ----------------------------------------------------------------------------
_WORKER: dict[str, Detector] = {}


def _init_worker(words: dict[str, list[str]]) -> None:
    _WORKER["detector"] = Detector(words)


def _scan_batch(batch: list[tuple[int, list[Unit]]]) -> list[tuple[int, list[dict[str, Any]]]]:
    detector = _WORKER["detector"]
    out = []
    for num, units in batch:
        rows = [
            {
                "place": place[:160],
                "start": hit.start,
                "end": hit.end,
                "type": hit.type,
                "score": hit.score,
                "value": hit.value,
                "key": normalise(hit.type, hit.value),
            }
            for place, text in units
            for hit in detector.find(text, _types_for(place))
        ]
        out.append((num, rows))
    return out


# -- the run --------------------------------------------------------------------------------------
def scan_case(
    catalog: Catalog,
    index: SearchIndex,
    *,
    workers: int = 1,
    progress: ScanProgress | None = None,
) -> ScanStats:
    started = time.perf_counter()
    words = store.word_lists(catalog)
    version = detector_version(words)
    _refresh(index, catalog, store.unindexed(catalog))  # what a killed run left unindexed
    todo = store.count_pending(catalog, version)
    done = findings = 0
    by_type: Counter[str] = Counter()
    changed: set[int] = set()
    for results in _batches(catalog, version, words, workers):
        changed |= set(store.write_scan(catalog, version, results))
        done += len(results)
        for _num, rows in results:
            findings += len(rows)
            by_type.update(row["type"] for row in rows)
        if progress is not None:
            progress(done, todo)
        if len(changed) >= REFRESH_CHUNK:
            _refresh(index, catalog, sorted(changed))
            changed.clear()
    _refresh(index, catalog, sorted(changed))
    return ScanStats(
        scanned=done,
        findings=findings,
        seconds=time.perf_counter() - started,
        by_type=dict(sorted(by_type.items())),
        case=store.type_counts(catalog),
        version=version,
        workers=workers,
    )


def _refresh(index: SearchIndex, catalog: Catalog, nums: list[int]) -> None:
    for start in range(0, len(nums), REFRESH_CHUNK):
        chunk = nums[start : start + REFRESH_CHUNK]
        index.refresh(catalog, chunk)  # items not yet indexed get their facts when they are
        store.mark_indexed(catalog, chunk)


def _pending(catalog: Catalog, version: str) -> Iterator[list[tuple[int, list[Unit]]]]:
    after = 0
    while True:
        page = store.pending_items(catalog, version, after, PAGE)
        if not page:
            return
        after = page[-1]["num"]
        entries = [(item["num"], units_of(item)) for item in page]
        for start in range(0, len(entries), BATCH):
            yield entries[start : start + BATCH]


def _batches(
    catalog: Catalog, version: str, words: dict[str, list[str]], workers: int
) -> Iterator[list[tuple[int, list[dict[str, Any]]]]]:
    return pool_map_unordered(
        _scan_batch, _pending(catalog, version), workers, _init_worker, (words,)
    )

"""Verification of a whole case: incremental, in parallel, crash-safe.

Each run checks the emails never verified, those verified by another verifier version, and those
whose signatures name a (domain, selector) the keyring has gained a record for since. Batches go
to a process pool; each batch's results and searchable facts are committed in one transaction;
the index is refreshed for the emails checked (and for any a killed run left unrefreshed).
With `dns=True`, names the keyring lacks are looked up in live DNS after the first pass, stored
with the time they were fetched, and the emails that need them are checked again.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from strongroom.blobs import BlobStore
from strongroom.catalog import verify_store
from strongroom.catalog.store import Catalog
from strongroom.index.store import SearchIndex
from strongroom.parallel import pool_map_unordered
from strongroom.verify.arc import verify_arc
from strongroom.verify.dkim import message_time, parse_message, verify_signatures
from strongroom.verify.keyring import (
    KeyRecord,
    Keyring,
    TxtLookup,
    dns_lookup,
    fetch_missing,
)
from strongroom.verify.verdict import (
    VERIFY_FLAGS,
    email_verdict,
    flags_of,
    status_of,
    verified_domains,
)

VERIFIER_VERSION = 1  # bump when a change must re-verify every email
BATCH = 64
REFRESH_CHUNK = 1000  # emails re-indexed per index commit: bounds the index writer's memory
DERIVED = b"X-Strongroom-Derived:"

VerifyProgress = Callable[[int, int], None]  # (emails done, emails to do)


@dataclass(frozen=True)
class VerifyStats:
    checked: int
    seconds: float
    counts: dict[str, int]  # this run: status -> emails
    totals: dict[str, int]  # the whole case: status -> emails
    keys_fetched: int = 0
    dns_missing: list[str] = field(default_factory=list)

    @property
    def per_second(self) -> float:
        return self.checked / self.seconds if self.seconds > 0 else 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "checked": self.checked,
            "seconds": round(self.seconds, 3),
            "messages_per_second": round(self.per_second, 1),
            "this_run": self.counts,
            "case": self.totals,
            "keys_fetched": self.keys_fetched,
            "dns_missing": self.dns_missing,
        }


def load_keyring(catalog: Catalog) -> Keyring:
    return Keyring([KeyRecord(**row) for row in verify_store.key_rows(catalog)])


def verify_email(
    raw: bytes,
    keyring: Keyring,
    now: datetime,
    date_utc: str | None = None,
    quoted_from_lines: int = 0,
    item_format: str = "email",
) -> dict[str, Any]:
    """Every DKIM signature and the ARC chain of one email's stored bytes, with its verdict."""
    if item_format != "email" or raw.startswith(DERIVED):
        return _unverifiable(
            "This email was rebuilt from an Outlook file (.msg or .pst); its original bytes "
            "are not available, so no signature on it can be checked."
        )
    message = parse_message(raw, quoted_from_lines)
    when, source = message_time(message, date_utc)
    signatures = verify_signatures(message, keyring, when, now)
    arc = verify_arc(message, keyring, when, now)
    verdict = email_verdict(signatures, arc, when, source)
    if message.defect:
        verdict += (
            f" Its header section is malformed ({message.defect}); the checks took the header "
            "as ending there."
        )
    return {
        "status": status_of(signatures),
        "signatures": [s.to_json() for s in signatures],
        "arc": arc.to_json() if arc is not None else None,
        "message_time": when.strftime("%Y-%m-%dT%H:%M:%SZ") if when else None,
        "message_time_source": source,
        "verdict": verdict,
        "flags": flags_of(signatures, arc),
        "dkim_domains": verified_domains(signatures),
        "detail": {
            "checked_at": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "header_defect": message.defect,
        },
    }


def _unverifiable(verdict: str) -> dict[str, Any]:
    return {
        "status": "unverifiable",
        "signatures": [],
        "arc": None,
        "message_time": None,
        "message_time_source": None,
        "verdict": verdict,
        "flags": [],
        "dkim_domains": [],
    }


# -- worker processes ----------------------------------------------------------------------------
_WORKER: dict[str, Any] = {}


def _init_worker(blob_root: str, keys: list[dict[str, Any]], now: datetime) -> None:
    _WORKER["blobs"] = BlobStore(Path(blob_root))
    _WORKER["keyring"] = Keyring([KeyRecord(**row) for row in keys])
    _WORKER["now"] = now


def _verify_batch(batch: list[dict[str, Any]]) -> list[dict[str, Any]]:
    blobs: BlobStore = _WORKER["blobs"]
    out = []
    for entry in batch:
        try:
            raw = blobs.read(entry["sha256"])
        except OSError as error:
            result = _unverifiable(f"Its stored bytes cannot be read: {error.strerror or error}.")
        else:
            result = verify_email(
                raw,
                _WORKER["keyring"],
                _WORKER["now"],
                entry["date_utc"],
                entry["quoted_from_lines"],
                entry["format"],
            )
        result["num"] = entry["num"]
        out.append(result)
    return out


# -- the run --------------------------------------------------------------------------------------
def verify_case(
    catalog: Catalog,
    blob_root: Path,
    index: SearchIndex,
    *,
    workers: int = 1,
    dns: bool = False,
    lookup: TxtLookup | None = None,
    progress: VerifyProgress | None = None,
    now: datetime | None = None,
) -> VerifyStats:
    """Verify what needs verifying; `dns` fetches missing keys (through `lookup` if given)."""
    started = time.perf_counter()
    clock = now or datetime.now(UTC)
    repair = verify_store.unfinished_run_items(catalog)
    verify_store.close_unfinished_runs(catalog)
    keyring = load_keyring(catalog)
    run_id, _ = verify_store.start_run(catalog, keyring.mark, dns, workers)
    statuses: dict[int, str] = {}  # email -> its status after this run (a DNS pass redoes some)
    changed: list[int] = []  # emails whose searchable facts changed
    fetched, missing = 0, list[str]()
    passes = 2 if dns else 1
    for attempt in range(passes):
        if attempt == 1:
            entries, missing = fetch_missing(
                verify_store.key_names(catalog), keyring, lookup or dns_lookup()
            )
            stamp = clock.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
            fetched, _ = verify_store.add_keys(
                catalog,
                ((e.domain, e.selector, e.record) for e in entries),
                "dns",
                obtained_at=stamp,
            )
            if not fetched:
                break
            keyring = load_keyring(catalog)
        todo = verify_store.pending(catalog, keyring.mark, VERIFIER_VERSION)
        for results in _batches(todo, blob_root, keyring, clock, workers):
            changed += verify_store.write_results(
                catalog, results, keyring.mark, VERIFIER_VERSION, VERIFY_FLAGS
            )
            statuses.update((r["num"], r["status"]) for r in results)
            if progress is not None:
                progress(len(statuses), len(todo))
    _refresh(index, catalog, set(changed) | set(repair))
    seconds = time.perf_counter() - started
    counts = dict(Counter(statuses.values()))
    verify_store.finish_run(catalog, run_id, len(statuses), seconds, counts)
    return VerifyStats(
        checked=len(statuses),
        seconds=seconds,
        counts=counts,
        totals=verify_store.status_counts(catalog),
        keys_fetched=fetched,
        dns_missing=missing,
    )


def _refresh(index: SearchIndex, catalog: Catalog, nums: set[int]) -> None:
    """Re-index the emails whose facts changed. Emails not indexed yet (ingest verifies before
    it indexes) are left to the index's own update; the rest go in bounded chunks."""
    indexed = index.last_num()
    stale = sorted(n for n in nums if n <= indexed)
    for start in range(0, len(stale), REFRESH_CHUNK):
        index.refresh(catalog, stale[start : start + REFRESH_CHUNK])


def _batches(
    todo: list[dict[str, Any]],
    blob_root: Path,
    keyring: Keyring,
    now: datetime,
    workers: int,
) -> Iterator[list[dict[str, Any]]]:
    chunks = [todo[i : i + BATCH] for i in range(0, len(todo), BATCH)]
    keys = [record.__dict__ for record in keyring.records]
    return pool_map_unordered(
        _verify_batch,
        chunks,
        workers if len(chunks) > 1 else 1,
        _init_worker,
        (str(blob_root), keys, now),
    )

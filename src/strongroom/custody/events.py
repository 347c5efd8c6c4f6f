"""The custody log: append-only events written from the catalog's own records.

`record_custody` appends an `ingested` event for every location (an item found in an input
file, or inside another item at a locator) that has none yet, and an event for every input or
container member that failed; it is idempotent, so it runs after every ingest. `verify_blobs`
re-hashes every item's stored bytes and appends what it found. Nothing here updates or deletes
an event (and the database refuses to: see `catalog/tables_custody.py`).
"""

from __future__ import annotations

import json
import os
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import String, cast, exists, func, literal, select
from sqlalchemy.engine import Connection

from strongroom import __version__
from strongroom.blobs import BlobStore, sha256_file
from strongroom.catalog import Catalog
from strongroom.catalog import schema as s
from strongroom.catalog.store import now
from strongroom.catalog.tables_custody import custody_events as ev

MAX_LISTED = 10_000  # item numbers kept in one verification event's detail


def _not_logged(key: Any) -> Any:
    return ~exists().where(ev.c.once_key == key)


def record_custody(catalog: Catalog) -> int:
    """Append the events the catalog's records call for and the log lacks; returns how many."""
    at = now()
    key = literal("location:") + cast(s.locations.c.id, String)
    detail = (
        literal('{"ingested_at": "')
        + s.items.c.ingested_at
        + literal('", "kind": "')
        + s.items.c.kind
        + literal('", "status": "')
        + s.items.c.status
        + literal('"}')
    )  # controlled values (a timestamp, two enumerations): no JSON escaping is needed
    rows = (
        select(
            cast(literal(at), String).label("at"),  # typed: PostgreSQL will not guess
            cast(literal("ingested"), String).label("event"),
            s.locations.c.item_num,
            s.items.c.sha256,
            s.items.c.size,
            s.inputs.c.path,
            func.nullif(s.locations.c.parent_num, 0).label("parent_num"),
            s.locations.c.locator,
            s.items.c.tool_version,
            detail.label("detail"),
            key.label("once_key"),
        )
        .select_from(
            s.locations.join(s.items, s.items.c.num == s.locations.c.item_num).outerjoin(
                s.inputs, s.inputs.c.id == s.locations.c.input_id
            )
        )
        .where(_not_logged(key))
        .order_by(s.locations.c.id)  # the order things were found
    )
    columns = [
        ev.c.at,
        ev.c.event,
        ev.c.item_num,
        ev.c.sha256,
        ev.c.size,
        ev.c.input_path,
        ev.c.parent_num,
        ev.c.locator,
        ev.c.tool_version,
        ev.c.detail,
        ev.c.once_key,
    ]
    with catalog.engine.begin() as conn:
        added = conn.execute(ev.insert().from_select(columns, rows)).rowcount or 0
        added += _record_failures(conn, at)
    return int(added)


def _record_failures(conn: Connection, at: str) -> int:
    events: list[dict[str, Any]] = []
    for row in conn.execute(select(s.inputs).where(s.inputs.c.status == "failed")):
        events.append(
            make_event(
                "input-failed",
                at=at,
                input_path=row.path,
                size=row.size,
                detail={"reason": row.reason, "started_at": row.started_at},
                once_key=f"input:{row.id}:{row.started_at}",
            )
        )
    for row in conn.execute(select(s.failures).order_by(s.failures.c.id)):
        events.append(
            make_event(
                "member-failed",
                at=at,
                parent_num=row.parent_num,
                locator=row.locator,
                detail={"status": row.status, "reason": row.reason},
                once_key=f"failure:{row.id}",
            )
        )
    logged = {
        key
        for (key,) in conn.execute(
            select(ev.c.once_key).where(ev.c.once_key.in_([e["once_key"] for e in events]))
        )
    }
    fresh = [e for e in events if e["once_key"] not in logged]
    if fresh:
        conn.execute(ev.insert(), fresh)
    return len(fresh)


def make_event(event: str, *, at: str | None = None, **values: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "at": at or now(),
        "event": event,
        "item_num": None,
        "sha256": None,
        "size": None,
        "input_path": None,
        "parent_num": None,
        "locator": None,
        "tool_version": __version__,
        "once_key": None,
    }
    row.update(values)
    row["detail"] = json.dumps(values.get("detail") or {}, sort_keys=True, ensure_ascii=False)
    return row


def append_events(catalog: Catalog, events: list[dict[str, Any]]) -> None:
    if events:
        with catalog.engine.begin() as conn:
            conn.execute(ev.insert(), events)


def custody_log(
    catalog: Catalog, item_num: int | None = None, limit: int | None = None
) -> list[dict[str, Any]]:
    """Events in the order they were appended (all, or those about one item)."""
    query = select(ev).order_by(ev.c.id)
    if item_num is not None:
        query = query.where(ev.c.item_num == item_num)
    if limit is not None:
        query = query.limit(limit)
    with catalog.engine.connect() as conn:
        rows = [dict(row) for row in conn.execute(query).mappings()]
    for row in rows:
        row["detail"] = json.loads(row["detail"] or "{}")
    return rows


# -- re-hashing the blobs -------------------------------------------------------------------
@dataclass
class BlobProblem:
    item: int
    sha256: str
    blob: str  # the blob's path in the store
    problem: str  # changed | missing
    found_sha256: str | None = None
    found_size: int | None = None
    locations: list[str] = field(default_factory=list)  # where the item came from

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class BlobReport:
    checked: int = 0
    bytes: int = 0
    problems: list[BlobProblem] = field(default_factory=list)

    @property
    def changed(self) -> list[BlobProblem]:
        return [p for p in self.problems if p.problem == "changed"]

    @property
    def missing(self) -> list[BlobProblem]:
        return [p for p in self.problems if p.problem == "missing"]

    def to_json(self) -> dict[str, Any]:
        return {
            "checked": self.checked,
            "bytes": self.bytes,
            "ok": self.checked - len(self.problems),
            "changed": [p.to_json() for p in self.changed],
            "missing": [p.to_json() for p in self.missing],
        }


def _items(catalog: Catalog) -> Iterator[tuple[int, str, int]]:
    query = select(s.items.c.num, s.items.c.sha256, s.items.c.size).order_by(s.items.c.num)
    with catalog.engine.connect() as conn:
        for row in conn.execution_options(yield_per=10_000).execute(query):
            yield int(row.num), str(row.sha256), int(row.size)


def _hash(path: Path) -> tuple[str, int] | None:
    try:
        return sha256_file(path)
    except FileNotFoundError:
        return None


def verify_blobs(catalog: Catalog, blobs: BlobStore, workers: int | None = None) -> BlobReport:
    """Re-hash every item's blob (streamed, in threads); log and return what differs."""
    report = BlobReport()
    workers = workers or min(8, os.cpu_count() or 1)
    pending: deque[tuple[int, str, int, Future[tuple[str, int] | None]]] = deque()

    def settle(entry: tuple[int, str, int, Future[tuple[str, int] | None]]) -> None:
        num, sha, size, future = entry
        found = future.result()
        report.checked += 1
        path = str(blobs.path(sha))
        if found is None:
            report.problems.append(BlobProblem(num, sha, path, "missing"))
        elif found != (sha, size):
            report.problems.append(BlobProblem(num, sha, path, "changed", found[0], found[1]))
        else:
            report.bytes += size

    with ThreadPoolExecutor(max_workers=workers) as pool:
        for num, sha, size in _items(catalog):
            pending.append((num, sha, size, pool.submit(_hash, blobs.path(sha))))
            if len(pending) >= workers * 8:
                settle(pending.popleft())
        for entry in pending:
            settle(entry)
    _locate(catalog, report.problems)
    _log_verification(catalog, report)
    return report


def _locate(catalog: Catalog, problems: list[BlobProblem]) -> None:
    """Where each damaged item came from: input paths and locators, or parent items."""
    by_item = {p.item: p for p in problems[:MAX_LISTED]}
    numbers = sorted(by_item)
    with catalog.engine.connect() as conn:
        for start in range(0, len(numbers), 500):
            query = (
                select(
                    s.locations.c.item_num,
                    s.locations.c.locator,
                    s.locations.c.parent_num,
                    s.inputs.c.path,
                )
                .select_from(
                    s.locations.outerjoin(s.inputs, s.inputs.c.id == s.locations.c.input_id)
                )
                .where(s.locations.c.item_num.in_(numbers[start : start + 500]))
                .order_by(s.locations.c.id)
            )
            for row in conn.execute(query):
                where = row.path or f"item {row.parent_num}"
                by_item[row.item_num].locations.append(f"{where} [{row.locator}]")


def _log_verification(catalog: Catalog, report: BlobReport) -> None:
    at = now()
    events = [
        make_event(
            f"blob-{p.problem}",
            at=at,
            item_num=p.item,
            sha256=p.sha256,
            detail={"blob": p.blob, "found_sha256": p.found_sha256, "found_size": p.found_size},
        )
        for p in report.problems
    ]
    events.append(
        make_event(
            "verified-blobs",
            at=at,
            detail={
                "checked": report.checked,
                "ok": report.checked - len(report.problems),
                "changed": [p.item for p in report.changed][:MAX_LISTED],
                "missing": [p.item for p in report.missing][:MAX_LISTED],
            },
        )
    )
    append_events(catalog, events)

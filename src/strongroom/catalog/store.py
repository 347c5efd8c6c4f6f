"""The catalog: the record of truth, behind one interface. No SQL outside this package."""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Engine,
    Table,
    and_,
    bindparam,
    delete,
    func,
    inspect,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.exc import SQLAlchemyError

from strongroom import __version__
from strongroom.catalog import migrations
from strongroom.catalog import schema as s
from strongroom.catalog.backend import lock_setup, make_engine, redact
from strongroom.catalog.report import case_report
from strongroom.errors import CaseError
from strongroom.ingest.tasks import FailureResult, ItemResult, Result


def now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _named_shas(results: list[Result]) -> set[str]:
    """Every sha256 a batch refers to: its items and their containers."""
    shas: set[str] = set()
    for result in results:
        if isinstance(result, FailureResult):
            shas.add(result.parent_sha)
        elif isinstance(result, ItemResult):
            shas.add(result.sha)
            if result.parent_sha:
                shas.add(result.parent_sha)
    return shas


def _item_row(item: ItemResult, record: dict[str, Any], at: str) -> dict[str, Any]:
    date = record.get("date") or {}
    from_list = (record.get("addresses") or {}).get("from") or []
    return {
        "sha256": item.sha,
        "size": item.size,
        "kind": item.kind,
        "format": item.format,
        "mime": item.mime,
        "detected_by": item.detected_by,
        "status": item.status,
        "reason": item.reason,
        "name": item.name,
        "subject": record.get("subject"),
        "date_utc": date.get("utc"),
        "date_offset": date.get("offset"),
        "message_id": record.get("message_id"),
        "from_address": from_list[0]["address"].lower() if from_list else None,
        "defect_count": len(item.defects),
        "record": json.dumps(record, ensure_ascii=False, default=str),
        "ingested_at": at,
        "tool_version": __version__,
    }


def _item_facts(item: ItemResult, record: dict[str, Any]) -> list[tuple[str, str]]:
    """The item's searchable facts (author, creator...), and for a document the outcome of
    its text extraction as the fact `extraction` (what `report` counts by)."""
    values = {(field[:32], value[:2000]) for field, value in item.facts if value.strip()}
    outcome = record.get("extraction")
    if not isinstance(outcome, str) and item.format == "document":
        outcome = "failed" if item.status == "ok" else item.status  # the parse never returned
    if isinstance(outcome, str) and item.kind in ("document", "attachment"):
        values.add(("extraction", outcome))
    return sorted(values)


@dataclass(frozen=True)
class _WriteStatements:
    """The ingest write path's statements, built once and executed with parameters."""

    insert_item: Any
    insert_text: Any
    insert_address: Any
    insert_fact: Any
    insert_location: Any
    insert_failure: Any
    num_of_sha: Any
    insert_input: Any
    restart_input: Any
    finish_input: Any


class Catalog:
    def __init__(self, url: str) -> None:
        self.url = url  # sqlite:///FILE or postgresql+psycopg://...
        self.engine: Engine = make_engine(url)

    @property
    def name(self) -> str:
        """The catalog's URL without a password, for messages."""
        return redact(self.url)

    # -- set-up ---------------------------------------------------------------------------
    def create(self) -> None:
        """Make missing tables (so an older catalog gains a newer strongroom's tables) and, for
        a new catalog, its meta rows and schema stamp. Idempotent; on PostgreSQL, processes
        opening one catalog at once take turns."""
        with self.engine.begin() as conn:
            lock_setup(conn)
            s.metadata.create_all(conn)
            query = select(s.meta.c.value).where(s.meta.c.key == "schema")
            fresh = conn.execute(query).first() is None
            if fresh:
                conn.execute(s.meta.insert().values(key="schema", value=str(s.SCHEMA_VERSION)))
                conn.execute(s.meta.insert().values(key="created_at", value=now()))
            if migrations.revision(conn) is None:
                # new: made with the newest tables; older than revisions: the baseline's tables
                migrations.stamp(conn, migrations.HEAD if fresh else migrations.BASELINE)

    def exists(self) -> bool:
        """Whether the database holds a strongroom catalog (it may still need migrating)."""
        try:
            with self.engine.connect() as conn:
                if not inspect(conn).has_table(s.meta.name):
                    return False
                query = select(s.meta.c.value).where(s.meta.c.key == "schema")
                return conn.execute(query).first() is not None
        except SQLAlchemyError as error:
            raise CaseError(f"cannot reach the catalog at {self.name}: {error}") from error

    def check(self, migrate_hint: str = "strongroom migrate") -> None:
        """Refuse a database that is not a catalog, or whose schema is older (`migrate_hint`
        says how to migrate it) or newer than this strongroom's."""
        try:
            with self.engine.connect() as conn:
                row = None
                if inspect(conn).has_table(s.meta.name):
                    query = select(s.meta.c.value).where(s.meta.c.key == "schema")
                    row = conn.execute(query).first()
                current = migrations.revision(conn)
        except SQLAlchemyError as error:  # any driver error here means: not a readable catalog
            raise CaseError(f"cannot read the catalog at {self.name}: {error}") from error
        if row is None:
            raise CaseError(f"{self.name} is not a strongroom catalog")
        if int(row[0]) > s.SCHEMA_VERSION:
            raise CaseError(
                f"the catalog has schema {row[0]}, newer than this strongroom ({s.SCHEMA_VERSION})",
                hint="upgrade strongroom",
            )
        try:
            todo = migrations.pending(current)
        except LookupError:
            raise CaseError(
                f"the catalog's schema revision {current} is newer than this strongroom's "
                f"({migrations.HEAD})",
                hint="upgrade strongroom",
            ) from None
        if todo:
            raise CaseError(
                f"the catalog's schema is at revision {current or migrations.BASELINE} and "
                f"needs migrating to {migrations.HEAD}",
                hint=f"back it up, then run: {migrate_hint}",
            )

    def meta(self) -> dict[str, str]:
        with self.engine.connect() as conn:
            return {row.key: row.value for row in conn.execute(select(s.meta))}

    def set_meta(self, values: dict[str, str]) -> None:
        with self.engine.begin() as conn:
            conn.execute(delete(s.meta).where(s.meta.c.key.in_(list(values))))
            conn.execute(s.meta.insert(), [{"key": k, "value": v} for k, v in values.items()])

    @functools.cached_property
    def _statements(self) -> _WriteStatements:
        return _WriteStatements(
            insert_item=s.items.insert(),
            insert_text=s.texts.insert(),
            insert_address=s.addresses.insert(),
            insert_fact=s.facts.insert(),
            insert_location=self._insert_ignore(s.locations),
            insert_failure=self._insert_ignore(s.failures),
            num_of_sha=select(s.items.c.num).where(s.items.c.sha256 == bindparam("sha")),
            insert_input=s.inputs.insert(),
            restart_input=update(s.inputs).where(s.inputs.c.id == bindparam("input_id")),
            finish_input=update(s.inputs)
            .where(s.inputs.c.id == bindparam("input_id"))
            .values(
                sha256=bindparam("sha256"),
                status=bindparam("status"),
                reason=bindparam("reason"),
                finished_at=bindparam("at"),
            ),
        )

    def _insert_ignore(self, table: Table) -> Any:
        dialect = postgresql if self.engine.dialect.name == "postgresql" else sqlite
        return dialect.insert(table).on_conflict_do_nothing()

    # -- inputs -----------------------------------------------------------------------------
    def known_inputs(self) -> dict[str, tuple[int, str, int | None, int | None]]:
        """Every recorded input: path -> (id, status, size, mtime_ns), read once per run so
        that deciding what to skip costs no query per file."""
        with self.engine.connect() as conn:
            return {
                row.path: (int(row.id), row.status, row.size, row.mtime_ns)
                for row in conn.execute(
                    select(
                        s.inputs.c.id,
                        s.inputs.c.path,
                        s.inputs.c.status,
                        s.inputs.c.size,
                        s.inputs.c.mtime_ns,
                    )
                )
            }

    def input_with_sha_done(self, sha: str) -> bool:
        with self.engine.connect() as conn:
            query = select(s.inputs.c.id).where(
                s.inputs.c.sha256 == sha, s.inputs.c.status == "done"
            )
            return conn.execute(query.limit(1)).first() is not None

    def begin_input(self, path: str, size: int, mtime_ns: int, known_id: int | None) -> int:
        """Mark an input `started` (a crash leaves it so); `known_id` if it was seen before."""
        return self.begin_inputs([(path, size, mtime_ns, known_id)])[0]

    def begin_inputs(self, inputs: list[tuple[str, int, int, int | None]]) -> list[int]:
        """`begin_input` of (path, size, mtime_ns, known id) each, in one transaction; their
        ids in the same order."""
        at = now()
        ids: list[int] = []
        if not inputs:
            return ids
        with self.engine.begin() as conn:
            for path, size, mtime_ns, known_id in inputs:
                values = {
                    "size": size,
                    "mtime_ns": mtime_ns,
                    "status": "started",
                    "reason": None,
                    "started_at": at,
                    "finished_at": None,
                }
                if known_id is not None:
                    conn.execute(self._statements.restart_input, {"input_id": known_id, **values})
                    ids.append(known_id)
                    continue
                result = conn.execute(self._statements.insert_input, {"path": path, **values})
                ids.append(int(result.inserted_primary_key[0]))  # type: ignore[index]
        return ids

    def finish_inputs(self, outcomes: Iterable[tuple[int, str | None, str, str | None]]) -> None:
        """(input id, sha256, status, reason) for inputs whose every item is committed."""
        with self.engine.begin() as conn:
            self._finish_inputs(conn, outcomes)

    def _finish_inputs(
        self, conn: Connection, outcomes: Iterable[tuple[int, str | None, str, str | None]]
    ) -> None:
        at = now()
        rows = [
            {"input_id": input_id, "sha256": sha, "status": status, "reason": reason, "at": at}
            for input_id, sha, status, reason in outcomes
        ]
        if rows:
            conn.execute(self._statements.finish_input, rows)

    # -- items ------------------------------------------------------------------------------
    def item_num(self, sha: str, conn: Connection | None = None) -> int | None:
        query, params = self._statements.num_of_sha, {"sha": sha}
        if conn is not None:
            row = conn.execute(query, params).first()
        else:
            with self.engine.connect() as own:
                row = own.execute(query, params).first()
        return None if row is None else int(row[0])

    def write(
        self,
        results: list[Result],
        finished: Iterable[tuple[int, str | None, str, str | None]] = (),
    ) -> None:
        """Record a batch, and the inputs it completes (as `finish_inputs`), in one
        transaction: all of it or, after a crash, none of it.

        Each table gets one many-row statement per batch: the new items first, in the batch's
        order (which fixes their numbers), then their numbers read back in one query, then
        texts, addresses, facts, locations and failures. Statement by statement, this was most
        of an ingest's serial time."""
        with self.engine.begin() as conn:
            nums = self._nums_of(conn, _named_shas(results))
            self._insert_items(conn, results, nums)
            locations: list[dict[str, Any]] = []
            failures: list[dict[str, Any]] = []
            for result in results:
                if isinstance(result, ItemResult):
                    parent = nums.get(result.parent_sha, 0) if result.parent_sha else 0
                    locations.append(
                        {
                            "item_num": nums[result.sha],
                            "input_id": result.input_id,
                            "parent_num": parent,
                            "locator": result.locator,
                            "info": json.dumps(result.info, sort_keys=True, default=str),
                        }
                    )
                    continue
                if not isinstance(result, FailureResult):
                    continue
                container = nums.get(result.parent_sha)
                if container is None:
                    raise RuntimeError(f"failure recorded before its container {result.parent_sha}")
                if result.locator:
                    failures.append(
                        {
                            "parent_num": container,
                            "locator": result.locator,
                            "status": result.status,
                            "reason": result.reason,
                        }
                    )
                else:  # the container as a whole could not be opened
                    conn.execute(
                        update(s.items)
                        .where(s.items.c.num == container)
                        .values(status=result.status, reason=result.reason)
                    )
            for statement, rows in (
                (self._statements.insert_location, locations),
                (self._statements.insert_failure, failures),
            ):
                if rows:
                    conn.execute(statement, rows)
            self._finish_inputs(conn, finished)

    def _nums_of(self, conn: Connection, shas: set[str]) -> dict[str, int]:
        found: dict[str, int] = {}
        ordered = sorted(shas)
        for start in range(0, len(ordered), 500):  # stay under SQLite's bound-parameter limit
            chunk = ordered[start : start + 500]
            query = select(s.items.c.sha256, s.items.c.num).where(s.items.c.sha256.in_(chunk))
            found.update((row.sha256, int(row.num)) for row in conn.execute(query))
        return found

    def _insert_items(self, conn: Connection, results: list[Result], nums: dict[str, int]) -> None:
        """Insert the batch's items not in `nums` (in batch order) and add their numbers."""
        fresh: dict[str, ItemResult] = {}
        for result in results:
            if isinstance(result, ItemResult) and result.sha not in nums:
                fresh.setdefault(result.sha, result)
        if not fresh:
            return
        records = {sha: {**item.record, "defects": item.defects} for sha, item in fresh.items()}
        at = now()
        conn.execute(
            self._statements.insert_item,
            [_item_row(item, records[sha], at) for sha, item in fresh.items()],
        )
        nums.update(self._nums_of(conn, set(fresh)))
        texts: list[dict[str, Any]] = []
        addresses: list[dict[str, Any]] = []
        facts: list[dict[str, Any]] = []
        for sha, item in fresh.items():
            num, record = nums[sha], records[sha]
            if item.text or item.html:
                texts.append({"item_num": num, "body": item.text, "html": item.html})
            addresses.extend(
                {
                    "item_num": num,
                    "role": role,
                    "position": position,
                    "name": entry["name"],
                    "address": entry["address"],
                    "address_key": entry["address"].lower(),
                }
                for role, entries in (record.get("addresses") or {}).items()
                for position, entry in enumerate(entries)
            )
            facts.extend(
                {"item_num": num, "field": f, "value": v} for f, v in _item_facts(item, record)
            )
        for statement, rows in (
            (self._statements.insert_text, texts),
            (self._statements.insert_address, addresses),
            (self._statements.insert_fact, facts),
        ):
            if rows:
                conn.execute(statement, rows)

    # -- reading ----------------------------------------------------------------------------
    def find_item(self, key: str) -> dict[str, Any] | None:
        column = s.items.c.num if key.isdigit() else s.items.c.sha256
        value: int | str = int(key) if key.isdigit() else key.lower()
        with self.engine.connect() as conn:
            row = conn.execute(select(s.items).where(column == value)).mappings().first()
            if row is None:
                return None
            item = dict(row)
            item["record"] = json.loads(item["record"])
            item["locations"] = self._locations(conn, item["num"])
            item["children"] = [
                {
                    "num": r.num,
                    "locator": r.locator,
                    "kind": r.kind,
                    "name": r.name,
                    "status": r.status,
                }
                for r in conn.execute(
                    select(
                        s.items.c.num,
                        s.items.c.kind,
                        s.items.c.name,
                        s.items.c.status,
                        s.locations.c.locator,
                    )
                    .join(s.locations, s.locations.c.item_num == s.items.c.num)
                    .where(s.locations.c.parent_num == item["num"])
                    .order_by(s.items.c.num)
                )
            ]
            item["failures"] = [
                dict(r)
                for r in conn.execute(
                    select(s.failures.c.locator, s.failures.c.status, s.failures.c.reason).where(
                        s.failures.c.parent_num == item["num"]
                    )
                ).mappings()
            ]
            text = conn.execute(select(s.texts).where(s.texts.c.item_num == item["num"])).first()
            item["text"] = text.body if text else ""
            item["html"] = text.html if text else ""
        return item

    def _locations(self, conn: Connection, num: int) -> list[dict[str, Any]]:
        parent = s.items.alias("parent")
        rows = conn.execute(
            select(
                s.locations.c.locator,
                s.locations.c.info,
                s.inputs.c.path,
                parent.c.num.label("parent_num"),
                parent.c.sha256.label("parent_sha"),
            )
            .select_from(
                s.locations.outerjoin(s.inputs, s.inputs.c.id == s.locations.c.input_id).outerjoin(
                    parent, parent.c.num == s.locations.c.parent_num
                )
            )
            .where(s.locations.c.item_num == num)
            .order_by(s.locations.c.id)
        )
        return [
            {
                "path": r.path,
                "parent": r.parent_num,
                "locator": r.locator,
                "info": json.loads(r.info),
            }
            for r in rows
        ]

    def report(self) -> dict[str, Any]:
        """What came in, what failed and why (`strongroom report`)."""
        with self.engine.connect() as conn:
            return case_report(conn)

    def set_facts(self, item_num: int, field: str, values: Iterable[str]) -> None:
        """Replace the item's values of one searchable fact (e.g. flags, dkim, author)."""
        with self.engine.begin() as conn:
            conn.execute(
                delete(s.facts).where(s.facts.c.item_num == item_num, s.facts.c.field == field)
            )
            rows = [{"item_num": item_num, "field": field, "value": v} for v in sorted(set(values))]
            if rows:
                conn.execute(s.facts.insert(), rows)

    def items_with_message_id(self, message_id: str) -> list[int]:
        with self.engine.connect() as conn:
            query = select(s.items.c.num).where(s.items.c.message_id == message_id)
            return [int(row[0]) for row in conn.execute(query)]

    def thread_members(self, num: int) -> list[int]:
        """Every item number in the thread of item `num` ([num] for an item in no thread)."""
        with self.engine.connect() as conn:
            row = conn.execute(
                select(s.threads.c.thread).where(s.threads.c.item_num == num)
            ).first()
            if row is None:
                exists = conn.execute(select(s.items.c.num).where(s.items.c.num == num)).first()
                return [num] if exists else []
            query = (
                select(s.threads.c.item_num)
                .where(s.threads.c.thread == row.thread)
                .order_by(s.threads.c.item_num)
            )
            return [int(r[0]) for r in conn.execute(query)]

    def unfinished_inputs(self) -> int:
        with self.engine.connect() as conn:
            return int(
                conn.execute(
                    select(func.count()).where(and_(s.inputs.c.status == "started"))
                ).scalar_one()
            )

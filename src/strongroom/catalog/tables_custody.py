"""Catalog tables of the custody capability (defined on the one shared MetaData).

`custody_events` is an append-only log: rows are inserted, never updated or deleted. The
database enforces it with triggers (SQLite and PostgreSQL) created with the table, so even SQL
typed by hand cannot rewrite the history; `strongroom.custody.events` only ever inserts.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import BigInteger, Column, Index, Integer, String, Table, Text, event
from sqlalchemy.engine import Connection

from strongroom.catalog.schema import metadata

custody_events = Table(
    "custody_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", String(32), nullable=False),  # when the event was recorded (UTC, ISO 8601)
    # ingested | input-failed | member-failed | verified-blobs | blob-changed | blob-missing
    # | manifest-exported
    Column("event", String(32), nullable=False),
    Column("item_num", Integer),
    Column("sha256", String(64)),
    Column("size", BigInteger),
    Column("input_path", Text),  # the original file, for an item found in an input file
    Column("parent_num", Integer),  # the containing item, for an item found inside another
    Column("locator", Text),
    Column("tool_version", String(32), nullable=False),
    Column("detail", Text, nullable=False, default="{}"),  # JSON
    # Makes recording idempotent: "location:<id>", "input:<id>:<started_at>", "failure:<id>";
    # NULL for events that happen again (verification runs).
    Column("once_key", Text, unique=True),
    sqlite_autoincrement=True,
)
Index("custody_events_item", custody_events.c.item_num)

_SQLITE_GUARDS = tuple(
    f"CREATE TRIGGER IF NOT EXISTS custody_events_no_{action.lower()} BEFORE {action} "
    "ON custody_events BEGIN SELECT RAISE(ABORT, 'custody_events is append-only'); END"
    for action in ("UPDATE", "DELETE")
)
_POSTGRES_GUARDS = (
    (
        "CREATE OR REPLACE FUNCTION custody_events_append_only() RETURNS trigger "
        "LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'custody_events is append-only'; END $$"
    ),
    (
        "CREATE TRIGGER custody_events_no_change BEFORE UPDATE OR DELETE ON custody_events "
        "FOR EACH ROW EXECUTE FUNCTION custody_events_append_only()"
    ),
    (
        "CREATE TRIGGER custody_events_no_truncate BEFORE TRUNCATE ON custody_events "
        "FOR EACH STATEMENT EXECUTE FUNCTION custody_events_append_only()"
    ),
)


def _guard(_table: Any, connection: Connection, **_kw: Any) -> None:
    """Run when the table is created (so also when an older case gains it on open)."""
    dialect = connection.dialect.name
    for statement in _POSTGRES_GUARDS if dialect == "postgresql" else _SQLITE_GUARDS:
        if dialect in ("sqlite", "postgresql"):
            connection.exec_driver_sql(statement)


event.listen(custody_events, "after_create", _guard)

__all__ = ["custody_events", "metadata"]

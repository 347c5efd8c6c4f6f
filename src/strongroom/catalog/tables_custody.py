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


def _guards(table: str, dialect: str) -> tuple[str, ...]:
    """Statements that make `table` refuse UPDATE, DELETE (and on PostgreSQL TRUNCATE)."""
    if dialect == "sqlite":
        return tuple(
            f"CREATE TRIGGER IF NOT EXISTS {table}_no_{action.lower()} BEFORE {action} "
            f"ON {table} BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"
            for action in ("UPDATE", "DELETE")
        )
    if dialect == "postgresql":
        return (
            (
                f"CREATE OR REPLACE FUNCTION {table}_append_only() RETURNS trigger "
                f"LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION '{table} is append-only'; END $$"
            ),
            (
                f"CREATE TRIGGER {table}_no_change BEFORE UPDATE OR DELETE ON {table} "
                f"FOR EACH ROW EXECUTE FUNCTION {table}_append_only()"
            ),
            (
                f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                f"FOR EACH STATEMENT EXECUTE FUNCTION {table}_append_only()"
            ),
        )
    return ()


def append_only(table: Table) -> None:
    """Guard `table` when it is created (so also when an older case gains it on open)."""

    def guard(_table: Any, connection: Connection, **_kw: Any) -> None:
        for statement in _guards(table.name, connection.dialect.name):
            connection.exec_driver_sql(statement)

    event.listen(table, "after_create", guard)


append_only(custody_events)

__all__ = ["custody_events", "metadata"]

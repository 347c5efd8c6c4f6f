"""The audit log: who did what, when (defined on the one shared MetaData).

Append-only like the custody log, and guarded the same way: decisions on personal data, tags,
claims, logins, searches, views, downloads and exports are recorded here and never rewritten.
"""

from __future__ import annotations

from sqlalchemy import Column, Index, Integer, String, Table, Text

from strongroom.catalog.schema import metadata
from strongroom.catalog.tables_custody import append_only

audit_events = Table(
    "audit_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", String(32), nullable=False),  # UTC, ISO 8601
    Column("actor", Text, nullable=False),  # a user name; "anonymous" for the public
    Column("action", String(64), nullable=False),  # e.g. pii.decide, tag.add, login, export
    Column("target", Text),  # what it was done to: an item number, a query, a claim id
    Column("detail", Text, nullable=False, default="{}"),  # JSON
    sqlite_autoincrement=True,
)
Index("audit_events_action", audit_events.c.action)
append_only(audit_events)

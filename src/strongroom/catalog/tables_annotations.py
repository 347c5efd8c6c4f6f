"""Catalog tables of the annotation capability: tags, notes, saved searches and their alerts.

Tags are the record of who tagged what and when; the searchable copy is the `tag` fact (and the
`tagged` / `noted` flags), kept in step by `strongroom.annotate`.
"""

from __future__ import annotations

from sqlalchemy import Column, Index, Integer, String, Table, Text, UniqueConstraint

from strongroom.catalog.schema import metadata

item_tags = Table(
    "item_tags",
    metadata,
    Column("item_num", Integer, nullable=False),
    Column("tag", String(64), nullable=False),  # normalised: lower case, no spaces
    Column("actor", Text, nullable=False),
    Column("at", String(32), nullable=False),  # UTC, ISO 8601
    UniqueConstraint("item_num", "tag", name="item_tags_unique"),
)
Index("item_tags_tag", item_tags.c.tag)

notes = Table(
    "notes",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("item_num", Integer, nullable=False),
    Column("actor", Text, nullable=False),
    Column("at", String(32), nullable=False),
    Column("text", Text, nullable=False),
    sqlite_autoincrement=True,
)
Index("notes_item", notes.c.item_num)

saved_searches = Table(
    "saved_searches",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(64), nullable=False, unique=True),
    Column("query", Text, nullable=False),
    Column("actor", Text, nullable=False),
    Column("created_at", String(32), nullable=False),
    # Items up to this number have been looked at for alerts: only later ones can alert.
    Column("checked_num", Integer, nullable=False, default=0),
    sqlite_autoincrement=True,
)

# A new item that matched a saved search when an ingest added it; `seen_at` is set when a user
# marks the search seen.
search_alerts = Table(
    "search_alerts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("search_id", Integer, nullable=False),
    Column("item_num", Integer, nullable=False),
    Column("at", String(32), nullable=False),
    Column("seen_at", String(32)),
    UniqueConstraint("search_id", "item_num", name="search_alerts_unique"),
    sqlite_autoincrement=True,
)
Index("search_alerts_search", search_alerts.c.search_id)

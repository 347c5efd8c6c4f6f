"""The catalog's tables (SQLAlchemy Core), one schema for SQLite and PostgreSQL.

Identity is the sha256 of an item's bytes; `num` is the short number people read, assigned once
by the database (SQLite AUTOINCREMENT never reuses a number, even after deletes).
Sentinel 0, not NULL, marks "no input" / "no parent" in `locations`, so the uniqueness that
makes reruns idempotent holds on SQLite too (where NULLs never collide).
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

SCHEMA_VERSION = 1

metadata = MetaData()

meta = Table(
    "meta",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

inputs = Table(
    "inputs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("path", Text, nullable=False, unique=True),
    Column("size", BigInteger),
    Column("mtime_ns", BigInteger),
    Column("sha256", String(64)),
    # started -> done; failed when the file itself could not be read (a reason is given)
    Column("status", String(16), nullable=False),
    Column("reason", Text),
    Column("started_at", String(32), nullable=False),
    Column("finished_at", String(32)),
    sqlite_autoincrement=True,
)

items = Table(
    "items",
    metadata,
    Column("num", Integer, primary_key=True, autoincrement=True),
    Column("sha256", String(64), nullable=False, unique=True),
    Column("size", BigInteger, nullable=False),
    Column("kind", String(16), nullable=False),  # email | attachment | document | container
    Column("format", String(16), nullable=False),  # the handler: email, msg, mbox, zip, ...
    Column("mime", String(128), nullable=False),
    Column("detected_by", Text, nullable=False),  # why this format was chosen
    Column("status", String(16), nullable=False),  # ok | failed | unsupported | encrypted | corrupt
    Column("reason", Text),
    Column("name", Text),  # a file name, when one is known
    Column("subject", Text),
    Column("date_utc", String(20)),
    Column("date_offset", String(5)),  # the sender's own UTC offset, e.g. -0400
    Column("message_id", Text),
    Column("from_address", Text),
    Column("defect_count", Integer, nullable=False, default=0),
    Column("record", Text, nullable=False),  # JSON: everything parsed, defects included
    Column("ingested_at", String(32), nullable=False),
    Column("tool_version", String(32), nullable=False),
    sqlite_autoincrement=True,
)
Index("items_message_id", items.c.message_id)
Index("items_kind", items.c.kind)
Index("items_date", items.c.date_utc)

locations = Table(
    "locations",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("item_num", Integer, nullable=False),
    Column("input_id", Integer, nullable=False, default=0),  # the input file, or 0
    Column("parent_num", Integer, nullable=False, default=0),  # the containing item, or 0
    Column("locator", Text, nullable=False),
    Column("info", Text, nullable=False, default="{}"),  # JSON: From_ line, flags, folder...
    UniqueConstraint("item_num", "input_id", "parent_num", "locator", name="locations_unique"),
    sqlite_autoincrement=True,
)
Index("locations_parent", locations.c.parent_num)
Index("locations_input", locations.c.input_id)

# A member a container could not read: its bytes stay inside the container's blob.
failures = Table(
    "failures",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("parent_num", Integer, nullable=False),
    Column("locator", Text, nullable=False),
    Column("status", String(16), nullable=False),
    Column("reason", Text, nullable=False),
    UniqueConstraint("parent_num", "locator", name="failures_unique"),
)

texts = Table(
    "texts",
    metadata,
    Column("item_num", Integer, primary_key=True, autoincrement=False),
    Column("body", Text, nullable=False),
    Column("html", Text, nullable=False),
)

# Searchable facts that analyses attach to items (verification flags, DKIM domains, document
# authors, tags...). The index adds each as a value of the field of the same name.
facts = Table(
    "facts",
    metadata,
    Column("item_num", Integer, nullable=False),
    Column("field", String(32), nullable=False),
    Column("value", Text, nullable=False),
    UniqueConstraint("item_num", "field", "value", name="facts_unique"),
)
Index("facts_item", facts.c.item_num)

# Conversation threads, recomputed from the items after each ingest (analyze/threads.py).
threads = Table(
    "threads",
    metadata,
    Column("item_num", Integer, primary_key=True, autoincrement=False),
    Column("thread", Integer, nullable=False),  # the smallest item number in the thread
    Column("parent", Integer),
    Column("depth", Integer, nullable=False),
    Column("position", Integer, nullable=False),
)
Index("threads_thread", threads.c.thread)

addresses = Table(
    "addresses",
    metadata,
    Column("item_num", Integer, nullable=False),
    Column("role", String(16), nullable=False),  # from, to, cc, bcc, reply-to, sender, ...
    Column("position", Integer, nullable=False),
    Column("name", Text, nullable=False),
    Column("address", Text, nullable=False),  # as written
    Column("address_key", Text, nullable=False),  # lower-cased, for matching
    UniqueConstraint("item_num", "role", "position", name="addresses_unique"),
)
Index("addresses_key", addresses.c.address_key)

"""Catalog tables of people: correspondents' addresses grouped into persons (defined on the one
shared MetaData); their SQL is in `people_store.py`.

- `people_items`: one row per email analysed (the analysis version, its In-Reply-To ids), so
  re-analysis after an ingest reads only new emails' records.
- `people_xnames`: display names an email gives in X-From/X-To/X-cc/X-bcc (mail-system exports,
  Enron's among them) for an address whose own header carries none.
- `people`: every person id ever given out; never deleted, so an id merged into another still
  says where it went (`merged_into`), and never reused.
- `person_addresses`: the current grouping, one row per address.
- `person_links`: why addresses are grouped: each applied rule with its evidence, and suggested
  links (`applied` false) a user may confirm.
- `people_decisions`: users' merges and splits, which override the rules and survive
  re-analysis; undoing one marks it revoked (the audit log keeps the history).
"""

from __future__ import annotations

from sqlalchemy import Boolean, Column, Index, Integer, String, Table, Text

from strongroom.catalog.schema import metadata

people_items = Table(
    "people_items",
    metadata,
    Column("item_num", Integer, primary_key=True, autoincrement=False),
    Column("version", Integer, nullable=False),
    Column("in_reply_to", Text, nullable=False, default="[]"),  # JSON list of ids
)

people_xnames = Table(
    "people_xnames",
    metadata,
    Column("item_num", Integer, nullable=False),
    Column("role", String(16), nullable=False),
    Column("position", Integer, nullable=False),
    Column("name", Text, nullable=False),
)
Index("people_xnames_item", people_xnames.c.item_num)

people = Table(
    "people",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("name", Text, nullable=False),
    Column("address", Text, nullable=False),  # the address used most
    Column("active", Boolean, nullable=False),
    Column("merged_into", Integer),  # for an inactive id: the person that took its addresses
)

person_addresses = Table(
    "person_addresses",
    metadata,
    Column("address_key", Text, primary_key=True),
    Column("person_id", Integer, nullable=False),
    Column("messages", Integer, nullable=False),
    Column("names", Text, nullable=False, default="[]"),  # JSON [[name, count], ...]
)
Index("person_addresses_person", person_addresses.c.person_id)

person_links = Table(
    "person_links",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("person_id", Integer),  # NULL for a suggestion between two people
    Column("a", Text, nullable=False),
    Column("b", Text, nullable=False),
    Column("rule", String(16), nullable=False),  # same-name | reply | user
    Column("applied", Boolean, nullable=False),
    Column("reason", Text, nullable=False),  # plain language
    Column("detail", Text, nullable=False, default="{}"),  # JSON evidence
)
Index("person_links_person", person_links.c.person_id)

people_decisions = Table(
    "people_decisions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", String(32), nullable=False),
    Column("actor", Text, nullable=False),
    Column("action", String(8), nullable=False),  # merge | split
    Column("a", Text, nullable=False),
    Column("b", Text),  # merge only
    Column("note", Text, nullable=False, default=""),
    Column("revoked_at", String(32)),
    Column("revoked_by", Text),
    sqlite_autoincrement=True,
)

"""Catalog tables of the personal-data capability (defined on the one shared MetaData); their
SQL is in `pii_store.py`.

- `pii_findings`: one row per value a detector found: the item, where in it (`body`, `text`
  for an attachment's or document's text, `header:Subject`, `header:Received#2` for the second
  Received header), character offsets in that text, type, score, the value as found, a
  normalised `key` (digits of a number, lower-cased address) and the detector version; and the
  review decision: undecided | accepted | rejected | generalised, by whom and when.
- `pii_items`: one row per scanned item: the detector version it was scanned with (a rerun
  skips items already scanned with the current one) and whether the search index has learnt
  its facts yet (`indexed`; a run killed between the two is repaired by the next).
- `pii_generalised`: values (type, key) redacted everywhere in the case; findings of such a
  value get the status `generalised`, also those found by later scans.
- `pii_words`: the case's word lists (names of private persons, medical or financial terms).
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Float,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from strongroom.catalog.schema import metadata

pii_findings = Table(
    "pii_findings",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("item_num", Integer, nullable=False),
    Column("place", String(160), nullable=False),  # body | text | header:NAME[#k]
    Column("start", Integer, nullable=False),
    Column("end", Integer, nullable=False),
    Column("type", String(40), nullable=False),
    Column("score", Float, nullable=False),
    Column("value", Text, nullable=False),  # exactly as found
    Column("key", Text, nullable=False),  # normalised, for case-wide (generalised) decisions
    Column("detector_version", String(40), nullable=False),
    Column("status", String(16), nullable=False, default="undecided"),
    Column("decided_by", Text),
    Column("decided_at", String(32)),
    UniqueConstraint("item_num", "place", "start", "end", "type", name="pii_findings_unique"),
    sqlite_autoincrement=True,
)
Index("pii_findings_item", pii_findings.c.item_num)
Index("pii_findings_type_status", pii_findings.c.type, pii_findings.c.status)
Index("pii_findings_key", pii_findings.c.type, pii_findings.c.key)

pii_items = Table(
    "pii_items",
    metadata,
    Column("item_num", Integer, primary_key=True, autoincrement=False),
    Column("detector_version", String(40), nullable=False),
    Column("scanned_at", String(32), nullable=False),
    Column("findings", Integer, nullable=False),
    Column("indexed", Boolean, nullable=False, default=False),
)

pii_generalised = Table(
    "pii_generalised",
    metadata,
    Column("type", String(40), primary_key=True),
    Column("key", Text, primary_key=True),
    Column("decided_by", Text, nullable=False),
    Column("decided_at", String(32), nullable=False),
)

pii_words = Table(
    "pii_words",
    metadata,
    Column("list", String(32), nullable=False),
    Column("word", Text, nullable=False),
    Column("added_by", Text, nullable=False),
    Column("added_at", String(32), nullable=False),
    UniqueConstraint("list", "word", name="pii_words_unique"),
)

__all__ = ["metadata", "pii_findings", "pii_generalised", "pii_items", "pii_words"]

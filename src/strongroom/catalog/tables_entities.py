"""Catalog tables and SQL of text analyses: pattern entities and languages.

- `entities`: one row per entity found in an item's text (email addresses, phone numbers,
  URLs, IBANs, money amounts, dates) with its character offsets in the text `texts.body`
  holds, the text as written and a normalised value.
- `text_analyses`: which items were analysed with which version of the analysis, so an
  ingest analyses only new items; the language found is also recorded (and set as the fact
  `lang`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Column, Index, Integer, String, Table, Text, delete, insert, select

from strongroom.catalog import schema as s
from strongroom.catalog.schema import metadata
from strongroom.catalog.store import Catalog

entities = Table(
    "entities",
    metadata,
    Column("item_num", Integer, nullable=False),
    Column("kind", String(16), nullable=False),  # email | phone | url | iban | money | date
    Column("start", Integer, nullable=False),  # character offsets into the item's text
    Column("end", Integer, nullable=False),
    Column("text", Text, nullable=False),  # as written
    Column("value", Text, nullable=False),  # normalised: E.164, ISO date, lower-case address...
)
Index("entities_item", entities.c.item_num)
Index("entities_value", entities.c.kind, entities.c.value)

text_analyses = Table(
    "text_analyses",
    metadata,
    Column("item_num", Integer, primary_key=True, autoincrement=False),
    Column("version", Integer, nullable=False),
    Column("lang", String(8)),  # ISO 639-1, or NULL when too short or undecided
)


def pending(catalog: Catalog, version: int, batch: int = 200) -> list[list[int]]:
    """Items with text not yet analysed with this version, in batches of numbers."""
    with catalog.engine.connect() as conn:
        done = select(text_analyses.c.item_num).where(text_analyses.c.version == version)
        nums = [
            int(row[0])
            for row in conn.execute(
                select(s.texts.c.item_num)
                .where(s.texts.c.item_num.not_in(done))
                .order_by(s.texts.c.item_num)
            )
        ]
    return [nums[i : i + batch] for i in range(0, len(nums), batch)]


def write(
    catalog: Catalog,
    version: int,
    results: Sequence[tuple[int, list[dict[str, Any]], str | None]],
) -> None:
    """(item, entities, language) for a batch, with the `lang` facts, in one
    transaction."""
    if not results:
        return
    nums = [num for num, _, _ in results]
    with catalog.engine.begin() as conn:
        for table in (entities, text_analyses):
            conn.execute(delete(table).where(table.c.item_num.in_(nums)))
        conn.execute(delete(s.facts).where(s.facts.c.item_num.in_(nums), s.facts.c.field == "lang"))
        rows = [{"item_num": num, **e} for num, found, _ in results for e in found]
        if rows:
            conn.execute(insert(entities), rows)
        conn.execute(
            insert(text_analyses),
            [{"item_num": n, "version": version, "lang": lang} for n, _, lang in results],
        )
        facts = [{"item_num": n, "field": "lang", "value": lang} for n, _, lang in results if lang]
        if facts:
            conn.execute(insert(s.facts), facts)


def item_entities(catalog: Catalog, num: int) -> dict[str, Any]:
    with catalog.engine.connect() as conn:
        found = [
            dict(row)
            for row in conn.execute(
                select(
                    entities.c.kind,
                    entities.c.start,
                    entities.c.end,
                    entities.c.text,
                    entities.c.value,
                )
                .where(entities.c.item_num == num)
                .order_by(entities.c.start, entities.c.kind)
            ).mappings()
        ]
        analysis = (
            conn.execute(select(text_analyses).where(text_analyses.c.item_num == num))
            .mappings()
            .first()
        )
    return {
        "analysed": analysis is not None,
        "version": analysis["version"] if analysis else None,
        "lang": analysis["lang"] if analysis else None,
        "entities": found,
    }

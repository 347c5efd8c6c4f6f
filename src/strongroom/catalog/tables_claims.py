"""Catalog tables and SQL of claims: statements users record, each linked to exhibits.

- `claims`: the statement, who recorded it and when.
- `exhibits`: what a claim rests on or runs against: an item, a passage of an item (character
  offsets into the item's text and the text quoted, kept so a later change shows), or a search
  query; `stance` is supports or contradicts. An exhibit withdrawn keeps its row, marked
  `removed_at`, so a report can say what was once cited.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Column, Index, Integer, String, Table, Text, insert, select, update

from strongroom.catalog.schema import metadata
from strongroom.catalog.store import Catalog, now

claims = Table(
    "claims",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("text", Text, nullable=False),
    Column("created_at", String(32), nullable=False),
    Column("created_by", Text, nullable=False),
    sqlite_autoincrement=True,
)

exhibits = Table(
    "exhibits",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("claim_id", Integer, nullable=False),
    Column("kind", String(8), nullable=False),  # item | passage | query
    Column("item_num", Integer),
    Column("start", Integer),
    Column("end", Integer),
    Column("quote", Text),  # the passage's text when it was linked
    Column("query", Text),
    Column("stance", String(12), nullable=False),  # supports | contradicts
    Column("note", Text, nullable=False, default=""),
    Column("created_at", String(32), nullable=False),
    Column("created_by", Text, nullable=False),
    Column("removed_at", String(32)),
    Column("removed_by", Text),
    sqlite_autoincrement=True,
)
Index("exhibits_claim", exhibits.c.claim_id)


def add_claim(catalog: Catalog, text: str, actor: str) -> int:
    with catalog.engine.begin() as conn:
        result = conn.execute(insert(claims).values(text=text, created_at=now(), created_by=actor))
        return int(result.inserted_primary_key[0])  # type: ignore[index]


def add_exhibit(catalog: Catalog, claim_id: int, actor: str, **values: Any) -> int:
    with catalog.engine.begin() as conn:
        result = conn.execute(
            insert(exhibits).values(claim_id=claim_id, created_at=now(), created_by=actor, **values)
        )
        return int(result.inserted_primary_key[0])  # type: ignore[index]


def remove_exhibit(catalog: Catalog, exhibit_id: int, actor: str) -> dict[str, Any] | None:
    with catalog.engine.begin() as conn:
        row = conn.execute(select(exhibits).where(exhibits.c.id == exhibit_id)).mappings().first()
        if row is None or row["removed_at"] is not None:
            return None
        conn.execute(
            update(exhibits)
            .where(exhibits.c.id == exhibit_id)
            .values(removed_at=now(), removed_by=actor)
        )
        return dict(row)


def claim_rows(catalog: Catalog) -> list[dict[str, Any]]:
    with catalog.engine.connect() as conn:
        rows = [dict(r) for r in conn.execute(select(claims).order_by(claims.c.id)).mappings()]
        links = conn.execute(
            select(exhibits.c.claim_id, exhibits.c.stance).where(exhibits.c.removed_at.is_(None))
        ).all()
    for row in rows:
        stances = [stance for claim, stance in links if claim == row["id"]]
        row["supports"] = stances.count("supports")
        row["contradicts"] = stances.count("contradicts")
    return rows


def claim_row(catalog: Catalog, claim_id: int) -> dict[str, Any] | None:
    with catalog.engine.connect() as conn:
        row = conn.execute(select(claims).where(claims.c.id == claim_id)).mappings().first()
        if row is None:
            return None
        out = dict(row)
        out["exhibits"] = [
            dict(r)
            for r in conn.execute(
                select(exhibits).where(exhibits.c.claim_id == claim_id).order_by(exhibits.c.id)
            ).mappings()
        ]
    return out

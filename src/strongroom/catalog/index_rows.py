"""What the search index is built from: items with their text and their attachments' text."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

from sqlalchemy import func, select

from strongroom.catalog import schema as s
from strongroom.catalog.store import Catalog


def max_num(catalog: Catalog) -> int:
    with catalog.engine.connect() as conn:
        return int(conn.execute(select(func.coalesce(func.max(s.items.c.num), 0))).scalar_one())


def iter_index_rows(
    catalog: Catalog, after: int, batch: int = 500, only: list[int] | None = None
) -> Iterator[dict[str, Any]]:
    """Items with num > after (or just those in `only`), in order, each with `text`,
    `attachments` [(name, text)] and `facts` [(field, value)]."""
    while True:
        with catalog.engine.connect() as conn:
            query = (
                select(s.items, s.texts.c.body)
                .outerjoin(s.texts, s.texts.c.item_num == s.items.c.num)
                .where(s.items.c.num > after)
                .order_by(s.items.c.num)
                .limit(batch)
            )
            if only is not None:
                query = query.where(s.items.c.num.in_(only))
            rows = conn.execute(query).mappings().all()
            if not rows:
                return
            nums = [row["num"] for row in rows]
            attachments: dict[int, list[tuple[str, str]]] = defaultdict(list)
            for link in conn.execute(
                select(s.locations.c.parent_num, s.items.c.name, s.texts.c.body)
                .join(s.items, s.items.c.num == s.locations.c.item_num)
                .outerjoin(s.texts, s.texts.c.item_num == s.items.c.num)
                .where(s.locations.c.parent_num.in_(nums), s.items.c.kind == "attachment")
                .order_by(s.items.c.num)
            ):
                attachments[link.parent_num].append((link.name or "", link.body or ""))
            facts: dict[int, list[tuple[str, str]]] = defaultdict(list)
            for fact in conn.execute(
                select(s.facts.c.item_num, s.facts.c.field, s.facts.c.value)
                .where(s.facts.c.item_num.in_(nums))
                .order_by(s.facts.c.item_num, s.facts.c.field, s.facts.c.value)
            ):
                facts[fact.item_num].append((fact.field, fact.value))
        for row in rows:
            item = dict(row)
            item["record"] = json.loads(item["record"])
            item["text"] = item.pop("body") or ""
            item["attachments"] = attachments.get(item["num"], [])
            item["facts"] = facts.get(item["num"], [])
            yield item
        after = nums[-1]


def texts_for(catalog: Catalog, nums: list[int]) -> dict[int, str]:
    with catalog.engine.connect() as conn:
        return {
            row.item_num: row.body
            for row in conn.execute(
                select(s.texts.c.item_num, s.texts.c.body).where(s.texts.c.item_num.in_(nums))
            )
        }


def summaries(catalog: Catalog, nums: list[int]) -> dict[int, dict[str, Any]]:
    """What a result list shows per item: sender, subject, date, name, and where it was found."""
    if not nums:
        return {}
    with catalog.engine.connect() as conn:
        out = {
            row.num: {
                "id": row.num,
                "kind": row.kind,
                "type": row.format,
                "subject": row.subject,
                "date": row.date_utc,
                "date_offset": row.date_offset,
                "name": row.name,
                "from": row.from_address,
                "from_name": None,
                "parent": None,
                "parent_name": None,
                "size": row.size,
            }
            for row in conn.execute(
                select(
                    s.items.c.num,
                    s.items.c.kind,
                    s.items.c.format,
                    s.items.c.subject,
                    s.items.c.date_utc,
                    s.items.c.date_offset,
                    s.items.c.name,
                    s.items.c.from_address,
                    s.items.c.size,
                ).where(s.items.c.num.in_(nums))
            )
        }
        for row in conn.execute(
            select(s.addresses.c.item_num, s.addresses.c.name).where(
                s.addresses.c.item_num.in_(nums),
                s.addresses.c.role == "from",
                s.addresses.c.position == 0,
            )
        ):
            out[row.item_num]["from_name"] = row.name or None
        parent = s.items.alias("parent")
        for link in conn.execute(
            select(s.locations.c.item_num, parent.c.num, parent.c.subject, parent.c.name)
            .join(parent, parent.c.num == s.locations.c.parent_num)
            .where(s.locations.c.item_num.in_(nums))
            .order_by(s.locations.c.id)
        ):
            if out[link.item_num]["parent"] is None:
                out[link.item_num]["parent"] = link.num
                out[link.item_num]["parent_name"] = link.subject or link.name
    return out


def attachment_texts(catalog: Catalog, parent: int) -> list[tuple[int, str, str]]:
    """(num, name, text) of an email's attachments."""
    with catalog.engine.connect() as conn:
        return [
            (row.num, row.name or "", row.body or "")
            for row in conn.execute(
                select(s.items.c.num, s.items.c.name, s.texts.c.body)
                .join(s.locations, s.locations.c.item_num == s.items.c.num)
                .outerjoin(s.texts, s.texts.c.item_num == s.items.c.num)
                .where(s.locations.c.parent_num == parent, s.items.c.kind == "attachment")
                .order_by(s.items.c.num)
            )
        ]


def display_names(catalog: Catalog, addresses: list[str]) -> dict[str, list[str]]:
    """The names each address was written with, most frequent first."""
    if not addresses:
        return {}
    out: dict[str, list[str]] = defaultdict(list)
    with catalog.engine.connect() as conn:
        for row in conn.execute(
            select(s.addresses.c.address_key, s.addresses.c.name, func.count().label("n"))
            .where(s.addresses.c.address_key.in_(addresses), s.addresses.c.name != "")
            .group_by(s.addresses.c.address_key, s.addresses.c.name)
            .order_by(s.addresses.c.address_key, func.count().desc(), s.addresses.c.name)
        ):
            out[row.address_key].append(row.name)
    return dict(out)

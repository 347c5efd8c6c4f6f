"""Threads in the catalog: recomputed from every email's headers, replaced in one transaction."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import delete, select

from strongroom.analyze.threads import ThreadInput, ThreadLink, compute_threads
from strongroom.catalog import schema as s
from strongroom.catalog.store import Catalog


def thread_inputs(catalog: Catalog) -> list[ThreadInput]:
    parent = s.items.alias("parent")
    with catalog.engine.connect() as conn:
        carriers: dict[int, int] = {}
        for row in conn.execute(
            select(s.locations.c.item_num, s.locations.c.parent_num)
            .join(parent, parent.c.num == s.locations.c.parent_num)
            .join(s.items, s.items.c.num == s.locations.c.item_num)
            .where(s.items.c.kind == "email", parent.c.kind == "email")
            .order_by(s.locations.c.id)
        ):
            carriers.setdefault(row.item_num, row.parent_num)
        inputs = []
        for item in conn.execute(
            select(
                s.items.c.num,
                s.items.c.message_id,
                s.items.c.subject,
                s.items.c.date_utc,
                s.items.c.record,
            )
            .where(s.items.c.kind == "email")
            .order_by(s.items.c.num)
        ):
            record: dict[str, Any] = json.loads(item.record)
            inputs.append(
                ThreadInput(
                    num=item.num,
                    message_id=item.message_id,
                    in_reply_to=tuple(record.get("in_reply_to") or ()),
                    references=tuple(record.get("references") or ()),
                    subject=item.subject,
                    date_utc=item.date_utc,
                    attached_to=carriers.get(item.num),
                )
            )
    return inputs


def rethread(catalog: Catalog) -> int:
    """Recompute every thread; returns the number of threads."""
    links = compute_threads(thread_inputs(catalog))
    with catalog.engine.begin() as conn:
        conn.execute(delete(s.threads))
        if links:
            conn.execute(
                s.threads.insert(),
                [
                    {
                        "item_num": link.num,
                        "thread": link.thread,
                        "parent": link.parent,
                        "depth": link.depth,
                        "position": link.position,
                    }
                    for link in links
                ],
            )
    return len({link.thread for link in links})


def thread_of(catalog: Catalog, num: int) -> list[ThreadLink]:
    """The whole thread an item belongs to, in reading order ([] if it is in none)."""
    with catalog.engine.connect() as conn:
        row = conn.execute(select(s.threads.c.thread).where(s.threads.c.item_num == num)).first()
        if row is None:
            return []
        return [
            ThreadLink(r.item_num, r.thread, r.parent, r.depth, r.position)
            for r in conn.execute(
                select(s.threads)
                .where(s.threads.c.thread == row.thread)
                .order_by(s.threads.c.position)
            )
        ]

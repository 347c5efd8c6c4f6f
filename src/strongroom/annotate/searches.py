"""Saved searches and their alerts: after each ingest, the new items matching each saved search
are recorded as alerts until someone marks the search seen."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, insert, select, update

from strongroom.annotate.hits import matching_nums
from strongroom.catalog import audit
from strongroom.catalog import schema as s
from strongroom.catalog.index_rows import max_num
from strongroom.catalog.store import now
from strongroom.catalog.tables_annotations import saved_searches, search_alerts
from strongroom.errors import NotFound, UsageError
from strongroom.query.parser import parse

if TYPE_CHECKING:
    from strongroom.case import Case

_NAME = re.compile(r"^\w[\w .-]{0,63}$")


def _search_id(case: Case, name: str) -> int:
    with case.catalog.engine.connect() as conn:
        row = conn.execute(select(saved_searches.c.id).where(saved_searches.c.name == name)).first()
    if row is None:
        raise NotFound(f"no saved search named {name!r}", hint="see: strongroom searches list")
    return int(row[0])


def save_search(case: Case, name: str, query: str, actor: str) -> dict[str, Any]:
    """Save (or change) a named search. Only items added after this moment can alert."""
    name = name.strip()
    if not _NAME.match(name):
        raise UsageError(
            f"{name!r} is not a usable search name",
            hint="up to 64 letters, digits, spaces, '.', '_' or '-'",
        )
    parse(query)  # a malformed query is refused now, not at the next ingest
    case.count(query)  # and so is one the compiler rejects (unknown is: flag, bad date...)
    mark = max_num(case.catalog)
    stamp = now()
    with case.catalog.engine.begin() as conn:
        row = conn.execute(select(saved_searches.c.id).where(saved_searches.c.name == name)).first()
        if row is None:
            conn.execute(
                insert(saved_searches).values(
                    name=name, query=query, actor=actor, created_at=stamp, checked_num=mark
                )
            )
        else:
            conn.execute(
                update(saved_searches)
                .where(saved_searches.c.id == row[0])
                .values(query=query, checked_num=mark)
            )
    audit.record(case.catalog, actor, "search.save", name, {"query": query})
    return {"name": name, "query": query, "checked_num": mark}


def list_searches(case: Case) -> list[dict[str, Any]]:
    """Every saved search with its number of unseen alerts."""
    unseen = (
        select(search_alerts.c.search_id, func.count().label("n"))
        .where(search_alerts.c.seen_at.is_(None))
        .group_by(search_alerts.c.search_id)
        .subquery()
    )
    with case.catalog.engine.connect() as conn:
        rows = conn.execute(
            select(saved_searches, func.coalesce(unseen.c.n, 0).label("unseen"))
            .outerjoin(unseen, unseen.c.search_id == saved_searches.c.id)
            .order_by(saved_searches.c.name)
        ).mappings()
        return [
            {
                "name": r["name"],
                "query": r["query"],
                "by": r["actor"],
                "created_at": r["created_at"],
                "checked_num": r["checked_num"],
                "unseen": int(r["unseen"]),
            }
            for r in rows
        ]


def record_alerts(case: Case) -> int:
    """Record, for every saved search, the items added since it was last checked that match it.

    Called at the end of each ingest; idempotent. A saved query that no longer parses (the
    language changed) is skipped, not fatal to the ingest. Returns how many alerts were added."""
    top = max_num(case.catalog)
    added = 0
    with case.catalog.engine.connect() as conn:
        searches = (
            conn.execute(select(saved_searches).where(saved_searches.c.checked_num < top))
            .mappings()
            .all()
        )
    for search in searches:
        try:
            nums = matching_nums(case, search["query"], after=search["checked_num"])
        except UsageError:
            continue
        nums = [n for n in nums if n <= top]
        stamp = now()
        with case.catalog.engine.begin() as conn:
            if nums:
                conn.execute(
                    insert(search_alerts),
                    [{"search_id": search["id"], "item_num": n, "at": stamp} for n in nums],
                )
            conn.execute(
                update(saved_searches)
                .where(saved_searches.c.id == search["id"])
                .values(checked_num=top)
            )
        added += len(nums)
    return added


def alerts(case: Case, name: str | None = None) -> list[dict[str, Any]]:
    """Unseen alerts (of one saved search, or of all), oldest first, with item summaries."""
    query = (
        select(
            search_alerts.c.item_num,
            search_alerts.c.at,
            saved_searches.c.name,
            saved_searches.c.query,
            s.items.c.kind,
            s.items.c.subject,
            s.items.c.name.label("item_name"),
            s.items.c.date_utc,
            s.items.c.from_address,
        )
        .join(saved_searches, saved_searches.c.id == search_alerts.c.search_id)
        .join(s.items, s.items.c.num == search_alerts.c.item_num)
        .where(search_alerts.c.seen_at.is_(None))
        .order_by(saved_searches.c.name, search_alerts.c.item_num)
    )
    if name is not None:
        query = query.where(saved_searches.c.id == _search_id(case, name))
    with case.catalog.engine.connect() as conn:
        return [
            {
                "search": r.name,
                "query": r.query,
                "id": r.item_num,
                "kind": r.kind,
                "date": r.date_utc,
                "from": r.from_address,
                "title": r.subject or r.item_name,
                "alerted_at": r.at,
            }
            for r in conn.execute(query)
        ]


def mark_seen(case: Case, name: str, actor: str) -> int:
    """Mark a saved search's alerts seen; returns how many were unseen."""
    search_id = _search_id(case, name)
    with case.catalog.engine.begin() as conn:
        result = conn.execute(
            update(search_alerts)
            .where(search_alerts.c.search_id == search_id, search_alerts.c.seen_at.is_(None))
            .values(seen_at=now())
        )
        count = int(result.rowcount or 0)
    audit.record(case.catalog, actor, "search.seen", name, {"alerts": count})
    return count


def delete_search(case: Case, name: str, actor: str) -> None:
    search_id = _search_id(case, name)
    with case.catalog.engine.begin() as conn:
        conn.execute(search_alerts.delete().where(search_alerts.c.search_id == search_id))
        conn.execute(saved_searches.delete().where(saved_searches.c.id == search_id))
    audit.record(case.catalog, actor, "search.delete", name)

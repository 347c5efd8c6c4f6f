"""Tags and notes on items. Each change is audit-logged and re-indexes the items it touched,
so `tag:NAME`, `is:tagged` and `is:noted` find them at once."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, delete, func, insert, select
from sqlalchemy.engine import Connection

from strongroom.catalog import audit
from strongroom.catalog import schema as s
from strongroom.catalog.store import now
from strongroom.catalog.tables_annotations import item_tags, notes
from strongroom.errors import NotFound, UsageError

if TYPE_CHECKING:
    from strongroom.case import Case

# A tag is one word of the query language (`tag:NAME`): letters, digits, `.`, `_`, `-`.
_TAG = re.compile(r"^\w[\w.-]{0,63}$")
NOTE_MAX = 20_000


def normalise_tag(name: str) -> str:
    tag = name.strip().lower()
    if not _TAG.match(tag):
        raise UsageError(
            f"{name!r} is not a usable tag",
            hint="a tag is up to 64 letters, digits, '.', '_' or '-', starting with a letter "
            "or digit (it is searched as tag:NAME)",
        )
    return tag


def _existing(conn: Connection, nums: Iterable[int]) -> list[int]:
    wanted = sorted(set(nums))
    found = {
        int(row[0]) for row in conn.execute(select(s.items.c.num).where(s.items.c.num.in_(wanted)))
    }
    missing = [n for n in wanted if n not in found]
    if missing:
        raise NotFound(f"no item {', '.join(str(n) for n in missing[:20])} in this case")
    return wanted


def _sync_facts(conn: Connection, nums: list[int]) -> None:
    """The searchable copy: `tag` facts and the `tagged` / `noted` flags, from the tables."""
    conn.execute(
        delete(s.facts).where(
            s.facts.c.item_num.in_(nums),
            (s.facts.c.field == "tag")
            | and_(s.facts.c.field == "flags", s.facts.c.value.in_(("tagged", "noted"))),
        )
    )
    rows: list[dict[str, Any]] = []
    tagged: set[int] = set()
    for row in conn.execute(
        select(item_tags.c.item_num, item_tags.c.tag).where(item_tags.c.item_num.in_(nums))
    ):
        rows.append({"item_num": row.item_num, "field": "tag", "value": row.tag})
        tagged.add(row.item_num)
    noted = {
        int(row[0])
        for row in conn.execute(
            select(notes.c.item_num).where(notes.c.item_num.in_(nums)).distinct()
        )
    }
    rows += [{"item_num": n, "field": "flags", "value": "tagged"} for n in sorted(tagged)]
    rows += [{"item_num": n, "field": "flags", "value": "noted"} for n in sorted(noted)]
    if rows:
        conn.execute(insert(s.facts), rows)


def add_tags(case: Case, tag: str, nums: Iterable[int], actor: str) -> list[int]:
    """Tag items; returns the numbers that did not have the tag before."""
    tag = normalise_tag(tag)
    with case.catalog.engine.begin() as conn:
        wanted = _existing(conn, nums)
        have = {
            int(row[0])
            for row in conn.execute(
                select(item_tags.c.item_num).where(
                    item_tags.c.tag == tag, item_tags.c.item_num.in_(wanted)
                )
            )
        }
        added = [n for n in wanted if n not in have]
        if added:
            stamp = now()
            conn.execute(
                insert(item_tags),
                [{"item_num": n, "tag": tag, "actor": actor, "at": stamp} for n in added],
            )
            _sync_facts(conn, added)
    if added:
        audit.record(case.catalog, actor, "tag.add", tag, {"items": added})
        case.index.refresh(case.catalog, added)
    return added


def remove_tags(case: Case, tag: str, nums: Iterable[int], actor: str) -> list[int]:
    """Untag items; returns the numbers that had the tag."""
    tag = normalise_tag(tag)
    wanted = sorted(set(nums))
    with case.catalog.engine.begin() as conn:
        had = [
            int(row[0])
            for row in conn.execute(
                select(item_tags.c.item_num).where(
                    item_tags.c.tag == tag, item_tags.c.item_num.in_(wanted)
                )
            )
        ]
        if had:
            conn.execute(
                delete(item_tags).where(item_tags.c.tag == tag, item_tags.c.item_num.in_(had))
            )
            _sync_facts(conn, had)
    if had:
        audit.record(case.catalog, actor, "tag.remove", tag, {"items": sorted(had)})
        case.index.refresh(case.catalog, had)
    return sorted(had)


def tag_counts(case: Case) -> list[dict[str, Any]]:
    """Every tag with how many items carry it."""
    with case.catalog.engine.connect() as conn:
        rows = conn.execute(
            select(item_tags.c.tag, func.count())
            .group_by(item_tags.c.tag)
            .order_by(item_tags.c.tag)
        ).all()
    return [{"tag": tag, "items": int(count)} for tag, count in rows]


def tagged_items(case: Case, tag: str) -> list[dict[str, Any]]:
    """The items carrying a tag: number, who tagged it and when, subject or name."""
    tag = normalise_tag(tag)
    with case.catalog.engine.connect() as conn:
        rows = conn.execute(
            select(item_tags, s.items.c.subject, s.items.c.name, s.items.c.kind)
            .join(s.items, s.items.c.num == item_tags.c.item_num)
            .where(item_tags.c.tag == tag)
            .order_by(item_tags.c.item_num)
        ).mappings()
        return [
            {
                "id": row["item_num"],
                "kind": row["kind"],
                "title": row["subject"] or row["name"],
                "by": row["actor"],
                "at": row["at"],
            }
            for row in rows
        ]


def item_tags_of(case: Case, num: int) -> list[dict[str, Any]]:
    with case.catalog.engine.connect() as conn:
        rows = conn.execute(
            select(item_tags.c.tag, item_tags.c.actor, item_tags.c.at)
            .where(item_tags.c.item_num == num)
            .order_by(item_tags.c.tag)
        )
        return [{"tag": r.tag, "by": r.actor, "at": r.at} for r in rows]


def add_note(case: Case, num: int, text: str, actor: str) -> dict[str, Any]:
    text = text.strip()
    if not text:
        raise UsageError("a note needs some text")
    if len(text) > NOTE_MAX:
        raise UsageError(f"a note holds at most {NOTE_MAX} characters, not {len(text)}")
    stamp = now()
    with case.catalog.engine.begin() as conn:
        _existing(conn, [num])
        result = conn.execute(insert(notes).values(item_num=num, actor=actor, at=stamp, text=text))
        _sync_facts(conn, [num])
        key = result.inserted_primary_key
        assert key is not None  # an insert of one row always has its key
        note_id = int(key[0])
    audit.record(case.catalog, actor, "note.add", str(num), {"note": note_id})
    case.index.refresh(case.catalog, [num])
    return {"id": note_id, "item": num, "by": actor, "at": stamp, "text": text}


def notes_of(case: Case, num: int) -> list[dict[str, Any]]:
    with case.catalog.engine.connect() as conn:
        rows = conn.execute(
            select(notes).where(notes.c.item_num == num).order_by(notes.c.id)
        ).mappings()
        return [
            {
                "id": r["id"],
                "item": r["item_num"],
                "by": r["actor"],
                "at": r["at"],
                "text": r["text"],
            }
            for r in rows
        ]

"""The personal-data capability's SQL: scans, review decisions, word lists. No SQL outside
catalog/.

Findings of one batch of items, their decisions carried over from an earlier scan, and the
searchable facts they imply are written in one transaction.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import and_, delete, func, insert, or_, select, tuple_, update
from sqlalchemy.engine import Connection

from strongroom.catalog import schema as s
from strongroom.catalog.store import Catalog, now
from strongroom.catalog.tables_pii import pii_findings, pii_generalised, pii_items, pii_words
from strongroom.pii.detect import ROUTINE_TYPES

STATUSES = ("undecided", "accepted", "rejected", "generalised")
OWNED_FLAGS = ("pii", "redacted")
REDACTING = ("accepted", "generalised")
MAX_IN = 5000  # item numbers bound into one IN list; more are filtered after the query

FindingRow = dict[str, Any]


# -- scanning -------------------------------------------------------------------------------------
def pending_items(catalog: Catalog, version: str, after: int, limit: int) -> list[dict[str, Any]]:
    """Items past `after` not scanned with detector `version`: num, kind, record JSON, text."""
    query = (
        select(s.items.c.num, s.items.c.kind, s.items.c.record, s.texts.c.body)
        .outerjoin(s.texts, s.texts.c.item_num == s.items.c.num)
        .outerjoin(pii_items, pii_items.c.item_num == s.items.c.num)
        .where(
            s.items.c.num > after,
            s.items.c.kind != "container",
            or_(pii_items.c.item_num.is_(None), pii_items.c.detector_version != version),
        )
        .order_by(s.items.c.num)
        .limit(limit)
    )
    with catalog.engine.connect() as conn:
        return [dict(row) for row in conn.execute(query).mappings()]


def count_pending(catalog: Catalog, version: str) -> int:
    query = (
        select(func.count())
        .select_from(s.items.outerjoin(pii_items, pii_items.c.item_num == s.items.c.num))
        .where(
            s.items.c.kind != "container",
            or_(pii_items.c.item_num.is_(None), pii_items.c.detector_version != version),
        )
    )
    with catalog.engine.connect() as conn:
        return int(conn.execute(query).scalar_one())


def write_scan(
    catalog: Catalog, version: str, found: Sequence[tuple[int, list[FindingRow]]]
) -> list[int]:
    """Replace the findings of each scanned item. A finding seen before (same place, offsets,
    type and value) keeps its id and its decision; a value generalised case-wide is generalised
    here too. Returns the items whose searchable facts may have changed."""
    if not found:
        return []
    nums = [num for num, _ in found]
    stamp = now()
    with catalog.engine.begin() as conn:
        earlier = {
            (r.item_num, r.place, r.start, r.end, r.type, r.value): r
            for r in conn.execute(select(pii_findings).where(pii_findings.c.item_num.in_(nums)))
        }
        rows: list[FindingRow] = []
        for num, findings in found:
            for f in findings:
                row = {**f, "item_num": num, "detector_version": version, "status": "undecided"}
                before = earlier.get((num, f["place"], f["start"], f["end"], f["type"], f["value"]))
                if before is not None:  # the same finding keeps its id and its decision
                    row.update(
                        id=before.id,
                        status=before.status,
                        decided_by=before.decided_by,
                        decided_at=before.decided_at,
                    )
                rows.append(row)
        general = _generalised(conn, {(r["type"], r["key"]) for r in rows})
        for row in rows:
            if (row["type"], row["key"]) in general:
                by, at = general[(row["type"], row["key"])]
                row.update(status="generalised", decided_by=by, decided_at=at)
        conn.execute(delete(pii_findings).where(pii_findings.c.item_num.in_(nums)))
        conn.execute(delete(pii_items).where(pii_items.c.item_num.in_(nums)))
        for same_keys in ([r for r in rows if "id" in r], [r for r in rows if "id" not in r]):
            if same_keys:
                conn.execute(insert(pii_findings), [_complete(r) for r in same_keys])
        conn.execute(
            insert(pii_items),
            [
                {
                    "item_num": num,
                    "detector_version": version,
                    "scanned_at": stamp,
                    "findings": len(findings),
                    "indexed": False,
                }
                for num, findings in found
            ],
        )
        return _recompute_facts(conn, nums)


def _complete(row: FindingRow) -> FindingRow:
    row.setdefault("decided_by", None)
    row.setdefault("decided_at", None)
    return row


def _generalised(conn: Connection, keys: set[tuple[str, str]]) -> dict[tuple[str, str], Any]:
    if not keys:
        return {}
    query = select(pii_generalised).where(
        tuple_(pii_generalised.c.type, pii_generalised.c.key).in_(sorted(keys))
    )
    return {(r.type, r.key): (r.decided_by, r.decided_at) for r in conn.execute(query)}


def _chunks(values: Iterable[int], size: int = 500) -> list[list[int]]:
    ordered = sorted(set(values))
    return [ordered[i : i + size] for i in range(0, len(ordered), size)]


def _recompute_facts(conn: Connection, nums: Iterable[int]) -> list[int]:
    """Set `pii:<type>` and the flags `pii`/`redacted` of these items and their parents from the
    findings of each item and its attachments (so `is:pii` finds the email whose attachment
    holds the number). Marks them not yet indexed; returns them."""
    done: set[int] = set()
    for chunk in _chunks(nums):
        done |= set(_recompute_chunk(conn, chunk))
    return sorted(done)


def _recompute_chunk(conn: Connection, nums: list[int]) -> list[int]:
    touched = set(nums)
    parents = conn.execute(
        select(s.locations.c.parent_num).where(
            s.locations.c.item_num.in_(sorted(touched)), s.locations.c.parent_num != 0
        )
    )
    family = touched | {int(r[0]) for r in parents}
    members: dict[int, set[int]] = {num: {num} for num in family}
    for row in conn.execute(
        select(s.locations.c.parent_num, s.locations.c.item_num)
        .join(s.items, s.items.c.num == s.locations.c.item_num)
        .where(s.locations.c.parent_num.in_(sorted(family)), s.items.c.kind == "attachment")
    ):
        members[int(row.parent_num)].add(int(row.item_num))
    everyone = sorted(set().union(*members.values()))
    types: dict[int, set[str]] = defaultdict(set)
    redacted: set[int] = set()
    for finding in conn.execute(
        select(pii_findings.c.item_num, pii_findings.c.type, pii_findings.c.status)
        .where(pii_findings.c.item_num.in_(everyone), pii_findings.c.status != "rejected")
        .distinct()
    ):
        types[int(finding.item_num)].add(finding.type)
        if finding.status in REDACTING:
            redacted.add(int(finding.item_num))
    facts: list[dict[str, Any]] = []
    for num, group in members.items():
        found = set().union(*(types[m] for m in group))
        facts += [{"item_num": num, "field": "pii", "value": t} for t in sorted(found)]
        flags = (["pii"] if found - ROUTINE_TYPES else []) + (
            ["redacted"] if group & redacted else []
        )
        facts += [{"item_num": num, "field": "flags", "value": f} for f in flags]
    ordered = sorted(family)
    conn.execute(
        delete(s.facts).where(
            s.facts.c.item_num.in_(ordered),
            or_(
                s.facts.c.field == "pii",
                and_(s.facts.c.field == "flags", s.facts.c.value.in_(OWNED_FLAGS)),
            ),
        )
    )
    if facts:
        conn.execute(insert(s.facts), facts)
    # items never scanned (a parent whose own scan is still to come) get their row then
    conn.execute(update(pii_items).where(pii_items.c.item_num.in_(ordered)).values(indexed=False))
    return ordered


def attachments_of(catalog: Catalog, nums: Sequence[int]) -> set[int]:
    found: set[int] = set()
    with catalog.engine.connect() as conn:
        for start in range(0, len(nums), 500):
            query = (
                select(s.locations.c.item_num)
                .join(s.items, s.items.c.num == s.locations.c.item_num)
                .where(
                    s.locations.c.parent_num.in_(list(nums[start : start + 500])),
                    s.items.c.kind == "attachment",
                )
            )
            found |= {int(r[0]) for r in conn.execute(query)}
    return found


def unindexed(catalog: Catalog) -> list[int]:
    with catalog.engine.connect() as conn:
        query = select(pii_items.c.item_num).where(pii_items.c.indexed.is_(False))
        return [int(r[0]) for r in conn.execute(query)]


def mark_indexed(catalog: Catalog, nums: Sequence[int]) -> None:
    with catalog.engine.begin() as conn:
        for start in range(0, len(nums), 500):
            chunk = list(nums[start : start + 500])
            conn.execute(
                update(pii_items).where(pii_items.c.item_num.in_(chunk)).values(indexed=True)
            )


def type_counts(catalog: Catalog) -> dict[str, dict[str, int]]:
    """type -> status -> findings, over the whole case."""
    out: dict[str, dict[str, int]] = defaultdict(dict)
    query = select(pii_findings.c.type, pii_findings.c.status, func.count()).group_by(
        pii_findings.c.type, pii_findings.c.status
    )
    with catalog.engine.connect() as conn:
        for kind, status, n in conn.execute(query):
            out[kind][status] = int(n)
    return dict(out)


def scanned_count(catalog: Catalog) -> int:
    with catalog.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(pii_items)).scalar_one())


# -- review ---------------------------------------------------------------------------------------
def select_findings(
    catalog: Catalog,
    *,
    ids: Sequence[int] | None = None,
    types: Sequence[str] | None = None,
    status: str | None = None,
    nums: Sequence[int] | None = None,
    limit: int | None = None,
    offset: int = 0,
) -> list[FindingRow]:
    query = select(pii_findings).order_by(pii_findings.c.item_num, pii_findings.c.id)
    if ids is not None:
        query = query.where(pii_findings.c.id.in_(list(ids)))
    if types:
        query = query.where(pii_findings.c.type.in_(list(types)))
    if status:
        query = query.where(pii_findings.c.status == status)
    if nums is not None and len(nums) <= MAX_IN:
        query = query.where(pii_findings.c.item_num.in_(list(nums)))
    elif nums is not None:  # too many for one IN list: filtered here instead
        wanted = set(nums)
        with catalog.engine.connect() as conn:
            rows = [dict(r) for r in conn.execute(query).mappings() if r.item_num in wanted]
        return rows[offset : None if limit is None else offset + limit]
    if limit is not None:
        query = query.limit(limit).offset(offset)
    with catalog.engine.connect() as conn:
        return [dict(r) for r in conn.execute(query).mappings()]


def count_findings(
    catalog: Catalog,
    *,
    types: Sequence[str] | None = None,
    status: str | None = None,
    nums: Sequence[int] | None = None,
) -> int:
    query = select(func.count()).select_from(pii_findings)
    if types:
        query = query.where(pii_findings.c.type.in_(list(types)))
    if status:
        query = query.where(pii_findings.c.status == status)
    if nums is not None and len(nums) > MAX_IN:
        return len(select_findings(catalog, types=types, status=status, nums=nums))
    if nums is not None:
        query = query.where(pii_findings.c.item_num.in_(list(nums)))
    with catalog.engine.connect() as conn:
        return int(conn.execute(query).scalar_one())


def set_status(catalog: Catalog, ids: Sequence[int], status: str, actor: str) -> list[int]:
    """Decide these findings (accepted or rejected). A finding whose value was generalised
    withdraws that case-wide decision: the value's other findings return to undecided.
    Returns the items whose facts were recomputed."""
    stamp = now()
    with catalog.engine.begin() as conn:
        chosen = [
            row
            for chunk in _chunks(ids)
            for row in conn.execute(
                select(pii_findings.c.type, pii_findings.c.key, pii_findings.c.status).where(
                    pii_findings.c.id.in_(chunk)
                )
            )
        ]
        withdrawn = sorted({(r.type, r.key) for r in chosen if r.status == "generalised"})
        items: set[int] = set()
        for kind, key in withdrawn:  # first all of the value undecided, then these decided
            conn.execute(
                delete(pii_generalised).where(
                    pii_generalised.c.type == kind, pii_generalised.c.key == key
                )
            )
            same = and_(pii_findings.c.type == kind, pii_findings.c.key == key)
            items |= _items_where(conn, same)
            conn.execute(
                update(pii_findings)
                .where(same)
                .values(status="undecided", decided_by=actor, decided_at=stamp)
            )
        for chunk in _chunks(ids):
            items |= _items_where(conn, pii_findings.c.id.in_(chunk))
            conn.execute(
                update(pii_findings)
                .where(pii_findings.c.id.in_(chunk))
                .values(status=status, decided_by=actor, decided_at=stamp)
            )
        return _recompute_facts(conn, items)


def generalise(catalog: Catalog, ids: Sequence[int], actor: str) -> tuple[list[int], int]:
    """Redact the values of these findings everywhere: every finding of the same type and key,
    now and in later scans. Returns (items whose facts were recomputed, findings changed)."""
    stamp = now()
    with catalog.engine.begin() as conn:
        keys = sorted(
            {
                (r.type, r.key)
                for chunk in _chunks(ids)
                for r in conn.execute(
                    select(pii_findings.c.type, pii_findings.c.key).where(
                        pii_findings.c.id.in_(chunk)
                    )
                )
            }
        )
        known = _generalised(conn, set(keys))
        new = [k for k in keys if k not in known]
        if new:
            conn.execute(
                insert(pii_generalised),
                [{"type": t, "key": k, "decided_by": actor, "decided_at": stamp} for t, k in new],
            )
        items: set[int] = set()
        changed = 0
        for kind, key in keys:
            same = and_(pii_findings.c.type == kind, pii_findings.c.key == key)
            items |= _items_where(conn, same)
            result = conn.execute(
                update(pii_findings)
                .where(same)
                .values(status="generalised", decided_by=actor, decided_at=stamp)
            )
            changed += int(result.rowcount or 0)
        return _recompute_facts(conn, items), changed


def _items_where(conn: Connection, condition: Any) -> set[int]:
    query = select(pii_findings.c.item_num).where(condition).distinct()
    return {int(r[0]) for r in conn.execute(query)}


def redacting_findings(catalog: Catalog) -> list[tuple[int, str, str, str, str]]:
    """(item, type, value, key, status) of every accepted or generalised finding."""
    query = select(
        pii_findings.c.item_num,
        pii_findings.c.type,
        pii_findings.c.value,
        pii_findings.c.key,
        pii_findings.c.status,
    ).where(pii_findings.c.status.in_(REDACTING))
    with catalog.engine.connect() as conn:
        return [(int(r[0]), r[1], r[2], r[3], r[4]) for r in conn.execute(query)]


def generalised_keys(catalog: Catalog) -> list[tuple[str, str]]:
    with catalog.engine.connect() as conn:
        return [(r.type, r.key) for r in conn.execute(select(pii_generalised))]


# -- word lists -----------------------------------------------------------------------------------
def add_words(catalog: Catalog, name: str, words: Iterable[str], actor: str) -> int:
    """Add words to list `name`; returns how many were new."""
    stamp = now()
    with catalog.engine.begin() as conn:
        have = {
            r[0] for r in conn.execute(select(pii_words.c.word).where(pii_words.c.list == name))
        }
        new = sorted(set(words) - have)
        if new:
            conn.execute(
                insert(pii_words),
                [{"list": name, "word": w, "added_by": actor, "added_at": stamp} for w in new],
            )
        return len(new)


def word_lists(catalog: Catalog) -> dict[str, list[str]]:
    out: dict[str, list[str]] = defaultdict(list)
    with catalog.engine.connect() as conn:
        query = select(pii_words.c.list, pii_words.c.word).order_by(
            pii_words.c.list, pii_words.c.word
        )
        for name, word in conn.execute(query):
            out[name].append(word)
    return dict(out)

"""The SQL of people: per-email extraction, the grouping and users' decisions, and what the
people pages read. No SQL outside catalog/.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import delete, func, insert, select, true, update

from strongroom.catalog import schema as s
from strongroom.catalog.store import Catalog, now
from strongroom.catalog.tables_people import (
    people,
    people_decisions,
    people_items,
    people_xnames,
    person_addresses,
    person_links,
)

PERSON_FIELDS = ("person", "org")


# -- per-email extraction ------------------------------------------------------------------------
def pending_emails(catalog: Catalog, version: int, batch: int = 500) -> list[list[dict[str, Any]]]:
    """Emails not yet analysed with this version, in batches: num, record (parsed JSON)."""
    with catalog.engine.connect() as conn:
        done = select(people_items.c.item_num).where(people_items.c.version == version)
        nums = [
            int(row[0])
            for row in conn.execute(
                select(s.items.c.num)
                .where(s.items.c.num.in_(select(s.addresses.c.item_num).distinct()))
                .where(s.items.c.num.not_in(done))
                .order_by(s.items.c.num)
            )
        ]
    out = []
    for start in range(0, len(nums), batch):
        chunk = nums[start : start + batch]
        with catalog.engine.connect() as conn:
            rows = conn.execute(
                select(s.items.c.num, s.items.c.record).where(s.items.c.num.in_(chunk))
            ).all()
        out.append([{"num": row.num, "record": json.loads(row.record)} for row in rows])
    return out


def write_extraction(
    catalog: Catalog,
    version: int,
    rows: Sequence[tuple[int, list[str], list[tuple[str, int, str]]]],
) -> None:
    """(item, in-reply-to ids, [(role, position, name)]) for a batch, in one transaction."""
    if not rows:
        return
    nums = [num for num, _, _ in rows]
    with catalog.engine.begin() as conn:
        conn.execute(delete(people_items).where(people_items.c.item_num.in_(nums)))
        conn.execute(delete(people_xnames).where(people_xnames.c.item_num.in_(nums)))
        conn.execute(
            insert(people_items),
            [{"item_num": n, "version": version, "in_reply_to": json.dumps(r)} for n, r, _ in rows],
        )
        names = [
            {"item_num": n, "role": role, "position": pos, "name": name}
            for n, _, found in rows
            for role, pos, name in found
        ]
        if names:
            conn.execute(insert(people_xnames), names)


# -- what the grouping reads ---------------------------------------------------------------------
def address_rows(catalog: Catalog) -> list[tuple[int, str, str, str]]:
    """Every (item, role, address_key, name) with names from X- headers filled in."""
    with catalog.engine.connect() as conn:
        xnames = {
            (row.item_num, row.role, row.position): row.name
            for row in conn.execute(select(people_xnames))
        }
        return [
            (
                row.item_num,
                row.role,
                row.address_key,
                row.name or xnames.get((row.item_num, row.role, row.position), ""),
            )
            for row in conn.execute(
                select(
                    s.addresses.c.item_num,
                    s.addresses.c.role,
                    s.addresses.c.position,
                    s.addresses.c.name,
                    s.addresses.c.address_key,
                ).order_by(s.addresses.c.item_num, s.addresses.c.role, s.addresses.c.position)
            )
            if row.address_key
        ]


def replies(catalog: Catalog) -> list[tuple[int, int]]:
    """(reply, replied-to) item pairs by In-Reply-To ids present in the case."""
    with catalog.engine.connect() as conn:
        by_id: dict[str, int] = {}
        for num, message_id in conn.execute(
            select(s.items.c.num, s.items.c.message_id)
            .where(s.items.c.message_id.is_not(None))
            .order_by(s.items.c.num.desc())
        ):
            by_id[message_id] = num  # the lowest-numbered item with the id wins
        pairs = []
        for num, ids in conn.execute(select(people_items.c.item_num, people_items.c.in_reply_to)):
            for message_id in json.loads(ids):
                if message_id in by_id and by_id[message_id] != num:
                    pairs.append((int(num), by_id[message_id]))
        return sorted(pairs)


def decisions(catalog: Catalog, include_revoked: bool = False) -> list[dict[str, Any]]:
    query = select(people_decisions).order_by(people_decisions.c.id)
    if not include_revoked:
        query = query.where(people_decisions.c.revoked_at.is_(None))
    with catalog.engine.connect() as conn:
        return [dict(row) for row in conn.execute(query).mappings()]


def add_decision(
    catalog: Catalog, actor: str, action: str, a: str, b: str | None, note: str = ""
) -> int:
    with catalog.engine.begin() as conn:
        result = conn.execute(
            insert(people_decisions).values(
                at=now(), actor=actor, action=action, a=a, b=b, note=note
            )
        )
        return int(result.inserted_primary_key[0])  # type: ignore[index]


def revoke_decision(catalog: Catalog, decision: int, actor: str) -> dict[str, Any] | None:
    with catalog.engine.begin() as conn:
        row = (
            conn.execute(select(people_decisions).where(people_decisions.c.id == decision))
            .mappings()
            .first()
        )
        if row is None or row["revoked_at"] is not None:
            return None if row is None else dict(row)
        conn.execute(
            update(people_decisions)
            .where(people_decisions.c.id == decision)
            .values(revoked_at=now(), revoked_by=actor)
        )
        return dict(row)


def previous_grouping(catalog: Catalog) -> tuple[dict[str, int], int]:
    """The current address -> person id, and the highest id ever given out."""
    with catalog.engine.connect() as conn:
        current = {
            row.address_key: int(row.person_id)
            for row in conn.execute(
                select(person_addresses.c.address_key, person_addresses.c.person_id)
            )
        }
        highest = conn.execute(select(func.coalesce(func.max(people.c.id), 0))).scalar_one()
    return current, int(highest)


# -- writing the grouping ------------------------------------------------------------------------
def write_grouping(
    catalog: Catalog,
    persons: Sequence[dict[str, Any]],
    links: Sequence[dict[str, Any]],
    retired: dict[int, int | None],
) -> None:
    """Replace the grouping. `persons`: id, name, address, addresses [{address_key, messages,
    names}]; `retired`: ids no longer in use -> the id that took most of their addresses."""
    with catalog.engine.begin() as conn:
        known = {int(row[0]) for row in conn.execute(select(people.c.id))}
        for person in persons:
            values = {
                "name": person["name"],
                "address": person["address"],
                "active": True,
                "merged_into": None,
            }
            if person["id"] in known:
                conn.execute(update(people).where(people.c.id == person["id"]).values(**values))
            else:
                conn.execute(insert(people).values(id=person["id"], **values))
        for old, into in retired.items():
            conn.execute(
                update(people).where(people.c.id == old).values(active=False, merged_into=into)
            )
        conn.execute(delete(person_addresses))
        rows = [
            {
                "address_key": entry["address_key"],
                "person_id": person["id"],
                "messages": entry["messages"],
                "names": json.dumps(entry["names"], ensure_ascii=False),
            }
            for person in persons
            for entry in person["addresses"]
        ]
        for start in range(0, len(rows), 5000):
            conn.execute(insert(person_addresses), rows[start : start + 5000])
        conn.execute(delete(person_links))
        if links:
            conn.execute(
                insert(person_links),
                [
                    {**link, "detail": json.dumps(link["detail"], ensure_ascii=False)}
                    for link in links
                ],
            )


def write_item_facts(catalog: Catalog, wanted: dict[int, set[tuple[str, str]]]) -> list[int]:
    """Make each item's `person` and `org` facts exactly `wanted` (items absent from `wanted`
    lose theirs); returns the items whose facts changed."""
    with catalog.engine.begin() as conn:
        before: dict[int, set[tuple[str, str]]] = {}
        for row in conn.execute(
            select(s.facts.c.item_num, s.facts.c.field, s.facts.c.value).where(
                s.facts.c.field.in_(PERSON_FIELDS)
            )
        ):
            before.setdefault(int(row.item_num), set()).add((row.field, row.value))
        changed = sorted(
            num for num in set(before) | set(wanted) if before.get(num) != wanted.get(num)
        )
        for start in range(0, len(changed), 500):
            chunk = changed[start : start + 500]
            conn.execute(
                delete(s.facts).where(
                    s.facts.c.item_num.in_(chunk), s.facts.c.field.in_(PERSON_FIELDS)
                )
            )
            rows = [
                {"item_num": num, "field": field, "value": value}
                for num in chunk
                for field, value in sorted(wanted.get(num, set()))
            ]
            if rows:
                conn.execute(insert(s.facts), rows)
    return changed


# -- reading -------------------------------------------------------------------------------------
Scope = frozenset[str] | None  # the collections a viewer may read; None: the whole case


def scoped_items(scope: frozenset[str]) -> Any:
    """The numbers of items in these collections (the `collection` facts ingest records)."""
    return select(s.facts.c.item_num).where(
        s.facts.c.field == "collection", s.facts.c.value.in_(sorted(scope))
    )


def visible_addresses(catalog: Catalog, scope: frozenset[str]) -> dict[str, dict[str, Any]]:
    """Each address on an item in scope: on how many such items, and the names written there.
    What a viewer limited to some collections may learn of a person, and nothing more."""
    out: dict[str, dict[str, Any]] = {}
    query = select(s.addresses.c.address_key, s.addresses.c.name, s.addresses.c.item_num).where(
        s.addresses.c.item_num.in_(scoped_items(scope))
    )
    with catalog.engine.connect() as conn:
        for key, name, num in conn.execute(query):
            seen = out.setdefault(key, {"items": set(), "names": {}})
            seen["items"].add(num)
            if name:
                seen["names"][name] = seen["names"].get(name, 0) + 1
    return {
        key: {
            "messages": len(v["items"]),
            "names": sorted(v["names"], key=lambda n: -v["names"][n]),
        }
        for key, v in out.items()
    }


def within_scope(row: dict[str, Any], visible: dict[str, dict[str, Any]]) -> dict[str, Any] | None:
    """A person as a scoped viewer sees them: only their addresses seen in scope, with the
    names and counts from there; None when none of their addresses is."""
    addresses = [
        {"address": a["address"], **visible[a["address"]]}
        for a in row["addresses"]
        if a["address"] in visible
    ]
    if not addresses:
        return None
    names = [n for a in addresses for n in a["names"]]
    name = row["name"] if row["name"] in names else (names[0] if names else addresses[0]["address"])
    address = row["address"] if row["address"] in visible else addresses[0]["address"]
    return {**row, "name": name, "address": address, "addresses": addresses}


def person_rows(catalog: Catalog, scope: Scope = None) -> list[dict[str, Any]]:
    """Active people with their addresses, most mail first (as seen within `scope`)."""
    with catalog.engine.connect() as conn:
        addresses: dict[int, list[dict[str, Any]]] = {}
        for row in conn.execute(
            select(person_addresses).order_by(
                person_addresses.c.messages.desc(), person_addresses.c.address_key
            )
        ).mappings():
            addresses.setdefault(int(row["person_id"]), []).append(
                {
                    "address": row["address_key"],
                    "messages": row["messages"],
                    "names": json.loads(row["names"]),
                }
            )
        rows = conn.execute(select(people).where(people.c.active.is_(True))).mappings().all()
    out = [
        {
            "id": row["id"],
            "name": row["name"],
            "address": row["address"],
            "addresses": addresses.get(row["id"], []),
        }
        for row in rows
    ]
    if scope is not None:
        visible = visible_addresses(catalog, scope)
        out = [seen for row in out if (seen := within_scope(row, visible)) is not None]
    for person in out:
        person["messages"] = person_messages(person["addresses"])
    return sorted(out, key=lambda p: (-p["messages"], p["id"]))


def person_messages(addresses: Iterable[dict[str, Any]]) -> int:
    # an upper bound when two of a person's addresses are on one message; the page counts exactly
    return sum(int(a["messages"]) for a in addresses)


def person_row(catalog: Catalog, person_id: int) -> dict[str, Any] | None:
    with catalog.engine.connect() as conn:
        row = conn.execute(select(people).where(people.c.id == person_id)).mappings().first()
        if row is None:
            return None
        out = dict(row)
        out["addresses"] = [
            {"address": r.address_key, "messages": r.messages, "names": json.loads(r.names)}
            for r in conn.execute(
                select(person_addresses)
                .where(person_addresses.c.person_id == person_id)
                .order_by(person_addresses.c.messages.desc(), person_addresses.c.address_key)
            )
        ]
        out["links"] = [
            {**dict(r), "detail": json.loads(r["detail"])}
            for r in conn.execute(
                select(person_links)
                .where(person_links.c.person_id == person_id)
                .order_by(person_links.c.id)
            ).mappings()
        ]
        keys = [a["address"] for a in out["addresses"]]
        out["suggestions"] = [
            {**dict(r), "detail": json.loads(r["detail"])}
            for r in conn.execute(
                select(person_links)
                .where(person_links.c.applied.is_(False))
                .where(person_links.c.a.in_(keys) | person_links.c.b.in_(keys))
                .order_by(person_links.c.id)
            ).mappings()
        ]
    return out


def person_of_address(catalog: Catalog, address_key: str) -> int | None:
    with catalog.engine.connect() as conn:
        row = conn.execute(
            select(person_addresses.c.person_id).where(
                person_addresses.c.address_key == address_key
            )
        ).first()
    return None if row is None else int(row[0])


def persons_of(catalog: Catalog, keys: Sequence[str]) -> dict[str, int]:
    out: dict[str, int] = {}
    with catalog.engine.connect() as conn:
        for start in range(0, len(keys), 900):
            for row in conn.execute(
                select(person_addresses.c.address_key, person_addresses.c.person_id).where(
                    person_addresses.c.address_key.in_(keys[start : start + 900])
                )
            ):
                out[row.address_key] = int(row.person_id)
    return out


def address_known(catalog: Catalog, address_key: str) -> bool:
    with catalog.engine.connect() as conn:
        query = select(s.addresses.c.item_num).where(s.addresses.c.address_key == address_key)
        return conn.execute(query.limit(1)).first() is not None


def activity(catalog: Catalog, keys: Sequence[str], scope: Scope = None) -> dict[str, Any]:
    """Mail involving these addresses: per month, first and last, and the other addresses on
    it with how often (`sent` : this person wrote, `received` : wrote to this person); only
    mail within `scope` when one is given."""
    in_scope = s.addresses.c.item_num.in_(scoped_items(scope)) if scope is not None else true()
    with catalog.engine.connect() as conn:
        mine = select(s.addresses.c.item_num).where(s.addresses.c.address_key.in_(keys), in_scope)
        month = func.substr(s.items.c.date_utc, 1, 7)
        months = [
            {"month": value, "count": int(count)}
            for value, count in conn.execute(
                select(month, func.count())
                .where(s.items.c.num.in_(mine), s.items.c.date_utc.is_not(None))
                .group_by(month)
                .order_by(month)
            )
        ]
        total = conn.execute(
            select(func.count()).select_from(s.items).where(s.items.c.num.in_(mine))
        ).scalar_one()
        dated = (
            select(s.items.c.num, s.items.c.date_utc, s.items.c.subject)
            .where(s.items.c.num.in_(mine), s.items.c.date_utc.is_not(None))
            .limit(1)
        )
        first = conn.execute(dated.order_by(s.items.c.date_utc, s.items.c.num)).first()
        last = conn.execute(dated.order_by(s.items.c.date_utc.desc(), s.items.c.num.desc())).first()
        sent_items = select(s.addresses.c.item_num).where(
            s.addresses.c.address_key.in_(keys), s.addresses.c.role == "from", in_scope
        )
        sent = {
            key: int(n)
            for key, n in conn.execute(
                select(s.addresses.c.address_key, func.count(func.distinct(s.addresses.c.item_num)))
                .where(
                    s.addresses.c.item_num.in_(sent_items),
                    s.addresses.c.role.in_(("to", "cc", "bcc")),
                    s.addresses.c.address_key.not_in(keys),
                )
                .group_by(s.addresses.c.address_key)
            )
        }
        received_items = select(s.addresses.c.item_num).where(
            s.addresses.c.address_key.in_(keys),
            s.addresses.c.role.in_(("to", "cc", "bcc")),
            in_scope,
        )
        received = {
            key: int(n)
            for key, n in conn.execute(
                select(s.addresses.c.address_key, func.count(func.distinct(s.addresses.c.item_num)))
                .where(
                    s.addresses.c.item_num.in_(received_items),
                    s.addresses.c.role == "from",
                    s.addresses.c.address_key.not_in(keys),
                )
                .group_by(s.addresses.c.address_key)
            )
        }
    return {
        "messages": int(total),
        "months": months,
        "first": None if first is None else {"id": first[0], "date": first[1], "subject": first[2]},
        "last": None if last is None else {"id": last[0], "date": last[1], "subject": last[2]},
        "sent_to": sent,
        "received_from": received,
    }

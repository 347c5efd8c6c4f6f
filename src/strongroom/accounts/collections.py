"""Collections: named parts of a case (an ingest goes into one), public or private, with
per-user grants. An item belongs to every collection whose inputs it was found in, directly or
inside a container or an email; the membership is the searchable fact `collection`."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError

from strongroom.accounts import DEFAULT_COLLECTION
from strongroom.catalog import schema as s
from strongroom.catalog.store import Catalog, now
from strongroom.catalog.tables_accounts import collection_inputs, collections, grants, users
from strongroom.errors import NotFound, UsageError

FIELD = "collection"  # the fact field (strongroom.facts.VALUE_FIELDS)
NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
CHUNK = 500


def _chunks(values: list[int]) -> Iterator[list[int]]:
    for start in range(0, len(values), CHUNK):
        yield values[start : start + CHUNK]


def check_name(name: str) -> str:
    if not NAME.match(name):
        raise UsageError(
            f"{name!r} is not a valid collection name",
            hint="use lower-case letters, digits, '.', '_' and '-' (at most 64)",
        )
    return name


def ensure_collection(catalog: Catalog, name: str) -> None:
    check_name(name)
    with catalog.engine.begin() as conn:
        if not conn.execute(select(collections.c.name).where(collections.c.name == name)).first():
            conn.execute(collections.insert().values(name=name, public=0, created_at=now()))


def _require(catalog: Catalog, name: str) -> None:
    with catalog.engine.connect() as conn:
        if not conn.execute(select(collections.c.name).where(collections.c.name == name)).first():
            raise NotFound(
                f"no collection {name}",
                hint="ingest into it with: strongroom ingest --collection NAME …",
            )


def list_collections(catalog: Catalog) -> list[dict[str, Any]]:
    with catalog.engine.connect() as conn:
        counts: dict[str, int] = dict(
            conn.execute(
                select(s.facts.c.value, func.count())
                .where(s.facts.c.field == FIELD)
                .group_by(s.facts.c.value)
            ).all()
        )
        granted: dict[str, list[str]] = {}
        for row in conn.execute(select(grants).order_by(grants.c.user_name)):
            granted.setdefault(row.collection, []).append(row.user_name)
        rows = conn.execute(select(collections).order_by(collections.c.name)).all()
    return [
        {
            "name": row.name,
            "public": bool(row.public),
            "items": int(counts.get(row.name, 0)),
            "readers": granted.get(row.name, []),
            "created_at": row.created_at,
        }
        for row in rows
    ]


def grant(catalog: Catalog, user: str, collection: str) -> None:
    _require(catalog, collection)
    with catalog.engine.begin() as conn:
        if not conn.execute(select(users.c.name).where(users.c.name == user)).first():
            raise NotFound(f"no user {user}", hint="add one with: strongroom users add")
        exists = conn.execute(
            select(grants.c.user_name).where(
                grants.c.user_name == user, grants.c.collection == collection
            )
        ).first()
        if not exists:
            conn.execute(
                grants.insert().values(user_name=user, collection=collection, granted_at=now())
            )


def revoke(catalog: Catalog, user: str, collection: str) -> None:
    with catalog.engine.begin() as conn:
        result = conn.execute(
            delete(grants).where(grants.c.user_name == user, grants.c.collection == collection)
        )
    if not result.rowcount:
        raise NotFound(f"{user} has no grant on {collection}")


def set_public(catalog: Catalog, collection: str, public: bool) -> None:
    _require(catalog, collection)
    with catalog.engine.begin() as conn:
        conn.execute(
            update(collections)
            .where(collections.c.name == collection)
            .values(public=1 if public else 0)
        )


def public_collections(catalog: Catalog) -> frozenset[str]:
    with catalog.engine.connect() as conn:
        rows = conn.execute(select(collections.c.name).where(collections.c.public == 1))
        return frozenset(row.name for row in rows)


def granted_collections(catalog: Catalog, user: str) -> frozenset[str]:
    with catalog.engine.connect() as conn:
        rows = conn.execute(select(grants.c.collection).where(grants.c.user_name == user))
        return frozenset(row.collection for row in rows)


# -- membership -----------------------------------------------------------------------------
def assign_inputs(catalog: Catalog, collection: str, roots: Iterable[Path]) -> list[int]:
    """Put the inputs at or under `roots` (as an ingest recorded them) and every item found in
    them into `collection`; returns the items that were not in it before."""
    ensure_collection(catalog, collection)
    conditions = []
    for root in roots:
        path = str(root.resolve())
        conditions.append(s.inputs.c.path == path)
        conditions.append(s.inputs.c.path.startswith(path.rstrip("/") + "/", autoescape=True))
    if not conditions:
        return []
    with catalog.engine.begin() as conn:
        input_ids = [int(r.id) for r in conn.execute(select(s.inputs.c.id).where(or_(*conditions)))]
        known = {
            int(r.input_id)
            for r in conn.execute(
                select(collection_inputs.c.input_id).where(
                    collection_inputs.c.collection == collection
                )
            )
        }
        fresh = [i for i in input_ids if i not in known]
        if fresh:
            conn.execute(
                collection_inputs.insert(),
                [{"collection": collection, "input_id": i} for i in fresh],
            )
    return _assign_items(catalog, collection, _reachable(catalog, input_ids))


def _reachable(catalog: Catalog, input_ids: list[int]) -> set[int]:
    """Items found in these inputs, and everything found inside them, at any depth."""
    seen: set[int] = set()
    with catalog.engine.connect() as conn:
        frontier: set[int] = set()
        for chunk in _chunks(input_ids):
            frontier.update(
                int(r.item_num)
                for r in conn.execute(
                    select(s.locations.c.item_num).where(s.locations.c.input_id.in_(chunk))
                )
            )
        while frontier:
            seen |= frontier
            children: set[int] = set()
            for chunk in _chunks(sorted(frontier)):
                children.update(
                    int(r.item_num)
                    for r in conn.execute(
                        select(s.locations.c.item_num).where(s.locations.c.parent_num.in_(chunk))
                    )
                )
            frontier = children - seen
    return seen


def _assign_items(catalog: Catalog, collection: str, nums: set[int]) -> list[int]:
    try:
        return _insert_missing(catalog, collection, nums)
    except IntegrityError:  # another process (a second web worker) assigned some meanwhile
        return _insert_missing(catalog, collection, nums)


def _insert_missing(catalog: Catalog, collection: str, nums: set[int]) -> list[int]:
    with catalog.engine.begin() as conn:
        have: set[int] = set()
        for chunk in _chunks(sorted(nums)):
            have.update(
                int(r.item_num)
                for r in conn.execute(
                    select(s.facts.c.item_num).where(
                        s.facts.c.field == FIELD,
                        s.facts.c.value == collection,
                        s.facts.c.item_num.in_(chunk),
                    )
                )
            )
        added = sorted(nums - have)
        for chunk in _chunks(added):
            conn.execute(
                s.facts.insert(),
                [{"item_num": n, "field": FIELD, "value": collection} for n in chunk],
            )
    return added


def assign_unassigned(catalog: Catalog, collection: str = DEFAULT_COLLECTION) -> list[int]:
    """Put items that belong to no collection (a case from before collections) into one."""
    in_some = select(s.facts.c.item_num).where(s.facts.c.field == FIELD)
    with catalog.engine.connect() as conn:
        rows = conn.execute(select(s.items.c.num).where(~s.items.c.num.in_(in_some)))
        nums = {int(r.num) for r in rows}
    if not nums:
        return []
    ensure_collection(catalog, collection)
    return _assign_items(catalog, collection, nums)


def item_collections(catalog: Catalog, nums: Iterable[int]) -> dict[int, frozenset[str]]:
    """The collections of each item (an item in none is in the result with an empty set)."""
    wanted = sorted(set(nums))
    found: dict[int, set[str]] = {n: set() for n in wanted}
    with catalog.engine.connect() as conn:
        for chunk in _chunks(wanted):
            for row in conn.execute(
                select(s.facts.c.item_num, s.facts.c.value).where(
                    s.facts.c.field == FIELD, s.facts.c.item_num.in_(chunk)
                )
            ):
                found[int(row.item_num)].add(row.value)
    return {n: frozenset(v) for n, v in found.items()}


def input_collections(catalog: Catalog, paths: Iterable[str]) -> dict[str, frozenset[str]]:
    """The collections each recorded input path went into."""
    wanted = sorted(set(paths))
    found: dict[str, set[str]] = {p: set() for p in wanted}
    with catalog.engine.connect() as conn:
        for start in range(0, len(wanted), CHUNK):
            for row in conn.execute(
                select(s.inputs.c.path, collection_inputs.c.collection)
                .join(collection_inputs, collection_inputs.c.input_id == s.inputs.c.id)
                .where(s.inputs.c.path.in_(wanted[start : start + CHUNK]))
            ):
                found[row.path].add(row.collection)
    return {p: frozenset(v) for p, v in found.items()}


def display_names_within(
    catalog: Catalog, addresses: list[str], scope: frozenset[str]
) -> dict[str, list[str]]:
    """The names each address was written with in items of these collections only."""
    if not addresses or not scope:
        return {}
    in_scope = select(s.facts.c.item_num).where(
        s.facts.c.field == FIELD, s.facts.c.value.in_(sorted(scope))
    )
    out: dict[str, list[str]] = {}
    with catalog.engine.connect() as conn:
        for row in conn.execute(
            select(s.addresses.c.address_key, s.addresses.c.name, func.count().label("n"))
            .where(
                s.addresses.c.address_key.in_(addresses),
                s.addresses.c.name != "",
                s.addresses.c.item_num.in_(in_scope),
            )
            .group_by(s.addresses.c.address_key, s.addresses.c.name)
            .order_by(s.addresses.c.address_key, func.count().desc(), s.addresses.c.name)
        ):
            out.setdefault(row.address_key, []).append(row.name)
    return out

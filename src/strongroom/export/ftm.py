"""FollowTheMoney entities (JSON lines, what Aleph and the `ftm` tools load), built and checked
with followthemoney's own model.

- an email is an `Email` (subject, date, body, headers, Message-ID) whose `emitters` and
  `recipients` are the parties. Addresses the people analysis grouped into one person
  (`analyze/people.py`, users' merges included) are one `Person` carrying all its addresses
  and names; any other address is its own entity, a `Person` if it came with a display name,
  else a `LegalEntity`, carrying every display name it was seen with;
- its attachments, and document hits, are `Document` entities (or the narrower `Pages`,
  `Image`, `PlainText`, `HyperText`, `Table`) with `parent` pointing at the email;
- entity ids are `sha256-<hex>` (the item's identity in strongroom) and `contentHash` is the
  SHA-1 of the same original bytes (FollowTheMoney's checksum type is SHA-1, Aleph's archive key).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from strongroom.errors import StrongroomError

if TYPE_CHECKING:
    from followthemoney.proxy import EntityProxy
    from followthemoney.schema import ValidationData

    from strongroom.case import Case

_DOCUMENT_SCHEMAS = {
    "application/pdf": "Pages",
    "text/plain": "PlainText",
    "text/html": "HyperText",
    "text/csv": "Table",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "Table",
    "application/vnd.ms-excel": "Table",
}
RECIPIENT_ROLES = ("to", "cc", "bcc")
TEXT_MAX = 2_000_000  # characters of text per entity; Aleph truncates far below this anyway


class InvalidEntity(StrongroomError):
    """An entity failed followthemoney's validation (a strongroom bug, never the data's)."""


def _party_id(address: str) -> str:
    return "addr-" + hashlib.sha1(address.lower().encode("utf-8")).hexdigest()


def _person_id(keys: list[str]) -> str:
    """A grouped person's id: from its addresses, so the same grouping gets the same id."""
    return "person-" + hashlib.sha1("\n".join(sorted(keys)).encode("utf-8")).hexdigest()


def _names(entry: dict[str, Any]) -> list[str]:
    """An address's names: [[name, count], ...] in the catalog, [name, ...] as seen in scope."""
    return [str(n[0] if isinstance(n, list) else n) for n in entry.get("names") or []]


def grouped_people(
    case: Case, keys: list[str], scope: frozenset[str] | None = None
) -> dict[str, dict[str, Any]]:
    """{address key: person} for those of `keys` whose person has more than one address (as
    seen within `scope`, if given: a viewer learns only the addresses and names in scope).
    A person: {"id", "name", "addresses", "names"}."""
    from strongroom.catalog import people_store

    owners = people_store.persons_of(case.catalog, sorted(set(keys)))
    visible = None
    out: dict[str, dict[str, Any]] = {}
    for pid in sorted(set(owners.values())):
        row = people_store.person_row(case.catalog, pid)
        if row is None or not row["active"]:
            continue
        if scope is not None:
            visible = (
                visible
                if visible is not None
                else people_store.visible_addresses(case.catalog, scope)
            )
            row = people_store.within_scope(row, visible)
            if row is None:
                continue
        addresses = [str(a["address"]) for a in row["addresses"]]
        if len(addresses) < 2:
            continue
        names = [str(row["name"])] if row["name"] not in addresses else []
        for entry in row["addresses"]:
            names += [n for n in _names(entry) if n not in names]
        person = {"id": _person_id(addresses), "addresses": addresses, "names": names}
        for key in addresses:
            out[key] = person
    return out


def put(entity: EntityProxy, prop: str, value: Any) -> None:
    """Add a value within its type's length limit: long text is split into several values (the
    way Aleph stores long documents), anything else is cut short. None or "" adds nothing."""
    if isinstance(value, list):
        for one in value:
            put(entity, prop, one)
        return
    if value is None or value == "":
        return
    value = str(value)
    spec = entity.schema.get(prop)
    if spec is None:
        raise InvalidEntity(f"{entity.schema.name} has no property {prop}")
    limit = spec.type.max_length
    if len(value) <= limit:
        entity.add(prop, value)
    elif prop in ("bodyText", "bodyHtml", "indexText"):
        entity.add(prop, [value[i : i + limit] for i in range(0, len(value), limit)])
    else:
        entity.add(prop, value[: limit - 1] + "\u2026")


def _utc(value: Any) -> str | None:
    """An ISO time in UTC without the zone suffix (FollowTheMoney dates carry none)."""
    if isinstance(value, dict):
        value = value.get("utc")
    return value.rstrip("Z") if isinstance(value, str) and value else None


class _Builder:
    def __init__(self, case: Case, ids: dict[int, str], people: dict[str, dict[str, Any]]) -> None:
        from followthemoney import model

        self.case = case
        self.model = model
        self.ids = ids  # the exported items' entity ids
        self.people = people  # address key -> the grouped person it belongs to
        self.parties: dict[str, dict[str, Any]] = {}  # address key -> {address, names}

    def item_entity(self, num: int) -> EntityProxy:
        item = self.case.item(str(num))
        data = self.case.blobs.read(item["sha256"])
        parent = next((loc["parent"] for loc in item["locations"] if loc["parent"]), None)
        entity = self._email(item) if item["kind"] == "email" else self._document(item)
        entity.id = self.ids[num]
        entity.add("contentHash", hashlib.sha1(data).hexdigest())
        entity.add("fileSize", item["size"])
        entity.add("mimeType", item["mime"])
        entity.add("processingAgent", "strongroom")
        if item["text"]:
            put(entity, "bodyText", item["text"][:TEXT_MAX])
        if parent in self.ids:
            entity.add("parent", self.ids[parent])
        return entity

    def _email(self, item: dict[str, Any]) -> EntityProxy:
        record = item["record"]
        entity = self.model.make_entity("Email")
        subject = record.get("subject") or ""
        if subject:
            put(entity, "subject", subject)
            put(entity, "title", subject)
        entity.add("date", _utc(record.get("date")))
        put(entity, "messageId", record.get("message_id"))
        put(entity, "inReplyTo", record.get("in_reply_to") or [])
        if item["html"]:
            put(entity, "bodyHtml", item["html"][:TEXT_MAX])
        addresses = record.get("addresses") or {}
        for role in ("from", *RECIPIENT_ROLES):
            for entry in addresses.get(role, []):
                address, name = entry.get("address") or "", entry.get("name") or ""
                shown = f"{name} <{address}>" if name and address else name or address
                if shown:
                    put(entity, role, shown)
                if address:
                    self._party(address, name)
                    prop = "emitters" if role == "from" else "recipients"
                    entity.add(prop, self.party_id(address))
        return entity

    def _document(self, item: dict[str, Any]) -> EntityProxy:
        mime = str(item["mime"])
        schema = _DOCUMENT_SCHEMAS.get(mime, "Image" if mime.startswith("image/") else "Document")
        entity = self.model.make_entity(schema)
        put(entity, "fileName", item["name"] or f"item-{item['num']}")
        metadata = (item["record"] or {}).get("metadata") or {}
        put(entity, "title", metadata.get("title"))
        put(entity, "author", metadata.get("author"))
        put(entity, "generator", metadata.get("creator_tool") or metadata.get("producer"))
        entity.add("authoredAt", _utc(metadata.get("created")))
        entity.add("modifiedAt", _utc(metadata.get("modified")))
        return entity

    def _party(self, address: str, name: str) -> None:
        party = self.parties.setdefault(address.lower(), {"address": address, "names": []})
        if name and name not in party["names"]:
            party["names"].append(name)

    def party_id(self, address: str) -> str:
        person = self.people.get(address.lower())
        return str(person["id"]) if person else _party_id(address)

    def party_ids(self) -> set[str]:
        return {self.party_id(key) for key in self.parties}

    def party_entities(self) -> list[EntityProxy]:
        out = []
        people: dict[str, dict[str, Any]] = {}
        for key in sorted(self.parties):
            person = self.people.get(key)
            if person is not None:
                people.setdefault(person["id"], {**person, "seen": []})["seen"].append(key)
                continue
            party = self.parties[key]
            entity = self.model.make_entity("Person" if party["names"] else "LegalEntity")
            entity.id = _party_id(key)
            for name in party["names"] or [party["address"]]:
                put(entity, "name", name)
            entity.add("email", party["address"])
            out.append(entity)
        for pid in sorted(people):
            person = people[pid]
            entity = self.model.make_entity("Person")
            entity.id = pid
            names = list(person["names"])
            for key in person["seen"]:  # names as written in the exported mail
                names += [n for n in self.parties[key]["names"] if n not in names]
            for name in names or person["addresses"][:1]:
                put(entity, "name", name)
            put(entity, "email", person["addresses"])
            out.append(entity)
        return out


def validate(entity: dict[str, Any], known_ids: set[str] | None = None) -> list[str]:
    """What is wrong with one entity dict under followthemoney's schema (empty: valid)."""
    from followthemoney import model
    from followthemoney.exc import InvalidData
    from followthemoney.types import registry

    schema = model.get(entity.get("schema", ""))
    if schema is None:
        return [f"unknown schema {entity.get('schema')!r}"]
    problems = []
    if not registry.entity.validate(str(entity.get("id") or "")):
        problems.append(f"invalid id {entity.get('id')!r}")
    properties = entity.get("properties") or {}
    try:
        schema.validate(cast("ValidationData", entity))
    except InvalidData as error:
        problems.append(f"{entity.get('id')}: {error}")
    for name in schema.required:
        if not properties.get(name):
            problems.append(f"{entity.get('id')}: missing required {name}")
    for name, values in properties.items():
        prop = schema.get(name)
        if prop is None:
            problems.append(f"{entity.get('id')}: {schema.name} has no property {name}")
        elif known_ids is not None and prop.type == registry.entity:
            problems += [
                f"{entity.get('id')}: {name} -> unknown {v}" for v in values if v not in known_ids
            ]
    return problems


def _catalog_rows(case: Case, nums: list[int]) -> dict[int, tuple[str, str]]:
    """{num: (sha256, kind)} of the items, and of the parts of the emails among them."""
    from sqlalchemy import select

    from strongroom.catalog import schema as s

    def items(conn: Any, wanted: list[int]) -> dict[int, tuple[str, str]]:
        found: dict[int, tuple[str, str]] = {}
        for start in range(0, len(wanted), 500):
            query = select(s.items.c.num, s.items.c.sha256, s.items.c.kind).where(
                s.items.c.num.in_(wanted[start : start + 500])
            )
            found.update({row.num: (row.sha256, row.kind) for row in conn.execute(query)})
        return found

    with case.catalog.engine.connect() as conn:
        rows = items(conn, nums)
        emails = [num for num, (_sha, kind) in rows.items() if kind == "email"]
        parts: set[int] = set()
        for start in range(0, len(emails), 500):
            query = select(s.locations.c.item_num).where(
                s.locations.c.parent_num.in_(emails[start : start + 500])
            )
            parts.update(int(row[0]) for row in conn.execute(query))
        rows.update(items(conn, sorted(parts - set(rows))))
    return rows


def _address_keys(case: Case, nums: list[int]) -> list[str]:
    from sqlalchemy import select

    from strongroom.catalog import schema as s

    keys: set[str] = set()
    with case.catalog.engine.connect() as conn:
        for start in range(0, len(nums), 500):
            query = select(s.addresses.c.address_key).where(
                s.addresses.c.item_num.in_(nums[start : start + 500])
            )
            keys.update(str(row[0]) for row in conn.execute(query))
    return sorted(keys)


def write_ftm(
    case: Case, nums: list[int], out: Path, scope: frozenset[str] | None = None
) -> dict[str, int]:
    """Write the items, and the attachments of the emails among them, as entities (followed by
    the parties of the emails). Every entity is validated before it is written. `scope` (a
    viewer's collections) leaves out attachments, and addresses of grouped people, that the
    viewer could not read."""
    rows = _catalog_rows(case, nums)
    exported = {num for num, (_sha, kind) in rows.items() if kind != "container"}
    if scope is not None:
        exported &= case.readable(sorted(exported), scope)
    ids = {num: f"sha256-{rows[num][0]}" for num in exported}
    people = grouped_people(case, _address_keys(case, sorted(exported)), scope)
    builder = _Builder(case, ids, people)
    counts: dict[str, int] = {}
    tmp = out.with_name(out.name + ".part")
    with tmp.open("w", encoding="utf-8") as handle:
        entities = (builder.item_entity(num) for num in sorted(exported))
        for entity in [*entities, *builder.party_entities()]:
            data = entity.to_dict()
            known = set(ids.values()) | builder.party_ids()
            problems = validate(data, known)
            if problems:
                raise InvalidEntity(f"followthemoney rejected an entity: {'; '.join(problems)}")
            handle.write(json.dumps(data, ensure_ascii=False, sort_keys=True) + "\n")
            counts[data["schema"]] = counts.get(data["schema"], 0) + 1
    tmp.replace(out)
    return counts

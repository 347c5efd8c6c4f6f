"""Metadata out: a CSV row per item, or a JSON line per item (the record `show --json` prints)."""

from __future__ import annotations

import csv
import json
from collections import defaultdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from strongroom.annotate.tags import item_tags_of, notes_of
from strongroom.catalog import schema as s
from strongroom.catalog.index_rows import summaries

if TYPE_CHECKING:
    from strongroom.case import Case

CSV_COLUMNS = (
    "id",
    "sha256",
    "kind",
    "format",
    "mime",
    "size",
    "status",
    "date_utc",
    "date_offset",
    "from",
    "from_name",
    "to",
    "cc",
    "bcc",
    "subject",
    "name",
    "message_id",
    "parent",
    "tags",
    "flags",
    "permalink",
)
BATCH = 500


def _people(entries: list[tuple[str, str]]) -> str:
    return "; ".join(f"{name} <{address}>" if name else address for name, address in entries)


Scope = frozenset[str] | None  # a viewer's collections; None: the whole case


def write_csv(case: Case, nums: list[int], out: Path, scope: Scope = None) -> int:
    tmp = out.with_name(out.name + ".part")
    with tmp.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, CSV_COLUMNS)
        writer.writeheader()
        for start in range(0, len(nums), BATCH):
            rows = _csv_rows(case, nums[start : start + BATCH])
            parents = [int(row["parent"]) for row in rows if row["parent"]]
            readable = case.readable(parents, scope)
            for row in rows:
                if row["parent"] and int(row["parent"]) not in readable:
                    row["parent"] = ""  # a container the viewer may not read is not named
                writer.writerow(row)
    tmp.replace(out)
    return len(nums)


def _csv_rows(case: Case, chunk: list[int]) -> list[dict[str, Any]]:
    details = summaries(case.catalog, chunk)
    roles: dict[int, dict[str, list[tuple[str, str]]]] = defaultdict(lambda: defaultdict(list))
    facts: dict[int, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    with case.catalog.engine.connect() as conn:
        items = {
            row.num: row
            for row in conn.execute(
                select(
                    s.items.c.num,
                    s.items.c.sha256,
                    s.items.c.format,
                    s.items.c.mime,
                    s.items.c.status,
                    s.items.c.message_id,
                ).where(s.items.c.num.in_(chunk))
            )
        }
        for row in conn.execute(
            select(s.addresses)
            .where(s.addresses.c.item_num.in_(chunk), s.addresses.c.role.in_(("to", "cc", "bcc")))
            .order_by(s.addresses.c.item_num, s.addresses.c.role, s.addresses.c.position)
        ):
            roles[row.item_num][row.role].append((row.name, row.address))
        for row in conn.execute(
            select(s.facts.c.item_num, s.facts.c.field, s.facts.c.value)
            .where(s.facts.c.item_num.in_(chunk), s.facts.c.field.in_(("tag", "flags")))
            .order_by(s.facts.c.item_num, s.facts.c.value)
        ):
            facts[row.item_num][row.field].append(row.value)
    rows = []
    for num in chunk:
        if num not in items:
            continue
        item, summary = items[num], details[num]
        rows.append(
            {
                "id": num,
                "sha256": item.sha256,
                "kind": summary["kind"],
                "format": item.format,
                "mime": item.mime,
                "size": summary["size"],
                "status": item.status,
                "date_utc": summary["date"] or "",
                "date_offset": summary["date_offset"] or "",
                "from": summary["from"] or "",
                "from_name": summary["from_name"] or "",
                "to": _people(roles[num]["to"]),
                "cc": _people(roles[num]["cc"]),
                "bcc": _people(roles[num]["bcc"]),
                "subject": summary["subject"] or "",
                "name": summary["name"] or "",
                "message_id": item.message_id or "",
                "parent": summary["parent"] or "",
                "tags": " ".join(facts[num]["tag"]),
                "flags": " ".join(facts[num]["flags"]),
                "permalink": f"/items/{num}",
            }
        )
    return rows


def write_jsonl(case: Case, nums: list[int], out: Path, scope: Scope = None) -> int:
    """One JSON object per line: the item's full record, with its tags and notes; within
    `scope`, without the locations and children outside it."""
    tmp = out.with_name(out.name + ".part")
    with tmp.open("w", encoding="utf-8") as handle:
        for num in nums:
            item = case.item(str(num))
            if scope is not None:
                _scoped(case, item, scope)
            item.pop("html", None)  # the text is there; raw HTML is in the original bytes
            item["tags"] = [tag["tag"] for tag in item_tags_of(case, num)]
            item["notes"] = notes_of(case, num)
            handle.write(json.dumps(item, ensure_ascii=False, default=str, sort_keys=True))
            handle.write("\n")
    tmp.replace(out)
    return len(nums)


def _scoped(case: Case, item: dict[str, Any], scope: frozenset[str]) -> None:
    """Drop from an item's record the children, parents and input files outside `scope` (as
    the reading room's item page does)."""
    from strongroom.accounts.collections import input_collections

    locations = item["locations"]
    parents = case.readable([loc["parent"] for loc in locations if loc.get("parent")], scope)
    paths = input_collections(case.catalog, [loc["path"] for loc in locations if loc["path"]])
    item["locations"] = [
        loc
        for loc in locations
        if (loc.get("parent") and loc["parent"] in parents)
        or (loc.get("path") and paths.get(loc["path"], frozenset()) & scope)
    ]
    children = case.readable([child["num"] for child in item["children"]], scope)
    item["children"] = [child for child in item["children"] if child["num"] in children]

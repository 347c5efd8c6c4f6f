"""Reviewing findings: accept (redact here), reject (keep), generalise (redact the value
everywhere in the case); one by one, or in bulk by type and by query. Every decision is in the
audit log with who made it and when. `redaction_plan` is what a release applies.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from strongroom.annotate.hits import matching_nums
from strongroom.catalog import audit
from strongroom.catalog import pii_store as store
from strongroom.catalog.index_rows import texts_for
from strongroom.errors import NotFound, UsageError
from strongroom.pii.plan import RedactionPlan
from strongroom.pii.scan import units_of

if TYPE_CHECKING:
    from strongroom.case import Case
    from strongroom.catalog.store import Catalog

Readable = Callable[[list[int]], set[int]]  # item numbers -> those a viewer may read
DECISIONS = {"accept": "accepted", "reject": "rejected", "generalise": "generalised"}
CONTEXT_CHARS = 60


@dataclass(frozen=True)
class Filter:
    """Which findings a review lists or a bulk decision applies to."""

    types: tuple[str, ...] = ()
    status: str | None = None
    query: str = ""  # strongroom query language: findings in matching items and their attachments

    def check(self) -> None:
        if self.status is not None and self.status not in store.STATUSES:
            raise UsageError(
                f"unknown status {self.status!r}; use one of {', '.join(store.STATUSES)}"
            )


def items_matching(case: Case, query: str) -> list[int]:
    """Every item a query finds, with the attachments of each (their findings go with them)."""
    nums = set(matching_nums(case, query))
    return sorted(nums | store.attachments_of(case.catalog, sorted(nums)))


def _scope(case: Case, flt: Filter) -> list[int] | None:
    flt.check()
    return items_matching(case, flt.query) if flt.query.strip() else None


def review(
    case: Case,
    flt: Filter,
    *,
    limit: int = 100,
    offset: int = 0,
    readable: Readable | None = None,
) -> dict[str, Any]:
    """Findings matching the filter, each with the text around it, and the case's counts;
    `readable` narrows them to the items a viewer may read."""
    nums = _scope(case, flt)
    if readable is None:
        rows = store.select_findings(
            case.catalog, types=flt.types, status=flt.status, nums=nums, limit=limit, offset=offset
        )
        total = store.count_findings(case.catalog, types=flt.types, status=flt.status, nums=nums)
    else:
        everything = _readable_rows(case, flt, nums, readable)
        rows, total = everything[offset : offset + limit], len(everything)
    return {
        "total": total,
        "offset": offset,
        "limit": limit,
        "findings": with_context(case.catalog, rows),
        "counts": store.type_counts(case.catalog),
        "scanned_items": store.scanned_count(case.catalog),
    }


def _readable_rows(
    case: Case, flt: Filter, nums: list[int] | None, readable: Readable
) -> list[dict[str, Any]]:
    rows = store.select_findings(case.catalog, types=flt.types, status=flt.status, nums=nums)
    allowed = readable(sorted({r["item_num"] for r in rows}))
    return [r for r in rows if r["item_num"] in allowed]


def with_context(catalog: Catalog, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each finding as JSON, with `before` and `after`: the text on either side of it."""
    texts = texts_for(catalog, sorted({r["item_num"] for r in rows}))
    headers: dict[int, dict[str, str]] = {}
    out = []
    for row in rows:
        num, place = row["item_num"], row["place"]
        if place.startswith("header:"):
            if num not in headers:
                headers[num] = _header_texts(catalog, num)
            text = headers[num].get(place, "")
        else:
            text = texts.get(num, "")
        start, end = row["start"], row["end"]
        if text[start:end] != row["value"]:  # the text changed since the scan
            text = ""
        out.append(
            {
                "id": row["id"],
                "item": num,
                "where": place,
                "start": start,
                "end": end,
                "type": row["type"],
                "score": row["score"],
                "value": row["value"],
                "status": row["status"],
                "decided_by": row["decided_by"],
                "decided_at": row["decided_at"],
                "detector_version": row["detector_version"],
                "before": " ".join(text[max(0, start - CONTEXT_CHARS) : start].split()),
                "after": " ".join(text[end : end + CONTEXT_CHARS].split()),
            }
        )
    return out


def _header_texts(catalog: Catalog, num: int) -> dict[str, str]:
    item = catalog.find_item(str(num))
    if item is None:
        return {}
    unit = {"kind": item["kind"], "record": json.dumps(item["record"]), "body": ""}
    return dict(units_of(unit))


def decide(case: Case, ids: Sequence[int], decision: str, actor: str) -> int:
    """Decide these findings; returns how many were decided."""
    if decision not in DECISIONS:
        raise UsageError(f"unknown decision {decision!r}; use accept, reject or generalise")
    wanted = sorted(set(ids))
    found = {r["id"]: r for r in store.select_findings(case.catalog, ids=wanted)}
    missing = [i for i in wanted if i not in found]
    if missing:
        raise NotFound(f"no finding {', '.join(map(str, missing))} in this case")
    changed = _apply(case, wanted, decision, actor)
    for finding_id in wanted:
        row = found[finding_id]
        audit.record(
            case.catalog,
            actor,
            f"pii.{decision}",
            f"item {row['item_num']}",
            {
                "finding": finding_id,
                "type": row["type"],
                "where": row["place"],
                "was": row["status"],
            },
        )
    return changed


def decide_bulk(
    case: Case, flt: Filter, decision: str, actor: str, readable: Readable | None = None
) -> int:
    """Decide every finding matching the filter (in items `readable` allows); one audit entry
    names them all."""
    if decision not in DECISIONS:
        raise UsageError(f"unknown decision {decision!r}; use accept, reject or generalise")
    if not flt.types and not flt.query.strip() and flt.status is None:
        raise UsageError("a bulk decision needs --type, --query or --status")
    nums = _scope(case, flt)
    if readable is None:
        rows = store.select_findings(case.catalog, types=flt.types, status=flt.status, nums=nums)
    else:
        rows = _readable_rows(case, flt, nums, readable)
    ids = [r["id"] for r in rows]
    changed = _apply(case, ids, decision, actor) if ids else 0
    audit.record(
        case.catalog,
        actor,
        f"pii.bulk-{decision}",
        flt.query or None,
        {
            "types": list(flt.types),
            "status": flt.status,
            "query": flt.query,
            "findings": ids,
            "changed": changed,
        },
    )
    return changed


def _apply(case: Case, ids: list[int], decision: str, actor: str) -> int:
    if decision == "generalise":
        items, changed = store.generalise(case.catalog, ids, actor)
    else:
        items = store.set_status(case.catalog, ids, DECISIONS[decision], actor)
        changed = len(ids)
    stale = sorted(set(items) | set(store.unindexed(case.catalog)))  # and a killed run's
    for start in range(0, len(stale), 1000):
        chunk = stale[start : start + 1000]
        case.index.refresh(case.catalog, chunk)
        store.mark_indexed(case.catalog, chunk)
    return changed


def redaction_plan(catalog: Catalog) -> RedactionPlan:
    """The values a release hides: accepted ones in their item, generalised ones everywhere
    (every form they were found in, and for numbers also their bare digits)."""
    by_item: dict[int, set[str]] = defaultdict(set)
    everywhere: set[str] = set()
    types: dict[str, str] = {}
    for num, kind, value, _key, status in store.redacting_findings(catalog):
        types[value] = kind
        if status == "generalised":
            everywhere.add(value)
        else:
            by_item[num].add(value)
    for kind, key in store.generalised_keys(catalog):
        if kind in ("card", "ssn", "routing", "iban") and len(key) >= 6:
            everywhere.add(key)
            types.setdefault(key, kind)
    undecided = store.count_findings(catalog, status="undecided")
    return RedactionPlan(
        by_item={num: frozenset(values) for num, values in by_item.items()},
        everywhere=frozenset(everywhere),
        types=types,
        undecided=undecided,
    )

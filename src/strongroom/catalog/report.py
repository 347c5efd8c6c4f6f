"""`strongroom report`: what came in, what failed and why, counted from the catalog."""

from __future__ import annotations

from collections import Counter
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from strongroom.catalog import schema as s


def case_report(conn: Connection) -> dict[str, Any]:
    """Counts of inputs and items by kind and status, duplicates, defects, and every failure."""
    kinds: Counter[str] = Counter(
        dict(conn.execute(select(s.items.c.kind, func.count()).group_by(s.items.c.kind)).all())
    )
    statuses: dict[str, int] = dict(
        conn.execute(select(s.items.c.status, func.count()).group_by(s.items.c.status)).all()
    )
    inputs: dict[str, int] = dict(
        conn.execute(select(s.inputs.c.status, func.count()).group_by(s.inputs.c.status)).all()
    )
    locations = conn.execute(select(func.count()).select_from(s.locations)).scalar_one()
    items = sum(kinds.values())
    same_id = conn.execute(
        select(func.count()).select_from(
            select(s.items.c.message_id)
            .where(s.items.c.message_id.is_not(None))
            .group_by(s.items.c.message_id)
            .having(func.count() > 1)
            .subquery()
        )
    ).scalar_one()
    defective = conn.execute(select(func.count()).where(s.items.c.defect_count > 0)).scalar_one()
    failures = _failures(conn)
    extraction: dict[str, int] = dict(
        conn.execute(
            select(s.facts.c.value, func.count())
            .where(s.facts.c.field == "extraction")
            .group_by(s.facts.c.value)
        ).all()
    )
    return {
        "inputs": sum(inputs.values()),
        "inputs_by_status": inputs,
        "items": items,
        "emails": kinds["email"],
        "attachments": kinds["attachment"],
        "documents": kinds["document"],
        "containers": kinds["container"],
        "duplicates": locations - items,
        "message_id_groups_with_different_bytes": same_id,
        "with_defects": defective,
        "items_by_status": statuses,
        # documents and attachments by what their text extraction gave: text, ocr, no-text,
        # encrypted, unsupported, corrupt (and failed: the extractor raised or timed out)
        "by_status": extraction,
        "failed": len(failures),
        "failures": failures,
    }


def _failures(conn: Connection) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = [
        {"source": r.path, "locator": None, "status": "failed", "reason": r.reason}
        for r in conn.execute(select(s.inputs).where(s.inputs.c.status == "failed"))
    ]
    first_location = (
        select(s.locations.c.item_num, func.min(s.locations.c.id).label("id"))
        .group_by(s.locations.c.item_num)
        .subquery()
    )
    bad = conn.execute(
        select(
            s.items.c.num,
            s.items.c.status,
            s.items.c.reason,
            s.locations.c.locator,
            s.locations.c.parent_num,
            s.inputs.c.path,
        )
        .join(first_location, first_location.c.item_num == s.items.c.num)
        .join(s.locations, s.locations.c.id == first_location.c.id)
        .outerjoin(s.inputs, s.inputs.c.id == s.locations.c.input_id)
        .where(s.items.c.status.in_(("failed", "corrupt", "encrypted")))
        .order_by(s.items.c.num)
    )
    for r in bad:
        source = r.path or f"item {r.parent_num}"
        out.append(
            {
                "source": source,
                "locator": r.locator,
                "status": r.status,
                "reason": r.reason,
                "item": r.num,
            }
        )
    for r in conn.execute(
        select(s.failures, s.items.c.name)
        .join(s.items, s.items.c.num == s.failures.c.parent_num)
        .order_by(s.failures.c.id)
    ):
        out.append(
            {
                "source": f"item {r.parent_num}" + (f" ({r.name})" if r.name else ""),
                "locator": r.locator,
                "status": r.status,
                "reason": r.reason,
            }
        )
    return out

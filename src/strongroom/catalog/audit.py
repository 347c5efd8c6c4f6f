"""Recording and reading the audit log (tables_audit). Only ever inserts."""

from __future__ import annotations

import getpass
import json
import os
from typing import Any

from sqlalchemy import select

from strongroom.catalog.store import Catalog, now
from strongroom.catalog.tables_audit import audit_events

ACTOR_ENV = "STRONGROOM_USER"


def local_actor() -> str:
    """Who is acting at this terminal: $STRONGROOM_USER, else the login name."""
    name = os.environ.get(ACTOR_ENV)
    if name:
        return name
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry, e.g. in some containers
        return "unknown"


def record(
    catalog: Catalog,
    actor: str,
    action: str,
    target: str | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    with catalog.engine.begin() as conn:
        conn.execute(
            audit_events.insert().values(
                at=now(),
                actor=actor,
                action=action,
                target=target,
                detail=json.dumps(detail or {}, sort_keys=True, ensure_ascii=False),
            )
        )


def events(
    catalog: Catalog, action_prefix: str | None = None, limit: int = 1000
) -> list[dict[str, Any]]:
    """The newest events first; `action_prefix` such as "pii." narrows them."""
    query = select(audit_events).order_by(audit_events.c.id.desc()).limit(limit)
    if action_prefix:
        query = query.where(audit_events.c.action.startswith(action_prefix))
    with catalog.engine.connect() as conn:
        rows = conn.execute(query).mappings().all()
    return [{**row, "detail": json.loads(row["detail"])} for row in rows]

"""The verify capability's SQL: the keyring, per-email results, runs. No SQL outside catalog/.

Results of one batch of emails, and the searchable facts they imply, are written in one
transaction, so a crash leaves each email either verified with its facts, or not verified.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import and_, delete, func, insert, or_, select, update

from strongroom.catalog import schema as s
from strongroom.catalog import tables_verify as v
from strongroom.catalog.store import Catalog, now

_RESULT_COLUMNS = {c.name for c in v.dkim_results.columns} - {"item_num"}
_JSON_COLUMNS = ("signed_headers", "covered_headers", "weak")


# -- the keyring --------------------------------------------------------------------------------
def add_keys(
    catalog: Catalog,
    entries: Iterable[tuple[str, str, str]],
    source: str,
    valid_from: str = "",
    valid_to: str = "",
    obtained_at: str | None = None,
) -> tuple[int, int]:
    """Add (domain, selector, record) rows; an identical row (same record, source and period)
    is not added twice. Returns (added, already present)."""
    added = present = 0
    stamp = obtained_at or now()
    with catalog.engine.begin() as conn:
        for domain, selector, record in entries:
            same = conn.execute(
                select(v.dkim_keys.c.id).where(
                    v.dkim_keys.c.domain == domain,
                    v.dkim_keys.c.selector == selector,
                    v.dkim_keys.c.record == record,
                    v.dkim_keys.c.source == source,
                    v.dkim_keys.c.valid_from == valid_from,
                    v.dkim_keys.c.valid_to == valid_to,
                )
            ).first()
            if same is not None:
                present += 1
                continue
            conn.execute(
                insert(v.dkim_keys).values(
                    domain=domain,
                    selector=selector,
                    record=record,
                    source=source,
                    obtained_at=stamp,
                    valid_from=valid_from,
                    valid_to=valid_to,
                )
            )
            added += 1
    return added, present


def key_rows(catalog: Catalog) -> list[dict[str, Any]]:
    with catalog.engine.connect() as conn:
        query = select(v.dkim_keys).order_by(v.dkim_keys.c.id)
        return [dict(row) for row in conn.execute(query).mappings()]


# -- what needs verifying -----------------------------------------------------------------------
def pending(catalog: Catalog, mark: int, version: int) -> list[dict[str, Any]]:
    """Emails never verified, verified by another verifier version, or verified before a key
    for one of their (domain, selector) names was added; in item order."""
    with catalog.engine.connect() as conn:
        done = {
            row.item_num: (row.keyring_mark, row.verifier_version)
            for row in conn.execute(
                select(
                    v.verify_items.c.item_num,
                    v.verify_items.c.keyring_mark,
                    v.verify_items.c.verifier_version,
                )
            )
        }
        emails = conn.execute(
            select(s.items.c.num, s.items.c.sha256, s.items.c.date_utc, s.items.c.format)
            .where(s.items.c.kind == "email")
            .order_by(s.items.c.num)
        ).all()
        stale = {num for num, (m, ver) in done.items() if ver == version and m < mark}
        rekey = _touched_by_new_keys(conn, stale) if stale else set()
        wanted = [
            row
            for row in emails
            if row.num not in done or done[row.num][1] != version or row.num in rekey
        ]
        quoted = _quoted(conn, [row.num for row in wanted])
    return [
        {
            "num": row.num,
            "sha256": row.sha256,
            "date_utc": row.date_utc,
            "format": row.format,
            "quoted_from_lines": quoted.get(row.num, 0),
        }
        for row in wanted
    ]


def _touched_by_new_keys(conn: Any, stale: set[int]) -> set[int]:
    marks = dict(
        conn.execute(
            select(v.verify_items.c.item_num, v.verify_items.c.keyring_mark).where(
                v.verify_items.c.item_num.in_(stale)
            )
        ).all()
    )
    lowest = min(marks.values())
    new_keys: dict[tuple[str, str], int] = {}
    for row in conn.execute(
        select(v.dkim_keys.c.id, v.dkim_keys.c.domain, v.dkim_keys.c.selector).where(
            v.dkim_keys.c.id > lowest
        )
    ):
        name = (row.domain, row.selector)
        new_keys[name] = max(new_keys.get(name, 0), row.id)
    names: dict[int, set[tuple[str, str]]] = {num: set() for num in stale}
    for row in conn.execute(
        select(v.dkim_results.c.item_num, v.dkim_results.c.domain, v.dkim_results.c.selector).where(
            v.dkim_results.c.item_num.in_(stale)
        )
    ):
        names[row.item_num].add((row.domain or "", row.selector or ""))
    for row in conn.execute(
        select(v.arc_results.c.item_num, v.arc_results.c.key_names).where(
            v.arc_results.c.item_num.in_(stale)
        )
    ):
        names[row.item_num].update((d, sel) for d, sel in json.loads(row.key_names))
    return {
        num
        for num, wanted in names.items()
        if any(new_keys.get(name, 0) > marks[num] for name in wanted)
    }


def _quoted(conn: Any, nums: Sequence[int]) -> dict[int, int]:
    """mboxrd `>From ` lines per item, as the mbox reader recorded them in its locations."""
    out: dict[int, int] = {}
    for start in range(0, len(nums), 900):
        for row in conn.execute(
            select(s.locations.c.item_num, s.locations.c.info).where(
                s.locations.c.item_num.in_(nums[start : start + 900]),
                s.locations.c.info.like("%quoted_from_lines%"),
            )
        ):
            count = int(json.loads(row.info).get("quoted_from_lines") or 0)
            out[row.item_num] = max(out.get(row.item_num, 0), count)
    return out


def key_names(catalog: Catalog) -> set[tuple[str, str]]:
    """Every (domain, selector) a verified email's DKIM signatures or ARC sets named."""
    with catalog.engine.connect() as conn:
        names = {
            (row.domain, row.selector)
            for row in conn.execute(
                select(v.dkim_results.c.domain, v.dkim_results.c.selector).distinct()
            )
            if row.domain and row.selector
        }
        for (used,) in conn.execute(select(v.arc_results.c.key_names)):
            names.update((d, sel) for d, sel in json.loads(used) if d and sel)
    return names


# -- results ------------------------------------------------------------------------------------
def write_results(
    catalog: Catalog,
    results: Sequence[dict[str, Any]],
    mark: int,
    version: int,
    owned_flags: Sequence[str],
) -> list[int]:
    """Replace the verification of each email in `results`, with its searchable facts (for
    `flags`, only the values this capability owns: other analyses may flag the same item);
    returns the emails whose facts changed (the index must learn of those)."""
    if not results:
        return []
    stamp = now()
    nums = [r["num"] for r in results]
    signatures: list[dict[str, Any]] = []
    arcs: list[dict[str, Any]] = []
    items: list[dict[str, Any]] = []
    facts: list[dict[str, Any]] = []
    wanted: dict[int, set[tuple[str, str]]] = {}
    for result in results:
        num = result["num"]
        signatures += [_signature_row(num, signature) for signature in result["signatures"]]
        if (arc := result.get("arc")) is not None:
            arcs.append(
                {
                    "item_num": num,
                    "cv": arc["cv"],
                    "instances": arc["instances"],
                    "reason_code": arc["reason_code"],
                    "detail": arc["detail"],
                    "sets": json.dumps(arc["sets"]),
                    "key_names": json.dumps(arc["keys"]),
                }
            )
        items.append(
            {
                "item_num": num,
                "status": result["status"],
                "signatures": len(result["signatures"]),
                "arc": arc["cv"] if arc is not None else None,
                "message_time": result["message_time"],
                "message_time_source": result["message_time_source"],
                "verdict": result["verdict"],
                "detail": json.dumps(result.get("detail") or {}),
                "keyring_mark": mark,
                "verifier_version": version,
                "verified_at": stamp,
            }
        )
        mine = {("flags", flag) for flag in result["flags"]}
        mine |= {("dkim", domain) for domain in result["dkim_domains"]}
        facts += [{"item_num": num, "field": f, "value": val} for f, val in sorted(mine)]
        wanted[num] = mine
    with catalog.engine.begin() as conn:
        before = _facts(conn, nums, owned_flags)
        changed = [num for num in nums if wanted[num] != before.get(num, set())]
        for table in (v.dkim_results, v.arc_results, v.verify_items):
            conn.execute(delete(table).where(table.c.item_num.in_(nums)))
        conn.execute(
            delete(s.facts).where(
                s.facts.c.item_num.in_(nums),
                or_(
                    and_(s.facts.c.field == "flags", s.facts.c.value.in_(owned_flags)),
                    s.facts.c.field == "dkim",
                ),
            )
        )
        for table, rows in (
            (v.dkim_results, signatures),
            (v.arc_results, arcs),
            (v.verify_items, items),
            (s.facts, facts),
        ):
            if rows:
                conn.execute(insert(table), rows)
    return changed


def _signature_row(num: int, signature: dict[str, Any]) -> dict[str, Any]:
    row = {k: val for k, val in signature.items() if k in _RESULT_COLUMNS}
    for name in _JSON_COLUMNS:
        row[name] = json.dumps(row.get(name) or [])
    row["item_num"] = num
    return row


def _facts(conn: Any, nums: list[int], owned: Sequence[str]) -> dict[int, set[tuple[str, str]]]:
    out: dict[int, set[tuple[str, str]]] = {}
    for row in conn.execute(
        select(s.facts.c.item_num, s.facts.c.field, s.facts.c.value).where(
            s.facts.c.item_num.in_(nums), s.facts.c.field.in_(("flags", "dkim"))
        )
    ):
        if row.field == "dkim" or row.value in owned:
            out.setdefault(row.item_num, set()).add((row.field, row.value))
    return out


def verification(catalog: Catalog, num: int) -> dict[str, Any] | None:
    """What `show --json` carries: the verdict, each signature, the ARC chain."""
    with catalog.engine.connect() as conn:
        item = (
            conn.execute(select(v.verify_items).where(v.verify_items.c.item_num == num))
            .mappings()
            .first()
        )
        if item is None:
            return None
        signatures = []
        for row in conn.execute(
            select(v.dkim_results)
            .where(v.dkim_results.c.item_num == num)
            .order_by(v.dkim_results.c.signature)
        ).mappings():
            signature = {k: val for k, val in row.items() if k != "item_num"}
            for name in _JSON_COLUMNS:
                signature[name] = json.loads(signature[name])
            signature["key"] = None
            if signature["key_id"] is not None:
                key = (
                    conn.execute(select(v.dkim_keys).where(v.dkim_keys.c.id == signature["key_id"]))
                    .mappings()
                    .first()
                )
                if key is not None:  # the record used, with where it came from and when
                    signature["key"] = {**key, "valid_from": key["valid_from"] or None}
                    signature["key"]["valid_to"] = key["valid_to"] or None
            signatures.append(signature)
        arc = (
            conn.execute(select(v.arc_results).where(v.arc_results.c.item_num == num))
            .mappings()
            .first()
        )
    out = {k: val for k, val in item.items() if k != "item_num"}
    out["detail"] = json.loads(out["detail"])
    out["dkim"] = signatures
    if arc is not None:
        arc_out = {k: val for k, val in arc.items() if k != "item_num"}
        arc_out["sets"] = json.loads(arc_out["sets"])
        arc_out["key_names"] = json.loads(arc_out["key_names"])
        out["arc"] = arc_out
    else:
        out["arc"] = None
    return out


def status_counts(catalog: Catalog) -> dict[str, int]:
    with catalog.engine.connect() as conn:
        return {
            row[0]: int(row[1])
            for row in conn.execute(
                select(v.verify_items.c.status, func.count()).group_by(v.verify_items.c.status)
            )
        }


# -- runs ---------------------------------------------------------------------------------------
def start_run(catalog: Catalog, mark: int, dns: bool, workers: int) -> tuple[int, str]:
    stamp = now()
    with catalog.engine.begin() as conn:
        result = conn.execute(
            insert(v.verify_runs).values(
                started_at=stamp, keyring_mark=mark, dns=dns, workers=workers
            )
        )
        return int(result.inserted_primary_key[0]), stamp  # type: ignore[index]


def finish_run(
    catalog: Catalog, run_id: int, checked: int, seconds: float, counts: dict[str, int]
) -> None:
    with catalog.engine.begin() as conn:
        conn.execute(
            update(v.verify_runs)
            .where(v.verify_runs.c.id == run_id)
            # sorted: the statuses come in the order workers finish, which no rerun repeats
            .values(
                finished_at=now(),
                checked=checked,
                seconds=seconds,
                counts=json.dumps(counts, sort_keys=True),
            )
        )


def unfinished_run_items(catalog: Catalog) -> list[int]:
    """Emails verified by runs that never finished: the index may lack their facts."""
    with catalog.engine.connect() as conn:
        started = conn.execute(
            select(func.min(v.verify_runs.c.started_at)).where(
                v.verify_runs.c.finished_at.is_(None)
            )
        ).scalar_one()
        if started is None:
            return []
        return [
            int(row[0])
            for row in conn.execute(
                select(v.verify_items.c.item_num).where(v.verify_items.c.verified_at >= started)
            )
        ]


def close_unfinished_runs(catalog: Catalog) -> None:
    with catalog.engine.begin() as conn:
        conn.execute(
            update(v.verify_runs)
            .where(v.verify_runs.c.finished_at.is_(None))
            .values(finished_at=now(), counts=json.dumps({"interrupted": True}))
        )

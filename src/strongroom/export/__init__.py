"""Exports of any search: mbox and .eml (original bytes), CSV of metadata, JSON lines of
records, FollowTheMoney entities. Each export is audit-logged with its query and counts."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from strongroom.annotate.hits import matching_nums
from strongroom.catalog import audit
from strongroom.errors import UsageError


class TooLarge(UsageError):
    """More items match than an export may hold."""

    http_status = 413


if TYPE_CHECKING:
    from strongroom.case import Case

FORMATS = ("mbox", "eml", "csv", "jsonl", "ftm")


def export(
    case: Case,
    query: str,
    fmt: str,
    out: Path,
    actor: str,
    *,
    nums: list[int] | None = None,
    scope: frozenset[str] | None = None,
    max_items: int | None = None,
    max_bytes: int | None = None,
) -> dict[str, Any]:
    """Write every item matching `query` (or the given `nums`) to `out` in format `fmt`.

    `out` is a file, except for eml where it is a folder (created if needed). `scope` (a
    viewer's collections; None: the whole case) leaves out every item outside it, and what
    the written records would say of such items. More than `max_items` matches, or more than
    `max_bytes` of their original bytes, is refused before anything is written."""
    from strongroom.export.ftm import write_ftm
    from strongroom.export.mail import write_eml, write_mbox
    from strongroom.export.records import write_csv, write_jsonl

    if fmt not in FORMATS:
        raise UsageError(f"unknown export format {fmt!r}; use one of {', '.join(FORMATS)}")
    if fmt == "eml":
        if out.exists() and not out.is_dir():
            raise UsageError(f"{out} is a file; .eml export writes into a folder")
    elif out.is_dir():
        raise UsageError(f"{out} is a folder; {fmt} export writes one file")
    elif not out.parent.is_dir():
        raise UsageError(f"cannot write {out}: folder {out.parent} does not exist")
    selected = matching_nums(case, query) if nums is None else sorted(set(nums))
    if scope is not None:
        selected = sorted(case.readable(selected, scope))
    if max_items is not None and len(selected) > max_items:
        raise TooLarge(
            f"{len(selected)} items match {query!r}; an export here holds at most {max_items}",
            hint="narrow the query, or export with the strongroom command line",
        )
    if max_bytes is not None and (size := _total_size(case, selected)) > max_bytes:
        raise TooLarge(
            f"the {len(selected)} items matching {query!r} hold {size:,} bytes; an export here "
            f"holds at most {max_bytes:,}",
            hint="narrow the query, or export with the strongroom command line",
        )
    summary: dict[str, Any] = {"query": query, "format": fmt, "out": str(out)}
    summary["matched"] = len(selected)
    if fmt in ("mbox", "eml"):
        writer = write_mbox if fmt == "mbox" else write_eml
        summary.update(writer(case, selected, out).to_json())
    elif fmt == "csv":
        summary["written"] = write_csv(case, selected, out, scope)
    elif fmt == "jsonl":
        summary["written"] = write_jsonl(case, selected, out, scope)
    else:
        summary["entities"] = write_ftm(case, selected, out, scope)
        summary["written"] = sum(summary["entities"].values())
    detail = {k: v for k, v in summary.items() if k != "skipped"}
    detail["skipped"] = len(summary.get("skipped", []))
    audit.record(case.catalog, actor, "export", query, detail)
    return summary


def _total_size(case: Case, nums: list[int]) -> int:
    from sqlalchemy import func, select

    from strongroom.catalog import schema as s

    total = 0
    with case.catalog.engine.connect() as conn:
        for start in range(0, len(nums), 500):
            query = select(func.coalesce(func.sum(s.items.c.size), 0)).where(
                s.items.c.num.in_(nums[start : start + 500])
            )
            total += int(conn.execute(query).scalar_one())
    return total


__all__ = ["FORMATS", "TooLarge", "export"]

"""Exports of any search: mbox and .eml (original bytes), CSV of metadata, JSON lines of
records, FollowTheMoney entities. Each export is audit-logged with its query and counts."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from strongroom.annotate.hits import matching_nums
from strongroom.catalog import audit
from strongroom.errors import UsageError

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
) -> dict[str, Any]:
    """Write every item matching `query` (or the given `nums`) to `out` in format `fmt`.

    `out` is a file, except for eml where it is a folder (created if needed)."""
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
    summary: dict[str, Any] = {"query": query, "format": fmt, "out": str(out)}
    summary["matched"] = len(selected)
    if fmt in ("mbox", "eml"):
        writer = write_mbox if fmt == "mbox" else write_eml
        summary.update(writer(case, selected, out).to_json())
    elif fmt == "csv":
        summary["written"] = write_csv(case, selected, out)
    elif fmt == "jsonl":
        summary["written"] = write_jsonl(case, selected, out)
    else:
        summary["entities"] = write_ftm(case, selected, out)
        summary["written"] = sum(summary["entities"].values())
    detail = {k: v for k, v in summary.items() if k not in ("skipped", "altered")}
    detail["altered"] = [entry["id"] for entry in summary.get("altered", [])]
    audit.record(case.catalog, actor, "export", query, detail)
    return summary


__all__ = ["FORMATS", "export"]

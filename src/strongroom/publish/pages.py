"""The data of one item page in a release, already redacted. The HTML page and its JSON twin are
both rendered from what `item_data` returns, so they cannot disagree."""

from __future__ import annotations

import re
from email.header import decode_header, make_header
from typing import Any

from strongroom.publish.redact import Redactor

_FOLD = re.compile(r"\r?\n[ \t]")


def decoded_header(value: str) -> str:
    """A header's source value unfolded and with its RFC 2047 words decoded."""
    unfolded = _FOLD.sub(" ", value)
    try:
        return str(make_header(decode_header(unfolded)))
    except Exception:  # a bad encoded word or charset: show the source text
        return unfolded


def _addresses(record: dict[str, Any], redactor: Redactor) -> dict[str, list[dict[str, str]]]:
    return {
        role: [
            {"name": redactor.clean(e.get("name")), "address": redactor.clean(e.get("address"))}
            for e in entries
        ]
        for role, entries in (record.get("addresses") or {}).items()
    }


def _date(record: dict[str, Any]) -> dict[str, Any] | None:
    date = record.get("date")
    if not isinstance(date, dict):
        return None
    return {k: date.get(k) for k in ("utc", "local", "offset")}


def _verification(item: dict[str, Any], redactor: Redactor) -> dict[str, Any] | None:
    """The DKIM verdict of the original: what was checked was the stored bytes, not the
    derivative a release serves."""
    found = item.get("verification")
    if not found:
        return None
    return {
        "status": found.get("status"),
        "verdict": redactor.clean(found.get("verdict")),
        "of_original_sha256": item["sha256"],
        "signatures": [
            {
                "domain": s.get("domain"),
                "selector": s.get("selector"),
                "status": s.get("status"),
                "reason": s.get("reason_code"),
            }
            for s in found.get("dkim") or []
        ],
    }


def item_data(item: dict[str, Any], redactor: Redactor) -> dict[str, Any]:
    """Everything an item page shows, every string redacted with the item's values."""
    record = item["record"]
    clean = redactor.clean
    text, replaced = redactor.redact(item.get("text") or "")
    headers = []
    for name, value in record.get("headers") or []:
        shown, n = redactor.redact(decoded_header(str(value)))
        headers.append([name, shown])
        replaced += n
    subject, n = redactor.redact(record.get("subject") or item.get("subject") or "")
    replaced += n
    name, n = redactor.redact(item.get("name") or "")
    replaced += n
    return {
        "num": item["num"],
        "kind": item["kind"],
        "format": item["format"],
        "mime": item["mime"],
        "status": item["status"],
        "reason": clean(item.get("reason")) or None,
        "name": name or None,
        "subject": subject or None,
        "date": _date(record),
        "addresses": _addresses(record, redactor),
        "message_id": clean(record.get("message_id")) or None,
        "headers": headers,
        "text": text,
        "original": {"sha256": item["sha256"], "size": item["size"]},
        "verification": _verification(item, redactor),
        "replacements": replaced,
    }


def title_of(data: dict[str, Any]) -> str:
    return str(data.get("subject") or data.get("name") or f"#{data['num']}")

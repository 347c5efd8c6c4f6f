"""Forensic metadata of documents: one vocabulary for every format, dates with their offsets.

Who wrote a document and who last changed it are different people, and the offset a clock was
set to is evidence, so each is kept as its own key and each timestamp keeps the exact string
the file holds (`raw`) beside its reading (`iso`, and `utc` only when the file gave an offset).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

# The vocabulary of `record["metadata"]`; formats fill what they have.
TEXT_KEYS = (
    "title",
    "subject",
    "author",
    "last_modified_by",
    "company",
    "manager",
    "creator_tool",
    "producer",
    "template",
    "language",
    "keywords",
    "category",
    "description",
)
DATE_KEYS = ("created", "modified", "printed")
COUNT_KEYS = ("revision", "pages", "words", "characters", "paragraphs", "slides", "sheets")

_PDF_DATE = re.compile(
    r"^(?:D:)?(\d{4})(\d\d)?(\d\d)?(\d\d)?(\d\d)?(\d\d)?"
    r"\s*(?:(Z)|([+-])(\d\d)'?(\d\d)?'?)?"
)
_ISO_DATE = re.compile(
    r"^(\d{4})(?:-(\d\d)(?:-(\d\d)(?:[T ](\d\d):(\d\d)(?::(\d\d)(?:[.,]\d+)?)?"
    r"\s*(?:(Z)|([+-])(\d\d):?(\d\d)?)?)?)?)?$"
)
_EXIF_DATE = re.compile(r"^(\d{4}):(\d\d):(\d\d) (\d\d):(\d\d):(\d\d)$")


def _offset(sign: str | None, hours: str | None, minutes: str | None) -> timezone | None:
    if sign is None or hours is None:
        return None
    delta = timedelta(hours=int(hours), minutes=int(minutes or 0))
    return timezone(-delta if sign == "-" else delta)


def date_value(raw: str, parsed: datetime | None) -> dict[str, Any]:
    """{raw, iso, utc, offset}: `utc` and `offset` only when the source named its offset."""
    value: dict[str, Any] = {"raw": raw}
    if parsed is None:
        value["iso"] = None
        return value
    value["iso"] = parsed.isoformat()
    if parsed.tzinfo is not None:
        offset = parsed.utcoffset() or timedelta(0)
        minutes = int(offset.total_seconds()) // 60
        sign = "-" if minutes < 0 else "+"
        value["offset"] = f"{sign}{abs(minutes) // 60:02d}{abs(minutes) % 60:02d}"
        value["utc"] = parsed.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    else:
        value["offset"] = None  # a local clock time: the file does not say which zone
    return value


def _build(groups: tuple[str | None, ...], zone: timezone | None) -> datetime | None:
    year, month, day, hour, minute, second = (int(g) if g else None for g in groups)
    try:
        return datetime(
            year or 1,
            month or 1,
            day or 1,
            hour or 0,
            minute or 0,
            second or 0,
            tzinfo=zone,
        )
    except ValueError:
        return None


def pdf_date(raw: str) -> dict[str, Any]:
    """A PDF date string: D:YYYYMMDDHHmmSSOHH'mm' (every part after the year optional)."""
    match = _PDF_DATE.match(raw.strip())
    if match is None:
        return date_value(raw, None)
    groups = match.groups()
    zone = UTC if groups[6] else _offset(groups[7], groups[8], groups[9])
    return date_value(raw, _build(groups[:6], zone))


def iso_date(raw: str) -> dict[str, Any]:
    """W3CDTF / ISO 8601 (Office core.xml, ODF meta.xml, XMP, iCalendar-ish)."""
    text = raw.strip()
    match = _ISO_DATE.match(text)
    if match is None:
        compact = re.match(r"^(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)(Z)?$", text)
        if compact is None:
            return date_value(raw, None)
        groups = compact.groups()
        return date_value(raw, _build(groups[:6], UTC if groups[6] else None))
    groups = match.groups()
    zone = UTC if groups[6] else _offset(groups[7], groups[8], groups[9])
    return date_value(raw, _build(groups[:6], zone))


def exif_date(raw: str, offset: str | None = None) -> dict[str, Any]:
    """EXIF "YYYY:MM:DD HH:MM:SS", with its OffsetTime* tag when the camera wrote one."""
    match = _EXIF_DATE.match(raw.strip())
    if match is None:
        return date_value(raw, None)
    zone = None
    if offset:
        found = re.match(r"^([+-])(\d\d):?(\d\d)$", offset.strip())
        zone = _offset(*found.groups()) if found else None
    value = date_value(raw, _build(match.groups(), zone))
    if offset:
        value["raw_offset"] = offset
    return value


def utc_date(moment: datetime, raw: str) -> dict[str, Any]:
    """A timestamp the format stores in UTC by definition (OLE FILETIME)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return date_value(raw, moment)


def clean(value: Any) -> str | None:
    """A metadata string, stripped of NULs and padding; None when empty."""
    if value is None:
        return None
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    text = str(value).replace("\x00", "").strip()
    return text or None


def set_text(metadata: dict[str, Any], key: str, value: Any) -> None:
    text = clean(value)
    if text is not None and key not in metadata:
        metadata[key] = text


def set_count(metadata: dict[str, Any], key: str, value: Any) -> None:
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        return
    if key not in metadata:
        metadata[key] = number


def facts(metadata: dict[str, Any]) -> list[tuple[str, str]]:
    """What becomes searchable: `author:` the author; `creator:` the tools that made it.

    The last editor is its own fact (`last_modified_by`), never merged into `author`.
    """
    out: list[tuple[str, str]] = []
    for name in _split_people(metadata.get("author")):
        out.append(("author", name))
    for key in ("creator_tool", "producer"):
        if metadata.get(key):
            out.append(("creator", str(metadata[key])[:500]))
    if metadata.get("last_modified_by"):
        out.append(("last_modified_by", str(metadata["last_modified_by"])[:500]))
    return list(dict.fromkeys(out))


def _split_people(value: Any) -> list[str]:
    if not value:
        return []
    if isinstance(value, list):
        return [str(v)[:500] for v in value if str(v).strip()]
    return [str(value)[:500]]

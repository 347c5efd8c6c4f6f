"""Decoding of mail header values: RFC 2047 words, 8-bit bytes, addresses and dates.

Every function here is total: malformed input gives a best-effort value plus a defect string,
never an exception, because a leak is full of malformed mail and each one must still be read.
"""

from __future__ import annotations

import codecs
import email.errors
import email.utils
import re
from datetime import UTC, datetime, timedelta, timezone
from email.header import Header, decode_header, make_header
from typing import Any

from charset_normalizer import from_bytes

# An RFC 5322 group with no members, e.g. "undisclosed-recipients:;": valid, and no address.
_EMPTY_GROUP = re.compile(r'^\s*(?:"[^"]*"|[^:<>@"])*:\s*;\s*(?:\(.*\))?\s*$', re.DOTALL)


def _charset_ok(name: str | None) -> str | None:
    if not name:
        return None
    try:
        return codecs.lookup(name.strip().strip('"').lower()).name
    except (LookupError, ValueError):
        return None


def decode_bytes(data: bytes, declared: str | None, defects: list[str], where: str) -> str:
    """Text from bytes: the declared charset, else a detected one, never an exception."""
    charset = _charset_ok(declared)
    if declared and charset is None:
        defects.append(f"{where}: unknown charset {declared!r}")
    if charset:
        try:
            return data.decode(charset)
        except UnicodeDecodeError:
            defects.append(f"{where}: bytes invalid in declared charset {declared!r}")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    best = from_bytes(data).best()
    if best is not None:
        if declared or charset:
            defects.append(f"{where}: decoded as detected charset {best.encoding}")
        return str(best)
    defects.append(f"{where}: undecodable bytes replaced")
    return data.decode("utf-8", errors="replace")


def raw_header_str(value: Any) -> str:
    """A compat32 header value as text; 8-bit bytes (kept as surrogates) are decoded here."""
    if isinstance(value, Header):  # compat32 wraps 8-bit values; its str() loses the bytes
        value = "".join(
            chunk.decode("ascii", "surrogateescape") if isinstance(chunk, bytes) else chunk
            for chunk, _charset in decode_header(value)
        )
    text = str(value)
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        raw = text.encode("ascii", "surrogateescape")
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            return raw.decode("cp1252", errors="replace")


def decode_words(value: str, defects: list[str], where: str) -> str:
    """Decode RFC 2047 encoded-words; unfold continuation lines."""
    unfolded = value.replace("\r\n", "\n").replace("\n ", " ").replace("\n\t", " ")
    unfolded = unfolded.replace("\r", "").replace("\n", "")
    if "=?" not in unfolded:
        return unfolded
    try:
        return str(make_header(decode_header(unfolded)))
    except (UnicodeDecodeError, LookupError, ValueError, email.errors.HeaderParseError) as error:
        defects.append(f"{where}: undecodable encoded-word ({error})")
        return unfolded


def parse_addresses(values: list[str], defects: list[str], where: str) -> list[dict[str, str]]:
    """`Name <addr>` lists with decoded names; addresses lower-cased for matching, kept as is."""
    result = []
    try:
        pairs = email.utils.getaddresses(values)
    except (ValueError, IndexError) as error:
        defects.append(f"{where}: unparseable address list ({error})")
        pairs = [("", value) for value in values]
    for name, address in pairs:
        if not name and not address:
            continue
        decoded = decode_words(name, defects, where) if name else ""
        result.append({"name": decoded.strip(), "address": address.strip()})
    if values and not result and not all(_EMPTY_GROUP.match(value) for value in values):
        defects.append(f"{where}: no address found in {values[0][:80]!r}")
    return result


def parse_date(value: str | None, defects: list[str]) -> dict[str, Any] | None:
    """The Date header with its original UTC offset kept apart from the UTC instant."""
    if value is None:
        return None
    raw = " ".join(value.split())
    try:
        parsed = email.utils.parsedate_tz(raw)
    except (ValueError, IndexError, TypeError):
        parsed = None
    if parsed is None:
        defects.append(f"Date: unparseable {raw[:60]!r}")
        return {"raw": raw}
    offset = parsed[9]
    fields = list(parsed[:6])
    if fields[0] < 100:  # two-digit years, RFC 5322 section 4.3
        fields[0] += 2000 if fields[0] < 50 else 1900
    try:
        zone = timezone(timedelta(seconds=offset or 0))
        year, month, day, hour, minute, second = fields
        local = datetime(year, month, day, hour, minute, second, tzinfo=zone)
    except (ValueError, OverflowError) as error:
        defects.append(f"Date: impossible date {raw[:60]!r} ({error})")
        return {"raw": raw}
    sign = "-" if (offset or 0) < 0 else "+"
    minutes = abs(offset or 0) // 60
    return {
        "raw": raw,
        "utc": local.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "local": local.isoformat(),
        "offset": f"{sign}{minutes // 60:02d}{minutes % 60:02d}" if offset is not None else None,
        "offset_minutes": (offset // 60) if offset is not None else None,
    }


def message_ids(value: str | None) -> list[str]:
    """Message-IDs in a References or In-Reply-To header, without angle brackets."""
    if not value:
        return []
    ids = []
    for chunk in value.replace(">", "> ").split():
        token = chunk.strip()
        if token.startswith("<") and token.endswith(">") and len(token) > 2:
            ids.append(token[1:-1])
    return ids

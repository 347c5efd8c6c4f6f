"""Text formats: plain text, CSV, JSON, HTML, XML (defusedxml: no entity expansion, no external
fetches), SVG, and the contact and calendar formats vCard and iCalendar."""

from __future__ import annotations

import quopri
import re
from typing import Any

from defusedxml import ElementTree
from defusedxml.common import DefusedXmlException

from strongroom.formats import docmeta, htmltext
from strongroom.formats.base import Parsed
from strongroom.formats.extract import ExtractOptions, finish
from strongroom.formats.mailheaders import decode_bytes

_FOLD = re.compile(r"\r?\n[ \t]")
_PROPERTY = re.compile(r"^([A-Za-z0-9-]+)((?:;[^:]*)?):(.*)$")
_VCARD_KEYS = {"FN": "name", "ORG": "organisation", "TITLE": "job_title", "EMAIL": "email"}
_ICAL_KEYS = {
    "SUMMARY": "summary",
    "ORGANIZER": "organizer",
    "LOCATION": "location",
    "PRODID": "creator_tool",
}
_ICAL_DATES = {"DTSTART": "start", "DTEND": "end", "CREATED": "created", "DTSTAMP": "stamped"}


def text(data: bytes, options: ExtractOptions, mime: str) -> Parsed:
    parsed = Parsed(kind="document")
    decoded = decode_bytes(data[: options.max_text_chars * 4], None, parsed.defects, "text")
    if mime == "text/html":
        parsed.html = decoded
        return finish(parsed, htmltext.to_text(decoded), options)
    if mime in ("text/xml", "application/xml", "image/svg+xml") or mime.endswith("+xml"):
        return finish(parsed, _xml_text(decoded, data, parsed), options)
    return finish(parsed, decoded.replace("\r\n", "\n"), options)


def _xml_text(decoded: str, data: bytes, parsed: Parsed) -> str:
    try:
        root = ElementTree.fromstring(data)
    except DefusedXmlException as error:
        parsed.defects.append(f"XML refused by defusedxml ({type(error).__name__}); raw text kept")
        return decoded
    except (ElementTree.ParseError, ValueError) as error:
        parsed.defects.append(f"XML not well-formed ({error}); raw text kept")
        return decoded
    parsed.record["xml_root"] = root.tag.rsplit("}", 1)[-1][:100]
    words = (piece.strip() for piece in root.itertext())
    return "\n".join(piece for piece in words if piece)


def _properties(decoded: str) -> list[tuple[str, str, str]]:
    out = []
    for line in _FOLD.sub("", decoded).splitlines():
        match = _PROPERTY.match(line.strip())
        if match:
            out.append((match.group(1).upper(), match.group(2), match.group(3)))
    return out


def _value(params: str, value: str, charset: str = "utf-8") -> str:
    if "QUOTED-PRINTABLE" in params.upper():
        found = re.search(r"CHARSET=([^;:]+)", params, re.IGNORECASE)
        codec = found.group(1) if found else charset
        raw = quopri.decodestring(value.encode("utf-8", "replace"))
        try:
            value = raw.decode(codec, "replace")
        except LookupError:
            value = raw.decode("utf-8", "replace")
    return value.replace("\\n", "\n").replace("\\N", "\n").replace("\\,", ",").replace("\\;", ";")


def calendar(data: bytes, options: ExtractOptions, mime: str) -> Parsed:
    """vCard or iCalendar: each property as a readable line, the key ones as metadata."""
    parsed = Parsed(kind="document")
    decoded = decode_bytes(data[: options.max_text_chars], None, parsed.defects, "text")
    # Quoted-printable soft line breaks ("=" at the end) continue a vCard 2.1 value.
    decoded = re.sub(r"=\r?\n", "", decoded) if "QUOTED-PRINTABLE" in decoded.upper() else decoded
    lines: list[str] = []
    metadata: dict[str, Any] = {}
    vcard = mime == "text/vcard" or "BEGIN:VCARD" in decoded[:2000].upper()
    entries = 0
    for name, params, raw_value in _properties(decoded):
        value = _value(params, raw_value)
        if name in ("BEGIN", "END", "VERSION"):
            entries += name == "BEGIN" and value.upper() in ("VCARD", "VEVENT", "VTODO")
            continue
        if name == "N" and vcard:
            value = " ".join(part for part in reversed(value.split(";")[:2]) if part)
        lines.append(f"{name.title()}: {value.strip()}")
        keys = _VCARD_KEYS if vcard else _ICAL_KEYS
        if name in keys:
            metadata.setdefault(keys[name], []).append(value.strip())
        elif not vcard and name in _ICAL_DATES:
            metadata.setdefault(_ICAL_DATES[name], []).append(docmeta.iso_date(value))
    metadata = {k: v[0] if len(v) == 1 else v[:100] for k, v in metadata.items()}
    metadata["entries"] = entries
    parsed.record["metadata"] = metadata
    parsed.record["structured_type"] = "vcard" if vcard else "icalendar"
    if isinstance(metadata.get("creator_tool"), str):
        parsed.facts.extend(docmeta.facts(metadata))
    return finish(parsed, "\n".join(lines), options)

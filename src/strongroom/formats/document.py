"""Loose files and attachments that are not mail: text where we can read it, else a status.

Plain text and HTML are read here; richer document types get their own modules and registry
entries. Anything without a text extractor is kept byte-exact with status `unsupported`.
"""

from __future__ import annotations

from strongroom.formats import htmltext
from strongroom.formats.base import Parsed, Status
from strongroom.formats.detect import detect
from strongroom.formats.mailheaders import decode_bytes

MAX_TEXT_BYTES = 64 * 1024**2
_TEXT_TYPES = ("text/", "application/json", "application/xml", "application/csv")


class DocumentFormat:
    name = "document"

    def parse(self, data: bytes, name: str | None) -> Parsed:
        mime = detect(data[:8192], name).mime
        parsed = Parsed(kind="document", record={"mime": mime})
        if not data:
            parsed.status, parsed.reason = Status.OK, "empty file"
            return parsed
        if not mime.startswith(_TEXT_TYPES):
            parsed.status = Status.UNSUPPORTED
            parsed.reason = f"no text extractor for {mime}"
            return parsed
        text = decode_bytes(data[:MAX_TEXT_BYTES], None, parsed.defects, "text")
        parsed.text = htmltext.to_text(text) if mime == "text/html" else text
        if mime == "text/html":
            parsed.html = text
        return parsed


class UnsupportedContainer:
    """An archive type we recognise but cannot open (7z, rar): kept whole, said plainly."""

    def __init__(self, name: str) -> None:
        self.name = name

    def parse(self, data: bytes, name: str | None) -> Parsed:
        return Parsed(
            kind="document",
            status=Status.UNSUPPORTED,
            reason=f"{self.name} archives are recognised but not opened",
        )

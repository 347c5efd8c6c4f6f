"""Loose files and attachments that are not mail: one dispatcher over the document families.

The family is chosen by the MIME type detection gave (magic bytes, then libmagic), then by the
file name's extension when the bytes say nothing more than `application/octet-stream`. Each
family module returns text (pages split by form feeds), `record["metadata"]` and searchable
facts. Every outcome is recorded in `record["extraction"]` (text, ocr, no-text, encrypted,
unsupported, corrupt); a file no family reads is kept byte-exact with status `unsupported`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import PurePath

from strongroom.formats import image, legacy_office, odf, office, pdf, rtf, structured, wordperfect
from strongroom.formats.base import Parsed, Status
from strongroom.formats.detect import HEAD_BYTES, detect
from strongroom.formats.extract import ExtractError, Extraction, ExtractOptions, scrub

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
Extractor = Callable[[bytes, ExtractOptions, str], Parsed]

_OLE_MIMES = (
    "application/x-ole-storage",
    "application/msword",
    "application/vnd.ms-excel",
    "application/vnd.ms-powerpoint",
    "application/vnd.ms-office",
    "application/encrypted",
    "application/CDFV2",
)
_OOXML_PREFIXES = (
    "application/vnd.openxmlformats-officedocument.",
    "application/vnd.ms-word.",
    "application/vnd.ms-excel.sheet.",
    "application/vnd.ms-excel.template.",
    "application/vnd.ms-powerpoint.presentation.",
    "application/vnd.ms-powerpoint.slideshow.",
    "application/vnd.ms-powerpoint.template.",
)
_TEXT_MIMES = (
    "application/json",
    "application/x-ndjson",
    "application/xml",
    "application/csv",
    "image/svg+xml",
)
_CALENDAR_MIMES = ("text/calendar", "text/vcard", "text/x-vcard", "text/directory")
_BY_EXTENSION = {
    ".pdf": "application/pdf",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    ".odt": "application/vnd.oasis.opendocument.text",
    ".rtf": "text/rtf",
    ".txt": "text/plain",
    ".csv": "text/csv",
    ".htm": "text/html",
    ".html": "text/html",
    ".vcf": "text/vcard",
    ".ics": "text/calendar",
}
# WordPerfect 4 files have no magic number: tried only on these names, and only when the
# whole file parses as one (formats/wordperfect.py).
_WORDPERFECT_4 = (".doc", ".wp", ".wp4", ".wpd")


def _ooxml(data: bytes, options: ExtractOptions, mime: str) -> Parsed:
    return office.extract(data, options)


def _pdf(data: bytes, options: ExtractOptions, mime: str) -> Parsed:
    return pdf.extract(data, options)


def _odf(data: bytes, options: ExtractOptions, mime: str) -> Parsed:
    return odf.extract(data, options)


def _rtf(data: bytes, options: ExtractOptions, mime: str) -> Parsed:
    return rtf.extract(data, options)


def _legacy(data: bytes, options: ExtractOptions, mime: str) -> Parsed:
    return legacy_office.extract(data, options)


def _image(data: bytes, options: ExtractOptions, mime: str) -> Parsed:
    return image.extract(data, options)


def _wordperfect(data: bytes, options: ExtractOptions, mime: str) -> Parsed:
    return wordperfect.extract(data, options)


def family(mime: str, head: bytes) -> tuple[str, Extractor] | None:
    """Which extractor reads this MIME type (None: no extractor)."""
    if mime == "application/pdf":
        return "pdf", _pdf
    if mime.startswith(_OOXML_PREFIXES):
        return "ooxml", _ooxml
    if mime.startswith("application/vnd.oasis.opendocument.") or (
        mime in ("text/xml", "application/xml") and b"urn:oasis:names:tc:opendocument" in head
    ):
        return "odf", _odf
    if mime in ("text/rtf", "application/rtf"):
        return "rtf", _rtf
    if (head.startswith(OLE_MAGIC) and mime in _OLE_MIMES) or mime == "application/vnd.ms-excel":
        return "legacy-office", _legacy
    if mime in _CALENDAR_MIMES:
        return "calendar", structured.calendar
    if mime.startswith("text/") or mime in _TEXT_MIMES or mime.endswith("+xml"):
        return "text", structured.text
    if mime.startswith("image/"):
        return "image", _image
    return None


def _by_name(suffix: str, head: bytes, data: bytes) -> tuple[str, Extractor] | None:
    """For bytes that say no more than application/octet-stream: the family the name suggests."""
    if suffix in _BY_EXTENSION:
        return family(_BY_EXTENSION[suffix], head)
    if suffix in _WORDPERFECT_4 and wordperfect.read(data) is not None:
        return "wordperfect-4", _wordperfect
    return None


class DocumentFormat:
    name = "document"

    def __init__(self, options: ExtractOptions | None = None) -> None:
        self.options = options or ExtractOptions()

    def parse(self, data: bytes, name: str | None) -> Parsed:
        head = data[:HEAD_BYTES]
        mime = detect(head, name, data if data.startswith(OLE_MAGIC) else None).mime
        suffix = PurePath(name).suffix.lower() if name else ""
        chosen = family(mime, head)
        by_extension = False
        if chosen is None and mime == "application/octet-stream":
            chosen = _by_name(suffix, head, data)
            by_extension = chosen is not None
        if not data:
            parsed = Parsed(kind="document", reason="empty file")
            parsed.record["extraction"] = Extraction.NO_TEXT
        elif chosen is None:
            parsed = Parsed(kind="document", status=Status.UNSUPPORTED)
            parsed.reason = f"no text extractor for {mime}"
            parsed.record["extraction"] = Extraction.UNSUPPORTED
        else:
            parsed = self._extract(chosen, data, mime)
            parsed.record["extractor"] = chosen[0] + (f" (by extension {suffix})" * by_extension)
        parsed.record["mime"] = mime
        parsed.text, parsed.html = scrub(parsed.text), scrub(parsed.html)
        parsed.record, parsed.facts = scrub(parsed.record), scrub(parsed.facts)
        return parsed

    def _extract(self, chosen: tuple[str, Extractor], data: bytes, mime: str) -> Parsed:
        try:
            parsed = chosen[1](data, self.options, mime)
        except ExtractError as error:
            parsed = Parsed(kind="document", status=error.status, reason=str(error))
            parsed.record["extraction"] = error.status
            return parsed
        if parsed.status in (Status.UNSUPPORTED, Status.ENCRYPTED, Status.CORRUPT):
            parsed.record["extraction"] = parsed.status  # the same words: see Extraction
        parsed.record.setdefault("extraction", Extraction.NO_TEXT)
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
            record={"extraction": Extraction.UNSUPPORTED},
        )

"""Type detection: magic bytes first, then libmagic, then the file name's extension.

The result names one handler in the registry and says why it was chosen; both are stored with
the item so a reader can see how strongroom decided what a file is.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from pathlib import PurePath

import magic

HEAD_BYTES = 8192

# A mail header line: a field name of printable ASCII without a colon, then a colon.
_FIELD = re.compile(rb"^([\x21-\x39\x3b-\x7e]+)[ \t]*:")
# The fields whose presence makes a header block an email rather than, say, an HTTP dump.
_MAIL_FIELDS = frozenset(
    {
        b"from",
        b"to",
        b"cc",
        b"subject",
        b"date",
        b"message-id",
        b"received",
        b"return-path",
        b"delivered-to",
        b"sender",
        b"reply-to",
        b"in-reply-to",
        b"references",
        b"mime-version",
        b"x-mailer",
        b"envelope-to",
        b"dkim-signature",
        b"arc-seal",
    }
)
# "From " envelope line of an mbox: an address (or MAILER-DAEMON) then a ctime-style date,
# perhaps followed by more words (UUCP's "remote from host", strongroom's export framing).
_ENVELOPE = re.compile(rb"^From [^\s]*.*\d{1,2}:\d\d(:\d\d)?.*\d{4}(\s.*)?$")
_FIRST_LINE = re.compile(rb"([^\r\n]*)(?:\r\n|\n|\r|$)")
_EMLX_LENGTH = re.compile(rb"^\s*\d+\s*\r?\n")

_EXTENSION_TYPES = {
    ".eml": "email",
    ".mbox": "mbox",
    ".mbx": "mbox",
    ".emlx": "emlx",
    ".msg": "msg",
    ".pst": "pst",
    ".ost": "pst",
    ".zip": "zip",
    ".tar": "tar",
    ".tgz": "tar",
    ".gz": "gzip",
    ".bz2": "bzip2",
    ".xz": "xz",
    ".7z": "7z",
    ".rar": "rar",
}


@dataclass(frozen=True)
class Detection:
    type: str  # the registry key of the handler: email, mbox, zip, document, ...
    mime: str  # libmagic's MIME type (or our own for formats it does not know)
    reason: str  # e.g. "magic: !BDN (PST)", "headers: 5 mail fields", "extension: .eml"


def looks_like_headers(head: bytes) -> int:
    """How many known mail fields open this text before the first blank line (0: not mail)."""
    mail_fields = 0
    lines = head.replace(b"\r\n", b"\n").replace(b"\r", b"\n").split(b"\n")
    for number, line in enumerate(lines[:200]):
        if not line.strip():
            break
        if line[:1] in (b" ", b"\t") and number > 0:
            continue  # folded continuation of the previous field
        match = _FIELD.match(line)
        if not match:
            return 0
        if match.group(1).lower() in _MAIL_FIELDS:
            mail_fields += 1
    return mail_fields


def is_mbox(head: bytes) -> bool:
    # The first line ends at LF, CRLF or a bare CR (old Mac files have no LF at all).
    line = _FIRST_LINE.match(head)
    if line is None or not _ENVELOPE.match(line.group(1)):
        return False
    return looks_like_headers(head[line.end() :]) > 0


_OOXML_MAIN = {
    b"word/document.xml": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    b"xl/workbook.xml": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    b"ppt/presentation.xml": "application/vnd.openxmlformats-officedocument.presentationml"
    ".presentation",
}
_OOXML_SUFFIXES = {
    ".docx": b"word/document.xml",
    ".docm": b"word/document.xml",
    ".dotx": b"word/document.xml",
    ".dotm": b"word/document.xml",
    ".xlsx": b"xl/workbook.xml",
    ".xlsm": b"xl/workbook.xml",
    ".xltx": b"xl/workbook.xml",
    ".xltm": b"xl/workbook.xml",
    ".pptx": b"ppt/presentation.xml",
    ".pptm": b"ppt/presentation.xml",
    ".potx": b"ppt/presentation.xml",
    ".potm": b"ppt/presentation.xml",
    ".ppsx": b"ppt/presentation.xml",
    ".ppsm": b"ppt/presentation.xml",
}
_ODF_SUFFIXES = {
    ".odt": "application/vnd.oasis.opendocument.text",
    ".ods": "application/vnd.oasis.opendocument.spreadsheet",
    ".odp": "application/vnd.oasis.opendocument.presentation",
    ".odg": "application/vnd.oasis.opendocument.graphics",
}
_ODF_MIMETYPE = re.compile(
    rb"^PK\x03\x04.{26}mimetype(application/vnd\.oasis\.opendocument\.[a-z.-]+)", re.S
)


def _office_zip(head: bytes, suffix: str) -> Detection | None:
    """A zip that is an office document: ODF's leading `mimetype` member, or OOXML's
    [Content_Types].xml with its main part named in the first bytes (else by the extension)."""
    odf = _ODF_MIMETYPE.match(head)
    if odf:
        mime = odf.group(1).decode("ascii")
        return Detection("document", mime, f"magic: zip with ODF mimetype {mime}")
    if b"[Content_Types].xml" in head or b"_rels/.rels" in head:
        for part, mime in _OOXML_MAIN.items():
            if part in head:
                return Detection("document", mime, f"magic: OOXML zip with {part.decode()}")
        if suffix in _OOXML_SUFFIXES:
            mime = _OOXML_MAIN[_OOXML_SUFFIXES[suffix]]
            return Detection("document", mime, f"magic: OOXML zip, extension: {suffix}")
    if suffix in _ODF_SUFFIXES and (b"META-INF/manifest.xml" in head or b"content.xml" in head):
        mime = _ODF_SUFFIXES[suffix]
        return Detection("document", mime, f"magic: zip with ODF parts, extension: {suffix}")
    return None


_OLE_STREAMS = (
    ("encryptedpackage", "application/encrypted", "encrypted OOXML package"),
    ("worddocument", "application/msword", "Word document"),
    ("workbook", "application/vnd.ms-excel", "Excel workbook"),
    ("book", "application/vnd.ms-excel", "Excel 5 workbook"),
    ("powerpoint document", "application/vnd.ms-powerpoint", "PowerPoint presentation"),
)


def _ole_type(head: bytes, data: bytes | None) -> Detection:
    """An OLE2 compound file is an Outlook message, or a legacy Office document."""
    import olefile

    if data is not None:
        try:
            with olefile.OleFileIO(io.BytesIO(data)) as ole:
                names = {"/".join(entry).lower() for entry in ole.listdir(streams=True)}
        except OSError as error:
            return Detection("document", "application/x-ole-storage", f"magic: OLE2 ({error})")
        if "__properties_version1.0" in names or any(
            name.startswith("__substg1.0_") for name in names
        ):
            return Detection("msg", "application/vnd.ms-outlook", "magic: OLE2 with MAPI streams")
        for stream, mime, what in _OLE_STREAMS:
            if stream in names:
                return Detection("document", mime, f"magic: OLE2 {what} ({stream} stream)")
    mime = magic.from_buffer(head, mime=True)
    return Detection("document", mime, f"magic: OLE2, libmagic: {mime}")


def detect(head: bytes, name: str | None, data: bytes | None = None) -> Detection:
    """Decide what a blob is from its first bytes (and, for OLE2, its directory)."""
    suffix = PurePath(name).suffix.lower() if name else ""
    if head.startswith(b"!BDN"):
        return Detection("pst", "application/vnd.ms-outlook-pst", "magic: !BDN (PST/OST)")
    if head.startswith(b"\x78\x9f\x3e\x22"):
        return Detection("tnef", "application/vnd.ms-tnef", "magic: TNEF signature (winmail.dat)")
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return _ole_type(head, data)
    if is_mbox(head):
        if suffix == ".eml" or (name is not None and ":2," in name):
            # A .eml file or a Maildir message is one message by its name: its leading From_
            # line is an envelope, and a "From " line in its body must not split it.
            return Detection(
                "email", "message/rfc822", "headers after a From_ line; one message by its name"
            )
        return Detection("mbox", "application/mbox", "magic: From_ envelope line")
    if _EMLX_LENGTH.match(head) and (
        suffix in (".emlx", ".partial") or looks_like_headers(head.split(b"\n", 1)[-1]) >= 2
    ):
        return Detection("emlx", "message/x-emlx", "magic: byte count line then mail headers")
    fields = looks_like_headers(head)
    if fields >= 2 or (fields == 1 and suffix == ".eml"):
        return Detection("email", "message/rfc822", f"headers: {fields} mail fields")
    mime = magic.from_buffer(head, mime=True) if head else "application/x-empty"
    if mime == "application/zip" or head.startswith(b"PK\x03\x04"):
        office = _office_zip(head, suffix)
        if office is not None:
            return office
        if mime in ("application/zip", "application/x-zip-compressed") or suffix == ".zip":
            return Detection("zip", "application/zip", f"magic: PK zip, libmagic: {mime}")
        return Detection("document", mime, f"magic: PK zip, libmagic: {mime}")
    by_mime = {
        "application/x-tar": "tar",
        "application/gzip": "gzip",
        "application/x-gzip": "gzip",
        "application/x-bzip2": "bzip2",
        "application/x-xz": "xz",
        "application/x-7z-compressed": "7z",
        "application/x-rar": "rar",
        "application/vnd.rar": "rar",
        "message/rfc822": "email",
    }
    if mime in by_mime:
        return Detection(by_mime[mime], mime, f"libmagic: {mime}")
    if suffix in _EXTENSION_TYPES and mime in ("application/octet-stream", "text/plain"):
        kind = _EXTENSION_TYPES[suffix]
        return Detection(kind, mime, f"extension: {suffix} (libmagic: {mime})")
    return Detection("document", mime, f"libmagic: {mime}")

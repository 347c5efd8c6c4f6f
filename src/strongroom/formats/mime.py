"""A MIME walker over the exact bytes.

The stdlib parser gives decoded objects but not where each part sits in the original bytes; an
attached message must be stored as its exact bytes (DKIM on an attached message needs them), so
this module splits the raw bytes itself, along the boundaries the stdlib reads from the headers.
It never rewrites a byte: every part's `raw` is a slice of its parent's bytes.
"""

from __future__ import annotations

import binascii
import quopri
import re
from dataclasses import dataclass, field
from email.message import Message
from email.parser import BytesHeaderParser
from email.policy import Compat32

from strongroom.formats.mailheaders import raw_header_str


class _RawHeaders(Compat32):
    """compat32, except that a value holding 8-bit bytes comes back as the raw string (the bytes
    kept as surrogates, for `raw_header_str` to decode) instead of a `Header` whose str() has
    replaced each byte with U+FFFD: an unencoded "Müller" or "Grüße.pdf" must survive."""

    def header_fetch_parse(self, name: str, value: str) -> str:
        return value


_HEADER_PARSER = BytesHeaderParser(policy=_RawHeaders())
# A line the header parser reads as part of the headers: a field name and a colon, or a folded
# continuation (the standard library's feedparser uses the same test).
_HEADER_LINE = re.compile(rb"[\x21-\x39\x3b-\x7e]*:|[ \t]")
_LINE = re.compile(rb"[^\r\n]*(?:\r\n|\n|\r)?")
MAX_PARTS = 10_000  # beyond this a message is hostile, not mail


@dataclass
class RawPart:
    path: str  # "1", "1.2", ... ("" for the message itself)
    raw: bytes
    headers: Message
    body: bytes
    children: list[RawPart] = field(default_factory=list)

    @property
    def content_type(self) -> str:
        return raw_header_str(self.headers.get_content_type())

    @property
    def is_multipart(self) -> bool:
        return self.headers.get_content_maintype() == "multipart"


def line_ending(data: bytes) -> bytes:
    """The line ending this message uses: CRLF, LF or a bare CR (old Mac mail)."""
    for index, byte in enumerate(data[:65536]):
        if byte == 0x0A:
            return b"\n"
        if byte == 0x0D:
            return b"\r\n" if data[index + 1 : index + 2] == b"\n" else b"\r"
    return b"\n"


def split_head_body(data: bytes) -> tuple[bytes, bytes, bool]:
    """Headers and body at the first empty line; (head, body, found_separator).

    As in the header parser, the headers also end at the first line that is not a header field
    or a folded continuation: without an empty line, that line starts the body, so its text is
    searched and shown rather than lost between a header block nobody reads and an empty body.
    """
    eol = line_ending(data)
    if data.startswith(eol):
        return b"", data[len(eol) :], True
    separator = eol + eol
    position = data.find(separator)
    if position < 0:
        # Mixed endings: take the earliest empty line of any style.
        candidates = [
            (data.find(sep), sep) for sep in (b"\r\n\r\n", b"\n\n", b"\r\r") if sep in data
        ]
        if candidates:
            position, separator = min(candidates)
    region = data if position < 0 else data[:position]
    start = 0
    while start < len(region):
        line = _LINE.match(region, start).group()  # type: ignore[union-attr]  # always matches
        if not (_HEADER_LINE.match(line) or (start == 0 and line.startswith(b"From "))):
            return data[:start], data[start:], False
        start += len(line)
    if position < 0:
        return data, b"", False
    end = position + len(separator) // 2
    return data[:end], data[position + len(separator) :], True


def parse_headers(head: bytes) -> Message:
    # compat32 keeps each value as the raw string; a bare-CR head is read like any other.
    return _HEADER_PARSER.parsebytes(head + b"\n")


def _delimiters(body: bytes, boundary: bytes) -> list[tuple[int, int, bool]]:
    """(start, end_of_line, is_close) of each `--boundary` line in body."""
    pattern = re.compile(
        rb"(?:^|(?<=\n)|(?<=\r)(?!\n))--" + re.escape(boundary) + rb"(--)?[ \t]*(?:\r\n|\n|\r|$)"
    )
    return [(m.start(), m.end(), m.group(1) is not None) for m in pattern.finditer(body)]


def _strip_eol(chunk: bytes) -> bytes:
    """The line ending before a delimiter belongs to the delimiter (RFC 2046 section 5.1.1)."""
    if chunk.endswith(b"\r\n"):
        return chunk[:-2]
    if chunk.endswith((b"\n", b"\r")):
        return chunk[:-1]
    return chunk


def walk(
    data: bytes,
    defects: list[str],
    path: str = "",
    depth: int = 0,
    default_type: str = "text/plain",
) -> RawPart:
    head, body, found = split_head_body(data)
    where = f"part {path}" if path else "message"
    if not data:
        defects.append(f"{where}: empty")
    elif not found and body:
        # Headers alone need no empty line after them (RFC 5322 section 3.5, RFC 2046 5.1.1).
        defects.append(f"{where}: no empty line between headers and body")
    headers = parse_headers(head)
    # A part without Content-Type is text/plain, but message/rfc822 inside a multipart/digest
    # (RFC 2046 section 5.1.5).
    headers.set_default_type(default_type)
    defects.extend(f"{where}: {type(d).__name__}" for d in headers.defects)
    part = RawPart(path, data, headers, body)
    if not part.is_multipart:
        return part
    boundary = headers.get_boundary()
    if not boundary:
        defects.append(f"{where}: multipart without a boundary parameter")
        return part
    if depth > 50:
        defects.append(f"{where}: multipart nesting deeper than 50 levels")
        return part
    marks = _delimiters(body, boundary.encode("utf-8", "surrogateescape"))
    if not marks:
        defects.append(f"{where}: boundary {boundary!r} never appears in the body")
        return part
    child_type = "message/rfc822" if part.content_type == "multipart/digest" else "text/plain"
    closed = any(is_close for _, _, is_close in marks)
    if not closed:
        defects.append(f"{where}: no closing boundary")
    for index, (_start, line_end, is_close) in enumerate(marks):
        if is_close:
            break
        next_start = marks[index + 1][0] if index + 1 < len(marks) else len(body)
        chunk = body[line_end:next_start]
        if index + 1 < len(marks):
            chunk = _strip_eol(chunk)
        child_path = f"{path}.{index + 1}" if path else str(index + 1)
        if len(part.children) >= MAX_PARTS:
            defects.append(f"{where}: more than {MAX_PARTS} parts; the rest kept only in the raw")
            break
        part.children.append(walk(chunk, defects, child_path, depth + 1, child_type))
    return part


def decoded_body(part: RawPart, defects: list[str]) -> bytes:
    """The body with its Content-Transfer-Encoding undone (the attachment's own bytes)."""
    encoding = str(part.headers.get("content-transfer-encoding", "")).strip().lower()
    where = f"part {part.path}" if part.path else "message"
    if encoding == "base64":
        cleaned = re.sub(rb"[^A-Za-z0-9+/=]", b"", part.body)
        cleaned = cleaned.split(b"=", 1)[0]
        cleaned += b"=" * (-len(cleaned) % 4)
        try:
            return binascii.a2b_base64(cleaned)
        except binascii.Error as error:
            defects.append(f"{where}: invalid base64 ({error})")
            return part.body
    if encoding == "quoted-printable":
        return quopri.decodestring(part.body)
    if encoding in ("x-uuencode", "uuencode", "x-uue", "uue"):
        try:
            lines = part.body.splitlines()[1:]
            return b"".join(binascii.a2b_uu(line) for line in lines if line and line != b"end")
        except binascii.Error as error:
            defects.append(f"{where}: invalid uuencode ({error})")
            return part.body
    if encoding not in ("", "7bit", "8bit", "binary"):
        defects.append(f"{where}: unknown Content-Transfer-Encoding {encoding!r}")
    return part.body

"""Byte-level MIME assembly with LF line endings.

Messages are written by hand rather than by ``email.generator`` so that every byte (folding,
transfer encoding, boundaries, deliberate defects) is under the generator's control.
"""

from __future__ import annotations

import base64
import binascii
import urllib.parse
from collections.abc import Sequence
from dataclasses import dataclass, field
from email.header import Header
from email.utils import formataddr

from strongroom.demo.people import Person

HeaderList = list[tuple[str, str]]


def charset_for(text: str, preferred: str) -> str:
    """``preferred`` if it can encode ``text``, else UTF-8."""
    try:
        text.encode(preferred)
    except UnicodeEncodeError:
        return "utf-8"
    return preferred


def encode_words(text: str, charset: str, header_name: str = "Subject") -> str:
    """RFC 2047 encoded-words for non-ASCII text (folded with LF + space), ASCII as is."""
    if text.isascii():
        return text
    encoded = Header(text, charset_for(text, charset), header_name=header_name).encode()
    return encoded.replace("\r\n", "\n")


def encode_prefixed(prefix: str, text: str, charset: str) -> str:
    """'Re: ' + encoded subject, keeping the ASCII prefix outside the encoded-words."""
    if text.isascii() or not prefix:
        return prefix + encode_words(text, charset)
    header = Header(prefix, "us-ascii", header_name="Subject")
    header.append(text, charset_for(text, charset))
    return header.encode().replace("\r\n", "\n")


def address(person: Person, charset: str) -> str:
    name = person.name
    if name.isascii():
        return formataddr((name, person.address))
    return formataddr((name, person.address), charset=charset_for(name, charset))


def address_list(people: Sequence[Person], charset: str, header_name: str) -> str:
    """Comma-separated addresses, folded so no line passes 78 characters."""
    out, width = "", len(header_name) + 2
    for k, person in enumerate(people):
        item = address(person, charset) + ("," if k < len(people) - 1 else "")
        if k and width + 1 + len(item) > 78:
            out += "\n " + item
            width = 1 + len(item)
        else:
            out += (" " if k else "") + item
            width += (1 if k else 0) + len(item)
    return out


def encode_body(data: bytes, cte: str) -> bytes:
    """Apply a Content-Transfer-Encoding to LF-terminated ``data``."""
    if cte == "base64":
        return base64.encodebytes(data)
    if cte == "quoted-printable":
        out = binascii.b2a_qp(data, istext=True)
        return out if out.endswith(b"\n") else out + b"\n"
    return data if data.endswith(b"\n") else data + b"\n"


def filename_params(filename: str, charset: str) -> tuple[str, str]:
    """(Content-Type name param, Content-Disposition filename param); RFC 2231 when non-ASCII."""
    if filename.isascii():
        return f'name="{filename}"', f'filename="{filename}"'
    encoded = encode_words(filename, charset, header_name="Content-Type")
    quoted = urllib.parse.quote(filename.encode("utf-8"), safe="")
    return f'name="{encoded}"', f"filename*=utf-8''{quoted}"


@dataclass
class Part:
    """One MIME entity: its headers and its already-encoded body bytes."""

    headers: HeaderList
    body: bytes
    children: list[Part] = field(default_factory=list)
    boundary: str = ""
    close_boundary: bool = True
    preamble: str = ""

    def body_bytes(self) -> bytes:
        if not self.children:
            return self.body
        out = self.preamble.encode("ascii") + b"\n" if self.preamble else b""
        for child in self.children:
            out += f"--{self.boundary}\n".encode("ascii") + child.to_bytes()
            if not out.endswith(b"\n"):
                out += b"\n"
        if self.close_boundary:
            out += f"--{self.boundary}--\n".encode("ascii")
        return out

    def to_bytes(self) -> bytes:
        return header_bytes(self.headers) + b"\n" + self.body_bytes()


def header_bytes(headers: HeaderList) -> bytes:
    return b"".join(f"{name}: {value}\n".encode() for name, value in headers)


def text_part(text: str, subtype: str, charset: str, cte: str) -> Part:
    data = text.encode(charset)
    if cte in ("7bit", "8bit") and data.isascii():
        cte = "7bit"
    headers = [
        ("Content-Type", f'text/{subtype}; charset="{charset}"'),
        ("Content-Transfer-Encoding", cte),
    ]
    return Part(headers, encode_body(data, cte))


def attachment_part(content_type: str, filename: str, data: bytes, charset: str) -> Part:
    name_param, file_param = filename_params(filename, charset)
    headers = [
        ("Content-Type", f"{content_type};\n\t{name_param}"),
        ("Content-Disposition", f"attachment;\n\t{file_param}"),
        ("Content-Transfer-Encoding", "base64"),
    ]
    return Part(headers, base64.encodebytes(data))


def message_attachment(filename: str, raw: bytes) -> Part:
    headers = [
        ("Content-Type", f'message/rfc822; name="{filename}"'),
        ("Content-Disposition", f'attachment; filename="{filename}"'),
    ]
    if not raw.isascii():
        headers.append(("Content-Transfer-Encoding", "8bit"))
    return Part(headers, raw)


def multipart(subtype: str, boundary: str, children: list[Part], preamble: str = "") -> Part:
    headers = [("Content-Type", f'multipart/{subtype};\n\tboundary="{boundary}"')]
    return Part(headers, b"", children, boundary, True, preamble)

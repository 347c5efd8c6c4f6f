"""Outlook .pst/.ost mailboxes read with libpff-python, one derived RFC 822 message per item.

A PST holds MAPI properties, not the messages as sent, so each item becomes a *derived* message,
built deterministically (same PST, same bytes): `X-Strongroom-Derived: pst` first, then the
transport headers exactly as stored (their MIME structure fields, which describe a body the PST
no longer holds, renamed `X-Strongroom-Original-...`), or headers made from MAPI properties, then
a MIME body with the plain text, the HTML and the attachments' exact bytes in base64. Boundaries
are hashes of the content. Items are yielded one at a time; an item that fails to read still
yields a child with what could be recovered and `info["error"]`.

Limitation: libpff-python gives no item for an embedded message (a forwarded-as-attachment mail);
its property heap is read here directly, which recovers its small properties (subject, sender,
date, short bodies) but not its recipients, attachments or values stored in sub-nodes.
"""

from __future__ import annotations

import base64
import email.utils
import hashlib
import quopri
import re
import struct
from collections.abc import Iterator
from datetime import datetime, timedelta
from email.header import Header
from email.parser import BytesHeaderParser
from email.policy import compat32
from pathlib import Path
from typing import Any

import pypff
from extract_msg.encoding import lookupCodePage

from strongroom.formats.base import Child, ContainerError, Status
from strongroom.formats.outlook_msg import deencapsulate_rtf

DERIVED = b"X-Strongroom-Derived: pst\r\n"
_MIME_FIELDS = (b"content-type", b"content-transfer-encoding", b"mime-version")
_CORE_FIELDS = ("From", "To", "Cc", "Subject", "Date", "Message-ID")
_HEADERS_PREFIX = b"Microsoft Mail Internet Headers Version 2.0"
_MIME_TYPE = re.compile(r"^[\w.+-]+/[\w.+-]+$")
_PLAIN_HEAD = b"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: "
_PLAIN_HEAD += b"quoted-printable\r\n\r\n"
_RTF_HEAD = b"Content-Type: application/rtf\r\nContent-Disposition: inline; filename=body.rtf"
_RTF_HEAD += b"\r\nContent-Transfer-Encoding: base64\r\n\r\n"
_PASSWORD_CRC = 0x67FF  # PR_PST_PASSWORD in the message store: a CRC-32, not encryption
_EMBEDDED = 5  # PR_ATTACH_METHOD afEmbeddedMessage
_EMBEDDED_HEAD = "Content-Type: message/rfc822\r\nContent-Disposition: attachment"
_PARTIAL = b"X-Strongroom-Partial: embedded message read from its property heap\r\n"
_LOST = "embedded message read from its property heap; its recipients, attachments and values "
_LOST += "stored in sub-nodes are not recoverable with libpff-python"
Props = dict[int, tuple[int, bytes | None]]


def _entries(item: Any) -> Props:
    """The item's MAPI properties: id -> (type, raw bytes), from its first record set."""
    return _record(item.get_record_set(0)) if item.number_of_record_sets else {}


def _record(record_set: Any) -> Props:
    props: Props = {}
    for entry in record_set.entries:
        try:
            props[entry.entry_type] = (entry.value_type, entry.data)
        except OSError:  # one unreadable value must not lose the others
            props[entry.entry_type] = (entry.value_type, None)
    return props


def _heap_properties(data: bytes) -> Props:
    """Properties of a property context read from a heap-on-node (MS-PST 2.3.1, 2.3.3), for
    the single-block node libpff hands over as an embedded message's data."""
    props: Props = {}
    hnpm, signature, client = struct.unpack_from("<HBB", data)
    if signature != 0xEC or client != 0xBC:
        return props
    count = struct.unpack_from("<H", data, hnpm)[0]
    offsets = struct.unpack_from(f"<{count + 1}H", data, hnpm + 4)

    def heap(hid: int) -> bytes | None:
        index = (hid >> 5) & 0x7FF
        if hid & 0x1F or hid >> 16 or not 0 < index <= count:
            return None  # a sub-node or another block: not available here
        return data[offsets[index - 1] : offsets[index]]

    header = heap(struct.unpack_from("<I", data, 4)[0]) or b""
    if len(header) < 8 or header[0] != 0xB5 or header[3] != 0:
        return props
    records = heap(struct.unpack_from("<I", header, 4)[0]) or b""
    for offset in range(0, len(records) - 7, 8):
        prop_id, prop_type, value = struct.unpack_from("<HHI", records, offset)
        inline = prop_type in (0x02, 0x03, 0x04, 0x0A, 0x0B)
        props[prop_id] = (prop_type, records[offset + 4 : offset + 8] if inline else heap(value))
    return props


class _Props:
    """Typed reads of raw MAPI property values."""

    def __init__(self, values: Props, codepage: str) -> None:
        self.values = values
        self.codepage = codepage

    def raw_text(self, prop_id: int) -> bytes | None:
        """A string property's bytes: 8-bit as stored, Unicode as UTF-8."""
        kind, data = self.values.get(prop_id, (0, None))
        if data is None or kind not in (0x1E, 0x1F):
            return None
        if kind == 0x1F:
            data = data.decode("utf-16-le", errors="replace").encode("utf-8")
        return data.rstrip(b"\x00") or None

    def text(self, prop_id: int) -> str | None:
        kind, data = self.values.get(prop_id, (0, None))
        if data is None or kind not in (0x1E, 0x1F):
            return None
        value = data.decode("utf-16-le" if kind == 0x1F else self.codepage, errors="replace")
        return value.replace("\x00", "").strip() or None

    def integer(self, prop_id: int) -> int | None:
        kind, data = self.values.get(prop_id, (0, None))
        return int.from_bytes(data[:4], "little") if kind == 0x03 and data else None

    def time(self, prop_id: int) -> datetime | None:
        kind, data = self.values.get(prop_id, (0, None))
        if kind != 0x40 or not data or len(data) < 8:
            return None
        ticks = int.from_bytes(data[:8], "little")
        try:
            return datetime(1601, 1, 1) + timedelta(microseconds=ticks // 10)
        except OverflowError:
            return None

    def subject(self) -> str | None:
        value = self.text(0x37)
        if value and value.startswith("\x01") and len(value) > 1:  # a subject-prefix marker
            value = value[2:].strip() or None
        return value


def _clean(value: str) -> str:
    return " ".join(value.replace("\x00", "").split())


def _encoded(value: str) -> str:
    value = _clean(value)
    return value if value.isascii() else Header(value, "utf-8").encode(linesep="\r\n")


def _address(name: str | None, address: str | None) -> str:
    address = _clean(address) if address and "@" in address else ""
    return email.utils.formataddr((_clean(name or ""), address), charset="utf-8")


def _person(p: _Props, name_id: int, smtp_id: int, addr_id: int) -> str | None:
    name, address = p.text(name_id), p.text(smtp_id) or p.text(addr_id)
    return _address(name, address) if name or address else None


def _recipients(item: Any, codepage: str) -> list[tuple[str, str]]:
    """(field, formatted address) of each recipient, in the stored order."""
    found: list[tuple[str, str]] = []
    table = getattr(item, "recipients", None)
    for record_set in table.record_sets if table is not None else []:
        p = _Props(_record(record_set), codepage)
        field = {1: "To", 2: "Cc", 3: "Bcc"}.get((p.integer(0x0C15) or 0) & 0xF)
        if field:
            found.append((field, _address(p.text(0x3001), p.text(0x39FE) or p.text(0x3003))))
    return found


def _mapi_fields(p: _Props, recipients: list[tuple[str, str]]) -> list[tuple[str, str]]:
    fields: list[tuple[str, str]] = []
    sender = _person(p, 0x0C1A, 0x5D01, 0x0C1F)
    author = _person(p, 0x0042, 0x5D02, 0x0065) or sender
    if author:
        fields.append(("From", author))
    if sender and sender != author:
        fields.append(("Sender", sender))
    for field in ("To", "Cc", "Bcc"):
        addresses = [address for kind, address in recipients if kind == field]
        if addresses:
            fields.append((field, ", ".join(addresses)))
    if subject := p.subject():
        fields.append(("Subject", _encoded(subject)))
    if sent := p.time(0x0039) or p.time(0x0E06):  # UTC; -0000 says the offset is unknown
        fields.append(("Date", email.utils.format_datetime(sent)))
    for name, prop_id in (("Message-ID", 0x1035), ("In-Reply-To", 0x1042), ("References", 0x1039)):
        if value := p.text(prop_id):
            fields.append((name, _clean(value)))
    return fields


def _transport(raw: bytes) -> bytes:
    """Stored transport headers as a header block: the Exchange prefix line and blank lines
    dropped, MIME structure fields renamed; every other byte as stored."""
    lines = [line for line in raw.splitlines(keepends=True) if line.strip()]
    if lines and lines[0].startswith(_HEADERS_PREFIX):
        lines = lines[1:]
    out = [
        b"X-Strongroom-Original-" + line
        if not line[:1].isspace() and line.split(b":", 1)[0].strip().lower() in _MIME_FIELDS
        else line
        for line in lines
    ]
    block = b"".join(out).rstrip(b"\r\n")
    return block + b"\r\n" if block else b""


def _head(p: _Props, item: Any, info: dict[str, Any]) -> bytes:
    head = DERIVED
    if message_class := p.text(0x1A):
        head += f"X-Strongroom-Message-Class: {_clean(message_class)}\r\n".encode()
    mapi = _mapi_fields(p, _recipients(item, p.codepage))
    transport = _transport(p.raw_text(0x7D) or b"")
    if not transport:
        info["headers"] = "mapi"
        head += b"X-Strongroom-Header-Source: mapi\r\n"
        return head + b"".join(f"{k}: {v}\r\n".encode() for k, v in mapi)
    present = BytesHeaderParser(policy=compat32).parsebytes(transport + b"\r\n")
    added = [(k, v) for k, v in mapi if k in _CORE_FIELDS and present.get(k) is None]
    info["headers"] = "transport" + (f"+mapi ({', '.join(k for k, _ in added)})" if added else "")
    head += f"X-Strongroom-Header-Source: {info['headers']}\r\n".encode() + transport
    return head + b"".join(f"{k}: {v}\r\n".encode() for k, v in added)


def _base64(data: bytes) -> bytes:
    return base64.encodebytes(data).replace(b"\n", b"\r\n")


def _param(key: str, value: str) -> str:
    value = _clean(value)
    if value.isascii() and not any(c in value for c in '"\\'):
        return f'{key}="{value}"'
    return f"{key}*={email.utils.encode_rfc2231(value, 'utf-8')}"


def _multipart(subtype: str, parts: list[bytes]) -> bytes:
    boundary = f"=_strongroom_{hashlib.sha256(b''.join(parts)).hexdigest()[:32]}".encode()
    body = b"".join(b"--" + boundary + b"\r\n" + part + b"\r\n" for part in parts)
    head = f'Content-Type: multipart/{subtype}; boundary="{boundary.decode()}"\r\n\r\n'.encode()
    return head + body + b"--" + boundary + b"--\r\n"


def _text_parts(
    plain: bytes | None, html: bytes | None, charset: str | None, rtf: bytes | None,
    info: dict[str, Any],
) -> list[bytes]:  # fmt: skip
    """The body as stored: plain text (UTF-8 from libpff), HTML (its bytes), and from an
    RTF-only body the HTML or text it encapsulates, else the RTF itself as a part."""
    parts = []
    if rtf and (plain or html):
        info["rtf_body"] = "stored, not included (plain text or html present)"
    elif rtf:
        try:
            found = deencapsulate_rtf(rtf)
        except Exception as error:  # malformed encapsulation: kept as native RTF
            info.setdefault("defects", []).append(f"rtf body: {type(error).__name__}: {error}")
            found = None
        info["rtf_body"] = f"encapsulated {found[0]}" if found else "native rtf, part body.rtf"
        if found is None:
            parts.append(_RTF_HEAD + _base64(rtf))
        elif found[0] == "html":
            html, charset = found[1].encode("utf-8"), "utf-8"
        else:
            plain = found[1].encode("utf-8")
    if plain:
        text = plain.decode("utf-8", errors="replace").replace("\r\n", "\n").replace("\r", "\n")
        encoded = quopri.encodestring(text.encode("utf-8")).replace(b"\n", b"\r\n")
        parts.append(_PLAIN_HEAD + encoded)
    if html:
        label = f"; charset={charset}" if charset else ""
        html_head = f"Content-Type: text/html{label}\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        parts.append(html_head.encode() + _base64(html))
    return [_multipart("alternative", parts)] if len(parts) > 1 else parts


def _charset(page: int | None) -> str | None:
    try:
        return str(lookupCodePage(page)) if page else None
    except Exception:  # an unknown code page: no charset declared
        return None


def _embedded(data: bytes, codepage: str) -> bytes:
    """A derived message from an embedded message's property heap (see the module note)."""
    p = _Props(_heap_properties(data), codepage)
    if not p.values:
        raise ValueError("embedded message: property heap not readable")
    sub: dict[str, Any] = {}
    head = _head(p, None, sub).replace(DERIVED, DERIVED + _PARTIAL, 1)
    html = p.values.get(0x1013, (0, None))[1]
    return head + _mime_body(_text_parts(p.raw_text(0x1000), html, None, None, sub))


def _attachment(att: Any, number: int, codepage: str, info: dict[str, Any]) -> bytes:
    p = _Props(_entries(att), codepage)
    size = att.get_size()
    data = att.read_buffer(size) if size else b""
    name = _clean(att.long_filename or p.text(0x3707) or p.text(0x3704) or p.text(0x3001) or "")
    if p.integer(0x3705) == _EMBEDDED:
        try:
            message = _embedded(data, codepage)
        except (ValueError, struct.error) as error:
            info.setdefault("limitations", []).append(f"attachment {number}: {error}; node kept")
            name = name or f"embedded-message-{number}.pst-node"
        else:
            info.setdefault("limitations", []).append(f"attachment {number}: {_LOST}")
            head = _EMBEDDED_HEAD + (f"; {_param('filename', name + '.eml')}" if name else "")
            if not message.isascii():
                head += "\r\nContent-Transfer-Encoding: 8bit"
            return head.encode() + b"\r\n\r\n" + message
    declared = _clean(p.text(0x370E) or "").lower()
    mime = declared if _MIME_TYPE.match(declared) else "application/octet-stream"
    lines = [f"Content-Type: {mime}" + (f"; {_param('name', name)}" if name else "")]
    lines.append("Content-Disposition: attachment" + (f"; {_param('filename', name)}" * bool(name)))
    if content_id := p.text(0x3712):
        lines.append(f"Content-ID: <{_clean(content_id).strip('<>')}>")
    lines += ["Content-Transfer-Encoding: base64", "", ""]
    return "\r\n".join(lines).encode() + _base64(data)


def _body(p: _Props, item: Any, codepage: str, info: dict[str, Any]) -> bytes:
    def read(name: str) -> bytes | None:
        try:
            value = getattr(item, name, None)
        except OSError as error:
            info.setdefault("defects", []).append(f"{name}: {error}")
            return None
        return value if isinstance(value, bytes) else None

    html, charset = read("html_body"), _charset(p.integer(0x3FDE))
    parts = _text_parts(read("plain_text_body"), html, charset, read("rtf_body"), info)
    count = getattr(item, "number_of_attachments", 0) or 0
    for index in range(count):
        try:
            parts.append(_attachment(item.get_attachment(index), index + 1, codepage, info))
        except Exception as error:  # the other attachments and the body are still kept
            info["error"] = f"attachment {index + 1}: {type(error).__name__}: {error}"
            parts.append(_PLAIN_HEAD + quopri.encodestring(info["error"].encode()))
    info["attachments"] = count
    return _mime_body(parts)


def _mime_body(parts: list[bytes]) -> bytes:
    if not parts:  # no body, no attachments: an empty text part, not an empty multipart
        return b"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
    return b"MIME-Version: 1.0\r\n" + _multipart("mixed", parts)


def _error_child(locator: str, info: dict[str, Any], error: Exception, head: bytes = b"") -> Child:
    info["error"] = f"{type(error).__name__}: {error}"
    note = f"X-Strongroom-Error: {_clean(info['error'])[:900]}\r\n".encode()
    return Child(data=(head or DERIVED) + note + b"\r\n", locator=locator, info=info)


class PstContainer:
    name = "pst"

    def explode(self, path: Path) -> Iterator[Child]:
        if not path.is_file():
            raise FileNotFoundError(path)
        pst = pypff.file()
        try:
            pst.open(str(path))
        except OSError as error:
            raise ContainerError(f"libpff cannot open it: {error}", Status.CORRUPT) from error
        try:
            codepage = (pst.ascii_codepage or b"cp1252").decode("ascii", errors="replace")
            try:
                store = _Props(_entries(pst.get_message_store()), codepage)
                root = pst.get_root_folder()
            except OSError as error:
                raise ContainerError(f"libpff cannot read it: {error}", Status.CORRUPT) from error
            protected = bool(store.integer(_PASSWORD_CRC))
            yield from _Walk(codepage, {"derived": "pst", "password_protected": protected}).folder(
                root, ""
            )
        finally:
            pst.close()


class _Walk:
    """One explode's traversal: folders depth-first in stored order, items one at a time."""

    def __init__(self, codepage: str, base: dict[str, Any]) -> None:
        self.codepage, self.base = codepage, base

    def folder(self, folder: Any, path: str) -> Iterator[Child]:
        try:
            count, folders = folder.number_of_sub_messages, folder.number_of_sub_folders
        except OSError as error:
            yield _error_child(f"pst:{path or '/'}", {**self.base, "folder": path or "/"}, error)
            return
        for index in range(count):
            yield self.item(folder, index, path or "/")
        for index in range(folders):
            try:
                sub = folder.get_sub_folder(index)
                name = (sub.name or "").replace("%", "%25").replace("/", "%2F").replace("#", "%23")
            except OSError as error:
                where = f"{path}/#folder{index}"
                yield _error_child(f"pst:{where}", {**self.base, "folder": where}, error)
                continue
            yield from self.folder(sub, f"{path}/{name}")

    def item(self, folder: Any, index: int, path: str) -> Child:
        locator = f"pst:{path}#{index}"
        info: dict[str, Any] = {**self.base, "folder": path, "index": index}
        head = b""
        try:
            item = folder.get_sub_message(index)
            values = _entries(item)
            codepage = _charset(_Props(values, "ascii").integer(0x3FFD)) or self.codepage
            p = _Props(values, codepage)
            info["message_class"] = p.text(0x1A)
            head = _head(p, item, info)
            data = head + _body(p, item, codepage, info)
            return Child(data, locator, declared_type="message/rfc822", info=info)
        except Exception as error:  # one bad item must not stop the rest
            return _error_child(locator, info, error, head)

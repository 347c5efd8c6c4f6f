"""Outlook .msg files (OLE2 compound files) read with extract-msg.

The item's bytes are the .msg file itself. Mail (IPM.Note and its kin) becomes an `email` record
in the same shape as `rfc822`: taken from the transport headers (PR_TRANSPORT_MESSAGE_HEADERS)
when the file has them, else from MAPI properties (`derived_from: "mapi"`). Contacts, tasks,
appointments and sticky notes become `document` records with their class and fields. Attachments
become children with their exact bytes; an embedded message becomes a child .msg exported by
extract-msg. Nothing raises out of `parse`: unreadable files come back with a status and reason.
"""

from __future__ import annotations

import email.utils
import io
from collections.abc import Callable
from datetime import UTC, datetime
from email.message import Message
from email.parser import HeaderParser
from email.policy import compat32
from typing import Any, TypeVar

import extract_msg
import RTFDE
from extract_msg.encoding import lookupCodePage
from extract_msg.enums import AttachmentType, ErrorBehavior, RecipientType
from extract_msg.exceptions import InvalidFileFormatError
from extract_msg.utils import stripRtf

from strongroom.formats import htmltext
from strongroom.formats.base import Child, Parsed, Status
from strongroom.formats.mailheaders import (
    decode_bytes,
    decode_words,
    message_ids,
    parse_addresses,
    parse_date,
    raw_header_str,
)
from strongroom.formats.rfc822 import ADDRESS_FIELDS

T = TypeVar("T")
EMAIL_CLASSES = ("ipm.note", "report.", "ipm.schedule.meeting", "ipm.outlook.recall", "ipm.recall")
_TOLERANT = (
    ErrorBehavior.ATTACH_SUPPRESS_ALL
    | ErrorBehavior.RTFDE
    | ErrorBehavior.STANDARDS_VIOLATION
    | ErrorBehavior.NAMED_NAME_STREAM
)
# DER of the CMS content type id-envelopedData (1.2.840.113549.1.7.3): an encrypted S/MIME body
_ENVELOPED_DATA = bytes.fromhex("06092a864886f70d010703")
_HEADERS_PREFIX = "Microsoft Mail Internet Headers Version 2.0"
_OLE_MAGIC = bytes.fromhex("d0cf11e0a1b11ae1")


def _safe(read: Callable[[], T], defects: list[str], where: str) -> T | None:
    """One property read; extract-msg raises on damaged streams, which become defects."""
    try:
        return read()
    except Exception as error:  # a damaged property must not lose the item
        defects.append(f"{where}: unreadable ({type(error).__name__}: {error})")
        return None


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).replace("\x00", "").strip()
    return text or None


def _mapi_date(value: Any, source: str, defects: list[str]) -> dict[str, Any] | None:
    """A MAPI time is a UTC instant; the sender's own UTC offset is not stored, so none is given."""
    if not isinstance(value, datetime):
        return None
    naive = value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value
    date = parse_date(email.utils.format_datetime(naive), defects)
    if date is not None:
        date.update({"offset": None, "offset_minutes": None, "source": source})
    return date


def _open(data: bytes, defects: list[str]) -> Any:
    """Open tolerantly; retry with OLE defects tolerated; fix 8-bit strings with no codepage."""
    if not data.startswith(_OLE_MAGIC):  # and never bytes: olefile takes short bytes for a path
        raise InvalidFileFormatError("not an OLE2 compound file (no D0 CF 11 E0 signature)")
    options: dict[str, Any] = {"strict": False, "delayAttachments": True}
    try:
        msg = extract_msg.openMsg(io.BytesIO(data), errorBehavior=_TOLERANT, **options)
    except InvalidFileFormatError:
        raise
    except Exception as error:  # retried with every tolerance on
        defects.append(f"msg: read with OLE defects tolerated ({type(error).__name__}: {error})")
        msg = extract_msg.openMsg(
            io.BytesIO(data), errorBehavior=ErrorBehavior.SUPPRESS_ALL, **options
        )
    try:
        if msg.areStringsUnicode or "3FFD0003" in msg.props or "3FDE0003" not in msg.props:
            return msg
        charset = lookupCodePage(int(msg.getPropertyVal("3FDE0003")))
    except Exception:  # no better codepage: extract-msg's default stays
        return msg
    msg.close()
    defects.append(f"msg: 8-bit strings without PR_MESSAGE_CODEPAGE, read as {charset}")
    return extract_msg.openMsg(
        io.BytesIO(data), errorBehavior=_TOLERANT, overrideEncoding=charset, **options
    )


def _mapi_person(msg: Any, name_id: str, smtp_id: str, addr_id: str) -> list[dict[str, str]]:
    name = _text(msg.getStringStream(f"__substg1.0_{name_id}"))
    address = _text(msg.getStringStream(f"__substg1.0_{smtp_id}"))
    if address is None:
        legacy = _text(msg.getStringStream(f"__substg1.0_{addr_id}"))
        address = legacy if legacy and "@" in legacy else None
    if name is None and address is None:
        return []
    return [{"name": name or "", "address": address or ""}]


def _mapi_record(msg: Any, defects: list[str]) -> dict[str, Any]:
    """Sender, recipients, subject, date and ids from MAPI properties."""
    record: dict[str, Any] = {"addresses": {}}
    addresses = record["addresses"]
    sent_for = _mapi_person(msg, "0042", "5D02", "0065")
    sender = _mapi_person(msg, "0C1A", "5D01", "0C1F")
    if sent_for or sender:
        addresses["from"] = sent_for or sender
    if sent_for and sender and sent_for != sender:
        addresses["sender"] = sender
    kinds = {RecipientType.TO: "to", RecipientType.CC: "cc", RecipientType.BCC: "bcc"}
    for recipient in (
        _safe(lambda: list(getattr(msg, "recipients", [])), defects, "recipients") or []
    ):
        field = kinds.get(recipient.type)
        address = _text(recipient.smtpAddress) or _text(recipient.email) or ""
        if field:
            entry = {"name": _text(recipient.name) or "", "address": address}
            addresses.setdefault(field, []).append(entry)
    record["subject"] = _text(msg.getStringStream("__substg1.0_0037"))
    record["date"] = _mapi_date(
        msg.props.date, "mapi PR_CLIENT_SUBMIT_TIME", defects
    ) or _mapi_date(msg.getPropertyVal("0E060040"), "mapi PR_MESSAGE_DELIVERY_TIME", defects)
    record["message_id"] = next(iter(message_ids(msg.getStringStream("__substg1.0_1035"))), None)
    record["in_reply_to"] = message_ids(msg.getStringStream("__substg1.0_1042"))
    record["references"] = message_ids(msg.getStringStream("__substg1.0_1039"))
    record["mailer"] = None
    return record


def _header_record(headers: Message, defects: list[str]) -> dict[str, Any]:
    """The same fields `rfc822` reads, from the transport headers."""

    def text_of(field: str) -> str | None:
        value = headers.get(field)
        return None if value is None else decode_words(raw_header_str(value), defects, field)

    addresses = {}
    for field in ADDRESS_FIELDS:
        values = [raw_header_str(v) for v in headers.get_all(field, [])]
        if values:
            addresses[field] = parse_addresses(values, defects, field)
    return {
        "addresses": addresses,
        "subject": text_of("subject"),
        "date": parse_date(text_of("date"), defects),
        "message_id": next(iter(message_ids(text_of("message-id"))), None),
        "in_reply_to": message_ids(text_of("in-reply-to")),
        "references": message_ids(text_of("references")),
        "mailer": text_of("x-mailer") or text_of("user-agent"),
    }


def _record(msg: Any, defects: list[str]) -> dict[str, Any]:
    mapi = _mapi_record(msg, defects)
    header_text = _text(_safe(lambda: msg.getStringStream("__substg1.0_007D"), defects, "headers"))
    if header_text and header_text.startswith(_HEADERS_PREFIX):
        header_text = header_text[len(_HEADERS_PREFIX) :].lstrip()
    if not header_text:
        return {"headers": [], **mapi, "derived_from": "mapi"}
    headers = HeaderParser(policy=compat32).parsestr(header_text + "\r\n\r\n")
    record: dict[str, Any] = {"headers": [[k, raw_header_str(v)] for k, v in headers.items()]}
    record.update(_header_record(headers, defects))
    from_mapi = []
    for field in ("from", "to", "cc", "bcc"):
        if field not in record["addresses"] and field in mapi["addresses"]:
            record["addresses"][field] = mapi["addresses"][field]
            from_mapi.append(field)
    for key in ("subject", "date", "message_id"):
        if record[key] is None and mapi[key] is not None:
            record[key] = mapi[key]
            from_mapi.append(key)
    record["derived_from"] = "transport-headers"
    if from_mapi:
        record["mapi_fields"] = from_mapi
    return record


def _html_charset(msg: Any) -> str | None:
    try:
        return str(lookupCodePage(int(msg.getPropertyVal("3FDE0003"))))
    except Exception:  # no or unknown PR_INTERNET_CPID
        return None


def deencapsulate_rtf(rtf: bytes) -> tuple[str, str] | None:
    """The HTML or text Outlook encapsulated in an RTF body (`\\fromhtml1`, `\\fromtext`), as
    extract-msg does it; None for native RTF. Raises when the encapsulation is malformed."""
    head = rtf[:4096]
    if b"\\fromhtml" not in head and b"\\fromtext" not in head:
        return None
    decoder = RTFDE.DeEncapsulator(stripRtf(rtf[: rtf.rfind(b"}") + 1]))
    decoder.deencapsulate()
    kind = "html" if decoder.content_type == "html" else "text"
    content = decoder.html if kind == "html" else decoder.text
    if isinstance(content, bytes):
        content = content.decode("utf-8", errors="replace")
    return kind, str(content)


def _bodies(msg: Any, parsed: Parsed) -> None:
    """Plain text and HTML as stored; from an RTF-only body, what can be deencapsulated."""
    defects = parsed.defects
    plain = _safe(lambda: msg.getStringStream("__substg1.0_1000"), defects, "plain body")
    html_raw = _safe(lambda: msg.getStream("__substg1.0_10130102"), defects, "html body")
    rtf = _safe(lambda: getattr(msg, "rtfBody", None), defects, "rtf body")
    bodies = {"plain": "stored" if plain is not None else None}
    bodies["html"] = "stored" if html_raw is not None else None
    bodies["rtf"] = "stored, not converted" if rtf else None
    if plain is None and html_raw is None and hasattr(msg, "signedBody"):  # S/MIME signed
        plain = _safe(lambda: msg.body, defects, "signed body")
        html_raw = _safe(lambda: msg.htmlBody, defects, "signed html body")
        bodies["plain"] = bodies["html"] = "signed part"
    if plain is None and html_raw is None and rtf:
        try:
            found = deencapsulate_rtf(rtf)
            state = f"encapsulated {found[0]}" if found else "native rtf"
        except Exception as error:  # malformed encapsulation: the RTF is still kept
            defects.append(f"rtf body: not deencapsulated ({type(error).__name__}: {error})")
            found, state = None, "malformed encapsulated rtf"
        bodies["rtf"] = state if found else f"{state}, kept as child 'rtf body'"
        if found is not None:
            html_raw, plain = (found[1], None) if found[0] == "html" else (None, found[1])
        else:
            rtf_child = Child(rtf, "rtf body", name="body.rtf", declared_type="application/rtf")
            parsed.children.append(rtf_child)
    parsed.record["bodies"] = bodies
    if html_raw:
        if isinstance(html_raw, bytes):
            html_raw = decode_bytes(html_raw, _html_charset(msg), defects, "html body")
        parsed.html = str(html_raw)
    parsed.text = str(plain) if plain else htmltext.to_text(parsed.html) if parsed.html else ""


def _attachment_bytes(att: Any, defects: list[str], where: str) -> tuple[bytes | None, str]:
    kind = att.type
    if kind in (AttachmentType.MSG, AttachmentType.SIGNED_EMBEDDED) or hasattr(
        att.data, "exportBytes"
    ):
        try:
            return att.data.exportBytes(), "msg"
        except Exception as error:  # retried in repair mode, then recorded
            defects.append(f"{where}: embedded message export failed ({error}); retrying")
        data = _safe(lambda: att.data.exportBytes(allowBadEmbed=True), defects, where)
        return data, "msg"
    if kind is AttachmentType.WEB:
        return None, "web"
    if kind in (AttachmentType.BROKEN, AttachmentType.UNSUPPORTED, AttachmentType.UNKNOWN):
        defects.append(f"{where}: {kind.name.lower()} attachment, bytes not available")
        return None, kind.name.lower()
    data = att.data
    return (data if isinstance(data, bytes) else None), kind.name.lower()


def _attachments(msg: Any, parsed: Parsed) -> None:
    defects = parsed.defects
    signed = hasattr(msg, "rawAttachments")  # S/MIME: the stored p7m / multipart, not its parse
    read = (lambda: msg.rawAttachments) if signed else (lambda: msg.attachments)
    entries: list[dict[str, Any]] = []
    for index, att in enumerate(_safe(read, defects, "attachments") or [], 1):
        where = f"attachment {index}"
        try:
            data, kind = _attachment_bytes(att, defects, where)
            name = _text(att.name if kind == "msg" else att.longFilename or att.shortFilename)
            declared = _text(att.getStringStream("__substg1.0_370E"))
            declared = "application/vnd.ms-outlook" if kind == "msg" else declared
            content_id = _text(att.contentId)
        except Exception as error:  # one bad attachment must not lose the others
            defects.append(f"{where}: unreadable ({type(error).__name__}: {error})")
            entries.append({"index": index, "error": f"{type(error).__name__}: {error}"})
            continue
        entry = {"index": index, "name": name, "kind": kind, "declared_type": declared}
        entry["size"] = None if data is None else len(data)
        entry["content_id"] = content_id
        if kind == "web":
            entry["url"] = _text(getattr(att, "url", None))
        entries.append(entry)
        if data is not None:
            parsed.children.append(Child(data, where, name=name, declared_type=declared))
        if signed and data and _ENVELOPED_DATA in data[:64]:
            parsed.status, parsed.reason = Status.ENCRYPTED, "S/MIME encrypted (enveloped-data)"
        if name and name.lower() == "message.rpmsg":
            parsed.status, parsed.reason = Status.ENCRYPTED, "rights-managed (IRM) message"
    parsed.record["attachments"] = entries


def _fields(msg: Any) -> dict[str, Any]:
    """The class's own summary fields (contact details, task status, appointment place)."""
    groups = getattr(msg, "headerFormatProperties", None) or {}
    fields: dict[str, Any] = {}
    for key, value in groups.items():
        for label, raw in value.items() if isinstance(value, dict) else [(key, value)]:
            item = raw[0] if isinstance(raw, tuple) else raw
            if isinstance(item, list):
                item = [str(x) for x in item] or None
            elif item is not None and not isinstance(item, str | int | float | bool):
                item = str(item)
            if item not in (None, ""):
                fields[label] = item
    return fields


class OutlookMsgFormat:
    name = "msg"

    def parse(self, data: bytes, name: str | None) -> Parsed:
        defects: list[str] = []
        try:
            msg = _open(data, defects)
        except Exception as error:  # the boundary: errors become a status
            reason = f"extract-msg cannot open it: {type(error).__name__}: {error}"
            return Parsed(kind="email", status=Status.CORRUPT, reason=reason, defects=defects)
        try:
            return self._parse(msg, defects)
        except Exception as error:  # the boundary: errors become a status
            reason = f"extract-msg failed: {type(error).__name__}: {error}"
            return Parsed(kind="email", status=Status.CORRUPT, reason=reason, defects=defects)
        finally:
            try:
                msg.close()
            except Exception as error:  # closing must not hide the result
                defects.append(f"msg: close failed ({error})")

    def _parse(self, msg: Any, defects: list[str]) -> Parsed:
        msg_class = _text(msg.classType) or ""
        if not msg_class:
            reason = "no message class: an OLE2 file that is not an Outlook item, or a damaged one"
            return Parsed(kind="document", status=Status.CORRUPT, reason=reason, defects=defects)
        is_mail = msg_class.lower().startswith(EMAIL_CLASSES)
        parsed = Parsed(kind="email" if is_mail else "document", defects=defects)
        parsed.record = {"msg_class": msg_class, **_record(msg, defects)}
        if not hasattr(msg, "recipients"):
            defects.append(f"msg: class {msg_class!r} not known to extract-msg; read as generic")
        _bodies(msg, parsed)
        _attachments(msg, parsed)
        if msg_class.lower().startswith("ipm.note.rpmsg"):
            parsed.status, parsed.reason = Status.ENCRYPTED, "rights-managed (IRM) message"
        if not is_mail:
            fields = _safe(lambda: _fields(msg), defects, "fields") or {}
            parsed.record["fields"] = fields
            lines = [f"{label}: {value}" for label, value in fields.items()]
            parsed.text = "\n".join([*lines, "", parsed.text]).strip()
        return parsed

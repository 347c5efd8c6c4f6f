"""RFC 5322 / MIME messages: headers, bodies, attachments and defects from the exact bytes."""

from __future__ import annotations

import email.errors
import email.policy
import email.utils
import functools
import re
from email.headerregistry import AddressHeader, DateHeader, HeaderRegistry, UnstructuredHeader
from email.parser import BytesHeaderParser
from typing import Any

from strongroom.formats import htmltext
from strongroom.formats.base import Child, Parsed
from strongroom.formats.mailheaders import (
    decode_bytes,
    decode_words,
    message_ids,
    parse_addresses,
    parse_date,
    raw_header_str,
)
from strongroom.formats.mime import RawPart, decoded_body, walk

ADDRESS_FIELDS = (
    "from",
    "sender",
    "reply-to",
    "to",
    "cc",
    "bcc",
    "delivered-to",
    "resent-from",
    "resent-to",
    "resent-cc",
)


class _CachedHeaderRegistry(HeaderRegistry):
    """The stdlib registry builds a new header class with type() on every lookup (54,622 times
    for 2,341 messages); the class depends only on the field name, so it is built once."""

    def __init__(self) -> None:
        super().__init__()
        self._classes: dict[str, type] = {}

    def __getitem__(self, name: str) -> type:
        key = name.lower()
        cls = self._classes.get(key)
        if cls is None:
            cls = self._classes[key] = super().__getitem__(name)
        return cls


_REGISTRY = _CachedHeaderRegistry()
_STRICT_POLICY = email.policy.default.clone(header_factory=_REGISTRY)
_STRICT_HEADERS = BytesHeaderParser(policy=_STRICT_POLICY)
_MESSAGE_ENCODINGS = ("", "7bit", "8bit", "binary")
# Fields RFC 5322 section 3.6 allows at most once.
_SINGLE_FIELDS = (
    "date",
    "from",
    "sender",
    "reply-to",
    "to",
    "cc",
    "bcc",
    "message-id",
    "in-reply-to",
    "references",
    "subject",
)


# Printable ASCII text, folded or not: what most Received, DKIM-Signature and X- fields hold.
_PLAIN_TEXT = re.compile(r"[\x20-\x7e\t\r\n]*")
# Canonical values of structured fields, which the registry parses without a defect (checked on
# the real corpora and on generated values by tests/test_header_defects.py). They are matched
# after CR and LF are dropped, as header_fetch_parse does, and never contain "=?".
_ATEXT = r"[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~]+"
_DOT_ATOM = rf"{_ATEXT}(?:\.{_ATEXT})*"
_ADDR_SPEC = rf"{_DOT_ATOM}@{_DOT_ATOM}"
_QUOTED = r'"[\x20\x21\x23-\x5b\x5d-\x7e]+"'  # no quote, backslash or control character
_PHRASE = rf"(?:{_ATEXT}|{_QUOTED})(?:[ \t]+(?:{_ATEXT}|{_QUOTED}))*"
_MAILBOX = rf"(?:{_ADDR_SPEC}|(?:{_PHRASE}[ \t]*)?<{_ADDR_SPEC}>)"
_ADDRESS_LIST = re.compile(rf"[ \t]*{_MAILBOX}[ \t]*(?:,[ \t]*{_MAILBOX}[ \t]*)*")
_PARAMS = (
    r"(?:;[ \t]*[A-Za-z0-9!#$&+\-.^_`|~]+=(?:[A-Za-z0-9!#$&+\-.^_`|~]+|" + _QUOTED + r")[ \t]*)*"
)
_MIME_TOKEN = r"[A-Za-z0-9][A-Za-z0-9!#$&^_.+\-]*"
_CANONICAL = {
    **{
        name: _ADDRESS_LIST
        for name, cls in _REGISTRY.registry.items()
        if issubclass(cls, AddressHeader)
    },
    "message-id": re.compile(rf"[ \t]*<{_DOT_ATOM}@{_DOT_ATOM}>[ \t]*"),
    "mime-version": re.compile(r"[ \t]*1\.0[ \t]*"),
    "content-transfer-encoding": re.compile(r"[ \t]*[A-Za-z0-9\-]+[ \t]*"),
    "content-type": re.compile(rf"[ \t]*{_MIME_TOKEN}/{_MIME_TOKEN}[ \t]*{_PARAMS}"),
    "content-disposition": re.compile(rf"[ \t]*{_MIME_TOKEN}[ \t]*{_PARAMS}"),
}

_DATE_FIELDS = frozenset(n for n, cls in _REGISTRY.registry.items() if issubclass(cls, DateHeader))


@functools.lru_cache(maxsize=1024)
def _is_unstructured(name: str) -> bool:
    return issubclass(_REGISTRY[name], UnstructuredHeader)


def _value_defects(name: str, value: str) -> tuple[str, ...] | str:
    """The defect class names the registry finds in one header value, or the error it raised.
    An UnstructuredHeader never records a defect (its parse leaves `defects` empty) and cannot
    fail on plain text without encoded words; a date that parses and a structured field in
    canonical form have none either. Only the other values go through the registry."""
    if not value.isascii():
        return _registry_defects(name, value)
    joined = value.replace("\r", "").replace("\n", "")  # as header_fetch_parse parses it
    if "=?" in joined:
        return _registry_defects(name, value)
    if name in _DATE_FIELDS and joined.strip():
        # DateHeader records a defect only when parsedate_to_datetime fails; what it does with
        # a date that parses (format it, then parse that as text) records none.
        try:
            email.utils.parsedate_to_datetime(joined)
        except Exception:  # the registry says what it makes of it
            return _registry_defects(name, value)
        return ()
    canonical = _CANONICAL.get(name)
    if canonical is not None:
        return () if canonical.fullmatch(joined) else _registry_defects(name, value)
    if _is_unstructured(name) and _PLAIN_TEXT.fullmatch(joined):
        return ()
    return _registry_defects(name, value)


@functools.lru_cache(maxsize=4096)
def _registry_defects(name: str, value: str) -> tuple[str, ...] | str:
    # Cached: the values that get here (groups like "undisclosed-recipients:;", encoded display
    # names, mailing-list addresses) repeat from message to message.
    try:
        header = _STRICT_POLICY.header_fetch_parse(name, value)
    except Exception as error:
        return f"unparseable ({type(error).__name__}: {error})"
    return tuple(type(d).__name__ for d in getattr(header, "defects", ()))


def _header_defects(head_bytes: bytes, defects: list[str]) -> None:
    """Defects the modern header registry finds, field by field in order of first appearance.
    The head is split by the strict parser as before; each value goes through the registry only
    when it could hold a defect (see `_value_defects`). A field with a value the registry fails
    on is reported once, as unparseable, and its other defects are not listed."""
    try:
        message = _STRICT_HEADERS.parsebytes(head_bytes)
    except Exception as error:  # the strict parser is a diagnostic only
        defects.append(f"headers: strict parser failed ({type(error).__name__})")
        return
    fields: dict[str, list[str]] = {}
    for key, value in message.raw_items():  # Cc and cc: one field
        fields.setdefault(key.lower(), []).append(value)
    for name, values in fields.items():
        found: list[str] = []
        for value in values:
            result = _value_defects(name, value)
            if isinstance(result, str):
                found = [result]
                break
            found.extend(result)
        defects.extend(f"{name}: {d}" for d in found)


def _params(part: RawPart) -> dict[str, str | None]:
    headers = part.headers
    filename = headers.get_filename() or headers.get_param("name")
    if isinstance(filename, tuple):  # an RFC 2231 value compat32 could not collapse
        filename = email.utils.collapse_rfc2231_value(filename)
    disposition = headers.get_content_disposition()
    charset = headers.get_content_charset()
    return {
        "filename": raw_header_str(filename) if filename else None,
        "disposition": raw_header_str(disposition) if disposition else None,
        "charset": charset,
    }


def _is_attachment(part: RawPart, params: dict[str, str | None]) -> bool:
    content_type = part.content_type
    if content_type == "message/rfc822":
        return True
    if params["disposition"] == "attachment" or params["filename"]:
        return True
    return part.headers.get_content_maintype() not in ("text", "multipart")


class EmailFormat:
    name = "email"

    def parse(self, data: bytes, name: str | None) -> Parsed:
        defects: list[str] = []
        root = walk(data, defects)
        headers = root.headers
        record: dict[str, Any] = {"headers": [[k, raw_header_str(v)] for k, v in headers.items()]}
        if headers.get_unixfrom():
            record["envelope"] = raw_header_str(headers.get_unixfrom()).rstrip("\r\n")
        head_end = len(data) - len(root.body)
        _header_defects(data[:head_end], defects)
        for field in _SINGLE_FIELDS:
            count = len(headers.get_all(field, []))
            if count > 1:
                defects.append(f"{field}: appears {count} times (RFC 5322 allows one)")

        def text_of(field: str) -> str | None:
            value = headers.get(field)
            return None if value is None else decode_words(raw_header_str(value), defects, field)

        addresses = {}
        for field in ADDRESS_FIELDS:
            values = [raw_header_str(v) for v in headers.get_all(field, [])]
            if values:
                addresses[field] = parse_addresses(values, defects, field)
        record["addresses"] = addresses
        record["subject"] = text_of("subject")
        record["date"] = parse_date(text_of("date"), defects)
        record["message_id"] = next(iter(message_ids(text_of("message-id"))), None)
        if headers.get("message-id") is not None and record["message_id"] is None:
            defects.append("Message-ID: no <id> found")
        record["in_reply_to"] = message_ids(text_of("in-reply-to"))
        record["references"] = message_ids(text_of("references"))
        record["mailer"] = text_of("x-mailer") or text_of("user-agent")

        parsed = Parsed(kind="email", record=record, defects=defects)
        parts: list[dict[str, Any]] = []
        texts: list[str] = []
        self._collect(root, parsed, parts, texts)
        record["parts"] = parts
        parsed.text = "\n\n".join(t for t in texts if t)
        if not parsed.text and parsed.html:
            parsed.text = htmltext.to_text(parsed.html)
        return parsed

    def _collect(
        self, part: RawPart, parsed: Parsed, parts: list[dict[str, Any]], texts: list[str]
    ) -> None:
        if part.children:
            for child in part.children:
                self._collect(child, parsed, parts, texts)
            return
        params = _params(part)
        entry: dict[str, Any] = {"path": part.path or "1", "type": part.content_type, **params}
        if part.is_multipart:  # a multipart that could not be split: its body is kept as text
            entry["unsplit"] = True
        parts.append(entry)
        payload = decoded_body(part, parsed.defects)
        entry["size"] = len(payload)
        encoding = str(part.headers.get("content-transfer-encoding", "")).strip().lower()
        if part.content_type == "message/rfc822" and not payload:
            parsed.defects.append(f"part {entry['path']}: attached message/rfc822 is empty")
        if part.content_type == "message/rfc822" and encoding not in _MESSAGE_ENCODINGS:
            parsed.defects.append(
                f"part {entry['path']}: message/rfc822 sent with Content-Transfer-Encoding "
                f"{encoding!r} (RFC 2046 section 5.2.1 allows 7bit, 8bit, binary); decoded"
            )
        if part is not None and _is_attachment(part, params) and not part.is_multipart:
            parsed.children.append(
                Child(
                    data=payload,
                    locator=f"part {entry['path']}",
                    name=params["filename"],
                    declared_type=part.content_type,
                )
            )
            entry["attachment"] = True
            return
        where = f"part {entry['path']}"
        text = decode_bytes(payload, params["charset"], parsed.defects, where)
        if part.content_type == "text/html":
            if not parsed.html:
                parsed.html = text
            else:
                texts.append(htmltext.to_text(text))
        else:
            texts.append(text)

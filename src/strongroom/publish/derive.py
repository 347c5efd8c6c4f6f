"""Redacted derivatives: what a release serves in place of an original that holds a value.

An email's derivative is made from its stored bytes parsed with `policy.default`: every decoded
header value of every part (nested messages included) and every decoded text part is redacted
and re-encoded; a binary part that holds a value, or that cannot be checked, is replaced by a
short notice naming its sha256. Headers and parts without a value keep their exact source.
The derivative says what it is (`X-Strongroom-Redacted: yes`) and names its original
(`X-Strongroom-Original-SHA256`). The original in the case is never touched.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from email import policy
from email.header import Header
from email.message import EmailMessage, Message
from email.parser import BytesParser
from typing import Any

from strongroom.formats.htmltext import to_text
from strongroom.publish.pages import decoded_header
from strongroom.publish.redact import Redactor

# Serialised without refolding untouched headers: a header is parsed only if it was changed.
_OUT_POLICY = policy.default.clone(refold_source="none", linesep="\n")
_MIME_HEADERS = ("content-type", "content-disposition")

# Whether an attachment may be served as is: `publish`, `redact` (text: a redacted copy) or
# `withhold`; the reason is shown on the notice.
PUBLISH, REDACT, WITHHOLD = "publish", "redact", "withhold"


@dataclass(frozen=True)
class Decision:
    action: str
    reason: str = ""


# Extraction outcomes whose text can be trusted to show what a file holds.
_CHECKABLE = ("text", "ocr", "no-text")


def decide(
    data: bytes, mime: str, text: str | None, extraction: str | None, redactor: Redactor
) -> Decision:
    """What a release does with one attachment or document, given its extracted text."""
    if not redactor:
        return Decision(PUBLISH)
    holds = redactor.found_in_bytes(data) or (text is not None and redactor.found(text))
    if mime.startswith("text/") or mime in ("application/json", "application/xml"):
        return Decision(REDACT, "a redacted copy of its text") if holds else Decision(PUBLISH)
    if holds:
        return Decision(
            WITHHOLD,
            f"it contains redacted personal data that cannot be removed safely from a file of"
            f" type {mime}",
        )
    if text is None or (extraction is not None and extraction not in _CHECKABLE):
        return Decision(
            WITHHOLD,
            f"its text could not be read ({extraction or 'not extracted'}), so it cannot be"
            " checked for redacted personal data",
        )
    return Decision(PUBLISH)


# A part's decoded bytes -> (mime, text, extraction) of the catalog item with those bytes.
PartLookup = Callable[[bytes], tuple[str | None, str | None] | None]


@dataclass
class Derived:
    data: bytes
    changed: bool  # False: nothing held a value; the original may be served as is
    replacements: int = 0
    withheld_parts: list[dict[str, str]] = field(default_factory=list)


def _decoded_header(part: Message, name: str, raw: Any) -> str:
    """A header's decoded value: RFC 2047 words, and for the MIME headers RFC 2231 parameters
    (a file name), which only the policy's (slower) parser decodes."""
    if name.lower() not in _MIME_HEADERS:
        return decoded_header(str(raw))
    try:
        return str(part.policy.header_fetch_parse(name, raw))
    except Exception:  # policy.default raises on malformed values: decode by hand
        return decoded_header(str(raw))


def _store_header(part: Message, name: str, value: str) -> None:
    """Append a changed header: parsed by the policy where it can be, else RFC 2047 encoded."""
    try:
        stored = part.policy.header_store_parse(name, value)
        header: Any = stored[1]
        header.fold(policy=_OUT_POLICY)  # fails here, not in the generator
        part.set_raw(*stored)
    except Exception:  # an address header that no longer parses, say
        part.set_raw(name, Header(value, "utf-8", header_name=name).encode())


_ADDRESS_HEADERS = frozenset(
    [
        "from",
        "to",
        "cc",
        "bcc",
        "reply-to",
        "sender",
        "return-path",
        "delivered-to",
        "resent-from",
        "resent-to",
        "resent-cc",
        "resent-bcc",
        "resent-sender",
    ]
)
_QUOTED_OR_LABEL = re.compile(r'"(?:[^"\\]|\\.)*"|\[REDACTED[^\]]*\]')


def _quote_labels(text: str) -> str:
    """`[REDACTED x]` as a quoted string where it stands bare in an address header: brackets
    there would read as a domain literal and lose the address."""
    return _QUOTED_OR_LABEL.sub(
        lambda m: m.group(0) if m.group(0).startswith('"') else f'"{m.group(0)}"', text
    )


def _redact_headers(part: Message, redactor: Redactor) -> int:
    headers = list(part.raw_items())
    new: list[tuple[str, Any, str | None]] = []
    count = 0
    for name, raw in headers:
        text, n = redactor.redact(_decoded_header(part, name, raw))
        if n == 0 and redactor.found_in_bytes(str(raw).encode("utf-8", "surrogateescape")):
            text, n = redactor.redact(str(raw))  # a value the decoding hid (a bad encoded word)
        if n and name.lower() in _ADDRESS_HEADERS:
            text = _quote_labels(text)
        new.append((name, raw, text if n else None))
        count += n
    if count:
        for name in {name for name, _ in headers}:
            del part[name]
        for name, raw, shown in new:
            if shown is None:
                part.set_raw(name, raw)
            else:
                _store_header(part, name, shown)
    return count


def _notice(part: EmailMessage, text: str, sha: str) -> None:
    part.clear_content()  # also what a broken multipart (no boundary, no parts) declared
    part.set_content(text, subtype="plain", charset="utf-8", disposition="inline")
    part.set_raw("X-Strongroom-Withheld-SHA256", sha)


def _text_of(part: EmailMessage) -> str:
    try:
        return str(part.get_content())
    except (LookupError, UnicodeError, AssertionError, KeyError):  # unknown or lying charset
        payload = part.get_payload(decode=True)
        data = payload if isinstance(payload, bytes) else b""
        return data.decode("utf-8", "replace")


def _redact_text_part(part: EmailMessage, redactor: Redactor) -> tuple[int, str | None]:
    """Replace a text part's values; (replacements, sha256 if the part had to be withheld)."""
    text = _text_of(part)
    redacted, n = redactor.redact(text)
    subtype = part.get_content_subtype()
    if n == 0:
        return 0, None
    filename = part.get_filename()
    disposition = part.get_content_disposition()
    if subtype == "html" and redactor.found(to_text(redacted)):
        payload = part.get_payload(decode=True)
        sha = hashlib.sha256(payload if isinstance(payload, bytes) else b"").hexdigest()
        _notice(part, f"An HTML part (sha256 {sha}) is withheld from this release.", sha)
        return n, sha
    part.set_content(
        redacted,
        subtype=subtype,
        charset="utf-8",
        disposition=disposition,
        filename=redactor.clean(filename) if filename else None,
    )
    return n, None


def redact_email(
    raw: bytes,
    original_sha: str,
    redactor: Redactor,
    lookup: PartLookup,
) -> Derived:
    """The redacted derivative of one stored email (see the module's docstring)."""
    if not scan_email(raw, redactor, lookup):  # nothing to hide: the original is served
        return Derived(raw, changed=False)
    message = BytesParser(policy=policy.default).parsebytes(raw)
    assert isinstance(message, EmailMessage)
    replacements = 0
    withheld: list[dict[str, str]] = []
    for part in list(message.walk()):
        assert isinstance(part, EmailMessage)
        if not part.is_multipart():
            if part.get_content_maintype() == "text":
                n, sha = _redact_text_part(part, redactor)
                replacements += n
                if sha:
                    withheld.append({"sha256": sha, "reason": "HTML with a value split by markup"})
            else:
                replacements += _binary_part(part, redactor, lookup, withheld)
        replacements += _redact_headers(part, redactor)
    if not replacements and not withheld and not redactor.found_in_bytes(raw):
        return Derived(raw, changed=False)
    # Stored raw so that the hash stays on one line, as a reader would grep for it.
    message.set_raw("X-Strongroom-Redacted", "yes")
    message.set_raw("X-Strongroom-Original-SHA256", original_sha)
    data = message.as_bytes(policy=_OUT_POLICY)
    return Derived(data, changed=True, replacements=replacements, withheld_parts=withheld)


def _binary_part(
    part: EmailMessage, redactor: Redactor, lookup: PartLookup, withheld: list[dict[str, str]]
) -> int:
    payload = part.get_payload(decode=True)
    data = payload if isinstance(payload, bytes) else b""
    sha = hashlib.sha256(data).hexdigest()
    known = lookup(data)
    text, extraction = known if known is not None else (None, None)
    decision = decide(data, part.get_content_type(), text, extraction, redactor)
    if decision.action == PUBLISH:
        return 0
    name = redactor.clean(part.get_filename() or "") or "an attachment"
    _notice(
        part,
        f"{name} ({part.get_content_type()}, sha256 {sha}) is withheld from this release:"
        f" {decision.reason}.\n",
        sha,
    )
    withheld.append({"sha256": sha, "reason": decision.reason})
    return 1


def scan_email(data: bytes, redactor: Redactor, lookup: PartLookup | None = None) -> list[str]:
    """Where a value shows in an email: its bytes, every decoded header (RFC 2047 words, RFC
    2231 file names) and every decoded part (base64, quoted-printable, its charset). With
    `lookup`, also each non-text part that must be withheld. Parsed with compat32, which never
    raises and is several times faster than policy.default: most emails hold no value at all."""
    found: list[str] = []
    if not redactor:
        return found
    if redactor.found_in_bytes(data):
        found.append("raw bytes")
    message = BytesParser(policy=policy.compat32).parsebytes(data)
    for index, part in enumerate(message.walk()):
        for name, raw in part.raw_items():
            if redactor.found(decoded_header(str(raw))):
                found.append(f"part {index} header {name}")
        filename = part.get_filename()
        if filename and redactor.found(str(filename)):
            found.append(f"part {index} file name")
        if part.is_multipart():
            continue
        payload = part.get_payload(decode=True)
        content = payload if isinstance(payload, bytes) else b""
        if redactor.found_in_bytes(content):
            found.append(f"part {index} payload")
        if part.get_content_maintype() == "text":
            try:
                text = content.decode(part.get_content_charset() or "ascii", "replace")
            except LookupError:  # an unknown charset: the byte views above stand
                text = ""
            if redactor.found(text):
                found.append(f"part {index} text")
        elif lookup is not None:
            known = lookup(content)
            extracted, extraction = known if known is not None else (None, None)
            mime = part.get_content_type()
            if decide(content, mime, extracted, extraction, redactor).action != PUBLISH:
                found.append(f"part {index} attachment")
    return found

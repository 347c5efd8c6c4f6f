"""Every DKIM signature of an email, checked against its stored bytes and the keyring.

dkimpy supplies the parsing, canonicalisation, header selection and RSA arithmetic; the control
flow is ours, because dkimpy judges `t=`/`x=` against today's clock (`validate_signature_fields`
reads `time.time()`), looks keys up in live DNS, and answers one boolean. Here expiry is judged at
the message's own time (and today's verdict is reported beside it), keys come from the keyring
only, Ed25519 is checked with `cryptography`, and each signature gets separate body and header
verdicts and a reason code for any failure.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import dkim
from cryptography.exceptions import InvalidSignature
from dkim.canonicalization import CanonicalizationPolicy, InvalidCanonicalizationPolicyError
from dkim.crypto import DigestTooLargeError, RSASSA_PKCS1_v1_5_verify
from dkim.util import InvalidTagValueList, parse_tag_value

from strongroom.verify.keyring import KeyRecord, Keyring, Problem, PublicKey, parse_key

SLOP = 36000  # seconds of clock leeway, as dkimpy allows
MIN_RSA_BITS = 1024  # RFC 8301: smaller keys are not accepted
ALGORITHMS: dict[bytes, tuple[str, Callable[[], Any]]] = {
    b"rsa-sha256": ("rsa", hashlib.sha256),
    b"rsa-sha1": ("rsa", hashlib.sha1),
    b"ed25519-sha256": ("ed25519", hashlib.sha256),
}
DKIM_FIELDS = (b"v", b"a", b"b", b"bh", b"d", b"h", b"s")
_B64 = re.compile(rb"[\s0-9A-Za-z+/]+[\s=]*$")
_QUOTED_FROM = re.compile(rb"(?m)^>(>*From )")
_FIELD = re.compile(rb"([\x21-\x7e]+?):")


@dataclass
class Message:
    """A message as DKIM sees it: dkimpy's header list and CRLF body."""

    headers: list[list[bytes]]
    body: bytes
    unquoted_body: bytes | None = None  # the body with one level of mboxrd quoting undone
    defect: str | None = None  # why the header section ended early, if it did
    _canonical: dict[tuple[bytes, bool], bytes] = field(default_factory=dict)

    def canonical_body(self, algorithm: bytes, unquoted: bool = False) -> bytes:
        key = (algorithm, unquoted)
        if key not in self._canonical:
            body = self.unquoted_body if unquoted and self.unquoted_body is not None else self.body
            policy = CanonicalizationPolicy.from_c_value(b"simple/" + algorithm)
            self._canonical[key] = policy.canonicalize_body(body)
        return self._canonical[key]

    def first(self, name: bytes) -> bytes | None:
        return next((v for n, v in self.headers if n.lower() == name), None)


def parse_message(raw: bytes, quoted_from_lines: int = 0) -> Message:
    """dkimpy's parse of the stored bytes. A line in the header section that is no header
    field ends the header section there (as Python's email parser does), and is recorded."""
    if b"\n" not in raw and b"\r" in raw:  # old Mac line endings: DKIM is defined over CRLF
        raw = raw.replace(b"\r", b"\r\n")
    lines = re.split(rb"\r?\n", raw)
    headers: list[list[bytes]] = []
    defect = None
    body_at = len(lines)  # no empty line: all header, no body
    for at, line in enumerate(lines):
        if not line:
            body_at = at + 1
            break
        if line[:1] in (b" ", b"\t") and headers:
            headers[-1][1] += line + b"\r\n"
        elif (match := _FIELD.match(line)) is not None:
            headers.append([match.group(1), line[match.end() :] + b"\r\n"])
        elif not line.startswith(b"From "):  # an mbox From_ line is skipped, as dkimpy does
            defect = f"line {at + 1} of the header section is not a header field"
            body_at = at
            break
    body = b"\r\n".join(lines[body_at:])
    unquoted = _QUOTED_FROM.sub(rb"\1", body) if quoted_from_lines else None
    return Message(headers, body, unquoted if unquoted != body else None, defect)


def message_time(message: Message, date_utc: str | None) -> tuple[datetime | None, str | None]:
    """The time the message's signatures are judged at: its Date, else its newest Received."""
    if date_utc:
        return datetime.strptime(date_utc, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC), "date"
    received = message.first(b"received") or b""
    for source, value in (
        ("date", message.first(b"date")),
        ("received", received.rsplit(b";")[-1]),
    ):
        try:
            when = parsedate_to_datetime((value or b"").decode("ascii", "replace").strip())
        except (TypeError, ValueError, IndexError):
            continue
        if when.tzinfo is not None:
            return when.astimezone(UTC), source
    return None, None


def check_fields(sig: dict[bytes, bytes], mandatory: tuple[bytes, ...], arc: bool = False) -> None:
    """dkimpy's `validate_signature_fields` without its clock: syntax only (times: see below)."""
    for name in mandatory:
        if name not in sig:
            raise Problem("bad-syntax", f"the {name.decode()}= tag is missing")
    allowed = (b"rsa-sha256",) if arc else tuple(ALGORITHMS)
    if b"a" in sig and sig[b"a"] not in allowed:
        raise Problem("unsupported-algorithm", f"unknown algorithm a={sig[b'a'].decode()}")
    for name in (b"b", b"bh"):
        value = sig.get(name)
        if value is not None and (
            _B64.match(value) is None or len(re.sub(rb"\s+", b"", value)) % 4
        ):
            raise Problem("bad-syntax", f"{name.decode()}= is not valid base64")
    if b"cv" in sig and sig[b"cv"] not in (b"pass", b"fail", b"none"):
        raise Problem("bad-syntax", "cv= is not pass, fail or none")
    _check_names(sig, arc)
    if b"l" in sig and re.match(rb"\d{1,76}$", sig[b"l"]) is None:
        raise Problem("bad-syntax", "l= is not a decimal number")
    if b"q" in sig and sig[b"q"] != b"dns/txt":
        raise Problem("bad-syntax", "q= is not dns/txt")
    for name in (b"t", b"x"):
        if name in sig and re.match(rb"\d+$", sig[name]) is None:
            raise Problem("bad-syntax", f"{name.decode()}= is not a decimal number")
    if not arc and sig.get(b"v") != b"1":
        raise Problem("bad-syntax", "v= is not 1")
    if b"x" in sig and b"t" in sig and int(sig[b"x"]) < int(sig[b"t"]):
        raise Problem("bad-syntax", "x= (expiry) is before t= (signing time)")


def _check_names(sig: dict[bytes, bytes], arc: bool) -> None:
    domain = sig.get(b"d", b"")
    if re.search(rb"[()<>\[\]:;@\\,]", domain) or not domain.isascii():
        raise Problem("bad-syntax", "d= is not a domain name")
    identity = sig.get(b"i")
    if not arc and identity is not None:
        lowered, suffix = identity.lower(), domain.lower()
        if not lowered.endswith(suffix) or lowered[-len(suffix) - 1 : -len(suffix)] not in (
            b"@",
            b".",
        ):
            raise Problem("bad-syntax", "i= is not in the d= domain")


def check_future(sig: dict[bytes, bytes], now: datetime) -> None:
    if b"t" in sig and int(sig[b"t"]) > now.timestamp() + SLOP:
        raise Problem("future", "t= (signing time) is later than today")


def signed_names(sig: dict[bytes, bytes]) -> list[bytes]:
    return [x.lower() for x in re.split(rb"\s*:\s*", sig[b"h"].strip()) if x]


def body_matches(message: Message, sig: dict[bytes, bytes], unquoted: bool = False) -> bool:
    policy = _policy(sig)
    canonical = message.canonical_body(policy.body_algorithm.name, unquoted)
    if b"l" in sig:
        canonical = canonical[: int(sig[b"l"])]
    hasher = ALGORITHMS.get(sig[b"a"], ("", hashlib.sha256))[1]()
    hasher.update(canonical)
    try:
        expected = base64.b64decode(re.sub(rb"\s+", b"", sig[b"bh"]))
    except binascii.Error as error:
        raise Problem("bad-syntax", "bh= is not valid base64") from error
    return bool(hasher.digest() == expected)


def headers_match(
    fields: list[list[bytes]] | list[tuple[bytes, bytes]],
    sig: dict[bytes, bytes],
    include: list[bytes] | None,
    sig_header: tuple[bytes, bytes],
    key: PublicKey,
) -> bool:
    """Does b= verify over these header fields with this key? The fields are selected as DKIM
    selects them (the last unused instance of each name in `include`), or, with `include`
    None, taken as given and in that order (an ARC-Seal's sets)."""
    policy = _policy(sig)
    hasher = ALGORITHMS[sig[b"a"]][1]()
    canonical = policy.canonicalize_headers(fields)
    selected = canonical if include is None else dkim.select_headers(canonical, include)
    blanked = policy.canonicalize_headers(
        [(sig_header[0], dkim.RE_BTAG.sub(rb"\1", sig_header[1]))]
    )
    # the signature's own header is hashed last, without its line ending
    for name, value in [*selected, *((n, v.rstrip()) for n, v in blanked)]:
        hasher.update(name)
        hasher.update(b":")
        hasher.update(value)
    try:
        signature = base64.b64decode(re.sub(rb"\s+", b"", sig[b"b"]))
    except binascii.Error as error:
        raise Problem("bad-syntax", "b= is not valid base64") from error
    if key.ed25519 is not None:
        try:
            key.ed25519.verify(signature, hasher.digest())
        except InvalidSignature:
            return False
        return True
    try:
        return bool(RSASSA_PKCS1_v1_5_verify(hasher, signature, key.rsa))
    except DigestTooLargeError as error:
        raise Problem("key-too-small", "the RSA key is too small to hold the digest") from error


def key_fits(key: PublicKey, sig: dict[bytes, bytes], arc: bool = False) -> None:
    wanted, _ = ALGORITHMS[sig[b"a"]]
    if key.key_type != wanted:
        raise Problem("key-mismatch", f"the key is {key.key_type} but the signature is {wanted}")
    digest = sig[b"a"].decode().rsplit("-", 1)[-1]
    if key.hashes and digest not in key.hashes:
        raise Problem("key-mismatch", f"the key record does not allow {digest} (h=)")
    strict = not arc and "s" in key.flags and b"i" in sig
    if strict and sig[b"i"].rsplit(b"@", 1)[-1].lower() != sig[b"d"].lower():
        raise Problem("key-mismatch", "the key record (t=s) requires i= in exactly d=")


def _policy(sig: dict[bytes, bytes]) -> CanonicalizationPolicy:
    try:
        return CanonicalizationPolicy.from_c_value(sig.get(b"c", b"simple/simple"))
    except InvalidCanonicalizationPolicyError as error:
        raise Problem("bad-syntax", f"unknown canonicalization c={error}") from error


@dataclass
class SignatureResult:
    signature: int
    domain: str | None = None
    selector: str | None = None
    algorithm: str | None = None
    key_type: str | None = None
    key_bits: int | None = None
    canonicalization: str | None = None
    signed_headers: list[str] = field(default_factory=list)
    covered_headers: list[str] = field(default_factory=list)
    body_length_limit: int | None = None
    unsigned_body_bytes: int | None = None
    body_hash_ok: bool | None = None
    header_ok: bool | None = None
    status: str = "fail"
    reason_code: str | None = None
    weak: list[str] = field(default_factory=list)
    key_id: int | None = None
    key: dict[str, Any] | None = None  # the record used: source, obtained_at, period
    signed_at: int | None = None
    expires_at: int | None = None
    valid_at_message_time: bool | None = None
    expired_now: bool | None = None
    mbox_unquoted: bool = False
    detail: str = ""

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def verify_signatures(
    message: Message, keyring: Keyring, when: datetime | None, now: datetime
) -> list[SignatureResult]:
    headers = [(n, v) for n, v in message.headers if n.lower() == b"dkim-signature"]
    return [
        verify_one(message, index, header, keyring, when, now)
        for index, header in enumerate(headers)
    ]


def verify_one(
    message: Message,
    index: int,
    header: tuple[bytes, bytes],
    keyring: Keyring,
    when: datetime | None,
    now: datetime,
) -> SignatureResult:
    result = SignatureResult(signature=index)
    try:
        _check(message, header, keyring, when, now, result)
    except Problem as problem:
        result.status, result.reason_code = "fail", problem.code
        result.detail = result.detail or problem.detail
    return result


def _text(value: bytes | None) -> str | None:
    return None if value is None else value.decode("utf-8", "replace").strip()


def _check(
    message: Message,
    header: tuple[bytes, bytes],
    keyring: Keyring,
    when: datetime | None,
    now: datetime,
    result: SignatureResult,
) -> None:
    try:
        sig = parse_tag_value(header[1])
    except InvalidTagValueList as error:
        raise Problem("bad-syntax", f"the tag list cannot be parsed ({error})") from error
    result.domain = (_text(sig.get(b"d")) or "").lower() or None
    result.selector = (_text(sig.get(b"s")) or "").lower() or None
    result.algorithm = _text(sig.get(b"a"))
    result.canonicalization = _text(sig.get(b"c", b"simple/simple"))
    check_fields(sig, DKIM_FIELDS)
    result.signed_at = int(sig[b"t"]) if b"t" in sig else None
    result.expires_at = int(sig[b"x"]) if b"x" in sig else None
    include = signed_names(sig)
    result.signed_headers = [h.decode("ascii", "replace") for h in include]
    if b"from" not in include:
        raise Problem("from-not-signed", "the signature does not cover the From header")
    include.append(b"from")  # as dkimpy does: a second From header breaks the signature
    result.covered_headers = [
        n.decode("ascii", "replace") for n, _ in dkim.select_headers(message.headers, include)
    ]
    if sig[b"a"] == b"rsa-sha1":
        result.weak.append("rsa-sha1")
    _judge_times(result, when, now)
    check_future(sig, now)
    _judge_body(message, sig, result)
    _judge_key(message, sig, header, include, keyring, when, result)
    if not result.body_hash_ok:
        raise Problem("body-changed", _body_detail(result))
    if not result.header_ok:
        raise Problem(
            "header-changed",
            "the signature over the signed headers does not verify: a signed header was "
            "changed, or the key is not the one that signed",
        )
    if not result.valid_at_message_time:
        raise Problem("expired", "the signature had expired (x=) before the message's time")
    if result.key_type == "rsa" and (result.key_bits or 0) < MIN_RSA_BITS:
        raise Problem("key-too-small", f"a {result.key_bits}-bit RSA key is too small to trust")
    result.status, result.reason_code = "pass", None


def _judge_times(result: SignatureResult, when: datetime | None, now: datetime) -> None:
    reference = when.timestamp() if when else result.signed_at
    if result.expires_at is None:
        result.valid_at_message_time, result.expired_now = True, False
        return
    result.expired_now = result.expires_at < now.timestamp() - SLOP
    result.valid_at_message_time = reference is None or result.expires_at >= reference - SLOP


def _judge_body(message: Message, sig: dict[bytes, bytes], result: SignatureResult) -> None:
    if b"l" in sig:
        limit = int(sig[b"l"])
        result.body_length_limit = limit
        result.weak.append("body-length-limit")
        body = message.canonical_body(_policy(sig).body_algorithm.name)
        result.unsigned_body_bytes = len(body) - limit
    result.body_hash_ok = body_matches(message, sig)
    retry = not result.body_hash_ok and message.unquoted_body is not None
    if retry and body_matches(message, sig, unquoted=True):
        result.body_hash_ok = result.mbox_unquoted = True


def _body_detail(result: SignatureResult) -> str:
    if result.unsigned_body_bytes is not None and result.unsigned_body_bytes < 0:
        return "the body is shorter than the length the signature covers (l=)"
    return "the body was changed after signing: its hash no longer matches bh="


def _judge_key(
    message: Message,
    sig: dict[bytes, bytes],
    header: tuple[bytes, bytes],
    include: list[bytes],
    keyring: Keyring,
    when: datetime | None,
    result: SignatureResult,
) -> None:
    domain, selector = result.domain or "", result.selector or ""
    found = keyring.candidates(domain, selector, when)
    name = f"{selector}._domainkey.{domain}"
    if not found.valid:
        if found.outside:
            raise Problem(
                "key-not-valid-at-time",
                f"the keyring's records for {name} are not valid at the message's time",
            )
        raise Problem("no-key", f"the keyring has no key record for {name}")
    problems: list[tuple[KeyRecord, Problem]] = []
    for record in found.valid:
        try:
            key = parse_key(record.record)
            key_fits(key, sig)
            ok = headers_match(message.headers, sig, list(include), header, key)
        except Problem as problem:
            problems.append((record, problem))
            continue
        if ok or result.key_id is None:
            _use_key(result, record, key, ok)
        if ok:
            return
    if result.key_id is None:
        first, why = problems[0]
        result.key_id, result.key = first.id, _key_info(first)
        raise why


def _use_key(result: SignatureResult, record: KeyRecord, key: PublicKey, ok: bool) -> None:
    result.key_id, result.key = record.id, _key_info(record)
    result.key_type, result.key_bits, result.header_ok = key.key_type, key.bits, ok
    if "y" in key.flags and "testing-key" not in result.weak:
        result.weak.append("testing-key")


def _key_info(record: KeyRecord) -> dict[str, Any]:
    return {
        "name": f"{record.selector}._domainkey.{record.domain}",
        "record": record.record,
        "source": record.source,
        "obtained_at": record.obtained_at,
        "valid_from": record.valid_from or None,
        "valid_to": record.valid_to or None,
    }

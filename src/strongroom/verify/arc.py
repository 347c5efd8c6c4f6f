"""ARC chains (RFC 8617) validated against the stored bytes and the keyring.

The rules follow dkimpy's `ARC.verify` (which the ValiMail suite was generated against) with the
differences the archive needs: keys come from the keyring, times are judged at the message's
time, the ARC-Seal hashes the sets in instance order (not in the order they happen to sit in the
header), and each set keeps its own verdicts.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from dkim import ARC
from dkim.canonicalization import Relaxed
from dkim.util import InvalidTagValueList, parse_tag_value

from strongroom.verify.dkim import (
    MIN_RSA_BITS,
    SLOP,
    Message,
    body_matches,
    check_fields,
    check_future,
    headers_match,
    key_fits,
    signed_names,
)
from strongroom.verify.keyring import Keyring, Problem, PublicKey, parse_key

MAX_INSTANCE = 50
AMS_FIELDS = (b"i", b"a", b"b", b"bh", b"d", b"h", b"s")
AS_FIELDS = (b"i", b"a", b"b", b"cv", b"d", b"s")
_ORDER = {b"arc-authentication-results": 0, b"arc-message-signature": 1, b"arc-seal": 2}


@dataclass
class ArcSet:
    instance: int
    cv: str | None = None
    ams_domain: str | None = None
    ams_selector: str | None = None
    ams_valid: bool = False
    ams_reason: str | None = None
    seal_domain: str | None = None
    seal_selector: str | None = None
    seal_valid: bool = False
    seal_reason: str | None = None


@dataclass
class ArcResult:
    cv: str  # pass | fail | none
    instances: int
    reason_code: str | None = None
    detail: str = ""
    sets: list[ArcSet] = field(default_factory=list)
    keys: list[tuple[str, str]] = field(default_factory=list)  # (domain, selector) looked up

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def verify_arc(
    message: Message, keyring: Keyring, when: datetime | None, now: datetime
) -> ArcResult | None:
    """The chain's verdict, or None when the message has no ARC header at all."""
    if not any(name.lower() in _ORDER for name, _ in message.headers):
        return None
    chain = _instances(message)
    if not chain:
        return ArcResult("none", 0, None, "ARC headers without an instance number are ignored")
    top = max(i for i, _, _ in chain)
    result = ArcResult("fail", top)
    if top > MAX_INSTANCE:
        return _fail(result, "bad-structure", f"instance i={top} is above {MAX_INSTANCE}")
    checker = _Checker(message, keyring, when, now, result)
    try:
        for instance in range(top, 0, -1):
            result.sets.append(checker.instance(chain, instance))
    except Problem as problem:
        return _fail(result, problem.code, problem.detail)
    newest = result.sets[0]
    if not newest.ams_valid:
        return _fail(
            result,
            "ams-invalid",
            f"the newest ARC-Message-Signature (i={top}) does not verify: {newest.ams_reason}",
        )
    for arc_set in result.sets:
        i = arc_set.instance
        if arc_set.cv == "fail":
            return _fail(result, "sealed-fail", f"ARC-Seal i={i} records that the chain failed")
        if not arc_set.seal_valid:
            return _fail(
                result, "seal-invalid", f"ARC-Seal i={i} does not verify: {arc_set.seal_reason}"
            )
        if (i == 1) != (arc_set.cv == "none"):
            return _fail(result, "bad-cv", f"ARC-Seal i={i} has cv={arc_set.cv}")
    result.cv, result.detail = "pass", f"all {top} ARC sets verify"
    return result


def _fail(result: ArcResult, code: str, detail: str) -> ArcResult:
    result.cv, result.reason_code, result.detail = "fail", code, detail
    return result


def _instances(message: Message) -> list[tuple[int, bytes, bytes]]:
    """(instance, lower-case name, relaxed value) of each ARC header with an instance number."""
    out = []
    for name, value in Relaxed.canonicalize_headers(message.headers):
        if name in _ORDER and (match := ARC.INSTANCE_RE.search(value)) is not None:
            out.append((int(match.group(1)), name, value))
    return out


class _Checker:
    def __init__(
        self,
        message: Message,
        keyring: Keyring,
        when: datetime | None,
        now: datetime,
        result: ArcResult,
    ) -> None:
        self.message, self.keyring, self.when, self.now = message, keyring, when, now
        self.result = result

    def instance(self, chain: list[tuple[int, bytes, bytes]], instance: int) -> ArcSet:
        mine: dict[bytes, bytes] = {}
        for i, name, value in chain:
            if i == instance:
                if name in mine:
                    raise Problem("bad-structure", f"two {name.decode()} headers for i={instance}")
                mine[name] = value
        if len(mine) != len(_ORDER):
            raise Problem("bad-structure", f"the ARC set i={instance} is incomplete")
        arc_set = ArcSet(instance)
        self._ams(arc_set, mine[b"arc-message-signature"], instance)
        earlier = sorted(
            ((i, name, value) for i, name, value in chain if i <= instance),
            key=lambda entry: (entry[0], _ORDER[entry[1]]),
        )
        self._seal(arc_set, mine[b"arc-seal"], [(n, v) for _, n, v in earlier[:-1]])
        return arc_set

    def _ams(self, arc_set: ArcSet, value: bytes, instance: int) -> None:
        sig = _tags(value)
        check_fields(sig, AMS_FIELDS, arc=True)
        include = signed_names(sig)
        if b"arc-seal" in include:
            raise Problem("bad-syntax", "an ARC-Message-Signature must not sign ARC-Seal")
        if b"from" in include:
            include.append(b"from")
        sig.setdefault(b"c", b"relaxed/relaxed")
        arc_set.ams_domain, arc_set.ams_selector = _name(sig)
        raw = next(
            (
                (n, v)
                for n, v in self.message.headers
                if n.lower() == b"arc-message-signature"
                and (m := ARC.INSTANCE_RE.search(v)) is not None
                and int(m.group(1)) == instance
            ),
            None,
        )
        if raw is None:  # pragma: no cover - the relaxed value came from one of these
            raise Problem("bad-structure", f"ARC-Message-Signature i={instance} not found")
        header = (raw[0], raw[1])

        def check(key: PublicKey) -> bool:
            if not body_matches(self.message, sig):
                raise Problem("body-changed", "the body no longer matches bh=")
            return headers_match(self.message.headers, sig, list(include), header, key)

        arc_set.ams_valid, arc_set.ams_reason = self._verify(sig, check)

    def _seal(self, arc_set: ArcSet, value: bytes, fields: list[tuple[bytes, bytes]]) -> None:
        sig = _tags(value)
        check_fields(sig, AS_FIELDS, arc=True)
        if b"h" in sig:
            raise Problem("bad-syntax", "an ARC-Seal must not carry h=")
        sig.setdefault(b"c", b"relaxed/relaxed")
        arc_set.cv = sig[b"cv"].decode()
        arc_set.seal_domain, arc_set.seal_selector = _name(sig)
        header = (b"ARC-Seal", b" " + value)
        arc_set.seal_valid, arc_set.seal_reason = self._verify(
            sig, lambda key: headers_match(fields, sig, None, header, key)
        )

    def _verify(
        self, sig: dict[bytes, bytes], check: Callable[[PublicKey], bool]
    ) -> tuple[bool, str | None]:
        domain, selector = _name(sig)
        if (domain, selector) not in self.result.keys:
            self.result.keys.append((domain, selector))
        try:
            check_future(sig, self.now)
            if b"x" in sig and self.when and int(sig[b"x"]) < self.when.timestamp() - SLOP:
                raise Problem("expired", "x= is before the message's time")
            found = self.keyring.candidates(domain, selector, self.when)
            if not found.valid:
                code = "key-not-valid-at-time" if found.outside else "no-key"
                raise Problem(code, f"no usable key for {selector}._domainkey.{domain}")
            reason = "the signature does not verify"
            for record in found.valid:
                key = parse_key(record.record)
                key_fits(key, sig, arc=True)
                if key.key_type == "rsa" and key.bits < MIN_RSA_BITS:
                    raise Problem("key-too-small", f"a {key.bits}-bit RSA key is too small")
                if check(key):
                    return True, None
            return False, reason
        except Problem as problem:
            return False, f"{problem.code}: {problem.detail}"


def _tags(value: bytes) -> dict[bytes, bytes]:
    try:
        return dict(parse_tag_value(value))
    except InvalidTagValueList as error:
        raise Problem("bad-syntax", f"an ARC tag list cannot be parsed ({error})") from error


def _name(sig: dict[bytes, bytes]) -> tuple[str, str]:
    def text(value: bytes) -> str:
        return re.sub(r"\s+", "", value.decode("utf-8", "replace")).lower()

    return text(sig.get(b"d", b"")), text(sig.get(b"s", b""))

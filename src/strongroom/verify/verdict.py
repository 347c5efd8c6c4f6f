"""A plain-language verdict per email, and the searchable flags it implies.

The verdict states only what the checks established, e.g. "Signed by google.com; verified with a
2048-bit RSA key (selector 20120113) archived on 2016-10-11; the body and these 9 headers are
exactly as sent: From, To, ...". Every clause traces to a stored field of `dkim_results` or
`arc_results`.
"""

from __future__ import annotations

from datetime import UTC, datetime

from strongroom.verify.arc import ArcResult
from strongroom.verify.dkim import SignatureResult

# The searchable flags this capability owns (strongroom.facts FLAGS lists them).
VERIFY_FLAGS = ("verified", "dkim-fail", "dkim-weak", "unsigned", "arc-pass", "arc-fail")


def status_of(signatures: list[SignatureResult]) -> str:
    """verified: some signature passes; dkim-fail: signed, none passes; unsigned: no signature."""
    if not signatures:
        return "unsigned"
    return "verified" if any(s.status == "pass" for s in signatures) else "dkim-fail"


def flags_of(signatures: list[SignatureResult], arc: ArcResult | None) -> list[str]:
    flags = [status_of(signatures)]
    if any(s.status == "pass" and s.weak for s in signatures):
        flags.append("dkim-weak")
    if arc is not None and arc.cv in ("pass", "fail"):
        flags.append(f"arc-{arc.cv}")
    return flags


def verified_domains(signatures: list[SignatureResult]) -> list[str]:
    return sorted({s.domain for s in signatures if s.status == "pass" and s.domain})


def _day(stamp: int | str | None) -> str:
    if stamp is None:
        return "?"
    if isinstance(stamp, int):
        return datetime.fromtimestamp(stamp, UTC).strftime("%Y-%m-%d")
    return stamp[:10]


def _origin(signature: SignatureResult) -> str:
    key = signature.key or {}
    if key.get("source") == "dns":
        return f"fetched from live DNS on {_day(key.get('obtained_at'))}, not archived"
    origin = f"archived on {_day(key.get('obtained_at'))}"
    if _has_period(signature):
        low, high = _day(key.get("valid_from") or None), _day(key.get("valid_to") or None)
        origin += f" and valid {low if key.get('valid_from') else '…'}"
        origin += f" to {high if key.get('valid_to') else '…'}"
    return origin


def _has_period(signature: SignatureResult) -> bool:
    key = signature.key or {}
    return bool(key.get("valid_from") or key.get("valid_to"))


def _coverage(signature: SignatureResult) -> str:
    names = ", ".join(_title(h) for h in signature.covered_headers)
    count = len(signature.covered_headers)
    headers = f"{'this header' if count == 1 else f'these {count} headers'} ({names})"
    if signature.body_length_limit is None:
        return f"the body and {headers} are exactly as sent"
    extra = signature.unsigned_body_bytes or 0
    text = f"the first {signature.body_length_limit} bytes of the body and {headers} are as sent"
    if extra > 0:
        return text + f"; {extra} bytes after them are not covered and could have been added"
    return text + "; the signature (l=) would have allowed content to be appended"


def _title(name: str) -> str:
    return "-".join(part[:1].upper() + part[1:] for part in name.split("-"))


def signature_sentence(signature: SignatureResult) -> str:
    who = signature.domain or "an unreadable domain"
    if signature.status != "pass":
        sentence = f"Signed by {who}"
        if signature.selector:
            sentence += f" (selector {signature.selector})"
        sentence += f", but the signature does not verify: {signature.detail.rstrip('.')}"
        if signature.reason_code == "body-changed" and signature.header_ok:
            sentence += "; the signed headers are intact"
        return sentence + "."
    kind = "Ed25519" if signature.key_type == "ed25519" else "RSA"
    sentence = (
        f"Signed by {who}; verified with a {signature.key_bits}-bit {kind} key "
        f"(selector {signature.selector}) {_origin(signature)}; {_coverage(signature)}."
    )
    if "rsa-sha1" in signature.weak:
        sentence += " It uses rsa-sha1, a weak hash."
    if "testing-key" in signature.weak:
        sentence += " The key record is marked as testing (t=y)."
    if signature.mbox_unquoted:
        sentence += (
            " The body matches after one level of mbox '>From ' quoting is removed; the archive "
            "keeps the bytes as found."
        )
    if signature.expires_at is not None:
        if signature.expired_now:
            sentence += (
                f" It was valid at the message's time; it expired on "
                f"{_day(signature.expires_at)} and has expired by today."
            )
        else:
            sentence += f" It expires on {_day(signature.expires_at)}."
    return sentence


def arc_sentence(arc: ArcResult | None) -> str:
    if arc is None:
        return ""
    if arc.cv == "pass":
        newest = arc.sets[0].seal_domain if arc.sets else "?"
        sets = "set" if arc.instances == 1 else "sets"
        return f"Its ARC chain of {arc.instances} {sets} verifies (newest sealed by {newest})."
    if arc.cv == "fail":
        return f"Its ARC chain does not verify: {arc.detail.rstrip('.')}."
    return ""


def email_verdict(
    signatures: list[SignatureResult],
    arc: ArcResult | None,
    when: datetime | None = None,
    source: str | None = None,
) -> str:
    parts = [signature_sentence(s) for s in signatures] or [
        "Not DKIM-signed: nothing in this email can be checked against its sender's keys."
    ]
    if (extra := arc_sentence(arc)) != "":
        parts.append(extra)
    if when is not None and any(s.expires_at is not None or _has_period(s) for s in signatures):
        label = {"date": "Date header", "received": "newest Received header"}.get(source or "")
        parts.append(
            f"Expiry and key validity were judged at the message's time, "
            f"{when.strftime('%Y-%m-%d %H:%M UTC')}" + (f" (its {label})." if label else ".")
        )
    return " ".join(parts)

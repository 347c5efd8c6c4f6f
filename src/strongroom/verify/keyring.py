"""The keyring: DKIM key records archived from zone files or fetched from DNS, never silently.

A key record is looked up by selector and domain *at a time* (the message's own time): a record
imported with a validity period only answers inside it; a record without one answers always.
Live DNS is used only when asked (`verify --dns`): each record fetched is stored with the time it
was fetched, so a verdict can say the key was seen years after the message was sent.

Zone files: lines `selector._domainkey.domain. [TTL] [IN] TXT "chunk" "chunk"` (parentheses
may span lines; `;` starts a comment; `$ORIGIN` is honoured), and the bare form
`selector._domainkey.domain v=DKIM1; k=rsa; p=...` that test suites use.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from dkim.crypto import parse_public_key
from dkim.util import InvalidTagValueList, parse_tag_value

DOMAINKEY = "._domainkey."
_BARE = re.compile(
    r"^(?P<name>\S+?\._domainkey\.\S+?)\.?\s+(?:\d+\s+)?(?:IN\s+)?(?:TXT\s+)?(?P<rec>\S*=.*)$",
    re.IGNORECASE,
)
_CLASSES = {"IN", "CH", "HS"}

# A DNS TXT lookup: the name -> the record strings found (chunks joined), [] when none exist.
TxtLookup = Callable[[str], list[str]]


class KeyringError(Exception):
    pass


class Problem(Exception):
    """Why a signature or key cannot pass: a reason code and a sentence."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail


@dataclass(frozen=True)
class PublicKey:
    key_type: str  # rsa | ed25519
    bits: int
    rsa: dict[str, int] | None  # dkimpy's {"modulus", "publicExponent"}
    ed25519: Ed25519PublicKey | None
    hashes: tuple[str, ...]  # h= of the record: the hashes it may be used with ((): any)
    flags: tuple[str, ...]  # t= of the record: y (testing), s (strict identity)


def parse_key(record: str) -> PublicKey:
    """A key record's public key, or a Problem: key-syntax, key-revoked, key-mismatch."""
    try:
        tags = parse_tag_value(record.encode("ascii", "replace"))
    except InvalidTagValueList as error:
        raise Problem("key-syntax", f"the key record cannot be parsed: {error}") from error
    if tags.get(b"v", b"DKIM1") != b"DKIM1":
        raise Problem("key-syntax", "the key record's version is not DKIM1")
    services = {s.strip() for s in tags.get(b"s", b"*").split(b":")}
    if not {b"*", b"email"} & services:
        raise Problem("key-mismatch", "the key record is not for email (s= service type)")
    data = re.sub(rb"\s+", b"", tags.get(b"p", b""))
    if not data:
        raise Problem("key-revoked", "the key record has an empty p=: the key was revoked")
    key_type = tags.get(b"k", b"rsa").decode("ascii", "replace")
    if key_type not in ("rsa", "ed25519"):
        raise Problem("key-syntax", f"unknown key type k={key_type}")
    hashes = tuple(h.strip().decode() for h in tags.get(b"h", b"").split(b":") if h.strip())
    flags = tuple(f.strip().decode() for f in tags.get(b"t", b"").split(b":") if f.strip())
    try:
        raw = base64.b64decode(data)
        if key_type == "ed25519":
            ed = Ed25519PublicKey.from_public_bytes(raw)
            return PublicKey("ed25519", 256, None, ed, hashes, flags)
        rsa = parse_public_key(raw)
    except Exception as error:  # base64, ASN.1 and key-length errors all mean: unusable
        raise Problem("key-syntax", f"the {key_type} key in the record is unreadable") from error
    return PublicKey("rsa", rsa["modulus"].bit_length(), rsa, None, hashes, flags)


@dataclass(frozen=True)
class ZoneEntry:
    selector: str
    domain: str
    record: str
    line: int


@dataclass(frozen=True)
class ZoneParse:
    entries: list[ZoneEntry]
    skipped: list[tuple[int, str]]  # (line number, why)


@dataclass(frozen=True)
class KeyRecord:
    id: int
    domain: str
    selector: str
    record: str
    source: str  # "import: FILE" or "dns"
    obtained_at: str  # UTC ISO 8601
    valid_from: str = ""  # "" = open
    valid_to: str = ""

    @property
    def from_dns(self) -> bool:
        return self.source == "dns"

    @property
    def has_period(self) -> bool:
        return bool(self.valid_from or self.valid_to)

    def valid_at(self, when: datetime | None) -> bool:
        if when is None or not self.has_period:
            return True
        stamp = when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        return (not self.valid_from or self.valid_from <= stamp) and (
            not self.valid_to or stamp <= self.valid_to
        )

    def to_json(self) -> dict[str, object]:
        return {
            "id": self.id,
            "domain": self.domain,
            "selector": self.selector,
            "record": self.record,
            "source": self.source,
            "obtained_at": self.obtained_at,
            "valid_from": self.valid_from or None,
            "valid_to": self.valid_to or None,
        }


@dataclass(frozen=True)
class Candidates:
    valid: list[KeyRecord]  # usable at the message time, best first
    outside: list[KeyRecord]  # records for the name whose period excludes the message time


@dataclass
class Keyring:
    records: list[KeyRecord] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._by_name: dict[tuple[str, str], list[KeyRecord]] = {}
        for record in self.records:
            key = (record.domain, record.selector)
            self._by_name.setdefault(key, []).append(record)

    @classmethod
    def from_zone(cls, text: str, source: str, obtained_at: str) -> Keyring:
        """A keyring of a zone text's records alone (for tests and one-off checks)."""
        return cls(
            [
                KeyRecord(n, e.domain, e.selector, e.record, source, obtained_at)
                for n, e in enumerate(parse_zone(text).entries, start=1)
            ]
        )

    @property
    def mark(self) -> int:
        """The highest record id: a verification made with this keyring remembers it."""
        return max((r.id for r in self.records), default=0)

    def candidates(self, domain: str, selector: str, when: datetime | None) -> Candidates:
        found = self._by_name.get((domain.lower().rstrip("."), selector.lower()), [])
        valid = [r for r in found if r.valid_at(when)]
        # An explicit period covering the time is the best evidence, then an archived record,
        # then one fetched from DNS; among equals, the first archived.
        valid.sort(key=lambda r: (not r.has_period, r.from_dns, r.id))
        return Candidates(valid, [r for r in found if not r.valid_at(when)])

    def has(self, domain: str, selector: str) -> bool:
        return (domain.lower().rstrip("."), selector.lower()) in self._by_name


def split_name(name: str) -> tuple[str, str] | None:
    """`sel._domainkey.example.org.` -> ("sel", "example.org"), or None."""
    lowered = name.strip().rstrip(".").lower()
    if DOMAINKEY not in lowered:
        return None
    selector, domain = lowered.split(DOMAINKEY, 1)
    if not selector or not domain:
        return None
    return selector, domain


def parse_zone(text: str) -> ZoneParse:
    entries: list[ZoneEntry] = []
    skipped: list[tuple[int, str]] = []
    origin = ""
    for line_no, tokens, raw in _records(text):
        if not tokens:
            continue
        first = tokens[0][0]
        if first.upper() == "$ORIGIN" and len(tokens) > 1:
            origin = tokens[1][0].rstrip(".")
            continue
        if first.startswith("$"):
            continue
        if not any(quoted for _, quoted in tokens) and (bare := _BARE.match(raw.strip())):
            _add(entries, skipped, line_no, bare.group("name"), bare.group("rec"), origin)
            continue
        rest = tokens[1:]
        while rest and not rest[0][1] and (rest[0][0].isdigit() or rest[0][0].upper() in _CLASSES):
            rest = rest[1:]
        if not rest or rest[0][1] or rest[0][0].upper() != "TXT":
            skipped.append((line_no, "not a TXT record"))
            continue
        record = "".join(value for value, _ in rest[1:])
        _add(entries, skipped, line_no, first, record, origin)
    return ZoneParse(entries, skipped)


def _add(
    entries: list[ZoneEntry],
    skipped: list[tuple[int, str]],
    line_no: int,
    name: str,
    record: str,
    origin: str,
) -> None:
    if origin and not name.endswith(".") and not name.lower().endswith(origin.lower()):
        name = f"{name}.{origin}"
    parts = split_name(name)
    if parts is None:
        skipped.append((line_no, f"{name} is not a selector._domainkey name"))
        return
    if not re.search(r"(^|;)\s*p\s*=", record):
        skipped.append((line_no, f"{name}: the TXT record has no p= tag"))
        return
    entries.append(ZoneEntry(parts[0], parts[1], record.strip(), line_no))


def _records(text: str) -> Iterator[tuple[int, list[tuple[str, bool]], str]]:
    """Logical zone records: (first line number, [(token, was quoted)], the raw text)."""
    tokens: list[tuple[str, bool]] = []
    raw: list[str] = []
    depth = 0
    start = 1
    for line_no, line in enumerate(text.splitlines(), start=1):
        if depth == 0:
            tokens, raw, start = [], [], line_no
        raw.append(line)
        depth = _scan(line, tokens, depth)
        if depth == 0:
            yield start, tokens, "\n".join(raw)
    if depth and tokens:
        yield start, tokens, "\n".join(raw)


def _scan(line: str, tokens: list[tuple[str, bool]], depth: int) -> int:
    i, n = 0, len(line)
    while i < n:
        char = line[i]
        if char == ";":
            break
        if char.isspace():
            i += 1
        elif char == "(":
            depth, i = depth + 1, i + 1
        elif char == ")":
            depth, i = max(0, depth - 1), i + 1
        elif char == '"':
            value, i = _quoted(line, i + 1)
            tokens.append((value, True))
        else:
            end = i
            while end < n and not line[end].isspace() and line[end] not in '();"':
                end += 1
            tokens.append((line[i:end], False))
            i = end
    return depth


def _quoted(line: str, i: int) -> tuple[str, int]:
    out: list[str] = []
    n = len(line)
    while i < n and line[i] != '"':
        if line[i] == "\\" and i + 1 < n:
            digits = line[i + 1 : i + 4]
            if len(digits) == 3 and digits.isdigit():
                out.append(chr(int(digits)))
                i += 4
                continue
            out.append(line[i + 1])
            i += 2
            continue
        out.append(line[i])
        i += 1
    return "".join(out), i + 1


def parse_when(text: str, end_of_day: bool = False) -> str:
    """A date or date-time given by a user -> UTC ISO 8601 (a date alone covers its whole day)."""
    value = text.strip()
    try:
        if len(value) == 10:
            day = datetime.strptime(value, "%Y-%m-%d").replace(tzinfo=UTC)
            suffix = "T23:59:59Z" if end_of_day else "T00:00:00Z"
            return day.strftime("%Y-%m-%d") + suffix
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as error:
        raise KeyringError(f"{text!r} is not a date (YYYY-MM-DD) or an ISO 8601 time") from error
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def dns_lookup(timeout: float = 5.0) -> TxtLookup:
    """A TXT lookup through dnspython (live DNS: used only behind `verify --dns`)."""
    try:
        import dns.exception
        import dns.resolver
    except ImportError as error:  # pragma: no cover - dnspython comes with dkimpy
        raise KeyringError(
            "fetching keys from DNS needs dnspython (pip install dnspython)"
        ) from error

    def lookup(name: str) -> list[str]:
        try:
            answer = dns.resolver.resolve(name, "TXT", lifetime=timeout)
        except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
            return []
        except dns.exception.DNSException as error:
            raise KeyringError(f"DNS lookup of {name} failed: {error}") from error
        return [
            b"".join(rdata.strings).decode("ascii", "replace")
            for rdata in answer
            if hasattr(rdata, "strings")
        ]

    return lookup


def fetch_missing(
    wanted: Iterable[tuple[str, str]], keyring: Keyring, lookup: TxtLookup
) -> tuple[list[ZoneEntry], list[str]]:
    """Look up each (domain, selector) the keyring lacks; returns the records found and the
    names that had none (or whose lookup failed, with the reason)."""
    found: list[ZoneEntry] = []
    missing: list[str] = []
    for domain, selector in sorted(set(wanted)):
        if keyring.has(domain, selector):
            continue
        name = f"{selector}{DOMAINKEY}{domain}"
        try:
            records = [r for r in lookup(name) if re.search(r"(^|;)\s*p\s*=", r)]
        except KeyringError as error:
            missing.append(str(error))
            continue
        if not records:
            missing.append(f"{name}: no DKIM key record in DNS")
        found.extend(ZoneEntry(selector, domain, record, 0) for record in records)
    return found, missing

"""One `Received:` header value parsed into a `Hop`: who handed the message to whom, how, when.

RFC 5321 section 4.4 gives the shape (`from X by Y via V with P id I for <A>; date`), and every
MTA fills it differently: sendmail and Postfix put the reverse-DNS name and IP in a comment after
the HELO name, Exim writes `helo=` and `(envelope-from ...)`, qmail writes only a comment, Exchange
names its protocol in several words (`with Microsoft SMTP Server`), Gmail's internal hops have no
`from` at all, and TLS appears in half a dozen spellings. The parser tokenises the value (atoms,
nested comments, `<addresses>`, `[literals]`), takes the date after the last top-level `;`, then
walks the clauses. It never raises: what it cannot place is kept in `unparsed`, the raw text is
kept as is, and `parsed` says whether the whole header was understood.
"""

from __future__ import annotations

import email.utils
import ipaddress
import re
from dataclasses import asdict, dataclass, field
from typing import Any

from strongroom.formats.mailheaders import parse_date

KEYWORDS = ("from", "by", "via", "with", "id", "for")
EXTENSIONS = ("convert",)  # registered or common additional clauses
_MULTI_WORD = ("with", "via")  # Exchange: `with Microsoft SMTP Server`, `via Frontend Transport`

_DATE_TAIL = re.compile(
    r"(?:(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*,?\s*)?\d{1,2}\s+[a-z]{3}[a-z]*\s+\d{2,4}\s+"
    r"\d{1,2}:\d{2}(?::\d{2})?(?:\s*[+-]\d{4}|\s+[a-z]{1,5})?\s*$",
    re.IGNORECASE,
)
_BRACKET_IP = re.compile(r"\[(?:IPv6:)?([0-9A-Fa-f:.]+(?:%\w+)?)\]")
_HELO = re.compile(r"""(?:\bhelo=|\b(?:HELO|EHLO)\s+)"?([^\s")]+)""", re.IGNORECASE)
_AUTH = re.compile(
    r"(?:authenticated (?:sender|user|as)|auth(?:enticated)? user|\bAUTH: \w+)[:=\s]+([^\s,]+)",
    re.IGNORECASE,
)
_ENVELOPE_FROM = re.compile(r"^envelope-from\s*<?([^<>\s]*)>?", re.IGNORECASE)
_TLS_USING = re.compile(r"\busing\s+((?:TLS|SSL)\S*)(?:\s+with cipher\s+(\S+))?", re.IGNORECASE)
_TLS_VERSION = re.compile(r"\bversion=((?:TLS|SSL)[^\s,)]*)[\s,]+cipher=([^\s,)]+)", re.IGNORECASE)
_TLS_COLON = re.compile(r"^(?:Cipher\s+)?((?:TLS|SSL)[^\s:]*):([^\s:]+)", re.IGNORECASE)
_TLS_COURIER = re.compile(r"\b(?:TLS|SSL):\s*((?:TLS|SSL)[^\s,]*),\s*\d+bits,\s*([^\s,)]+)")
_TLS_PROTOCOLS = re.compile(r"^(?:E?SMTPS|ESMTPSA|LMTPS|UTF8SMTPS|UTF8SMTPSA|HTTPS)$", re.I)
_ZONE_COMMENT = re.compile(r"^(?:[A-Z]{1,5}|(?:UTC|GMT)\s*[+-]\d{1,2}(?::?\d{2})?)$", re.I)
# qmail and nullmailer write only a comment: `(qmail 2894 invoked by uid 500)`
_INVOKED = re.compile(r"^(?:(qmail)(?: \d+)?|(\S+) pid \d+) invoked (?:by|from) ", re.IGNORECASE)
_PROTOCOL_WORD = re.compile(r"^[A-Za-z][A-Za-z0-9.\-]*$")


@dataclass
class Hop:
    """One relay step. Every field but `raw` may be None when the header does not say."""

    raw: str
    from_host: str | None = None  # the name the sending side gave (usually its HELO), as written
    from_rdns: str | None = None  # the name the receiver looked up for the connecting address
    from_ip: str | None = None  # the connecting address
    helo: str | None = None  # the HELO/EHLO name, when written apart from `from_host`
    by_host: str | None = None  # the receiving server
    by_ip: str | None = None
    via: str | None = None
    protocol: str | None = None  # the `with` clause: SMTP, ESMTPS, local, HTTP, mapi ...
    id: str | None = None
    for_address: str | None = None
    envelope_from: str | None = None
    authenticated: str | None = None  # the account the sender authenticated as
    tls: str | None = None  # the TLS version and cipher, or the protocol implying TLS
    tls_peer: str | None = None  # a client certificate's subject (Exim's second `from`)
    software: str | None = None  # the receiving server's own comment: Postfix, Exim 4.89 ...
    timestamp: str | None = None  # UTC, ISO 8601 (2010-01-01T03:50:34Z)
    local_time: str | None = None  # the same instant in the receiver's own offset
    offset: str | None = None  # the receiver's UTC offset as written, e.g. -0500
    zone_name: str | None = None  # a comment after the date: PST, UTC, GMT-0800 ...
    extra: dict[str, str] = field(default_factory=dict)  # further clauses: convert ...
    comments: list[str] = field(default_factory=list)
    unparsed: str = ""  # text the parser could not place
    problems: list[str] = field(default_factory=list)

    @property
    def parsed(self) -> bool:
        """The whole header was understood: a timestamp and nothing left over."""
        return self.timestamp is not None and not self.unparsed and not self.problems

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["parsed"] = self.parsed
        return data


# -- tokens ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Token:
    kind: str  # atom | comment | semi
    text: str


def _read_comment(text: str, start: int) -> tuple[str, int]:
    """A (possibly nested) comment starting at `text[start] == '('`: its inside and the end."""
    depth = 0
    i = start
    quoted = False
    while i < len(text):
        char = text[i]
        if char == "\\":
            i += 2
            continue
        if char == '"':
            quoted = not quoted
        elif not quoted and char == "(":
            depth += 1
        elif not quoted and char == ")":
            depth -= 1
            if depth == 0:
                return text[start + 1 : i], i + 1
        i += 1
    return text[start + 1 :], len(text)  # unbalanced: the rest is the comment


def _tokens(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char.isspace():
            i += 1
        elif char == "(":
            inside, i = _read_comment(text, i)
            tokens.append(_Token("comment", " ".join(inside.split())))
        elif char == ";":
            tokens.append(_Token("semi", ";"))
            i += 1
        else:
            closer = {"<": ">", "[": "]", '"': '"'}.get(char)
            end = text.find(closer, i + 1) if closer else -1
            j = end + 1 if end > 0 else i
            while j < len(text) and not text[j].isspace() and text[j] not in "(;":
                j += 1
            tokens.append(_Token("atom", text[i : max(j, i + 1)]))
            i = max(j, i + 1)
    return tokens


# -- the date -------------------------------------------------------------------------------
def _split_date(tokens: list[_Token], hop: Hop) -> tuple[list[_Token], list[_Token]]:
    """(clause tokens, date tokens): the date follows the last top-level ';'."""
    for index in range(len(tokens) - 1, -1, -1):
        if tokens[index].kind == "semi":
            clauses, date = tokens[:index], tokens[index + 1 :]
            for k, token in enumerate(date):  # Courier: `...; <date> id 00700026.4B45239A`
                if k and token.kind == "atom" and token.text.lower() in KEYWORDS:
                    return clauses + date[k:], date[:k]
            return clauses, date
    # No ';' at all: some MTAs (and hand-edited headers) put the date straight after the
    # clauses. Take the longest run of trailing atoms that reads as a date.
    trailing = len(tokens)
    while trailing > 0 and tokens[trailing - 1].kind == "comment":
        trailing -= 1
    for start in range(max(0, trailing - 7), trailing):
        words = tokens[start:trailing]
        if all(t.kind == "atom" for t in words) and _DATE_TAIL.match(
            " ".join(t.text for t in words)
        ):
            hop.problems.append("no ';' before the date")
            return tokens[:start], tokens[start:]
    return tokens, []


def _apply_date(date_tokens: list[_Token], hop: Hop) -> None:
    words = [t.text for t in date_tokens if t.kind == "atom"]
    for comment in (t.text for t in date_tokens if t.kind == "comment"):
        match = _ENVELOPE_FROM.match(comment)
        if match:
            hop.envelope_from = hop.envelope_from or match.group(1)
        elif hop.zone_name is None and _ZONE_COMMENT.match(comment):
            hop.zone_name = comment
        else:
            hop.comments.append(comment)
    if not words:
        if not hop.problems:
            hop.problems.append("no date")
        return
    text = " ".join(words)
    if _DATE_TAIL.match(text) is None and email.utils.parsedate_tz(text) is None:
        hop.problems.append(f"unreadable date {text[:60]!r}")
        return
    defects: list[str] = []
    parsed = parse_date(text, defects)
    if parsed is None or "utc" not in parsed:
        hop.problems.append(f"unreadable date {text[:60]!r}")
        return
    hop.timestamp = parsed["utc"]
    hop.local_time = parsed["local"]
    zone = re.search(r"(?:([+-]\d{4})|\b([A-Za-z]{1,5}))\s*$", text)
    if zone is None:
        hop.problems.append("the date has no time zone (read as UTC)")
    elif zone.group(1) == "-0000":  # RFC 5322 3.3: UTC, the sender's own zone unknown
        hop.offset = "-0000"
    else:
        hop.offset = parsed["offset"]
        if zone.group(2) and hop.zone_name is None:
            hop.zone_name = zone.group(2)


# -- the clauses ----------------------------------------------------------------------------
def _ip(text: str) -> str | None:
    candidate = text.strip().strip("[]")
    candidate = candidate.removeprefix("IPv6:").removeprefix("ipv6:")
    try:
        address = ipaddress.ip_address(candidate)
    except ValueError:
        return None
    mapped = getattr(address, "ipv4_mapped", None)  # ::ffff:192.168.0.6 is an IPv4 client
    return str(mapped or address)


def _comment_ip(comment: str) -> str | None:
    for match in _BRACKET_IP.finditer(comment):
        found = _ip(match.group(1))
        if found:
            return found
    for word in re.split(r"[\s,]+", comment):
        found = _ip(word)
        if found:
            return found
    return None


def _read_tls(comment: str) -> str | None:
    match = _TLS_USING.search(comment)
    if match:
        return " ".join(part for part in match.groups() if part)
    match = _TLS_VERSION.search(comment)
    if match:
        return f"{match.group(1)} {match.group(2)}"
    match = _TLS_COURIER.search(comment)
    if match:
        return f"{match.group(1)} {match.group(2)}"
    match = _TLS_COLON.match(comment)
    if match:
        return f"{match.group(1)} {match.group(2)}"
    return None


def _from_comment(comment: str, hop: Hop) -> None:
    ip = _comment_ip(comment)
    if ip and hop.from_ip is None:
        hop.from_ip = ip
        first = (comment.split(maxsplit=1) or [""])[0]
        if first and not first.startswith("[") and _ip(first) is None and "=" not in first:
            hop.from_rdns = first
    helo = _HELO.search(comment)
    if helo and hop.helo is None:
        hop.helo = helo.group(1)


def _by_comment(comment: str, hop: Hop) -> None:
    ip = _comment_ip(comment) if re.fullmatch(r"[\[\]0-9A-Fa-f:.%\w\s]+", comment) else None
    if ip and hop.by_ip is None:
        hop.by_ip = ip
    elif hop.software is None and not _ENVELOPE_FROM.match(comment) and not _read_tls(comment):
        hop.software = comment


def _any_comment(comment: str, hop: Hop) -> None:
    """Facts any comment may carry, wherever it stands."""
    match = _ENVELOPE_FROM.match(comment)
    if match:
        hop.envelope_from = hop.envelope_from or match.group(1)
    tls = _read_tls(comment)
    if tls and hop.tls is None:
        hop.tls = tls
    auth = _AUTH.search(comment)
    if auth and hop.authenticated is None:
        hop.authenticated = auth.group(1).rstrip(")")
    invoked = _INVOKED.match(comment)
    if invoked and hop.software is None:
        hop.software = invoked.group(1) or invoked.group(2)
        hop.extra["invoked"] = comment


def _segments(tokens: list[_Token], hop: Hop) -> list[tuple[str, list[str], list[str]]]:
    """The clauses in order: (keyword or "" before the first one, its words, its comments)."""
    segments: list[tuple[str, list[str], list[str]]] = [("", [], [])]
    for token in tokens:
        if token.kind == "semi":
            continue  # a stray ';' inside the clauses (Runbox: `(RMM 4.0); for <...>`)
        if token.kind == "comment":
            hop.comments.append(token.text)
            segments[-1][2].append(token.text)
            _any_comment(token.text, hop)
            continue
        word = token.text
        keyword, _, rest = word.partition("=")
        name = (keyword if rest else word).lower()
        if name in KEYWORDS or (not rest and name in EXTENSIONS):
            segments.append((name, [rest] if rest else [], []))
        else:
            segments[-1][1].append(word)
    return segments


def _walk(tokens: list[_Token], hop: Hop) -> None:
    leftover: list[str] = []
    seen: set[str] = set()
    for name, words, notes in _segments(tokens, hop):
        if not name:
            leftover.extend(words)  # words before the first clause: nothing to hang them on
        elif name in seen or name in EXTENSIONS:
            leftover.extend(_extension(name, words, hop))
        elif not words:
            hop.problems.append(f"`{name}` with no value")
        else:
            seen.add(name)
            leftover.extend(_clause(name, words, notes, hop))
    if not seen and not ("invoked" in hop.extra and hop.timestamp):
        hop.problems.append("no from/by clause")
    if leftover:
        hop.unparsed = " ".join(leftover)


def _value(name: str, words: list[str]) -> tuple[str, list[str]]:
    """A clause's value and the words after it. `with` and `via` take more words only while
    they look like words of a name (Exchange: `with Microsoft SMTP Server`)."""
    if name not in _MULTI_WORD:
        return words[0], words[1:]
    count = 1
    while count < len(words) and _PROTOCOL_WORD.match(words[count]):
        count += 1
    return " ".join(words[:count]), words[count:]


def _clause(name: str, words: list[str], notes: list[str], hop: Hop) -> list[str]:
    """Assign one clause; returns the words it could not place."""
    value, extra = _value(name, words)
    if name in ("from", "by"):  # `from host [1.2.3.4]` (fetchmail, SMTPD32): the literal is the IP
        literal = next((_ip(word) for word in extra if word.startswith("[") and _ip(word)), None)
        if literal:
            extra = [word for word in extra if _ip(word) != literal]
            if name == "from":
                hop.from_ip = hop.from_ip or literal
            else:
                hop.by_ip = hop.by_ip or literal
    if name == "from":
        hop.from_host = value
        for comment in notes:  # the address the receiver saw beats the one the sender named
            _from_comment(comment, hop)
        hop.from_ip = hop.from_ip or _ip(value)
    elif name == "by":
        hop.by_host = value
        for comment in notes:
            _by_comment(comment, hop)
    elif name == "with":
        _with(value, notes, hop)
    else:
        setattr(hop, {"via": "via", "id": "id", "for": "for_address"}[name], value.strip("<>"))
    return extra


def _with(value: str, notes: list[str], hop: Hop) -> None:
    hop.protocol = value
    first = value.split(maxsplit=1)[0]
    if hop.tls is None and (_TLS_PROTOCOLS.match(first) or "encrypted" in value.lower()):
        hop.tls = value
    for comment in notes:
        if hop.software is None and re.match(r"^(?:Exim|Postfix|Microsoft)\b", comment):
            hop.software = comment


def _extension(name: str, words: list[str], hop: Hop) -> list[str]:
    """Clauses beyond RFC 5321's six, and repeated ones, in the forms real MTAs write."""
    text = " ".join(words)
    if name == "from" and "=" in text:  # Exim: the client certificate's subject
        hop.tls_peer = text
        return []
    if name == "from" and len(words) == 1 and words[0].startswith("<"):  # Exim: envelope sender
        hop.envelope_from = hop.envelope_from or words[0].strip("<>")
        return []
    if name == "by" and len(words) == 2 and words[0].lower() == "authid":  # Exim: `by authid X`
        hop.authenticated = hop.authenticated or words[1].strip("<>")
        return []
    if name == "with" and hop.authenticated and len(words) == 1:  # `... with cram_md5`
        return []
    if name in EXTENSIONS and len(words) == 1:  # vger: `convert rfc822-to-8bit`
        hop.extra[name] = words[0]
        return []
    return [name, *words]


def parse_received(value: str) -> Hop:
    """Parse one Received header value. Total: malformed input gives a Hop with problems."""
    hop = Hop(raw=value)
    try:
        text = " ".join(value.split())
        clause_tokens, date_tokens = _split_date(_tokens(text), hop)
        _apply_date(date_tokens, hop)
        _walk(clause_tokens, hop)
    except Exception as error:  # never raise: a hostile header must not stop a reading
        hop.problems.append(f"parser error: {type(error).__name__}: {error}")
    return hop

"""Email forensics from the stored headers: the relay path, time zones, transit delays and the
anomalies a reader should know about, each with a code and a plain-language explanation.

Pure: it reads an item's parsed record (`record["headers"]`, the exact header values in order)
and returns JSON-ready data. Every statement points at the header it comes from; an anomaly is a
reason to look closer, not a verdict (servers' clocks drift, lists re-sign, laptops queue mail).

Received headers are prepended by each server, so the path runs from the last header (the first
hop, nearest the sender) to the first (the last hop, the final mailbox). The first hops can be
written by the sender and so forged; the later ones were written by servers the recipient's side
operates.
"""

from __future__ import annotations

import email.utils
import ipaddress
import re
from datetime import UTC, datetime
from typing import Any

from strongroom.analyze.received import Hop, parse_received
from strongroom.formats.mailheaders import parse_date

# Thresholds, stated in the anomaly texts so a reader can judge them.
OUT_OF_ORDER_SECONDS = 5 * 60  # servers' clocks drift by seconds to minutes
DATE_FAR_SECONDS = 60 * 60  # a message queued offline for an hour is unusual but happens
LONG_DELAY_SECONDS = 24 * 60 * 60

CLIENT_HEADERS = (
    "x-originating-ip",
    "x-originating-email",
    "x-originating-client",
    "x-sender-ip",
    "x-source-ip",
    "x-forwarded-for",
    "x-ms-exchange-organization-originalclientipaddress",
    "x-aol-ip",
    "x-authenticated-sender",
    "x-sender",
    "x-mailer",
    "user-agent",
    "x-newsreader",
    "x-mimeole",
)

# Zone abbreviations and the UTC offsets (minutes) each is used for; several are ambiguous
# (CST: US Central, China, Australian Central), so a name contradicts an offset only when
# none of its meanings fits. Names not listed are not judged.
ZONE_NAMES: dict[str, tuple[int, ...]] = {
    "UT": (0,), "UTC": (0,), "GMT": (0,), "Z": (0,), "WET": (0,),
    "WEST": (60,), "BST": (60, 360), "IST": (330, 60, 120), "CET": (60,), "MET": (60,),
    "CEST": (120,), "MEST": (120,), "EET": (120,), "EEST": (180,), "MSK": (180, 240),
    "EST": (-300, 600), "EDT": (-240, 660), "CST": (-360, 480, 570, -300), "CDT": (-300, 630),
    "MST": (-420,), "MDT": (-360,), "PST": (-480, 480), "PDT": (-420,), "AKST": (-540,),
    "AKDT": (-480,), "HST": (-600,), "AST": (-240, 180), "ADT": (-180,), "NST": (-210,),
    "NDT": (-150,), "JST": (540,), "KST": (540,), "HKT": (480,), "SGT": (480,), "AWST": (480,),
    "ACST": (570,), "ACDT": (630,), "AEST": (600,), "AEDT": (660,), "NZST": (720,),
    "NZDT": (780,), "BRT": (-180,), "ART": (-180,),
}  # fmt: skip
_NUMERIC_ZONE = re.compile(r"^(?:UTC|GMT)\s*([+-])(\d{1,2})(?::?(\d{2}))?$", re.IGNORECASE)
# Two-letter country domains whose registrations sit one level down (example.co.uk).
_SECOND_LEVEL = {"co", "com", "net", "org", "ac", "gov", "edu", "ne", "or", "go", "gob", "mil"}


def forensics_for_item(item: dict[str, Any]) -> dict[str, Any]:
    """Forensics of an item from `Case.item()`; {} for an item that has no mail headers."""
    record = item.get("record") or {}
    headers = record.get("headers")
    if not headers:
        return {}
    return analyse_headers([(str(name), str(value)) for name, value in headers])


def analyse_headers(headers: list[tuple[str, str]]) -> dict[str, Any]:
    def values(name: str) -> list[str]:
        return [value for key, value in headers if key.lower() == name]

    received = [parse_received(value) for value in values("received")]
    hops = list(reversed(received))  # path order: the hop nearest the sender first
    date = _date(values("date"))
    from_domain = _from_domain(values("from"))
    dkim_domains = sorted({d for d in (_dkim_domain(v) for v in values("dkim-signature")) if d})
    hop_rows = _hop_rows(hops)
    times = [t for t in (_instant(hop.timestamp) for hop in hops) if t is not None]
    transit: dict[str, Any] = {}
    if times:
        transit = {"first_hop": _iso(times[0]), "last_hop": _iso(times[-1])}
        transit["total_seconds"] = int((times[-1] - times[0]).total_seconds())
        date_at = _instant(date.get("utc")) if date else None
        if date_at is not None:
            transit["date_to_first_hop_seconds"] = int((times[0] - date_at).total_seconds())
    result: dict[str, Any] = {
        "received": {
            "total": len(hops),
            "parsed": sum(hop.parsed for hop in hops),
            "unparsed": sum(not hop.parsed for hop in hops),
        },
        "hops": hop_rows,
        "date": date,
        "sender_timezone": _sender_zone(date),
        "transit": transit,
        "origin": _origin(hops),
        "client": {name: values(name)[0] for name in CLIENT_HEADERS if values(name)},
        "from_domain": from_domain,
        "dkim_domains": dkim_domains,
    }
    anomalies: list[dict[str, Any]] = []
    _check_order(hop_rows, anomalies)
    _check_date(date, hop_rows, anomalies)
    _check_zone(date, hops, from_domain, anomalies)
    _check_dkim(from_domain, dkim_domains, anomalies)
    _check_parsing(hops, anomalies)
    result["anomalies"] = anomalies
    return result


# -- facts ----------------------------------------------------------------------------------
def _instant(iso: str | None) -> datetime | None:
    if not iso:
        return None
    try:
        return datetime.strptime(iso, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    except ValueError:
        return None


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _hop_rows(hops: list[Hop]) -> list[dict[str, Any]]:
    rows = []
    previous: datetime | None = None
    for index, hop in enumerate(hops, start=1):
        row = hop.to_json()
        row["index"] = index
        moment = _instant(hop.timestamp)
        row["delay_seconds"] = (
            int((moment - previous).total_seconds()) if moment and previous else None
        )
        previous = moment or previous
        rows.append(row)
    return rows


def _date(values: list[str]) -> dict[str, Any] | None:
    if not values:
        return None
    raw = " ".join(values[0].split())
    parsed = parse_date(raw, [])
    if parsed is None:
        return None
    parsed = dict(parsed)
    comment = re.search(r"\(([^()]*)\)\s*$", raw)
    parsed["zone_name"] = comment.group(1).strip() if comment else None
    bare = re.sub(r"\([^()]*\)\s*$", "", raw).strip()
    if bare.endswith("-0000"):
        parsed["offset"], parsed["offset_minutes"] = "-0000", None
    elif re.search(r"\s([A-Za-z]{1,5})$", bare) and parsed["zone_name"] is None:
        parsed["zone_name"] = bare.rsplit(None, 1)[-1]
    return parsed


def _sender_zone(date: dict[str, Any] | None) -> dict[str, Any] | None:
    if not date or "utc" not in date:
        return None
    offset = date.get("offset")
    if offset == "-0000":
        meaning = "unknown: -0000 means the sender chose not to say"
    elif offset is None:
        meaning = "unknown: no offset given"
    else:
        meaning = f"UTC{offset[:3]}:{offset[3:]}"
    return {"offset": offset, "zone_name": date.get("zone_name"), "meaning": meaning}


def _is_public(ip: str | None) -> bool:
    if not ip:
        return False
    try:
        return ipaddress.ip_address(ip.split("%")[0]).is_global
    except ValueError:
        return False


def _origin(hops: list[Hop]) -> dict[str, Any]:
    for index, hop in enumerate(hops, start=1):
        if _is_public(hop.from_ip):
            return {
                "first_public_ip": hop.from_ip,
                "hop": index,
                "host": hop.from_rdns or hop.from_host,
                "received_by": hop.by_host,
            }
    return {}


def _from_domain(values: list[str]) -> str | None:
    for _name, address in email.utils.getaddresses(values[:1]):
        if "@" in address:
            return address.rsplit("@", 1)[1].strip().strip(">").lower() or None
    return None


def _dkim_domain(value: str) -> str | None:
    for tag in value.split(";"):
        key, _, found = tag.partition("=")
        if key.strip().lower() == "d":
            return "".join(found.split()).lower().strip(".") or None
    return None


def organizational_domain(domain: str) -> str:
    """The registered domain, by a rule of thumb (no public-suffix list is shipped):
    the last two labels, or three under a two-letter country code's co/com/ac/... level."""
    labels = domain.lower().strip(".").split(".")
    if len(labels) >= 3 and len(labels[-1]) == 2 and labels[-2] in _SECOND_LEVEL:
        return ".".join(labels[-3:])
    return ".".join(labels[-2:])


def domains_related(a: str, b: str) -> bool:
    a, b = a.lower().strip("."), b.lower().strip(".")
    return (
        a == b
        or a.endswith("." + b)
        or b.endswith("." + a)
        or organizational_domain(a) == organizational_domain(b)
    )


def zone_offsets(name: str) -> tuple[int, ...] | None:
    """The UTC offsets (minutes) a zone name stands for; None for a name we cannot judge."""
    numeric = _NUMERIC_ZONE.match(name.strip())
    if numeric:
        sign = -1 if numeric.group(1) == "-" else 1
        return (sign * (int(numeric.group(2)) * 60 + int(numeric.group(3) or 0)),)
    return ZONE_NAMES.get(name.strip().upper())


def _offset_text(minutes: int) -> str:
    sign = "-" if minutes < 0 else "+"
    return f"UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def _duration(seconds: float) -> str:
    seconds = abs(int(seconds))
    if seconds < 120:
        return f"{seconds} seconds"
    if seconds < 2 * 3600:
        return f"{seconds // 60} minutes"
    if seconds < 2 * 86400:
        return f"{seconds / 3600:.1f} hours"
    return f"{seconds / 86400:.1f} days"


# -- anomalies ------------------------------------------------------------------------------
# Every code, its severity and its plain-language text; {fields} are filled per message.
ANOMALIES: dict[str, tuple[str, str]] = {
    "hops-out-of-order": ("warning", ("{later} is stamped {gap} before {earlier}, which handed "
        "the message to it: a server's clock was wrong, or the Received headers were reordered "
        "or forged.")),
    "long-transit-delay": ("info", ("{later} received the message {gap} after {earlier}: it "
        "was queued or held on the way.")),
    "date-far-from-first-hop": ("warning", ("The Date header ({date}) is {gap} {direction} the "
        "first recorded hop ({when}, {hop}): the sender's clock was wrong, the message waited "
        "in an outbox, or the Date was written afterwards.")),
    "date-after-delivery": ("warning", ("The Date header is {gap} later than the last hop "
        "({when}, {hop}): the message claims to be written after it was delivered.")),
    "timezone-impossible": ("warning", ("The Date header's offset {offset} is not one any place "
        "uses (offsets run from -1200 to +1400 in quarter hours): the header was written by "
        "hand or by broken software.")),
    "timezone-name-mismatch": ("warning", ("The Date header says {offset} but names its zone "
        "{name}, which stands for {stands}: the clock's zone setting and its offset disagree.")),
    "timezone-contradicts-origin": ("warning", ("The Date header gives {claimed}, but the first "
        "hop was stamped by the sending machine itself ({host}) in {stamped}: the mail client "
        "and its machine disagree about the time zone, or the Date was set elsewhere.")),
    "dkim-domain-unrelated": ("warning", ("The message is DKIM-signed only by {signers}, "
        "unrelated to the From domain {domain}: a signature vouches for its signer's domain, "
        "not for the author (mailing lists and sending services sign this way; so does a "
        "forger with a domain of their own).")),
    "no-received": ("info", ("The message has no Received headers: as stored, it never passed "
        "through a mail server (a draft, a sent-folder copy or an export), or they were "
        "removed.")),
    "received-unparsed": ("info", ("{count} of {total} Received headers could not be fully "
        "read; their raw text is kept with each hop.")),
}  # fmt: skip

Anomalies = list[dict[str, Any]]


def _add(anomalies: Anomalies, code: str, hops: list[int] | None = None, **facts: Any) -> None:
    severity, text = ANOMALIES[code]
    anomalies.append(
        {"code": code, "severity": severity, "text": text.format(**facts), "hops": hops or []}
    )


def _label(row: dict[str, Any]) -> str:
    return f"hop {row['index']} (by {row.get('by_host') or '?'})"


def _check_order(rows: list[dict[str, Any]], anomalies: Anomalies) -> None:
    previous: dict[str, Any] | None = None
    for row in rows:
        if row["timestamp"] is None:
            continue
        delay = row["delay_seconds"]
        if previous is not None and delay is not None:
            pair = {"later": _label(row), "earlier": _label(previous), "gap": _duration(delay)}
            hops = [previous["index"], row["index"]]
            if delay < -OUT_OF_ORDER_SECONDS:
                _add(anomalies, "hops-out-of-order", hops, **pair)
            elif delay > LONG_DELAY_SECONDS:
                _add(anomalies, "long-transit-delay", hops, **pair)
        previous = row


def _check_date(
    date: dict[str, Any] | None, rows: list[dict[str, Any]], anomalies: Anomalies
) -> None:
    sent = _instant(date.get("utc")) if date else None
    timed = [row for row in rows if _instant(row["timestamp"]) is not None]
    if date is None or sent is None or not timed:
        return
    first, last = timed[0], timed[-1]
    gap = ((_instant(first["timestamp"]) or sent) - sent).total_seconds()  # > 0: Date first
    if abs(gap) > DATE_FAR_SECONDS:
        _add(
            anomalies,
            "date-far-from-first-hop",
            [first["index"]],
            date=date["utc"],
            gap=_duration(gap),
            direction="before" if gap > 0 else "after",
            when=first["timestamp"],
            hop=_label(first),
        )
    late = (sent - (_instant(last["timestamp"]) or sent)).total_seconds()
    if late > OUT_OF_ORDER_SECONDS:
        when, hop = last["timestamp"], _label(last)
        _add(
            anomalies,
            "date-after-delivery",
            [last["index"]],
            gap=_duration(late),
            when=when,
            hop=hop,
        )


def _origin_machine(hops: list[Hop], from_domain: str | None) -> tuple[int, Hop] | None:
    """The first timed hop when the sender's own machine stamped it: a local submission (Exim
    `with local`, Postfix `(Postfix, from userid 1000)`, sendmail's `/Submit`, sSMTP) on a host
    or envelope sender of the From domain, so its zone is the sender's machine's. None when it
    is a provider's server, which may be anywhere (Gmail stamps Pacific time whoever sends), or
    a gateway injecting others' mail (gmane posts `with local` in Norway)."""
    timed = [(index, hop) for index, hop in enumerate(hops, start=1) if hop.timestamp]
    if not from_domain or not timed:
        return None
    index, hop = timed[0]
    software = (hop.software or "").lower()
    local = (hop.protocol or "").lower() in ("local", "internal") or any(
        mark in software for mark in ("userid", "/submit", "sendmail emulation")
    )
    envelope = (hop.envelope_from or "").rpartition("@")[2]
    own = any(
        domain and _ip_literal(domain) is None and domains_related(domain, from_domain)
        for domain in (hop.by_host or "", envelope)
    )
    return (index, hop) if local and own else None


def _ip_literal(text: str) -> str | None:
    try:
        return str(ipaddress.ip_address(text.strip("[]")))
    except ValueError:
        return None


def _minutes(offset: str | None) -> int | None:
    if not offset or offset == "-0000" or not re.fullmatch(r"[+-]\d{4}", offset):
        return None
    sign = -1 if offset[0] == "-" else 1
    return sign * (int(offset[1:3]) * 60 + int(offset[3:5]))


def _check_zone(
    date: dict[str, Any] | None, hops: list[Hop], from_domain: str | None, anomalies: Anomalies
) -> None:
    minutes = _minutes(date.get("offset")) if date and "utc" in date else None
    if date is None or minutes is None:
        return
    if not -12 * 60 <= minutes <= 14 * 60 or minutes % 15:
        _add(anomalies, "timezone-impossible", offset=date["offset"])
    name = date.get("zone_name")
    meanings = zone_offsets(name) if name else None
    if name and meanings is not None and minutes not in meanings:
        stands = " or ".join(_offset_text(m) for m in meanings)
        _add(anomalies, "timezone-name-mismatch", offset=date["offset"], name=name, stands=stands)
    origin = _origin_machine(hops, from_domain)
    stamped = _minutes(origin[1].offset) if origin else None
    if origin is not None and stamped is not None and stamped != minutes:
        _add(
            anomalies,
            "timezone-contradicts-origin",
            [origin[0]],
            claimed=_offset_text(minutes),
            host=origin[1].by_host,
            stamped=_offset_text(stamped),
        )


def _check_dkim(from_domain: str | None, dkim_domains: list[str], anomalies: Anomalies) -> None:
    if not from_domain or not dkim_domains:
        return
    if not any(domains_related(d, from_domain) for d in dkim_domains):
        signers = ", ".join(dkim_domains)
        _add(anomalies, "dkim-domain-unrelated", signers=signers, domain=from_domain)


def _check_parsing(hops: list[Hop], anomalies: Anomalies) -> None:
    if not hops:
        _add(anomalies, "no-received")
        return
    unparsed = [index for index, hop in enumerate(hops, start=1) if not hop.parsed]
    if unparsed:
        _add(anomalies, "received-unparsed", unparsed, count=len(unparsed), total=len(hops))


def render_forensics(data: dict[str, Any]) -> list[str]:
    """Plain lines for `show --forensics` (no markup)."""
    if not data:
        return ["no mail headers: forensics apply to emails only"]
    lines = [f"Received: {data['received']['total']} headers, {data['received']['parsed']} parsed"]
    for hop in data["hops"]:
        source = hop["from_host"] or hop["extra"].get("invoked") or "?"
        if hop["from_ip"] and hop["from_ip"] not in source:
            source += f" [{hop['from_ip']}]"
        delay = "" if hop["delay_seconds"] is None else f" {hop['delay_seconds']:+d}s"
        extra = ", ".join(
            part
            for part in (
                hop["via"] and f"via {hop['via']}",
                hop["protocol"] and f"with {hop['protocol']}",
                hop["tls"] and f"TLS {hop['tls']}",
                hop["id"] and f"id {hop['id']}",
                hop["for_address"] and f"for {hop['for_address']}",
            )
            if part
        )
        when = hop["local_time"] or "no time"
        lines.append(
            f"  {hop['index']}. {when}{delay}  {source} -> {hop['by_host'] or '?'}"
            + (f"  ({extra})" if extra else "")
            + ("" if hop["parsed"] else "  [not fully parsed]")
        )
    zone = data.get("sender_timezone")
    if zone:
        lines.append(f"sender's time zone (Date): {zone['meaning']}")
    origin = data.get("origin") or {}
    if origin:
        lines.append(f"first public IP: {origin['first_public_ip']} (hop {origin['hop']})")
    for name, value in data.get("client", {}).items():
        lines.append(f"{name}: {' '.join(value.split())}")
    transit = data.get("transit") or {}
    if transit.get("total_seconds", 0) < 0:
        lines.append(
            f"transit: the last hop is stamped {_duration(transit['total_seconds'])}"
            " before the first"
        )
    elif "total_seconds" in transit:
        lines.append(f"transit: {_duration(transit['total_seconds'])} from first to last hop")
    for anomaly in data["anomalies"]:
        lines.append(f"{anomaly['severity']} {anomaly['code']}: {anomaly['text']}")
    return lines

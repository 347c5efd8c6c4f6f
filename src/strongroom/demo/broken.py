"""Deliberately damaged messages, one kind per defect an ingester must survive.

They come from outside senders and are never DKIM-signed. A reader must keep each one, with its
defects recorded, rather than drop it.
"""

from __future__ import annotations

import random
from datetime import datetime, timezone
from email.utils import format_datetime

from strongroom.demo import mime, text
from strongroom.demo.compose import Destination, Draft, received
from strongroom.demo.people import Directory

KINDS = (
    "missing-end-boundary",
    "unknown-charset",
    "malformed-date",
    "header-without-colon",
    "invalid-message-id",
)
BAD_CHARSET = "x-unknown-42"
BAD_DATE = "Thursday the 31st of Febtober, 2016 around lunch"


def broken_indices(messages: int) -> tuple[int, ...]:
    """About 0.5% of messages (at least one of each kind once there are 20), evenly spread."""
    if messages < 20:
        return ()
    count = max(len(KINDS), round(messages * 0.005))
    return tuple(((2 * j + 1) * messages) // (2 * count) for j in range(count))


def compose_broken(
    *,
    kind: str,
    index: int,
    utc: datetime,
    dest: Destination,
    directory: Directory,
    rng: random.Random,
) -> Draft:
    sender = rng.choice([p for p in directory.outsiders if p.lang in ("en", "ru")])
    rcpt = dest.owner or rng.choice(directory.staff)
    local = utc.astimezone(timezone(sender.zone.offset_at(utc)))
    message_id = f"<{utc:%Y%m%d%H%M%S}.{rng.getrandbits(48):012X}@mail.{sender.domain}>"
    date = format_datetime(local)
    if kind == "invalid-message-id":
        message_id = f"{utc:%Y%m%d} broken id at {sender.domain.split('.')[0]}"
    elif kind == "malformed-date":
        date = BAD_DATE
    charset = sender.profile.charset
    paras = text.paragraphs(rng, sender.lang, rcpt.name.split()[0], 2)
    plain = "\n\n".join("\n".join(text.wrap(p)) for p in paras) + "\n"

    headers: mime.HeaderList = [
        ("Received", h) for h in received(sender, rcpt, utc, rng)
    ]  # fmt: skip
    headers += [
        ("From", mime.address(sender, sender.profile.header_charset)),
        ("To", mime.address(rcpt, sender.profile.header_charset)),
        ("Subject", mime.encode_words(text.subject(rng, sender.lang, "team"), charset)),
        ("Date", date),
        ("Message-ID", message_id),
        ("MIME-Version", "1.0"),
    ]
    charsets = [mime.charset_for(plain, charset)]
    if kind == "missing-end-boundary":
        charset = charsets[0]
        boundary = f"----=_broken_{index:06d}_{rng.getrandbits(32):08x}"
        part = mime.multipart(
            "alternative",
            boundary,
            [
                mime.text_part(plain, "plain", charset, "quoted-printable"),
                mime.text_part(f"<p>{plain}</p>\n", "html", charset, "quoted-printable"),
            ],
        )
        part.close_boundary = False
        charsets = [charset, charset]
    elif kind == "unknown-charset":
        data = "\n".join(text.wrap(text.paragraphs(rng, "ru", "", 1)[0])) + "\n"
        part = mime.Part(
            [
                ("Content-Type", f'text/plain; charset="{BAD_CHARSET}"'),
                ("Content-Transfer-Encoding", "8bit"),
            ],
            data.encode("windows-1251"),
        )
        charsets = [BAD_CHARSET]
    else:
        part = mime.text_part(plain, "plain", charsets[0], "quoted-printable")
    headers += part.headers
    if kind == "header-without-colon":
        headers.append(("X-Export-Note", "kept"))
    raw = mime.header_bytes(headers)
    if kind == "header-without-colon":
        raw = raw.replace(b"X-Export-Note: kept\n", b"X-Export-Note this header lost its colon\n")
        raw += b"X-Archived: yes\n"
    raw += b"\n" + part.body_bytes()
    draft = Draft(raw, message_id, local, sender, "broken", broken=kind)
    draft.charsets = charsets
    return draft

"""Composes one message at a time: participants, threading, body, attachments, headers, DKIM."""

from __future__ import annotations

import random
import zlib
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

from strongroom.demo import bodies, mime, text
from strongroom.demo.attachments import AttachmentDraft, AttachmentMaker, AttachmentPlanner
from strongroom.demo.bodies import Parent
from strongroom.demo.dkimkeys import DkimSigner
from strongroom.demo.people import Directory, Person
from strongroom.demo.pii import PiiSource, PiiValue

POOL_SIZE = 48  # recent messages that replies and forwards can pick from (bounds memory)
REPLY_RATE = 0.42
FORWARD_RATE = 0.07
NO_REFERENCES_RATE = 0.04  # replies that lost In-Reply-To/References (subject-only threading)
BCC_RATE = 0.06
BODY_PII_EVERY = 41  # message index 7, 48, 89 … carries a planted value in its body
FROM_LINE = "From the desk of {name}: for the addressee only."


@dataclass(frozen=True)
class Destination:
    """Where the router will store the message, decided before it is composed."""

    kind: str  # "maildir" | "mbox" | "eml" | "zip"
    owner: Person | None = None  # mailbox owner who must be sender or recipient
    owner_sends: bool = False  # True: the copy in the owner's Sent folder


@dataclass
class Draft:
    raw: bytes
    message_id: str
    date: datetime
    sender: Person
    kind: str  # new | reply | reply-subject-only | forward | broken
    broken: str | None = None
    signed: bool = False
    charsets: list[str] = field(default_factory=list)
    pii: list[tuple[PiiValue, str]] = field(default_factory=list)
    attachments: list[AttachmentDraft] = field(default_factory=list)
    has_rfc822: bool = False


def _unique(people: list[Person], drop: Person | None = None) -> list[Person]:
    seen, out = set(), []
    for p in people:
        if p.address not in seen and p != drop:
            seen.add(p.address)
            out.append(p)
    return out


def received(sender: Person, rcpt: Person, utc: datetime, rng: random.Random) -> list[str]:
    """Received headers of the delivered copy, newest first, with documentation-range IPs."""
    src_host = f"mail.{sender.domain}"
    net = "198.51.100" if sender.staff else "203.0.113"
    src_ip = f"{net}.{zlib.crc32(src_host.encode()) % 200 + 20}"
    hop = utc + timedelta(seconds=rng.randrange(1, 9))
    queue_id = f"{rng.getrandbits(40):010X}"
    mx_hop = (
        f"from {src_host} ({src_host} [{src_ip}])\n\tby mx.{rcpt.domain} with ESMTPS id "
        f"{queue_id}\n\tfor <{rcpt.address}>; {format_datetime(hop)}"
    )
    submission = (
        f"from [192.0.2.{rng.randrange(2, 250)}] (unknown)\n\tby {src_host} with ESMTPSA\n\t; "
        f"{format_datetime(utc + timedelta(seconds=1))}"
    )
    return [mx_hop, submission]


class Composer:
    def __init__(
        self,
        *,
        directory: Directory,
        signer: DkimSigner,
        planner: AttachmentPlanner,
        maker: AttachmentMaker,
        rng: random.Random,
        pii: PiiSource,
        rfc822_at: tuple[int, ...],
    ) -> None:
        self.directory = directory
        self.signer = signer
        self.planner = planner
        self.maker = maker
        self.rng = rng
        self.pii = pii
        self.pool: deque[Parent] = deque(maxlen=POOL_SIZE)
        self.rfc822_at = list(rfc822_at)
        self.attachable: tuple[bytes, str] | None = None  # a recent plain message to forward

    # -- participants -------------------------------------------------------------------------
    def _pick_sender(self) -> Person:
        rng, d = self.rng, self.directory
        if rng.random() < 0.7:
            return rng.choice(d.staff)
        russian = [p for p in d.outsiders if p.lang == "ru"]
        return rng.choice(russian) if rng.random() < 0.3 else rng.choice(d.outsiders)

    def _recipients(self, sender: Person) -> list[Person]:
        rng, d = self.rng, self.directory
        pool = d.staff if not sender.staff or rng.random() < 0.75 else d.outsiders
        return rng.sample(pool, rng.randrange(1, 4))

    def _participants(
        self, dest: Destination, parent: Parent | None, forward: bool
    ) -> tuple[Person, list[Person], list[Person]]:
        rng = self.rng
        if parent and not forward:
            candidates = list(parent.to + parent.cc)
            sender = dest.owner if dest.owner_sends and dest.owner else rng.choice(candidates)
            to = [parent.sender] if parent.sender != sender else list(parent.to[:1])
            cc = list(parent.to + parent.cc) if rng.random() < 0.5 else []
        else:
            if dest.owner_sends and dest.owner:
                sender = dest.owner
            elif parent:
                sender = rng.choice(list(parent.to + parent.cc))
            else:
                sender = self._pick_sender()
            to = self._recipients(sender)
            cc = rng.sample(self.directory.staff, rng.randrange(1, 3)) if rng.random() < 0.4 else []
        to = _unique(to, sender) or [rng.choice([p for p in self.directory.staff if p != sender])]
        cc = [p for p in _unique(cc, sender) if p not in to]
        if dest.owner and not dest.owner_sends and dest.owner not in to + cc + [sender]:
            (to if len(to) < 3 else cc).append(dest.owner)
        return sender, to, cc

    # -- composition --------------------------------------------------------------------------
    def compose(self, index: int, utc: datetime, dest: Destination) -> Draft:
        rng = self.rng
        roll = rng.random()
        parent = rng.choice(list(self.pool)[-12:]) if self.pool else None
        forward = parent is not None and REPLY_RATE <= roll < REPLY_RATE + FORWARD_RATE
        if parent is not None and roll >= REPLY_RATE + FORWARD_RATE:
            parent = None
        sender, to, cc = self._participants(dest, parent, forward)
        local = utc.astimezone(timezone(sender.zone.offset_at(utc)))
        kind = "forward" if forward else ("reply" if parent else "new")
        if kind == "reply" and rng.random() < NO_REFERENCES_RATE:
            kind = "reply-subject-only"
        planted = self.pii.next() if index % BODY_PII_EVERY == 7 else None

        sentence = PiiSource.sentence(planted) if planted else None
        own = bodies.own_text(rng, sender, to[0].name.split()[0], sentence, rng.randrange(1, 4))
        blocks = [own, "\n".join(bodies.signature(sender, index))]
        if parent is not None and not forward:
            blocks.append("\n".join(bodies.quote_block(parent, sender.profile.outlook_quote)))
        elif parent is not None:
            blocks.append("\n".join(bodies.forward_block(parent)))
        if not sender.staff and rng.random() < 0.15:
            blocks.append(FROM_LINE.format(name=sender.name))
        plain = "\n\n".join(blocks) + "\n"

        base = parent.subject if parent else text.subject(rng, sender.lang, to[0].name.split()[0])
        prefix = {"forward": "Fwd: ", "new": ""}.get(kind, "Re: ")
        draft = Draft(b"", "", local, sender, kind)
        if planted:
            draft.pii.append((planted, "body"))
        body = self._body(plain, sender, index, draft)
        message_id = self._message_id(sender, utc)

        headers: mime.HeaderList = [
            ("From", mime.address(sender, sender.profile.header_charset)),
            ("To", mime.address_list(to, sender.profile.header_charset, "To")),
        ]
        if cc:
            headers.append(("Cc", mime.address_list(cc, sender.profile.header_charset, "Cc")))
        if sender.staff and rng.random() < BCC_RATE:
            hidden = rng.choice([p for p in self.directory.staff if p not in [sender, *to, *cc]])
            headers.append(("Bcc", mime.address(hidden, sender.profile.header_charset)))
        headers += [
            ("Subject", mime.encode_prefixed(prefix, base, sender.profile.header_charset)),
            ("Date", format_datetime(local)),
            ("Message-ID", message_id),
        ]
        references: tuple[str, ...] = ()
        if parent is not None and kind == "reply":
            references = (parent.references[:1] + parent.references[1:][-6:]) + (parent.message_id,)
            headers.append(("In-Reply-To", parent.message_id))
            headers.append(("References", "\n ".join(references)))
        headers.append((sender.profile.mailer_header, sender.profile.mailer))
        headers.append(("MIME-Version", "1.0"))
        headers += body.headers
        payload = body.body_bytes()

        top: mime.HeaderList = []
        if sender.staff:
            sig = self.signer.signature(headers, payload, int(utc.timestamp()))
            top.append(("DKIM-Signature", sig))
            draft.signed = True
        if not dest.owner_sends:
            rcpt = dest.owner or to[0]
            top = [("Received", h) for h in received(sender, rcpt, utc, rng)] + top
        draft.raw = mime.header_bytes(top + headers) + b"\n" + payload
        draft.message_id = message_id

        if parent is None or forward:
            refs: tuple[str, ...] = ()
        else:
            refs = references or (parent.message_id,)
        self.pool.append(Parent(message_id, refs, base, sender, tuple(to), tuple(cc), local, own))
        if not draft.attachments and b"\nFrom " not in draft.raw:
            self.attachable = (draft.raw, prefix + base)
        return draft

    def _message_id(self, sender: Person, utc: datetime) -> str:
        host = sender.domain if sender.staff else f"mail.{sender.domain}"
        return f"<{utc:%Y%m%d%H%M%S}.{self.rng.getrandbits(48):012X}@{host}>"

    def _body(self, plain: str, sender: Person, index: int, draft: Draft) -> mime.Part:
        profile = sender.profile
        if plain.isascii():
            charset = profile.ascii_charset
        else:
            charset = mime.charset_for(plain, profile.charset)
        part = mime.text_part(plain, "plain", charset, profile.cte)
        draft.charsets.append(charset)
        if profile.html:
            html_part = mime.text_part(bodies.to_html(plain, charset), "html", charset,
                                       "quoted-printable")  # fmt: skip
            draft.charsets.append(charset)
            part = mime.multipart("alternative", self._boundary(index, "alt"), [part, html_part])
        count = self.planner.count()
        if not count:
            return part
        children = [part]
        for _ in range(count):
            if self.rfc822_at and index >= self.rfc822_at[0] and self.attachable:
                self.rfc822_at.pop(0)
                raw, subject = self.attachable
                child, record = self.maker.forwarded(raw, subject)
                draft.has_rfc822 = True
            else:
                child, record, planted = self.maker.make(sender, draft.date)
                if planted:
                    draft.pii.append((planted, record.filename))
            children.append(child)
            draft.attachments.append(record)
        preamble = "This is a multi-part message in MIME format." if profile.html else ""
        return mime.multipart("mixed", self._boundary(index, "mix"), children, preamble)

    def _boundary(self, index: int, tag: str) -> str:
        return f"----=_{tag}_{index:06d}_{self.rng.getrandbits(64):016x}"

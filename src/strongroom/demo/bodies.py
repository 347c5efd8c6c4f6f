"""Message bodies: new text, replies with quotes, forwards, signatures and HTML twins."""

from __future__ import annotations

import html
import random
from dataclasses import dataclass
from datetime import datetime

from strongroom.demo import text
from strongroom.demo.people import ORG_NAME, Person

QUOTE_LINES = 30  # how much of a parent is carried into a reply's quote


@dataclass(frozen=True)
class Parent:
    """What a reply or forward needs from an earlier message."""

    message_id: str
    references: tuple[str, ...]
    subject: str  # without Re:/Fwd:
    sender: Person
    to: tuple[Person, ...]
    cc: tuple[Person, ...]
    date: datetime
    text: str


def signature(person: Person, index: int) -> list[str]:
    if person.staff:
        return [
            "-- ",
            person.name,
            f"{person.title}, {ORG_NAME}",
            f"(202) 555-01{index % 100:02d}",
        ]
    return ["-- ", person.name, person.title] if person.title else [person.name]


def own_text(
    rng: random.Random, sender: Person, to_first: str, planted: str | None, count: int
) -> str:
    """Greeting, paragraphs, an optional planted line, closing and name."""
    lines = [text.greeting(rng, sender.lang, to_first), ""]
    paras = text.paragraphs(rng, sender.lang, to_first, count)
    for k, para in enumerate(paras):
        lines += [*text.wrap(para), ""]
        if planted and k == 0:
            lines += [planted, ""]
    lines += [text.closing(rng, sender.lang), sender.name.split()[0]]
    return "\n".join(lines)


def quote_block(parent: Parent, outlook: bool) -> list[str]:
    original = parent.text.split("\n")[:QUOTE_LINES]
    if outlook:
        return [
            "-----Original Message-----",
            f"From: {parent.sender.name} [mailto:{parent.sender.address}]",
            f"Sent: {text.attribution_date(parent.date)}",
            f"To: {'; '.join(p.name for p in parent.to)}",
            f"Subject: {parent.subject}",
            "",
            *original,
        ]
    attribution = (
        f"On {text.attribution_date(parent.date)}, {parent.sender.name} "
        f"<{parent.sender.address}> wrote:"
    )
    return [attribution, *(f"> {line}" if line else ">" for line in original)]


def forward_block(parent: Parent) -> list[str]:
    return [
        "---------- Forwarded message ----------",
        f"From: {parent.sender.name} <{parent.sender.address}>",
        f"Date: {text.attribution_date(parent.date)}",
        f"Subject: {parent.subject}",
        f"To: {', '.join(f'{p.name} <{p.address}>' for p in parent.to)}",
        "",
        *parent.text.split("\n")[:QUOTE_LINES],
    ]


def to_html(plain: str, charset: str) -> str:
    """A simple HTML rendering: paragraphs, and runs of "> " lines as blockquotes."""
    out = [
        "<html><head>",
        f'<meta http-equiv="Content-Type" content="text/html; charset={charset}">',
        "</head><body>",
    ]
    group: list[str] = []
    quoted = False

    def flush() -> None:
        if group:
            inner = "<br>\n".join(group)
            out.append(f"<blockquote>{inner}</blockquote>" if quoted else f"<p>{inner}</p>")
            group.clear()

    for line in plain.rstrip("\n").split("\n"):
        is_quote = line.startswith(">")
        if not line or is_quote != quoted:
            flush()
            quoted = is_quote
        if line:
            group.append(html.escape(line[1:].lstrip() if is_quote else line))
    flush()
    out.append("</body></html>")
    return "\n".join(out)

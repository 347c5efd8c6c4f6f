"""Emails out with their original bytes: one mbox file, or one .eml file per message.

An .eml file holds exactly the stored bytes. An mbox needs framing, and is written so that
reading it back (strongroom's own mbox reader keeps each message's exact slice) gives every
message its original sha256:

- a message found in an mbox is written verbatim after its original From_ line: its stored
  bytes are that mbox's slice, quoting (`>From `) included, so they already are mbox-safe;
- any other message gets mboxrd quoting (one more `>` before every line matching `^>*From `)
  and a From_ line built from its sender and date. Quoting is what keeps the file readable by
  every mbox reader, but it changes those bytes: such messages are listed as `altered`;
- a blank line separates messages (readers drop it). A message whose bytes do not end with a
  newline can only be exact as the file's last message; any others are listed as `altered`.
"""

from __future__ import annotations

import json
import os
import re
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from strongroom.catalog import schema as s

if TYPE_CHECKING:
    from strongroom.case import Case

_NEEDS_QUOTE = re.compile(rb"(?m)^(>*From )")
_NO_SPACE = re.compile(r"\s")
EPOCH_LINE = "Thu Jan  1 00:00:00 1970"
BATCH = 500


@dataclass
class MailExport:
    written: int = 0
    skipped: list[dict[str, Any]] = field(default_factory=list)  # hits that are not emails
    altered: list[dict[str, Any]] = field(default_factory=list)  # mbox framing changed bytes

    def to_json(self) -> dict[str, Any]:
        return {"written": self.written, "skipped": self.skipped, "altered": self.altered}


@dataclass(frozen=True)
class _Mail:
    num: int
    sha256: str
    from_address: str | None
    date_utc: str | None
    from_line: str | None  # the original envelope, for a message found in an mbox


def _emails(case: Case, nums: list[int], summary: MailExport) -> list[_Mail]:
    """The RFC 822 messages among `nums`; Outlook .msg files and non-emails are skipped."""
    mails: list[_Mail] = []
    for start in range(0, len(nums), BATCH):
        chunk = nums[start : start + BATCH]
        with case.catalog.engine.connect() as conn:
            envelopes: dict[int, str] = {}
            for link in conn.execute(
                select(s.locations.c.item_num, s.locations.c.info)
                .where(s.locations.c.item_num.in_(chunk))
                .order_by(s.locations.c.id)
            ):
                line = json.loads(link.info).get("from_line")
                if isinstance(line, str) and link.item_num not in envelopes:
                    envelopes[link.item_num] = line
            rows = conn.execute(
                select(
                    s.items.c.num,
                    s.items.c.sha256,
                    s.items.c.kind,
                    s.items.c.format,
                    s.items.c.from_address,
                    s.items.c.date_utc,
                )
                .where(s.items.c.num.in_(chunk))
                .order_by(s.items.c.num)
            ).all()
        for row in rows:
            if row.kind != "email" or row.format != "email":
                reason = "an Outlook .msg file" if row.format == "msg" else f"a {row.kind}"
                summary.skipped.append({"id": row.num, "reason": f"{reason}, not an RFC 822 email"})
                continue
            mails.append(
                _Mail(row.num, row.sha256, row.from_address, row.date_utc, envelopes.get(row.num))
            )
    return mails


def from_line(sender: str | None, date_utc: str | None) -> str:
    """An mbox envelope line: `From <sender> <asctime date>` (MAILER-DAEMON, 1970 if unknown)."""
    who = sender if sender and not _NO_SPACE.search(sender) else "MAILER-DAEMON"
    when = EPOCH_LINE
    if date_utc:
        try:
            parsed = datetime.strptime(date_utc, "%Y-%m-%dT%H:%M:%SZ")
        except ValueError:
            parsed = None
        if parsed is not None:
            when = time.asctime(parsed.timetuple())
    return f"From {who} {when}"


def mboxrd_quote(data: bytes) -> tuple[bytes, int]:
    return _NEEDS_QUOTE.subn(rb">\1", data)


def write_mbox(case: Case, nums: list[int], out: Path) -> MailExport:
    summary = MailExport()
    mails = _emails(case, nums, summary)
    # A message without a final newline is exact only when nothing follows it: put one last.
    unterminated = [m for m in mails if not _ends_with_newline(case, m)]
    if unterminated:
        mails.remove(unterminated[0])
        mails.append(unterminated[0])
    tmp = out.with_name(out.name + ".part")
    with tmp.open("wb") as handle:
        for position, mail in enumerate(mails):
            data = case.blobs.read(mail.sha256)
            reasons = []
            if mail.from_line is not None:
                envelope = mail.from_line
            else:
                envelope = from_line(mail.from_address, mail.date_utc)
                data, quoted = mboxrd_quote(data)
                if quoted:
                    reasons.append(f"{quoted} line(s) starting 'From ' quoted as '>From '")
            last = position == len(mails) - 1
            terminated = data.endswith(b"\n")
            if not terminated and not last:
                reasons.append("no newline at the end of the message; mbox framing adds one")
            handle.write(envelope.encode("utf-8") + b"\n" + data)
            if not terminated and not last:
                handle.write(b"\n")
            if terminated or not last:
                handle.write(b"\n")
            if reasons:
                summary.altered.append({"id": mail.num, "reason": "; ".join(reasons)})
            summary.written += 1
    tmp.replace(out)
    return summary


def _ends_with_newline(case: Case, mail: _Mail) -> bool:
    with case.blobs.open(mail.sha256) as handle:
        size = handle.seek(0, os.SEEK_END)
        handle.seek(max(size - 1, 0))
        return handle.read(1) == b"\n"


def write_eml(case: Case, nums: list[int], out: Path) -> MailExport:
    """One `<item number>.eml` per email in the folder `out`, holding its exact bytes."""
    summary = MailExport()
    out.mkdir(parents=True, exist_ok=True)
    for mail in _emails(case, nums, summary):
        target = out / f"{mail.num}.eml"
        tmp = out / f".{mail.num}.eml.part"
        tmp.write_bytes(case.blobs.read(mail.sha256))
        tmp.replace(target)
        summary.written += 1
    return summary

"""Emails out with their original bytes: one mbox file, or one .eml file per message.

An .eml file holds exactly the stored bytes. An mbox needs framing; it is written so that
strongroom's mbox reader gives every message back with its original sha256:

- a message found in an mbox is written verbatim after its original From_ line: its stored
  bytes are that mbox's slice, quoting (`>From `) included, so they already are mbox-safe;
- any other message (and one without a final newline, unless it goes last) gets mboxrd quoting
  (one more `>` before every line matching `^>*From `), a final newline if it had none, and a
  From_ line that says so after the date, where other readers ignore trailing text (UUCP's
  "remote from host" went there): `From a@b Thu Nov 26 10:00:00 2026 strongroom-mboxrd
  sha256=<hex> length=<bytes>`. strongroom's reader undoes the quoting, trims to `length` and
  keeps the result only if its sha256 is the one named. Other readers see the mboxrd message,
  as any mbox gives it; Python's `mailbox` and mutt split the file the same way;
- a blank line separates messages (readers drop it).
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
from strongroom.sources.mbox import envelope_base, marked_envelope, quote_mboxrd

if TYPE_CHECKING:
    from strongroom.case import Case

_NO_SPACE = re.compile(r"\s")
EPOCH_LINE = "Thu Jan  1 00:00:00 1970"
BATCH = 500


@dataclass
class MailExport:
    written: int = 0
    skipped: list[dict[str, Any]] = field(default_factory=list)  # hits that are not emails
    # Messages whose bytes in the file carry strongroom-mboxrd framing (quoted From lines, an
    # added newline): strongroom restores them exactly; other readers see them quoted.
    framed: int = 0

    def to_json(self) -> dict[str, Any]:
        return {"written": self.written, "skipped": self.skipped, "framed": self.framed}


@dataclass(frozen=True)
class _Mail:
    num: int
    sha256: str
    from_address: str | None
    date_utc: str | None
    from_line: str | None  # the envelope it was found after in an mbox, if any
    verbatim: bool  # its stored bytes are that mbox's exact slice (not restored from framing)


def _emails(case: Case, nums: list[int], summary: MailExport) -> list[_Mail]:
    """The RFC 822 messages among `nums`; Outlook .msg files and non-emails are skipped."""
    mails: list[_Mail] = []
    for start in range(0, len(nums), BATCH):
        chunk = nums[start : start + BATCH]
        with case.catalog.engine.connect() as conn:
            envelopes: dict[int, tuple[str, bool]] = {}
            for link in conn.execute(
                select(s.locations.c.item_num, s.locations.c.info)
                .where(s.locations.c.item_num.in_(chunk))
                .order_by(s.locations.c.id)
            ):
                info = json.loads(link.info)
                line = info.get("from_line")
                if not isinstance(line, str):
                    continue
                verbatim = "framing" not in info
                known = envelopes.get(link.item_num)
                if known is None or (verbatim and not known[1]):  # an exact slice wins
                    envelopes[link.item_num] = (envelope_base(line), verbatim)
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
            line, verbatim = envelopes.get(row.num, (None, False))
            mails.append(_Mail(row.num, row.sha256, row.from_address, row.date_utc, line, verbatim))
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


def write_mbox(case: Case, nums: list[int], out: Path) -> MailExport:
    summary = MailExport()
    mails = _emails(case, nums, summary)
    # A verbatim slice without a final newline stays exact as the file's last message (a whole
    # mbox exported comes back byte for byte); any other such message is framed.
    unterminated = [m for m in mails if m.verbatim and not _ends_with_newline(case, m)]
    if unterminated:
        mails.remove(unterminated[0])
        mails.append(unterminated[0])
    tmp = out.with_name(out.name + ".part")
    with tmp.open("wb") as handle:
        for position, mail in enumerate(mails):
            data = case.blobs.read(mail.sha256)
            last = position == len(mails) - 1
            if mail.verbatim and mail.from_line and (data.endswith(b"\n") or last):
                handle.write(mail.from_line.encode("utf-8") + b"\n" + data)
                handle.write(b"\n" if data.endswith(b"\n") else b"")
            else:
                envelope = mail.from_line or from_line(mail.from_address, mail.date_utc)
                handle.write(marked_envelope(envelope, data).encode("utf-8") + b"\n")
                handle.write(quote_mboxrd(data))
                handle.write(b"\n\n" if not data.endswith(b"\n") else b"\n")
                summary.framed += 1
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

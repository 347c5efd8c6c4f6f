"""Small synthetic mail made by code in the tests (no binaries committed)."""

from __future__ import annotations

import io
import mailbox
import zipfile
from datetime import datetime, timedelta, timezone
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path


def message(n: int, body_bytes: int = 400, attachment: bytes | None = None) -> bytes:
    msg = EmailMessage()
    msg["From"] = f"Sender {n % 17} <sender{n % 17}@example.org>"
    msg["To"] = f"recipient{n % 5}@example.net"
    msg["Subject"] = f"Message number {n}"
    msg["Message-ID"] = f"<m{n}@example.org>"
    zone = timezone(timedelta(hours=(n % 5) - 2))
    msg["Date"] = format_datetime(datetime(2016, 1 + n % 12, 1 + n % 28, 12, 0, tzinfo=zone))
    line = f"line of message {n} with some words budget donors\n"
    msg.set_content(line * max(1, body_bytes // len(line)))
    if attachment is not None:
        msg.add_attachment(
            attachment, maintype="application", subtype="octet-stream", filename=f"file{n}.bin"
        )
    return msg.as_bytes()


def write_mbox(path: Path, count: int, start: int = 0, body_bytes: int = 400) -> None:
    with path.open("wb") as out:
        for n in range(start, start + count):
            out.write(b"From sender@example.org Fri Jan  1 12:00:00 2016\n")
            data = message(n, body_bytes).replace(b"\nFrom ", b"\n>From ")
            out.write(data.rstrip(b"\n") + b"\n\n")


def write_maildir(root: Path, count: int, start: int = 0) -> None:
    box = mailbox.Maildir(root, create=True)
    for n in range(start, start + count):
        (root / "cur" / f"{1450000000 + n}.M{n}P1.test:2,S").write_bytes(message(n))
    del box


def write_zip(path: Path, count: int, start: int = 0) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for n in range(start, start + count):
            archive.writestr(f"mail/{n}.eml", message(n, attachment=bytes([n % 256]) * 300))
    path.write_bytes(buffer.getvalue())


def write_dump(root: Path, scale: int = 1) -> None:
    """A mixed dump: an mbox, a Maildir, a zip of .eml files with attachments, loose files."""
    root.mkdir(parents=True, exist_ok=True)
    write_mbox(root / "archive.mbox", 400 * scale)
    write_maildir(root / "Maildir", 200 * scale, start=10_000)
    write_zip(root / "exports.zip", 100 * scale, start=20_000)
    (root / "notes.txt").write_text("meeting notes about the budget\n")
    (root / "broken.zip").write_bytes(b"PK\x03\x04 this is not really a zip file")

"""Writers for the dump's containers (Maildir, mbox, .eml folder, ZIP) and the layout router.

Everything streams: an mbox is appended to message by message and hashed as it is written, so
memory stays flat however many messages go in.
"""

from __future__ import annotations

import hashlib
import random
import re
import zipfile
from dataclasses import dataclass
from datetime import UTC
from pathlib import Path
from typing import BinaryIO

from strongroom.demo import text
from strongroom.demo.compose import Destination, Draft
from strongroom.demo.people import Directory, Person

FROM_QUOTE = re.compile(rb"(?m)^(>*From )")
MIXED_CYCLE = ("maildir",) * 10 + ("mbox",) * 3 + ("mbox-crlf",) * 2 + ("eml",) * 4 + ("zip",)
ZIP_LIMIT = 24
MAILDIR_HOST = "demo-host"  # fixed: Maildir names must not leak the build machine


@dataclass(frozen=True)
class MessageRef:
    """Where one message lives: a file, plus a byte offset (mbox) or member name (zip)."""

    file: str
    message_id: str
    offset: int | None = None
    member: str | None = None


@dataclass(frozen=True)
class WrittenFile:
    path: str
    format: str  # maildir | mbox | eml | zip | dns-zone
    messages: int
    size: int
    sha256: str
    line_endings: str  # lf | crlf


class MboxWriter:
    """Classic mbox: From_ separator lines, and mboxrd ">From " quoting of body lines."""

    def __init__(self, out: Path, rel: str, crlf: bool) -> None:
        self.rel = rel
        self.crlf = crlf
        (out / rel).parent.mkdir(parents=True, exist_ok=True)
        self._fh: BinaryIO = (out / rel).open("wb")
        self._hash = hashlib.sha256()
        self.size = 0
        self.messages = 0
        self.quoted_lines = 0

    def _put(self, data: bytes) -> None:
        self._fh.write(data)
        self._hash.update(data)
        self.size += len(data)

    def write(self, draft: Draft) -> MessageRef:
        offset = self.size
        envelope = draft.sender.address
        when = text.asctime(draft.date.astimezone(UTC))
        body, quoted = FROM_QUOTE.subn(rb">\1", draft.raw)
        self.quoted_lines += quoted
        chunk = f"From {envelope} {when}\n".encode("ascii") + body + b"\n"
        self._put(chunk.replace(b"\n", b"\r\n") if self.crlf else chunk)
        self.messages += 1
        return MessageRef(self.rel, draft.message_id, offset=offset)

    def close(self) -> WrittenFile:
        self._fh.close()
        ending = "crlf" if self.crlf else "lf"
        return WrittenFile(
            self.rel, "mbox", self.messages, self.size, self._hash.hexdigest(), ending
        )


class Router:
    """Decides where each message goes (before it is composed) and writes it there."""

    def __init__(self, out: Path, layout: str, directory: Directory, seed: int) -> None:
        self.out = out
        self.layout = layout
        self.owners = directory.mailbox_owners
        self.seed = seed
        self._rng = random.Random(f"strongroom-demo/{seed}/router")
        self._cycle: list[str] = []
        self.files: list[WrittenFile] = []
        self.mboxes: dict[str, MboxWriter] = {}
        self._zip: zipfile.ZipFile | None = None
        self._zip_rel = "zip/legal-hold-export.zip"
        self._zip_count = 0
        if layout == "mixed":
            self.mboxes["mbox"] = MboxWriter(out, "mbox/press-office.mbox", crlf=False)
            self.mboxes["mbox-crlf"] = MboxWriter(out, "mbox/finance-export-crlf.mbox", crlf=True)
            (out / "zip").mkdir(parents=True, exist_ok=True)
            self._zip = zipfile.ZipFile(out / self._zip_rel, "w", zipfile.ZIP_DEFLATED)
            for owner in self.owners:
                for folder in ("", ".Sent"):
                    self._maildir(f"maildir/{owner.local}/{folder}".rstrip("/"))
        elif layout == "maildir":
            self._maildir("maildir")
        elif layout == "mbox":
            for year in (2015, 2016):
                key = f"mbox-{year}"
                self.mboxes[key] = MboxWriter(out, f"mbox/northwind-{year}.mbox", crlf=False)

    def _maildir(self, rel: str) -> None:
        for sub in ("cur", "new", "tmp"):
            (self.out / rel / sub).mkdir(parents=True, exist_ok=True)

    def plan(self, index: int) -> Destination:
        if self.layout != "mixed":
            return Destination(self.layout)
        if not self._cycle:
            self._cycle = list(MIXED_CYCLE)
            self._rng.shuffle(self._cycle)
        kind = self._cycle.pop()
        if kind == "zip" and self._zip_count >= ZIP_LIMIT:
            kind = "eml"
        if kind != "maildir":
            return Destination(kind)
        owner: Person = self.owners[index % len(self.owners)]
        return Destination("maildir", owner, owner_sends=self._rng.random() < 0.3)

    def write(self, index: int, draft: Draft, dest: Destination) -> MessageRef:
        kind = dest.kind
        if kind == "mbox-crlf" and draft.has_rfc822:
            kind = "mbox"  # keep embedded messages byte-identical to their LF originals
        if kind == "mbox" and self.layout == "mbox":
            kind = f"mbox-{2015 if draft.date.year <= 2015 else 2016}"
        if kind in self.mboxes:
            return self.mboxes[kind].write(draft)
        if kind == "zip" and self._zip is not None:
            return self._write_zip(index, draft)
        if kind == "eml":
            rel = f"eml/{draft.date:%Y-%m-%d}_{index:06d}.eml"
            return self._write_file(rel, "eml", draft)
        return self._write_maildir(index, draft, dest)

    def _write_file(self, rel: str, fmt: str, draft: Draft) -> MessageRef:
        path = self.out / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(draft.raw)
        digest = hashlib.sha256(draft.raw).hexdigest()
        self.files.append(WrittenFile(rel, fmt, 1, len(draft.raw), digest, "lf"))
        return MessageRef(rel, draft.message_id)

    def _write_zip(self, index: int, draft: Draft) -> MessageRef:
        assert self._zip is not None
        member = f"legal-hold/{index:06d}.eml"
        when = draft.date.replace(tzinfo=None)
        info = zipfile.ZipInfo(member, date_time=when.timetuple()[:6])
        info.compress_type = zipfile.ZIP_DEFLATED
        info.create_system = 3
        info.external_attr = 0o100644 << 16
        self._zip.writestr(info, draft.raw)
        self._zip_count += 1
        return MessageRef(self._zip_rel, draft.message_id, member=member)

    def _write_maildir(self, index: int, draft: Draft, dest: Destination) -> MessageRef:
        stamp = int(draft.date.timestamp())
        unique = f"{stamp}.M{index:06d}P{self.seed}.{MAILDIR_HOST}"
        if self.layout == "maildir" or dest.owner is None:
            folder = "maildir"
        else:
            folder = f"maildir/{dest.owner.local}" + ("/.Sent" if dest.owner_sends else "")
        roll = self._rng.random()
        if not dest.owner_sends and roll < 0.15:
            rel = f"{folder}/new/{unique}"  # not yet seen: no info suffix
        else:
            flags = "S" if dest.owner_sends or roll < 0.7 else ("RS" if roll < 0.9 else "FS")
            rel = f"{folder}/cur/{unique}:2,{flags}"
        return self._write_file(rel, "maildir", draft)

    def close(self) -> list[WrittenFile]:
        for writer in self.mboxes.values():
            self.files.append(writer.close())
        if self._zip is not None:
            self._zip.close()
            data = (self.out / self._zip_rel).read_bytes()
            digest = hashlib.sha256(data).hexdigest()
            zipped = WrittenFile(self._zip_rel, "zip", self._zip_count, len(data), digest, "lf")
            self.files.append(zipped)
        return sorted(self.files, key=lambda f: f.path)

    @property
    def quoted_from_lines(self) -> int:
        return sum(w.quoted_lines for w in self.mboxes.values())

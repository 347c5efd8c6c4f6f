"""The ground truth of a generated dump, written beside it as ``MANIFEST.json``."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from strongroom.demo.sinks import MessageRef, WrittenFile

SCHEMA = "strongroom-demo-manifest/1"
MANIFEST_NAME = "MANIFEST.json"


@dataclass(frozen=True)
class DemoSpec:
    seed: int = 2016
    messages: int = 600  # number of distinct emails
    attachments: int = 250  # attachments (PDF/DOCX/XLSX/CSV/TXT/EML) spread over the emails
    layout: str = "mixed"  # "mixed" | "mbox" | "maildir"


REFERENCE = DemoSpec(messages=19252, attachments=8034)


@dataclass(frozen=True)
class BrokenMessage:
    kind: str  # missing-end-boundary | unknown-charset | malformed-date | ...
    message: MessageRef


@dataclass(frozen=True)
class PlantedPii:
    kind: str  # card | ssn
    value: str  # exactly as written
    digits: str  # the number without separators
    part: str  # "body" or the attachment's file name
    message: MessageRef


@dataclass(frozen=True)
class AttachmentRecord:
    filename: str
    content_type: str
    kind: str  # pdf | docx | xlsx | csv | txt | eml
    size: int  # decoded bytes
    sha256: str  # of the decoded bytes
    message: MessageRef
    position: int  # 0-based among the message's top-level attachments
    author: str | None = None  # document metadata, where the format has it
    last_modified_by: str | None = None
    created: str | None = None  # ISO 8601, UTC
    modified: str | None = None


@dataclass(frozen=True)
class DkimInfo:
    domain: str
    selector: str
    signed: int
    algorithm: str
    canonicalization: str
    zone_file: str  # relative to the dump
    txt_record: str  # the TXT value, unsplit
    note: str


@dataclass(frozen=True)
class DemoManifest:
    schema: str
    spec: DemoSpec
    organisation: str
    domain: str
    emails_written: int
    attachments_written: int
    attachment_types: dict[str, int]
    dkim_signed: int
    dkim: DkimInfo
    threads: int  # conversations: new messages, forwards and broken messages start one each
    replies: int
    replies_without_references: int  # subject-only threading needed
    forwards: int
    broken_messages: tuple[BrokenMessage, ...]
    pii: tuple[PlantedPii, ...]
    charsets: dict[str, int]  # declared charset of body text parts (not attachments)
    timezones: dict[str, int]  # UTC offsets as written in Date headers
    first_date: str
    last_date: str
    mbox_quoting: str  # "mboxrd": lines matching ^>*From get one more ">"
    mbox_quoted_lines: int
    files: tuple[WrittenFile, ...]
    attachment_records: tuple[AttachmentRecord, ...]
    notes: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=1, ensure_ascii=False) + "\n"

    def write(self, out: Path) -> Path:
        path = out / MANIFEST_NAME
        path.write_text(self.to_json(), encoding="utf-8")
        return path

    @classmethod
    def from_json(cls, data: str) -> DemoManifest:
        raw = json.loads(data)

        def ref(d: dict[str, Any]) -> MessageRef:
            return MessageRef(**d)

        return cls(
            **{
                **raw,
                "spec": DemoSpec(**raw["spec"]),
                "dkim": DkimInfo(**raw["dkim"]),
                "broken_messages": tuple(
                    BrokenMessage(b["kind"], ref(b["message"])) for b in raw["broken_messages"]
                ),
                "pii": tuple(PlantedPii(**{**p, "message": ref(p["message"])}) for p in raw["pii"]),
                "files": tuple(WrittenFile(**f) for f in raw["files"]),
                "attachment_records": tuple(
                    AttachmentRecord(**{**a, "message": ref(a["message"])})
                    for a in raw["attachment_records"]
                ),
                "notes": tuple(raw["notes"]),
            }
        )

    @classmethod
    def read(cls, out: Path) -> DemoManifest:
        return cls.from_json((out / MANIFEST_NAME).read_text(encoding="utf-8"))

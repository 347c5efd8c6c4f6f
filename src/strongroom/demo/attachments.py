"""Which messages carry attachments, of what type, and the attachment parts themselves."""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from strongroom.demo import text
from strongroom.demo.documents import DocMeta, DocumentFactory, csv_bytes, pdf
from strongroom.demo.mime import Part, attachment_part, message_attachment
from strongroom.demo.people import Directory, Person
from strongroom.demo.pii import PiiSource, PiiValue

KINDS = ("pdf", "docx", "xlsx", "csv", "txt")
KIND_WEIGHTS = (25, 25, 18, 16, 16)
MAX_PER_MESSAGE = 3
PII_EVERY = 7  # every 7th attachment (from the 4th) carries a planted value
CONTENT_TYPES = {
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv",
}
EN_NAMES = {
    "pdf": ("Minutes {date}.pdf", "Polling memo - {city}.pdf", "Press kit.pdf"),
    "docx": ("Talking points - {topic}.docx", "Memo to {dept}.docx", "Draft statement v{n}.docx"),
    "xlsx": ("Donor list {city}.xlsx", "Budget Q{n} {year}.xlsx"),
    "csv": ("donors-{city}-{date}.csv", "volunteers-{city}.csv"),
    "txt": ("call-notes-{date}.txt", "notes.txt"),
}
RU_NAMES = {"docx": ("Материалы {date}.docx",), "txt": ("Заметки {date}.txt",)}


@dataclass(frozen=True)
class AttachmentDraft:
    filename: str
    content_type: str
    kind: str
    size: int
    sha256: str
    meta: DocMeta | None


class AttachmentPlanner:
    """Spreads exactly ``total`` attachments over the non-broken messages, streaming."""

    def __init__(self, total: int, eligible: int, rng: random.Random) -> None:
        if total > MAX_PER_MESSAGE * eligible:
            raise ValueError(f"{total} attachments cannot fit on {eligible} intact messages")
        self._left = total
        self._eligible_left = eligible
        self._rng = rng

    def count(self) -> int:
        """Attachments for the next intact message."""
        self._eligible_left -= 1
        others = self._eligible_left
        needed = max(0, self._left - MAX_PER_MESSAGE * others)
        chance = self._left / (1.6 * (others + 1))
        k = self._rng.choice((1, 1, 1, 2, 2, 3)) if self._rng.random() < chance else 0
        k = max(min(k, self._left), needed)
        self._left -= k
        return k


class AttachmentMaker:
    def __init__(self, directory: Directory, pii: PiiSource, rng: random.Random) -> None:
        self._docs = DocumentFactory()
        self._directory = directory
        self._pii = pii
        self._rng = rng
        self.made = 0

    def _meta(self, title: str, sender: Person, sent: datetime) -> DocMeta:
        rng = self._rng
        editor = sender if rng.random() < 0.6 else rng.choice(self._directory.staff)
        author = sender if rng.random() < 0.5 else rng.choice(self._directory.staff)
        modified = sent - timedelta(minutes=rng.randrange(5, 60 * 24 * 5))
        created = modified - timedelta(minutes=rng.randrange(30, 60 * 24 * 60))
        return DocMeta(title, author.name, editor.name, created, modified, rng.randrange(1, 25))

    def _filename(self, kind: str, sender: Person, sent: datetime) -> str:
        names = RU_NAMES.get(kind) if sender.lang == "ru" else None
        pattern = self._rng.choice(names or EN_NAMES[kind])
        return pattern.format(
            date=f"{sent:%Y-%m-%d}",
            city=self._rng.choice(text.CITIES),
            topic=self._rng.choice(text.TOPICS),
            dept=self._rng.choice(text.DEPTS),
            n=self._rng.randrange(1, 5),
            year=sent.year,
        )

    def make(self, sender: Person, sent: datetime) -> tuple[Part, AttachmentDraft, PiiValue | None]:
        rng = self._rng
        kind = rng.choices(KINDS, KIND_WEIGHTS)[0]
        planted = self._pii.next() if self.made % PII_EVERY == 3 else None
        self.made += 1
        filename = self._filename(kind, sender, sent)
        lang = "ru" if sender.lang == "ru" and kind in ("docx", "txt") else "en"
        paras = text.paragraphs(rng, lang, sender.name.split()[0], rng.randrange(4, 7))
        if planted:
            paras.insert(rng.randrange(1, 3), PiiSource.sentence(planted))
        meta = self._meta(filename.rsplit(".", 1)[0], sender, sent)
        data, content_type, kept_meta = self._render(kind, meta, paras, planted, lang)
        part = attachment_part(content_type, filename, data, sender.profile.header_charset)
        draft = AttachmentDraft(
            filename, content_type.split(";")[0], kind, len(data), _sha(data), kept_meta
        )
        return part, draft, planted

    def _render(
        self, kind: str, meta: DocMeta, paras: list[str], planted: PiiValue | None, lang: str
    ) -> tuple[bytes, str, DocMeta | None]:
        if kind == "pdf":
            lines = [line for p in paras for line in (*text.wrap(p, 88), "")]
            return pdf(meta, lines), CONTENT_TYPES[kind], meta
        if kind == "docx":
            layout = self._rng.choice(("memo", "report"))
            return self._docs.docx(meta, layout, paras), CONTENT_TYPES[kind], meta
        if kind == "xlsx":
            header = ("Name", "Email", "City", "Pledge", "Notes")
            return self._docs.xlsx(meta, header, self._rows(planted)), CONTENT_TYPES[kind], meta
        if kind == "csv":
            rows = [("name", "email", "city", "pledge", "notes")]
            rows += [(a, b, c, f"{d:.2f}", e) for a, b, c, d, e in self._rows(planted)]
            return csv_bytes(rows), CONTENT_TYPES[kind], None
        charset = "windows-1251" if lang == "ru" else "utf-8"
        body = "\n".join(line for p in paras for line in (*text.wrap(p), ""))
        return body.encode(charset), f'text/plain; charset="{charset}"', None

    def _rows(self, planted: PiiValue | None) -> list[tuple[str, str, str, float, str]]:
        rng = self._rng
        donors = [p for p in self._directory.outsiders if p.lang == "en"]
        rows = []
        for person in rng.sample(donors, min(8, len(donors))):
            amount = rng.randrange(1, 200) * 25 + rng.choice((0, 0, 0.5))
            rows.append((person.name, person.address, rng.choice(text.CITIES), amount, ""))
        if planted:
            k = rng.randrange(len(rows))
            name, email, city, amount, _ = rows[k]
            rows[k] = (name, email, city, amount, planted.value)
        return rows

    def forwarded(self, raw: bytes, subject: str) -> tuple[Part, AttachmentDraft]:
        self.made += 1
        filename = text.slug(subject, 50) + ".eml"
        part = message_attachment(filename, raw)
        return part, AttachmentDraft(filename, "message/rfc822", "eml", len(raw), _sha(raw), None)


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()

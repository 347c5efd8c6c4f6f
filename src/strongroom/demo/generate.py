"""``build_dump``: write a deterministic synthetic dump and its ground-truth manifest."""

from __future__ import annotations

import hashlib
import random
from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from strongroom.demo.attachments import MAX_PER_MESSAGE, AttachmentMaker, AttachmentPlanner
from strongroom.demo.broken import KINDS as BROKEN_KINDS
from strongroom.demo.broken import broken_indices, compose_broken
from strongroom.demo.compose import Composer, Draft
from strongroom.demo.dkimkeys import SELECTOR, DkimSigner, derive_private_key, txt_record, zone_text
from strongroom.demo.manifest import (
    SCHEMA,
    AttachmentRecord,
    BrokenMessage,
    DemoManifest,
    DemoSpec,
    DkimInfo,
    PlantedPii,
)
from strongroom.demo.people import ORG_DOMAIN, ORG_NAME, build_directory
from strongroom.demo.pii import PiiSource
from strongroom.demo.sinks import MessageRef, Router, WrittenFile

LAYOUTS = ("mixed", "mbox", "maildir")
START = datetime(2015, 1, 5, 13, 0, tzinfo=UTC)
END = datetime(2016, 11, 30, 23, 0, tzinfo=UTC)


def _check(spec: DemoSpec) -> None:
    if spec.layout not in LAYOUTS:
        raise ValueError(f"layout must be one of {', '.join(LAYOUTS)}, not {spec.layout!r}")
    if spec.messages < 1:
        raise ValueError("messages must be at least 1")
    if spec.attachments < 0:
        raise ValueError("attachments must not be negative")
    intact = spec.messages - len(broken_indices(spec.messages))
    if spec.attachments > MAX_PER_MESSAGE * intact:
        raise ValueError(
            f"{spec.attachments} attachments cannot fit on {intact} intact messages "
            f"(at most {MAX_PER_MESSAGE} each)"
        )


class _Tally:
    """Accumulates the manifest's counts and records as messages are written."""

    def __init__(self) -> None:
        self.kinds: Counter[str] = Counter()
        self.charsets: Counter[str] = Counter()
        self.zones: Counter[str] = Counter()
        self.attachment_types: Counter[str] = Counter()
        self.signed = 0
        self.broken: list[BrokenMessage] = []
        self.pii: list[PlantedPii] = []
        self.attachments: list[AttachmentRecord] = []
        self.first: datetime | None = None
        self.last: datetime | None = None

    def add(self, draft: Draft, ref: MessageRef) -> None:
        self.kinds[draft.kind] += 1
        self.charsets.update(draft.charsets)
        self.signed += draft.signed
        if draft.broken:
            self.broken.append(BrokenMessage(draft.broken, ref))
        else:
            self.zones[draft.date.strftime("%z")] += 1
        for value, part in draft.pii:
            self.pii.append(PlantedPii(value.kind, value.value, value.digits, part, ref))
        for position, a in enumerate(draft.attachments):
            self.attachment_types[a.kind] += 1
            meta = a.meta
            self.attachments.append(
                AttachmentRecord(
                    a.filename, a.content_type, a.kind, a.size, a.sha256, ref, position,
                    meta.author if meta else None,
                    meta.last_modified_by if meta else None,
                    meta.created.isoformat() if meta else None,
                    meta.modified.isoformat() if meta else None,
                )
            )  # fmt: skip
        self.first = min(self.first or draft.date, draft.date)
        self.last = max(self.last or draft.date, draft.date)


def build_dump(out: Path, spec: DemoSpec) -> DemoManifest:
    """Write the dump described by ``spec`` into ``out`` (created; must be empty).

    The same spec always produces byte-identical files. Returns the manifest, also written to
    ``out/MANIFEST.json``.
    """
    _check(spec)
    out.mkdir(parents=True, exist_ok=True)
    if any(out.iterdir()):
        raise FileExistsError(f"{out} is not empty")

    directory = build_directory(spec.seed)
    key = derive_private_key(spec.seed)
    signer = DkimSigner(key, ORG_DOMAIN, SELECTOR)
    rng = random.Random(f"strongroom-demo/{spec.seed}/messages")
    pii = PiiSource(random.Random(f"strongroom-demo/{spec.seed}/pii"))
    broken = broken_indices(spec.messages)
    planner = AttachmentPlanner(spec.attachments, spec.messages - len(broken), rng)
    maker = AttachmentMaker(directory, pii, random.Random(f"strongroom-demo/{spec.seed}/docs"))
    rfc822_at = tuple(spec.messages * k // 3 for k in (1, 2)[: min(2, spec.attachments)])
    composer = Composer(
        directory=directory,
        signer=signer,
        planner=planner,
        maker=maker,
        rng=rng,
        pii=pii,
        rfc822_at=rfc822_at,
    )
    router = Router(out, spec.layout, directory, spec.seed)
    tally = _Tally()

    broken_kind = {at: BROKEN_KINDS[j % len(BROKEN_KINDS)] for j, at in enumerate(broken)}
    step = (END - START) / spec.messages
    for index in range(spec.messages):
        utc = START + step * index + timedelta(seconds=int(rng.random() * step.total_seconds()))
        utc = utc.replace(microsecond=0)
        dest = router.plan(index)
        if index in broken_kind:
            dest = replace(dest, owner_sends=False)  # outside senders: never a Sent copy
            kind = broken_kind[index]
            draft = compose_broken(
                kind=kind, index=index, utc=utc, dest=dest, directory=directory, rng=rng
            )
        else:
            draft = composer.compose(index, utc, dest)
        tally.add(draft, router.write(index, draft, dest))

    files = router.close()
    zone_rel = f"dns/{SELECTOR}._domainkey.{ORG_DOMAIN}.zone"
    zone = zone_text(ORG_DOMAIN, SELECTOR, key, spec.seed).encode("ascii")
    (out / "dns").mkdir()
    (out / zone_rel).write_bytes(zone)
    files = sorted([*files, _zone_file(zone_rel, zone)], key=lambda f: f.path)

    manifest = _manifest(
        spec=spec,
        tally=tally,
        files=files,
        router=router,
        zone_rel=zone_rel,
        record=txt_record(key),
    )
    manifest.write(out)
    return manifest


def _zone_file(rel: str, data: bytes) -> WrittenFile:
    return WrittenFile(rel, "dns-zone", 0, len(data), hashlib.sha256(data).hexdigest(), "lf")


def _manifest(
    *,
    spec: DemoSpec,
    tally: _Tally,
    files: list[WrittenFile],
    router: Router,
    zone_rel: str,
    record: str,
) -> DemoManifest:
    kinds = tally.kinds
    notes = [
        (
            "All names, addresses, organisations and documents are fictional; outside domains "
            "use the reserved .example TLD."
        ),
        (
            "Card numbers are published test numbers or Luhn-completed 4000 0000 0000 "
            "test-range numbers; SSNs are from the never-issued 987-65-4320..4329 range."
        ),
        (
            "Every message from the organisation's domain except broken ones is DKIM-signed "
            "with a TEST-ONLY key derived from the seed; t= is the message's own Date."
        ),
        (
            "Each email is written exactly once; message/rfc822 attachments are copies of "
            "earlier emails and are counted as attachments, not as emails."
        ),
    ]
    if spec.layout == "mixed":
        notes.append("mbox/finance-export-crlf.mbox uses CRLF line endings; all else is LF.")
    dkim = DkimInfo(
        domain=ORG_DOMAIN,
        selector=SELECTOR,
        signed=tally.signed,
        algorithm="rsa-sha256",
        canonicalization="relaxed/relaxed",
        zone_file=zone_rel,
        txt_record=record,
        note="TEST-ONLY key; not published in real DNS",
    )
    return DemoManifest(
        schema=SCHEMA,
        spec=spec,
        organisation=ORG_NAME,
        domain=ORG_DOMAIN,
        emails_written=sum(kinds.values()),
        attachments_written=len(tally.attachments),
        attachment_types=dict(sorted(tally.attachment_types.items())),
        dkim_signed=tally.signed,
        dkim=dkim,
        threads=kinds["new"] + kinds["forward"] + kinds["broken"],
        replies=kinds["reply"] + kinds["reply-subject-only"],
        replies_without_references=kinds["reply-subject-only"],
        forwards=kinds["forward"],
        broken_messages=tuple(tally.broken),
        pii=tuple(tally.pii),
        charsets=dict(sorted(tally.charsets.items())),
        timezones=dict(sorted(tally.zones.items())),
        first_date=tally.first.isoformat() if tally.first else "",
        last_date=tally.last.isoformat() if tally.last else "",
        mbox_quoting="mboxrd",
        mbox_quoted_lines=router.quoted_from_lines,
        files=tuple(files),
        attachment_records=tuple(tally.attachments),
        notes=tuple(notes),
    )

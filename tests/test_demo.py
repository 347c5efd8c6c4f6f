"""The synthetic demo dump: deterministic, and its manifest tells the truth about the files."""

from __future__ import annotations

import codecs
import email
import email.policy
import hashlib
import io
import itertools
import os
import re
import subprocess
import sys
import zipfile
from collections import Counter
from collections.abc import Callable, Iterator
from email.message import Message
from email.utils import parsedate_to_datetime
from pathlib import Path

import dkim
import docx
import openpyxl
import pytest

from strongroom.demo import DemoManifest, DemoSpec, MessageRef, build_dump

SMALL = DemoSpec(messages=120, attachments=40)
Key = tuple[str, int | None, str | None]  # file, mbox offset, zip member
CYRILLIC = re.compile("[\u0400-\u04ff]{3,}")


@pytest.fixture(scope="module")
def dump(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, DemoManifest]:
    out = tmp_path_factory.mktemp("demo") / "dump"
    return out, build_dump(out, SMALL)


@pytest.fixture(scope="module")
def messages(dump: tuple[Path, DemoManifest]) -> dict[Key, bytes]:
    out, manifest = dump
    return dict(read_messages(out, manifest))


def split_mbox(data: bytes) -> Iterator[tuple[int, bytes]]:
    """(offset of From_ line, message bytes) with mboxrd quoting undone."""
    nl = b"\r\n" if data.split(b"\n", 1)[0].endswith(b"\r") else b"\n"
    starts = [m.start() for m in re.finditer(rb"(?m)^From ", data)] + [len(data)]
    for start, end in itertools.pairwise(starts):
        body_start = data.index(nl, start) + len(nl)
        chunk = data[body_start:end]
        assert chunk.endswith(nl + nl) or end == len(data)
        chunk = chunk[: -len(nl)]  # the separator line
        yield start, re.sub(rb"(?m)^>(>*From )", rb"\1", chunk)


def read_messages(out: Path, manifest: DemoManifest) -> Iterator[tuple[Key, bytes]]:
    for f in manifest.files:
        path = out / f.path
        if f.format in ("maildir", "eml"):
            yield (f.path, None, None), path.read_bytes()
        elif f.format == "mbox":
            for offset, raw in split_mbox(path.read_bytes()):
                yield (f.path, offset, None), raw
        elif f.format == "zip":
            with zipfile.ZipFile(path) as zf:
                for name in zf.namelist():
                    yield (f.path, None, name), zf.read(name)


def zone_dnsfunc(out: Path, manifest: DemoManifest) -> Callable[..., bytes | None]:
    """A dkimpy dnsfunc answering only from the zone file written beside the dump."""
    line = next(
        ln for ln in (out / manifest.dkim.zone_file).read_text().splitlines() if " IN TXT " in ln
    )
    name, _, rest = line.partition(" IN TXT ")
    record = "".join(re.findall(r'"([^"]*)"', rest)).encode()

    def dnsfunc(qname: bytes, timeout: int = 5) -> bytes | None:
        return record if qname.decode().rstrip(".") == name.rstrip(".") else None

    return dnsfunc


def is_signed(raw: bytes) -> bool:
    """A DKIM-Signature in the message's own header (not in an attached message)."""
    head = re.split(rb"\r?\n\r?\n", raw, maxsplit=1)[0]
    return re.search(rb"(?m)^DKIM-Signature:", head) is not None


def parse(raw: bytes) -> Message:
    return email.message_from_bytes(raw, policy=email.policy.compat32)


def body_parts(msg: Message) -> Iterator[Message]:
    """Text parts that are the message's own body (not attachments, not attached messages)."""
    if msg.get_content_disposition() == "attachment":
        return
    if msg.is_multipart():
        for part in msg.get_payload():
            assert isinstance(part, Message)
            yield from body_parts(part)
    elif msg.get_content_maintype() == "text":
        yield msg


def attachments(msg: Message) -> list[Message]:
    if not msg.is_multipart():
        return []
    parts = msg.get_payload()
    assert isinstance(parts, list)
    return [
        p for p in parts if isinstance(p, Message) and p.get_content_disposition() == "attachment"
    ]


def key_of(ref: MessageRef) -> Key:
    return (ref.file, ref.offset, ref.member)


def tree_hashes(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_same_spec_gives_byte_identical_dump(
    dump: tuple[Path, DemoManifest], tmp_path: Path
) -> None:
    out, _ = dump
    again = tmp_path / "again"
    src = Path(__file__).resolve().parents[1] / "src"
    env = {**os.environ, "PYTHONHASHSEED": "12345", "TZ": "Asia/Tokyo", "LC_ALL": "C"}
    env["PYTHONPATH"] = os.pathsep.join([str(src), env.get("PYTHONPATH", "")])
    code = (
        "import sys; from pathlib import Path; from strongroom.demo import DemoSpec, build_dump; "
        f"build_dump(Path(sys.argv[1]), DemoSpec(messages={SMALL.messages}, "
        f"attachments={SMALL.attachments}))"
    )
    subprocess.run([sys.executable, "-c", code, str(again)], check=True, env=env)
    first, second = tree_hashes(out), tree_hashes(again)
    assert first == second
    assert len(first) > 50


def test_different_seed_gives_different_dump(tmp_path: Path) -> None:
    a = build_dump(tmp_path / "a", DemoSpec(seed=1, messages=30, attachments=5))
    b = build_dump(tmp_path / "b", DemoSpec(seed=2, messages=30, attachments=5))
    assert a.dkim.txt_record != b.dkim.txt_record
    assert {f.sha256 for f in a.files}.isdisjoint({f.sha256 for f in b.files})


def test_files_on_disk_match_manifest(dump: tuple[Path, DemoManifest]) -> None:
    out, manifest = dump
    listed = {f.path: f for f in manifest.files}
    on_disk = tree_hashes(out)
    assert set(on_disk) == set(listed) | {"MANIFEST.json"}
    for path, f in listed.items():
        assert on_disk[path] == f.sha256
        assert (out / path).stat().st_size == f.size
    formats = Counter(f.format for f in manifest.files)
    assert formats["mbox"] == 2 and formats["zip"] == 1 and formats["dns-zone"] == 1
    assert formats["eml"] > 0 and formats["maildir"] > 0
    assert DemoManifest.read(out) == manifest


def test_message_and_attachment_counts(
    dump: tuple[Path, DemoManifest], messages: dict[Key, bytes]
) -> None:
    _, manifest = dump
    assert len(messages) == manifest.emails_written == SMALL.messages
    assert sum(f.messages for f in manifest.files) == SMALL.messages
    per_file = Counter(k[0] for k in messages)
    assert all(per_file[f.path] == f.messages for f in manifest.files if f.messages)
    found = [a for raw in messages.values() for a in attachments(parse(raw))]
    assert len(found) == manifest.attachments_written == SMALL.attachments
    types = Counter(r.kind for r in manifest.attachment_records)
    assert types == Counter(manifest.attachment_types)
    assert set(types) == {"pdf", "docx", "xlsx", "csv", "txt", "eml"}
    assert 1 <= types["eml"] <= 2
    assert sum(a.get_content_type() == "message/rfc822" for a in found) == types["eml"]


def test_maildir_names_are_deterministic_and_flagged(dump: tuple[Path, DemoManifest]) -> None:
    out, manifest = dump
    names = [f.path for f in manifest.files if f.format == "maildir"]
    assert any(re.search(r"/cur/\d+\.M\d{6}P2016\.demo-host:2,[A-Z]*S$", n) for n in names)
    assert any("/new/" in n and ":2," not in n for n in names)
    assert any("/.Sent/cur/" in n for n in names)
    users = {n.split("/")[1] for n in names}
    assert len(users) >= 3
    for user in users:
        assert not any((out / "maildir" / user / "tmp").iterdir())


def test_every_message_parses_with_stdlib(
    dump: tuple[Path, DemoManifest], messages: dict[Key, bytes]
) -> None:
    _, manifest = dump
    broken = {key_of(b.message) for b in manifest.broken_messages}
    for key, raw in messages.items():
        assert parse(raw)["From"], key
        if key in broken:
            continue
        msg = email.message_from_bytes(raw, policy=email.policy.default)
        assert msg["from"].addresses and msg["to"].addresses
        assert 2015 <= msg["date"].datetime.year <= 2016
        assert re.fullmatch(r"<[^<>@\s]+@[^<>@\s]+>", msg["message-id"])
        body = msg.get_body(("plain",))
        assert body is not None and body.get_content().strip(), key
        assert not msg.defects, (key, msg.defects)


def test_dkim_signatures_verify_against_written_zone(
    dump: tuple[Path, DemoManifest], messages: dict[Key, bytes]
) -> None:
    out, manifest = dump
    dnsfunc = zone_dnsfunc(out, manifest)
    broken = {key_of(b.message) for b in manifest.broken_messages}
    signed = [(key, raw) for key, raw in messages.items() if is_signed(raw)]
    assert len(signed) == manifest.dkim_signed == manifest.dkim.signed > 0
    for key, raw in signed:
        assert dkim.verify(raw, dnsfunc=dnsfunc), key
    for key, raw in messages.items():
        sender = parse(raw)["From"]
        if key not in broken and sender.endswith(f"@{manifest.domain}>"):
            assert (key, raw) in signed
    crlf = [raw for key, raw in signed if b"\r\n" in raw]
    assert crlf and all(dkim.verify(raw, dnsfunc=dnsfunc) for raw in crlf)


def test_tampered_messages_fail_dkim(
    dump: tuple[Path, DemoManifest], messages: dict[Key, bytes]
) -> None:
    out, manifest = dump
    dnsfunc = zone_dnsfunc(out, manifest)
    raw = next(r for r in messages.values() if is_signed(r))
    head, sep, body = raw.partition(b"\n\n")
    changed_body = head + sep + body.replace(b"e", b"E", 1)
    changed_subject = re.sub(rb"(?m)^Subject: ", b"Subject: [edited] ", raw, count=1)
    assert dkim.verify(raw, dnsfunc=dnsfunc)
    assert not dkim.verify(changed_body, dnsfunc=dnsfunc)
    assert not dkim.verify(changed_subject, dnsfunc=dnsfunc)


def test_cyrillic_charsets_present_and_decodable(
    dump: tuple[Path, DemoManifest], messages: dict[Key, bytes]
) -> None:
    _, manifest = dump
    declared: Counter[str] = Counter()
    cyrillic_by_charset: Counter[str] = Counter()
    encodings: set[tuple[str, str]] = set()
    for raw in messages.values():
        for part in body_parts(parse(raw)):
            charset = part.get_content_charset() or "us-ascii"
            declared[charset] += 1
            encodings.add((charset, part.get("Content-Transfer-Encoding", "7bit")))
            if charset in ("koi8-r", "windows-1251"):
                payload = part.get_payload(decode=True)
                assert isinstance(payload, bytes)
                if CYRILLIC.search(payload.decode(charset)):
                    cyrillic_by_charset[charset] += 1
    assert declared == Counter(manifest.charsets)
    assert cyrillic_by_charset["koi8-r"] > 0 and cyrillic_by_charset["windows-1251"] > 0
    assert {"utf-8", "iso-8859-1"} <= set(manifest.charsets)
    assert {
        ("utf-8", "quoted-printable"),
        ("utf-8", "base64"),
        ("utf-8", "8bit"),
        ("koi8-r", "8bit"),
        ("windows-1251", "quoted-printable"),
        ("iso-8859-1", "quoted-printable"),
    } <= encodings
    everything = b"".join(messages.values())
    for charset in (b"koi8-r", b"windows-1251", b"utf-8", b"iso-8859-1"):
        assert re.search(rb"=\?" + charset + rb"\?[bq]\?", everything), charset


def test_threads_replies_and_forwards(
    dump: tuple[Path, DemoManifest], messages: dict[Key, bytes]
) -> None:
    _, manifest = dump
    parsed = [parse(raw) for raw in messages.values()]
    ids = {m["Message-ID"] for m in parsed}
    replies = [m for m in parsed if m["In-Reply-To"]]
    assert len(replies) == manifest.replies - manifest.replies_without_references > 0
    for m in replies:
        assert m["In-Reply-To"] in ids
        assert m["References"].split()[-1] == m["In-Reply-To"]
        assert str(email.header.make_header(email.header.decode_header(m["Subject"]))).startswith(
            "Re: "
        )
    assert len(parsed) - len(replies) == manifest.threads + manifest.replies_without_references
    assert manifest.forwards > 0 and any(
        b"---------- Forwarded message" in r for r in messages.values()
    )
    quoted = [m for m in replies if b"\n> " in m.as_bytes() or b"Original Message" in m.as_bytes()]
    assert quoted
    assert any(m["Cc"] for m in parsed) and any(m["Bcc"] for m in parsed)
    offsets = set(manifest.timezones)
    assert {"-0400", "-0700", "+0000", "+0300", "+0100"} <= offsets


def test_planted_pii_is_valid_and_where_the_manifest_says(
    dump: tuple[Path, DemoManifest], messages: dict[Key, bytes]
) -> None:
    _, manifest = dump
    kinds = Counter(p.kind for p in manifest.pii)
    assert kinds["card"] > 0 and kinds["ssn"] > 0
    assert any(p.part == "body" for p in manifest.pii)
    assert any(p.part != "body" for p in manifest.pii)
    for planted in manifest.pii:
        assert re.sub(r"[ -]", "", planted.value) == planted.digits
        if planted.kind == "card":
            assert luhn(planted.digits), planted
        else:
            assert 987654320 <= int(planted.digits) <= 987654329
        msg = parse(messages[key_of(planted.message)])
        assert planted.value in visible_text(msg, planted.part), planted


def luhn(digits: str) -> bool:
    total = 0
    for k, ch in enumerate(reversed(digits)):
        n = int(ch) * (2 if k % 2 else 1)
        total += n - 9 if n > 9 else n
    return total % 10 == 0


def visible_text(msg: Message, part_name: str) -> str:
    if part_name == "body":
        texts = []
        for part in body_parts(msg):
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            texts.append(payload.decode(part.get_content_charset() or "ascii"))
        return "\n".join(texts)
    texts = []
    for part in attachments(msg):
        if part.get_filename() == part_name:
            data = part.get_payload(decode=True)
            assert isinstance(data, bytes)
            texts.append(document_text(part_name, data, part.get_content_charset()))
    assert texts, f"no attachment {part_name}"
    return "\n".join(texts)


def document_text(name: str, data: bytes, charset: str | None) -> str:
    if name.endswith(".docx"):
        return "\n".join(p.text for p in docx.Document(io.BytesIO(data)).paragraphs)
    if name.endswith(".xlsx"):
        sheet = openpyxl.load_workbook(io.BytesIO(data)).active
        return "\n".join(str(c) for row in sheet.iter_rows(values_only=True) for c in row)
    if name.endswith(".pdf"):
        return "\n".join(m.decode("latin-1") for m in re.findall(rb"\((.*?)\) Tj", data))
    return data.decode(charset or "utf-8")


def test_documents_carry_metadata_and_text(
    dump: tuple[Path, DemoManifest], messages: dict[Key, bytes]
) -> None:
    _, manifest = dump
    ids = {parse(raw)["Message-ID"] for raw in messages.values()}
    seen = Counter[str]()
    for record in manifest.attachment_records:
        msg = parse(messages[key_of(record.message)])
        part = attachments(msg)[record.position]
        assert part.get_filename() == record.filename
        assert part.get_content_type() == record.content_type
        if record.kind == "eml":  # a copy of an email that is also in the dump on its own
            inner = part.get_payload()
            assert isinstance(inner, list) and inner[0]["Message-ID"] in ids
            seen[record.kind] += 1
            continue
        data = part.get_payload(decode=True)
        assert isinstance(data, bytes)
        assert hashlib.sha256(data).hexdigest() == record.sha256
        assert len(data) == record.size
        if record.kind == "docx":
            props = docx.Document(io.BytesIO(data)).core_properties
            assert props.author == record.author
            assert props.last_modified_by == record.last_modified_by
            assert props.created.year in (2014, 2015, 2016)
        elif record.kind == "xlsx":
            props = openpyxl.load_workbook(io.BytesIO(data)).properties
            assert props.creator == record.author
            assert props.lastModifiedBy == record.last_modified_by
        elif record.kind == "pdf":
            assert data.startswith(b"%PDF-1.4") and data.rstrip().endswith(b"%%EOF")
            assert b"BT" in data and len(re.findall(rb"\([A-Za-z][^()]{11,}\) Tj", data)) > 2
            assert record.author
            author = record.author
            expected = (
                f"({author})" if author.isascii() else f"<FEFF{author.encode('utf-16-be').hex()}"
            )
            assert f"/Author {expected}".upper().encode() in data.upper()
        seen[record.kind] += 1
    assert seen["docx"] and seen["xlsx"] and seen["pdf"] and seen["eml"]
    authors = {(r.author, r.last_modified_by) for r in manifest.attachment_records if r.author}
    assert any(a != b for a, b in authors)


def test_broken_messages_are_written_with_their_defects(
    dump: tuple[Path, DemoManifest], messages: dict[Key, bytes]
) -> None:
    _, manifest = dump
    by_kind = {b.kind: parse(messages[key_of(b.message)]) for b in manifest.broken_messages}
    assert set(by_kind) == {
        "missing-end-boundary",
        "unknown-charset",
        "malformed-date",
        "header-without-colon",
        "invalid-message-id",
    }
    defects = {type(d).__name__ for d in by_kind["missing-end-boundary"].defects}
    assert "CloseBoundaryNotFoundDefect" in defects
    charset = by_kind["unknown-charset"].get_content_charset()
    assert charset == "x-unknown-42"
    with pytest.raises(LookupError):
        codecs.lookup(charset)
    with pytest.raises((TypeError, ValueError)):
        parsedate_to_datetime(by_kind["malformed-date"]["Date"])
    defects = {type(d).__name__ for d in by_kind["header-without-colon"].defects}
    assert "MissingHeaderBodySeparatorDefect" in defects
    assert not re.fullmatch(r"<[^<>\s]+@[^<>\s]+>", by_kind["invalid-message-id"]["Message-ID"])
    assert not any(is_signed(messages[key_of(b.message)]) for b in manifest.broken_messages)


def test_mbox_variants(dump: tuple[Path, DemoManifest]) -> None:
    out, manifest = dump
    mboxes = {f.path: f for f in manifest.files if f.format == "mbox"}
    assert {f.line_endings for f in mboxes.values()} == {"lf", "crlf"}
    quoted = 0
    for path, f in mboxes.items():
        data = (out / path).read_bytes()
        assert data.startswith(b"From ")
        lines = data.split(b"\n")
        if f.line_endings == "crlf":
            assert all(line.endswith(b"\r") for line in lines[:-1])
        else:
            assert b"\r" not in data
        quoted += len(re.findall(rb"(?m)^>From ", data))
    assert quoted == manifest.mbox_quoted_lines


@pytest.mark.parametrize("layout", ["mbox", "maildir"])
def test_single_container_layouts(tmp_path: Path, layout: str) -> None:
    spec = DemoSpec(messages=60, attachments=12, layout=layout)
    manifest = build_dump(tmp_path / layout, spec)
    formats = Counter(f.format for f in manifest.files)
    assert set(formats) == {layout, "dns-zone"}
    found = dict(read_messages(tmp_path / layout, manifest))
    assert len(found) == manifest.emails_written == 60
    assert sum(len(attachments(parse(raw))) for raw in found.values()) == 12
    if layout == "maildir":
        assert all(f.path.startswith("maildir/") for f in manifest.files if f.format == "maildir")


def test_rejects_bad_spec_and_non_empty_target(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="layout"):
        build_dump(tmp_path / "x", DemoSpec(layout="pst"))
    with pytest.raises(ValueError, match="cannot fit"):
        build_dump(tmp_path / "y", DemoSpec(messages=10, attachments=100))
    (tmp_path / "z").mkdir()
    (tmp_path / "z" / "keep.txt").write_text("mine")
    with pytest.raises(FileExistsError):
        build_dump(tmp_path / "z", DemoSpec(messages=10, attachments=2))

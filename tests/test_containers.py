"""Containers other than mbox: MH, archives (limits, encryption, hostile names), nesting."""

from __future__ import annotations

import gzip
import io
import tarfile
import zipfile
from pathlib import Path

import pytest

from strongroom.case import Case
from strongroom.config import IngestPolicy
from strongroom.formats.detect import detect
from tests import synth


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _ingest(tmp_path: Path, dump: Path, **policy: int) -> Case:
    case = Case.init(tmp_path / "case")
    case.ingest([dump], IngestPolicy(workers=1, **policy))
    return case


def test_mh_folder_messages_keep_their_numbers(tmp_path: Path) -> None:
    folder = tmp_path / "dump" / "inbox"
    folder.mkdir(parents=True)
    (folder / ".mh_sequences").write_text("unseen: 2\n")
    for number in (1, 2, 5):
        (folder / str(number)).write_bytes(synth.message(number))
    case = _ingest(tmp_path, tmp_path / "dump")
    report = case.report()
    assert report["emails"] == 3
    numbers = sorted(
        loc["info"]["number"]
        for n in range(1, report["items"] + 1)
        for loc in case.item(str(n))["locations"]
        if "number" in loc["info"]
    )
    assert numbers == [1, 2, 5]


def test_hostile_member_names_are_only_locators(tmp_path: Path) -> None:
    dump = tmp_path / "dump"
    dump.mkdir()
    evil = {"../../escaped.eml": synth.message(1), "/etc/evil.eml": synth.message(2)}
    (dump / "evil.zip").write_bytes(_zip(evil))
    case = _ingest(tmp_path, dump)
    assert case.report()["emails"] == 2
    assert not (tmp_path / "escaped.eml").exists()
    assert not list(tmp_path.parent.glob("escaped.eml"))
    locators = {child["locator"] for child in case.item("1")["children"]}
    assert locators == {"member ../../escaped.eml", "member /etc/evil.eml"}


def test_encrypted_zip_member_is_recorded_not_dropped(tmp_path: Path) -> None:
    data = bytearray(_zip({"secret.eml": synth.message(3), "open.eml": synth.message(4)}))
    # Set the "encrypted" flag of the first member in its local and central headers.
    local = data.index(b"PK\x03\x04")
    data[local + 6] |= 0x1
    central = data.index(b"PK\x01\x02")
    data[central + 8] |= 0x1
    dump = tmp_path / "dump"
    dump.mkdir()
    (dump / "locked.zip").write_bytes(bytes(data))
    report = _ingest(tmp_path, dump).report()
    assert report["emails"] == 1
    (failure,) = report["failures"]
    assert failure["status"] == "encrypted"
    assert failure["locator"] == "member secret.eml"


def test_zip_bomb_is_refused(tmp_path: Path) -> None:
    dump = tmp_path / "dump"
    dump.mkdir()
    (dump / "bomb.zip").write_bytes(_zip({"zeros.bin": b"\0" * (64 * 1024**2)}))
    report = _ingest(tmp_path, dump).report()
    (failure,) = report["failures"]
    assert failure["locator"] == "member zeros.bin"
    assert "expansion ratio" in failure["reason"]


def test_nesting_is_bounded(tmp_path: Path) -> None:
    blob = synth.message(9)
    for level in range(6):
        blob = _zip({f"level{level}.bin": blob})
    dump = tmp_path / "dump"
    dump.mkdir()
    (dump / "deep.zip").write_bytes(blob)
    report = _ingest(tmp_path, dump, max_depth=3).report()
    assert report["emails"] == 0
    (failure,) = report["failures"]
    assert "nested deeper than 3" in failure["reason"]


def test_tar_gz_and_single_gzip(tmp_path: Path) -> None:
    dump = tmp_path / "dump"
    dump.mkdir()
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for n in range(3):
            data = synth.message(n)
            info = tarfile.TarInfo(f"mail/{n}.eml")
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    (dump / "mail.tar.gz").write_bytes(buffer.getvalue())
    mbox = tmp_path / "one.mbox"
    synth.write_mbox(mbox, 4, start=100)
    (dump / "one.mbox.gz").write_bytes(gzip.compress(mbox.read_bytes(), mtime=0))
    case = _ingest(tmp_path, dump)
    assert case.report()["emails"] == 7
    items = [case.item(str(n)) for n in range(1, case.report()["items"] + 1)]
    inner = next(item for item in items if item["name"] == "one.mbox")
    assert inner["format"] == "mbox"
    assert len(inner["children"]) == 4


@pytest.mark.parametrize(
    ("head", "name", "expected"),
    [
        (b"!BDN\x00\x00", "x.pst", "pst"),
        (b"From a@b Fri Jan  1 00:00:00 2016\nFrom: a@b\nSubject: x\n\nbody\n", None, "mbox"),
        (b"123\nFrom: a@b\nSubject: x\n\nbody\n", "1.emlx", "emlx"),
        (b"Received: from x\nFrom: a@b\nSubject: x\n\nbody\n", "1", "email"),
        (b"From: a@b\n\nbody\n", "note.eml", "email"),
        (b"From: a@b\n\nbody\n", "note.txt", "email"),  # libmagic: message/rfc822
        (b"%PDF-1.4\n", "a.pdf", "document"),
        (b"just some text\n", "a.eml", "email"),
        (gzip.compress(b"x", mtime=0), "a.gz", "gzip"),
        (_zip({"a.txt": b"x"}), "a.zip", "zip"),
    ],
)
def test_detection(head: bytes, name: str | None, expected: str) -> None:
    assert detect(head, name).type == expected


def test_winmail_dat_attachments_become_items(tmp_path: Path, corpora: Path) -> None:
    winmail = corpora / "tika-test-documents" / "tika-parser-microsoft-module" / "testWINMAIL.dat"
    case = _ingest(tmp_path, winmail)
    container = case.item("1")
    assert container["format"] == "tnef"
    names = sorted(child["name"] for child in container["children"])
    assert names == ["body.rtf", "quick.doc", "quick.html", "quick.pdf", "quick.txt", "quick.xml"]

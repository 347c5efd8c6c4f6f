"""Outlook .msg (extract-msg) and .pst (libpff) on the real sample files in ../shared/corpora.

The `corpora` fixture (conftest.py) finds them via STRONGROOM_CORPORA or <repo>/../shared/corpora
and skips when they are absent, or fails under CI=true. Every fact asserted here was read from
the files themselves (with extract-msg, olefile and pypff directly), so a change in what
strongroom extracts shows up as a failing count or name.
"""

from __future__ import annotations

import email
import email.policy
import io
from collections import Counter
from pathlib import Path
from typing import Any

import extract_msg
import olefile
import pypff
import pytest
from extract_msg.ole_writer import OleWriter

from strongroom.formats.base import ContainerError, Parsed, Status
from strongroom.formats.outlook_msg import OutlookMsgFormat
from strongroom.formats.rfc822 import EmailFormat
from strongroom.sources import pst as pst_module
from strongroom.sources.pst import PstContainer

pytestmark = pytest.mark.conformance


MSG_DIRS = (
    "outlook-msg-pst",
    "tika-test-documents/tika-parser-microsoft-module",
    "aleph-ingest-file-fixtures",
)
MSGREADER = "outlook-msg-pst/msgreader-samplefiles"
TIKA = "tika-test-documents/tika-parser-microsoft-module"
LIBPST = "outlook-msg-pst/java-libpst-test-resources"


def _msg_files(corpora: Path) -> list[Path]:
    files: list[Path] = []
    for folder in MSG_DIRS:
        files += sorted((corpora / folder).rglob("*.msg"))
    return files


def _parse(corpora: Path, relative: str) -> Parsed:
    path = corpora / relative
    return OutlookMsgFormat().parse(path.read_bytes(), path.name)


# --- .msg -----------------------------------------------------------------------------------


def test_every_msg_parses_and_is_classified(corpora: Path) -> None:
    files = _msg_files(corpora)
    assert len(files) == 33  # 19 + 12 + 2
    outcomes: Counter[tuple[str, str]] = Counter()
    classes: Counter[str] = Counter()
    for path in files:
        parsed = OutlookMsgFormat().parse(path.read_bytes(), path.name)  # never raises
        outcomes[(parsed.kind, parsed.status)] += 1
        if parsed.status == Status.OK:
            classes[parsed.record["msg_class"]] += 1
    assert outcomes == {("email", "ok"): 26, ("document", "ok"): 5, ("email", "corrupt"): 2}
    assert classes == {
        "IPM.Note": 26,
        "IPM.Appointment": 1,
        "IPM.Contact": 1,
        "IPM.Post": 1,
        "IPM.StickyNote": 1,
        "IPM.Task": 1,
    }


def test_fnf_msg_is_really_rfc822_text_and_reported_corrupt(corpora: Path) -> None:
    parsed = _parse(corpora, "aleph-ingest-file-fixtures/fnf.msg")
    assert parsed.status == Status.CORRUPT
    assert "not an OLE2 compound file" in (parsed.reason or "")
    assert (
        (corpora / "aleph-ingest-file-fixtures/fnf.msg").read_bytes().startswith(b"Delivered-To:")
    )


def test_transport_headers_give_the_record(corpora: Path) -> None:
    parsed = _parse(corpora, f"{TIKA}/testMSG.msg")
    record = parsed.record
    assert parsed.kind == "email"
    assert record["derived_from"] == "transport-headers"
    assert record["subject"] == "MIME registry use cases"
    assert record["addresses"]["from"] == [
        {"name": "Jukka Zitting", "address": "jukka.zitting@gmail.com"}
    ]
    assert record["addresses"]["to"] == [{"name": "", "address": "tika-dev@lucene.apache.org"}]
    assert record["message_id"] == "510143ac0901291116s5f368dfby9d6423ce61acc36a@mail.gmail.com"
    assert record["date"]["offset"] == "+0100"
    assert record["date"]["utc"] == "2009-01-29T19:16:40Z"
    # the "Microsoft Mail Internet Headers Version 2.0" line is not taken for a header
    assert record["headers"][0][0] == "Received"
    assert parsed.text.startswith("Hi,")


def test_mapi_properties_when_there_are_no_transport_headers(corpora: Path) -> None:
    parsed = _parse(corpora, f"{TIKA}/test-outlook2003.msg")
    record = parsed.record
    assert record["derived_from"] == "mapi"
    assert record["headers"] == []
    assert record["subject"] == "Welcome to Microsoft Office Outlook 2003"
    assert record["addresses"]["from"] == [
        {"name": "Microsoft Outlook 2003 Team", "address": "olteam@microsoft.com"}
    ]
    assert record["date"]["utc"] == "2010-03-28T22:27:38Z"
    assert record["date"]["offset"] is None  # MAPI keeps the instant, not the sender's offset
    names = [child.name for child in parsed.children]
    assert names == [f"{n}.jpg" for n in (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 12)]
    assert all(child.data.startswith(b"\xff\xd8") for child in parsed.children)


def test_8bit_strings_without_codepage_are_read_with_the_internet_codepage(corpora: Path) -> None:
    parsed = _parse(corpora, f"{TIKA}/testMSG_chinese.msg")
    assert parsed.record["subject"] == "Alfresco MSG format testing ( MSG 格式測試 )"
    assert parsed.record["addresses"]["to"] == [
        {"name": "Tests Chang@FT (張毓倫)", "address": "tests.chang@fengttt.com"}
    ]
    assert "中文測試" in parsed.text
    assert any("PR_MESSAGE_CODEPAGE" in defect for defect in parsed.defects)


def test_attachments_are_the_exact_stored_bytes(corpora: Path) -> None:
    path = corpora / "outlook-msg-pst/msg-extractor-examples/unicode.msg"
    parsed = OutlookMsgFormat().parse(path.read_bytes(), path.name)
    assert [(c.locator, c.name, c.declared_type, len(c.data)) for c in parsed.children] == [
        ("attachment 1", "import OleFileIO.tif", "image/tiff", 969674),
        ("attachment 2", "raised value error.tif", "image/tiff", 1033142),
    ]
    with olefile.OleFileIO(str(path)) as ole:
        for number, child in enumerate(parsed.children):
            stream = f"__attach_version1.0_#{number:08X}/__substg1.0_37010102"
            assert child.data == ole.openstream(stream).read()


def test_embedded_msg_becomes_a_child_msg(corpora: Path) -> None:
    parsed = _parse(corpora, f"{MSGREADER}/EmailWithInnerMailAndAttachments.msg")
    assert parsed.record["subject"] == "Outer mail"
    assert [c.name for c in parsed.children] == ["OUTER 1.pdf", "OUTER 2.pdf", "Inner mail.msg"]
    assert all(c.data.startswith(b"%PDF") for c in parsed.children[:2])
    inner = OutlookMsgFormat().parse(parsed.children[2].data, parsed.children[2].name)
    assert inner.status == Status.OK
    assert inner.record["subject"] == "Inner mail"
    assert [c.name for c in inner.children] == ["INNER 1.pdf", "INNER 2.pdf"]

    parsed = _parse(corpora, f"{TIKA}/testMSG_att_msg.msg")
    assert [c.name for c in parsed.children] == [
        "Test Attachment.msg",
        "smbprn.00009008.KdcPjl.pdf",
    ]
    inner = OutlookMsgFormat().parse(parsed.children[0].data, None)
    assert inner.record["subject"] == "Test Attachment"
    assert inner.record["addresses"]["from"][0]["address"] == "nick.booth@pof.com.au"


def test_other_outlook_classes_are_documents(corpora: Path) -> None:
    contact = _parse(corpora, f"{TIKA}/testMSG_Contact.msg")
    assert (contact.kind, contact.record["msg_class"]) == ("document", "IPM.Contact")
    assert contact.record["fields"]["Full Name"] == "Dr Quick Brown Fox Jr"
    assert contact.record["fields"]["Email"] == "quickbrown@gmail.com"
    assert "Saw him jump over a lazy dog once." in contact.text
    task = _parse(corpora, f"{TIKA}/testMSG_Task.msg")
    assert task.record["subject"] == "Must jump over the lazy dog"
    assert task.record["fields"]["Status"] == "In Progress"
    appointment = _parse(corpora, f"{TIKA}/testMSG_Appointment.msg")
    assert appointment.record["fields"]["Location"] == "under lazy dog"
    note = _parse(corpora, f"{TIKA}/testMSG_StickyNote.msg")
    assert note.kind == "document"
    assert "This is a note about the quick brown fox" in note.text


def _without_plain_body(path: Path) -> bytes:
    """The same .msg with its plain-text body stream removed: an RTF-only message."""
    writer = OleWriter()
    with olefile.OleFileIO(str(path)) as ole:
        writer.fromOleFile(ole)
    writer.deleteEntry("__substg1.0_1000001F")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_rtf_only_bodies(corpora: Path) -> None:
    stored = _parse(corpora, f"{MSGREADER}/RtfSampleEmail.msg")
    assert stored.record["bodies"] == {
        "plain": "stored",
        "html": None,
        "rtf": "stored, not converted",
    }
    html = OutlookMsgFormat().parse(
        _without_plain_body(corpora / MSGREADER / "HtmlSampleEmail.msg"), None
    )
    assert html.record["bodies"]["rtf"] == "encapsulated html"
    assert html.html and "BOOK ONE: 1805" in html.text
    text = OutlookMsgFormat().parse(
        _without_plain_body(corpora / MSGREADER / "TxtSampleEmail.msg"), None
    )
    assert text.record["bodies"]["rtf"] == "encapsulated text"
    assert text.text.startswith("BOOK ONE: 1805")
    native = OutlookMsgFormat().parse(
        _without_plain_body(corpora / MSGREADER / "RtfSampleEmail.msg"), None
    )
    assert native.record["bodies"]["rtf"] == "native rtf, kept as child 'rtf body'"
    assert [(c.locator, c.declared_type) for c in native.children] == [
        ("rtf body", "application/rtf")
    ]
    assert native.children[0].data.startswith(b"{\\rtf1")


def test_smime_encrypted_msg_reports_encrypted(corpora: Path) -> None:
    """A real message turned into an S/MIME one: class IPM.Note.SMIME, a CMS enveloped-data blob."""
    writer = OleWriter()
    with olefile.OleFileIO(str(corpora / MSGREADER / "TxtSampleEmailWithAttachment.msg")) as ole:
        writer.fromOleFile(ole)
    p7m = bytes.fromhex("3082010006092a864886f70d010703a0") + bytes(200)
    writer.editEntry("__substg1.0_001A001F", data="IPM.Note.SMIME".encode("utf-16-le"))
    writer.editEntry("__attach_version1.0_#00000000/__substg1.0_37010102", data=p7m)
    out = io.BytesIO()
    writer.write(out)
    parsed = OutlookMsgFormat().parse(out.getvalue(), None)
    assert (parsed.kind, parsed.status) == ("email", Status.ENCRYPTED)
    assert parsed.reason == "S/MIME encrypted (enveloped-data)"
    assert parsed.record["subject"] == "TxtSampleEmailWithAttachment"
    assert [c.data for c in parsed.children] == [p7m]


@pytest.mark.parametrize("cut", [0, 100, 512, 4096])
def test_damaged_msg_gives_a_status_not_an_exception(corpora: Path, cut: int) -> None:
    data = (corpora / MSGREADER / "TxtSampleEmail.msg").read_bytes()[:cut]
    parsed = OutlookMsgFormat().parse(data, "cut.msg")
    assert parsed.status == Status.CORRUPT
    assert parsed.reason


def test_short_bytes_are_never_taken_for_a_path() -> None:
    parsed = OutlookMsgFormat().parse(b"/etc/passwd", None)
    assert parsed.status == Status.CORRUPT


# --- .pst -----------------------------------------------------------------------------------

TEST_PST_SUBJECTS = [
    "Re: Feature Generators",
    'Re: init tokenizer fails: "Bad type in putfield/putstatic"',
    "Feature Generators",
    "[jira] [Resolved] (TIKA-1249) Vcard files detection",
    "[jira] [Commented] (TIKA-1250) Process loops infintely processing a CHM file",
    '[WEBINAR] - "Introducing Couchbase Server 2.5"',
]
TEST_PST_FOLDER = "/Début du fichier de données Outlook"
PST_FILES = {
    "aleph-ingest-file-fixtures/testPST.pst": 6,
    "outlook-msg-pst/ingest-file-fixtures/testPST.pst": 6,
    f"{TIKA}/testPST.pst": 7,
    f"{TIKA}/testPST_variousBodyTypes.pst": 4,
    f"{LIBPST}/dist-list.pst": 4,
    f"{LIBPST}/passworded.pst": 3,
}


def _explode(corpora: Path, relative: str) -> list[Any]:
    return list(PstContainer().explode(corpora / relative))


@pytest.mark.parametrize("relative", sorted(PST_FILES))
def test_pst_is_deterministic_and_every_child_is_a_derived_email(
    corpora: Path, relative: str
) -> None:
    first, second = _explode(corpora, relative), _explode(corpora, relative)
    assert len(first) == PST_FILES[relative]
    assert [c.data for c in first] == [c.data for c in second]
    assert [c.info for c in first] == [c.info for c in second]
    for child in first:
        assert child.data.startswith(b"X-Strongroom-Derived: pst\r\n")
        assert child.info["derived"] == "pst"
        assert child.locator == f"pst:{child.info['folder']}#{child.info['index']}"
        assert "error" not in child.info
        parsed = EmailFormat().parse(child.data, None)
        assert parsed.record["subject"]


def test_test_pst_messages(corpora: Path) -> None:
    children = _explode(corpora, "aleph-ingest-file-fixtures/testPST.pst")
    assert {c.info["folder"] for c in children} == {TEST_PST_FOLDER}
    assert [c.info["index"] for c in children] == list(range(6))
    parsed = [EmailFormat().parse(c.data, None) for c in children]
    assert [p.record["subject"] for p in parsed] == TEST_PST_SUBJECTS
    assert parsed[0].record["addresses"]["from"] == [
        {"name": "Jörn Kottmann", "address": "kottmann@gmail.com"}
    ]
    assert parsed[0].record["date"]["raw"] == "Wed, 26 Feb 2014 08:50:04 +0100"
    assert all(c.info["headers"] == "transport" for c in children)
    assert all(c.info["password_protected"] is False for c in children)
    assert parsed[0].text.startswith("Hello,")


def test_pst_transport_headers_are_kept_as_stored(corpora: Path) -> None:
    path = corpora / "aleph-ingest-file-fixtures/testPST.pst"
    children = list(PstContainer().explode(path))
    pst = pypff.file()
    pst.open(str(path))
    try:
        folder = pst.get_root_folder().get_sub_folder(1)
        for index, child in enumerate(children):
            message = folder.get_sub_message(index)
            stored = message.transport_headers.encode("utf-8")
            for line in stored.splitlines(keepends=True):
                name = line.split(b":", 1)[0].lower()
                if line.strip() and name not in (b"content-type", b"mime-version"):
                    assert line in child.data
            structure = email.message_from_bytes(child.data, policy=email.policy.compat32)
            assert structure.get_content_type() == "multipart/mixed"
            assert structure["X-Strongroom-Original-Content-Type"]
            html = [p for p in structure.walk() if p.get_content_type() == "text/html"]
            assert [p.get_payload(decode=True) for p in html] == (
                [message.html_body] if message.html_body else []
            )
    finally:
        pst.close()


def test_pst_with_embedded_message(corpora: Path) -> None:
    children = _explode(corpora, f"{TIKA}/testPST.pst")
    assert [EmailFormat().parse(c.data, None).record["subject"] for c in children] == [
        *TEST_PST_SUBJECTS,
        "FW: First email",
    ]
    last = children[6]
    assert last.info["headers"] == "mapi"
    assert last.info["attachments"] == 1
    assert "not recoverable" in last.info["limitations"][0]
    parsed = EmailFormat().parse(last.data, None)
    assert parsed.record["message_id"] == "2915856a7d3449e68529f3e61b8d26bc@pf.gov.br"
    assert parsed.record["addresses"]["to"] == [
        {"name": "'lfcnassif@gmail.com'", "address": "lfcnassif@gmail.com"}
    ]
    assert [(c.name, c.declared_type) for c in parsed.children] == [
        ("First email.eml", "message/rfc822")
    ]
    inner = EmailFormat().parse(parsed.children[0].data, None)
    assert inner.record["subject"] == "First email"
    assert inner.text.strip() == "Docx file attached."


def test_pst_body_types(corpora: Path) -> None:
    children = _explode(corpora, f"{TIKA}/testPST_variousBodyTypes.pst")
    assert {c.info["folder"] for c in children} == {"/Top of Outlook data file/Inbox/tmp"}
    parsed = [EmailFormat().parse(c.data, None) for c in children]
    assert [p.record["subject"] for p in parsed] == ["original email"] + ["FW: original email"] * 3
    assert [bool(p.html) for p in parsed] == [True, True, False, False]
    assert "rtf_body" in children[2].info and "rtf_body" not in children[3].info
    assert all("This is the original email" in p.text for p in parsed)


def test_pst_non_mail_items_and_password(corpora: Path) -> None:
    for relative, protected in (("dist-list.pst", False), ("passworded.pst", True)):
        children = _explode(corpora, f"{LIBPST}/{relative}")
        assert all(c.info["password_protected"] is protected for c in children)
        found = [
            (
                c.locator,
                c.info["message_class"],
                EmailFormat().parse(c.data, None).record["subject"],
            )
            for c in children
        ]
        expected = [
            ("pst:/Top of Personal Folders/Contacts#0", "IPM.DistList", "test dist list"),
            ("pst:/Top of Personal Folders/Contacts#1", "IPM.Contact", "contact name 1"),
            ("pst:/Freebusy Data#0", "IPM.Microsoft.ScheduleData.FreeBusy", "LocalFreebusy"),
        ]
        if not protected:
            calendar = ("pst:/Top of Personal Folders/Calendar#0", "IPM.Appointment")
            expected.insert(0, (*calendar, "Test appointment"))
        assert found == expected
    appointment = _explode(corpora, f"{LIBPST}/dist-list.pst")[0]
    assert appointment.info["attachments"] == 2  # two embedded exception items


@pytest.mark.parametrize("content", [b"", b"!BDN" + b"\0" * 508, b"not a pst at all" * 400])
def test_unreadable_pst_raises_container_error(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "broken.pst"
    path.write_bytes(content)
    with pytest.raises(ContainerError) as caught:
        list(PstContainer().explode(path))
    assert caught.value.status == Status.CORRUPT
    assert "libpff" in str(caught.value)


def test_truncated_real_pst_is_corrupt(corpora: Path, tmp_path: Path) -> None:
    data = (corpora / "aleph-ingest-file-fixtures/testPST.pst").read_bytes()
    path = tmp_path / "half.pst"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ContainerError) as caught:
        list(PstContainer().explode(path))
    assert caught.value.status == Status.CORRUPT


# --- synthetic edge cases (fake libpff objects) ----------------------------------------------


class _FakeItem:
    number_of_record_sets = 0
    plain_text_body = b"body text\r\n"


class _FakeFolder:
    number_of_sub_messages = 3
    number_of_sub_folders = 0

    def get_sub_message(self, index: int) -> _FakeItem:
        if index == 1:
            raise OSError("libpff_item_tree_get_node: unable to read item")
        return _FakeItem()


def test_a_failing_item_does_not_stop_the_rest() -> None:
    children = list(pst_module._Walk("cp1252", {"derived": "pst"}).folder(_FakeFolder(), "/Inbox"))
    assert [c.locator for c in children] == ["pst:/Inbox#0", "pst:/Inbox#1", "pst:/Inbox#2"]
    assert "error" not in children[0].info and "error" not in children[2].info
    assert "unable to read item" in children[1].info["error"]
    assert children[1].data.startswith(b"X-Strongroom-Derived: pst\r\nX-Strongroom-Error: ")
    assert EmailFormat().parse(children[0].data, None).text.strip() == "body text"


class _FakeAttachment:
    number_of_record_sets = 0
    long_filename = "pièce jointe.pdf"

    def __init__(self, data: bytes) -> None:
        self.data = data

    def get_size(self) -> int:
        return len(self.data)

    def read_buffer(self, size: int) -> bytes:
        return self.data[:size]


def test_pst_attachment_bytes_survive_the_derived_message() -> None:
    payload = bytes(range(256)) * 40 + b"--=_strongroom_ not a boundary\r\n"
    info: dict[str, Any] = {}
    part = pst_module._attachment(_FakeAttachment(payload), 1, "cp1252", info)
    message = b"X-Strongroom-Derived: pst\r\n" + pst_module._mime_body([part])
    parsed = EmailFormat().parse(message, None)
    assert [(c.name, c.data) for c in parsed.children] == [("pièce jointe.pdf", payload)]


def test_pst_rtf_only_bodies(corpora: Path) -> None:
    with extract_msg.openMsg(str(corpora / MSGREADER / "HtmlSampleEmail.msg")) as msg:
        encapsulated = msg.rtfBody
    info: dict[str, Any] = {}
    message = pst_module._mime_body(pst_module._text_parts(None, None, None, encapsulated, info))
    assert info["rtf_body"] == "encapsulated html"
    parsed = EmailFormat().parse(b"Subject: x\r\n" + message, None)
    assert "BOOK ONE: 1805" in parsed.text and parsed.html

    native = b"{\\rtf1\\ansi\\deff0 {\\fonttbl {\\f0 Times;}}\\f0 Native rich text\\par}"
    info = {}
    message = pst_module._mime_body(pst_module._text_parts(None, None, None, native, info))
    assert info["rtf_body"] == "native rtf, part body.rtf"
    parsed = EmailFormat().parse(b"Subject: x\r\n" + message, None)
    assert [(c.name, c.declared_type, c.data) for c in parsed.children] == [
        ("body.rtf", "application/rtf", native)
    ]

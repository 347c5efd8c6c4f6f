"""Document extraction over real corpora (Apache Tika's and Aleph ingest-file's test documents):
every file accounted for, readable files yield text, explicit statuses, metadata the files are
known to hold, OCR finding the words on real scans, and detection of every sample's type."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from strongroom.case import Case
from strongroom.config import IngestPolicy
from strongroom.formats.document import DocumentFormat
from strongroom.formats.extract import ExtractOptions
from strongroom.ingest.worker import detect_blob

pytestmark = pytest.mark.conformance

TIKA = "tika-test-documents"
ALEPH = "aleph-ingest-file-fixtures"
READABLE = frozenset(
    [
        ".pdf",
        ".docx",
        ".docm",
        ".dotx",
        ".xlsx",
        ".xlsm",
        ".pptx",
        ".pptm",
        ".odt",
        ".ods",
        ".odp",
        ".rtf",
        ".doc",
        ".xls",
        ".ppt",
        ".html",
        ".htm",
        ".txt",
        ".csv",
        ".json",
        ".xml",
        ".vcf",
        ".ics",
        ".ical",
    ]
)
# Readable-looking files that do not yield text, and why: the outcome each must have.
NOT_TEXT = {
    # encrypted: a password is needed
    **dict.fromkeys(
        [
            "protected_normal_case.docx",
            "protected_upper_case.docx",
            "protect.xlsx",
            "protectedFile.xlsx",
            "testEXCEL_protected_passtika.xls",
            "testEXCEL_protected_passtika.xlsx",
            "testEXCEL_protected_passtika_2.xlsx",
            "testPPT_protected_passtika.ppt",
            "testPPT_protected_passtika.pptx",
            "testWORD_protected_passtika.doc",
            "testWORD_protected_passtika.docx",
            "testODTEncrypted.odt",
            "testPDF_no_extract_no_accessibility_owner_user.pdf",
            "testPDF_no_extract_yes_accessibility_owner_user.pdf",
            "encypted_by_libreoffice.odt",
            "password-hunter2.pdf",
            "password_protected.xls",
            "password_protected.xlsx",
        ],
        "encrypted",
    ),
    # corrupt by design (truncated), or a Word file antiword and catdoc both refuse
    **dict.fromkeys(
        ["testWORD_truncated.docx", "simple_lower_case.doc", "simple_upper_case.doc"], "corrupt"
    ),
    "testWordPerfect_42.doc": "unsupported",  # WordPerfect 4.2 under a .doc name
    # no text to find: empty pages or bodies, charts, pictures, text only in a master slide,
    # an image-only PDF (OCR is off for the Tika run), RTF text held in a header group
    **dict.fromkeys(
        [
            "testHTML_head.html",
            "headerPic.docx",
            "testAltChunkHTML.docx",
            "testAltChunkMHT.docx",
            "testBinControlWord.rtf",
            "testEXCEL.strict.xlsx",
            "testPPT_EmbeddedPDF.pptx",
            "testPPT_charts.pptx",
            "testPPT_embeddedMP3.pptx",
            "testPPT_masterText.pptx",
            "testPPT_masterText2.pptx",
            "testRTFBoldPlain.rtf",
            "testRTFEmbeddedFiles.rtf",
            "testRTFEmbeddedLink.rtf",
            "testRTFIgnoredControlWord.rtf",
            "testWORD_charts.docx",
            "testWORD_header_hyperlink.doc",
            "testWORD_multi_authors.doc",
            "testWORD_multi_authors.docx",
            "testWORD_phonetic.doc",
            "testWPSAttachment.docx",
            "testWPSAttachment.pptx",
            "test_list_override.rtf",
            "testMasterFooter.odp",
            "testODPMacro.odp",
            "testODSMacro.ods",
            "testFlashInPDF.pdf",
            "testOCR.pdf",
            "testPDFFileEmbInAnnotation_noContents.pdf",
            "testPDF_AdobeIllustrator.pdf",
            "testPDF_Version.10.x.pdf",
            "testPDF_Version.11.x.PDFA-1b.pdf",
            "testPDF_Version.4.x.pdf",
            "testPDF_Version.5.x.pdf",
            "testPDF_Version.6.x.pdf",
            "testPDF_Version.7.x.pdf",
            "testPDF_Version.8.x.pdf",
            "testPDF_Version.9.x.pdf",
            "testPDF_diffTitles.pdf",
            "testPDF_jpeg2000.pdf",
            "testPDF_jsActionOnPage.pdf",
            "testPDF_malformedXFA.pdf",
            "testPDF_sigflags.pdf",
            "testPDF_twoAuthors.pdf",
            "testPopupAnnotation.pdf",
            "empty.pdf",
            "empty_5_doc_pages.html",
        ],
        "no-text",
    ),
}


def ingest(corpora: Path, name: str, tmp: Path, ocr: bool) -> Path:
    case_dir = tmp / name
    Case.init(case_dir).ingest([corpora / name], IngestPolicy(workers=2, ocr=ocr))
    return case_dir


@pytest.fixture(scope="module")
def aleph(corpora: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return ingest(corpora, ALEPH, tmp_path_factory.mktemp("aleph"), ocr=True)


@pytest.fixture(scope="module")
def tika(corpora: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    # OCR off here (its images are mostly photos and thumbnails inside archives, minutes of
    # tesseract); OCR is checked on the Aleph run and on the scanned samples below.
    return ingest(corpora, TIKA, tmp_path_factory.mktemp("tika"), ocr=False)


def top_level(case_dir: Path) -> list[tuple[str, str, str, str | None, str | None]]:
    """(file name, format, status, extraction, reason) of each input file."""
    db = sqlite3.connect(case_dir / "catalog.sqlite")
    rows = db.execute(
        "select i.path, it.format, it.status, json_extract(it.record, '$.extraction'), it.reason"
        " from inputs i left join items it on it.sha256 = i.sha256 order by i.path"
    ).fetchall()
    db.close()
    return [(Path(path).name, *rest) for path, *rest in rows]


@pytest.mark.parametrize("corpus", [ALEPH, TIKA])
def test_every_file_is_accounted_for(corpus: str, corpora: Path, request: Any) -> None:
    case_dir = request.getfixturevalue("aleph" if corpus == ALEPH else "tika")
    files = [p for p in (corpora / corpus).rglob("*") if p.is_file()]
    report = Case.open(case_dir).report()
    assert report["inputs_by_status"] == {"done": len(files)}
    rows = top_level(case_dir)
    assert len(rows) == len(files)
    assert all(fmt is not None for _name, fmt, *_ in rows), "an input without its item"
    db = sqlite3.connect(case_dir / "catalog.sqlite")
    missing = db.execute(
        "select count(*) from items where format = 'document' and num not in"
        " (select item_num from facts where field = 'extraction')"
    ).fetchone()[0]
    db.close()
    assert missing == 0
    # Every document that gives no text says why.
    for name, fmt, status, _extraction, reason in rows:
        if fmt == "document" and status != "ok":
            assert reason, name


@pytest.mark.parametrize("corpus", [ALEPH, TIKA])
def test_readable_files_yield_text(corpus: str, request: Any) -> None:
    rows = top_level(request.getfixturevalue("aleph" if corpus == ALEPH else "tika"))
    readable = [r for r in rows if Path(r[0]).suffix.lower() in READABLE and r[1] == "document"]
    wrong = {
        name: extraction
        for name, _fmt, _status, extraction, _reason in readable
        if extraction not in ("text", "ocr") and NOT_TEXT.get(name) != extraction
    }
    assert wrong == {}
    texts = sum(1 for r in readable if r[3] in ("text", "ocr"))
    # docs/formats.md: readable files that yield text, beside those with an explicit outcome.
    assert texts == {ALEPH: 34, TIKA: 353}[corpus]


def test_aleph_outcomes(aleph: Path) -> None:
    report = Case.open(aleph).report()
    assert report["by_extraction"] == {
        "text": 45,
        "ocr": 10,
        "no-text": 2,
        "encrypted": 4,
        "unsupported": 10,
    }


def parse(corpora: Path, path: str, ocr: bool = False) -> Any:
    file = corpora / path
    return DocumentFormat(ExtractOptions(ocr=ocr)).parse(file.read_bytes(), file.name)


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (
            f"{ALEPH}/doc.doc",
            {
                "author": "Keith Bennett",
                "last_modified_by": "Nick Burch",
                "creator_tool": "Microsoft Office Word",
                "template": "Normal.dotm",
                "created.utc": "2010-11-12T16:22:00Z",
                "revision": 2,
                "words": 122,
            },
        ),
        (
            f"{TIKA}/tika-parser-pdf-module/testPDF.pdf",
            {
                "author": "Bertrand Delacrétaz",
                "creator_tool": "Firefox",
                "producer": "Mac OS X 10.4.10 Quartz PDFContext",
                "created.raw": "D:20070915110231+02'00'",
                "created.offset": "+0200",
                "created.utc": "2007-09-15T09:02:31Z",
            },
        ),
        (
            f"{TIKA}/tika-parser-microsoft-module/testEXCEL.xlsx",
            {
                "author": "Keith Bennett",
                "last_modified_by": "garribas",
                "creator_tool": "Microsoft Excel",
                "created.raw": "2007-10-01T16:13:56Z",
                "modified.utc": "2008-12-11T16:02:17Z",
            },
        ),
        (
            f"{TIKA}/tika-parser-microsoft-module/testPPT.pptx",
            {"author": "Rajiv", "company": "Pegasystems", "slides": 3, "revision": 2},
        ),
        (
            f"{TIKA}/tika-parser-microsoft-module/testRTF.rtf",
            {
                "author": "Bibliotheque",
                "company": "Universite Laval",
                "creator_tool": "Microsoft Word 11.0.6568",
                "created.iso": "2006-05-18T12:19:00",
                "created.offset": None,  # RTF times carry no zone: none is invented
            },
        ),
        (
            f"{TIKA}/tika-parser-miscoffice-module/testODFwithOOo3.odt",
            {
                "author": "Bart Hanssens",
                "title": "Apache Tika",
                "created.raw": "2009-10-05T19:04:01",
            },
        ),
        (
            f"{TIKA}/tika-parser-image-module/testJPEG_GEO.jpg",
            {
                "camera": "Canon Canon EOS 40D",
                "creator_tool": "Adobe Photoshop CS3 Macintosh",
                "created.raw": "2009:08:11 09:09:45",
                "gps.latitude": 12.54321,
                "gps.longitude": -54.1234,
            },
        ),
    ],
)
def test_metadata_the_files_are_known_to_hold(
    corpora: Path, path: str, expected: dict[str, Any]
) -> None:
    metadata = parse(corpora, path).record["metadata"]
    for key, value in expected.items():
        found: Any = metadata
        for part in key.split("."):
            found = found.get(part) if isinstance(found, dict) else None
        assert found == value, key


@pytest.mark.parametrize(
    ("path", "words"),
    [
        (f"{TIKA}/tika-parser-ocr-module/testOCR.jpg", ["Apache Tika", "OCR Testing"]),
        (f"{TIKA}/tika-parser-pdf-module/testOCR.pdf", ["Happy New Year 2003"]),
        (f"{TIKA}/tika-parser-ocr-module/testOCR_spacing.png", ["The quick brown fox"]),
        (f"{TIKA}/tika-parser-ocr-module/testTIFF_multipage.tif", ["Page 1", "Page 2"]),
        (f"{ALEPH}/hello_world_tiff.tif", ["HELLO WORLD"]),
        (f"{ALEPH}/regression_jpg.jpg", ["Debian", "libjpeg-dev"]),
    ],
)
def test_ocr_finds_the_words_on_real_scans(corpora: Path, path: str, words: list[str]) -> None:
    parsed = parse(corpora, path, ocr=True)
    assert parsed.record["extraction"] == "ocr"
    for word in words:
        assert word in parsed.text


def test_scanned_pdf_pages_are_ocrd_in_the_ingest(aleph: Path) -> None:
    db = sqlite3.connect(aleph / "catalog.sqlite")
    pages = db.execute(
        "select json_extract(record, '$.pages') from items where name = 'greek.pdf'"
    ).fetchone()[0]
    db.close()
    assert '"source":"ocr"' in pages.replace(" ", "")


DETECTED = {
    f"{ALEPH}/doc.doc": ("document", "application/msword"),
    f"{ALEPH}/rom.xls": ("document", "application/vnd.ms-excel"),
    f"{ALEPH}/slides.ppt": ("document", "application/vnd.ms-powerpoint"),
    f"{ALEPH}/password_protected.xlsx": ("document", "application/encrypted"),
    f"{ALEPH}/hello world word.docx": (
        "document",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ),
    f"{ALEPH}/staff_list.xlsx": (
        "document",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ),
    f"{ALEPH}/Plan.odt": ("document", "application/vnd.oasis.opendocument.text"),
    f"{ALEPH}/rom.ods": ("document", "application/vnd.oasis.opendocument.spreadsheet"),
    f"{ALEPH}/example.pdf": ("document", "application/pdf"),
    f"{ALEPH}/doc.html": ("document", "text/html"),
    f"{ALEPH}/countries.csv": ("document", "text/csv"),
    f"{ALEPH}/example_2.json": ("document", "application/json"),
    f"{ALEPH}/john-doe.vcf": ("document", "text/vcard"),
    f"{ALEPH}/meetup.ics": ("document", "text/calendar"),
    f"{ALEPH}/multipage_tiff_example.tif": ("document", "image/tiff"),
    f"{ALEPH}/regression_jpg.jpg": ("document", "image/jpeg"),
    f"{ALEPH}/test-documents.zip": ("zip", "application/zip"),
    f"{ALEPH}/test-documents.tar": ("tar", "application/x-tar"),
    f"{ALEPH}/7z_password.7z": ("7z", "application/x-7z-compressed"),
    f"{ALEPH}/badrar.rar": ("rar", "application/x-rar"),
    f"{ALEPH}/piste.msg": ("msg", "application/vnd.ms-outlook"),
    f"{ALEPH}/testPST.pst": ("pst", "application/vnd.ms-outlook-pst"),
    f"{ALEPH}/plan.mbox": ("mbox", "application/mbox"),
    f"{ALEPH}/plaintext.emlx": ("emlx", "message/x-emlx"),
    f"{ALEPH}/email_base64.eml": ("email", "message/rfc822"),
    f"{TIKA}/tika-parser-microsoft-module/testWORD.docx": (
        "document",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ),
    f"{TIKA}/tika-parser-microsoft-module/testPPT.pptx": (
        "document",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    ),
    f"{TIKA}/tika-parser-microsoft-module/testRTF.rtf": ("document", "text/rtf"),
    f"{TIKA}/tika-parser-miscoffice-module/testODTStyles3.odt": (
        "document",
        "application/vnd.oasis.opendocument.text",
    ),
    f"{TIKA}/tika-parser-image-module/testPNG.png": ("document", "image/png"),
}


@pytest.mark.parametrize(("path", "expected"), sorted(DETECTED.items()))
def test_detection_of_each_sample(corpora: Path, path: str, expected: tuple[str, str]) -> None:
    file = corpora / path
    detection = detect_blob(file.read_bytes(), file.name)
    assert (detection.type, detection.mime) == expected
    assert detection.reason

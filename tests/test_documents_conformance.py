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
    "testWORD_truncated.docx": "corrupt",  # truncated by design
    # no text to find: empty pages or bodies, pictures, macros only, vector art, text only in
    # embedded files (their own items), an image-only PDF (OCR is off for the Tika run)
    **dict.fromkeys(
        [
            "testHTML_head.html",  # a <head> and an empty <body>
            "empty_5_doc_pages.html",
            "headerPic.docx",  # a picture in the header
            "testWORD_multi_authors.doc",  # empty bodies: metadata samples
            "testWORD_multi_authors.docx",
            "testBinControlWord.rtf",  # tabs and a \bin picture
            "testRTFEmbeddedFiles.rtf",  # embedded objects only
            "testRTFEmbeddedLink.rtf",
            "test_list_override.rtf",  # list tables, an empty paragraph
            "testPPT_EmbeddedPDF.pptx",  # embedded objects only
            "testPPT_embeddedMP3.pptx",
            "testWPSAttachment.docx",
            "testWPSAttachment.pptx",
            "testWPSAttachment.doc",
            "Doc1_ole.doc",
            "testDocumentLink.doc",
            "testLargeOLEDoc.doc",
            "testODPMacro.odp",  # a StarBasic macro, no text
            "testODSMacro.ods",
            "testFlashInPDF.pdf",  # a Flash annotation
            "testOCR.pdf",  # a scan: OCR is off in this run
            "testPDF_jpeg2000.pdf",  # a photograph
            "testPDF_Version.11.x.PDFA-1b.pdf",  # one blank image
            "testPDF_AdobeIllustrator.pdf",  # a logo drawn as paths
            "testPDFFileEmbInAnnotation_noContents.pdf",  # a file attached by an annotation
            # blank pages (metadata samples)
            "testPDF_Version.10.x.pdf",
            "testPDF_Version.4.x.pdf",
            "testPDF_Version.5.x.pdf",
            "testPDF_Version.6.x.pdf",
            "testPDF_Version.7.x.pdf",
            "testPDF_Version.8.x.pdf",
            "testPDF_Version.9.x.pdf",
            "testPDF_diffTitles.pdf",
            "testPDF_jsActionOnPage.pdf",
            "testPDF_malformedXFA.pdf",
            "testPDF_sigflags.pdf",
            "testPDF_twoAuthors.pdf",
            "empty.pdf",
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
    assert texts == {ALEPH: 34, TIKA: 365}[corpus]


def test_aleph_outcomes(aleph: Path) -> None:
    report = Case.open(aleph).report()
    assert report["by_status"] == {
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


MS = f"{TIKA}/tika-parser-microsoft-module"
ODF = f"{TIKA}/tika-parser-miscoffice-module"


@pytest.mark.parametrize(
    ("path", "words"),
    [
        # Word 97+ read from the piece table: every story, field results, phonetic guides
        (f"{MS}/casing/simple_lower_case.doc", ["This is a sample Word document"]),
        (f"{MS}/casing/simple_upper_case.doc", ["This is a sample Word document"]),
        (f"{MS}/testWORD_header_hyperlink.doc", ["ab@example.com", "http://tw-systemhaus.de"]),
        (f"{MS}/testWORD_phonetic.doc", ["東京", "とうきょう"]),
        (
            f"{MS}/testWORD_various.doc",
            [
                "This is the header text.",
                "This is the footer text.",
                "Here is a text box",
                "This is a footnote.",
                "Row 2 Col 1\tRow 2 Col 2",
            ],
        ),
        # RTF: header groups, a stray \* inside a group, footnotes, text boxes
        (f"{MS}/testRTFBoldPlain.rtf", ["Animal Hospital", "Canine / Retriever/Golden"]),
        (f"{MS}/testRTFIgnoredControlWord.rtf", ["The quick brown fox jumps over the lazy dog"]),
        (
            f"{MS}/testRTFVarious.rtf",
            ["This is the header text.", "This is a footnote.", "Here is a text box"],
        ),
        # OOXML: altChunk HTML and MHT, Strict workbooks, charts, slide masters and layouts
        (f"{MS}/testAltChunkHTML.docx", ["Simple paragraph with a", "Example of a table"]),
        (f"{MS}/testAltChunkMHT.docx", ["Red PNG dot; ROW 1"]),
        (
            f"{MS}/testEXCEL.strict.xlsx",
            [
                "Test spreadsheet",
                "2nd row\t2nd row 2nd column",
                "Sheet Number 2",
                "I'm in bold blue, on a yellow background",
            ],
        ),
        (f"{MS}/testWORD_charts.docx", ["wants a peach", "January"]),
        (f"{MS}/testPPT_charts.pptx", ["wants a peach", "August"]),
        (f"{MS}/testPPT_masterText.pptx", ["Text that I added to the master slide"]),
        (f"{MS}/testPPT_masterText2.pptx", ["Text that I added to the master slide"]),
        (f"{MS}/testPPT_various2.pptx", ["MASTERTEXTBOX", "SLIDE3ChartTitle", "SmartList1"]),
        # WordPerfect 4.2 under a .doc name: no header, text between function codes
        (f"{ODF}/testWordPerfect_42.doc", ["Sluwe Sjaantje sloeg de slome slager."]),
        # ODF master pages: a presentation's footer, a text document's footer
        (f"{ODF}/testMasterFooter.odp", ["Master footer is here"]),
        (f"{ODF}/testFooter.odt", ["Here is footer text"]),
        # PDF annotation notes, with their authors
        (f"{TIKA}/tika-parser-pdf-module/testPopupAnnotation.pdf", ["igalsh: this is the note"]),
        (
            f"{TIKA}/tika-parser-pdf-module/testAnnotations.pdf",
            ["Michael McCandless: Here is a comment"],
        ),
    ],
)
def test_text_found_where_it_hides(corpora: Path, path: str, words: list[str]) -> None:
    parsed = parse(corpora, path)
    assert parsed.record["extraction"] == "text", parsed.reason
    for word in words:
        assert word in parsed.text


def test_prompts_and_fields_are_not_text(corpora: Path) -> None:
    """Placeholder prompts of slide masters and field codes are not a document's words."""
    slides = parse(corpora, f"{MS}/testPPT_masterText.pptx").text
    assert "Click to edit" not in slides
    assert slides.count("Text that I added to the master slide") == 1
    word = parse(corpora, f"{MS}/testWORD_header_hyperlink.doc").text
    assert "HYPERLINK" not in word
    assert parse(corpora, f"{ODF}/testMasterFooter.odp").text.strip() == "Master footer is here"


def test_file_attached_by_a_pdf_annotation_is_a_child(corpora: Path) -> None:
    parsed = parse(
        corpora, f"{TIKA}/tika-parser-pdf-module/testPDFFileEmbInAnnotation_noContents.pdf"
    )
    assert [(child.name, child.data[:2]) for child in parsed.children] == [("Excel.xlsx", b"PK")]
    assert parsed.record["metadata"]["embedded_files"] == ["Excel.xlsx"]


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

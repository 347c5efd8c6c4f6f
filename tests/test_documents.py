"""Documents made by the tests: text, pages, forensic metadata kept apart, searchable facts,
and every extraction outcome recorded with its reason."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest
from PIL import Image

from strongroom.case import Case
from strongroom.config import IngestPolicy
from strongroom.formats import docmeta
from strongroom.formats.document import DocumentFormat
from strongroom.formats.extract import ExtractOptions, scrub

CORE = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties"
 xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/"
 xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<dc:title>Budget memo</dc:title><dc:creator>Jane Roe</dc:creator>
<cp:lastModifiedBy>Richard Miles</cp:lastModifiedBy><cp:revision>7</cp:revision>
<dcterms:created xsi:type="dcterms:W3CDTF">2016-05-12T10:10:10-04:00</dcterms:created>
<dcterms:modified xsi:type="dcterms:W3CDTF">2016-05-13T09:00:00Z</dcterms:modified>
<cp:lastPrinted>2016-05-13T08:00:00+02:00</cp:lastPrinted>
</cp:coreProperties>"""
APP = """<?xml version="1.0" encoding="UTF-8"?>
<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties">
<Application>Microsoft Office Word</Application><Company>Acme Widgets</Company>
<Template>Memo.dotm</Template><Pages>2</Pages><Words>5</Words></Properties>"""
W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
DOCUMENT = f"""<?xml version="1.0"?><w:document xmlns:w="{W}"><w:body>
<w:p><w:r><w:t>Quarterly budget</w:t></w:r><w:r><w:tab/><w:t>draft</w:t></w:r></w:p>
<w:tbl><w:tr><w:tc><w:p><w:r><w:t>cell text</w:t></w:r></w:p></w:tc></w:tr></w:tbl>
</w:body></w:document>"""


def docx(document: str = DOCUMENT, extra: dict[str, bytes] | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("_rels/.rels", "<Relationships/>")
        archive.writestr("word/document.xml", document)
        archive.writestr("docProps/core.xml", CORE)
        archive.writestr("docProps/app.xml", APP)
        for name, data in (extra or {}).items():
            archive.writestr(name, data)
    return buffer.getvalue()


def pdf(pages: list[str], info: str) -> bytes:
    """A small valid PDF with one text line per page and an information dictionary."""
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b""]
    kids = []
    for text in pages:
        stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode()
        content = len(objects) + 1
        objects.append(b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream))
        objects.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents %d 0 R "
            b"/Resources << /Font << /F1 << /Type /Font /Subtype /Type1 /BaseFont /Helvetica"
            b" >> >> >> >>" % content
        )
        kids.append(f"{len(objects)} 0 R")
    objects[1] = f"<< /Type /Pages /Kids [{' '.join(kids)}] /Count {len(kids)} >>".encode()
    objects.append(info.encode())
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R /Info %d 0 R >>\n" % (len(objects) + 1, len(objects))
    out += b"startxref\n%d\n%%%%EOF\n" % xref
    return bytes(out)


INFO = (
    "<< /Author (Jane Roe) /Creator (Writer) /Producer (LibreOffice 7.4) "
    "/CreationDate (D:20160512101010-04'00') /ModDate (D:20160601080000Z) >>"
)


def parse(data: bytes, name: str) -> tuple[str, dict[str, object], str]:
    parsed = DocumentFormat(ExtractOptions(ocr=False)).parse(data, name)
    return parsed.record["extraction"], parsed.record, parsed.text


def test_docx_text_and_metadata_kept_apart() -> None:
    parsed = DocumentFormat().parse(docx(), "memo.docx")
    assert parsed.record["extraction"] == "text"
    assert parsed.text == "Quarterly budget\tdraft\ncell text"
    meta = parsed.record["metadata"]
    assert (meta["author"], meta["last_modified_by"]) == ("Jane Roe", "Richard Miles")
    assert meta["company"] == "Acme Widgets"
    assert meta["template"] == "Memo.dotm"
    assert meta["creator_tool"] == "Microsoft Office Word"
    assert (meta["revision"], meta["pages"], meta["words"]) == (7, 2, 5)
    assert meta["created"] == {
        "raw": "2016-05-12T10:10:10-04:00",
        "iso": "2016-05-12T10:10:10-04:00",
        "offset": "-0400",
        "utc": "2016-05-12T14:10:10Z",
    }
    assert meta["printed"]["offset"] == "+0200"
    assert ("author", "Jane Roe") in parsed.facts
    assert ("creator", "Microsoft Office Word") in parsed.facts
    assert ("last_modified_by", "Richard Miles") in parsed.facts
    assert ("author", "Richard Miles") not in parsed.facts


def test_pdf_pages_split_by_form_feeds_with_offsets() -> None:
    outcome, record, text = parse(pdf(["first page", "second page"], INFO), "two.pdf")
    assert outcome == "text"
    assert text.split("\f") == ["first page", "second page"]
    assert [(p["page"], p["offset"], p["chars"]) for p in record["pages"]] == [  # type: ignore[attr-defined]
        (1, 0, 10),
        (2, 11, 11),
    ]
    meta = record["metadata"]
    assert meta["author"] == "Jane Roe"  # type: ignore[index]
    assert meta["created"]["offset"] == "-0400"  # type: ignore[index]
    assert meta["created"]["raw"] == "D:20160512101010-04'00'"  # type: ignore[index]
    assert meta["modified"]["utc"] == "2016-06-01T08:00:00Z"  # type: ignore[index]


def test_outcomes_for_empty_encrypted_corrupt_and_unknown() -> None:
    assert parse(b"", "empty.pdf")[0] == "no-text"
    assert parse(pdf([""], "<< >>"), "blank.pdf")[0] == "no-text"
    assert parse(b"%PDF-1.4\n1 0 obj garbage", "broken.pdf")[0] == "corrupt"
    assert parse(docx()[:300], "cut.docx")[0] == "corrupt"
    assert parse(b"\x00\x01\x02\x03binary" * 50, "blob.bin")[0] == "unsupported"
    outcome, record, _ = parse(b"{\\rtf1\\ansi {\\info{\\author Ann}}Hello \\b world\\b0}", "a.rtf")
    assert outcome == "text"
    assert record["metadata"] == {"author": "Ann"}


def test_docx_text_box_read_once_and_alt_chunk_html() -> None:
    mc = "http://schemas.openxmlformats.org/markup-compatibility/2006"
    box = "<w:txbxContent><w:p><w:r><w:t>Boxed words</w:t></w:r></w:p></w:txbxContent>"
    document = f"""<?xml version="1.0"?><w:document xmlns:w="{W}" xmlns:mc="{mc}"
 xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><w:body>
<w:p><w:r><mc:AlternateContent><mc:Choice Requires="wps">{box}</mc:Choice>
<mc:Fallback>{box}</mc:Fallback></mc:AlternateContent></w:r><w:r><w:t>after</w:t></w:r></w:p>
<w:altChunk r:id="chunk"/></w:body></w:document>"""
    rels = (
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="chunk" Target="/word/import.html" Type="http://schemas.openxmlformats'
        '.org/officeDocument/2006/relationships/aFChunk"/></Relationships>'
    )
    html = b"<html><head><title>no</title></head><body><p>Imported memo</p></body></html>"
    extra = {"word/_rels/document.xml.rels": rels.encode(), "word/import.html": html}
    outcome, _record, text = parse(docx(document, extra), "boxed.docx")
    assert outcome == "text"
    assert text.startswith("Boxed words\nafter")
    assert text.count("Boxed words") == 1
    assert "Imported memo" in text


def test_rtf_text_in_headers_notes_fonts_and_fields_but_not_in_data() -> None:
    rtf = (
        rb"{\rtf1\ansi\ansicpg1252\uc1{\fonttbl{\f0\fswiss Arial;}{\f1\fcharset204 Arial Cyr;}}"
        rb"{\colortbl;\red0\green0\blue0;}{\info{\title Memo}}"
        rb"{\header\pard Confidential memo\par}"
        rb"\pard Body {\f1 \'cf\'f0\'e8\'e2\'e5\'f2} caf\u233?{\footnote\pard A note\par} end."
        rb"{\field{\*\fldinst HYPERLINK \\l \"x\"}{\fldrslt link text}}"
        rb"{\*\unknowndestination hidden words}"
        rb"{\pict\wmetafile8\bin4 }zz{} {\b\*\cs7 stray star} kept"
        rb"}\x00\x01 trailing bytes after the document"
    )
    outcome, _record, text = parse(rtf, "memo.rtf")
    assert outcome == "text"
    assert text.startswith("Confidential memo\n")
    assert "Body Привет caf\u00e9 end.link text stray star kept" in text
    assert text.endswith("A note")  # notes after the body
    for absent in ("HYPERLINK", "hidden", "Arial", "Memo", "trailing", "zz"):
        assert absent not in text


def test_wordperfect_4_only_when_the_whole_file_parses_as_one() -> None:
    # Function codes, as WordPerfect writes them: a byte from 0xC0 up opens one and closes it.
    prefix = b"\xf1" + bytes(40) + b"\x11\x22\x44" + bytes(20) + b"\xf1"
    tabs = b"\xcb\x0a\x01\xf6\x01\xcb"
    memo = prefix + tabs + b"Quarterly\r\x9abudget\x9d memo\x9c\n" + tabs + b"Second line\n\0\0"
    outcome, record, text = parse(memo, "memo.doc")
    assert (outcome, record["extractor"]) == ("text", "wordperfect-4 (by extension .doc)")
    assert text == "Quarterly budget memo\nSecond line"
    assert parse(memo[:-8] + b"\xc1 never closed", "memo.doc")[0] == "unsupported"
    assert parse(memo + b"\x01\x02 binary", "memo.doc")[0] == "unsupported"
    assert parse(memo, "memo.bin")[0] == "unsupported"  # no magic number: only by its name


def test_odf_text_and_initial_creator_is_the_author() -> None:
    meta = (
        '<office:document-meta xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"'
        ' xmlns:meta="urn:oasis:names:tc:opendocument:xmlns:meta:1.0"'
        ' xmlns:dc="http://purl.org/dc/elements/1.1/"><office:meta>'
        "<meta:initial-creator>Jane Roe</meta:initial-creator><dc:creator>Sam Poe</dc:creator>"
        "<meta:creation-date>2016-05-12T10:10:10</meta:creation-date></office:meta>"
        "</office:document-meta>"
    )
    content = (
        '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"'
        ' xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"><office:body><office:text>'
        "<text:p>Two<text:s text:c='2'/>spaces <text:span>and a span</text:span></text:p>"
        "<text:h>Heading</text:h></office:text></office:body></office:document-content>"
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.text")
        archive.writestr("meta.xml", meta)
        archive.writestr("content.xml", content)
    outcome, record, text = parse(buffer.getvalue(), "plan.odt")
    assert outcome == "text"
    assert text == "Two  spaces and a span\nHeading"
    assert record["metadata"]["author"] == "Jane Roe"  # type: ignore[index]
    assert record["metadata"]["last_modified_by"] == "Sam Poe"  # type: ignore[index]
    assert record["metadata"]["created"]["offset"] is None  # type: ignore[index]


def test_image_exif_with_offset_and_gps() -> None:
    image = Image.new("RGB", (40, 30), "white")
    exif = Image.Exif()
    exif[0x010F], exif[0x0110], exif[0x0131] = "Canon", "EOS 40D", "Photoshop"
    exif[0x013B] = "Jane Roe"
    exif.get_ifd(0x8769).update({0x9003: "2016:05:12 10:10:10", 0x9011: "-04:00"})
    exif.get_ifd(0x8825).update({1: "N", 2: (51.0, 30.0, 0.0), 3: "W", 4: (0.0, 7.0, 30.0)})
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", exif=exif)
    _, record, _ = parse(buffer.getvalue(), "photo.jpg")
    meta = record["metadata"]
    assert meta["camera"] == "Canon EOS 40D"  # type: ignore[index]
    assert meta["author"] == "Jane Roe"  # type: ignore[index]
    assert meta["created"]["utc"] == "2016-05-12T14:10:10Z"  # type: ignore[index]
    assert meta["gps"] == {"latitude": 51.5, "longitude": -0.125}  # type: ignore[index]


@pytest.mark.parametrize(
    ("raw", "iso", "offset"),
    [
        ("D:20160512101010+02'00'", "2016-05-12T10:10:10+02:00", "+0200"),
        ("D:20160512101010Z", "2016-05-12T10:10:10+00:00", "+0000"),
        ("D:2016051210", "2016-05-12T10:00:00", None),
        ("D:20161332", None, None),
    ],
)
def test_pdf_dates_keep_their_offset(raw: str, iso: str | None, offset: str | None) -> None:
    value = docmeta.pdf_date(raw)
    assert (value["raw"], value["iso"], value.get("offset")) == (raw, iso, offset)


def test_lone_surrogates_become_storable() -> None:
    assert scrub({"t": ["a\ud800b", "\ud83d\ude00"]}) == {"t": ["a\ufffdb", "\U0001f600"]}


def test_facts_searchable_and_report_by_extraction(tmp_path: Path) -> None:
    dump = tmp_path / "dump"
    dump.mkdir()
    (dump / "memo.docx").write_bytes(docx())
    (dump / "report.pdf").write_bytes(pdf(["budget figures"], INFO))
    (dump / "blob.bin").write_bytes(b"\x00\x01binary" * 40)
    (dump / "cut.docx").write_bytes(docx()[:300])
    case = Case.init(tmp_path / "case")
    case.ingest([dump], IngestPolicy(workers=1))
    report = case.report()
    assert report["by_status"] == {"text": 2, "unsupported": 1, "corrupt": 1}
    assert report["items_by_status"]["ok"] == 2
    assert [f["status"] for f in report["failures"]] == ["corrupt"]
    assert case.search('author:"Jane Roe"').total == 2
    assert case.search("author:Richard").total == 0  # the last editor is not the author
    assert case.search("creator:libreoffice").total == 1
    item = case.item(str(case.search("budget figures").hits[0]["id"]))
    assert item["record"]["metadata"]["producer"] == "LibreOffice 7.4"
    json.dumps(item)  # what `show --json` prints


def test_embedded_files_become_children(tmp_path: Path) -> None:
    inner = docx(DOCUMENT.replace("Quarterly budget", "inner secret"))
    parsed = DocumentFormat().parse(
        docx(extra={"word/embeddings/oleObject1.docx": inner}), "outer.docx"
    )
    assert parsed.record["metadata"]["embedded_files"] == ["word/embeddings/oleObject1.docx"]
    (child,) = parsed.children
    assert child.data == inner
    assert child.locator == "member word/embeddings/oleObject1.docx"

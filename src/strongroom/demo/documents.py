"""Attachment documents: PDF (written by hand), DOCX, XLSX, CSV and TXT.

DOCX and XLSX templates are built once per dump with python-docx and openpyxl; each attachment
then substitutes its text into the template XML and gets its own core properties. Unchanged
package parts are deflated once and copied into each new ZIP, which keeps the reference preset
fast (python-docx's styles parts alone are ~800 kB uncompressed).
"""

from __future__ import annotations

import csv
import io
import re
import struct
import zipfile
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from xml.sax.saxutils import escape

import docx
import openpyxl

CORE_XML = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/'
    'core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/" '
    'xmlns:dcterms="http://purl.org/dc/terms/" xmlns:dcmitype="http://purl.org/dc/dcmitype/" '
    'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
    "<dc:title>{title}</dc:title><dc:creator>{author}</dc:creator>"
    "<cp:lastModifiedBy>{editor}</cp:lastModifiedBy><cp:revision>{revision}</cp:revision>"
    '<dcterms:created xsi:type="dcterms:W3CDTF">{created}</dcterms:created>'
    '<dcterms:modified xsi:type="dcterms:W3CDTF">{modified}</dcterms:modified>'
    "</cp:coreProperties>"
)
TOKEN = re.compile(r"@@([A-Z]\d+)@@")
NUMBER_TOKEN = re.compile(r"<v>(9\d{6})</v>")
DOCX_SLOTS = {"memo": 6, "report": 10}
TABLE_CELLS = (
    "Item",
    "Owner",
    "Due",
    "Statement",
    "Press",
    "Friday",
    "Budget",
    "Finance",
    "Monday",
)
XLSX_ROWS = 10
XLSX_COLS = 5


@dataclass(frozen=True)
class DocMeta:
    title: str
    author: str
    last_modified_by: str
    created: datetime
    modified: datetime
    revision: int = 2


@dataclass(frozen=True)
class _Member:
    name: str
    crc: int
    size: int
    deflated: bytes


def _member(name: str, data: bytes) -> _Member:
    comp = zlib.compressobj(6, zlib.DEFLATED, -15)
    return _Member(name, zlib.crc32(data), len(data), comp.compress(data) + comp.flush())


def write_zip(members: Sequence[_Member]) -> bytes:
    """A deflated ZIP with every entry dated 1980-01-01, as Office writes packages."""
    dos_time, dos_date = 0, (0 << 9) | (1 << 5) | 1
    body, central = bytearray(), bytearray()
    for m in members:
        name = m.name.encode("utf-8")
        fields = (dos_time, dos_date, m.crc, len(m.deflated), m.size, len(name))
        central += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 0x0314, 20, 0, 8, *fields, 0, 0,
                               0, 0, 0o100644 << 16, len(body))  # fmt: skip
        body += struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, *fields, 0) + name + m.deflated
        central += name
    end = struct.pack(
        "<IHHHHIIH", 0x06054B50, 0, 0, len(members), len(members), len(central), len(body), 0
    )
    return bytes(body + central + end)


def _w3cdtf(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def core_xml(meta: DocMeta) -> bytes:
    return CORE_XML.format(
        title=escape(meta.title),
        author=escape(meta.author),
        editor=escape(meta.last_modified_by),
        revision=meta.revision,
        created=_w3cdtf(meta.created),
        modified=_w3cdtf(meta.modified),
    ).encode("utf-8")


@dataclass(frozen=True)
class _Template:
    before: tuple[_Member, ...]  # static parts before the varying part
    varying_name: str
    varying_xml: str
    after: tuple[_Member, ...]

    def render(self, meta: DocMeta, values: dict[str, str], numbers: dict[str, str]) -> bytes:
        xml = TOKEN.sub(lambda m: escape(values.get(m.group(1), "")), self.varying_xml)
        if numbers:
            xml = NUMBER_TOKEN.sub(lambda m: f"<v>{numbers[m.group(1)]}</v>", xml)
        members = [
            *self.before,
            _member(self.varying_name, xml.encode("utf-8")),
            *self.after,
            _member("docProps/core.xml", core_xml(meta)),
        ]
        return write_zip(members)


def _template(package: bytes, varying_name: str) -> _Template:
    before: list[_Member] = []
    after: list[_Member] = []
    varying = ""
    with zipfile.ZipFile(io.BytesIO(package)) as zf:
        for info in zf.infolist():
            data = zf.read(info)
            if info.filename == varying_name:
                varying = data.decode("utf-8")
            elif info.filename != "docProps/core.xml":
                (after if varying else before).append(_member(info.filename, data))
    return _Template(tuple(before), varying_name, varying, tuple(after))


def _docx_template(slots: int, with_table: bool) -> _Template:
    document = docx.Document()
    document.add_heading("@@T0@@", 1)
    for k in range(slots):
        document.add_paragraph(f"@@P{k}@@")
    if with_table:
        table = document.add_table(rows=3, cols=3)
        for r in range(3):
            for c in range(3):
                table.cell(r, c).text = f"@@C{r * 3 + c}@@"
    buf = io.BytesIO()
    document.save(buf)
    return _template(buf.getvalue(), "word/document.xml")


def _xlsx_template(sheet_title: str) -> _Template:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = sheet_title
    sheet.append([f"@@H{c}@@" for c in range(XLSX_COLS)])
    for r in range(XLSX_ROWS):
        sheet.append([f"@@S{r}@@", f"@@E{r}@@", f"@@F{r}@@", 9000000 + r, f"@@N{r}@@"])
    buf = io.BytesIO()
    workbook.save(buf)
    return _template(buf.getvalue(), "xl/worksheets/sheet1.xml")


class DocumentFactory:
    """Builds the templates once; each call renders one attachment's bytes."""

    def __init__(self) -> None:
        self._docx = {
            "memo": _docx_template(DOCX_SLOTS["memo"], with_table=False),
            "report": _docx_template(DOCX_SLOTS["report"], with_table=True),
        }
        self._xlsx = _xlsx_template("Sheet1")

    def docx(self, meta: DocMeta, kind: str, paragraphs: Sequence[str]) -> bytes:
        values = {"T0": meta.title}
        values.update({f"P{k}": p for k, p in enumerate(paragraphs[: DOCX_SLOTS[kind]])})
        values.update({f"C{k}": v for k, v in enumerate(TABLE_CELLS)})
        return self._docx[kind].render(meta, values, {})

    def xlsx(
        self, meta: DocMeta, header: Sequence[str], rows: Sequence[tuple[str, str, str, float, str]]
    ) -> bytes:
        values = {f"H{c}": h for c, h in enumerate(header)}
        numbers = {}
        for r in range(XLSX_ROWS):
            name, email, city, amount, note = rows[r] if r < len(rows) else ("", "", "", 0, "")
            values.update({f"S{r}": name, f"E{r}": email, f"F{r}": city, f"N{r}": note})
            numbers[str(9000000 + r)] = (
                str(int(amount)) if float(amount).is_integer() else f"{amount:.2f}"
            )
        return self._xlsx.render(meta, values, numbers)


def _pdf_string(text: str) -> str:
    text = text.encode("cp1252", "replace").decode("latin-1")  # WinAnsiEncoding bytes
    return "(" + text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)") + ")"


def _pdf_info_string(text: str) -> str:
    """A document-information string: literal if ASCII, else UTF-16BE with a BOM."""
    if text.isascii():
        return _pdf_string(text)
    return "<FEFF" + text.encode("utf-16-be").hex().upper() + ">"


def _pdf_date(when: datetime) -> str:
    return "D:" + when.astimezone(UTC).strftime("%Y%m%d%H%M%S") + "Z"


def pdf(meta: DocMeta, lines: Sequence[str]) -> bytes:
    """A one-page PDF 1.4 whose text is real Helvetica text objects (extractable)."""
    ops = ["BT", "/F1 11 Tf", "14 TL", "72 740 Td", "/F1 15 Tf", _pdf_string(meta.title) + " Tj"]
    ops += ["/F1 11 Tf", "T*"]
    ops += [_pdf_string(line) + " Tj T*" for line in lines[:48]]
    ops.append("ET")
    stream = "\n".join(ops).encode("latin-1")
    info = (
        f"<< /Title {_pdf_info_string(meta.title)} /Author {_pdf_info_string(meta.author)} "
        f"/Creator (Microsoft Word 2013) /Producer (Northwind Print Server 2.1) "
        f"/CreationDate ({_pdf_date(meta.created)}) /ModDate ({_pdf_date(meta.modified)}) >>"
    )
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        (
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
            b"/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>"
        ),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        info.encode("latin-1"),
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % off for off in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R /Info 6 0 R >>\n" % (len(objects) + 1)
    out += b"startxref\n%d\n%%%%EOF\n" % xref
    return bytes(out)


def csv_bytes(rows: Sequence[Sequence[str]]) -> bytes:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerows(rows)
    return buf.getvalue().encode("utf-8")

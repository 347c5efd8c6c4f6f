"""PDF: text per page with pypdfium2 (pypdf when PDFium cannot open the file), annotation notes,
OCR of pages without a text layer, the document information dictionary, XMP and embedded files
(the attachment list's and those attached by annotations).

Scripts, forms actions and links are never run or followed: PDFium is used without a form
environment, only to read text and render pages to pixels for OCR.
"""

from __future__ import annotations

import ctypes
import io
import logging
from typing import Any

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from strongroom.formats import docmeta, ocr
from strongroom.formats.base import Child, Parsed
from strongroom.formats.extract import (
    PAGE_BREAK,
    ExtractOptions,
    corrupt,
    encrypted,
    finish,
)
from strongroom.formats.xmp import parse_xmp

_INFO_KEYS = {
    "Title": "title",
    "Author": "author",
    "Subject": "subject",
    "Keywords": "keywords",
    "Creator": "creator_tool",
    "Producer": "producer",
}
_INFO_DATES = {"CreationDate": "created", "ModDate": "modified"}
# Annotations whose /Contents is a note someone wrote: comments, text boxes, and the notes on
# highlights, shapes and stamps. Links, form widgets, popups (a copy of their parent's note),
# file attachments (their note is the file's label) and media are not.
_NOTES = frozenset(
    [
        pdfium_c.FPDF_ANNOT_TEXT,
        pdfium_c.FPDF_ANNOT_FREETEXT,
        pdfium_c.FPDF_ANNOT_LINE,
        pdfium_c.FPDF_ANNOT_SQUARE,
        pdfium_c.FPDF_ANNOT_CIRCLE,
        pdfium_c.FPDF_ANNOT_POLYGON,
        pdfium_c.FPDF_ANNOT_POLYLINE,
        pdfium_c.FPDF_ANNOT_HIGHLIGHT,
        pdfium_c.FPDF_ANNOT_UNDERLINE,
        pdfium_c.FPDF_ANNOT_SQUIGGLY,
        pdfium_c.FPDF_ANNOT_STRIKEOUT,
        pdfium_c.FPDF_ANNOT_STAMP,
        pdfium_c.FPDF_ANNOT_CARET,
        pdfium_c.FPDF_ANNOT_INK,
    ]
)
logging.getLogger("pypdf").setLevel(logging.ERROR)


def extract(data: bytes, options: ExtractOptions) -> Parsed:
    parsed = Parsed(kind="document")
    try:
        document = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as error:
        if getattr(error, "err_code", None) == pdfium_c.FPDF_ERR_PASSWORD:
            raise encrypted("PDF needs a password to open") from error
        return _with_pypdf(data, options, parsed, f"pdfium: {error}")
    try:
        metadata: dict[str, Any] = {}
        _info(document, metadata)
        metadata["pdf_version"] = _version(document)
        pages, ocr_used = _pages(document, options, parsed)
        metadata["pages"] = len(pages)
        _attachments(document, options, parsed, metadata)
    finally:
        document.close()
    _xmp(data, metadata, parsed)
    _record(parsed, metadata)
    return finish(parsed, PAGE_BREAK.join(pages), options, ocr_used)


def _version(document: pdfium.PdfDocument) -> str | None:
    version = document.get_version()
    return f"{version // 10}.{version % 10}" if version else None


def _info(document: pdfium.PdfDocument, metadata: dict[str, Any]) -> None:
    info = document.get_metadata_dict(skip_empty=True)
    for key, name in _INFO_KEYS.items():
        docmeta.set_text(metadata, name, info.get(key))
    for key, name in _INFO_DATES.items():
        if info.get(key):
            metadata[name] = docmeta.pdf_date(info[key])


def _pages(
    document: pdfium.PdfDocument, options: ExtractOptions, parsed: Parsed
) -> tuple[list[str], bool]:
    pages: list[str] = []
    sources: list[str] = []
    ocr_used = False
    ocr_done = 0
    for index in range(len(document)):
        page = document[index]
        try:
            textpage = page.get_textpage()
            text = textpage.get_text_range().replace("\r\n", "\n").replace("\r", "\n")
            textpage.close()
            source = "text"
            if not text.strip():
                source = "empty"
                if _has_images(page):
                    if ocr_done < options.ocr_max_pages and ocr.available(options):
                        text = _ocr_page(page, options)
                        ocr_done += 1
                        source, ocr_used = "ocr", ocr_used or bool(text.strip())
                    else:
                        source = "image, not OCR'd"
            notes = _annotations(document, page, index, options, parsed)
            if notes:
                text = f"{text}\n\n{notes}" if text.strip() else notes
                source = "annotations" if source == "empty" else source
        finally:
            page.close()
        pages.append(text.replace(PAGE_BREAK, "\n"))
        sources.append(source)
    skipped = sources.count("image, not OCR'd")
    if skipped:
        why = "OCR is off or unavailable" if not ocr.available(options) else "OCR page limit"
        parsed.defects.append(f"{skipped} image-only pages not OCR'd ({why})")
    offset = 0
    parsed.record["pages"] = []
    for number, (text, source) in enumerate(zip(pages, sources, strict=True), 1):
        parsed.record["pages"].append(
            {"page": number, "offset": offset, "chars": len(text), "source": source}
        )
        offset += len(text) + len(PAGE_BREAK)
    return pages, ocr_used


def _annotations(
    document: pdfium.PdfDocument,
    page: pdfium.PdfPage,
    index: int,
    options: ExtractOptions,
    parsed: Parsed,
) -> str:
    """The page's annotation notes (with their authors), and files attached to the page through
    annotations (passed on as children: the document-level attachment list does not hold
    them)."""
    notes = []
    for number in range(pdfium_c.FPDFPage_GetAnnotCount(page.raw)):
        annot = pdfium_c.FPDFPage_GetAnnot(page.raw, number)
        if not annot:
            continue
        try:
            kind = pdfium_c.FPDFAnnot_GetSubtype(annot)
            if kind in _NOTES:
                note = _annot_string(annot, "Contents").strip()
                author = _annot_string(annot, "T").strip()
                if note:
                    notes.append(f"{author}: {note}" if author else note)
            elif kind == pdfium_c.FPDF_ANNOT_FILEATTACHMENT:
                _annot_file(document, annot, index, options, parsed)
        finally:
            pdfium_c.FPDFPage_CloseAnnot(annot)
    return "\n".join(notes).replace(PAGE_BREAK, "\n")


def _annot_string(annot: Any, key: str) -> str:
    size = pdfium_c.FPDFAnnot_GetStringValue(annot, key.encode(), None, 0)
    if size <= 2:
        return ""
    buffer = ctypes.create_string_buffer(size)
    pointer = ctypes.cast(buffer, ctypes.POINTER(pdfium_c.FPDF_WCHAR))
    pdfium_c.FPDFAnnot_GetStringValue(annot, key.encode(), pointer, size)
    return buffer.raw[: size - 2].decode("utf-16-le", "replace")


def _annot_file(
    document: pdfium.PdfDocument, annot: Any, index: int, options: ExtractOptions, parsed: Parsed
) -> None:
    if len(parsed.children) >= options.max_embedded:
        return
    raw = pdfium_c.FPDFAnnot_GetFileAttachment(annot)
    if not raw:
        return
    attachment = pdfium.PdfAttachment(raw, document)
    try:
        name = attachment.get_name()
    except pdfium.PdfiumError:
        name = f"page-{index + 1}-attachment"
    try:
        data = bytes(attachment.get_data())
    except pdfium.PdfiumError as error:
        parsed.defects.append(f"file attached on page {index + 1} ({name!r}) unreadable: {error}")
        return
    number = sum(1 for child in parsed.children if child.locator.startswith("annotation"))
    locator = f"annotation {number + 1} page {index + 1}"
    parsed.children.append(Child(data=data, locator=locator, name=name))


def _has_images(page: pdfium.PdfPage) -> bool:
    return any(True for _ in page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_IMAGE], max_depth=4))


def _ocr_page(page: pdfium.PdfPage, options: ExtractOptions) -> str:
    bitmap = page.render(scale=options.ocr_dpi / 72, may_draw_forms=False, grayscale=True)
    image = bitmap.to_pil()
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    bitmap.close()
    return ocr.recognise(buffer.getvalue(), options, dpi=options.ocr_dpi)


def _attachments(
    document: pdfium.PdfDocument, options: ExtractOptions, parsed: Parsed, meta: dict[str, Any]
) -> None:
    names = [child.name or "" for child in parsed.children]  # attached through annotations
    for index in range(min(document.count_attachments(), options.max_embedded)):
        attachment = document.get_attachment(index)
        name = attachment.get_name() or f"attachment-{index + 1}"
        names.append(name)
        try:
            data = bytes(attachment.get_data())
        except pdfium.PdfiumError as error:
            parsed.defects.append(f"embedded file {name!r} unreadable: {error}")
            continue
        parsed.children.append(Child(data=data, locator=f"embedded {index + 1}", name=name))
    if names:
        meta["embedded_files"] = names


def _xmp(data: bytes, metadata: dict[str, Any], parsed: Parsed) -> None:
    """XMP packet from the catalog's /Metadata stream, read with pypdf (PDFium has no API)."""
    if b"/Metadata" not in data:
        return
    try:
        from pypdf import PdfReader

        reader = PdfReader(io.BytesIO(data), strict=False)
        root: Any = reader.trailer["/Root"].get_object()
        stream: Any = root.get("/Metadata")
        if stream is None:
            return
        packet = bytes(stream.get_object().get_data())
    except Exception as error:  # pypdf raises many types on damaged files
        parsed.defects.append(f"XMP not read: {type(error).__name__}: {error}")
        return
    xmp = parse_xmp(packet, parsed.defects)
    if xmp:
        metadata["xmp"] = xmp
        _from_xmp(xmp, metadata)


def _from_xmp(xmp: dict[str, Any], metadata: dict[str, Any]) -> None:
    """Fill what the info dictionary lacks from XMP (the info dictionary wins when both)."""
    for key, name in (
        ("dc:title", "title"),
        ("dc:creator", "author"),
        ("xmp:CreatorTool", "creator_tool"),
        ("pdf:Producer", "producer"),
        ("dc:description", "description"),
        ("pdf:Keywords", "keywords"),
        ("dc:language", "language"),
    ):
        value = xmp.get(key)
        if isinstance(value, list) and name != "author":
            value = "; ".join(str(v) for v in value)
        if value and name not in metadata:
            metadata[name] = value
    for key, name in (("xmp:CreateDate", "created"), ("xmp:ModifyDate", "modified")):
        if isinstance(xmp.get(key), str) and name not in metadata:
            metadata[name] = docmeta.iso_date(xmp[key])


def _record(parsed: Parsed, metadata: dict[str, Any]) -> None:
    parsed.record["metadata"] = metadata
    parsed.facts.extend(docmeta.facts(metadata))


def _with_pypdf(data: bytes, options: ExtractOptions, parsed: Parsed, first: str) -> Parsed:
    """The fallback reader, for files PDFium refuses (some damaged cross-reference tables)."""
    from pypdf import PdfReader
    from pypdf.errors import FileNotDecryptedError, PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted and not reader.decrypt(""):
            raise encrypted("PDF needs a password to open")
        pages = [(page.extract_text() or "").replace(PAGE_BREAK, "\n") for page in reader.pages]
        info: Any = reader.metadata or {}
    except FileNotDecryptedError as error:
        raise encrypted(f"PDF needs a password to open: {error}") from error
    except NotImplementedError as error:  # an encryption handler pypdf does not implement
        raise encrypted(f"PDF encrypted with an unsupported handler: {error}") from error
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, OSError) as error:
        raise corrupt(f"not a readable PDF ({first}; pypdf: {error})") from error
    parsed.defects.append(f"read with pypdf: {first}")
    metadata: dict[str, Any] = {"pages": len(pages)}
    for key, name in _INFO_KEYS.items():
        docmeta.set_text(metadata, name, info.get(f"/{key}"))
    for key, name in _INFO_DATES.items():
        if info.get(f"/{key}"):
            metadata[name] = docmeta.pdf_date(str(info[f"/{key}"]))
    offset = 0
    parsed.record["pages"] = []
    for number, text in enumerate(pages, 1):
        source = "text" if text.strip() else "empty"
        parsed.record["pages"].append(
            {"page": number, "offset": offset, "chars": len(text), "source": source}
        )
        offset += len(text) + 1
    _record(parsed, metadata)
    return finish(parsed, PAGE_BREAK.join(pages), options)

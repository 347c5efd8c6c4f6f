"""Office Open XML (docx, xlsx, pptx and their macro/template variants): text and properties.

Word and PowerPoint text is read straight from the package's XML with defusedxml (body, tables,
text boxes, altChunk imports, charts, headers, footers, notes and comments; slides with their
charts, SmartArt and the words their layout and master show), in reading order; spreadsheets
with openpyxl in read-only mode (Strict Open XML workbooks from their XML), one sheet per page.
Every part is size- and ratio-checked before it is decompressed. Macros (`vbaProject.bin`) are
noted in the metadata and never run; embedded objects are passed on as children.
"""

from __future__ import annotations

import email
import io
import posixpath
import re
import warnings
import zipfile
from typing import Any

from strongroom.formats import docmeta, htmltext, ooxml_meta, rtftext, xmltext
from strongroom.formats.base import Child, Parsed, Status
from strongroom.formats.extract import (
    PAGE_BREAK,
    ExtractOptions,
    corrupt,
    finish,
    read_part,
)

_NUMBER = re.compile(r"(\d+)")
_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}Relationship"
_PRESENTATION_NS = "{http://schemas.openxmlformats.org/presentationml/2006/main}"
_R_ID = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"


def _natural(name: str) -> list[Any]:
    return [int(part) if part.isdigit() else part for part in _NUMBER.split(name)]


def open_package(data: bytes, options: ExtractOptions) -> zipfile.ZipFile:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError, OSError) as error:
        raise corrupt(f"not a readable zip package: {error}") from error
    total = sum(info.file_size for info in archive.infolist())
    if total > options.max_part_bytes * 4:
        raise corrupt(f"package would expand to {total} bytes; limit exceeded")
    return archive  # each part is checked for bombs when it is read (read_part)


def extract(data: bytes, options: ExtractOptions) -> Parsed:
    parsed = Parsed(kind="document")
    archive = open_package(data, options)
    names = set(archive.namelist())
    metadata: dict[str, Any] = {}
    for part, reader in (
        ("docProps/core.xml", ooxml_meta.core),
        ("docProps/app.xml", ooxml_meta.app),
        ("docProps/custom.xml", ooxml_meta.custom),
    ):
        if part in names:
            reader(read_part(archive, part, options), metadata, parsed.defects)
    if any(name.endswith("vbaProject.bin") for name in names):
        metadata["has_macros"] = True
    _embedded(archive, options, parsed, metadata)
    parsed.record["metadata"] = metadata
    parsed.facts.extend(docmeta.facts(metadata))
    if "word/document.xml" in names:
        parsed.record["office_type"] = "word"
        return finish(parsed, _word(archive, names, options), options)
    if "ppt/presentation.xml" in names:
        parsed.record["office_type"] = "presentation"
        slides = _slides(archive, names, options)
        _pages(parsed, slides)
        return finish(parsed, PAGE_BREAK.join(slides), options)
    if "xl/workbook.xml" in names:
        parsed.record["office_type"] = "spreadsheet"
        strict = b"purl.oclc.org/ooxml/spreadsheetml" in read_part(
            archive, "xl/workbook.xml", options
        )
        sheets = _strict_sheets(archive, names, options) if strict else _sheets(data, parsed)
        parsed.record["metadata"]["sheets"] = len(sheets)
        _pages(parsed, sheets)
        return finish(parsed, PAGE_BREAK.join(sheets), options)
    parsed.status = Status.UNSUPPORTED
    kind = "binary workbook (xlsb)" if "xl/workbook.bin" in names else "package"
    parsed.reason = f"no text extractor for this Office Open XML {kind}"
    return parsed


def _word(archive: zipfile.ZipFile, names: set[str], options: ExtractOptions) -> str:
    texts = [xmltext.word_text(read_part(archive, "word/document.xml", options), "document")]
    related = _related(archive, names, "word/document.xml", options)
    texts += [_alt_chunk(archive, target, options) for kind, target in related if kind == "aFChunk"]
    texts += [_chart(archive, target, options) for kind, target in related if kind == "chart"]
    parts = []
    for prefix in ("word/header", "word/footer"):
        parts += sorted(
            (n for n in names if n.startswith(prefix) and n.endswith(".xml")), key=_natural
        )
    parts += [
        n for n in ("word/footnotes.xml", "word/endnotes.xml", "word/comments.xml") if n in names
    ]
    texts += [xmltext.word_text(read_part(archive, part, options), part) for part in parts]
    return "\n\n".join(text for text in texts if text.strip())


def _related(
    archive: zipfile.ZipFile, names: set[str], part: str, options: ExtractOptions
) -> list[tuple[str, str]]:
    """(relationship type's last word, target part) for each internal relationship of a part,
    in the order the relationships part lists them."""
    return [(kind, path) for _id, kind, path in _relationships(archive, names, part, options)]


def _relationships(
    archive: zipfile.ZipFile, names: set[str], part: str, options: ExtractOptions
) -> list[tuple[str, str, str]]:
    """(id, type's last word, target part) of a part's internal relationships."""
    folder, _, base = part.rpartition("/")
    rels_name = f"{folder}/_rels/{base}.rels"
    if rels_name not in names:
        return []
    found = []
    for rel in xmltext.parse(read_part(archive, rels_name, options), rels_name).iter(_REL):
        target = rel.get("Target", "")
        if rel.get("TargetMode") == "External" or not target:
            continue
        path = target.lstrip("/") if target.startswith("/") else f"{folder}/{target}"
        path = posixpath.normpath(path)
        if path in names:
            found.append((rel.get("Id", ""), rel.get("Type", "").rsplit("/", 1)[-1], path))
    return found


def _chart(archive: zipfile.ZipFile, part: str, options: ExtractOptions) -> str:
    return xmltext.chart_text(read_part(archive, part, options), part)


def _alt_chunk(archive: zipfile.ZipFile, part: str, options: ExtractOptions) -> str:
    """Text of an altChunk: HTML, MHT, RTF or plain text that Word imports when it opens the
    file (a DOCX produced by a program often holds nothing else)."""
    data = read_part(archive, part, options)
    suffix = posixpath.splitext(part)[1].lower()
    if suffix in (".mht", ".mhtml"):
        message = email.message_from_bytes(data)
        html = next((p for p in message.walk() if p.get_content_type() == "text/html"), None)
        if html is None:
            return ""
        payload = html.get_payload(decode=True)
        data = payload if isinstance(payload, bytes) else b""
        return htmltext.to_text(_decode(data, html.get_content_charset()))
    if suffix in (".html", ".htm", ".xhtml"):
        return htmltext.to_text(_decode(data, None))
    if suffix == ".rtf":
        return rtftext.text(data, "cp1252", options.max_text_chars)
    if suffix == ".txt":
        return _decode(data, None)
    return ""


def _decode(data: bytes, charset: str | None) -> str:
    for codec in (charset, "utf-8"):
        if codec:
            try:
                return data.decode(codec)
            except (LookupError, UnicodeDecodeError):
                continue
    return data.decode("cp1252", "replace")


def _slide_order(archive: zipfile.ZipFile, names: set[str], options: ExtractOptions) -> list[str]:
    """Slides in presentation order (presentation.xml's list and its relationships)."""
    found = sorted((n for n in names if re.fullmatch(r"ppt/slides/slide\d+\.xml", n)), key=_natural)
    rels_name = "ppt/_rels/presentation.xml.rels"
    if rels_name not in names:
        return found
    try:
        rels = xmltext.parse(read_part(archive, rels_name, options), rels_name)
        targets = {r.get("Id"): r.get("Target", "") for r in rels.iter(_REL)}
        root = xmltext.parse(read_part(archive, "ppt/presentation.xml", options), "presentation")
        order = [
            "ppt/" + targets.get(entry.get(_R_ID), "").removeprefix("/ppt/").lstrip("/")
            for entry in root.iter(_PRESENTATION_NS + "sldId")
        ]
    except Exception:  # a damaged order table: fall back to the file names
        return found
    ordered = [name for name in order if name in names]
    return ordered + [name for name in found if name not in ordered]


def _slides(archive: zipfile.ZipFile, names: set[str], options: ExtractOptions) -> list[str]:
    """Each slide's text, notes, charts and diagrams; text its layout and master show (not
    their placeholder prompts) is added once, to the first slide that shows it."""
    slides = []
    shown: set[str] = set()
    for part in _slide_order(archive, names, options):
        texts = [xmltext.drawing_text(read_part(archive, part, options), part)]
        related = _related(archive, names, part, options)
        for kind, target in related:
            if kind == "chart":
                texts.append(_chart(archive, target, options))
            elif kind == "diagramData":
                texts.append(xmltext.drawing_text(read_part(archive, target, options), target))
        for layout in (target for kind, target in related if kind == "slideLayout"):
            masters = [
                t for k, t in _related(archive, names, layout, options) if k == "slideMaster"
            ]
            for shared in [layout, *masters]:
                if shared not in shown:
                    shown.add(shared)
                    texts.append(xmltext.master_text(read_part(archive, shared, options), shared))
        notes = part.replace("slides/slide", "notesSlides/notesSlide")
        if notes in names:
            texts.append(xmltext.drawing_text(read_part(archive, notes, options), notes))
        text = "\n\n".join(text for text in texts if text.strip())
        slides.append(text.replace(PAGE_BREAK, "\n"))
    return slides


def _sheets(data: bytes, parsed: Parsed) -> list[str]:
    import openpyxl
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # openpyxl warns about styles it drops; not ours
            workbook = openpyxl.load_workbook(
                io.BytesIO(data), read_only=True, data_only=True, keep_links=False
            )
    except (InvalidFileException, KeyError, ValueError, zipfile.BadZipFile) as error:
        raise corrupt(f"workbook not readable: {type(error).__name__}: {error}") from error
    sheets = []
    try:
        for sheet in workbook.worksheets:
            lines = [f"{sheet.title}"]
            for row in sheet.iter_rows(values_only=True):
                cells = ["" if value is None else str(value) for value in row]
                while cells and not cells[-1]:
                    cells.pop()
                if cells:
                    lines.append("\t".join(cells))
            sheets.append("\n".join(lines).replace(PAGE_BREAK, "\n"))
    finally:
        workbook.close()
    return sheets


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _strict_sheets(archive: zipfile.ZipFile, names: set[str], options: ExtractOptions) -> list[str]:
    """Strict Open XML workbooks (ISO 29500 Strict namespaces), which openpyxl does not read:
    cell values straight from the sheets' XML, shared strings resolved."""
    workbook = xmltext.parse(read_part(archive, "xl/workbook.xml", options), "workbook")
    relationships = _relationships(archive, names, "xl/workbook.xml", options)
    by_id = {rid: path for rid, _kind, path in relationships}
    strings: list[str] = []
    for shared in (path for _rid, kind, path in relationships if kind == "sharedStrings"):
        for item in xmltext.parse(read_part(archive, shared, options), shared):
            phonetic = {id(e) for ph in item if _local(ph.tag) == "rPh" for e in ph.iter()}
            strings.append(
                "".join(
                    e.text or ""
                    for e in item.iter()
                    if _local(e.tag) == "t" and id(e) not in phonetic
                )
            )
    sheets = []
    for sheet in (e for e in workbook.iter() if _local(e.tag) == "sheet"):
        rid = next((v for k, v in sheet.attrib.items() if _local(k) == "id"), "")
        part = by_id.get(rid, "")
        lines = [sheet.get("name", "")]
        if part in names:
            root = xmltext.parse(read_part(archive, part, options), part)
            for row in (e for e in root.iter() if _local(e.tag) == "row"):
                cells = [_strict_cell(cell, strings) for cell in row if _local(cell.tag) == "c"]
                while cells and not cells[-1]:
                    cells.pop()
                if cells:
                    lines.append("\t".join(cells))
        sheets.append("\n".join(lines).replace(PAGE_BREAK, "\n"))
    return sheets


def _strict_cell(cell: Any, strings: list[str]) -> str:
    kind = cell.get("t", "n")
    if kind == "inlineStr":
        return "".join(e.text or "" for e in cell.iter() if _local(e.tag) == "t")
    value = next((e.text or "" for e in cell if _local(e.tag) == "v"), "")
    if kind == "s":
        try:
            return strings[int(value)]
        except (ValueError, IndexError):
            return ""
    return value


def _pages(parsed: Parsed, pages: list[str]) -> None:
    offset = 0
    parsed.record["pages"] = []
    for number, text in enumerate(pages, 1):
        parsed.record["pages"].append({"page": number, "offset": offset, "chars": len(text)})
        offset += len(text) + len(PAGE_BREAK)


def _embedded(
    archive: zipfile.ZipFile, options: ExtractOptions, parsed: Parsed, metadata: dict[str, Any]
) -> None:
    found = sorted(
        (n for n in archive.namelist() if "/embeddings/" in n and not n.endswith("/")),
        key=_natural,
    )
    if not found:
        return
    metadata["embedded_files"] = found
    for name in found[: options.max_embedded]:
        try:
            data = read_part(archive, name, options)
        except Exception as error:  # a bomb or an unreadable member: recorded on the child
            parsed.children.append(
                Child(data=b"", locator=f"member {name}", name=name, error=str(error))
            )
            continue
        parsed.children.append(
            Child(data=data, locator=f"member {name}", name=name.rsplit("/", 1)[-1])
        )

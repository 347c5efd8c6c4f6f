"""Office Open XML (docx, xlsx, pptx and their macro/template variants): text and properties.

Word and PowerPoint text is read straight from the package's XML with defusedxml (body, tables,
text boxes, headers, footers, notes and comments, in reading order); spreadsheets with openpyxl
in read-only mode, one sheet per page. Every part is size- and ratio-checked before it is
decompressed. Macros (`vbaProject.bin`) are noted in the metadata and never run; embedded
objects are passed on as children.
"""

from __future__ import annotations

import io
import re
import warnings
import zipfile
from typing import Any

from strongroom.formats import docmeta, ooxml_meta, xmltext
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
        sheets = _sheets(data, parsed)
        _pages(parsed, sheets)
        return finish(parsed, PAGE_BREAK.join(sheets), options)
    parsed.status = Status.UNSUPPORTED
    kind = "binary workbook (xlsb)" if "xl/workbook.bin" in names else "package"
    parsed.reason = f"no text extractor for this Office Open XML {kind}"
    return parsed


def _word(archive: zipfile.ZipFile, names: set[str], options: ExtractOptions) -> str:
    parts = ["word/document.xml"]
    for prefix in ("word/header", "word/footer"):
        parts += sorted(
            (n for n in names if n.startswith(prefix) and n.endswith(".xml")), key=_natural
        )
    parts += [
        n for n in ("word/footnotes.xml", "word/endnotes.xml", "word/comments.xml") if n in names
    ]
    texts = [xmltext.word_text(read_part(archive, part, options), part) for part in parts]
    return "\n\n".join(text for text in texts if text.strip())


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
    slides = []
    for part in _slide_order(archive, names, options):
        text = xmltext.drawing_text(read_part(archive, part, options), part)
        notes = part.replace("slides/slide", "notesSlides/notesSlide")
        if notes in names:
            note_text = xmltext.drawing_text(read_part(archive, notes, options), notes)
            if note_text.strip():
                text += "\n\n" + note_text
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
    parsed.record.setdefault("metadata", {})["sheets"] = len(sheets)
    return sheets


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

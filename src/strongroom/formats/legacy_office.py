"""Legacy Office (OLE2 compound files): Word 97-2003 .doc, Excel .xls, PowerPoint .ppt, and the
properties every OLE2 document carries (SummaryInformation, DocumentSummaryInformation).

Lighter readers than LibreOffice do as well for text here: Word 97+ text is read in-process from
its piece table (formats/worddoc.py, every story, headers and footers included); antiword
(catdoc for the Word versions antiword refuses) reads Word 6/95, and catppt presentations, as
separate processes with a time limit on a private temporary copy; xlrd reads workbooks
in-process. One LibreOffice start costs seconds, these
cost milliseconds. Encrypted files (password-protected Office files, and encrypted OOXML, which
is an OLE2 file holding an EncryptedPackage) are reported as `encrypted`.
"""

from __future__ import annotations

import io
import shutil
import struct
import subprocess
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any

import olefile

from strongroom.formats import docmeta, worddoc
from strongroom.formats.base import Child, Parsed, Status
from strongroom.formats.extract import (
    PAGE_BREAK,
    ExtractOptions,
    corrupt,
    encrypted,
    finish,
)

_SUMMARY_TEXT = {
    "title": "title",
    "subject": "subject",
    "author": "author",
    "last_saved_by": "last_modified_by",
    "keywords": "keywords",
    "comments": "description",
    "template": "template",
    "creating_application": "creator_tool",
    "company": "company",
    "manager": "manager",
    "category": "category",
}
_SUMMARY_DATES = {
    "create_time": "created",
    "last_saved_time": "modified",
    "last_printed": "printed",
}
_SUMMARY_COUNTS = {
    "revision_number": "revision",
    "num_pages": "pages",
    "num_words": "words",
    "num_chars": "characters",
    "paragraphs": "paragraphs",
    "slides": "slides",
}


def _streams(ole: olefile.OleFileIO) -> set[str]:
    return {"/".join(entry) for entry in ole.listdir(streams=True, storages=False)}


def kind_of(streams: set[str]) -> str | None:
    lowered = {name.lower() for name in streams}
    if "encryptedpackage" in lowered:
        return "encrypted-ooxml"
    if "worddocument" in lowered:
        return "word"
    if "workbook" in lowered or "book" in lowered:
        return "excel"
    if "powerpoint document" in lowered:
        return "powerpoint"
    return None


def _string(value: Any, codepage: int | None) -> str | None:
    if isinstance(value, bytes):
        codec = "utf-16-le" if codepage == 1200 else f"cp{codepage}" if codepage else "cp1252"
        try:
            value = value.decode(codec, "replace")
        except LookupError:
            value = value.decode("cp1252", "replace")
    return docmeta.clean(value)


def properties(ole: olefile.OleFileIO, defects: list[str]) -> dict[str, Any]:
    metadata: dict[str, Any] = {}
    try:
        meta = ole.get_metadata()
    except Exception as error:  # olefile raises assorted errors on damaged property sets
        defects.append(f"document properties unreadable: {type(error).__name__}: {error}")
        return metadata
    codepage = meta.codepage if isinstance(meta.codepage, int) else None
    for attribute, key in _SUMMARY_TEXT.items():
        value = _string(getattr(meta, attribute, None), codepage)
        if value:
            metadata[key] = value
    for attribute, key in _SUMMARY_DATES.items():
        moment = getattr(meta, attribute, None)
        if isinstance(moment, datetime) and moment.year > 1601:
            # FILETIME is UTC by definition: the offset the author's clock had is not stored.
            metadata[key] = docmeta.utc_date(moment, moment.isoformat() + " (FILETIME, UTC)")
    for attribute, key in _SUMMARY_COUNTS.items():
        value = getattr(meta, attribute, None)
        docmeta.set_count(
            metadata, key, _string(value, codepage) if isinstance(value, bytes) else value
        )
    if isinstance(meta.total_edit_time, int) and meta.total_edit_time:
        metadata["editing_minutes"] = meta.total_edit_time // 60
    return metadata


def extract(data: bytes, options: ExtractOptions) -> Parsed:
    parsed = Parsed(kind="document")
    if not data.startswith(b"\xd0\xcf\x11\xe0"):  # a bare BIFF2-5 workbook, no OLE2 wrapper
        parsed.record["office_type"] = "excel"
        return finish(parsed, PAGE_BREAK.join(_excel(data)), options)
    try:
        ole = olefile.OleFileIO(io.BytesIO(data))
    except OSError as error:
        raise corrupt(f"not a readable OLE2 file: {error}") from error
    with ole:
        streams = _streams(ole)
        kind = kind_of(streams)
        if kind == "encrypted-ooxml":
            raise encrypted("encrypted Office Open XML document (EncryptedPackage)")
        metadata = properties(ole, parsed.defects)
        if any(
            name.lower().startswith("macros/") or name == "_VBA_PROJECT_CUR" for name in streams
        ):
            metadata["has_macros"] = True
        _embedded(ole, streams, options, parsed, metadata)
    parsed.record["metadata"] = metadata
    parsed.record["office_type"] = kind or "ole2"
    parsed.facts.extend(docmeta.facts(metadata))
    if kind is not None and _is_encrypted(data):
        parsed.status, parsed.reason = Status.ENCRYPTED, f"password-protected {kind} document"
        return parsed  # its properties stay readable and are kept
    if kind == "word":
        return finish(parsed, _word(data, options), options)
    if kind == "excel":
        sheets = _excel(data)
        metadata["sheets"] = len(sheets)
        return finish(parsed, PAGE_BREAK.join(sheets), options)
    if kind == "powerpoint":
        text = _run(["catppt", "-d", "utf-8"], data, options)
        return finish(parsed, text, options)
    parsed.status = Status.UNSUPPORTED
    parsed.reason = "no text extractor for this OLE2 document type"
    return parsed


# Streams that hold an embedded object's file: an OLE Package's packaged file, an OOXML
# package, or an object's native contents (a PDF, for one). An object stored as a whole compound
# document (a Word file inside a Word file) is not rebuilt into a file of its own.
_OBJECT_STREAMS = ("\x01Ole10Native", "Package", "CONTENTS")


def _embedded(
    ole: olefile.OleFileIO,
    streams: set[str],
    options: ExtractOptions,
    parsed: Parsed,
    metadata: dict[str, Any],
) -> None:
    """Files embedded in the document (Word's ObjectPool, Excel's MBD storages) as children."""
    found = sorted(
        name for name in streams if "/" in name and name.rsplit("/", 1)[1] in _OBJECT_STREAMS
    )
    names: list[str] = []
    for stream in found[: options.max_embedded]:
        storage, kind = stream.rsplit("/", 1)
        name = storage.rsplit("/", 1)[-1]
        try:
            if ole.get_size(stream) > options.max_part_bytes:
                raise ValueError(f"larger than {options.max_part_bytes} bytes")
            data = ole.openstream(stream).read()
        except (OSError, ValueError) as error:
            parsed.children.append(
                Child(data=b"", locator=f"object {storage}", name=name, error=str(error))
            )
            continue
        if kind == "\x01Ole10Native":
            packaged = _native(data)
            if packaged is None:  # an equation's or a drawing's own data: no file anyone saved
                continue
            label, data = packaged
            name = label or name
        names.append(name)
        parsed.children.append(Child(data=data, locator=f"object {storage}", name=name))
    if names:
        metadata["embedded_files"] = names


def _native(data: bytes) -> tuple[str | None, bytes] | None:
    """The file an OLE Package holds: (its label, its bytes). The layout: total size, flags,
    label, source path, flags, command line (length-prefixed), data size, data."""
    try:
        label_end = data.index(b"\0", 6)
        path_end = data.index(b"\0", label_end + 1)
        position = path_end + 1 + 4
        (command,) = struct.unpack_from("<I", data, position)
        position += 4 + command
        (size,) = struct.unpack_from("<I", data, position)
        position += 4
        if position + size > len(data):
            raise ValueError("data past the stream's end")
        label = data[6:label_end].decode("cp1252", "replace")
        return (label or None), data[position : position + size]
    except (ValueError, struct.error):  # not a packaged file
        return None


def _is_encrypted(data: bytes) -> bool:
    import msoffcrypto

    try:
        return bool(msoffcrypto.OfficeFile(io.BytesIO(data)).is_encrypted())
    except Exception:  # msoffcrypto does not know every variant; the extractor will tell
        return False


def _run(command: list[str], data: bytes, options: ExtractOptions) -> str:
    program = shutil.which(command[0])
    if program is None:
        raise FileNotFoundError(f"{command[0]} is not installed (scripts/setup-system.sh)")
    with tempfile.TemporaryDirectory(prefix="strongroom-") as folder:
        path = Path(folder) / "document"
        path.write_bytes(data)
        try:
            done = subprocess.run(
                [program, *command[1:], str(path)],
                capture_output=True,
                timeout=options.converter_timeout_s,
                check=False,
                env={"PATH": "/usr/bin:/bin", "LC_ALL": "C.UTF-8", "HOME": folder},
                cwd=folder,
            )
        except subprocess.TimeoutExpired as error:
            raise TimeoutError(
                f"{command[0]} took over {options.converter_timeout_s:g} s"
            ) from error
    if done.returncode != 0:
        message = done.stderr.decode("utf-8", "replace").strip().replace(str(path), "document")
        raise corrupt(f"{command[0]}: {message or f'exit status {done.returncode}'}")
    return done.stdout.decode("utf-8", "replace").replace("\r\n", "\n").strip()


def _word(data: bytes, options: ExtractOptions) -> str:
    """Word 97+ from its piece table in-process (every story: body, headers, footers, notes,
    comments, text boxes); antiword, then catdoc, for Word 6/95 and what the reader refuses."""
    try:
        with olefile.OleFileIO(io.BytesIO(data)) as ole:
            return worddoc.text(ole, options.max_text_chars)
    except Exception:  # not Word 97+, or a damaged piece table: the converters may still read it
        pass
    try:
        return _run(["antiword", "-w", "0", "-m", "UTF-8.txt"], data, options)
    except Exception as first:  # Word 6/95 and some fast-saved files: catdoc reads those
        try:
            return _run(["catdoc", "-d", "utf-8", "-w"], data, options)
        except Exception:
            raise first from None


def _excel(data: bytes) -> list[str]:
    import xlrd

    try:
        book = xlrd.open_workbook(file_contents=data, on_demand=True, logfile=io.StringIO())
    except xlrd.biffh.XLRDError as error:
        if "encrypt" in str(error).lower():
            raise encrypted(f"password-protected workbook: {error}") from error
        raise corrupt(f"workbook not readable: {error}") from error
    sheets = []
    try:
        for index in range(book.nsheets):
            sheet = book.sheet_by_index(index)
            lines = [sheet.name]
            for row in range(sheet.nrows):
                cells = [_cell(value) for value in sheet.row_values(row)]
                while cells and not cells[-1]:
                    cells.pop()
                if cells:
                    lines.append("\t".join(cells))
            sheets.append("\n".join(lines).replace(PAGE_BREAK, "\n"))
            book.unload_sheet(index)
    finally:
        book.release_resources()
    return sheets


def _cell(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value) if value not in (None, "") else ""

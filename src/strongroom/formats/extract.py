"""What every document extractor shares: options, outcomes, bounded reads of zip-based files.

An extractor turns one document's bytes into a `Parsed` with its text (pages split by form
feeds), `record["metadata"]`, and an outcome in `record["extraction"]`. Nothing a document
contains is executed: macros are never run, external references are never fetched, converters
run as separate processes with time limits and no shell.
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass
from typing import Any

from strongroom.formats.base import ContainerError, Parsed, Status


class Extraction:
    """How much of a document's text strongroom could read (`record["extraction"]`)."""

    TEXT = "text"  # a text layer or a text format was read
    OCR = "ocr"  # some or all of the text was recognised from images
    NO_TEXT = "no-text"  # read without error, but it holds no text (an empty page, a photo)
    ENCRYPTED = "encrypted"
    UNSUPPORTED = "unsupported"
    CORRUPT = "corrupt"
    FAILED = "failed"  # the extractor raised, timed out or ran out of memory

    ALL = (TEXT, OCR, NO_TEXT, ENCRYPTED, UNSUPPORTED, CORRUPT, FAILED)


PAGE_BREAK = "\f"
_SURROGATE = re.compile("[\ud800-\udfff]")


def scrub(value: Any) -> Any:
    """Strings made storable: UTF-16 surrogate pairs that parsers leave split are joined, lone
    surrogates (which no UTF-8 database accepts) become U+FFFD. Lists and dicts recursively."""
    if isinstance(value, str):
        if _SURROGATE.search(value) is None:
            return value
        return value.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    if isinstance(value, list):
        return [scrub(item) for item in value]
    if isinstance(value, tuple):
        return tuple(scrub(item) for item in value)
    if isinstance(value, dict):
        return {scrub(key): scrub(item) for key, item in value.items()}
    return value


@dataclass(frozen=True)
class ExtractOptions:
    """Limits and switches for document extraction, made from `config.IngestPolicy`."""

    ocr: bool = True
    ocr_languages: str = "eng"  # tesseract's -l: installed traineddata only
    ocr_max_pages: int = 100  # pages without a text layer OCR'd per document; the rest listed
    ocr_dpi: int = 200
    converter_timeout_s: float = 120.0  # one tesseract or antiword run
    max_text_chars: int = 32 * 1024**2  # text beyond this is cut, and the cut is a defect
    max_part_bytes: int = 512 * 1024**2  # one part of a zip-based document, uncompressed
    max_expansion_ratio: int = 200  # the same bomb rule as archives, for parts over 1 MiB
    max_image_pixels: int = 120_000_000  # Pillow refuses larger images (decompression bombs)
    max_embedded: int = 1000  # files embedded in one document passed on as children


class ExtractError(ContainerError):
    """The document cannot be read: status corrupt (the parser's reason) or encrypted."""


def encrypted(reason: str) -> ExtractError:
    return ExtractError(reason, Status.ENCRYPTED)


def corrupt(reason: str) -> ExtractError:
    return ExtractError(reason, Status.CORRUPT)


def read_part(archive: zipfile.ZipFile, name: str, options: ExtractOptions) -> bytes:
    """One member of a zip-based document, refusing bombs before decompressing anything."""
    info = archive.getinfo(name)
    if info.flag_bits & 0x1:
        raise encrypted(f"part {name} is encrypted")
    if info.file_size > options.max_part_bytes:
        raise corrupt(f"part {name} would expand to {info.file_size} bytes; limit exceeded")
    ratio = info.file_size / max(1, info.compress_size)
    if info.file_size > 1024**2 and ratio > options.max_expansion_ratio:
        raise corrupt(f"part {name} expands {ratio:.0f}x: a decompression bomb; not read")
    with archive.open(info) as handle:
        data = handle.read(options.max_part_bytes + 1)
    if len(data) > options.max_part_bytes:
        raise corrupt(f"part {name} is larger than its directory says; not read")
    return data


def finish(parsed: Parsed, text: str, options: ExtractOptions, ocr_used: bool = False) -> Parsed:
    """Set the text (cut at the limit) and the outcome of a successful extraction."""
    if len(text) > options.max_text_chars:
        parsed.defects.append(f"text cut at {options.max_text_chars} characters")
        text = text[: options.max_text_chars]
    parsed.text = text
    if not text.replace(PAGE_BREAK, "").strip():
        parsed.record["extraction"] = Extraction.NO_TEXT
    else:
        parsed.record["extraction"] = Extraction.OCR if ocr_used else Extraction.TEXT
    return parsed

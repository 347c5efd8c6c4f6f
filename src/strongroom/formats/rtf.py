"""RTF: text with formats/rtftext.py (headers, footers, notes and comments included; in each
font's code page, else the file's \\ansicpg), properties from the \\info group.

RTF times (\\creatim, \\revtim, \\printim) are local clock times without a zone: they are kept
as such, with no invented UTC.
"""

from __future__ import annotations

import codecs
import re
from datetime import datetime
from typing import Any

from strongroom.formats import docmeta, rtftext
from strongroom.formats.base import Parsed
from strongroom.formats.extract import ExtractOptions, corrupt, finish

_CODEPAGE = re.compile(rb"\\ansicpg(\d+)")
_INFO_TEXT = {
    b"title": "title",
    b"subject": "subject",
    b"author": "author",
    b"operator": "last_modified_by",
    b"company": "company",
    b"manager": "manager",
    b"keywords": "keywords",
    b"doccomm": "description",
    b"category": "category",
}
_INFO_DATES = {b"creatim": "created", b"revtim": "modified", b"printim": "printed"}
_INFO_COUNTS = {b"version": "revision", b"nofpages": "pages", b"nofwords": "words"}
_TIME_PART = re.compile(rb"\\(yr|mo|dy|hr|min|sec)(-?\d+)")
_ESCAPE = re.compile(rb"\\'([0-9a-fA-F]{2})|\\u(-?\d+)\??|\\([{}\\])")


def _codec(data: bytes) -> str:
    match = _CODEPAGE.search(data[:4096])
    name = f"cp{match.group(1).decode()}" if match else "cp1252"
    try:
        codecs.lookup(name)
    except LookupError:
        return "cp1252"
    return name


def _group(data: bytes, start: int) -> bytes:
    """The bytes of the braced group opening at `start` (bounded to 64 KiB)."""
    depth = 0
    end = min(len(data), start + 65536)
    index = start
    while index < end:
        byte = data[index]
        if byte == 0x5C:  # backslash: skip the escaped character
            index += 2
            continue
        if byte == 0x7B:
            depth += 1
        elif byte == 0x7D:
            depth -= 1
            if depth == 0:
                return data[start : index + 1]
        index += 1
    return data[start:end]


def _decode(value: bytes, codec: str) -> str:
    def replace(match: re.Match[bytes]) -> bytes:
        if match.group(1):
            return bytes.fromhex(match.group(1).decode()).decode(codec, "replace").encode()
        if match.group(2):
            code = int(match.group(2)) % 65536
            return chr(code).encode("utf-8", "replace")
        return match.group(3)

    text = _ESCAPE.sub(replace, value)
    text = re.sub(rb"\\[a-z]+-?\d* ?", b"", text)
    return text.decode("utf-8", "replace").strip()


def _info(data: bytes, codec: str) -> dict[str, Any]:
    metadata: dict[str, Any] = {}
    start = data.find(b"{\\info")
    if start < 0:
        return metadata
    info = _group(data, start)
    for match in re.finditer(rb"\{\\(?:\*\\)?([a-z]+)", info):
        word = match.group(1)
        group = _group(info, match.start())[len(match.group(0)) : -1]
        if word in _INFO_TEXT:
            docmeta.set_text(metadata, _INFO_TEXT[word], _decode(group, codec))
        elif word in _INFO_DATES:
            parts = {k.decode(): int(v) for k, v in _TIME_PART.findall(group)}
            raw = group.decode("ascii", "replace").strip()
            try:
                moment = datetime(
                    parts["yr"], parts.get("mo", 1), parts.get("dy", 1),
                    parts.get("hr", 0), parts.get("min", 0), parts.get("sec", 0),
                )  # fmt: skip
            except (KeyError, ValueError):
                moment = None
            metadata[_INFO_DATES[word]] = docmeta.date_value(raw, moment)
    for word, key in _INFO_COUNTS.items():
        found = re.search(rb"\\" + word + rb"(\d+)", info)
        if found:
            metadata[key] = int(found.group(1))
    return metadata


def extract(data: bytes, options: ExtractOptions) -> Parsed:
    parsed = Parsed(kind="document")
    if not data.lstrip().startswith(b"{\\rtf"):
        raise corrupt("not RTF: no {\\rtf header")
    codec = _codec(data)
    metadata = _info(data, codec)
    creator = re.search(rb"\{\\\*\\generator ([^;}]*)", data[:65536])
    if creator:
        docmeta.set_text(metadata, "creator_tool", creator.group(1).decode("latin-1"))
    parsed.record["metadata"] = metadata
    parsed.facts.extend(docmeta.facts(metadata))
    return finish(parsed, rtftext.text(data, codec, options.max_text_chars), options)

"""Apple Mail .emlx: a byte-count line, the RFC 822 message, then an XML property list.

The message is yielded as its exact byte slice; the plist's flags and dates go in its info.
"""

from __future__ import annotations

import plistlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from strongroom.formats.base import Child, ContainerError


def _plist_info(tail: bytes) -> dict[str, Any]:
    start = tail.find(b"<?xml")
    if start < 0:
        return {}
    try:
        plist = plistlib.loads(tail[start:])
    except (plistlib.InvalidFileException, ValueError, TypeError) as error:
        return {"plist_error": str(error)}
    if not isinstance(plist, dict):
        return {}
    return {key: value for key, value in plist.items() if isinstance(value, int | float | str)}


class EmlxContainer:
    name = "emlx"

    def explode(self, path: Path) -> Iterator[Child]:
        data = path.read_bytes()
        first_end = data.find(b"\n")
        try:
            length = int(data[:first_end].strip())
        except ValueError as error:
            raise ContainerError(f"emlx: first line is not a byte count ({error})") from error
        start = first_end + 1
        message = data[start : start + length]
        info: dict[str, Any] = {"offset": start, "length": len(message)}
        if len(message) < length:
            info["error"] = f"file ends {length - len(message)} bytes before the declared length"
        info["apple_mail"] = _plist_info(data[start + length :])
        yield Child(message, f"offset {start} length {len(message)}", info=info)

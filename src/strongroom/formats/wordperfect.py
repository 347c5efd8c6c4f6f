"""WordPerfect 4.x (DOS, 1984-1988) documents: text between the function codes.

A WordPerfect 4 file has no header: it is ASCII text with function codes embedded as they occur.
Bytes 0x80-0xBF are one-byte codes (a hard space, a hyphen, bold on...); a byte from 0xC0 up
opens a multi-byte function that the same byte closes ("open gate", "closing gate", in
WordPerfect Corporation's 4.2 file description). With no magic number to go by, a file is taken
for WordPerfect 4 only when its whole content parses that way: every function closed, no
control byte but tab, new line and new page outside them, and mostly printable text.
"""

from __future__ import annotations

from strongroom.formats.base import Parsed
from strongroom.formats.extract import ExtractOptions, finish

_TEXT_CONTROLS = {0x09: "\t", 0x0A: "\n", 0x0B: "\n", 0x0C: "\n", 0x0D: " "}
_ONE_BYTE = {0x8C: "\n", 0xA0: " ", 0xA9: "-", 0xAA: "-", 0xAB: "-"}
_MAX_FUNCTION = 64 * 1024  # a function longer than this is not WordPerfect's


def read(data: bytes) -> str | None:
    """The text of a WordPerfect 4.x file, or None when the bytes are not one."""
    out: list[str] = []
    text = 0
    functions = 0  # bytes inside multi-byte functions
    index, end = 0, len(data)
    while index < end:
        byte = data[index]
        if 0x20 <= byte < 0x7F:
            start = index
            while index < end and 0x20 <= data[index] < 0x7F:
                index += 1
            out.append(data[start:index].decode("ascii"))
            text += index - start
            continue
        if byte >= 0xC0:
            closing = data.find(bytes([byte]), index + 1, index + _MAX_FUNCTION)
            if closing < 0:
                return None  # an unclosed function: not WordPerfect 4
            functions += closing + 1 - index
            index = closing + 1
            continue
        if byte >= 0x80:
            out.append(_ONE_BYTE.get(byte, ""))
        elif byte in _TEXT_CONTROLS:
            out.append(_TEXT_CONTROLS[byte])
        elif byte == 0x00 and not data[index:].strip(b"\x00"):
            break  # NUL padding may end the file
        else:
            return None
        index += 1
    if text < 16 or text * 2 < index - functions:  # mostly text, between the functions
        return None
    return "".join(out).strip()


def extract(data: bytes, options: ExtractOptions) -> Parsed:
    parsed = Parsed(kind="document")
    parsed.record["metadata"] = {}
    return finish(parsed, read(data) or "", options)

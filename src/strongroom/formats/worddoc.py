"""Word 97-2003 (.doc) text read from the piece table, in-process, with olefile.

Every story of a Word 97+ file (body, footnotes, headers and footers, comments, endnotes, text
boxes) is one character stream; the piece table in the table stream's Clx says where each run
of characters lies in the WordDocument stream, as cp1252 bytes or UTF-16. Field instructions
(HYPERLINK "...", PAGE) are dropped and their results kept; an EQ field, which has no result,
gives its text arguments (a phonetic guide's reading and base text). Word 6/95 files, whose
layout differs, raise `WordError` and are left to antiword and catdoc.
"""

from __future__ import annotations

import re
import struct

import olefile

_WORD_97 = 0x00C0  # nFib of Word 97 (0xC0-0xC2; later versions write 0xC1 here too)
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1d\x1f\x7f]")
_BLANK_LINES = re.compile(r"\n[ \t]*(?:\n[ \t]*){2,}")
_END_OF_ROW = re.compile(r"\t+(?=\n|$)")  # cell marks closing a row
_EQ_SWITCH = re.compile(r'\\\*\s*(?:"[^"]*"|\S+)|\\[a-zA-Z]+(?:\s*-?\d+)?')
_EQ_PUNCT = re.compile(r"[(),;]+")
_SPECIAL = str.maketrans({"\r": "\n", "\x07": "\t", "\x0b": "\n", "\x0c": "\n", "\x1e": "-"})


class WordError(Exception):
    """The stream is not a Word 97+ document this reader understands."""


def text(ole: olefile.OleFileIO, max_chars: int) -> str:
    """All stories of the document as plain text (at most `max_chars` characters read)."""
    word = _stream(ole, "WordDocument")
    if len(word) < 0x1AA:
        raise WordError("WordDocument stream shorter than its header")
    ident, nfib = struct.unpack_from("<HH", word, 0)
    flags = struct.unpack_from("<H", word, 0x0A)[0]
    if ident != 0xA5EC:
        raise WordError(f"not a Word document (wIdent {ident:#06x})")
    if nfib < _WORD_97:
        raise WordError(f"Word 6/95 file (nFib {nfib:#06x})")
    if flags & 0x0100:
        raise WordError("encrypted Word document")
    table = _stream(ole, "1Table" if flags & 0x0200 else "0Table")
    fc_clx, lcb_clx = struct.unpack_from("<II", word, 0x1A2)
    if lcb_clx == 0 or fc_clx + lcb_clx > len(table):
        raise WordError("piece table outside the table stream")
    raw = "".join(_pieces(word, table[fc_clx : fc_clx + lcb_clx], max_chars))
    return _BLANK_LINES.sub("\n\n", _END_OF_ROW.sub("", _fields(raw))).strip()


def _stream(ole: olefile.OleFileIO, name: str) -> bytes:
    if not ole.exists(name):  # olefile matches names without regard to case
        raise WordError(f"no {name} stream")
    data: bytes = ole.openstream(name).read()
    return data


def _pieces(word: bytes, clx: bytes, max_chars: int) -> list[str]:
    """The text of each piece, in character-position order."""
    index = 0
    while index < len(clx) and clx[index] == 0x01:  # Prc: formatting of a fast save; skipped
        size = struct.unpack_from("<h", clx, index + 1)[0]
        index += 3 + max(0, size)
    if index + 5 > len(clx) or clx[index] != 0x02:
        raise WordError("no piece table (Pcdt) in the Clx")
    size = struct.unpack_from("<I", clx, index + 1)[0]
    plc = clx[index + 5 : index + 5 + size]
    count = (len(plc) - 4) // 12
    if count <= 0:
        raise WordError("empty piece table")
    cps = struct.unpack_from(f"<{count + 1}I", plc, 0)
    out: list[str] = []
    total = 0
    for number in range(count):
        length = cps[number + 1] - cps[number]
        if length <= 0:
            continue
        length = min(length, max_chars - total)
        if length <= 0:
            break
        fc = struct.unpack_from("<I", plc, 4 * (count + 1) + 8 * number + 2)[0]
        if fc & 0x40000000:  # compressed: one cp1252 byte per character
            start = (fc & 0x3FFFFFFF) // 2
            out.append(word[start : start + length].decode("cp1252", "replace"))
        else:
            start = fc & 0x3FFFFFFF
            out.append(word[start : start + 2 * length].decode("utf-16-le", "replace"))
        total += length
    return out


def _fields(raw: str) -> str:
    """Field results kept, instructions dropped. Fields nest, and a field inside another's
    instruction belongs to that instruction: each open field is its instruction so far, or
    None once past its separator."""
    out: list[str] = []
    stack: list[list[str] | None] = []
    for char in raw:
        if char == "\x13":
            stack.append([])
        elif char == "\x14" and stack:
            stack[-1] = None
        elif char == "\x15" and stack:
            instruction = stack.pop()
            code = "".join(instruction).strip() if instruction is not None else ""
            if code[:2].upper() == "EQ":  # no result: the equation's text arguments
                words = _EQ_PUNCT.sub(" ", _EQ_SWITCH.sub(" ", code[2:])).split()
                _target(stack, out).append(" ".join(words))
        else:
            _target(stack, out).append(char)
    # A cell ends with \x07 and a row with one more (an empty last cell reads the same way).
    return _CONTROL.sub("", "".join(out).replace("\x07\x07", "\n").translate(_SPECIAL))


def _target(stack: list[list[str] | None], out: list[str]) -> list[str]:
    """Where a character goes: the innermost open instruction, else the text."""
    return next((frame for frame in reversed(stack) if frame is not None), out)

"""mbox in the variants met in the wild, streamed: memory holds one message, never the file.

- mboxo / mboxrd: messages start at a `From ` envelope line; body lines that began with "From "
  were quoted as ">From " (mboxrd quotes ">From " too). The stored bytes are the exact slice,
  quoting included; the number of quoted lines is recorded so a verifier can undo it.
- mboxcl / mboxcl2: a Content-Length header gives the body's length, and the body may then hold
  unquoted "From " lines; the length is honoured when it lands on the next envelope or the end.
- CRLF files and old Mac files with bare CR line endings.
- strongroom's own exports: a message that could not be written as an exact slice carries, after
  the date of its From_ line, `strongroom-mboxrd sha256=<hex> length=<bytes>`. Its slice is
  mboxrd-unquoted and trimmed to `length`, and the result is kept only if its sha256 is the one
  named (the message's original bytes); otherwise the slice is kept as found, with a defect
  saying why. The locator still names the slice in the file; `framing` in the info says the
  stored bytes were restored from it.

Each message's locator is its byte offset and length in the file; its From_ line is kept in the
child's info. The blank line mbox writers put before the next envelope is not part of a message.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from strongroom.formats.base import Child, ContainerError

_ENVELOPE = re.compile(rb"^From \S*.*\d{1,2}:\d\d(:\d\d)?.*\d{4}\s*$")
_CONTENT_LENGTH = re.compile(rb"^content-length:[ \t]*(\d+)[ \t]*$", re.IGNORECASE)
_QUOTED_FROM = re.compile(rb"^>+From ")
FRAMING = "strongroom-mboxrd"
_MARKED = re.compile(rb"^(From .*) strongroom-mboxrd sha256=([0-9a-f]{64}) length=(\d+)[ \t]*$")
_NEEDS_QUOTE = re.compile(rb"(?m)^(>*From )")
_QUOTED = re.compile(rb"(?m)^>(>*From )")
CHUNK = 1 << 20


def _lines(handle: BinaryIO, eol: bytes) -> Iterator[tuple[int, bytes]]:
    """(offset, line with its ending) for LF/CRLF (readline) or bare-CR files."""
    offset = 0
    if eol != b"\r":
        for line in handle:
            yield offset, line
            offset += len(line)
        return
    pending = b""
    while chunk := handle.read(CHUNK):
        pending += chunk
        start = 0
        while (end := pending.find(b"\r", start)) >= 0:
            yield offset, pending[start : end + 1]
            offset += end + 1 - start
            start = end + 1
        pending = pending[start:]
    if pending:
        yield offset, pending


def _file_eol(path: Path) -> bytes:
    with path.open("rb") as handle:
        head = handle.read(65536)
    lf, cr = head.find(b"\n"), head.find(b"\r")
    if cr >= 0 and (lf < 0 or cr < lf - 1):
        return b"\r"
    return b"\r\n" if lf > 0 and head[lf - 1 : lf] == b"\r" else b"\n"


def quote_mboxrd(data: bytes) -> bytes:
    """One more `>` before every line matching `^>*From ` (mboxrd; undone exactly below)."""
    return _NEEDS_QUOTE.sub(rb">\1", data)


def unquote_mboxrd(data: bytes) -> tuple[bytes, int]:
    return _QUOTED.subn(rb"\1", data)


def marked_envelope(envelope: str, data: bytes) -> str:
    """`envelope` with the marker that lets the reader restore `data` exactly. The length has
    at least four digits so the line still ends like a year, as readers that check the end of
    a From_ line (strongroom's type detection among them) expect."""
    digest = hashlib.sha256(data).hexdigest()
    return f"{envelope} {FRAMING} sha256={digest} length={len(data):04d}"


def envelope_base(line: str) -> str:
    """A From_ line without strongroom's marker."""
    match = _MARKED.match(line.encode("utf-8", "surrogateescape"))
    return match.group(1).decode("utf-8", "replace") if match else line


def _is_envelope(line: bytes) -> bool:
    bare = line.rstrip(b"\r\n")
    return bool(_ENVELOPE.match(bare) or _MARKED.match(bare))


class _Message:
    def __init__(self, offset: int, from_line: bytes) -> None:
        self.from_line = from_line
        marked = _MARKED.match(from_line.rstrip(b"\r\n"))
        # (sha256, length) of the original bytes, for a message strongroom framed
        self.marked = (marked.group(2).decode(), int(marked.group(3))) if marked else None
        self.offset = offset + len(from_line)  # the message starts after its envelope
        self.lines: list[bytes] = []
        self.in_headers = True
        self.body_offset: int | None = None
        self.content_length: int | None = None
        self.quoted = 0

    def add(self, offset: int, line: bytes) -> None:
        if self.in_headers:
            stripped = line.rstrip(b"\r\n")
            if not stripped:
                self.in_headers = False
                self.body_offset = offset + len(line)
            elif match := _CONTENT_LENGTH.match(stripped):
                self.content_length = int(match.group(1))
        elif _QUOTED_FROM.match(line):
            self.quoted += 1
        self.lines.append(line)

    def body_extends_past(self, offset: int) -> bool:
        # strongroom's framing quotes every From line, so the next envelope always ends it
        if self.content_length is None or self.body_offset is None or self.marked:
            return False
        return self.body_offset + self.content_length > offset

    def child(self, eol: bytes, index: int) -> Child:
        data = b"".join(self.lines)
        # The empty line before the next envelope belongs to the mbox, not to the message.
        if data.endswith(eol + eol):
            data = data[: -len(eol)]
        elif data == eol:
            data = b""
        info: dict[str, object] = {
            "from_line": self.from_line.rstrip(b"\r\n").decode("utf-8", "replace"),
            "index": index,
            "offset": self.offset,
            "length": len(data),
        }
        locator = f"offset {self.offset} length {len(data)}"
        if self.marked is not None:
            restored = _restore(data, *self.marked)
            if not isinstance(restored, str):
                info["framing"] = FRAMING
                info["unquoted_lines"] = restored[1]
                return Child(restored[0], locator, info=info)
            info["error"] = restored
        if self.quoted:
            info["quoted_from_lines"] = self.quoted
        return Child(data, locator, info=info)


def _restore(data: bytes, sha256: str, length: int) -> tuple[bytes, int] | str:
    """The original bytes of a framed slice and how many lines were unquoted, or why not."""
    unquoted, lines = unquote_mboxrd(data)
    restored = unquoted[:length]
    if len(unquoted) < length:
        why = f"has {len(unquoted)} bytes, fewer than the {length} its From_ line names"
    elif hashlib.sha256(restored).hexdigest() != sha256:
        why = f"does not have the sha256 its From_ line names ({sha256[:16]}...)"
    else:
        return restored, lines
    return f"{FRAMING} framing: the unquoted message {why}; kept as found in the file"


class MboxContainer:
    name = "mbox"

    def _content_length_lands(self, path: Path, position: int) -> bool:
        """Does a Content-Length end exactly at the next envelope (or the end of the file)?"""
        with path.open("rb") as handle:
            if position > handle.seek(0, os.SEEK_END):
                return False  # a length past the end of the file lands nowhere
            handle.seek(position)
            after = handle.read(512)
        after = after.lstrip(b"\r\n")
        return not after or _is_envelope(after.split(b"\n", 1)[0])

    def explode(self, path: Path) -> Iterator[Child]:
        eol = _file_eol(path)
        with path.open("rb") as handle:
            current: _Message | None = None
            index = 0
            preamble: list[bytes] = []  # bytes before the first envelope: kept, never dropped
            for offset, line in _lines(handle, eol):
                starts = line.startswith(b"From ") and _is_envelope(line)
                if starts and current is not None and current.body_extends_past(offset):
                    assert current.body_offset is not None and current.content_length is not None
                    end = current.body_offset + current.content_length
                    starts = not self._content_length_lands(path, end)
                if starts:
                    if current is not None:
                        yield current.child(eol, index)
                        index += 1
                    elif b"".join(preamble).strip():
                        yield _preamble(b"".join(preamble))
                    current = _Message(offset, line)
                elif current is not None:
                    current.add(offset, line)
                else:
                    preamble.append(line)
            if current is not None:
                yield current.child(eol, index)
            elif preamble:
                raise ContainerError("no From_ envelope line: not an mbox")


def _preamble(data: bytes) -> Child:
    info = {"offset": 0, "length": len(data), "error": "bytes before the first From_ line"}
    return Child(data, f"offset 0 length {len(data)}", info=info)

"""The text of an RTF document: one pass over its tokens with a stack of groups.

Kept: the body, headers and footers, footnotes, comments, field results, text boxes (`\\shptxt`)
and object results. Skipped: tables of fonts, colours, styles and lists, document properties,
pictures and object data, field instructions, bookmarks, and any `{\\*\\...}` destination not
known to hold text (`\\*` counts only at the start of a group, as the specification says; a
stray one in the middle of a group hides nothing). `\\binN` data is stepped over unread. Bytes
(`\\'hh` and 8-bit text) are decoded in the code page of the current font's `\\fcharset`, else
the document's `\\ansicpg`; `\\uN` characters replace their `\\ucN` fallback characters.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass, replace

_TOKEN = re.compile(
    rb"\\([a-zA-Z]{1,32})(-?\d{1,10})? ?|\\'([0-9a-fA-F]{2})|\\([^a-zA-Z'])|([{}])|[\r\n]+"
    rb"|([^\\{}\r\n]+)",
    re.DOTALL,
)
# Destinations whose content is not document text.
_SKIP = frozenset(
    b"""fonttbl colortbl stylesheet info pict objdata objclass objname objalias objsect
    themedata colorschememapping datastore latentstyles listtable listoverridetable rsidtbl
    generator xmlnstbl mmathPr pgdsctbl revtbl filetbl fldinst datafield sp sn sv bkmkstart
    bkmkend nonshppict shprslt pntxta pntxtb template docvar xe tc txe list listname
    listlevel leveltext levelnumbers listoverride lfolevel listpicture
    userprops wgrffmtfilter passwordhash protusertbl atnid atnauthor atndate atnref atnicn
    fchars lchars ffname ffdeftext ffformat ffhelptext ffstattext ffentrymcr ffexitmcr
    formfield htmltag mhtmltag blipuid panose falt fontemb fontfile keycode""".split()
)
# `{\*\...}` destinations that do hold text.
_TEXT_STARRED = frozenset(
    b"shpinst shptxt annotation footnote header headerl headerr headerf footer footerl "
    b"footerr footerf fldrslt result ud".split()
)
_CHARACTERS = {
    b"par": "\n",
    b"line": "\n",
    b"sect": "\n",
    b"page": "\n",
    b"row": "\n",
    b"tab": "\t",
    b"cell": "\t",
    b"emdash": "\u2014",
    b"endash": "\u2013",
    b"bullet": "\u2022",
    b"lquote": "\u2018",
    b"rquote": "\u2019",
    b"ldblquote": "\u201c",
    b"rdblquote": "\u201d",
    b"emspace": " ",
    b"enspace": " ",
    b"qmspace": " ",
}
_SYMBOLS = {b"~": "\u00a0", b"_": "\u2011", b"-": "", b"\n": "\n", b"\r": "\n", b"\t": "\t"}
# \fcharset numbers and the code pages they name.
_CHARSETS = {
    77: "mac_roman",
    128: "cp932",
    129: "cp949",
    130: "johab",
    134: "gbk",
    136: "big5",
    161: "cp1253",
    162: "cp1254",
    163: "cp1258",
    177: "cp1255",
    178: "cp1256",
    186: "cp1257",
    204: "cp1251",
    222: "cp874",
    238: "cp1250",
    254: "cp437",
}
_FONT = re.compile(rb"\\f(\d+)[^{}]*?\\fcharset(\d+)")
_NOTES = frozenset((b"footnote", b"annotation"))
_BLANKS = re.compile(r"\n[ \t\u00a0]*(?:\n[ \t\u00a0]*){2,}")


@dataclass(frozen=True)
class _Group:
    skip: bool = False
    codec: str = "cp1252"
    uc: int = 1  # fallback characters after each \uN
    notes: bool = False  # inside a footnote or comment: its text goes after the body


def text(data: bytes, codec: str, max_chars: int) -> str:
    return _Reader(data, codec).read(max_chars)


class _Reader:
    def __init__(self, data: bytes, codec: str) -> None:
        self.data, self.codec = data, codec
        self.fonts = _font_codecs(data, codec)
        self.body: list[str] = []
        self.notes: list[str] = []
        self.out = self.body
        self.pending = bytearray()  # \'hh bytes and 8-bit text, decoded together (DBCS)
        self.state = _Group(codec=codec)
        self.stack: list[_Group] = []
        self.first = False  # the current token is the first of its group
        self.starred = False  # the group began with \*
        self.fallback = 0  # \uN fallback characters still to drop
        self.size = 0

    def read(self, max_chars: int) -> str:
        position, end = 0, len(self.data)
        while position < end and self.size < max_chars:
            match = _TOKEN.match(self.data, position)
            if match is None:  # a lone backslash at the end
                break
            position = match.end()
            word, argument, hexa, symbol, brace, plain = match.groups()
            first, self.first = self.first, False
            if brace is not None:
                if not self._brace(brace):
                    break  # the document's group is closed: what follows is not RTF
            elif word == b"bin":  # binary data follows: stepped over, whatever it holds
                position += max(0, int(argument or 0))
            elif word is not None:
                self._word(word, None if argument is None else int(argument), first)
            elif symbol is not None:
                self._symbol(symbol, first)
            elif hexa is not None:
                self._bytes(bytes.fromhex(hexa.decode()))
            elif plain is not None:
                self._bytes(plain)
        self._flush()
        result = "".join(self.body) + "\n\n" + "".join(self.notes)
        return _BLANKS.sub("\n\n", result.replace("\u00a0", " ")).strip()

    def _flush(self) -> None:
        if self.pending:
            self.out.append(self.pending.decode(self.state.codec, "replace"))
            self.pending.clear()

    def _emit(self, text: str) -> None:
        if not self.state.skip:
            self._flush()
            self.out.append(text)
            self.size += len(text)

    def _brace(self, brace: bytes) -> bool:
        self._flush()
        self.fallback = 0
        if brace == b"{":
            self.stack.append(self.state)
            self.first, self.starred = True, False
            return True
        if not self.stack:
            return False
        self.state = self.stack.pop()
        self.out = self.notes if self.state.notes else self.body
        return bool(self.stack)

    def _word(self, word: bytes, argument: int | None, first: bool) -> None:
        state = self.state
        if state.skip:
            return
        if word in _SKIP or (self.starred and first and word not in _TEXT_STARRED):
            self._flush()
            self.state = replace(state, skip=True)
        elif word in _NOTES:
            self._flush()
            self.state, self.out = replace(state, notes=True), self.notes
            self.notes.append("\n")
        elif word == b"f" and argument is not None:
            self._flush()
            self.state = replace(state, codec=self.fonts.get(argument, self.codec))
        elif word == b"uc" and argument is not None:
            self.state = replace(state, uc=max(0, min(argument, 10)))
        elif word == b"u" and argument is not None:
            self._emit(chr(argument % 65536))
            self.fallback = state.uc
        elif word in _CHARACTERS:
            self._emit(_CHARACTERS[word])

    def _symbol(self, symbol: bytes, first: bool) -> None:
        if symbol == b"*":
            self.starred = self.first = first  # \* counts only at the start of a group
        elif symbol in (b"\\", b"{", b"}"):
            self._bytes(symbol)
        elif symbol in _SYMBOLS:
            self._emit(_SYMBOLS[symbol])

    def _bytes(self, data: bytes) -> None:
        if self.fallback:  # the fallback of a \uN: dropped
            dropped = min(self.fallback, len(data))
            data, self.fallback = data[dropped:], self.fallback - dropped
        if data and not self.state.skip:
            self.pending.extend(data)
            self.size += len(data)


def _font_codecs(data: bytes, default: str) -> dict[int, str]:
    """Each font's code page from the font table (`\\fcharset`); ANSI fonts use `default`."""
    start = data.find(b"{\\fonttbl")
    if start < 0:
        return {}
    depth, index, end = 0, start, min(len(data), start + 1024**2)
    while index < end:  # the table's own group, escapes stepped over
        byte = data[index]
        index += 2 if byte == 0x5C else 1
        depth += (byte == 0x7B) - (byte == 0x7D)
        if depth == 0:
            break
    table = data[start:index]
    found: dict[int, str] = {}
    for entry in table.split(b"{")[2:]:
        match = _FONT.search(b"{" + entry)
        if match is None:
            continue
        name = _CHARSETS.get(int(match.group(2)), default)
        try:
            codecs.lookup(name)
        except LookupError:
            name = default
        found[int(match.group(1))] = name
    return found

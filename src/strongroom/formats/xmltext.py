"""Readable text out of office XML (WordprocessingML, DrawingML, ODF), parsed with defusedxml."""

from __future__ import annotations

import re
from xml.etree.ElementTree import Element

from defusedxml import ElementTree
from defusedxml.common import DefusedXmlException

from strongroom.formats.extract import corrupt

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
A = "{http://schemas.openxmlformats.org/drawingml/2006/main}"
TEXT_NS = "{urn:oasis:names:tc:opendocument:xmlns:text:1.0}"
TABLE_NS = "{urn:oasis:names:tc:opendocument:xmlns:table:1.0}"
OFFICE_NS = "{urn:oasis:names:tc:opendocument:xmlns:office:1.0}"
P = "{http://schemas.openxmlformats.org/presentationml/2006/main}"
C = "{http://schemas.openxmlformats.org/drawingml/2006/chart}"

_WORD = {"text": {W + "t"}, "tab": {W + "tab"}, "break": {W + "br", W + "cr"}, "para": {W + "p"}}
_DRAWING = {"text": {A + "t"}, "tab": set(), "break": {A + "br"}, "para": {A + "p"}}
_ODF_PARAS = {TEXT_NS + "p", TEXT_NS + "h"}
_ODF_SKIP = {TEXT_NS + "tracked-changes", OFFICE_NS + "binary-data", TEXT_NS + "note-citation"}
_BLANKS = re.compile(r"\n{3,}")
_TEXT_BOX = W + "txbxContent"
_FALLBACK = "{http://schemas.openxmlformats.org/markup-compatibility/2006}Fallback"


def parse(data: bytes, part: str) -> Element:
    try:
        root: Element = ElementTree.fromstring(data)
    except (ElementTree.ParseError, DefusedXmlException, ValueError) as error:
        raise corrupt(f"{part}: {error}") from error
    return root


def _runs(root: Element, tags: dict[str, set[str]]) -> str:
    out: list[str] = []
    stack: list[Element | None] = [root]  # None: the end of a text box
    while stack:
        element = stack.pop()
        if element is None:
            out.append("\n")
            continue
        tag = element.tag
        if tag == _FALLBACK:  # the same content for older readers (a text box's VML copy)
            continue
        if tag == _TEXT_BOX:  # a box inside a paragraph: its text ends on a line of its own
            stack.append(None)
        if tag in tags["text"]:
            out.append(element.text or "")
        elif tag in tags["para"]:
            if out:
                out.append("\n")
        elif tag in tags["tab"]:
            out.append("\t")
        elif tag in tags["break"]:
            out.append("\n")
        stack.extend(reversed(element))
    return _BLANKS.sub("\n\n", "".join(out)).strip("\n")


def word_text(data: bytes, part: str) -> str:
    return _runs(parse(data, part), _WORD)


def drawing_text(data: bytes, part: str) -> str:
    return _runs(parse(data, part), _DRAWING)


def master_text(data: bytes, part: str) -> str:
    """Text a slide master or layout shows on its slides: shapes that are not placeholders
    (a placeholder's text is a prompt, "Click to edit Master title style", that a slide
    replaces with its own)."""
    texts = []
    for shape in parse(data, part).iter(P + "sp"):
        if shape.find(f"{P}nvSpPr/{P}nvPr/{P}ph") is None:
            texts.append(_runs(shape, _DRAWING))
    return "\n".join(text for text in texts if text.strip())


def chart_text(data: bytes, part: str) -> str:
    """A chart's words: titles and axis titles (rich text), series names and category labels
    (string caches). Numbers are left out: without their labels they say nothing."""
    root = parse(data, part)
    out = [_runs(rich, _DRAWING) for rich in root.iter(C + "rich")]
    for cache in root.iter(C + "strCache"):
        out.extend(v.text for v in cache.iter(C + "v") if v.text)
    return "\n".join(dict.fromkeys(text.strip() for text in out if text.strip()))


def odf_text(root: Element, skip: frozenset[str] = frozenset()) -> str:
    """Mixed content of ODF paragraphs, with <text:s>, <text:tab> and <text:line-break>;
    elements in `skip` are left out (their tails kept)."""
    out: list[str] = []
    depth = 0
    stack: list[tuple[Element, bool]] = [(root, False)]
    while stack:
        element, closing = stack.pop()
        tag = element.tag
        if closing:
            if tag in _ODF_PARAS:
                depth -= 1
                out.append("\n")
            elif tag == TABLE_NS + "table-cell":
                out.append("\t")
            elif tag == TABLE_NS + "table-row":
                out.append("\n")
            if element.tail and depth > 0:
                out.append(element.tail)
            continue
        if tag in _ODF_SKIP or tag in skip:
            if element.tail and depth > 0:
                out.append(element.tail)
            continue
        if tag in _ODF_PARAS:
            depth += 1
        elif tag == TEXT_NS + "s":
            out.append(" " * int(element.get(TEXT_NS + "c", "1") or 1))
        elif tag == TEXT_NS + "tab":
            out.append("\t")
        elif tag == TEXT_NS + "line-break":
            out.append("\n")
        if element.text and depth > 0:
            out.append(element.text)
        stack.append((element, True))
        stack.extend((child, False) for child in reversed(element))
    text = "".join(out)
    text = re.sub(r"\t+\n", "\n", text)
    return _BLANKS.sub("\n\n", text).strip("\n")

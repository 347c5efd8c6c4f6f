"""HTML to readable text (selectolax/lexbor): scripts and styles dropped, blocks on new lines."""

from __future__ import annotations

import re

from selectolax.lexbor import LexborHTMLParser

_BLANKS = re.compile(r"\n\s*\n\s*\n+")


def to_text(html: str) -> str:
    tree = LexborHTMLParser(html)
    for node in tree.css("script, style, noscript, template, head"):
        node.decompose()
    root = tree.body or tree.root
    if root is None:
        return ""
    text = root.text(separator="\n", strip=True)
    return _BLANKS.sub("\n\n", text)

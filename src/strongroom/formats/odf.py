"""OpenDocument (odt, ods, odp, odg and their flat-XML forms): text from content.xml and the
master pages of styles.xml (headers, footers, a presentation's master text), properties from
meta.xml, all read with defusedxml.

odfpy is not used: it builds a full object tree with expat and offers nothing for reading text
that a walk over content.xml does not, while defusedxml refuses entity tricks. An encrypted
package (its manifest lists encryption data) is reported as `encrypted`.
"""

from __future__ import annotations

from typing import Any
from xml.etree.ElementTree import tostring

from strongroom.formats import docmeta, ooxml_meta, xmltext
from strongroom.formats.base import Child, Parsed
from strongroom.formats.extract import (
    PAGE_BREAK,
    ExtractOptions,
    corrupt,
    encrypted,
    finish,
    read_part,
)
from strongroom.formats.office import open_package

_OFFICE = xmltext.OFFICE_NS
_DRAW = "{urn:oasis:names:tc:opendocument:xmlns:drawing:1.0}"
_DRAW_PAGE = _DRAW + "page"
_SHEET_BODY = _OFFICE + "spreadsheet"
_SHEET = xmltext.TABLE_NS + "table"
_STYLE = "{urn:oasis:names:tc:opendocument:xmlns:style:1.0}"
_PRESENTATION = "{urn:oasis:names:tc:opendocument:xmlns:presentation:1.0}"
# In master pages: fields that show a page's number, date or name (not words anyone wrote),
# and the notes page's layout.
_MASTER_SKIP = frozenset(
    [xmltext.TEXT_NS + name for name in ("page-number", "page-count", "date", "time")]
    + [xmltext.TEXT_NS + name for name in ("sheet-name", "file-name", "chapter")]
    + [_PRESENTATION + name for name in ("notes", "date-time", "header", "footer")]
)


def extract(data: bytes, options: ExtractOptions) -> Parsed:
    parsed = Parsed(kind="document")
    if data.lstrip()[:5] == b"<?xml" or data.lstrip()[:1] == b"<":
        return _flat(data, options, parsed)
    archive = open_package(data, options)
    names = set(archive.namelist())
    if "META-INF/manifest.xml" in names:
        manifest = read_part(archive, "META-INF/manifest.xml", options)
        if b"encryption-data" in manifest:
            raise encrypted("OpenDocument package is encrypted (manifest has encryption data)")
    if "mimetype" in names:
        parsed.record["odf_type"] = read_part(archive, "mimetype", options).decode(
            "ascii", "replace"
        )[:100]
    metadata: dict[str, Any] = {}
    if "meta.xml" in names:
        ooxml_meta.odf_meta(read_part(archive, "meta.xml", options), metadata, parsed.defects)
    embedded = sorted(n for n in names if n.startswith("Object ") and n.endswith("content.xml"))
    if embedded:
        metadata["embedded_files"] = embedded
    for name in embedded[: options.max_embedded]:
        data_part = read_part(archive, name, options)
        parsed.children.append(Child(data=data_part, locator=f"member {name}", name=name))
    if "content.xml" not in names:
        raise corrupt("OpenDocument package without content.xml")
    root = xmltext.parse(read_part(archive, "content.xml", options), "content.xml")
    styles = None
    if "styles.xml" in names:
        styles = xmltext.parse(read_part(archive, "styles.xml", options), "styles.xml")
    return _done(parsed, root, metadata, options, styles)


def _flat(data: bytes, options: ExtractOptions, parsed: Parsed) -> Parsed:
    """Flat ODF (.fodt/.fods/.fodp): one XML document holding meta and body."""
    root = xmltext.parse(data, "flat OpenDocument")
    metadata: dict[str, Any] = {}
    for element in root:
        if element.tag == _OFFICE + "meta":
            wrapper = b"<r xmlns:office='urn:oasis:names:tc:opendocument:xmlns:office:1.0'>"
            ooxml_meta.odf_meta(wrapper + tostring(element) + b"</r>", metadata, parsed.defects)
    return _done(parsed, root, metadata, options, root)


def _masters(styles: Any) -> dict[str, str]:
    """The text each master page shows on the pages that use it: a presentation's footer or
    logo line, a text document's headers and footers."""
    return {
        master.get(_STYLE + "name", ""): xmltext.odf_text(master, _MASTER_SKIP)
        for master in styles.iter(_STYLE + "master-page")
    }


def _done(
    parsed: Parsed, root: Any, metadata: dict[str, Any], options: ExtractOptions, styles: Any
) -> Parsed:
    parsed.record["metadata"] = metadata
    parsed.facts.extend(docmeta.facts(metadata))
    body = next((e for e in root.iter(_OFFICE + "body")), None)
    if body is None:
        return finish(parsed, "", options)
    kinds = [child for child in body if child.tag != _OFFICE + "text"]
    pages = [e for kind in kinds for e in kind if e.tag in (_DRAW_PAGE, _SHEET)]
    # Spreadsheets' master pages hold only print headers ("Page 1"): not read.
    masters = _masters(styles) if styles is not None and body.find(_SHEET_BODY) is None else {}
    if pages:
        texts = []
        for page in pages:
            text = xmltext.odf_text(page)
            master = masters.pop(page.get(_DRAW + "master-page-name", ""), "")
            if master.strip():  # once, on the first page that shows it
                text = f"{text}\n\n{master}" if text.strip() else master
            texts.append(text.replace(PAGE_BREAK, "\n"))
        offset = 0
        parsed.record["pages"] = []
        for number, text in enumerate(texts, 1):
            parsed.record["pages"].append({"page": number, "offset": offset, "chars": len(text)})
            offset += len(text) + len(PAGE_BREAK)
        return finish(parsed, PAGE_BREAK.join(texts), options)
    texts = [xmltext.odf_text(body), *masters.values()]
    return finish(parsed, "\n\n".join(text for text in texts if text.strip()), options)

"""OpenDocument (odt, ods, odp, odg and their flat-XML forms): text from content.xml, properties
from meta.xml, both read with defusedxml.

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
_DRAW_PAGE = "{urn:oasis:names:tc:opendocument:xmlns:drawing:1.0}page"
_SHEET = xmltext.TABLE_NS + "table"


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
    return _done(parsed, root, metadata, options)


def _flat(data: bytes, options: ExtractOptions, parsed: Parsed) -> Parsed:
    """Flat ODF (.fodt/.fods/.fodp): one XML document holding meta and body."""
    root = xmltext.parse(data, "flat OpenDocument")
    metadata: dict[str, Any] = {}
    for element in root:
        if element.tag == _OFFICE + "meta":
            wrapper = b"<r xmlns:office='urn:oasis:names:tc:opendocument:xmlns:office:1.0'>"
            ooxml_meta.odf_meta(wrapper + tostring(element) + b"</r>", metadata, parsed.defects)
    return _done(parsed, root, metadata, options)


def _done(parsed: Parsed, root: Any, metadata: dict[str, Any], options: ExtractOptions) -> Parsed:
    parsed.record["metadata"] = metadata
    parsed.facts.extend(docmeta.facts(metadata))
    body = next((e for e in root.iter(_OFFICE + "body")), None)
    if body is None:
        return finish(parsed, "", options)
    kinds = [child for child in body if child.tag != _OFFICE + "text"]
    pages = [e for kind in kinds for e in kind if e.tag in (_DRAW_PAGE, _SHEET)]
    if pages:
        texts = [xmltext.odf_text(page).replace(PAGE_BREAK, "\n") for page in pages]
        offset = 0
        parsed.record["pages"] = []
        for number, text in enumerate(texts, 1):
            parsed.record["pages"].append({"page": number, "offset": offset, "chars": len(text)})
            offset += len(text) + len(PAGE_BREAK)
        return finish(parsed, PAGE_BREAK.join(texts), options)
    return finish(parsed, xmltext.odf_text(body), options)

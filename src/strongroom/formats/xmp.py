"""XMP packets (PDF /Metadata, images) flattened to {"prefix:Name": value}, read with defusedxml."""

from __future__ import annotations

from typing import Any
from xml.etree.ElementTree import Element

from defusedxml import ElementTree
from defusedxml.common import DefusedXmlException

RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
PREFIXES = {
    "http://purl.org/dc/elements/1.1/": "dc",
    "http://ns.adobe.com/xap/1.0/": "xmp",
    "http://ns.adobe.com/pdf/1.3/": "pdf",
    "http://ns.adobe.com/xap/1.0/mm/": "xmpMM",
    "http://ns.adobe.com/xap/1.0/rights/": "xmpRights",
    "http://ns.adobe.com/photoshop/1.0/": "photoshop",
    "http://ns.adobe.com/exif/1.0/": "exif",
    "http://ns.adobe.com/tiff/1.0/": "tiff",
    "http://www.aiim.org/pdfa/ns/id/": "pdfaid",
    "http://ns.adobe.com/pdfx/1.3/": "pdfx",
    "http://ns.adobe.com/illustrator/1.0/": "illustrator",
}
MAX_VALUES = 500


def _name(tag: str) -> str:
    if tag.startswith("{"):
        uri, local = tag[1:].split("}", 1)
        return f"{PREFIXES.get(uri, uri.rstrip('/#').rsplit('/', 1)[-1])}:{local}"
    return tag


def _value(element: Element) -> str | list[str] | None:
    container = next(
        (child for child in element if child.tag in (f"{{{RDF}}}Seq", f"{{{RDF}}}Bag")), None
    )
    alternative = next((child for child in element if child.tag == f"{{{RDF}}}Alt"), None)
    if container is not None:
        items = [(li.text or "").strip() for li in container if li.tag == f"{{{RDF}}}li"]
        return [item for item in items if item][:MAX_VALUES]
    if alternative is not None:
        items = [(li.text or "").strip() for li in alternative if li.tag == f"{{{RDF}}}li"]
        return next((item for item in items if item), None)
    if len(element):
        return None  # a structure (a history entry, a thumbnail): not flattened
    text = (element.text or "").strip()
    if not text:
        resource = element.get(f"{{{RDF}}}resource")
        return resource.strip() if resource else None
    return text


def parse_xmp(packet: bytes, defects: list[str]) -> dict[str, Any]:
    start = packet.find(b"<x:xmpmeta")
    if start < 0:
        start = packet.find(b"<rdf:RDF")
    end_tag = b"</x:xmpmeta>" if packet[start : start + 10] == b"<x:xmpmeta" else b"</rdf:RDF>"
    end = packet.rfind(end_tag)
    if start < 0 or end < 0:
        return {}
    try:
        root = ElementTree.fromstring(packet[start : end + len(end_tag)])
    except (ElementTree.ParseError, DefusedXmlException, ValueError) as error:
        defects.append(f"XMP not parsed: {error}")
        return {}
    out: dict[str, Any] = {}
    for description in root.iter(f"{{{RDF}}}Description"):
        for key, value in description.attrib.items():
            if not key.startswith(f"{{{RDF}}}") and value.strip():
                out.setdefault(_name(key), value.strip())
        for child in description:
            value = _value(child)
            if value:
                out.setdefault(_name(child.tag), value)
        if len(out) > MAX_VALUES:
            break
    return out

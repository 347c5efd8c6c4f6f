"""Document properties of zip-based office files: OOXML docProps/{core,app,custom}.xml and the
ODF meta.xml, read with defusedxml (no entity expansion, no external fetches)."""

from __future__ import annotations

from typing import Any
from xml.etree.ElementTree import Element

from defusedxml import ElementTree
from defusedxml.common import DefusedXmlException

from strongroom.formats import docmeta

_CORE_TEXT = {
    "title": "title",
    "subject": "subject",
    "creator": "author",
    "lastModifiedBy": "last_modified_by",
    "keywords": "keywords",
    "description": "description",
    "category": "category",
    "language": "language",
    "contentStatus": "content_status",
}
_CORE_DATES = {"created": "created", "modified": "modified", "lastPrinted": "printed"}
_APP_TEXT = {
    "Application": "creator_tool",
    "AppVersion": "app_version",
    "Company": "company",
    "Manager": "manager",
    "Template": "template",
}
_APP_COUNTS = {
    "Pages": "pages",
    "Words": "words",
    "Characters": "characters",
    "Paragraphs": "paragraphs",
    "Slides": "slides",
    "Notes": "notes",
    "HiddenSlides": "hidden_slides",
    "TotalTime": "editing_minutes",
}
_ODF_TEXT = {
    "title": "title",
    "subject": "subject",
    "description": "description",
    "creator": "last_modified_by",  # ODF dc:creator is the last person to save the file
    "initial-creator": "author",
    "generator": "creator_tool",
    "language": "language",
    "keyword": "keywords",
    "printed-by": "printed_by",
    "template": "template",
}
_ODF_DATES = {"creation-date": "created", "date": "modified", "print-date": "printed"}
_ODF_STATS = {
    "page-count": "pages",
    "word-count": "words",
    "character-count": "characters",
    "paragraph-count": "paragraphs",
    "table-count": "tables",
    "image-count": "images",
}


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _parse(data: bytes, part: str, defects: list[str]) -> Element | None:
    try:
        root: Element = ElementTree.fromstring(data)
    except (ElementTree.ParseError, DefusedXmlException, ValueError) as error:
        defects.append(f"{part} not parsed: {error}")
        return None
    return root


def core(data: bytes, metadata: dict[str, Any], defects: list[str]) -> None:
    root = _parse(data, "docProps/core.xml", defects)
    if root is None:
        return
    for element in root:
        name, text = _local(element.tag), (element.text or "").strip()
        if name in _CORE_TEXT:
            docmeta.set_text(metadata, _CORE_TEXT[name], text)
        elif name in _CORE_DATES and text:
            metadata[_CORE_DATES[name]] = docmeta.iso_date(text)
        elif name == "revision":
            docmeta.set_count(metadata, "revision", text)


def app(data: bytes, metadata: dict[str, Any], defects: list[str]) -> None:
    root = _parse(data, "docProps/app.xml", defects)
    if root is None:
        return
    for element in root:
        name, text = _local(element.tag), (element.text or "").strip()
        if name in _APP_TEXT:
            docmeta.set_text(metadata, _APP_TEXT[name], text)
        elif name in _APP_COUNTS:
            docmeta.set_count(metadata, _APP_COUNTS[name], text)


def custom(data: bytes, metadata: dict[str, Any], defects: list[str]) -> None:
    root = _parse(data, "docProps/custom.xml", defects)
    if root is None:
        return
    values: dict[str, str] = {}
    for prop in root:
        name = prop.get("name")
        if name and len(prop):
            values[name] = (prop[0].text or "").strip()
    if values:
        metadata["custom"] = dict(list(values.items())[:200])


def odf_meta(data: bytes, metadata: dict[str, Any], defects: list[str]) -> None:
    root = _parse(data, "meta.xml", defects)
    if root is None:
        return
    office_meta = next((e for e in root if _local(e.tag) == "meta"), None)
    if office_meta is None:
        return
    user: dict[str, str] = {}
    for element in office_meta:
        name, text = _local(element.tag), (element.text or "").strip()
        if name in _ODF_TEXT:
            if name == "template":
                text = _attribute(element, "title") or _attribute(element, "href") or ""
            docmeta.set_text(metadata, _ODF_TEXT[name], text)
        elif name in _ODF_DATES and text:
            metadata[_ODF_DATES[name]] = docmeta.iso_date(text)
        elif name == "editing-cycles":
            docmeta.set_count(metadata, "revision", text)
        elif name == "editing-duration" and text:
            metadata["editing_duration"] = text
        elif name == "document-statistic":
            for attribute, key in _ODF_STATS.items():
                docmeta.set_count(metadata, key, _attribute(element, attribute))
        elif name == "user-defined":
            label = _attribute(element, "name")
            if label:
                user[label] = text
    if user:
        metadata["custom"] = dict(list(user.items())[:200])


def _attribute(element: Element, local: str) -> str | None:
    for key, value in element.attrib.items():
        if _local(key) == local:
            return value
    return None

"""The one table of handlers: detection type -> the format or container that handles it.

Checked when loaded: every entry satisfies its protocol and every type `detect` can return has a
handler, so a new detection rule without a handler fails at import, not in a user's ingest.
"""

from __future__ import annotations

from strongroom.formats.base import Container, Format
from strongroom.formats.document import DocumentFormat, UnsupportedContainer
from strongroom.formats.extract import ExtractOptions
from strongroom.formats.outlook_msg import OutlookMsgFormat
from strongroom.formats.rfc822 import EmailFormat
from strongroom.sources.archive import (
    ArchiveLimits,
    CompressedContainer,
    TarContainer,
    ZipContainer,
)
from strongroom.sources.emlx import EmlxContainer
from strongroom.sources.mbox import MboxContainer
from strongroom.sources.pst import PstContainer
from strongroom.sources.tnef import TnefContainer

DETECTION_TYPES = frozenset(
    {
        "email",
        "msg",
        "document",
        "mbox",
        "emlx",
        "pst",
        "zip",
        "tar",
        "gzip",
        "bzip2",
        "xz",
        "7z",
        "rar",
        "tnef",
    }
)


def formats(options: ExtractOptions | None = None) -> dict[str, Format]:
    return {
        "email": EmailFormat(),
        "msg": OutlookMsgFormat(),
        "document": DocumentFormat(options),
        "7z": UnsupportedContainer("7z"),
        "rar": UnsupportedContainer("rar"),
    }


def containers(limits: ArchiveLimits) -> dict[str, Container]:
    return {
        "mbox": MboxContainer(),
        "emlx": EmlxContainer(),
        "pst": PstContainer(),
        "zip": ZipContainer(limits),
        "tar": TarContainer(limits),
        "gzip": CompressedContainer("gzip", limits),
        "bzip2": CompressedContainer("bzip2", limits),
        "xz": CompressedContainer("xz", limits),
        "tnef": TnefContainer(),
    }


def _check() -> None:
    handled = set(formats()) | set(containers(ArchiveLimits()))
    if handled != DETECTION_TYPES:
        raise RuntimeError(f"registry and detection disagree: {sorted(handled ^ DETECTION_TYPES)}")
    for name, handler in formats().items():
        if handler.name != name and name not in ("7z", "rar"):
            raise RuntimeError(f"format {name!r} registered under another name {handler.name!r}")
    for name, container in containers(ArchiveLimits()).items():
        if container.name != name:
            raise RuntimeError(f"container {name!r} is named {container.name!r}")


_check()

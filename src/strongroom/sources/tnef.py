"""TNEF (`winmail.dat`): the attachments Outlook wraps for non-Outlook recipients.

Each attachment is yielded with its exact bytes; an RTF body, when present, as `body.rtf`.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from tnefparse import TNEF

from strongroom.formats.base import Child, ContainerError

TNEF_MAGIC = b"\x78\x9f\x3e\x22"


class TnefContainer:
    name = "tnef"

    def explode(self, path: Path) -> Iterator[Child]:
        try:
            tnef = TNEF(path.read_bytes())
        except Exception as error:  # tnefparse raises bare ValueErrors and struct errors
            raise ContainerError(f"tnef: {type(error).__name__}: {error}") from error
        for index, attachment in enumerate(tnef.attachments, start=1):
            name = attachment.long_filename() or attachment.name or None
            data = attachment.data if isinstance(attachment.data, bytes) else b""
            yield Child(data, f"tnef attachment {index}", name=name)
        rtf = getattr(tnef, "rtfbody", None)
        if isinstance(rtf, bytes) and rtf:
            yield Child(rtf, "tnef body", name="body.rtf", declared_type="application/rtf")

"""Deterministic synthetic demo dumps: a fictional organisation's mail, with ground truth.

>>> manifest = build_dump(Path("demo-out"), DemoSpec(messages=120, attachments=40))

The same :class:`DemoSpec` always produces byte-identical files; ``MANIFEST.json`` beside them
records what a correct ingester should find (counts, broken messages, DKIM-signed messages and
the test key's DNS record, planted test-only PII, charsets, threads, files).
"""

from strongroom.demo.generate import build_dump
from strongroom.demo.manifest import (
    REFERENCE,
    AttachmentRecord,
    BrokenMessage,
    DemoManifest,
    DemoSpec,
    DkimInfo,
    PlantedPii,
)
from strongroom.demo.sinks import MessageRef, WrittenFile

__all__ = [
    "REFERENCE",
    "AttachmentRecord",
    "BrokenMessage",
    "DemoManifest",
    "DemoSpec",
    "DkimInfo",
    "MessageRef",
    "PlantedPii",
    "WrittenFile",
    "build_dump",
]

"""What a handler returns: the parsed record of one blob and the child blobs found inside it.

Two kinds of handler share the registry: *formats* parse one item (an email, a document) and may
return a few children (attachments); *containers* explode into a stream of children (an mbox into
its messages, a PST into its folders' messages, a zip into its members) and know nothing of what
the children are. Children go back through the same dispatcher.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

JSON = dict[str, Any]


class Status:
    """Outcome of handling one item. A defective email is still `ok`: its defects say why."""

    OK = "ok"
    FAILED = "failed"  # the handler raised or the item broke a limit; the bytes are kept
    UNSUPPORTED = "unsupported"  # no handler extracts text from this type (yet)
    ENCRYPTED = "encrypted"
    CORRUPT = "corrupt"


@dataclass(frozen=True)
class Child:
    """One blob found inside another, with where it was found."""

    data: bytes
    locator: str  # mbox "offset 1234 length 5678", "part 1.2", "member a/b.eml", PST folder path
    name: str | None = None  # a file name when the container gives one
    declared_type: str | None = None  # the MIME type the container declares, if any
    info: JSON = field(default_factory=dict)  # container facts: From_ line, Maildir flags...
    # A member the container could not read (encrypted, over a limit): recorded as a failure
    # of the container at this locator; its bytes stay inside the container's blob.
    error: str | None = None
    error_status: str = "failed"


@dataclass
class Parsed:
    """The result of a format handler on one blob."""

    kind: str  # email | document
    status: str = Status.OK
    reason: str | None = None
    record: JSON = field(default_factory=dict)
    text: str = ""
    html: str = ""
    defects: list[str] = field(default_factory=list)
    children: list[Child] = field(default_factory=list)
    # Searchable facts for the catalog's `facts` table: ("author", "Jane Roe"), ("creator", ...).
    facts: list[tuple[str, str]] = field(default_factory=list)


class Format(Protocol):
    """Parses one blob into a record, text and child blobs."""

    name: str

    def parse(self, data: bytes, name: str | None) -> Parsed: ...


class Container(Protocol):
    """Explodes a blob (or, for large files, the file itself) into child blobs."""

    name: str

    def explode(self, path: Path) -> Iterator[Child]: ...


class ContainerError(Exception):
    """A container cannot be opened or read further; `status` says how (corrupt, encrypted)."""

    def __init__(self, message: str, status: str = Status.CORRUPT) -> None:
        super().__init__(message)
        self.status = status

"""The plain data passed between the ingest driver, its worker processes and the catalog."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from strongroom.formats.detect import Detection


@dataclass(frozen=True)
class Task:
    """One blob, already in the store, for a worker to handle."""

    sha: str
    size: int
    name: str | None
    detection: Detection
    role: str  # the kind it takes if new: email | attachment | document | container
    locator: str
    input_id: int = 0
    parent_sha: str | None = None
    depth: int = 0
    info: dict[str, Any] = field(default_factory=dict)
    known: bool = False  # already in the catalog: only its new location is recorded
    explode: bool = True  # False: a container exploded by the driver, recorded only
    # An input file the worker copies into the store first (then `sha` and `size` are its
    # own, and `detection` is redone on the stored bytes); None: the blob is stored already.
    path: str | None = None


@dataclass
class ItemResult:
    sha: str
    size: int
    name: str | None
    kind: str
    format: str
    mime: str
    detected_by: str
    status: str
    reason: str | None
    locator: str
    input_id: int
    parent_sha: str | None
    info: dict[str, Any]
    record: dict[str, Any] = field(default_factory=dict)
    text: str = ""
    html: str = ""
    defects: list[str] = field(default_factory=list)
    known: bool = False
    facts: list[tuple[str, str]] = field(default_factory=list)  # ("author", "Jane Roe")...

    @classmethod
    def for_task(cls, task: Task, status: str, reason: str | None = None) -> ItemResult:
        """The result of handling `task`, before any handler has filled in what it found."""
        return cls(
            sha=task.sha,
            size=task.size,
            name=task.name,
            kind=task.role,
            format=task.detection.type,
            mime=task.detection.mime,
            detected_by=task.detection.reason,
            status=status,
            reason=reason,
            locator=task.locator,
            input_id=task.input_id,
            parent_sha=task.parent_sha,
            info=task.info,
            known=task.known,
        )


@dataclass
class FailureResult:
    parent_sha: str
    locator: str  # where in the container; "" when the container as a whole failed
    status: str
    reason: str


@dataclass
class InputFailure:
    """An input file a worker could not read into the store: the input fails, not an item."""

    input_id: int
    reason: str


Result = ItemResult | FailureResult | InputFailure

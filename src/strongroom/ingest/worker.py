"""The dispatcher: one blob in, its record and its descendants' records out.

Runs in worker processes. Formats parse; containers explode; every child is stored in the blob
store *before* it is parsed and goes back through the same dispatcher, with depth bounded.
Exceptions stop here: whatever a handler raises becomes the item's status and reason.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import resource
import signal
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from types import FrameType

from strongroom.blobs import BlobStore
from strongroom.config import IngestPolicy
from strongroom.formats import registry
from strongroom.formats.base import Child, ContainerError, Status
from strongroom.formats.detect import HEAD_BYTES, Detection, detect
from strongroom.formats.extract import ExtractOptions
from strongroom.ingest.tasks import FailureResult, InputFailure, ItemResult, Result, Task
from strongroom.sources.archive import ArchiveLimits

MAIL_TYPES = ("email", "msg")
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def detect_blob(data: bytes, name: str | None, declared: str | None = None) -> Detection:
    detection = detect(data[:HEAD_BYTES], name, data if data.startswith(OLE_MAGIC) else None)
    if declared == "message/rfc822" and detection.type == "document":
        return Detection("email", "message/rfc822", f"declared message/rfc822 ({detection.reason})")
    return detection


def child_role(parent_role: str, parent_format: str, detection: Detection) -> str:
    if detection.type in MAIL_TYPES:
        return "email"
    if parent_role == "email" and parent_format in MAIL_TYPES:
        return "attachment"
    return "container" if detection.type in _CONTAINER_TYPES else "document"


_CONTAINER_TYPES = frozenset(registry.containers(ArchiveLimits()))


def _strip_suffix(name: str | None) -> str | None:
    if not name or "." not in name:
        return None
    return name.rsplit(".", 1)[0]


class Dispatcher:
    def __init__(self, blob_root: Path, policy: IngestPolicy) -> None:
        self.blobs = BlobStore(blob_root)
        self.policy = policy
        limits = ArchiveLimits(
            max_member_bytes=policy.max_member_bytes,
            max_expansion_ratio=policy.max_expansion_ratio,
            max_members=policy.max_archive_members,
        )
        self.formats = registry.formats(
            ExtractOptions(
                ocr=policy.ocr,
                ocr_languages=policy.ocr_languages,
                ocr_max_pages=policy.ocr_max_pages,
                converter_timeout_s=max(1.0, policy.item_timeout_s),
                max_part_bytes=min(policy.max_member_bytes, 512 * 1024**2),
                max_expansion_ratio=policy.max_expansion_ratio,
            )
        )
        self.containers = registry.containers(limits)

    def child_task(self, parent: Task, parent_format: str, child: Child) -> Task | FailureResult:
        """Store a child's bytes and say how it will be handled."""
        if child.error is not None:
            return FailureResult(parent.sha, child.locator, child.error_status, child.error)
        sha = self.blobs.put_bytes(child.data)
        name = child.name
        if name is None and parent_format in ("gzip", "bzip2", "xz"):
            name = _strip_suffix(parent.name)
        detection = detect_blob(child.data, name, child.declared_type)
        return Task(
            sha=sha,
            size=len(child.data),
            name=name,
            detection=detection,
            role=child_role(parent.role, parent_format, detection),
            locator=child.locator,
            parent_sha=parent.sha,
            depth=parent.depth + 1,
            info=child.info,
        )

    def handle_batch(self, tasks: list[Task]) -> list[list[Result]]:
        return [self.handle(task) for task in tasks]

    def handle(self, task: Task) -> list[Result]:
        out: list[Result] = []
        data = None
        if task.path is not None:
            stored = self.store_input(task)
            if isinstance(stored, InputFailure):
                return [stored]
            task, data = stored
        self._handle(task, out, data)
        return out

    def store_input(self, task: Task) -> tuple[Task, bytes | None] | InputFailure:
        """Copy an input file into the store and detect its type on the stored bytes. The
        driver hands this out with the parse so that hashing and copying run in parallel."""
        assert task.path is not None
        path = Path(task.path)
        try:
            sha, size, data = self.blobs.store_file(path)
            if data is None:
                with self.blobs.open(sha) as handle:
                    head = handle.read(HEAD_BYTES)
                full = self.blobs.read(sha) if head.startswith(OLE_MAGIC) else head
            else:
                full = data
        except OSError as error:
            return InputFailure(task.input_id, f"cannot read {path}: {error.strerror or error}")
        detection = detect_blob(full, task.name)
        if detection.type in self.containers:
            role = "container"
        else:
            role = "email" if detection.type in MAIL_TYPES else "document"
        stored = replace(task, sha=sha, size=size, detection=detection, role=role, path=None)
        return stored, data

    def _handle(self, task: Task, out: list[Result], data: bytes | None = None) -> None:
        detection = task.detection
        result = ItemResult.for_task(task, Status.OK)
        out.append(result)
        if task.known:
            return
        if "error" in task.info:
            result.defects.append(f"container: {task.info['error']}")
        try:
            if detection.type in self.containers:
                if task.explode:
                    self._explode(task, result, out)
            else:
                self._parse(task, result, out, data)
        except ContainerError as error:
            result.status, result.reason = error.status, str(error)
        except ItemTimeout as error:
            result.status, result.reason = Status.FAILED, str(error)
        except MemoryError:
            result.status, result.reason = Status.FAILED, "out of memory while parsing"
        except Exception as error:
            result.status = Status.FAILED
            result.reason = f"{detection.type} handler failed: {type(error).__name__}: {error}"

    def _explode(self, task: Task, result: ItemResult, out: list[Result]) -> None:
        if task.depth >= self.policy.max_depth:
            result.status = Status.FAILED
            result.reason = f"nested deeper than {self.policy.max_depth} containers; not opened"
            return
        container = self.containers[task.detection.type]
        for child in container.explode(self.blobs.path(task.sha)):
            self._child(task, result, child, out)

    def _parse(
        self, task: Task, result: ItemResult, out: list[Result], data: bytes | None = None
    ) -> None:
        if data is None:
            data = self.blobs.read(task.sha)
        with time_limit(self.policy.item_timeout_s):
            parsed = self.formats[task.detection.type].parse(data, task.name)
        if parsed.kind == "email" and task.role != "email":
            result.kind = "email"
        elif parsed.kind == "document" and task.role == "email":
            result.kind = "document"  # an Outlook contact or task, not mail
        result.status, result.reason = parsed.status, parsed.reason
        result.record, result.text, result.html = parsed.record, parsed.text, parsed.html
        result.defects.extend(parsed.defects)
        result.facts = list(parsed.facts)
        if task.depth >= self.policy.max_depth and parsed.children:
            result.defects.append(f"attachments not opened: deeper than {self.policy.max_depth}")
            return
        for child in parsed.children:
            self._child(task, result, child, out)

    def _child(self, task: Task, parent: ItemResult, child: Child, out: list[Result]) -> None:
        parent_task = replace(task, role=parent.kind)
        planned = self.child_task(parent_task, parent.format, child)
        if isinstance(planned, FailureResult):
            out.append(planned)
        else:
            self._handle(planned, out)


class ItemTimeout(BaseException):
    """One item's parse ran past `item_timeout_s`. A BaseException, so that a parser's own
    `except Exception` cannot swallow it."""


@contextlib.contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Raise ItemTimeout in this thread after `seconds` of wall-clock time.

    Uses SIGALRM, so it works only in a process's main thread (a worker process, or the
    driver when it parses inline); in other threads it does nothing, unless thread limits are
    enabled (dask workers run tasks in threads: see `thread_time_limit`); for `seconds <= 0`
    it does nothing. The previous handler and timer are restored, so the driver's own signals
    are left as they were. A parser stuck inside C code past the limit is stopped by the
    worker's watchdog instead.
    """
    if seconds <= 0:
        yield
        return
    if threading.current_thread() is not threading.main_thread():
        if _thread_limits:
            with thread_time_limit(seconds):
                yield
        else:
            yield
        return

    def expire(_signum: int, _frame: FrameType | None) -> None:
        raise ItemTimeout(f"timed out after {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    _watchdog.arm(seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        _watchdog.disarm()


_thread_limits = False


def enable_thread_time_limits() -> None:
    """Apply `time_limit` in every thread of this process (called in dask workers)."""
    global _thread_limits  # noqa: PLW0603 - per-process switch, like the worker's dispatcher
    _thread_limits = True


@contextlib.contextmanager
def thread_time_limit(seconds: float) -> Iterator[None]:
    """Raise ItemTimeout in this (non-main) thread after `seconds`, asynchronously.

    The exception lands at the thread's next Python bytecode, as a signal handler's would; a
    blocking system call or C loop runs on until it returns to Python. The timer fires under
    a lock that the exit also takes, so it never lands after this block has been left.
    """
    target = threading.get_ident()
    lock = threading.Lock()
    armed = True

    class Expired(ItemTimeout):
        def __init__(self) -> None:
            super().__init__(f"timed out after {seconds:g} s")

    def expire() -> None:
        with lock:
            if armed:
                ctypes.pythonapi.PyThreadState_SetAsyncExc(
                    ctypes.c_ulong(target), ctypes.py_object(Expired)
                )

    timer = threading.Timer(seconds, expire)
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        with lock:
            armed = False
        timer.cancel()


class _Watchdog:
    """In worker processes only: ends the process when a parse is stuck in C code (where a
    Python signal handler never runs) well past its limit. The driver sees the worker die and
    redoes its batch one item at a time, so only the stuck item is recorded as failed."""

    def __init__(self) -> None:
        self.enabled = False
        self._deadline: float | None = None
        self._lock = threading.Lock()
        self._wake = threading.Event()

    def start(self) -> None:
        self.enabled = True
        threading.Thread(target=self._run, name="strongroom-watchdog", daemon=True).start()

    def arm(self, seconds: float) -> None:
        if self.enabled:
            with self._lock:
                self._deadline = time.monotonic() + 2 * seconds + 5
            self._wake.set()

    def disarm(self) -> None:
        if self.enabled:
            with self._lock:
                self._deadline = None

    def _run(self) -> None:
        while True:
            self._wake.wait(1.0)
            self._wake.clear()
            with self._lock:
                deadline = self._deadline
            if deadline is not None and time.monotonic() > deadline:
                os._exit(70)  # the driver's BrokenProcessPool recovery takes over


_watchdog = _Watchdog()

# One dispatcher per worker process, made by the pool's initializer.
_dispatcher: Dispatcher | None = None


def limit_memory(max_bytes: int) -> None:
    """Cap this process's address space; a parser that needs more gets a MemoryError."""
    if max_bytes <= 0:
        return
    _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        max_bytes = min(max_bytes, hard)
    resource.setrlimit(resource.RLIMIT_AS, (max_bytes, hard))


def init_worker(blob_root: str, policy: IngestPolicy) -> None:
    """Runs once in each worker process (never in the driver): limits, then the dispatcher."""
    global _dispatcher  # noqa: PLW0603 - per-process state of a process pool
    limit_memory(policy.worker_memory_bytes)
    if policy.item_timeout_s > 0:
        _watchdog.start()
    _dispatcher = Dispatcher(Path(blob_root), policy)


def run_batch(tasks: list[Task]) -> list[list[Result]]:
    assert _dispatcher is not None, "init_worker was not called"
    return _dispatcher.handle_batch(tasks)

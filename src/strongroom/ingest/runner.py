"""The ingest driver: walks the inputs, stores them, feeds workers, commits results in order.

Order is what makes a killed run recoverable: batches are committed in the order their tasks
were made, each in one transaction, and an input is marked done only once every batch holding
its items is committed. A rerun skips finished inputs, redoes the rest, and — since an item is
its sha256 and a location is unique — adds nothing twice; the numbers people read come out the
same as in an uninterrupted run.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field, replace
from itertools import islice
from pathlib import Path
from typing import Protocol

from strongroom.catalog.store import Catalog
from strongroom.config import IngestPolicy
from strongroom.formats.base import ContainerError, Status
from strongroom.formats.detect import HEAD_BYTES, Detection
from strongroom.ingest.tasks import FailureResult, InputFailure, ItemResult, Result, Task
from strongroom.ingest.walk import InputFile, walk_inputs
from strongroom.ingest.worker import OLE_MAGIC, Dispatcher, detect_blob, init_worker, run_batch

Progress = Callable[[int, int], None]  # (input bytes done, items committed)
Wait = Callable[[], list[list[Result]]]
BEGIN_CHUNK = 256  # inputs marked `started` per transaction


class BatchExecutor(Protocol):
    """Runs batches somewhere other than this machine's process pool (ingest/cluster.py).

    The driver still makes the tasks and commits the results in order; `submit` returns a
    callable that waits for one batch's results, having redone whatever a lost worker lost."""

    lost_batches: int

    @property
    def slots(self) -> int: ...

    def submit(self, tasks: list[Task]) -> Wait: ...

    def close(self) -> None: ...


@dataclass
class RunStats:
    inputs_seen: int = 0
    inputs_skipped: int = 0
    inputs_failed: int = 0
    results: int = 0
    item_failures: int = 0
    worker_crashes: int = 0

    def count(self, batch: list[Result]) -> None:
        for result in batch:
            if isinstance(result, InputFailure):
                continue  # counted as a failed input by the driver
            self.results += 1
            if isinstance(result, FailureResult) or (
                not result.known
                and result.status
                in (
                    Status.FAILED,
                    Status.CORRUPT,
                    Status.ENCRYPTED,
                )
            ):
                self.item_failures += 1


@dataclass
class _Pending:
    seq: int
    tasks: list[Task]
    future: Future[list[list[Result]]] | None = None
    results: list[list[Result]] | None = None
    wait: Wait | None = None  # a batch given to a BatchExecutor


@dataclass
class IngestRun:
    catalog: Catalog
    blob_root: Path
    policy: IngestPolicy
    exclude: tuple[Path, ...] = ()
    progress: Progress | None = None
    stats: RunStats = field(default_factory=RunStats)
    executor: BatchExecutor | None = None  # None: `policy.cluster`, else the local pool

    def __post_init__(self) -> None:
        self.dispatcher = Dispatcher(self.blob_root, self.policy)
        self._batch: list[Task] = []
        self._seq = 0
        self._pending: deque[_Pending] = deque()
        self._input_done_at: deque[tuple[int, int, str | None, int]] = deque()
        # What workers found out about inputs they stored, kept while the input has entries
        # in `_input_done_at` (more than one when overlapping paths name a file twice).
        self._input_sha: dict[int, str] = {}
        self._input_failed: dict[int, str] = {}
        self._outstanding: dict[int, int] = {}
        self._bytes_done = 0
        self._pool: ProcessPoolExecutor | None = None
        self._known_inputs: dict[str, tuple[int, str, int | None, int | None]] = {}

    # -- the run ----------------------------------------------------------------------------
    def run(self, paths: list[Path]) -> RunStats:
        self.dispatcher.blobs.sweep_tmp()
        self._known_inputs = self.catalog.known_inputs()
        opened = None
        if self.executor is None and self.policy.cluster:
            from strongroom.ingest.cluster import ClusterExecutor  # dask only when asked for

            self.executor = opened = ClusterExecutor.connect(
                self.policy.cluster, self.blob_root, self.policy
            )
        if self.executor is None and self.policy.workers > 1:
            self._pool = self._new_pool(self.policy.workers)
        try:
            for input_file, input_id in self._begun(walk_inputs(paths, self.exclude)):
                self._ingest_input(input_file, input_id)
            self._flush()
            while self._pending:
                self._commit(self._pending.popleft())
        finally:
            if self._pool is not None:
                self._pool.shutdown(cancel_futures=True)
            if self.executor is not None:
                self.stats.worker_crashes += self.executor.lost_batches
            if opened is not None:
                opened.close()
        return self.stats

    def _begun(self, inputs: Iterable[InputFile]) -> Iterator[tuple[InputFile, int]]:
        """The inputs to work on, each with its id, marked `started` a chunk at a time (one
        transaction per chunk, not per file); unchanged finished ones are skipped here."""
        walked = iter(inputs)
        while chunk := list(islice(walked, BEGIN_CHUNK)):
            todo: list[InputFile] = []
            for input_file in chunk:
                self.stats.inputs_seen += 1
                known = self._known_inputs.get(str(input_file.path))
                if known is not None and known[1:] == (
                    "done",
                    input_file.size,
                    input_file.mtime_ns,
                ):
                    self.stats.inputs_skipped += 1
                    self._advance(input_file.size)
                else:
                    todo.append(input_file)
            # The same file named twice in one run (overlapping paths) is begun once per chunk.
            unique = {str(f.path): f for f in todo}
            rows = [
                (key, f.size, f.mtime_ns, (self._known_inputs.get(key) or (None,))[0])
                for key, f in unique.items()
            ]
            ids = dict(zip(unique, self.catalog.begin_inputs(rows), strict=True))
            for key, f in unique.items():
                self._known_inputs[key] = (ids[key], "started", f.size, f.mtime_ns)
            for input_file in todo:
                yield input_file, ids[str(input_file.path)]

    def _ingest_input(self, input_file: InputFile, input_id: int) -> None:
        if "error" in input_file.info:
            self.stats.inputs_failed += 1
            reason = f"{input_file.path}: {input_file.info['error']}"
            self.catalog.finish_inputs([(input_id, None, "failed", reason)])
            return
        if self.executor is None and self._is_leaf(input_file):
            self._leaf_input(input_file, input_id)
            return
        try:
            sha, size = self.dispatcher.blobs.put_file(input_file.path)
            path = self.dispatcher.blobs.path(sha)
            with path.open("rb") as handle:
                head = handle.read(HEAD_BYTES)
            full = path.read_bytes() if head.startswith(OLE_MAGIC) else head
            detection = detect_blob(full, input_file.path.name)
        except OSError as error:
            self.stats.inputs_failed += 1
            reason = f"cannot read {input_file.path}: {error.strerror or error}"
            self.catalog.finish_inputs([(input_id, None, "failed", reason)])
            self._advance(input_file.size)
            return
        role = "email" if detection.type in ("email", "msg") else "document"
        container = detection.type in self.dispatcher.containers
        task = Task(
            sha=sha,
            size=size,
            name=input_file.path.name,
            detection=detection,
            role="container" if container else role,
            locator="file",
            input_id=input_id,
            info=input_file.info,
            known=self.catalog.item_num(sha) is not None,
            explode=not container,
        )
        self._add(task)
        # A known container is exploded again unless an input holding it finished: a killed
        # run may have recorded the container but not yet all of its children.
        if container and not (task.known and self.catalog.input_with_sha_done(sha)):
            self._explode_here(task)
        self._input_done_at.append((self._seq, input_id, sha, input_file.size))

    def _is_leaf(self, input_file: InputFile) -> bool:
        """Whether an input is one item, not a container (which this process explodes), by
        its first bytes; False when it cannot be read (the usual path then records why)."""
        try:
            with input_file.path.open("rb") as handle:
                head = handle.read(HEAD_BYTES)
        except OSError:
            return False
        if head.startswith(OLE_MAGIC):  # Outlook or legacy Office: never a container
            return True
        return detect_blob(head, input_file.path.name).type not in self.dispatcher.containers

    def _leaf_input(self, input_file: InputFile, input_id: int) -> None:
        """A file that is one item: the worker stores it, detects its type and parses it, so
        hashing and copying run in parallel. (A cluster's workers may not see the inputs'
        paths; there the driver stores every input.)"""
        task = Task(
            sha="",
            size=input_file.size,
            name=input_file.path.name,
            detection=_UNDETECTED,
            role="document",
            locator="file",
            input_id=input_id,
            info=input_file.info,
            path=str(input_file.path),
        )
        self._add(task)
        self._input_done_at.append((self._seq, input_id, None, input_file.size))
        self._outstanding[input_id] = self._outstanding.get(input_id, 0) + 1

    def _explode_here(self, task: Task) -> None:
        """Large containers are exploded by the driver so their children spread over workers."""
        container = self.dispatcher.containers[task.detection.type]
        try:
            for child in container.explode(self.dispatcher.blobs.path(task.sha)):
                planned = self.dispatcher.child_task(task, task.detection.type, child)
                if isinstance(planned, FailureResult):
                    self._add_result(planned)
                    continue
                if self.catalog.item_num(planned.sha) is not None:
                    planned = replace(planned, known=True)
                self._add(planned)
        except ContainerError as error:
            self._add_result(self._container_failure(task, error.status, str(error)))
        except Exception as error:
            reason = f"{task.detection.type} reader failed: {type(error).__name__}: {error}"
            self._add_result(self._container_failure(task, Status.FAILED, reason))

    def _container_failure(self, task: Task, status: str, reason: str) -> FailureResult:
        return FailureResult(task.sha, "", status, reason)  # "": the container itself

    # -- batching and ordered commits -------------------------------------------------------
    def _add(self, task: Task) -> None:
        self._batch.append(task)
        if len(self._batch) >= self.policy.batch_items:
            self._flush()

    def _add_result(self, result: Result) -> None:
        # A result made by the driver rides in the ordered stream as a pre-made batch entry.
        self._flush()
        entry = _Pending(self._seq, [], results=[[result]])
        self._seq += 1
        self._enqueue(entry)

    def _flush(self) -> None:
        if not self._batch:
            return
        tasks, self._batch = self._batch, []
        entry = _Pending(self._seq, tasks)
        self._seq += 1
        if self.executor is not None:
            entry.wait = self.executor.submit(tasks)
        elif self._pool is None:
            entry.results = self.dispatcher.handle_batch(tasks)
        else:
            entry.future = self._pool.submit(run_batch, tasks)
        self._enqueue(entry)

    def _enqueue(self, entry: _Pending) -> None:
        self._pending.append(entry)
        slots = self.policy.workers if self.executor is None else self.executor.slots
        window = max(1, slots * self.policy.in_flight_batches)
        inline = self._pool is None and self.executor is None
        while len(self._pending) > window or (inline and self._pending):
            self._commit(self._pending.popleft())

    def _commit(self, entry: _Pending) -> None:
        results = entry.results
        if results is None and entry.wait is not None:
            results = entry.wait()
        if results is None:
            assert entry.future is not None
            try:
                results = entry.future.result()
            except BrokenProcessPool:
                results = self._recover(entry)
        flat: list[Result] = []
        for group in results:
            for result in group:
                if isinstance(result, InputFailure):
                    self._input_failed[result.input_id] = result.reason
                    self.stats.inputs_failed += 1
                    continue
                if (
                    isinstance(result, ItemResult)
                    and result.locator == "file"
                    and result.input_id in self._outstanding
                ):
                    self._input_sha[result.input_id] = result.sha
                flat.append(result)
        finished: list[tuple[int, str | None, str, str | None]] = []
        while self._input_done_at and self._input_done_at[0][0] <= entry.seq:
            _seq, input_id, sha, size = self._input_done_at.popleft()
            stored = self._input_sha.get(input_id)
            failed = self._input_failed.get(input_id)
            if sha is None:  # stored by a worker: forget it after its last entry
                left = self._outstanding.pop(input_id) - 1
                if left:
                    self._outstanding[input_id] = left
                else:
                    self._input_sha.pop(input_id, None)
                    self._input_failed.pop(input_id, None)
            if failed is not None:
                finished.append((input_id, None, "failed", failed))
            else:
                finished.append((input_id, sha or stored, "done", None))
            self._bytes_done += size
        # The batch and the inputs it completes in one transaction.
        self.catalog.write(flat, finished)
        self.stats.count(flat)
        if self.progress is not None:
            self.progress(self._bytes_done, self.stats.results)

    def _advance(self, size: int) -> None:
        self._bytes_done += size
        if self.progress is not None:
            self.progress(self._bytes_done, self.stats.results)

    # -- a worker process died (a parser crashed hard, or the OOM killer) -------------------
    def _new_pool(self, workers: int) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(
            max_workers=workers,
            initializer=init_worker,
            initargs=(str(self.blob_root), self.policy),
        )

    def _recover(self, entry: _Pending) -> list[list[Result]]:
        """Redo the broken batch one task at a time in a fresh process, so the one that kills
        its worker is recorded as failed and the others succeed; then resubmit the rest."""
        self.stats.worker_crashes += 1
        assert self._pool is not None
        self._pool.shutdown(cancel_futures=True)
        results: list[list[Result]] = []
        for task in entry.tasks:
            with self._new_pool(1) as single:
                try:
                    results.extend(single.submit(run_batch, [task]).result())
                except BrokenProcessPool:
                    results.append([self._crashed(task)])
        self._pool = self._new_pool(self.policy.workers)
        for pending in self._pending:
            if pending.future is not None:
                pending.future = self._pool.submit(run_batch, pending.tasks)
        return results

    def _crashed(self, task: Task) -> Result:
        if task.path is not None:  # an input the worker was to store: its bytes are kept
            stored = self.dispatcher.store_input(task)
            if isinstance(stored, InputFailure):
                return stored
            task = stored[0]
        reason = "the worker process died while handling this item (crash or out of memory)"
        return ItemResult.for_task(task, Status.FAILED, reason)


# What a worker-stored input is typed as until the worker has detected it on its bytes.
_UNDETECTED = Detection("document", "application/octet-stream", "not yet detected")

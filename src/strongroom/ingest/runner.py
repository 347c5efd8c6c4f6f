"""The ingest driver: walks the inputs, stores them, feeds workers, commits results in order.

Order is what makes a killed run recoverable: batches are committed in the order their tasks
were made, each in one transaction, and an input is marked done only once every batch holding
its items is committed. A rerun skips finished inputs, redoes the rest, and — since an item is
its sha256 and a location is unique — adds nothing twice; the numbers people read come out the
same as in an uninterrupted run.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Protocol

from strongroom.catalog.store import Catalog
from strongroom.config import IngestPolicy
from strongroom.formats.base import ContainerError, Status
from strongroom.formats.detect import HEAD_BYTES
from strongroom.ingest.tasks import FailureResult, ItemResult, Result, Task
from strongroom.ingest.walk import InputFile, walk_inputs
from strongroom.ingest.worker import OLE_MAGIC, Dispatcher, detect_blob, init_worker, run_batch

Progress = Callable[[int, int], None]  # (input bytes done, items committed)
Wait = Callable[[], list[list[Result]]]


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
            for input_file in walk_inputs(paths, self.exclude):
                self.stats.inputs_seen += 1
                self._ingest_input(input_file)
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

    def _ingest_input(self, input_file: InputFile) -> None:
        key = str(input_file.path)
        known = self._known_inputs.get(key)
        if known is not None and known[1:] == ("done", input_file.size, input_file.mtime_ns):
            self.stats.inputs_skipped += 1
            self._advance(input_file.size)
            return
        input_id = self.catalog.begin_input(
            key, input_file.size, input_file.mtime_ns, known[0] if known else None
        )
        # The same file named twice in one run (overlapping paths) is then an update.
        self._known_inputs[key] = (input_id, "started", input_file.size, input_file.mtime_ns)
        if "error" in input_file.info:
            self.stats.inputs_failed += 1
            reason = f"{input_file.path}: {input_file.info['error']}"
            self.catalog.finish_inputs([(input_id, None, "failed", reason)])
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
        flat = [result for group in results for result in group]
        self.catalog.write(flat)
        self.stats.count(flat)
        finished = []
        while self._input_done_at and self._input_done_at[0][0] <= entry.seq:
            _seq, input_id, sha, size = self._input_done_at.popleft()
            finished.append((input_id, sha, "done", None))
            self._bytes_done += size
        if finished:
            self.catalog.finish_inputs(finished)
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
                    results.append([_crashed(task)])
        self._pool = self._new_pool(self.policy.workers)
        for pending in self._pending:
            if pending.future is not None:
                pending.future = self._pool.submit(run_batch, pending.tasks)
        return results


def _crashed(task: Task) -> ItemResult:
    reason = "the worker process died while handling this item (crash or out of memory)"
    return ItemResult.for_task(task, Status.FAILED, reason)

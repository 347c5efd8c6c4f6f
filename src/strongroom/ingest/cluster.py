"""Extraction on a dask.distributed cluster: the same batches a local process pool runs.

The driver (ingest/runner.py) keeps every decision that fixes the result: it walks the inputs,
stores them and makes tasks in a fixed order, and commits each batch's results in that order,
so item numbers are the ones a local run gives. Only `Dispatcher.handle_batch` runs on the
workers, which read and write the case's blob store through a directory every node mounts at
the same path (blob writes are tmp+rename and named by content, so a redone batch rewrites
identical files harmlessly). Workers never connect to the catalog: the driver, its single
ordered writer, commits their results (docs/server.md says why: stable numbers, kill safety).

A worker that dies mid-batch loses nothing: the scheduler hands its batches to another worker,
and the catalog only ever holds committed results. A batch that keeps killing workers (dask's
`allowed-failures`) is redone one task at a time, so only the item that kills a worker is
recorded as failed, as in a local run.
"""

from __future__ import annotations

import os
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import CancelledError
from pathlib import Path

from distributed import Client, Future, KilledWorker, LocalCluster, get_worker

from strongroom import __version__
from strongroom.blobs import BlobStore
from strongroom.config import IngestPolicy
from strongroom.errors import StrongroomError, UsageError
from strongroom.formats.base import Status
from strongroom.ingest.tasks import ItemResult, Result, Task
from strongroom.ingest.worker import Dispatcher, enable_thread_time_limits

LOCAL = "local:"
SLOTS_TTL_S = 5.0
BLOB_WAIT_S = 10.0
Wait = Callable[[], list[list[Result]]]


class ClusterExecutor:
    """Submits batches to a dask cluster; `submit` returns a callable that waits for one."""

    def __init__(
        self, client: Client, blob_root: Path, policy: IngestPolicy, local: LocalCluster | None
    ) -> None:
        self.client = client
        self.blob_root = blob_root
        self.policy = policy
        self.local = local
        self.address = str(client.scheduler.address) if client.scheduler else "?"
        self.lost_batches = 0  # batches whose workers kept dying: redone one task at a time
        self._slots = (0, -SLOTS_TTL_S)  # (worker threads, when counted)

    @classmethod
    def connect(cls, address: str, blob_root: Path, policy: IngestPolicy) -> ClusterExecutor:
        local = None
        try:
            if address.startswith(LOCAL):
                local = _local_cluster(address)
                client = Client(local)  # type: ignore[no-untyped-call]
            else:
                client = Client(address, timeout=policy.cluster_wait_s)  # type: ignore[no-untyped-call]
        except (OSError, TimeoutError) as error:
            if local is not None:
                local.close()
            raise UsageError(
                f"cannot reach the dask scheduler at {address}: {error}",
                hint="start one with `dask scheduler` and give its tcp://HOST:8786 address",
            ) from error
        executor = cls(client, blob_root, policy, local)
        try:
            executor.check_workers()
        except BaseException:
            executor.close()
            raise
        return executor

    @property
    def slots(self) -> int:
        """Batches the cluster runs at once (worker threads); sizes the driver's window.
        Recounted now and then: workers may join or leave during a run."""
        count, when = self._slots
        if time.monotonic() - when >= SLOTS_TTL_S:
            count = max(1, sum(self.client.nthreads().values()))  # type: ignore[no-untyped-call]
            self._slots = (count, time.monotonic())
        return count

    def check_workers(self) -> None:
        """Wait for a first worker, then make sure every worker sees this case's blob store
        and runs this strongroom, so a misconfigured node fails the run before any work."""
        try:
            self.client.wait_for_workers(1, timeout=self.policy.cluster_wait_s)
        except TimeoutError as error:
            raise UsageError(
                f"no worker joined the dask scheduler at {self.address} "
                f"within {self.policy.cluster_wait_s:g} s",
                hint=f"start workers with: dask worker {self.address} --nthreads 1",
            ) from error
        # A file only the shared directory holds: a worker with its own empty blobs/ at the
        # same path would otherwise record every item it is given as unreadable.
        mark = self.blob_root / "tmp" / f"cluster-probe-{uuid.uuid4().hex}"
        mark.write_text(mark.name)
        try:
            answers = self.client.run(
                probe_worker, str(self.blob_root), __version__, mark.name, on_error="return"
            )
        finally:
            mark.unlink(missing_ok=True)
        problems = []
        for worker, answer in sorted(answers.items()):
            if isinstance(answer, BaseException):
                problems.append(f"{worker}: {type(answer).__name__}: {answer}")
            elif answer is not None:
                problems.append(f"{worker}: {answer}")
        if problems:
            raise UsageError(
                "dask workers cannot run this ingest: " + "; ".join(problems),
                hint="every worker needs the same strongroom version and the case's blobs/ "
                "directory mounted at the same path, writable",
            )

    def submit(self, tasks: list[Task]) -> Wait:
        future = self._submit(tasks)

        def wait() -> list[list[Result]]:
            try:
                return self._result(future)
            except KilledWorker:
                return self._redo(tasks)

        return wait

    def _submit(self, tasks: list[Task]) -> Future[list[list[Result]]]:
        return self.client.submit(
            run_batch_remote, str(self.blob_root), self.policy, tasks, pure=False
        )

    def _result(self, future: Future[list[list[Result]]]) -> list[list[Result]]:
        try:
            results: list[list[Result]] = future.result()
        except (OSError, TimeoutError, CancelledError) as error:
            raise StrongroomError(
                f"lost the dask cluster at {self.address}: {type(error).__name__}: {error}",
                hint="what was committed is kept; rerun the same ingest to finish",
            ) from error
        except WorkerFailure as error:
            raise StrongroomError(
                f"a worker of the dask cluster at {self.address} could not run a batch: {error}",
                hint="check that workers run the same strongroom and its dependencies; "
                "what was committed is kept, rerun the same ingest to finish",
            ) from error
        finally:
            future.release()  # type: ignore[no-untyped-call]
        return results

    def _redo(self, tasks: list[Task]) -> list[list[Result]]:
        """The batch killed every worker that tried it: one task per submission, so the item
        that kills a worker is found and recorded as failed, and the others are handled. One
        at a time: a task queued on a worker that the bad item kills would be blamed too."""
        self.lost_batches += 1
        results: list[list[Result]] = []
        for task in tasks:
            try:
                results.extend(self._result(self._submit([task])))
            except KilledWorker:
                reason = "every cluster worker that handled this item died (crash or out of memory)"
                results.append([ItemResult.for_task(task, Status.FAILED, reason)])
        return results

    def close(self) -> None:
        self.client.close()  # type: ignore[no-untyped-call]
        if self.local is not None:
            self.local.close()


def _local_cluster(address: str) -> LocalCluster:
    count = address.removeprefix(LOCAL)
    if not count.isdigit() or int(count) < 1:
        raise UsageError(f"--cluster {address}: give local:N with N worker processes, e.g. local:4")
    return LocalCluster(  # type: ignore[no-untyped-call]
        n_workers=int(count),
        threads_per_worker=1,
        processes=True,
        dashboard_address=None,
    )


# -- on the workers ---------------------------------------------------------------------------
# One dispatcher per worker thread (dask runs tasks in a thread pool; parsers keep state).
_per_thread = threading.local()


class WorkerFailure(Exception):
    """A worker could not run a batch at all (item failures are results, not this). Carries
    only a message: dask cannot send some exceptions back (a RecursionError hangs the future)."""


def run_batch_remote(blob_root: str, policy: IngestPolicy, tasks: list[Task]) -> list[list[Result]]:
    key = (blob_root, policy)
    _wait_for_blobs(BlobStore(Path(blob_root)), tasks)
    try:
        dispatcher: Dispatcher | None = getattr(_per_thread, "dispatcher", None)
        if dispatcher is None or getattr(_per_thread, "key", None) != key:
            enable_thread_time_limits()
            dispatcher = Dispatcher(Path(blob_root), policy)
            _per_thread.dispatcher, _per_thread.key = dispatcher, key
        return dispatcher.handle_batch(tasks)
    except Exception as error:
        raise WorkerFailure(f"{type(error).__name__}: {error}"[:2000]) from None


def _wait_for_blobs(blobs: BlobStore, tasks: list[Task]) -> None:
    """Every task's blob was stored before the task was made. One this worker cannot see means
    it does not share the driver's blob directory (a worker that joined after the start-up
    check): stop the run naming it, rather than record each item as unreadable. A network
    file system may show a new file late, so wait a little first."""
    missing = [task.sha for task in tasks if not blobs.exists(task.sha)]
    deadline = time.monotonic() + BLOB_WAIT_S
    while missing and time.monotonic() < deadline:
        time.sleep(0.5)
        missing = [sha for sha in missing if not blobs.exists(sha)]
    if missing:
        raise WorkerFailure(
            f"worker {get_worker().address} cannot see blob {missing[0]} in {blobs.root}: "
            "is the blob directory shared with the driver?"
        )


def probe_worker(blob_root: str, version: str, mark: str) -> str | None:
    """Runs on each worker: None if it can do the work, else what is wrong."""
    from strongroom import __version__ as here

    if here != version:
        return f"runs strongroom {here}, the driver {version}"
    tmp = Path(blob_root) / "tmp"
    if not tmp.is_dir():
        return f"cannot see the blob store {blob_root} (no {tmp})"
    if not (tmp / mark).is_file():
        return f"does not share the driver's blob store: {blob_root} here is another directory"
    if not os.access(tmp, os.W_OK):
        return f"cannot write to {tmp}"
    return None

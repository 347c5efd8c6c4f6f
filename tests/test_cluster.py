"""Ingest on a dask.distributed cluster: a real scheduler and real worker processes, started with
the same `dask scheduler` / `dask worker` commands docs/server.md gives. What a user relies on:
the case comes out exactly as a local ingest makes it, even when a worker dies mid-run."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import suppress
from pathlib import Path
from typing import Any

import psycopg
import pytest

from strongroom import __version__
from strongroom.case import Case
from strongroom.config import IngestPolicy
from strongroom.demo import DemoSpec, build_dump
from strongroom.errors import UsageError
from strongroom.ingest.cluster import probe_worker
from tests.pg import pg_url, postgres_server  # noqa: F401 - the fixtures
from tests.test_catalog_contract import catalog_state as full_state
from tests.test_ingest import CLI, catalog_state, run_cli

distributed = pytest.importorskip("distributed")

BIN = Path(sys.executable).parent
# Enough work that a worker is killed while batches are still running.
SPEC = DemoSpec(messages=1200, attachments=400)


def report_of(location: str) -> dict[str, object]:
    data: dict[str, object] = json.loads(run_cli("--case", location, "report", "--json").stdout)
    return data


def report(case_dir: Path) -> dict[str, object]:
    return report_of(str(case_dir))


class DaskCluster:
    """`dask scheduler` and `dask worker` processes, as on a real cluster."""

    def __init__(self, work: Path, workers: int, preload: Path | None = None) -> None:
        self.file = work / "scheduler.json"
        env = {**os.environ, "DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES": "1"}
        self.procs = [
            subprocess.Popen(
                [
                    *(BIN / "dask", "scheduler", "--host", "127.0.0.1", "--port", "0"),
                    *("--no-dashboard", "--scheduler-file", str(self.file)),
                ],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=(work / "scheduler.log").open("wb"),
            )
        ]
        deadline = time.monotonic() + 60
        while not self.file.exists():
            assert time.monotonic() < deadline, (work / "scheduler.log").read_text()
            time.sleep(0.1)
        time.sleep(0.2)  # the file is written, then flushed
        for n in range(workers):
            extra = ["--preload", str(preload)] if preload else []
            self.procs.append(
                subprocess.Popen(
                    [
                        *(BIN / "dask", "worker", "--scheduler-file", str(self.file)),
                        *("--nthreads", "1", "--no-dashboard", "--name", f"w{n}", *extra),
                    ],
                    env=env,
                    stdout=subprocess.DEVNULL,
                    stderr=(work / f"worker{n}.log").open("wb"),
                )
            )
        self.client = distributed.Client(scheduler_file=str(self.file), timeout=60)
        self.client.wait_for_workers(workers, timeout=60)
        self.address: str = self.client.scheduler.address

    def worker_pids(self) -> dict[str, int]:
        pids: dict[str, int] = self.client.run(os.getpid)
        return pids

    def close(self) -> None:
        self.client.close()
        for proc in reversed(self.procs):
            proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


@pytest.fixture(scope="module")
def dump(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("cluster") / "dump"
    build_dump(out, SPEC)
    return out


@pytest.fixture(scope="module")
def local_case(dump: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    case_dir = tmp_path_factory.mktemp("local") / "case"
    run_cli("--case", str(case_dir), "ingest", "--json", "--workers", "2", str(dump))
    return case_dir


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[DaskCluster]:
    running = DaskCluster(tmp_path, workers=2)
    try:
        yield running
    finally:
        running.close()


def _committed(case_dir: Path) -> int:
    try:
        db = sqlite3.connect(f"file:{case_dir / 'catalog.sqlite'}?mode=ro", uri=True, timeout=1)
        try:
            return int(db.execute("select count(*) from items").fetchone()[0])
        finally:
            db.close()
    except sqlite3.OperationalError:
        return 0  # not created yet, or locked by the writer for a moment


def _ingest_killing_a_worker(
    location: str, dump: Path, cluster: DaskCluster, committed: Callable[[], int]
) -> dict[str, Any]:
    """`ingest --cluster` in its own process; once 50 items are committed, SIGKILL a worker
    that holds a batch. Returns the run's JSON summary."""
    ingest = subprocess.Popen(
        [*CLI, "--case", location, "ingest", "--json", "--cluster", cluster.address, str(dump)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    killed: tuple[str, int, int] | None = None
    while ingest.poll() is None and killed is None:
        if committed() >= 50:
            busy = {w: k for w, k in cluster.client.processing().items() if k}
            pids = cluster.worker_pids()
            for worker, keys in busy.items():
                if worker in pids and any("run_batch_remote" in str(k) for k in keys):
                    os.kill(pids[worker], signal.SIGKILL)
                    killed = (worker, pids[worker], len(keys))
                    break
        time.sleep(0.05)
    stdout, stderr = ingest.communicate(timeout=600)
    assert ingest.returncode == 0, stderr.decode()
    assert killed is not None, "the run ended before a worker could be killed"
    assert killed[2] >= 1  # it held at least one batch when it died
    with suppress(ProcessLookupError):
        os.kill(killed[1], 0)
        pytest.fail(f"worker {killed[0]} (pid {killed[1]}) survived SIGKILL")
    summary: dict[str, Any] = json.loads(stdout)
    return summary


@pytest.mark.slow
def test_a_worker_killed_mid_run_changes_nothing(
    dump: Path, local_case: Path, cluster: DaskCluster, tmp_path: Path
) -> None:
    case_dir = tmp_path / "case"
    summary = _ingest_killing_a_worker(str(case_dir), dump, cluster, lambda: _committed(case_dir))
    assert report(case_dir) == report(local_case)
    ours, theirs = catalog_state(case_dir), catalog_state(local_case)
    for table in theirs:
        assert ours[table] == theirs[table], table
    assert summary["items"] == len(theirs["items"])
    assert not any((case_dir / "blobs" / "tmp").iterdir())


@pytest.mark.slow
@pytest.mark.postgres
def test_a_worker_killed_mid_run_on_a_postgresql_catalog(
    dump: Path,
    local_case: Path,
    cluster: DaskCluster,
    tmp_path: Path,
    pg_url: str,  # noqa: F811 - the fixture imported above
) -> None:
    """The server set-up: the catalog in PostgreSQL, the workers sharing only the blob
    directory. Every table, row for row (ids included), equals a local ingest's SQLite one."""
    blobs = tmp_path / "shared" / "blobs"
    run_cli("--case", pg_url, "init", "--blobs", str(blobs), "--index", str(tmp_path / "index"))

    def committed() -> int:
        with psycopg.connect(pg_url, autocommit=True) as conn:
            row = conn.execute("select count(*) from items").fetchone()
        return int(row[0]) if row else 0

    summary = _ingest_killing_a_worker(pg_url, dump, cluster, committed)
    assert report_of(pg_url) == report(local_case)
    server, local = Case.open(pg_url), Case.open(local_case)
    try:
        ours, theirs = full_state(server.catalog), full_state(local.catalog)
    finally:
        server.catalog.engine.dispose()
    assert ours.keys() == theirs.keys()
    assert [table for table in theirs if ours[table] != theirs[table]] == []
    assert summary["items"] == len(theirs["items"]) > 1000
    assert not any((blobs / "tmp").iterdir())


@pytest.mark.slow
def test_local_cluster_gives_the_local_result(dump: Path, local_case: Path, tmp_path: Path) -> None:
    case_dir = tmp_path / "case"
    run_cli("--case", str(case_dir), "ingest", "--json", "--cluster", "local:2", str(dump))
    assert catalog_state(case_dir) == catalog_state(local_case)
    # A rerun on the cluster adds nothing.
    again = json.loads(
        run_cli(
            "--case", str(case_dir), "ingest", "--json", "--cluster", "local:2", str(dump)
        ).stdout
    )
    assert again["this_run"]["new_items"] == 0
    assert catalog_state(case_dir) == catalog_state(local_case)


POISON = '''
"""Preloaded into dask workers by test_cluster: parsing poison.txt kills the worker process,
parsing slow.txt never ends."""
import os

from strongroom.formats import registry
from strongroom.formats.document import DocumentFormat

class Poisoned(DocumentFormat):
    def parse(self, data, name):
        if name == "poison.txt":
            os._exit(9)
        while name == "slow.txt":
            pass
        return super().parse(data, name)

def formats(options=None):
    table = registry.real_formats(options)
    table["document"] = Poisoned()
    return table

if not hasattr(registry, "real_formats"):  # dask may import a preload twice
    registry.real_formats = registry.formats
    registry.formats = formats
'''


@pytest.mark.slow
def test_items_that_kill_workers_or_never_end_are_recorded_as_failed(tmp_path: Path) -> None:
    preload = tmp_path / "poison_preload.py"
    preload.write_text(POISON)
    dump = tmp_path / "dump"
    dump.mkdir()
    for name in ("a.txt", "poison.txt", "slow.txt", "z.txt"):
        (dump / name).write_text(f"the file {name}\n")
    cluster = DaskCluster(tmp_path, workers=2, preload=preload)
    try:
        case = Case.init(tmp_path / "case")
        policy = IngestPolicy(workers=1, cluster=cluster.address, item_timeout_s=1)
        summary = case.ingest([dump], policy)
    finally:
        cluster.close()
    assert summary.worker_crashes == 1
    found = {}
    for num in range(1, summary.report["items"] + 1):
        item = case.item(str(num))
        found[item["name"]] = (item["status"], item["reason"])
    assert found["a.txt"] == ("ok", None)
    assert found["z.txt"] == ("ok", None)
    assert found["poison.txt"][0] == "failed"
    assert "cluster worker" in str(found["poison.txt"][1])
    assert found["slow.txt"] == ("failed", "timed out after 1 s")


def test_bad_cluster_addresses_are_usage_errors(tmp_path: Path) -> None:
    case = Case.init(tmp_path / "case")
    (tmp_path / "a.txt").write_text("text\n")
    for address, words in (("local:0", "local:N"), ("local:many", "local:N")):
        with pytest.raises(UsageError, match=words):
            case.ingest([tmp_path / "a.txt"], IngestPolicy(cluster=address))
    nobody = IngestPolicy(cluster="tcp://127.0.0.1:9", cluster_wait_s=2)
    with pytest.raises(
        UsageError, match=r"cannot reach the dask scheduler at tcp://127\.0\.0\.1:9"
    ):
        case.ingest([tmp_path / "a.txt"], nobody)
    assert case.report()["items"] == 0


def test_what_stops_a_worker_from_taking_part_is_named(tmp_path: Path) -> None:
    nowhere = tmp_path / "nowhere"
    assert probe_worker(str(nowhere), __version__, "m") == (
        f"cannot see the blob store {nowhere} (no {nowhere / 'tmp'})"
    )
    assert "the driver 0.0.0-other" in str(probe_worker(str(tmp_path), "0.0.0-other", "m"))
    (tmp_path / "tmp").mkdir()  # a blobs/ of its own at the same path: not the driver's
    assert "does not share the driver's blob store" in str(
        probe_worker(str(tmp_path), __version__, "m")
    )
    (tmp_path / "tmp" / "m").write_text("m")
    assert probe_worker(str(tmp_path), __version__, "m") is None

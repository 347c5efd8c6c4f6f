"""Search replicas (docs/server.md, "Search replicas"): a reading room serving its own copy of
the index against the shared catalog. `index snapshot` copies the index consistently while it
is being written; the replica follows the catalog's new items by itself, and catches up with
changed ones (tags, facts) by `reindex`. And several processes on one index (reading rooms,
an ingest): one writes at a time, the others search what is committed or wait their turn."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from strongroom.annotate import add_tags
from strongroom.case import Case
from strongroom.config import IngestPolicy
from strongroom.errors import UsageError
from strongroom.index.snapshot import snapshot
from strongroom.index.store import IndexBusy
from strongroom.web.app import create_app
from tests import synth
from tests.test_ingest import run_cli


def _case(root: Path, messages: int) -> Case:
    synth.write_mbox(root / "first.mbox", messages)
    case = Case.init(root / "case")
    case.ingest([root / "first.mbox"], IngestPolicy(workers=1))
    return case


def replica_of(case: Case, index: Path) -> Case:
    """The case as a second machine opens it: the same catalog and blobs, its own index at
    the recorded path (here another path on one machine)."""
    return Case(case.root, case.catalog, case.blobs.root, index)


def totals(client: TestClient, query: str) -> int:
    total: int = client.get("/search.json", params={"q": query}).json()["total"]
    return total


def test_a_replica_serves_a_snapshot_and_follows_the_catalog(tmp_path: Path) -> None:
    case = _case(tmp_path, 40)
    copy = tmp_path / "replica-index"
    made = json.loads(
        run_cli("--case", str(case.root), "index", "snapshot", str(copy), "--json").stdout
    )
    assert (made["documents"], made["last_num"]) == (41, 41)  # 40 messages and their mbox
    primary = TestClient(create_app(case))
    replica = TestClient(create_app(replica_of(case, copy)))
    for query in ("", "budget", "from:sender3@example.org", "date:2016-03"):
        assert totals(replica, query) == totals(primary, query) > 0, query

    # new items in the catalog reach the replica at its next search
    synth.write_mbox(tmp_path / "second.mbox", 10, start=1000)
    case.ingest([tmp_path / "second.mbox"], IngestPolicy(workers=1))
    assert totals(replica, "") == totals(primary, "") == 52
    # a change to items already indexed (a tag) does not, until the replica reindexes
    add_tags(case, "checked", [1, 2, 3], "ana")
    assert totals(primary, "tag:checked") == 3
    assert totals(replica, "tag:checked") == 0
    replica_of(case, copy).reindex()
    assert totals(replica, "tag:checked") == 3


def test_snapshots_taken_while_the_index_is_written_are_consistent(tmp_path: Path) -> None:
    """A writer keeps re-indexing every item (new segments, merges, old files deleted) while
    snapshots are taken: each copy opens and finds exactly what the index holds."""
    case = _case(tmp_path, 300)
    nums = list(range(1, case.catalog.report()["items"] + 1))
    expected = case.count("budget")
    writing = threading.Event()
    failures: list[BaseException] = []

    def writer() -> None:
        writing.set()
        try:
            for _ in range(25):
                case.index.refresh(case.catalog, nums)
        except BaseException as error:  # reported by the main thread
            failures.append(error)
        finally:
            writing.clear()

    thread = threading.Thread(target=writer)
    thread.start()
    writing.wait()
    copies = 0
    while writing.is_set() or copies < 3:
        made = snapshot(case.index.root, tmp_path / f"copy{copies}")
        assert made.documents == len(nums), made
        assert replica_of(case, made.path).count("budget") == expected
        copies += 1
    thread.join()
    assert not failures
    assert copies >= 3


def test_what_a_snapshot_refuses(tmp_path: Path) -> None:
    case = _case(tmp_path, 3)
    taken = tmp_path / "taken"
    taken.mkdir()
    (taken / "something").write_text("x")
    with pytest.raises(UsageError, match="exists and is not empty"):
        snapshot(case.index.root, taken)
    with pytest.raises(UsageError, match="no search index"):
        snapshot(tmp_path / "nowhere", tmp_path / "out")
    (tmp_path / "empty").mkdir()  # an empty directory is fine (a fresh mount point)
    assert snapshot(case.index.root, tmp_path / "empty").documents == 4
    assert not [p for p in tmp_path.iterdir() if ".partial-" in p.name]


def test_reindex_keeps_the_index_directory_itself(tmp_path: Path) -> None:
    """The index path may be a mount point (a serving machine's own disk), which cannot be
    removed: a rebuild empties it and fills it again."""
    case = _case(tmp_path, 5)
    before = case.index.root.stat().st_ino
    assert case.reindex() == 6
    assert case.index.root.stat().st_ino == before
    assert case.count("budget") == 5


HOLD_THE_INDEX = """
import sys
from pathlib import Path
from strongroom.index.store import WRITER_HEAP, SearchIndex

index = SearchIndex(Path(sys.argv[1]))
with index.exclusive():  # as an ingest or another reading room does while it writes
    writer = index.index.writer(heap_size=WRITER_HEAP, num_threads=1)
    print("writing", flush=True)
    sys.stdin.readline()
    del writer  # Tantivy's own lock goes with the writer, as at the end of SearchIndex._write
"""


def test_a_reading_room_searches_while_another_process_writes_the_index(tmp_path: Path) -> None:
    """Tantivy refuses a second writer (LockBusy); a search that found the catalog ahead of
    the index used to fail with it while an ingest or another reading room was writing."""
    case = _case(tmp_path, 10)
    behind = snapshot(case.index.root, tmp_path / "behind").path
    synth.write_mbox(tmp_path / "second.mbox", 5, start=500)
    case.ingest([tmp_path / "second.mbox"], IngestPolicy(workers=1))
    room = replica_of(case, behind)
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_THE_INDEX, str(behind)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "writing\n"
        assert room.count("budget") == 10  # what is committed; the writer adds the rest
        done: list[int] = []
        waiting = threading.Thread(target=lambda: done.append(room.index.update(case.catalog)))
        waiting.start()  # an ingest's update waits for its turn instead of failing
    finally:
        assert holder.stdin is not None
        holder.stdin.close()
        holder.wait(timeout=60)
    waiting.join(timeout=120)
    assert done == [6]  # the second mbox and its 5 messages
    assert room.count("budget") == 15


BEGIN_A_REBUILD = """
import sys
from pathlib import Path
from strongroom.index.store import SearchIndex

index = SearchIndex(Path(sys.argv[1]))
with index.exclusive():  # as `reindex` does: empty the index, then fill it
    index._wipe()
    (index.root / "being-rebuilt").write_text("the rebuild's first files")
    print("rebuilding", flush=True)
    sys.stdin.readline()
"""


def test_a_reading_room_does_not_empty_an_index_another_process_rebuilds(tmp_path: Path) -> None:
    case = _case(tmp_path, 5)
    room = replica_of(case, case.index.root)  # another process's view of the same index
    holder = subprocess.Popen(
        [sys.executable, "-c", BEGIN_A_REBUILD, str(case.index.root)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "rebuilding\n"
        with pytest.raises(IndexBusy, match="being rebuilt by another process"):
            room.count("budget")
        assert (case.index.root / "being-rebuilt").exists()
    finally:
        assert holder.stdin is not None
        holder.stdin.close()
        holder.wait(timeout=60)
    assert room.count("budget") == 5  # the rebuild is finished by whoever comes next

"""Input files stored by the workers: every byte kept, each input's sha256 recorded, and a
file that cannot be read when its worker comes to it recorded as a failed input."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

from strongroom.case import Case
from strongroom.config import IngestPolicy
from strongroom.ingest.runner import BEGIN_CHUNK
from strongroom.ingest.tasks import InputFailure, ItemResult, Task
from strongroom.ingest.worker import Dispatcher
from tests import synth


def _file_task(path: Path, input_id: int = 7) -> Task:
    from strongroom.ingest.runner import _UNDETECTED

    return Task(
        sha="",
        size=path.stat().st_size if path.exists() else 0,
        name=path.name,
        detection=_UNDETECTED,
        role="document",
        locator="file",
        input_id=input_id,
        path=str(path),
    )


def test_a_worker_stores_the_file_then_parses_it(tmp_path: Path) -> None:
    source = tmp_path / "one.eml"
    source.write_bytes(synth.message(3))
    dispatcher = Dispatcher(tmp_path / "blobs", IngestPolicy(workers=1))
    dispatcher.blobs.create()
    (result,) = dispatcher.handle(_file_task(source))
    assert isinstance(result, ItemResult)
    assert result.sha == hashlib.sha256(source.read_bytes()).hexdigest()
    assert dispatcher.blobs.read(result.sha) == source.read_bytes()
    assert (result.kind, result.format, result.status) == ("email", "email", "ok")
    assert result.record["subject"] == "Message number 3"
    assert (result.input_id, result.locator) == (7, "file")


def test_a_file_gone_before_its_worker_reads_it_fails_the_input(tmp_path: Path) -> None:
    dispatcher = Dispatcher(tmp_path / "blobs", IngestPolicy(workers=1))
    dispatcher.blobs.create()
    missing = tmp_path / "gone.eml"
    (failure,) = dispatcher.handle(_file_task(missing, input_id=9))
    assert isinstance(failure, InputFailure)
    assert failure.input_id == 9
    assert failure.reason.startswith(f"cannot read {missing}")


def test_inputs_stored_by_workers_are_kept_whole_and_finished_with_their_sha(
    tmp_path: Path,
) -> None:
    dump = tmp_path / "dump"
    dump.mkdir()
    count = BEGIN_CHUNK + 44  # more than one chunk of inputs begun at once
    synth.write_maildir(dump / "Maildir", count)
    synth.write_mbox(dump / "archive.mbox", 30, start=5000)  # a container, exploded here
    (dump / "copy.eml").write_bytes(synth.message(0))  # the same bytes as a Maildir message
    case = Case.init(tmp_path / "case")
    summary = case.ingest([dump], IngestPolicy(workers=2))
    assert summary.report["emails"] == count + 30
    assert summary.report["inputs_by_status"] == {"done": count + 2}
    assert summary.report["duplicates"] == 1
    db = sqlite3.connect(case.root / "catalog.sqlite")  # type: ignore[operator]
    rows = db.execute("select path, sha256 from inputs").fetchall()
    db.close()
    assert len(rows) == count + 2
    for path, sha in rows:
        data = Path(path).read_bytes()
        assert sha == hashlib.sha256(data).hexdigest(), path
        assert case.blobs.read(sha) == data
    again = case.ingest([dump], IngestPolicy(workers=2))
    assert again.inputs_skipped == count + 2
    assert again.new_items == 0


def test_a_file_named_twice_in_one_run_keeps_its_sha(tmp_path: Path) -> None:
    dump = tmp_path / "dump"
    dump.mkdir()
    synth.write_maildir(dump / "Maildir", 40)
    case = Case.init(tmp_path / "case")
    summary = case.ingest([dump, dump / "Maildir"], IngestPolicy(workers=2))  # overlapping
    assert summary.report["emails"] == 40
    assert summary.report["inputs_by_status"] == {"done": 40}
    db = sqlite3.connect(case.root / "catalog.sqlite")  # type: ignore[operator]
    shas = dict(db.execute("select path, sha256 from inputs").fetchall())
    db.close()
    for path, sha in shas.items():
        assert sha == hashlib.sha256(Path(path).read_bytes()).hexdigest(), path

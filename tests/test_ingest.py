"""Ingest behaviour a user relies on: counts, idempotent reruns, crash recovery, exit codes."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from strongroom.case import Case
from strongroom.config import IngestPolicy
from strongroom.errors import ExitStatus
from tests import synth

CLI = [sys.executable, "-c", "from strongroom.cli import main; main()"]


def run_cli(*args: str, check: int | None = 0) -> subprocess.CompletedProcess[bytes]:
    done = subprocess.run([*CLI, *args], check=False, capture_output=True, timeout=600)
    if check is not None:
        assert done.returncode == check, done.stderr.decode()
    return done


def catalog_state(case_dir: Path) -> dict[str, list[tuple[object, ...]]]:
    """Everything in the catalog but wall-clock times: what must match after a crash."""
    db = sqlite3.connect(case_dir / "catalog.sqlite")
    queries = {
        "items": "select num, sha256, size, kind, format, mime, detected_by, status, reason, name,"
        " subject, date_utc, date_offset, message_id, from_address, defect_count, record"
        " from items order by num",
        "locations": "select item_num, input_id, parent_num, locator, info from locations"
        " order by item_num, input_id, parent_num, locator",
        "inputs": "select id, path, size, sha256, status, reason from inputs order by id",
        "failures": "select parent_num, locator, status, reason from failures order by 1, 2",
        "texts": "select item_num, body, html from texts order by item_num",
        "addresses": "select * from addresses order by item_num, role, position",
    }
    state = {name: db.execute(sql).fetchall() for name, sql in queries.items()}
    db.close()
    return state


@pytest.fixture(scope="module")
def dump(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("dump")
    synth.write_dump(root)
    return root


@pytest.fixture(scope="module")
def reference(dump: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An uninterrupted ingest of the dump, to compare other runs against."""
    case_dir = tmp_path_factory.mktemp("reference") / "case"
    Case.init(case_dir).ingest([dump], IngestPolicy(workers=2))
    return case_dir


def test_counts_of_a_mixed_dump(reference: Path) -> None:
    report = Case.open(reference).report()
    # 400 mbox + 200 Maildir + 100 zipped messages; each zipped one has one attachment.
    assert report["emails"] == 700
    assert report["attachments"] == 100
    assert report["documents"] == 1  # notes.txt
    assert report["containers"] == 3  # the mbox, exports.zip, broken.zip
    assert report["inputs"] == 1 + 200 + 1 + 1 + 1
    assert report["failed"] == 1
    (failure,) = report["failures"]
    assert failure["source"].endswith("broken.zip")
    assert "zip" in failure["reason"]


def test_rerun_adds_nothing(dump: Path, reference: Path, tmp_path: Path) -> None:
    case_dir = tmp_path / "case"
    case = Case.init(case_dir)
    case.ingest([dump], IngestPolicy(workers=2))
    first = catalog_state(case_dir)
    summary = case.ingest([dump], IngestPolicy(workers=2))
    assert summary.new_items == 0
    assert summary.inputs_skipped == summary.inputs_seen
    assert catalog_state(case_dir) == first


def test_numbers_do_not_depend_on_worker_count(dump: Path, reference: Path, tmp_path: Path) -> None:
    case_dir = tmp_path / "case"
    Case.init(case_dir).ingest([dump], IngestPolicy(workers=1))
    ours, theirs = catalog_state(case_dir), catalog_state(reference)
    assert ours["items"] == theirs["items"]
    assert ours["locations"] == theirs["locations"]


def test_same_bytes_twice_are_one_item_with_two_locations(tmp_path: Path) -> None:
    data = synth.message(7)
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "one.eml").write_bytes(data)
    (tmp_path / "a" / "two.eml").write_bytes(data)
    (tmp_path / "a" / "three.eml").write_bytes(data.replace(b"line of", b"LINE OF"))
    case = Case.init(tmp_path / "case")
    report = case.ingest([tmp_path / "a"], IngestPolicy(workers=1)).report
    assert report["emails"] == 2
    assert report["duplicates"] == 1
    assert report["message_id_groups_with_different_bytes"] == 1
    item = case.item("1")
    assert sorted(Path(loc["path"]).name for loc in item["locations"]) == ["one.eml", "two.eml"]


def test_show_raw_is_byte_exact_and_json_has_the_record(reference: Path, dump: Path) -> None:
    case = Case.open(reference)
    maildir_file = sorted((dump / "Maildir" / "cur").iterdir())[3]
    from strongroom.blobs import sha256_file

    sha, _size = sha256_file(maildir_file)
    done = run_cli("--case", str(reference), "show", sha, "--raw")
    assert done.stdout == maildir_file.read_bytes()
    record = json.loads(run_cli("--case", str(reference), "show", sha, "--json").stdout)
    assert record["record"]["subject"] == "Message number 10003"
    assert record["record"]["date"]["offset"] == "+0100"  # 10003 % 5 - 2 hours
    assert record["locations"][0]["info"]["flags"] == "S"
    assert case.item(str(record["num"]))["sha256"] == sha


def test_cli_json_and_exit_codes(dump: Path, tmp_path: Path) -> None:
    case_dir = tmp_path / "case"
    run_cli("--case", str(case_dir), "init")
    done = run_cli(
        "--case",
        str(case_dir),
        "ingest",
        "--json",
        "--workers",
        "2",
        str(dump),
        check=ExitStatus.SOME_INPUTS_FAILED,
    )
    summary = json.loads(done.stdout)
    for key in ("inputs", "items", "emails", "attachments", "documents", "duplicates", "failed"):
        assert key in summary
    report = json.loads(run_cli("--case", str(case_dir), "report", "--json").stdout)
    assert report["failures"][0]["source"].endswith("broken.zip")
    assert {"source", "locator", "reason"} <= set(report["failures"][0])
    missing = run_cli("--case", str(case_dir), "show", "999999", check=ExitStatus.NOT_FOUND)
    assert b"no item 999999" in missing.stderr
    usage = run_cli("show", "1", check=ExitStatus.USAGE)
    assert b"--case" in usage.stderr
    not_case = run_cli("--case", str(dump), "report", check=ExitStatus.CASE_INVALID)
    assert b"not a strongroom case" in not_case.stderr
    absent = run_cli(
        "--case", str(case_dir), "ingest", str(tmp_path / "nope"), check=ExitStatus.NOT_FOUND
    )
    assert b"does not exist" in absent.stderr


def test_unreadable_inputs_are_recorded(tmp_path: Path) -> None:
    dump = tmp_path / "dump"
    dump.mkdir()
    (dump / "dangling").symlink_to(tmp_path / "gone")
    (dump / "ok.eml").write_bytes(synth.message(1))
    report = Case.init(tmp_path / "case").ingest([dump], IngestPolicy(workers=1)).report
    assert report["emails"] == 1
    (failure,) = report["failures"]
    assert failure["source"].endswith("dangling")
    assert "cannot stat" in failure["reason"]


def _kill_during_ingest(dump: Path, case_dir: Path, after_items: int) -> None:
    run_cli("--case", str(case_dir), "init")
    process = subprocess.Popen(
        [*CLI, "--case", str(case_dir), "ingest", "--json", "--workers", "2", str(dump)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    database = case_dir / "catalog.sqlite"
    deadline = time.monotonic() + 120
    while process.poll() is None and time.monotonic() < deadline:
        try:
            with sqlite3.connect(database, timeout=1) as db:
                count = db.execute("select count(*) from items").fetchone()[0]
        except sqlite3.OperationalError:
            count = 0
        if count >= after_items:
            break
        time.sleep(0.01)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()


@pytest.mark.slow
@pytest.mark.parametrize("after_items", [1, 150, 520, 800])
def test_kill_and_rerun_gives_the_uninterrupted_state(
    dump: Path, reference: Path, tmp_path: Path, after_items: int
) -> None:
    case_dir = tmp_path / "case"
    _kill_during_ingest(dump, case_dir, after_items)
    run_cli(
        "--case", str(case_dir), "ingest", "--json", str(dump), check=ExitStatus.SOME_INPUTS_FAILED
    )
    assert catalog_state(case_dir) == catalog_state(reference)
    assert not any((case_dir / "blobs" / "tmp").iterdir())


def _peak_tree_rss(args: list[str]) -> tuple[int, dict[str, object]]:
    """Run a CLI command; return the peak RSS summed over its process tree, and its JSON."""
    psutil = pytest.importorskip("psutil")
    process = subprocess.Popen([*CLI, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    parent = psutil.Process(process.pid)
    peak = 0
    while process.poll() is None:
        try:
            tree = [parent, *parent.children(recursive=True)]
            peak = max(peak, sum(p.memory_info().rss for p in tree))
        except psutil.Error:
            pass
        time.sleep(0.05)
    stdout, stderr = process.communicate()
    assert process.returncode == 0, stderr.decode()
    return peak, json.loads(stdout)


@pytest.mark.slow
def test_memory_does_not_grow_with_the_mbox(tmp_path: Path) -> None:
    peaks = {}
    for count in (800, 3200):  # about 80 MB and 320 MB of mail
        mbox = tmp_path / f"{count}.mbox"
        synth.write_mbox(mbox, count, body_bytes=100_000)
        case_dir = tmp_path / f"case{count}"
        peak, summary = _peak_tree_rss(
            ["--case", str(case_dir), "ingest", "--json", "--workers", "2", str(mbox)]
        )
        assert summary["emails"] == count
        peaks[count] = peak
        mbox.unlink()
    growth = peaks[3200] - peaks[800]
    # Four times the mail (240 MB more) and memory stays nearly flat: a window of in-flight
    # batches and a bounded index writer, never the file. The remainder is the search index's
    # segment merges, which grow slowly with the index.
    assert growth < 64 * 2**20, f"peak RSS grew by {growth / 2**20:.0f} MiB: {peaks}"

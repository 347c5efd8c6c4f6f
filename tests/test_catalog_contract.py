"""The catalog contract: every catalog behaviour, run on SQLite and on a real PostgreSQL server
that the tests start themselves (tests/pg.py), one parametrised suite for both.

Most tests read one ingest per backend of a real small dump (the demo generator's mail with
DKIM signatures and attachments, plus a duplicate file, a broken zip and a message with a NUL);
tests that change a catalog make their own. Where the backends differ the code is fixed, so
no test asks which backend it runs on, except to use what only PostgreSQL has (TRUNCATE).
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import inspect, select, text, update
from sqlalchemy.exc import DBAPIError

from strongroom.case import BLOBS_KEY, INDEX_KEY, Case, case_location
from strongroom.catalog import migrations
from strongroom.catalog import schema as s
from strongroom.catalog.audit import events, record
from strongroom.catalog.index_rows import display_names, summaries, texts_for
from strongroom.catalog.store import Catalog
from strongroom.catalog.tables_audit import audit_events
from strongroom.catalog.tables_custody import custody_events
from strongroom.catalog.verify_store import status_counts, verification
from strongroom.cli import cli
from strongroom.config import IngestPolicy
from strongroom.custody.events import custody_log
from strongroom.demo import DemoSpec, build_dump
from strongroom.errors import CaseError, ExitStatus, NotFound, UsageError
from strongroom.ingest.tasks import FailureResult, ItemResult, Result
from tests import synth
from tests.pg import PostgresServer, postgres_server  # noqa: F401 - the session fixture

BACKENDS = ["sqlite", "postgresql"]
CLI = [sys.executable, "-c", "from strongroom.cli import main; main()"]
_names = itertools.count(1)

# Columns whose values are wall-clock times or durations: the only ones two ingests of the
# same dump may differ in.
CLOCK = {"at", "seconds", "mtime_ns"}


class Maker:
    """Makes empty cases on one backend: a directory, or a fresh PostgreSQL database with blob
    and index directories beside it."""

    def __init__(self, backend: str, server: PostgresServer | None, root: Path) -> None:
        self.backend = backend
        self.server = server
        self.root = root
        self.databases: list[str] = []

    def location(self) -> str:
        """Where a new case would be: a directory that does not exist yet, or an empty
        database's URL."""
        n = next(_names)
        if self.server is None:
            return str(self.root / f"case{n}")
        name = f"contract_{os.getpid()}_{n}"
        self.databases.append(name)
        return self.server.create_database(name)

    def new(self) -> Case:
        location = self.location()
        if self.server is None:
            return Case.init(location)
        here = self.root / f"dirs{next(_names)}"
        return Case.init(location, blobs=here / "blobs", index=here / "index")

    def close(self) -> None:
        assert self.server is not None or not self.databases
        for name in self.databases:
            assert self.server is not None
            self.server.drop_database(name)


def _maker(request: pytest.FixtureRequest, backend: str, root: Path) -> Maker:
    server = request.getfixturevalue("postgres_server") if backend == "postgresql" else None
    return Maker(backend, server, root)


@pytest.fixture(params=BACKENDS)
def maker(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Maker]:
    made = _maker(request, request.param, tmp_path)
    yield made
    made.close()


@pytest.fixture(scope="module")
def dump(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("contract-dump")
    build_dump(root / "demo", DemoSpec(messages=40, attachments=12))
    extra = root / "extra"
    extra.mkdir()
    first = sorted((root / "demo" / "eml").iterdir())[0]
    shutil.copyfile(first, extra / "copy-of-first.eml")  # the same bytes, found twice
    (extra / "broken.zip").write_bytes(b"PK\x03\x04 this is not really a zip file")
    nul = synth.message(1).replace(b"line of message 1", b"line of\x00message 1", 1)
    (extra / "nul.eml").write_bytes(nul)
    return root


@pytest.fixture(scope="module")
def ingested_by_backend(
    request: pytest.FixtureRequest, dump: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Callable[[str], Case]]:
    """One ingest of the dump per backend (with the dump's DKIM key imported first), made
    when a test first asks for it."""
    cases: dict[str, Case] = {}
    makers: list[Maker] = []

    def get(backend: str) -> Case:
        if backend not in cases:
            made = _maker(request, backend, tmp_path_factory.mktemp(backend))
            makers.append(made)
            case = made.new()
            for zone in sorted((dump / "demo" / "dns").glob("*.zone")):
                case.import_keys(zone)
            case.ingest([dump], IngestPolicy(workers=2))
            cases[backend] = case
        return cases[backend]

    yield get
    for case in cases.values():
        case.catalog.engine.dispose()
    for made in makers:
        made.close()


@pytest.fixture(params=BACKENDS)
def ingested(request: pytest.FixtureRequest, ingested_by_backend: Callable[[str], Case]) -> Case:
    return ingested_by_backend(request.param)


def _timeless(value: Any) -> Any:
    """A JSON object's text without its `..._at` members (custody details carry times)."""
    if isinstance(value, str) and value.startswith("{"):
        try:
            data = json.loads(value)
        except ValueError:
            return value
        if isinstance(data, dict):
            return json.dumps({k: v for k, v in data.items() if not k.endswith("_at")})
    return value


def catalog_state(catalog: Catalog, *, row_ids: bool = True) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, in a stable order, without wall-clock values (and without
    each row's `id` when `row_ids` is false)."""
    state: dict[str, list[tuple[Any, ...]]] = {}
    with catalog.engine.connect() as conn:
        for table in s.metadata.sorted_tables:
            columns = [
                c
                for c in table.columns
                if not (c.name in CLOCK or c.name.endswith("_at")) and (row_ids or c.name != "id")
            ]
            query = select(*columns)
            if table is s.meta:  # where a case keeps its files is no part of its content
                query = query.where(s.meta.c.key.not_in(("created_at", BLOBS_KEY, INDEX_KEY)))
            rows = conn.execute(query).all()
            state[table.name] = sorted((tuple(map(_timeless, row)) for row in rows), key=repr)
    return state


def _run_cli(location: str, *args: str, check: int = 0) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "STRONGROOM_CASE": location}
    done = subprocess.run(
        [*CLI, *args], check=False, capture_output=True, text=True, timeout=300, env=env
    )
    assert done.returncode == check, done.stderr
    return done


# -- creating and checking a catalog ------------------------------------------------------------
def test_a_new_catalog_is_stamped_and_has_the_codes_tables(maker: Maker) -> None:
    case = maker.new()
    case.catalog.check()
    status = migrations.status(case.catalog.engine)
    assert (status.current, status.pending, status.differences) == (migrations.HEAD, [], [])
    with case.catalog.engine.connect() as conn:
        assert set(s.metadata.tables) <= set(inspect(conn).get_table_names())
    assert Case.open(case.location).report()["items"] == 0


def test_creating_an_existing_case_opens_it(maker: Maker) -> None:
    case = maker.new()
    case.catalog.set_facts(0, "tag", ["kept"])
    again = Case.init(case.location) if case.root is None else Case.init(case.root)
    assert again.blobs.root == case.blobs.root
    with again.catalog.engine.connect() as conn:
        assert conn.execute(select(s.facts.c.value)).scalars().all() == ["kept"]


def test_a_location_that_is_not_a_case_is_refused(maker: Maker) -> None:
    location = maker.location()  # an empty database, or a directory that is not a case
    if maker.server is None:
        Path(location).mkdir()
    with pytest.raises(CaseError, match="not a strongroom"):
        Case.open(location)


def test_a_newer_catalog_is_refused(maker: Maker) -> None:
    case = maker.new()
    with case.catalog.engine.begin() as conn:
        migrations.stamp(conn, "9999")
    with pytest.raises(CaseError, match="newer") as raised:
        Case.open(case.location)
    assert raised.value.hint == "upgrade strongroom"
    result = CliRunner().invoke(cli, ["--case", case.location, "migrate", "--check"])
    assert isinstance(result.exception, CaseError) and "newer" in result.exception.message


def test_a_catalog_behind_the_head_asks_for_migrate(
    maker: Maker, monkeypatch: pytest.MonkeyPatch
) -> None:
    case = maker.new()
    monkeypatch.setattr(migrations, "REVISIONS", (*migrations.REVISIONS, "9998"))
    monkeypatch.setattr(migrations, "HEAD", "9998")
    with pytest.raises(CaseError, match="needs migrating to 9998") as raised:
        Case.open(case.location)
    assert raised.value.hint is not None
    assert raised.value.hint.endswith(f"strongroom --case {case.location} migrate")
    result = CliRunner().invoke(cli, ["--case", case.location, "migrate", "--check", "--json"])
    assert isinstance(result.exception, CaseError)  # exit status 5 from main()
    assert result.exception.exit_status == ExitStatus.CASE_INVALID
    assert json.loads(result.stdout)["pending"] == ["9998"]


def test_a_catalog_from_before_revisions_is_stamped_at_the_baseline(maker: Maker) -> None:
    case = maker.new()
    with case.catalog.engine.begin() as conn:
        conn.execute(text("DROP TABLE alembic_version"))
    assert migrations.status(case.catalog.engine).current is None
    reopened = Case.open(case.location)
    assert migrations.status(reopened.catalog.engine).current == migrations.BASELINE


def test_migrate_on_a_current_catalog_changes_nothing(maker: Maker) -> None:
    case = maker.new()
    for args in (["migrate", "--check", "--json"], ["migrate", "--json"]):
        result = CliRunner().invoke(cli, ["--case", case.location, *args])
        assert result.exit_code == 0, result.output
        status = json.loads(result.stdout)
        assert (status["current"], status["pending"], status["applied"]) == (
            migrations.HEAD,
            [],
            [],
        )
        assert status["differences"] == []


def test_migrate_applies_to_an_unstamped_catalog(maker: Maker) -> None:
    case = maker.new()
    with case.catalog.engine.begin() as conn:
        conn.execute(text("DROP TABLE alembic_version"))
        conn.execute(text("DROP TABLE audit_events"))  # a capability table it never had
    assert migrations.upgrade(case.catalog.engine) == []
    status = migrations.status(case.catalog.engine)
    assert (status.current, status.differences) == (migrations.BASELINE, [])
    record(case.catalog, "tester", "check.audit")  # the missing table, created and guarded
    with pytest.raises(DBAPIError, match="append-only"), case.catalog.engine.begin() as conn:
        conn.execute(audit_events.delete())


NEXT_REVISION = """
import sqlalchemy as sa
from alembic import op

revision = "9002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("inputs") as batch:
        batch.add_column(sa.Column("note", sa.Text))
"""


def test_migrate_applies_a_pending_revision(
    maker: Maker, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    case = maker.new()
    synth.write_mbox(tmp_path / "one.mbox", 3)
    case.ingest([tmp_path / "one.mbox"], IngestPolicy(workers=1))
    scripts = tmp_path / "migrations"
    shutil.copytree(migrations.HERE, scripts, ignore=shutil.ignore_patterns("__pycache__"))
    (scripts / "versions" / "9002_note.py").write_text(NEXT_REVISION)
    monkeypatch.setattr(migrations, "HERE", scripts)
    monkeypatch.setattr(migrations, "REVISIONS", (*migrations.REVISIONS, "9002"))
    monkeypatch.setattr(migrations, "HEAD", "9002")
    with pytest.raises(CaseError, match="needs migrating"):
        Case.open(case.location)
    assert migrations.upgrade(case.catalog.engine) == ["9002"]
    status = migrations.status(case.catalog.engine)
    assert (status.current, status.pending) == ("9002", [])
    # the revision added a column the code does not define: the comparison names it
    assert status.differences == ["remove_column inputs.note"]
    reopened = Case.open(case.location)
    assert reopened.report()["emails"] == 3
    assert migrations.upgrade(case.catalog.engine) == []


def test_revisions_listed_in_code_are_those_in_versions() -> None:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(migrations.HERE))
    script = ScriptDirectory.from_config(config)
    listed = [rev.revision for rev in reversed(list(script.walk_revisions()))]
    assert tuple(listed) == migrations.REVISIONS
    assert script.get_current_head() == migrations.HEAD


# -- ingest, end to end -------------------------------------------------------------------------
def test_ingest_counts_every_input(ingested: Case, dump: Path) -> None:
    manifest = json.loads((dump / "demo" / "MANIFEST.json").read_text())
    report = ingested.report()
    # the dump's emails, the emails attached to them, and the message with a NUL
    eml = manifest["attachment_types"].get("eml", 0)
    assert report["emails"] == manifest["emails_written"] + eml + 1
    assert report["duplicates"] >= 1
    assert set(report["inputs_by_status"]) == {"done"}
    broken = [f for f in report["failures"] if f["source"].endswith("broken.zip")]
    assert len(broken) == 1 and "zip" in broken[0]["reason"]
    assert report["failed"] == len(report["failures"])


def test_items_are_numbered_from_one_without_gaps(ingested: Case) -> None:
    with ingested.catalog.engine.connect() as conn:
        nums = conn.execute(select(s.items.c.num).order_by(s.items.c.num)).scalars().all()
    assert nums == list(range(1, len(nums) + 1))


def test_both_backends_hold_the_same_catalog(
    ingested_by_backend: Callable[[str], Case],
) -> None:
    sqlite = catalog_state(ingested_by_backend("sqlite").catalog)
    postgresql = catalog_state(ingested_by_backend("postgresql").catalog)
    for table in sqlite:
        assert postgresql[table] == sqlite[table], table


def test_a_rerun_adds_nothing(ingested: Case, dump: Path) -> None:
    # Row ids aside: tables an ingest recomputes (threads, people) are rewritten, and SQLite
    # may hand a rewritten row its old id where a PostgreSQL sequence moves on.
    before = catalog_state(ingested.catalog, row_ids=False)
    summary = ingested.ingest([dump], IngestPolicy(workers=2))
    assert summary.new_items == 0
    assert summary.inputs_skipped == summary.inputs_seen
    after = catalog_state(ingested.catalog, row_ids=False)
    assert {t: rows for t, rows in after.items() if t != "verify_runs"} == {
        t: rows for t, rows in before.items() if t != "verify_runs"
    }


def test_the_same_bytes_twice_are_one_item_with_two_locations(ingested: Case, dump: Path) -> None:
    first = sorted((dump / "demo" / "eml").iterdir())[0]
    from strongroom.blobs import sha256_file

    sha, _ = sha256_file(first)
    item = ingested.item(sha)
    names = sorted(Path(location["path"]).name for location in item["locations"])
    assert names == sorted([first.name, "copy-of-first.eml"])
    assert ingested.raw(str(item["num"])) == first.read_bytes()


def test_find_item_by_number_and_by_sha(ingested: Case) -> None:
    one = ingested.item("1")
    assert ingested.item(one["sha256"].upper())["num"] == 1
    assert ingested.catalog.find_item(one["sha256"]) is not None
    for missing in ("999999", str(2**31), str(2**40)):
        with pytest.raises(NotFound):
            ingested.item(missing)
    with pytest.raises(UsageError):
        ingested.item("not-a-key")


def test_a_container_lists_its_children_and_failures(ingested: Case) -> None:
    with ingested.catalog.engine.connect() as conn:
        mbox = conn.execute(
            select(s.items.c.num).where(s.items.c.format == "mbox").order_by(s.items.c.num)
        ).scalar()
        broken = conn.execute(
            select(s.items.c.num).where(s.items.c.name == "broken.zip")
        ).scalar_one()
    children = ingested.item(str(mbox))["children"]
    assert children and all(child["locator"].startswith("offset ") for child in children)
    assert ingested.item(str(broken))["status"] in ("failed", "corrupt")


def test_texts_keep_the_words_and_a_nul_becomes_a_replacement_character(ingested: Case) -> None:
    nul = ingested.search('"line of"', limit=5, facets=False)
    assert nul.total == 1
    num = nul.hits[0]["id"]
    body = texts_for(ingested.catalog, [num])[num]
    assert "line of\ufffdmessage 1" in body and "\x00" not in body
    assert ingested.item(str(num))["text"] == body


def test_addresses_and_summaries(ingested: Case) -> None:
    with ingested.catalog.engine.connect() as conn:
        row = conn.execute(
            select(s.addresses.c.item_num, s.addresses.c.address_key, s.addresses.c.name)
            .where(s.addresses.c.role == "from", s.addresses.c.name != "")
            .order_by(s.addresses.c.item_num)
        ).first()
    assert row is not None
    summary = summaries(ingested.catalog, [row.item_num])[row.item_num]
    assert summary["from"] == row.address_key and summary["from_name"] == row.name
    assert row.name in display_names(ingested.catalog, [row.address_key])[row.address_key]


def test_report_counts_by_extraction_from_facts(ingested: Case) -> None:
    report = ingested.report()
    with ingested.catalog.engine.connect() as conn:
        documents = conn.execute(
            select(s.items.c.num).where(s.items.c.kind.in_(("attachment", "document")))
        ).all()
    assert sum(report["by_status"].values()) == len(documents)


def test_facts_are_replaced_per_field(maker: Maker) -> None:
    case = maker.new()
    case.catalog.set_facts(7, "tag", ["b", "a", "a"])
    case.catalog.set_facts(7, "flags", ["verified"])
    case.catalog.set_facts(7, "tag", ["c"])
    with case.catalog.engine.connect() as conn:
        rows = conn.execute(
            select(s.facts.c.field, s.facts.c.value).order_by(s.facts.c.field, s.facts.c.value)
        ).all()
    assert [tuple(r) for r in rows] == [("flags", "verified"), ("tag", "c")]


def test_threads_and_thread_members(ingested: Case) -> None:
    with ingested.catalog.engine.connect() as conn:
        threads = conn.execute(
            select(s.threads.c.thread).group_by(s.threads.c.thread).order_by(s.threads.c.thread)
        ).scalars()
        thread = next(t for t in threads if len(ingested.catalog.thread_members(t)) > 1)
    members = ingested.catalog.thread_members(thread)
    assert members == sorted(members) and members[0] == thread
    shown = ingested.thread(members[-1])
    assert sorted(entry["id"] for entry in shown) == members
    message_id = ingested.item(str(members[-1]))["message_id"]
    assert ingested.thread_members(message_id) == members
    assert ingested.catalog.thread_members(10**6) == []


def test_verification_results_are_stored(ingested: Case, dump: Path) -> None:
    manifest = json.loads((dump / "demo" / "MANIFEST.json").read_text())
    counts = status_counts(ingested.catalog)
    assert counts["verified"] >= manifest["dkim_signed"] > 0
    hit = ingested.search("is:verified", limit=1, facets=False).hits[0]
    result = verification(ingested.catalog, hit["id"])
    assert result is not None and result["status"] == "verified"
    assert result["dkim"][0]["status"] == "pass" and result["dkim"][0]["key"] is not None


def test_known_inputs(ingested: Case, dump: Path) -> None:
    known = ingested.catalog.known_inputs()
    files = {str(p) for p in dump.rglob("*") if p.is_file()}
    assert set(known) == files
    assert {status for _id, status, _size, _mtime in known.values()} == {"done"}
    assert ingested.catalog.unfinished_inputs() == 0


def test_search_on_the_index_built_from_the_catalog(ingested: Case) -> None:
    report = ingested.report()
    assert ingested.count("kind:email") == report["emails"]


# -- logs that cannot be rewritten ----------------------------------------------------------------
def test_the_custody_log_is_append_only(ingested: Case) -> None:
    log = custody_log(ingested.catalog)
    assert len([e for e in log if e["event"] == "ingested"]) >= ingested.report()["items"]
    statements: list[Any] = [
        update(custody_events).values(sha256="0" * 64),
        custody_events.delete().where(custody_events.c.id == log[0]["id"]),
    ]
    if ingested.catalog.engine.dialect.name == "postgresql":
        statements.append(text("TRUNCATE custody_events"))
    for statement in statements:
        with pytest.raises(DBAPIError, match="append-only"), ingested.catalog.engine.begin() as c:
            c.execute(statement)
    assert custody_log(ingested.catalog) == log


def test_the_audit_log_is_recorded_and_append_only(maker: Maker) -> None:
    case = maker.new()
    record(case.catalog, "ana", "pii.decide", "12", {"kept": False})
    record(case.catalog, "ben", "login")
    assert [(e["actor"], e["action"], e["detail"]) for e in events(case.catalog)] == [
        ("ben", "login", {}),
        ("ana", "pii.decide", {"kept": False}),
    ]
    assert [e["actor"] for e in events(case.catalog, "pii.")] == ["ana"]
    with pytest.raises(DBAPIError, match="append-only"), case.catalog.engine.begin() as conn:
        conn.execute(update(audit_events).values(actor="nobody"))


# -- the write path -------------------------------------------------------------------------------
def _item(n: int, **changes: Any) -> ItemResult:
    data = synth.message(n)
    import hashlib

    item = ItemResult(
        sha=hashlib.sha256(data).hexdigest(),
        size=len(data),
        name=None,
        kind="email",
        format="email",
        mime="message/rfc822",
        detected_by="test",
        status="ok",
        reason=None,
        locator=f"file {n}",
        input_id=0,
        parent_sha=None,
        info={},
        record={"subject": f"Message number {n}"},
        text=f"text {n}",
    )
    return replace(item, **changes)


def test_a_rolled_back_batch_leaves_no_gap_in_the_numbers(maker: Maker) -> None:
    case = maker.new()
    case.catalog.write([_item(1)])
    orphan = FailureResult(parent_sha="f" * 64, locator="member x", status="failed", reason="x")
    with pytest.raises(RuntimeError, match="before its container"):
        case.catalog.write([_item(2), _item(3), orphan])  # one transaction: none of it stays
    case.catalog.write([_item(3), _item(2)])
    with case.catalog.engine.connect() as conn:
        rows = conn.execute(select(s.items.c.num, s.items.c.subject).order_by(s.items.c.num))
        assert [tuple(r) for r in rows] == [
            (1, "Message number 1"),
            (2, "Message number 3"),
            (3, "Message number 2"),
        ]


def test_writing_again_adds_no_item_and_no_location(maker: Maker) -> None:
    case = maker.new()
    batch: list[Result] = [_item(1), _item(2), _item(1, locator="file again")]
    case.catalog.write(batch)
    case.catalog.write(batch)
    report = case.report()
    assert (report["items"], report["duplicates"]) == (2, 1)


def test_values_sqlite_accepts_are_accepted(maker: Maker) -> None:
    """Lengths are not enforced and integers are 64-bit on both backends: a hostile header
    must not fail a batch on one of them."""
    case = maker.new()
    long_mime = "application/x-" + "a" * 300
    case.catalog.write([_item(1, mime=long_mime, format="f" * 40, kind="k" * 40)])
    item = case.item("1")
    assert (item["mime"], item["format"]) == (long_mime, "f" * 40)
    with case.catalog.engine.begin() as conn:
        conn.execute(s.threads.insert().values(item_num=1, thread=1, depth=0, position=2**40))
        assert conn.execute(select(s.threads.c.position)).scalar() == 2**40


# -- the command line on each backend ----------------------------------------------------------
def test_the_command_line_reads_the_case(ingested: Case) -> None:
    report = json.loads(_run_cli(ingested.location, "report", "--json").stdout)
    assert report == json.loads(json.dumps(ingested.report()))
    shown = json.loads(_run_cli(ingested.location, "show", "1", "--json").stdout)
    assert shown["sha256"] == ingested.item("1")["sha256"]
    hits = json.loads(_run_cli(ingested.location, "search", "kind:email", "--json").stdout)
    assert hits["total"] == report["emails"]


def test_the_command_line_ingests_into_the_case(maker: Maker, tmp_path: Path) -> None:
    case = maker.new()
    synth.write_mbox(tmp_path / "one.mbox", 5)
    done = _run_cli(case.location, "ingest", "--json", "--workers", "1", str(tmp_path / "one.mbox"))
    summary = json.loads(done.stdout)
    assert (summary["emails"], summary["this_run"]["new_items"]) == (5, 6)
    assert (
        json.loads(_run_cli(case.location, "migrate", "--check", "--json").stdout)["pending"] == []
    )


# -- a catalog in PostgreSQL: where its blobs and index live ------------------------------------
def test_a_postgresql_case_records_its_directories(
    request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    server: PostgresServer = request.getfixturevalue("postgres_server")
    url = server.create_database(f"dirs_{os.getpid()}")
    try:
        with pytest.raises(UsageError, match="needs directories") as raised:
            Case.init(url)
        assert raised.value.hint is not None and "--blobs DIR --index DIR" in raised.value.hint
        Case.init(url, blobs=tmp_path / "blobs", index=tmp_path / "index")
        case = Case.open(case_location(url))  # as the CLI carries --case
        assert (case.root, case.blobs.root, case.index.root) == (
            None,
            tmp_path / "blobs",
            tmp_path / "index",
        )
        with pytest.raises(UsageError, match="keeps that directory"):
            Case.init(url, blobs=tmp_path / "elsewhere", index=tmp_path / "index")
        shutil.rmtree(tmp_path / "blobs")
        with pytest.raises(CaseError, match="not on this machine"):
            Case.open(url)
        case.catalog.engine.dispose()
    finally:
        server.drop_database(f"dirs_{os.getpid()}")


def test_case_locations_keep_the_url_and_hide_the_password() -> None:
    url = "postgres://ana:s3cret@db.example.org:5433/leak?sslmode=require"
    carried = case_location(url)
    assert isinstance(carried, Path) and "/" not in str(carried)
    catalog = Case.catalog_at(carried)
    assert catalog.url == "postgresql+psycopg://ana:s3cret@db.example.org:5433/leak?sslmode=require"
    assert catalog.name == "postgresql+psycopg://ana:***@db.example.org:5433/leak?sslmode=require"
    assert case_location("./case") == Path("case")


def test_an_unreachable_server_is_a_clear_error(tmp_path: Path) -> None:
    url = f"postgresql://nobody@/nothing?host={tmp_path}"  # no server listens there
    with pytest.raises(CaseError, match="cannot read the catalog at postgresql"):
        Case.open(url)
    with pytest.raises(CaseError, match="cannot reach the catalog at postgresql"):
        Case.init(url, blobs=tmp_path / "blobs", index=tmp_path / "index")
    assert not (tmp_path / "blobs").exists()


def test_custody_keys_live_with_the_case_files(maker: Maker) -> None:
    case = maker.new()
    # a case directory keeps its keys inside; a PostgreSQL case beside its blob directory
    assert case.key_dir == (case.root or case.blobs.root.parent) / "custody"
    done = _run_cli(case.location, "custody", "keygen")
    assert (case.key_dir / "custody.key").exists(), done.stderr

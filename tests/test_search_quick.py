"""The search command's quick path (index/quick.py): the same answers as the full path, without
SQLAlchemy, and the full path whenever the index or the catalog needs it."""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from strongroom import case as case_module
from strongroom.case import Case
from strongroom.catalog import migrations
from strongroom.catalog import schema as catalog_schema
from strongroom.config import IngestPolicy
from strongroom.demo import DemoSpec, build_dump
from strongroom.errors import ExitStatus
from strongroom.index import quick
from strongroom.index.quick import open_quick
from strongroom.index.schema import MARKER

# Runs the CLI, then reports on stderr's last line which slow-to-import modules it loaded.
PROBE = """
import json, sys
from strongroom.cli import main
try:
    main()
finally:
    heavy = ("sqlalchemy", "rich", "strongroom.case", "strongroom.catalog", "strongroom.analyze.")
    loaded = sorted({m.split(".")[0] if m.startswith(("sqlalchemy", "rich")) else m
                     for m in sys.modules if m.startswith(heavy)})
    print(json.dumps(loaded), file=sys.stderr)
"""


def probe(*args: str, check: int = 0) -> tuple[str, list[str], str]:
    """(stdout, heavy modules loaded, the rest of stderr) of one CLI run."""
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *args],
        check=False,
        capture_output=True,
        text=True,
        timeout=300,
    )
    *rest, last = done.stderr.rstrip("\n").split("\n")
    assert done.returncode == check, done.stderr
    return done.stdout, json.loads(last), "\n".join(rest)


@pytest.fixture(scope="module")
def case(tmp_path_factory: pytest.TempPathFactory) -> Case:
    root = tmp_path_factory.mktemp("quick")
    build_dump(root / "dump", DemoSpec(messages=120, attachments=40))
    case = Case.init(root / "case")
    case.ingest([root / "dump"], IngestPolicy(workers=2))
    return case


def queries(case: Case) -> list[str]:
    """Queries that reach every part of a hit: senders, attachments, threads, prefixes."""
    email = case.search("kind:email", limit=1, sort="date", facets=False).hits[0]
    sender = email["from"]
    message_id = case.item(str(email["id"]))["record"]["message_id"]
    return [
        "",
        "budget OR meeting OR report",
        f"from:{sender}",
        f"from:@{sender.split('@')[1]}",
        '"the"',
        "kind:attachment",
        "has:attachment",
        "attachment:the",
        "secur* OR fin*",
        f"thread:{email['id']}",
        f"thread:{message_id.strip('<>')}",
        "date:2016",
        "-kind:email",
    ]


def test_quick_path_gives_the_full_paths_answers(case: Case) -> None:
    fast = open_quick(str(case.root))
    assert fast is not None
    full = Case.open(case.root)
    nonempty = 0
    for query in queries(case):
        for sort, offset in (("relevance", 0), ("-date", 3), ("date", 0)):
            expected = full.search(query, limit=15, offset=offset, sort=sort).to_json()
            assert fast.search(query, limit=15, offset=offset, sort=sort).to_json() == expected
        assert fast.count(query) == full.count(query)
        nonempty += bool(full.count(query))
    assert nonempty >= len(queries(case)) - 1  # the comparison is over real hits


def test_search_command_loads_no_sqlalchemy(case: Case) -> None:
    root = str(case.root)
    domain_query = "from:@" + case.search("kind:email", limit=1).hits[0]["from"].split("@")[1]
    total = case.count(domain_query)
    assert total > 3
    counted, loaded, _ = probe("--case", root, "search", domain_query, "--count")
    assert (counted.strip(), loaded) == (str(total), [])
    as_json, loaded, _ = probe("--case", root, "search", domain_query, "--json", "--limit", "3")
    data = json.loads(as_json)
    assert (data["total"], len(data["hits"]), loaded) == (total, 3, [])
    assert data["hits"][0]["snippet"] and data["facets"]["senders"]
    as_csv, loaded, _ = probe("--case", root, "search", domain_query, "--csv", "--sort", "-date")
    assert (len(as_csv.splitlines()), loaded) == (min(total, 20) + 1, [])
    text, loaded, _ = probe("--case", root, "search", domain_query, "--offset", "2")
    assert (text.splitlines()[0], loaded) == (f"{total} matching items, from 3", [])


def test_index_behind_the_catalog_takes_the_full_path_and_is_repaired(
    case: Case, tmp_path: Path
) -> None:
    root = tmp_path / "case"
    shutil.copytree(case.root, root)
    marker = root / "index" / MARKER
    data = json.loads(marker.read_text())
    # A crash after the catalog's commit, before the index caught up: the marker is behind.
    marker.write_text(json.dumps({**data, "last_num": 5}))
    assert open_quick(str(root)) is None
    counted, loaded, _ = probe("--case", str(root), "search", "", "--count")
    assert counted.strip() == str(case.count(""))
    assert "sqlalchemy" in loaded  # the full path ran, and caught the index up
    assert json.loads(marker.read_text())["last_num"] == data["last_num"]
    assert open_quick(str(root)) is not None
    # An index of another schema version is rebuilt by the full path.
    marker.write_text(json.dumps({**data, "schema": -1}))
    assert open_quick(str(root)) is None
    counted, loaded, _ = probe("--case", str(root), "search", "", "--count")
    assert (counted.strip(), "sqlalchemy" in loaded) == (str(case.count("")), True)


def test_catalog_the_quick_path_cannot_vouch_for_takes_the_full_path(
    case: Case, tmp_path: Path
) -> None:
    root = tmp_path / "case"
    shutil.copytree(case.root, root)
    with sqlite3.connect(root / "catalog.sqlite") as db:
        db.execute("UPDATE alembic_version SET version_num = '9999'")
    db.close()
    assert open_quick(str(root)) is None
    _, _, stderr = probe(
        "--case", str(root), "search", "budget", "--count", check=ExitStatus.CASE_INVALID
    )
    assert "newer than this strongroom" in stderr
    assert "Traceback" not in stderr
    assert open_quick(str(tmp_path / "nowhere")) is None
    assert open_quick("postgresql://strongroom@localhost/case") is None


def test_quick_path_mirrors_the_catalogs_versions_and_names() -> None:
    assert quick.CATALOG_SCHEMA == catalog_schema.SCHEMA_VERSION
    assert quick.CATALOG_REVISION == migrations.HEAD
    assert quick.CASE_MARKER == case_module.MARKER
    assert quick.CATALOG_FILE == case_module.CATALOG_FILE


def test_show_thread_takes_the_quick_path(case: Case) -> None:
    fast = open_quick(str(case.root))
    assert fast is not None
    threaded = [hit["id"] for hit in case.search("kind:email", limit=200, facets=False).hits]
    longest = max(threaded, key=lambda num: len(case.thread(num)))
    assert len(case.thread(longest)) > 1
    for num in (longest, threaded[0], threaded[-1]):
        assert fast.thread(num) == case.thread(num)
        assert fast.thread_text(num) == case.thread_text(num)
    # The tree is drawn by analyze/threads.py (pure); the catalog is not opened.
    text, loaded, _ = probe("--case", str(case.root), "show", f"thread:{longest}")
    expected = case.thread_text(longest).rstrip("\n")
    assert (text.rstrip("\n"), loaded) == (expected, ["strongroom.analyze.threads"])
    as_json, loaded, _ = probe("--case", str(case.root), "show", f"thread:{longest}", "--json")
    assert (json.loads(as_json), loaded) == (case.thread(longest), ["strongroom.analyze.threads"])
    # An item in no thread, or none at all: the full path says so, as before.
    attachment = case.search("kind:attachment", limit=1, facets=False).hits[0]["id"]
    assert fast.thread(attachment) is None and fast.thread_text(attachment) is None
    text, _, _ = probe("--case", str(case.root), "show", f"thread:{attachment}")
    assert text.strip() == f"item {attachment} is not part of any thread"
    probe("--case", str(case.root), "show", "thread:999999", "--json", check=ExitStatus.NOT_FOUND)


def test_default_output_is_the_same_on_a_pipe_and_through_rich(case: Case) -> None:
    """Piped, the hit list is written without rich; on a terminal (forced here) rich styles
    the same text."""
    root = str(case.root)
    hits = case.search("the", limit=5, facets=False).hits
    assert all(hit["snippet"] for hit in hits)
    piped, loaded, _ = probe("--case", root, "search", "the", "--limit", "5")
    assert loaded == []
    lines = piped.splitlines()
    assert lines[0] == f"{case.count('the')} matching items"
    for hit, head, snippet in zip(hits, lines[1::2], lines[2::2], strict=True):
        assert head.startswith(f"#{hit['id']} {hit['kind']} ")
        assert head.endswith(f" — {hit['subject'] or hit['name']}")
        plain = html.unescape(hit["snippet"].replace("<mark>", "").replace("</mark>", ""))
        assert snippet.endswith(plain)
    styled = subprocess.run(
        [sys.executable, "-c", PROBE, "--case", root, "search", "the", "--limit", "5"],
        check=True,
        capture_output=True,
        text=True,
        env={**os.environ, "FORCE_COLOR": "1"},
    ).stdout
    assert "\x1b[1m" in styled and "\x1b[7m" in styled  # bold numbers, reversed matches
    assert re.sub(r"\x1b\[[0-9;]*m", "", styled) == piped

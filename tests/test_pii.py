"""Personal data in a real case: the demo dump's planted card numbers and SSNs are all found,
in bodies and attachments; findings become searchable facts; reruns do nothing; a killed scan
finishes on the next run; decisions (one by one, by type, by query, case-wide) change what a
release hides and are all in the audit log; the CLI speaks JSON and names bad input."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from strongroom.case import Case
from strongroom.catalog import pii_store as store
from strongroom.catalog import schema as s
from strongroom.catalog.audit import events
from strongroom.config import IngestPolicy
from strongroom.demo import DemoManifest, DemoSpec, build_dump
from strongroom.demo.manifest import MANIFEST_NAME
from strongroom.pii.decisions import (
    Filter,
    decide,
    decide_bulk,
    items_matching,
    redaction_plan,
    review,
)
from strongroom.pii.scan import scan_case

CLI = [sys.executable, "-c", "from strongroom.cli import main; main()"]
SPEC = DemoSpec()  # the small preset: 600 emails, 250 attachments


def ingest_demo(dump: Path, root: Path) -> Case:
    """The dump as a leak would arrive: without the generator's own answer sheet."""
    case = Case.init(root)
    inputs = sorted(p for p in dump.iterdir() if p.name != MANIFEST_NAME)
    case.ingest(inputs, IngestPolicy(workers=2), verify=False)
    return case


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[DemoManifest, Case, Path]]:
    root = tmp_path_factory.mktemp("pii-demo")
    manifest = build_dump(root / "dump", SPEC)
    case = ingest_demo(root / "dump", root / "case")
    unscanned = root / "unscanned"
    # Close this process's connections first: closing any descriptor of a SQLite file drops
    # every POSIX lock the process holds on it, which would leave its open connections unsafe.
    case.catalog.engine.dispose()
    shutil.copytree(root_of(case), unscanned)  # for the kill test
    scan_case(case.catalog, case.index, workers=2)
    yield manifest, case, unscanned


def root_of(case: Case) -> Path:
    assert case.root is not None  # an embedded case, in a directory
    return case.root


def findings(case: Case, **where: Any) -> list[dict[str, Any]]:
    return store.select_findings(case.catalog, **where)


def item_nums_of(case: Case, message_id: str) -> list[int]:
    with case.catalog.engine.connect() as conn:
        bare = message_id.strip().strip("<>")  # the catalog keeps Message-IDs without <>
        rows = conn.execute(select(s.items.c.num).where(s.items.c.message_id == bare))
        return [int(r[0]) for r in rows]


def attachments_named(case: Case, parents: list[int], name: str) -> list[int]:
    with case.catalog.engine.connect() as conn:
        rows = conn.execute(
            select(s.items.c.num)
            .join(s.locations, s.locations.c.item_num == s.items.c.num)
            .where(s.locations.c.parent_num.in_(parents), s.items.c.name == name)
        )
        return [int(r[0]) for r in rows]


def run_cli(case: Path, *args: str, actor: str = "reviewer-a") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "STRONGROOM_USER": actor}
    return subprocess.run(
        [*CLI, "--case", str(case), *args], capture_output=True, text=True, env=env, check=False
    )


# -- detection --------------------------------------------------------------------------------
def test_every_planted_number_is_found_where_it_was_planted(
    demo: tuple[DemoManifest, Case, Path],
) -> None:
    manifest, case, _ = demo
    assert len(manifest.pii) >= 40
    by_item: dict[int, list[dict[str, Any]]] = {}
    for row in findings(case):
        by_item.setdefault(row["item_num"], []).append(row)
    missed = []
    for planted in manifest.pii:
        emails = item_nums_of(case, planted.message.message_id)
        assert emails, planted
        if planted.part == "body":
            places = [(num, "body") for num in emails]
        else:
            places = [(num, "text") for num in attachments_named(case, emails, planted.part)]
        assert places, f"no item for {planted.part} of {planted.message.message_id}"
        hit = any(
            row["type"] == planted.kind and row["key"] == planted.digits and row["place"] == place
            for num, place in places
            for row in by_item.get(num, [])
        )
        if not hit:
            missed.append(planted)
    assert missed == []
    assert {p.kind for p in manifest.pii} == {"card", "ssn"}


def test_no_card_or_ssn_is_found_that_was_not_planted(
    demo: tuple[DemoManifest, Case, Path],
) -> None:
    manifest, case, _ = demo
    planted = {(p.kind, p.digits) for p in manifest.pii}
    found = {(r["type"], r["key"]) for r in findings(case, types=["card", "ssn"])}
    assert found == planted


def test_findings_record_where_what_and_how_sure(demo: tuple[DemoManifest, Case, Path]) -> None:
    _, case, _ = demo
    rows = findings(case)
    texts = {r["item_num"]: r for r in rows}
    assert texts
    for row in rows:
        assert row["end"] > row["start"]
        assert 0 < row["score"] <= 1
        assert row["detector_version"] == "1"
        assert row["status"] == "undecided"
    body = next(r for r in rows if r["place"] == "body" and r["type"] == "ssn")
    item = case.catalog.find_item(str(body["item_num"]))
    assert item is not None
    assert item["text"][body["start"] : body["end"]] == body["value"]
    headers = [r for r in rows if r["place"].startswith("header:")]
    assert {r["type"] for r in headers} >= {"email", "ip"}
    assert any(r["place"] == "header:Received#2" for r in headers)


def test_types_and_flags_are_searchable(demo: tuple[DemoManifest, Case, Path]) -> None:
    manifest, case, _ = demo
    with_card = {r["item_num"] for r in findings(case, types=["card"])}
    hits = {h["id"] for h in case.search("pii:card", limit=1000, facets=False).hits}
    assert with_card <= hits  # the attachments themselves, and the emails they came with
    emails_with_card_attachments = {
        num
        for p in manifest.pii
        if p.kind == "card" and p.part != "body"
        for num in item_nums_of(case, p.message.message_id)
    }
    assert emails_with_card_attachments <= hits
    assert case.count("is:pii") >= case.count("pii:ssn") > 0
    assert case.count("is:redacted") == 0


def test_a_rerun_scans_nothing_and_changes_nothing(demo: tuple[DemoManifest, Case, Path]) -> None:
    _, case, _ = demo
    before = findings(case)
    stats = scan_case(case.catalog, case.index, workers=2)
    assert stats.scanned == 0
    assert findings(case) == before


def test_a_killed_scan_completes_on_the_next_run(
    demo: tuple[DemoManifest, Case, Path], tmp_path: Path
) -> None:
    _, case, unscanned = demo
    log = tmp_path / "scan.log"
    with log.open("wb") as stderr:
        process = subprocess.Popen(
            [*CLI, "--case", str(unscanned), "pii", "scan", "--workers", "1", "--json"],
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            start_new_session=True,
        )
    killed_early = False
    catalog = f"file:{unscanned / 'catalog.sqlite'}?mode=ro"
    try:
        for _ in range(1200):  # until the first batch is committed (or the run ends)
            if process.poll() is not None:
                break
            with closing(sqlite3.connect(catalog, uri=True, timeout=30)) as conn:
                try:
                    done = conn.execute("SELECT count(*) FROM pii_items").fetchone()[0]
                except sqlite3.OperationalError:  # the table is not made yet
                    done = 0
            if done:
                os.killpg(process.pid, signal.SIGKILL)
                killed_early = True
                break
            time.sleep(0.05)
    finally:
        process.wait(timeout=120)
    assert killed_early or process.returncode == 0, log.read_text()
    partial = Case.open(unscanned)
    stats = scan_case(partial.catalog, partial.index, workers=1)
    assert stats.scanned < 852 or not killed_early
    key = ("item_num", "place", "start", "end", "type", "value", "score")

    def rows(c: Case) -> list[tuple[Any, ...]]:
        return sorted(tuple(r[k] for k in key) for r in findings(c))

    assert rows(partial) == rows(case)
    assert partial.count("pii:ssn") == case.count("pii:ssn")


# -- review and decisions ---------------------------------------------------------------------
def test_accept_reject_with_audit_and_plan(demo: tuple[DemoManifest, Case, Path]) -> None:
    _, case, _ = demo
    ssn = findings(case, types=["ssn"], status="undecided")
    first, second = ssn[0], ssn[1]
    assert decide(case, [first["id"]], "accept", "alice") == 1
    assert decide(case, [second["id"]], "reject", "bob") == 1
    got = {r["id"]: r for r in findings(case, ids=[first["id"], second["id"]])}
    assert got[first["id"]]["status"] == "accepted"
    assert got[first["id"]]["decided_by"] == "alice"
    assert got[first["id"]]["decided_at"]
    assert got[second["id"]]["status"] == "rejected"
    log = events(case.catalog, "pii.")
    assert log[0]["actor"] == "bob"
    assert log[0]["action"] == "pii.reject"
    assert log[0]["detail"]["finding"] == second["id"]
    assert log[1]["actor"] == "alice"
    assert log[1]["action"] == "pii.accept"
    assert log[1]["at"]
    assert first["value"] not in json.dumps(log)  # the log names findings, not their values
    plan = redaction_plan(case.catalog)
    assert first["value"] in plan.by_item[first["item_num"]]
    assert first["value"] in plan.values_for([first["item_num"]])
    assert plan.label(first["value"]) == "[REDACTED ssn]"
    assert second["value"] not in plan.by_item.get(second["item_num"], frozenset())
    assert first["item_num"] in {
        h["id"] for h in case.search("is:redacted", limit=100, facets=False).hits
    }


def test_generalise_redacts_a_value_everywhere(demo: tuple[DemoManifest, Case, Path]) -> None:
    _, case, _ = demo
    cards = findings(case, types=["card"], status="undecided")
    by_key: dict[str, list[dict[str, Any]]] = {}
    for row in cards:
        by_key.setdefault(row["key"], []).append(row)
    key, same = max(by_key.items(), key=lambda kv: len(kv[1]))
    assert len(same) >= 2 and len({r["item_num"] for r in same}) >= 2
    changed = decide(case, [same[0]["id"]], "generalise", "carol")
    assert changed == len(same)
    after = findings(case, ids=[r["id"] for r in same])
    assert {r["status"] for r in after} == {"generalised"}
    plan = redaction_plan(case.catalog)
    assert {r["value"] for r in same} | {key} <= plan.everywhere
    unrelated = max(r["item_num"] for r in findings(case)) + 1000
    assert key in plan.values_for([unrelated])
    # a later scan with a new detector version keeps decisions and the case-wide rule
    store.add_words(case.catalog, "probe", ["Zyxwvut Qponm"], "carol")
    stats = scan_case(case.catalog, case.index, workers=2)
    assert stats.scanned > 800
    again = findings(case, types=["card"])
    assert {r["status"] for r in again if r["key"] == key} == {"generalised"}
    assert any(r["status"] == "accepted" for r in findings(case, types=["ssn"]))
    # deciding on one of them withdraws the case-wide decision
    decide(case, [same[0]["id"]], "reject", "dave")
    rest = [
        r for r in findings(case, types=["card"]) if r["key"] == key and r["id"] != same[0]["id"]
    ]
    assert {r["status"] for r in rest} == {"undecided"}
    assert key not in redaction_plan(case.catalog).everywhere
    assert events(case.catalog, "pii.")[0]["actor"] == "dave"


def test_bulk_by_type_and_query(demo: tuple[DemoManifest, Case, Path]) -> None:
    _, case, _ = demo
    sender = "from:gideon.stanwick@northwind-civic.org"
    scope = set(items_matching(case, sender))
    assert scope
    phones = findings(case, types=["phone"], status="undecided")
    inside = [r for r in phones if r["item_num"] in scope]
    outside = [r for r in phones if r["item_num"] not in scope]
    assert inside and outside
    flt = Filter(types=("phone",), status="undecided", query=sender)
    assert decide_bulk(case, flt, "reject", "erin") == len(inside)
    assert {r["status"] for r in findings(case, ids=[r["id"] for r in inside])} == {"rejected"}
    assert {r["status"] for r in findings(case, ids=[r["id"] for r in outside])} == {"undecided"}
    entry = events(case.catalog, "pii.bulk")[0]
    assert entry["actor"] == "erin"
    assert entry["detail"]["query"] == sender
    assert sorted(entry["detail"]["findings"]) == sorted(r["id"] for r in inside)
    # by type alone: every undecided e-mail address kept
    emails = findings(case, types=["email"], status="undecided")
    assert decide_bulk(case, Filter(types=("email",), status="undecided"), "reject", "erin") == len(
        emails
    )
    assert findings(case, types=["email"], status="undecided") == []


def test_review_page_json_twin_and_its_forms(demo: tuple[DemoManifest, Case, Path]) -> None:
    from fastapi.testclient import TestClient

    from strongroom.web.app import create_app

    _, case, _ = demo
    client = TestClient(create_app(case))
    twin = client.get("/pii.json", params={"type": "card", "status": "undecided"}).json()
    expected = review(case, Filter(("card",), "undecided"), limit=50)
    assert twin["total"] == expected["total"] > 0
    assert [f["id"] for f in twin["findings"]] == [f["id"] for f in expected["findings"]]
    page = client.get("/pii", params={"type": "card", "status": "undecided"})
    assert page.status_code == 200
    first = twin["findings"][0]
    assert f'id="finding-{first["id"]}"' in page.text
    token = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert token is not None
    form = {"ids": str(first["id"]), "decision": "accept", "type": "card"}
    refused = client.post("/pii/decide", data=form, follow_redirects=False)
    assert refused.status_code == 403
    assert findings(case, ids=[first["id"]])[0]["status"] == "undecided"
    done = client.post("/pii/decide", data={**form, "csrf": token.group(1)}, follow_redirects=False)
    assert done.status_code == 303
    assert done.headers["location"].startswith("/pii?type=card")
    assert findings(case, ids=[first["id"]])[0]["status"] == "accepted"
    assert events(case.catalog, "pii.accept")[0]["detail"]["finding"] == first["id"]
    assert client.get("/pii.json", params={"status": "maybe"}).status_code == 422


# -- the CLI ----------------------------------------------------------------------------------
def test_cli_scan_review_decide_words(
    demo: tuple[DemoManifest, Case, Path], tmp_path: Path
) -> None:
    _, case, _ = demo
    scanned = run_cli(root_of(case), "pii", "scan", "--json", "--workers", "2")
    assert scanned.returncode == 0, scanned.stderr
    assert json.loads(scanned.stdout)["scanned"] == 0
    review = run_cli(
        root_of(case), "pii", "review", "--type", "ssn", "--status", "undecided", "--json"
    )
    assert review.returncode == 0, review.stderr
    page = json.loads(review.stdout)
    assert page["total"] > 0
    one = page["findings"][0]
    assert one["value"] in f"{one['before']} {one['value']} {one['after']}"
    decided = run_cli(root_of(case), "pii", "decide", str(one["id"]), "accept", "--json")
    assert decided.returncode == 0, decided.stderr
    assert json.loads(decided.stdout) == {"decision": "accept", "findings": 1, "by": "reviewer-a"}
    assert events(case.catalog, "pii.accept")[0]["actor"] == "reviewer-a"
    bulk = run_cli(root_of(case), "pii", "decide", "--type", "ip", "reject", "--json")
    assert bulk.returncode == 0, bulk.stderr
    assert json.loads(bulk.stdout)["findings"] > 0
    assert store.count_findings(case.catalog, types=["ip"], status="undecided") == 0
    # errors name the problem and exit 2 / 4
    wrong = run_cli(root_of(case), "pii", "decide", str(one["id"]), "maybe")
    assert wrong.returncode == 2 and "accept, reject or generalise" in wrong.stderr
    missing = run_cli(root_of(case), "pii", "decide", "99999999", "accept")
    assert missing.returncode == 4 and "99999999" in missing.stderr
    # word lists: a bad file is named, a good one makes its own type after a rescan
    latin1 = tmp_path / "names-latin1.txt"
    latin1.write_bytes("Zo\xeb\n".encode("latin-1"))
    bad = run_cli(root_of(case), "pii", "words", "add", "persons", str(latin1))
    assert bad.returncode == 2 and "names-latin1.txt" in bad.stderr and "UTF-8" in bad.stderr
    names = tmp_path / "persons.txt"
    names.write_text("# private persons\nGideon Stanwick\n\nWendell Lowther\n", encoding="utf-8")
    added = run_cli(root_of(case), "pii", "words", "add", "persons", str(names))
    assert added.returncode == 0, added.stderr
    listed = run_cli(root_of(case), "pii", "words", "list", "--json")
    assert json.loads(listed.stdout)["persons"] == ["Gideon Stanwick", "Wendell Lowther"]
    rescan = run_cli(root_of(case), "pii", "scan", "--json", "--workers", "2")
    summary = json.loads(rescan.stdout)
    assert summary["scanned"] > 800
    assert summary["this_run"]["persons"] > 0
    assert Case.open(root_of(case)).count("pii:persons") > 0
    reserved = run_cli(root_of(case), "pii", "words", "add", "card", str(names))
    assert reserved.returncode == 2 and "built-in" in reserved.stderr

"""Claims on the demo dump: exhibits with their standing (its DKIM-signed mail verified with the
demo's own key, its unsigned mail, its re-sent duplicates), the plain statement when nothing
cited is signed, the audit trail, the report and its hashes, the pages and forms."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from strongroom.analyze.entities import item_entities
from strongroom.analyze.people import list_people, merge, person
from strongroom.case import Case
from strongroom.catalog import schema as s
from strongroom.catalog.audit import events
from strongroom.claims import add_claim, claim, link, unlink
from strongroom.cli import cli
from strongroom.config import IngestPolicy
from strongroom.demo import DemoSpec, build_dump
from strongroom.errors import NotFound, UsageError
from strongroom.web.app import create_app
from tests.pg import PostgresServer, postgres_server  # noqa: F401 - the session fixture


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Case:
    root = tmp_path_factory.mktemp("claims")
    manifest = build_dump(root / "dump", DemoSpec())
    case = Case.init(root / "case")
    case.ingest([root / "dump"], IngestPolicy(workers=2))
    case.import_keys(root / "dump" / manifest.dkim.zone_file)
    case.verify(workers=2)
    return case


def _first(case: Case, query: str, n: int = 1) -> list[int]:
    hits = case.search(query, limit=n, sort="date", facets=False).hits
    assert len(hits) == n, query
    return [hit["id"] for hit in hits]


def test_all_unsigned_exhibits_are_said_plainly(demo: Case) -> None:
    made = add_claim(demo, "  The treasurer knew of the shortfall\nin March ", "ana")
    assert made["text"] == "The treasurer knew of the shortfall in March"
    assert made["summary"]["statement"].startswith("This claim has no exhibits")
    supporting, contradicting = _first(demo, "is:unsigned kind:email budget", 2)
    link(demo, made["id"], "ana", stance="supports", item=supporting, note="the memo")
    text = demo.item(str(contradicting))["text"]
    start = text.index(text.split()[0])
    shown = link(
        demo, made["id"], "ana", stance="contradicts", item=contradicting, passage=f"{start}:40"
    )
    assert [e["stance"] for e in shown["exhibits"]] == ["supports", "contradicts"]
    passage = shown["exhibits"][1]["passage"]
    assert passage["quote"] == text[start:40] and passage["still_matches"]
    for exhibit in shown["exhibits"]:
        standing = exhibit["standing"]
        assert standing["dkim"]["status"] == "unsigned"
        assert standing["custody"]["sha256"] == demo.item(str(exhibit["item_num"]))["sha256"]
        assert standing["custody"]["custody_event"] is not None
    summary = shown["summary"]
    assert summary["all_unsigned_or_failing"] is True
    assert summary["statement"].startswith(
        "None of the 2 cited item(s) carries a verified DKIM signature"
    )
    actions = [
        e["action"] for e in events(demo.catalog, "claim.") if e["target"] == str(made["id"])
    ]
    assert actions == ["claim.link", "claim.link", "claim.add"]


def test_a_verified_exhibit_and_a_search(demo: Case) -> None:
    made = add_claim(demo, "The northwind staff wrote to the Russian press", "ana")
    (signed,) = _first(demo, "is:verified kind:email")
    (unsigned,) = _first(demo, "is:unsigned kind:email")
    link(demo, made["id"], "ana", stance="supports", item=signed)
    link(demo, made["id"], "ana", stance="contradicts", item=unsigned)
    shown = link(demo, made["id"], "ana", stance="supports", query="lang:ru kind:email")
    query = shown["exhibits"][2]["query"]
    assert query["total"] == demo.count("lang:ru kind:email") > 0
    assert 0 < len(query["first_hits"]) <= 5
    summary = shown["summary"]
    assert summary["verified"] == summary["verified_supporting"] == 1
    assert not summary["all_unsigned_or_failing"]
    assert summary["statement"].startswith("1 of the 2 cited item(s) carry a verified DKIM")
    assert shown["exhibits"][0]["standing"]["dkim"]["verdict"].startswith("Signed by")
    withdrawn = unlink(demo, shown["exhibits"][0]["id"], "ana")
    assert withdrawn["withdrawn_exhibits"] == 1
    assert withdrawn["summary"]["all_unsigned_or_failing"] is True


def test_standing_shows_duplicates_and_forensic_flags(demo: Case) -> None:
    with demo.catalog.engine.connect() as conn:
        message_id = conn.execute(
            select(s.items.c.message_id)
            .where(s.items.c.message_id.is_not(None))
            .group_by(s.items.c.message_id)
            .having(func.count() > 1)
            .limit(1)
        ).scalar_one()
    first, second = demo.catalog.items_with_message_id(message_id)[:2]
    made = add_claim(demo, "The message was re-sent with changes", "ana")
    shown = link(demo, made["id"], "ana", stance="supports", item=first)
    duplicates = shown["exhibits"][0]["standing"]["duplicates"]
    assert {"item": second, "sha256": demo.item(str(second))["sha256"]} in [
        {k: d[k] for k in ("item", "sha256")} for d in duplicates
    ]
    flagged = next(
        num
        for num in range(1, 700)
        if demo.catalog.find_item(str(num))
        and demo.item(str(num)).get("forensics", {}).get("anomalies")
    )
    shown = link(demo, made["id"], "ana", stance="supports", item=flagged)
    flags = shown["exhibits"][1]["standing"]["forensic_flags"]
    expected = demo.item(str(flagged))["forensics"]["anomalies"]
    assert [f["code"] for f in flags] == [a["code"] for a in expected]
    assert shown["summary"]["flagged"] >= 1


def test_bad_links_are_refused(demo: Case) -> None:
    made = add_claim(demo, "Something", "ana")
    (num,) = _first(demo, "kind:email")
    length = len(demo.item(str(num))["text"])
    with pytest.raises(UsageError, match="outside item"):
        link(demo, made["id"], "ana", stance="supports", item=num, passage=f"0:{length + 1}")
    with pytest.raises(UsageError, match="START:END"):
        link(demo, made["id"], "ana", stance="supports", item=num, passage="a:b")
    with pytest.raises(NotFound):
        link(demo, made["id"], "ana", stance="supports", item=999_999)
    with pytest.raises(NotFound):
        link(demo, 999_999, "ana", stance="supports", item=num)
    with pytest.raises(UsageError):
        link(demo, made["id"], "ana", stance="maybe", item=num)
    with pytest.raises(UsageError):
        add_claim(demo, "   ", "ana")
    assert claim(demo, made["id"])["exhibits"] == []


def test_export_cites_the_hashes_show_prints(demo: Case, tmp_path: Path) -> None:
    where = ["--case", str(demo.root)]
    runner = CliRunner(env={"STRONGROOM_USER": "reporter"})
    added = runner.invoke(cli, [*where, "claims", "add", "Files changed after release", "--json"])
    assert added.exit_code == 0, added.output
    claim_id = json.loads(added.output)["id"]
    signed, unsigned = _first(demo, "is:verified kind:email")[0], _first(demo, "is:unsigned")[0]
    for num, stance in ((signed, "--supports"), (unsigned, "--contradicts")):
        linked = runner.invoke(
            cli, [*where, "claims", "link", str(claim_id), "--item", str(num), stance]
        )
        assert linked.exit_code == 0, linked.output
    refused = runner.invoke(cli, [*where, "claims", "link", str(claim_id), "--item", str(signed)])
    assert isinstance(refused.exception, UsageError)
    shown = runner.invoke(cli, [*where, "claims", "show", str(claim_id)])
    assert "Signed by" in shown.output and "Not DKIM-signed" in shown.output
    out = tmp_path / "report"
    done = runner.invoke(
        cli,
        [
            *where,
            "claims",
            "export",
            str(claim_id),
            str(out),
            "--base-url",
            "https://leaks.example/",
        ],
    )
    assert done.exit_code == 0, done.output
    report = json.loads((out / "claims.json").read_text())
    html = (out / "claims.html").read_text()
    (exported,) = report["claims"]
    assert len(exported["exhibits"]) == 2
    for exhibit in exported["exhibits"]:
        num = exhibit["item_num"]
        printed = runner.invoke(cli, [*where, "show", str(num), "--json"])
        sha = json.loads(printed.output)["sha256"]
        assert exhibit["standing"]["custody"]["sha256"] == sha
        assert exhibit["standing"]["permalink"] == f"https://leaks.example/items/{num}"
        assert sha in html and f"https://leaks.example/items/{num}" in html
    everything = runner.invoke(cli, [*where, "claims", "export", "--all", str(tmp_path / "all")])
    assert everything.exit_code == 0, everything.output
    assert len(json.loads((tmp_path / "all" / "claims.json").read_text())["claims"]) >= 2
    exports = [e for e in events(demo.catalog, "claim.export")]
    assert exports and exports[-1]["actor"] == "reporter"


def test_pages_and_forms(demo: Case) -> None:
    client = TestClient(create_app(demo))
    token = re.search(r'name="csrf" value="([^"]+)"', client.get("/claims").text)
    assert token is not None  # the form carries the token the server checks
    csrf = token[1]
    refused = client.post("/claims", data={"text": "No token"}, follow_redirects=False)
    assert refused.status_code == 403
    created = client.post(
        "/claims", data={"csrf": csrf, "text": "Recorded from the page"}, follow_redirects=False
    )
    assert created.status_code == 303
    page_url = created.headers["location"]
    claim_id = int(page_url.rsplit("/", 1)[1])
    (signed,) = _first(demo, "is:verified kind:email")
    form = {"csrf": csrf, "item": str(signed), "stance": "supports", "note": "signed"}
    assert client.post(f"{page_url}/exhibits", data=form, follow_redirects=False).status_code == 303
    query = {"csrf": csrf, "query": "lang:fr", "stance": "contradicts"}
    assert (
        client.post(f"{page_url}/exhibits", data=query, follow_redirects=False).status_code == 303
    )
    bad = client.post(
        f"{page_url}/exhibits", data={"csrf": csrf, "item": "x", "stance": "supports"}
    )
    assert bad.status_code == 400
    page = client.get(page_url)
    assert page.status_code == 200 and "Recorded from the page" in page.text
    assert "Signed by" in page.text and 'name="csrf"' in page.text
    twin = client.get(f"{page_url}.json").json()
    assert twin["id"] == claim_id and len(twin["exhibits"]) == 2
    assert twin["exhibits"][0]["standing"]["dkim"]["status"] == "verified"
    assert client.get("/claims").status_code == 200
    assert any(c["id"] == claim_id for c in client.get("/claims.json").json()["claims"])
    report = client.get(f"/claims/{claim_id}/report.html")
    assert report.status_code == 200 and "attachment" in report.headers["content-disposition"]
    assert demo.item(str(signed))["sha256"] in report.text
    assert client.get("/claims/999999.json").status_code == 404
    actors = {e["actor"] for e in events(demo.catalog, "claim.") if e["target"] == str(claim_id)}
    assert actors == {"local"}


def test_people_entities_and_claims_on_postgresql(
    postgres_server: PostgresServer,  # noqa: F811 - the fixture imported above
    tmp_path: Path,
) -> None:
    """The same SQL on the server catalog: a small demo ingested into PostgreSQL."""
    name = f"claims_{os.getpid()}"
    url = postgres_server.create_database(name)
    manifest = build_dump(tmp_path / "dump", DemoSpec(messages=40, attachments=5))
    case = Case.init(url, blobs=tmp_path / "blobs", index=tmp_path / "index")
    try:
        case.ingest([tmp_path / "dump"], IngestPolicy(workers=1))
        case.import_keys(tmp_path / "dump" / manifest.dkim.zone_file)
        case.verify(workers=1)
        people = list_people(case.catalog)
        assert people and all(len(p["addresses"]) == 1 for p in people)
        top = people[0]
        assert (
            case.count(f"person:{top['id']}")
            == person(case.catalog, top["id"])["activity"]["messages"]
        )
        assert case.count("lang:en") > 0
        made = add_claim(case, "Checked on the server catalog", "ana")
        (signed,) = _first(case, "is:verified kind:email")
        (unsigned,) = _first(case, "is:unsigned kind:email")
        text = case.item(str(unsigned))["text"]
        link(case, made["id"], "ana", stance="supports", item=signed)
        shown = link(case, made["id"], "ana", stance="contradicts", item=unsigned, passage="0:12")
        assert shown["exhibits"][1]["passage"]["quote"] == text[:12]
        assert shown["summary"]["verified"] == 1
        assert any(item_entities(case.catalog, n)["entities"] for n in (signed, unsigned))
        merged = merge(case.catalog, people[0]["address"], people[1]["address"], "ana")
        assert len(person(case.catalog, merged["person"] or 0)["addresses"]) == 2
    finally:
        case.catalog.engine.dispose()
        postgres_server.drop_database(name)

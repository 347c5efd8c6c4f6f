"""Tags, notes, saved searches and alerts, on a demo dump (CLI, library and reading room)."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from strongroom.annotate import (
    add_note,
    add_tags,
    alerts,
    item_tags_of,
    list_searches,
    mark_seen,
    matching_nums,
    notes_of,
    remove_tags,
    save_search,
    tag_counts,
)
from strongroom.case import Case
from strongroom.catalog.audit import events
from strongroom.demo import DemoSpec, build_dump
from strongroom.errors import NotFound, UsageError
from strongroom.web.app import create_app
from tests.test_ingest import run_cli

SMALL = DemoSpec(messages=120, attachments=40)


@pytest.fixture(scope="module")
def dump(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dump") / "dump"
    build_dump(out, SMALL)
    return out


@pytest.fixture(scope="module")
def case(tmp_path_factory: pytest.TempPathFactory, dump: Path) -> Case:
    case = Case.init(tmp_path_factory.mktemp("case") / "case")
    case.import_keys(next((dump / "dns").glob("*.zone")))  # so signed mail verifies
    case.ingest([dump])
    return case


def test_tags_are_searchable_and_survive_a_reindex(case: Case) -> None:
    budget = matching_nums(case, "subject:budget")
    assert len(budget) > 3
    assert add_tags(case, "Budget-Trail", budget[:3], "alice") == budget[:3]
    assert add_tags(case, "budget-trail", budget[:4], "bob") == [budget[3]]  # one was new
    assert matching_nums(case, "tag:budget-trail") == budget[:4]
    assert case.count("tag:Budget-Trail") == 4
    assert set(matching_nums(case, "is:tagged")) >= set(budget[:4])
    assert case.count("tag:budget-trail NOT subject:budget") == 0

    case.reindex()  # the index is derived: tags come back from the catalog
    assert matching_nums(case, "tag:budget-trail") == budget[:4]

    assert remove_tags(case, "budget-trail", [budget[0], budget[-1]], "alice") == [budget[0]]
    assert matching_nums(case, "tag:budget-trail") == budget[1:4]
    assert {"tag": "budget-trail", "items": 3} in tag_counts(case)
    logged = [e for e in events(case.catalog, "tag.") if e["target"] == "budget-trail"]
    assert [e["action"] for e in logged] == ["tag.remove", "tag.add", "tag.add"]
    assert logged[-1]["actor"] == "alice" and logged[-1]["detail"]["items"] == budget[:3]


def test_tagging_keeps_verification_flags(case: Case) -> None:
    verified = matching_nums(case, "is:verified")
    assert verified, "the demo dump has DKIM-signed mail"
    add_tags(case, "signed", verified[:2], "alice")
    add_note(case, verified[0], "signature checked by hand", "alice")
    assert set(verified[:2]) <= set(matching_nums(case, "is:verified tag:signed"))
    assert matching_nums(case, "is:verified is:noted") == [verified[0]]


def test_bad_tags_notes_and_items_are_refused(case: Case) -> None:
    with pytest.raises(UsageError, match="not a usable tag"):
        add_tags(case, "two words", [1], "alice")
    with pytest.raises(UsageError):
        add_tags(case, "tag:x", [1], "alice")
    with pytest.raises(NotFound, match="no item 999999"):
        add_tags(case, "fine", [1, 999999], "alice")
    assert case.count("tag:fine") == 0  # nothing half-done
    with pytest.raises(UsageError, match="needs some text"):
        add_note(case, 1, "   ", "alice")


def test_cli_tags_and_notes(case: Case) -> None:
    root = str(case.root)
    run_cli("--case", root, "tag", "add", "press", "2", "3", "--query", "subject:interview")
    expected = sorted({2, 3, *matching_nums(case, "subject:interview")})
    listed = json.loads(run_cli("--case", root, "tag", "list", "press", "--json").stdout)
    assert [entry["id"] for entry in listed] == expected
    counted = run_cli("--case", root, "search", "tag:press", "--count").stdout
    assert int(counted) == len(expected)
    run_cli("--case", root, "note", "add", "2", "Ask the press office about this one")
    notes = json.loads(run_cli("--case", root, "note", "list", "2", "--json").stdout)
    assert notes[-1]["text"] == "Ask the press office about this one"
    assert 2 in matching_nums(case, "is:noted")
    done = run_cli("--case", root, "tag", "add", "no spaces allowed", "2", check=2)
    assert b"not a usable tag" in done.stderr
    done = run_cli("--case", root, "note", "add", "999999", "x", check=4)
    assert b"no item 999999" in done.stderr
    run_cli("--case", root, "tag", "remove", "press", "2")
    assert 2 not in matching_nums(case, "tag:press")


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', html)
    assert match, "the page has a form with a CSRF token"
    return match.group(1)


def test_item_page_forms_tag_and_note(case: Case) -> None:
    client = TestClient(create_app(case))
    num = matching_nums(case, "kind:email")[5]
    page = client.get(f"/items/{num}")
    assert page.status_code == 200 and 'action="/items/' in page.text
    token = _csrf(page.text)
    refused = client.post(f"/items/{num}/tags", data={"tag": "web-tag"})
    assert refused.status_code == 403 and case.count("tag:web-tag") == 0
    done = client.post(
        f"/items/{num}/tags", data={"csrf": token, "tag": "Web-Tag"}, follow_redirects=False
    )
    assert done.status_code == 303 and done.headers["location"] == f"/items/{num}"
    client.post(f"/items/{num}/notes", data={"csrf": token, "text": "seen <b>twice</b>"})
    record = client.get(f"/items/{num}.json").json()
    assert [t["tag"] for t in record["tags"]] == ["web-tag"]
    assert record["notes"][-1]["text"] == "seen <b>twice</b>"
    assert record["notes"][-1]["by"] == "local"
    html = client.get(f"/items/{num}").text
    assert "seen &lt;b&gt;twice&lt;/b&gt;" in html and "tag%3Aweb-tag" in html
    assert client.get("/search.json", params={"q": "tag:web-tag"}).json()["total"] == 1
    tags = {t["tag"]: t["items"] for t in client.get("/tags.json").json()["tags"]}
    assert tags["web-tag"] == 1
    client.post(f"/items/{num}/tags/remove", data={"csrf": token, "tag": "web-tag"})
    assert case.count("tag:web-tag") == 0
    assert client.get("/items/999999.json").status_code == 404
    missing = client.post("/items/999999/tags", data={"csrf": token, "tag": "x"})
    assert missing.status_code == 404


def test_alert_after_a_second_ingest_adds_matching_items(tmp_path: Path, dump: Path) -> None:
    # First only the loose .eml files, then the rest of the dump.
    first = tmp_path / "first"
    shutil.copytree(dump / "eml", first)
    case = Case.init(tmp_path / "case")
    case.ingest([first], verify=False)
    query = "budget OR polling"
    before = set(matching_nums(case, query))
    saved = save_search(case, "money", query, "alice")
    assert saved["checked_num"] == max(matching_nums(case, ""))
    with pytest.raises(UsageError, match="position"):
        save_search(case, "broken", "from:(", "alice")
    assert alerts(case) == []

    case.ingest([dump], verify=False)
    after = set(matching_nums(case, query))
    new = sorted(n for n in after - before if n > saved["checked_num"])
    assert new, "the rest of the dump holds more mail about budgets"
    found = alerts(case, "money")
    assert [alert["id"] for alert in found] == new
    assert list_searches(case)[0]["unseen"] == len(new)

    root = str(case.root)
    listed = json.loads(run_cli("--case", root, "searches", "alerts", "--json").stdout)
    assert [alert["id"] for alert in listed] == new
    client = TestClient(create_app(case))
    page = client.get("/searches.json").json()
    assert [alert["id"] for alert in page["searches"][0]["alerts"]] == new

    run_cli("--case", root, "searches", "seen", "money")
    assert alerts(case) == []
    case.ingest([dump], verify=False)  # nothing new: no new alerts
    assert alerts(case) == []
    assert mark_seen(case, "money", "alice") == 0
    with pytest.raises(NotFound):
        mark_seen(case, "nothing-by-this-name", "alice")


def test_notes_are_kept_in_order(case: Case) -> None:
    add_note(case, 1, "first", "alice")
    add_note(case, 1, "second", "bob")
    assert [n["text"] for n in notes_of(case, 1)][-2:] == ["first", "second"]


def test_saved_search_form_and_roles_on_a_server_with_accounts(case: Case) -> None:
    from strongroom.accounts import DEFAULT_COLLECTION
    from strongroom.accounts.collections import grant
    from strongroom.accounts.users import add_user
    from strongroom.web.app import ServeConfig

    password = "correct horse battery staple"
    for name, role in (("rita-reader", "reader"), ("ed-editor", "editor")):
        add_user(case.catalog, name, role, password)
        grant(case.catalog, name, DEFAULT_COLLECTION)
    app = create_app(case, ServeConfig(accounts=True))

    def login(name: str) -> tuple[TestClient, str]:
        client = TestClient(app)
        token = client.get("/session.json").json()["csrf"]
        done = client.post(
            "/login",
            data={"name": name, "password": password, "csrf": token},
            follow_redirects=False,
        )
        assert done.status_code == 303, done.text
        return client, client.get("/session.json").json()["csrf"]

    num = matching_nums(case, "kind:email")[7]
    reader, token = login("rita-reader")
    assert 'action="/items/' not in reader.get(f"/items/{num}").text  # no forms to fill
    refused = reader.post(f"/items/{num}/tags", data={"csrf": token, "tag": "reader-tag"})
    assert refused.status_code == 403 and case.count("tag:reader-tag") == 0
    refused = reader.post("/searches", data={"csrf": token, "name": "mine", "query": "budget"})
    assert refused.status_code == 403

    editor, token = login("ed-editor")
    done = editor.post(f"/items/{num}/tags", data={"csrf": token, "tag": "editor-tag"})
    assert done.status_code == 200, done.text  # after the redirect to the item page
    assert matching_nums(case, "tag:editor-tag") == [num]
    assert item_tags_of(case, num)[0]["by"] == "ed-editor"
    saved = editor.post("/searches", data={"csrf": token, "name": "ed budget", "query": "budget"})
    assert saved.status_code == 200  # after the redirect to /searches
    assert any(s["name"] == "ed budget" and s["by"] == "ed-editor" for s in list_searches(case))
    logged = events(case.catalog, "tag.add")[0]
    assert logged["actor"] == "ed-editor" and logged["detail"]["items"] == [num]

"""The reading room through an in-process client: pages, JSON twins, headers, raw bytes."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from strongroom.blobs import sha256_file
from strongroom.case import Case
from strongroom.config import IngestPolicy
from strongroom.web.app import create_app
from strongroom.web.security import sanitize_email_html
from tests import synth
from tests.hostile import HOSTILE_HTML, hostile_message


@pytest.fixture(scope="module")
def case(tmp_path_factory: pytest.TempPathFactory) -> Case:
    root = tmp_path_factory.mktemp("web")
    dump = root / "dump"
    synth.write_dump(dump)
    (dump / "hostile.eml").write_bytes(hostile_message())
    (dump / "pledges.eml").write_bytes(_with_text_attachment())
    case = Case.init(root / "case")
    case.ingest([dump], IngestPolicy(workers=2))
    return case


def _with_text_attachment() -> bytes:
    from email.message import EmailMessage

    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = "a@example.org", "b@example.org", "Pledges"
    msg.set_content("See the attached list.")
    msg.add_attachment("Alice Example pledged 5000 dollars", filename="pledges.txt")
    return msg.as_bytes()


@pytest.fixture(scope="module")
def client(case: Case) -> TestClient:
    return TestClient(create_app(case))


PAGES = [
    "/search?q=budget",
    "/items/2",
    "/threads/2",
    "/correspondents?q=budget",
    "/timeline?q=budget",
]


@pytest.mark.parametrize("path", PAGES)
def test_every_page_has_a_json_twin_from_the_same_view(client: TestClient, path: str) -> None:
    page = client.get(path)
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    base, _, query = path.partition("?")
    twin = client.get(f"{base}.json" + (f"?{query}" if query else ""))
    assert twin.status_code == 200
    assert twin.headers["content-type"] == "application/json"
    data = twin.json()
    # What the JSON says is what the page shows.
    if "hits" in data:
        for hit in data["hits"]:
            assert f'href="/items/{hit["id"]}"' in page.text
    if data.get("subject"):
        assert data["subject"] in page.text


def test_security_headers_on_every_response(client: TestClient) -> None:
    for path in [*PAGES, "/search.json?q=x", "/items/2/raw", "/static/app.css", "/nope"]:
        response = client.get(path)
        policy = response.headers["content-security-policy"]
        assert "default-src 'none'" in policy
        assert "script-src 'self'" in policy
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"] == "no-referrer"


def test_downloads_are_attachments_and_raw_is_exact(case: Case, client: TestClient) -> None:
    item = case.item("2")
    download = client.get("/items/2/download")
    assert download.headers["content-disposition"].startswith("attachment;")
    assert download.headers["content-type"] == "application/octet-stream"
    assert download.content == case.raw("2")
    raw = client.get("/items/2/raw")
    assert raw.content == case.blobs.read(item["sha256"])
    assert raw.headers["content-type"].startswith("text/plain")


def test_attachments_are_previewed_on_the_item_page(case: Case, client: TestClient) -> None:
    (hit,) = case.search("attachment:pledged", facets=False).hits
    data = client.get(f"/items/{hit['id']}.json").json()
    (child,) = data["children"]
    assert child["name"] == "pledges.txt"
    assert child["preview"] == "Alice Example pledged 5000 dollars"
    page = client.get(f"/items/{hit['id']}", headers={"accept": "text/html"}).text
    assert "Alice Example pledged 5000 dollars" in page


def test_errors_have_one_shape(client: TestClient) -> None:
    missing = client.get("/items/999999.json")
    assert missing.status_code == 404
    assert missing.json()["error"] == "NotFound"
    bad = client.get("/search.json", params={"q": "budget AND"})
    assert bad.status_code == 400
    assert bad.json()["position"] == 10
    assert client.get("/items/999999").status_code == 404
    assert "no item 999999" in client.get("/items/999999").text


def test_hostile_html_is_sanitised_and_framed(case: Case, client: TestClient) -> None:
    num = next(hit["id"] for hit in case.search('subject:"hostile"', facets=False).hits)
    page = client.get(f"/items/{num}").text
    assert "<iframe" in page and " sandbox " in page
    cleaned = sanitize_email_html(HOSTILE_HTML)
    for needle in (
        "<script",
        "onerror",
        "onload",
        "javascript:",
        "http://attacker",
        "<svg",
        "expression(",
        "<form",
        "<style",
        "<iframe",
        "<object",
        "<embed",
        "<meta",
    ):
        assert needle not in cleaned.lower(), needle
    # The only script on the page is our own file; nothing from the email runs inline.
    assert page.lower().count("<script") == page.count('<script src="/static/app.js" defer>') == 1


@pytest.mark.conformance
def test_raw_is_byte_identical_for_every_message_of_a_real_corpus(
    corpora: Path, tmp_path: Path
) -> None:
    source = corpora / "notmuch"
    case = Case.init(tmp_path / "case")
    case.ingest([source], IngestPolicy(workers=2))
    client = TestClient(create_app(case))
    checked = 0
    for path in sorted(p for p in source.rglob("*") if p.is_file()):
        sha, _size = sha256_file(path)
        num = case.item(sha)["num"]
        assert client.get(f"/items/{num}/raw").content == path.read_bytes(), path
        checked += 1
    assert checked == 322

"""Access control of the reading room with accounts: every route of the app (enumerated, so
routes added later are covered too), by every kind of viewer, on items in a public and a private
collection. Nothing of a private item — byte, snippet, facet count, name, number — reaches a
viewer without the grant; a private item answers exactly like one that does not exist."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from starlette.routing import Route

from strongroom.accounts.collections import grant, list_collections, set_public
from strongroom.accounts.users import add_user, list_users
from strongroom.case import Case
from strongroom.config import IngestPolicy
from strongroom.web.app import ServeConfig, create_app
from tests import synth

PASSWORD = "correct horse battery"
# Words that occur only in the private collection: none may reach a viewer without the grant.
PRIVATE_MARKERS = (
    "qwxyzzy",  # a body word
    "zanzibar",  # a subject word
    "hidden.example",  # the private sender's domain (facets, correspondents)
    "deepthroatname",  # the private sender's display name
    "ledger-secret",  # an attachment's file name
    "plughvault",  # words inside a private attachment
    "private-dump-",  # the private input folder (locations)
)
NOT_FOUND_NUM = 9_999_999
# Who sees private items. Editors and readers need a grant; admins see everything.
VIEWERS = {
    "anonymous": False,
    "outsider": False,  # a reader without the grant
    "editor-outsider": False,  # an editor without the grant
    "insider": True,  # a reader with the grant
    "editor": True,  # an editor with the grant
    "admin": True,
}


def _message(
    sender: str,
    subject: str,
    body: str,
    msgid: str,
    reply_to: str | None = None,
    attachment: tuple[str, str] | None = None,
    day: int = 1,
) -> bytes:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = "desk@newsroom.example"
    msg["Subject"] = subject
    msg["Message-ID"] = msgid
    msg["Date"] = format_datetime(datetime(2016, 5, day, 12, 0, tzinfo=UTC))
    if reply_to:
        msg["In-Reply-To"] = reply_to
        msg["References"] = reply_to
    msg.set_content(body)
    if attachment:
        msg.add_attachment(attachment[1], filename=attachment[0])
    return msg.as_bytes()


SHARED_ATTACHMENT = ("budget-table.txt", "line items of the shared budget table")


def _build_dumps(root: Path) -> tuple[Path, Path]:
    public = root / "open-dump"
    private = root / "private-dump-7x"
    public.mkdir(parents=True)
    private.mkdir(parents=True)
    synth.write_mbox(public / "archive.mbox", 12)
    (public / "meeting.eml").write_bytes(
        _message(
            "Press Office <press@open.example>",
            "Budget meeting",
            "The budget meeting is on Monday.",
            "<meeting@open.example>",
            attachment=SHARED_ATTACHMENT,
        )
    )
    shared = _message(
        "Press Office <press@open.example>",
        "Statement to the press",
        "Our statement about the budget.",
        "<statement@open.example>",
        day=2,
    )
    (public / "statement.eml").write_bytes(shared)
    (private / "statement-copy.eml").write_bytes(shared)  # the same bytes in both
    (private / "reply.eml").write_bytes(
        _message(
            "Deepthroatname Source <source@hidden.example>",
            "Re: Budget meeting zanzibar",
            "Bring the budget ledger qwxyzzy to the garage.",
            "<reply@hidden.example>",
            reply_to="<meeting@open.example>",
            attachment=("ledger-secret.txt", "plughvault accounts of the budget"),
            day=3,
        )
    )
    (private / "tip.eml").write_bytes(
        _message(
            "Deepthroatname Source <source@hidden.example>",
            "zanzibar tip",
            "qwxyzzy budget tip with the shared table attached",
            "<tip@hidden.example>",
            attachment=SHARED_ATTACHMENT,
            day=4,
        )
    )
    return public, private


@pytest.fixture(scope="module")
def case(tmp_path_factory: pytest.TempPathFactory) -> Case:
    root = tmp_path_factory.mktemp("access")
    public, private = _build_dumps(root / "dumps")
    case = Case.init(root / "case")
    policy = IngestPolicy(workers=1)
    case.ingest([public], policy, collection="public")
    case.ingest([private], policy, collection="private")
    set_public(case.catalog, "public", True)
    for name, role in [
        ("outsider", "reader"),
        ("editor-outsider", "editor"),
        ("insider", "reader"),
        ("editor", "editor"),
        ("admin", "admin"),
    ]:
        add_user(case.catalog, name, role, PASSWORD)
    grant(case.catalog, "insider", "private")
    grant(case.catalog, "editor", "private")
    return case


@pytest.fixture(scope="module")
def app(case: Case) -> Any:
    return create_app(case, ServeConfig(accounts=True))


def login(client: TestClient, name: str) -> None:
    token = client.get("/session.json").json()["csrf"]
    response = client.post(
        "/login",
        data={"name": name, "password": PASSWORD, "csrf": token},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    assert client.get("/session.json").json()["viewer"]["name"] == name


@pytest.fixture(scope="module")
def clients(app: Any) -> dict[str, TestClient]:
    out = {}
    for name in VIEWERS:
        client = TestClient(app)
        if name != "anonymous":
            login(client, name)
        out[name] = client
    return out


@pytest.fixture(scope="module")
def items(case: Case) -> dict[str, list[int]]:
    """Item numbers by who may read them: public (in the public collection, perhaps also in
    the private one) and private (only in the private collection)."""
    public: list[int] = []
    private: list[int] = []
    last = case.catalog.report()["items"]
    for num in range(1, last + 1):
        names = case.item_collections(num)
        (public if "public" in names else private).append(num)
        assert names, f"item {num} belongs to no collection"
    return {"public": public, "private": private}


def test_the_fixture_has_both_kinds_and_shared_items(
    case: Case, items: dict[str, list[int]]
) -> None:
    assert len(items["private"]) == 3  # the reply, its attachment, the tip
    both = [n for n in items["public"] if case.item_collections(n) == {"public", "private"}]
    # the statement (same bytes in both dumps) and the shared attachment
    assert len(both) == 2, both
    kinds = {case.item(str(n))["kind"] for n in items["private"]}
    assert {"email", "attachment"} <= kinds


# -- the route matrix ---------------------------------------------------------------------
PARAM = re.compile(r"{(\w+)(?::\w+)?}")
# Path and form parameters that name an item; other numbers (a claim, a person) are not items.
ITEM_PARAMS = frozenset({"num", "item", "item_num", "ids"})
# Queries that find private items (the markers themselves would be echoed back in a form).
QUERIES = ("garage", "budget OR garage OR tip")


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str
    path_params: dict[str, Any]  # name -> annotation
    query_params: tuple[str, ...]  # names of text query parameters
    form_params: dict[str, Any]

    @property
    def item_path(self) -> bool:
        return any(name in ITEM_PARAMS for name in self.path_params)

    def url(self, num: int, word: str = "private") -> str:
        def value(match: re.Match[str]) -> str:
            name = match.group(1)
            numeric = self.path_params.get(name) is int or name in ITEM_PARAMS
            return str(num) if numeric else word

        return PARAM.sub(value, self.path)

    def form(self, nums: list[int], query: str) -> dict[str, Any]:
        data: dict[str, Any] = {}
        for name, kind in self.form_params.items():
            if name in ITEM_PARAMS or kind is int:
                data[name] = nums if "list" in str(kind) else nums[0]
            elif "list" in str(kind):
                data[name] = [str(n) for n in nums]
            else:
                data[name] = query
        return data


def _routes(app: Any) -> list[Endpoint]:
    """Every route of the app, the ones capability modules add included."""
    found = []
    for route in app.routes:
        if not isinstance(route, Route):  # the static files mount
            continue
        path_params: dict[str, Any] = dict.fromkeys(PARAM.findall(route.path), str)
        queries: tuple[str, ...] = ()
        forms: dict[str, Any] = {}
        if isinstance(route, APIRoute):
            dependant = route.dependant
            for param in dependant.path_params:
                path_params[param.name] = param.field_info.annotation
            queries = tuple(
                p.alias for p in dependant.query_params if p.field_info.annotation is str
            )
            forms = {p.alias: p.field_info.annotation for p in dependant.body_params}
        for method in sorted(route.methods or {"GET"}):
            if method != "HEAD":
                found.append(Endpoint(method, route.path, path_params, queries, forms))
    return found


def _leaks(text: str) -> list[str]:
    lower = text.lower()
    return [marker for marker in PRIVATE_MARKERS if marker in lower]


def test_the_matrix_covers_every_route(app: Any) -> None:
    paths = {endpoint.path for endpoint in _routes(app)}
    for expected in (
        "/search",
        "/search.json",
        "/items/{num}",
        "/items/{num}.json",
        "/items/{num}/raw",
        "/items/{num}/download",
        "/threads/{num}",
        "/correspondents.json",
        "/timeline.json",
        "/admin/audit.json",
        "/login",
        "/export",
        "/admin/users",
        "/admin/users/{name}/role",
        "/admin/users/{name}/password",
        "/admin/users/{name}/remove",
        "/admin/users/{name}/grants",
        "/admin/users/{name}/grants/remove",
        "/admin/collections/{collection}/public",
    ):
        assert expected in paths


def _same_as_missing(client: TestClient, endpoint: Endpoint, num: int, **kwargs: Any) -> None:
    """A private item answers exactly as a number that does not exist."""
    response = client.request(endpoint.method, endpoint.url(num), **kwargs)
    ghost = client.request(endpoint.method, endpoint.url(NOT_FOUND_NUM), **kwargs)
    where = (endpoint.method, endpoint.url(num))
    assert response.status_code >= 400, where
    assert response.status_code == ghost.status_code, where
    assert response.text.replace(str(num), "N") == ghost.text.replace(str(NOT_FOUND_NUM), "N")
    assert not _leaks(response.text), where


@pytest.mark.parametrize("viewer", VIEWERS)
def test_get_routes_leak_nothing_private(
    app: Any, clients: dict[str, TestClient], items: dict[str, list[int]], viewer: str
) -> None:
    client = clients[viewer]
    html = {"accept": "text/html"}
    checked = 0
    for endpoint in _routes(app):
        if endpoint.method != "GET":
            continue
        nums = items["private"] + items["public"][:2] + [1, 2, 3] if endpoint.path_params else [0]
        words = ["private", "public", "default", "html", "json"] if endpoint.path_params else [""]
        queries: list[dict[str, str]] = [{}]
        queries += [{name: q} for name in endpoint.query_params for q in QUERIES]
        for num in nums:
            for word in words:
                url = endpoint.url(num, word)
                for query in queries:
                    response = client.get(url, params=query, headers=html)
                    checked += 1
                    if VIEWERS[viewer]:
                        assert response.status_code < 500, (viewer, url, query)
                        continue
                    leaked = _leaks(response.text) + _leaks(str(response.headers))
                    assert not leaked, f"{viewer} GET {url} {query}: {leaked}"
        if endpoint.item_path and not VIEWERS[viewer]:
            for num in items["private"]:
                _same_as_missing(client, endpoint, num, headers=html)
    assert checked > 100


@pytest.mark.parametrize("viewer", [v for v, sees in VIEWERS.items() if not sees])
def test_unsafe_routes_refuse_private_items(
    app: Any, clients: dict[str, TestClient], items: dict[str, list[int]], viewer: str
) -> None:
    client = clients[viewer]
    for endpoint in _routes(app):
        if endpoint.method == "GET" or endpoint.path in ("/login", "/logout"):
            continue
        for query in QUERIES:
            token = client.get("/session.json").json()["csrf"]
            data = {**endpoint.form(items["private"], query), "csrf": token}
            if endpoint.item_path:
                for num in items["private"]:
                    _same_as_missing(client, endpoint, num, data=data)
            else:  # item numbers in the form (pii decisions, exhibits...): nothing comes back
                for num in [1, 2, 3]:
                    response = client.request(endpoint.method, endpoint.url(num), data=data)
                    assert response.status_code < 500, (viewer, endpoint.path)
                    assert not _leaks(response.text), (viewer, endpoint.path, data)


@pytest.mark.parametrize("viewer", VIEWERS)
def test_admin_routes_answer_admins_only(
    app: Any, case: Case, clients: dict[str, TestClient], viewer: str
) -> None:
    """Users, grants, public collections and the audit log: read and changed by admins only
    (the changes an admin makes are tested in tests/test_admin.py)."""
    client = clients[viewer]
    refused = 401 if viewer == "anonymous" else 403
    before = (list_users(case.catalog), list_collections(case.catalog))
    admin_routes = [e for e in _routes(app) if e.path.startswith("/admin")]
    assert len(admin_routes) >= 11
    for endpoint in admin_routes:
        url = endpoint.url(1, "insider" if "{name}" in endpoint.path else "private")
        if endpoint.method == "GET":
            expected = 200 if viewer == "admin" else refused
            assert client.get(url).status_code == expected, (viewer, url)
        elif viewer != "admin":  # the fixture is shared: the admin's writes are not tried here
            form = {"name": "intruder", "role": "admin", "collection": "private"}
            form |= {"password": PASSWORD, "confirm": PASSWORD, "public": "on"}
            data = {**form, "csrf": client.get("/session.json").json()["csrf"]}
            response = client.request(endpoint.method, url, data=data)
            assert response.status_code == refused, (viewer, url)
    assert (list_users(case.catalog), list_collections(case.catalog)) == before


@pytest.mark.parametrize("viewer", VIEWERS)
def test_item_routes_answer_who_may_read(
    clients: dict[str, TestClient], items: dict[str, list[int]], viewer: str
) -> None:
    client = clients[viewer]
    for num in items["public"] + items["private"]:
        readable = num in items["public"] or VIEWERS[viewer]
        for url in (f"/items/{num}.json", f"/items/{num}/raw", f"/items/{num}/download"):
            assert client.get(url).status_code == (200 if readable else 404), (viewer, url)
    # guessing numbers past the end is the same as guessing a private one
    assert client.get(f"/items/{NOT_FOUND_NUM}.json").status_code == 404


@pytest.mark.parametrize("viewer", VIEWERS)
def test_search_totals_facets_and_snippets_are_scoped(
    case: Case, clients: dict[str, TestClient], items: dict[str, list[int]], viewer: str
) -> None:
    client = clients[viewer]
    everything = client.get("/search.json", params={"q": ""}).json()
    indexed_public = case.count("", collections=frozenset({"public"}))
    indexed_all = case.count("")
    assert everything["total"] == (indexed_all if VIEWERS[viewer] else indexed_public)
    assert indexed_all > indexed_public
    secret = client.get("/search.json", params={"q": "qwxyzzy"}).json()
    assert secret["total"] == (2 if VIEWERS[viewer] else 0)
    senders = {b["value"] for b in everything["facets"]["sender_domains"]}
    assert ("hidden.example" in senders) == VIEWERS[viewer]
    # the shared attachment is public, but its private container is not named to outsiders
    hits = client.get("/search.json", params={"q": "filename:budget-table.txt"}).json()["hits"]
    assert hits
    for hit in hits:
        if hit.get("parent"):
            assert hit["parent"] in items["public"] or VIEWERS[viewer]


def test_threads_hide_members_outside_the_grant(case: Case, clients: dict[str, TestClient]) -> None:
    meeting = case.search("msgid:meeting@open.example", facets=False).hits[0]["id"]
    reply = case.search("msgid:reply@hidden.example", facets=False).hits[0]["id"]
    inside = clients["insider"].get(f"/threads/{meeting}.json").json()["messages"]
    outside = clients["outsider"].get(f"/threads/{meeting}.json").json()["messages"]
    assert {m["id"] for m in inside} == {meeting, reply}
    assert {m["id"] for m in outside} == {meeting}
    page = clients["anonymous"].get(f"/items/{meeting}.json").json()
    assert [m["id"] for m in page["thread"]] == [meeting]


def test_a_shared_item_shows_only_locations_in_scope(
    case: Case, clients: dict[str, TestClient]
) -> None:
    (hit,) = case.search('subject:"statement to the press"', facets=False).hits
    anonymous = clients["anonymous"].get(f"/items/{hit['id']}.json").json()
    admin = clients["admin"].get(f"/items/{hit['id']}.json").json()
    assert len(admin["locations"]) == 2
    assert [loc["path"].split("/")[-2] for loc in anonymous["locations"]] == ["open-dump"]


def test_correspondents_and_timeline_are_scoped(clients: dict[str, TestClient]) -> None:
    for viewer, sees in VIEWERS.items():
        people = clients[viewer].get("/correspondents.json").json()
        addresses = {p["address"] for p in people["people"]}
        assert ("source@hidden.example" in addresses) == sees, viewer
        timeline = clients[viewer].get("/timeline.json", params={"q": "qwxyzzy"}).json()
        assert timeline["total"] == (2 if sees else 0)
        assert bool(timeline["months"]) == sees


def test_no_public_collection_means_anonymous_sees_nothing(case: Case) -> None:
    set_public(case.catalog, "public", False)
    try:
        client = TestClient(create_app(case, ServeConfig(accounts=True)))
        assert client.get("/search.json").json()["total"] == 0
        first_public = case.search("", facets=False, limit=1).hits[0]["id"]
        assert client.get(f"/items/{first_public}.json").status_code == 404
        page = client.get("/search", headers={"accept": "text/html"})
        assert 'href="/login"' in page.text
    finally:
        set_public(case.catalog, "public", True)


def test_local_mode_is_unchanged(case: Case, items: dict[str, list[int]]) -> None:
    client = TestClient(create_app(case))
    assert client.get(f"/items/{items['private'][0]}.json").status_code == 200
    assert client.get("/search.json", params={"q": "qwxyzzy"}).json()["total"] == 2
    assert client.get("/login").status_code == 404  # no accounts here
    assert client.get("/session.json").json()["viewer"]["name"] == "local"

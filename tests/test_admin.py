"""The reading room's user and grant administration (/admin/users): what `strongroom users`
and `strongroom collections` do, from a browser form. Admins only, a CSRF token on every form,
every change in the audit log under the admin's name, and the change seen at once by the
people it concerns (a new user logs in, a grant opens a collection, a removal ends access)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from strongroom.accounts.collections import grant, list_collections
from strongroom.accounts.users import LoginFailed, add_user, authenticate, get_user, list_users
from strongroom.case import Case
from strongroom.catalog.audit import events
from strongroom.config import IngestPolicy
from strongroom.web.app import ServeConfig, create_app
from tests import synth

PASSWORD = "correct horse battery"
HTML = {"accept": "text/html"}
# Every change the admin page makes: path, form (without the CSRF token).
CHANGES: list[tuple[str, dict[str, str]]] = [
    (
        "/admin/users",
        {"name": "newbie", "role": "reader", "password": PASSWORD, "confirm": PASSWORD},
    ),
    ("/admin/users/rita/role", {"role": "editor"}),
    ("/admin/users/rita/password", {"password": "a new long one", "confirm": "a new long one"}),
    ("/admin/users/rita/grants", {"collection": "secret"}),
    ("/admin/users/rita/grants/remove", {"collection": "open"}),
    ("/admin/users/rita/remove", {}),
    ("/admin/collections/secret/public", {"public": "on"}),
]


@pytest.fixture
def case(tmp_path: Path) -> Case:
    """Two collections of a few messages each; admin ana, reader rita (granted `open`)."""
    for name, start in (("open", 0), ("secret", 100)):
        (tmp_path / name).mkdir()
        synth.write_mbox(tmp_path / name / f"{name}.mbox", 3, start=start)
    case = Case.init(tmp_path / "case")
    for name in ("open", "secret"):
        case.ingest([tmp_path / name], IngestPolicy(workers=1), collection=name)
    add_user(case.catalog, "ana", "admin", PASSWORD)
    add_user(case.catalog, "rita", "reader", PASSWORD)
    add_user(case.catalog, "ed", "editor", PASSWORD)
    grant(case.catalog, "rita", "open")
    return case


def client_for(case: Case, name: str | None, password: str = PASSWORD) -> TestClient:
    client = TestClient(create_app(case, ServeConfig(accounts=True)))
    if name is not None:
        response = client.post(
            "/login",
            data={"name": name, "password": password, "csrf": csrf(client)},
            follow_redirects=False,
        )
        assert response.status_code == 303, response.text
    return client


def csrf(client: TestClient) -> str:
    token: str = client.get("/session.json").json()["csrf"]
    return token


def post(client: TestClient, path: str, form: dict[str, str], **kwargs: Any) -> Any:
    return client.post(
        path, data={**form, "csrf": csrf(client)}, follow_redirects=False, headers=HTML, **kwargs
    )


def state(case: Case) -> tuple[Any, ...]:
    return (list_users(case.catalog), list_collections(case.catalog))


def test_an_admin_manages_users_and_grants_from_the_page(case: Case) -> None:
    admin = client_for(case, "ana")
    rita = client_for(case, "rita")
    in_open = case.count("", collections=frozenset({"open"}))
    in_secret = case.count("", collections=frozenset({"secret"}))
    assert in_open and in_secret
    assert rita.get("/search.json").json()["total"] == in_open

    # add a user, who can then log in with the password the admin chose
    done = post(admin, "/admin/users", CHANGES[0][1])
    assert (done.status_code, done.headers["location"]) == (303, "/admin/users")
    assert client_for(case, "newbie").get("/session.json").json()["viewer"]["role"] == "reader"

    # a grant opens a collection to rita at once, a revocation closes one
    assert post(admin, "/admin/users/rita/grants", {"collection": "secret"}).status_code == 303
    assert rita.get("/search.json").json()["total"] == in_open + in_secret
    assert post(admin, "/admin/users/rita/grants/remove", {"collection": "open"}).status_code == 303
    assert rita.get("/search.json").json()["total"] == in_secret
    assert rita.get("/session.json").json()["viewer"]["collections"] == ["secret"]

    # a public collection is read by the anonymous
    anonymous = client_for(case, None)
    assert anonymous.get("/search.json").json()["total"] == 0
    assert post(admin, "/admin/collections/open/public", {"public": "on"}).status_code == 303
    assert anonymous.get("/search.json").json()["total"] == in_open
    assert post(admin, "/admin/collections/open/public", {"public": "off"}).status_code == 303
    assert anonymous.get("/search.json").json()["total"] == 0

    # a role change applies to rita's open session
    assert rita.get("/session.json").json()["viewer"]["role"] == "reader"
    assert post(admin, "/admin/users/rita/role", {"role": "editor"}).status_code == 303
    assert rita.get("/session.json").json()["viewer"]["role"] == "editor"

    # a new password ends rita's sessions; the old one no longer works
    new = {"password": "a new long one", "confirm": "a new long one"}
    assert post(admin, "/admin/users/rita/password", new).status_code == 303
    assert rita.get("/session.json").json()["viewer"]["name"] == "anonymous"
    with pytest.raises(LoginFailed):
        authenticate(case.catalog, "rita", PASSWORD, "10.0.0.9")
    rita = client_for(case, "rita", "a new long one")

    # removing her ends her access
    assert post(admin, "/admin/users/rita/remove", {}).status_code == 303
    assert get_user(case.catalog, "rita") is None
    assert rita.get("/session.json").json()["viewer"]["name"] == "anonymous"

    # each change is in the audit log, made by ana, and no password is in it
    log = [(e["actor"], e["action"], e["target"], e["detail"]) for e in events(case.catalog)]
    made = [(action, target) for actor, action, target, _ in log if actor == "ana"]
    assert set(made) >= {
        ("user.add", "newbie"),
        ("grant", "secret"),
        ("revoke", "open"),
        ("collection.public", "open"),
        ("user.role", "rita"),
        ("user.passwd", "rita"),
        ("user.remove", "rita"),
    }
    assert "a new long one" not in repr(log) and PASSWORD not in repr(log)
    listed = admin.get("/admin/audit.json", params={"action": "user."}).json()["events"]
    assert {e["action"] for e in listed} == {"user.add", "user.role", "user.passwd", "user.remove"}


def test_the_page_shows_users_grants_and_a_csrf_token_in_every_form(case: Case) -> None:
    admin = client_for(case, "ana")
    page = admin.get("/admin/users", headers=HTML)
    assert page.status_code == 200
    forms = re.findall(r"<form [^>]*method=\"post\"[^>]*>(.*?)</form>", page.text, re.S)
    # per user: role, grant (not for an admin), password, remove (not for ana herself);
    # rita's one revoke; per collection: public; add a user; log out
    assert len(forms) == 3 * 4 - 2 + 1 + 2 + 1 + 1
    token = csrf(admin)
    for form in forms:
        assert f'name="csrf" value="{token}"' in form
    assert 'action="/admin/users/ana/remove"' not in page.text  # no way to remove herself
    assert 'action="/admin/users/rita/remove"' in page.text
    counts = re.findall(r'<tr id="collection-(\w+)">\s*<td>\w+</td>\s*<td>(\d+)</td>', page.text)
    assert counts == [
        ("open", str(case.count("", collections=frozenset({"open"})))),
        ("secret", str(case.count("", collections=frozenset({"secret"})))),
    ]
    twin = admin.get("/admin/users.json").json()
    assert {u["name"]: u["collections"] for u in twin["users"]}["rita"] == ["open"]
    assert twin["roles"] == ["reader", "editor", "admin"] and twin["me"] == "ana"


@pytest.mark.parametrize("who", [None, "rita", "ed"])
def test_only_admins_may_change_accounts(case: Case, who: str | None) -> None:
    client = client_for(case, who)
    before = state(case)
    for path, form in CHANGES:
        response = post(client, path, form)
        assert response.status_code == (401 if who is None else 403), path
    assert client.get("/admin/users.json").status_code == (401 if who is None else 403)
    assert state(case) == before
    assert not [e for e in events(case.catalog) if e["action"].startswith(("user.", "grant"))]


def test_every_change_needs_the_csrf_token(case: Case) -> None:
    admin = client_for(case, "ana")
    before = state(case)
    for path, form in CHANGES:
        missing = admin.post(path, data=form, follow_redirects=False)
        forged = admin.post(path, data={**form, "csrf": "x" * 40}, follow_redirects=False)
        for response in (missing, forged):
            assert response.status_code == 403, path
            assert "CSRF" in response.json()["message"]
    assert state(case) == before


def test_bad_changes_are_refused_with_a_reason(case: Case) -> None:
    admin = client_for(case, "ana")
    before = state(case)
    cases = [
        ("/admin/users", {**CHANGES[0][1], "confirm": "something else"}, 400, "differ"),
        (
            "/admin/users",
            {**CHANGES[0][1], "password": "short", "confirm": "short"},
            400,
            "at least",
        ),
        ("/admin/users", {**CHANGES[0][1], "name": "Rita Smith"}, 400, "not a valid user name"),
        ("/admin/users", {**CHANGES[0][1], "name": "rita"}, 400, "exists"),
        ("/admin/users/nobody/role", {"role": "editor"}, 404, "no user nobody"),
        ("/admin/users/rita/grants", {"collection": "nowhere"}, 404, "no collection nowhere"),
        ("/admin/users/rita/grants/remove", {"collection": "secret"}, 404, "no grant"),
        ("/admin/collections/nowhere/public", {"public": "on"}, 404, "no collection nowhere"),
        # an admin cannot lock herself out from the web
        ("/admin/users/ana/remove", {}, 400, "your own account"),
        ("/admin/users/ana/role", {"role": "reader"}, 400, "admin role from yourself"),
    ]
    for path, form, status, words in cases:
        response = post(admin, path, form)
        assert response.status_code == status, (path, form, response.text)
        assert words in response.text, (path, response.text)
    assert post(admin, "/admin/users/rita/role", {"role": "boss"}).status_code == 422
    assert state(case) == before


def test_local_mode_administers_as_the_local_user(case: Case) -> None:
    """Without --accounts the person at the terminal is the admin: users can be prepared
    before the server is opened to others."""
    local = TestClient(create_app(case))
    assert local.get("/admin/users", headers=HTML).status_code == 200
    assert post(local, "/admin/users/ed/grants", {"collection": "secret"}).status_code == 303
    (event,) = [e for e in events(case.catalog) if e["action"] == "grant"]
    assert (event["actor"], event["target"], event["detail"]) == ("local", "secret", {"user": "ed"})

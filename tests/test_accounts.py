"""Accounts: users and argon2id passwords from the CLI, collections and grants, logging in,
CSRF tokens on every write (local mode too), cookie flags, API tokens, the login rate limit,
and the audit log of logins, searches, views and downloads."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from fastapi.testclient import TestClient
from sqlalchemy import select, text

from strongroom.accounts.users import (
    MAX_FAILURES,
    LoginFailed,
    TooManyAttempts,
    add_user,
    authenticate,
)
from strongroom.case import Case
from strongroom.catalog.tables_accounts import users
from strongroom.cli import cli
from strongroom.errors import NotFound, UsageError
from strongroom.web.app import ServeConfig, create_app
from tests import synth

PASSWORD = "correct horse battery"


def run(case: Path, *args: str, stdin: str | None = None) -> Result:
    return CliRunner().invoke(cli, ["--case", str(case), *args], input=stdin)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("accounts")
    (base / "alpha").mkdir()
    (base / "beta").mkdir()
    synth.write_mbox(base / "alpha" / "a.mbox", 6)
    synth.write_mbox(base / "beta" / "b.mbox", 4, start=100)
    shutil.copy(base / "alpha" / "a.mbox", base / "beta" / "copy-of-a.mbox")
    for name in ("alpha", "beta"):
        result = run(base / "case", "ingest", "--json", "--collection", name, str(base / name))
        assert result.exit_code == 0, result.output
    return base / "case"


@pytest.fixture
def case_dir(built: Path, tmp_path: Path) -> Path:
    """A fresh copy of the ingested case for each test (they add users and sessions)."""
    return Path(shutil.copytree(built, tmp_path / "case"))


@pytest.fixture
def case(case_dir: Path) -> Case:
    return Case.open(case_dir)


def test_ingest_into_named_collections_an_item_in_two_is_in_both(case: Case) -> None:
    listed = {
        c["name"]: c for c in json.loads(run(case.root, "collections", "list", "--json").output)
    }
    # alpha: the mbox and its 6 messages; beta: its own mbox and 4 messages, plus the copy of
    # alpha's mbox (the same bytes: one item) and its 6 messages
    assert listed["alpha"]["items"] == 7
    assert listed["beta"]["items"] == 5 + 7
    in_both = [
        n
        for n in range(1, case.catalog.report()["items"] + 1)
        if case.item_collections(n) == {"alpha", "beta"}
    ]
    assert len(in_both) == 7
    # the index knows it too: `collection:` is searchable and scopes searches
    assert case.count("collection:alpha") == 7
    assert case.count("", collections=frozenset({"alpha"})) == 7
    assert case.count("", collections=frozenset({"beta"})) == 12
    assert case.count("", collections=frozenset()) == 0


def test_rerunning_an_ingest_into_another_collection_adds_the_items_to_it(
    case: Case, built: Path
) -> None:
    alpha = built.parent / "alpha"
    result = run(case.root, "ingest", "--json", "--collection", "gamma", str(alpha))
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["this_run"]["new_items"] == 0
    assert case.count("", collections=frozenset({"gamma"})) == 7


def test_users_from_the_cli_with_argon2id_hashes(case: Case) -> None:
    added = run(
        case.root,
        "users",
        "add",
        "alice",
        "--role",
        "editor",
        "--password-stdin",
        stdin=PASSWORD + "\n",
    )
    assert added.exit_code == 0, added.output
    with case.catalog.engine.connect() as conn:
        stored = conn.execute(select(users.c.password_hash).where(users.c.name == "alice")).scalar()
    assert stored.startswith("$argon2id$") and PASSWORD not in stored
    assert authenticate(case.catalog, "alice", PASSWORD, "10.0.0.1").role == "editor"
    with pytest.raises(LoginFailed):
        authenticate(case.catalog, "alice", "wrong password!", "10.0.0.1")
    # prompts twice without --password-stdin
    prompted = run(case.root, "users", "add", "bob", stdin=f"{PASSWORD}\n{PASSWORD}\n")
    assert prompted.exit_code == 0, prompted.output
    listed = json.loads(run(case.root, "users", "list", "--json").output)
    assert [(u["name"], u["role"]) for u in listed] == [("alice", "editor"), ("bob", "reader")]

    changed = run(
        case.root, "users", "passwd", "bob", "--password-stdin", stdin="another long one\n"
    )
    assert changed.exit_code == 0
    with pytest.raises(LoginFailed):
        authenticate(case.catalog, "bob", PASSWORD, "10.0.0.1")
    assert authenticate(case.catalog, "bob", "another long one", "10.0.0.1").name == "bob"

    assert run(case.root, "users", "remove", "bob").exit_code == 0
    with pytest.raises(LoginFailed):
        authenticate(case.catalog, "bob", "another long one", "10.0.0.1")


def test_bad_user_input_is_refused_with_a_reason(case: Case) -> None:
    short = run(case.root, "users", "add", "carol", "--password-stdin", stdin="short\n")
    assert isinstance(short.exception, UsageError) and "at least" in short.exception.message
    bad_name = run(case.root, "users", "add", "Carol Smith", "--password-stdin", stdin=PASSWORD)
    assert isinstance(bad_name.exception, UsageError)
    add_user(case.catalog, "carol", "reader", PASSWORD)
    again = run(case.root, "users", "add", "carol", "--password-stdin", stdin=PASSWORD)
    assert isinstance(again.exception, UsageError) and "exists" in again.exception.message
    unknown = run(case.root, "collections", "grant", "carol", "nope")
    assert isinstance(unknown.exception, NotFound)
    nobody = run(case.root, "collections", "grant", "dave", "alpha")
    assert isinstance(nobody.exception, NotFound)
    assert run(case.root, "users", "add", "x", "--role", "boss").exit_code == 2


def test_collections_grant_revoke_public(case: Case) -> None:
    add_user(case.catalog, "carol", "reader", PASSWORD)
    assert run(case.root, "collections", "grant", "carol", "beta").exit_code == 0
    assert run(case.root, "collections", "public", "alpha", "on").exit_code == 0
    listed = {
        c["name"]: c for c in json.loads(run(case.root, "collections", "list", "--json").output)
    }
    assert listed["beta"]["readers"] == ["carol"] and not listed["beta"]["public"]
    assert listed["alpha"]["public"]
    client = _logged_in(case, "carol")
    assert client.get("/search.json").json()["total"] == 12  # beta, and alpha (inside beta)
    assert run(case.root, "collections", "revoke", "carol", "beta").exit_code == 0
    assert run(case.root, "collections", "public", "alpha", "off").exit_code == 0
    assert client.get("/search.json").json()["total"] == 0
    # the changes are in the audit log with who made them
    actions = [e["action"] for e in json.loads(run(case.root, "audit", "--json").output)]
    assert {"grant", "revoke", "collection.public"} <= set(actions)


# -- the web: logging in, CSRF, cookies, tokens, rate limit, audit --------------------------
def _client(case: Case, base_url: str = "http://testserver", **config: Any) -> TestClient:
    return TestClient(create_app(case, ServeConfig(accounts=True, **config)), base_url=base_url)


def _csrf(client: TestClient) -> str:
    token: str = client.get("/session.json").json()["csrf"]
    return token


def _login(client: TestClient, name: str, password: str = PASSWORD, **extra: str) -> Any:
    data = {"name": name, "password": password, "csrf": _csrf(client), **extra}
    return client.post("/login", data=data, follow_redirects=False)


def _logged_in(case: Case, name: str) -> TestClient:
    client = _client(case)
    assert _login(client, name).status_code == 303
    return client


def _set_cookies(response: Any) -> dict[str, str]:
    return {
        header.split("=", 1)[0]: header.lower()
        for header in response.headers.get_list("set-cookie")
    }


def test_cookie_flags(case: Case) -> None:
    add_user(case.catalog, "erin", "reader", PASSWORD)

    def check(headers: dict[str, str], secure: bool) -> None:
        for header in headers.values():
            assert "httponly" in header
            assert "samesite=strict" in header
            assert ("secure" in header) == secure, header

    for base, secure in [("http://testserver", False), ("https://testserver", True)]:
        client = _client(case, base)
        first = _set_cookies(client.get("/session.json"))
        assert set(first) == {"strongroom_csrf"}
        check(first, secure)
        response = _login(client, "erin")
        assert response.status_code == 303
        cookies = _set_cookies(response)
        assert set(cookies) == {"strongroom_session", "strongroom_csrf"}
        check(cookies, secure)
    # TLS ends at a proxy: the server sees http, the browser https
    behind = _client(case, "http://testserver", secure_cookies=True)
    check(_set_cookies(behind.get("/session.json")), secure=True)


def test_csrf_is_checked_on_every_write_in_local_mode_too(case: Case) -> None:
    local = TestClient(create_app(case))

    def post(**kwargs: Any) -> int:
        status: int = local.post("/logout", follow_redirects=False, **kwargs).status_code
        return status

    assert post() == 403
    assert post(data={"csrf": "guess"}) == 403
    assert post(data={"csrf": _csrf(local)}) == 303
    assert post(headers={"X-CSRF-Token": _csrf(local)}) == 303  # for scripts and fetch()
    assert post(files={"csrf": (None, _csrf(local))}) == 303  # multipart forms
    assert post(headers={"Authorization": "Bearer x"}) == 403  # no tokens without accounts
    # Another site's page: the browser sends no SameSite=Strict cookie with its POST, and the
    # page cannot read our token; a token made for another browser's cookie does not fit.
    token = _csrf(local)
    other = TestClient(create_app(case))
    assert other.post("/logout", data={"csrf": token}, follow_redirects=False).status_code == 403
    _csrf(other)  # now it has a cookie of its own
    assert other.post("/logout", data={"csrf": token}, follow_redirects=False).status_code == 403


def test_csrf_token_changes_with_the_session(case: Case) -> None:
    add_user(case.catalog, "frank", "reader", PASSWORD)
    client = _client(case)
    before = _csrf(client)
    assert _login(client, "frank").status_code == 303
    after = _csrf(client)
    assert before != after
    refused = client.post("/logout", data={"csrf": before}, follow_redirects=False)
    assert refused.status_code == 403
    # logging in needs the token too (no login CSRF)
    assert (
        _client(case).post("/login", data={"name": "frank", "password": PASSWORD}).status_code
        == 403
    )


def test_login_failures_are_rate_limited_per_user_and_address(case: Case) -> None:
    add_user(case.catalog, "gina", "reader", PASSWORD)
    client = _client(case)
    for _ in range(MAX_FAILURES):
        response = _login(client, "gina", "not the password")
        assert response.status_code == 401
        assert "wrong user name or password" in response.text
    limited = _login(client, "gina")  # even the right password is not checked now
    assert limited.status_code == 429
    assert "strongroom_session" not in _set_cookies(limited)
    # the same user from another address, and another user from this one, may still log in
    assert authenticate(case.catalog, "gina", PASSWORD, "192.0.2.7").name == "gina"
    with pytest.raises(TooManyAttempts):
        authenticate(case.catalog, "gina", PASSWORD, "testclient")
    add_user(case.catalog, "hank", "reader", PASSWORD)
    assert _login(client, "hank").status_code == 303
    # an unknown name fails the same way as a wrong password
    unknown = _login(_client(case), "nobody", "not the password")
    assert unknown.status_code == 401 and "wrong user name or password" in unknown.text


def test_login_redirects_only_within_the_site(case: Case) -> None:
    add_user(case.catalog, "ivy", "reader", PASSWORD)
    for target, expected in [
        ("/timeline", "/timeline"),
        ("//evil.example/", "/search"),
        ("https://evil.example/", "/search"),
    ]:
        response = _login(_client(case), "ivy", next=target)
        assert response.headers["location"] == expected


def test_api_tokens_for_scripts(case: Case) -> None:
    add_user(case.catalog, "jo", "reader", PASSWORD)
    made = run(case.root, "users", "token", "jo", "--label", "nightly export")
    assert made.exit_code == 0
    token = made.output.strip()
    app = create_app(case, ServeConfig(accounts=True))
    script = TestClient(app)
    bearer = {"Authorization": f"Bearer {token}"}
    assert script.get("/session.json", headers=bearer).json()["viewer"]["name"] == "jo"
    # a header no other site can make a browser send: no CSRF token needed
    assert script.post("/logout", headers=bearer, follow_redirects=False).status_code == 303
    wrong = script.get("/search.json", headers={"Authorization": "Bearer sr_guess"})
    assert wrong.status_code == 401
    tokens = json.loads(run(case.root, "users", "tokens", "jo", "--json").output)
    assert [t["label"] for t in tokens] == ["nightly export"]
    assert token not in json.dumps(tokens)
    assert run(case.root, "users", "revoke-token", str(tokens[0]["id"])).exit_code == 0
    assert script.get("/search.json", headers=bearer).status_code == 401


def test_password_change_ends_sessions(case: Case) -> None:
    add_user(case.catalog, "kim", "reader", PASSWORD)
    client = _logged_in(case, "kim")
    run(case.root, "users", "passwd", "kim", "--password-stdin", stdin="a brand new password\n")
    assert client.get("/session.json").json()["viewer"]["name"] == "anonymous"


def test_audit_log_of_logins_searches_views_downloads(case: Case) -> None:
    add_user(case.catalog, "lee", "admin", PASSWORD)
    add_user(case.catalog, "max", "reader", PASSWORD)
    run(case.root, "collections", "grant", "max", "alpha")
    assert _login(_client(case), "max", "wrong password!!").status_code == 401
    reader = _logged_in(case, "max")
    total = reader.get("/search.json", params={"q": "budget"}).json()["total"]
    num = reader.get("/search.json", params={"q": "budget"}).json()["hits"][0]["id"]
    assert reader.get(f"/items/{num}").status_code == 200
    assert reader.get(f"/items/{num}/download").status_code == 200
    # only admins read the log; the public is sent to log in
    assert reader.get("/admin/audit.json").status_code == 403
    assert _client(case).get("/admin/audit.json").status_code == 401
    page = _client(case).get(
        "/admin/audit", headers={"accept": "text/html"}, follow_redirects=False
    )
    assert page.status_code == 303 and page.headers["location"].startswith("/login")
    admin = _logged_in(case, "lee")
    log = admin.get("/admin/audit.json", params={"limit": 50}).json()["events"]
    seen = {(e["actor"], e["action"], e["target"]) for e in log}
    assert ("anonymous", "login.failed", "max") in seen
    assert ("max", "login", "max") in seen
    assert ("max", "search", "budget") in seen
    assert ("max", "view", str(num)) in seen
    assert ("max", "download", str(num)) in seen
    search = next(e for e in log if e["action"] == "search")
    assert search["detail"]["total"] == total
    assert "max" in admin.get("/admin/audit", headers={"accept": "text/html"}).text
    cli_log = json.loads(run(case.root, "audit", "--json", "--action", "login").output)
    assert {e["action"] for e in cli_log} == {"login", "login.failed"}
    # append-only: the database itself refuses to rewrite it
    with pytest.raises(Exception, match="append-only"), case.catalog.engine.begin() as conn:
        conn.execute(text("UPDATE audit_events SET actor = 'someone else'"))


def test_local_mode_records_no_reads(case: Case) -> None:
    local = TestClient(create_app(case))
    local.get("/search.json", params={"q": "budget"})
    assert json.loads(run(case.root, "audit", "--json", "--action", "search").output) == []


def test_pages_carry_the_token_in_their_forms(case: Case) -> None:
    add_user(case.catalog, "nia", "admin", PASSWORD)
    anonymous = _client(case)
    page = anonymous.get("/search", headers={"accept": "text/html"}).text
    assert 'href="/login"' in page and 'action="/logout"' not in page
    login_page = anonymous.get("/login", headers={"accept": "text/html"}).text
    assert f'name="csrf" value="{_csrf(anonymous)}"' in login_page
    admin = _logged_in(case, "nia")
    page = admin.get("/search", headers={"accept": "text/html"}).text
    assert 'action="/logout"' in page and 'href="/admin/audit"' in page
    assert f'name="csrf" value="{_csrf(admin)}"' in page
    # the local reading room shows no login machinery at all
    local = TestClient(create_app(case)).get("/search", headers={"accept": "text/html"}).text
    assert "/login" not in local and "/logout" not in local

"""The admin page in a real browser (Debian's Chromium through Playwright), served by the real
CLI with accounts: an admin adds a reader, grants her a collection and makes another public by
clicking through the forms (the strict CSP allows them without a script), and the new reader
then logs in and reads what she was given."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from strongroom.accounts.users import add_user
from strongroom.case import Case
from strongroom.catalog.audit import events
from strongroom.config import IngestPolicy
from tests import synth
from tests.browsing import require_chromium, serving, shot

pytestmark = pytest.mark.browser
PASSWORD = "correct horse battery"


@pytest.fixture
def case(tmp_path: Path) -> Case:
    require_chromium()
    for name, start in (("open", 0), ("secret", 100)):
        (tmp_path / name).mkdir()
        synth.write_mbox(tmp_path / name / f"{name}.mbox", 3, start=start)
    case = Case.init(tmp_path / "case")
    for name in ("open", "secret"):
        case.ingest([tmp_path / name], IngestPolicy(workers=1), collection=name)
    add_user(case.catalog, "ana", "admin", PASSWORD)
    return case


def log_in(page: Any, base: str, name: str, password: str) -> None:
    page.goto(f"{base}/login")
    page.fill("input[name=name]", name)
    page.fill("input[name=password]", password)
    with page.expect_navigation():
        page.click("form.login button[type=submit]")


def test_an_admin_adds_a_reader_and_grants_her_a_collection(case: Case, browser: Any) -> None:
    in_secret = case.count("", collections=frozenset({"secret"}))
    in_open = case.count("", collections=frozenset({"open"}))
    with serving(case, "--accounts") as base:
        admin = browser.new_context().new_page()
        errors: list[str] = []  # what the CSP blocked, and failed requests but the favicon
        admin.on(
            "console", lambda m: errors.append(m.text) if "Security Policy" in m.text else None
        )
        admin.on(
            "response",
            lambda r: errors.append(r.url) if r.status >= 400 and "favicon" not in r.url else None,
        )
        log_in(admin, base, "ana", PASSWORD)
        admin.goto(f"{base}/admin/users")
        admin.fill("#new-name", "rita")
        admin.select_option("#new-role", "reader")
        admin.fill("#new-password", "a long password")
        admin.fill("#new-confirm", "a long password")
        with admin.expect_navigation():
            admin.click("form.add-user button[type=submit]")
        assert admin.url == f"{base}/admin/users"
        admin.select_option("#grant-rita", "secret")
        with admin.expect_navigation():
            admin.click("#user-rita form[action$='/grants'] button")
        with admin.expect_navigation():
            admin.click("#collection-open form button")
        row = admin.inner_text("#user-rita")
        assert "secret" in row and "Revoke secret" in row
        assert "yes" in admin.inner_text("#collection-open")
        shot(admin, "admin-users")
        assert not errors, errors

        reader = browser.new_context().new_page()
        log_in(reader, base, "rita", "a long password")
        reader.goto(f"{base}/search.json")
        assert json.loads(reader.inner_text("body"))["total"] == in_secret + in_open
        reader.goto(f"{base}/search")
        assert "/admin/users" not in reader.content()  # no admin link for a reader
    made = {(e["actor"], e["action"], e["target"]) for e in events(case.catalog)}
    assert {
        ("ana", "user.add", "rita"),
        ("ana", "grant", "secret"),
        ("ana", "collection.public", "open"),
    } <= made

"""CSRF and cookies in a real browser (Debian's Chromium through Playwright): a page on another
site, or on another port of this machine, cannot make the browser write to the local reading
room; the reading room's own pages can; login cookies are HttpOnly and SameSite=Strict."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from strongroom.accounts.users import add_user
from strongroom.case import Case
from strongroom.config import IngestPolicy
from tests import synth
from tests.browsing import require_chromium, serving, serving_folder

pytestmark = pytest.mark.browser
PASSWORD = "correct horse battery"


@pytest.fixture(scope="module")
def case(tmp_path_factory: pytest.TempPathFactory) -> Case:
    require_chromium()
    root = tmp_path_factory.mktemp("access-browser")
    synth.write_mbox(root / "a.mbox", 5)
    case = Case.init(root / "case")
    case.ingest([root / "a.mbox"], IngestPolicy(workers=1))
    add_user(case.catalog, "ana", "reader", PASSWORD)
    return case


@pytest.fixture
def attacker(tmp_path: Path) -> Iterator[tuple[Path, int]]:
    """Another web server on this machine that serves whatever page a test writes."""
    with serving_folder(tmp_path) as port:
        yield tmp_path, port


def test_other_pages_cannot_post_to_the_local_reading_room(
    case: Case, browser: object, attacker: tuple[Path, int]
) -> None:
    folder, port = attacker
    with serving(case) as base:
        context = browser.new_context()  # type: ignore[attr-defined]
        page = context.new_page()
        page.goto(f"{base}/search")  # the user has the reading room open: the cookie is set
        token = page.evaluate("async () => (await (await fetch('/session.json')).json()).csrf")
        # The attacker's page knows the URL and the form fields, but not the token: it sends
        # a guessed one, or none.
        (folder / "evil.html").write_text(
            "<!doctype html><form method=post action='" + base + "/logout'>"
            "<input type=hidden name=csrf value='guessed'>"
            "<button id=go>win a prize</button></form>"
            "<form method=post action='" + base + "/logout'><button id=bare>again</button></form>"
        )
        for origin in (f"http://localhost:{port}", f"http://127.0.0.1:{port}"):
            for button in ("#go", "#bare"):
                page.goto(f"{origin}/evil.html")
                with page.expect_navigation():
                    page.click(button)
                assert page.url.startswith(base)
                body = page.inner_text("body")
                assert "CSRF" in body, (origin, button, body)
        # the reading room's own page may write, with the token it was given
        page.goto(f"{base}/search")
        status = page.evaluate(
            """async (token) => (await fetch('/logout', {method: 'POST', redirect: 'manual',
                 headers: {'X-CSRF-Token': token}})).type""",
            token,
        )
        assert status == "opaqueredirect"  # 303 to /search: accepted
        context.close()


def test_login_in_the_browser_sets_strict_http_only_cookies(case: Case, browser: object) -> None:
    with serving(case, "--accounts") as base:
        context = browser.new_context()  # type: ignore[attr-defined]
        page = context.new_page()
        page.goto(f"{base}/login")
        page.fill("input[name=name]", "ana")
        page.fill("input[name=password]", PASSWORD)
        with page.expect_navigation():
            page.click("form.login button")
        assert page.url == f"{base}/search"
        assert "Log out ana" in page.inner_text("header")
        cookies = {c["name"]: c for c in context.cookies()}
        assert set(cookies) == {"strongroom_session", "strongroom_csrf"}
        for cookie in cookies.values():
            assert cookie["httpOnly"] is True
            assert cookie["sameSite"] == "Strict"
            assert cookie["secure"] is False  # plain http on 127.0.0.1; https sets it
        assert page.evaluate("() => document.cookie") == ""  # scripts cannot read them
        with page.expect_navigation():
            page.click("form.logout button")
        assert "Log in" in page.inner_text("header")
        context.close()

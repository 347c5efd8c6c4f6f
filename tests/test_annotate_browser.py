"""Tags, notes and batch search in a real browser (Debian's Chromium driven by Playwright):
the forms work under the reading room's strict Content-Security-Policy and CSRF checks."""

from __future__ import annotations

import pytest

from strongroom.case import Case
from tests.browsing import shot
from tests.test_browser import server  # noqa: F401 - the reading room of test_browser

pytestmark = pytest.mark.browser


def test_tag_and_note_an_item_then_batch_search(server: tuple[str, Case], browser: object) -> None:  # noqa: F811
    base, case = server
    num = case.search("has:attachment", facets=False).hits[0]["id"]
    context = browser.new_context()  # type: ignore[attr-defined]
    page = context.new_page()
    page.goto(f"{base}/items/{num}")
    page.fill("#new-tag", "Browser-Tag")
    page.click("form.add-tag button")
    page.wait_for_selector('a[href="/search?q=tag%3Abrowser-tag"]')
    page.fill("#new-note", "Checked against the printed copy.")
    page.click("form.add-note button")
    page.wait_for_selector("blockquote.note")
    assert "Checked against the printed copy." in page.inner_text("blockquote.note")
    shot(page, "annotate-1-item")
    assert [hit["id"] for hit in case.search("tag:browser-tag is:noted", facets=False).hits] == [
        num
    ]
    page.click('a[href="/search?q=tag%3Abrowser-tag"]')
    page.wait_for_selector(".hit")
    assert f"/items/{num}" in page.inner_html(".hit")

    page.goto(f"{base}/batch")
    page.fill("#lines", "tag:browser-tag\nfrom:(")
    page.click("form.batch button")
    page.wait_for_selector("table.batch-results")
    rows = page.inner_text("table.batch-results tbody")
    assert "error: query error at position 5" in rows
    assert f"#{num}" in rows
    shot(page, "annotate-2-batch")

    page.goto(f"{base}/items/{num}")
    page.click('form.remove-tags button[value="browser-tag"]')
    page.wait_for_selector("ul.tags >> text=no tags")
    assert case.count("tag:browser-tag") == 0
    context.close()

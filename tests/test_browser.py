"""The reading room in a real browser: Debian's Chromium driven by Playwright (no download)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from strongroom.case import Case
from strongroom.config import IngestPolicy
from tests import synth
from tests.browsing import require_chromium, serving, shot
from tests.hostile import hostile_message

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Case]]:
    require_chromium()
    root = tmp_path_factory.mktemp("browser")
    dump = root / "dump"
    synth.write_dump(dump)
    (dump / "hostile.eml").write_bytes(hostile_message())
    case = Case.init(root / "case")
    case.ingest([dump], IngestPolicy(workers=1))
    with serving(case) as base:
        yield base, case


def test_search_item_thread_raw_download(server: tuple[str, Case], browser: object) -> None:
    base, case = server
    context = browser.new_context(accept_downloads=True)  # type: ignore[attr-defined]
    page = context.new_page()
    page.goto(f"{base}/search")
    page.fill("#q", "zipped OR number")
    page.press("#q", "Enter")
    page.wait_for_selector(".hit")
    assert "matching items" in page.inner_text(".summary")
    shot(page, "1-search")
    page.goto(f"{base}/search?q=has:attachment")
    page.click(".hit a.title")
    page.wait_for_selector("article.item")
    item_url = page.url
    shot(page, "2-item")
    num = int(item_url.rstrip("/").rsplit("/", 1)[-1])
    page.goto(f"{base}/threads/{num}")
    page.wait_for_selector("h1")
    shot(page, "3-thread")
    page.goto(f"{base}/items/{num}/raw")
    assert page.inner_text("body").strip()[:40] == case.raw(str(num)).decode()[:40].strip()
    shot(page, "4-raw")
    page.goto(item_url)
    child = case.item(str(num))["children"][0]
    with page.expect_download() as download_info:
        page.click(f'a[href="/items/{child["num"]}/download"]')
    download = download_info.value
    assert Path(download.path()).read_bytes() == case.raw(str(child["num"]))
    for path in ("/correspondents", "/timeline"):
        page.goto(base + path)
        shot(page, path.strip("/"))
    context.close()


def test_hostile_html_runs_nothing_and_fetches_nothing(
    server: tuple[str, Case], browser: object
) -> None:
    base, case = server
    num = case.search('subject:"hostile"', facets=False).hits[0]["id"]
    context = browser.new_context()  # type: ignore[attr-defined]
    page = context.new_page()
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.goto(f"{base}/items/{num}")
    page.wait_for_selector("iframe.html-body")
    page.wait_for_timeout(500)
    shot(page, "5-hostile")
    assert page.evaluate("() => window.__pwned === undefined")
    for frame in page.frames:
        assert frame.evaluate("() => window.__pwned === undefined")
    assert "The real text of the hostile message." in page.frames[-1].inner_text("body")
    outside = [url for url in requested if not url.startswith(base) and url != "about:srcdoc"]
    assert outside == []
    assert dialogs == []
    context.close()


def test_dragging_across_the_month_histogram_searches_that_range(
    server: tuple[str, Case], browser: object
) -> None:
    base, _case = server
    page = browser.new_page()  # type: ignore[attr-defined]
    page.goto(f"{base}/search?q=kind:email")
    bars = page.locator("ol.histogram a[data-month]")
    first, third = bars.nth(0), bars.nth(2)
    low, high = first.get_attribute("data-month"), third.get_attribute("data-month")
    first.hover()
    page.mouse.down()
    third.hover()
    page.mouse.up()
    page.wait_for_url("**/search?q=*")
    assert page.input_value("#q") == f"kind:email date:{low}..{high}"
    shot(page, "6-histogram-drag")
    page.close()

"""A claim in a real browser: record it, link a signed and an unsigned exhibit, see their
verdicts, download the report and find the exhibits' sha256s in it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from strongroom.case import Case
from strongroom.config import IngestPolicy
from strongroom.demo import DemoSpec, build_dump
from tests.browsing import require_chromium, serving, shot

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Case]]:
    require_chromium()
    root = tmp_path_factory.mktemp("claims-browser")
    manifest = build_dump(root / "dump", DemoSpec(messages=60, attachments=10))
    case = Case.init(root / "case")
    case.ingest([root / "dump"], IngestPolicy(workers=1))
    case.import_keys(root / "dump" / manifest.dkim.zone_file)
    case.verify(workers=1)
    with serving(case) as base:
        yield base, case


def test_record_a_claim_link_exhibits_and_export(
    server: tuple[str, Case],
    browser: object,
) -> None:
    base, case = server
    signed = case.search("is:verified kind:email", limit=1, facets=False).hits[0]["id"]
    unsigned = case.search("is:unsigned kind:email", limit=1, facets=False).hits[0]["id"]
    context = browser.new_context(accept_downloads=True)  # type: ignore[attr-defined]
    page = context.new_page()
    page.goto(f"{base}/claims")
    page.fill("#claim-text", "The treasurer knew of the shortfall in March")
    page.click("text=Record claim")
    page.wait_for_selector("h1")
    assert "/claims/" in page.url
    assert "nothing has been put forward" in page.inner_text(".statement")
    for num, stance in ((signed, "supports"), (unsigned, "contradicts")):
        page.fill("#ex-item", str(num))
        page.check(f'input[name="stance"][value="{stance}"]')
        page.click("text=Link exhibit")
        page.wait_for_selector(f'.exhibit.{stance} a[href="/items/{num}"]')
    verdicts = page.locator(".exhibit .dkim").all_inner_texts()
    assert verdicts[0].startswith("Signed by") and verdicts[1].startswith("Not DKIM-signed")
    assert "1 of the 2 cited item(s) carry a verified DKIM signature" in page.inner_text(
        ".statement"
    )
    shot(page, "claim")
    with page.expect_download() as download_info:
        page.click("text=HTML")
    report = Path(download_info.value.path()).read_text()
    for num in (signed, unsigned):
        assert case.item(str(num))["sha256"] in report
        assert f"items/{num}" in report
    context.close()

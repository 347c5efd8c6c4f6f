"""A published release served by a plain static web server, searched in Debian's Chromium."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from strongroom.case import Case
from strongroom.config import IngestPolicy
from strongroom.demo import DemoManifest, DemoSpec, build_dump
from strongroom.pii.plan import RedactionPlan
from strongroom.publish import publish
from tests.browsing import require_chromium, serving_folder

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path, DemoManifest]]:
    require_chromium()
    root = tmp_path_factory.mktemp("publish-browser")
    manifest = build_dump(root / "dump", DemoSpec(messages=60, attachments=16))
    case = Case.init(root / "case")
    case.ingest([root / "dump"], IngestPolicy(workers=1))
    plan = RedactionPlan(
        everywhere=frozenset(p.value for p in manifest.pii),
        types={p.value: p.kind for p in manifest.pii},
    )
    publish(case, root / "site", plan)
    with serving_folder(root / "site") as port:
        yield f"http://127.0.0.1:{port}", root / "site", manifest


def test_static_search_finds_words_and_not_redacted_values(
    site: tuple[str, Path, DemoManifest], browser: Any
) -> None:
    base, out, manifest = site
    index = json.loads((out / "search-index.json").read_text())
    # a word of one email's subject, and the items the index says hold it
    entry = next(e for e in index["items"] if e["k"] == "email" and len(e["t"]) > 12)
    word = max((w for w in entry["t"].lower().split() if w.isalpha()), key=len)
    expected = set(index["words"][word])
    assert entry["n"] in expected

    page = browser.new_page()
    problems: list[str] = []
    missing: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("response", lambda r: missing.append(r.url) if r.status >= 400 else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.goto(f"{base}/index.html")
    page.fill("#q", word)
    page.press("#q", "Enter")
    page.wait_for_selector("#results .hit")
    links = page.eval_on_selector_all("#results .hit a", "els => els.map(e => e.href)")
    assert {int(link.rsplit("/", 1)[1].split(".")[0]) for link in links} == expected
    assert f"{len(expected)} matching item" in page.inner_text("#status")
    page.click(f"#results a[href='items/{entry['n']}.html']")
    page.wait_for_selector("article.item")
    assert page.url.endswith(f"/items/{entry['n']}.html")

    for planted in manifest.pii[:4]:
        for query in (planted.value, planted.digits):
            page.goto(f"{base}/index.html?q={quote(query)}")
            page.wait_for_function(
                "document.getElementById('status').textContent.includes('matching')"
            )
            assert page.inner_text("#status").startswith("0 matching items"), query
            assert page.locator("#results .hit").count() == 0
    # nothing the pages ask for is missing (a browser's own favicon request aside), and no
    # script error or Content-Security-Policy violation happened
    assert [url for url in missing if not url.endswith("/favicon.ico")] == []
    assert [p for p in problems if not p.startswith("Failed to load resource")] == []
    page.close()

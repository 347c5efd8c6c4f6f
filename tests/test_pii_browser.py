"""The personal-data review page in a real browser: a reviewer redacts one finding with its
form, then keeps every remaining phone number of one sender with the bulk form."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from strongroom.case import Case
from strongroom.catalog import pii_store as store
from strongroom.catalog.audit import events
from strongroom.config import IngestPolicy
from strongroom.demo import DemoSpec, build_dump
from strongroom.demo.manifest import MANIFEST_NAME
from strongroom.pii.scan import scan_case
from tests.browsing import require_chromium, serving, shot

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Case]]:
    require_chromium()
    root = tmp_path_factory.mktemp("pii-browser")
    build_dump(root / "dump", DemoSpec(messages=90, attachments=30))
    case = Case.init(root / "case")
    inputs = sorted(p for p in (root / "dump").iterdir() if p.name != MANIFEST_NAME)
    case.ingest(inputs, IngestPolicy(workers=1), verify=False)
    scan_case(case.catalog, case.index, workers=1)
    case.catalog.engine.dispose()  # the server is another process; this one only reads
    with serving(case) as base:
        yield base, case


def test_redact_one_finding_then_keep_a_senders_phones(
    server: tuple[str, Case], browser: object
) -> None:
    base, case = server
    page = browser.new_page()  # type: ignore[attr-defined]
    page.goto(f"{base}/pii")
    page.select_option("select[name=type]", "ssn")
    page.select_option("select[name=status]", "undecided")
    page.click(".pii-filter button")
    page.wait_for_url("**/pii?type=ssn*")
    row = page.locator("tr.finding").first
    finding = int((row.get_attribute("id") or "").removeprefix("finding-"))
    value = row.locator("mark").inner_text()
    shot(page, "pii-1-review")
    row.locator("button[value=accept]").click()
    page.wait_for_url("**decided=accepted*")
    assert "1 finding(s) accepted" in page.inner_text(".decided")
    # the accepted finding left the undecided list
    assert page.locator(f"#finding-{finding}").count() == 0
    decided = store.select_findings(case.catalog, ids=[finding])[0]
    assert decided["status"] == "accepted"
    assert decided["decided_by"] == "local"
    entry = events(case.catalog, "pii.accept")[0]
    assert entry["actor"] == "local" and entry["detail"]["finding"] == finding
    page.goto(f"{base}/pii?status=accepted")
    accepted = page.locator(f"#finding-{finding}")
    assert accepted.locator("mark").inner_text() == value
    assert "accepted" in accepted.locator(".status").inner_text()
    shot(page, "pii-2-accepted")
    # bulk: every undecided phone number in one sender's mail is kept
    sender = "from:gideon.stanwick@northwind-civic.org"
    page.goto(f"{base}/pii")
    page.select_option("select[name=type]", "phone")
    page.fill(".pii-filter input[name=q]", sender)
    page.click(".pii-filter button")
    page.wait_for_url("**/pii?type=phone*q=*")
    shown = int(page.inner_text(".summary strong"))
    phones = store.count_findings(case.catalog, types=["phone"])
    assert 0 < shown < phones
    page.select_option(".pii-bulk select[name=decision]", "reject")
    page.click(".pii-bulk button")
    page.wait_for_url("**decided=rejected*")
    assert f"{shown} finding(s) rejected" in page.inner_text(".decided")
    assert int(page.inner_text(".summary strong")) == shown  # the filter shows them, kept
    assert page.locator("tr.finding[data-status=undecided]").count() == 0
    others = store.count_findings(case.catalog, types=["phone"], status="undecided")
    assert others == phones - shown  # the sender's only
    shot(page, "pii-3-bulk")
    page.close()

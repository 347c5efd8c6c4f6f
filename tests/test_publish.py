"""A published release of the demo dump, scanned byte by byte for the personal data it hides."""

from __future__ import annotations

import base64
import email
import hashlib
import html
import json
import re
import shutil
import subprocess
import sys
from email.header import decode_header, make_header
from pathlib import Path
from typing import Any

import pytest

from strongroom.case import Case
from strongroom.catalog.verify_store import verification
from strongroom.config import IngestPolicy
from strongroom.custody import check_manifest, keys, verify_blobs
from strongroom.demo import DemoManifest, DemoSpec, build_dump
from strongroom.formats.document import DocumentFormat
from strongroom.pii.plan import RedactionPlan
from strongroom.publish import publish, read_redact_file
from strongroom.publish.redact import Redactor
from strongroom.publish.site import RELEASE_FILE, SUMS_FILE

SMALL = DemoSpec(messages=120, attachments=40)
DOCUMENT_SUFFIXES = (".pdf", ".docx", ".xlsx", ".pptx", ".odt")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, DemoManifest, Case]:
    root = tmp_path_factory.mktemp("publish")
    manifest = build_dump(root / "dump", SMALL)
    case = Case.init(root / "case")
    case.import_keys(root / "dump" / manifest.dkim.zone_file)
    case.ingest([root / "dump"], IngestPolicy(workers=1))
    return root, manifest, case


def planted_plan(manifest: DemoManifest) -> RedactionPlan:
    # Digits only: the text writes them with spaces and dashes, so matching must normalise.
    return RedactionPlan(
        everywhere=frozenset(p.digits for p in manifest.pii),
        types={p.digits: p.kind for p in manifest.pii},
    )


@pytest.fixture(scope="module")
def release(demo: tuple[Path, DemoManifest, Case]) -> Path:
    root, manifest, case = demo
    publish(case, root / "site", planted_plan(manifest), title="Demo release")
    return root / "site"


# -- an independent scan (not the library's matcher) ------------------------------------------
def patterns(digits: set[str]) -> list[re.Pattern[str]]:
    """Each value's digits with up to three non-word characters between any two of them."""
    gap = r"(?:[^\w]|_){0,3}"
    return [re.compile(gap.join(d)) for d in digits]


def leaks(texts: list[str], found: list[re.Pattern[str]]) -> list[str]:
    return [p.pattern for p in found for text in texts if p.search(text)]


def _json_strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in (k, *_json_strings(v))]
    if isinstance(value, list):
        return [s for v in value for s in _json_strings(v)]
    return [str(value)]


def eml_texts(data: bytes) -> list[str]:
    """Every header decoded and every part's payload decoded (base64, quoted-printable)."""
    out: list[str] = []
    for part in email.message_from_bytes(data).walk():
        for name, value in part.items():
            out.append(f"{name}: {make_header(decode_header(str(value)))}")
        payload = part.get_payload(decode=True)
        if isinstance(payload, bytes):
            out += [payload.decode("latin-1"), payload.decode("utf-8", "replace")]
            filename = part.get_filename() or ""
            if filename.lower().endswith(DOCUMENT_SUFFIXES):
                out.append(DocumentFormat().parse(payload, filename).text)
    return out


def file_texts(path: Path) -> list[str]:
    data = path.read_bytes()
    text = data.decode("utf-8", "replace")
    texts = [data.decode("latin-1"), text, html.unescape(text)]
    if path.suffix == ".json":
        texts.append("\n".join(_json_strings(json.loads(data))))
    if path.suffix == ".eml":
        texts += eml_texts(data)
    if path.suffix in DOCUMENT_SUFFIXES:
        texts.append(DocumentFormat().parse(data, path.name).text)
    return texts


def every_file(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    """The real command line, in its own process (click caches state on its command objects)."""
    return subprocess.run(
        [sys.executable, "-c", "from strongroom.cli import main; main()", *args],
        capture_output=True,
        text=True,
        check=False,
    )


# -- tests ------------------------------------------------------------------------------------
def test_no_planted_value_shows_in_any_byte_of_the_release(
    demo: tuple[Path, DemoManifest, Case], release: Path
) -> None:
    _root, manifest, case = demo
    found = patterns({p.digits for p in manifest.pii})
    files = every_file(release)
    suffixes = {p.suffix for p in files}
    assert {".html", ".json", ".eml", ".csv", ".txt", ".jsonl", ".js"} <= suffixes
    for path in files:
        assert leaks(file_texts(path), found) == [], path
    # the scan can fail: the same scan sees the values in the originals it replaced
    originals = [
        case.raw(str(r["num"])) for r in _records(release) if r["file_state"] != "original"
    ]
    assert originals and all(leaks(file_texts_of(raw), found) for raw in originals[:5])


def file_texts_of(data: bytes) -> list[str]:
    return [data.decode("latin-1"), *eml_texts(data)]


def _records(release: Path) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = json.loads((release / RELEASE_FILE).read_text())["items"]
    return records


def test_binary_attachments_with_a_value_are_withheld_with_a_notice(
    demo: tuple[Path, DemoManifest, Case], release: Path
) -> None:
    _root, manifest, case = demo
    carriers = {p.part for p in manifest.pii if p.part.endswith((".pdf", ".docx", ".xlsx"))}
    assert carriers
    by_name = {r["num"]: r for r in _records(release)}
    withheld = [r for r in by_name.values() if case.item(str(r["num"]))["name"] in carriers]
    assert len(withheld) >= len(carriers)
    for record in withheld:
        assert record["file_state"] == "withheld" and record["file"] is None
        assert not list((release / "files").glob(f"{record['num']}.*"))
        page = (release / record["page"]).read_text()
        assert "withheld" in page and record["original_sha256"] in page
        # the email that carried it serves a derivative whose part is a notice
        parent = case.item(str(record["num"]))["locations"][0]["parent"]
        raw = (release / "raw" / f"{parent}.eml").read_bytes()
        assert f"X-Strongroom-Withheld-SHA256: {record['original_sha256']}".encode() in raw
    # text attachments are redacted copies rather than withheld
    texts = [r for r in by_name.values() if r["file"] and r["file"].endswith(".csv")]
    assert any(r["file_state"] == "redacted" for r in texts)
    assert any(r["file_state"] == "original" for r in texts)


def test_raw_sources_are_originals_or_marked_derivatives(
    demo: tuple[Path, DemoManifest, Case], release: Path
) -> None:
    _root, _manifest, case = demo
    emails = [r for r in _records(release) if r["kind"] == "email"]
    states = {r["file_state"] for r in emails}
    assert states == {"original", "redacted"}
    for record in emails:
        data = (release / record["file"]).read_bytes()
        if record["file_state"] == "original":
            assert hashlib.sha256(data).hexdigest() == record["original_sha256"]
            continue
        message = email.message_from_bytes(data)
        assert message["X-Strongroom-Redacted"] == "yes"
        assert message["X-Strongroom-Original-SHA256"] == record["original_sha256"]
        parts = [p.get_payload(decode=True) for p in message.walk() if not p.is_multipart()]
        payloads = b"".join(p for p in parts if isinstance(p, bytes))
        assert b"[REDACTED " in payloads or b"is withheld from this release" in payloads
    # the originals are untouched: every blob still hashes to its name
    report = verify_blobs(case.catalog, case.blobs)
    assert (report.changed, report.missing) == ([], [])


def test_permalinks_are_item_numbers_and_pages_show_the_original(
    demo: tuple[Path, DemoManifest, Case], release: Path
) -> None:
    _root, _manifest, case = demo
    records = _records(release)
    assert len(records) == case.report()["items"] - case.report()["containers"]
    for record in records:
        num = record["num"]
        assert record["page"] == f"items/{num}.html"
        assert case.item(str(num))["sha256"] == record["original_sha256"]
        twin = json.loads((release / "items" / f"{num}.json").read_text())
        assert (twin["num"], twin["original"]["sha256"]) == (num, record["original_sha256"])
        assert f"#{num} " in (release / record["page"]).read_text()


def test_dkim_verdict_of_the_original_is_shown(
    demo: tuple[Path, DemoManifest, Case], release: Path
) -> None:
    _root, _manifest, case = demo
    emails = [r for r in _records(release) if r["kind"] == "email"]
    verified = [
        r
        for r in emails
        if (verification(case.catalog, r["num"]) or {}).get("status") == "verified"
    ]
    assert verified
    for record in verified[:10]:
        verdict = verification(case.catalog, record["num"])
        assert verdict is not None
        page = html.unescape((release / record["page"]).read_text())
        assert verdict["verdict"] in page and verdict["verdict"].startswith("Signed by ")
    # a redacted one says the verdict is of the original, not of the derivative served
    redacted = [r for r in verified if r["file_state"] == "redacted"]
    if redacted:
        page = (release / redacted[0]["page"]).read_text()
        assert "not on the redacted derivative" in page


def test_release_manifest_lists_every_file_with_its_hash(release: Path) -> None:
    data = json.loads((release / RELEASE_FILE).read_text())
    listed = data["files"]
    on_disk = {p.relative_to(release).as_posix() for p in every_file(release)}
    assert on_disk - set(listed) == {RELEASE_FILE, SUMS_FILE}
    for rel, entry in listed.items():
        assert hashlib.sha256((release / rel).read_bytes()).hexdigest() == entry["sha256"], rel
    sums = (release / SUMS_FILE).read_text().splitlines()
    assert {line.split("  ", 1)[1] for line in sums} == on_disk - {SUMS_FILE}
    assert data["tool"]["name"] == "strongroom" and data["tool"]["version"]
    assert data["custody"]["signed"] is False
    assert data["redaction"]["values_by_type"] == {"card": 5, "ssn": 3}


def test_search_index_finds_words_not_values(
    demo: tuple[Path, DemoManifest, Case], release: Path
) -> None:
    _root, manifest, _case = demo
    index = json.loads((release / "search-index.json").read_text())
    words = index["words"]
    assert "redacted" in words and "budget" in words
    for planted in manifest.pii:
        assert planted.digits not in words
        # the groups it is written in never all point at one item
        groups = [set(words.get(token, [])) for token in re.findall(r"\w+", planted.value)]
        assert len(groups) == 1 or not set.intersection(*groups), planted.value


def test_unsigned_release_manifest_checks_as_unsigned_not_corrupt(release: Path) -> None:
    """A release made without a custody key: its item lines still match its Merkle root and
    count; the check says it is unsigned, not that its lines are broken."""
    manifest = release / "custody" / "manifest.jsonl"
    result = check_manifest(manifest, pinned_key=b"\x00" * 32)
    assert not result.signed and result.root_ok and not result.signature_ok
    assert result.items == len(manifest.read_bytes().splitlines()) - 1
    assert result.key_pinned is False and not result.valid
    assert len(result.errors) == 1 and "unsigned" in result.errors[0]
    tampered = release.parent / "tampered.jsonl"
    lines = manifest.read_bytes().splitlines(keepends=True)
    tampered.write_bytes(b"".join([lines[1], lines[0], *lines[2:]]))
    assert not check_manifest(tampered).root_ok


def test_signed_release_checks_and_reruns_replace_it(
    demo: tuple[Path, DemoManifest, Case], tmp_path: Path
) -> None:
    _root, manifest, case = demo
    made = keys.generate(tmp_path / "key")
    out = tmp_path / "signed"
    plan = planted_plan(manifest)
    first = publish(case, out, plan, key=made.private)
    assert first.custody["signed"] and first.custody["key_fingerprint"] == made.fingerprint
    result = check_manifest(out / "custody" / "manifest.jsonl")
    assert result.valid and result.items == case.report()["items"]
    signature = json.loads((out / "release.json.sig").read_text())
    assert keys.verify(
        bytes.fromhex(signature["public_key"]),
        bytes.fromhex(signature["signature"]),
        (out / RELEASE_FILE).read_bytes(),
    )
    before = {p.relative_to(out): p.read_bytes() for p in every_file(out / "items")}
    (out / "stray.txt").write_text("left from before")
    publish(case, out, plan, key=made.private)
    after = {p.relative_to(out): p.read_bytes() for p in every_file(out / "items")}
    assert before == after
    assert not (out / "stray.txt").exists()
    assert not [p for p in tmp_path.iterdir() if ".partial-" in p.name or ".old-" in p.name]


def test_a_value_accepted_on_one_item_stays_elsewhere(
    demo: tuple[Path, DemoManifest, Case], tmp_path: Path
) -> None:
    _root, manifest, case = demo
    by_digits: dict[str, list[str]] = {}
    for p in manifest.pii:
        by_digits.setdefault(p.digits, []).append(p.message.message_id.strip("<>"))
    digits, ids = next((d, ids) for d, ids in by_digits.items() if len(set(ids)) > 1)
    [first] = case.catalog.items_with_message_id(ids[0])
    [second] = case.catalog.items_with_message_id(ids[1])
    plan = RedactionPlan(by_item={first: frozenset({digits})}, types={digits: "ssn"})
    publish(case, tmp_path / "one", plan)
    found = patterns({digits})

    def family_texts(num: int) -> list[str]:
        record = json.loads((tmp_path / "one" / "items" / f"{num}.json").read_text())
        nums = [num] + [c["num"] for c in record["children"]]
        return [t for n in nums for t in file_texts(tmp_path / "one" / "items" / f"{n}.json")]

    assert leaks(family_texts(first), found) == []
    assert leaks(family_texts(second), found) != []


def test_query_publishes_matches_with_their_attachments(
    demo: tuple[Path, DemoManifest, Case], tmp_path: Path
) -> None:
    _root, manifest, case = demo
    publish(case, tmp_path / "q", planted_plan(manifest), query="has:attachment kind:email")
    nums = {r["num"] for r in _records(tmp_path / "q")}
    emails = {h["id"] for h in case.search("has:attachment kind:email", limit=500).hits}
    assert emails <= nums
    children = {c["num"] for n in emails for c in case.item(str(n))["children"]}
    assert nums == emails | children


def test_redactor_matches_every_formatting() -> None:
    plan = RedactionPlan(types={"4111111111111111": "card", "Jane Q. Doe": "name"})
    redactor = Redactor(frozenset({"4111111111111111", "987-65-4320", "Jane Q. Doe"}), plan)
    for written in (
        "4111 1111 1111 1111",
        "4111-1111-1111-1111",
        "4111111111111111",
        "4111\u00a01111\u20131111 1111",
        "".join(chr(0xFF10 + int(d)) for d in "4111111111111111"),  # full-width digits
        "987654320",
        "987 65 4320",
        "jane q.  DOE",
    ):
        redacted, count = redactor.redact(f"x {written} y")
        assert count == 1 and written not in redacted, written
    assert redactor.redact("4111 1111 1111 1111")[0] == "[REDACTED card]"
    assert redactor.redact("Janet Q. Doe and 41111111")[1] == 0


def test_redact_file_and_cli(demo: tuple[Path, DemoManifest, Case], tmp_path: Path) -> None:
    _root, manifest, case = demo
    values = tmp_path / "values.txt"
    values.write_text(
        "# planted\n" + "".join(f"{p.value}\t{p.kind}\n" for p in manifest.pii), encoding="utf-8"
    )
    plan = read_redact_file(values)
    assert plan.everywhere == {p.value for p in manifest.pii}
    base = ["--case", str(case.root), "publish"]
    refused = run_cli(*base, str(tmp_path / "none"))
    assert refused.returncode == 2 and "nothing to redact" in refused.stderr
    done = run_cli(*base, str(tmp_path / "cli"), "--redact-file", str(values), "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["redacted"] > 0
    found = patterns({p.digits for p in manifest.pii})
    assert all(leaks(file_texts(p), found) == [] for p in every_file(tmp_path / "cli"))
    (tmp_path / "bad.txt").write_text("ok value\nx\n")
    bad = run_cli(*base, str(tmp_path / "b"), "--redact-file", str(tmp_path / "bad.txt"))
    assert bad.returncode == 2 and "line 2" in bad.stderr
    assert case.root is not None
    inside = run_cli(*base, str(case.root / "x"), "--no-redaction")
    assert inside.returncode == 2 and "overlaps" in inside.stderr
    assert not (tmp_path / "none").exists() and not (tmp_path / "b").exists()


def test_publish_applies_the_case_review_decisions(
    demo: tuple[Path, DemoManifest, Case], tmp_path: Path
) -> None:
    """The CLI's plan comes from the PII review: refused while findings are undecided, then
    every value the decisions hide is absent from the release."""
    from strongroom.pii.decisions import Filter, decide_bulk, redaction_plan
    from strongroom.pii.scan import scan_case

    _root, manifest, shared = demo
    assert shared.root is not None
    shutil.copytree(shared.root, tmp_path / "case")  # decisions stay out of the shared case
    case = Case.open(tmp_path / "case")
    scan_case(case.catalog, case.index)
    base = ["--case", str(case.root), "publish"]
    refused = run_cli(*base, str(tmp_path / "early"))
    assert refused.returncode == 2 and "not been decided" in refused.stderr
    decide_bulk(case, Filter(types=("card", "ssn")), "accept", "tester")
    decide_bulk(case, Filter(status="undecided"), "reject", "tester")
    plan = redaction_plan(case.catalog)
    hidden = {v for values in plan.by_item.values() for v in values} | set(plan.everywhere)
    planted = {p.digits for p in manifest.pii}
    assert planted & {re.sub(r"\D", "", v) for v in hidden}  # the review found planted values
    done = run_cli(*base, str(tmp_path / "reviewed"), "--json")
    assert done.returncode == 0, done.stderr
    release = json.loads((tmp_path / "reviewed" / RELEASE_FILE).read_text())
    assert release["redaction"]["source"] == "review decisions"
    # each value is absent from the pages, files and raw sources of the items it was hidden in
    for num, values in plan.by_item.items():
        found = patterns({re.sub(r"\D", "", v) for v in values if sum(c.isdigit() for c in v) > 5})
        record = json.loads((tmp_path / "reviewed" / "items" / f"{num}.json").read_text())
        paths = [f"items/{num}.html", f"items/{num}.json", record["file"].get("path")]
        for rel in filter(None, paths):
            assert leaks(file_texts(tmp_path / "reviewed" / rel), found) == [], rel


def test_derivative_redacts_encoded_headers_split_numbers_and_keeps_addresses() -> None:
    from email.policy import default

    from strongroom.publish.derive import redact_email, scan_email

    subject = "=?utf-8?b?" + base64.b64encode("Карта 4111-1111-1111-1111".encode()).decode() + "?="
    raw = (
        "From: Jane Roe <jane.roe@example.org>\n"
        'To: "Doe, Jane Roe" <x@example.org>, jane.roe@example.org\n'
        f"Subject: {subject}\n"
        "Message-ID: <1@example.org>\n"
        "MIME-Version: 1.0\n"
        'Content-Type: text/plain; charset="utf-8"\n'
        "Content-Transfer-Encoding: quoted-printable\n\n"
        "Card 4111 1111 11=\n11 1111 and SSN 987=E2=80=9165=E2=80=914320.\n"
    ).encode()
    values = frozenset({"4111111111111111", "987654320", "Jane Roe", "jane.roe@example.org"})
    plan = RedactionPlan(
        types={"Jane Roe": "name", "jane.roe@example.org": "email", "4111111111111111": "card"}
    )
    redactor = Redactor(values, plan)
    sha = hashlib.sha256(raw).hexdigest()
    derived = redact_email(raw, sha, redactor, lambda data: None)
    assert (
        derived.changed and scan_email(raw, redactor) and scan_email(derived.data, redactor) == []
    )
    found = patterns({"4111111111111111", "987654320"})
    assert leaks(eml_texts(derived.data), found) == []
    message = email.message_from_bytes(derived.data, policy=default)
    assert message["X-Strongroom-Original-SHA256"] == sha
    assert str(message["Subject"]) == "Карта [REDACTED card]"
    assert [a.display_name for a in message["From"].addresses] == ["[REDACTED name]"]
    to = message["To"].addresses
    assert len(to) == 2 and to[0].addr_spec == "x@example.org"
    assert "Jane Roe" not in str(message["To"]) and "jane.roe" not in str(message["To"])
    assert "[REDACTED card]" in message.get_content()


def test_every_link_resolves_inside_the_release(release: Path) -> None:
    pages = sorted(release.rglob("*.html"))
    assert list((release / "threads").glob("*.html"))
    for page in pages:
        text = page.read_text()
        for target in re.findall(r'(?:href|src)="([^"#?]+)', text):
            assert "://" not in target, (page, target)  # nothing fetched from elsewhere
            assert (page.parent / html.unescape(target)).resolve().is_file(), (page, target)
        assert "<script>" not in text and " style=" not in text  # the CSP forbids inline code


def test_files_are_served_under_inert_extensions() -> None:
    from strongroom.publish.site import _suffix

    assert _suffix("minutes.pdf", "application/pdf") == ".pdf"
    assert _suffix("Donors.CSV", "text/csv") == ".csv"
    assert _suffix("page.html", "text/html") == ".bin"  # would run script in the release's origin
    assert _suffix("logo.svg", "image/svg+xml") == ".bin"
    assert _suffix(None, "image/png") == ".png"
    assert _suffix("noextension", "application/x-unknown") == ".bin"


def test_families_pass_through_containers_inside_an_email() -> None:
    from strongroom.publish.tree import Node, Tree

    def node(num: int, kind: str, parents: list[int], children: list[int]) -> Node:
        return Node(num, kind, "x", "x/x", f"{num:064x}", 1, "ok", None, None, parents, children)

    tree = Tree(
        {
            1: node(1, "container", [], [2]),  # an mbox
            2: node(2, "email", [1], [3]),
            3: node(3, "container", [2], [4]),  # a zip attached to the email
            4: node(4, "attachment", [3], []),
            5: node(5, "container", [], [6]),  # a zip given as input
            6: node(6, "document", [5], []),
        }
    )
    assert tree.roots(4) == {2} and tree.roots(2) == {2} and tree.roots(6) == {6}
    assert tree.family(4) == [2, 3, 4] and tree.family(6) == [6]


def test_a_value_in_the_title_stops_the_release(
    demo: tuple[Path, DemoManifest, Case], tmp_path: Path
) -> None:
    """The final scan is a real safety net: what the redaction cannot reach fails the run."""
    from strongroom.publish import UnsafeRelease

    _root, manifest, case = demo
    planted = manifest.pii[0]
    with pytest.raises(UnsafeRelease, match="nothing was published"):
        publish(case, tmp_path / "out", planted_plan(manifest), title=f"Leak {planted.value}")
    assert list(tmp_path.iterdir()) == []  # neither the release nor its staging folder

"""Exports of a search: mbox and .eml round trips to identical sha256s, CSV, JSON lines and
FollowTheMoney entities that followthemoney's own model accepts. Demo dump and real mail."""

from __future__ import annotations

import csv
import hashlib
import json
import re
from pathlib import Path

import pytest
from sqlalchemy import select

from strongroom.annotate import add_tags, matching_nums
from strongroom.case import Case
from strongroom.catalog import schema as s
from strongroom.catalog.audit import events
from strongroom.demo import DemoSpec, build_dump
from strongroom.errors import UsageError
from strongroom.export import export
from strongroom.export.ftm import validate
from strongroom.export.mail import from_line
from tests.test_ingest import run_cli

SMALL = DemoSpec(messages=120, attachments=40)
FEDORA = "fedora-devel-list-2010-01/2010-January.txt"


@pytest.fixture(scope="module")
def case(tmp_path_factory: pytest.TempPathFactory) -> Case:
    dump = tmp_path_factory.mktemp("dump") / "dump"
    build_dump(dump, SMALL)
    case = Case.init(tmp_path_factory.mktemp("case") / "case")
    case.ingest([dump], verify=False)
    return case


def email_shas(case: Case) -> dict[str, int]:
    with case.catalog.engine.connect() as conn:
        rows = conn.execute(
            select(s.items.c.sha256, s.items.c.num).where(s.items.c.kind == "email")
        )
        return {row.sha256: row.num for row in rows}


def test_mbox_of_a_search_reingests_to_identical_sha256s(case: Case, tmp_path: Path) -> None:
    query = "kind:email"  # every email: mbox slices, Maildir, .eml files, forwarded messages
    out = tmp_path / "out.mbox"
    summary = export(case, query, "mbox", out, "alice")
    exported = {sha: num for sha, num in email_shas(case).items()}
    assert summary["written"] == len(exported) == case.count(query)
    altered = {entry["id"]: entry["reason"] for entry in summary["altered"]}

    again = Case.init(tmp_path / "again")
    again.ingest([out], verify=False)
    shas = email_shas(again)
    by_num = {num: sha for sha, num in exported.items()}
    for num, sha in sorted((num, sha) for sha, num in exported.items()):
        if num not in altered:
            assert sha in shas, f"item {num} changed on the way through the mbox"
    # What mbox framing changed, it changed in the one documented way.
    for num, reason in altered.items():
        original = case.blobs.read(by_num[num])
        if "quoted" in reason:
            quoted = re.sub(rb"(?m)^(>*From )", rb">\1", original)
            assert hashlib.sha256(quoted).hexdigest() in shas
        else:
            assert "no newline" in reason and not original.endswith(b"\n")
            assert hashlib.sha256(original + b"\n").hexdigest() in shas
    # In the demo: two loose .eml files with a body line "From the desk of ...", and
    # forwarded messages (attachments) without a final newline, one of which goes last.
    quoted = [num for num, reason in altered.items() if "quoted" in reason]
    assert len(quoted) == 2
    # A message found in an mbox keeps its >From quoting and its original envelope line.
    from_mbox = [
        num
        for num in matching_nums(case, query)
        if any("from_line" in loc["info"] for loc in case.item(str(num))["locations"])
        and b"\n>From " in case.raw(str(num))
    ]
    assert from_mbox and not set(from_mbox) & set(altered)
    assert any(
        e["action"] == "export" and e["detail"]["format"] == "mbox" for e in events(case.catalog)
    )


def test_eml_export_reingests_to_the_same_emails(case: Case, tmp_path: Path) -> None:
    query = "budget OR polling"
    wanted = [n for n in matching_nums(case, query) if case.item(str(n))["kind"] == "email"]
    summary = export(case, query, "eml", tmp_path / "eml", "alice")
    assert summary["written"] == len(wanted) and summary["altered"] == []
    assert sorted(int(p.stem) for p in (tmp_path / "eml").glob("*.eml")) == wanted
    assert all(entry["id"] not in wanted for entry in summary["skipped"])
    again = Case.init(tmp_path / "again")
    again.ingest([tmp_path / "eml"], verify=False)
    mine = {case.item(str(n))["sha256"] for n in wanted}
    assert mine <= set(email_shas(again))
    # Rerunning overwrites, it does not duplicate.
    export(case, query, "eml", tmp_path / "eml", "alice")
    assert len(list((tmp_path / "eml").iterdir())) == len(wanted)


@pytest.fixture(scope="module")
def fedora(corpora: Path, tmp_path_factory: pytest.TempPathFactory) -> Case:
    """A real Mailman archive (one mbox, 292 messages)."""
    case = Case.init(tmp_path_factory.mktemp("fedora") / "case")
    case.ingest([corpora / FEDORA], verify=False)
    return case


@pytest.mark.conformance
def test_real_mailman_mbox_comes_back_byte_for_byte(
    fedora: Case, corpora: Path, tmp_path: Path
) -> None:
    case, source = fedora, corpora / FEDORA
    out = tmp_path / "fedora.mbox"
    summary = export(case, "kind:email", "mbox", out, "alice")
    assert summary["written"] == 292 and summary["altered"] == []
    # Every message kept its original envelope and slice: the whole file is reproduced.
    assert out.read_bytes() == source.read_bytes()
    again = Case.init(tmp_path / "again")
    again.ingest([out], verify=False)
    assert set(email_shas(again)) == set(email_shas(case))


@pytest.mark.conformance
def test_real_mail_as_eml_and_ftm(fedora: Case, tmp_path: Path) -> None:
    case = fedora
    query = "subject:rawhide"
    wanted = matching_nums(case, query)
    assert len(wanted) > 5
    summary = export(case, query, "eml", tmp_path / "eml", "alice")
    assert summary["written"] == len(wanted)
    again = Case.init(tmp_path / "again")
    again.ingest([tmp_path / "eml"], verify=False)
    assert set(email_shas(again)) == {case.item(str(n))["sha256"] for n in wanted}
    counts = export(case, query, "ftm", tmp_path / "out.ftm", "alice")["entities"]
    assert counts["Email"] == len(wanted)
    entities = [json.loads(line) for line in (tmp_path / "out.ftm").read_text().splitlines()]
    ids = {e["id"] for e in entities}
    assert all(validate(entity, ids) == [] for entity in entities)


def test_ftm_export_validates_and_links_people_and_attachments(case: Case, tmp_path: Path) -> None:
    from followthemoney import model

    query = "has:attachment"
    out = tmp_path / "out.ftm"
    summary = export(case, query, "ftm", out, "alice")
    entities = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert summary["written"] == len(entities)
    ids = {entity["id"] for entity in entities}
    assert len(ids) == len(entities)
    for entity in entities:
        assert validate(entity, ids) == [], entity["id"]
        proxy = model.get_proxy(entity, cleaned=False)  # followthemoney reads it back
        assert proxy.schema.name == entity["schema"]
    emails = [e for e in entities if e["schema"] == "Email"]
    hits = {f"sha256-{case.item(str(n))['sha256']}" for n in matching_nums(case, query)}
    assert hits <= {e["id"] for e in emails}
    # The rest are forwarded messages attached to those emails, linked to them.
    assert all(e["properties"]["parent"][0] in hits for e in emails if e["id"] not in hits)
    documents = [e for e in entities if model.get(e["schema"]).is_a("Document")]
    documents = [e for e in documents if e["schema"] != "Email"]
    assert documents and all(d["properties"]["parent"][0] in ids for d in documents)
    people = {e["id"]: e for e in entities if e["schema"] in ("Person", "LegalEntity")}
    for email in emails:
        num = case.item(email["id"].removeprefix("sha256-"))["num"]
        raw = case.raw(str(num))
        assert email["properties"]["contentHash"] == [hashlib.sha1(raw).hexdigest()]
        for party in email["properties"]["emitters"] + email["properties"].get("recipients", []):
            assert people[party]["properties"]["email"]
        sender = case.item(str(num))["record"]["addresses"]["from"][0]["address"]
        emitter = people[email["properties"]["emitters"][0]]
        assert emitter["properties"]["email"][0].lower() == sender.lower()


def test_csv_and_jsonl_of_a_search(case: Case, tmp_path: Path) -> None:
    query = "subject:budget"
    wanted = matching_nums(case, query)
    add_tags(case, "exported", wanted[:2], "alice")
    export(case, query, "csv", tmp_path / "out.csv", "alice")
    with (tmp_path / "out.csv").open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [int(row["id"]) for row in rows] == wanted
    first = case.item(str(wanted[0]))
    assert rows[0]["sha256"] == first["sha256"] and rows[0]["subject"] == first["subject"]
    assert rows[0]["tags"] == "exported" and rows[-1]["tags"] == ""
    to = first["record"]["addresses"]["to"][0]["address"]
    assert to in rows[0]["to"]
    export(case, query, "jsonl", tmp_path / "out.jsonl", "alice")
    records = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert [r["num"] for r in records] == wanted
    assert records[0]["sha256"] == first["sha256"] and records[0]["tags"] == ["exported"]


def test_cli_export_and_its_errors(case: Case, tmp_path: Path) -> None:
    root = str(case.root)
    done = run_cli(
        "--case",
        root,
        "export",
        "subject:budget",
        str(tmp_path / "b.mbox"),
        "--format",
        "mbox",
        "--json",
    )
    assert json.loads(done.stdout)["written"] == case.count("subject:budget kind:email")
    done = run_cli(
        "--case", root, "export", "from:(", str(tmp_path / "x.csv"), "--format", "csv", check=2
    )
    assert b"position" in done.stderr
    (tmp_path / "file").write_text("x")
    with pytest.raises(UsageError, match="is a file"):
        export(case, "", "eml", tmp_path / "file", "alice")
    with pytest.raises(UsageError, match="is a folder"):
        export(case, "", "csv", tmp_path, "alice")
    with pytest.raises(UsageError, match="does not exist"):
        export(case, "", "csv", tmp_path / "no" / "x.csv", "alice")


def test_from_line_is_an_mbox_envelope() -> None:
    assert (
        from_line("a@b.example", "2016-05-03T14:00:00Z")
        == "From a@b.example Tue May  3 14:00:00 2016"
    )
    assert from_line("has space@x", None) == "From MAILER-DAEMON Thu Jan  1 00:00:00 1970"


@pytest.mark.conformance
def test_real_crlf_mail_without_final_newlines(corpora: Path, tmp_path: Path) -> None:
    """Enron messages (CRLF, most without a newline at the end): .eml is exact; the mbox names
    each message its framing had to change, and changes it only by that newline."""
    case = Case.init(tmp_path / "case")
    case.ingest([corpora / "enron-berkeley-categories" / "7"], verify=False)
    emails = email_shas(case)
    assert len(emails) == 21
    export(case, "kind:email", "eml", tmp_path / "eml", "alice")
    exact = Case.init(tmp_path / "exact")
    exact.ingest([tmp_path / "eml"], verify=False)
    assert set(email_shas(exact)) == set(emails)

    summary = export(case, "kind:email", "mbox", tmp_path / "out.mbox", "alice")
    unterminated = {num for sha, num in emails.items() if not case.blobs.read(sha).endswith(b"\n")}
    altered = {entry["id"] for entry in summary["altered"]}
    assert unterminated and altered < unterminated and len(unterminated - altered) == 1
    again = Case.init(tmp_path / "again")
    again.ingest([tmp_path / "out.mbox"], verify=False)
    expected = {
        hashlib.sha256(case.blobs.read(sha) + (b"\n" if num in altered else b"")).hexdigest()
        for sha, num in emails.items()
    }
    assert set(email_shas(again)) == expected

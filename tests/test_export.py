"""Exports of a search: mbox and .eml round trips to identical sha256s, CSV, JSON lines and
FollowTheMoney entities that followthemoney's own model accepts. Demo dump and real mail."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import mailbox
import zipfile
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
    exported = email_shas(case)
    assert summary["written"] == len(exported) == case.count(query)
    assert 0 < summary["framed"] < summary["written"]
    assert len(mailbox.mbox(out)) == summary["written"]

    again = Case.init(tmp_path / "again")
    again.ingest([out], verify=False)
    assert set(email_shas(again)) == set(exported)
    # A message found in an mbox is written as it was: its >From quoting stays, recorded as
    # quoting; a framed message is restored, and its location says so.
    infos = [loc["info"] for sha in exported for loc in again.item(sha)["locations"]]
    assert any(info.get("quoted_from_lines") for info in infos)
    assert (
        sum(1 for info in infos if info.get("framing") == "strongroom-mboxrd")
        == (summary["framed"])
    )
    assert all("error" not in info for info in infos)
    assert any(
        e["action"] == "export" and e["detail"]["format"] == "mbox" for e in events(case.catalog)
    )


EDGE_BODIES = {
    "unterminated": b"no newline at the end quokka",
    "from": b"quokka\nFrom the desk of the treasurer\nFrom here on\n",
    "quoted": b"quokka\n>From an mboxo archive\n>>From an mboxrd archive\n>>>From deeper\n",
    "blank-end": b"quokka ends with blank lines\n\n\n",
    "eightbit": "quokka caf\u00e9 \u041f\u0440\u0438\u0432\u0435\u0442\n".encode(),
}


def _edge_message(name: str, body: bytes, eol: bytes = b"\n", extra: bytes = b"") -> bytes:
    head = [
        b"From: Edge Case <edge@example.org>",
        b"To: desk@example.org",
        b"Subject: edge " + name.encode(),
        b"Message-ID: <" + name.encode() + b"@example.org>",
        b"Date: Tue, 3 May 2016 14:00:00 +0000",
        b"Content-Type: text/plain; charset=utf-8",
    ]
    if extra:
        head.append(extra)
    return eol.join(head) + eol + eol + body.replace(b"\n", eol)


def _edge_dump(root: Path) -> dict[str, bytes]:
    """Loose .eml files and an mbox, each message an edge case of mbox framing."""
    root.mkdir(parents=True)
    messages = {name: _edge_message(name, body) for name, body in EDGE_BODIES.items()}
    messages["crlf"] = _edge_message("crlf", b"quokka\nFrom a CRLF line\nend\n", eol=b"\r\n")
    messages["crlf-open"] = _edge_message("crlf-open", b"quokka\nno end", eol=b"\r\n")
    messages["bare-cr"] = _edge_message("bare-cr", b"quokka\nFrom an old Mac\n", eol=b"\r")
    # A Content-Length that would land on the next envelope if framing were not marked.
    messages["length"] = _edge_message("length", b"quokka\nFrom x\n", extra=b"Content-Length: 2")
    for name, data in messages.items():
        (root / f"{name}.eml").write_bytes(data)
    # Two mboxes whose last messages end without a newline: exact slices of their files.
    inner = [_edge_message(f"mbox-{n}", b"quokka in an mbox\n>From quoted there") for n in range(3)]
    envelope = b"From edge@example.org Tue May  3 14:00:00 2016\n"
    (root / "box.mbox").write_bytes(envelope + inner[0] + b"\n" + envelope + inner[1])
    (root / "box2.mbox").write_bytes(envelope + inner[2])
    # the first is followed by the next envelope, so its slice keeps its line's newline
    return {**messages, "mbox-0": inner[0] + b"\n", "mbox-1": inner[1], "mbox-2": inner[2]}


def test_mbox_round_trip_of_every_edge_case_is_exact(tmp_path: Path) -> None:
    """No final newline, From/>From/>>From body lines, CRLF, bare CR and 8-bit bytes: the
    exported mbox re-ingests to the same sha256s, and Python's mailbox splits it the same way."""
    originals = _edge_dump(tmp_path / "dump")
    case = Case.init(tmp_path / "case")
    case.ingest([tmp_path / "dump"], verify=False)
    wanted = {hashlib.sha256(data).hexdigest() for data in originals.values()}
    assert wanted <= set(email_shas(case))
    out = tmp_path / "edge.mbox"
    summary = export(case, "quokka", "mbox", out, "alice")
    assert summary["written"] == len(originals) and summary["skipped"] == []
    # every message from outside an mbox, and one of the two unterminated mbox slices (the
    # other goes last, where it is exact as it is)
    assert summary["framed"] == len(originals) - 2
    assert len(mailbox.mbox(out)) == len(originals)
    text = out.read_bytes()
    assert b"\n>From the desk" in text and b"\n>>>>From deeper" in text  # mboxrd for others

    again = Case.init(tmp_path / "again")
    again.ingest([out], verify=False)
    assert set(email_shas(again)) == wanted
    for sha in wanted:
        assert again.raw(sha) == case.raw(sha)
        assert again.item(sha)["record"]["defects"] == case.item(sha)["record"]["defects"]
    # Exporting the restored case again gives the same file.
    export(again, "quokka", "mbox", tmp_path / "twice.mbox", "alice")
    twice = Case.init(tmp_path / "twice")
    twice.ingest([tmp_path / "twice.mbox"], verify=False)
    assert set(email_shas(twice)) == wanted


def test_a_tampered_framed_message_is_kept_as_found_with_a_defect(tmp_path: Path) -> None:
    _edge_dump(tmp_path / "dump")
    case = Case.init(tmp_path / "case")
    case.ingest([tmp_path / "dump"], verify=False)
    out = tmp_path / "edge.mbox"
    export(case, "quokka", "mbox", out, "alice")
    data = out.read_bytes()
    at = data.index(b"Subject: edge eightbit")
    tampered = data[:at] + b"Subject: edge Eightbit" + data[at + len(b"Subject: edge eightbit") :]
    out.write_bytes(tampered)

    again = Case.init(tmp_path / "again")
    again.ingest([out], verify=False)
    original = case.item(_num(case, "msgid:eightbit@example.org"))["sha256"]
    before, shas = set(email_shas(case)), set(email_shas(again))
    assert shas - before and before - shas == {original}  # every other message is exact
    (bad,) = shas - before
    item = again.item(bad)
    # the slice exactly as found in the file (the changed byte included), with the reason
    (location,) = item["locations"]
    start = location["info"]["offset"]
    assert again.raw(bad) == tampered[start : start + location["info"]["length"]]
    assert b"Subject: edge Eightbit" in again.raw(bad)
    assert "framing" not in location["info"]
    assert any(
        "strongroom-mboxrd framing" in d and "sha256" in d for d in item["record"]["defects"]
    )


def _num(case: Case, query: str) -> str:
    (num,) = matching_nums(case, query)
    return str(num)


def test_eml_export_reingests_to_the_same_emails(case: Case, tmp_path: Path) -> None:
    query = "budget OR polling"
    wanted = [n for n in matching_nums(case, query) if case.item(str(n))["kind"] == "email"]
    summary = export(case, query, "eml", tmp_path / "eml", "alice")
    assert summary["written"] == len(wanted) and summary["framed"] == 0
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
    assert summary["written"] == 292 and summary["framed"] == 0
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
        assert sender.lower() in [e.lower() for e in emitter["properties"]["email"]]


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
    """Enron messages (CRLF, most without a newline at the end): .eml and mbox are exact."""
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
    assert unterminated and summary["framed"] == len(emails)  # none came from an mbox
    again = Case.init(tmp_path / "again")
    again.ingest([tmp_path / "out.mbox"], verify=False)
    assert set(email_shas(again)) == set(emails)


def test_ftm_export_gives_a_merged_person_one_entity(case: Case, tmp_path: Path) -> None:
    """Addresses grouped into one person (here by a user's merge) are one Person carrying all
    their addresses and names, and every email they sent or received points at it."""
    from strongroom.analyze.people import list_people, merge

    def senders(num: int) -> list[str]:
        return [a["address"].lower() for a in case.item(str(num))["record"]["addresses"]["from"]]

    hits = [n for n in matching_nums(case, "kind:email") if senders(n)]
    first = senders(hits[0])[0]
    second = next(s[0] for n in hits if (s := senders(n)) and s[0] != first)
    merge(case.catalog, first, second, "alice", "the same desk")
    (person,) = [
        p for p in list_people(case.catalog) if first in [a["address"] for a in p["addresses"]]
    ]
    assert second in [a["address"] for a in person["addresses"]]

    out = tmp_path / "people.ftm"
    query = f"from:{first} OR from:{second}"
    export(case, query, "ftm", out, "alice")
    entities = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    ids = {e["id"] for e in entities}
    assert all(validate(entity, ids) == [] for entity in entities)
    holders = [e for e in entities if {first, second} & set(e["properties"].get("email", []))]
    (merged,) = holders  # no entity per address for these two
    assert merged["schema"] == "Person" and merged["id"].startswith("person-")
    assert {first, second} <= set(merged["properties"]["email"])
    names = {n for a in person["addresses"] for n, _count in a["names"]}
    assert names and names <= set(merged["properties"]["name"])
    emails = [e for e in entities if e["schema"] == "Email"]
    assert len(emails) == len(matching_nums(case, query))
    assert all(e["properties"]["emitters"] == [merged["id"]] for e in emails)


# -- exports from the reading room --------------------------------------------------------
def test_reading_room_exports_the_hits_of_a_query(case: Case, tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    from strongroom.web.app import create_app

    client = TestClient(create_app(case))
    query = "subject:budget"
    wanted = matching_nums(case, query)
    emails = [n for n in wanted if case.item(str(n))["kind"] == "email"]
    page = client.get("/search", params={"q": query}, headers={"accept": "text/html"})
    assert 'action="/export"' in page.text and 'value="subject:budget"' in page.text

    got = client.get("/export", params={"q": query, "format": "mbox"})
    assert got.status_code == 200, got.text
    assert got.headers["content-disposition"] == 'attachment; filename="strongroom-export.mbox"'
    (tmp_path / "hits.mbox").write_bytes(got.content)
    assert len(mailbox.mbox(tmp_path / "hits.mbox")) == len(emails)
    again = Case.init(tmp_path / "again")
    again.ingest([tmp_path / "hits.mbox"], verify=False)
    assert set(email_shas(again)) == {case.item(str(n))["sha256"] for n in emails}

    got = client.get("/export", params={"q": query, "format": "eml"})
    with zipfile.ZipFile(io.BytesIO(got.content)) as archive:
        assert sorted(archive.namelist()) == sorted(f"{n}.eml" for n in emails)
        assert archive.read(f"{emails[0]}.eml") == case.raw(str(emails[0]))
    rows = list(csv.DictReader(io.StringIO(client.get(f"/export?q={query}&format=csv").text)))
    assert [int(row["id"]) for row in rows] == wanted
    lines = client.get("/export", params={"q": query, "format": "jsonl"}).text.splitlines()
    assert [json.loads(line)["num"] for line in lines] == wanted
    entities = [
        json.loads(line)
        for line in client.get("/export", params={"q": query, "format": "ftm"}).text.splitlines()
    ]
    ids = {e["id"] for e in entities}
    assert all(validate(e, ids) == [] for e in entities)
    assert sum(1 for e in entities if e["schema"] == "Email") >= len(emails)
    exports = [e for e in events(case.catalog) if e["action"] == "export"]
    assert {e["detail"]["format"] for e in exports} >= {"mbox", "eml", "csv", "jsonl", "ftm"}
    assert all(e["target"] == query for e in exports[:5])

    bad = client.get("/export", params={"q": query, "format": "pdf"})
    assert bad.status_code == 400 and "unknown export format 'pdf'" in bad.json()["message"]
    syntax = client.get("/export", params={"q": "from:(", "format": "csv"})
    assert syntax.status_code == 400 and syntax.json()["position"] == 5


def test_reading_room_export_is_capped(case: Case, monkeypatch: pytest.MonkeyPatch) -> None:
    from fastapi.testclient import TestClient

    from strongroom.web.app import create_app
    from strongroom.web.routes import exports

    client = TestClient(create_app(case))
    monkeypatch.setattr(exports, "MAX_ITEMS", 3)
    refused = client.get("/export", params={"q": "kind:email", "format": "csv"})
    assert refused.status_code == 413
    assert f"{case.count('kind:email')} items match" in refused.json()["message"]
    assert "at most 3" in refused.json()["message"]
    monkeypatch.setattr(exports, "MAX_ITEMS", 10_000)
    monkeypatch.setattr(exports, "MAX_BYTES", 1000)
    refused = client.get("/export", params={"q": "kind:email", "format": "mbox"})
    assert refused.status_code == 413 and "at most 1,000" in refused.json()["message"]
    page = client.get(
        "/export", params={"q": "kind:email", "format": "mbox"}, headers={"accept": "text/html"}
    )
    assert page.status_code == 413 and "narrow the query" in page.text


def test_reading_room_exports_only_what_the_viewer_may_read(tmp_path: Path) -> None:
    """With accounts: anonymous visitors may not export; a reader's export holds only the items
    of their collections, and says nothing of the others (not even where a shared copy was
    found); every export is in the audit log under the reader's name."""
    from fastapi.testclient import TestClient

    from strongroom.accounts.collections import grant, set_public
    from strongroom.accounts.users import add_user
    from strongroom.analyze.people import merge
    from strongroom.config import IngestPolicy
    from strongroom.web.app import ServeConfig, create_app
    from tests.test_access import PASSWORD, PRIVATE_MARKERS, _build_dumps, login

    public, private = _build_dumps(tmp_path / "dumps")
    case = Case.init(tmp_path / "case")
    case.ingest([public], IngestPolicy(workers=1), collection="public")
    case.ingest([private], IngestPolicy(workers=1), collection="private")
    set_public(case.catalog, "public", True)
    add_user(case.catalog, "outsider", "reader", PASSWORD)
    add_user(case.catalog, "insider", "reader", PASSWORD)
    grant(case.catalog, "insider", "private")
    # one person across both collections: an outsider must not learn the private address
    merge(case.catalog, "press@open.example", "source@hidden.example", "admin")
    app = create_app(case, ServeConfig(accounts=True))

    anonymous = TestClient(app)
    assert anonymous.get("/export", params={"q": "", "format": "csv"}).status_code == 401
    page = anonymous.get("/search", headers={"accept": "text/html"})
    assert 'action="/export"' not in page.text
    shown = {}
    for name in ("outsider", "insider"):
        client = TestClient(app)
        login(client, name)
        for fmt in ("mbox", "csv", "jsonl", "ftm", "eml"):
            got = client.get("/export", params={"q": "", "format": fmt})
            assert got.status_code == 200, (name, fmt, got.text)
            body = got.content.decode("utf-8", "replace")
            if fmt == "eml":
                with zipfile.ZipFile(io.BytesIO(got.content)) as archive:
                    body = "".join(archive.read(n).decode() for n in archive.namelist())
            if fmt == "csv":
                shown[name] = {int(row["id"]) for row in csv.DictReader(io.StringIO(body))}
            leaked = [marker for marker in PRIVATE_MARKERS if marker in body.lower()]
            assert bool(leaked) == (name == "insider"), (name, fmt, leaked)
            if fmt == "ftm":
                entities = [json.loads(line) for line in body.splitlines()]
                ids = {e["id"] for e in entities}
                assert all(validate(e, ids) == [] for e in entities)
                press = [
                    e for e in entities if "press@open.example" in e["properties"].get("email", [])
                ]
                emails = {"press@open.example", "source@hidden.example"}
                if name == "insider":  # the person, with both addresses
                    assert set(press[0]["properties"]["email"]) == emails
                else:  # just the address the outsider can read
                    assert press[0]["properties"]["email"] == ["press@open.example"]
    everything = set(matching_nums(case, ""))
    assert shown["insider"] == everything
    assert shown["outsider"] == case.readable(sorted(everything), frozenset({"public"}))
    assert shown["outsider"] < everything
    actors = [e["actor"] for e in events(case.catalog) if e["action"] == "export"]
    assert actors.count("outsider") == 5 and actors.count("insider") == 5

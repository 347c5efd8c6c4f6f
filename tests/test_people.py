"""People, pattern entities and languages: the grouping rules on small cases, then the demo
dump (its cast is known: every address is one person, one name is shared by two people)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from strongroom.analyze.entities import find_entities, item_entities
from strongroom.analyze.people import (
    analyse_people,
    clean_name,
    decisions,
    group,
    list_people,
    merge,
    name_key,
    person,
    split,
    undo,
    x_header_names,
)
from strongroom.case import Case
from strongroom.catalog import people_store
from strongroom.catalog.audit import events
from strongroom.catalog.index_rows import texts_for
from strongroom.config import IngestPolicy
from strongroom.demo import DemoSpec, build_dump
from strongroom.demo.people import build_directory
from strongroom.errors import NotFound
from strongroom.web.app import create_app


# -- rules -----------------------------------------------------------------------------------------
def test_names_are_compared_as_people_write_them() -> None:
    assert clean_name("\"'Andy Brown (E-mail)'\" <ABB@eslawfirm.com>") == "Andy Brown"
    assert clean_name("Joe Hartsoe@ENRON") == "Joe Hartsoe"
    assert clean_name("Lysa Akin/Enron@EnronXGate") == "Lysa Akin"
    assert clean_name("filuntz@aol.com") == ""
    assert name_key("Kaminski, Vince J") == name_key("Vince J Kaminski") == "vince kaminski"
    assert name_key("Dr. Zoë Müller-Lind") == name_key("zoe muller-lind")
    assert name_key("Воронов, Алексей") == name_key("алексей воронов") is not None
    assert name_key("vkaminski") is None  # one word is not enough to group addresses by
    assert name_key("Steve Kean") != name_key("Steven J Kean")  # nicknames are not guessed


def _record(addresses: dict[str, list[str]], headers: list[list[str]]) -> dict[str, Any]:
    return {
        "addresses": {r: [{"name": "", "address": a} for a in v] for r, v in addresses.items()},
        "headers": headers,
    }


def test_x_header_names_are_used_only_when_they_line_up() -> None:
    record = _record(
        {"from": ["john.shelk@enron.com"], "to": ["d..steffes@enron.com", "jeff@enron.com"]},
        [
            ["X-From", "Shelk, John </O=ENRON/OU=NA/CN=RECIPIENTS/CN=JSHELK>"],
            ["X-To", "Steffes, James D. </O=ENRON/CN=JSTEFFE>, Dasovich, Jeff </O=ENRON/CN=JD>"],
        ],
    )
    assert x_header_names(record) == [
        ("from", 0, "Shelk, John"),
        ("to", 0, "Steffes, James D."),
        ("to", 1, "Dasovich, Jeff"),
    ]
    plain = _record({"to": ["a@x.com", "b@x.com"]}, [["X-To", "Ann Lee, Bob Ray"]])
    assert x_header_names(plain) == [("to", 0, "Ann Lee"), ("to", 1, "Bob Ray")]
    short = _record({"to": ["a@x.com", "b@x.com"]}, [["X-To", "Ann Lee, Bob Ray, Cy Fox"]])
    assert x_header_names(short) == []
    swapped = _record({"to": ["a@x.com", "b@x.com"]}, [["X-To", "Bob <b@x.com>, Ann <a@x.com>"]])
    assert x_header_names(swapped) == []


def _grouped(rows: list[tuple[int, str, str, str]], **kw: Any) -> dict[str, set[str]]:
    result = group(rows, kw.get("replies", []), kw.get("decisions", []), {}, 0)
    people: dict[int, set[str]] = {}
    for address, pid in result.person_of.items():
        people.setdefault(pid, set()).add(address)
    return {min(members): members for members in people.values()}


def test_same_name_groups_within_one_organisation_and_a_personal_address() -> None:
    rows = [
        (1, "from", "ann.lee@corp.com", "Ann Lee"),
        (2, "from", "a.lee@mail.corp.com", "Lee, Ann"),
        (3, "from", "annlee@gmail.com", "Ann Lee"),
        (4, "from", "bob@corp.com", "Bob Ray"),
    ]
    assert _grouped(rows)["a.lee@mail.corp.com"] == {
        "ann.lee@corp.com",
        "a.lee@mail.corp.com",
        "annlee@gmail.com",
    }


def test_same_name_at_two_organisations_is_only_suggested() -> None:
    rows = [
        (1, "from", "ann.lee@corp.com", "Ann Lee"),
        (2, "from", "alee@other.org", "Ann Lee"),
        (3, "from", "annlee@gmail.com", "Ann Lee"),
    ]
    result = group(rows, [], [], {}, 0)
    assert len(set(result.person_of.values())) == 3  # gmail cannot tell which Ann it is
    suggested = [link for link in result.links if not link["applied"]]
    pairs = {frozenset((s["a"], s["b"])) for s in suggested}
    assert frozenset(("ann.lee@corp.com", "alee@other.org")) in pairs
    assert any("annlee@gmail.com" in pair for pair in pairs)


def test_a_reply_from_a_second_address_groups_compatible_names() -> None:
    rows = [
        (1, "from", "x@press.com", "Xavier Fox"),
        (1, "to", "vince@corp.com", "Vince Kaminski"),
        (2, "from", "vk@home.net", "Vincent Kaminski"),
        (2, "to", "x@press.com", "Xavier Fox"),
        (3, "from", "x@press.com", "Xavier Fox"),
        (3, "to", "vince@corp.com", "Vince Kaminski"),
        (3, "cc", "amy@corp.com", "Amy Kaminski"),
        (4, "from", "amy@home.net", "A Kaminski"),
    ]
    grouped = _grouped(rows, replies=[(2, 1)])
    assert grouped["vince@corp.com"] == {"vince@corp.com", "vk@home.net"}
    result = group(rows, [(2, 1)], [], {}, 0)
    (reply,) = [link for link in result.links if link["rule"] == "reply"]
    assert "item 2" in reply["reason"] and "item 1" in reply["reason"]
    # a reply to a message that had two recipients says nothing about which one answered
    assert _grouped(rows, replies=[(4, 3)])["amy@corp.com"] == {"amy@corp.com"}


def test_user_decisions_override_the_rules_and_ids_stay() -> None:
    rows = [
        (1, "from", "ann.lee@corp.com", "Ann Lee"),
        (2, "from", "a.lee@corp.com", "Ann Lee"),
        (3, "from", "bob@corp.com", "Bob Ray"),
        (4, "to", "ann.lee@corp.com", "Ann Lee"),
    ]
    first = group(rows, [], [], {}, 0)
    ann = first.person_of["ann.lee@corp.com"]
    user = {"actor": "ed", "at": "2026-01-01", "note": "", "b": None}
    decided = [{**user, "id": 1, "action": "split", "a": "a.lee@corp.com"}]
    after = group(rows, [], decided, first.person_of, 5)
    assert after.person_of["ann.lee@corp.com"] == ann  # the id stays with most of the mail
    assert after.person_of["a.lee@corp.com"] not in (ann, after.person_of["bob@corp.com"])
    decided.append({**user, "id": 2, "action": "merge", "a": "bob@corp.com", "b": "a.lee@corp.com"})
    merged = group(rows, [], decided, after.person_of, 6)
    assert merged.person_of["bob@corp.com"] == merged.person_of["a.lee@corp.com"]
    assert merged.person_of["ann.lee@corp.com"] != merged.person_of["bob@corp.com"]


def test_entities_have_offsets_into_the_text() -> None:
    text = (
        "Call (713) 853-6349 or +44 20 7946 0958 about the $1,500.00 wire to "
        "DE89 3704 0044 0532 0130 00 (due May 3, 2001; see https://example.org/a_(b)). "
        "Not an IBAN: DE00 3704 0044 0532 0130 00. Mail ann@example.org by 25/12/2001."
    )
    found = find_entities(text)
    assert all(text[e.start : e.end] == e.text for e in found)
    values = {(e.kind, e.value) for e in found}
    assert {
        ("phone", "+17138536349"),
        ("phone", "+442079460958"),
        ("money", "USD 1500.00"),
        ("iban", "DE89370400440532013000"),
        ("date", "2001-05-03"),
        ("date", "2001-12-25"),
        ("url", "https://example.org/a_(b)"),
        ("email", "ann@example.org"),
    } <= values
    assert not any(e.kind == "iban" and e.value.startswith("DE00") for e in found)


# -- the demo dump -------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Case:
    root = tmp_path_factory.mktemp("people")
    build_dump(root / "dump", DemoSpec())
    case = Case.init(root / "case")
    case.ingest([root / "dump"], IngestPolicy(workers=2))
    return case


def test_demo_cast_is_one_person_per_address(demo: Case) -> None:
    cast = build_directory(DemoSpec().seed).everyone
    people = list_people(demo.catalog)
    by_address = {a["address"]: p for p in people for a in p["addresses"]}
    for member in cast:
        found = by_address[member.address]
        assert len(found["addresses"]) == 1, member.address
        assert found["name"] == member.name
    assert len(people) == len({m.address for m in cast})


def test_demo_namesakes_are_suggested_not_merged(demo: Case) -> None:
    cast = build_directory(DemoSpec().seed).everyone
    names: dict[str, list[str]] = {}
    for member in cast:
        names.setdefault(member.name, []).append(member.address)
    namesakes = [sorted(a) for a in names.values() if len(a) > 1]
    assert namesakes  # the demo's cast has one (two different people named Percy Underhill)
    for a, b in namesakes:
        assert people_store.person_of_address(demo.catalog, a) != people_store.person_of_address(
            demo.catalog, b
        )
        shown = person(demo.catalog, people_store.person_of_address(demo.catalog, a) or 0)
        assert any({s["a"], s["b"]} == {a, b} for s in shown["suggestions"])


def test_person_and_org_facts_are_searchable(demo: Case) -> None:
    top = list_people(demo.catalog)[0]
    shown = person(demo.catalog, top["id"])
    activity = shown["activity"]
    assert demo.count(f"person:{top['id']}") == activity["messages"] > 0
    assert sum(m["count"] for m in activity["months"]) <= activity["messages"]
    assert activity["first"]["date"] <= activity["last"]["date"]
    assert (
        shown["top_correspondents"][0]["sent_to"] + shown["top_correspondents"][0]["received_from"]
        >= shown["top_correspondents"][-1]["sent_to"]
    )
    assert demo.count("org:northwind-civic.org") >= demo.count("from:@northwind-civic.org")


def test_merge_split_and_undo_are_recorded_and_survive_reanalysis(demo: Case) -> None:
    a, b = "a.voronov@volga-courier.example", "v.klimova@nevsky-post.example"
    before_a = people_store.person_of_address(demo.catalog, a)
    merged = merge(demo.catalog, a, b, "tester", "same desk")
    demo.index.refresh(demo.catalog, merged["stats"].changed)
    joined = people_store.person_of_address(demo.catalog, a)
    assert joined == people_store.person_of_address(demo.catalog, b)
    links = person(demo.catalog, joined or 0)["links"]
    assert [link["rule"] for link in links] == ["user"]
    assert "tester" in links[0]["reason"]
    assert demo.count(f"person:{joined}") == demo.count(f"participant:{a} OR participant:{b}")
    analyse_people(demo.catalog)  # re-analysis keeps the user's decision
    assert people_store.person_of_address(demo.catalog, a) == people_store.person_of_address(
        demo.catalog, b
    )
    split_off = split(demo.catalog, b, "tester")
    assert people_store.person_of_address(demo.catalog, a) != people_store.person_of_address(
        demo.catalog, b
    )
    undo(demo.catalog, split_off["decision"], "tester")
    assert people_store.person_of_address(demo.catalog, a) == people_store.person_of_address(
        demo.catalog, b
    )
    undone = undo(demo.catalog, merged["decision"], "tester")
    demo.index.refresh(demo.catalog, undone["stats"].changed)
    assert people_store.person_of_address(demo.catalog, a) == before_a
    assert people_store.person_of_address(demo.catalog, b) != before_a
    assert demo.count(f"person:{before_a}") == demo.count(f"participant:{a}")
    actions = [e["action"] for e in events(demo.catalog, "people.")]
    assert actions[:4] == ["people.undo", "people.undo", "people.split", "people.merge"]
    assert [d["revoked_by"] for d in decisions(demo.catalog)] == ["tester"] * 2


def test_languages_of_the_demo_writers(demo: Case) -> None:
    for lang, domains in (
        ("ru", ("volga-courier.example", "nevsky-post.example")),
        ("fr", ("rive-gauche-media.example",)),
        ("de", ("nordlicht-verlag.example",)),
    ):
        hits = demo.search(f"lang:{lang} kind:email", limit=200, facets=False).hits
        # an English reply quoting a French original is English: the quote is left out
        assert hits and all(str(h["from"]).endswith(domains) for h in hits), lang
        written = demo.count(" OR ".join(f"from:@{d}" for d in domains))
        assert len(hits) >= 0.9 * written, lang
    staff = demo.count("from:@northwind-civic.org kind:email")
    assert demo.count("from:@northwind-civic.org kind:email lang:en") >= 0.98 * staff


def test_demo_entities_point_at_their_text(demo: Case) -> None:
    texts = texts_for(demo.catalog, list(range(1, 2000)))
    checked = 0
    for num, text in texts.items():
        for entity in item_entities(demo.catalog, num)["entities"]:
            assert text[entity["start"] : entity["end"]] == entity["text"]
            checked += 1
    assert checked > 500


def test_cli_and_pages(demo: Case, tmp_path: Path) -> None:
    from strongroom.cli import cli

    runner = CliRunner()
    listed = runner.invoke(cli, ["--case", str(demo.root), "people", "list", "--json"])
    assert listed.exit_code == 0, listed.output
    top = _first_json_list(listed.output)[0]
    shown = runner.invoke(cli, ["--case", str(demo.root), "people", "show", str(top["id"])])
    assert shown.exit_code == 0 and top["name"] in shown.output
    missing = runner.invoke(cli, ["--case", str(demo.root), "people", "merge", "1", "x@nowhere"])
    assert isinstance(missing.exception, NotFound)
    assert "no address x@nowhere" in missing.exception.message
    client = TestClient(create_app(demo))
    page = client.get(f"/people/{top['id']}")
    assert page.status_code == 200 and top["name"] in page.text
    twin = client.get(f"/people/{top['id']}.json").json()
    assert twin["activity"]["messages"] > 0 and twin["addresses"]
    assert client.get("/people").status_code == 200
    assert client.get("/people/999999.json").status_code == 404
    item = twin["activity"]["first"]["id"]
    entities = client.get(f"/items/{item}/entities.json").json()
    assert entities["analysed"] and entities["item"] == item


def _first_json_list(output: str) -> list[dict[str, Any]]:
    import json

    return list(json.loads(output[output.index("[") :]))


def test_merge_split_and_undo_from_the_person_page(demo: Case) -> None:
    import re

    a, b = "h.girard@rive-gauche-media.example", "a.rousseau@rive-gauche-media.example"
    client = TestClient(create_app(demo))
    first = people_store.person_of_address(demo.catalog, a)
    page = client.get(f"/people/{first}")
    token = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert token is not None and "Correct this grouping" in page.text
    csrf = token[1]
    merged = client.post(
        f"/people/{first}/merge",
        data={"csrf": csrf, "other": b, "note": "one desk"},
        follow_redirects=False,
    )
    assert merged.status_code == 303
    joined = people_store.person_of_address(demo.catalog, b)
    assert joined == people_store.person_of_address(demo.catalog, a)
    assert merged.headers["location"] == f"/people/{joined}"
    assert demo.count(f"person:{joined}") == demo.count(f"participant:{a} OR participant:{b}")
    shown = client.get(f"/people/{joined}.json").json()
    (decision,) = shown["decisions"]
    assert decision["actor"] == "local" and decision["note"] == "one desk"
    split_off = client.post(
        "/people/split", data={"csrf": csrf, "address": b}, follow_redirects=False
    )
    assert split_off.status_code == 303
    assert people_store.person_of_address(demo.catalog, a) != people_store.person_of_address(
        demo.catalog, b
    )
    undone = client.post(
        f"/people/decisions/{decision['id']}/undo",
        data={"csrf": csrf, "address": a},
        follow_redirects=False,
    )
    assert undone.status_code == 303
    # the merge is undone; the split still stands, so the two stay apart
    assert [d["revoked_by"] for d in decisions(demo.catalog) if d["id"] == decision["id"]] == [
        "local"
    ]
    assert people_store.person_of_address(demo.catalog, a) != people_store.person_of_address(
        demo.catalog, b
    )
    assert client.post("/people/split", data={"address": b}).status_code == 403  # no token
    unknown = client.post("/people/split", data={"csrf": csrf, "address": "x@nowhere.example"})
    assert unknown.status_code == 404
    actions = [e["action"] for e in events(demo.catalog, "people.")][:3]
    assert actions == ["people.undo", "people.split", "people.merge"]


def test_languages_and_organisations_are_facets(demo: Case) -> None:
    facets = demo.search("kind:email").facets
    languages = {bucket["value"]: bucket["count"] for bucket in facets["languages"]}
    assert languages["en"] == demo.count("kind:email lang:en")
    assert {"ru", "fr", "de"} <= set(languages)
    organisations = {bucket["value"] for bucket in facets["organisations"]}
    assert "northwind-civic.org" in organisations

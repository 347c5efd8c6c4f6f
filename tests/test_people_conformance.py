"""People, entities and languages on real mail: the Enron subset (1,702 messages whose X-From and
X-To headers carry the display names its From and To lack)."""

from __future__ import annotations

from pathlib import Path

import pytest

from strongroom.analyze.entities import item_entities
from strongroom.analyze.people import list_people, person
from strongroom.case import Case
from strongroom.catalog import people_store
from strongroom.config import IngestPolicy

pytestmark = pytest.mark.conformance


@pytest.fixture(scope="module")
def enron(corpora: Path, tmp_path_factory: pytest.TempPathFactory) -> Case:
    case = Case.init(tmp_path_factory.mktemp("enron-people") / "case")
    case.ingest([corpora / "enron-berkeley-categories"], IngestPolicy(workers=2))
    return case


def _person(case: Case, address: str) -> int:
    found = people_store.person_of_address(case.catalog, address)
    assert found is not None, address
    return found


def test_enron_correspondents_resolve_to_people(enron: Case) -> None:
    people = list_people(enron.catalog)
    addresses = sum(len(p["addresses"]) for p in people)
    # measured (docs/people.md): 1,368 addresses, 1,330 people, 34 of them with 2-3 addresses
    assert addresses == 1368
    assert len(people) == 1330
    assert sum(1 for p in people if len(p["addresses"]) > 1) == 34


@pytest.mark.parametrize(
    ("addresses", "name"),
    [
        (("j.kaminski@enron.com", "vince.kaminski@enron.com", "kaminski@enron.com"), "Vince"),
        (("steven.kean@enron.com", "j..kean@enron.com"), "Steven J Kean"),
        (("james.steffes@enron.com", "d..steffes@enron.com"), "James D Steffes"),
        (("frazier_blaylock@ogden-energy.com", "frayblay@aol.com"), "Frazier Blaylock"),
    ],
)
def test_enron_spot_checked_merges(enron: Case, addresses: tuple[str, ...], name: str) -> None:
    ids = {_person(enron, a) for a in addresses}
    assert len(ids) == 1
    shown = person(enron.catalog, ids.pop())
    assert name in shown["name"]
    assert {a["address"] for a in shown["addresses"]} == set(addresses)
    assert all(link["rule"] == "same-name" for link in shown["links"])
    assert len(shown["links"]) == len(addresses) - 1  # every address joined by a stated reason


def test_enron_what_is_not_merged(enron: Case) -> None:
    kaminski = _person(enron, "vince.kaminski@enron.com")
    # "vkaminski" (his AOL address's only name) is one word: no evidence, no merge
    assert _person(enron, "vkaminski@aol.com") != kaminski
    # "Steve Kean" is not "Steven J Kean": nicknames are not guessed
    assert _person(enron, "skean@enron.com") != _person(enron, "steven.kean@enron.com")
    # the same name at two companies is suggested, not merged
    shown = person(enron.catalog, _person(enron, "amy.kim@enron.com"))
    assert [s["b"] for s in shown["suggestions"]] == ["amy.kim@enron.com"]
    assert _person(enron, "akim@m-g.com") != _person(enron, "amy.kim@enron.com")


def test_enron_person_search(enron: Case) -> None:
    kaminski = _person(enron, "vince.kaminski@enron.com")
    hits = enron.count(f"person:{kaminski}")
    either = " OR ".join(
        f"participant:{a}"
        for a in ("j.kaminski@enron.com", "vince.kaminski@enron.com", "kaminski@enron.com")
    )
    assert hits == enron.count(either) == person(enron.catalog, kaminski)["activity"]["messages"]
    assert enron.count("org:enron.com") >= 1600
    assert enron.count("org:dynegy.com") > 0


def test_enron_entities_in_a_real_signature(enron: Case) -> None:
    (hit,) = enron.search("filename:55210.txt", facets=False).hits  # Frank Wolak's reply
    found = item_entities(enron.catalog, hit["id"])
    text = enron.item(str(hit["id"]))["text"]
    values = {(e["kind"], e["value"]) for e in found["entities"]}
    assert {
        ("phone", "+16507233944"),
        ("phone", "+16507255702"),
        ("phone", "+16508560109"),
        ("phone", "+16508140107"),
        ("url", "http://www.stanford.edu/~wolak"),
        ("email", "wolak@zia.stanford.edu"),
    } <= values
    assert all(text[e["start"] : e["end"]] == e["text"] for e in found["entities"])
    assert found["lang"] == "en"


def test_enron_languages(enron: Case) -> None:
    emails = enron.count("kind:email")
    assert emails == 1702
    assert enron.count("kind:email lang:en") >= 0.95 * emails
    # the .cats label files ("1,1,1") have no language to find; categories.txt and
    # PROVENANCE.md, the corpus's two prose documents, are English
    documents = enron.search("kind:document lang:en", limit=50, facets=False).hits
    assert sorted(h["name"] for h in documents) == ["PROVENANCE.md", "categories.txt"]

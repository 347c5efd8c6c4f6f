"""Every operator and field of the query language, on mail where the right answer is known."""

from __future__ import annotations

import json
from email.message import EmailMessage

import pytest

from strongroom.case import Case
from strongroom.config import IngestPolicy
from strongroom.errors import ExitStatus
from strongroom.index.store import MARKER
from strongroom.query.parser import QuerySyntaxError
from tests.test_ingest import run_cli

# (from, to, cc, subject, body, date, attachment (name, text) or None)
MAIL = [
    (
        "Jane Treasurer <treasurer@dnc.example>",
        "chair@dnc.example",
        "",
        "Budget for May",
        "The budgets are running low before the convention.",
        "Tue, 03 May 2016 10:00:00 -0400",
        None,
    ),
    (
        "Jane Treasurer <treasurer@dnc.example>",
        "donors@friends.example",
        "audit@dnc.example",
        "Donor list",
        "Attached is the donor list as requested.",
        "Wed, 15 Jun 2016 09:30:00 -0400",
        ("donors.txt", "Alice Example pledged 5000 dollars"),
    ),
    (
        "Bob Press <bob@press.example>",
        "treasurer@dnc.example",
        "",
        "Interview request",
        "Could we talk about the budget shortfall? No spam please.",
        "Fri, 01 Jul 2016 12:00:00 +0000",
        None,
    ),
    (
        "Спам Бот <spam@junk.example>",
        "treasurer@dnc.example",
        "",
        "Special offer spam",
        "Привет, купите сейчас. Exact phrase here.",
        "Mon, 04 Jan 2016 08:00:00 +0300",
        None,
    ),
    (
        "王伟 <wang@example.cn>",
        "chair@dnc.example",
        "",
        "会议安排",
        "我们明天开会讨论预算问题。The security review is pending.",
        "Thu, 12 May 2016 18:00:00 +0800",
        ("minutes.txt", "Securities and secure channels"),
    ),
    (
        "Chair Person <chair@dnc.example>",
        "treasurer@dnc.example",
        "",
        "Re: Budget for May",
        "Thanks. Exact phrases matter: exact phrase here was not it.",
        "Wed, 04 May 2016 11:00:00 -0400",
        None,
    ),
]


def _message(n: int, spec: tuple[str, str, str, str, str, str, tuple[str, str] | None]) -> bytes:
    sender, to, cc, subject, body, date, attachment = spec
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"], msg["Date"] = sender, to, subject, date
    if cc:
        msg["Cc"] = cc
    msg["Message-ID"] = f"<s{n}@test.example>"
    msg.set_content(body)
    if attachment:
        msg.add_attachment(attachment[1], filename=attachment[0])
    return msg.as_bytes()


@pytest.fixture(scope="module")
def case(tmp_path_factory: pytest.TempPathFactory) -> Case:
    root = tmp_path_factory.mktemp("search")
    dump = root / "dump"
    dump.mkdir()
    for n, spec in enumerate(MAIL, start=1):
        (dump / f"{n:02d}.eml").write_bytes(_message(n, spec))
    case = Case.init(root / "case")
    case.ingest([dump], IngestPolicy(workers=1))
    return case


def subjects(case: Case, query: str) -> set[str]:
    result = case.search(query, limit=100, facets=False)
    assert result.total == len(result.hits)
    return {hit["subject"] or hit["name"] for hit in result.hits}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("budget", {"Budget for May", "Interview request", "Re: Budget for May"}),
        ("budgets", {"Budget for May", "Interview request", "Re: Budget for May"}),  # stemmed
        ('"exact phrase here"', {"Special offer spam", "Re: Budget for May"}),
        ('"phrase exact"', set()),  # word order kept
        ('"budgets"', {"Budget for May"}),  # exact means exact: no stemming in phrases
        ("budget -spam", {"Budget for May", "Re: Budget for May"}),
        ("budget NOT spam", {"Budget for May", "Re: Budget for May"}),
        ("budget -subject:re", {"Budget for May", "Interview request"}),  # a negated field
        ('budget -"exact phrase here"', {"Budget for May", "Interview request"}),
        ("budget -(spam OR shortfall)", {"Budget for May", "Re: Budget for May"}),
        ("(shortfall OR convention) budget", {"Budget for May", "Interview request"}),
        ("donor OR interview", {"Donor list", "Interview request"}),
        ("from:treasurer", {"Budget for May", "Donor list"}),
        ("from:jane", {"Budget for May", "Donor list"}),
        ("from:treasurer@dnc.example", {"Budget for May", "Donor list"}),
        ("from:@dnc.example", {"Budget for May", "Donor list", "Re: Budget for May"}),
        (
            "to:treasurer@dnc.example",
            {"Interview request", "Special offer spam", "Re: Budget for May"},
        ),
        ("cc:audit", {"Donor list"}),
        ("participant:@friends.example", {"Donor list"}),
        ("subject:budget", {"Budget for May", "Re: Budget for May"}),
        ("body:shortfall", {"Interview request"}),
        ("attachment:pledged", {"Donor list"}),
        ("filename:donors.txt", {"Donor list", "donors.txt"}),
        ("type:txt", {"donors.txt", "minutes.txt"}),
        ("kind:attachment", {"donors.txt", "minutes.txt"}),
        ("has:attachment", {"Donor list", "会议安排"}),
        ("date:2016-05", {"Budget for May", "会议安排", "Re: Budget for May"}),
        ("date:2016-05-03..2016-05-04", {"Budget for May", "Re: Budget for May"}),
        ("date:..2016-01", {"Special offer spam"}),
        ("date:>2016-06", {"Interview request"}),
        ("date:2016 from:bob", {"Interview request"}),
        ("secur*", {"会议安排", "minutes.txt"}),
        ("msgid:s3@test.example", {"Interview request"}),
        ("купите", {"Special offer spam"}),
        ("from:спам", {"Special offer spam"}),
        ('"开会讨论"', {"会议安排"}),
        ("预算", {"会议安排"}),
    ],
)
def test_operators_and_fields(case: Case, query: str, expected: set[str]) -> None:
    assert subjects(case, query) == expected


def test_size_and_id(case: Case) -> None:
    everything = case.search("", limit=100, facets=False)
    sizes = {hit["id"]: hit["size"] for hit in everything.hits}
    threshold = sorted(sizes.values())[len(sizes) // 2]
    larger = {n for n, size in sizes.items() if size > threshold}
    result = case.search(f"size:>{threshold}", limit=100, facets=False)
    assert {hit["id"] for hit in result.hits} == larger
    assert [hit["id"] for hit in case.search("id:3", facets=False).hits] == [3]


def test_sort_by_date_and_paging(case: Case) -> None:
    dated = case.search("kind:email", sort="date", limit=100, facets=False).hits
    dates = [hit["date"] for hit in dated]
    assert dates == sorted(dates)
    newest_first = case.search("kind:email", sort="-date", limit=2, offset=1, facets=False)
    assert [hit["date"] for hit in newest_first.hits] == sorted(dates, reverse=True)[1:3]
    assert newest_first.total == len(dates)


def test_facets_count_the_whole_result(case: Case) -> None:
    facets = case.search("from:@dnc.example", limit=1).facets
    assert {b["value"]: b["count"] for b in facets["senders"]} == {
        "treasurer@dnc.example": 2,
        "chair@dnc.example": 1,
    }
    assert facets["sender_domains"] == [{"value": "dnc.example", "count": 3}]
    assert [b["value"] for b in facets["months"]] == ["2016-05", "2016-06"]
    assert facets["has_attachment"] == {"yes": 1, "no": 2}


def test_snippets_highlight_where_the_match_is(case: Case) -> None:
    (hit,) = case.search("shortfall", facets=False).hits
    assert "<mark>shortfall</mark>" in hit["snippet"]
    assert hit["snippet_from"] == "body"
    (hit,) = case.search("attachment:pledged", facets=False).hits
    assert "<mark>pledged</mark>" in hit["snippet"]
    assert hit["snippet_from"].endswith("donors.txt")
    hits = case.search("budget", facets=False).hits
    assert any("<mark>Budget</mark>" in hit["snippet"] for hit in hits)


@pytest.mark.parametrize(
    ("query", "position", "expected"),
    [
        ('"unclosed phrase', 0, "closing"),
        ("budget AND", 10, "after AND"),
        ("(budget OR donors", 17, "')'"),
        ("budget)", 6, "no '('"),
        ("colour:red", 0, "unknown field"),
        ("date:May", 5, "YYYY"),  # the value, not the field
        ("size:>lots", 5, "size:"),
        ("is:nonsense", 3, "unknown is:"),
    ],
)
def test_malformed_queries_point_at_the_problem(
    case: Case, query: str, position: int, expected: str
) -> None:
    with pytest.raises(QuerySyntaxError) as raised:
        case.search(query)
    assert raised.value.position == position
    assert expected in raised.value.message


def test_cli_search_json_count_csv_and_errors(case: Case) -> None:
    root = str(case.root)
    data = json.loads(run_cli("--case", root, "search", "from:treasurer", "--json").stdout)
    assert data["total"] == 2
    assert {"id", "kind", "date", "from", "subject", "snippet"} <= set(data["hits"][0])
    assert "senders" in data["facets"]
    assert run_cli("--case", root, "search", "budget", "--count").stdout.strip() == b"3"
    csv_lines = run_cli("--case", root, "search", "budget", "--csv").stdout.splitlines()
    assert csv_lines[0].startswith(b"id,kind,date")
    assert len(csv_lines) == 4
    bad = run_cli("--case", root, "search", "budget AND", check=ExitStatus.USAGE)
    assert b"position 10" in bad.stderr
    assert b"Traceback" not in bad.stderr


def test_index_is_derived_repaired_and_rebuilt(case: Case) -> None:
    marker = case.index.root / MARKER
    before = subjects(case, "budget")
    # A crash after the catalog commit and before the index caught up: the marker is behind.
    data = json.loads(marker.read_text())
    marker.write_text(json.dumps({**data, "last_num": 2}))
    assert subjects(case, "budget") == before
    # A schema change forces a rebuild from the catalog.
    marker.write_text(json.dumps({**data, "schema": -1}))
    fresh = Case.open(case.root)
    assert subjects(fresh, "budget") == before
    assert fresh.reindex() == case.report()["items"]
    assert subjects(fresh, "budget") == before


def test_threads_search_and_show(case: Case) -> None:
    # "Re: Budget for May" carries no references: the subject fallback joins it to its parent.
    assert subjects(case, "thread:1") == {"Budget for May", "Re: Budget for May"}
    assert subjects(case, "thread:4") == {"Interview request"}  # 3 is an attachment
    assert subjects(case, "thread:s1@test.example") == {"Budget for May", "Re: Budget for May"}
    tree = run_cli("--case", str(case.root), "show", "thread:1").stdout.decode()
    assert "Budget for May" in tree.splitlines()[0]
    assert "Re: Budget for May" in tree.splitlines()[1]
    data = json.loads(run_cli("--case", str(case.root), "show", "thread:1", "--json").stdout)
    assert [entry["depth"] for entry in data] == [0, 1]


def test_facts_from_analyses_become_searchable(case: Case) -> None:
    case.catalog.set_facts(1, "flags", ["verified"])
    case.catalog.set_facts(1, "dkim", ["dnc.example"])
    case.catalog.set_facts(3, "author", ["Alice Example"])
    case.catalog.set_facts(3, "last_modified_by", ["Bob Editor"])
    assert case.index.refresh(case.catalog, [1, 3]) == 2
    assert subjects(case, "editor:bob") == {"donors.txt"}
    assert subjects(case, "author:bob") == set()  # author and last editor are kept apart
    assert subjects(case, "extraction:text") == {"donors.txt", "minutes.txt"}
    assert subjects(case, "is:verified") == {"Budget for May"}
    assert subjects(case, "dkim:dnc.example") == {"Budget for May"}
    assert subjects(case, "author:alice") == {"donors.txt"}
    case.catalog.set_facts(1, "flags", [])
    case.index.refresh(case.catalog, [1])
    assert subjects(case, "is:verified") == set()


def test_replayed_items_are_not_indexed_twice(case: Case) -> None:
    before = case.search("", limit=1, facets=False).total
    marker = case.index.root / MARKER
    marker.write_text(json.dumps({**json.loads(marker.read_text()), "last_num": 0}))
    fresh = Case.open(case.root)
    assert fresh.search("", limit=1, facets=False).total == before

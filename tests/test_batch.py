"""Batch search: names and queries from a list or a CSV, each with its count and first hits,
from the CLI (CSV out) and the reading room (/batch and /batch.json)."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from strongroom.annotate.batch import as_query, read_lines, run_batch
from strongroom.case import Case
from strongroom.demo import DemoSpec, build_dump
from strongroom.errors import UsageError
from strongroom.web.app import create_app
from tests.test_ingest import run_cli

LINES = [
    "budget",
    "Tamsin Hollis",  # a name: searched as a phrase, in text and among correspondents
    "from:(",  # malformed: its row carries the error
    'subject:"polling memo" OR has:attachment',
    "date:2016-05",
    "nobody-writes-this-word",
]


@pytest.fixture(scope="module")
def case(tmp_path_factory: pytest.TempPathFactory) -> Case:
    dump = tmp_path_factory.mktemp("dump") / "dump"
    build_dump(dump, DemoSpec(messages=120, attachments=40))
    case = Case.init(tmp_path_factory.mktemp("case") / "case")
    case.ingest([dump], verify=False)
    return case


def test_names_become_phrases_and_queries_stay_queries() -> None:
    assert as_query("Tamsin Hollis") == '"Tamsin Hollis" OR participant:"Tamsin Hollis"'
    assert as_query("Jean-Luc O'Brien") == '"Jean-Luc O\'Brien" OR participant:"Jean-Luc O\'Brien"'
    assert as_query("budget") == "budget"
    assert as_query("budget OR donors") == "budget OR donors"
    assert as_query("from:treasurer budget") == "from:treasurer budget"
    assert as_query("Room 101") == "Room 101"  # a digit: not a name


def test_cli_batch_csv_counts_match_the_search(case: Case, tmp_path: Path) -> None:
    source = tmp_path / "names.txt"
    source.write_text("\n".join(["# people and words", *LINES, ""]), encoding="utf-8")
    out = tmp_path / "out.csv"
    run_cli("--case", str(case.root), "batch", str(source), "--csv", str(out), "--hits", "3")
    with out.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [row["input"] for row in rows] == LINES
    assert [int(row["line"]) for row in rows] == [2, 3, 4, 5, 6, 7]
    for row in rows:
        if row["input"] == "from:(":
            assert row["count"] == "" and "position 5" in row["error"]
            continue
        assert row["error"] == ""
        total = case.count(row["query"])
        assert int(row["count"]) == total
        first = case.search(row["query"], limit=3, facets=False).hits
        assert row["hit_ids"].split() == [str(hit["id"]) for hit in first]
    by_input = {row["input"]: row for row in rows}
    assert int(by_input["Tamsin Hollis"]["count"]) > 0
    assert by_input["nobody-writes-this-word"]["count"] == "0"
    assert int(by_input["budget"]["count"]) > int(by_input["Tamsin Hollis"]["count"]) > 0


def test_csv_input_with_a_query_column(case: Case, tmp_path: Path) -> None:
    source = tmp_path / "people.csv"
    source.write_text('org,name\nNW,Tamsin Hollis\nX,"budget, polling"\n', encoding="utf-8")
    done = run_cli("--case", str(case.root), "batch", str(source), "--json")
    rows = json.loads(done.stdout)
    assert [row["input"] for row in rows] == ["Tamsin Hollis", "budget, polling"]
    assert rows[0]["count"] == case.count(as_query("Tamsin Hollis"))
    done = run_cli("--case", str(case.root), "batch", str(source), "--column", "nope", check=2)
    assert b"no column 'nope'" in done.stderr and b"people.csv" in done.stderr
    with pytest.raises(UsageError, match="at most"):
        read_lines("x\n" * 6000)
    missing = run_cli("--case", str(case.root), "batch", str(tmp_path / "none.txt"), check=4)
    assert b"does not exist" in missing.stderr


def test_batch_page_and_its_json_twin(case: Case) -> None:
    client = TestClient(create_app(case))
    text = "\n".join(LINES)
    data = client.get("/batch.json", params={"lines": text, "hits": 2}).json()
    expected = run_batch(case, read_lines(text), hits=2)
    assert [row["count"] for row in data["rows"]] == [row.count for row in expected]
    assert data["errors"] == 1 and data["rows"][2]["error"]
    form = client.get("/batch")
    assert form.status_code == 200 and "<textarea" in form.text
    token = re.search(r'name="csrf" value="([^"]+)"', form.text)
    assert token
    page = client.post("/batch", data={"csrf": token.group(1), "lines": text, "hits": 2})
    assert page.status_code == 200
    assert "error: query error at position 5" in page.text
    first = expected[0].hits[0]["id"]
    assert f'href="/items/{first}"' in page.text

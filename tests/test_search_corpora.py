"""Search on real mail, cross-checked against counts derived from the headers themselves."""

from __future__ import annotations

import email
import email.policy
import email.utils
from collections import Counter
from datetime import UTC
from pathlib import Path

import pytest

from strongroom.case import Case
from strongroom.config import IngestPolicy

pytestmark = pytest.mark.conformance


@pytest.fixture(scope="module")
def enron(corpora: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Case, list[Path]]:
    root = corpora / "enron-berkeley-categories"
    case = Case.init(tmp_path_factory.mktemp("enron") / "case")
    case.ingest([root], IngestPolicy(workers=2))
    return case, sorted(root.glob("*/*.txt"))


def _headers(path: Path) -> email.message.Message:
    with path.open("rb") as handle:
        return email.message_from_binary_file(handle, policy=email.policy.compat32)


def _distinct(files: list[Path]) -> dict[bytes, Path]:
    """Enron's category folders hold some messages twice: count each distinct message once."""
    return {path.read_bytes(): path for path in files}


def test_from_counts_match_the_headers(enron: tuple[Case, list[Path]]) -> None:
    case, files = enron
    senders: Counter[str] = Counter()
    domains: Counter[str] = Counter()
    for path in _distinct(files).values():
        _name, address = email.utils.parseaddr(str(_headers(path)["From"]))
        senders[address.lower()] += 1
        domains[address.lower().rsplit("@", 1)[-1]] += 1
    for address, expected in senders.most_common(8):
        assert case.count(f"from:{address}") == expected, address
    for domain, expected in domains.most_common(3):
        assert case.count(f"from:@{domain}") == expected, domain


def test_month_counts_match_the_dates(enron: tuple[Case, list[Path]]) -> None:
    case, files = enron
    months: Counter[str] = Counter()
    for path in _distinct(files).values():
        parsed = email.utils.parsedate_to_datetime(str(_headers(path)["Date"]))
        months[parsed.astimezone(UTC).strftime("%Y-%m")] += 1
    for month, expected in months.most_common(6):
        assert case.count(f"date:{month}") == expected, month
    facets = case.search("", limit=1).facets
    assert {b["value"]: b["count"] for b in facets["months"]} == dict(months)


def test_every_message_is_found_by_its_message_id(enron: tuple[Case, list[Path]]) -> None:
    case, files = enron
    for path in list(_distinct(files).values())[:200]:
        message_id = str(_headers(path)["Message-ID"]).strip().strip("<>")
        assert case.count(f"msgid:{message_id}") == 1, path


def test_subject_words_match_the_headers(enron: tuple[Case, list[Path]]) -> None:
    case, files = enron
    for word in ("meeting", "california", "energy"):
        expected = sum(
            1
            for path in _distinct(files).values()
            if word in str(_headers(path)["Subject"] or "").lower().split()
        )
        found = case.count(f'subject:"{word}"')
        # The index tokenizer also splits on punctuation ("California's", "meeting:"), so it may
        # find more than a whitespace split does, never fewer.
        assert found >= expected > 0, word

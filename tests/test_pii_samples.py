"""The detector on a small labelled set of mail-like sentences: what must be found (marked
``[[type:value]]``) and look-alikes that must not be (order and invoice numbers, ISBNs, dates
that look like phone numbers, timestamps, version numbers, tracking codes, prices).

`bench/pii/measure.py` prints the per-type precision and recall of this set for docs/pii.md.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from strongroom.pii.detect import Detector, Hit, detector_version, normalise

MARK = re.compile(r"\[\[([a-z-]+):(.+?)\]\]")
WORDS = {"persons": ["Dolores Quint", "Anselm Varga"], "medical": ["chemotherapy", "HIV"]}

SAMPLES = (
    # cards: Luhn-valid in the usual groupings; look-alikes fail Luhn or are other numbers
    "Please charge [[card:4111 1111 1111 1111]] for the banquet table.",
    "Amex on file [[card:3782-822463-10005]], expiry 09/18.",
    "The Visa ending 1881 is [[card:4012888888881881]].",
    "She paid with Mastercard [[card:5105 1051 0510 5100]] last spring.",
    "Discover card: [[card:6011-1111-1111-1117]]",
    "Visa [[card:4242 4242 4242 4242]] exp 12/19",
    "Order number 4111 1111 1111 1112 has shipped.",
    "Tracking 1Z999AA10123456784 via UPS ground.",
    "Invoice 2016-0503-7781 is overdue by 30 days.",
    "Reference 1234567812345678 in the ledger.",
    # a Luhn-valid order number in a card's range: no pattern can tell it from a card
    "Order number 4000 1234 5678 9017 shipped.",
    # SSNs, including the advertising range presidio half-rejects
    "SSN for the background form: [[ssn:987-65-4320]]",
    "Her social security number is [[ssn:987-65-4329]].",
    "ssn [[ssn:512 44 8809]] per the HR file",
    "Employee SSN: [[ssn:219099999]]",
    "SSN# [[ssn:987-65-4325]] on the W-4.",
    "Case number 000-12-3456 was closed.",
    "Part 666-23-1234 is back-ordered.",
    "Call extension 555-12-0000 after noon.",
    # phones
    "Reach me on my cell at [[phone:(202) 555-0143]] tonight.",
    "London office: [[phone:+44 20 7946 0958]]",
    "Fax [[phone:202-555-0187]] the signed copy.",
    "My mobile is [[phone:415.555.0132]].",
    "Call me at [[phone:202.555.0178]] ext. 12 after lunch.",
    "Dial [[phone:1-800-555-0199]] for the hotline.",
    "The meeting is on 2016-05-03 at 10:30 in room 4.",
    "The memo is dated 05-03-2016.",
    "Ticket #20160503 resolved.",
    "Call the hotline between 9:00 and 17:00.",
    "Population 8,336,817 in 2016.",
    "Room 4-1123 on floor 4.",
    "ISBN-13: 9780306406157",
    "Zip code 20001-1234 for the office.",
    # a serial number in a phone number's shape
    "Serial number SN-2016-000123 on the laptop.",
    "Budget line 2016-0503 covers travel.",
    "We raised $1,250,000 in Q2 2016.",
    "Version 10.2.3 of the app fixes the login bug.",
    "ISBN 978-0-306-40615-7 is the second edition.",
    "Message 1420809817.M000003P2016 was archived.",
    "The vote was 212 to 198 on the amendment.",
    # IBAN, routing, passport
    "Wire it to IBAN [[iban:GB82 WEST 1234 5698 7654 32]] by Friday.",
    "German account [[iban:DE89370400440532013000]] for the refund.",
    "IBAN: [[iban:FR14 2004 1010 0505 0001 3M02 606]]",
    "Our routing number is [[routing:011000015]] at the credit union.",
    "ABA [[routing:021000021]], account 12345678.",
    "Room 011000015 is on the tenth floor.",
    "Passport number [[passport:340020013]], issued 2012.",
    "US passport: [[passport:C03005988]]",
    "Batch 340020013 of ballots was counted twice.",
    # e-mail and IP addresses
    "Write to [[email:jane.doe@example.org]] with questions.",
    "cc [[email:r.alvarez@northwind-civic.org]] on the reply.",
    "From the server at [[ip:192.168.1.20]] we saw retries.",
    "Login from IP [[ip:203.0.113.77]] at 3 am.",
    "Server IPv6 [[ip:2001:db8::ff00:42:8329]] dropped it.",
    "See https://example.org/budget/2016 for the numbers.",
    # a four-part version number is a well-formed IPv4 address
    "Version 1.2.3.4 of the firmware is on the stick.",
    "Call the press desk about the story.",
    # dates of birth only next to their cue words
    "DOB: [[dob:03/14/1962]]",
    "Her DOB is [[dob:7/4/1971]].",
    "She was born on [[dob:March 14, 1962]] in Toledo.",
    "Date of birth [[dob:1958-11-02]] per the passport scan.",
    "The filing deadline is 03/14/2016.",
    "Born to run, the campaign starts 2016-06-01.",
    # the case's word lists
    "Dinner with [[persons:Dolores Quint]] and [[persons:Anselm Varga]] on Sunday.",
    "He started [[medical:chemotherapy]] in May; his [[medical:HIV]] status is private.",
    "Quintessential planning for the gala.",
)


def parse(sample: str) -> tuple[str, list[tuple[int, int, str]]]:
    """The text without markers, and the labelled spans (start, end, type)."""
    text, labels, at = "", [], 0
    for match in MARK.finditer(sample):
        text += sample[at : match.start()]
        kind, value = match.group(1), match.group(2)
        labels.append((len(text), len(text) + len(value), kind))
        text += value
        at = match.end()
    return text + sample[at:], labels


def score(detector: Detector) -> dict[str, dict[str, int]]:
    """Per type: true positives, false positives, false negatives over SAMPLES."""
    counts: dict[str, Counter[str]] = {}
    for sample in SAMPLES:
        text, labels = parse(sample)
        hits = detector.find(text)
        matched: set[int] = set()
        for hit in hits:
            tally = counts.setdefault(hit.type, Counter())
            same = [
                i
                for i, (start, end, kind) in enumerate(labels)
                if kind == hit.type and hit.start < end and start < hit.end
            ]
            if same:
                tally["tp"] += 1
                matched.update(same)
            else:
                tally["fp"] += 1
        for i, (_start, _end, kind) in enumerate(labels):
            if i not in matched:
                counts.setdefault(kind, Counter())["fn"] += 1
    return {kind: {k: c[k] for k in ("tp", "fp", "fn")} for kind, c in sorted(counts.items())}


@pytest.fixture(scope="module")
def detector() -> Detector:
    return Detector(WORDS)


def test_every_labelled_value_is_found(detector: Detector) -> None:
    missed = {kind: c["fn"] for kind, c in score(detector).items() if c["fn"]}
    assert missed == {}


def false_positives(detector: Detector) -> set[tuple[str, str]]:
    found = set()
    for sample in SAMPLES:
        text, labels = parse(sample)
        for hit in detector.find(text):
            if not any(k == hit.type and hit.start < e and s < hit.end for s, e, k in labels):
                found.add((hit.type, hit.value))
    return found


def test_look_alikes_are_not_reported(detector: Detector) -> None:
    """Only the three look-alikes no pattern can tell apart are reported."""
    assert false_positives(detector) == {
        ("card", "4000 1234 5678 9017"),
        ("ip", "1.2.3.4"),
        ("phone", "2016-000123"),
    }


def test_the_reserved_ssn_range_is_found_whole() -> None:
    detector = Detector()
    for last in range(10):
        value = f"987-65-432{last}"
        hits = detector.find(f"SSN for the background form: {value}")
        assert [(h.type, h.value) for h in hits] == [("ssn", value)]


def test_found_values_carry_their_offsets_and_scores(detector: Detector) -> None:
    text = "Card on file: 4111 1111 1111 1111; call (202) 555-0143."
    hits = detector.find(text)
    assert [(h.type, text[h.start : h.end]) for h in hits] == [
        ("card", "4111 1111 1111 1111"),
        ("phone", "(202) 555-0143"),
    ]
    card: Hit = hits[0]
    assert card.score == 1.0  # Luhn-checked
    assert 0.4 <= hits[1].score < 1.0  # a cue word ("call") raised it


def test_keys_make_one_value_of_its_spellings() -> None:
    assert normalise("card", "4111-1111 1111-1111") == "4111111111111111"
    assert normalise("ssn", "987 65 4320") == normalise("ssn", "987-65-4320")
    assert normalise("iban", "gb82 west 1234 5698 7654 32") == "GB82WEST12345698765432"
    assert normalise("email", "Jane.Doe@Example.org") == "jane.doe@example.org"


def test_word_lists_change_the_version() -> None:
    assert detector_version({}) == "1"
    one = detector_version({"persons": ["A B"]})
    assert one.startswith("1+") and one != detector_version({"persons": ["A C"]})
    assert one == detector_version({"persons": ["A B"]})


def test_detection_needs_no_network_and_writes_no_cache(tmp_path: Path) -> None:
    """In a fresh process with no network at all (every socket refused) and an empty home:
    the e-mail check uses the bundled suffix list and nothing is written."""
    script = (
        "import socket\n"
        "def refuse(*a, **k): raise OSError('no network in this test')\n"
        "socket.socket.connect = refuse\n"
        "socket.create_connection = refuse\n"
        "from strongroom.pii.detect import Detector\n"
        "hits = Detector().find('write to jane.doe@example.org or x@nowhere.invalidtld')\n"
        "print([(h.type, h.value) for h in hits])\n"
    )
    env = {**os.environ, "HOME": str(tmp_path), "XDG_CACHE_HOME": str(tmp_path / "cache")}
    env.pop("TLDEXTRACT_CACHE", None)
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[('email', 'jane.doe@example.org')]"
    assert list(tmp_path.rglob("*")) == []

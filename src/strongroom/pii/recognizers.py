"""Four of presidio's recognizers, adjusted to run offline, to treat every SSN alike,
to read dates written out, and to look for phone numbers only where digits are."""

from __future__ import annotations

import re
from typing import cast

from presidio_analyzer import EntityRecognizer, Pattern, RecognizerResult
from presidio_analyzer.nlp_engine import NlpArtifacts
from presidio_analyzer.predefined_recognizers import (
    DateRecognizer,
    EmailRecognizer,
    PhoneRecognizer,
    UsSsnRecognizer,
)
from tldextract import TLDExtract

# The public-suffix list bundled with tldextract: no URL to fetch, no cache to write.
_OFFLINE_SUFFIXES = TLDExtract(cache_dir=None, suffix_list_urls=(), fallback_to_snapshot=True)

# Presidio rejects these as "canonical sample" numbers. 987-65-4320 is one of ten numbers
# (987-65-4320..4329) reserved for examples, and presidio accepts the other nine; a number of
# that shape written in a mail is to be reviewed like any other.
_SAMPLE_REJECTED = frozenset({"987654320"})


class SsnRecognizer(UsSsnRecognizer):
    """presidio's US SSN recognizer without its rejection of 987-65-4320."""

    def invalidate_result(self, pattern_text: str) -> bool:
        digits = "".join(c for c in pattern_text if c.isdigit())
        if digits in _SAMPLE_REJECTED:
            # every other check (same delimiters, no zero groups, no 000/666 area) still applies
            return bool(super().invalidate_result(pattern_text[:-1] + "1"))
        return bool(super().invalidate_result(pattern_text))


class OfflineEmailRecognizer(EmailRecognizer):
    """presidio's e-mail recognizer, its domain checked against the bundled suffix list."""

    def validate_result(self, pattern_text: str) -> bool:
        return _OFFLINE_SUFFIXES(pattern_text).fqdn != ""


_MONTH = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
)
_DAY = r"(?:0?[1-9]|[12]\d|3[01])(?:st|nd|rd|th)?"


_WRITTEN_OUT = [
    Pattern("Month d, yyyy", rf"\b{_MONTH}\s+{_DAY},?\s+(?:19|20)\d\d\b", 0.6),
    Pattern("d Month yyyy", rf"\b{_DAY}\s+(?:of\s+)?{_MONTH},?\s+(?:19|20)\d\d\b", 0.6),
]


class DobDateRecognizer(DateRecognizer):
    """presidio's dates plus dates written out ("March 14, 1962", "14 March 1962"), the way a
    date of birth is often given; the detector keeps a date only next to a birth cue word."""

    def __init__(self) -> None:
        super().__init__(patterns=[*DateRecognizer.PATTERNS, *_WRITTEN_OUT])


# A stretch that could hold a phone number: 7 to 15 digits with the separators people write.
_PHONE_CANDIDATE = re.compile(r"\+?\(?\d[\d \t().\-/]{5,24}\d")
_PAD = 3  # characters kept around a candidate: the matcher looks at a match's neighbours


class CandidatePhoneRecognizer(PhoneRecognizer):
    """presidio's phone recognizer run only over stretches that could hold a number.

    phonenumbers' matcher tries every digit group of a text in every region, and was most of
    a scan's time on mail; stretches with fewer than 7 digits can hold no phone number."""

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None
    ) -> list[RecognizerResult]:
        artifacts = cast(NlpArtifacts, nlp_artifacts)  # presidio's own default is None too
        results: list[RecognizerResult] = []
        for start, end in _candidates(text):
            lo, hi = max(0, start - _PAD), min(len(text), end + _PAD)
            for result in super().analyze(text[lo:hi], entities, artifacts):
                result.start += lo
                result.end += lo
                results.append(result)
        return list(EntityRecognizer.remove_duplicates(results))


def _candidates(text: str) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    for match in _PHONE_CANDIDATE.finditer(text):
        digits = sum(c.isdigit() for c in match.group())
        if digits >= 7:
            start, end = match.span()
            if spans and start <= spans[-1][1] + _PAD:
                spans[-1] = (spans[-1][0], end)
            else:
                spans.append((start, end))
    return spans

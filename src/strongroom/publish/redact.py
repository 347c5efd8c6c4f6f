"""Finding and replacing redacted values in text, however they are formatted.

A value made of digits (a card number, an SSN, a phone number) is matched by its digits alone,
with any short run of spaces, dashes, dots or slashes between them and full-width digits
accepted: `4111 1111 1111 1111`, `4111-1111-1111-1111` and `4111111111111111` are one value.
Other values match case-insensitively with any whitespace between their words. Matching does not
require word boundaries: over-redacting a longer number is the safe mistake.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from strongroom.pii.plan import RedactionPlan

MIN_DIGITS = 6  # shorter all-digit values match literally, at word boundaries
_SEPARATOR = r"[\s\-\u2010-\u2015./]{0,3}"
_NOT_SEPARATOR = re.compile(r"[\s\-\u2010-\u2015./()+]")
_ASCII_DIGITS = frozenset("0123456789")
_FULLWIDTH = {chr(0xFF10 + d): str(d) for d in range(10)}


def digits_of(text: str) -> str:
    """The ASCII digits of `text` (full-width digits folded), nothing else."""
    return "".join(_FULLWIDTH.get(ch, ch) for ch in text if ch in _ASCII_DIGITS or ch in _FULLWIDTH)


def is_digit_value(value: str) -> bool:
    compact = _NOT_SEPARATOR.sub("", value)
    return compact.isascii() and compact.isdigit() and len(compact) >= MIN_DIGITS


def _words_key(text: str) -> str:
    return " ".join(text.casefold().split())


def word_pattern(value: str) -> str:
    words = value.split()
    body = r"\s+".join(re.escape(word) for word in words)
    before = r"(?<!\w)" if re.match(r"\w", words[0]) else ""
    after = r"(?!\w)" if re.search(r"\w$", words[-1]) else ""
    return before + body + after


# A run of digits with at most three separators between any two: every digit value is looked
# for inside such runs by its digits alone, so one linear scan serves any number of values.
_DIGIT = "0-9\uff10-\uff19"
_RUN = re.compile(rf"[{_DIGIT}](?:{_SEPARATOR}[{_DIGIT}])*")

_NON_DIGIT = re.compile(rf"[^{_DIGIT}]+")
_FOLD = str.maketrans({chr(0xFF10 + d): str(d) for d in range(10)})
Span = tuple[int, int, str]  # start, end, the value found there


@dataclass
class Redactor:
    """Replaces every occurrence of a set of values with its plan's label."""

    values: frozenset[str]
    plan: RedactionPlan
    _by_digits: dict[str, str] = field(default_factory=dict, init=False, repr=False)
    _by_words: dict[str, str] = field(default_factory=dict, init=False, repr=False)
    _lengths: list[int] = field(default_factory=list, init=False, repr=False)
    _words: re.Pattern[str] | None = field(default=None, init=False, repr=False)
    _digits: re.Pattern[str] | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        values = sorted((v for v in self.values if v.strip()), key=len, reverse=True)
        for value in values:
            if is_digit_value(value):
                self._by_digits.setdefault(digits_of(value), value)
            else:
                self._by_words.setdefault(_words_key(value), value)
        self._lengths = sorted({len(d) for d in self._by_digits}, reverse=True)
        if self._by_digits:  # longest first: at one position the longest value wins
            ordered = sorted(self._by_digits, key=len, reverse=True)
            self._digits = re.compile("|".join(ordered))
        words = [v for v in values if not is_digit_value(v)]
        if words:
            self._words = re.compile("|".join(word_pattern(v) for v in words), re.IGNORECASE)

    def __bool__(self) -> bool:
        return bool(self._by_digits) or self._words is not None

    def _digit_spans(self, text: str, first: bool) -> list[Span]:
        spans: list[Span] = []
        if self._digits is None:
            return spans
        # The digits of the whole text hold those of every run: when no value is among them
        # (nearly always), the runs need not be looked at one by one.
        if not self._digits.search(_NON_DIGIT.sub("", text).translate(_FOLD)):
            return spans
        shortest = self._lengths[-1]
        for run in _RUN.finditer(text):
            chunk = run.group(0)
            if len(chunk) < shortest:
                continue
            digits = digits_of(chunk)
            hits = list(self._digits.finditer(digits))
            if not hits:
                continue
            at = [i for i, ch in enumerate(chunk) if ch in _ASCII_DIGITS or ch in _FULLWIDTH]
            for hit in hits:
                start, end = run.start() + at[hit.start()], run.start() + at[hit.end() - 1] + 1
                spans.append((start, end, self._by_digits[hit.group(0)]))
                if first:
                    return spans
        return spans

    def _spans(self, text: str, first: bool = False) -> list[Span]:
        spans = self._digit_spans(text, first)
        if self._words is not None and not (first and spans):
            for match in self._words.finditer(text):
                value = self._by_words.get(_words_key(match.group(0)), match.group(0))
                spans.append((match.start(), match.end(), value))
                if first:
                    break
        spans.sort(key=lambda span: (span[0], -span[1]))
        kept: list[Span] = []
        for span in spans:  # overlapping finds: the earlier (then longer) one wins
            if not kept or span[0] >= kept[-1][1]:
                kept.append(span)
            elif span[1] > kept[-1][1]:  # extend so that no part of either is left showing
                kept[-1] = (kept[-1][0], span[1], kept[-1][2])
        return kept

    def redact(self, text: str) -> tuple[str, int]:
        """The text with every value replaced, and how many replacements were made."""
        if not self or not text:
            return text, 0
        spans = self._spans(text)
        if not spans:
            return text, 0
        out: list[str] = []
        end = 0
        for start, stop, value in spans:
            out += [text[end:start], self.plan.label(value)]
            end = stop
        out.append(text[end:])
        return "".join(out), len(spans)

    def clean(self, text: str | None) -> str:
        return self.redact(text or "")[0]

    def found(self, text: str) -> bool:
        return bool(self) and bool(text) and bool(self._spans(text, first=True))

    def found_in_bytes(self, data: bytes) -> bool:
        """Whether the bytes hold a value as ASCII/Latin-1, UTF-8 or UTF-16 text."""
        if not self or not data:
            return False
        views = [data.decode("latin-1"), data.decode("utf-8", "replace")]
        if data.count(b"\x00") > len(data) // 8:  # perhaps UTF-16 text
            views += [data.decode("utf-16-le", "replace"), data.decode("utf-16-be", "replace")]
        return any(self.found(view) for view in views)


class Redactors:
    """One compiled redactor per distinct set of values (most items share the same set)."""

    def __init__(self, plan: RedactionPlan) -> None:
        self.plan = plan
        self._cache: dict[frozenset[str], Redactor] = {}

    def for_items(self, nums: list[int]) -> Redactor:
        values = self.plan.values_for(nums)
        if values not in self._cache:
            self._cache[values] = Redactor(values, self.plan)
        return self._cache[values]

    def every_value(self) -> Redactor:
        """Every value the plan names anywhere: for what belongs to no item (the manifest)."""
        values = set(self.plan.everywhere)
        for item_values in self.plan.by_item.values():
            values |= item_values
        return self._cache.setdefault(frozenset(values), Redactor(frozenset(values), self.plan))

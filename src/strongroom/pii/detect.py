"""Finding personal data in text with presidio-analyzer's pattern recognizers, offline.

No NLP model is loaded (`NoOpNlpEngine`), and the e-mail recognizer's domain check uses the
public-suffix list bundled with tldextract, never fetched. Without a model presidio cannot use
the words around a match (its context enhancer reads NLP tokens), so `Detector` does that
itself: a cue word shortly before (or just after) a match raises its score the way presidio's
enhancer would, and the weakest types (passport, routing number, date of birth) are kept only
with a cue.

Presidio's SSN recognizer rejects 987-65-4320 as a published sample number while accepting
987-65-4321..4329, the rest of the same range reserved for examples; a number of that shape
in a mail is to be reviewed like any other, so `SsnRecognizer` drops only that rejection.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Collection
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    from presidio_analyzer import AnalyzerEngine

# Bump when a change must rescan every item.
DETECTOR_VERSION = 1


class PiiType(NamedTuple):
    entity: str  # presidio's entity name
    minimum: float  # lowest score kept
    needs_cue: bool  # kept only with a cue word nearby
    cues: tuple[str, ...]
    # In every message's headers (addresses, IPs): searchable as pii:<type>, but not enough to
    # make an item `is:pii`, or the flag would mark nearly every email.
    routine: bool = False


TYPES: dict[str, PiiType] = {
    "card": PiiType(
        "CREDIT_CARD",
        0.3,
        False,
        ("card", "credit", "visa", "mastercard", "amex", "discover", "cc", "cvv"),
    ),
    "ssn": PiiType(
        "US_SSN", 0.4, False, ("ssn", "ssns", "social security", "ss#", "ssn#", "soc sec")
    ),
    "phone": PiiType(
        "PHONE_NUMBER",
        0.4,
        False,
        ("phone", "tel", "telephone", "cell", "mobile", "call", "fax", "ph"),
    ),
    "iban": PiiType("IBAN_CODE", 0.5, False, ("iban", "bank", "account")),
    "routing": PiiType(
        "ABA_ROUTING_NUMBER",
        0.05,
        True,
        ("routing", "aba", "rtn", "routing number", "transit number"),
    ),
    "passport": PiiType("US_PASSPORT", 0.05, True, ("passport", "passport#", "passport no")),
    "email": PiiType("EMAIL_ADDRESS", 0.5, False, ("email", "e-mail", "mail"), routine=True),
    "ip": PiiType("IP_ADDRESS", 0.5, False, ("ip", "ipv4", "ipv6", "address"), routine=True),
    "dob": PiiType(
        "DATE_TIME",
        0.1,
        True,
        ("dob", "d.o.b", "born", "date of birth", "birth date", "birthdate", "birthday"),
    ),
}
ROUTINE_TYPES = frozenset(kind for kind, spec in TYPES.items() if spec.routine)
# National formats are tried for these regions (numbers written with +country are found for
# any); Canada shares the US plan. Each region is a full pass of phonenumbers' matcher over the
# text, the slowest step of a scan, so the list is short.
PHONE_REGIONS = ("US", "GB", "DE", "FR")
WORDS_ENTITY = "STRONGROOM_WORDS_"
WORD_LIST_NAME = re.compile(r"^[a-z][a-z0-9-]{0,31}$")
CUE_BEFORE = 48  # characters before a match searched for a cue word
# "born" far before a date is rarely about it ("Born to run, the campaign starts 2016-06-01")
CUE_BEFORE_BY_TYPE = {"dob": 24}
CUE_AFTER = 16
CUE_BOOST = 0.35  # presidio's LemmaContextAwareEnhancer defaults
CUE_MIN = 0.4


@dataclass(frozen=True)
class Hit:
    start: int
    end: int
    type: str
    score: float
    value: str


def detector_version(words: dict[str, list[str]]) -> str:
    """The version stored with findings: the code's, plus a digest of the word lists, so a
    changed list makes the next scan look at every item again."""
    if not words:
        return str(DETECTOR_VERSION)
    digest = hashlib.sha256()
    for name in sorted(words):
        digest.update(name.encode() + b"\0" + "\0".join(sorted(words[name])).encode() + b"\1")
    return f"{DETECTOR_VERSION}+{digest.hexdigest()[:12]}"


def normalise(kind: str, value: str) -> str:
    """The key that makes two ways of writing one value the same (for generalising)."""
    if kind in ("card", "ssn", "phone", "routing"):
        return re.sub(r"\D", "", value)
    if kind in ("iban", "passport"):
        return re.sub(r"\s", "", value).upper()
    return " ".join(value.split()).lower()


def _cue_pattern(words: tuple[str, ...]) -> re.Pattern[str]:
    alternatives = "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))
    return re.compile(rf"(?<![a-z0-9])(?:{alternatives})(?![a-z0-9])", re.IGNORECASE)


class Detector:
    """Pattern recognizers for the built-in types plus one deny-list recognizer per word list."""

    def __init__(self, words: dict[str, list[str]] | None = None) -> None:
        self.words = {name: sorted(set(ws)) for name, ws in (words or {}).items() if ws}
        self.version = detector_version(self.words)
        self._engine = _engine(self.words)
        self._entity_type = {spec.entity: kind for kind, spec in TYPES.items()}
        self._entity_type.update({WORDS_ENTITY + name: name for name in self.words})
        self._entity_of = {kind: entity for entity, kind in self._entity_type.items()}
        self._cues = {kind: _cue_pattern(spec.cues) for kind, spec in TYPES.items()}

    def find(self, text: str, types: Collection[str] | None = None) -> list[Hit]:
        """The values in `text` (of only these `types`, if given), without overlaps."""
        if not text.strip():
            return []
        entities = None if types is None else [self._entity_of[t] for t in types]
        candidates: list[Hit] = []
        for result in self._engine.analyze(text=text, language="en", entities=entities):
            kind = self._entity_type.get(result.entity_type)
            if kind is None:
                continue
            score = float(result.score)
            spec = TYPES.get(kind)
            if spec is not None:
                cued = self._cued(kind, text, result.start, result.end)
                if (
                    spec.needs_cue or _bare_phone(kind, text, result.start, result.end)
                ) and not cued:
                    continue
                if cued:
                    score = min(1.0, max(score + CUE_BOOST, CUE_MIN))
                if score < spec.minimum:
                    continue
            value = text[result.start : result.end]
            if _date_not_phone(kind, value):
                continue
            candidates.append(Hit(result.start, result.end, kind, round(score, 3), value))
        return _without_overlaps(candidates)

    def _cued(self, kind: str, text: str, start: int, end: int) -> bool:
        before = CUE_BEFORE_BY_TYPE.get(kind, CUE_BEFORE)
        window = text[max(0, start - before) : start] + " " + text[end : end + CUE_AFTER]
        return self._cues[kind].search(window) is not None


def _bare_phone(kind: str, text: str, start: int, end: int) -> bool:
    """A run of digits with no separator or + is as often a timestamp or an id as a phone."""
    return kind == "phone" and text[start:end].isdigit()


# 05-03-2016, 2016.05.03: dates that phonenumbers accepts as numbers of some region
_DATE_LIKE = re.compile(
    r"(?:\d{1,2}[-./ ]\d{1,2}[-./ ](?:19|20)\d\d|(?:19|20)\d\d[-./ ]\d{1,2}[-./ ]\d{1,2})"
)


def _date_not_phone(kind: str, value: str) -> bool:
    return kind == "phone" and _DATE_LIKE.fullmatch(value) is not None


def _without_overlaps(hits: list[Hit]) -> list[Hit]:
    """One finding per stretch of text: the best-scored, then the longest."""
    kept: list[Hit] = []
    for hit in sorted(hits, key=lambda h: (-h.score, -(h.end - h.start), h.start, h.type)):
        if all(hit.end <= k.start or hit.start >= k.end for k in kept):
            kept.append(hit)
    return sorted(kept, key=lambda h: (h.start, h.end))


def _engine(words: dict[str, list[str]]) -> AnalyzerEngine:
    # tldextract reads this when imported: an empty list of URLs means the bundled snapshot.
    os.environ["TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS"] = ""
    from presidio_analyzer import AnalyzerEngine, PatternRecognizer, RecognizerRegistry
    from presidio_analyzer.nlp_engine import NoOpNlpEngine
    from presidio_analyzer.predefined_recognizers import (
        AbaRoutingRecognizer,
        CreditCardRecognizer,
        IbanRecognizer,
        IpRecognizer,
        UsPassportRecognizer,
    )

    from strongroom.pii.recognizers import (
        CandidatePhoneRecognizer,
        DobDateRecognizer,
        OfflineEmailRecognizer,
        SsnRecognizer,
    )

    registry = RecognizerRegistry(supported_languages=["en"])
    recognizers: list[Any] = [
        CreditCardRecognizer(),
        SsnRecognizer(),
        CandidatePhoneRecognizer(supported_regions=PHONE_REGIONS),
        IbanRecognizer(),
        AbaRoutingRecognizer(),
        UsPassportRecognizer(),
        OfflineEmailRecognizer(),
        IpRecognizer(),
        DobDateRecognizer(),
    ]
    for name, listed in sorted(words.items()):
        recognizers.append(
            PatternRecognizer(
                supported_entity=WORDS_ENTITY + name,
                name=f"words:{name}",
                # longest first: "Jane Doe" wins over "Jane" in the one alternation
                deny_list=sorted(listed, key=len, reverse=True),
            )
        )
    for recognizer in recognizers:
        registry.add_recognizer(recognizer)
    nlp = NoOpNlpEngine(models=[{"lang_code": "en", "model_name": "none"}])
    return AnalyzerEngine(registry=registry, nlp_engine=nlp, supported_languages=["en"])

"""The language of an item's text, by lingua (offline: its models ship inside the wheel).

Restricted to the languages a dump is likely to hold (below): fewer candidates means fewer
confusions between close relatives on short mail, and less memory. Quoted lines (">") and
addresses are left out, so a reply is judged by what its writer wrote. Text under
MIN_LETTERS letters, or that lingua cannot tell apart from another language, gets no language.
"""

from __future__ import annotations

import re
from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lingua import LanguageDetector

LANGUAGES = (
    "ARABIC", "BULGARIAN", "CATALAN", "CHINESE", "CROATIAN", "CZECH", "DANISH", "DUTCH",
    "ENGLISH", "FINNISH", "FRENCH", "GERMAN", "GREEK", "HEBREW", "HUNGARIAN", "INDONESIAN",
    "ITALIAN", "JAPANESE", "KOREAN", "PERSIAN", "POLISH", "PORTUGUESE", "ROMANIAN", "RUSSIAN",
    "SERBIAN", "SLOVAK", "SPANISH", "SWEDISH", "TURKISH", "UKRAINIAN", "VIETNAMESE", "BOKMAL",
)  # fmt: skip
MIN_LETTERS = 20
SAMPLE_CHARS = 300  # on 2,000 demo mails: 11 decisions differ from 1,000 characters
_NOISE = re.compile(r"\S+@\S+|https?://\S+|www\.\S+")
_QUOTED = re.compile(
    r"^\s*-{3,}\s*Original Message\s*-{3,}|^\s*-{5,}\s*Forwarded by|^On .{4,200}wrote:\s*$",
    re.MULTILINE | re.IGNORECASE,
)


@cache
def detector() -> LanguageDetector:
    from lingua import Language, LanguageDetectorBuilder

    chosen = [getattr(Language, name) for name in LANGUAGES]
    # Low-accuracy mode (trigram models only): its models load in a fraction of the time and
    # memory of the full set (96 MB against 600 MB), and loading dominated every ingest: on
    # 4,000 demo mails 2.3 s against 17.7 s, with 4 of 4,000 decisions differing.
    return (
        LanguageDetectorBuilder.from_languages(*chosen)
        .with_minimum_relative_distance(0.1)
        .with_low_accuracy_mode()
        .build()
    )


def sample(text: str) -> str:
    """What the writer wrote: quoted lines and anything after an Outlook-style quoted
    original ("-----Original Message-----", "On ... wrote:", "Forwarded by") left out,
    unless too little would be left (an "FYI" above a forwarded message)."""
    head = text[: SAMPLE_CHARS * 3]
    if (cut := _QUOTED.search(head)) and _letters(head[: cut.start()]) >= MIN_LETTERS:
        head = head[: cut.start()]
    lines = [line for line in head.splitlines() if not line.lstrip().startswith(">")]
    return _NOISE.sub(" ", "\n".join(lines))[:SAMPLE_CHARS]


def _letters(text: str) -> int:
    return sum(ch.isalpha() for ch in text)


def detect(text: str) -> str | None:
    """The ISO 639-1 code of the text's language, or None."""
    written = sample(text)
    if _letters(written) < MIN_LETTERS:
        return None
    found = detector().detect_language_of(written)
    return None if found is None else found.iso_code_639_1.name.lower()


def detect_many(texts: list[str]) -> list[str | None]:
    """`detect` of each text, lingua working on several at once (its own threads)."""
    samples = [sample(text) for text in texts]
    wanted = [i for i, s in enumerate(samples) if _letters(s) >= MIN_LETTERS]
    found = (
        detector().detect_languages_in_parallel_of([samples[i] for i in wanted]) if wanted else []
    )
    out: list[str | None] = [None] * len(texts)
    for i, language in zip(wanted, found, strict=True):
        out[i] = None if language is None else language.iso_code_639_1.name.lower()
    return out

"""The case's word lists: names of private persons, medical or financial terms, anything a team
wants found. Each list is a type of its own (`pii:NAME`); a changed list changes the detector
version, so the next scan looks at every item again."""

from __future__ import annotations

from pathlib import Path

from strongroom.catalog import audit
from strongroom.catalog import pii_store as store
from strongroom.catalog.store import Catalog
from strongroom.errors import NotFound, UsageError
from strongroom.pii.detect import TYPES, WORD_LIST_NAME


def read_word_file(path: Path) -> list[str]:
    """One word or phrase per line; blank lines and lines starting with # are skipped."""
    try:
        data = path.read_bytes()
    except FileNotFoundError as error:
        raise NotFound(f"word list {path} does not exist") from error
    except OSError as error:
        raise UsageError(f"cannot read word list {path}: {error.strerror or error}") from error
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise UsageError(
            f"word list {path} is not UTF-8 text (byte {error.start})",
            hint="save it as UTF-8, one word or phrase per line",
        ) from error
    words = [" ".join(line.split()) for line in text.splitlines()]
    words = [w for w in words if w and not w.startswith("#")]
    if not words:
        raise UsageError(f"word list {path} has no words (one word or phrase per line)")
    return words


def add_words(catalog: Catalog, name: str, path: Path, actor: str) -> tuple[int, int]:
    """Add the words of a file to list `name`; returns (words in the file, new words)."""
    if not WORD_LIST_NAME.match(name):
        raise UsageError(
            f"list name {name!r} must be lower-case letters, digits and '-' (up to 32)",
            hint="for example: persons, medical, finance",
        )
    if name in TYPES:
        raise UsageError(f"{name!r} is a built-in type; choose another list name")
    words = read_word_file(path)
    added = store.add_words(catalog, name, words, actor)
    audit.record(
        catalog,
        actor,
        "pii.words-add",
        name,
        {"file": str(path), "words": len(words), "new": added},
    )
    return len(words), added


def word_lists(catalog: Catalog) -> dict[str, list[str]]:
    return store.word_lists(catalog)

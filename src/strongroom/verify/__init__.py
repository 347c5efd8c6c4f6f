"""Verification: every DKIM signature and ARC chain of every email, checked against the stored
bytes with keys from an archived keyring, judged at the message's own time.

The library API the `Case` delegates to: `import_keys`, `list_keys`, `verify_case`,
`verification` (one email's results, for `show --json`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from strongroom.catalog import verify_store
from strongroom.catalog.store import Catalog
from strongroom.errors import NotFound, UsageError
from strongroom.verify.keyring import KeyringError, parse_when, parse_zone
from strongroom.verify.run import VerifyProgress, VerifyStats, verify_case, verify_email

__all__ = [
    "KeyImport",
    "VerifyProgress",
    "VerifyStats",
    "import_keys",
    "list_keys",
    "verification",
    "verify_case",
    "verify_email",
]


@dataclass(frozen=True)
class KeyImport:
    path: str
    added: int
    already_present: int
    skipped: list[tuple[int, str]]  # (line, why) of lines that are not DKIM key records

    def to_json(self) -> dict[str, Any]:
        return {
            "file": self.path,
            "added": self.added,
            "already_present": self.already_present,
            "skipped": [{"line": line, "reason": why} for line, why in self.skipped],
        }


def import_keys(
    catalog: Catalog, path: Path, valid_from: str | None = None, valid_to: str | None = None
) -> KeyImport:
    """Add the DKIM key records of a zone file to the keyring, valid in the period given."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError as error:
        raise NotFound(f"key file {path} does not exist") from error
    except OSError as error:
        raise UsageError(f"cannot read {path}: {error.strerror or error}") from error
    try:
        low = parse_when(valid_from) if valid_from else ""
        high = parse_when(valid_to, end_of_day=True) if valid_to else ""
    except KeyringError as error:
        raise UsageError(str(error)) from error
    if low and high and high < low:
        raise UsageError("--valid-to is before --valid-from")
    parsed = parse_zone(text)
    if not parsed.entries:
        raise UsageError(
            f"{path} holds no DKIM key record",
            hint='expected lines like: sel._domainkey.example.org. IN TXT "v=DKIM1; k=rsa; p=..."',
        )
    added, present = verify_store.add_keys(
        catalog,
        ((e.domain, e.selector, e.record) for e in parsed.entries),
        f"import: {path.name}",
        low,
        high,
    )
    return KeyImport(str(path), added, present, parsed.skipped)


def list_keys(catalog: Catalog) -> list[dict[str, Any]]:
    return [
        {**row, "valid_from": row["valid_from"] or None, "valid_to": row["valid_to"] or None}
        for row in verify_store.key_rows(catalog)
    ]


def verification(catalog: Catalog, num: int) -> dict[str, Any] | None:
    return verify_store.verification(catalog, num)

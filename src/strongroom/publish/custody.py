"""The custody manifest a release carries: the case's manifest of every original, signed with the
case's custody key when it has one, and said to be unsigned when it has none."""

from __future__ import annotations

import hashlib
import shutil
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from strongroom import __version__
from strongroom.case import Case
from strongroom.custody import export_manifest, keys, record_custody
from strongroom.custody.manifest import FORMAT, _item_lines, dumps
from strongroom.custody.merkle import MerkleBuilder
from strongroom.publish.redact import Redactor

KEY_FOLDER = "custody"  # where `strongroom custody keygen` puts the case's key
MANIFEST = "manifest.jsonl"
PUBLIC_HEX = "custody.pub.hex"


@dataclass
class CustodyOutcome:
    summary: dict[str, Any]
    key: Ed25519PrivateKey | None = field(default=None, repr=False)

    def sign(self, data: bytes) -> bytes | None:
        """A detached signature file for `data` (the release manifest), if there is a key."""
        if self.key is None:
            return None
        public = keys.raw_public(self.key.public_key())
        return (
            dumps(
                {
                    "type": "signature",
                    "algorithm": "ed25519",
                    "signed": "release.json",
                    "public_key": public.hex(),
                    "key_fingerprint": keys.fingerprint(public),
                    "signature": self.key.sign(data).hex(),
                }
            )
            + b"\n"
        )


def _unsigned(case: Case, out: Path) -> dict[str, Any]:
    """The same item lines and trailer as a signed manifest, with no signature line."""
    builder = MerkleBuilder()
    with out.open("wb") as handle:
        for line in _item_lines(case.catalog):
            builder.add(line)
            handle.write(line + b"\n")
        trailer = {
            "type": "trailer",
            "format": FORMAT,
            "items": builder.count,
            "merkle_root": builder.root().hex(),
            "created_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "tool_version": __version__,
            "signed": False,
        }
        handle.write(dumps(trailer) + b"\n")
    return {"items": builder.count, "merkle_root": builder.root().hex()}


def default_key(case: Case) -> Path | None:
    """The case's signing key, where `strongroom custody keygen` puts it, if it is there."""
    path = case.key_dir / keys.PRIVATE_NAME
    return path if path.exists() else None


def write_custody(
    case: Case, folder: Path, redactor: Redactor, key_path: Path | None
) -> CustodyOutcome:
    """Write the manifest (and the public key) into `folder`, unless it shows a value."""
    record_custody(case.catalog)
    key = keys.load_private(key_path) if key_path is not None else None
    with tempfile.TemporaryDirectory() as scratch:
        made = Path(scratch) / MANIFEST
        if key is not None:
            exported = export_manifest(case.catalog, made, key)
            summary: dict[str, Any] = {
                "signed": True,
                "items": exported["items"],
                "merkle_root": exported["merkle_root"],
                "key_fingerprint": exported["key_fingerprint"],
                "public_key": f"{KEY_FOLDER}/{PUBLIC_HEX}",
            }
        else:
            summary = {"signed": False, **_unsigned(case, made), "key_fingerprint": None}
        data = made.read_bytes()
        summary["sha256"] = hashlib.sha256(data).hexdigest()
        if redactor.found_in_bytes(data):
            # The manifest names where each original was found; a path or locator that shows a
            # redacted value withholds the whole manifest (its signature covers every line).
            return CustodyOutcome(
                {**summary, "withheld": "a source path in it shows a redacted value"}, None
            )
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(made, folder / MANIFEST)
    summary["manifest"] = f"{KEY_FOLDER}/{MANIFEST}"
    if key is not None:
        public = keys.raw_public(key.public_key())
        (folder / PUBLIC_HEX).write_text(public.hex() + "\n", encoding="ascii")
    return CustodyOutcome(summary, key)

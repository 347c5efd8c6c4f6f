"""Custody manifests: every item's hash and origins, a Merkle root, an Ed25519 signature.

A manifest is UTF-8 text (in fact ASCII), lines ending in LF:

    one line per item, by item number  {"kind":..,"locations":[..],"num":..,"sha256":..,"size":..}
    a trailer line                      {"created_at":..,"format":..,"items":..,"merkle_root":..}
    a signature line                    {"algorithm":"ed25519",..,"signature":..}

JSON with sorted keys, no spaces, non-ASCII escaped. The Merkle root is over the item lines'
exact bytes (see `merkle.py`); the signature is over the trailer line's exact bytes, so a checker
never re-serialises anything. `docs/custody.md` gives the byte layouts for re-implementers.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select

from strongroom import __version__
from strongroom.blobs import sha256_file
from strongroom.catalog import Catalog
from strongroom.catalog import schema as s
from strongroom.custody import keys
from strongroom.custody.events import append_events, make_event
from strongroom.custody.merkle import MerkleBuilder

FORMAT = "strongroom-custody-manifest/1"
_HEX64 = re.compile(r"^[0-9a-f]{64}$")


def dumps(value: dict[str, Any]) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


# -- export ---------------------------------------------------------------------------------
def _item_lines(catalog: Catalog) -> Iterator[bytes]:
    query = (
        select(
            s.items.c.num,
            s.items.c.sha256,
            s.items.c.size,
            s.items.c.kind,
            s.locations.c.locator,
            s.locations.c.parent_num,
            s.inputs.c.path,
        )
        .select_from(
            s.items.outerjoin(s.locations, s.locations.c.item_num == s.items.c.num).outerjoin(
                s.inputs, s.inputs.c.id == s.locations.c.input_id
            )
        )
        .order_by(s.items.c.num, s.locations.c.id)
    )
    current: dict[str, Any] | None = None
    with catalog.engine.connect() as conn:
        for row in conn.execution_options(yield_per=10_000).execute(query):
            if current is None or current["num"] != row.num:
                if current is not None:
                    yield dumps(current)
                current = {
                    "num": row.num,
                    "sha256": row.sha256,
                    "size": row.size,
                    "kind": row.kind,
                    "locations": [],
                }
            if row.locator is not None:
                current["locations"].append(
                    {"path": row.path, "parent": row.parent_num or None, "locator": row.locator}
                )
    if current is not None:
        yield dumps(current)


def export_manifest(catalog: Catalog, out: Path, key: Ed25519PrivateKey) -> dict[str, Any]:
    """Write a signed manifest of every item to `out` (atomically); log the export."""
    public = keys.raw_public(key.public_key())
    builder = MerkleBuilder()
    out.parent.mkdir(parents=True, exist_ok=True)
    descriptor, tmp_name = tempfile.mkstemp(dir=out.parent, prefix=".manifest-")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            for line in _item_lines(catalog):
                builder.add(line)
                handle.write(line + b"\n")
            trailer = dumps(
                {
                    "type": "trailer",
                    "format": FORMAT,
                    "items": builder.count,
                    "merkle_root": builder.root().hex(),
                    "created_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                    "tool_version": __version__,
                    "public_key": public.hex(),
                    "key_fingerprint": keys.fingerprint(public),
                }
            )
            signature = dumps(
                {
                    "type": "signature",
                    "algorithm": "ed25519",
                    "signed": "trailer",
                    "public_key": public.hex(),
                    "key_fingerprint": keys.fingerprint(public),
                    "signature": key.sign(trailer).hex(),
                }
            )
            handle.write(trailer + b"\n" + signature + b"\n")
        tmp.replace(out)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    summary = {
        "manifest": str(out),
        "items": builder.count,
        "merkle_root": builder.root().hex(),
        "key_fingerprint": keys.fingerprint(public),
    }
    append_events(catalog, [make_event("manifest-exported", detail=summary)])
    return summary


# -- check ----------------------------------------------------------------------------------
@dataclass
class CheckResult:
    manifest: str
    errors: list[str] = field(default_factory=list)
    items: int = 0
    merkle_root: str | None = None
    created_at: str | None = None
    key_fingerprint: str | None = None
    key_pinned: bool | None = None  # None: no --pubkey given
    signed: bool = True  # False: the trailer says no key signed it (a release made without one)
    signature_ok: bool = False
    root_ok: bool = False
    files: dict[str, Any] | None = None  # with --blobs: present, missing, unknown

    @property
    def valid(self) -> bool:
        return not self.errors and self.signature_ok and self.root_ok

    def to_json(self) -> dict[str, Any]:
        data = dict(self.__dict__)
        data["valid"] = self.valid
        return data


def _json_line(line: bytes, what: str, result: CheckResult) -> dict[str, Any] | None:
    try:
        value = json.loads(line)
    except ValueError:
        result.errors.append(f"{what} is not JSON")
        return None
    if not isinstance(value, dict):
        result.errors.append(f"{what} is not a JSON object")
        return None
    return value


def _check_signature(
    trailer_line: bytes, trailer: dict[str, Any], sig: dict[str, Any], result: CheckResult
) -> bytes | None:
    try:
        public = bytes.fromhex(str(sig.get("public_key")))
        signature = bytes.fromhex(str(sig.get("signature")))
    except ValueError:
        result.errors.append("the signature line's public_key or signature is not hex")
        return None
    if sig.get("algorithm") != "ed25519" or sig.get("type") != "signature":
        result.errors.append("the last line is not an ed25519 signature block")
    if trailer.get("public_key") != public.hex():
        result.errors.append("the trailer names a different public key than the signature")
    if sig.get("key_fingerprint") != keys.fingerprint(public):
        result.errors.append("the key fingerprint does not match the public key")
    result.key_fingerprint = keys.fingerprint(public)
    result.signature_ok = keys.verify(public, signature, trailer_line)
    if not result.signature_ok:
        result.errors.append("the signature does not verify: the trailer was altered or forged")
    return public


class _ItemLines:
    """Item lines fed one at a time: the Merkle root, their validity, a sha256 index."""

    MAX_ERRORS = 100

    def __init__(self, result: CheckResult, index: bool) -> None:
        self.result = result
        self.builder = MerkleBuilder()
        self.by_sha: dict[str, list[int]] | None = {} if index else None
        self.last = 0
        self.bad = 0

    def _error(self, text: str) -> None:
        self.bad += 1
        if self.bad <= self.MAX_ERRORS:
            self.result.errors.append(text)

    def add(self, line: bytes) -> None:
        self.builder.add(line)
        position = self.builder.count
        try:
            entry = json.loads(line)
        except ValueError:
            self._error(f"line {position} is not JSON")
            return
        num = entry.get("num") if isinstance(entry, dict) else None
        sha = entry.get("sha256") if isinstance(entry, dict) else None
        if not isinstance(num, int) or not isinstance(sha, str) or not _HEX64.match(sha):
            self._error(f"line {position} lacks a valid num or sha256")
            return
        if num <= self.last:
            self._error(f"line {position}: item {num} out of order")
        self.last = num
        if self.by_sha is not None:
            self.by_sha.setdefault(sha, []).append(num)

    def finish(self) -> None:
        if self.bad > self.MAX_ERRORS:
            self.result.errors.append(f"... and {self.bad - self.MAX_ERRORS} more bad lines")


def check_manifest(
    path: Path, blobs_dir: Path | None = None, pinned_key: bytes | None = None
) -> CheckResult:
    """Everything a third party can confirm with the manifest alone (and optional files).
    Streams the file: memory stays small unless `blobs_dir` needs the index of hashes."""
    result = CheckResult(manifest=str(path))
    items = _ItemLines(result, index=blobs_dir is not None)
    tail: deque[bytes] = deque()  # the last two lines seen: the trailer and signature
    ends_with_newline = True
    saw_cr = False
    with path.open("rb") as handle:
        for raw in handle:
            ends_with_newline = raw.endswith(b"\n")
            line = raw[:-1] if ends_with_newline else raw
            saw_cr = saw_cr or b"\r" in line
            tail.append(line)
            if len(tail) > 2:
                items.add(tail.popleft())
    result.signed = not (tail and _unsigned_trailer(tail[-1]))
    while not result.signed and len(tail) > 1:  # no signature line: the rest are items
        items.add(tail.popleft())
    items.finish()
    if saw_cr:
        result.errors.append("the manifest contains CR characters (line endings were changed)")
    if not ends_with_newline:
        result.errors.append("the manifest does not end with a newline (truncated?)")
    if not result.signed:
        trailer = _json_line(tail[0], "the trailer line", result) or {}
        result.errors.append(
            "the manifest is unsigned (made without a custody key): its lines can be checked "
            "against its Merkle root, but no key vouches for them"
        )
        public = None
    elif len(tail) < 2:
        result.errors.append("the manifest has no trailer and signature lines")
        return result
    else:
        trailer_line, signature_line = tail
        trailer = _json_line(trailer_line, "the trailer line", result) or {}
        sig = _json_line(signature_line, "the signature line", result) or {}
        public = _check_signature(trailer_line, trailer, sig, result)
    if trailer.get("type") != "trailer" or trailer.get("format") != FORMAT:
        result.errors.append(f"the trailer is not a {FORMAT} trailer")
    if pinned_key is not None:
        result.key_pinned = public == pinned_key
        if not result.key_pinned and result.signed:
            result.errors.append("signed with a different key than the one given with --pubkey")
    result.created_at = trailer.get("created_at")
    result.items = items.builder.count
    result.merkle_root = items.builder.root().hex()
    result.root_ok = result.merkle_root == trailer.get("merkle_root")
    if not result.root_ok:
        result.errors.append("the Merkle root of the item lines differs from the signed root")
    if trailer.get("items") != result.items:
        result.errors.append(
            f"the trailer counts {trailer.get('items')} items, found {result.items}"
        )
    if blobs_dir is not None and items.by_sha is not None:
        result.files = _match_files(blobs_dir, items.by_sha)
    return result


def _unsigned_trailer(line: bytes) -> bool:
    try:
        value = json.loads(line)
    except ValueError:
        return False
    return (
        isinstance(value, dict) and value.get("type") == "trailer" and value.get("signed") is False
    )


def _match_files(directory: Path, by_sha: dict[str, list[int]]) -> dict[str, Any]:
    present: set[int] = set()
    unknown: list[str] = []
    matched: list[dict[str, Any]] = []
    for file in sorted(p for p in directory.rglob("*") if p.is_file()):
        sha, _size = sha256_file(file)
        if sha in by_sha:
            present.update(by_sha[sha])
            matched.append({"file": str(file), "items": by_sha[sha]})
        else:
            unknown.append(str(file))
    every = sorted(n for numbers in by_sha.values() for n in numbers)
    return {
        "present": sorted(present),
        "missing": [n for n in every if n not in present],
        "unknown": unknown,
        "matched": matched,
    }

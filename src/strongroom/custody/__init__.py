"""Chain of custody: an append-only event log written from the catalog, signed manifests that
outsiders can check without the case, and re-hashing of the stored blobs.

- `record_custody(catalog)`: log `ingested` (and failure) events the log lacks; idempotent.
- `verify_blobs(catalog, blobs)`: re-hash every item's bytes, log and report changed/missing.
- `export_manifest(catalog, out, key)` / `check_manifest(path, blobs_dir, pinned_key)`.
- `keys.generate(dir)`, `keys.load_private(path)`, `keys.load_public(path)`.
The format is documented in docs/custody.md.
"""

from __future__ import annotations

from strongroom.custody import keys
from strongroom.custody.events import BlobReport, custody_log, record_custody, verify_blobs
from strongroom.custody.manifest import CheckResult, check_manifest, export_manifest

__all__ = [
    "BlobReport",
    "CheckResult",
    "check_manifest",
    "custody_log",
    "export_manifest",
    "keys",
    "record_custody",
    "verify_blobs",
]

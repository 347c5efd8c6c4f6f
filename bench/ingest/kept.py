"""Check that a case keeps every byte of a Maildir: each message file is in the blob store,
under the sha256 of its bytes, and the stored blob hashes to that name.

Usage: kept.py MAILDIR CASE   (prints one JSON object)
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

CHUNK = 1024 * 1024


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def main() -> int:
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    maildir, case = Path(sys.argv[1]), Path(sys.argv[2])
    files = sorted(p for sub in ("cur", "new") for p in (maildir / sub).glob("*") if p.is_file())
    kept, missing, total = 0, [], 0
    for path in files:
        total += path.stat().st_size
        sha = sha256_of(path)
        blob = case / "blobs" / sha[:2] / sha[2:4] / sha
        if blob.is_file() and sha256_of(blob) == sha:
            kept += 1
        else:
            missing.append(str(path))
    print(json.dumps({"files": len(files), "bytes": total, "kept": kept, "missing": missing[:20]}))
    return 0 if not missing else 1


if __name__ == "__main__":
    sys.exit(main())

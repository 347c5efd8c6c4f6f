"""Write-once store of original bytes, named by their sha256.

Every later check (DKIM, custody, raw download) reads these bytes, so nothing here ever
re-encodes anything. Writes go to a temporary file and are renamed into place, so a crash leaves
either the whole blob or none of it; concurrent writers of the same bytes are harmless.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

CHUNK = 1024 * 1024


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: Path) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


class BlobStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.tmp = root / "tmp"
        self._made_dirs: set[Path] = set()  # fan-out folders known to exist

    def create(self) -> None:
        self.tmp.mkdir(parents=True, exist_ok=True)

    def path(self, sha: str) -> Path:
        return self.root / sha[:2] / sha[2:4] / sha

    def exists(self, sha: str) -> bool:
        return self.path(sha).exists()

    def read(self, sha: str) -> bytes:
        return self.path(sha).read_bytes()

    def open(self, sha: str) -> BinaryIO:
        return self.path(sha).open("rb")

    def put_bytes(self, data: bytes) -> str:
        sha = sha256_bytes(data)
        target = self.path(sha)
        if not target.exists():
            # The tmp name is unique per writer (process, thread) and blob: two writers of the
            # same bytes each rename a complete file onto the target; either wins harmlessly.
            tmp_path = self.tmp / f"{sha}.{os.getpid()}.{threading.get_ident()}"
            try:
                with tmp_path.open("wb") as out:
                    out.write(data)
                self._make_parent(target)
                tmp_path.replace(target)
            except BaseException:
                tmp_path.unlink(missing_ok=True)
                raise
        return sha

    def _make_parent(self, target: Path) -> None:
        parent = target.parent
        if parent not in self._made_dirs:
            parent.mkdir(parents=True, exist_ok=True)
            self._made_dirs.add(parent)

    def put_stream(self, source: BinaryIO) -> tuple[str, int]:
        """Copy a stream into the store while hashing it; memory stays at one chunk."""
        digest = hashlib.sha256()
        size = 0
        fd, tmp_name = tempfile.mkstemp(dir=self.tmp)
        tmp_path = Path(tmp_name)
        try:
            with os.fdopen(fd, "wb") as out:
                while chunk := source.read(CHUNK):
                    digest.update(chunk)
                    size += len(chunk)
                    out.write(chunk)
            sha = digest.hexdigest()
            target = self.path(sha)
            if target.exists():
                tmp_path.unlink()
            else:
                self._make_parent(target)
                tmp_path.replace(target)
        except BaseException:
            tmp_path.unlink(missing_ok=True)
            raise
        return sha, size

    def put_file(self, path: Path) -> tuple[str, int]:
        sha, size, _data = self.store_file(path)
        return sha, size

    def store_file(self, path: Path) -> tuple[str, int, bytes | None]:
        """Store a file; its bytes come back too when they fit in one read (most mail does),
        so that a caller parsing it next need not read it again."""
        with path.open("rb") as handle:
            head = handle.read(CHUNK)
            if len(head) < CHUNK:  # the whole file in one read
                return self.put_bytes(head), len(head), head
            handle.seek(0)
            sha, size = self.put_stream(handle)
            return sha, size, None

    def iter_shas(self) -> Iterator[str]:
        for path in self.root.glob("??/??/*"):
            if len(path.name) == 64:
                yield path.name

    def sweep_tmp(self) -> int:
        """Remove half-written files left by a killed run; returns how many."""
        removed = 0
        for path in self.tmp.glob("*"):
            path.unlink(missing_ok=True)
            removed += 1
        return removed

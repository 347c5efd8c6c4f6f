"""A consistent copy of the search index, to start a search replica from.

Copying the index directory while something writes it is not safe: every reading room that
sees new items in the catalog indexes them before it searches, and Tantivy merges segments and
deletes the files they replace, so a plain `cp -r` or `rsync` can copy a `meta.json` that names
segment files already gone, or miss the newest ones. Tantivy's segment files are never changed
once written, and `meta.json` (replaced atomically at each commit) names the ones that make up
the index; so: read strongroom's marker, then `meta.json`, then copy exactly the files it
names. If one of them vanished meanwhile (a merge finished), start again.

The marker is read before `meta.json`: the copy may hold items past the marker's last number
(the next update replaces them by number), but never claim items it lacks.
"""

from __future__ import annotations

import json
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path

import tantivy

from strongroom.errors import StrongroomError, UsageError
from strongroom.index.schema import MARKER

META = "meta.json"
MANAGED = ".managed.json"  # Tantivy's list of its files: what its garbage collector may delete
ATTEMPTS = 20


@dataclass(frozen=True)
class Snapshot:
    path: Path
    files: int
    bytes: int
    documents: int
    last_num: int

    def to_json(self) -> dict[str, object]:
        return {
            "path": str(self.path),
            "files": self.files,
            "bytes": self.bytes,
            "documents": self.documents,
            "last_num": self.last_num,
        }


class _Moved(Exception):
    """A file meta.json named was gone: the index changed during the copy."""


def snapshot(index_root: Path, out: Path) -> Snapshot:
    """Copy the index at `index_root` to the new directory `out`, consistently, while readers
    and writers go on using it."""
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise UsageError(f"{out} exists and is not empty", hint="give a new directory")
    if not (index_root / META).is_file() or not (index_root / MARKER).is_file():
        raise UsageError(
            f"no search index in {index_root}", hint="build it first: strongroom reindex"
        )
    out.parent.mkdir(parents=True, exist_ok=True)
    for _ in range(ATTEMPTS):
        partial = out.parent / f".{out.name}.partial-{uuid.uuid4().hex}"
        try:
            files, size = _copy(index_root, partial)
        except _Moved:
            shutil.rmtree(partial, ignore_errors=True)
            continue
        except BaseException:
            shutil.rmtree(partial, ignore_errors=True)
            raise
        documents = _check(partial)
        if out.exists():
            out.rmdir()  # empty, checked above
        partial.rename(out)
        marker = json.loads((out / MARKER).read_text())
        return Snapshot(out, files, size, documents, int(marker.get("last_num", 0)))
    raise StrongroomError(
        f"the index in {index_root} kept changing during {ATTEMPTS} copies",
        hint="try again when the ingest or reindex writing it has finished",
    )


def _copy(root: Path, to: Path) -> tuple[int, int]:
    marker = (root / MARKER).read_bytes()
    meta_bytes = (root / META).read_bytes()
    wanted = _segment_files(json.loads(meta_bytes), [p.name for p in root.iterdir()])
    to.mkdir()
    size = 0
    for name in wanted:
        try:
            # copied from an open file: one deleted after opening still reads in full
            with (root / name).open("rb") as source, (to / name).open("wb") as target:
                shutil.copyfileobj(source, target, 1 << 20)
                size += target.tell()
        except FileNotFoundError as error:
            raise _Moved(name) from error
    (to / META).write_bytes(meta_bytes)
    (to / MANAGED).write_text(json.dumps([*wanted, META]))
    (to / MARKER).write_bytes(marker)
    return len(wanted) + 3, size + len(meta_bytes) + len(marker)


def _segment_files(meta: dict[str, object], present: list[str]) -> list[str]:
    """The files of the segments meta.json names: `<id>.<component>`, and a segment's
    deletions as `<id>.<opstamp>.del` for the opstamp meta.json gives."""
    segments = meta.get("segments")
    if not isinstance(segments, list):
        raise StrongroomError("the index's meta.json lists no segments")
    wanted: list[str] = []
    for segment in segments:
        hex_id = str(segment["segment_id"]).replace("-", "")
        deletes = segment.get("deletes")
        delete_file = f"{hex_id}.{deletes['opstamp']}.del" if deletes else None
        mine = [n for n in present if n.startswith(hex_id + ".") and not n.endswith(".del")]
        if not mine:
            raise _Moved(hex_id)  # merged away between listing meta.json and the directory
        if delete_file is not None:
            if delete_file not in present:
                raise _Moved(delete_file)
            mine.append(delete_file)
        wanted += sorted(mine)
    return wanted


def _check(path: Path) -> int:
    """The copy opens as an index; returns its number of documents."""
    try:
        index = tantivy.Index.open(str(path))
        index.reload()
        return int(index.searcher().num_docs)
    except ValueError as error:
        raise StrongroomError(f"the copy in {path} does not open as an index: {error}") from error

"""The Tantivy index: derived from the catalog, rebuilt at will, repaired automatically.

A marker file records the schema version and the last item number indexed. Documents are
deleted by number before they are added, so replaying items after a crash (the index committed,
the marker not yet written) leaves no duplicates.
"""

from __future__ import annotations

import fcntl
import json
import shutil
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import tantivy

from strongroom.catalog.index_rows import iter_index_rows, max_num
from strongroom.catalog.store import Catalog
from strongroom.errors import StrongroomError
from strongroom.index.schema import (
    FACT_VALUES,
    FACT_WORDS,
    INDEX_SCHEMA_VERSION,
    MARKER,
    ROLES,
    analyzers,
    build_schema,
)

# Held by the process writing the index (reading rooms, an ingest, `reindex` share one index):
# Tantivy refuses a second writer with LockBusy rather than waiting for the first.
WRITE_LOCK = ".strongroom-write.lock"
# Memory per update stays flat: the writer's arena, plus one batch of items' text.
WRITER_HEAP = 32_000_000
ROW_BATCH = 64
_TYPES = {
    "application/pdf": "pdf",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "xlsx",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": "pptx",
    "application/msword": "doc",
    "application/vnd.ms-excel": "xls",
    "application/vnd.ms-powerpoint": "ppt",
    "application/vnd.oasis.opendocument.text": "odt",
    "application/vnd.oasis.opendocument.spreadsheet": "ods",
    "application/rtf": "rtf",
    "text/rtf": "rtf",
    "text/plain": "txt",
    "text/html": "html",
    "text/csv": "csv",
    "application/json": "json",
    "application/zip": "zip",
}


class IndexBusy(StrongroomError):
    """Another process has just emptied the index to rebuild it (`reindex`)."""

    http_status = 503


def short_type(item: dict[str, Any]) -> str:
    if item["format"] in ("email", "msg"):
        return "email"
    if item["format"] not in ("document",):
        return str(item["format"])  # containers: mbox, pst, zip, tar...
    mime = str(item["mime"])
    if mime in _TYPES:
        return _TYPES[mime]
    if mime.startswith("image/"):
        return "image"
    return mime.rsplit("/", 1)[-1]


def _domain(address: str) -> str:
    return address.rsplit("@", 1)[-1].lower() if "@" in address else ""


class SearchIndex:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.schema = build_schema()
        self._index: tantivy.Index | None = None
        self._generation = ""
        self._seen_update: Any = None  # the marker's updated_at when this reader last looked
        self._lock = threading.RLock()
        self._held = False  # this process holds the write lock (`exclusive`)

    # -- opening ----------------------------------------------------------------------------
    def _marker(self) -> dict[str, Any]:
        path = self.root / MARKER
        if not path.exists():
            return {}
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def _write_marker(self, last_num: int, generation: str | None = None) -> None:
        tmp = self.root / (MARKER + ".tmp")
        tmp.write_text(
            json.dumps(
                {
                    "schema": INDEX_SCHEMA_VERSION,
                    "generation": generation or self._generation,
                    "last_num": last_num,
                    "updated_at": datetime.now(UTC).isoformat(),
                }
            )
        )
        tmp.replace(self.root / MARKER)

    @property
    def index(self) -> tantivy.Index:
        with self._lock:  # web requests share one SearchIndex across threads
            return self._open()

    def _open(self) -> tantivy.Index:
        marker = self._marker()
        # Another process (`reindex`, a newer version) may have rebuilt the index under us:
        # each build has its own generation, and a reader that sees a new one reopens.
        if self._index is not None and marker.get("generation") != self._generation:
            self._index = None
        elif self._index is not None and marker.get("updated_at") != self._seen_update:
            # another process committed (new items, or facts refreshed): Tantivy's own reload
            # follows only after a delay, and a search right after a tag must see the tag
            self._index.reload()
        self._seen_update = marker.get("updated_at")
        if self._index is None:
            fresh = marker.get("schema") != INDEX_SCHEMA_VERSION or "generation" not in marker
            with self._starting(fresh):
                marker = self._marker() if fresh else marker
                if marker.get("schema") != INDEX_SCHEMA_VERSION:
                    self._wipe()
                    marker = {}
                self.root.mkdir(parents=True, exist_ok=True)
                self._index = tantivy.Index(self.schema, path=str(self.root), reuse=True)
                for name, analyzer in analyzers().items():
                    self._index.register_tokenizer(name, analyzer)
                if "generation" not in marker:
                    self._generation = uuid.uuid4().hex
                    self._write_marker(int(marker.get("last_num", 0)))
                else:
                    self._generation = str(marker["generation"])
        return self._index

    @contextmanager
    def _starting(self, fresh: bool) -> Iterator[None]:
        """Starting an index afresh (wiping an outdated one, a first marker) takes the write
        lock: a reading room must not wipe what another process's `reindex` is building."""
        if not fresh or self._held:
            yield
            return
        with self.exclusive(wait=False) as mine:
            if not mine:
                raise IndexBusy(
                    f"the search index in {self.root} is being rebuilt by another process",
                    hint="try again in a moment",
                )
            yield

    def _wipe(self) -> None:
        # What the directory holds, not the directory: it may be a mount point (a disk of its
        # own on a machine that serves), which cannot be removed.
        if self.root.exists():
            for entry in self.root.iterdir():
                if entry.name == WRITE_LOCK:  # held by whoever wipes; others wait on it
                    continue
                if entry.is_dir() and not entry.is_symlink():
                    shutil.rmtree(entry)
                else:
                    entry.unlink()
        self._index = None

    def last_num(self) -> int:
        self.index  # noqa: B018 - opening may reset an outdated index
        return int(self._marker().get("last_num", 0))

    # -- writing ----------------------------------------------------------------------------
    @contextmanager
    def exclusive(self, wait: bool = True) -> Iterator[bool]:
        """One writer at a time, among this process's threads and other processes; yields
        False without waiting when `wait` is false and another holds it."""
        with self._lock:
            self.root.mkdir(parents=True, exist_ok=True)
            with (self.root / WRITE_LOCK).open("a") as handle:
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
                    held = True
                except BlockingIOError:
                    held = False
                self._held = held
                try:
                    yield held
                finally:
                    self._held = False
                    if held:
                        fcntl.flock(handle, fcntl.LOCK_UN)

    def update(self, catalog: Catalog) -> int:
        """Index every item the catalog has past the marker; returns how many."""
        with self.exclusive():  # one writer at a time; a second one then finds nothing to do
            return self._update(catalog)

    def catch_up(self, catalog: Catalog) -> int:
        """Before a search: `update`, unless another process is writing the index right now
        (an ingest, another reading room): it is adding those items; search what is there."""
        with self.exclusive(wait=False) as mine:
            return self._update(catalog) if mine else 0

    def _update(self, catalog: Catalog) -> int:
        last = self.last_num()
        if max_num(catalog) <= last:
            return 0
        present = self._highest_num()  # above the marker after a crash between the two
        items = iter_index_rows(catalog, last, batch=ROW_BATCH)
        return self._write(items, replace_up_to=present, advance_marker=True)

    def refresh(self, catalog: Catalog, nums: list[int]) -> int:
        """Re-index these items (their facts or status changed); returns how many."""
        with self.exclusive():
            return self._refresh(catalog, nums)

    def _refresh(self, catalog: Catalog, nums: list[int]) -> int:
        last = self.last_num()
        wanted = sorted(n for n in set(nums) if n <= last)
        chunks = (wanted[i : i + 500] for i in range(0, len(wanted), 500))
        items = (item for chunk in chunks for item in iter_index_rows(catalog, 0, only=chunk))
        return self._write(items, replace_up_to=last, advance_marker=False) if wanted else 0

    def _write(
        self, items: Iterator[dict[str, Any]], *, replace_up_to: int, advance_marker: bool
    ) -> int:
        writer = self.index.writer(heap_size=WRITER_HEAP, num_threads=1)
        count = pending = 0
        last = self.last_num()
        for item in items:
            if item["num"] <= replace_up_to:
                self._delete(writer, item["num"])
            writer.add_document(self._document(item))
            count += 1
            last = max(last, item["num"])
            # Tantivy queues up to 10,000 documents ahead of its indexing thread whatever their
            # size; committing by volume keeps memory flat for large documents.
            pending += len(item["text"]) + sum(len(text) for _name, text in item["attachments"])
            if pending > WRITER_HEAP:
                writer.commit()
                if advance_marker:
                    self._write_marker(last)
                pending = 0
        writer.commit()
        writer.wait_merging_threads()
        # the marker's time changes on every write, so readers in other processes reload
        self._write_marker(last if advance_marker else self.last_num())
        self.index.reload()
        return count

    def _highest_num(self) -> int:
        searcher = self.index.searcher()
        if searcher.num_docs == 0:
            return 0
        result = searcher.aggregate(tantivy.Query.all_query(), {"top": {"max": {"field": "num"}}})
        value = result.get("top", {}).get("value")
        return int(value) if value is not None else 0

    def _delete(self, writer: tantivy.IndexWriter, num: int) -> None:
        # By query, not by term: tantivy-py turns a Python int into an i64 term, which never
        # matches the u64 `num` field, so delete_documents_by_term would silently keep it.
        writer.delete_documents_by_query(tantivy.Query.term_query(self.schema, "num", num))

    def rebuild(self, catalog: Catalog) -> int:
        with self.exclusive():
            self._wipe()
            return self._update(catalog)

    def _document(self, item: dict[str, Any]) -> tantivy.Document:
        doc = tantivy.Document()
        record = item["record"]
        doc.add_unsigned("num", item["num"])
        doc.add_text("kind", item["kind"])
        doc.add_text("type", short_type(item))
        doc.add_unsigned("size", item["size"])
        if item["message_id"]:
            doc.add_text("msgid", item["message_id"])
        if item["subject"]:
            doc.add_text("subject", item["subject"])
            doc.add_text("subject_exact", item["subject"])
        if item["text"]:
            doc.add_text("body", item["text"])
            doc.add_text("body_exact", item["text"])
        names = [item["name"]] if item["name"] else []
        for name, text in item["attachments"]:
            if text:
                doc.add_text("attachment", text)
                doc.add_text("attachment_exact", text)
            if name:
                names.append(name)
        for name in names:
            doc.add_text("filename", name)
        doc.add_unsigned("has_attachment", 1 if item["attachments"] else 0)
        self._add_addresses(doc, record.get("addresses") or {})
        if item["date_utc"]:
            when = datetime.strptime(item["date_utc"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
            doc.add_date("date", when)
            doc.add_text("year", item["date_utc"][:4])
            doc.add_text("month", item["date_utc"][:7])
        for name, value in item.get("facts", []):
            if name in FACT_VALUES:
                doc.add_text(name, value.lower())
            elif name in FACT_WORDS:
                doc.add_text(name, value)
        if item["defect_count"]:
            doc.add_text("flags", "defective")
        doc.add_text("flags", item["status"])
        return doc

    def _add_addresses(self, doc: tantivy.Document, addresses: dict[str, Any]) -> None:
        for role in ROLES[:-1]:
            for entry in addresses.get(role, []):
                words = f"{entry['name']} {entry['address']}".strip()
                address = entry["address"].lower()
                for field in (role, "participant"):
                    doc.add_text(field, words)
                    if address:
                        doc.add_text(f"{field}_addr", address)
                        doc.add_text(f"{field}_domain", _domain(address))

"""The search command's quick path: a case directory searched without SQLAlchemy.

A search takes a few milliseconds; a command that imports SQLAlchemy and every capability's
tables to run one takes half a second more. When the case is a directory and its index is
current, this module searches the index directly and reads what the hits show (summaries,
the text snippets are cut from, thread membership) from catalog.sqlite with the stdlib
sqlite3 module, read-only. Its SQL mirrors catalog/index_rows.py and catalog/store.py, and
tests/test_search_quick.py holds the two paths to the same answers.

`open_quick` returns None whenever the full path has work to do or something to say: a
PostgreSQL case, an index behind the catalog (a crash between the two, an ingest running), an
index of another schema, a catalog that needs migrating or is newer than this strongroom. The
caller then opens the `Case`, which repairs, rebuilds or explains.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import tantivy

from strongroom.errors import CaseError
from strongroom.index.schema import INDEX_SCHEMA_VERSION, MARKER, analyzers, build_schema
from strongroom.index.search import SearchResult, count, run_search

if TYPE_CHECKING:
    from strongroom.analyze.threads import ThreadLink

# The catalog this path can read: catalog.schema.SCHEMA_VERSION and migrations.HEAD, written
# out because importing either loads SQLAlchemy (a test checks that they agree).
CATALOG_SCHEMA = 1
CATALOG_REVISION = "0001"
CASE_MARKER = "strongroom-case"  # case.MARKER
CATALOG_FILE = "catalog.sqlite"  # case.CATALOG_FILE
_CHUNK = 500  # item numbers per IN (...): far below SQLite's limit on parameters


def open_quick(location: str) -> QuickCase | None:
    """The case directory `location` ready to search, or None: take the full path."""
    if "://" in location:
        return None
    root = Path(location)
    if not (root / CASE_MARKER).is_file() or not (root / CATALOG_FILE).is_file():
        return None
    marker = _marker(root / "index" / MARKER)
    if marker.get("schema") != INDEX_SCHEMA_VERSION or "generation" not in marker:
        return None
    try:
        catalog = LiteCatalog(root / CATALOG_FILE)
    except sqlite3.Error:
        return None  # the full path reports what is wrong
    try:
        current = catalog.readable() and catalog.max_num() <= int(marker.get("last_num", 0))
        index = (
            tantivy.Index(build_schema(), path=str(root / "index"), reuse=True) if current else None
        )
    except (sqlite3.Error, ValueError, OSError):
        index = None
    if index is None:
        catalog.close()
        return None
    for name, analyzer in analyzers().items():
        index.register_tokenizer(name, analyzer)
    return QuickCase(catalog, OpenedIndex(index.schema, index))


def _marker(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


@dataclass(frozen=True)
class OpenedIndex:
    schema: tantivy.Schema
    index: tantivy.Index


class QuickCase:
    """`Case.search` and `Case.count` over an index known to be current."""

    def __init__(self, catalog: LiteCatalog, index: OpenedIndex) -> None:
        self.catalog = catalog
        self.index = index

    def search(
        self,
        query: str,
        *,
        limit: int = 20,
        offset: int = 0,
        sort: str = "relevance",
        facets: bool = True,
    ) -> SearchResult:
        with self.catalog.errors():
            return run_search(
                self.index,
                self.catalog,
                query,
                limit=limit,
                offset=offset,
                sort=sort,
                facets=facets,
                thread_members=self.catalog.thread_members,
            )

    def count(self, query: str) -> int:
        with self.catalog.errors():
            return count(self.index, query, self.catalog.thread_members)

    # -- threads, as Case.thread and Case.thread_text ----------------------------------------
    def thread(self, num: int) -> list[dict[str, Any]] | None:
        """The thread around an item; None when it is in none (the full path says why)."""
        with self.catalog.errors():
            links = self.catalog.thread_of(num)
            details = self.catalog.summaries([link.num for link in links])
        return [
            {**details[link.num], "thread": link.thread, "parent": link.parent, "depth": link.depth}
            for link in links
        ] or None

    def thread_text(self, num: int) -> str | None:
        with self.catalog.errors():
            links = self.catalog.thread_of(num)
            details = self.catalog.summaries([link.num for link in links])

        def label(n: int) -> str:
            d = details[n]
            who = d.get("from_name") or d.get("from") or "?"
            return f"#{n} {(d.get('date') or '')[:10]} {who}: {d.get('subject') or ''}"

        from strongroom.analyze.threads import render_tree  # `show thread:` only, not search

        return render_tree(links, label) if links else None


class LiteCatalog:
    """The reads a search needs from a catalog.sqlite, with the stdlib sqlite3 module."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        self.conn.execute("PRAGMA busy_timeout=30000")  # as the catalog's own connections

    def close(self) -> None:
        self.conn.close()

    @contextmanager
    def errors(self) -> Iterator[None]:
        """A failed read names the file and the reason (the checks made one unlikely)."""
        try:
            yield
        except sqlite3.Error as error:
            raise CaseError(f"cannot read the catalog {self.path}: {error}") from error

    def readable(self) -> bool:
        """Whether the catalog is one this strongroom reads as it is (no migration due)."""
        schema = self.conn.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
        revision = self.conn.execute("SELECT version_num FROM alembic_version").fetchall()
        return schema == (str(CATALOG_SCHEMA),) and revision == [(CATALOG_REVISION,)]

    def max_num(self) -> int:
        return int(self.conn.execute("SELECT coalesce(max(num), 0) FROM items").fetchone()[0])

    def _rows(self, sql: str, nums: list[int]) -> Iterator[tuple[Any, ...]]:
        """`sql` with `{}` standing for the placeholders of a chunk of `nums`."""
        for start in range(0, len(nums), _CHUNK):
            chunk = nums[start : start + _CHUNK]
            yield from self.conn.execute(sql.format(",".join("?" * len(chunk))), chunk)

    # -- HitSource (index.search), as catalog/index_rows.py ---------------------------------
    def summaries(self, nums: list[int]) -> dict[int, dict[str, Any]]:
        out = {
            num: {
                "id": num,
                "kind": kind,
                "type": format_,
                "subject": subject,
                "date": date_utc,
                "date_offset": date_offset,
                "name": name,
                "from": from_address,
                "from_name": None,
                "parent": None,
                "parent_name": None,
                "size": size,
            }
            for num, kind, format_, subject, date_utc, date_offset, name, from_address, size in (
                self._rows(
                    "SELECT num, kind, format, subject, date_utc, date_offset, name,"
                    " from_address, size FROM items WHERE num IN ({})",
                    nums,
                )
            )
        }
        for num, name in self._rows(
            "SELECT item_num, name FROM addresses"
            " WHERE item_num IN ({}) AND role = 'from' AND position = 0",
            nums,
        ):
            out[num]["from_name"] = name or None
        for num, parent, subject, name in self._rows(
            "SELECT locations.item_num, parent.num, parent.subject, parent.name"
            " FROM locations JOIN items AS parent ON parent.num = locations.parent_num"
            " WHERE locations.item_num IN ({}) ORDER BY locations.id",
            nums,
        ):
            if out[num]["parent"] is None:
                out[num]["parent"] = parent
                out[num]["parent_name"] = subject or name
        return out

    def texts(self, nums: list[int]) -> dict[int, str]:
        return dict(self._rows("SELECT item_num, body FROM texts WHERE item_num IN ({})", nums))

    def attachment_texts(self, parent: int) -> list[tuple[int, str, str]]:
        rows = self.conn.execute(
            "SELECT items.num, items.name, texts.body FROM items"
            " JOIN locations ON locations.item_num = items.num"
            " LEFT JOIN texts ON texts.item_num = items.num"
            " WHERE locations.parent_num = ? AND items.kind = 'attachment'"
            " ORDER BY items.num",
            (parent,),
        )
        return [(num, name or "", body or "") for num, name, body in rows]

    # -- threads, as Case.thread_members and catalog/store.py -------------------------------
    def thread_members(self, key: str) -> list[int]:
        """Every item in the thread of an item number or of a Message-ID."""
        if key.isdigit():
            return self._members(int(key)) if int(key) < 2**63 else []
        members: set[int] = set()
        for (num,) in self.conn.execute("SELECT num FROM items WHERE message_id = ?", (key,)):
            members.update(self._members(num))
        return sorted(members)

    def thread_of(self, num: int) -> list[ThreadLink]:
        """As catalog/threading.py thread_of: the whole thread, in reading order."""
        from strongroom.analyze.threads import ThreadLink  # `show thread:` only, not search

        if num >= 2**63:
            return []
        row = self.conn.execute("SELECT thread FROM threads WHERE item_num = ?", (num,)).fetchone()
        if row is None:
            return []
        rows = self.conn.execute(
            "SELECT item_num, thread, parent, depth, position FROM threads"
            " WHERE thread = ? ORDER BY position",
            (row[0],),
        )
        return [ThreadLink(*link) for link in rows]

    def _members(self, num: int) -> list[int]:
        row = self.conn.execute("SELECT thread FROM threads WHERE item_num = ?", (num,)).fetchone()
        if row is None:
            exists = self.conn.execute("SELECT 1 FROM items WHERE num = ?", (num,)).fetchone()
            return [num] if exists else []
        rows = self.conn.execute(
            "SELECT item_num FROM threads WHERE thread = ? ORDER BY item_num", (row[0],)
        )
        return [int(item) for (item,) in rows]

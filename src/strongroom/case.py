"""The library API: one `Case` per archive. The CLI and the web app call only this."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from strongroom.analyze.forensics import forensics_for_item
from strongroom.analyze.threads import render_tree
from strongroom.blobs import BlobStore
from strongroom.catalog import Catalog
from strongroom.catalog.index_rows import summaries, texts_for
from strongroom.catalog.threading import rethread, thread_of
from strongroom.config import IngestPolicy
from strongroom.custody import record_custody
from strongroom.errors import CaseError, NotFound, UsageError
from strongroom.index.search import SearchResult, correspondents, count, run_search
from strongroom.index.store import SearchIndex

if TYPE_CHECKING:
    from strongroom.ingest.runner import Progress
    from strongroom.verify import KeyImport, VerifyProgress, VerifyStats

# strongroom.verify (dkimpy, cryptography, dnspython) and the ingest runner (every format
# handler) are imported where they are used: searching and reading need neither.

CATALOG_FILE = "catalog.sqlite"
MARKER = "strongroom-case"


@dataclass(frozen=True)
class IngestSummary:
    report: dict[str, Any]
    inputs_seen: int
    inputs_skipped: int
    new_items: int
    worker_crashes: int

    def to_json(self) -> dict[str, Any]:
        summary = {k: v for k, v in self.report.items() if k != "failures"}
        summary["this_run"] = {
            "inputs_seen": self.inputs_seen,
            "inputs_skipped_unchanged": self.inputs_skipped,
            "new_items": self.new_items,
            "worker_crashes": self.worker_crashes,
        }
        return summary


class Case:
    """An archive on disk: a catalog, a content-addressed blob store, room for the index."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.blobs = BlobStore(root / "blobs")
        self.catalog = Catalog(f"sqlite:///{root / CATALOG_FILE}")
        self.index = SearchIndex(root / "index")

    @classmethod
    def init(cls, root: Path) -> Case:
        if root.exists() and any(root.iterdir()) and not (root / MARKER).exists():
            raise UsageError(
                f"{root} exists and is not an empty directory or a strongroom case",
                hint="choose a new directory for the case",
            )
        root.mkdir(parents=True, exist_ok=True)
        (root / MARKER).write_text("strongroom case directory; see catalog.sqlite and blobs/\n")
        case = cls(root)
        case.blobs.create()
        case.catalog.create()
        return case

    @classmethod
    def open(cls, root: Path) -> Case:
        if not (root / MARKER).exists():
            raise CaseError(
                f"{root} is not a strongroom case",
                hint=f"create it with: strongroom --case {root} init",
            )
        case = cls(root)
        case.catalog.check()
        case.catalog.create()  # adds the tables a newer strongroom introduced; idempotent
        return case

    def ingest(
        self,
        paths: list[Path],
        policy: IngestPolicy | None = None,
        progress: Progress | None = None,
        *,
        verify: bool = True,
    ) -> IngestSummary:
        # Imported here: the format handlers are heavy, and searching or reading needs none.
        from strongroom.ingest.runner import IngestRun

        for path in paths:
            if not path.exists():
                raise NotFound(f"input {path} does not exist")
        run = IngestRun(
            catalog=self.catalog,
            blob_root=self.blobs.root,
            policy=policy or IngestPolicy(),
            exclude=(self.root,),
            progress=progress,
        )
        before = self.catalog.report()["items"]
        stats = run.run(paths)
        record_custody(self.catalog)  # idempotent: a run killed before it is caught up next time
        rethread(self.catalog)
        if verify:  # before the index update, so new emails are indexed with their verdicts
            self.verify(workers=(policy or IngestPolicy()).workers)
        self.index.update(self.catalog)
        report = self.report()
        return IngestSummary(
            report=report,
            inputs_seen=stats.inputs_seen,
            inputs_skipped=stats.inputs_skipped,
            new_items=report["items"] - before,
            worker_crashes=stats.worker_crashes,
        )

    def report(self) -> dict[str, Any]:
        return self.catalog.report()

    def item(self, key: str) -> dict[str, Any]:
        """An item by its number or its sha256."""
        key = key.strip()
        if not (
            key.isdigit() or (len(key) == 64 and all(c in "0123456789abcdef" for c in key.lower()))
        ):
            raise UsageError(f"{key!r} is neither an item number nor a sha256")
        item = None if key.isdigit() and int(key) >= 2**63 else self.catalog.find_item(key)
        if item is None:
            raise NotFound(f"no item {key} in this case")
        item["forensics"] = forensics_for_item(item)
        if item["kind"] == "email":
            from strongroom.catalog.verify_store import verification

            item["verification"] = verification(self.catalog, item["num"])
        return item

    def previews(self, nums: list[int], length: int = 400) -> dict[int, str]:
        """The first words of each item's text (attachment previews on an item page)."""
        texts = texts_for(self.catalog, nums)
        return {num: " ".join(text[: length * 2].split())[:length] for num, text in texts.items()}

    def raw(self, key: str) -> bytes:
        return self.blobs.read(self.item(key)["sha256"])

    # -- search -----------------------------------------------------------------------------
    def _current_index(self) -> SearchIndex:
        """The index, first brought up to date: repairs a crash between catalog and index."""
        self.index.update(self.catalog)
        return self.index

    def thread_members(self, key: str) -> list[int]:
        """Every item in the thread of an item number or of a Message-ID."""
        if key.isdigit():
            return self.catalog.thread_members(int(key)) if int(key) < 2**63 else []
        members: set[int] = set()
        for num in self.catalog.items_with_message_id(key):
            members.update(self.catalog.thread_members(num))
        return sorted(members)

    def search(
        self,
        query: str,
        *,
        limit: int = 20,
        offset: int = 0,
        sort: str = "relevance",
        facets: bool = True,
    ) -> SearchResult:
        return run_search(
            self._current_index(),
            self.catalog,
            query,
            limit=limit,
            offset=offset,
            sort=sort,
            facets=facets,
            thread_members=self.thread_members,
        )

    def count(self, query: str) -> int:
        return count(self._current_index(), query, self.thread_members)

    def correspondents(self, query: str = "", limit: int = 100) -> dict[str, Any]:
        return correspondents(
            self._current_index(), self.catalog, query, self.thread_members, limit=limit
        )

    def reindex(self) -> int:
        return self.index.rebuild(self.catalog)

    # -- threads ----------------------------------------------------------------------------
    def thread(self, num: int) -> list[dict[str, Any]]:
        """The thread around an item, in reading order, each message with its summary."""
        links = thread_of(self.catalog, num)
        if not links:
            self.item(str(num))  # NotFound for an unknown number
            return []
        details = summaries(self.catalog, [link.num for link in links])
        return [
            {**details[link.num], "thread": link.thread, "parent": link.parent, "depth": link.depth}
            for link in links
        ]

    def thread_text(self, num: int) -> str:
        links = thread_of(self.catalog, num)
        details = summaries(self.catalog, [link.num for link in links])

        def label(n: int) -> str:
            d = details[n]
            who = d.get("from_name") or d.get("from") or "?"
            return f"#{n} {(d.get('date') or '')[:10]} {who}: {d.get('subject') or ''}"

        return render_tree(links, label)

    # -- verification -----------------------------------------------------------------------
    def import_keys(
        self, path: Path, valid_from: str | None = None, valid_to: str | None = None
    ) -> KeyImport:
        """Add a zone file's DKIM key records to the case's keyring."""
        from strongroom.verify import import_keys

        return import_keys(self.catalog, path, valid_from, valid_to)

    def keys(self) -> list[dict[str, Any]]:
        from strongroom.verify import list_keys

        return list_keys(self.catalog)

    def verify(
        self, *, workers: int = 1, dns: bool = False, progress: VerifyProgress | None = None
    ) -> VerifyStats:
        """Check every DKIM signature and ARC chain not yet checked (or whose keys changed)."""
        from strongroom.verify import verify_case

        return verify_case(
            self.catalog,
            self.blobs.root,
            self.index,
            workers=workers,
            dns=dns,
            progress=progress,
        )

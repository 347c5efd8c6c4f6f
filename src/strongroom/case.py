"""The library API: one `Case` per archive. The CLI and the web app call only this."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, unquote

from strongroom.accounts import DEFAULT_COLLECTION
from strongroom.accounts.collections import assign_inputs, display_names_within, item_collections
from strongroom.analyze.entities import analyse_case
from strongroom.analyze.forensics import forensics_for_item
from strongroom.analyze.threads import render_tree
from strongroom.annotate.searches import record_alerts
from strongroom.blobs import BlobStore
from strongroom.catalog import Catalog
from strongroom.catalog.backend import POSTGRESQL_DRIVER, is_url, normalise_url
from strongroom.catalog.index_rows import summaries, texts_for
from strongroom.catalog.threading import rethread, thread_of
from strongroom.config import IngestPolicy
from strongroom.custody import record_custody
from strongroom.errors import CaseError, NotFound, UsageError
from strongroom.index.hits import CatalogHits
from strongroom.index.search import SearchResult, correspondents, count, run_search
from strongroom.index.store import SearchIndex

if TYPE_CHECKING:
    from strongroom.ingest.runner import Progress
    from strongroom.verify import KeyImport, VerifyProgress, VerifyStats

# strongroom.verify (dkimpy, cryptography, dnspython) and the ingest runner (every format
# handler) are imported where they are used: searching and reading need neither.

CATALOG_FILE = "catalog.sqlite"
MARKER = "strongroom-case"
# A catalog in PostgreSQL records at init where its blobs and its index live (meta table).
BLOBS_KEY = "blobs_dir"
INDEX_KEY = "index_dir"
_ENCODED = POSTGRESQL_DRIVER + ":"


def case_location(value: str) -> Path:
    """A `--case` value as the CLI carries it, as a Path: a directory, or a PostgreSQL URL
    encoded as one path component (a plain Path would fold the URL's `//`). `Case.open` and
    `Case.init` take either, and plain URL strings too."""
    if is_url(value):
        return Path(_ENCODED + quote(normalise_url(value)[len(_ENCODED) :], safe=""))
    return Path(value)


def server_url(location: Path | str) -> str | None:
    """The PostgreSQL catalog URL a case location names, or None for a case directory."""
    text = str(location)
    if isinstance(location, Path):
        encoded = text.startswith(_ENCODED) and "/" not in text
        return _ENCODED + unquote(text[len(_ENCODED) :]) if encoded else None
    return normalise_url(text) if is_url(text) else None


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
    """An archive: a catalog, a content-addressed blob store, the search index. Either one
    directory holding all three (`root`), or a catalog in PostgreSQL with blob and index
    directories recorded in it (`root` is None)."""

    def __init__(self, root: Path | None, catalog: Catalog, blobs: Path, index: Path) -> None:
        self.root = root
        self.catalog = catalog
        self.blobs = BlobStore(blobs)
        self.index = SearchIndex(index)

    @property
    def location(self) -> str:
        """What names the case to a user: its directory, or its catalog URL (no password)."""
        return str(self.root) if self.root is not None else self.catalog.name

    @property
    def key_dir(self) -> Path:
        """Where `custody keygen` keeps the case's signing keys: in the case directory, or for
        a catalog in PostgreSQL beside its blob directory."""
        return (self.root if self.root is not None else self.blobs.root.parent) / "custody"

    @classmethod
    def _directory(cls, root: Path) -> Case:
        catalog = Catalog(f"sqlite:///{root / CATALOG_FILE}")
        return cls(root, catalog, root / "blobs", root / "index")

    @staticmethod
    def catalog_at(location: Path | str) -> Catalog:
        """The catalog of a case, unchecked (`migrate` opens it so)."""
        url = server_url(location)
        if url is not None:
            return Catalog(url)
        root = Path(location)
        if not (root / MARKER).exists():
            raise CaseError(
                f"{root} is not a strongroom case",
                hint=f"create it with: strongroom --case {root} init",
            )
        return Catalog(f"sqlite:///{root / CATALOG_FILE}")

    @classmethod
    def init(
        cls, location: Path | str, *, blobs: Path | None = None, index: Path | None = None
    ) -> Case:
        """Create a case: a directory, or a PostgreSQL catalog with the directories of its blobs
        and index (shared by every machine that opens it, at the same paths). Creating one
        that exists opens it."""
        url = server_url(location)
        if url is not None:
            return cls._init_server(url, blobs, index)
        if blobs is not None or index is not None:
            raise UsageError(
                "--blobs and --index are for a catalog in PostgreSQL; a case directory holds "
                "its own blobs/ and index/"
            )
        root = Path(location)
        if root.exists() and any(root.iterdir()) and not (root / MARKER).exists():
            raise UsageError(
                f"{root} exists and is not an empty directory or a strongroom case",
                hint="choose a new directory for the case",
            )
        root.mkdir(parents=True, exist_ok=True)
        (root / MARKER).write_text("strongroom case directory; see catalog.sqlite and blobs/\n")
        case = cls._directory(root)
        case.blobs.create()
        case.catalog.create()
        return case

    @classmethod
    def _init_server(cls, url: str, blobs: Path | None, index: Path | None) -> Case:
        catalog = Catalog(url)
        meta = catalog.meta() if catalog.exists() else {}
        if BLOBS_KEY in meta and INDEX_KEY in meta:
            case = cls.open(url)
            for given, kept in ((blobs, case.blobs.root), (index, case.index.root)):
                if given is not None and given.resolve() != kept:
                    raise UsageError(f"this catalog keeps that directory at {kept}, not {given}")
            return case
        if blobs is None or index is None:
            raise UsageError(
                "a catalog in PostgreSQL needs directories for its blobs and its index",
                hint=f"strongroom --case {catalog.name} init --blobs DIR --index DIR",
            )
        blobs, index = blobs.resolve(), index.resolve()
        case = cls(None, catalog, blobs, index)
        case.blobs.create()
        index.mkdir(parents=True, exist_ok=True)
        catalog.create()
        catalog.set_meta({BLOBS_KEY: str(blobs), INDEX_KEY: str(index)})
        return case

    @classmethod
    def open(cls, location: Path | str) -> Case:
        url = server_url(location)
        if url is not None:
            return cls._open_server(url)
        cls.catalog_at(location)  # refuses a directory that is not a case
        case = cls._directory(Path(location))
        case.catalog.check(migrate_hint=f"strongroom --case {case.location} migrate")
        case.catalog.create()  # adds the tables a newer strongroom introduced; idempotent
        return case

    @classmethod
    def _open_server(cls, url: str) -> Case:
        catalog = Catalog(url)
        catalog.check(migrate_hint=f"strongroom --case {catalog.name} migrate")
        meta = catalog.meta()
        if BLOBS_KEY not in meta or INDEX_KEY not in meta:
            raise CaseError(
                f"the catalog at {catalog.name} records no blob or index directory",
                hint=f"strongroom --case {catalog.name} init --blobs DIR --index DIR",
            )
        blobs, index = Path(meta[BLOBS_KEY]), Path(meta[INDEX_KEY])
        if not blobs.is_dir():
            raise CaseError(
                f"the blob directory {blobs} recorded in the catalog is not on this machine",
                hint="mount the shared blob directory at the same path on every machine",
            )
        catalog.create()
        return cls(None, catalog, blobs, index)

    def ingest(
        self,
        paths: list[Path],
        policy: IngestPolicy | None = None,
        progress: Progress | None = None,
        *,
        verify: bool = True,
        collection: str = DEFAULT_COLLECTION,
    ) -> IngestSummary:
        """Ingest into a named collection; an item found in two collections is in both."""
        # Imported here: the format handlers are heavy, and searching or reading needs none.
        from strongroom.ingest.runner import IngestRun

        for path in paths:
            if not path.exists():
                raise NotFound(f"input {path} does not exist")
        run = IngestRun(
            catalog=self.catalog,
            blob_root=self.blobs.root,
            policy=policy or IngestPolicy(),
            exclude=(self.root,) if self.root else (self.blobs.root, self.index.root),
            progress=progress,
        )
        before = self.catalog.report()["items"]
        stats = run.run(paths)
        record_custody(self.catalog)  # idempotent: a run killed before it is caught up next time
        rethread(self.catalog)
        if verify:  # before the index update, so new emails are indexed with their verdicts
            self.verify(workers=(policy or IngestPolicy()).workers)
        indexed = self.index.last_num()
        joined = assign_inputs(self.catalog, collection, paths)
        analyse_case(self.catalog, self.index, (policy or IngestPolicy()).workers)  # new items
        self.index.update(self.catalog)
        # Items indexed before this run that were found again here gained a collection.
        self.index.refresh(self.catalog, [n for n in joined if n <= indexed])
        record_alerts(self)  # saved searches that the new items match
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

    def item_collections(self, num: int) -> frozenset[str]:
        """The collections an item belongs to (web/access.py decides who may read it)."""
        return item_collections(self.catalog, [num])[num]

    def readable(self, nums: list[int], collections: frozenset[str] | None) -> set[int]:
        """Those of `nums` in at least one of `collections` (None: no restriction)."""
        if collections is None:
            return set(nums)
        found = item_collections(self.catalog, nums)
        return {num for num, names in found.items() if names & collections}

    def raw(self, key: str) -> bytes:
        return self.blobs.read(self.item(key)["sha256"])

    # -- search -----------------------------------------------------------------------------
    def _current_index(self) -> SearchIndex:
        """The index, first brought up to date: repairs a crash between catalog and index."""
        self.index.catch_up(self.catalog)
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
        collections: frozenset[str] | None = None,
    ) -> SearchResult:
        """Hits, totals, facets and snippets; `collections` (a viewer's scope) restricts all
        of them to items of those collections (None: the whole case)."""
        result = run_search(
            self._current_index(),
            CatalogHits(self.catalog),
            query,
            limit=limit,
            offset=offset,
            sort=sort,
            facets=facets,
            thread_members=self.thread_members,
            collections=collections,
        )
        if collections is not None:  # an attachment's first container may be out of scope
            parents = [hit["parent"] for hit in result.hits if hit.get("parent")]
            shown = self.readable(parents, collections)
            for hit in result.hits:
                if hit.get("parent") and hit["parent"] not in shown:
                    hit["parent"] = hit["parent_name"] = None
        return result

    def count(self, query: str, collections: frozenset[str] | None = None) -> int:
        return count(self._current_index(), query, self.thread_members, collections)

    def correspondents(
        self, query: str = "", limit: int = 100, collections: frozenset[str] | None = None
    ) -> dict[str, Any]:
        people = correspondents(
            self._current_index(),
            self.catalog,
            query,
            self.thread_members,
            limit=limit,
            collections=collections,
        )
        if collections is not None:  # names written only in items out of scope stay hidden
            names = display_names_within(
                self.catalog, [p["address"] for p in people["people"]], collections
            )
            for person in people["people"]:
                person["names"] = names.get(person["address"], [])
        return people

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

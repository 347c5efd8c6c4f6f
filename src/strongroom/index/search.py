"""Running a query: ranked or dated hits, exact totals, facets, and highlighted snippets."""

from __future__ import annotations

import html
import itertools
import re
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

import tantivy

from strongroom.errors import UsageError
from strongroom.index.schema import STEMMED, analyzers
from strongroom.query.compile import Compiler, Terms
from strongroom.query.parser import parse

if TYPE_CHECKING:
    from strongroom.catalog.store import Catalog

# Nothing here imports the catalog's SQLAlchemy layer: the search command on a case directory
# runs this module with hits read through index/quick.py (stdlib sqlite3) to start fast.

SORTS = ("relevance", "date", "-date")
FACETS = {
    "senders": "from_addr",
    "recipients": "to_addr",
    "sender_domains": "from_domain",
    "types": "type",
    "kinds": "kind",
    "years": "year",
    "languages": "lang",
    "organisations": "org",
    "tags": "tag",
}
# The index's tokenizer (schema.TOKEN_PATTERN) in Python's regex dialect.
_WORD = re.compile(r"[\u3040-\u30ff\u3400-\u9fff]|\w+")
SNIPPET_WORDS = 28


class Searchable(Protocol):
    """An opened index: a SearchIndex (kept current from the catalog) or the quick path's."""

    @property
    def schema(self) -> tantivy.Schema: ...

    @property
    def index(self) -> tantivy.Index: ...


class HitSource(Protocol):
    """Where what a hit shows is read: its summary, and the text its snippet is cut from."""

    def summaries(self, nums: list[int]) -> dict[int, dict[str, Any]]: ...

    def texts(self, nums: list[int]) -> dict[int, str]: ...

    def attachment_texts(self, parent: int) -> list[tuple[int, str, str]]:
        """(num, name, text) of an email's attachments, in item order."""
        ...


@dataclass
class SearchResult:
    query: str
    total: int
    hits: list[dict[str, Any]]
    facets: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"query": self.query, "total": self.total, "hits": self.hits, "facets": self.facets}


def run_search(
    index: Searchable,
    source: HitSource,
    query: str,
    *,
    limit: int = 20,
    offset: int = 0,
    sort: str = "relevance",
    facets: bool = True,
    thread_members: Callable[[str], list[int]] = lambda _key: [],
    collections: frozenset[str] | None = None,
) -> SearchResult:
    if sort not in SORTS:
        raise UsageError(f"unknown sort {sort!r}; use one of {', '.join(SORTS)}")
    compiler = Compiler(index.schema, query, thread_members)
    compiled = scoped(index, compiler.compile(parse(query)), collections)
    searcher = index.index.searcher()
    options: dict[str, Any] = {"limit": max(limit, 0) or 1, "offset": offset, "count": True}
    if sort != "relevance":
        options["order_by_field"] = "date"
        options["order"] = tantivy.Order.Asc if sort == "date" else tantivy.Order.Desc
    found = searcher.search(compiled, **options)
    nums = [searcher.doc(address)["num"][0] for _score, address in found.hits][:limit]
    details = source.summaries(nums)
    hits = [details[n] for n in nums if n in details]
    Snippets(source, compiler.terms).add(hits)
    result = SearchResult(query, _total(found), hits)
    if facets:
        result.facets = _facets(searcher, compiled)
    return result


def count(
    index: Searchable,
    query: str,
    thread_members: Callable[[str], list[int]],
    collections: frozenset[str] | None = None,
) -> int:
    compiled = Compiler(index.schema, query, thread_members).compile(parse(query))
    compiled = scoped(index, compiled, collections)
    return _total(index.index.searcher().search(compiled, limit=1, count=True))


def scoped(
    index: Searchable, query: tantivy.Query, collections: frozenset[str] | None
) -> tantivy.Query:
    """`query` restricted to items of these collections (None: unrestricted). Applied to the
    query itself, so hits, totals, facets and aggregations all see the same items."""
    if collections is None:
        return query
    if not collections:
        return tantivy.Query.empty_query()
    allowed = tantivy.Query.term_set_query(index.schema, "collection", sorted(collections))
    return tantivy.Query.boolean_query([(tantivy.Occur.Must, query), (tantivy.Occur.Must, allowed)])


def _total(found: tantivy.SearchResult) -> int:
    # `count` is missing from tantivy's type stubs but present when count=True is asked.
    total: int = found.count  # type: ignore[attr-defined]
    return total


def _facets(searcher: tantivy.Searcher, query: tantivy.Query) -> dict[str, Any]:
    spec: dict[str, Any] = {
        name: {"terms": {"field": field_name, "size": 10}} for name, field_name in FACETS.items()
    }
    spec["months"] = {"terms": {"field": "month", "size": 1200, "order": {"_key": "asc"}}}
    spec["has_attachment"] = {"terms": {"field": "has_attachment", "size": 2}}
    raw = searcher.aggregate(query, spec)
    out: dict[str, Any] = {}
    for name, data in raw.items():
        buckets = [{"value": b["key"], "count": b["doc_count"]} for b in data.get("buckets", [])]
        if name == "has_attachment":
            out[name] = {("yes" if b["value"] else "no"): b["count"] for b in buckets}
        else:
            out[name] = buckets
    return out


class Snippets:
    """Highlighted fragments cut from the catalog's text around the first match."""

    def __init__(self, source: HitSource, terms: Terms) -> None:
        self.source = source
        self.terms = terms
        self.stemmer = analyzers()[STEMMED]
        self._stems: dict[str, str] = {}

    def matches(self, word: str) -> bool:
        lower = word.lower()
        if lower in self.terms.exact or any(lower.startswith(p) for p in self.terms.prefixes):
            return True
        if not self.terms.stems:
            return False
        if lower not in self._stems:
            tokens = self.stemmer.analyze(lower)
            self._stems[lower] = tokens[0] if tokens else lower
        return self._stems[lower] in self.terms.stems

    def add(self, hits: list[dict[str, Any]]) -> None:
        texts = self.source.texts([hit["id"] for hit in hits])
        for hit in hits:
            hit["snippet"], hit["snippet_from"] = self._for(hit, texts.get(hit["id"], ""))

    def _for(self, hit: dict[str, Any], text: str) -> tuple[str, str | None]:
        if not (self.terms.stems or self.terms.exact or self.terms.prefixes):
            return html.escape(" ".join(text.split()[:SNIPPET_WORDS])), None  # nothing to mark
        wants_attachment = "attachment" in self.terms.fields
        if not wants_attachment and "body" not in self.terms.fields and hit.get("subject"):
            fragment = self.cut(hit["subject"], whole=True)
            if fragment:
                return fragment, "subject"
        if text and not wants_attachment:
            fragment = self.cut(text)
            if fragment:
                return fragment, "attachment" if hit["kind"] == "attachment" else "body"
        for num, name, attached in self.source.attachment_texts(hit["id"]):
            fragment = self.cut(attached)
            if fragment:
                return fragment, f"attachment #{num} {name}".strip()
        return html.escape(" ".join(text.split()[:SNIPPET_WORDS])), None

    def cut(self, text: str, *, whole: bool = False) -> str:
        # Words are read up to the end of the fragment, not to the end of a long text.
        found = _WORD.finditer(text)
        before: deque[re.Match[str]] = deque(maxlen=None if whole else SNIPPET_WORDS // 3)
        for match in found:
            if self.matches(match.group()):
                break
            before.append(match)
        else:
            return ""
        window = [*before, match]
        window += found if whole else itertools.islice(found, SNIPPET_WORDS - len(window))
        begin_char = window[0].start()
        end_char = window[-1].end()
        pieces, cursor = [], begin_char
        for match in window:
            pieces.append(html.escape(text[cursor : match.start()]))
            escaped = html.escape(match.group())
            pieces.append(f"<mark>{escaped}</mark>" if self.matches(match.group()) else escaped)
            cursor = match.end()
        fragment = " ".join("".join(pieces).split())
        prefix = "… " if begin_char > 0 else ""
        suffix = " …" if end_char < len(text.rstrip()) else ""
        return prefix + fragment + suffix


def correspondents(
    index: Searchable,
    catalog: Catalog,
    query: str,
    thread_members: Callable[[str], list[int]],
    limit: int = 100,
    collections: frozenset[str] | None = None,
) -> dict[str, Any]:
    """People ranked by mail volume for a query, and who writes to whom (the network's edges)."""
    from strongroom.catalog.index_rows import display_names  # the reading room's, not the CLI's

    compiled = Compiler(index.schema, query, thread_members).compile(parse(query))
    compiled = scoped(index, compiled, collections)
    spec = {
        "sent": {"terms": {"field": "from_addr", "size": limit}},
        "received": {"terms": {"field": "participant_addr", "size": limit}},
        "pairs": {
            "terms": {"field": "from_addr", "size": limit},
            "aggs": {"to": {"terms": {"field": "to_addr", "size": 25}}},
        },
    }
    raw = index.index.searcher().aggregate(compiled, spec)
    sent = {b["key"]: b["doc_count"] for b in raw.get("sent", {}).get("buckets", [])}
    involved = {b["key"]: b["doc_count"] for b in raw.get("received", {}).get("buckets", [])}
    edges = [
        {"from": outer["key"], "to": inner["key"], "count": inner["doc_count"]}
        for outer in raw.get("pairs", {}).get("buckets", [])
        for inner in outer.get("to", {}).get("buckets", [])
        if inner["key"] != outer["key"]
    ]
    addresses = sorted(set(sent) | set(involved), key=lambda a: (-involved.get(a, 0), a))[:limit]
    names = display_names(catalog, addresses)
    people = [
        {
            "address": a,
            "names": names.get(a, []),
            "sent": sent.get(a, 0),
            "messages": involved.get(a, 0),
        }
        for a in addresses
    ]
    return {"people": people, "edges": sorted(edges, key=lambda e: -e["count"])}

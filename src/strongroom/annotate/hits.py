"""Every item a query matches, by number: what exports, alerts and batch search work on.

`Case.search` pages through ranked hits with snippets for people; these callers need the whole
set, cheaply, in item-number order.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import tantivy

from strongroom.query.compile import Compiler
from strongroom.query.parser import parse

if TYPE_CHECKING:
    from strongroom.case import Case

PAGE = 10_000


def matching_nums(case: Case, query: str, *, after: int = 0) -> list[int]:
    """The numbers of the items matching `query` (above `after`), ascending.

    Raises QuerySyntaxError (a UsageError) for a malformed query."""
    case.index.update(case.catalog)  # repairs a crash between catalog and index first
    compiled = Compiler(case.index.schema, query, case.thread_members).compile(parse(query))
    if after:
        above = tantivy.Query.range_query(
            case.index.schema, "num", tantivy.FieldType.Unsigned, after, None, include_lower=False
        )
        compiled = tantivy.Query.boolean_query(
            [(tantivy.Occur.Must, compiled), (tantivy.Occur.Must, above)]
        )
    searcher = case.index.index.searcher()
    nums: list[int] = []
    while True:
        found = searcher.search(
            compiled,
            limit=PAGE,
            offset=len(nums),
            order_by_field="num",
            order=tantivy.Order.Asc,
        )
        page = [int(searcher.doc(address)["num"][0]) for _score, address in found.hits]
        nums.extend(page)
        if len(page) < PAGE:
            return nums

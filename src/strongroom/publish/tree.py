"""Which items a release holds, and the family each belongs to.

An item's family is the top-level message or document it was found in (below any mbox, zip or
other container it came in) with everything inside it, containers inside it included.
Redaction works per family: a value accepted on an email is hidden in its attachments too, and
one accepted on an attachment is hidden in the raw email that carries it. An item found in two
places belongs to both families.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from strongroom.case import Case
from strongroom.catalog.index_rows import iter_index_rows


@dataclass
class Node:
    num: int
    kind: str
    format: str
    mime: str
    sha256: str
    size: int
    status: str
    name: str | None
    extraction: str | None
    parents: list[int] = field(default_factory=list)
    children: list[int] = field(default_factory=list)


@dataclass
class Tree:
    nodes: dict[int, Node]
    _families: dict[int, list[int]] = field(default_factory=dict, repr=False)

    @classmethod
    def load(cls, case: Case) -> Tree:
        nodes: dict[int, Node] = {}
        for row in iter_index_rows(case.catalog, 0):
            extraction = dict(row["facts"]).get("extraction") or row["record"].get("extraction")
            nodes[row["num"]] = Node(
                num=row["num"],
                kind=row["kind"],
                format=row["format"],
                mime=row["mime"],
                sha256=row["sha256"],
                size=row["size"],
                status=row["status"],
                name=row["name"],
                extraction=extraction if isinstance(extraction, str) else None,
            )
        for num, node in nodes.items():
            item = case.catalog.find_item(str(num))
            if item is None:
                continue
            parents = {loc["parent"] for loc in item["locations"] if loc.get("parent")}
            node.parents = sorted(p for p in parents if p in nodes)
            node.children = sorted({c["num"] for c in item["children"] if c["num"] in nodes})
        return cls(nodes)

    def is_container(self, num: int) -> bool:
        return self.nodes[num].kind == "container"

    def roots(self, num: int) -> set[int]:
        """The top-level items that hold `num` ({num} if it is one): on every path up, the
        last item that is not a container. A container inside an email (a zip attachment) is
        passed through, so what it holds is in the email's family."""
        out: set[int] = set()
        stack: list[tuple[int, int | None, frozenset[int]]] = [(num, None, frozenset())]
        while stack:
            current, last, path = stack.pop()
            if current in path:  # a cycle would be a catalog bug; do not loop on it
                continue
            last = last if self.is_container(current) else current
            parents = self.nodes[current].parents
            if not parents and last is not None:
                out.add(last)
            stack.extend((p, last, path | {current}) for p in parents)
        return out

    def descendants(self, num: int) -> list[int]:
        out: list[int] = []
        seen: set[int] = {num}
        stack = list(self.nodes[num].children)
        while stack:
            current = stack.pop()
            if current in seen:
                continue
            seen.add(current)
            out.append(current)
            stack.extend(self.nodes[current].children)
        return sorted(out)

    def family(self, num: int) -> list[int]:
        """Every item whose values must be hidden wherever `num` is shown."""
        if num in self._families:
            return self._families[num]
        members: set[int] = set()
        for root in self.roots(num):
            members.add(root)
            members.update(self.descendants(root))
        self._families[num] = sorted(members)
        return self._families[num]

    def select(self, case: Case, query: str | None) -> list[int]:
        """The items to publish: every item but containers, or those matching `query` with
        what they contain."""
        if not query:
            return sorted(n for n in self.nodes if not self.is_container(n))
        total = case.count(query)
        hits = case.search(query, limit=max(total, 1), facets=False).hits if total else []
        chosen: set[int] = set()
        for num in _ids(hits):
            if num in self.nodes:
                chosen.add(num)
                chosen.update(self.descendants(num))
        return sorted(n for n in chosen if not self.is_container(n))


def _ids(hits: Iterable[dict[str, Any]]) -> list[int]:
    return [int(hit["id"]) for hit in hits]

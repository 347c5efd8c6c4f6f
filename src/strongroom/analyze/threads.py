"""Conversation threads: JWZ threading over Message-ID, In-Reply-To and References.

Pure: `ThreadInput` records in, `ThreadLink` records out; no SQL, no I/O. The result depends only
on the set of messages, never on their order: everything is processed by item number.

How a message finds its place (after https://www.jwz.org/doc/threading.html):

1. Containers. Every Message-ID gets one container (the JWZ id_table). Items that share a
   Message-ID (different bytes: a list copy and the sender's copy, a re-sent message) share its
   container and come out as siblings under the same parent; replies to that id hang under the
   lowest-numbered of them. A message without a Message-ID gets a container of its own (nothing
   can refer to it, but it still threads by its own In-Reply-To and References). An id that is
   only referred to gets an empty ("phantom") container. A string without "@" is not a
   Message-ID (RFC 5322: id-left "@" id-right) and is ignored wherever it appears: git
   send-email's `In-Reply-To: <yes>` would otherwise join every patch series answered that way.
2. Own parent. Each message's candidates are its In-Reply-To ids, then its References from last
   to first (its own id is ignored wherever it appears). The first candidate that is a message
   present in the set becomes the parent; if none is present, the first candidate becomes a
   phantom parent. In-Reply-To comes first because it names the message actually answered,
   whereas References are sometimes written oldest-last (Debbugs) or mistyped. For items sharing
   a Message-ID, the lowest-numbered one that has candidates places the container.
3. References chain. For each message, its References (followed by In-Reply-To ids missing from
   them) are linked each as the parent of the next, where the next has no parent yet. This places
   phantoms, and messages that carry no reply headers of their own, as JWZ step 1B does.
   No link is ever made that would close a loop (union-find over tree roots).
4. Subject fallback, the only use of subjects. A message joins a thread by subject only when
   all of these hold: it has neither In-Reply-To nor References (no valid id but its own);
   it is not an attached message; steps 2-3 left it a root (nobody's References placed it);
   and its subject starts with a reply or forward prefix (Re:, Fwd:, Fw:, AW:, SV:, any case,
   also Re[2]: or Re(2):), possibly after [list-tag] brackets. It then becomes a child of the
   root of the latest thread that started at or before it (by date, then number) whose first
   message has the same normalised subject; if there is none it stays a root, so a reply never
   hangs under later mail. Normalising strips those prefixes and [list-tag] brackets repeatedly,
   collapses white space and ignores case. A message without such a prefix never joins by
   subject: two unrelated originals that share a subject stay apart (JWZ's step 5 would merge
   them).
5. Phantoms are pruned: a message's parent is its nearest ancestor that is present; the children
   of a phantom root become roots of one thread.
6. Attached messages (`attached_to` set, message/rfc822 parts) are children of their carrier and
   take no part in steps 1-4: their ids and references are those of a quoted copy. One whose
   carrier is missing from the set, or whose carriers form a cycle, is threaded as an ordinary
   message.

A thread's id is its smallest item number. `position` numbers a thread's messages from 0 in
depth-first order, siblings by date (undated last), then number.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Callable, Iterable
from dataclasses import dataclass

NONE = -1

# the cleaned (In-Reply-To, References) ids of one message
Headers = tuple[tuple[str, ...], tuple[str, ...]]

_PREFIX = re.compile(r"\s*(?:(re|fwd?|aw|sv)\s*(?:\[\d+\]|\(\d+\))?\s*:|\[[^\]]*\])", re.I)


@dataclass(frozen=True)
class ThreadInput:
    """What threading reads of one message."""

    num: int  # the item number
    message_id: str | None  # without <>
    in_reply_to: tuple[str, ...]  # ids without <>
    references: tuple[str, ...]
    subject: str | None
    date_utc: str | None  # "YYYY-MM-DDTHH:MM:SSZ"
    attached_to: int | None  # the num of the email this message is attached to, if any


@dataclass(frozen=True)
class ThreadLink:
    """Where one message sits in its thread."""

    num: int
    thread: int  # the thread's id: the smallest item num in the thread
    parent: int | None  # the num of its parent message in the tree, None for a root
    depth: int
    position: int  # order within the thread (depth-first, siblings by date then num)


def normalise_subject(subject: str | None) -> tuple[str, bool]:
    """The subject as threads compare it, and whether a reply or forward prefix was stripped."""
    text = " ".join((subject or "").split())
    replied = False
    while match := _PREFIX.match(text):
        replied = replied or match.group(1) is not None
        text = text[match.end() :]
    return text.strip().casefold(), replied


class _Forest:
    """Containers with parent links, and a union-find that knows each tree's root."""

    def __init__(self, ids: dict[str, int], size: int) -> None:
        self.ids = ids  # Message-ID -> container; containers past them are for id-less mail
        self.parent = [NONE] * size
        self.items: dict[int, list[int]] = {}  # container -> its item nums, ascending
        self._uf = list(range(size))
        self._size = [1] * size
        self._top = list(range(size))  # the tree root, valid at a union-find representative

    def _find(self, c: int) -> int:
        uf = self._uf
        while uf[c] != c:
            uf[c] = uf[uf[c]]
            c = uf[c]
        return c

    def root(self, c: int) -> int:
        return self._top[self._find(c)]

    def link(self, child: int, parent: int) -> bool:
        """Hang the root `child` under `parent`, unless it has a parent or a loop would close."""
        if self.parent[child] != NONE:
            return False
        top_rep = self._find(parent)
        top = self._top[top_rep]
        if top == child:
            return False
        self.parent[child] = parent
        a, b = top_rep, self._find(child)
        if self._size[a] < self._size[b]:
            a, b = b, a
        self._uf[b] = a
        self._size[a] += self._size[b]
        self._top[a] = top
        return True


def _own_id(message: ThreadInput) -> str | None:
    own = (message.message_id or "").strip()
    return own if "@" in own else None


def _ids(values: Iterable[str], own: str | None) -> tuple[str, ...]:
    """Valid ids, each once, in order, without the message's own id."""
    unique = dict.fromkeys(map(str.strip, values))
    for bad in [value for value in unique if "@" not in value]:
        del unique[bad]
    if own is not None:
        unique.pop(own, None)
    return tuple(unique)


def _carriers(by_num: dict[int, ThreadInput]) -> dict[int, int]:
    """The carrier of each attached message that hangs under one (see rule 6)."""
    anchored: dict[int, bool] = {}
    for num in by_num:
        walk: list[int] = []
        where: dict[int, int] = {}
        cur = num
        while cur not in anchored and cur not in where:
            carrier = by_num[cur].attached_to
            if carrier is None or carrier not in by_num:
                break
            where[cur] = len(walk)
            walk.append(cur)
            cur = carrier
        cut = where.get(cur, len(walk))  # members of a cycle are threaded as ordinary mail
        for i, n in enumerate(walk):
            anchored[n] = i < cut
    carriers: dict[int, int] = {}
    for n, ok in anchored.items():
        via = by_num[n].attached_to
        if ok and via is not None:
            carriers[n] = via
    return carriers


def _sort_key(message: ThreadInput) -> tuple[bool, str, int]:
    return (message.date_utc is None, message.date_utc or "", message.num)


def compute_threads(messages: Iterable[ThreadInput]) -> list[ThreadLink]:
    """Thread the messages; one link per message, ordered by thread id, then position."""
    by_num: dict[int, ThreadInput] = {}
    for m in sorted(messages, key=lambda m: m.num):
        if m.num in by_num:
            raise ValueError(f"item {m.num} given twice")
        by_num[m.num] = m
    carrier = _carriers(by_num)
    threaded = [m for m in by_num.values() if m.num not in carrier]
    forest, home, headers = _containers(threaded)
    _link_by_ids(forest, threaded, home, headers)
    _by_subject(forest, threaded, home, headers)
    parent, tree = _parents(forest, threaded, home, carrier)
    return _ordered(by_num, parent, tree)


def _containers(threaded: list[ThreadInput]) -> tuple[_Forest, dict[int, int], list[Headers]]:
    """1. One container per Message-ID, present or referred to; one per message without one."""
    owns = [_own_id(m) for m in threaded]
    headers = [
        (_ids(m.in_reply_to, own), _ids(m.references, own))
        for m, own in zip(threaded, owns, strict=True)
    ]
    ids: dict[str, int] = {}
    for own in owns:
        if own is not None:
            ids.setdefault(own, len(ids))
    for irt, refs in headers:
        for ref in (*irt, *refs):
            ids.setdefault(ref, len(ids))
    forest = _Forest(ids, len(ids) + owns.count(None))
    spare = len(ids)
    home: dict[int, int] = {}  # item num -> its container
    for m, own in zip(threaded, owns, strict=True):
        if own is None:
            c, spare = spare, spare + 1
        else:
            c = ids[own]
        forest.items.setdefault(c, []).append(m.num)
        home[m.num] = c
    return forest, home, headers


def _link_by_ids(
    forest: _Forest, threaded: list[ThreadInput], home: dict[int, int], headers: list[Headers]
) -> None:
    """2. Own parents, then 3. References chains."""
    ids, items = forest.ids, forest.items
    for m, (irt, refs) in zip(threaded, headers, strict=True):
        c = home[m.num]
        if forest.parent[c] != NONE:
            continue
        candidates = list(dict.fromkeys([*irt, *reversed(refs)]))
        for candidate in candidates:
            p = ids[candidate]
            if p in items and forest.link(c, p):
                break
        else:
            if candidates:
                forest.link(c, ids[candidates[0]])
    for irt, refs in headers:
        previous = NONE
        for ref in dict.fromkeys([*refs, *irt]):
            c = ids[ref]
            if previous != NONE:
                forest.link(c, previous)
            previous = c


def _by_subject(
    forest: _Forest,
    threaded: list[ThreadInput],
    home: dict[int, int],
    headers: list[Headers],
) -> None:
    """4. Reply-prefixed messages without reply headers join the thread of their subject."""
    first: dict[int, ThreadInput] = {}  # tree root -> its first message by date then num
    for m in threaded:
        r = forest.root(home[m.num])
        if r not in first or _sort_key(m) < _sort_key(first[r]):
            first[r] = m
    starts: dict[str, list[tuple[tuple[bool, str, int], int]]] = {}
    for r, m in first.items():
        key, _ = normalise_subject(m.subject)
        if key:
            starts.setdefault(key, []).append((_sort_key(m), r))
    for entries in starts.values():
        entries.sort()

    referenceless = {
        m.num for m, (irt, refs) in zip(threaded, headers, strict=True) if not irt and not refs
    }
    candidates: list[tuple[tuple[bool, str, int], int, str]] = []
    for m in threaded:
        c = home[m.num]
        if m.num != forest.items[c][0] or forest.parent[c] != NONE:
            continue
        if not all(n in referenceless for n in forest.items[c]):
            continue
        key, replied = normalise_subject(m.subject)
        if replied and key in starts:
            candidates.append((_sort_key(m), c, key))
    candidates.sort()

    for when, c, key in candidates:
        entries = starts[key]
        cut = bisect_right(entries, (when, len(forest.parent)))
        for i in range(cut - 1, -1, -1):
            target = forest.root(entries[i][1])
            if target != c and forest.link(c, target):
                break


def _parents(
    forest: _Forest, threaded: list[ThreadInput], home: dict[int, int], carrier: dict[int, int]
) -> tuple[dict[int, int | None], dict[int, int]]:
    """5. Each item's parent item (phantoms skipped) and its tree; 6. attached messages."""
    nearest: dict[int, int] = {}  # phantom -> the nearest container above it with items

    def present_above(c: int) -> int:
        path: list[int] = []
        while c != NONE and c not in nearest and c not in forest.items:
            path.append(c)
            c = forest.parent[c]
        found = NONE if c == NONE else nearest.get(c, c)
        for p in path:
            nearest[p] = found
        return found

    parent: dict[int, int | None] = {}
    tree: dict[int, int] = {}  # item num -> the root container of its tree
    for m in threaded:
        c = home[m.num]
        above = present_above(forest.parent[c])
        parent[m.num] = forest.items[above][0] if above != NONE else None
        tree[m.num] = forest.root(c)
    for num, via in carrier.items():
        parent[num] = via
        top = via
        while top in carrier:
            top = carrier[top]
        tree[num] = tree[top]
    return parent, tree


def _ordered(
    by_num: dict[int, ThreadInput], parent: dict[int, int | None], tree: dict[int, int]
) -> list[ThreadLink]:
    """Depth-first within each thread, siblings by date then number; threads by id."""
    order_key = {num: _sort_key(m) for num, m in by_num.items()}
    children: dict[int, list[int]] = {}
    for num, p in parent.items():
        if p is not None:
            children.setdefault(p, []).append(num)
    for kids in children.values():
        kids.sort(key=order_key.__getitem__)
    group: dict[int, list[int]] = {}
    for num, root in tree.items():
        group.setdefault(root, []).append(num)

    links: list[ThreadLink] = []
    depth: dict[int, int] = {}
    for nums in sorted(group.values(), key=min):
        thread = min(nums)
        stack = sorted((n for n in nums if parent[n] is None), key=order_key.__getitem__)
        stack.reverse()
        for n in stack:
            depth[n] = 0
        position = 0
        while stack:
            num = stack.pop()
            links.append(ThreadLink(num, thread, parent[num], depth[num], position))
            position += 1
            replies = children.get(num)
            if replies:
                below = depth[num] + 1
                for reply in replies:
                    depth[reply] = below
                stack.extend(reversed(replies))
    return links


def render_tree(links: list[ThreadLink], label: Callable[[int], str]) -> str:
    """An indented text tree, one line per message, threads in order of their id.

    Children are drawn under their parent with ├─ and └─; the roots of a thread (several when its
    first message is missing) start at the margin; a blank line separates threads. A link whose
    parent is not among `links` is drawn as a root.
    """
    by_thread: dict[int, list[ThreadLink]] = {}
    for link in links:
        by_thread.setdefault(link.thread, []).append(link)
    blocks: list[str] = []
    for thread in sorted(by_thread):
        members = sorted(by_thread[thread], key=lambda link: link.position)
        present = {link.num for link in members}
        kids: dict[int, list[int]] = {}
        roots: list[int] = []
        for link in members:
            if link.parent is not None and link.parent in present:
                kids.setdefault(link.parent, []).append(link.num)
            else:
                roots.append(link.num)
        lines: list[str] = []
        stack: list[tuple[int, str, str]] = [(n, "", "") for n in reversed(roots)]
        while stack:
            num, lead, rest = stack.pop()
            lines.append(lead + " ".join(label(num).splitlines()))
            below = kids.get(num, [])
            for i in range(len(below) - 1, -1, -1):
                last = i == len(below) - 1
                stack.append(
                    (below[i], rest + ("└─ " if last else "├─ "), rest + ("   " if last else "│  "))
                )
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + ("\n" if blocks else "")

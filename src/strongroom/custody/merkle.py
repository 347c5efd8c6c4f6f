"""The Merkle root of a custody manifest: a simple binary tree anyone can recompute.

    leaf = sha256(0x00 || line)            line: one item line's bytes, without its newline
    node = sha256(0x01 || left || right)   left and right: 32-byte digests
    a level with an odd count promotes its last node unchanged to the next level
    root of zero lines = sha256(b"")

The 0x00/0x01 prefixes keep a leaf from ever being mistaken for a node (RFC 6962 does the same).
`MerkleBuilder` computes the same root while streaming, keeping only O(log n) digests: pairing
level by level with the odd node promoted gives the tree whose left subtree is always the largest
power of two, so finished power-of-two subtrees can be merged as they complete.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

LEAF_PREFIX = b"\x00"
NODE_PREFIX = b"\x01"


def leaf_hash(line: bytes) -> bytes:
    return hashlib.sha256(LEAF_PREFIX + line).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(NODE_PREFIX + left + right).digest()


def merkle_root(lines: Iterable[bytes]) -> bytes:
    """The reference definition, level by level (holds every leaf in memory)."""
    level = [leaf_hash(line) for line in lines]
    if not level:
        return hashlib.sha256(b"").digest()
    while len(level) > 1:
        paired = [node_hash(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            paired.append(level[-1])
        level = paired
    return level[0]


class MerkleBuilder:
    """The same root as `merkle_root`, fed one line at a time, in O(log n) memory."""

    def __init__(self) -> None:
        self._stack: list[tuple[int, bytes]] = []  # (subtree height, digest), heights falling
        self.count = 0

    def add(self, line: bytes) -> None:
        height, digest = 0, leaf_hash(line)
        while self._stack and self._stack[-1][0] == height:
            _, left = self._stack.pop()
            digest = node_hash(left, digest)
            height += 1
        self._stack.append((height, digest))
        self.count += 1

    def root(self) -> bytes:
        if not self._stack:
            return hashlib.sha256(b"").digest()
        digest = self._stack[-1][1]
        for _, left in reversed(self._stack[:-1]):
            digest = node_hash(left, digest)
        return digest

"""The query language's syntax tree: what a user typed, before it meets any index."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Word:
    text: str
    field: str | None = None  # None: the default text fields
    prefix: bool = False  # `secur*`
    position: int = 0


@dataclass(frozen=True)
class Phrase:
    text: str
    field: str | None = None
    position: int = 0


@dataclass(frozen=True)
class Range:
    """`date:2016-05..2016-06`, `size:>1MB`: bounds as typed; the compiler interprets them."""

    field: str
    low: str | None
    high: str | None
    position: int = 0
    low_inclusive: bool = True
    high_inclusive: bool = True


@dataclass(frozen=True)
class Not:
    operand: Node


@dataclass(frozen=True)
class And:
    operands: tuple[Node, ...]


@dataclass(frozen=True)
class Or:
    operands: tuple[Node, ...]


@dataclass(frozen=True)
class MatchAll:
    pass


Node = Word | Phrase | Range | Not | And | Or | MatchAll

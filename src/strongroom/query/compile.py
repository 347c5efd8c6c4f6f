"""The one translation from the query syntax tree to Tantivy queries (its constructors, never
its own query parser)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import tantivy

from strongroom.facts import FLAGS
from strongroom.index.schema import EXACT, STEMMED, analyzers
from strongroom.query.ast import And, MatchAll, Node, Not, Or, Phrase, Range, Word
from strongroom.query.parser import ADDRESS_FIELDS, EXACT_FACT_FIELDS, QuerySyntaxError

DEFAULT_FIELDS = ("subject", "body")
_SIZE = re.compile(r"^(\d+(?:\.\d+)?)\s*([kmg]?i?b?)?$", re.IGNORECASE)
_UNITS = {
    "": 1,
    "b": 1,
    "k": 1000,
    "kb": 1000,
    "kib": 1024,
    "m": 1000**2,
    "mb": 1000**2,
    "mib": 1024**2,
    "g": 1000**3,
    "gb": 1000**3,
    "gib": 1024**3,
}


@dataclass
class Terms:
    """What to highlight: stemmed words, exact words, and which fields they were asked of."""

    stems: set[str] = field(default_factory=set)
    exact: set[str] = field(default_factory=set)
    prefixes: set[str] = field(default_factory=set)
    fields: set[str] = field(default_factory=set)


class Compiler:
    def __init__(
        self,
        schema: tantivy.Schema,
        query: str,
        thread_members: Callable[[str], list[int]],
    ) -> None:
        self.schema = schema
        self.query = query
        self.thread_members = thread_members
        analyzer = analyzers()
        self.stem = analyzer[STEMMED]
        self.exact = analyzer[EXACT]
        self.terms = Terms()

    def error(self, position: int, message: str) -> QuerySyntaxError:
        return QuerySyntaxError(self.query, position, message)

    def compile(self, node: Node) -> tantivy.Query:
        if isinstance(node, MatchAll):
            return tantivy.Query.all_query()
        if isinstance(node, And):
            return self._boolean(node.operands, tantivy.Occur.Must)
        if isinstance(node, Or):
            return self._boolean(node.operands, tantivy.Occur.Should)
        if isinstance(node, Not):
            return tantivy.Query.boolean_query(
                [
                    (tantivy.Occur.Must, tantivy.Query.all_query()),
                    (tantivy.Occur.MustNot, self._negated(node.operand)),
                ]
            )
        if isinstance(node, Phrase):
            return self._phrase(node)
        if isinstance(node, Range):
            return self._range(node)
        return self._word(node)

    def _negated(self, node: Node) -> tantivy.Query:
        saved, self.terms = self.terms, Terms()  # negated words are not highlighted
        try:
            return self.compile(node)
        finally:
            self.terms = saved

    def _boolean(self, operands: tuple[Node, ...], occur: tantivy.Occur) -> tantivy.Query:
        clauses = []
        for operand in operands:
            if isinstance(operand, Not) and occur == tantivy.Occur.Must:
                clauses.append((tantivy.Occur.MustNot, self._negated(operand.operand)))
            else:
                clauses.append((occur, self.compile(operand)))
        if all(kind == tantivy.Occur.MustNot for kind, _ in clauses):
            clauses.append((tantivy.Occur.Must, tantivy.Query.all_query()))
        return tantivy.Query.boolean_query(clauses)

    def _any(self, queries: list[tantivy.Query]) -> tantivy.Query:
        if len(queries) == 1:
            return queries[0]
        return tantivy.Query.boolean_query([(tantivy.Occur.Should, q) for q in queries])

    def _all(self, queries: list[tantivy.Query]) -> tantivy.Query:
        if len(queries) == 1:
            return queries[0]
        return tantivy.Query.boolean_query([(tantivy.Occur.Must, q) for q in queries])

    def _term(self, name: str, value: Any) -> tantivy.Query:
        return tantivy.Query.term_query(self.schema, name, value)

    def _tokens(self, text: str, analyzer: tantivy.TextAnalyzer, position: int) -> list[str]:
        tokens: list[str] = analyzer.analyze(text)
        if not tokens:
            raise self.error(position, f"{text!r} has no searchable letters or digits")
        return tokens

    # -- text -------------------------------------------------------------------------------
    def _text_fields(self, name: str | None) -> tuple[str, ...]:
        return DEFAULT_FIELDS if name is None else (name,)

    def _phrase(self, node: Phrase) -> tantivy.Query:
        if node.field in ADDRESS_FIELDS or node.field == "filename":
            return self._address_words(node.field, node.text, node.position, phrase=True)
        if node.field not in (None, "subject", "body", "attachment"):
            return self._word(Word(node.text, node.field, False, node.position))
        tokens = self._tokens(node.text, self.exact, node.position)
        self.terms.exact.update(tokens)
        self.terms.fields.add(node.field or "text")
        queries = []
        for name in self._text_fields(node.field):
            exact = f"{name}_exact"
            if len(tokens) == 1:
                queries.append(self._term(exact, tokens[0]))
            else:
                queries.append(tantivy.Query.phrase_query(self.schema, exact, _words(tokens)))
        return self._any(queries)

    def _prefix(self, fields: tuple[str, ...], text: str, position: int) -> tantivy.Query:
        tokens = self._tokens(text, self.exact, position)
        if len(tokens) != 1:
            raise self.error(position, "a prefix* must be a single word")
        self.terms.prefixes.add(tokens[0])
        pattern = re.escape(tokens[0]) + ".*"
        return self._any([tantivy.Query.regex_query(self.schema, name, pattern) for name in fields])

    def _word(self, node: Word) -> tantivy.Query:
        name = node.field
        if name in ADDRESS_FIELDS or name == "filename":
            return self._address_words(name, node.text, node.position, prefix=node.prefix)
        if name in (None, "subject", "body", "attachment"):
            self.terms.fields.add(name or "text")
            fields = self._text_fields(name)
            if node.prefix:
                return self._prefix(tuple(f"{f}_exact" for f in fields), node.text, node.position)
            tokens = self._tokens(node.text, self.stem, node.position)
            self.terms.stems.update(tokens)
            return self._all(
                [self._any([self._term(f, token) for f in fields]) for token in tokens]
            )
        return self._exact_field(node)

    def _address_words(
        self, role: str, text: str, position: int, *, prefix: bool = False, phrase: bool = False
    ) -> tantivy.Query:
        value = text.strip().lower()
        if role != "filename" and value.startswith("@"):
            return self._term(f"{role}_domain", value[1:])
        if role != "filename" and "@" in value and " " not in value:
            return self._term(f"{role}_addr", value.strip("<>"))
        if prefix:
            return self._prefix((role,), text, position)
        tokens = self._tokens(text, self.exact, position)
        if phrase and len(tokens) > 1:
            return tantivy.Query.phrase_query(self.schema, role, _words(tokens))
        return self._all([self._term(role, token) for token in tokens])

    # -- exact fields -----------------------------------------------------------------------
    def _exact_field(self, node: Word) -> tantivy.Query:
        name, value = node.field or "", node.text
        if name in ("author", "creator", "editor"):
            field = "last_modified_by" if name == "editor" else name
            tokens = self._tokens(value, self.exact, node.position)
            return self._all([self._term(field, token) for token in tokens])
        if name in ("type", "kind") or name in EXACT_FACT_FIELDS:
            return self._term(name, value.lower())
        if name == "msgid":
            return self._term("msgid", value.strip("<>"))
        if name == "id":
            return self._term("num", self._number(node))
        if name == "thread":  # an item number, or a Message-ID of a message in the thread
            members = self.thread_members(value.strip("<>"))
            if not members:
                return tantivy.Query.empty_query()
            return tantivy.Query.term_set_query(self.schema, "num", members)
        if name == "has":
            if value.lower() not in ("attachment", "attachments"):
                raise self.error(node.position, "has: takes 'attachment'")
            return self._term("has_attachment", 1)
        if value.lower() not in FLAGS:
            known = ", ".join(sorted(FLAGS))
            raise self.error(node.position, f"unknown is:{value}; known: {known}")
        return self._term("flags", value.lower())

    def _number(self, node: Word) -> int:
        if not node.text.isdigit():
            raise self.error(node.position, f"{node.field}: takes an item number")
        return int(node.text)

    # -- ranges -----------------------------------------------------------------------------
    def _range(self, node: Range) -> tantivy.Query:
        return self._size_range(node) if node.field == "size" else self._date_range(node)

    def _size_range(self, node: Range) -> tantivy.Query:
        low = self._size(node.low, node.position)
        high = self._size(node.high, node.position)
        return tantivy.Query.range_query(
            self.schema,
            "size",
            tantivy.FieldType.Unsigned,
            low,
            high,
            include_lower=node.low_inclusive or low is None,
            include_upper=node.high_inclusive or high is None,
        )

    def _date_range(self, node: Range) -> tantivy.Query:
        # A bound names a period (a year, month or day): `date:2016-05` is all of May, and
        # `date:2016-05..2016-06` runs from the start of May to the end of June.
        low = _period(node.low, start=node.low_inclusive) if node.low else None
        high = _period(node.high, start=not node.high_inclusive) if node.high else None
        if (node.low and low is None) or (node.high and high is None):
            raise self.error(node.position, "date: takes YYYY, YYYY-MM or YYYY-MM-DD")
        return tantivy.Query.range_query(
            self.schema,
            "date",
            tantivy.FieldType.Date,
            low,
            high,
            include_lower=True,
            include_upper=high is None,
        )

    def _size(self, text: str | None, position: int) -> int | None:
        if text is None:
            return None
        match = _SIZE.match(text.strip())
        if not match or (match.group(2) or "").lower() not in _UNITS:
            raise self.error(position, f"size: takes a number with an optional unit, not {text!r}")
        return int(float(match.group(1)) * _UNITS[(match.group(2) or "").lower()])


def _words(tokens: list[str]) -> list[str | tuple[int, str]]:
    return list(tokens)


def _period(text: str | None, *, start: bool) -> datetime | None:
    """The first instant of a day/month/year (start) or of the period after it (end)."""
    if not text:
        return None
    parts = text.split("-")
    try:
        numbers = [int(p) for p in parts]
        if len(numbers) == 1:
            year = numbers[0]
            return datetime(year if start else year + 1, 1, 1, tzinfo=UTC)
        if len(numbers) == 2:
            year, month = numbers
            if start:
                return datetime(year, month, 1, tzinfo=UTC)
            return datetime(year + month // 12, month % 12 + 1, 1, tzinfo=UTC)
        if len(numbers) == 3:
            day = datetime(numbers[0], numbers[1], numbers[2], tzinfo=UTC)
            return day if start else datetime.fromordinal(day.toordinal() + 1).replace(tzinfo=UTC)
    except ValueError:
        return None
    return None

"""The one query language, parsed once into a syntax tree.

    query   := or ( OR or )*           -- lowest precedence
    or      := unary ( [AND] unary )*  -- juxtaposition means AND
    unary   := ( NOT | - ) unary | primary
    primary := "(" query ")" | [field ":"] ( "phrase" | word[*] | range )

Errors name the position (0-based, in characters) and what was expected there.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from strongroom.errors import UsageError
from strongroom.facts import VALUE_FIELDS
from strongroom.query.ast import And, MatchAll, Node, Not, Or, Phrase, Range, Word

TEXT_FIELDS = frozenset(
    {"subject", "body", "attachment", "filename", "author", "creator", "editor"}
)
ADDRESS_FIELDS = frozenset({"from", "to", "cc", "bcc", "participant"})
EXACT_FACT_FIELDS = frozenset(VALUE_FIELDS) - {"flags"}  # flags are asked as is:
EXACT_FIELDS = EXACT_FACT_FIELDS | frozenset({"type", "kind", "id", "msgid", "thread", "has", "is"})
RANGE_FIELDS = frozenset({"date", "size"})
FIELDS = TEXT_FIELDS | ADDRESS_FIELDS | EXACT_FIELDS | RANGE_FIELDS

_TOKEN = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<lparen>\()
  | (?P<rparen>\))
  | (?P<minus>-)(?=[^\s-])
  | (?P<field>[A-Za-z][A-Za-z_-]*):(?=\S)
  | (?P<phrase>"(?:[^"\\]|\\.)*")
  | (?P<open_phrase>"[^"]*$)
  | (?P<word>[^\s()"]+)
    """,
    re.VERBOSE,
)


class QuerySyntaxError(UsageError):
    def __init__(self, query: str, position: int, message: str) -> None:
        pointer = f"{query}\n{' ' * position}^"
        super().__init__(f"query error at position {position}: {message}", hint=pointer)
        self.position = position
        self.detail = message

    def to_json(self) -> dict[str, object]:
        return {**super().to_json(), "position": self.position, "detail": self.detail}


@dataclass(frozen=True)
class Token:
    kind: str
    text: str
    position: int


def tokenize(query: str) -> list[Token]:
    tokens = []
    position = 0
    while position < len(query):
        match = _TOKEN.match(query, position)
        if match is None:  # pragma: no cover - the word alternative matches any other character
            raise QuerySyntaxError(query, position, "unexpected character")
        kind = match.lastgroup or "word"
        if kind == "open_phrase":
            raise QuerySyntaxError(query, position, 'expected a closing " for this phrase')
        if kind != "space":
            tokens.append(Token(kind, match.group(), position))
        position = match.end()
    return tokens


class Parser:
    def __init__(self, query: str) -> None:
        self.query = query
        self.tokens = tokenize(query)
        self.index = 0

    def error(self, message: str, position: int | None = None) -> QuerySyntaxError:
        if position is None:
            position = self.tokens[self.index].position if self._more() else len(self.query)
        return QuerySyntaxError(self.query, position, message)

    def _more(self) -> bool:
        return self.index < len(self.tokens)

    def _peek(self) -> Token | None:
        return self.tokens[self.index] if self._more() else None

    def _is_operator(self, word: str) -> bool:
        token = self._peek()
        return token is not None and token.kind == "word" and token.text == word

    def parse(self) -> Node:
        if not self.tokens:
            return MatchAll()
        node = self._or()
        if self._more():
            token = self.tokens[self.index]
            if token.kind == "rparen":
                raise self.error("unexpected ')'; there is no '(' to close")
            raise self.error(f"unexpected {token.text!r}; expected an operator or the end")
        return node

    def _or(self) -> Node:
        operands = [self._and()]
        while self._is_operator("OR"):
            self.index += 1
            if not self._more():
                raise self.error("expected a term after OR")
            operands.append(self._and())
        return operands[0] if len(operands) == 1 else Or(tuple(operands))

    def _and(self) -> Node:
        operands = [self._unary()]
        while self._more():
            token = self.tokens[self.index]
            if token.kind == "rparen" or self._is_operator("OR"):
                break
            if self._is_operator("AND"):
                self.index += 1
                if not self._more():
                    raise self.error("expected a term after AND")
            operands.append(self._unary())
        return operands[0] if len(operands) == 1 else And(tuple(operands))

    def _unary(self) -> Node:
        token = self._peek()
        if token is None:
            raise self.error("expected a term")
        if token.kind == "word" and token.text == "NOT":
            self.index += 1
            return Not(self._unary())
        if token.kind == "minus":  # -word, -field:value, -"phrase", -(group)
            self.index += 1
            return Not(self._unary())
        if token.kind == "word" and token.text == "-":
            raise self.error("expected a term right after '-' (no space)")
        return self._primary()

    def _primary(self) -> Node:
        token = self.tokens[self.index]
        if token.kind == "lparen":
            self.index += 1
            node = self._or()
            closing = self._peek()
            if closing is None or closing.kind != "rparen":
                raise self.error(f"expected ')' to close the '(' at position {token.position}")
            self.index += 1
            return node
        if token.kind == "rparen":
            raise self.error("unexpected ')'; there is no '(' to close")
        if token.kind in ("word",) and token.text in ("AND", "OR"):
            raise self.error(f"expected a term before {token.text}")
        if token.kind == "field":
            return self._field(token)
        self.index += 1
        return self._value(None, token)

    def _field(self, token: Token) -> Node:
        name = token.text[:-1].lower()
        if name not in FIELDS:
            known = ", ".join(sorted(FIELDS))
            raise self.error(
                f"unknown field {name!r}; known fields: {known} (quote the text to search it)",
                token.position,
            )
        self.index += 1
        value = self._peek()
        if value is not None and value.kind == "minus":  # a value such as size:-5 or tag:-x
            following = self.tokens[self.index + 1] if self.index + 1 < len(self.tokens) else None
            if following is not None and following.position == value.position + 1:
                self.index += 1
                value = Token("word", "-" + following.text, value.position)
                self.tokens[self.index] = value
        if value is None or value.kind not in ("word", "phrase"):
            raise self.error(f"expected a value after {name}:")
        self.index += 1
        return self._value(name, value)

    def _value(self, field: str | None, token: Token) -> Node:
        if token.kind == "phrase":
            text = re.sub(r"\\(.)", r"\1", token.text[1:-1])
            if not text.strip():
                raise self.error("empty phrase", token.position)
            return Phrase(text, field, token.position)
        text = token.text
        if field in RANGE_FIELDS:
            return _range(self, field, text, token.position)
        if text.endswith("*") and len(text.rstrip("*")) == 0:
            raise self.error("expected some letters before '*'", token.position)
        prefix = text.endswith("*")
        return Word(text.rstrip("*"), field, prefix, token.position)


def _range(parser: Parser, field: str, text: str, position: int) -> Range:
    if ".." in text:
        low, _, high = text.partition("..")
        if not low and not high:
            raise parser.error(
                f"expected a bound on at least one side of '..' in {field}:", position
            )
        return Range(field, low or None, high or None, position)
    for operator, (low_inc, high_inc) in (
        (">=", (True, True)),
        ("<=", (True, True)),
        (">", (False, True)),
        ("<", (True, False)),
    ):
        if text.startswith(operator):
            bound = text[len(operator) :]
            if not bound:
                raise parser.error(f"expected a value after {field}:{operator}", position)
            if operator.startswith(">"):
                return Range(field, bound, None, position, low_inclusive=low_inc)
            return Range(field, None, bound, position, high_inclusive=high_inc)
    return Range(field, text, text, position)


def parse(query: str) -> Node:
    """Parse a user's query; raises QuerySyntaxError pointing at the problem."""
    return Parser(query).parse()

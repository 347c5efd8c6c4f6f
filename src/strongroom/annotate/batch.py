"""Batch search: many names or terms, each run as a query, with its count and first hits.

A line is a query in strongroom's language; a line of plain words that reads as a name
(`Jane Treasurer`, `O'Brien Smith`) is searched as the exact phrase, in the text or among the
names of senders and recipients. A line that does not parse carries its error in its row;
the other lines still run.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from strongroom.errors import NotFound, UsageError

if TYPE_CHECKING:
    from strongroom.case import Case

MAX_LINES = 5_000
# Words of a name: letters first, then letters, apostrophes, dots or hyphens (Jean-Luc, O'Brien).
_NAME_WORD = re.compile(r"^[^\W\d_][\w'\u2019.-]*$")
_OPERATORS = frozenset({"AND", "OR", "NOT"})
QUERY_COLUMNS = ("query", "name", "term", "search")


@dataclass
class BatchRow:
    line: int  # 1-based line (or CSV row) in the input
    input: str
    query: str
    count: int = 0
    hits: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "line": self.line,
            "input": self.input,
            "query": self.query,
            "count": self.count,
            "hits": self.hits,
            "error": self.error,
        }


def as_query(line: str) -> str:
    """The query a line stands for: a bare name of two or more words becomes that phrase, in
    the text or in a correspondent's name."""
    words = line.split()
    if len(words) >= 2 and all(_NAME_WORD.match(word) and word not in _OPERATORS for word in words):
        phrase = '"' + " ".join(words) + '"'
        return f"{phrase} OR participant:{phrase}"
    return line.strip()


def read_lines(
    text: str, *, is_csv: bool = False, column: str | None = None
) -> list[tuple[int, str]]:
    """(line number, text) of each non-empty line; for CSV, the query column of each row.

    The CSV's first row is its header; the column is `column`, else the first of query, name,
    term or search, else the first column."""
    if not is_csv:
        if column:
            raise UsageError("--column applies to a CSV input only")
        rows = [(n, line.strip()) for n, line in enumerate(text.splitlines(), 1)]
    else:
        reader = csv.reader(io.StringIO(text))
        header = next(reader, None)
        if header is None:
            raise UsageError("the CSV is empty: no header row")
        names = [h.strip() for h in header]
        if column is not None:
            if column not in names:
                raise UsageError(
                    f"the CSV has no column {column!r}", hint=f"its columns: {', '.join(names)}"
                )
            index = names.index(column)
        else:
            lowered = [h.lower() for h in names]
            index = next((lowered.index(c) for c in QUERY_COLUMNS if c in lowered), 0)
        rows = [(reader.line_num, row[index].strip() if index < len(row) else "") for row in reader]
    rows = [(n, line) for n, line in rows if line and not line.startswith("#")]
    if len(rows) > MAX_LINES:
        raise UsageError(f"{len(rows)} queries; a batch holds at most {MAX_LINES}")
    return rows


def read_file(path: Path, column: str | None = None) -> list[tuple[int, str]]:
    if not path.is_file():
        raise NotFound(f"batch file {path} does not exist")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as error:
        raise UsageError(
            f"{path}: not UTF-8 text ({error.reason} at byte {error.start})"
        ) from error
    try:
        return read_lines(text, is_csv=path.suffix.lower() == ".csv", column=column)
    except UsageError as error:
        raise UsageError(f"{path}: {error.message}", hint=error.hint) from error


def run_batch(
    case: Case,
    lines: Iterable[tuple[int, str]],
    *,
    hits: int = 5,
    collections: frozenset[str] | None = None,
) -> list[BatchRow]:
    """Run each line; `collections` (a viewer's scope) narrows counts and hits."""
    rows: list[BatchRow] = []
    for number, line in lines:
        row = BatchRow(number, line, as_query(line))
        try:
            found = case.search(row.query, limit=hits, facets=False, collections=collections)
            row.count, row.hits = found.total, found.hits
        except UsageError as error:
            row.error = error.message  # a syntax error's message names the position
        rows.append(row)
    return rows


CSV_COLUMNS = ("line", "input", "query", "count", "error", "hit_ids", "hits")


def _hit_label(hit: dict[str, Any]) -> str:
    who = hit.get("from_name") or hit.get("from") or ""
    title = hit.get("subject") or hit.get("name") or ""
    return f"#{hit['id']} {(hit.get('date') or '')[:10]} {who}: {title}".replace("  ", " ")


def write_csv(rows: list[BatchRow], handle: Any) -> None:
    writer = csv.writer(handle)
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        writer.writerow(
            [
                row.line,
                row.input,
                row.query,
                "" if row.error else row.count,
                row.error or "",
                " ".join(str(hit["id"]) for hit in row.hits),
                " | ".join(_hit_label(hit) for hit in row.hits),
            ]
        )

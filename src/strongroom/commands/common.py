"""What every CLI command shares: the consoles, the case option's value, JSON output."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from strongroom.errors import UsageError

if TYPE_CHECKING:
    from rich.console import Console

    from strongroom.case import Case

# The consoles `out` and `err` are made on first use: importing rich costs ~25 ms of start-up,
# which `search --count`, `--json` and `--csv` do without (cli.py reads them as common.out).
_CONSOLES: dict[str, dict[str, Any]] = {"out": {}, "err": {"stderr": True}}


def __getattr__(name: str) -> Console:
    if name not in _CONSOLES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from rich.console import Console

    console = Console(highlight=False, soft_wrap=True, **_CONSOLES[name])
    globals()[name] = console
    return console


def case_root(ctx: click.Context) -> Path:
    """The --case value: a directory, or a PostgreSQL URL carried as a Path that `Case.open`
    and `Case.init` read back (strongroom.case.case_location)."""
    # The library is imported when a command opens a case: `search` may not need it.
    from strongroom.case import case_location

    root = ctx.find_root().obj.get("case") if ctx.find_root().obj else None
    if not root:
        raise UsageError("no case given", hint="pass --case DIR or set STRONGROOM_CASE")
    return case_location(root)


def open_case(ctx: click.Context) -> Case:
    from strongroom.case import Case

    return Case.open(case_root(ctx))


def print_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))


Column = tuple[str, Callable[[dict[str, Any]], str]]


def print_records(
    records: list[dict[str, Any]], as_json: bool, columns: list[Column], **table_options: Any
) -> None:
    """Records as JSON, or as a table whose cells (plain text) are escaped from rich markup."""
    if as_json:
        print_json(records)
        return
    from rich.markup import escape
    from rich.table import Table

    table = Table(*(header for header, _cell in columns), **table_options)
    for record in records:
        table.add_row(*(escape(cell(record)) for _header, cell in columns))
    console: Console = globals().get("out") or __getattr__("out")  # made on first use
    console.print(table)

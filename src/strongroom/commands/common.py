"""What every CLI command shares: the consoles, the case option's value, JSON output."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
from rich.console import Console

from strongroom.case import Case, case_location
from strongroom.errors import UsageError

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)


def case_root(ctx: click.Context) -> Path:
    """The --case value: a directory, or a PostgreSQL URL carried as a Path that `Case.open`
    and `Case.init` read back (strongroom.case.case_location)."""
    root = ctx.find_root().obj.get("case") if ctx.find_root().obj else None
    if not root:
        raise UsageError("no case given", hint="pass --case DIR or set STRONGROOM_CASE")
    return case_location(root)


def open_case(ctx: click.Context) -> Case:
    return Case.open(case_root(ctx))


def print_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))

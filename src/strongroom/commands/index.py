"""`strongroom index snapshot OUT`: a consistent copy of the search index, to start a search
replica from (docs/server.md, "Search replicas")."""

from __future__ import annotations

from pathlib import Path

import click

from strongroom.commands.common import open_case, print_json


@click.group("index")
def index_group() -> None:
    """The search index, derived from the catalog (`reindex` rebuilds it)."""


@index_group.command("snapshot")
@click.argument("out", type=click.Path(path_type=Path, file_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print what was copied as JSON.")
@click.pass_context
def index_snapshot(ctx: click.Context, out: Path, as_json: bool) -> None:
    """Copy the index, brought up to the catalog first, to the new directory OUT while reading
    rooms and ingests go on using it; a replica serves the copy (at its recorded index path)."""
    from strongroom.commands.common import err
    from strongroom.index.snapshot import snapshot

    case = open_case(ctx)
    case.index.update(case.catalog)
    made = snapshot(case.index.root, out)
    if as_json:
        print_json(made.to_json())
        return
    err.print(
        f"copied the index ({made.documents} documents, items up to {made.last_num}, "
        f"{made.bytes / 1e6:.1f} MB) to {out}"
    )


COMMANDS = [index_group]

"""`strongroom batch FILE`: many names or terms at once, each with its count and first hits."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from strongroom.commands.common import open_case, out, print_json


@click.command("batch")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--csv",
    "csv_out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the results as CSV to this file ('-' for standard output).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the results as JSON.")
@click.option(
    "--hits",
    type=click.IntRange(min=0, max=100),
    default=5,
    show_default=True,
    help="How many first hits to give per line.",
)
@click.option("--column", help="For a .csv input: the column holding the queries.")
@click.pass_context
def batch(
    ctx: click.Context,
    file: Path,
    csv_out: Path | None,
    as_json: bool,
    hits: int,
    column: str | None,
) -> None:
    """Run every line of FILE as a query (a .csv file: every row's query column) and give each
    line's hit count and first hits. A line is a query in the search language; a line of two
    or more plain words (a name) is searched as the exact phrase. A line that is not a valid
    query gets its error in its row; the others still run."""
    from strongroom.annotate.batch import read_file, run_batch, write_csv
    from strongroom.catalog.audit import local_actor, record

    lines = read_file(file, column)
    case = open_case(ctx)
    rows = run_batch(case, lines, hits=hits)
    record(case.catalog, local_actor(), "batch", str(file), {"lines": len(rows)})
    if csv_out is not None:
        if str(csv_out) == "-":
            write_csv(rows, sys.stdout)
        else:
            with csv_out.open("w", newline="", encoding="utf-8") as handle:
                write_csv(rows, handle)
    if as_json:
        print_json([row.to_json() for row in rows])
    elif csv_out is None:
        for row in rows:
            result = f"error: {row.error}" if row.error else f"{row.count} hits"
            ids = " ".join(f"#{hit['id']}" for hit in row.hits)
            out.print(f"{row.line}\t{row.query}\t{result}\t{ids}", markup=False)
    if csv_out is not None and str(csv_out) != "-":
        failed = sum(1 for row in rows if row.error)
        out.print(f"wrote {csv_out}: {len(rows)} lines, {failed} with errors", markup=False)


COMMANDS = [batch]

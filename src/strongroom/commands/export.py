"""`strongroom export QUERY --format F OUT`: every item a search matches, written out."""

from __future__ import annotations

from pathlib import Path

import click

from strongroom.commands.common import open_case, out, print_json

FORMATS = ("mbox", "eml", "csv", "jsonl", "ftm")  # strongroom.export.FORMATS, without importing it


@click.command("export")
@click.argument("query")
@click.argument("out_path", metavar="OUT", type=click.Path(path_type=Path))
@click.option("--format", "fmt", type=click.Choice(FORMATS), required=True, help="What to write.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.pass_context
def export(ctx: click.Context, query: str, out_path: Path, fmt: str, as_json: bool) -> None:
    """Export every item matching QUERY ('' for all): mbox (one file) or eml (a folder, one
    <number>.eml per email) with the original bytes; csv (metadata, one row per item); jsonl
    (the full record per line); ftm (FollowTheMoney entities for Aleph). mbox and eml hold
    emails only; re-ingesting an exported mbox gives every message its original sha256 (see
    docs/investigate.md for the framing other mbox readers see). Audit-logged."""
    from strongroom.catalog.audit import local_actor
    from strongroom.export import export as run_export

    summary = run_export(open_case(ctx), query, fmt, out_path, local_actor())
    if as_json:
        print_json(summary)
        return
    out.print(
        f"wrote {summary['written']} of {summary['matched']} matching items to {out_path}",
        markup=False,
    )
    if summary.get("entities"):
        counts = ", ".join(f"{n} {schema}" for schema, n in sorted(summary["entities"].items()))
        out.print(f"entities: {counts}", markup=False)
    if summary.get("skipped"):
        out.print(f"skipped {len(summary['skipped'])} items that are not emails", markup=False)
    if summary.get("framed"):
        out.print(
            f"{summary['framed']} messages not found in an mbox are written mboxrd-quoted, their"
            " sha256 and length on the From_ line: strongroom's ingest restores their exact bytes",
            markup=False,
        )


COMMANDS = [export]

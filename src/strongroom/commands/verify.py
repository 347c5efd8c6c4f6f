"""`strongroom keys import|list` (the keyring of archived DKIM key records) and
`strongroom verify` (every DKIM signature and ARC chain of every email)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import click
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from strongroom.commands.common import Column, err, open_case, out, print_json, print_records


@click.group("keys")
def keys_group() -> None:
    """The keyring: DKIM key records archived from zone files (or fetched by `verify --dns`),
    each kept with where it came from, when, and the period it is valid for."""


@keys_group.command("import")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--valid-from", metavar="DATE", help="The records are valid from this date on.")
@click.option("--valid-to", metavar="DATE", help="The records are valid up to this date.")
@click.option("--json", "as_json", is_flag=True, help="Print what was imported as JSON.")
@click.pass_context
def keys_import(
    ctx: click.Context,
    file: Path,
    valid_from: str | None,
    valid_to: str | None,
    as_json: bool,
) -> None:
    """Import the DKIM key records of a zone file: lines like
    `sel._domainkey.example.org. IN TXT "v=DKIM1; k=rsa; p=..."`. Emails are checked with
    them at the next `verify`; a record with a validity period answers only for messages
    dated inside it."""
    case = open_case(ctx)
    result = case.import_keys(file, valid_from, valid_to)
    if as_json:
        print_json(result.to_json())
        return
    err.print(
        f"imported {result.added} key record(s) from {escape(str(file))}"
        + (f", {result.already_present} already in the keyring" if result.already_present else "")
    )
    for line, why in result.skipped:
        err.print(f"  line {line} skipped: {escape(why)}")


def _validity(row: dict[str, Any]) -> str:
    if not (row["valid_from"] or row["valid_to"]):
        return "always"
    return f"{(row['valid_from'] or '…')[:10]} to {(row['valid_to'] or '…')[:10]}"


@keys_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print the keyring as JSON.")
@click.pass_context
def keys_list(ctx: click.Context, as_json: bool) -> None:
    """List the keyring's records."""
    rows = open_case(ctx).keys()
    columns: list[Column] = [
        ("id", lambda r: str(r["id"])),
        ("name", lambda r: f"{r['selector']}._domainkey.{r['domain']}"),
        ("source", lambda r: r["source"]),
        ("obtained", lambda r: r["obtained_at"][:10]),
        ("valid", _validity),
        ("record", lambda r: r["record"] if len(r["record"]) <= 48 else r["record"][:45] + "..."),
    ]
    print_records(rows, as_json, columns, box=None)
    if not as_json and not rows:
        out.print("the keyring is empty: strongroom keys import FILE")


@click.command("verify")
@click.option(
    "--dns",
    is_flag=True,
    help="Fetch key records the keyring lacks from live DNS (stored with the time fetched).",
)
@click.option(
    "--workers", type=click.IntRange(min=1), help="Worker processes (default: all cores)."
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON summary, no progress bar.")
@click.pass_context
def verify_command(ctx: click.Context, dns: bool, workers: int | None, as_json: bool) -> None:
    """Check every DKIM signature and ARC chain of every email not yet verified (or whose keys
    changed) against its stored bytes and the keyring, judged at the message's own time. Ingest
    runs this by default; search the results with is:verified is:dkim-fail is:unsigned
    dkim:DOMAIN, and read them with `show N --json`."""
    case = open_case(ctx)
    count = workers or max(1, os.cpu_count() or 1)
    if as_json or not err.is_terminal:
        stats = case.verify(workers=count, dns=dns)
    else:
        with Progress(
            TextColumn("[bold]verify"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            console=err,
        ) as bar:
            task = bar.add_task("verify", total=None)

            def advance(done: int, total: int) -> None:
                bar.update(task, completed=done, total=total)

            stats = case.verify(workers=count, dns=dns, progress=advance)
    summary: dict[str, Any] = stats.to_json()
    if as_json:
        print_json(summary)
        return
    table = Table(show_header=False, box=None)
    table.add_row("checked", f"{summary['checked']} emails ({summary['messages_per_second']}/s)")
    for name, label in (("this_run", "this run"), ("case", "whole case")):
        parts = ", ".join(f"{k} {v}" for k, v in sorted(summary[name].items()))
        table.add_row(label, parts or "nothing to do")
    if dns:
        table.add_row("keys fetched", str(summary["keys_fetched"]))
    out.print(table)
    for line in summary["dns_missing"]:
        err.print(f"[yellow]dns[/yellow] {escape(line)}")


COMMANDS = [keys_group, verify_command]

"""`strongroom pii scan|review|decide|words`: find personal data, and decide what a release
hides."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import click
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from strongroom.catalog.audit import local_actor
from strongroom.commands.common import err, open_case, out, print_json
from strongroom.errors import UsageError

STATUS_CHOICE = click.Choice(["undecided", "accepted", "rejected", "generalised"])


@click.group("pii")
def pii_group() -> None:
    """Personal data: scan the case for card numbers, SSNs, phone numbers, IBANs, routing and
    passport numbers, e-mail and IP addresses, dates of birth and the case's own word lists;
    review each finding; decide what a release hides. Search the results with is:pii,
    pii:TYPE and is:redacted."""


@pii_group.command("scan")
@click.option(
    "--workers", type=click.IntRange(min=1), help="Worker processes (default: all cores)."
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON summary, no progress bar.")
@click.pass_context
def scan_command(ctx: click.Context, workers: int | None, as_json: bool) -> None:
    """Scan email headers and bodies and attachment and document text for personal data. Only
    items not yet scanned with the current detector (and word lists) are scanned, so a rerun,
    or a run after an interrupted one, does only what is left."""
    from strongroom.pii.scan import scan_case

    case = open_case(ctx)
    count = workers or max(1, os.cpu_count() or 1)
    if as_json or not err.is_terminal:
        stats = scan_case(case.catalog, case.index, workers=count)
    else:
        with Progress(
            TextColumn("[bold]pii scan"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            console=err,
        ) as bar:
            task = bar.add_task("scan", total=None)

            def advance(done: int, total: int) -> None:
                bar.update(task, completed=done, total=total)

            stats = scan_case(case.catalog, case.index, workers=count, progress=advance)
    summary: dict[str, Any] = stats.to_json()
    if as_json:
        print_json(summary)
        return
    out.print(
        f"scanned {summary['scanned']} items ({summary['items_per_second']}/s), "
        f"{summary['findings']} findings; detector {summary['detector_version']}"
    )
    _print_counts(summary["case"])


def _print_counts(counts: dict[str, dict[str, int]]) -> None:
    table = Table("type", "findings", "undecided", "accepted", "rejected", "generalised", box=None)
    for kind, by_status in sorted(counts.items()):
        table.add_row(
            kind,
            str(sum(by_status.values())),
            *(
                str(by_status.get(s, 0))
                for s in ("undecided", "accepted", "rejected", "generalised")
            ),
        )
    out.print(table if counts else "no findings")


@pii_group.command("review")
@click.option("--type", "types", multiple=True, metavar="TYPE", help="Only this type (repeatable).")
@click.option("--status", type=STATUS_CHOICE, help="Only findings with this decision.")
@click.option("--query", default="", metavar="QUERY", help="Only items a search query finds.")
@click.option("--limit", type=click.IntRange(min=1), default=100, show_default=True)
@click.option("--offset", type=click.IntRange(min=0), default=0)
@click.option("--json", "as_json", is_flag=True, help="Print the findings as JSON.")
@click.pass_context
def review_command(
    ctx: click.Context,
    types: tuple[str, ...],
    status: str | None,
    query: str,
    limit: int,
    offset: int,
    as_json: bool,
) -> None:
    """List findings with the text around each, to decide on them with `pii decide`."""
    from strongroom.pii.decisions import Filter, review

    page = review(open_case(ctx), Filter(types, status, query), limit=limit, offset=offset)
    if as_json:
        print_json(page)
        return
    table = Table("id", "item", "where", "type", "score", "status", "in context", box=None)
    for f in page["findings"]:
        before, after = escape(f["before"][-40:]), escape(f["after"][:40])
        snippet = f"…{before} [bold]{escape(f['value'])}[/bold] {after}…"
        table.add_row(
            str(f["id"]),
            str(f["item"]),
            escape(f["where"]),
            f["type"],
            f"{f['score']:.2f}",
            f["status"],
            snippet if f["before"] or f["after"] else escape(f["value"]),
        )
    out.print(table)
    shown = len(page["findings"])
    err.print(f"{shown} of {page['total']} findings shown (from {offset})")


@pii_group.command("decide")
@click.argument("args", nargs=-1, required=True, metavar="[ID]... accept|reject|generalise")
@click.option("--type", "types", multiple=True, metavar="TYPE", help="Bulk: findings of this type.")
@click.option("--query", default="", metavar="QUERY", help="Bulk: findings in items it finds.")
@click.option("--status", type=STATUS_CHOICE, help="Bulk: findings with this decision.")
@click.option("--json", "as_json", is_flag=True, help="Print what was decided as JSON.")
@click.pass_context
def decide_command(
    ctx: click.Context,
    args: tuple[str, ...],
    types: tuple[str, ...],
    query: str,
    status: str | None,
    as_json: bool,
) -> None:
    """Decide findings: accept (redact it in its item), reject (keep it), generalise (redact
    the value everywhere in the case). Name findings by id, or decide in bulk with --type,
    --query and --status (bulk decisions without --status apply to undecided findings only).
    Every decision goes to the audit log with who made it ($STRONGROOM_USER or the login)."""
    from strongroom.pii.decisions import DECISIONS, Filter, decide, decide_bulk

    *ids_given, decision = args
    if decision not in DECISIONS:
        raise UsageError(
            f"the last argument must be accept, reject or generalise, not {decision!r}"
        )
    case = open_case(ctx)
    actor = local_actor()
    if ids_given:
        if types or query or status:
            raise UsageError("give finding ids, or --type/--query/--status, not both")
        bad = [i for i in ids_given if not i.isdigit() or int(i) >= 2**63]
        if bad:
            raise UsageError(f"not a finding id: {', '.join(bad)}")
        changed = decide(case, [int(i) for i in ids_given], decision, actor)
    else:
        flt = Filter(types, status or "undecided", query)
        changed = decide_bulk(case, flt, decision, actor)
    if as_json:
        print_json({"decision": decision, "findings": changed, "by": actor})
        return
    out.print(f"{decision}: {changed} finding(s), by {escape(actor)}")


@pii_group.group("words")
def words_group() -> None:
    """The case's word lists (names of private persons, medical or financial terms); each list
    is a type of its own, searchable as pii:NAME after the next scan."""


@words_group.command("add")
@click.argument("name")
@click.argument("file", type=click.Path(path_type=Path))
@click.pass_context
def words_add(ctx: click.Context, name: str, file: Path) -> None:
    """Add the words of FILE (UTF-8, one word or phrase per line, # comments) to list NAME.
    The next `pii scan` rescans the case with the changed lists."""
    from strongroom.pii.words import add_words

    total, added = add_words(open_case(ctx).catalog, name, file, local_actor())
    out.print(f"{name}: {added} new of {total} words in {escape(str(file))}")


@words_group.command("list")
@click.argument("name", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print the lists as JSON.")
@click.pass_context
def words_list(ctx: click.Context, name: str | None, as_json: bool) -> None:
    """The word lists with their sizes, or the words of list NAME."""
    from strongroom.pii.words import word_lists

    lists = word_lists(open_case(ctx).catalog)
    if name is not None:
        if name not in lists:
            raise UsageError(f"no word list {name!r}", hint="strongroom pii words add NAME FILE")
        lists = {name: lists[name]}
    if as_json:
        print_json(lists)
        return
    if name is not None:
        for word in lists[name]:
            out.print(escape(word))
        return
    for list_name, words in sorted(lists.items()):
        out.print(f"{list_name}\t{len(words)} words")
    if not lists:
        out.print("no word lists: strongroom pii words add NAME FILE")


COMMANDS = [pii_group]

"""`strongroom analyze run|entities`: people, pattern entities and languages (ingest runs
them for new items; `run` catches up a case ingested before they existed)."""

from __future__ import annotations

import click
from rich.markup import escape
from rich.table import Table

from strongroom.commands.common import open_case, out, print_json


@click.group("analyze")
def analyze_group() -> None:
    """Analyses of the text and correspondents: people (person:ID, org:DOMAIN), pattern
    entities (addresses, phone numbers, URLs, IBANs, money, dates) and languages (lang:CODE)."""


@analyze_group.command("run")
@click.option(
    "--workers", type=click.IntRange(min=1), help="Worker processes (default: all cores)."
)
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.pass_context
def analyze_run(ctx: click.Context, workers: int | None, as_json: bool) -> None:
    """Analyse every item not yet analysed by this version, regroup people, update the index."""
    import os

    from strongroom.analyze.entities import analyse_case

    case = open_case(ctx)
    case.index.update(case.catalog)
    summary = analyse_case(case.catalog, case.index, workers or max(1, os.cpu_count() or 1))
    if as_json:
        print_json(summary)
        return
    texts, people = summary["texts"], summary["people"]
    out.print(f"texts analysed: {texts['analysed']}, entities found: {texts['entities']}")
    out.print("languages: " + ", ".join(f"{k} {v}" for k, v in texts["languages"].items()))
    out.print(
        f"people: {people['people']} from {people['addresses']} addresses "
        f"({people['merged_people']} with more than one; {people['suggestions']} suggested)"
    )


@analyze_group.command("entities")
@click.argument("item")
@click.option("--kind", multiple=True, help="Only these kinds (email, phone, url, iban, ...).")
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@click.pass_context
def analyze_entities(ctx: click.Context, item: str, kind: tuple[str, ...], as_json: bool) -> None:
    """The entities found in an item's text, with their character offsets, and its language."""
    from strongroom.analyze.entities import item_entities

    case = open_case(ctx)
    num = case.item(item)["num"]
    data = {"item": num, **item_entities(case.catalog, num)}
    if kind:
        data["entities"] = [e for e in data["entities"] if e["kind"] in kind]
    if as_json:
        print_json(data)
        return
    if not data["analysed"]:
        out.print(f"item {num} has no analysed text (run: strongroom analyze run)")
        return
    out.print(f"item {num}: language {data['lang'] or 'undetermined'}")
    table = Table("kind", "start", "end", "as written", "value", box=None)
    for e in data["entities"]:
        table.add_row(
            e["kind"], str(e["start"]), str(e["end"]), escape(e["text"]), escape(e["value"])
        )
    out.print(table)


COMMANDS = [analyze_group]

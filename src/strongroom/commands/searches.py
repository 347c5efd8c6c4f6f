"""`strongroom searches ...`: saved searches, and alerts when an ingest adds matching items."""

from __future__ import annotations

import click

from strongroom.commands.common import open_case, out, print_json


@click.group("searches")
def searches_group() -> None:
    """Saved searches. After every ingest, new items matching a saved search are recorded as
    alerts until the search is marked seen."""


@searches_group.command("save")
@click.argument("name")
@click.argument("query")
@click.pass_context
def searches_save(ctx: click.Context, name: str, query: str) -> None:
    """Save QUERY as NAME (replacing a search of that name). Only items added after now alert."""
    from strongroom.annotate import save_search
    from strongroom.catalog.audit import local_actor

    case = open_case(ctx)
    saved = save_search(case, name, query, local_actor())
    out.print(f"saved {saved['name']!r}: {saved['query']}", markup=False)


@searches_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@click.pass_context
def searches_list(ctx: click.Context, as_json: bool) -> None:
    """Every saved search with its number of unseen alerts."""
    from strongroom.annotate import list_searches

    searches = list_searches(open_case(ctx))
    if as_json:
        print_json(searches)
        return
    for search in searches:
        out.print(f"{search['name']}\t{search['unseen']} new\t{search['query']}", markup=False)


@searches_group.command("alerts")
@click.argument("name", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@click.pass_context
def searches_alerts(ctx: click.Context, name: str | None, as_json: bool) -> None:
    """New items matching a saved search (NAME, or every one) not yet marked seen."""
    from strongroom.annotate import alerts

    found = alerts(open_case(ctx), name)
    if as_json:
        print_json(found)
        return
    if not found:
        out.print(
            "no new items for any saved search" if name is None else f"no new items for {name!r}",
            markup=False,
        )
    for alert in found:
        out.print(
            f"{alert['search']}: #{alert['id']} {(alert['date'] or '')[:10]} "
            f"{alert['from'] or ''} {alert['title'] or ''}",
            markup=False,
        )


@searches_group.command("seen")
@click.argument("name")
@click.pass_context
def searches_seen(ctx: click.Context, name: str) -> None:
    """Mark a saved search's alerts seen."""
    from strongroom.annotate import mark_seen
    from strongroom.catalog.audit import local_actor

    count = mark_seen(open_case(ctx), name, local_actor())
    out.print(f"{count} alert(s) marked seen", markup=False)


@searches_group.command("delete")
@click.argument("name")
@click.pass_context
def searches_delete(ctx: click.Context, name: str) -> None:
    """Delete a saved search and its alerts."""
    from strongroom.annotate import delete_search
    from strongroom.catalog.audit import local_actor

    delete_search(open_case(ctx), name, local_actor())
    out.print(f"deleted {name!r}", markup=False)


COMMANDS = [searches_group]

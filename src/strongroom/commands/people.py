"""`strongroom people list|show|merge|split|undo|decisions`: correspondents grouped into
people, each grouping with its reason; users' merges and splits override the rules."""

from __future__ import annotations

from typing import Any

import click
from rich.markup import escape

from strongroom.commands.common import Column, open_case, out, print_json, print_records


@click.group("people")
def people_group() -> None:
    """Correspondents grouped into people: addresses written with the same name at one
    organisation, or a reply from a second address (docs/people.md). Search a person's mail
    with person:ID, an organisation's with org:DOMAIN."""


@people_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print every person as JSON.")
@click.option("--merged", is_flag=True, help="Only people with more than one address.")
@click.pass_context
def people_list(ctx: click.Context, as_json: bool, merged: bool) -> None:
    """List people, most mail first, with their addresses."""
    from strongroom.analyze.people import list_people

    rows = list_people(open_case(ctx).catalog)
    if merged:
        rows = [p for p in rows if len(p["addresses"]) > 1]
    columns: list[Column] = [
        ("id", lambda p: str(p["id"])),
        ("name", lambda p: p["name"]),
        ("messages", lambda p: str(p["messages"])),
        ("addresses", lambda p: ", ".join(a["address"] for a in p["addresses"])),
    ]
    print_records(rows, as_json, columns, box=None)
    if not as_json:
        out.print(f"{len(rows)} people")


@people_group.command("show")
@click.argument("person_id", metavar="ID", type=int)
@click.option("--json", "as_json", is_flag=True, help="Print the person as JSON.")
@click.pass_context
def people_show(ctx: click.Context, person_id: int, as_json: bool) -> None:
    """A person: addresses and names, why they are grouped, mail by month, first and last
    message, top correspondents."""
    from strongroom.analyze.people import person

    data = person(open_case(ctx).catalog, person_id)
    if as_json:
        print_json(data)
        return
    if not data["active"]:
        out.print(f"person {person_id} was merged into person {data['merged_into']}")
        return
    out.print(f"[bold]{escape(data['name'])}[/bold] (person {person_id})")
    for a in data["addresses"]:
        names = ", ".join(f"{n} ({c})" for n, c in a["names"])
        out.print(f"  {escape(a['address'])}  {a['messages']} messages  {escape(names)}")
    for link in data["links"]:
        out.print(f"  [green]{link['rule']}[/green] {escape(link['a'])} = {escape(link['b'])}: ")
        out.print(f"    {escape(link['reason'])}")
    for link in data["suggestions"]:
        out.print(f"  [yellow]suggested[/yellow] {escape(link['a'])} ? {escape(link['b'])}: ")
        out.print(f"    {escape(link['reason'])}")
    act: dict[str, Any] = data["activity"]
    out.print(f"messages: {act['messages']}")
    for end in ("first", "last"):
        if act[end]:
            m = act[end]
            out.print(f"{end}: #{m['id']} {m['date']} {escape(m['subject'] or '')}")
    for month in act["months"]:
        out.print(f"  {month['month']} {'#' * min(month['count'], 60)} {month['count']}")
    for other in data["top_correspondents"][:10]:
        out.print(
            f"  {escape(other['name'])}: wrote to {other['sent_to']}, "
            f"heard from {other['received_from']}"
        )


def _actor() -> str:
    from strongroom.catalog.audit import local_actor

    return local_actor()


@people_group.command("merge")
@click.argument("first", metavar="A")
@click.argument("second", metavar="B")
@click.option("--note", default="", help="Why (kept with the decision and in the audit log).")
@click.pass_context
def people_merge(ctx: click.Context, first: str, second: str, note: str) -> None:
    """Record that A and B (person ids or addresses) are one person. Overrides the rules and
    survives re-analysis; `people undo DECISION` takes it back."""
    from strongroom.analyze.people import merge

    case = open_case(ctx)
    result = merge(case.catalog, first, second, _actor(), note)
    case.index.refresh(case.catalog, result["stats"].changed)
    out.print(f"decision {result['decision']}: now person {result['person']}")


@people_group.command("split")
@click.argument("address")
@click.option("--note", default="", help="Why (kept with the decision and in the audit log).")
@click.pass_context
def people_split(ctx: click.Context, address: str, note: str) -> None:
    """Take ADDRESS out of the person it was grouped into: no rule groups it again (a later
    `people merge` can); `people undo DECISION` takes it back."""
    from strongroom.analyze.people import split

    case = open_case(ctx)
    result = split(case.catalog, address, _actor(), note)
    case.index.refresh(case.catalog, result["stats"].changed)
    out.print(f"decision {result['decision']}: {escape(address)} is now person {result['person']}")


@people_group.command("undo")
@click.argument("decision", type=int)
@click.pass_context
def people_undo(ctx: click.Context, decision: int) -> None:
    """Undo a merge or split (see `people decisions`)."""
    from strongroom.analyze.people import undo

    case = open_case(ctx)
    result = undo(case.catalog, decision, _actor())
    case.index.refresh(case.catalog, result["stats"].changed)
    out.print(f"decision {decision} ({result['undone']}) undone")


@people_group.command("decisions")
@click.option("--json", "as_json", is_flag=True, help="Print the decisions as JSON.")
@click.pass_context
def people_decisions(ctx: click.Context, as_json: bool) -> None:
    """Users' merges and splits, undone ones included."""
    from strongroom.analyze.people import decisions

    rows = decisions(open_case(ctx).catalog)
    columns: list[Column] = [
        ("id", lambda d: str(d["id"])),
        ("at", lambda d: d["at"][:19]),
        ("by", lambda d: d["actor"]),
        ("action", lambda d: d["action"]),
        ("addresses", lambda d: " + ".join(x for x in (d["a"], d["b"]) if x)),
        ("note", lambda d: d["note"]),
        ("undone", lambda d: (d["revoked_at"] or "")[:10]),
    ]
    print_records(rows, as_json, columns, box=None)


COMMANDS = [people_group]

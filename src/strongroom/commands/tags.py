"""`strongroom tag ...` and `strongroom note ...`: tags and notes on items."""

from __future__ import annotations

import click
from rich.markup import escape

from strongroom.case import Case
from strongroom.commands.common import open_case, out, print_json
from strongroom.errors import UsageError


def _numbers(case: Case, keys: tuple[str, ...], query: str | None) -> list[int]:
    """Item numbers from numbers or sha256s given, and from the hits of --query."""
    from strongroom.annotate import matching_nums

    if not keys and query is None:
        raise UsageError("name the items: item numbers or sha256s, or --query QUERY")
    nums = {int(case.item(key)["num"]) for key in keys}
    if query is not None:
        nums.update(matching_nums(case, query))
    return sorted(nums)


@click.group("tag")
def tag_group() -> None:
    """Tags on items, searchable as tag:NAME (and is:tagged). Every change is audit-logged."""


@tag_group.command("add")
@click.argument("tag")
@click.argument("items", nargs=-1)
@click.option("--query", help="Also tag every item this search matches.")
@click.pass_context
def tag_add(ctx: click.Context, tag: str, items: tuple[str, ...], query: str | None) -> None:
    """Tag items given by number or sha256 (and/or every hit of --query)."""
    from strongroom.annotate import add_tags
    from strongroom.catalog.audit import local_actor

    case = open_case(ctx)
    nums = _numbers(case, items, query)
    added = add_tags(case, tag, nums, local_actor())
    out.print(f"tagged {len(added)} item(s); {len(nums) - len(added)} already had the tag")


@tag_group.command("remove")
@click.argument("tag")
@click.argument("items", nargs=-1)
@click.option("--query", help="Also untag every item this search matches.")
@click.pass_context
def tag_remove(ctx: click.Context, tag: str, items: tuple[str, ...], query: str | None) -> None:
    """Remove a tag from items given by number or sha256 (and/or every hit of --query)."""
    from strongroom.annotate import remove_tags
    from strongroom.catalog.audit import local_actor

    case = open_case(ctx)
    removed = remove_tags(case, tag, _numbers(case, items, query), local_actor())
    out.print(f"removed the tag from {len(removed)} item(s)")


@tag_group.command("list")
@click.argument("tag", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@click.pass_context
def tag_list(ctx: click.Context, tag: str | None, as_json: bool) -> None:
    """Every tag with its number of items, or the items carrying TAG."""
    from strongroom.annotate import tag_counts, tagged_items

    case = open_case(ctx)
    if tag is None:
        counts = tag_counts(case)
        if as_json:
            print_json(counts)
            return
        for entry in counts:
            out.print(f"{entry['tag']}\t{entry['items']}", markup=False)
        return
    items = tagged_items(case, tag)
    if as_json:
        print_json(items)
        return
    for item in items:
        out.print(
            f"#{item['id']} {item['kind']} {item['title'] or ''} "
            f"(tagged by {item['by']} {item['at'][:19]})",
            markup=False,
        )


@click.group("note")
def note_group() -> None:
    """Notes on items (searchable as is:noted). Notes are kept, never edited away."""


@note_group.command("add")
@click.argument("item")
@click.argument("text")
@click.pass_context
def note_add(ctx: click.Context, item: str, text: str) -> None:
    """Add a note to an item (by number or sha256)."""
    from strongroom.annotate import add_note
    from strongroom.catalog.audit import local_actor

    case = open_case(ctx)
    note = add_note(case, int(case.item(item)["num"]), text, local_actor())
    out.print(f"note {note['id']} added to #{note['item']}")


@note_group.command("list")
@click.argument("item")
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@click.pass_context
def note_list(ctx: click.Context, item: str, as_json: bool) -> None:
    """The notes on an item, oldest first."""
    from strongroom.annotate import notes_of

    case = open_case(ctx)
    notes = notes_of(case, int(case.item(item)["num"]))
    if as_json:
        print_json(notes)
        return
    for note in notes:
        out.print(f"[bold]{escape(note['by'])}[/bold] {note['at'][:19]}")
        out.print(note["text"], markup=False)


COMMANDS = [tag_group, note_group]

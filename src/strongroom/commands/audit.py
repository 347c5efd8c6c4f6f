"""`strongroom audit`: the append-only audit log (logins, searches, views, downloads, exports
and every decision recorded by a capability), newest first."""

from __future__ import annotations

import json

import click
from rich.markup import escape
from rich.table import Table

from strongroom.commands.common import open_case, out, print_json


@click.command("audit")
@click.option("--action", default="", help="Only actions starting with this, e.g. login.")
@click.option("--limit", type=click.IntRange(min=1), default=200, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print the events as JSON.")
@click.pass_context
def audit(ctx: click.Context, action: str, limit: int, as_json: bool) -> None:
    """Show the audit log, newest first."""
    from strongroom.catalog.audit import events

    found = events(open_case(ctx).catalog, action_prefix=action or None, limit=limit)
    if as_json:
        print_json(found)
        return
    table = Table("#", "when (UTC)", "who", "what", "target", "detail")
    for event in found:
        table.add_row(
            str(event["id"]),
            event["at"][:19],
            escape(event["actor"]),
            escape(event["action"]),
            escape(event["target"] or ""),
            escape(json.dumps(event["detail"], ensure_ascii=False)),
        )
    out.print(table)


COMMANDS = [audit]

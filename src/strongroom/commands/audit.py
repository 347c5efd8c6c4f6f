"""`strongroom audit`: the append-only audit log (logins, searches, views, downloads, exports
and every decision recorded by a capability), newest first."""

from __future__ import annotations

import json

import click

from strongroom.commands.common import Column, open_case, print_records


@click.command("audit")
@click.option("--action", default="", help="Only actions starting with this, e.g. login.")
@click.option("--limit", type=click.IntRange(min=1), default=200, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print the events as JSON.")
@click.pass_context
def audit(ctx: click.Context, action: str, limit: int, as_json: bool) -> None:
    """Show the audit log, newest first."""
    from strongroom.catalog.audit import events

    found = events(open_case(ctx).catalog, action_prefix=action or None, limit=limit)
    columns: list[Column] = [
        ("#", lambda e: str(e["id"])),
        ("when (UTC)", lambda e: e["at"][:19]),
        ("who", lambda e: e["actor"]),
        ("what", lambda e: e["action"]),
        ("target", lambda e: e["target"] or ""),
        ("detail", lambda e: json.dumps(e["detail"], ensure_ascii=False)),
    ]
    print_records(found, as_json, columns)


COMMANDS = [audit]

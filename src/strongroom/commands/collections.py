"""`strongroom collections list|grant|revoke|public`: the named parts of a case an ingest goes
into (`ingest --collection NAME`), who may read them, and which the public may read."""

from __future__ import annotations

import click
from rich.markup import escape

from strongroom.commands.common import Column, err, open_case, print_records


@click.group("collections")
def collections_group() -> None:
    """Collections: every ingest goes into one (`ingest --collection NAME`, default
    "default"); an item found in two is in both. A collection is private unless made public;
    on a server with accounts a reader sees public collections and those granted to them."""


@collections_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print the collections as JSON.")
@click.pass_context
def collections_list(ctx: click.Context, as_json: bool) -> None:
    """List collections with their item counts, public flag and readers."""
    from strongroom.accounts.collections import assign_unassigned, list_collections

    case = open_case(ctx)
    added = assign_unassigned(case.catalog)  # a case from before collections
    if added:
        case.index.refresh(case.catalog, added)
    collections = list_collections(case.catalog)
    columns: list[Column] = [
        ("name", lambda c: c["name"]),
        ("items", lambda c: str(c["items"])),
        ("public", lambda c: "yes" if c["public"] else "no"),
        ("readers", lambda c: ", ".join(c["readers"])),
    ]
    print_records(collections, as_json, columns)


@collections_group.command("grant")
@click.argument("user")
@click.argument("collection")
@click.pass_context
def collections_grant(ctx: click.Context, user: str, collection: str) -> None:
    """Let USER read COLLECTION."""
    from strongroom.accounts.admin import grant_collection
    from strongroom.catalog.audit import local_actor

    grant_collection(open_case(ctx).catalog, local_actor(), user, collection)
    err.print(f"{escape(user)} may read {escape(collection)}")


@collections_group.command("revoke")
@click.argument("user")
@click.argument("collection")
@click.pass_context
def collections_revoke(ctx: click.Context, user: str, collection: str) -> None:
    """Take back USER's grant on COLLECTION."""
    from strongroom.accounts.admin import revoke_collection
    from strongroom.catalog.audit import local_actor

    revoke_collection(open_case(ctx).catalog, local_actor(), user, collection)
    err.print(f"{escape(user)} may no longer read {escape(collection)}")


@collections_group.command("public")
@click.argument("collection")
@click.argument("state", type=click.Choice(["on", "off"]))
@click.pass_context
def collections_public(ctx: click.Context, collection: str, state: str) -> None:
    """Open COLLECTION to anonymous readers (on), or close it again (off)."""
    from strongroom.accounts.admin import make_public
    from strongroom.catalog.audit import local_actor

    make_public(open_case(ctx).catalog, local_actor(), collection, state == "on")
    err.print(f"{escape(collection)} is {'public' if state == 'on' else 'private'}")


COMMANDS = [collections_group]

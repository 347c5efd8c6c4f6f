"""`strongroom users add|remove|passwd|role|list|token|tokens|revoke-token`: the accounts of a
server with `serve --accounts` (roles: reader, editor, admin)."""

from __future__ import annotations

import sys

import click
from rich.markup import escape

from strongroom.accounts import ROLES
from strongroom.commands.common import Column, err, open_case, print_records
from strongroom.errors import NotFound, UsageError


def _password(password_stdin: bool) -> str:
    if password_stdin:
        line = sys.stdin.readline().rstrip("\r\n")
        if not line:
            raise UsageError("no password on standard input")
        return line
    value: str = click.prompt("Password", hide_input=True, confirmation_prompt=True, err=True)
    return value


def _record(ctx: click.Context, action: str, target: str, detail: dict[str, str]) -> None:
    from strongroom.catalog.audit import local_actor, record

    record(open_case(ctx).catalog, local_actor(), action, target, detail)


@click.group("users")
def users_group() -> None:
    """Accounts of the reading room served with `serve --accounts`: admins see everything
    and read the audit log, editors annotate and tag, readers read; non-admins read public
    collections and those granted to them (`collections grant`)."""


@users_group.command("add")
@click.argument("name")
@click.option("--role", type=click.Choice(ROLES), default="reader", show_default=True)
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@click.pass_context
def users_add(ctx: click.Context, name: str, role: str, password_stdin: bool) -> None:
    """Add a user (the password is asked for twice, or read from standard input)."""
    from strongroom.accounts.admin import add
    from strongroom.catalog.audit import local_actor

    add(open_case(ctx).catalog, local_actor(), name, role, _password(password_stdin))
    err.print(f"added {escape(name)} ({role})")


@users_group.command("remove")
@click.argument("name")
@click.pass_context
def users_remove(ctx: click.Context, name: str) -> None:
    """Remove a user with their sessions, API tokens and grants."""
    from strongroom.accounts.admin import remove
    from strongroom.catalog.audit import local_actor

    remove(open_case(ctx).catalog, local_actor(), name)
    err.print(f"removed {escape(name)}")


@users_group.command("passwd")
@click.argument("name")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@click.pass_context
def users_passwd(ctx: click.Context, name: str, password_stdin: bool) -> None:
    """Set a user's password; their open sessions end."""
    from strongroom.accounts.admin import change_password
    from strongroom.catalog.audit import local_actor

    change_password(open_case(ctx).catalog, local_actor(), name, _password(password_stdin))
    err.print(f"changed the password of {escape(name)}")


@users_group.command("role")
@click.argument("name")
@click.argument("role", type=click.Choice(ROLES))
@click.pass_context
def users_role(ctx: click.Context, name: str, role: str) -> None:
    """Change a user's role."""
    from strongroom.accounts.admin import change_role
    from strongroom.catalog.audit import local_actor

    change_role(open_case(ctx).catalog, local_actor(), name, role)
    err.print(f"{escape(name)} is now a {role}")


@users_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print the users as JSON.")
@click.pass_context
def users_list(ctx: click.Context, as_json: bool) -> None:
    """List users, their roles and the collections granted to them."""
    from strongroom.accounts.users import list_users

    users = list_users(open_case(ctx).catalog)
    columns: list[Column] = [
        ("name", lambda u: u["name"]),
        ("role", lambda u: u["role"]),
        (
            "may read",
            lambda u: "everything" if u["role"] == "admin" else ", ".join(u["collections"]),
        ),
        ("since", lambda u: u["created_at"][:10]),
    ]
    print_records(users, as_json, columns)


@users_group.command("token")
@click.argument("name")
@click.option("--label", default="", help="What the token is for.")
@click.pass_context
def users_token(ctx: click.Context, name: str, label: str) -> None:
    """Create an API token for scripts: `Authorization: Bearer TOKEN`. It is printed once."""
    from strongroom.accounts.sessions import create_token
    from strongroom.accounts.users import get_user

    case = open_case(ctx)
    user = get_user(case.catalog, name)
    if user is None:
        raise NotFound(f"no user {name}", hint="add one with: strongroom users add")
    token = create_token(case.catalog, user, label)
    _record(ctx, "token.create", name, {"label": label})
    click.echo(token)


@users_group.command("tokens")
@click.argument("name", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print the tokens as JSON.")
@click.pass_context
def users_tokens(ctx: click.Context, name: str | None, as_json: bool) -> None:
    """List API tokens (never their secrets)."""
    from strongroom.accounts.sessions import list_tokens

    tokens = list_tokens(open_case(ctx).catalog, name)
    columns: list[Column] = [
        ("id", lambda t: str(t["id"])),
        ("user", lambda t: t["user_name"]),
        ("label", lambda t: t["label"]),
        ("created", lambda t: t["created_at"][:19]),
    ]
    print_records(tokens, as_json, columns)


@users_group.command("revoke-token")
@click.argument("token_id", type=int)
@click.pass_context
def users_revoke_token(ctx: click.Context, token_id: int) -> None:
    """Revoke an API token by its id (see `users tokens`)."""
    from strongroom.accounts.sessions import revoke_token

    revoke_token(open_case(ctx).catalog, token_id)
    _record(ctx, "token.revoke", str(token_id), {})
    err.print(f"revoked token {token_id}")


COMMANDS = [users_group]

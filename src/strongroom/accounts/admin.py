"""Account administration as one actor's audited changes: the `users` and `collections`
commands and the reading room's admin pages both call these, so a change made either way is
checked the same way and lands in the audit log under the same action name."""

from __future__ import annotations

from strongroom.accounts.collections import grant, revoke, set_public
from strongroom.accounts.users import User, add_user, remove_user, set_password, set_role
from strongroom.catalog.audit import record
from strongroom.catalog.store import Catalog


def add(catalog: Catalog, actor: str, name: str, role: str, password: str) -> User:
    user = add_user(catalog, name, role, password)
    record(catalog, actor, "user.add", name, {"role": role})
    return user


def remove(catalog: Catalog, actor: str, name: str) -> None:
    remove_user(catalog, name)
    record(catalog, actor, "user.remove", name, {})


def change_password(catalog: Catalog, actor: str, name: str, password: str) -> None:
    set_password(catalog, name, password)
    record(catalog, actor, "user.passwd", name, {})  # never the password, nor its hash


def change_role(catalog: Catalog, actor: str, name: str, role: str) -> None:
    set_role(catalog, name, role)
    record(catalog, actor, "user.role", name, {"role": role})


def grant_collection(catalog: Catalog, actor: str, user: str, collection: str) -> None:
    grant(catalog, user, collection)
    record(catalog, actor, "grant", collection, {"user": user})


def revoke_collection(catalog: Catalog, actor: str, user: str, collection: str) -> None:
    revoke(catalog, user, collection)
    record(catalog, actor, "revoke", collection, {"user": user})


def make_public(catalog: Catalog, actor: str, collection: str, public: bool) -> None:
    set_public(catalog, collection, public)
    record(catalog, actor, "collection.public", collection, {"public": "on" if public else "off"})

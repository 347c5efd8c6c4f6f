"""Users, roles and passwords (argon2id), and logging in with a rate limit per user and IP."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, select, update

from strongroom.accounts import ROLES
from strongroom.catalog.store import Catalog, now
from strongroom.catalog.tables_accounts import (
    api_tokens,
    grants,
    login_failures,
    sessions,
    users,
)
from strongroom.errors import ExitStatus, NotFound, StrongroomError, UsageError

NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
MIN_PASSWORD = 10
# Failed logins allowed per user name and client address within the window.
MAX_FAILURES = 5
FAILURE_WINDOW = timedelta(minutes=15)


class LoginFailed(StrongroomError):
    """A wrong user name or password (the message never says which)."""

    exit_status = ExitStatus.USAGE
    http_status = 401


class TooManyAttempts(StrongroomError):
    exit_status = ExitStatus.USAGE
    http_status = 429


@dataclass(frozen=True)
class User:
    name: str
    role: str


@functools.cache
def hasher() -> PasswordHasher:
    return PasswordHasher()  # argon2id with the library's recommended (RFC 9106) parameters


@functools.cache
def _dummy_hash() -> str:
    return hasher().hash("no such user: spend the same time as a real check")


def _check_name(name: str) -> str:
    if not NAME.match(name):
        raise UsageError(
            f"{name!r} is not a valid user name",
            hint="use lower-case letters, digits, '.', '_' and '-' (at most 64)",
        )
    return name


def _check_role(role: str) -> str:
    if role not in ROLES:
        raise UsageError(f"unknown role {role!r}; use one of {', '.join(ROLES)}")
    return role


def _check_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise UsageError(f"a password needs at least {MIN_PASSWORD} characters")
    return password


def add_user(catalog: Catalog, name: str, role: str, password: str) -> User:
    _check_name(name)
    _check_role(role)
    digest = hasher().hash(_check_password(password))
    with catalog.engine.begin() as conn:
        if conn.execute(select(users.c.name).where(users.c.name == name)).first():
            raise UsageError(f"user {name} exists", hint="change a password with: users passwd")
        stamp = now()
        conn.execute(
            users.insert().values(
                name=name,
                role=role,
                password_hash=digest,
                created_at=stamp,
                password_changed_at=stamp,
            )
        )
    return User(name, role)


def get_user(catalog: Catalog, name: str) -> User | None:
    with catalog.engine.connect() as conn:
        row = conn.execute(select(users.c.name, users.c.role).where(users.c.name == name)).first()
    return User(row.name, row.role) if row else None


def _require_user(catalog: Catalog, name: str) -> User:
    user = get_user(catalog, name)
    if user is None:
        raise NotFound(f"no user {name}", hint="list them with: strongroom users list")
    return user


def remove_user(catalog: Catalog, name: str) -> None:
    """Remove a user with their sessions, API tokens and grants (the audit log keeps them)."""
    _require_user(catalog, name)
    with catalog.engine.begin() as conn:
        for table in (sessions, api_tokens, grants):
            conn.execute(delete(table).where(table.c.user_name == name))
        conn.execute(delete(users).where(users.c.name == name))


def set_password(catalog: Catalog, name: str, password: str) -> None:
    """Change a password; every session of the user ends (API tokens stay)."""
    _require_user(catalog, name)
    digest = hasher().hash(_check_password(password))
    with catalog.engine.begin() as conn:
        conn.execute(
            update(users)
            .where(users.c.name == name)
            .values(password_hash=digest, password_changed_at=now())
        )
        conn.execute(delete(sessions).where(sessions.c.user_name == name))


def set_role(catalog: Catalog, name: str, role: str) -> None:
    _require_user(catalog, name)
    with catalog.engine.begin() as conn:
        conn.execute(update(users).where(users.c.name == name).values(role=_check_role(role)))


def list_users(catalog: Catalog) -> list[dict[str, Any]]:
    with catalog.engine.connect() as conn:
        granted: dict[str, list[str]] = {}
        for row in conn.execute(select(grants).order_by(grants.c.collection)):
            granted.setdefault(row.user_name, []).append(row.collection)
        rows = conn.execute(
            select(users.c.name, users.c.role, users.c.created_at).order_by(users.c.name)
        ).all()
    return [
        {
            "name": row.name,
            "role": row.role,
            "created_at": row.created_at,
            "collections": granted.get(row.name, []),
        }
        for row in rows
    ]


def _since(window: timedelta) -> str:
    return (datetime.now(UTC) - window).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def recent_failures(catalog: Catalog, name: str, ip: str) -> int:
    with catalog.engine.connect() as conn:
        return int(
            conn.execute(
                select(func.count()).where(
                    login_failures.c.user_name == name,
                    login_failures.c.ip == ip,
                    login_failures.c.at >= _since(FAILURE_WINDOW),
                )
            ).scalar_one()
        )


def authenticate(catalog: Catalog, name: str, password: str, ip: str) -> User:
    """The user, if the password is theirs. Refused without checking once a user name has
    failed MAX_FAILURES times from one address within FAILURE_WINDOW."""
    name = name.strip().lower()[:64]
    if recent_failures(catalog, name, ip) >= MAX_FAILURES:
        minutes = int(FAILURE_WINDOW.total_seconds() // 60)
        raise TooManyAttempts(
            "too many failed logins for this user from this address",
            hint=f"try again in {minutes} minutes",
        )
    with catalog.engine.connect() as conn:
        row = conn.execute(select(users).where(users.c.name == name)).first()
    ok = False
    try:
        # An unknown name costs a hash check too, so timing does not tell which names exist.
        ok = hasher().verify(row.password_hash if row else _dummy_hash(), password)
    except (VerificationError, InvalidHashError):
        ok = False
    if not ok or row is None:
        with catalog.engine.begin() as conn:
            # Failures older than the window count for nothing: drop them as new ones come.
            conn.execute(delete(login_failures).where(login_failures.c.at < _since(FAILURE_WINDOW)))
            conn.execute(login_failures.insert().values(user_name=name, ip=ip, at=now()))
        raise LoginFailed("wrong user name or password")
    with catalog.engine.begin() as conn:
        conn.execute(
            delete(login_failures).where(
                login_failures.c.user_name == name, login_failures.c.ip == ip
            )
        )
        if hasher().check_needs_rehash(row.password_hash):
            conn.execute(
                update(users)
                .where(users.c.name == name)
                .values(password_hash=hasher().hash(password))
            )
    return User(row.name, row.role)

"""Login sessions, API tokens and CSRF tokens. Only sha256 digests of secrets are stored: a
copy of the catalog lets nobody log in."""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from strongroom.accounts.users import User
from strongroom.catalog.store import Catalog, now
from strongroom.catalog.tables_accounts import api_tokens, server_secrets, sessions, users
from strongroom.errors import NotFound

SESSION_LIFETIME = timedelta(hours=12)
TOKEN_PREFIX = "sr_"


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _stamp(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def start_session(catalog: Catalog, user: User) -> str:
    """A new session for the user; returns the secret that goes in the cookie."""
    token = secrets.token_urlsafe(32)
    started = datetime.now(UTC)
    with catalog.engine.begin() as conn:
        conn.execute(delete(sessions).where(sessions.c.expires_at < _stamp(started)))
        conn.execute(
            sessions.insert().values(
                token_sha256=_digest(token),
                user_name=user.name,
                created_at=_stamp(started),
                expires_at=_stamp(started + SESSION_LIFETIME),
            )
        )
    return token


def session_user(catalog: Catalog, token: str) -> User | None:
    with catalog.engine.connect() as conn:
        row = conn.execute(
            select(users.c.name, users.c.role)
            .join(sessions, sessions.c.user_name == users.c.name)
            .where(
                sessions.c.token_sha256 == _digest(token),
                sessions.c.expires_at > _stamp(datetime.now(UTC)),
            )
        ).first()
    return User(row.name, row.role) if row else None


def end_session(catalog: Catalog, token: str) -> None:
    with catalog.engine.begin() as conn:
        conn.execute(delete(sessions).where(sessions.c.token_sha256 == _digest(token)))


def create_token(catalog: Catalog, user: User, label: str = "") -> str:
    """A new API token for scripts (`Authorization: Bearer <token>`); shown once."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with catalog.engine.begin() as conn:
        conn.execute(
            api_tokens.insert().values(
                token_sha256=_digest(token), user_name=user.name, label=label, created_at=now()
            )
        )
    return token


def token_user(catalog: Catalog, token: str) -> User | None:
    with catalog.engine.connect() as conn:
        row = conn.execute(
            select(users.c.name, users.c.role)
            .join(api_tokens, api_tokens.c.user_name == users.c.name)
            .where(api_tokens.c.token_sha256 == _digest(token))
        ).first()
    return User(row.name, row.role) if row else None


def list_tokens(catalog: Catalog, name: str | None = None) -> list[dict[str, Any]]:
    query = select(api_tokens.c.id, api_tokens.c.user_name, api_tokens.c.label).order_by(
        api_tokens.c.id
    )
    if name is not None:
        query = query.where(api_tokens.c.user_name == name)
    with catalog.engine.connect() as conn:
        query = query.add_columns(api_tokens.c.created_at)
        return [dict(row) for row in conn.execute(query).mappings()]


def revoke_token(catalog: Catalog, token_id: int) -> None:
    with catalog.engine.begin() as conn:
        if not conn.execute(delete(api_tokens).where(api_tokens.c.id == token_id)).rowcount:
            raise NotFound(f"no API token {token_id}", hint="list them with: users tokens")


def server_key(catalog: Catalog, name: str = "csrf") -> bytes:
    """A random key kept in the catalog, so every web worker of one case shares it."""
    with catalog.engine.connect() as conn:
        row = conn.execute(
            select(server_secrets.c.value).where(server_secrets.c.name == name)
        ).first()
    if row is None:
        with catalog.engine.begin() as conn:
            existing = conn.execute(
                select(server_secrets.c.value).where(server_secrets.c.name == name)
            ).first()
            if existing is None:
                # Another worker's insert may win the race; both read the winner back.
                with contextlib.suppress(IntegrityError):
                    conn.execute(
                        server_secrets.insert().values(name=name, value=secrets.token_hex(32))
                    )
        with catalog.engine.connect() as conn:
            row = conn.execute(
                select(server_secrets.c.value).where(server_secrets.c.name == name)
            ).one()
    return bytes.fromhex(row.value)


def csrf_token(key: bytes, nonce: str, session: str) -> str:
    """The token every form carries: bound to the browser's CSRF cookie and its session, so a
    cookie planted by another site (or a token from before a login) does not pass."""
    message = f"{nonce}|{_digest(session) if session else ''}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def csrf_valid(key: bytes, nonce: str, session: str, token: str) -> bool:
    if not nonce or not token:
        return False
    return hmac.compare_digest(csrf_token(key, nonce, session), token)

"""Catalog tables of accounts and access (defined on the one shared MetaData).

Users and their roles, login sessions, API tokens, failed logins (for rate limiting),
collections, which inputs went into which collection, and who may read which collection.
Which items a collection holds is a searchable fact (`facts.field = "collection"`), so the
index can scope every search; it is derived from `collection_inputs` after each ingest.
Secrets (session and API tokens) are stored only as sha256 digests.
"""

from __future__ import annotations

from sqlalchemy import Column, Index, Integer, String, Table, Text, UniqueConstraint

from strongroom.catalog.schema import metadata

users = Table(
    "users",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("role", String(16), nullable=False),  # admin | editor | reader
    Column("password_hash", Text, nullable=False),  # argon2id, PHC string
    Column("created_at", String(32), nullable=False),
    Column("password_changed_at", String(32), nullable=False),
)

sessions = Table(
    "sessions",
    metadata,
    Column("token_sha256", String(64), primary_key=True),
    Column("user_name", String(64), nullable=False),
    Column("created_at", String(32), nullable=False),
    Column("expires_at", String(32), nullable=False),
)
Index("sessions_user", sessions.c.user_name)

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("token_sha256", String(64), nullable=False, unique=True),
    Column("user_name", String(64), nullable=False),
    Column("label", Text, nullable=False),
    Column("created_at", String(32), nullable=False),
    sqlite_autoincrement=True,
)

login_failures = Table(
    "login_failures",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("user_name", String(64), nullable=False),
    Column("ip", String(64), nullable=False),
    Column("at", String(32), nullable=False),
)
Index("login_failures_user_ip", login_failures.c.user_name, login_failures.c.ip)

collections = Table(
    "collections",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("public", Integer, nullable=False, default=0),  # 1: anonymous may read
    Column("created_at", String(32), nullable=False),
)

collection_inputs = Table(
    "collection_inputs",
    metadata,
    Column("collection", String(64), nullable=False),
    Column("input_id", Integer, nullable=False),
    UniqueConstraint("collection", "input_id", name="collection_inputs_unique"),
)
Index("collection_inputs_input", collection_inputs.c.input_id)

grants = Table(
    "grants",
    metadata,
    Column("user_name", String(64), nullable=False),
    Column("collection", String(64), nullable=False),
    Column("granted_at", String(32), nullable=False),
    UniqueConstraint("user_name", "collection", name="grants_unique"),
)

# Server-side secrets shared by every web worker (the CSRF key).
server_secrets = Table(
    "server_secrets",
    metadata,
    Column("name", String(32), primary_key=True),
    Column("value", String(128), nullable=False),
)

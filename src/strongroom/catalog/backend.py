"""Where a catalog lives: a SQLite file (the embedded default) or a PostgreSQL database.

A case is named by a directory or by a `postgresql://` URL. The URL is normalised to the
psycopg 3 driver, and both engines are set up so that one schema and one store behave the
same on both:
- `String(n)` is rendered without its length (SQLite never enforces it, and a hostile
  Content-Type or DKIM tag may be longer than any length chosen), and `Integer` as `BIGINT`
  (SQLite integers are 64-bit; a DKIM `x=` far in the future must not overflow), `SERIAL`
  as `BIGSERIAL`, and integer parameters are not cast to INTEGER;
- text cannot hold U+0000 in PostgreSQL, so on both backends it is written as U+FFFD (the
  original bytes stay in the blob store; only extracted text and parsed headers are affected);
- item numbers are taken inside the writing transaction, as SQLite's AUTOINCREMENT does,
  not from a sequence: a rolled-back batch leaves no gap, so a killed run that is rerun ends
  with the numbers an uninterrupted one gives. Items are never deleted, so no number is
  ever reused.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from sqlalchemy import Engine, Integer, Table, create_engine, event
from sqlalchemy.engine import Connection
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.schema import CreateColumn
from sqlalchemy.sql.compiler import DDLCompiler

from strongroom.catalog.schema import items

POSTGRESQL_DRIVER = "postgresql+psycopg"
_URL = re.compile(r"^(postgres|postgresql)(\+[a-z0-9_]+)?://", re.IGNORECASE)


def is_url(location: str) -> bool:
    """Whether a `--case` value names a PostgreSQL catalog rather than a directory."""
    return _URL.match(location) is not None


def normalise_url(location: str) -> str:
    """`postgres://` and `postgresql://` (any driver) become `postgresql+psycopg://`."""
    match = _URL.match(location)
    if match is None:
        raise ValueError(f"{location!r} is not a postgresql:// URL")
    return POSTGRESQL_DRIVER + "://" + location[match.end() :]


def redact(url: str) -> str:
    """The URL without its password, for messages and logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rsplit("@", 1)
    user = netloc[0].split(":", 1)[0]
    return urlunsplit(parts._replace(netloc=f"{user}:***@{netloc[1]}"))


@compiles(CreateColumn, "postgresql")
def _column_as_sqlite_takes_it(element: CreateColumn, compiler: DDLCompiler, **kw: Any) -> Any:
    """In CREATE TABLE only: VARCHAR(n) -> VARCHAR, INTEGER/SMALLINT -> BIGINT, SERIAL ->
    BIGSERIAL. (Queries keep their own casts.)"""
    text: str | None = compiler.visit_create_column(element, **kw)  # type: ignore[no-untyped-call]
    if text is None:
        return None
    name = compiler.preparer.format_column(element.element)
    rest = _WIDEN.sub(lambda m: _WIDER.get(m[1], " VARCHAR"), text[len(name) :], count=1)
    return name + rest


_WIDEN = re.compile(r"^( SERIAL| INTEGER| SMALLINT| VARCHAR\(\d+\))(?=\s|$)")
_WIDER = {" SERIAL": " BIGSERIAL", " INTEGER": " BIGINT", " SMALLINT": " BIGINT"}


# One writer at a time takes the next number; the lock is held until commit, so the number
# after the last committed item is free, and numbers follow commit order.
_NUMBER_ITEMS = (
    (
        "CREATE OR REPLACE FUNCTION items_number() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        "PERFORM pg_advisory_xact_lock(hashtext('strongroom items.num')); "
        "SELECT coalesce(max(num), 0) + 1 INTO NEW.num FROM items; RETURN NEW; END $$"
    ),
    (
        "CREATE TRIGGER items_number BEFORE INSERT ON items FOR EACH ROW "
        "EXECUTE FUNCTION items_number()"
    ),
)


def _number_items(_table: Table, connection: Connection, **_kw: Any) -> None:
    if connection.dialect.name == "postgresql":
        for statement in _NUMBER_ITEMS:
            connection.exec_driver_sql(statement)


event.listen(items, "after_create", _number_items)


def lock_setup(conn: Connection) -> None:
    """Serialise schema set-up on PostgreSQL (until the transaction ends): two processes
    creating the same new table at once would otherwise collide."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("SELECT pg_advisory_xact_lock(hashtext('strongroom schema'))")


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(item) for item in value.values())
    if isinstance(value, list | tuple):
        return any(_has_nul(item) for item in value)
    return False


def _no_nul(value: Any) -> Any:
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd")
    if isinstance(value, dict):
        return {key: _no_nul(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_no_nul(item) for item in value)
    return value


def _strip_nul(
    _conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool
) -> tuple[str, Any]:
    return statement, _no_nul(parameters) if _has_nul(parameters) else parameters


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    # A catalog of 100,000 mails is about 1 GB: SQLite's default 2 MB page cache made every
    # index lookup of an ingest a read from the OS. 64 MB is an upper bound, filled as used.
    cursor.execute("PRAGMA cache_size=-65536")
    # Checkpoints (each an fsync of the catalog) every 40 MB of log instead of every 4 MB; a
    # kill loses nothing either way (the log is in the file system), only power loss matters.
    cursor.execute("PRAGMA wal_autocheckpoint=10000")
    cursor.close()


def make_engine(url: str) -> Engine:
    """An engine for a `sqlite:///` or `postgresql+psycopg://` URL, set up as the catalog
    needs it."""
    if url.startswith("sqlite"):
        engine = create_engine(url)
        event.listen(engine, "connect", _sqlite_pragmas)
    else:
        # pool_pre_ping: a server restarted overnight must not fail the first request after it
        engine = create_engine(url, pool_pre_ping=True)
        # Integer parameters are sent as what they hold (psycopg picks int2/4/8) instead of
        # cast to INTEGER, which would overflow before reaching a BIGINT column.
        engine.dialect.colspecs = {**engine.dialect.colspecs, Integer: Integer}
    event.listen(engine, "before_cursor_execute", _strip_nul, retval=True)
    return engine

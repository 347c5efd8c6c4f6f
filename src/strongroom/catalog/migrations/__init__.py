"""The catalog's schema version, and `strongroom migrate` (Alembic revisions in versions/).

How the schema evolves, on SQLite and PostgreSQL alike:
- A new catalog is made with `create_all` of every table registered on the shared MetaData and
  stamped at the head revision (alembic's own `alembic_version` table): revisions are never
  replayed over tables that already have their newest shape.
- A new *table* needs no revision: every open creates missing tables (`create_all` is
  idempotent), as capability modules expect.
- A change to an existing table (a column added, a type changed) is a revision in versions/,
  listed in REVISIONS. Opening a catalog stamped at an older revision refuses with a hint to run
  `strongroom migrate`; a catalog stamped by a newer strongroom is refused too.
- `differences()` compares the database with the tables the code defines (`migrate --check`,
  and the contract tests on both backends): a table changed without a revision shows up there.

A catalog made before revisions existed (no `alembic_version`) has the baseline's tables and is
stamped at the baseline. Reading the stamp uses SQLAlchemy only: alembic is imported just to
migrate or compare.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Column, Engine, MetaData, PrimaryKeyConstraint, String, Table, inspect
from sqlalchemy import types as t
from sqlalchemy.engine import Connection

BASELINE = "0001"
REVISIONS: tuple[str, ...] = (BASELINE,)  # oldest first; a test checks it against versions/
HEAD = REVISIONS[-1]
HERE = Path(__file__).resolve().parent

# Alembic's version table, as alembic itself creates it.
version_table = Table(
    "alembic_version",
    MetaData(),
    Column("version_num", String(32), nullable=False),
    PrimaryKeyConstraint("version_num", name="alembic_version_pkc"),
)


def revision(conn: Connection) -> str | None:
    """The revision the catalog is stamped at (None: no stamp yet)."""
    if not inspect(conn).has_table(version_table.name):
        return None
    return conn.execute(version_table.select()).scalar()


def stamp(conn: Connection, to: str) -> None:
    version_table.create(conn, checkfirst=True)
    conn.execute(version_table.delete())
    conn.execute(version_table.insert().values(version_num=to))


def pending(current: str | None) -> list[str]:
    """Revisions a catalog stamped at `current` still needs (an unstamped one is at the
    baseline). Raises LookupError for a revision this strongroom does not know."""
    at = current or BASELINE
    if at not in REVISIONS:
        raise LookupError(at)
    return list(REVISIONS[REVISIONS.index(at) + 1 :])


@dataclass
class MigrationStatus:
    current: str | None  # the stamp; None for a catalog made before revisions existed
    head: str = HEAD
    pending: list[str] = field(default_factory=list)
    differences: list[str] = field(default_factory=list)  # database vs code, after pending
    newer: bool = False  # stamped by a newer strongroom

    @property
    def current_or_baseline(self) -> str:
        return self.current or BASELINE

    def to_json(self) -> dict[str, Any]:
        return {
            "current": self.current,
            "head": self.head,
            "pending": self.pending,
            "differences": self.differences,
            "newer": self.newer,
        }


def _config(conn: Connection) -> Any:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(HERE))
    config.attributes["connection"] = conn
    return config


def upgrade(engine: Engine) -> list[str]:
    """Apply the pending revisions in one transaction, then create any new tables; returns the
    revisions applied. A catalog at the head is left as it is."""
    from alembic import command

    from strongroom.catalog.backend import lock_setup
    from strongroom.catalog.schema import metadata

    with engine.begin() as conn:
        lock_setup(conn)
        current = revision(conn)
        todo = pending(current)
        if current is None:
            stamp(conn, BASELINE)
        if todo:
            command.upgrade(_config(conn), HEAD)
        metadata.create_all(conn)
    return todo


# -- comparing the database with the code -------------------------------------------------------
def _family(type_: Any) -> str:
    """What a column holds, whatever each backend calls it: PostgreSQL columns are created
    without lengths and as 64-bit integers (backend.py), SQLite reports its own names."""
    for family, kinds in (
        ("bool", (t.Boolean,)),
        ("int", (t.Integer,)),
        ("float", (t.Float, t.Numeric)),
        ("text", (t.String,)),
    ):
        if isinstance(type_, kinds):
            return family
    return type(type_).__name__.lower()


def compare_type(
    _context: Any, _inspected: Any, _column: Any, inspected_type: Any, metadata_type: Any
) -> bool:
    return _family(inspected_type) != _family(metadata_type)


def differences(engine: Engine) -> list[str]:
    """How the catalog's tables differ from the tables the code defines (missing tables are
    not differences: opening the case creates them)."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from strongroom.catalog.schema import metadata

    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": compare_type})
        found = compare_metadata(context, metadata)
    out: list[str] = []
    for diff in found:
        for change in diff if isinstance(diff, list) else [diff]:
            if change[0] != "add_table":
                out.append(_describe(change))
    return sorted(out)


def _describe(change: tuple[Any, ...]) -> str:
    kind = change[0]
    if kind in ("add_column", "remove_column"):
        return f"{kind} {change[2]}.{change[3].name}"
    if kind in ("add_index", "remove_index", "add_constraint", "remove_constraint"):
        element = change[1]
        table = getattr(element, "table", None)
        return f"{kind} {getattr(table, 'name', '?')}.{element.name}"
    if kind == "remove_table":
        return f"remove_table {change[1].name}"
    if kind.startswith("modify_"):
        return f"{kind} {change[2]}.{change[3]}: {change[5]} -> {change[6]}"
    return " ".join(str(part) for part in change)


def status(engine: Engine) -> MigrationStatus:
    with engine.connect() as conn:
        current = revision(conn)
    try:
        todo = pending(current)
    except LookupError:
        return MigrationStatus(current=current, newer=True)
    return MigrationStatus(
        current=current, pending=todo, differences=[] if todo else differences(engine)
    )

"""Alembic's entry point for the catalog's revisions.

`strongroom migrate` (strongroom.catalog.migrations.upgrade) passes its own connection in
`config.attributes["connection"]`; run by the `alembic` tool instead, the catalog URL is the
`sqlalchemy.url` option.
"""

from __future__ import annotations

from alembic import context

import strongroom.catalog  # noqa: F401 - registers every capability's tables
from strongroom.catalog.backend import make_engine
from strongroom.catalog.migrations import compare_type
from strongroom.catalog.schema import metadata


def run() -> None:
    config = context.config
    connection = config.attributes.get("connection")
    if connection is None:
        engine = make_engine(config.get_main_option("sqlalchemy.url") or "")
        with engine.begin() as own:
            _migrate(own)
        engine.dispose()
        return
    _migrate(connection)


def _migrate(connection: object) -> None:
    context.configure(
        connection=connection,  # type: ignore[arg-type]
        target_metadata=metadata,
        compare_type=compare_type,
        render_as_batch=True,  # ALTER TABLE as SQLite can do it: copy and rename
    )
    with context.begin_transaction():
        context.run_migrations()


run()

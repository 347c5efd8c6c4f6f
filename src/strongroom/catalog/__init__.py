"""The catalog: the record of truth (SQLAlchemy Core on SQLite, or PostgreSQL)."""

# Capability tables register themselves on the shared MetaData when imported.
from strongroom.catalog import tables_audit, tables_custody, tables_verify  # noqa: F401
from strongroom.catalog.store import Catalog

__all__ = ["Catalog"]

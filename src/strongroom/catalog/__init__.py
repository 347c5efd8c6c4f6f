"""The catalog: the record of truth (SQLAlchemy Core on SQLite, or PostgreSQL)."""

from strongroom.catalog.store import Catalog

__all__ = ["Catalog"]

"""The catalog: the record of truth (SQLAlchemy Core on SQLite, or PostgreSQL)."""

# Capability tables register themselves on the shared MetaData when imported.
from strongroom.catalog import (  # noqa: F401
    tables_accounts,
    tables_annotations,
    tables_audit,
    tables_claims,
    tables_custody,
    tables_entities,
    tables_people,
    tables_pii,
    tables_verify,
)
from strongroom.catalog.store import Catalog

__all__ = ["Catalog"]

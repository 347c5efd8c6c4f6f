"""The catalog's Alembic revisions, oldest first (alembic loads them by file)."""

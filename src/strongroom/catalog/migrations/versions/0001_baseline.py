"""Baseline: every table registered on the catalog's MetaData, as `Catalog.create` makes them.

Revision ID: 0001
Revises: (none)

A catalog made before migrations existed is stamped at this revision without running it (its
tables are these). A fresh catalog is made by `create_all` and stamped at the head, so this
revision's `create_all` only runs when a database is upgraded from nothing with alembic itself.
Later changes to existing tables are real revisions after this one.
"""

from __future__ import annotations

from alembic import op

import strongroom.catalog  # noqa: F401 - registers every capability's tables
from strongroom.catalog.schema import metadata

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    metadata.create_all(op.get_bind())


def downgrade() -> None:
    raise NotImplementedError("the baseline cannot be undone; restore a backup instead")

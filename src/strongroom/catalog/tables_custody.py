"""Catalog tables of the custody capability (defined on the one shared MetaData)."""

from __future__ import annotations

from strongroom.catalog.schema import metadata

__all__ = ["metadata"]

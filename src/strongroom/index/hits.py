"""What a hit shows, read from the catalog through SQLAlchemy (SQLite or PostgreSQL): the
`HitSource` that `Case.search` gives `index.search.run_search`."""

from __future__ import annotations

from typing import Any

from strongroom.catalog.index_rows import attachment_texts, summaries, texts_for
from strongroom.catalog.store import Catalog


class CatalogHits:
    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog

    def summaries(self, nums: list[int]) -> dict[int, dict[str, Any]]:
        return summaries(self.catalog, nums)

    def texts(self, nums: list[int]) -> dict[int, str]:
        return texts_for(self.catalog, nums)

    def attachment_texts(self, parent: int) -> list[tuple[int, str, str]]:
        return attachment_texts(self.catalog, parent)

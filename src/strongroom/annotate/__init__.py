"""Working tools of an investigation: tags and notes on items, saved searches with alerts when
an ingest adds matching items, and batch search (many queries at once)."""

from strongroom.annotate.hits import matching_nums
from strongroom.annotate.searches import (
    alerts,
    delete_search,
    list_searches,
    mark_seen,
    record_alerts,
    save_search,
)
from strongroom.annotate.tags import (
    add_note,
    add_tags,
    item_tags_of,
    normalise_tag,
    notes_of,
    remove_tags,
    tag_counts,
    tagged_items,
)

__all__ = [
    "add_note",
    "add_tags",
    "alerts",
    "delete_search",
    "item_tags_of",
    "list_searches",
    "mark_seen",
    "matching_nums",
    "normalise_tag",
    "notes_of",
    "record_alerts",
    "remove_tags",
    "save_search",
    "tag_counts",
    "tagged_items",
]

"""The names of facts: what analyses record about items in the catalog's `facts` table, and
what the search index and the query language expose of them. One list, read by all three.

A capability that adds a searchable fact adds its field name here (and bumps the index's
INDEX_SCHEMA_VERSION), and the flags it sets for `is:` to FLAGS.
"""

from __future__ import annotations

# Facts with exact values, each searchable as `name:value` (flags as `is:value`).
VALUE_FIELDS = (
    "flags",
    "dkim",  # verification outcome per signature, e.g. dkim:pass
    "tag",  # user tags
    "extraction",  # document extraction outcome: text, ocr, no-text, ...
    "pii",  # personal-data types found: card, ssn, phone, ...
    "lang",  # detected language, ISO 639-1
    "person",  # ids of the people (merged correspondents) an item involves
    "org",  # organisations (mail domains) an item involves
    "collection",  # the collections an item was ingested into (access scopes searches by it)
)
# Facts that are searched by their words (document metadata names).
WORD_FIELDS = ("author", "creator", "last_modified_by")

# `is:` flags. Item statuses and `defective` come from ingest; analyses add theirs as facts.
FLAGS = frozenset(
    {
        "defective",
        "ok",
        "failed",
        "unsupported",
        "encrypted",
        "corrupt",
        # verification (verify/verdict.py VERIFY_FLAGS)
        "verified",
        "dkim-fail",
        "dkim-weak",
        "unsigned",
        "arc-pass",
        "arc-fail",
        # personal data (pii/)
        "pii",
        "redacted",
        # annotations
        "tagged",
        "noted",
    }
)

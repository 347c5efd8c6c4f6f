"""The search index's schema and analyzers. Bump INDEX_SCHEMA_VERSION on any change: an index
with another version is rebuilt from the catalog on the next open.

Text is indexed twice: stemmed without positions (free words: `budgets` finds `budget`) and
exact with positions (phrases: exact means exact). Text is not stored in the index — snippets
are cut from the catalog's text — which keeps the index small.
"""

from __future__ import annotations

import functools

import tantivy

from strongroom.facts import VALUE_FIELDS, WORD_FIELDS

INDEX_SCHEMA_VERSION = 5
# Beside the index: its schema version, generation and the last item number indexed.
MARKER = "strongroom-index.json"

# Words of letters/digits; each CJK ideograph or kana is its own token, so a phrase query on
# consecutive characters finds Chinese and Japanese text that has no spaces.
TOKEN_PATTERN = r"[\p{Han}\p{Hiragana}\p{Katakana}]|[\p{L}\p{N}\p{M}_]+"
STEMMED = "sr_stem"
EXACT = "sr_exact"

TEXT_FIELDS = ("subject", "body", "attachment")
ROLES = ("from", "to", "cc", "bcc", "participant")
# Facts from the catalog's `facts` table that become index fields: exact values, and words.
FACT_VALUES = VALUE_FIELDS
FACT_WORDS = WORD_FIELDS


@functools.cache
def analyzers() -> dict[str, tantivy.TextAnalyzer]:
    def base() -> tantivy.TextAnalyzerBuilder:
        return (
            tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.regex(TOKEN_PATTERN))
            .filter(tantivy.Filter.remove_long(60))
            .filter(tantivy.Filter.lowercase())
        )

    return {
        STEMMED: base().filter(tantivy.Filter.stemmer("english")).build(),
        EXACT: base().build(),
    }


def build_schema() -> tantivy.Schema:
    builder = tantivy.SchemaBuilder()
    builder.add_unsigned_field("num", stored=True, indexed=True, fast=True)
    for name in ("kind", "type", "msgid", "year", "month", *FACT_VALUES):
        builder.add_text_field(name, tokenizer_name="raw", fast=True, index_option="basic")
    for name in TEXT_FIELDS:
        builder.add_text_field(name, tokenizer_name=STEMMED, index_option="freq")
        builder.add_text_field(f"{name}_exact", tokenizer_name=EXACT, index_option="position")
    builder.add_text_field("filename", tokenizer_name=EXACT, index_option="position")
    for name in FACT_WORDS:
        builder.add_text_field(name, tokenizer_name=EXACT, index_option="position")
    for role in ROLES:
        builder.add_text_field(role, tokenizer_name=EXACT, index_option="position")
        builder.add_text_field(
            f"{role}_addr", tokenizer_name="raw", fast=True, index_option="basic"
        )
        builder.add_text_field(
            f"{role}_domain", tokenizer_name="raw", fast=True, index_option="basic"
        )
    builder.add_date_field("date", indexed=True, fast=True)
    builder.add_unsigned_field("size", indexed=True, fast=True)
    builder.add_unsigned_field("has_attachment", indexed=True, fast=True)
    return builder.build()

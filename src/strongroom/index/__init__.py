"""The search index: derived from the catalog (Tantivy)."""

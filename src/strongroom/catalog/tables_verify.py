"""Catalog tables of the verify capability (defined on the one shared MetaData).

- `dkim_keys`: the keyring, DKIM key records archived from zone files or fetched from DNS, each
  with where it came from, when it was obtained and the period it is known to be valid for
  (empty strings: open-ended). Rows are never updated; a changed record is a new row, so a row
  id says which keyring a verification used.
- `verify_items`: one row per verified email: when, with which keyring (`keyring_mark`, the
  highest key id then) and which verifier version, the message time the checks were judged at,
  and the plain-language verdict.
- `dkim_results`: one row per DKIM-Signature header of an email.
- `arc_results`: one row per email with an ARC chain; `instances` holds each set's details.
- `verify_runs`: one row per `verify` run (counts, timing, the keyring mark).
"""

from __future__ import annotations

from sqlalchemy import Boolean, Column, Float, Index, Integer, String, Table, Text

from strongroom.catalog.schema import metadata

dkim_keys = Table(
    "dkim_keys",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("domain", Text, nullable=False),  # lower case, no trailing dot
    Column("selector", Text, nullable=False),
    Column("record", Text, nullable=False),  # the TXT value, chunks joined
    Column("source", Text, nullable=False),  # "import: FILE" or "dns"
    Column("obtained_at", String(32), nullable=False),  # imported or fetched, UTC ISO 8601
    Column("valid_from", String(32), nullable=False, default=""),  # "" = no lower bound
    Column("valid_to", String(32), nullable=False, default=""),  # "" = no upper bound
    sqlite_autoincrement=True,
)
Index("dkim_keys_name", dkim_keys.c.domain, dkim_keys.c.selector)

verify_items = Table(
    "verify_items",
    metadata,
    Column("item_num", Integer, primary_key=True, autoincrement=False),
    Column("status", String(24), nullable=False),  # verified | dkim-fail | unsigned | unreadable
    Column("signatures", Integer, nullable=False),
    Column("arc", String(8)),  # pass | fail | none, or NULL when no ARC header
    Column("message_time", String(20)),  # UTC, the time expiry and key validity are judged at
    Column("message_time_source", String(16)),  # date | received | signature
    Column("verdict", Text, nullable=False),
    Column("detail", Text, nullable=False, default="{}"),  # JSON: facts behind the verdict
    Column("keyring_mark", Integer, nullable=False),
    Column("verifier_version", Integer, nullable=False),
    Column("verified_at", String(32), nullable=False),
)

dkim_results = Table(
    "dkim_results",
    metadata,
    Column("item_num", Integer, nullable=False),
    Column("signature", Integer, nullable=False),  # 0 = the topmost DKIM-Signature header
    Column("domain", Text),
    Column("selector", Text),
    Column("algorithm", String(32)),
    Column("key_type", String(16)),
    Column("key_bits", Integer),
    Column("canonicalization", String(32)),
    Column("signed_headers", Text, nullable=False, default="[]"),  # JSON: h= as written
    Column("covered_headers", Text, nullable=False, default="[]"),  # JSON: fields hashed
    Column("body_length_limit", Integer),  # l=, when present
    Column("unsigned_body_bytes", Integer),  # canonical body bytes past l=
    Column("body_hash_ok", Boolean),
    Column("header_ok", Boolean),
    Column("status", String(8), nullable=False),  # pass | fail
    Column("reason_code", String(32)),  # NULL when status is pass
    Column("weak", Text, nullable=False, default="[]"),  # JSON: rsa-sha1, body-length-limit...
    Column("key_id", Integer),  # dkim_keys.id of the record used
    Column("signed_at", Integer),  # t=
    Column("expires_at", Integer),  # x=
    Column("valid_at_message_time", Boolean),
    Column("expired_now", Boolean),
    Column("mbox_unquoted", Boolean, nullable=False, default=False),
    Column("detail", Text, nullable=False, default=""),
)
Index("dkim_results_item", dkim_results.c.item_num)
Index("dkim_results_name", dkim_results.c.domain, dkim_results.c.selector)

arc_results = Table(
    "arc_results",
    metadata,
    Column("item_num", Integer, primary_key=True, autoincrement=False),
    Column("cv", String(8), nullable=False),  # pass | fail | none
    Column("instances", Integer, nullable=False),
    Column("reason_code", String(32)),
    Column("detail", Text, nullable=False, default=""),
    Column("sets", Text, nullable=False, default="[]"),  # JSON: per instance domain/selector/valid
    Column("key_names", Text, nullable=False, default="[]"),  # JSON: [domain, selector] used
)

verify_runs = Table(
    "verify_runs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("started_at", String(32), nullable=False),
    Column("finished_at", String(32)),
    Column("keyring_mark", Integer, nullable=False),
    Column("dns", Boolean, nullable=False, default=False),
    Column("workers", Integer, nullable=False),
    Column("checked", Integer, nullable=False, default=0),
    Column("seconds", Float),
    Column("counts", Text, nullable=False, default="{}"),  # JSON: status -> items
    sqlite_autoincrement=True,
)

__all__ = [
    "arc_results",
    "dkim_keys",
    "dkim_results",
    "metadata",
    "verify_items",
    "verify_runs",
]

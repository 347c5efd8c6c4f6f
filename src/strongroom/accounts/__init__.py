"""Accounts and access: users with roles, argon2id passwords, sessions and API tokens, login
rate limiting, collections with per-user grants, and the collections an item belongs to.

The web app asks `strongroom.web.access` who is looking; that module builds its `Viewer` from
the functions here. Every function takes the case's `Catalog` and uses SQLAlchemy Core only.
"""

ROLES = ("reader", "editor", "admin")
DEFAULT_COLLECTION = "default"

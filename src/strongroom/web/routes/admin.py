"""Admin pages: the audit log (who logged in, searched, viewed, downloaded, exported, decided)
and the users with their grants. Admins only; every page has its JSON twin."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Query, Request
from fastapi.responses import HTMLResponse

from strongroom.accounts.collections import list_collections
from strongroom.accounts.users import list_users
from strongroom.case import Case
from strongroom.catalog.audit import events
from strongroom.web.access import CurrentViewer, Viewer
from strongroom.web.common import Page


def audit_page(case: Case, viewer: Viewer, action: str, limit: int) -> dict[str, Any]:
    viewer.require("admin")
    return {
        "action": action,
        "limit": limit,
        "events": events(case.catalog, action_prefix=action or None, limit=limit),
    }


def users_page(case: Case, viewer: Viewer) -> dict[str, Any]:
    viewer.require("admin")
    return {"users": list_users(case.catalog), "collections": list_collections(case.catalog)}


def register(app: FastAPI, case: Case, page: Page) -> None:
    @app.get("/admin/audit.json", summary="The audit log, newest first (admins)")
    def audit_json(
        viewer: CurrentViewer,
        action: str = Query("", description="only actions starting with this, e.g. login"),
        limit: int = Query(200, ge=1, le=10_000),
    ) -> dict[str, Any]:
        return audit_page(case, viewer, action, limit)

    @app.get("/admin/audit", include_in_schema=False)
    def audit_html(
        request: Request,
        viewer: CurrentViewer,
        action: str = "",
        limit: int = Query(200, ge=1, le=10_000),
    ) -> HTMLResponse:
        return page(request, "audit.html", audit_page(case, viewer, action, limit))

    @app.get("/admin/users.json", summary="Users, roles, collections and grants (admins)")
    def users_json(viewer: CurrentViewer) -> dict[str, Any]:
        return users_page(case, viewer)

    @app.get("/admin/users", include_in_schema=False)
    def users_html(request: Request, viewer: CurrentViewer) -> HTMLResponse:
        return page(request, "users.html", users_page(case, viewer))

"""Admin pages: the audit log (who logged in, searched, viewed, downloaded, exported, decided)
and the users with their grants, managed here as with `strongroom users` and `collections`:
add a user, change a role, set a password, remove, grant or revoke a collection, make one
public. Admins only; every form carries the CSRF token, every change is audit-logged as the
admin who made it (strongroom.accounts.admin), and every page has its JSON twin."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import FastAPI, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from strongroom.accounts import ROLES, admin
from strongroom.accounts.collections import list_collections
from strongroom.accounts.users import list_users
from strongroom.case import Case
from strongroom.catalog.audit import events
from strongroom.errors import UsageError
from strongroom.web.access import CurrentViewer, Viewer
from strongroom.web.common import Page

USERS_PAGE = "/admin/users"
NameField = Annotated[str, Form(min_length=1, max_length=64)]
RoleField = Annotated[Literal["reader", "editor", "admin"], Form()]
PasswordField = Annotated[str, Form(max_length=1024)]


def audit_page(case: Case, viewer: Viewer, action: str, limit: int) -> dict[str, Any]:
    viewer.require("admin")
    return {
        "action": action,
        "limit": limit,
        "events": events(case.catalog, action_prefix=action or None, limit=limit),
    }


def users_page(case: Case, viewer: Viewer) -> dict[str, Any]:
    viewer.require("admin")
    return {
        "users": list_users(case.catalog),
        "collections": list_collections(case.catalog),
        "roles": list(ROLES),
        "me": viewer.name,
    }


def _confirmed(password: str, confirm: str) -> str:
    if password != confirm:
        raise UsageError("the two passwords differ", hint="type the same password twice")
    return password


def _not_yourself(viewer: Viewer, name: str, what: str, command: str) -> None:
    """An admin cannot lock themselves out from the web; another admin or the CLI can."""
    if name == viewer.name:
        raise UsageError(
            f"you cannot {what} here",
            hint=f"ask another admin, or run: strongroom users {command}",
        )


def _back() -> RedirectResponse:
    return RedirectResponse(USERS_PAGE, 303)


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

    # -- changes: admins only, each audit-logged as the admin (forms POST, then back) ----------
    @app.post(USERS_PAGE, include_in_schema=False)
    def user_add(
        viewer: CurrentViewer,
        name: NameField,
        role: RoleField,
        password: PasswordField,
        confirm: PasswordField,
    ) -> RedirectResponse:
        viewer.require("admin")
        admin.add(case.catalog, viewer.name, name, role, _confirmed(password, confirm))
        return _back()

    @app.post(USERS_PAGE + "/{name}/role", include_in_schema=False)
    def user_role(viewer: CurrentViewer, name: str, role: RoleField) -> RedirectResponse:
        viewer.require("admin")
        if role != "admin":
            _not_yourself(viewer, name, "take the admin role from yourself", f"role {name} {role}")
        admin.change_role(case.catalog, viewer.name, name, role)
        return _back()

    @app.post(USERS_PAGE + "/{name}/password", include_in_schema=False)
    def user_password(
        viewer: CurrentViewer, name: str, password: PasswordField, confirm: PasswordField
    ) -> RedirectResponse:
        viewer.require("admin")
        admin.change_password(case.catalog, viewer.name, name, _confirmed(password, confirm))
        return _back()

    @app.post(USERS_PAGE + "/{name}/remove", include_in_schema=False)
    def user_remove(viewer: CurrentViewer, name: str) -> RedirectResponse:
        viewer.require("admin")
        _not_yourself(viewer, name, "remove your own account", f"remove {name}")
        admin.remove(case.catalog, viewer.name, name)
        return _back()

    @app.post(USERS_PAGE + "/{name}/grants", include_in_schema=False)
    def user_grant(viewer: CurrentViewer, name: str, collection: NameField) -> RedirectResponse:
        viewer.require("admin")
        admin.grant_collection(case.catalog, viewer.name, name, collection)
        return _back()

    @app.post(USERS_PAGE + "/{name}/grants/remove", include_in_schema=False)
    def user_revoke(viewer: CurrentViewer, name: str, collection: NameField) -> RedirectResponse:
        viewer.require("admin")
        admin.revoke_collection(case.catalog, viewer.name, name, collection)
        return _back()

    @app.post("/admin/collections/{collection}/public", include_in_schema=False)
    def collection_public(
        viewer: CurrentViewer, collection: str, public: Annotated[Literal["on", "off"], Form()]
    ) -> RedirectResponse:
        viewer.require("admin")
        admin.make_public(case.catalog, viewer.name, collection, public == "on")
        return _back()

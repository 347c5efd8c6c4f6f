"""Logging in and out (server mode), and /session.json: who is looking and the CSRF token a
script sends back in `X-CSRF-Token` (a page's forms carry it as the hidden field `csrf`)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import FastAPI, Form, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from strongroom.accounts.sessions import end_session, start_session
from strongroom.accounts.users import LoginFailed, TooManyAttempts, authenticate
from strongroom.case import Case
from strongroom.catalog.audit import record
from strongroom.errors import NotFound
from strongroom.web.access import (
    CSRF_COOKIE,
    SESSION_COOKIE,
    AccessConfig,
    CurrentViewer,
    Viewer,
    client_ip,
    cookie_flags,
    new_nonce,
)
from strongroom.web.common import Page


def _accounts(request: Request) -> bool:
    config = getattr(request.app.state, "access", AccessConfig())
    return bool(config.accounts)


def _safe_next(target: str) -> str:
    """Only a path on this site (never //host or a scheme): no open redirect."""
    if target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/search"


def session_data(request: Request, viewer: Viewer) -> dict[str, Any]:
    scope = viewer.scope()
    return {
        "accounts": _accounts(request),
        "viewer": {
            "name": viewer.name,
            "role": viewer.role,
            "collections": None if scope is None else sorted(scope),
        },
        "csrf": getattr(request.state, "csrf", ""),
    }


def register(app: FastAPI, case: Case, page: Page) -> None:
    @app.get("/session.json", summary="Who is looking, and the CSRF token for writes")
    def session_json(request: Request, viewer: CurrentViewer) -> dict[str, Any]:
        return session_data(request, viewer)

    @app.get("/login", include_in_schema=False)
    def login_page(request: Request, viewer: CurrentViewer, next: str = "/search") -> Response:
        if not _accounts(request):
            raise NotFound("this reading room has no accounts", hint="serve it with --accounts")
        data = {**session_data(request, viewer), "next": _safe_next(next), "error": None}
        return page(request, "login.html", data)

    @app.post("/login", include_in_schema=False)
    async def login(
        request: Request,
        viewer: CurrentViewer,
        name: Annotated[str, Form(max_length=64)],
        password: Annotated[str, Form(max_length=1024)],
        next: Annotated[str, Form()] = "/search",
    ) -> Response:
        if not _accounts(request):
            raise NotFound("this reading room has no accounts", hint="serve it with --accounts")
        ip = client_ip(request)
        try:
            user = await run_in_threadpool(authenticate, case.catalog, name, password, ip)
        except (LoginFailed, TooManyAttempts) as error:
            failed = "login.refused" if isinstance(error, TooManyAttempts) else "login.failed"
            await run_in_threadpool(
                record, case.catalog, "anonymous", failed, name[:64], {"ip": ip}
            )
            data = {
                **session_data(request, viewer),
                "next": _safe_next(next),
                "error": error.message + (f" ({error.hint})" if error.hint else ""),
            }
            response: Response = page(request, "login.html", data)
            response.status_code = error.http_status
            return response
        token = await run_in_threadpool(start_session, case.catalog, user)
        await run_in_threadpool(record, case.catalog, user.name, "login", user.name, {"ip": ip})
        response = RedirectResponse(_safe_next(next), status_code=303)
        flags = cookie_flags(request)
        response.set_cookie(SESSION_COOKIE, token, **flags)
        response.set_cookie(CSRF_COOKIE, new_nonce(), **flags)  # a fresh token per session
        return response

    @app.post("/logout", include_in_schema=False)
    def logout(request: Request, viewer: CurrentViewer) -> Response:
        session = getattr(request.state, "session", "")
        if session:
            end_session(case.catalog, session)
            record(case.catalog, viewer.name, "logout", viewer.name, {"ip": client_ip(request)})
        response = RedirectResponse("/search", status_code=303)
        flags = cookie_flags(request)
        response.delete_cookie(SESSION_COOKIE, **flags)
        response.set_cookie(CSRF_COOKIE, new_nonce(), **flags)
        return response

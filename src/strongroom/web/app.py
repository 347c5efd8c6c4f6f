"""The reading room's routes. Each page is one view (views.py) rendered twice: as HTML from a
template, and as JSON at the same path plus `.json`. Errors map to HTTP statuses in one place."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import FastAPI, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from pydantic import BaseModel
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint

from strongroom import __version__
from strongroom.case import Case
from strongroom.errors import LoginRequired, StrongroomError
from strongroom.web import views
from strongroom.web.access import AccessConfig, AccessGate, CurrentViewer, current_viewer
from strongroom.web.common import ItemNumber, Page
from strongroom.web.routes import route_modules
from strongroom.web.security import SECURITY_HEADERS

HERE = Path(__file__).parent


class ErrorBody(BaseModel):
    """The one JSON error shape (errors.StrongroomError.to_json)."""

    error: str
    message: str
    hint: str | None = None
    position: int | None = None
    detail: str | None = None


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorBody, "description": "bad request, e.g. a query syntax error"},
    404: {"model": ErrorBody, "description": "no such item"},
}


@dataclass(frozen=True)
class ServeConfig:
    host: str = "127.0.0.1"
    port: int = 8000
    title: str = "strongroom"
    # Server mode: logins, roles, collections and grants (off: one local user sees all).
    accounts: bool = False
    # Mark cookies Secure although requests arrive over http (TLS ends at a proxy).
    secure_cookies: bool = False


class SecurityHeaders(BaseHTTPMiddleware):
    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        response = await call_next(request)
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response


def create_app(case: Case, config: ServeConfig | None = None) -> FastAPI:
    config = config or ServeConfig()
    app = FastAPI(
        title=f"{config.title} reading room",
        version=__version__,
        description="Read-only JSON API of a strongroom case. Every HTML page has a JSON twin.",
        responses=ERROR_RESPONSES,
        docs_url=None,  # the interactive docs load scripts from a CDN: not in a reading room
        redoc_url=None,
    )
    access = AccessConfig(accounts=config.accounts, secure_cookies=config.secure_cookies)
    app.state.access = access
    if config.accounts:
        _assign_unassigned(case)
    app.add_middleware(AccessGate, case=case, config=access)
    app.add_middleware(SecurityHeaders)  # outermost: refusals from the gate get headers too
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    templates = Jinja2Templates(directory=HERE / "templates")
    templates.env.globals["refine"] = views.refine
    templates.env.globals["title"] = config.title
    templates.env.globals["cos"] = math.cos
    templates.env.globals["sin"] = math.sin

    def page(request: Request, template: str, data: dict[str, Any]) -> HTMLResponse:
        context = {
            "data": data,
            "viewer": current_viewer(request),
            # every POST form carries it: <input type="hidden" name="csrf" value="{{ csrf }}">
            "csrf": getattr(request.state, "csrf", ""),
        }
        return templates.TemplateResponse(request, template, context)

    @app.exception_handler(StrongroomError)
    async def strongroom_error(request: Request, error: StrongroomError) -> Response:
        wants_page = "text/html" in request.headers.get("accept", "")
        if request.url.path.endswith(".json") or not wants_page:
            return JSONResponse(error.to_json(), status_code=error.http_status)
        if isinstance(error, LoginRequired) and request.method == "GET":
            return RedirectResponse("/login?" + urlencode({"next": request.url.path}), 303)
        return templates.TemplateResponse(
            request, "error.html", {"error": error}, status_code=error.http_status
        )

    @app.get("/", include_in_schema=False)
    def home() -> RedirectResponse:
        return RedirectResponse("/search")

    @app.get("/search", include_in_schema=False)
    def search_html(
        request: Request,
        viewer: CurrentViewer,
        q: str = "",
        page_number: int = Query(1, alias="page"),
        sort: str = "relevance",
    ) -> HTMLResponse:
        return page(request, "search.html", views.search_page(case, q, page_number, sort, viewer))

    @app.get("/search.json", summary="Search the case")
    def search_json(
        viewer: CurrentViewer,
        q: str = Query("", description="a query in strongroom's language"),
        page_number: int = Query(1, alias="page", ge=1, le=100_000),
        sort: str = Query("relevance", pattern="^(relevance|date|-date)$"),
    ) -> dict[str, Any]:
        return views.search_page(case, q, page_number, sort, viewer)

    @app.get("/items/{num}.json", summary="One item: record, text, children, locations")
    def item_json(num: ItemNumber, viewer: CurrentViewer) -> dict[str, Any]:
        return views.item_page(case, num, viewer)

    @app.get("/items/{num}", include_in_schema=False)
    def item_html(request: Request, num: ItemNumber, viewer: CurrentViewer) -> HTMLResponse:
        return page(request, "item.html", views.item_page(case, num, viewer))

    _file_routes(app, case)

    @app.get("/threads/{num}.json", summary="The conversation an item belongs to")
    def thread_json(num: ItemNumber, viewer: CurrentViewer) -> dict[str, Any]:
        return views.thread_page(case, num, viewer)

    @app.get("/threads/{num}", include_in_schema=False)
    def thread_html(request: Request, num: ItemNumber, viewer: CurrentViewer) -> HTMLResponse:
        return page(request, "thread.html", views.thread_page(case, num, viewer))

    _overview_routes(app, case, page)
    for module in route_modules():
        module.register(app, case, page)
    return app


def _overview_routes(app: FastAPI, case: Case, page: Page) -> None:
    @app.get("/correspondents.json", summary="People by mail volume and who writes to whom")
    def correspondents_json(
        viewer: CurrentViewer, q: str = "", limit: int = Query(100, ge=1, le=1000)
    ) -> dict[str, Any]:
        return views.correspondents_page(case, q, viewer, limit)

    @app.get("/correspondents", include_in_schema=False)
    def correspondents_html(request: Request, viewer: CurrentViewer, q: str = "") -> HTMLResponse:
        return page(request, "correspondents.html", views.correspondents_page(case, q, viewer))

    @app.get("/timeline.json", summary="Messages per month for a query")
    def timeline_json(viewer: CurrentViewer, q: str = "") -> dict[str, Any]:
        return views.timeline_page(case, q, viewer)

    @app.get("/timeline", include_in_schema=False)
    def timeline_html(request: Request, viewer: CurrentViewer, q: str = "") -> HTMLResponse:
        return page(request, "timeline.html", views.timeline_page(case, q, viewer))


def _file_routes(app: FastAPI, case: Case) -> None:
    @app.get(
        "/items/{num}/raw",
        summary="The exact stored bytes, shown as text",
        response_class=Response,
        responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}}},
    )
    def item_raw(num: ItemNumber, viewer: CurrentViewer) -> Response:
        viewer.check_item(case, num)
        viewer.audit(case, "raw", str(num))
        return Response(
            case.raw(str(num)),
            media_type="text/plain; charset=utf-8",
            headers={"Content-Disposition": f'inline; filename="{num}.raw"'},
        )

    @app.get(
        "/items/{num}/download",
        summary="The exact stored bytes, as a download",
        response_class=Response,
        responses={200: {"content": {"application/octet-stream": {"schema": {"type": "string"}}}}},
    )
    def item_download(num: ItemNumber, viewer: CurrentViewer) -> Response:
        viewer.check_item(case, num)
        item = case.item(str(num))
        viewer.audit(case, "download", str(num), {"sha256": item["sha256"]})
        name = _safe_filename(item["name"] or f"{num}.bin")
        return Response(
            case.raw(str(num)),
            media_type="application/octet-stream",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )


def _assign_unassigned(case: Case) -> None:
    """Items from before collections existed go to the default collection (private), so a
    server with accounts never shows an item that belongs to no collection."""
    from strongroom.accounts.collections import assign_unassigned

    added = assign_unassigned(case.catalog)
    if added:
        case.index.refresh(case.catalog, added)


def _safe_filename(name: str) -> str:
    cleaned = "".join(c if c.isalnum() or c in "._- " else "_" for c in name).strip(". ")
    return cleaned[:120] or "download"

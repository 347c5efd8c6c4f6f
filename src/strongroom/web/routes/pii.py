"""The personal-data review page: findings with the text around them, a decision form per
finding and one for every finding a filter shows. Reading it needs the reader role (it shows
the values), deciding the editor role; decisions go to the audit log as the viewer."""

from __future__ import annotations

import math
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import FastAPI, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from strongroom.case import Case
from strongroom.catalog import pii_store as store
from strongroom.pii.decisions import DECISIONS, Filter, Readable, decide, decide_bulk, review
from strongroom.web.access import CurrentViewer, Viewer
from strongroom.web.common import Page

PER_PAGE = 50
StatusParam = Query("", pattern="^(|undecided|accepted|rejected|generalised)$")


def _filters(kind: str, status: str, q: str) -> Filter:
    return Filter(types=(kind,) if kind else (), status=status or None, query=q)


def _link(kind: str, status: str, q: str, page: int = 1, **extra: str | int) -> str:
    params = {"type": kind, "status": status, "q": q, "page": page if page > 1 else "", **extra}
    query = urlencode({k: v for k, v in params.items() if v not in ("", None)})
    return "/pii" + (f"?{query}" if query else "")


def _readable(case: Case, viewer: Viewer) -> Readable | None:
    if viewer.collections is None:
        return None
    return lambda nums: viewer.readable(case, nums)


def pii_page(
    case: Case, viewer: Viewer, kind: str, status: str, q: str, page: int
) -> dict[str, Any]:
    viewer.require("reader")
    flt = _filters(kind, status, q)
    readable = _readable(case, viewer)
    found = review(case, flt, limit=PER_PAGE, offset=(page - 1) * PER_PAGE, readable=readable)
    pages = max(1, math.ceil(found["total"] / PER_PAGE))
    return {
        "filters": {"type": kind, "status": status, "q": q},
        "page": page,
        "pages": pages,
        "total": found["total"],
        "findings": found["findings"],
        "counts": found["counts"],
        "scanned_items": found["scanned_items"],
        "types": sorted(found["counts"]),
        "statuses": list(store.STATUSES),
        "can_decide": viewer.has_role("editor"),
        "links": {
            "previous": _link(kind, status, q, page - 1) if page > 1 else None,
            "next": _link(kind, status, q, page + 1) if page < pages else None,
            "json": _link(kind, status, q, page).replace("/pii", "/pii.json", 1),
        },
    }


def register(app: FastAPI, case: Case, page: Page) -> None:
    @app.get("/pii.json", summary="Personal-data findings and their review decisions")
    def pii_json(
        viewer: CurrentViewer,
        type: str = Query("", description="only this type: card, ssn, phone, ..."),
        status: str = StatusParam,
        q: str = Query("", description="only items this query finds (and their attachments)"),
        page_number: int = Query(1, alias="page", ge=1, le=100_000),
    ) -> dict[str, Any]:
        return pii_page(case, viewer, type, status, q, page_number)

    @app.get("/pii", include_in_schema=False)
    def pii_html(
        request: Request,
        viewer: CurrentViewer,
        type: str = "",
        status: str = StatusParam,
        q: str = "",
        page_number: int = Query(1, alias="page", ge=1, le=100_000),
        decided: str = "",
    ) -> HTMLResponse:
        data = pii_page(case, viewer, type, status, q, page_number)
        data["decided"] = decided
        return page(request, "pii.html", data)

    @app.post("/pii/decide", include_in_schema=False)
    def pii_decide(
        viewer: CurrentViewer,
        ids: Annotated[list[int], Form()],
        decision: Annotated[str, Form(pattern="^(accept|reject|generalise)$")],
        type: Annotated[str, Form()] = "",
        status: Annotated[str, Form()] = "",
        q: Annotated[str, Form()] = "",
        page_number: Annotated[int, Form(alias="page", ge=1)] = 1,
    ) -> RedirectResponse:
        viewer.require("editor")
        for row in store.select_findings(case.catalog, ids=ids):
            viewer.check_item(case, row["item_num"])
        changed = decide(case, ids, decision, viewer.name)
        done = f"{DECISIONS[decision]}:{changed}"
        return RedirectResponse(_link(type, status, q, page_number, decided=done), 303)

    @app.post("/pii/bulk", include_in_schema=False)
    def pii_bulk(
        viewer: CurrentViewer,
        decision: Annotated[str, Form(pattern="^(accept|reject|generalise)$")],
        type: Annotated[str, Form()] = "",
        status: Annotated[str, Form()] = "",
        q: Annotated[str, Form()] = "",
    ) -> RedirectResponse:
        viewer.require("editor")
        readable = _readable(case, viewer)
        flt = _filters(type, status or "undecided", q)
        changed = decide_bulk(case, flt, decision, viewer.name, readable)
        done = f"{DECISIONS[decision]}:{changed}"
        return RedirectResponse(_link(type, status, q, decided=done), 303)

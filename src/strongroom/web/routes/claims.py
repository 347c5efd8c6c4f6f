"""Claims pages: statements with the exhibits for and against them, each exhibit with its
evidential standing; forms to record claims and link exhibits (editors; every change in the
audit log); the report as a download. Every page has its JSON twin."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import FastAPI, Form, Request
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from strongroom.case import Case
from strongroom.claims import add_claim, claim, claims, link, unlink
from strongroom.claims.export import render_html, report
from strongroom.errors import UsageError
from strongroom.web.access import CurrentViewer, Viewer
from strongroom.web.common import Page

ClaimId = Annotated[int, PathParam(ge=1, le=2**31, description="a claim's id")]
ExhibitId = Annotated[int, PathParam(ge=1, le=2**31, description="an exhibit's id")]


def claims_page(case: Case, viewer: Viewer) -> dict[str, Any]:
    viewer.require("reader")
    return {"claims": claims(case), "can_edit": viewer.has_role("editor")}


def claim_page(case: Case, claim_id: int, viewer: Viewer) -> dict[str, Any]:
    viewer.require("reader")
    data = claim(case, claim_id, viewer.scope())
    data["can_edit"] = viewer.has_role("editor")
    return data


def _optional_int(value: str, name: str) -> int | None:
    value = value.strip()
    if not value:
        return None
    if not value.isdigit():
        raise UsageError(f"{name} must be a number, not {value!r}")
    return int(value)


def register(app: FastAPI, case: Case, page: Page) -> None:
    @app.get("/claims.json", summary="Claims with their counts of exhibits for and against")
    def claims_json(viewer: CurrentViewer) -> dict[str, Any]:
        return claims_page(case, viewer)

    @app.get("/claims", include_in_schema=False)
    def claims_html(request: Request, viewer: CurrentViewer) -> HTMLResponse:
        return page(request, "claims.html", claims_page(case, viewer))

    @app.post("/claims", include_in_schema=False)
    def claims_add(
        viewer: CurrentViewer, text: Annotated[str, Form(min_length=1, max_length=5000)]
    ) -> RedirectResponse:
        viewer.require("editor")
        created = add_claim(case, text, viewer.name)
        return RedirectResponse(f"/claims/{created['id']}", 303)

    @app.get("/claims/{claim_id}.json", summary="A claim, its exhibits and their standing")
    def claim_json(claim_id: ClaimId, viewer: CurrentViewer) -> dict[str, Any]:
        return claim_page(case, claim_id, viewer)

    @app.get("/claims/{claim_id}", include_in_schema=False)
    def claim_html(request: Request, claim_id: ClaimId, viewer: CurrentViewer) -> HTMLResponse:
        return page(request, "claim.html", claim_page(case, claim_id, viewer))

    @app.post("/claims/{claim_id}/exhibits", include_in_schema=False)
    def claim_link(
        viewer: CurrentViewer,
        claim_id: ClaimId,
        stance: Annotated[str, Form(pattern="^(supports|contradicts)$")],
        item: Annotated[str, Form(max_length=20)] = "",
        passage: Annotated[str, Form(max_length=40)] = "",
        query: Annotated[str, Form(max_length=2000)] = "",
        note: Annotated[str, Form(max_length=5000)] = "",
    ) -> RedirectResponse:
        viewer.require("editor")
        num = _optional_int(item, "item")
        if num is not None:
            viewer.check_item(case, num)
        if passage.strip() and num is None:
            raise UsageError("a passage needs an item number")
        link(
            case,
            claim_id,
            viewer.name,
            stance=stance,
            item=num,
            passage=passage.strip() or None,
            query=query if num is None else None,
            note=note,
        )
        return RedirectResponse(f"/claims/{claim_id}", 303)

    @app.post("/claims/{claim_id}/exhibits/{exhibit_id}/withdraw", include_in_schema=False)
    def claim_unlink(
        viewer: CurrentViewer, claim_id: ClaimId, exhibit_id: ExhibitId
    ) -> RedirectResponse:
        viewer.require("editor")
        unlink(case, exhibit_id, viewer.name)
        return RedirectResponse(f"/claims/{claim_id}", 303)

    @app.get(
        "/claims/{claim_id}/report.{fmt}",
        summary="The claim's report (html or json), citing permalinks and sha256s",
        response_class=Response,
    )
    def claim_report(claim_id: ClaimId, fmt: str, viewer: CurrentViewer) -> Response:
        viewer.require("reader")
        if fmt not in ("html", "json"):
            raise UsageError("the report is report.html or report.json")
        if viewer.collections is not None:  # a scoped viewer's report would cite unseen items
            viewer.require("admin")
        data = report(case, [claim_id])
        viewer.audit(case, "claim.export", str(claim_id), {"format": fmt})
        body = (
            json.dumps(data, indent=2, ensure_ascii=False) if fmt == "json" else render_html(data)
        )
        media = "application/json" if fmt == "json" else "text/html; charset=utf-8"
        disposition = f'attachment; filename="claim-{claim_id}.{fmt}"'
        return Response(body, media_type=media, headers={"Content-Disposition": disposition})

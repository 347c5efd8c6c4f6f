"""Batch search as a page: a textarea of names or terms, one per line, each answered with its
count and first hits (the same rows `strongroom batch` writes as CSV)."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import FastAPI, Form, Query, Request
from fastapi.responses import HTMLResponse

from strongroom.annotate.batch import read_lines, run_batch
from strongroom.case import Case
from strongroom.web.access import CurrentViewer, Viewer
from strongroom.web.common import Page

MAX_TEXT = 100_000


def batch_page(case: Case, viewer: Viewer, lines: str, hits: int) -> dict[str, Any]:
    rows = run_batch(case, read_lines(lines), hits=hits, collections=viewer.scope())
    if lines.strip():
        viewer.audit(case, "batch", None, {"lines": len(rows)})
    params = urlencode({"lines": lines, "hits": hits})
    return {
        "lines": lines,
        "hits": hits,
        "rows": [row.to_json() for row in rows],
        "errors": sum(1 for row in rows if row.error),
        "links": {"json": f"/batch.json?{params}"},
    }


def register(app: FastAPI, case: Case, page: Page) -> None:
    lines_param = Query("", max_length=MAX_TEXT, description="queries, one per line")
    hits_param = Query(5, ge=0, le=100, description="first hits to give per line")

    @app.get("/batch.json", summary="Many queries at once: each line's count and first hits")
    def batch_json(
        viewer: CurrentViewer, lines: str = lines_param, hits: int = hits_param
    ) -> dict[str, Any]:
        return batch_page(case, viewer, lines, hits)

    @app.get("/batch", include_in_schema=False)
    def batch_html(
        request: Request, viewer: CurrentViewer, lines: str = lines_param, hits: int = hits_param
    ) -> HTMLResponse:
        return page(request, "batch.html", batch_page(case, viewer, lines, hits))

    # The form posts: a long list does not fit in a URL (servers refuse lines over ~16 KB).
    @app.post("/batch", include_in_schema=False)
    def batch_post(
        request: Request,
        viewer: CurrentViewer,
        lines: Annotated[str, Form(max_length=MAX_TEXT)] = "",
        hits: Annotated[int, Form(ge=0, le=100)] = 5,
    ) -> HTMLResponse:
        return page(request, "batch.html", batch_page(case, viewer, lines, hits))

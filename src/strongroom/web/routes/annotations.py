"""Tags and notes on an item page (forms that POST back to it), the list of tags, and saved
searches with their alerts. Writing needs the editor role; every change is audit-logged as the
viewer."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import FastAPI, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from strongroom.annotate import (
    add_note,
    add_tags,
    alerts,
    list_searches,
    mark_seen,
    remove_tags,
    save_search,
    tag_counts,
)
from strongroom.case import Case
from strongroom.web.access import CurrentViewer, Viewer
from strongroom.web.common import ItemNumber, Page

TagField = Annotated[str, Form(min_length=1, max_length=64)]


def tags_page(case: Case, viewer: Viewer) -> dict[str, Any]:
    viewer.require("reader")
    tags = tag_counts(case)
    scope = viewer.scope()
    for entry in tags:
        query = f"tag:{entry['tag']}"
        if scope is not None:  # counts of what this viewer may read
            entry["items"] = case.count(query, scope)
        entry["search"] = "/search?q=" + quote(query)
    return {"tags": [entry for entry in tags if entry["items"]]}


def searches_page(case: Case, viewer: Viewer) -> dict[str, Any]:
    viewer.require("reader")
    found = alerts(case)
    shown = viewer.readable(case, [alert["id"] for alert in found])
    visible = [alert for alert in found if alert["id"] in shown]
    searches = list_searches(case)
    for search in searches:
        search["alerts"] = [alert for alert in visible if alert["search"] == search["name"]]
        search["unseen"] = len(search["alerts"])
        search["link"] = "/search?q=" + quote(search["query"])
    return {"searches": searches, "can_edit": viewer.has_role("editor")}


def register(app: FastAPI, case: Case, page: Page) -> None:
    @app.post("/items/{num}/tags", include_in_schema=False)
    def item_tag_add(viewer: CurrentViewer, num: ItemNumber, tag: TagField) -> RedirectResponse:
        viewer.require("editor")
        viewer.check_item(case, num)
        add_tags(case, tag, [num], viewer.name)
        return RedirectResponse(f"/items/{num}", 303)

    @app.post("/items/{num}/tags/remove", include_in_schema=False)
    def item_tag_remove(viewer: CurrentViewer, num: ItemNumber, tag: TagField) -> RedirectResponse:
        viewer.require("editor")
        viewer.check_item(case, num)
        remove_tags(case, tag, [num], viewer.name)
        return RedirectResponse(f"/items/{num}", 303)

    @app.post("/items/{num}/notes", include_in_schema=False)
    def item_note_add(
        viewer: CurrentViewer,
        num: ItemNumber,
        text: Annotated[str, Form(min_length=1, max_length=20_000)],
    ) -> RedirectResponse:
        viewer.require("editor")
        viewer.check_item(case, num)
        add_note(case, num, text, viewer.name)
        return RedirectResponse(f"/items/{num}", 303)

    @app.get("/tags.json", summary="Every tag with its number of items")
    def tags_json(viewer: CurrentViewer) -> dict[str, Any]:
        return tags_page(case, viewer)

    @app.get("/tags", include_in_schema=False)
    def tags_html(request: Request, viewer: CurrentViewer) -> HTMLResponse:
        return page(request, "tags.html", tags_page(case, viewer))

    @app.get("/searches.json", summary="Saved searches and the new items that matched them")
    def searches_json(viewer: CurrentViewer) -> dict[str, Any]:
        return searches_page(case, viewer)

    @app.get("/searches", include_in_schema=False)
    def searches_html(request: Request, viewer: CurrentViewer) -> HTMLResponse:
        return page(request, "searches.html", searches_page(case, viewer))

    @app.post("/searches", include_in_schema=False)
    def searches_save(
        viewer: CurrentViewer,
        name: Annotated[str, Form(min_length=1, max_length=64)],
        query: Annotated[str, Form(max_length=2000)],
    ) -> RedirectResponse:
        viewer.require("editor")
        save_search(case, name, query, viewer.name)
        return RedirectResponse("/searches", 303)

    @app.post("/searches/seen", include_in_schema=False)
    def searches_seen(
        viewer: CurrentViewer, name: Annotated[str, Form(min_length=1, max_length=64)]
    ) -> RedirectResponse:
        viewer.require("editor")
        mark_seen(case, name, viewer.name)
        return RedirectResponse("/searches", 303)

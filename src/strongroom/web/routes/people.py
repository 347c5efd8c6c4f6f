"""People pages (correspondents grouped into persons, with why) and an item's pattern
entities. Every page has its JSON twin."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import FastAPI, Form, Request
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse, RedirectResponse

from strongroom.analyze.entities import item_entities
from strongroom.analyze.people import (
    decisions,
    list_people,
    merge,
    person,
    split,
    undo,
)
from strongroom.case import Case
from strongroom.catalog import people_store
from strongroom.web.access import CurrentViewer, Viewer
from strongroom.web.common import ItemNumber, Page

PersonId = Annotated[int, PathParam(ge=1, le=2**31, description="a person's id")]
Note = Annotated[str, Form(max_length=2000)]


def people_page(case: Case, viewer: Viewer) -> dict[str, Any]:
    viewer.require("reader")
    rows = list_people(case.catalog, viewer.scope())
    return {
        "people": rows,
        "count": len(rows),
        "merged": sum(1 for p in rows if len(p["addresses"]) > 1),
    }


def person_page(case: Case, person_id: int, viewer: Viewer) -> dict[str, Any]:
    viewer.require("reader")
    data = person(case.catalog, person_id, viewer.scope())
    activity = data.get("activity")
    if activity:  # first and last message are items: shown only to who may read them
        for end in ("first", "last"):
            message = activity[end]
            if message and not viewer.can_read(case, message["id"]):
                activity[end] = None
        peak = max((m["count"] for m in activity["months"]), default=0)
        for month in activity["months"]:
            month["share"] = round(100 * month["count"] / peak) if peak else 0
    keys = {a["address"] for a in data["addresses"]}
    data["decisions"] = [
        d
        for d in decisions(case.catalog)
        if d["revoked_at"] is None
        and ({d["a"], d["b"]} & keys)
        and (viewer.scope() is None or {d["a"], d["b"]} <= keys)
    ]
    data["can_edit"] = viewer.has_role("editor")
    data["links_to"] = {
        "search": f"/search?q=person:{person_id}",
        "json": f"/people/{person_id}.json",
    }
    return data


def entities_page(case: Case, num: int, viewer: Viewer) -> dict[str, Any]:
    viewer.check_item(case, num)
    case.item(str(num))  # 404 for an unknown number
    return {"item": num, **item_entities(case.catalog, num)}


def _regrouped(case: Case, done: dict[str, Any]) -> RedirectResponse:
    """After a merge, split or undo: the index learns of the changed facts, and the browser
    goes to the person the address now belongs to."""
    case.index.refresh(case.catalog, done["stats"].changed)
    return RedirectResponse(f"/people/{done['person']}", 303)


def register(app: FastAPI, case: Case, page: Page) -> None:
    @app.get("/people.json", summary="People: correspondents' addresses grouped, with reasons")
    def people_json(viewer: CurrentViewer) -> dict[str, Any]:
        return people_page(case, viewer)

    @app.get("/people", include_in_schema=False)
    def people_html(request: Request, viewer: CurrentViewer) -> HTMLResponse:
        return page(request, "people.html", people_page(case, viewer))

    @app.get("/people/{person_id}.json", summary="A person: addresses, volume, correspondents")
    def person_json(person_id: PersonId, viewer: CurrentViewer) -> dict[str, Any]:
        return person_page(case, person_id, viewer)

    @app.get("/people/{person_id}", include_in_schema=False)
    def person_html(request: Request, person_id: PersonId, viewer: CurrentViewer) -> HTMLResponse:
        return page(request, "person.html", person_page(case, person_id, viewer))

    @app.get("/items/{num}/entities.json", summary="Pattern entities in an item's text")
    def entities_json(num: ItemNumber, viewer: CurrentViewer) -> dict[str, Any]:
        return entities_page(case, num, viewer)

    @app.post("/people/{person_id}/merge", include_in_schema=False)
    def person_merge(
        viewer: CurrentViewer,
        person_id: PersonId,
        other: Annotated[str, Form(min_length=1, max_length=500)],
        note: Note = "",
    ) -> RedirectResponse:
        viewer.require("editor")
        done = merge(case.catalog, str(person_id), other, viewer.name, note)
        return _regrouped(case, done)

    @app.post("/people/split", include_in_schema=False)
    def person_split(
        viewer: CurrentViewer,
        address: Annotated[str, Form(min_length=3, max_length=500)],
        note: Note = "",
    ) -> RedirectResponse:
        viewer.require("editor")
        return _regrouped(case, split(case.catalog, address, viewer.name, note))

    @app.post("/people/decisions/{decision}/undo", include_in_schema=False)
    def person_undo(
        viewer: CurrentViewer,
        decision: Annotated[int, PathParam(ge=1, le=2**31)],
        address: Annotated[str, Form(min_length=3, max_length=500)],
    ) -> RedirectResponse:
        viewer.require("editor")
        done = undo(case.catalog, decision, viewer.name)
        done["person"] = people_store.person_of_address(case.catalog, address.strip().lower())
        return _regrouped(case, done)

"""One function per page: it gathers the page's data from the library API. The HTML page and its
JSON twin are both rendered from what these return, so they cannot disagree."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from strongroom.annotate import item_tags_of, notes_of
from strongroom.case import Case
from strongroom.web.access import Viewer
from strongroom.web.security import sanitize_email_html

PAGE_SIZE = 20
SORTS = ("relevance", "-date", "date")


def search_page(case: Case, q: str, page: int, sort: str, viewer: Viewer) -> dict[str, Any]:
    page = max(page, 1)
    result = case.search(
        q,
        limit=PAGE_SIZE,
        offset=(page - 1) * PAGE_SIZE,
        sort=sort,
        collections=viewer.scope(),
    )
    viewer.audit(case, "search", q, {"total": result.total, "page": page})
    pages = max(1, -(-result.total // PAGE_SIZE))

    def link(**changes: Any) -> str:
        params = {"q": q, "sort": sort, "page": page, **changes}
        return "/search?" + urlencode({k: v for k, v in params.items() if v not in ("", None)})

    return {
        "query": q,
        "sort": sort,
        "page": page,
        "pages": pages,
        "total": result.total,
        "hits": result.hits,
        "facets": result.facets,
        "links": {
            "previous": link(page=page - 1) if page > 1 else None,
            "next": link(page=page + 1) if page < pages else None,
            "sorts": {name: link(sort=name, page=1) for name in SORTS},
        },
    }


def refine(q: str, term: str) -> str:
    """The search URL that narrows `q` by one more term (a facet click)."""
    combined = f"{q} {term}".strip()
    return "/search?" + urlencode({"q": combined})


def item_page(case: Case, num: int, viewer: Viewer) -> dict[str, Any]:
    viewer.check_item(case, num)
    item = case.item(str(num))
    viewer.audit(case, "view", str(num))
    record = item["record"]
    thread = _visible_thread(case, viewer, case.thread(num)) if item["kind"] == "email" else []
    html = sanitize_email_html(item["html"]) if item["html"] else ""
    shown = viewer.readable(case, [child["num"] for child in item["children"]])
    visible = [child for child in item["children"] if child["num"] in shown]
    previews = case.previews([child["num"] for child in visible])
    children = [{**child, "preview": previews.get(child["num"], "")} for child in visible]
    return {
        "num": item["num"],
        "sha256": item["sha256"],
        "size": item["size"],
        "kind": item["kind"],
        "format": item["format"],
        "mime": item["mime"],
        "detected_by": item["detected_by"],
        "status": item["status"],
        "reason": item["reason"],
        "name": item["name"],
        "subject": record.get("subject"),
        "date": record.get("date"),
        "addresses": record.get("addresses") or {},
        "message_id": record.get("message_id"),
        "mailer": record.get("mailer"),
        "headers": record.get("headers") or [],
        "defects": record.get("defects") or [],
        "metadata": record.get("metadata") or {},
        "text": item["text"],
        "html": html,
        "children": children,
        "failures": item["failures"],
        "locations": viewer.visible_locations(case, item["locations"]),
        "thread": thread,
        "verification": item.get("verification"),
        "forensics": item.get("forensics") or {},
        "tags": item_tags_of(case, num),
        "notes": notes_of(case, num),
        "ingested_at": item["ingested_at"],
        "tool_version": item["tool_version"],
        "links": {
            "raw": f"/items/{num}/raw",
            "download": f"/items/{num}/download",
            "json": f"/items/{num}.json",
            "thread": f"/threads/{num}" if thread else None,
        },
    }


def thread_page(case: Case, num: int, viewer: Viewer) -> dict[str, Any]:
    viewer.check_item(case, num)
    messages = case.thread(num)
    if not messages:
        case.item(str(num))  # an unknown number is a 404, a known one simply has no thread
    viewer.audit(case, "thread", str(num))
    return {"num": num, "messages": _visible_thread(case, viewer, messages)}


def _visible_thread(
    case: Case, viewer: Viewer, messages: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """The thread without the messages this viewer may not read (nor links to them)."""
    shown = viewer.readable(case, [m["id"] for m in messages])
    out = []
    for message in messages:
        if message["id"] not in shown:
            continue
        shown_message = dict(message)
        if message.get("parent") is not None and message["parent"] not in shown:
            shown_message["parent"] = None
        if message.get("thread") is not None and message["thread"] not in shown:
            shown_message["thread"] = min(shown)
        if viewer.scope() is not None:  # where it was found may be out of scope
            shown_message["parent_name"] = None
        out.append(shown_message)
    return out


def correspondents_page(case: Case, q: str, viewer: Viewer, limit: int = 100) -> dict[str, Any]:
    people = case.correspondents(q, limit=limit, collections=viewer.scope())
    return {"query": q, **people}


def timeline_page(case: Case, q: str, viewer: Viewer) -> dict[str, Any]:
    result = case.search(q, limit=1, collections=viewer.scope())
    months = result.facets.get("months", [])
    peak = max((bucket["count"] for bucket in months), default=0)
    return {
        "query": q,
        "total": result.total,
        "months": [
            {
                **bucket,
                "share": bucket["count"] / peak if peak else 0.0,
                "link": refine(q, f"date:{bucket['value']}"),
            }
            for bucket in months
        ],
    }

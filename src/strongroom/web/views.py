"""One function per page: it gathers the page's data from the library API. The HTML page and its
JSON twin are both rendered from what these return, so they cannot disagree."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from strongroom.case import Case
from strongroom.web.security import sanitize_email_html

PAGE_SIZE = 20
SORTS = ("relevance", "-date", "date")


def search_page(case: Case, q: str, page: int, sort: str) -> dict[str, Any]:
    page = max(page, 1)
    result = case.search(q, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE, sort=sort)
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


def item_page(case: Case, num: int) -> dict[str, Any]:
    item = case.item(str(num))
    record = item["record"]
    thread = case.thread(num) if item["kind"] == "email" else []
    html = sanitize_email_html(item["html"]) if item["html"] else ""
    previews = case.previews([child["num"] for child in item["children"]])
    children = [{**child, "preview": previews.get(child["num"], "")} for child in item["children"]]
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
        "locations": item["locations"],
        "thread": thread,
        "verification": item.get("verification"),
        "forensics": item.get("forensics") or {},
        "ingested_at": item["ingested_at"],
        "tool_version": item["tool_version"],
        "links": {
            "raw": f"/items/{num}/raw",
            "download": f"/items/{num}/download",
            "json": f"/items/{num}.json",
            "thread": f"/threads/{num}" if thread else None,
        },
    }


def thread_page(case: Case, num: int) -> dict[str, Any]:
    messages = case.thread(num)
    if not messages:
        case.item(str(num))  # an unknown number is a 404, a known one simply has no thread
    return {"num": num, "messages": messages}


def correspondents_page(case: Case, q: str, limit: int = 100) -> dict[str, Any]:
    people = case.correspondents(q, limit=limit)
    return {"query": q, **people}


def timeline_page(case: Case, q: str) -> dict[str, Any]:
    result = case.search(q, limit=1)
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

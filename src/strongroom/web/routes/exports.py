"""Exports of a search from the reading room: the current query's hits as mbox, a zip of .eml
files, CSV, JSON lines or FollowTheMoney entities, written by `strongroom.export` into a
temporary folder and sent as a download.

Who may export: signed-in readers and above (in local mode, the person at the terminal).
Anonymous visitors of a public collection read it item by item but do not take it away in
bulk: a release's publisher decides that, by publishing it. Every export holds only the items
in the viewer's collections, is capped (`MAX_ITEMS` hits, `MAX_BYTES` of original bytes) and
goes to the audit log as `export`, with the query, format and counts.
"""

from __future__ import annotations

import shutil
import tempfile
import zipfile
from pathlib import Path

from fastapi import FastAPI, Query
from fastapi.responses import FileResponse
from starlette.background import BackgroundTask

from strongroom.case import Case
from strongroom.web.access import CurrentViewer
from strongroom.web.common import Page

MAX_ITEMS = 10_000
MAX_BYTES = 512 * 1024**2
# format -> (file name, media type) of the download
DOWNLOADS = {
    "mbox": ("strongroom-export.mbox", "application/mbox"),
    "eml": ("strongroom-export.zip", "application/zip"),
    "csv": ("strongroom-export.csv", "text/csv; charset=utf-8"),
    "jsonl": ("strongroom-export.jsonl", "application/x-ndjson"),
    "ftm": ("strongroom-export.ftm.json", "application/x-ndjson"),
}


def export_file(
    case: Case, query: str, fmt: str, actor: str, scope: frozenset[str] | None, folder: Path
) -> Path:
    """Write the export into `folder` and return the file to send (eml: a zip of the files)."""
    from strongroom.export import export

    name = DOWNLOADS[fmt][0] if fmt in DOWNLOADS else "export"
    target = folder / ("eml" if fmt == "eml" else name)
    export(case, query, fmt, target, actor, scope=scope, max_items=MAX_ITEMS, max_bytes=MAX_BYTES)
    if fmt != "eml":
        return target
    archive = folder / name
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as out:
        for path in sorted(target.iterdir(), key=lambda p: int(p.stem)):
            out.write(path, path.name)
    return archive


def register(app: FastAPI, case: Case, page: Page) -> None:
    @app.get(
        "/export",
        summary="Download every hit of a query: mbox, eml (zip), csv, jsonl or ftm",
        response_class=FileResponse,
        responses={
            200: {"content": {t: {} for _n, t in DOWNLOADS.values()}},
            401: {"description": "not signed in (a server with accounts)"},
            413: {"description": "more hits, or more bytes, than an export may hold"},
        },
    )
    def export_download(
        viewer: CurrentViewer,
        q: str = Query("", max_length=10_000, description="a query in strongroom's language"),
        fmt: str = Query("mbox", alias="format", description=", ".join(DOWNLOADS)),
    ) -> FileResponse:
        viewer.require("reader")
        folder = Path(tempfile.mkdtemp(prefix="strongroom-export-"))
        try:
            path = export_file(case, q, fmt, viewer.name, viewer.scope(), folder)
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        name, media_type = DOWNLOADS[fmt]
        return FileResponse(
            path,
            media_type=media_type,
            filename=name,
            background=BackgroundTask(shutil.rmtree, folder, ignore_errors=True),
        )

"""HTML of a release: its own Jinja environment (autoescaped, strict), relative links only, so
the folder works from any web host or path. No inline script or style: the pages carry a
Content-Security-Policy that allows only the release's own files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from strongroom import __version__

TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent.parent / "web" / "static"
STATIC_FILES = ("publish-search.js", "publish-site.css")


class Renderer:
    def __init__(self, title: str) -> None:
        self.title = title
        self.env = Environment(
            loader=FileSystemLoader(TEMPLATES),
            autoescape=select_autoescape(["html"]),
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )

    def _page(self, template: str, root: str, **values: Any) -> bytes:
        html = self.env.get_template(template).render(
            site_title=self.title, root=root, version=__version__, **values
        )
        return html.encode("utf-8")

    def item(self, data: dict[str, Any]) -> bytes:
        return self._page("item.html", "../", data=data)

    def listing(self, entries: list[dict[str, Any]], number: int, pages: int) -> bytes:
        return self._page("listing.html", "../", entries=entries, number=number, pages=pages)

    def thread(self, thread_id: int, messages: list[dict[str, Any]]) -> bytes:
        return self._page("thread.html", "../", thread_id=thread_id, messages=messages)

    def index(self, summary: dict[str, Any]) -> bytes:
        return self._page("index.html", "", summary=summary)

    @staticmethod
    def static_files() -> dict[str, bytes]:
        return {name: (STATIC / name).read_bytes() for name in STATIC_FILES}

"""A claims report: `claims.json` and `claims.html`, written for a reader without the case.

Each exhibit is cited by its permalink (`items/N`, made absolute with a base URL) and the
sha256 of its original bytes, so a reader holding a published release can hash the file and
compare; with each, its standing when the report was written: the DKIM verdict, custody
record, forensic flags and duplicates. The report is self-contained (no scripts, no remote
resources).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

from strongroom import __version__
from strongroom.case import Case
from strongroom.catalog.audit import record
from strongroom.claims.model import claim, claims
from strongroom.errors import UsageError

FORMAT = "strongroom-claims/1"

TEMPLATES = Path(__file__).resolve().parents[1] / "web" / "templates"


def _permalinks(node: Any, base: str) -> None:
    """Add `permalink` beside every cited item number, in place."""
    if isinstance(node, dict):
        if isinstance(node.get("item"), int) and ("custody" in node or "sha256" in node):
            node["permalink"] = f"{base}items/{node['item']}"
        for value in node.values():
            _permalinks(value, base)
    elif isinstance(node, list):
        for value in node:
            _permalinks(value, base)


def report(case: Case, ids: list[int] | None, base_url: str = "") -> dict[str, Any]:
    """The report's data for these claims (None: all), permalinks made from `base_url`."""
    chosen = ids if ids is not None else [c["id"] for c in claims(case)]
    if not chosen:
        raise UsageError("there are no claims to export", hint='strongroom claims add "TEXT"')
    data = {
        "format": FORMAT,
        "generated_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "tool_version": __version__,
        "base_url": base_url,
        "claims": [claim(case, claim_id) for claim_id in chosen],
    }
    _permalinks(data["claims"], base_url.rstrip("/") + "/" if base_url else "")
    return data


def render_html(data: dict[str, Any]) -> str:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(default=True)
    )
    return env.get_template("claims_report.html").render(report=data)


def export(
    case: Case, ids: list[int] | None, out: Path, actor: str, base_url: str = ""
) -> dict[str, Any]:
    """Write OUT/claims.json and OUT/claims.html for these claims (None: all)."""
    if out.exists() and not out.is_dir():
        raise UsageError(f"{out} exists and is not a directory")
    data = report(case, ids, base_url)
    chosen = [c["id"] for c in data["claims"]]
    out.mkdir(parents=True, exist_ok=True)
    json_path, html_path = out / "claims.json", out / "claims.html"
    json_path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", "utf-8")
    html_path.write_text(render_html(data), "utf-8")
    record(case.catalog, actor, "claim.export", ",".join(map(str, chosen)), {"out": str(out)})
    return {"claims": chosen, "json": str(json_path), "html": str(html_path)}

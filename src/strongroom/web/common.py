"""What the reading room's route modules share: the page renderer's type, path parameters."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Path as PathParam
from fastapi import Request
from fastapi.responses import HTMLResponse

# Renders a template with {"data": data}; every HTML page has a JSON twin built from `data`.
Page = Callable[[Request, str, dict[str, Any]], HTMLResponse]

ItemNumber = Annotated[int, PathParam(ge=1, le=2**63 - 1, description="an item's number")]

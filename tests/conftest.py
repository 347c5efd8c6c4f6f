"""Shared fixtures. The real corpora are read in place, never copied into the repository."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def corpora() -> Path:
    """The folder of real sample corpora: $STRONGROOM_CORPORA, else <repo>/../shared/corpora.

    Outside CI a missing folder skips the tests that need it; under CI=true it fails them.
    """
    configured = os.environ.get("STRONGROOM_CORPORA")
    path = Path(configured) if configured else REPO.parent / "shared" / "corpora"
    if not path.is_dir():
        message = f"corpora folder {path} not found; set STRONGROOM_CORPORA"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return path


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's Chromium through Playwright, one per test module (tests/browsing.py)."""
    from tests.browsing import launch_chromium

    yield from launch_chromium()

"""Docs that can be checked: the CLI reference is generated, and every format is documented."""

from __future__ import annotations

import sys
from pathlib import Path

from strongroom.formats.registry import DETECTION_TYPES

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "scripts"))

from gen_cli_docs import DOC, render  # noqa: E402


def test_cli_reference_is_current() -> None:
    assert DOC.read_text() == render(), "run: .venv/bin/python scripts/gen_cli_docs.py"


def test_every_detected_type_is_documented() -> None:
    formats_doc = (REPO / "docs" / "formats.md").read_text()
    missing = [t for t in sorted(DETECTION_TYPES) if f"`{t}`" not in formats_doc]
    assert not missing, f"docs/formats.md does not mention: {missing}"

"""Docs that can be checked: the CLI reference is generated, and every format is documented."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from strongroom.formats.registry import DETECTION_TYPES

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "scripts"))

from gen_cli_docs import DOC  # noqa: E402


def test_cli_reference_is_current() -> None:
    # Rendered in a fresh process: click caches each command's help option the first time a
    # context asks for it, so commands other tests ran in this process could render otherwise.
    rendered = subprocess.run(
        [sys.executable, "-c", "import sys, gen_cli_docs; sys.stdout.write(gen_cli_docs.render())"],
        cwd=REPO / "scripts",
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert DOC.read_text() == rendered, "run: .venv/bin/python scripts/gen_cli_docs.py"


def test_every_detected_type_is_documented() -> None:
    formats_doc = (REPO / "docs" / "formats.md").read_text()
    missing = [t for t in sorted(DETECTION_TYPES) if f"`{t}`" not in formats_doc]
    assert not missing, f"docs/formats.md does not mention: {missing}"

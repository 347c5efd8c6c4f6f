"""``python -m strongroom.demo OUT [--messages N] [--attachments N] [--layout L] [--reference]``."""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import replace
from pathlib import Path

from strongroom.demo.generate import LAYOUTS, build_dump
from strongroom.demo.manifest import REFERENCE, DemoSpec


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m strongroom.demo", description=__doc__)
    parser.add_argument("out", type=Path)
    parser.add_argument("--seed", type=int)
    parser.add_argument("--messages", type=int)
    parser.add_argument("--attachments", type=int)
    parser.add_argument("--layout", choices=LAYOUTS)
    parser.add_argument("--reference", action="store_true", help="start from the REFERENCE spec")
    args = parser.parse_args(argv)
    spec = REFERENCE if args.reference else DemoSpec()
    overrides = {
        k: v
        for k, v in vars(args).items()
        if k in ("seed", "messages", "attachments", "layout") and v is not None
    }
    spec = replace(spec, **overrides)
    started = time.perf_counter()
    manifest = build_dump(args.out, spec)
    elapsed = time.perf_counter() - started
    size = sum(f.size for f in manifest.files)
    print(
        f"{manifest.emails_written} emails, {manifest.attachments_written} attachments, "
        f"{manifest.dkim_signed} DKIM-signed, {size / 1e6:.1f} MB in {elapsed:.1f}s -> {args.out}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

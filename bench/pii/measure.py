"""Precision, recall and scan throughput of strongroom's personal-data detection.

    .venv/bin/python bench/pii/measure.py [--preset small|reference] [--workers N] [--write]

1. The labelled sentences of tests/test_pii_samples.py: per type, values found (true
   positives), look-alikes reported (false positives), values missed (false negatives).
2. A demo dump (`strongroom.demo`, its MANIFEST.json left out of the case): ingested, then
   scanned with `--workers`; every planted card number and SSN is looked for where it was
   planted (the email's body or the named attachment's text), and every card or SSN found that
   was not planted counts as a false positive. The scan is timed (items and MB of text per
   second), then rerun to show that a rerun scans nothing.

Prints Markdown; `--write` also replaces the measured section of docs/pii.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from sqlalchemy import func, select  # noqa: E402
from tests.test_pii_samples import SAMPLES, WORDS, score  # noqa: E402

from strongroom.case import Case  # noqa: E402
from strongroom.catalog import pii_store as store  # noqa: E402
from strongroom.catalog import schema as s  # noqa: E402
from strongroom.config import IngestPolicy  # noqa: E402
from strongroom.demo import REFERENCE, DemoSpec, build_dump  # noqa: E402
from strongroom.demo.manifest import MANIFEST_NAME  # noqa: E402
from strongroom.pii.detect import Detector  # noqa: E402
from strongroom.pii.scan import scan_case  # noqa: E402

DOC = REPO / "docs" / "pii.md"
START, END = "<!-- pii-measure:start -->", "<!-- pii-measure:end -->"


def ratio(a: int, b: int) -> str:
    return "n/a" if b == 0 else f"{a / b:.3f}"


def labelled() -> list[str]:
    counts = score(Detector(WORDS))
    lines = [
        f"Labelled sentences ({len(SAMPLES)}, tests/test_pii_samples.py):",
        "",
        "| type | found | false positives | missed | precision | recall |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for kind, c in counts.items():
        tp, fp, fn = c["tp"], c["fp"], c["fn"]
        lines.append(
            f"| {kind} | {tp} | {fp} | {fn} | {ratio(tp, tp + fp)} | {ratio(tp, tp + fn)} |"
        )
    return lines


def demo(spec: DemoSpec, workers: int, work: Path) -> list[str]:
    started = time.perf_counter()
    manifest = build_dump(work / "dump", spec)
    case = Case.init(work / "case")
    inputs = sorted(p for p in (work / "dump").iterdir() if p.name != MANIFEST_NAME)
    case.ingest(inputs, IngestPolicy(workers=workers), verify=False)
    prepared = time.perf_counter() - started
    with case.catalog.engine.connect() as conn:
        text_chars = int(
            conn.execute(
                select(func.coalesce(func.sum(func.length(s.texts.c.body)), 0))
            ).scalar_one()
        )
    stats = scan_case(case.catalog, case.index, workers=workers)
    rerun = scan_case(case.catalog, case.index, workers=workers)
    rows = store.select_findings(case.catalog)
    found_at = {(r["item_num"], r["place"], r["type"], r["key"]) for r in rows}
    with case.catalog.engine.connect() as conn:
        by_id = {
            str(mid): int(num)
            for num, mid in conn.execute(
                select(s.items.c.num, s.items.c.message_id).where(s.items.c.kind == "email")
            )
        }
        children: dict[tuple[int, str], list[int]] = {}
        for parent, name, num in conn.execute(
            select(s.locations.c.parent_num, s.items.c.name, s.items.c.num).join(
                s.items, s.items.c.num == s.locations.c.item_num
            )
        ):
            children.setdefault((int(parent), name or ""), []).append(int(num))
    planted: Counter[str] = Counter()
    hit: Counter[str] = Counter()
    for p in manifest.pii:
        planted[p.kind] += 1
        email = by_id.get(p.message.message_id.strip("<>"))
        if email is None:
            continue
        places = (
            [(email, "body")]
            if p.part == "body"
            else [(n, "text") for n in children.get((email, p.part), [])]
        )
        if any((num, place, p.kind, p.digits) in found_at for num, place in places):
            hit[p.kind] += 1
    truth = {(p.kind, p.digits) for p in manifest.pii}
    false = Counter(
        r["type"]
        for r in rows
        if r["type"] in ("card", "ssn") and (r["type"], r["key"]) not in truth
    )
    flagged = Counter(r["type"] for r in rows)
    mb = text_chars / 1e6
    lines = [
        (
            f"Demo dump ({manifest.emails_written} emails, {manifest.attachments_written} "
            f"attachments; {stats.scanned} items, {mb:.1f} M characters of text; "
            f"dump and ingest {prepared:.0f} s):"
        ),
        "",
        "| type | planted | found where planted | recall | other findings of the type |",
        "|---|---:|---:|---:|---:|",
    ]
    for kind in sorted(planted):
        lines.append(
            f"| {kind} | {planted[kind]} | {hit[kind]} | {ratio(hit[kind], planted[kind])} "
            f"| {false[kind]} |"
        )
    lines += [
        "",
        f"All findings by type: {', '.join(f'{k} {v}' for k, v in sorted(flagged.items()))}.",
        "",
        (
            f"Scan with {workers} worker(s): {stats.seconds:.1f} s, "
            f"{stats.scanned / stats.seconds:.0f} items/s, "
            f"{mb / stats.seconds:.2f} M characters/s; "
            f"rerun: {rerun.scanned} items in {rerun.seconds:.1f} s."
        ),
    ]
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--preset", choices=("small", "reference"), default="small")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--write", action="store_true", help="update docs/pii.md")
    args = parser.parse_args()
    spec = REFERENCE if args.preset == "reference" else DemoSpec()
    with tempfile.TemporaryDirectory(prefix="strongroom-pii-") as work:
        body = [*labelled(), "", *demo(spec, args.workers, Path(work))]
    load = os.getloadavg()[0]
    body += [
        "",
        (
            f"Measured with `.venv/bin/python bench/pii/measure.py --preset {args.preset} "
            f"--workers {args.workers}` on {platform.machine()}, {os.cpu_count()} cores, "
            f"Python {platform.python_version()}, load average {load:.1f} at the end."
        ),
    ]
    text = "\n".join(body)
    print(text)
    if args.write:
        doc = DOC.read_text(encoding="utf-8")
        section = f"{START}\n{text}\n{END}"
        new = re.sub(
            re.escape(START) + r".*?" + re.escape(END), lambda _m: section, doc, flags=re.S
        )
        DOC.write_text(new, encoding="utf-8")


if __name__ == "__main__":
    main()

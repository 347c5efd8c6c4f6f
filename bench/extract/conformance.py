"""Document extraction outcomes over a corpus: the numbers of docs/formats.md's "Conformance".

Ingests one corpus folder of ../shared/corpora into a fresh case (2 workers, OCR on or off) and
prints three Markdown rows: top-level files by outcome, every document (archive members,
attachments and embedded files included) by outcome, and the readable files that yield text.

    .venv/bin/python bench/extract/conformance.py tika-test-documents [--no-ocr]
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import tempfile
from collections import Counter
from pathlib import Path

from strongroom.case import Case
from strongroom.config import IngestPolicy

REPO = Path(__file__).resolve().parents[2]
CORPORA = Path(os.environ.get("STRONGROOM_CORPORA", REPO.parent / "shared" / "corpora"))
OUTCOMES = ("text", "ocr", "no-text", "encrypted", "unsupported", "corrupt")
# The readable extensions of tests/test_documents_conformance.py.
READABLE = frozenset(
    [".pdf", ".docx", ".docm", ".dotx", ".xlsx", ".xlsm", ".pptx", ".pptm", ".odt", ".ods",
     ".odp", ".rtf", ".doc", ".xls", ".ppt", ".html", ".htm", ".txt", ".csv", ".json", ".xml",
     ".vcf", ".ics", ".ical"]
)  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", help="a folder of ../shared/corpora")
    parser.add_argument("--no-ocr", action="store_true")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    source = CORPORA / args.corpus
    with tempfile.TemporaryDirectory(prefix="strongroom-conformance-") as folder:
        case = Case.init(Path(folder) / "case")
        case.ingest([source], IngestPolicy(workers=args.workers, ocr=not args.no_ocr))
        by_extraction = case.report()["by_status"]
        db = sqlite3.connect(Path(folder) / "case" / "catalog.sqlite")
        rows = db.execute(
            "select i.path, it.format, json_extract(it.record, '$.extraction')"
            " from inputs i left join items it on it.sha256 = i.sha256"
        ).fetchall()
        db.close()
    top = Counter(
        extraction if fmt == "document" else "mail/container" for _p, fmt, extraction in rows
    )
    label = f"{args.corpus} (OCR {'off' if args.no_ocr else 'on'})"
    cells = [str(top.get(key, 0)) for key in (*OUTCOMES, "mail/container")]
    print(f"| {label} | {len(rows)} | " + " | ".join(cells) + " |")
    print(f"| {label} | " + " | ".join(str(by_extraction.get(k, 0)) for k in OUTCOMES) + " |")
    readable = [e for p, fmt, e in rows if fmt == "document" and Path(p).suffix.lower() in READABLE]
    texts = sum(1 for e in readable if e in ("text", "ocr"))
    others = Counter(e for e in readable if e not in ("text", "ocr"))
    print(f"readable: {texts} of {len(readable)} yield text; the others: {dict(others)}")


if __name__ == "__main__":
    main()

"""Extraction speed by format, on 2 worker processes: pages per second, with and without OCR.

Reads the sample documents of ../shared/corpora (Tika's and Aleph's test documents), extracts
each with strongroom's document dispatcher in a pool of processes, and rewrites the section of
docs/benchmarks.md between `<!-- extract:start -->` and `<!-- extract:end -->`.

    .venv/bin/python bench/extract/run.py [--workers 2] [--rounds 3] [--no-write]
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from strongroom.formats.document import DocumentFormat
from strongroom.formats.extract import ExtractOptions

REPO = Path(__file__).resolve().parents[2]
CORPORA = Path(os.environ.get("STRONGROOM_CORPORA", REPO.parent / "shared" / "corpora"))
DOC = REPO / "docs" / "benchmarks.md"
START, END = "<!-- extract:start -->", "<!-- extract:end -->"
GROUPS = {
    "PDF (text layer)": (".pdf",),
    "DOCX": (".docx",),
    "XLSX": (".xlsx",),
    "PPTX": (".pptx",),
    "ODF (odt/ods/odp)": (".odt", ".ods", ".odp"),
    "RTF": (".rtf",),
    "DOC (piece table)": (".doc",),
    "XLS (xlrd)": (".xls",),
    "PPT (catppt)": (".ppt",),
    "HTML/text/CSV/JSON": (".html", ".htm", ".txt", ".csv", ".json"),
}
OCR_GROUPS = {
    "images, OCR": (".tif", ".tiff", ".png", ".jpg", ".gif"),
    "scanned PDF pages, OCR": (".pdf",),
}
_format: DocumentFormat | None = None


def _init(ocr: bool) -> None:
    global _format  # noqa: PLW0603 - one dispatcher per benchmark process
    os.environ["OMP_THREAD_LIMIT"] = "1"
    _format = DocumentFormat(ExtractOptions(ocr=ocr))


def _extract(path: str) -> tuple[int, int, str]:
    """(pages, OCR'd pages, outcome) of one file."""
    assert _format is not None
    parsed = _format.parse(Path(path).read_bytes(), Path(path).name)
    pages = parsed.record.get("pages") or []
    ocred = sum(1 for page in pages if page.get("source") == "ocr")
    return max(1, len(pages)), ocred, str(parsed.record.get("extraction"))


def files(suffixes: tuple[str, ...]) -> list[str]:
    found = []
    for corpus in ("tika-test-documents", "aleph-ingest-file-fixtures"):
        for path in sorted((CORPORA / corpus).rglob("*")):
            if path.is_file() and path.suffix.lower() in suffixes:
                found.append(str(path))
    return found


def measure(paths: list[str], workers: int, rounds: int, ocr: bool) -> dict[str, float]:
    with ProcessPoolExecutor(workers, initializer=_init, initargs=(ocr,)) as pool:
        list(pool.map(_extract, paths[:workers]))  # warm the processes up
        started = time.perf_counter()
        results = []
        for _ in range(rounds):
            results = list(pool.map(_extract, paths))
        elapsed = (time.perf_counter() - started) / rounds
    pages = sum(r[0] for r in results)
    ocred = sum(r[1] for r in results)
    texts = sum(1 for r in results if r[2] in ("text", "ocr"))
    return {"files": len(paths), "texts": texts, "pages": pages, "ocr_pages": ocred, "s": elapsed}


def run(workers: int, rounds: int) -> list[str]:
    lines = [
        "| format | files | with text | pages | seconds | pages/s |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for label, suffixes in GROUPS.items():
        stats = measure(files(suffixes), workers, rounds, ocr=False)
        lines.append(_row(label, stats, stats["pages"]))
    for label, suffixes in OCR_GROUPS.items():
        paths = files(suffixes)
        if label.startswith("scanned"):
            with ProcessPoolExecutor(workers, initializer=_init, initargs=(True,)) as pool:
                paths = [p for p, r in zip(paths, pool.map(_extract, paths), strict=True) if r[1]]
        stats = measure(paths, workers, 1, ocr=True)
        lines.append(_row(label, stats, stats["ocr_pages"]))
    return lines


def _row(label: str, stats: dict[str, float], pages: float) -> str:
    rate = pages / stats["s"] if stats["s"] else 0.0
    return (
        f"| {label} | {stats['files']:.0f} | {stats['texts']:.0f} | {pages:.0f} |"
        f" {stats['s']:.2f} | {rate:,.1f} |"
    )


def write(lines: list[str], workers: int, rounds: int) -> None:
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
    ).stdout.strip()
    section = "\n".join(
        [
            START,
            "## Document extraction (`bench/extract`)",
            "",
            (
                f"`.venv/bin/python bench/extract/run.py`: every sample of that type in the Tika "
                f"and Aleph corpora, extracted by {workers} worker processes (text formats: mean "
                f"of {rounds} rounds; OCR: one round, Tesseract with `OMP_THREAD_LIMIT=1`). A file "
                "without pages (a text file, a docx) counts as one page; OCR rows count only the "
                "pages that went through Tesseract."
            ),
            "",
            *lines,
            "",
            (
                f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python "
                f"{platform.python_version()}, load average {os.getloadavg()[0]:.1f} at the end; "
                f"commit {commit or 'unknown'}."
            ),
            END,
        ]
    )
    text = DOC.read_text() if DOC.exists() else "# Benchmarks\n"
    if START in text and END in text:
        before, rest = text.split(START, 1)
        text = before + section + rest.split(END, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    DOC.write_text(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    lines = run(args.workers, args.rounds)
    print("\n".join(lines))
    if not args.no_write:
        write(lines, args.workers, args.rounds)


if __name__ == "__main__":
    main()

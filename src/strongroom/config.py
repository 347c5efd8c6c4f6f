"""Explicit, frozen configuration. Library code never reads environment variables; the shells do
and pass these objects in."""

from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass(frozen=True)
class IngestPolicy:
    """Limits and switches for one ingest run."""

    workers: int = max(1, os.cpu_count() or 1)
    max_depth: int = 8  # nesting of containers inside containers (zip in an email in an mbox...)
    max_member_bytes: int = 2 * 1024**3  # one archive member larger than this is refused
    max_expansion_ratio: int = 200  # archive member uncompressed/compressed beyond this: a bomb
    max_archive_members: int = 100_000
    batch_items: int = 64  # leaf items sent to a worker at once
    in_flight_batches: int = 3  # bounded queue per worker: memory does not grow with the dump
    # Document extraction. A worker process gets an address-space limit (0: none); one item's
    # parse gets a wall-clock limit, and converters (tesseract, antiword) their own.
    item_timeout_s: float = 300.0
    worker_memory_bytes: int = 6 * 1024**3
    ocr: bool = True
    ocr_languages: str = "eng"
    ocr_max_pages: int = 100
    # Extraction on a dask.distributed cluster instead of this machine's process pool:
    # "tcp://host:8786", or "local:N" for N worker processes started here (ingest/cluster.py).
    cluster: str | None = None
    cluster_wait_s: float = 60.0  # how long to wait for the first worker to join

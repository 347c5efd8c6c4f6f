"""Extraction limits: a wall-clock limit per item, an address-space limit per worker process,
bounded decompression inside documents. What breaks a limit is recorded with its reason; the
other items and the driver carry on."""

from __future__ import annotations

import io
import resource
import signal
import time
import zipfile
from pathlib import Path

import pytest
from PIL import Image

from strongroom.case import Case
from strongroom.config import IngestPolicy
from strongroom.formats import registry
from strongroom.formats.base import Format, Parsed
from strongroom.formats.document import DocumentFormat
from strongroom.formats.extract import ExtractOptions


class Misbehaving:
    """The document format, except for files named slow.txt (sleeps) and big.txt (allocates)."""

    name = "document"

    def __init__(self) -> None:
        self.inner = DocumentFormat()

    def parse(self, data: bytes, name: str | None) -> Parsed:
        if name == "slow.txt":
            time.sleep(60)
        if name == "big.txt":
            hog = bytearray(3 * 1024**3)
            return Parsed(kind="document", text=str(len(hog)))
        return self.inner.parse(data, name)


@pytest.fixture
def misbehaving(monkeypatch: pytest.MonkeyPatch) -> None:
    real = registry.formats

    def patched(options: ExtractOptions | None = None) -> dict[str, Format]:
        table = real(options)
        table["document"] = Misbehaving()
        return table

    # Worker processes are forked from this one, so they see the patch too.
    monkeypatch.setattr(registry, "formats", patched)


def dump_with(tmp_path: Path, *names: str) -> Path:
    dump = tmp_path / "dump"
    dump.mkdir()
    for name in ("fine.txt", *names):
        (dump / name).write_text(f"the file {name}\n")
    return dump


def statuses(case: Case) -> dict[str, tuple[str, str | None]]:
    found = {}
    for num in range(1, case.report()["items"] + 1):
        item = case.item(str(num))
        found[item["name"]] = (item["status"], item["reason"])
    return found


@pytest.mark.usefixtures("misbehaving")
@pytest.mark.parametrize("workers", [1, 2])
def test_an_item_past_its_time_limit_fails_and_the_rest_go_on(tmp_path: Path, workers: int) -> None:
    before = signal.getsignal(signal.SIGALRM)
    case = Case.init(tmp_path / "case")
    started = time.monotonic()
    case.ingest([dump_with(tmp_path, "slow.txt")], IngestPolicy(workers=workers, item_timeout_s=1))
    assert time.monotonic() - started < 30
    found = statuses(case)
    assert found["slow.txt"] == ("failed", "timed out after 1 s")
    assert found["fine.txt"] == ("ok", None)
    assert case.report()["by_status"] == {"failed": 1, "text": 1}
    assert signal.getsignal(signal.SIGALRM) == before  # the driver's handler is restored
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)


@pytest.mark.usefixtures("misbehaving")
def test_a_worker_over_its_memory_limit_records_the_item(tmp_path: Path) -> None:
    limit_before = resource.getrlimit(resource.RLIMIT_AS)
    case = Case.init(tmp_path / "case")
    policy = IngestPolicy(workers=2, worker_memory_bytes=2 * 1024**3)
    case.ingest([dump_with(tmp_path, "big.txt")], policy)
    found = statuses(case)
    assert found["big.txt"][0] == "failed"
    assert "out of memory" in str(found["big.txt"][1])
    assert found["fine.txt"] == ("ok", None)
    assert resource.getrlimit(resource.RLIMIT_AS) == limit_before  # only workers are limited


def test_a_decompression_bomb_inside_a_document_is_refused() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", b"<w:document>" + b" " * 50 * 1024**2)
    assert len(buffer.getvalue()) < 200_000
    parsed = DocumentFormat().parse(buffer.getvalue(), "bomb.docx")
    assert parsed.status == "corrupt"
    assert parsed.record["extraction"] == "corrupt"
    assert "decompression bomb" in str(parsed.reason)


def test_an_image_over_the_pixel_limit_is_refused_before_decoding() -> None:
    buffer = io.BytesIO()
    Image.new("L", (200, 200)).save(buffer, format="PNG")
    parsed = DocumentFormat(ExtractOptions(max_image_pixels=1000)).parse(buffer.getvalue(), "x.png")
    assert parsed.status == "corrupt"
    assert "decompression bomb" in str(parsed.reason)

"""Optical character recognition with the Tesseract command-line program.

One tesseract process per page, single-threaded (`OMP_THREAD_LIMIT=1`: with OpenMP threads it is
several times slower under a process pool), with a time limit, reading a PNG on stdin. Only the
traineddata Debian installed is used; nothing is downloaded.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess

from strongroom.formats.extract import ExtractOptions


class OcrUnavailable(Exception):
    """Tesseract is not installed (or not the requested language)."""


@functools.cache
def tesseract() -> str | None:
    return shutil.which("tesseract")


@functools.cache
def languages() -> frozenset[str]:
    program = tesseract()
    if program is None:
        return frozenset()
    done = subprocess.run(
        [program, "--list-langs"], capture_output=True, timeout=30, check=False, env=_env()
    )
    lines = done.stdout.decode("utf-8", "replace").splitlines()
    return frozenset(line.strip() for line in lines[1:] if line.strip())


def _env() -> dict[str, str]:
    return {"OMP_THREAD_LIMIT": "1", "PATH": os.defpath, "LC_ALL": "C"}


def available(options: ExtractOptions) -> bool:
    wanted = set(options.ocr_languages.split("+"))
    return options.ocr and tesseract() is not None and wanted <= languages()


def recognise(png: bytes, options: ExtractOptions, dpi: int | None = None) -> str:
    """The text Tesseract reads in one image (PNG bytes)."""
    program = tesseract()
    if program is None or not available(options):
        raise OcrUnavailable(f"tesseract with language {options.ocr_languages} is not installed")
    command = [program, "stdin", "stdout", "-l", options.ocr_languages]
    if dpi:
        command += ["--dpi", str(dpi)]
    try:
        done = subprocess.run(
            command,
            input=png,
            capture_output=True,
            timeout=options.converter_timeout_s,
            check=False,
            env=_env(),
        )
    except subprocess.TimeoutExpired as error:
        raise TimeoutError(f"tesseract took over {options.converter_timeout_s:g} s") from error
    if done.returncode != 0:
        message = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise RuntimeError(f"tesseract failed: {message[-1] if message else done.returncode}")
    return done.stdout.decode("utf-8", "replace").strip()

"""ZIP and TAR archives and single-file gzip/bzip2/xz streams.

Members are read into memory one at a time (bounded by the policy's size limit) and never
written under their own names, so a member called `../../etc/passwd` is only ever a locator.
Zip bombs are refused by size and by expansion ratio; encrypted members are recorded as such.
"""

from __future__ import annotations

import bz2
import gzip
import lzma
import tarfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from strongroom.formats.base import Child, ContainerError, Status


@dataclass(frozen=True)
class ArchiveLimits:
    max_member_bytes: int = 512 * 1024**2
    max_expansion_ratio: int = 200
    max_members: int = 100_000


def _read_bounded(stream: IO[bytes], limit: int) -> bytes | None:
    data = stream.read(limit + 1)
    return None if len(data) > limit else data


class ZipContainer:
    name = "zip"

    def __init__(self, limits: ArchiveLimits | None = None) -> None:
        self.limits = limits or ArchiveLimits()

    def explode(self, path: Path) -> Iterator[Child]:
        try:
            archive = zipfile.ZipFile(path)
        except (zipfile.BadZipFile, OSError, ValueError) as error:
            raise ContainerError(f"zip: {error}") from error
        with archive:
            members = [m for m in archive.infolist() if not m.is_dir()]
            for count, member in enumerate(members):
                locator = f"member {member.filename}"
                if count >= self.limits.max_members:
                    yield Child(b"", locator, error="too many members", error_status=Status.FAILED)
                    return
                yield self._member(archive, member, locator)

    def _member(self, archive: zipfile.ZipFile, member: zipfile.ZipInfo, locator: str) -> Child:
        name = member.filename.rsplit("/", 1)[-1]
        if member.flag_bits & 0x1:
            return Child(
                b"", locator, name, error="encrypted member", error_status=Status.ENCRYPTED
            )
        ratio = member.file_size / max(member.compress_size, 1)
        if member.file_size > self.limits.max_member_bytes or (
            member.file_size > 1024**2 and ratio > self.limits.max_expansion_ratio
        ):
            return Child(
                b"",
                locator,
                name,
                error=f"refused: {member.file_size} bytes, expansion ratio {ratio:.0f}",
                error_status=Status.FAILED,
            )
        try:
            with archive.open(member) as stream:
                data = _read_bounded(stream, self.limits.max_member_bytes)
        except (
            zipfile.BadZipFile,
            OSError,
            NotImplementedError,
            RuntimeError,
            EOFError,
            zlib_error(),
        ) as error:
            return Child(
                b"", locator, name, error=f"unreadable: {error}", error_status=Status.CORRUPT
            )
        if data is None:
            return Child(
                b"", locator, name, error="member larger than declared", error_status=Status.FAILED
            )
        return Child(
            data,
            locator,
            name,
            info={"modified": _zip_time(member.date_time)},
        )


def _zip_time(fields: tuple[int, int, int, int, int, int]) -> str:
    """A member's stored time as written, even when it is not a valid date."""
    year, month, day, hour, minute, second = fields
    return f"{year:04d}-{month:02d}-{day:02d}T{hour:02d}:{minute:02d}:{second:02d}"


def zlib_error() -> type[Exception]:
    import zlib

    return zlib.error


class TarContainer:
    name = "tar"

    def __init__(self, limits: ArchiveLimits | None = None) -> None:
        self.limits = limits or ArchiveLimits()

    def explode(self, path: Path) -> Iterator[Child]:
        try:
            archive = tarfile.open(path, mode="r:*")  # noqa: SIM115 - closed below
        except (tarfile.TarError, OSError, EOFError) as error:
            raise ContainerError(f"tar: {error}") from error
        with archive:
            count = 0
            try:
                for member in archive:
                    if not member.isfile():
                        continue
                    count += 1
                    locator = f"member {member.name}"
                    name = member.name.rsplit("/", 1)[-1]
                    if (
                        count > self.limits.max_members
                        or member.size > self.limits.max_member_bytes
                    ):
                        yield Child(
                            b"",
                            locator,
                            name,
                            error=f"refused: {member.size} bytes",
                            error_status=Status.FAILED,
                        )
                        continue
                    stream = archive.extractfile(member)
                    data = stream.read() if stream is not None else b""
                    yield Child(data, locator, name, info={"mtime": member.mtime})
            except (tarfile.TarError, OSError, EOFError, lzma.LZMAError, zlib_error()) as error:
                yield Child(
                    b"",
                    f"after member {count}",
                    error=f"truncated or corrupt: {error}",
                    error_status=Status.CORRUPT,
                )


def _open_stream(kind: str, path: Path) -> IO[bytes]:
    if kind == "gzip":
        return gzip.GzipFile(path, "rb")  # type: ignore[return-value]
    if kind == "bzip2":
        return bz2.BZ2File(path, "rb")
    return lzma.LZMAFile(path, "rb")


class CompressedContainer:
    """A single compressed stream (e.g. `mail.mbox.gz`): one child, the decompressed bytes."""

    def __init__(self, name: str, limits: ArchiveLimits | None = None) -> None:
        self.name = name
        self.limits = limits or ArchiveLimits()

    def explode(self, path: Path) -> Iterator[Child]:
        if tarfile.is_tarfile(path):
            yield from TarContainer(self.limits).explode(path)
            return
        inner = path.name.rsplit(".", 1)[0] if "." in path.name else None
        try:
            with _open_stream(self.name, path) as stream:
                data = _read_bounded(stream, self.limits.max_member_bytes)
        except (OSError, EOFError, lzma.LZMAError, zlib_error()) as error:
            raise ContainerError(f"{self.name}: {error}") from error
        if data is None:
            yield Child(
                b"",
                "decompressed",
                inner,
                error="decompressed size over the limit",
                error_status=Status.FAILED,
            )
            return
        yield Child(data, "decompressed", inner)

"""The inputs of an ingest: every regular file under the paths given, in a stable order.

Maildir and MH facts (folder, key, flags, message number) are read from the path here, since a
Maildir message is just a file whose name carries its flags.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from stat import S_ISREG
from typing import Any

_MH_NUMBER = re.compile(r"^\d+$")


@dataclass(frozen=True)
class InputFile:
    path: Path
    size: int
    mtime_ns: int
    info: dict[str, Any] = field(default_factory=dict)


def maildir_info(path: Path, folders: dict[Path, bool] | None = None) -> dict[str, Any]:
    """`folders` remembers which folders are Maildirs across the files of one walk."""
    folder = path.parent
    if folder.name in ("cur", "new", "tmp") and _is_maildir(folder.parent, folders):
        key, _, flags = path.name.partition(":2,")
        if not flags and ":" in path.name:
            key = path.name.split(":", 1)[0]
        return {
            "maildir": str(folder.parent),
            "subdir": folder.name,
            "key": key,
            "flags": flags if ":2," in path.name else "",
        }
    if _MH_NUMBER.match(path.name) and (
        (folder / ".mh_sequences").exists() or (folder / ".mh_profile").exists()
    ):
        return {"mh": str(folder), "number": int(path.name)}
    return {}


def _is_maildir(folder: Path, known: dict[Path, bool] | None) -> bool:
    if known is not None and folder in known:
        return known[folder]
    found = (folder / "cur").is_dir() or (folder / "new").is_dir()
    if known is not None:
        known[folder] = found
    return found


def walk_inputs(paths: list[Path], exclude: tuple[Path, ...] = ()) -> Iterator[InputFile]:
    excluded = {p.resolve() for p in exclude}
    folders: dict[Path, bool] = {}  # per walk: a Maildir of 100,000 files is one folder
    for given in paths:
        root = given.resolve()
        if root.is_file():
            yield _input(root, folders)
            continue
        for directory, subdirs, files in os.walk(root):
            here = Path(directory)
            subdirs[:] = sorted(d for d in subdirs if (here / d).resolve() not in excluded)
            for name in sorted(files):
                yield _input(here / name, folders)


def _input(path: Path, folders: dict[Path, bool] | None = None) -> InputFile:
    """A file to ingest, or one that cannot be (broken link, socket): kept with the reason."""
    try:
        stat = path.stat()
    except OSError as error:
        return InputFile(path, 0, 0, {"error": f"cannot stat: {error.strerror or error}"})
    if not S_ISREG(stat.st_mode):
        return InputFile(path, 0, stat.st_mtime_ns, {"error": "not a regular file"})
    return InputFile(path, stat.st_size, stat.st_mtime_ns, maildir_info(path, folders))

"""The only code that writes outputs: whole files, atomically, never two to one path."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path


class OutputError(Exception):
    """An output could not be written (an I/O problem: exit code 2)."""


def write_atomic(path: Path, data: bytes, sync: bool = True) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder.

    The file is flushed to disk before it replaces the old one, so a crash or a kill at
    any point leaves either the complete old file or the complete new one. ``sync=False``
    skips the flush to disk, for cache files that may be lost at no cost but speed.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            if sync:
                handle.flush()
                os.fsync(handle.fileno())
        os.chmod(tmp_name, 0o644)
        os.replace(tmp_name, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_name)
        raise


def write_all(files: Mapping[Path, bytes]) -> list[Path]:
    """Write every file atomically; returns the paths whose bytes changed.

    Files whose content is already on disk are left untouched (their modification time
    too), which keeps rebuilds cheap and tools that watch the folder quiet.
    """
    changed = []
    for path, data in sorted(files.items()):
        try:
            if path.is_file() and path.stat().st_size == len(data) and path.read_bytes() == data:
                continue
            write_atomic(path, data)
        except OSError as exc:
            raise OutputError(f"{path}: cannot write: {exc.strerror or exc}") from exc
        changed.append(path)
    return changed


class OutputSet:
    """Collects a build's outputs before anything is written; refuses path clashes."""

    def __init__(self) -> None:
        self.files: dict[Path, bytes] = {}
        self.owners: dict[Path, str] = {}

    def add(self, path: Path, data: bytes, owner: str) -> None:
        """Queue ``data`` for ``path``, produced by target ``owner``."""
        key = path.resolve()
        if key in self.owners:
            raise OutputError(f"{path}: both {self.owners[key]} and {owner} write this file")
        self.owners[key] = owner
        self.files[path] = data

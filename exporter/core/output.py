"""The only code that writes outputs: whole files, atomically, never two to one path."""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from collections.abc import Iterable, Mapping
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


def write_all(files: Mapping[Path, bytes], last: Iterable[Path] = ()) -> list[Path]:
    """Write every file as one commit; returns the paths whose bytes changed.

    First every changed file is written to a temporary file beside it and flushed to disk;
    only when all of them are complete are they renamed into place, the ``last`` paths
    (the lock) after every other. A failure while writing (a full disk, no permission, an
    interrupt) removes the temporaries and leaves every previous file byte-for-byte as it
    was. Files whose content is already on disk are left untouched (their modification
    time too), which keeps rebuilds cheap and tools that watch the folder quiet.
    """
    final = {Path(p) for p in last}
    changed = [p for p, data in sorted(files.items()) if not _same(p, data)]
    changed.sort(key=lambda p: p in final)  # stable: path order, the last ones at the end
    staged: list[tuple[str, Path]] = []
    try:
        for path in changed:
            staged.append((_stage(path, files[path]), path))
        for index, (tmp_name, path) in enumerate(staged):
            try:
                os.replace(tmp_name, path)
            except OSError as exc:
                # renames in one folder do not fail for space; if one does, the files
                # already moved stay new and the rest (the lock last) stay old
                del staged[: index + 1]
                raise OutputError(f"{path}: cannot write: {exc.strerror or exc}") from exc
        staged = []
    except OSError as exc:
        where = _failed_path(exc, changed)
        raise OutputError(f"{where}: cannot write: {exc.strerror or exc}") from exc
    finally:
        for tmp_name, _ in staged:
            with contextlib.suppress(OSError):
                os.unlink(tmp_name)
    return changed


def _same(path: Path, data: bytes) -> bool:
    """Whether ``path`` already holds exactly ``data`` (a regular file only)."""
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode) or info.st_size != len(data):
            return False
        return path.read_bytes() == data
    except OSError:
        return False


class _StageError(OSError):
    """Writing one temporary file failed; carries the output path."""

    def __init__(self, path: Path, exc: OSError) -> None:
        super().__init__(exc.errno, exc.strerror or str(exc))
        self.path = path


def _failed_path(exc: OSError, changed: list[Path]) -> Path | str:
    return exc.path if isinstance(exc, _StageError) else (changed[0] if changed else "output")


def _stage(path: Path, data: bytes) -> str:
    """``data`` in a complete, flushed temporary file beside ``path``; its name."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise _StageError(path, exc) from exc
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp_name, 0o644)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp_name)
        if isinstance(exc, OSError):
            raise _StageError(path, exc) from exc
        raise
    return tmp_name


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

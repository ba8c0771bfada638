"""Reading input files safely: regular files only, never more bytes than a limit.

Every file the tool reads from a source, a template folder or the command line goes
through here, so that a FIFO (which would block ``open`` for ever), a device such as
``/dev/zero`` (endless, with a size of 0) or a huge sparse file is refused with a clear
reason before it costs time or memory. Sizes are checked by the bytes actually read,
never only by ``st_size``.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Callable
from pathlib import Path

CHUNK = 1024 * 1024
"""Bytes read at a time when streaming (hashing)."""


class FileRefused(OSError):
    """A file that is not read: not a regular file, or larger than allowed.

    An :class:`OSError`, so callers that already report I/O errors report this one too;
    ``strerror`` is the human reason.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(errno.EINVAL, reason)


def kind_of(mode: int) -> str:
    """What a non-regular file is, in words, as the end of "file …" (for messages)."""
    if stat.S_ISFIFO(mode):
        return "is a FIFO (named pipe)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "is a device"
    if stat.S_ISSOCK(mode):
        return "is a socket"
    if stat.S_ISDIR(mode):
        return "is a folder"
    return "is special"


def check_regular(path: Path) -> os.stat_result:
    """``os.stat`` of ``path`` (links followed); raises :class:`FileRefused` unless it is a
    regular file."""
    info = os.stat(path)
    if not stat.S_ISREG(info.st_mode):
        raise FileRefused(f"{kind_of(info.st_mode)}, not a regular file")
    return info


def _open_regular(path: Path) -> int:
    """An open descriptor of a regular file, checked before and after opening (O_NONBLOCK
    so a FIFO swapped in between cannot block the open)."""
    check_regular(path)
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise FileRefused(f"{kind_of(info.st_mode)}, not a regular file")
    except BaseException:
        os.close(fd)
        raise
    return fd


def read_bytes(path: Path, limit: int) -> bytes:
    """The whole content of a regular file of at most ``limit`` bytes.

    Raises :class:`FileRefused` for anything else (checked by reading at most
    ``limit + 1`` bytes), and :class:`OSError` when the file cannot be read.
    """
    size = check_regular(path).st_size
    if size > limit:
        raise FileRefused(f"is {size:,} bytes; the limit is {limit:,}")
    fd = _open_regular(path)
    with os.fdopen(fd, "rb") as handle:
        data = handle.read(limit + 1)
    if len(data) > limit:  # it grew, or its size said nothing (a special file system)
        raise FileRefused(f"is larger than the limit of {limit:,} bytes")
    return data


def read_head(path: Path, size: int) -> bytes:
    """The first ``size`` bytes of a regular file (for sniffing its type)."""
    fd = _open_regular(path)
    with os.fdopen(fd, "rb") as handle:
        return handle.read(size)


def stream_hash(path: Path, update: Callable[[bytes], object], limit: int) -> int:
    """Feed a regular file's bytes to ``update`` in chunks; returns the bytes fed.

    A file larger than ``limit`` is not read: its size and modification time are fed
    instead (so it is still noticed when it changes) and -1 is returned.
    """
    fd = _open_regular(path)
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(handle.fileno())
        if info.st_size > limit:
            update(f"<large {info.st_size} {info.st_mtime_ns}>".encode())
            return -1
        total = 0
        while total <= limit:
            chunk = handle.read(CHUNK)
            if not chunk:
                return total
            update(chunk)
            total += len(chunk)
        update(b"<grew>")
        return -1

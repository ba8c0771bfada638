"""Progress bars on a terminal (rich): transient, only when stderr is a terminal, never
with ``-q``. Implements :class:`exporter.core.progress.Progress` for calls from any
process: each call is one short line written to a pipe the forked workers inherit, and a
thread of the command's process draws them."""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from exporter.core.progress import NO_PROGRESS, Progress


class TerminalProgress:
    """Bars drawn by rich on stderr, fed through a pipe (writes under 512 bytes are atomic)."""

    def __init__(self) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn
        from rich.progress import Progress as Bars

        self._bars = Bars(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=Console(stderr=True),
            transient=True,
            refresh_per_second=4,
        )
        self._tasks: dict[str, Any] = {}
        self._read, self._write = os.pipe()
        self._owner = os.getpid()
        self._thread = threading.Thread(target=self._draw, daemon=True)

    def __enter__(self) -> TerminalProgress:
        self._bars.start()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._send("Q")
        self._thread.join(timeout=2)
        self._bars.stop()
        os.close(self._write)

    def _send(self, *fields: object) -> None:
        line = "\t".join(str(f).replace("\t", " ").replace("\n", " ") for f in fields)
        with contextlib.suppress(OSError):  # the command is gone: a worker carries on
            os.write(self._write, (line[:400] + "\n").encode("utf-8", "replace"))

    def start(self, task: str, total: int, label: str) -> None:
        """A task begins."""
        self._send("S", task, total, label)

    def advance(self, task: str, steps: int = 1) -> None:
        """Steps of a task are done."""
        self._send("A", task, steps)

    def finish(self, task: str) -> None:
        """A task is complete: its bar goes."""
        self._send("F", task)

    def _draw(self) -> None:
        with os.fdopen(self._read, "rb") as stream:
            for raw in stream:
                kind, *rest = raw.decode("utf-8", "replace").rstrip("\n").split("\t")
                if kind == "Q":
                    return
                self._handle(kind, rest)

    def _handle(self, kind: str, rest: list[str]) -> None:
        try:
            if kind == "S":
                task, total, label = rest
                old = self._tasks.pop(task, None)
                if old is not None:
                    self._bars.remove_task(old)
                self._tasks[task] = self._bars.add_task(label, total=int(total) or None)
            elif kind == "A" and rest[0] in self._tasks:
                self._bars.advance(self._tasks[rest[0]], int(rest[1]))
            elif kind == "F" and rest[0] in self._tasks:
                self._bars.remove_task(self._tasks.pop(rest[0]))
        except (ValueError, KeyError, IndexError):  # a garbled line: skip it
            pass


@contextmanager
def progress_for(quiet: bool) -> Iterator[Progress]:
    """Bars while the block runs when stderr is a terminal and not ``-q``; else nothing."""
    if quiet or not sys.stderr.isatty() or os.environ.get("TERM") == "dumb":
        yield NO_PROGRESS
        return
    with TerminalProgress() as bars:
        yield bars


@contextmanager
def status(message: str, quiet: bool) -> Iterator[None]:
    """A transient spinner line for one slow step (an import), on a terminal only."""
    if quiet or not sys.stderr.isatty() or os.environ.get("TERM") == "dumb":
        yield
        return
    from rich.console import Console

    with Console(stderr=True).status(message):
        yield

"""Work split across forked worker processes, for the slow, independent parts of a build.

:func:`fork_map` runs one function on several chunks at once: the calling process takes
the first chunk and a forked child each of the others. Children inherit everything already
loaded (no pickling of inputs), send their result back through a pipe, and leave with
``os._exit`` so that tearing down large object graphs (WeasyPrint layouts) costs nothing.
It works from any process, including the forked workers of :mod:`exporter.build.pipeline`.
"""

from __future__ import annotations

import os
import pickle
from collections.abc import Callable, Sequence
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")


def worker_count(jobs: int, limit: int = 4) -> int:
    """How many processes ``jobs`` independent, similar jobs are worth here (≥ 1).

    Up to twice as many jobs as cores get a process each: three equal jobs on two cores
    then end together after 1.5 job-times, not after two in a 2 + 1 split. More jobs are
    shared among one process per core. Never more than ``limit``.
    """
    if not hasattr(os, "fork"):
        return 1
    cores = os.cpu_count() or 1
    wanted = jobs if jobs <= 2 * cores else cores
    return max(1, min(wanted, limit))


def split(items: Sequence[T], parts: int) -> list[list[T]]:
    """``items`` cut into ``parts`` contiguous runs of nearly equal length (none empty)."""
    parts = max(1, min(parts, len(items)))
    size, extra = divmod(len(items), parts)
    runs, start = [], 0
    for index in range(parts):
        end = start + size + (1 if index < extra else 0)
        runs.append(list(items[start:end]))
        start = end
    return [run for run in runs if run]


def fork_map(func: Callable[[T], R], chunks: Sequence[T]) -> list[R]:
    """``[func(chunk) for chunk in chunks]``, the chunks after the first in forked children.

    Results come back in order. An exception in a child is raised here as a RuntimeError
    naming it; a child that dies without answering is reported the same way.
    """
    if len(chunks) <= 1 or not hasattr(os, "fork"):
        return [func(chunk) for chunk in chunks]
    children: list[tuple[int, int]] = []
    for chunk in chunks[1:]:
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:  # pragma: no cover - runs in the child, which never returns
            os.close(read)
            try:
                payload = pickle.dumps(("ok", func(chunk)), protocol=pickle.HIGHEST_PROTOCOL)
            except BaseException as exc:  # reported by the parent
                payload = pickle.dumps(("error", f"{type(exc).__name__}: {exc}"))
            try:
                with os.fdopen(write, "wb") as pipe:
                    pipe.write(payload)
            finally:
                os._exit(0)
        os.close(write)
        children.append((pid, read))
    results: list[R] = []
    failures: list[str] = []
    try:
        results.append(func(chunks[0]))
    finally:
        for pid, read in children:
            with os.fdopen(read, "rb") as pipe:
                data = pipe.read()
            _, status = os.waitpid(pid, 0)
            if not data:
                code = os.waitstatus_to_exitcode(status)
                failures.append(f"a worker process died (exit code {code})")
                continue
            outcome, value = pickle.loads(data)
            if outcome != "ok":
                failures.append(str(value))
            else:
                results.append(value)
    if failures:
        raise RuntimeError("; ".join(failures))
    return results

"""Work split across forked worker processes, for the slow, independent parts of a build.

:func:`fork_map` runs one function on several chunks at once: the calling process takes
the first chunk and a forked child each of the others. Children inherit everything already
loaded (no pickling of inputs), send their result back through a pipe, and leave with
``os._exit`` so that tearing down large object graphs (WeasyPrint layouts) costs nothing.
It works from any process, including the forked workers of :mod:`exporter.build.pipeline`.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
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


def split_weighted(
    items: Sequence[T], parts: int, weight: Callable[[T], float], first: float = 0.0
) -> list[list[T]]:
    """``items`` cut into ``parts`` contiguous runs of nearly equal total ``weight`` (none
    empty), the first run carrying ``first`` more (work it does besides its items)."""
    parts = max(1, min(parts, len(items)))
    weights = [weight(item) for item in items]
    total = sum(weights) + first
    runs: list[list[T]] = []
    run: list[T] = []
    done = first
    for index, item in enumerate(items):
        must = len(items) - index <= parts - len(runs) - 1  # one item left per run to come
        share = total * (len(runs) + 1) / parts
        if run and len(runs) < parts - 1 and (must or done + weights[index] / 2 > share):
            runs.append(run)
            run = []
        run.append(item)
        done += weights[index]
    if run:
        runs.append(run)
    return runs


def deal(items: Sequence[T], parts: int, weight: Callable[[T], float]) -> list[list[T]]:
    """``items`` shared among ``parts`` groups of nearly equal total ``weight`` (none
    empty): the heaviest first, each to the lightest group so far. Each group keeps the
    items' order."""
    parts = max(1, min(parts, len(items)))
    groups: list[list[int]] = [[] for _ in range(parts)]
    totals = [0.0] * parts
    for index in sorted(range(len(items)), key=lambda i: -weight(items[i])):
        lightest = totals.index(min(totals))
        groups[lightest].append(index)
        totals[lightest] += weight(items[index])
    return [[items[i] for i in sorted(group)] for group in groups if group]


def fork_map(func: Callable[[T], R], chunks: Sequence[T]) -> list[R]:
    """``[func(chunk) for chunk in chunks]``, the chunks after the first in forked children.

    Results come back in order. An exception in a child is raised here as a RuntimeError
    naming it; a child that dies without answering is reported the same way. If this
    process is interrupted (Ctrl-C, SIGTERM) or fails, the children are killed at once;
    if it dies, the kernel kills them (see :func:`child_setup`).
    """
    if len(chunks) <= 1 or not hasattr(os, "fork"):
        return [func(chunk) for chunk in chunks]
    import pickle  # here: every command imports this module, few fork

    children: list[tuple[int, int]] = []
    try:
        for chunk in chunks[1:]:
            read, write = os.pipe()
            parent = os.getpid()
            pid = os.fork()
            if pid == 0:  # pragma: no cover - runs in the child, which never returns
                _run_child(func, chunk, write, [read, *(r for _, r in children)], parent)
            os.close(write)
            children.append((pid, read))
        results: list[R] = [func(chunks[0])]
        failures: list[str] = []
        while children:
            pid, read = children.pop(0)
            try:
                with os.fdopen(read, "rb") as pipe:
                    data = pipe.read()
                _, status = os.waitpid(pid, 0)
            except BaseException:
                end_children([(pid, -1)])  # its pipe is closed already
                raise
            try:  # nothing, or what a worker killed while writing sent, is unreadable
                outcome, value = pickle.loads(data)
            except Exception:
                code = os.waitstatus_to_exitcode(status)
                failures.append(
                    f"a worker process died or sent an unreadable result (exit code {code})"
                )
                continue
            if outcome != "ok":
                failures.append(str(value))
            else:
                results.append(value)
    except BaseException:
        end_children(children)
        raise
    if failures:
        raise RuntimeError("; ".join(failures))
    return results


def _run_child(func: Callable[[T], R], chunk: T, write: int, close: list[int], parent: int) -> None:
    """The body of a forked worker: compute, send the result, leave (never returns)."""
    import pickle

    code = 0
    try:
        child_setup(parent, close)
        try:
            payload = pickle.dumps(("ok", func(chunk)), protocol=pickle.HIGHEST_PROTOCOL)
        except BaseException as exc:  # reported by the parent
            payload = pickle.dumps(("error", f"{type(exc).__name__}: {exc}"))
        with os.fdopen(write, "wb") as pipe:
            pipe.write(payload)
    except BaseException:
        code = 1
    finally:
        os._exit(code)


def end_children(children: Sequence[tuple[int, int]]) -> None:
    """Kill forked workers and reap them, closing their pipes (after an interrupt)."""
    for pid, read in children:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
        if read >= 0:
            with contextlib.suppress(OSError):
                os.close(read)
    for pid, _ in children:
        with contextlib.suppress(OSError):
            os.waitpid(pid, 0)


_PR_SET_PDEATHSIG = 1


def child_setup(parent: int, inherited: Sequence[int] = ()) -> None:
    """What every forked worker does first: close the pipe ends it inherited (a sibling's
    read end held open would keep a writer blocked for ever once the parent is gone), die
    with SIGKILL when its parent dies (Linux ``prctl(PR_SET_PDEATHSIG)``), and take SIGTERM
    and SIGINT with their default action (the parent handles the interrupt)."""
    for fd in inherited:
        with contextlib.suppress(OSError):
            os.close(fd)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if sys.platform.startswith("linux"):
        import ctypes

        with contextlib.suppress(OSError, AttributeError):
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:  # the parent died before the death signal was set
        os._exit(1)


class Terminated(KeyboardInterrupt):
    """SIGTERM, handled like Ctrl-C: the run stops, temporary files are removed."""


def _raise_terminated(signum: int, frame: object) -> None:
    raise Terminated(f"signal {signum}")


def handle_sigterm() -> None:
    """Make SIGTERM stop the run the way Ctrl-C does (raising :class:`Terminated`)."""
    with contextlib.suppress(ValueError):  # not the main thread
        signal.signal(signal.SIGTERM, _raise_terminated)

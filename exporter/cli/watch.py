"""``exporter watch``: rebuild the requested targets on every save, until Ctrl-C.

The loop (:func:`watch_loop`) takes any iterable of change batches, so tests can drive it
with a real ``watchfiles.watch(...)`` generator or with plain lists. Build errors are
printed and the loop carries on; the next save builds again. ``watchfiles`` is imported
only when the command runs.
"""

from __future__ import annotations

import copy
import re
import time
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass, fields, replace
from datetime import datetime
from pathlib import Path
from typing import Any

import click

from exporter.build.pipeline import PDF_TARGETS, BuildRequest, build
from exporter.cli.options import (
    EXIT_OK,
    EXIT_USAGE,
    Settings,
    build_request,
    project_options,
    require_source,
)
from exporter.core.diagnostics import display_path
from exporter.core.output import OutputError

Printer = Callable[[str], None]
"""Where the loop's lines go (the command echoes them to stderr)."""

READY_TIMEOUT_MS = 100
"""How long the watcher waits before reporting an empty batch (which starts the first build)."""
DEFAULT_DEBOUNCE_MS = 300
"""Rebuild once no watched file has changed for this long (``--debounce``)."""

_IGNORED_NAMES = (
    re.compile(r"\.sw.$"),  # vim swap files
    re.compile(r"~$"),  # backup files
    re.compile(r"^\.#"),  # emacs lock files
    re.compile(r"^#.*#$"),  # emacs auto-save files
    re.compile(r"^4913$"),  # vim's "can I write here?" probe
    re.compile(r"^\..*\.tmp$"),  # our own atomic writes (exporter.core.output.write_atomic)
    re.compile(r"\.___jb_...___$"),  # JetBrains safe-write files
    re.compile(r"^\.DS_Store$"),
    re.compile(r"\.py[cod]$"),
)
_IGNORED_DIRS = frozenset({".git", ".hg", ".svn", "__pycache__", ".idea", ".vscode", ".cache"})
_BUILD_PARAMS_SKIPPED = frozenset(
    {"source", "out", "templates", "strict", "ignore", "quiet", "verbose", "debug"}
    | {"frozen", "clean"}
)
"""Options of ``exporter build`` that ``watch`` does not copy: the shared project options
(added by :func:`project_options`), ``--frozen`` (it would fail on every edit) and
``--clean`` (it would empty the cache on every save)."""


def _timestamp() -> str:
    return datetime.now().strftime("%H:%M:%S")


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


@dataclass(frozen=True)
class WatchFilter:
    """Which changed paths call for a rebuild, and which targets they affect.

    Ignored: editor temporary files, the output folder (where the build writes) and the
    lock file (which the build itself updates), so a build never triggers another one.
    """

    source: Path
    out: Path
    templates: Path | None = None

    @classmethod
    def for_request(cls, source: Path, out: Path, templates: Path | None) -> WatchFilter:
        """A filter for these folders (resolved, so they compare with the watcher's paths)."""
        return cls(source.resolve(), out.resolve(), templates.resolve() if templates else None)

    def relevant(self, raw_path: str) -> bool:
        """Whether a change to this path should trigger a rebuild."""
        path = Path(raw_path).resolve()
        if _inside(path, self.out):
            return False
        if path == self.source / "deck.lock":
            return False
        name = path.name
        if any(pattern.search(name) for pattern in _IGNORED_NAMES):
            return False
        return not any(part in _IGNORED_DIRS for part in path.parts)

    def __call__(self, change: Any, path: str) -> bool:
        """The ``watch_filter`` interface of ``watchfiles``."""
        return self.relevant(path)

    def affected(self, paths: Iterable[str], targets: tuple[str, ...]) -> tuple[str, ...]:
        """The requested targets that depend on any of these changed paths.

        A change in ``--templates``'s ``anki/`` folder affects only the Anki deck, one in its
        ``pdf/`` folder only the PDFs; any other change (the source) affects every target.
        """
        needed: set[str] = set()
        for raw in paths:
            path = Path(raw).resolve()
            if self.templates is not None and _inside(path, self.templates / "anki"):
                needed.add("anki")
            elif self.templates is not None and _inside(path, self.templates / "pdf"):
                needed.update(PDF_TARGETS)
            else:
                return targets
        return tuple(target for target in targets if target in needed)


def rebuild(
    request: BuildRequest,
    printer: Printer,
    *,
    first: bool = False,
    quiet: bool = False,
    debug: bool = False,
    clock: Callable[[], float] = time.perf_counter,
) -> bool:
    """Build once and print the diagnostics and what was written; True when it succeeded.

    Never raises for a failed build: source problems, unwritable outputs and internal
    errors are all printed, so the caller's loop keeps running.
    """
    started = clock()
    verb = "built" if first else "rebuilt"
    try:
        result = build(request)
    except OutputError as exc:
        printer(f"error: {exc}")
        printer(f"[{_timestamp()}] build failed in {clock() - started:.2f}s")
        return False
    except Exception as exc:  # an internal error must not end the watch
        if debug:
            printer(traceback.format_exc().rstrip())
        printer(f"internal error: {type(exc).__name__}: {exc} (run with --debug for details)")
        printer(f"[{_timestamp()}] build failed in {clock() - started:.2f}s")
        return False
    elapsed = clock() - started
    diagnostics = result.diagnostics
    for item in diagnostics:
        printer(item.format())
    failed = result.failed_to_load or diagnostics.failed(request.strict)
    if diagnostics.items:
        printer(diagnostics.summary())
    if failed:
        printer(
            f"[{_timestamp()}] build failed in {elapsed:.2f}s: nothing written; "
            "fix the problems and save again"
        )
        return False
    if not quiet:
        if result.written:
            outcome = "wrote " + ", ".join(display_path(path) for path in result.written)
        elif result.project is None:
            outcome = "everything up to date"
        else:
            outcome = "no output changed"
        printer(f"[{_timestamp()}] {verb} in {elapsed:.2f}s: {outcome}")
    return True


def watch_loop(
    request: BuildRequest,
    changes: Iterable[Iterable[tuple[Any, str]]],
    printer: Printer,
    *,
    watch_filter: WatchFilter | None = None,
    quiet: bool = False,
    verbose: bool = False,
    debug: bool = False,
) -> int:
    """Build on the first batch of ``changes``, then again on every relevant batch.

    ``changes`` yields sets of ``(change, path)`` pairs, like ``watchfiles.watch``. The
    first batch, even an empty one, starts the initial build: with ``watchfiles``, pass
    ``yield_on_timeout=True`` so the watcher reports itself ready with an empty batch and
    no save is missed between the first build and the start of watching. Later empty
    batches and batches of ignored paths are skipped. Build failures are printed and the
    loop goes on; it ends when ``changes`` does (or on KeyboardInterrupt, which is left
    to the caller). Returns the number of builds run.
    """
    selector = watch_filter or WatchFilter.for_request(
        request.source, request.out, request.templates
    )
    builds = 0
    for batch in changes:
        if builds == 0:
            if not quiet:
                folders = [request.source, *([request.templates] if request.templates else [])]
                watched = " and ".join(str(folder) for folder in folders)
                printer(f"[{_timestamp()}] watching {watched} for changes (Ctrl-C to stop)")
            rebuild(request, printer, first=True, quiet=quiet, debug=debug)
            builds += 1
            continue
        paths = sorted({path for _change, path in batch if selector.relevant(path)})
        if not paths:
            continue
        targets = selector.affected(paths, request.targets)
        if verbose and not quiet:
            shown = ", ".join(display_path(Path(path)) for path in paths)
            printer(f"[{_timestamp()}] changed: {shown}; building {', '.join(targets) or '-'}")
        if not targets:
            continue
        rebuild(replace(request, targets=targets), printer, quiet=quiet, debug=debug)
        builds += 1
    return builds


def _build_options() -> list[click.Parameter]:
    """The options of ``exporter build`` that make sense while watching (copies)."""
    from exporter.cli import commands

    return [copy.copy(p) for p in commands.build.params if p.name not in _BUILD_PARAMS_SKIPPED]


@project_options
def _watch(
    settings: Settings,
    targets: tuple[str, ...],
    levels: tuple[str, ...],
    tags: tuple[str, ...],
    debounce: int,
    **options: Any,
) -> int:
    """Rebuild the outputs on every save; Ctrl-C stops.

    Watches the source folder (and --templates); build problems are printed and watching
    goes on, so fixing the file and saving again rebuilds.
    """
    require_source(settings)
    try:
        import watchfiles
    except ImportError:  # pragma: no cover - a declared dependency
        click.echo("error: 'exporter watch' needs the watchfiles package", err=True)
        return EXIT_USAGE
    # Copied build options that are BuildRequest fields (e.g. --allow-removal) go there;
    # the rest are target options, as in ``exporter build``.
    request_fields = {f.name for f in fields(BuildRequest)} - {"options"}
    extra = {name: options.pop(name) for name in list(options) if name in request_fields}
    request = build_request(settings, targets, levels, tags, options, **extra)
    selector = WatchFilter.for_request(settings.source, settings.out, settings.templates)
    folders = [selector.source, *([selector.templates] if selector.templates else [])]

    def printer(line: str) -> None:
        click.echo(line, err=True)

    try:
        changes = watchfiles.watch(
            *folders,
            watch_filter=selector,
            step=debounce,
            debounce=max(1600, 4 * debounce),
            rust_timeout=READY_TIMEOUT_MS,
            yield_on_timeout=True,
            raise_interrupt=True,
        )
        watch_loop(
            request,
            changes,
            printer,
            watch_filter=selector,
            quiet=settings.quiet,
            verbose=settings.verbose,
            debug=settings.debug,
        )
    except KeyboardInterrupt:
        click.echo("stopped", err=True)
    return EXIT_OK


watch_command = click.command(
    "watch", short_help="Rebuild on every save (Ctrl-C stops).", help=_watch.__doc__
)(_watch)
watch_command.params.extend(_build_options())
watch_command.params.append(
    click.Option(
        ["--debounce"],
        type=click.IntRange(10, 5000),
        default=DEFAULT_DEBOUNCE_MS,
        show_default=True,
        metavar="MS",
        help="Rebuild once no file has changed for this many milliseconds.",
    )
)

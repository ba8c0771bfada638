"""What every command shares: the common options, the settings they make, reporting
diagnostics, exit codes, and turning build options into a build request."""

from __future__ import annotations

import functools
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])


EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE = 0, 1, 2


class Settings:
    """The options every command shares."""

    def __init__(self, **kwargs: Any) -> None:
        self.source: Path = kwargs["source"]
        self.out: Path = kwargs["out"]
        self.templates: Path | None = kwargs["templates"]
        self.strict: bool = kwargs["strict"]
        self.quiet: bool = kwargs["quiet"]
        self.verbose: bool = kwargs["verbose"]
        self.debug: bool = kwargs["debug"]
        self.ignore: tuple[str, ...] = kwargs["ignore"]
        self.started = time.perf_counter()

    def info(self, message: str) -> None:
        """A progress line on stderr, unless ``-q``."""
        if not self.quiet:
            click.echo(message, err=True)

    def detail(self, message: str) -> None:
        """A line shown only with ``-v``."""
        if self.verbose and not self.quiet:
            click.echo(message, err=True)


def _check_codes(ctx: click.Context, param: click.Parameter, value: tuple[str, ...]) -> Any:
    from exporter.core.diagnostics import RULES, Severity

    codes = tuple(code.strip().upper() for item in value for code in item.split(","))
    for code in codes:
        if code not in RULES:
            raise click.BadParameter(f"unknown rule code {code}", ctx=ctx, param=param)
        if RULES[code].severity is Severity.ERROR:
            # an ignored error would build from a source the tool knows is broken (a
            # duplicate id silently dropped): only warnings can be silenced
            raise click.BadParameter(
                f"{code} is an error and cannot be ignored; only warnings (W…) can",
                ctx=ctx,
                param=param,
            )
    return codes


MAX_OFFSET_MM = 50.0
"""The largest printer offset accepted (``--offset-x/--offset-y``), in millimetres."""


class FiniteFloat(click.ParamType):  # type: ignore[type-arg, unused-ignore]
    """A decimal number within ``[low, high]``: ``nan``, ``inf`` and out-of-range values
    are refused (exit 2) instead of being taken as 0 or written as invalid PDF numbers."""

    name = "number"

    def __init__(self, low: float, high: float) -> None:
        self.low, self.high = low, high

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        """The number, or a usage error."""
        import math

        try:
            number = float(value)
        except (TypeError, ValueError):
            self.fail(f"{value!r} is not a number", param, ctx)
        if not math.isfinite(number) or not self.low <= number <= self.high:
            self.fail(f"{value} is not a number from {self.low:g} to {self.high:g}", param, ctx)
        return number


def project_options(func: F) -> F:
    """The options shared by every command, accepted after the command's name."""
    options = [
        click.option(
            "--source",
            type=click.Path(path_type=Path, file_okay=False),
            default=Path("source"),
            show_default=True,
            help="Folder with deck.yaml, taxonomy.yaml and questions/.",
        ),
        click.option(
            "--out",
            type=click.Path(path_type=Path, file_okay=False),
            default=Path("build"),
            show_default=True,
            help="Folder the outputs are written to.",
        ),
        click.option(
            "--templates",
            type=click.Path(path_type=Path, file_okay=False, exists=True),
            default=None,
            help="Folder whose anki/ and pdf/ templates override the built-in ones.",
        ),
        click.option("--strict", is_flag=True, help="Treat warnings as errors (exit 1)."),
        click.option(
            "--ignore",
            multiple=True,
            callback=_check_codes,
            metavar="CODE[,CODE]",
            help="Silence these rule codes (e.g. W103). Repeatable.",
        ),
        click.option("-q", "--quiet", is_flag=True, help="Print only problems."),
        click.option("-v", "--verbose", is_flag=True, help="Print timings and details."),
        click.option("--debug", is_flag=True, help="Show tracebacks of internal errors."),
    ]
    for option in reversed(options):
        func = option(func)

    @functools.wraps(func)
    def wrapper(**kwargs: Any) -> Any:
        names = ("source", "out", "templates", "strict", "quiet", "verbose", "debug", "ignore")
        settings = Settings(**{name: kwargs.pop(name) for name in names})
        from exporter.core.workers import Terminated, handle_sigterm

        handle_sigterm()  # SIGTERM stops a run like Ctrl-C: workers ended, temporaries removed
        try:
            code = func(settings, **kwargs)
        except (click.exceptions.Exit, click.ClickException):
            raise  # Click prints these itself, in one line, with their own exit codes
        except KeyboardInterrupt as exc:
            click.echo("interrupted", err=True)
            code = 143 if isinstance(exc, Terminated) else 130
        except Exception as exc:  # reported, never a traceback unless --debug
            from exporter.core.output import OutputError

            if settings.debug:
                raise
            if isinstance(exc, OutputError):
                click.echo(f"error: {exc}", err=True)
            else:
                click.echo(
                    f"internal error: {type(exc).__name__}: {exc} (run with --debug for details)",
                    err=True,
                )
            code = EXIT_USAGE
        settings.detail(f"took {time.perf_counter() - settings.started:.3f}s")
        sys.exit(code or 0)

    return wrapper  # type: ignore[return-value]


class InputError(click.ClickException):
    """A usage, configuration or I/O problem: one line on stderr, exit code 2."""

    exit_code = EXIT_USAGE


def require_source(settings: Settings) -> None:
    """Exit 2 with one line when the source folder is missing."""
    if not settings.source.is_dir():
        raise InputError(f"source folder '{settings.source}' does not exist")


def report(settings: Settings, diagnostics: Any) -> int:
    """Print every diagnostic and the summary; the exit code they call for."""
    for item in diagnostics:
        click.echo(item.format(), err=True)
    if not settings.quiet or diagnostics.failed(settings.strict):
        click.echo(diagnostics.summary(), err=True)
    if any(item.code == "E017" for item in diagnostics.errors):
        return EXIT_USAGE
    return EXIT_PROBLEMS if diagnostics.failed(settings.strict) else EXIT_OK


def load_checked(settings: Settings) -> Any:
    """The source loaded and validated (exit 2 when the folder is missing), its cache saved."""
    from exporter.build.project import load_project

    require_source(settings)
    project = load_project(
        settings.source, ignore=settings.ignore, cache_dir=settings.out / ".cache"
    )
    project.cache.save()
    return project


def split_values(values: tuple[str, ...]) -> tuple[str, ...]:
    """Repeatable, comma-separable option values: ``("a,b", "c")`` → ``("a", "b", "c")``."""
    return tuple(v.strip() for item in values for v in item.split(",") if v.strip())


def build_request(
    settings: Settings,
    targets: tuple[str, ...],
    levels: tuple[str, ...],
    tags: tuple[str, ...],
    options: dict[str, Any],
    **request_fields: Any,
) -> Any:
    """The :class:`exporter.build.pipeline.BuildRequest` for the build options of a command
    (``build`` and ``watch`` share them)."""
    from exporter.build.pipeline import BuildRequest, Selection

    return BuildRequest(
        source=settings.source,
        out=settings.out,
        targets=expand_targets(targets),
        templates=settings.templates,
        selection=Selection(split_values(levels), split_values(tags)),
        options=options,
        strict=settings.strict,
        ignore=settings.ignore,
        **request_fields,
    )


def expand_targets(targets: tuple[str, ...]) -> tuple[str, ...]:
    """Target names with ``all`` and ``pdf`` expanded, each once, in the order given."""
    from exporter.build.pipeline import PDF_TARGETS, TARGETS

    groups = {"all": list(TARGETS), "pdf": list(PDF_TARGETS)}
    chosen: list[str] = []
    for target in targets or ("all",):
        for name in groups.get(target, [target]):
            if name not in chosen:
                chosen.append(name)
    return tuple(chosen)

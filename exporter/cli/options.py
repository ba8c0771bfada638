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
INIT_HINT = " (run 'exporter init' to start a bank here, or pass --source DIR)"
"""Said when there is no source folder: the way to make one."""


class Settings:
    """The options every command shares (defaults for those a command does not offer)."""

    def __init__(self, **kwargs: Any) -> None:
        self.source: Path = kwargs.get("source", Path("source"))
        self.out: Path = kwargs.get("out", Path("build"))
        self.templates: Path | None = kwargs.get("templates")
        self.strict: bool = kwargs.get("strict", False)
        self.quiet: bool = kwargs.get("quiet", False)
        self.verbose: bool = kwargs.get("verbose", False)
        self.debug: bool = kwargs.get("debug", False)
        self.ignore: tuple[str, ...] = kwargs.get("ignore", ())
        self.started = time.perf_counter()

    def info(self, message: str) -> None:
        """A progress line on stderr, unless ``-q``."""
        if not self.quiet:
            click.echo(message, err=True)

    def detail(self, message: str) -> None:
        """A line shown only with ``-v``."""
        if self.verbose and not self.quiet:
            click.echo(message, err=True)

    def elapsed(self) -> str:
        """Seconds since the command started, for the closing line (``2.4 s``)."""
        seconds = time.perf_counter() - self.started
        return f"{seconds:.1f} s" if seconds >= 0.1 else f"{seconds * 1000:.0f} ms"


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


OPTION_GROUPS: dict[str, list[Callable[[F], F]]] = {
    "source": [
        click.option(
            "--source",
            type=click.Path(path_type=Path, file_okay=False),
            default=Path("source"),
            show_default=True,
            help="Folder with deck.yaml, taxonomy.yaml and questions/.",
        ),
    ],
    "output": [
        click.option(
            "--out",
            type=click.Path(path_type=Path, file_okay=False),
            default=Path("build"),
            show_default=True,
            help="Folder the outputs (and the cache) are written to.",
        ),
    ],
    "cache": [  # where --out puts build/.cache: accepted, not listed (not an output here)
        click.option(
            "--out",
            type=click.Path(path_type=Path, file_okay=False),
            default=Path("build"),
            hidden=True,
        ),
    ],
    "templates": [
        click.option(
            "--templates",
            type=click.Path(path_type=Path, file_okay=False, exists=True),
            default=None,
            help="Folder whose anki/ and pdf/ templates override the built-in ones.",
        ),
    ],
    "checks": [
        click.option("--strict", is_flag=True, help="Treat warnings as errors (exit 1)."),
        click.option(
            "--ignore",
            multiple=True,
            callback=_check_codes,
            metavar="CODE[,CODE]",
            help="Silence these rule codes (e.g. W103). Repeatable.",
        ),
    ],
    "reporting": [
        click.option("-q", "--quiet", is_flag=True, help="Print only problems."),
        click.option("-v", "--verbose", is_flag=True, help="Print timings and details."),
        click.option("--debug", is_flag=True, help="Show tracebacks of internal errors."),
    ],
}
"""Small groups of shared options; a command offers only the groups it uses."""
_SETTING_NAMES = ("source", "out", "templates", "strict", "quiet", "verbose", "debug", "ignore")


def command_options(*groups: str) -> Callable[[F], F]:
    """Add the option groups a command uses (``source``, ``output``, ``templates``,
    ``checks``, ``reporting``; ``cache`` accepts ``--out`` for the cache folder without
    listing it) and hand the command a :class:`Settings` first.

    The command's return value is its exit code; internal errors become one line and
    exit 2 (a traceback only with ``--debug``).
    """

    def decorate(func: F) -> F:
        for group in reversed(groups):
            for option in reversed(OPTION_GROUPS[group]):
                func = option(func)

        @functools.wraps(func)
        def wrapper(**kwargs: Any) -> Any:
            settings = Settings(**{n: kwargs.pop(n) for n in _SETTING_NAMES if n in kwargs})
            from exporter.core.workers import Terminated, handle_sigterm

            handle_sigterm()  # SIGTERM stops a run like Ctrl-C: workers ended, temporaries gone
            try:
                code = func(settings, **kwargs)
            except (click.exceptions.Exit, click.ClickException):
                raise  # Click prints these itself, in one line, with their own exit codes
            except KeyboardInterrupt as exc:
                click.echo("interrupted", err=True)
                code = 143 if isinstance(exc, Terminated) else 130
            except Exception as exc:  # reported, never a traceback unless --debug
                from exporter.core.install import InstallError
                from exporter.core.output import OutputError

                if settings.debug:
                    raise
                if isinstance(exc, OutputError | InstallError):
                    click.echo(f"error: {exc}", err=True)
                else:
                    click.echo(
                        f"internal error: {type(exc).__name__}: {exc} "
                        "(run with --debug for details)",
                        err=True,
                    )
                code = EXIT_USAGE
            settings.detail(f"took {time.perf_counter() - settings.started:.3f}s")
            sys.exit(code or 0)

        return wrapper  # type: ignore[return-value]

    return decorate


project_options = command_options("source", "output", "templates", "checks", "reporting")
"""Every shared option (for commands that use them all: ``build``, ``watch``)."""


class InputError(click.ClickException):
    """A usage, configuration or I/O problem: one line on stderr, exit code 2."""

    exit_code = EXIT_USAGE


def require_source(settings: Settings) -> None:
    """Exit 2 with one line when the source folder is missing."""
    if not settings.source.is_dir():
        raise InputError(f"source folder '{settings.source}' does not exist{INIT_HINT}")


DIAGNOSTIC_FORMATS = ("text", "json", "github")
"""How ``validate --format`` prints problems: Ruff-style lines, JSON Lines, or GitHub
workflow annotations."""


def format_diagnostic(item: Any, output_format: str = "text") -> str:
    """One diagnostic in ``output_format`` (see :data:`DIAGNOSTIC_FORMATS`)."""
    if output_format == "json":
        import json

        return json.dumps(
            {
                "path": item.location.path,
                "line": item.location.line,
                "column": item.location.col,
                "code": item.code,
                "severity": item.severity.value,
                "message": item.format().split(f" {item.code} ", 1)[1],
            },
            ensure_ascii=False,
        )
    if output_format == "github":
        level = "error" if item.severity.value == "error" else "warning"
        message = item.format().split(f" {item.code} ", 1)[1]

        def prop(value: str) -> str:
            return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")

        path = prop(item.location.path).replace(":", "%3A").replace(",", "%2C")
        return (
            f"::{level} file={path},line={item.location.line},col={item.location.col},"
            f"title={item.code}::{prop(message)}"
        )
    return str(item.format())


def report(settings: Settings, diagnostics: Any, output_format: str = "text") -> int:
    """Print every diagnostic and the summary; the exit code they call for.

    Text goes to stderr; ``json`` and ``github`` lines go to stdout (for a tool to read),
    the summary still to stderr.
    """
    for item in diagnostics:
        line = format_diagnostic(item, output_format)
        click.echo(line, err=output_format == "text")
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


def resolve_settings(
    settings: Settings, targets: tuple[str, ...], options: dict[str, Any]
) -> tuple[tuple[str, ...], dict[str, Any], list[tuple[str, Any, str]]]:
    """The targets and build options after merging the command line over ``deck.yaml``'s
    ``build:`` section over the defaults, and where each setting came from
    (``(name, value, origin)``; origin is a flag, a file location or ``default``)."""
    from exporter.build.project import deck_build_settings
    from exporter.core.settings import BUILD_SETTINGS

    from_file = {name: (value, loc) for name, value, loc in deck_build_settings(settings.source)}
    merged = dict(options)
    origins: list[tuple[str, Any, str]] = []
    for setting in BUILD_SETTINGS:
        given: Any = options.get(setting.name)
        if setting.kind == "targets":
            given = targets or None
        if given is not None:
            value, origin = given, setting.flag
        elif setting.name in from_file:
            value, loc = from_file[setting.name]
            origin = str(loc)
        else:
            value, origin = setting.default, "default"
        origins.append((setting.name, value, origin))
        if setting.kind == "targets":
            targets = tuple(value)
        elif given is None and setting.name in from_file:
            merged[setting.name] = value
    return targets, merged, origins


def build_request(
    settings: Settings,
    targets: tuple[str, ...],
    levels: tuple[str, ...],
    tags: tuple[str, ...],
    options: dict[str, Any],
    **request_fields: Any,
) -> Any:
    """The :class:`exporter.build.pipeline.BuildRequest` for the build options of a command
    (``build`` and ``watch`` share them), flags over ``deck.yaml``'s ``build:`` section."""
    from exporter.build.pipeline import BuildRequest, Selection

    targets, options, _ = resolve_settings(settings, targets, options)
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
    """Target names with ``all`` and ``pdf`` expanded, each once, in the order given; no
    target means the default ones (:data:`~exporter.core.settings.DEFAULT_TARGETS`)."""
    from exporter.build.pipeline import PDF_TARGETS, TARGETS
    from exporter.core.settings import DEFAULT_TARGETS

    groups = {"all": list(TARGETS), "pdf": list(PDF_TARGETS)}
    chosen: list[str] = []
    for target in targets or DEFAULT_TARGETS:
        for name in groups.get(target, [target]):
            if name not in chosen:
                chosen.append(name)
    return tuple(chosen)

"""The ``exporter`` group and its core commands (validate, stats, build, diff); no pipeline logic.

Exit codes: 0 clean, 1 problems in the source (or warnings with ``--strict``), 2 usage,
configuration or I/O errors. No traceback is ever shown for bad input; ``--debug`` shows
one for internal errors.
"""

from __future__ import annotations

import json
from typing import Any, ClassVar

import click

from exporter import __version__
from exporter.cli.options import (
    DIAGNOSTIC_FORMATS,
    EXIT_OK,
    EXIT_PROBLEMS,
    MAX_OFFSET_MM,
    FiniteFloat,
    Settings,
    build_request,
    command_options,
    load_checked,
    project_options,
    report,
    require_source,
    resolve_settings,
)
from exporter.core.settings import TARGET_CHOICES


class LazyGroup(click.Group):
    """A group whose larger commands live in their own modules, imported when used."""

    lazy_commands: ClassVar[dict[str, str]] = {
        "import": "exporter.cli.importing:import_command",
        "init": "exporter.cli.init:init_command",
        "new": "exporter.cli.new:new_command",
        "preview": "exporter.cli.preview:preview_command",
        "sync": "exporter.cli.sync:sync_command",
        "watch": "exporter.cli.watch:watch_command",
    }

    def list_commands(self, ctx: click.Context) -> list[str]:
        """Eager and lazy command names, sorted."""
        return sorted([*super().list_commands(ctx), *self.lazy_commands])

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The command list with each command's whole first sentence (Click cuts it at
        45 characters)."""
        rows = []
        for name in self.list_commands(ctx):
            command = self.get_command(ctx, name)
            if command is not None and not command.hidden:
                rows.append((name, command.get_short_help_str(limit=300)))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        """Import a lazy command's module only when that command is asked for."""
        target = self.lazy_commands.get(cmd_name)
        if target is None:
            return super().get_command(ctx, cmd_name)
        import importlib

        module_name, attribute = target.split(":")
        command: click.Command = getattr(importlib.import_module(module_name), attribute)
        return command


@click.group(
    cls=LazyGroup,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.version_option(__version__, prog_name="exporter")
def main() -> None:
    """Turn a bank of interview questions (YAML) into Anki decks and printable PDFs.

    \b
    The daily loop, in the folder that holds source/:
      exporter new "What is a GRU?"   add a question, then write its answer
      exporter validate               every problem, located, in one run
      exporter diff                   what changed, and what Anki will do
      exporter build                  rebuild what is stale into build/
      exporter sync --dry-run         what applying it to your Anki collection would do
      exporter sync                   apply it (Anki closed): your tags and history kept
      exporter watch                  rebuild on every save

    \b
    Start a bank with `exporter init DIR`. Defaults for build (paper, columns,
    targets, ...) go in the build: section of source/deck.yaml. Each command's
    options: exporter COMMAND -h.
    """


@main.command()
@command_options("source", "cache", "checks", "reporting")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(DIAGNOSTIC_FORMATS),
    default="text",
    show_default=True,
    help="text: path:line:col: CODE message (stderr); json: one JSON object per problem; "
    "github: workflow annotations (both on stdout).",
)
def validate(settings: Settings, output_format: str) -> int:
    """Check the source and print every problem, located (path:line:col: CODE message).

    Exits 0 when clean, 1 when the source has errors (or warnings with --strict),
    2 when files cannot be read.
    """
    project = load_checked(settings)
    if project.bank is not None and not project.diagnostics.items and not settings.quiet:
        count = len(project.bank.questions)
        settings.info(f"{settings.source}: {count} questions, deck '{project.bank.deck.id}'")
    return _finished(report(settings, project.diagnostics, output_format))


@main.command()
@command_options("source", "cache", "checks", "reporting")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="Human-readable table or JSON.",
)
def stats(settings: Settings, output_format: str) -> int:
    """Show counts per level and topic, untagged questions and seed coverage."""
    from exporter.source.stats import bank_stats, compress_ranges

    project = load_checked(settings)
    code = report(settings, project.diagnostics) if project.diagnostics.items else EXIT_OK
    if project.bank is None:
        return code or EXIT_PROBLEMS
    result = bank_stats(project.bank)
    if output_format == "json":
        click.echo(json.dumps(result.as_dict(), indent=2))
        return _finished(code)
    bank = project.bank
    lines = [f"{bank.deck.title} ({bank.deck.id}): {result.total} questions"]
    if result.retired:
        lines[0] += f", {result.retired} retired"
    lines.append("")
    lines.append("Levels")
    for level, count in result.per_level.items():
        lines.append(f"  {level:<24} {count:>5}")
    lines.append("")
    lines.append("Topics")
    for topic, count in result.per_topic.items():
        lines.append(f"  {topic:<24} {count:>5}")
    lines.append("")
    if result.untagged:
        lines.append(f"Without a topic tag: {len(result.untagged)} ({', '.join(result.untagged)})")
    else:
        lines.append("Without a topic tag: 0")
    if result.seed_total is not None:
        covered = len(result.seed_covered)
        lines.append(f"Seed coverage: {covered}/{result.seed_total}")
        if result.seed_missing:
            lines.append(f"  missing: {compress_ranges(result.seed_missing)}")
    click.echo("\n".join(lines))
    return _finished(code)


@main.command()
@project_options
@click.option(
    "-t",
    "--target",
    "targets",
    multiple=True,
    type=click.Choice(TARGET_CHOICES),
    help="What to build (repeatable; 'pdf' = every PDF, 'all' = everything, the guide "
    "included). Default: the deck, cheat sheet, flashcards and quiz.",
)
@click.option("--level", "levels", multiple=True, help="Only questions of these levels.")
@click.option("--tag", "tags", multiple=True, help="Only questions with one of these tags.")
@click.option("--frozen", is_flag=True, help="Fail (exit 1) if the lock file would change; for CI.")
@click.option(
    "--deck-layout",
    type=click.Choice(["flat", "level", "tag"]),
    default=None,
    help="Anki: one deck, a subdeck per level (default), or per first topic.",
)
@click.option(
    "--paper", type=click.Choice(["a4", "letter"]), default=None, help="PDF paper size [a4]."
)
@click.option(
    "--orientation",
    type=click.Choice(["portrait", "landscape"]),
    default=None,
    help="Cheat sheet and guide page orientation [cheat sheet: landscape, guide: portrait].",
)
@click.option(
    "--columns",
    type=click.IntRange(1, 4),
    default=None,
    help="Cheat sheet columns [landscape 4, portrait 3]; guide columns [2].",
)
@click.option(
    "--pages",
    type=click.IntRange(1, 99),
    default=None,
    help="Cheat sheet: the page budget [4, two sheets printed on both sides].",
)
@click.option(
    "--details/--no-details",
    default=None,
    help="Guide: include the deeper explanations [yes].",
)
@click.option(
    "--group-by",
    type=click.Choice(["level", "tag"]),
    default=None,
    help="Guide grouping: by level then topic (default), or by topic.",
)
@click.option(
    "--per-page",
    type=click.Choice(["4", "6", "8", "10"]),
    default=None,
    help="Flashcards per sheet [8].",
)
@click.option(
    "--flip",
    type=click.Choice(["long", "short"]),
    default=None,
    help="Flashcards: the duplex edge the printer flips on [long].",
)
@click.option(
    "--offset-x",
    type=FiniteFloat(-MAX_OFFSET_MM, MAX_OFFSET_MM),
    default=None,
    help="Flashcards: shift back pages right (mm).",
)
@click.option(
    "--offset-y",
    type=FiniteFloat(-MAX_OFFSET_MM, MAX_OFFSET_MM),
    default=None,
    help="Flashcards: shift back pages down (mm).",
)
@click.option(
    "--calibration",
    is_flag=True,
    default=None,
    help="Flashcards: add a page for measuring duplex misalignment.",
)
@click.option("--seed", type=int, default=None, help="Quiz: shuffle seed [0].")
@click.option(
    "--allow-removal",
    is_flag=True,
    help="Accept published questions that disappeared without 'retired: true'.",
)
@click.option("--clean", is_flag=True, help="Ignore caches and the manifest: rebuild all.")
def build(
    settings: Settings,
    targets: tuple[str, ...],
    levels: tuple[str, ...],
    tags: tuple[str, ...],
    frozen: bool,
    allow_removal: bool,
    clean: bool,
    **options: Any,
) -> int:
    """Build the Anki deck and the PDFs from the source into the output folder.

    Nothing is written when the source has errors; each output replaces the old one
    atomically, so a failed or interrupted build leaves the previous outputs intact.
    """
    from exporter.build.pipeline import build as run_build

    require_source(settings)
    if settings.verbose and not settings.quiet:
        _, _, origins = resolve_settings(settings, targets, options)
        for name, value, origin in origins:
            shown = ", ".join(value) if isinstance(value, tuple) else value
            shown = str(shown).lower() if isinstance(shown, bool) else shown
            settings.detail(f"setting {name} = {shown}  ({origin})")
    request = build_request(
        settings,
        targets,
        levels,
        tags,
        options,
        frozen=frozen,
        allow_removal=allow_removal,
        clean=clean,
    )
    from exporter.cli.progress import progress_for

    with progress_for(settings.quiet) as progress:
        request.progress = progress
        result = run_build(request)
    code = report(settings, result.diagnostics) if result.diagnostics.items else EXIT_OK
    if result.failed_to_load or result.diagnostics.failed(settings.strict):
        settings.info("Nothing written.")
        return code or EXIT_PROBLEMS
    for message in result.state.get("messages", []):
        settings.info(message)
    for path in result.written:
        settings.info(f"wrote {path}")
    for path in result.unchanged:
        settings.detail(f"unchanged {path}")
    if result.up_to_date:
        settings.info(f"up to date: {', '.join(result.up_to_date)}")
    settings.info(_closing_line(settings, result))
    return _finished(code)


def _closing_line(settings: Settings, result: Any) -> str:
    """What the build wrote and how long it took, in one line."""
    written, same = result.written, len(result.unchanged)
    if not written and not same:
        return f"Nothing to build: every output is up to date ({settings.elapsed()})."
    out = settings.out.resolve()
    outputs = [p for p in written if out in p.resolve().parents]
    others = [str(p) for p in written if p not in outputs]
    noun = "output" if len(outputs) == 1 else "outputs"
    parts = [f"wrote {len(outputs)} {noun} to {settings.out}/"]
    parts.extend(f"updated {name}" for name in others)
    if same:
        parts.append(f"{same} rebuilt with identical bytes")
    return f"Done in {settings.elapsed()}: {', '.join(parts)}."


@main.command()
@command_options("source", "cache", "templates", "checks", "reporting")
@click.option(
    "--allow-removal",
    is_flag=True,
    help="Accept published questions that disappeared without 'retired: true'.",
)
@click.option("--all", "show_all", is_flag=True, help="List unchanged questions too.")
def diff(settings: Settings, allow_removal: bool, show_all: bool) -> int:
    """Show what changed since the lock file and what Anki will do on re-import.

    Nothing is written. Each line is one question: + new (Anki adds it), ~ changed
    (Anki updates it; the changed parts are named), - retired, ! removed from the source.
    """
    from exporter.build.pipeline import BuildRequest, content_plan

    project = load_checked(settings)
    bank = project.bank
    if bank is None or project.diagnostics.errors:
        return report(settings, project.diagnostics)
    request = BuildRequest(
        source=settings.source,
        out=settings.out,
        templates=settings.templates,
        allow_removal=allow_removal,
    )
    plan = content_plan(project, bank, request)
    project.cache.save()
    if plan is not None:
        for change in plan.changes:
            if show_all or change.kind != "unchanged":
                click.echo(change.describe())
        if plan.update.notetype_changed:
            click.echo("~ note type: templates or CSS changed → Anki: update the note type")
        click.echo(f"Since the lock: {plan.summary()}.")
    code = report(settings, project.diagnostics) if project.diagnostics.items else EXIT_OK
    return _finished(code)


_FINISHED: list[bool] = []
"""Set when a core command (validate, stats, build, diff) returned normally."""


def _finished(code: int) -> int:
    """Mark the command as done (every output written and closed): :func:`run` may then
    leave without tearing the process down."""
    _FINISHED.append(True)
    return code


def run() -> None:
    """The console entry point: the CLI, then, after a core command that returned
    normally, an immediate exit.

    By then every output has been written atomically and closed, so freeing the
    interpreter's objects one by one (a large bank's nodes, questions and HTML) would
    only cost time: the standard streams are flushed and the process ends with the
    command's exit code. Other commands (sync with Anki's backend, watch, import), any
    error, and a run under a profiler or a tracer end the normal way.
    """
    import os
    import sys

    try:
        main()
        code: Any = 0
    except SystemExit as exc:
        code = exc.code
    traced = sys.getprofile() is not None or sys.gettrace() is not None
    if not _FINISHED or not isinstance(code, int | None) or traced:
        sys.exit(code)  # a profiler or coverage writes its report at exit
    status = code or 0
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe (`exporter validate | head`)
            status = status or 120  # what Python itself exits with then
    os._exit(status)

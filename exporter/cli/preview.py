"""``exporter preview``: build the deck, then write ``<out>/preview/index.html`` with every
card as Anki renders it, by day and by night (see :mod:`exporter.render.anki.preview`)."""

from __future__ import annotations

from typing import Any

import click

from exporter.cli.options import (
    EXIT_OK,
    EXIT_PROBLEMS,
    EXIT_USAGE,
    Settings,
    build_request,
    project_options,
    report,
    require_source,
)

PREVIEW_FOLDER = "preview"


@click.command("preview")
@project_options
@click.option(
    "--deck-layout",
    type=click.Choice(["flat", "level", "tag"]),
    default=None,
    help="Anki: one deck, a subdeck per level (default), or per first topic.",
)
def preview_command(settings: Settings, **options: Any) -> int:
    """Build the Anki deck and write <out>/preview/index.html: every card's front and back
    as Anki's own backend renders them, day and night side by side, searchable by id and
    tag, formulas typeset with Anki's MathJax (offline).
    """
    from exporter.build.pipeline import build as run_build
    from exporter.core.output import write_all
    from exporter.render.anki.preview import PreviewError, preview_files

    require_source(settings)
    request = build_request(settings, ("anki",), (), (), dict(options))
    result = run_build(request)
    code = report(settings, result.diagnostics) if result.diagnostics.items else EXIT_OK
    if result.failed_to_load or result.diagnostics.failed(settings.strict):
        settings.info("Nothing written.")
        return code or EXIT_PROBLEMS
    for path in result.written:
        settings.info(f"wrote {path}")
    project = result.project
    if project is None:  # the deck was up to date: read the source for the deck's name
        from exporter.build.project import load_project

        project = load_project(settings.source, settings.ignore, settings.out / ".cache")
    if project.bank is None:
        return report(settings, project.diagnostics) or EXIT_PROBLEMS
    deck = project.bank.deck
    try:
        files = preview_files(settings.out / f"{deck.id}.apkg", deck.title)
    except PreviewError as exc:
        click.echo(f"error: {exc}", err=True)
        return EXIT_USAGE
    folder = settings.out / PREVIEW_FOLDER
    write_all({folder / name: data for name, data in files.items()})
    settings.info(f"wrote {folder / 'index.html'}")
    return code

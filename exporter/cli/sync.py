"""``exporter sync``: build what is stale, then apply the bank to the learner's Anki collection.

The comparison and the writes live in :mod:`exporter.render.anki.sync`; this module finds the
collection, runs the build, prints the per-note report and the summary, asks before
deleting, and turns problems into one line and an exit code (2: no collection, Anki open,
no backend; 1: problems in the source).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from exporter.cli.options import (
    EXIT_OK,
    EXIT_PROBLEMS,
    EXIT_USAGE,
    InputError,
    Settings,
    build_request,
    load_checked,
    project_options,
    report,
    require_source,
)
from exporter.core.settings import TARGET_CHOICES


def _content(settings: Settings, request: Any, build_first: bool) -> tuple[Any, Any, Any]:
    """The project, its bank and the content plan (note contents, note type, lock), after
    building the stale targets when ``build_first``; ``(project, None, None)`` on failure."""
    from exporter.build.pipeline import build, content_plan

    if build_first:
        result = build(request)
        code_items = result.diagnostics
        if result.failed_to_load or code_items.failed(settings.strict):
            return result.project, None, None
        for message in result.state.get("messages", []):
            settings.info(message)
        for path in result.written:
            settings.info(f"wrote {path}")
        if result.project is not None and "plan" in result.state:
            return result.project, result.project.bank, result.state["plan"]
    project = load_checked(settings)
    bank = project.bank
    if bank is None or project.diagnostics.failed(settings.strict):
        return project, None, None
    plan = content_plan(project, bank, request)
    project.cache.save()
    if plan is None or project.diagnostics.failed(settings.strict):
        return project, None, None
    return project, bank, plan


def _collection_path(collection: Path | None, profile: str | None) -> Path:
    from exporter.render.anki.profiles import ProfileError, find_collection

    if collection is not None:
        if profile is not None:
            raise click.UsageError("give --collection or --profile, not both")
        return collection
    try:
        return find_collection(profile)
    except ProfileError as exc:
        raise InputError(str(exc)) from None


@click.command("sync")
@project_options
@click.option(
    "--collection",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="The collection file (collection.anki2) [the profile's, in Anki's data folder].",
)
@click.option("--profile", default=None, help="The Anki profile whose collection to sync.")
@click.option("--dry-run", is_flag=True, help="Show what would change; change nothing.")
@click.option(
    "--keep-anki-edits",
    is_flag=True,
    help="Leave notes (and the note type) edited in Anki since the last sync as they are.",
)
@click.option(
    "--delete-retired", is_flag=True, help="Delete retired notes instead of suspending them."
)
@click.option("-y", "--yes", is_flag=True, help="Do not ask before deleting.")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="Report as text or JSON.",
)
@click.option(
    "-t",
    "--target",
    "targets",
    multiple=True,
    type=click.Choice(TARGET_CHOICES),
    help="Also build these targets (the Anki deck is always built).",
)
@click.option("--level", "levels", multiple=True, help="Only questions of these levels.")
@click.option("--tag", "tags", multiple=True, help="Only questions with one of these tags.")
@click.option(
    "--deck-layout",
    type=click.Choice(["flat", "level", "tag"]),
    default=None,
    help="One deck, a subdeck per level (default), or per first topic.",
)
@click.option(
    "--allow-removal",
    is_flag=True,
    help="Accept published questions that disappeared without 'retired: true'.",
)
def sync_command(
    settings: Settings,
    collection: Path | None,
    profile: str | None,
    dry_run: bool,
    keep_anki_edits: bool,
    delete_retired: bool,
    yes: bool,
    output_format: str,
    targets: tuple[str, ...],
    levels: tuple[str, ...],
    tags: tuple[str, ...],
    deck_layout: str | None,
    allow_removal: bool,
) -> int:
    """Apply the bank straight to your Anki collection (Anki must be closed).

    \b
    New notes are added in their level's deck, in the bank's order; changed notes are
    updated (even if you edited them in Anki: that is reported as a conflict, with both
    texts); your own tags, flags, scheduling and review history are kept; a level change
    moves the cards still in the deck the bank put them in; retired notes are suspended,
    tagged and moved to the retired deck. Anki backs the collection up first, and every
    change of a run is applied as one unit.
    """
    from exporter.render.anki import apply, sync

    require_source(settings)
    path = _collection_path(collection, profile)
    try:
        apply.require_backend()
    except sync.SyncError as exc:
        raise InputError(str(exc)) from None
    chosen = ("anki", *(t for t in targets if t != "anki"))
    layout = deck_layout or "level"
    request = build_request(
        settings, chosen, levels, tags, {"deck_layout": deck_layout}, allow_removal=allow_removal
    )
    project, bank, plan = _content(settings, request, build_first=not dry_run)
    if bank is None:
        code = report(settings, project.diagnostics) if project is not None else EXIT_PROBLEMS
        settings.info("Nothing synced.")
        return code or EXIT_PROBLEMS
    if project.diagnostics.items:
        report(settings, project.diagnostics)
    given = _sync_input(bank, plan, request, layout)
    try:
        col = apply.open_collection(path)
    except sync.SyncError as exc:
        click.echo(f"error: {exc}", err=True)
        return EXIT_USAGE
    try:
        options = (dry_run, keep_anki_edits, delete_retired, yes, output_format)
        return _run(settings, col, path, given, *options)
    except sync.SyncError as exc:
        click.echo(f"error: {exc}", err=True)
        return EXIT_USAGE
    finally:
        col.close()


def _sync_input(bank: Any, plan: Any, request: Any, layout: str) -> Any:
    from exporter.render.anki.sync import SyncInput

    lock = plan.update.lock
    selected = [q for q in bank.questions if request.selection.includes(q)]
    return SyncInput(
        bank=bank,
        questions=selected,
        notes=plan.notes,
        notetype=plan.notetype,
        added={q.id: lock.notes[q.id].added for q in selected},
        mods={q.id: lock.notes[q.id].mod for q in selected},
        notetype_mod=lock.notetype_mod,
        positions={i: e.position for i, e in lock.notes.items() if e.position},
        layout=layout,
        whole_bank=not (request.selection.levels or request.selection.tags),
    )


def _run(
    settings: Settings,
    col: Any,
    path: Path,
    given: Any,
    dry_run: bool,
    keep_anki_edits: bool,
    delete_retired: bool,
    yes: bool,
    output_format: str,
) -> int:
    from exporter.render.anki import apply, sync
    from exporter.render.anki.notes import card_positions
    from exporter.render.anki.package import build_package

    result = sync.plan_sync(col, given, keep_anki_edits, delete_retired)
    if output_format == "text" and not settings.quiet:
        _print_report(settings, result)
    deletions = result.counts()["deleted"]
    if deletions and not dry_run and not yes:
        question = f"Delete {deletions} retired notes and their cards from {path}?"
        try:
            confirmed = click.confirm(question, default=False, err=True)
        except click.Abort:
            confirmed = False
        if not confirmed:
            message = "deletion not confirmed (pass --yes to skip the question); nothing changed"
            click.echo(f"error: {message}", err=True)
            return EXIT_PROBLEMS
    backup = None
    applied = False
    if not dry_run and result.changes_anything:
        backup = apply.backup(col, path.parent / "backups")
        if backup is not None:
            settings.info(f"backup: {backup}")

        def make_package(questions: Any) -> bytes:
            return build_package(
                given.bank,
                questions,
                given.notes,
                given.notetype,
                given.added,
                given.mods,
                given.notetype_mod,
                given.layout,
                card_positions(given.bank.deck, given.bank.questions, given.positions),
            )

        def progress(message: str) -> None:
            settings.info(f"{message} in {path} …")

        apply.apply_sync(col, result, given, make_package, progress)
        applied = True
    if output_format == "json":
        click.echo(json.dumps(_as_json(path, result, dry_run, applied, backup), indent=2))
    elif dry_run:
        click.echo(f"dry run, {path}: {result.summary()}; nothing changed")
    elif applied:
        click.echo(f"synced {path}: {result.summary()}")
    else:
        click.echo(f"{path} is in sync: {result.summary()}; nothing written")
    return EXIT_OK


def _print_report(settings: Settings, result: Any) -> None:
    for action in result.actions:
        if action.changed or action.conflict or action.kind == "skip" or settings.verbose:
            for line in action.describe():
                click.echo(line)
    line = result.notetype.describe()
    if line:
        click.echo(line)
    if result.orphans:
        shown = ", ".join(result.orphans[:5]) + (" …" if len(result.orphans) > 5 else "")
        click.echo(
            f"  {len(result.orphans)} notes of this deck are no longer in the bank and are "
            f"left alone: {shown}"
        )
    if result.adopted:
        click.echo(
            f"  {result.adopted} notes had no record of an earlier sync (imported from the "
            ".apkg): edits made in Anki cannot be told from changes in the bank for them, "
            "this once"
        )


def _as_json(path: Path, result: Any, dry_run: bool, applied: bool, backup: Any) -> Any:
    notetype = result.notetype
    return {
        "collection": str(path),
        "dry_run": dry_run,
        "applied": applied,
        "backup": str(backup) if backup else None,
        "counts": result.counts(),
        "notetype": {
            "name": notetype.name,
            "changed": list(notetype.changed),
            "tweaked_in_anki": notetype.tweaked,
            "kept_anki_edits": notetype.kept,
        },
        "orphans": result.orphans,
        "adopted": result.adopted,
        "notes": [action.as_dict() for action in result.actions],
    }

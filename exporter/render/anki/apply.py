"""Opening a learner's collection with Anki's backend, backing it up, and applying a
:class:`~exporter.render.anki.sync.SyncPlan` to it in one database transaction.

All of a run's changes (new notes through Anki's package importer, updated fields and tags,
moved cards, suspensions, deletions, the note type's templates and CSS, the record of what
was written) happen between one ``begin`` and one ``commit`` (``col.db.transact``): Anki's own
operations nest inside it as savepoints, so a failure, Ctrl-C or a kill half-way leaves the
collection as it was. The ``anki`` package is imported only when these functions run.
"""

from __future__ import annotations

import copy
import tempfile
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from exporter.core.identity import NOTE_FIELDS, TEMPLATE_NAME
from exporter.core.model import Question
from exporter.render.anki.notes import NoteContent, study_order
from exporter.render.anki.package import notetype_id, question_guid
from exporter.render.anki.sync import (
    NEW_TYPE,
    CollectionBusy,
    NoteAction,
    SyncError,
    SyncInput,
    SyncPlan,
    existing_notes,
    record_key,
)

CURRENT_SCHEMA = 18
"""The collection schema Anki 2.1.50 and later keep on disk (and this backend writes)."""


def schema_version(path: Path) -> int | None:
    """The collection's schema version, read without locking or writing anything (an
    ``immutable`` read-only SQLite open); None when it cannot be read that way."""
    import sqlite3

    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?immutable=1", uri=True)
        try:
            row = conn.execute("select ver from col").fetchone()
        finally:
            conn.close()
    except sqlite3.Error:
        return None
    return int(row[0]) if row and isinstance(row[0], int) else None


def require_backend() -> None:
    """Raise :class:`SyncError` when Anki's backend (the ``anki`` package) is missing."""
    import importlib.util

    if importlib.util.find_spec("anki") is None:
        raise SyncError(
            "exporter sync needs Anki's backend, the 'anki' package: "
            "pip install 'interview-deck-exporter[sync]' (make build installs it)"
        )


def open_collection(path: Path) -> Any:
    """Open ``path`` with Anki's backend; :class:`CollectionBusy` when Anki holds it."""
    require_backend()
    from anki.collection import Collection
    from anki.errors import DBError

    if not path.is_file():
        raise SyncError(f"no Anki collection at {path}")
    version = schema_version(path)
    if version is not None and version < CURRENT_SCHEMA:
        raise SyncError(
            f"{path} is in the format of Anki before 2.1.50 (schema {version}); opening it "
            "here would upgrade it past what that Anki can read: open it once in a current "
            "Anki, or import the .apkg instead; nothing changed"
        )
    try:
        return Collection(str(path))
    except DBError as exc:
        if "already open" in str(exc).lower():
            raise CollectionBusy(
                f"{path} is open in Anki (or Anki is syncing its media): close Anki (let it "
                "finish syncing with AnkiWeb), then run exporter sync again; nothing changed"
            ) from None
        raise SyncError(f"cannot open {path}: {exc}") from None
    except Exception as exc:  # the backend's other refusals: a too-new or damaged file
        raise SyncError(f"cannot open {path} as an Anki collection: {exc}") from None


def backup(col: Any, folder: Path) -> Path | None:
    """A backup through Anki's own mechanism (a ``.colpkg`` in ``folder``, Anki's rotation
    rules); the newest backup file, or None if Anki made none."""
    folder.mkdir(parents=True, exist_ok=True)
    col.create_backup(backup_folder=str(folder), force=True, wait_for_completion=True)
    backups = sorted(folder.glob("*.colpkg"), key=lambda p: p.stat().st_mtime)
    return backups[-1] if backups else None


PackageMaker = Callable[[Sequence[Question]], bytes]
"""Builds the ``.apkg`` bytes of some questions (the package's own code)."""


def apply_sync(
    col: Any,
    plan: SyncPlan,
    given: SyncInput,
    make_package: PackageMaker,
    progress: Callable[[str], None] | None = None,
) -> None:
    """Apply ``plan`` to ``col`` in one transaction: all of it, or (on any error or a
    kill) none of it."""

    def run() -> None:
        _apply(col, plan, given, make_package, progress)

    col.db.transact(run)


def _apply(
    col: Any,
    plan: SyncPlan,
    given: SyncInput,
    make_package: PackageMaker,
    progress: Callable[[str], None] | None,
) -> None:
    deck = given.bank.deck
    adds = [a for a in plan.actions if a.kind == "add"]
    if progress is not None:
        progress(f"applying {sum(a.changed for a in plan.actions)} note changes")
    if adds:
        _add_notes(col, deck, adds, given, make_package)
    ntid = notetype_id(deck)
    updates = [
        a
        for a in plan.actions
        if a.kind == "update" and (a.fields or a.tags_added or a.tags_removed)
    ]
    if updates:
        _write_media(col, [given.notes[a.id] for a in updates if a.fields])
        notes = []
        for action in updates:
            note = col.get_note(action.note_id)
            content = given.notes[action.id]
            for index in range(len(NOTE_FIELDS)):
                if NOTE_FIELDS[index] in action.fields:
                    note[NOTE_FIELDS[index]] = content.fields[index]
            note.tags = list(action.new_tags)
            notes.append(note)
        col.update_notes(notes)
    targets: dict[str, list[int]] = {}
    for action in plan.actions:
        for move in action.moves:
            targets.setdefault(move.to_deck, []).append(move.card_id)
    for name, card_ids in sorted(targets.items()):
        col.set_deck(card_ids, col.decks.id(name))
    suspend = [cid for a in plan.actions for cid in a.suspend]
    if suspend:
        col.sched.suspend_cards(suspend)
    unsuspend = [cid for a in plan.actions for cid in a.unsuspend]
    if unsuspend:
        col.sched.unsuspend_cards(unsuspend)
    deletes = [a.note_id for a in plan.actions if a.kind == "delete" and a.note_id is not None]
    if deletes:
        col.remove_notes(deletes)
    if plan.notetype.exists and plan.notetype.changed and not plan.notetype.kept:
        model = copy.deepcopy(col.models.get(ntid))
        for template in model["tmpls"]:
            if template["name"] == TEMPLATE_NAME:
                template["qfmt"], template["afmt"] = given.notetype.front, given.notetype.back
        model["css"] = given.notetype.css
        col.models.update_dict(model)
    if plan.record_changed:
        col.set_config(record_key(deck.id), plan.record)


def _add_notes(
    col: Any, deck: Any, adds: list[NoteAction], given: SyncInput, make_package: PackageMaker
) -> None:
    """New notes through Anki's package importer (never updating an existing note or the
    note type), then study positions in bank order after every existing new card."""
    from anki.collection import ImportAnkiPackageOptions, ImportAnkiPackageRequest
    from anki.import_export_pb2 import IMPORT_ANKI_PACKAGE_UPDATE_CONDITION_NEVER as NEVER

    questions = study_order(deck, [a.question for a in adds])
    start = col.db.scalar("select coalesce(max(due), -1) + 1 from cards where type = ?", NEW_TYPE)
    start = max(int(start), int(col.get_config("nextPos", 0) or 0))
    with tempfile.TemporaryDirectory(prefix="exporter-sync-") as folder:
        path = Path(folder) / f"{deck.id}-new.apkg"
        path.write_bytes(make_package(questions))
        options = ImportAnkiPackageOptions(
            merge_notetypes=False,
            update_notes=NEVER,
            update_notetypes=NEVER,
            with_scheduling=False,
            with_deck_configs=False,
        )
        result = col.import_anki_package(
            ImportAnkiPackageRequest(package_path=str(path), options=options)
        )
    if len(result.log.new) != len(questions):
        raise SyncError(
            f"Anki's importer added {len(result.log.new)} of {len(questions)} new notes "
            f"({len(result.log.conflicting)} conflicting); nothing changed"
        )
    guids = [question_guid(deck, q) for q in questions]
    found = existing_notes(col, guids)
    ntid = notetype_id(deck)
    card_ids = []
    for guid in guids:
        note = found[guid]
        if note.notetype != ntid:
            raise SyncError(
                "Anki's importer put the new notes in another note type; nothing changed"
            )
        card_ids += [cid for cid, _, _, _ in note.cards]
    col.sched.reposition_new_cards(
        card_ids=card_ids, starting_from=start, step_size=1, randomize=False, shift_existing=False
    )
    col.set_config("nextPos", start + len(card_ids))


def _write_media(col: Any, contents: Iterable[NoteContent]) -> None:
    """Images the updated notes show, into the collection's media folder (content-hashed
    names: a file already there is the same file)."""
    for content in contents:
        for item in content.media:
            if not col.media.have(item.name):
                col.media.write_data(item.name, item.data)

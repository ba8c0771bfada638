"""What a build changes for Anki users: note contents, the lock update, and per-question
changes with what Anki's importer will do with them (default options: update if newer).

Used by ``exporter build`` (to update the lock and print a summary) and ``exporter diff``
(to preview the same without writing anything).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from exporter.build.lock import (
    LOCK_NAME,
    MAX_LOCK_BYTES,
    Lock,
    LockError,
    LockUpdate,
    format_parts,
    lock_positions,
    read_lock,
    update_lock,
)
from exporter.core.cache import Cache
from exporter.core.diagnostics import Diagnostics, Location, display_path
from exporter.core.files import FileRefused, read_bytes
from exporter.core.model import Bank
from exporter.render.anki.notes import (
    NoteContent,
    NoteType,
    NoteTypeError,
    build_note,
    card_positions,
    load_notetype,
)

ANKI_ACTION = {
    "new": "add",
    "changed": "update",
    "retired": "update (tagged retired)",
    "unchanged": "skip",
    "removed": "nothing: its cards stay in users' collections, orphaned",
}


@dataclass(frozen=True)
class NoteChange:
    """One question's change since the lock, and what Anki does with it on import."""

    id: str
    kind: str  # new | changed | retired | unchanged | removed
    parts: tuple[str, ...] = ()

    @property
    def anki_action(self) -> str:
        """Anki's importer's action with default options."""
        return ANKI_ACTION[self.kind]

    def describe(self) -> str:
        """One line for the terminal."""
        sign = {"new": "+", "changed": "~", "retired": "-", "removed": "!", "unchanged": "="}
        detail = f" ({', '.join(self.parts)})" if self.parts else ""
        return f"{sign[self.kind]} {self.id}: {self.kind}{detail} → Anki: {self.anki_action}"


@dataclass
class ContentPlan:
    """Every note's content, the updated lock, and the list of changes."""

    notes: dict[str, NoteContent]
    notetype: NoteType
    old: Lock
    update: LockUpdate
    lock_path: Path
    changes: list[NoteChange] = field(default_factory=list)

    def summary(self) -> str:
        """``2 new, 1 changed, 0 retired, 76 unchanged`` plus the note type's state."""
        counts = {kind: 0 for kind in ("new", "changed", "retired", "unchanged", "removed")}
        for change in self.changes:
            counts[change.kind] += 1
        text = ", ".join(f"{n} {kind}" for kind, n in counts.items() if n or kind != "removed")
        if self.update.notetype_changed:
            text += "; note type templates/CSS changed (Anki updates them)"
        return text


def _changed_parts(old: dict[str, str], new: dict[str, str]) -> tuple[str, ...]:
    if not old:
        return ("content",)
    return tuple(name for name, value in new.items() if old.get(name) != value)


def plan_content(
    bank: Bank,
    htmls: dict[str, tuple[str, str, str]],
    source: Path,
    anki_templates: list[Path],
    diagnostics: Diagnostics,
    allow_removal: bool = False,
    cache: Cache | None = None,
) -> ContentPlan | None:
    """Build every note and compare with the lock; None when the lock is unreadable.

    A published id that disappeared from the source without ``retired: true`` is an error
    (E022) unless ``allow_removal``: its cards would stay in users' collections forever.
    """
    notes = {
        q.id: build_note(q, htmls[q.id], bank.deck, source, diagnostics, cache)
        for q in bank.questions
    }
    try:
        notetype = load_notetype(bank.deck, anki_templates)
    except NoteTypeError as exc:
        for location, message in exc.problems:
            diagnostics.add(location, "E019", f"Anki template: {message}")
        return None
    lock_path = source / LOCK_NAME
    shown = display_path(lock_path)
    try:
        old = read_lock(lock_path)
    except LockError as exc:
        diagnostics.add(Location(shown, exc.line), "E020", exc.message)
        return None
    except (OSError, UnicodeDecodeError) as exc:
        if isinstance(exc, FileRefused):
            diagnostics.add(Location(shown), "E020", f"lock file {exc.strerror}")
        else:
            diagnostics.add(Location(shown), "E020", f"cannot read lock file: {exc}")
        return None
    parts = {i: n.parts() for i, n in notes.items()}
    positions = card_positions(bank.deck, bank.questions, lock_positions(old))
    update = update_lock(
        old,
        {i: (n.digest, format_parts(parts[i])) for i, n in notes.items()},
        notetype.digest,
        positions=positions,
    )
    plan = ContentPlan(notes, notetype, old, update, lock_path)
    changed, added = set(update.changed), set(update.added)
    for question in bank.questions:
        qid = question.id
        if qid in added:
            plan.changes.append(NoteChange(qid, "new"))
        elif qid in changed:
            delta = _changed_parts(old.notes[qid].part_map(), parts[qid])
            retiring = question.retired and "retired" not in old.notes[qid].parts
            plan.changes.append(NoteChange(qid, "retired" if retiring else "changed", delta))
        else:
            plan.changes.append(NoteChange(qid, "unchanged"))
    lines = _lock_lines(lock_path) if update.removed else {}
    for qid in update.removed:
        plan.changes.append(NoteChange(qid, "removed"))
        if allow_removal:
            del update.lock.notes[qid]
        else:
            diagnostics.add(
                Location(shown, lines.get(qid, 1)),
                "E022",
                f"published question '{qid}' is gone from the source; keep it with "
                "'retired: true' (or build with --allow-removal)",
            )
    return plan


def _lock_lines(path: Path) -> dict[str, int]:
    lines: dict[str, int] = {}
    try:
        text = read_bytes(path, MAX_LOCK_BYTES).decode("utf-8", "replace")
        for number, line in enumerate(text.splitlines(), start=1):
            parts = line.split()
            if len(parts) >= 2 and parts[0] == "note":
                lines[parts[1]] = number
    except OSError:
        pass
    return lines

"""The Anki target: ``build/<deck id>.apkg`` through genanki, byte-identical per source.

Identity rules (see the README's "Anki" section): a note's GUID is derived from the deck id
and the question id; the note type and deck ids from their names; each note's ``mod`` is
the time its content last changed, from the lock file. The package is written from an
in-memory SQLite database into a zip with fixed dates and a sorted media list.

Study order: each new card's ``due`` (its position) is the note's position in the lock
(:func:`card_positions`), and the level decks are numbered (``1. Basic``) so that Anki's
default gather order, deck by deck in name order, follows ``deck.yaml``'s levels. Retired
notes go to a deck outside the study tree (:func:`deck_name`), suspended.
"""

from __future__ import annotations

import io
import json
import sqlite3
import tempfile
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import genanki

from exporter.core.context import RenderContext
from exporter.core.identity import NOTE_FIELDS, TEMPLATE_NAME, note_guid, stable_id
from exporter.core.model import Bank, Deck, Question
from exporter.render.anki.notes import NoteContent, NoteType, card_positions

ZIP_DATE = (1980, 1, 1, 0, 0, 0)
SUSPENDED = -1
"""Anki's queue number of a suspended card (kept when the learner imports with scheduling)."""
NEW_QUEUE = 0


def notetype_id(deck: Deck) -> int:
    """The note type's id. Version 1 of the schema; a new schema gets a new name here."""
    return stable_id("interview-qa-notetype", "v1", deck.id)


def level_deck_name(deck: Deck, level: str) -> str:
    """A level's subdeck, numbered in ``deck.yaml``'s order (``<title>::1. Basic``): Anki
    gathers new cards deck by deck in name order, so the numbers make it follow the levels
    (zero-padded from ten levels on, so ``10.`` sorts after ``09.``)."""
    width = len(str(len(deck.levels)))
    number = deck.levels.index(level) + 1 if level in deck.levels else len(deck.levels) + 1
    return f"{deck.title}::{number:0{width}d}. {deck.level_title(level)}"


def retired_deck_name(deck: Deck) -> str:
    """The deck retired notes go to: a top-level deck beside the study deck, not inside
    it, so studying the deck never serves them."""
    return f"{deck.title} (retired)"


def former_deck_names(deck: Deck, question: Question, layout: str) -> tuple[str, ...]:
    """Names earlier releases gave the deck :func:`deck_name` now names (``<title>::Basic``,
    ``<title>::Retired``): ``exporter sync`` treats a card still there as in our deck."""
    if layout != "level" and not question.retired:
        return ()
    return (f"{deck.title}::{'Retired' if question.retired else deck.level_title(question.level)}",)


def deck_name(deck: Deck, question: Question, layout: str, topic_titles: Mapping[str, str]) -> str:
    """The (sub)deck a question's cards belong in: the one place that decides it, for the
    package (first import) and for ``exporter sync`` (adds, level changes, retiring)."""
    if question.retired:
        return retired_deck_name(deck)
    if layout == "flat":
        return deck.title
    if layout == "tag":
        topic = question.topics[0] if question.topics else ""
        return f"{deck.title}::{topic_titles.get(topic, 'Other')}"
    return level_deck_name(deck, question.level)


def topic_titles(bank: Bank) -> dict[str, str]:
    """Topic id → title, for :func:`deck_name`'s ``tag`` layout."""
    return {topic.id: topic.title for topic in bank.taxonomy.topics}


def question_guid(deck: Deck, question: Question) -> str:
    """The note's GUID: the one kept from an imported deck, else derived from the id."""
    return question.guid or note_guid(deck.id, question.id)


class _TimedNote(genanki.Note):  # type: ignore[misc]
    """A note that carries its own ``mod`` and id (genanki stamps one time on all)."""

    def __init__(self, *, mod: int, note_id: int, queue: int = NEW_QUEUE, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.mod = mod
        self.note_id = note_id
        self.queue = queue

    def write_to_db(self, cursor: Any, timestamp: float, deck_id: int, id_gen: Any) -> None:
        cursor.execute(
            "INSERT INTO notes VALUES(?,?,?,?,?,?,?,?,?,?,?);",
            (
                self.note_id,
                self.guid,
                self.model.model_id,
                self.mod,
                -1,
                self._format_tags(),
                self._format_fields(),
                self.sort_field,
                0,
                0,
                "",
            ),
        )
        for card in self.cards:
            # id, nid, did, ord, mod, usn, type, queue, due, then zeroed scheduling columns
            row = [self.note_id + card.ord, self.note_id, deck_id, card.ord, self.mod, -1, 0]
            row += [self.queue, self.due, 0, 0, 0, 0, 0, 0, 0, 0, ""]
            cursor.execute("INSERT INTO cards VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?);", row)


def build_model(deck: Deck, notetype: NoteType) -> genanki.Model:
    """The genanki note type with our frozen field and template names."""
    return genanki.Model(
        model_id=notetype_id(deck),
        name=notetype.name,
        fields=[{"name": name} for name in NOTE_FIELDS],
        templates=[{"name": TEMPLATE_NAME, "qfmt": notetype.front, "afmt": notetype.back}],
        css=notetype.css,
        sort_field_index=0,
    )


def note_ids(added: dict[str, int]) -> dict[str, int]:
    """Note ids from each note's first-added second (Anki shows them as "Added"):
    ``added * 1000``, then the next free number for notes added in the same second."""
    ids: dict[str, int] = {}
    previous = 0
    for question_id in sorted(added, key=lambda q: (added[q], q)):
        previous = max(added[question_id] * 1000, previous + 1)
        ids[question_id] = previous
    return ids


def render(context: RenderContext) -> None:
    """Add ``<deck id>.apkg`` with the selected questions to the outputs."""
    lock = context.state["lock"]
    selected = [r.question for r in context.questions]
    recorded = {i: e.position for i, e in lock.notes.items() if e.position}
    data = build_package(
        context.bank,
        selected,
        context.state["notes"],
        context.state["notetype"],
        {q.id: lock.notes[q.id].added for q in selected},
        {q.id: lock.notes[q.id].mod for q in selected},
        lock.notetype_mod,
        context.option("deck_layout", "level"),
        card_positions(context.bank.deck, context.bank.questions, recorded),
    )
    context.outputs.add(context.output_path(".apkg"), data, owner="anki")


def build_package(
    bank: Bank,
    selected: Sequence[Question],
    notes: Mapping[str, NoteContent],
    notetype: NoteType,
    added: Mapping[str, int],
    mods: Mapping[str, int],
    notetype_mod: int,
    layout: str,
    positions: Mapping[str, int],
) -> bytes:
    """The .apkg bytes of ``selected``: each note's ``mod`` from ``mods`` and its id from
    ``added`` (the lock's times), its new card at study position ``positions``, in
    :func:`deck_name`'s deck; retired notes' cards suspended."""
    deck = bank.deck
    model = build_model(deck, notetype)
    titles = topic_titles(bank)
    ids = note_ids({q.id: added[q.id] for q in selected})
    decks: dict[str, genanki.Deck] = {}
    root = genanki.Deck(stable_id("deck", deck.id, deck.title), deck.title, deck.description)
    decks[deck.title] = root
    media: dict[str, bytes] = {}
    for question in selected:
        content = notes[question.id]
        name = deck_name(deck, question, layout, titles)
        if name not in decks:
            decks[name] = genanki.Deck(stable_id("deck", deck.id, name), name)
        decks[name].add_note(
            _TimedNote(
                model=model,
                fields=list(content.fields),
                tags=list(content.tags),
                guid=question_guid(deck, question),
                mod=mods[question.id],
                note_id=ids[question.id],
                due=positions[question.id],
                queue=SUSPENDED if question.retired else NEW_QUEUE,
            )
        )
        for item in content.media:
            media[item.name] = item.data
    package = genanki.Package([decks[name] for name in sorted(decks)])
    return package_bytes(package, notetype_mod, media)


def package_bytes(package: genanki.Package, notetype_mod: int, media: dict[str, bytes]) -> bytes:
    """The .apkg bytes: genanki's tables in memory, zipped with fixed dates and order."""
    database = _database_bytes(package, notetype_mod)
    buffer = io.BytesIO()
    names = sorted(media)
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        _write_entry(archive, "collection.anki2", database)
        index = {str(i): name for i, name in enumerate(names)}
        _write_entry(archive, "media", json.dumps(index, sort_keys=True).encode())
        for i, name in enumerate(names):
            _write_entry(archive, str(i), media[name])
    return buffer.getvalue()


def _write_entry(archive: zipfile.ZipFile, name: str, data: bytes) -> None:
    info = zipfile.ZipInfo(name, date_time=ZIP_DATE)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    archive.writestr(info, data)


def _database_bytes(package: genanki.Package, notetype_mod: int) -> bytes:
    def unused_ids() -> Any:
        raise AssertionError("every id is assigned explicitly")
        yield  # pragma: no cover

    if hasattr(sqlite3.Connection, "serialize"):
        conn = sqlite3.connect(":memory:")
        try:
            package.write_to_db(conn.cursor(), notetype_mod, unused_ids())
            conn.commit()
            return bytes(conn.serialize())  # type: ignore[attr-defined]
        finally:
            conn.close()
    with tempfile.TemporaryDirectory(prefix="exporter-") as folder:  # Python 3.10
        path = Path(folder) / "collection.anki2"
        conn = sqlite3.connect(path)
        try:
            package.write_to_db(conn.cursor(), notetype_mod, unused_ids())
            conn.commit()
        finally:
            conn.close()
        return path.read_bytes()

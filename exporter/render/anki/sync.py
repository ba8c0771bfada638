"""``exporter sync``: the bank applied straight to a learner's collection through Anki's backend.

The bank owns its notes' fields, its ``<prefix>::`` tags, its note type's templates and CSS,
and which deck it put each card in; the learner owns everything else (their own tags,
flags, scheduling, review history, decks they moved cards to, cards they unsuspend).
:func:`plan_sync` compares the bank with the collection and lists what would change, without
writing; :mod:`.apply` makes Anki back the collection up, then applies every change in one
database transaction, so a failure or a kill half-way leaves the collection as it was.

What we last wrote is kept in the collection itself, in Anki's per-collection config under
``interview-deck-exporter:<deck id>``: a short hash of each note's fields (to tell an edit
made in Anki from a change in the bank), the note type's templates and CSS, the deck layout,
and the cards we suspended when retiring. It is written in the same transaction as the
notes, so it can never disagree with them, and it travels with the collection (AnkiWeb).
New notes are added by Anki's own package importer from a package of just those notes,
built by :func:`exporter.render.anki.package.build_package` (so the note type, GUIDs,
fields, tags, decks and media are exactly the ``.apkg``'s), then given study positions in
bank order after the collection's existing new cards.

Nothing here imports ``anki``: the open collection is handed in (see :mod:`.apply`).
"""

from __future__ import annotations

import dataclasses
import hashlib
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from exporter.core.identity import NOTE_FIELDS, TEMPLATE_NAME
from exporter.core.model import Bank, Question
from exporter.render.anki.notes import NoteContent, NoteType
from exporter.render.anki.package import (
    deck_name,
    former_deck_names,
    notetype_id,
    question_guid,
    topic_titles,
)

RECORD_VERSION = 1
COUNTS = (
    "added",
    "updated",
    "moved",
    "suspended",
    "unsuspended",
    "deleted",
    "conflicts",
    "kept",
    "skipped",
    "unchanged",
)
"""The outcomes a sync counts, in the order the summary names them."""
SUSPENDED_QUEUE = -1
NEW_TYPE = 0
_CHUNK = 500
"""Ids per ``in (…)`` query (well under SQLite's variable limit)."""


class SyncError(Exception):
    """The sync cannot run (no backend, collection unusable, note type changed in Anki);
    one line for the user, and nothing was changed."""


class CollectionBusy(SyncError):
    """Another program (Anki, or a sync of its media) holds the collection open."""


def record_key(deck_id: str) -> str:
    """The collection config key holding what the last sync of this deck wrote."""
    return f"interview-deck-exporter:{deck_id}"


def field_hash(values: Iterable[str]) -> str:
    """A short hash of a note's fields as Anki stores them (Unicode NFC, as Anki normalizes)."""
    h = hashlib.sha256()
    for value in values:
        h.update(unicodedata.normalize("NFC", value).encode("utf-8"))
        h.update(b"\x1f")
    return h.hexdigest()[:10]


def _same(a: str, b: str) -> bool:
    return a == b or unicodedata.normalize("NFC", a) == unicodedata.normalize("NFC", b)


@dataclass(frozen=True)
class SyncInput:
    """What the bank says: the questions to apply and everything the package would hold."""

    bank: Bank
    questions: Sequence[Question]
    """The selected questions (retired ones included), in bank order."""
    notes: Mapping[str, NoteContent]
    notetype: NoteType
    added: Mapping[str, int]
    mods: Mapping[str, int]
    notetype_mod: int
    positions: Mapping[str, int] = field(default_factory=dict)
    """Study positions recorded in the lock (:func:`~exporter.render.anki.notes.card_positions`)."""
    layout: str = "level"
    whole_bank: bool = True
    """No ``--level``/``--tag`` filter: notes of our note type missing from the bank are
    reported."""


@dataclass(frozen=True)
class Move:
    """One card moved from the deck we put it in to the deck it now belongs in."""

    card_id: int
    from_deck: str
    to_deck: str


@dataclass
class NoteAction:
    """What the sync does to one question's note."""

    question: Question
    guid: str
    kind: str
    """add | update | unchanged | delete | skip (see :attr:`reason`)."""
    note_id: int | None = None
    deck: str = ""
    """The deck the bank puts the note's cards in."""
    fields: tuple[str, ...] = ()
    """Field names whose text changes."""
    tags_added: tuple[str, ...] = ()
    tags_removed: tuple[str, ...] = ()
    new_tags: tuple[str, ...] = ()
    moves: tuple[Move, ...] = ()
    suspend: tuple[int, ...] = ()
    unsuspend: tuple[int, ...] = ()
    conflict: dict[str, tuple[str, str]] = field(default_factory=dict)
    """Fields edited in Anki since the last sync: name → (text in Anki, text in the bank)."""
    kept: bool = False
    """``--keep-anki-edits``: the conflicting fields are left as the learner wrote them."""
    reason: str = ""

    @property
    def id(self) -> str:
        """The question id."""
        return self.question.id

    @property
    def changed(self) -> bool:
        """Whether anything is written for this note."""
        return (
            self.kind in ("add", "delete")
            or bool(self.fields or self.tags_added or self.tags_removed or self.moves)
            or bool(self.suspend or self.unsuspend)
        )

    def describe(self) -> list[str]:
        """Lines for the terminal: the action, then each conflicting field's two texts."""
        qid = self.id
        if self.kind == "add":
            lines = [f"+ {qid}: add → {self.deck}"]
        elif self.kind == "delete":
            lines = [f"x {qid}: delete (retired)"]
        elif self.kind == "skip":
            lines = [f"  {qid}: skipped ({self.reason})"]
        elif not self.changed and not self.conflict:
            lines = [f"= {qid}: unchanged"]
        else:
            parts = []
            if self.fields:
                parts.append("fields " + ", ".join(self.fields))
            if self.tags_added or self.tags_removed:
                tags = [f"+{t}" for t in self.tags_added] + [f"-{t}" for t in self.tags_removed]
                parts.append("tags " + " ".join(tags))
            for move in self.moves:
                parts.append(f"move {move.from_deck} → {move.to_deck}")
            if self.suspend:
                parts.append(f"suspend {len(self.suspend)} card(s) (retired)")
            if self.unsuspend:
                parts.append(f"unsuspend {len(self.unsuspend)} card(s) (no longer retired)")
            if self.kept:
                parts.append("your edits in Anki kept (--keep-anki-edits)")
            sign = "!" if self.conflict else "-" if self.suspend else "~"
            lines = [f"{sign} {qid}: update ({'; '.join(parts) or 'nothing else'})"]
        if self.conflict:
            verb = "kept" if self.kept else "replaced by the bank's"
            lines.append(f"  conflict: edited in Anki since the last sync ({verb})")
            for name, (anki_text, bank_text) in self.conflict.items():
                lines.append(f"    {name} in Anki: {anki_text}")
                lines.append(f"    {name} in the bank: {bank_text}")
        return lines

    def as_dict(self) -> dict[str, Any]:
        """The action as JSON-ready data."""
        return {
            "id": self.id,
            "guid": self.guid,
            "action": self.kind if self.kind != "update" or self.changed else "unchanged",
            "deck": self.deck,
            "fields": list(self.fields),
            "tags_added": list(self.tags_added),
            "tags_removed": list(self.tags_removed),
            "moves": [
                {"card": m.card_id, "from": m.from_deck, "to": m.to_deck} for m in self.moves
            ],
            "suspend": len(self.suspend),
            "unsuspend": len(self.unsuspend),
            "conflict": {n: {"anki": a, "bank": b} for n, (a, b) in self.conflict.items()},
            "kept_anki_edits": self.kept,
            "reason": self.reason,
        }


@dataclass
class NotetypeAction:
    """What the sync does to the note type's templates and CSS."""

    name: str
    exists: bool
    changed: tuple[str, ...] = ()
    """Parts whose text changes: front, back, css."""
    tweaked: bool = False
    """The learner changed those parts in Anki since the last sync."""
    kept: bool = False

    def describe(self) -> str | None:
        """A line for the terminal, or None when nothing changes."""
        if not self.exists or not self.changed:
            return None
        parts = ", ".join(self.changed)
        if self.tweaked and self.kept:
            return f"! note type '{self.name}': your changes in Anki to {parts} kept"
        if self.tweaked:
            return (
                f"! note type '{self.name}': {parts} updated, replacing your changes made "
                "in Anki since the last sync"
            )
        return f"~ note type '{self.name}': {parts} updated"


@dataclass
class SyncPlan:
    """Everything a sync would change, computed against the real collection."""

    actions: list[NoteAction]
    notetype: NotetypeAction
    record: dict[str, Any]
    record_changed: bool
    orphans: list[str] = field(default_factory=list)
    """Question ids of notes of our note type that the bank no longer has (left alone)."""
    adopted: int = 0
    """Notes found without a record of a previous sync (imported from a package)."""

    @property
    def changes_anything(self) -> bool:
        """Whether applying writes anything to the collection."""
        notetype_writes = bool(self.notetype.changed) and not self.notetype.kept
        return any(a.changed for a in self.actions) or notetype_writes or self.record_changed

    def counts(self) -> dict[str, int]:
        """Notes per outcome, like Anki's import log."""
        counts = dict.fromkeys(COUNTS, 0)
        for a in self.actions:
            if a.kind == "add":
                counts["added"] += 1
            elif a.kind == "delete":
                counts["deleted"] += 1
            elif a.kind == "skip":
                counts["skipped"] += 1
            else:
                counts["updated"] += bool(a.fields or a.tags_added or a.tags_removed)
                counts["moved"] += bool(a.moves)
                counts["suspended"] += bool(a.suspend)
                counts["unsuspended"] += bool(a.unsuspend)
                counts["kept"] += a.kept
                counts["unchanged"] += not a.changed
            counts["conflicts"] += bool(a.conflict)
        return counts

    def summary(self) -> str:
        """``3 added, 2 updated, 1 moved, 1 suspended, 1 conflict, 74 unchanged``."""
        counts = self.counts()
        always = ("added", "updated", "moved", "suspended", "conflicts", "unchanged")
        parts = []
        for name, n in counts.items():
            if n or name in always:
                label = "conflict" if name == "conflicts" and n == 1 else name
                parts.append(f"{n} {label}")
        return ", ".join(parts)


def _chunks(values: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for start in range(0, len(values), _CHUNK):
        yield values[start : start + _CHUNK]


@dataclass
class ExistingNote:
    """A note of the collection as read for planning: its fields, tags and cards."""

    note_id: int
    notetype: int
    fields: list[str]
    tags: list[str]
    cards: list[tuple[int, int, int, int]] = field(default_factory=list)
    """(card id, deck id, queue, type) per card."""


def existing_notes(col: Any, guids: Sequence[str]) -> dict[str, ExistingNote]:
    """The collection's notes with these GUIDs, with their cards (a few queries)."""
    found: dict[str, ExistingNote] = {}
    for chunk in _chunks(list(guids)):
        marks = ",".join("?" * len(chunk))
        rows = col.db.all(
            f"select id, guid, mid, flds, tags from notes where guid in ({marks})", *chunk
        )
        for nid, guid, mid, flds, tags in rows:
            found[guid] = ExistingNote(nid, mid, flds.split("\x1f"), tags.split())
    by_nid = {e.note_id: e for e in found.values()}
    for chunk in _chunks(list(by_nid)):
        marks = ",".join("?" * len(chunk))
        rows = col.db.all(
            f"select id, nid, did, queue, type from cards where nid in ({marks}) order by ord",
            *chunk,
        )
        for cid, nid, did, queue, ctype in rows:
            by_nid[nid].cards.append((cid, did, queue, ctype))
    return found


def _notetype_parts(model: Mapping[str, Any]) -> tuple[str, str, str] | None:
    for template in model.get("tmpls", []):
        if template.get("name") == TEMPLATE_NAME:
            return str(template["qfmt"]), str(template["afmt"]), str(model.get("css", ""))
    return None


def check_notetype(model: Mapping[str, Any]) -> None:
    """Refuse a note type whose fields or card templates were changed in Anki: writing
    through it would need a schema change (a one-way sync to AnkiWeb)."""
    names = [f["name"] for f in model.get("flds", [])]
    templates = [t["name"] for t in model.get("tmpls", [])]
    if names != list(NOTE_FIELDS) or templates != [TEMPLATE_NAME]:
        raise SyncError(
            f"the note type '{model.get('name')}' in the collection has fields "
            f"{', '.join(names)} and cards {', '.join(templates)} (changed in Anki); sync needs "
            f"fields {', '.join(NOTE_FIELDS)} and the card {TEMPLATE_NAME!r}; nothing changed"
        )


def plan_sync(
    col: Any, given: SyncInput, keep_anki_edits: bool = False, delete_retired: bool = False
) -> SyncPlan:
    """Compare the bank with the open collection ``col``; nothing is written."""
    deck = given.bank.deck
    prefix = deck.tag_prefix.lower() + "::"
    titles = topic_titles(given.bank)
    rank = {topic.id: i for i, topic in enumerate(given.bank.taxonomy.topics)}
    old_record: dict[str, Any] = col.get_config(record_key(deck.id), None) or {}
    hashes: dict[str, str] = dict(old_record.get("notes", {}))
    suspended_by_us: dict[str, list[int]] = dict(old_record.get("suspended", {}))
    previous_layout = str(old_record.get("layout", given.layout))

    ntid = notetype_id(deck)
    model = col.models.get(ntid)
    if model is not None:
        check_notetype(model)
    notetype = _plan_notetype(model, given.notetype, old_record, keep_anki_edits)

    guids = {q.id: question_guid(deck, q) for q in given.questions}
    existing = existing_notes(col, list(guids.values()))
    deck_names = {d.id: d.name for d in col.decks.all_names_and_ids()}
    actions: list[NoteAction] = []
    adopted = 0
    for question in given.questions:
        guid = guids[question.id]
        content = given.notes[question.id]
        target = deck_name(deck, question, given.layout, titles)
        note = existing.get(guid)
        if note is None:
            if question.retired or guid in hashes:
                reason = (
                    "retired, not in the collection"
                    if question.retired
                    else "deleted in Anki since an earlier sync; not added again"
                )
                actions.append(NoteAction(question, guid, "skip", deck=target, reason=reason))
            else:
                actions.append(NoteAction(question, guid, "add", deck=target))
                hashes[guid] = field_hash(content.fields)
            continue
        if note.notetype != ntid:
            name = (col.models.get(note.notetype) or {}).get("name", note.notetype)
            reason = f"its note in Anki has the note type '{name}'"
            actions.append(NoteAction(question, guid, "skip", note.note_id, target, reason=reason))
            continue
        if question.retired and delete_retired:
            actions.append(NoteAction(question, guid, "delete", note.note_id, target))
            hashes.pop(guid, None)
            suspended_by_us.pop(guid, None)
            continue
        recorded = hashes.get(guid)
        adopted += recorded is None
        action = _plan_note(question, guid, note, content, target, recorded, keep_anki_edits)
        ours = [t for t in note.tags if t.lower().startswith(prefix)]
        mine = [t for t in note.tags if not t.lower().startswith(prefix)]
        old_ours = {t.lower() for t in ours}
        new_ours = {t.lower() for t in content.tags}
        action.tags_added = tuple(t for t in content.tags if t.lower() not in old_ours)
        action.tags_removed = tuple(t for t in ours if t.lower() not in new_ours)
        action.new_tags = tuple(mine) + content.tags
        previous = _previous_state(question, ours, prefix, rank)
        ours_before = (
            (
                deck_name(deck, previous, previous_layout, titles),
                *former_deck_names(deck, previous, previous_layout),
            )
            if previous is not None
            else ()
        )
        action.moves = tuple(
            Move(cid, deck_names[did], target)
            for cid, did, _, _ in note.cards
            if deck_names.get(did) in ours_before and deck_names[did] != target
        )
        newly_retired = question.retired and (previous is None or not previous.retired)
        if newly_retired:  # a card the learner unsuspends after that is theirs to study
            action.suspend = tuple(cid for cid, _, q, _ in note.cards if q != SUSPENDED_QUEUE)
            if action.suspend:
                suspended_by_us[guid] = sorted({*suspended_by_us.get(guid, []), *action.suspend})
        elif not question.retired and guid in suspended_by_us:
            ours_suspended = set(suspended_by_us.pop(guid))
            action.unsuspend = tuple(
                cid for cid, _, q, _ in note.cards if q == SUSPENDED_QUEUE and cid in ours_suspended
            )
        # a kept conflict keeps the old hash: it is reported again until resolved
        hashes[guid] = (recorded or "") if action.kept else field_hash(content.fields)
        actions.append(action)

    bank_notetype = (given.notetype.front, given.notetype.back, given.notetype.css)
    record = {
        "version": RECORD_VERSION,
        "layout": given.layout,
        "notetype": old_record.get("notetype") if notetype.kept else field_hash(bank_notetype),
        "notes": dict(sorted(hashes.items())),
        "suspended": dict(sorted(suspended_by_us.items())),
    }
    orphans = _orphans(col, ntid, set(guids.values())) if given.whole_bank else []
    return SyncPlan(actions, notetype, record, record != old_record, orphans, adopted)


def _plan_note(
    question: Question,
    guid: str,
    note: ExistingNote,
    content: NoteContent,
    target: str,
    recorded: str | None,
    keep_anki_edits: bool,
) -> NoteAction:
    anki_fields = note.fields[: len(NOTE_FIELDS)]
    anki_fields += [""] * (len(NOTE_FIELDS) - len(anki_fields))
    differs = [
        name
        for name, anki_text, bank_text in zip(NOTE_FIELDS, anki_fields, content.fields, strict=True)
        if not _same(anki_text, bank_text)
    ]
    action = NoteAction(question, guid, "update", note.note_id, target)
    edited = recorded is not None and field_hash(anki_fields) != recorded
    if edited and differs:
        index = {name: i for i, name in enumerate(NOTE_FIELDS)}
        action.conflict = {n: (anki_fields[index[n]], content.fields[index[n]]) for n in differs}
        if keep_anki_edits:
            action.kept = True
            return action
    action.fields = tuple(differs)
    return action


def _previous_state(
    question: Question, ours: Sequence[str], prefix: str, rank: Mapping[str, int]
) -> Question | None:
    """The question as our tags in the collection say it was when we last wrote it (its
    level, topics, retired), to find the deck we put its cards in; None without a level tag."""
    level = None
    topics = []
    retired = False
    for tag in ours:
        rest = tag[len(prefix) :]
        if rest.lower().startswith("level::"):
            level = rest[len("level::") :]
        elif rest.lower().startswith("topic::"):
            topics.append(rest[len("topic::") :])
        elif rest.lower() == "retired":
            retired = True
    if level is None:
        return None
    now = (question.level, sorted(question.topics), question.retired)
    if (level, sorted(topics), retired) == now:
        return question
    topics.sort(key=lambda topic: (rank.get(topic, len(rank)), topic))  # taxonomy order
    return dataclasses.replace(question, level=level, topics=tuple(topics), retired=retired)


def _plan_notetype(
    model: Mapping[str, Any] | None,
    notetype: NoteType,
    old_record: Mapping[str, Any],
    keep_anki_edits: bool,
) -> NotetypeAction:
    if model is None:
        return NotetypeAction(notetype.name, exists=False)
    current = _notetype_parts(model) or ("", "", "")
    bank = (notetype.front, notetype.back, notetype.css)
    changed = tuple(
        name
        for name, a, b in zip(("front", "back", "css"), current, bank, strict=True)
        if not _same(a, b)
    )
    recorded = old_record.get("notetype")
    tweaked = bool(changed) and recorded is not None and field_hash(current) != recorded
    kept = tweaked and keep_anki_edits
    return NotetypeAction(str(model.get("name", notetype.name)), True, changed, tweaked, kept)


def _orphans(col: Any, ntid: int, guids: set[str]) -> list[str]:
    rows = col.db.all("select guid, flds from notes where mid = ?", ntid)
    found = []
    for guid, flds in rows:
        if guid not in guids:
            values = flds.split("\x1f")
            found.append(values[3] if len(values) > 3 else guid)
    return sorted(found)

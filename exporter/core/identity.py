"""How things are named for good: question ids, Anki GUIDs and ids, and the frozen names of
the note type's fields and template (renaming any of them breaks learners' decks)."""

from __future__ import annotations

import hashlib
import re

ID_PATTERN = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
"""A valid id (question, deck, level, tag): lowercase letters, digits and single hyphens."""
MAX_ID_CHARS = 64
"""The longest id (E007): the deck id names every output file (a file name has at most
255 bytes), and ids are read by people in tags and messages."""

NOTE_FIELDS = ("Question", "Answer", "Details", "Id", "Source")
"""The note type's field names. Frozen: renaming one is a schema change in Anki."""

TEMPLATE_NAME = "Question → Answer"
"""The card template's name. Frozen, like the field names."""


def note_guid(deck_id: str, question_id: str) -> str:
    """The note's GUID: stable across edits of the text, unique per deck and question."""
    import genanki  # only where GUIDs are made: validation never needs it

    return str(genanki.guid_for(deck_id, question_id))


def stable_id(*parts: str) -> int:
    """A positive id below 2**52 derived from names: never random, never the clock."""
    digest = hashlib.sha256("\x1f".join(parts).encode("utf-8")).digest()
    return (int.from_bytes(digest[:7], "big") >> 4) | (1 << 40)

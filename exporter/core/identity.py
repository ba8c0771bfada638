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


MAX_SLUG_LENGTH = 60
"""Ids made from a question are cut (at a word boundary) to at most this many characters."""

_LEADING_WORDS = frozenset(
    "what whats which why how when where who whom is are was were do does did can could "
    "would should will shall you your we i explain describe discuss define list name state "
    "give mention tell me us about the a an some of by mean meaning exactly briefly please "
    "know understand".split()
)
_ARTICLES = frozenset({"a", "an", "the"})
_TRAILING_WORDS = frozenset("and or of in on to for with by vs from at between than as".split())


def slugify(text: str, max_length: int = MAX_SLUG_LENGTH, question: bool = True) -> str:
    """The id a question gets, the same from ``exporter new`` and ``exporter import``.

    Lowercase ASCII words joined by hyphens, leading question words and articles left out
    (``What is a perceptron?`` → ``perceptron``, ``What is a GRU?`` → ``gru``), at most
    ``max_length`` characters cut between words (a hyphenated word stays whole, and a cut
    never ends on ``and``/``of``/…). Empty when no letter or digit is left (``日本語``).
    ``question=False`` keeps every word (for names such as a file's stem).
    """
    import unicodedata

    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    ascii_text = re.sub(r"(?<=[a-z0-9])['’](?=[a-z])", "", ascii_text.lower())
    tokens = [t for t in ("-".join(re.findall(r"[a-z0-9]+", w)) for w in ascii_text.split()) if t]
    start = 0
    while question and start < len(tokens) - 1 and tokens[start] in _LEADING_WORDS:
        start += 1
    kept = [t for t in tokens[start:] if not question or t not in _ARTICLES] or tokens[start:]
    chosen: list[str] = []
    for token in kept:
        if len("-".join([*chosen, token])) > max_length:
            while len(chosen) > 1 and chosen[-1] in _TRAILING_WORDS:
                chosen.pop()
            break
        chosen.append(token)
    slug = "-".join(chosen)
    if not slug and kept:
        slug = kept[0][:max_length].strip("-")
    return slug


def unique_id(base: str, taken: set[str] | frozenset[str]) -> str:
    """``base``, or ``base-2``, ``base-3`` … whichever is not taken first."""
    if base not in taken:
        return base
    number = 2
    while f"{base}-{number}" in taken:
        number += 1
    return f"{base}-{number}"

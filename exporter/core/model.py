"""The validated bank as frozen values: a deck, its taxonomy and its questions. No I/O."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from exporter.core.diagnostics import Location

QUESTION_FIELDS = (
    "id",
    "level",
    "question",
    "answer",
    "key",
    "details",
    "tags",
    "seed",
    "retired",
    "guid",
)
"""Every key a question may have, in the order the README documents them."""
MARKDOWN_FIELDS = ("question", "key", "answer", "details")
"""The question keys whose values are Markdown."""
INLINE_FIELDS = frozenset({"question", "key"})
"""The Markdown keys that are one inline line (no blocks)."""


@dataclass(frozen=True)
class SeedInfo:
    """The source material questions refer to with ``seed:`` numbers."""

    title: str
    questions: int


@dataclass(frozen=True)
class Deck:
    """Identity and presentation of a bank (``deck.yaml``)."""

    id: str
    title: str
    description: str
    levels: tuple[str, ...]
    location: Location
    seed: SeedInfo | None = None
    tag_prefix: str = ""
    answer_word_limit: int = 80
    build: tuple[tuple[str, Any, Location], ...] = ()
    """The ``build:`` section: ``(setting, value, where)`` for each setting the file gives
    (see :mod:`exporter.core.settings`)."""

    def level_title(self, level: str) -> str:
        """A level's display name: ``intermediate`` → ``Intermediate``."""
        return level.replace("-", " ").capitalize()


@dataclass(frozen=True)
class Topic:
    """One taxonomy tag with its auto-tagging rules."""

    id: str
    title: str
    description: str
    match: tuple[str, ...]
    location: Location


@dataclass(frozen=True)
class Taxonomy:
    """The ordered topics of a bank (``taxonomy.yaml``)."""

    topics: tuple[Topic, ...]

    @property
    def ids(self) -> tuple[str, ...]:
        """Topic ids in declaration order."""
        return tuple(topic.id for topic in self.topics)

    def get(self, topic_id: str) -> Topic | None:
        """The topic with this id, if declared."""
        for topic in self.topics:
            if topic.id == topic_id:
                return topic
        return None


@dataclass(frozen=True)
class Question:
    """One card's content, with the location of every field for later diagnostics."""

    id: str
    level: str
    question: str
    answer: str
    location: Location
    details: str = ""
    key: str = ""
    """The key fact in one or two lines (inline Markdown), for the cheat sheet."""
    tags: tuple[str, ...] = ()
    seed: tuple[int, ...] = ()
    retired: bool = False
    guid: str | None = None
    """An Anki note GUID kept from an imported deck, so re-exports update those notes."""
    field_locations: Mapping[str, Location] = field(default_factory=dict)
    text_locations: Mapping[str, Location] = field(default_factory=dict)
    """Where each Markdown field's text starts (the line after ``|`` for block scalars)."""
    topics: tuple[str, ...] = ()
    """Explicit and auto-derived topic tags, in taxonomy order (filled by tagging)."""

    def where(self, field_name: str) -> Location:
        """The location of a field's value, or of the question when it has none."""
        return self.field_locations.get(field_name, self.location)

    def text_where(self, field_name: str, line_offset: int = 0) -> Location:
        """The location of line ``line_offset`` of a Markdown field's text."""
        base = self.text_locations.get(field_name)
        if base is None:
            return self.where(field_name)
        return Location(base.path, base.line + line_offset, base.col)


@dataclass(frozen=True)
class Bank:
    """A whole validated source: deck, taxonomy and questions in source order."""

    deck: Deck
    taxonomy: Taxonomy
    questions: tuple[Question, ...]

    @property
    def active(self) -> tuple[Question, ...]:
        """The questions that are not retired."""
        return tuple(q for q in self.questions if not q.retired)

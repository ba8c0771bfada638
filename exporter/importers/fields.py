"""From note fields (HTML or plain text), tags and a deck name to an imported question.

Shared by the CSV/TSV and the .apkg importers: both see notes as a front, a back, maybe
more fields, Anki tags, a deck and a GUID.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from exporter.importers.common import (
    ImportedQuestion,
    ImportOptions,
    ImportResult,
    escape_markdown,
    excerpt,
    map_tags,
)
from exporter.importers.htmlmd import html_to_markdown, looks_like_html
from exporter.importers.text import render_lines

_CLOZE = re.compile(r"\{\{c\d+::")


def field_markdown(
    value: str, html: bool | None, origin: str, name: str, result: ImportResult
) -> str:
    """A field as Markdown: simple HTML converted, complex HTML kept (and reported), plain
    text escaped with its lists and tables recognised. ``html=None``: guess from the text."""
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    if html is None:
        html = looks_like_html(value)
    if html:
        converted = html_to_markdown(value)
        if converted is None:
            result.html_kept.append(f"{origin} {name}")
            return value.strip()
        return converted
    lines = value.split("\n")
    wrapped = any(not line.strip() for line in lines[1:-1])
    return render_lines(lines, wrapped)


def split_question(markdown: str) -> tuple[str, str]:
    """A question's first block on one line, and the blocks after it (for the answer)."""
    blocks = [b for b in re.split(r"\n\s*\n", markdown.strip()) if b.strip()]
    if not blocks:
        return "", ""
    first = re.sub(r"\\\n", " ", blocks[0])
    return " ".join(first.split()), "\n\n".join(blocks[1:])


@dataclass(frozen=True)
class NoteInput:
    """One note or row as the importers read it."""

    origin: str
    fields: Sequence[tuple[str, str]]
    """``(name, value)`` in order: the first is the front, the second the back."""
    tags: Sequence[str] = ()
    deck: str | None = None
    guid: str | None = None
    notetype: str | None = None
    cloze: bool = False
    preferred_id: str | None = None
    level: str | None = None
    html: bool | None = None


def level_for(
    note: NoteInput, tag_level: str | None, options: ImportOptions, result: ImportResult
) -> str:
    """The note's level: an explicit level, ``--map-level`` for its deck, a level tag, a deck
    named like a level, else the default."""
    if note.level:
        known = options.level_named(note.level)
        if known:
            return known
        result.notes.append(f"{note.origin}: unknown level {note.level!r} ignored")
    if note.deck:
        mapped = options.mapped_level(note.deck)
        if mapped:
            result.levels_by_name[note.deck] = mapped
            return mapped
    if tag_level:
        return tag_level
    if note.deck:
        named = options.level_named(note.deck)
        if named:
            result.levels_by_name[note.deck] = named
            return named
    return options.default_level


def note_question(note: NoteInput, options: ImportOptions, result: ImportResult) -> None:
    """Add the question a note makes to ``result``, or record why it was skipped."""
    values = [(name, value) for name, value in note.fields]
    front = values[0][1] if values else ""
    label = excerpt(re.sub(r"<[^>]+>", " ", front)) or note.origin
    if (
        note.cloze
        or (note.notetype and "cloze" in note.notetype.casefold())
        or _CLOZE.search(front)
    ):
        result.skip("note", label, f"{note.origin}: cloze notes are not supported")
        return
    if len(values) < 2:
        result.skip("note", label, f"{note.origin}: needs a front and a back")
        return
    question_md = field_markdown(front, note.html, note.origin, "front", result)
    question, extra = split_question(question_md)
    answer = field_markdown(values[1][1], note.html, note.origin, "back", result)
    if not question:
        result.skip("note", label, f"{note.origin}: empty front")
        return
    if not answer.strip():
        result.skip("note", label, f"{note.origin}: empty back")
        return
    if extra:
        answer = f"{extra}\n\n{answer}"
        result.notes.append(
            f"{note.origin}: the front has several paragraphs; the rest opens the answer"
        )
    details_parts = []
    extras = [(name, value) for name, value in values[2:] if value.strip()]
    for name, value in extras:
        converted = field_markdown(value, note.html, note.origin, name, result)
        if not converted.strip():
            continue
        if len(extras) > 1:
            converted = f"**{escape_markdown(name)}**\n\n{converted}"
        details_parts.append(converted)
    mapped = map_tags(note.tags, options)
    result.dropped_tags.update(mapped.dropped)
    result.questions.append(
        ImportedQuestion(
            question=question,
            answer=answer,
            details="\n\n".join(details_parts),
            origin=note.origin,
            level=level_for(note, mapped.level, options, result),
            tags=mapped.tags,
            retired=mapped.retired,
            guid=note.guid or None,
            preferred_id=note.preferred_id,
        )
    )

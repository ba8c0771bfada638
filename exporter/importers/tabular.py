"""CSV and TSV: Anki's "Notes in Plain Text" export, or a spreadsheet with an optional
header row.

Anki's export starts with ``#key:value`` lines (``#separator:tab``, ``#html:true``,
``#tags column:3``, ``#guid column:1``, ``#notetype column:2``, ``#deck column:3``,
``#columns:…``, ``#deck:…``); the remaining columns are the note's fields in order. Without
them, a first row naming the columns (front/back/question/answer/tags/…) is a header;
otherwise the columns are front, back, tags and then extra fields (details).
"""

from __future__ import annotations

import csv
import dataclasses
import io
import re
from collections.abc import Sequence
from pathlib import Path

from exporter.importers.common import ImportFailed, ImportOptions, ImportResult
from exporter.importers.fields import NoteInput, note_question
from exporter.importers.text import read_text

SEPARATORS = {
    "tab": "\t",
    "comma": ",",
    "semicolon": ";",
    "space": " ",
    "pipe": "|",
    "colon": ":",
}
"""Anki's names for ``#separator:``."""
HEADER_NAMES = {
    "front": "question",
    "question": "question",
    "q": "question",
    "prompt": "question",
    "back": "answer",
    "answer": "answer",
    "a": "answer",
    "tags": "tags",
    "tag": "tags",
    "details": "details",
    "extra": "details",
    "back extra": "details",
    "notes": "details",
    "explanation": "details",
    "id": "id",
    "guid": "guid",
    "level": "level",
    "deck": "deck",
    "notetype": "notetype",
    "note type": "notetype",
}
"""Column names recognised in a header row, and the role each gives its column."""
_DIRECTIVE = re.compile(r"^#([a-z ]+):(.*)$", re.I)


def import_table(path: Path, options: ImportOptions, separator: str | None = None) -> ImportResult:
    """Questions from a CSV/TSV file; ``separator`` None detects it (``\\t`` for TSV)."""
    text, note = read_text(path)
    result = parse_table(text, options, separator)
    if note:
        result.notes.insert(0, note)
    return result


def _directives(lines: list[str]) -> tuple[dict[str, str], int]:
    found: dict[str, str] = {}
    count = 0
    for line in lines:
        match = _DIRECTIVE.match(line.strip())
        if not match:
            break
        found[" ".join(match.group(1).lower().split())] = match.group(2).strip()
        count += 1
    return found, count


def _separator(value: str) -> str:
    named = SEPARATORS.get(value.strip().lower())
    if named:
        return named
    if len(value) == 1:
        return value
    raise ImportFailed(f"unknown #separator:{value}", code=1)


def _column(directives: dict[str, str], key: str) -> int | None:
    value = directives.get(key)
    if value is None:
        return None
    try:
        number = int(value)
    except ValueError as exc:
        raise ImportFailed(f"#{key}:{value} is not a column number", code=1) from exc
    if number < 1:
        raise ImportFailed(f"#{key}:{value} must be at least 1", code=1)
    return number - 1


def _sniff(body: str) -> str:
    sample = body[:8192]
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
    except csv.Error:
        return "\t" if sample.count("\t") > sample.count(",") else ","


def _roles_from_header(cells: Sequence[str]) -> list[str] | None:
    names = [" ".join(c.strip().lower().split()) for c in cells]
    if not any(names) or not all(n in HEADER_NAMES or not n for n in names):
        return None
    roles = [HEADER_NAMES.get(n, "") for n in names]
    return roles if "question" in roles else None


def parse_table(text: str, options: ImportOptions, separator: str | None = None) -> ImportResult:
    """Questions from CSV/TSV text (see the module documentation)."""
    result = ImportResult("csv" if separator != "\t" else "tsv")
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    lines = text.split("\n")
    directives, skip = _directives(lines)
    body = "\n".join(lines[skip:])
    if "separator" in directives:
        separator = _separator(directives["separator"])
    elif separator is None:
        separator = "\t" if directives else _sniff(body)
    result.format = "tsv" if separator == "\t" else "csv"
    html_value = directives.get("html", "").lower()
    html = True if html_value == "true" else False if html_value == "false" else None
    csv.field_size_limit(16 * 1024 * 1024)
    rows = list(csv.reader(io.StringIO(body), delimiter=separator, quotechar='"', strict=False))
    rows = [row for row in rows if any(cell.strip() for cell in row)]
    if not rows:
        raise ImportFailed("no rows found", code=1)

    roles: list[str] | None = None
    first_row = 1 + skip
    if "columns" in directives:
        roles = _roles_from_header(directives["columns"].split(separator))
    if roles is None and not any(k.endswith(" column") for k in directives):
        roles = _roles_from_header(rows[0])
        if roles is not None:
            result.notes.append("the first row names the columns: " + ", ".join(rows[0]))
            rows = rows[1:]
            first_row += 1
    special = {
        key: _column(directives, f"{key} column") for key in ("guid", "notetype", "deck", "tags")
    }
    fixed_deck = directives.get("deck")
    fixed_notetype = directives.get("notetype")
    for number, row in enumerate(rows, start=first_row):
        origin = f"row {number}"
        if roles is not None:
            note = _note_from_roles(row, roles, origin, html)
        else:
            note = _note_from_positions(row, special, origin, html, bool(directives))
        if fixed_deck and note.deck is None:
            note = dataclasses.replace(note, deck=fixed_deck)
        if fixed_notetype and note.notetype is None:
            note = dataclasses.replace(note, notetype=fixed_notetype)
        note_question(note, options, result)
    return result


def _cell(row: Sequence[str], index: int | None) -> str | None:
    if index is None or index >= len(row):
        return None
    return row[index]


def _note_from_roles(
    row: Sequence[str], roles: Sequence[str], origin: str, html: bool | None
) -> NoteInput:
    values: dict[str, str] = {}
    details: list[tuple[str, str]] = []
    for role, value in zip(roles, row, strict=False):
        if role == "details":
            details.append(("Details", value))
        elif role and role not in values:
            values[role] = value
    fields = [("Front", values.get("question", "")), ("Back", values.get("answer", ""))]
    return NoteInput(
        origin=origin,
        fields=fields + details,
        tags=values.get("tags", "").split(),
        deck=values.get("deck") or None,
        guid=values.get("guid", "").strip() or None,
        notetype=values.get("notetype") or None,
        preferred_id=values.get("id", "").strip() or None,
        level=values.get("level", "").strip() or None,
        html=html,
    )


def _note_from_positions(
    row: Sequence[str],
    special: dict[str, int | None],
    origin: str,
    html: bool | None,
    anki_export: bool,
) -> NoteInput:
    taken = {index for index in special.values() if index is not None}
    tags_index = special["tags"]
    if not anki_export and tags_index is None and len(row) >= 3:
        tags_index = 2
        taken.add(2)
    fields = [value for index, value in enumerate(row) if index not in taken]
    names = ["Front", "Back"] + [f"Field {n}" for n in range(3, len(fields) + 1)]
    tags = _cell(row, tags_index) or ""
    return NoteInput(
        origin=origin,
        fields=list(zip(names, fields, strict=False)),
        tags=tags.split(),
        deck=_cell(row, special["deck"]),
        guid=(_cell(row, special["guid"]) or "").strip() or None,
        notetype=_cell(row, special["notetype"]),
        html=html,
    )

"""What every importer shares: options, results, tag and level mapping, ids, Markdown
escaping and the layout of the new question file (written by :mod:`exporter.core.yamlwrite`).

No I/O here except nothing: importers read their input, the command writes the output.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from exporter.core import yamlwrite
from exporter.core.identity import ID_PATTERN, slugify

BLOCK_FIELDS = frozenset({"answer", "details"})
"""The fields written as ``|`` block text."""


class ImportFailed(Exception):
    """The input cannot be imported; ``code`` is the exit code (1 problems, 2 usage/I/O)."""

    def __init__(self, message: str, code: int = 2, located: bool = False) -> None:
        super().__init__(message)
        self.code = code
        self.located = located
        """Whether the message is already a ``path:line:col: CODE …`` diagnostic line."""


MAX_IMPORT_BYTES = 20 * 1024 * 1024
"""A text, CSV or TSV file larger than this is not imported (counted in bytes read)."""
MAX_PACKAGE_BYTES = 512 * 1024 * 1024
"""An .apkg whose members would inflate to more than this in total is not opened."""


def unreadable(path: Path, exc: OSError) -> ImportFailed:
    """The located E017 for an input file that cannot be read or is refused (a FIFO, a
    device, too large): exit code 2."""
    from exporter.core.diagnostics import display_path
    from exporter.core.files import FileRefused

    reason = f"file {exc.strerror}" if isinstance(exc, FileRefused) else exc.strerror or str(exc)
    return ImportFailed(f"{display_path(path)}:1:1: E017 cannot import: {reason}", located=True)


def read_input(path: Path, limit: int = MAX_IMPORT_BYTES) -> bytes:
    """An input file's bytes: a regular file only (never a FIFO or a device), at most
    ``limit`` bytes actually read; :func:`unreadable` otherwise."""
    from exporter.core.files import read_bytes

    try:
        return read_bytes(path, limit)
    except OSError as exc:
        raise unreadable(path, exc) from exc


def normalize_name(name: str) -> str:
    """A heading or deck name for matching: case-folded, single spaces, no outer punctuation."""
    return " ".join(name.replace("\u00a0", " ").split()).strip(" :.-–—").casefold()


@dataclass(frozen=True)
class ImportOptions:
    """What the importers need to know about the target bank and the user's choices."""

    levels: tuple[str, ...]
    """The deck's levels, in order."""
    default_level: str
    """The level of questions nothing else assigns one to."""
    topics: tuple[str, ...] = ()
    """The taxonomy's tag ids."""
    level_map: Mapping[str, str] = field(default_factory=dict)
    """``--map-level``: normalised heading or deck name → level."""
    level_from_headings: bool = False
    """Text: the 1st, 2nd, … section heading gets the 1st, 2nd, … level."""
    seed_numbers: bool = False
    """Text: keep each question's number as its ``seed:``."""
    repair_hyphens: bool = True
    """Text: repair known lost hyphens (otherwise only report them)."""
    media_folder: str = "images"
    """Packages: where (relative to the source folder) their images are copied."""

    def mapped_level(self, name: str) -> str | None:
        """The level ``--map-level`` gives a heading or deck name, if any.

        Deck names match in full or by their last ``::`` component.
        """
        key = normalize_name(name)
        if key in self.level_map:
            return self.level_map[key]
        last = normalize_name(name.split("::")[-1])
        return self.level_map.get(last)

    def level_named(self, name: str) -> str | None:
        """The level whose id or title equals ``name`` (``Intermediate`` → ``intermediate``)."""
        key = normalize_name(name.split("::")[-1])
        for level in self.levels:
            if key in (level.casefold(), level.replace("-", " ").casefold()):
                return level
        return None


@dataclass
class ImportedQuestion:
    """One question as an importer made it; the command gives it its id."""

    question: str
    answer: str
    origin: str
    """Where it came from, for messages: ``line 12``, ``row 3``, ``note 'What is…'``."""
    level: str
    details: str = ""
    tags: tuple[str, ...] = ()
    seed: tuple[int, ...] = ()
    retired: bool = False
    guid: str | None = None
    preferred_id: str | None = None
    """An id the input carries (our own packages' ``Id`` field, a CSV ``id`` column)."""
    id: str = ""


@dataclass(frozen=True)
class Skipped:
    """Something of the input that did not become a question."""

    kind: str
    """``paragraph``, ``row``, ``note`` …"""
    text: str
    reason: str


@dataclass
class ImportResult:
    """What an importer made and everything the user should hear about it."""

    format: str
    questions: list[ImportedQuestion] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    repairs: Counter[str] = field(default_factory=Counter)
    """Repaired lost hyphens: ``singlelayer → single-layer`` → count."""
    suspects: Counter[str] = field(default_factory=Counter)
    """Possible lost hyphens left as they are: word → count."""
    dropped_tags: Counter[str] = field(default_factory=Counter)
    html_kept: list[str] = field(default_factory=list)
    """Fields kept as HTML because they were too complex to convert (``origin field``)."""
    files: dict[str, bytes] = field(default_factory=dict)
    """Other files to write, by path relative to the source folder (a package's images)."""
    levels_by_name: dict[str, str] = field(default_factory=dict)
    """Headings or deck names met in the input and the level their questions got."""

    def skip(self, kind: str, text: str, reason: str) -> None:
        """Record a skipped item."""
        self.skipped.append(Skipped(kind, excerpt(text), reason))


def excerpt(text: str, limit: int = 40) -> str:
    """The start of ``text`` on one line, cut at a word with ``…`` when longer than ``limit``."""
    flat = " ".join(text.split())
    if len(flat) <= limit:
        return flat
    cut = flat[:limit].rsplit(" ", 1)[0] if " " in flat[:limit] else flat[:limit]
    return cut.rstrip(" ,.;:") + "…"


@dataclass(frozen=True)
class MappedTags:
    """Anki tags sorted into what the bank understands."""

    tags: tuple[str, ...]
    level: str | None
    retired: bool
    dropped: tuple[str, ...]


def map_tags(anki_tags: Iterable[str], options: ImportOptions) -> MappedTags:
    """Taxonomy tags, level and retired flag from Anki tags; the rest is dropped.

    Hierarchical tags count by their last component (``deck::topic::cnn`` → ``cnn`` when
    the taxonomy has ``cnn``); ``…::level::<level>`` sets the level and ``…::retired``
    retires the question, as our own packages write them.
    """
    topics = set(options.topics)
    tags: list[str] = []
    dropped: list[str] = []
    level = None
    retired = False
    for raw in anki_tags:
        tag = raw.strip()
        if not tag:
            continue
        parts = [part for part in tag.split("::") if part]
        if not parts:
            continue
        last = re.sub(r"[\s_]+", "-", parts[-1].strip().lower())
        if len(parts) >= 2 and parts[-2].lower() == "level" and last in options.levels:
            level = last
            continue
        if len(parts) >= 2 and last == "retired":
            retired = True
            continue
        if last in topics:
            if last not in tags:
                tags.append(last)
            continue
        dropped.append(tag)
    order = {topic: index for index, topic in enumerate(options.topics)}
    return MappedTags(tuple(sorted(tags, key=lambda t: order[t])), level, retired, tuple(dropped))


# Ids ------------------------------------------------------------------------------------


def assign_ids(questions: Sequence[ImportedQuestion], prefix: str = "") -> None:
    """Give every question a unique id: its preferred id when valid, else a slug of the
    question; repeats get ``-2``, ``-3`` …; ``prefix`` is put in front of each."""
    used: set[str] = set()
    for number, question in enumerate(questions, start=1):
        base = question.preferred_id or ""
        if not ID_PATTERN.fullmatch(base):
            base = slugify(re.sub(r"<[^>]*>", " ", question.question)) or f"question-{number}"
        if prefix:
            base = f"{prefix}-{base}"
        candidate, counter = base, 1
        while candidate in used:
            counter += 1
            candidate = f"{base}-{counter}"
        used.add(candidate)
        question.id = candidate


# Markdown ---------------------------------------------------------------------------------

_LINE_START = re.compile(r"^(\s*)(#{1,6}(?=\s|$)|>|[-+=](?=\s|$)|\d{1,9}(?=[.)](?:\s|$))|---|___)")


_TAG_LIKE = re.compile(r"</?[A-Za-z][A-Za-z0-9-]*(?:\s[^<>\n]*)?/?>")


def escape_markdown(text: str) -> str:
    """Plain text as Markdown that renders as that text: emphasis, code, math, HTML and
    link characters escaped, and line starts that would make a heading, quote or list.

    Tag-like text (``<br>``) becomes a code span, so it shows as written and the validator
    does not take it for raw HTML.
    """
    return escape_line_starts(escape_inline(text))


def escape_inline(text: str) -> str:
    """Plain text as inline Markdown (:func:`escape_markdown` without the line starts)."""
    pieces = []
    position = 0
    for match in _TAG_LIKE.finditer(text):
        pieces.append(_escape_chars(text[position : match.start()]))
        pieces.append(code_span(match.group(0)))
        position = match.end()
    pieces.append(_escape_chars(text[position:]))
    return "".join(pieces)


def escape_line_starts(markdown: str) -> str:
    """Escape line starts that would make a heading, quote, list or rule."""
    return "\n".join(_escape_line_start(line) for line in markdown.split("\n"))


def code_span(code: str) -> str:
    """``code`` as an inline code span, fenced with more backticks than it contains."""
    longest = max((len(run) for run in re.findall(r"`+", code)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if code.startswith("`") or code.endswith("`") else ""
    return f"{fence}{pad}{code}{pad}{fence}"


def _escape_chars(text: str) -> str:
    out = []
    for index, char in enumerate(text):
        if char in "\\`*[]$":
            out.append("\\" + char)
        elif char == "<" and re.match(r"[A-Za-z/!?]", text[index + 1 : index + 2]):
            out.append("\\<")
        elif char == "~" and (text[index + 1 : index + 2] == "~" or text[index - 1 : index] == "~"):
            out.append("\\~")
        elif char == "_":
            before = text[index - 1 : index] if index else ""
            after = text[index + 1 : index + 2]
            out.append("_" if before.isalnum() and after.isalnum() else "\\_")
        elif char == "&" and re.match(
            r"&(#\d+|#x[0-9a-fA-F]+|[A-Za-z][A-Za-z0-9]*);", text[index:]
        ):
            out.append("\\&")
        else:
            out.append(char)
    return "".join(out)


def _escape_line_start(line: str) -> str:
    match = _LINE_START.match(line)
    if not match:
        return line
    indent, marker = match.group(1), match.group(2)
    rest = line[match.end() :]
    if marker[0].isdigit():
        return f"{indent}{marker}\\{rest}"
    return f"{indent}\\{marker}{rest}"


# YAML ------------------------------------------------------------------------------------

_YAML_BREAKS = re.compile("[\x85\u2028\u2029]")
_NOT_PRINTABLE = re.compile(
    "[^\x09\x0a\x20-\x7e\xa0-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff]"
)


def clean_text(text: str) -> str:
    """Text YAML can hold in a block scalar: ``\\n`` line ends, no control characters,
    tabs as spaces, no trailing spaces and no blank lines at either end."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _YAML_BREAKS.sub("\n", text).replace("\t", "    ")
    text = _NOT_PRINTABLE.sub("", text)
    lines = [line.rstrip() for line in text.split("\n")]
    while lines and not lines[0].strip():
        lines.pop(0)
    while lines and not lines[-1].strip():
        lines.pop()
    return "\n".join(lines)


def question_yaml(question: ImportedQuestion) -> str:
    """One question as a YAML list item, answers and details as ``|`` block scalars."""
    fields: list[tuple[str, yamlwrite.Value]] = [
        ("id", question.id),
        ("level", question.level),
        ("question", " ".join(clean_text(question.question).split())),
        ("answer", clean_text(question.answer)),
    ]
    details = clean_text(question.details)
    if details:
        fields.append(("details", details))
    if question.tags:
        fields.append(("tags", list(question.tags)))
    if question.seed:
        fields.append(("seed", list(question.seed)))
    if question.retired:
        fields.append(("retired", True))
    if question.guid is not None:
        fields.append(("guid", question.guid))
    return yamlwrite.list_item(fields, BLOCK_FIELDS, block_indent=2)


def questions_yaml(questions: Sequence[ImportedQuestion], header: Sequence[str] = ()) -> str:
    """The whole new question file: comment lines, then the questions a blank line apart."""
    parts = []
    if header:
        parts.append("".join(f"# {line}\n" for line in header))
    parts.extend(question_yaml(q) for q in questions)
    return "\n".join(parts)

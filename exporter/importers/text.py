"""Plain text of the kind found in blogs and course notes.

Recognised: numbered questions (``12. What is…?``, or a short imperative line such as
``14. Differentiate between …``), the answer lines after each until the next question or
heading, bullet lines (``•``, ``-``, ``*`` or a leading space, as text copied from a web
page keeps them) as Markdown lists, rows split by ``|``, tabs or runs of spaces as Markdown
tables, and section headings (short lines without final punctuation right before a
question) that can give levels. Paragraphs outside questions (introductions, adverts, a
closing section after the last question) and promotional lines at the end of an answer are
skipped and listed. Lost hyphens are repaired or reported (:mod:`.hyphens`).

Two layouts are understood: one paragraph per line (text copied from a browser), and
paragraphs separated by blank lines, possibly wrapped over several lines (notes).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from exporter.importers.common import (
    ImportedQuestion,
    ImportFailed,
    ImportOptions,
    ImportResult,
    escape_markdown,
    excerpt,
    read_input,
)
from exporter.importers.hyphens import HyphenRepair

_NUMBERED = re.compile(r"^\s*(?:Q(?:uestion)?\s*)?(\d{1,4})\s*[.):]\s+(\S.*?)\s*$", re.I)
_BULLET = re.compile(r"^\s*(?:[•●▪◦‣∙·○■□➢➤►▸✓✔❖→]|[-*–—+](?=\s))\s*(.*?)\s*$")
_ORDERED = re.compile(r"^\s*(\d{1,3})[.)]\s+(\S.*?)\s*$")
_TABLE_RULE = re.compile(r"^\s*\|?\s*:?-{3,}:?\s*(?:\|\s*:?-{3,}:?\s*)*\|?\s*$")
_IMPERATIVES = frozenset(
    "explain describe discuss differentiate distinguish compare contrast define list name "
    "state give outline illustrate derive show prove mention elaborate write tell identify "
    "summarize summarise justify calculate design implement suggest evaluate classify "
    "enumerate draw walk".split()
)
_QUESTION_WORDS = frozenset(
    "what why how when where which who whom whose is are can could does do did should "
    "would will was were has have".split()
)
_FILLER = re.compile(
    r"\binterview\s+questions\b|\bquestions\s+and\s+answers\b"
    r"|\b(?:these|this|next|more|following|above|below)\b(?:\s+\S+){0,5}?\s+questions\b"
    r"|\bcheck\s+(?:it\s+)?out\b|\b(?:our|this|watch|the\s+following)\b[^.]*\b(?:video|course|webinar)s?\b"
    r"|\bthis\s+(?:blog|article|post|tutorial)\b|\bblog\b|\bsubscribe\b|\benrol|\bsign\s+up\b"
    r"|\bclick\s+here\b|\bhike\b|\b(?:best\s+of|good)\s+luck\b|\bhope\s+(?:this|these|you)\b"
    r"|\blet(?:\s+us|['’]s)\b[^.]*\bquestions?\b|\bnext\s+up\b",
    re.I,
)
_MINOR_WORDS = frozenset("a an and the of for in on to with by or at from vs".split())


def read_text(path: Path) -> tuple[str, str | None]:
    """A text file's content (UTF-8, or Windows-1252 when it is not) and a note on that."""
    data = read_input(path)
    try:
        return data.decode("utf-8-sig"), None
    except UnicodeDecodeError:
        return data.decode(
            "cp1252", errors="replace"
        ), f"{path.name} is not UTF-8; read as Windows-1252"


def import_text(path: Path, options: ImportOptions) -> ImportResult:
    """Questions from a plain-text file (see the module documentation)."""
    text, note = read_text(path)
    result = parse_text(text, options)
    if note:
        result.notes.insert(0, note)
    return result


# Line shapes ------------------------------------------------------------------------------


def _normalize(text: str) -> list[str]:
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = re.sub("[\u200b\u200c\u200d\u2060\ufeff]", "", text).replace("\u00a0", " ")
    return text.split("\n")


def question_shaped(text: str) -> bool:
    """Whether the text after a number reads as a question or an instruction."""
    text = text.strip()
    if not text or len(text) > 300:
        return False
    if text.endswith("?"):
        return True
    first = re.sub(r"[^a-z']", "", text.split()[0].lower())
    return first in _IMPERATIVES or (first in _QUESTION_WORDS and len(text) <= 200)


def table_cells(line: str) -> list[str] | None:
    """The cells of a table row (split by ``|``, tabs or 2+ spaces), or None."""
    stripped = line.strip()
    if not stripped or _TABLE_RULE.match(stripped):
        return None
    if "|" in stripped:
        cells = [c.strip() for c in stripped.strip("|").split("|")]
    elif "\t" in stripped:
        cells = [c.strip() for c in re.split(r"\t+", stripped)]
    else:
        cells = [c.strip() for c in re.split(r" {2,}", stripped)]
    return cells if len(cells) >= 2 and all(cells) else None


def is_bullet(line: str) -> bool:
    """A list item: a bullet character or dash, or a leading space (copied web lists)."""
    return bool(_BULLET.match(line)) or (line[:1].isspace() and bool(line.strip()))


def bullet_text(line: str) -> str:
    """A bullet line without its bullet."""
    match = _BULLET.match(line)
    return match.group(1) if match else line.strip()


def is_filler(text: str) -> bool:
    """A promotional or linking line of a blog ("Check out our video", "Next up, …")."""
    text = text.strip()
    if _FILLER.search(text):
        return True
    return text.endswith("!") and len(text.split()) <= 8


def _unpunctuated_short(line: str, limit: int = 6) -> bool:
    stripped = line.strip()
    return bool(stripped) and stripped[-1] not in ".?!:;," and len(stripped.split()) <= limit


def heading_like(line: str) -> bool:
    """A short line without final punctuation that starts with a capital letter."""
    if not line.strip() or line[:1].isspace() or is_bullet(line) or _NUMBERED.match(line):
        return False
    if table_cells(line) is not None and re.search(r"\t|\||\S {2,}\S", line.strip()):
        return False
    stripped = line.strip()
    words = stripped.split()
    return (
        1 <= len(words) <= 12
        and len(stripped) <= 100
        and stripped[0].isupper()
        and stripped[-1] not in ".?!:;,"
    )


def title_case(line: str) -> bool:
    """Whether most significant words of a line are capitalised (a heading's look)."""
    words = [w for w in re.findall(r"[A-Za-z][\w'’-]*", line) if w.lower() not in _MINOR_WORDS]
    if len(words) < 2:
        return False
    capitals = sum(1 for w in words if w[0].isupper())
    return capitals / len(words) >= 0.6


# Markdown of an answer --------------------------------------------------------------------


def _table_markdown(rows: Sequence[Sequence[str]]) -> str:
    def row(cells: Sequence[str]) -> str:
        return "| " + " | ".join(escape_markdown(c).replace("|", "\\|") for c in cells) + " |"

    lines = [row(rows[0]), "|" + "---|" * len(rows[0])]
    lines += [row(cells) for cells in rows[1:]]
    return "\n".join(lines)


def render_lines(lines: Sequence[str], wrapped: bool) -> str:
    """Markdown for answer lines: paragraphs, bullet and numbered lists, tables.

    ``wrapped``: consecutive text lines are one paragraph (blank lines separate
    paragraphs); otherwise every line is a paragraph of its own.
    """
    cells = [table_cells(line) for line in lines]
    blocks: list[str] = []
    index = 0
    while index < len(lines):
        line = lines[index]
        if not line.strip():
            index += 1
            continue
        row = cells[index]
        if row is not None:
            rows, end = [row], index + 1
            while end < len(lines):
                if _TABLE_RULE.match(lines[end]) and "-" in lines[end]:
                    end += 1  # a Markdown table's own rule line
                    continue
                following = cells[end]
                if following is None or len(following) != len(row):
                    break
                rows.append(following)
                end += 1
            if len(rows) >= 2:
                blocks.append(_table_markdown(rows))
                index = end
                continue
        if is_bullet(line):
            items = []
            while index < len(lines) and is_bullet(lines[index]):
                item = bullet_text(lines[index])
                index += 1
                while wrapped and index < len(lines) and _continues(lines[index]):
                    item += " " + lines[index].strip()
                    index += 1
                items.append(item)
            blocks.append("\n".join("- " + escape_markdown(item) for item in items if item))
            continue
        ordered = _ORDERED.match(line)
        if ordered:
            numbered: list[tuple[str, str]] = []
            while index < len(lines) and (match := _ORDERED.match(lines[index])):
                item = match.group(2)
                index += 1
                while wrapped and index < len(lines) and _continues(lines[index]):
                    item += " " + lines[index].strip()
                    index += 1
                numbered.append((match.group(1), item))
            blocks.append("\n".join(f"{n}. {escape_markdown(item)}" for n, item in numbered))
            continue
        paragraph = [line.strip()]
        index += 1
        while wrapped and index < len(lines) and _continues(lines[index]):
            if cells[index] is not None and index + 1 < len(lines) and cells[index + 1]:
                break
            paragraph.append(lines[index].strip())
            index += 1
        blocks.append("\n".join(escape_markdown(p) for p in paragraph))
    return "\n\n".join(b for b in blocks if b.strip())


def _continues(line: str) -> bool:
    return bool(line.strip()) and not is_bullet(line) and not _ORDERED.match(line)


# The document -----------------------------------------------------------------------------


@dataclass
class _Question:
    number: int
    line: int
    text: str
    level: str
    body: list[str] = field(default_factory=list)


@dataclass
class _Parser:
    lines: list[str]
    options: ImportOptions
    result: ImportResult
    wrapped: bool
    questions: list[_Question] = field(default_factory=list)
    headings: list[str] = field(default_factory=list)
    level: str = ""
    last_number: int | None = None
    chain: frozenset[int] = frozenset()
    """Line indexes of the questions (see :meth:`question_chain`)."""

    def numbered(self, index: int) -> tuple[int, str] | None:
        match = _NUMBERED.match(self.lines[index])
        if not match or not question_shaped(match.group(2)):
            return None
        return int(match.group(1)), match.group(2)

    def question_chain(self) -> frozenset[int]:
        """The questions' line indexes: the longest run of numbered, question-shaped lines
        whose numbers go up (by at most 3), starting again at 1 after a heading. A numbered
        list inside an answer is thereby not taken for questions."""
        candidates = []
        for index in range(len(self.lines)):
            found = self.numbered(index)
            if found is not None:
                candidates.append((index, found[0]))
        best: list[int] = []
        back: list[int | None] = []
        for k, (index, number) in enumerate(candidates):
            previous = self.prev_nonblank(index)
            restart = number == 1 and previous is not None and heading_like(self.lines[previous])
            length, link = 1, None
            for j in range(k - 1, max(-1, k - 500), -1):  # nearest first: it wins ties
                other = candidates[j][1]
                if (other < number <= other + 3 or restart) and best[j] + 1 > length:
                    length, link = best[j] + 1, j
            best.append(length)
            back.append(link)
        if not candidates:
            return frozenset()
        end: int | None = max(range(len(best)), key=lambda k: (best[k], -k))
        chosen = set()
        while end is not None:
            chosen.add(candidates[end][0])
            end = back[end]
        return frozenset(chosen)

    def prev_nonblank(self, index: int) -> int | None:
        for j in range(index - 1, -1, -1):
            if self.lines[j].strip():
                return j
        return None

    def section_heading(self, index: int) -> bool:
        """A heading line right before a question (after at most a few filler lines)."""
        line = self.lines[index]
        if not heading_like(line):
            return False
        previous = self.prev_nonblank(index)
        if previous is not None:
            prev_line = self.lines[previous]
            if not is_bullet(prev_line) and _unpunctuated_short(prev_line):
                return False
        following = self.lines[index + 1] if index + 1 < len(self.lines) else ""
        if self.wrapped and following.strip() and self.numbered(index + 1) is None:
            return False
        intro = 0
        for j in range(index + 1, len(self.lines)):
            candidate = self.lines[j]
            if not candidate.strip():
                continue
            if j in self.chain:
                return True
            if is_bullet(candidate) or heading_like(candidate) or not is_filler(candidate):
                return False
            intro += 1
            if intro > 3:
                return False
        return False

    def run(self) -> None:
        self.chain = self.question_chain()
        last_question = max(self.chain, default=-1)
        current: _Question | None = None
        outside: list[tuple[int, str]] = []
        where = "before the first question"
        index = 0
        while index < len(self.lines):
            line = self.lines[index]
            found = self.numbered(index) if index in self.chain else None
            if found is not None:
                self._flush_outside(outside, where)
                self._close(current)
                number, text = found
                start = index
                index, text = self._question_text(index, text)
                if self.last_number is not None and number not in (1, self.last_number + 1):
                    self.result.notes.append(
                        f"numbering jumps from {self.last_number} to {number} (line {index + 1})"
                    )
                level = self.level or self.options.default_level
                current = _Question(number, start + 1, text, level)
                self.last_number = number
                index += 1
                continue
            if line.strip() and self.section_heading(index):
                self._flush_outside(outside, where)
                self._close(current)
                current = None
                self._heading(line.strip())
                where = "between sections"
                index += 1
                continue
            if current is None:
                outside.append((index, line))
            elif line.strip() and index > last_question and heading_like(line) and title_case(line):
                self._close(current)
                current = None
                where = "after the last question"
                outside.append((index, line))
            else:
                current.body.append(line)
            index += 1
        self._close(current)
        self._flush_outside(outside, where)

    def _question_text(self, index: int, text: str) -> tuple[int, str]:
        """Join a question wrapped over up to two more lines: its last line and its text."""
        if not self.wrapped or text.rstrip().endswith(("?", ".", ":")):
            return index, text
        for extra in (1, 2):
            j = index + extra
            if j >= len(self.lines) or not self.lines[j].strip() or _NUMBERED.match(self.lines[j]):
                break
            if self.lines[j].rstrip().endswith("?"):
                parts = [text] + [self.lines[k].strip() for k in range(index + 1, j + 1)]
                return j, " ".join(parts)
        return index, text

    def _heading(self, heading: str) -> None:
        self.headings.append(heading)
        level = self.options.mapped_level(heading)
        if level is None and self.options.level_from_headings:
            position = len(self.headings) - 1
            levels = self.options.levels
            level = levels[min(position, len(levels) - 1)]
            if position >= len(levels):
                self.result.notes.append(
                    f"heading {excerpt(heading)!r} is heading {position + 1} but the deck "
                    f"has {len(levels)} levels; its questions get '{level}'"
                )
        self.level = level or self.options.default_level
        self.result.levels_by_name[heading] = self.level

    def _flush_outside(self, outside: list[tuple[int, str]], where: str) -> None:
        paragraph: list[str] = []
        for _, line in outside:
            if not line.strip():
                if paragraph:
                    self.result.skip("paragraph", " ".join(paragraph), where)
                    paragraph = []
                continue
            paragraph.append(line.strip())
            if not self.wrapped:
                self.result.skip("paragraph", line, where)
                paragraph = []
        if paragraph:
            self.result.skip("paragraph", " ".join(paragraph), where)
        outside.clear()

    def _close(self, question: _Question | None) -> None:
        if question is None:
            return
        body = list(question.body)
        trailing: list[str] = []
        while body:
            last = body[-1]
            if not last.strip():
                body.pop()
                continue
            if is_bullet(last) or table_cells(last) is not None or not is_filler(last):
                break
            trailing.insert(0, body.pop())
        if self.wrapped and trailing:
            # a filler paragraph may be wrapped over several lines: drop the whole paragraph
            while body and body[-1].strip() and not is_bullet(body[-1]):
                trailing.insert(0, body.pop())
        for line in trailing:
            if line.strip():
                self.result.skip(
                    "paragraph", line, f"filler at the end of question {question.number}"
                )
        question.body = body
        self.questions.append(question)


def parse_text(text: str, options: ImportOptions) -> ImportResult:
    """Questions from plain text (see the module documentation)."""
    result = ImportResult("text")
    lines = _normalize(text)
    blank = sum(1 for line in lines if not line.strip())
    filled = len(lines) - blank
    wrapped = filled > 0 and blank / filled >= 0.2
    parser = _Parser(lines, options, result, wrapped)
    parser.run()
    if options.level_from_headings and not parser.headings:
        result.notes.append(
            f"no section headings found; every question gets '{options.default_level}'"
        )
    if not parser.questions:
        raise ImportFailed(
            "no numbered questions found (expected lines such as '12. What is …?')", code=1
        )
    repair = HyphenRepair(repair=options.repair_hyphens, vocabulary=HyphenRepair.words_of(lines))
    for question in parser.questions:
        answer = render_lines([repair.fix(line) for line in question.body], wrapped)
        origin = f"question {question.number}, line {question.line}"
        if not answer.strip():
            result.skip("question", question.text, f"no answer after it ({origin})")
            continue
        result.questions.append(
            ImportedQuestion(
                question=escape_markdown(repair.fix(question.text)),
                answer=answer,
                origin=origin,
                level=question.level,
                seed=(question.number,) if options.seed_numbers else (),
            )
        )
    result.repairs.update(repair.repairs)
    result.suspects.update(repair.suspects)
    return result

"""Located problems in the source, and the collector that gathers and formats them.

Every problem the tool can report is a :class:`Diagnostic` with a stable code, a severity
and a :class:`Location`. Codes are declared once in :data:`RULES`, which the README's rule
table and the tests are checked against.
"""

from __future__ import annotations

import enum
import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple


class Severity(enum.Enum):
    """How bad a problem is: errors fail the run, warnings only with ``--strict``."""

    ERROR = "error"
    WARNING = "warning"


class Location(NamedTuple):
    """A position in a source file: 1-based line and column.

    A named tuple rather than a dataclass: the loader makes one for every key and value,
    and a tuple is several times cheaper to create (and orders the same way).
    """

    path: str
    line: int = 1
    col: int = 1

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.col}"


@dataclass(frozen=True)
class Rule:
    """One diagnostic code with its severity and a one-line summary (for the README)."""

    code: str
    severity: Severity
    summary: str


_RULE_LIST = [
    Rule("E001", Severity.ERROR, "YAML syntax error (includes tabs and invalid UTF-8)"),
    Rule("E002", Severity.ERROR, "duplicate mapping key"),
    Rule("E003", Severity.ERROR, "missing required field"),
    Rule("E004", Severity.ERROR, "wrong type"),
    Rule("E005", Severity.ERROR, "duplicate id"),
    Rule("E006", Severity.ERROR, "unknown field"),
    Rule("E007", Severity.ERROR, "invalid id format (must match [a-z0-9]+(-[a-z0-9]+)*)"),
    Rule("E008", Severity.ERROR, "unknown level"),
    Rule("E009", Severity.ERROR, "unknown tag"),
    Rule("E010", Severity.ERROR, "empty text (question or answer)"),
    Rule("E011", Severity.ERROR, "LaTeX math that does not parse"),
    Rule("E012", Severity.ERROR, "unknown code-block language"),
    Rule("E013", Severity.ERROR, "missing image file"),
    Rule("E014", Severity.ERROR, "image path that leaves source/ (absolute, .. or URL)"),
    Rule("E015", Severity.ERROR, "seed number out of range"),
    Rule("E016", Severity.ERROR, "YAML construct refused (custom tag, too many aliases, too deep)"),
    Rule("E017", Severity.ERROR, "source file cannot be read or is too large"),
    Rule("E018", Severity.ERROR, "invalid value (empty list, bad taxonomy rule, …)"),
    Rule("E019", Severity.ERROR, "template error"),
    Rule("E020", Severity.ERROR, "lock file cannot be read"),
    Rule("E021", Severity.ERROR, "lock file would change (with --frozen)"),
    Rule("E022", Severity.ERROR, "published question removed without `retired: true`"),
    Rule("E023", Severity.ERROR, "control character in text (U+001F splits an Anki note)"),
    Rule("E024", Severity.ERROR, "text, table or bank beyond a size limit"),
    Rule("E025", Severity.ERROR, "Markdown nested deeper than the parser keeps"),
    Rule("W101", Severity.WARNING, "near-duplicate question"),
    Rule("W102", Severity.WARNING, "question without a topic tag after auto-tagging"),
    Rule("W103", Severity.WARNING, "answer too long for a card"),
    Rule("W104", Severity.WARNING, "raw HTML in Markdown is shown as text"),
    Rule("W105", Severity.WARNING, "HTML removed by the sanitizer"),
    Rule("W106", Severity.WARNING, "text does not fit its printed card"),
    Rule("W107", Severity.WARNING, "reference refused by the PDF URL fetcher"),
    Rule("W108", Severity.WARNING, "key fact longer than 30 words"),
    Rule("W109", Severity.WARNING, "no key fact: the cheat sheet uses the answer's first sentence"),
    Rule("W110", Severity.WARNING, "content does not fit the cheat sheet's page budget"),
    Rule("W111", Severity.WARNING, "placeholder answer or details (TODO, empty details)"),
    Rule("W112", Severity.WARNING, "question left out of a PDF: too long or heavy to print"),
]
RULES: dict[str, Rule] = {rule.code: rule for rule in _RULE_LIST}


_LINE_BREAK = re.compile(r"[ \t]*[\n\r\v\f\x1c-\x1e\x85\u2028\u2029]+[ \t]*")
"""Everything ``str.splitlines`` breaks on, with the blanks around it."""


_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
"""Control characters left after line breaks become spaces: shown escaped, so quoted
input cannot drive the terminal (an escape sequence) or hide in a message."""


def _shown(text: str) -> str:
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text.replace("\t", " "))


@dataclass(frozen=True, order=True)
class Diagnostic:
    """One problem: where it is, its code and a human sentence."""

    location: Location
    code: str
    message: str

    @property
    def severity(self) -> Severity:
        """The rule's severity."""
        return RULES[self.code].severity

    def format(self) -> str:
        """The Ruff-style one-line form: ``path:line:col: CODE message``.

        Line breaks inside quoted source text (a multi-line formula, a key with a newline)
        become single spaces, so every problem stays exactly one line.
        """
        message = _shown(_LINE_BREAK.sub(" ", self.message))
        where = _shown(_LINE_BREAK.sub(" ", str(self.location)))
        return f"{where}: {self.code} {excerpt(message, MAX_MESSAGE_CHARS)}"


@dataclass
class Diagnostics:
    """Collects every problem of a run, so all are reported at once."""

    items: list[Diagnostic] = field(default_factory=list)
    ignore: frozenset[str] = frozenset()

    def add(self, location: Location, code: str, message: str) -> None:
        """Record a problem unless its code is ignored."""
        if code not in RULES:
            raise KeyError(f"unknown diagnostic code {code}")
        if code not in self.ignore:
            self.items.append(Diagnostic(location, code, message))

    def extend(self, items: Iterable[Diagnostic]) -> None:
        """Record problems found elsewhere (for example in a cache)."""
        for item in items:
            if item.code not in self.ignore:
                self.items.append(item)

    def __iter__(self) -> Iterator[Diagnostic]:
        return iter(self.sorted())

    def __len__(self) -> int:
        return len(self.items)

    def sorted(self) -> list[Diagnostic]:
        """Problems in file, line, column order; each reported once."""
        return sorted(set(self.items))

    @property
    def errors(self) -> list[Diagnostic]:
        """The problems that fail a run."""
        return [d for d in self.sorted() if d.severity is Severity.ERROR]

    @property
    def warnings(self) -> list[Diagnostic]:
        """The problems that fail a run only with ``--strict``."""
        return [d for d in self.sorted() if d.severity is Severity.WARNING]

    def failed(self, strict: bool = False) -> bool:
        """Whether the run must fail."""
        return bool(self.errors) or (strict and bool(self.warnings))

    def summary(self) -> str:
        """The closing line: counts of errors and warnings."""
        errors, warnings = len(self.errors), len(self.warnings)
        if not errors and not warnings:
            return "All checks passed."
        return f"Found {_plural(errors, 'error')} and {_plural(warnings, 'warning')}."


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" + ("" if count == 1 else "s")


EXCERPT_CHARS = 60
"""Quoted source text in a message is cut to this many characters."""
MAX_MESSAGE_CHARS = 400
"""No diagnostic line is longer than this (a last guard against quoting a whole input)."""


def excerpt(text: str, limit: int = EXCERPT_CHARS) -> str:
    """``text`` cut to ``limit`` characters, with ``…`` when something was cut."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` when a close choice exists, else an empty string."""
    import difflib  # here: only a misspelt name needs it

    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def display_path(path: Path) -> str:
    """The path as shown in messages: relative to the working directory when inside it."""
    try:
        rel = os.path.relpath(path)
    except ValueError:  # pragma: no cover - other drive on Windows
        return str(path)
    return str(path) if rel.startswith("..") else rel

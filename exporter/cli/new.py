"""``exporter new QUESTION``: append a scaffolded question to the right question file.

The file is only ever appended to: every existing byte (comments, blank lines, quoting,
line ends) stays as it was, and the new item copies the file's list style (where the dash
stands, how far keys and block text are indented, whether items are separated by a blank
line). The result is parsed back; if it does not parse or lacks the new id, the file is
restored and the command exits 1.
"""

from __future__ import annotations

import os
import re
import shlex
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import click

from exporter.build.lock import LOCK_NAME, LockError, read_lock
from exporter.cli.options import (
    EXIT_OK,
    EXIT_PROBLEMS,
    EXIT_USAGE,
    INIT_HINT,
    Settings,
    command_options,
    report,
)
from exporter.core import yamlwrite
from exporter.core.diagnostics import Diagnostics, Location, did_you_mean, display_path
from exporter.core.identity import ID_PATTERN, slugify, unique_id
from exporter.core.model import Deck
from exporter.source.loader import Node, RawSource, SourceFile, load_file
from exporter.source.validate import build_deck, build_taxonomy

TODO_ANSWER = "TODO: write the answer."
"""The answer written when ``--answer`` is not given."""
_LINE_EDITORS = frozenset({"vi", "vim", "nvim", "gvim", "nano", "emacs", "emacsclient", "micro"})
"""Editors that accept ``+LINE FILE`` to open a file at a line."""


@dataclass(frozen=True)
class ListStyle:
    """How a question file writes its list items, copied for the appended one."""

    dash: str = "- "
    """What stands before an item's first key: ``"- "`` at column 0, ``"  - "`` indented."""
    block_indent: int = 2
    """How much deeper than the keys block-scalar text is indented."""
    blank_line: bool = True
    """Whether items are separated by a blank line."""
    newline: str = "\n"
    """The file's line end (``\\n`` or ``\\r\\n``)."""

    @property
    def key_indent(self) -> str:
        """The indentation of the item's second and later keys."""
        return " " * len(self.dash)

    def item(self, fields: Sequence[tuple[str, str | list[str]]]) -> str:
        """The YAML text of one list item: ``(key, text)`` pairs, lists as flow lists."""
        return yamlwrite.list_item(
            fields, frozenset({"answer"}), self.dash, self.block_indent, self.newline
        )


@dataclass
class QuestionFile:
    """A question file of the bank: its parsed tree, ids and levels."""

    path: Path
    loaded: SourceFile
    ids: list[str] = field(default_factory=list)
    levels: Counter[str] = field(default_factory=Counter)

    @property
    def items(self) -> list[Node]:
        """The list items (empty when the file is empty or not a list)."""
        root = self.loaded.root
        return list(root.value) if root is not None and root.kind == "seq" else []

    @property
    def dominant_level(self) -> str | None:
        """The level most of the file's questions have."""
        common = self.levels.most_common(1)
        return common[0][0] if common else None


def _text_field(item: Node, key: str) -> str | None:
    if item.kind != "map" or key not in item.value:
        return None
    value = item.value[key].node.value
    return value if isinstance(value, str) else None


def scan_file(path: Path, diagnostics: Diagnostics) -> QuestionFile:
    """Parse a question file and note its ids and levels (problems go to ``diagnostics``)."""
    scanned = QuestionFile(path, load_file(path, diagnostics))
    for item in scanned.items:
        qid, level = _text_field(item, "id"), _text_field(item, "level")
        if qid is not None:
            scanned.ids.append(qid)
        if level is not None:
            scanned.levels[level] += 1
    return scanned


def choose_file(files: Sequence[QuestionFile], level: str, questions_dir: Path) -> Path:
    """The file for a new question of ``level``: the one with the most questions of that
    level among the files mostly of that level, else ``questions/<level>.yaml``."""
    candidates = [f for f in files if f.dominant_level == level]
    if candidates:
        best = max(candidates, key=lambda f: (f.levels[level], -files.index(f)))
        return best.path
    return questions_dir / f"{level}.yaml"


def detect_style(text: str, scanned: QuestionFile | None) -> ListStyle:
    """The list style of a file from its last item (defaults for an empty file)."""
    newline = "\r\n" if "\r\n" in text else "\n"
    items = scanned.items if scanned is not None else []
    if not items:
        return ListStyle(newline=newline)
    lines = text.replace("\r\n", "\n").split("\n")
    last = items[-1]
    line = lines[last.loc.line - 1] if last.loc.line <= len(lines) else ""
    dash = line[: last.loc.col - 1]
    if not re.fullmatch(r" *- +", dash):
        dash = "- "
    block_indent = 2
    if last.kind == "map":
        for entry in last.value.values():
            content = entry.node.content_loc
            if content is not None and content.col > len(dash):
                block_indent = content.col - 1 - len(dash)
                break
    blank_line = True
    if len(items) > 1:
        index = last.loc.line - 2
        blank_line = index >= 0 and not lines[index].strip()
    return ListStyle(dash, block_indent, blank_line, newline)


def _fail(message: str, code: int = EXIT_USAGE) -> int:
    click.echo(f"error: {message}", err=True)
    return code


def _question_files(questions_dir: Path) -> list[Path]:
    return sorted([*questions_dir.glob("*.yaml"), *questions_dir.glob("*.yml")])


def _lock_ids(source: Path) -> set[str]:
    """Ids the lock file still remembers (removed questions): never reused."""
    try:
        return set(read_lock(source / LOCK_NAME).notes)
    except (LockError, OSError, UnicodeDecodeError):
        return set()


def _target_path(name: str, questions_dir: Path) -> Path | None:
    """``--file NAME`` as a path in ``questions/``, or None when it points elsewhere."""
    relative = Path(name)
    if relative.parts[:1] == ("questions",):
        relative = Path(*relative.parts[1:]) if len(relative.parts) > 1 else Path()
    if relative.is_absolute() or len(relative.parts) != 1 or relative.name in ("", ".", ".."):
        return None
    if relative.suffix not in (".yaml", ".yml"):
        relative = relative.with_name(relative.name + ".yaml")
    return questions_dir / relative


def _open_editor(path: Path, line: int) -> None:
    """Open ``$VISUAL``/``$EDITOR`` at ``path`` (at ``line`` for editors that take it)."""
    editor = os.environ.get("VISUAL") or os.environ.get("EDITOR")
    if editor:
        words = shlex.split(editor)
        if words and Path(words[0]).name in _LINE_EDITORS:
            editor = f"{editor} +{line}"
    click.edit(filename=str(path), editor=editor or None)


def _load_deck(source: Path, diagnostics: Diagnostics) -> tuple[Deck | None, list[str] | None]:
    """The deck and the taxonomy's tag ids (None when the taxonomy is unusable)."""
    raw = RawSource(root=source, deck=None, taxonomy=None)
    deck_path, taxonomy_path = source / "deck.yaml", source / "taxonomy.yaml"
    if not deck_path.is_file():
        diagnostics.add(Location(display_path(deck_path)), "E017", "missing deck.yaml")
        return None, None
    raw.deck = load_file(deck_path, diagnostics)
    deck = build_deck(raw, diagnostics)
    tag_ids: list[str] | None = None
    if taxonomy_path.is_file():
        quiet = Diagnostics()
        raw.taxonomy = load_file(taxonomy_path, quiet)
        taxonomy = build_taxonomy(raw, quiet)
        tag_ids = list(taxonomy.ids) if taxonomy is not None and not quiet.items else None
    return deck, tag_ids


_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f]")


def _bad_argument(*values: str | tuple[str, ...] | None) -> str:
    """Why a command-line argument cannot go into a question file, or ``""``: bytes that
    are not UTF-8 (Python keeps them as lone surrogates) or control characters."""
    for value in values:
        for item in (value,) if isinstance(value, str) else (value or ()):
            if any("\udc80" <= char <= "\udcff" for char in item):
                shown = item.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
                return f"argument {shown[:60]!r} is not valid UTF-8"
            if _CONTROL.search(item):
                return f"argument {item[:60]!r} contains a control character"
    return ""


@command_options("source", "reporting")
def _new(
    settings: Settings,
    question: tuple[str, ...],
    level: str | None,
    file_name: str | None,
    qid: str | None,
    tags: tuple[str, ...],
    answer: str | None,
    edit: bool,
) -> int:
    """Append a new question to the bank, with a fresh unique id.

    \b
    exporter new "What is a perceptron?"
    exporter new --level advanced --tag transformers "Why scale dot products?"

    The question goes to --file, else to the file whose questions mostly have its level
    (else questions/<level>.yaml, created). Nothing in the file is changed but the
    appended item. Without --answer the answer is a TODO placeholder to fill in. A
    question that starts with '-' goes after '--': exporter new -- "-1 or 1?".
    """
    source = settings.source
    if not source.is_dir():
        return _fail(f"source folder '{source}' does not exist{INIT_HINT}")
    text = " ".join(question).strip()
    if not text:
        return _fail("the question is empty")
    bad = _bad_argument(question, level, file_name, qid, tags, answer)
    if bad:
        return _fail(bad)
    diagnostics = Diagnostics()
    deck, tag_ids = _load_deck(source, diagnostics)
    if deck is None:
        return report(settings, diagnostics) or EXIT_PROBLEMS
    chosen_level = level if level is not None else deck.levels[0]
    if chosen_level not in deck.levels:
        hint = did_you_mean(chosen_level, deck.levels)
        return _fail(f"unknown level '{chosen_level}'{hint}; levels are {', '.join(deck.levels)}")
    tag_list = list(dict.fromkeys(t.strip() for item in tags for t in item.split(",") if t.strip()))
    for tag in tag_list:
        if tag_ids is not None and tag not in tag_ids:
            hint = did_you_mean(tag, tag_ids)
            return _fail(f"unknown tag '{tag}'{hint}; tags are {', '.join(tag_ids)}")

    questions_dir = source / "questions"
    files = [scan_file(path, diagnostics) for path in _question_files(questions_dir)]
    if diagnostics.failed():
        click.echo("Cannot add a question while question files do not parse:", err=True)
        return report(settings, diagnostics) or EXIT_PROBLEMS
    taken = {i for f in files for i in f.ids} | _lock_ids(source)

    if qid is not None:
        if not ID_PATTERN.fullmatch(qid):
            return _fail(f"invalid id '{qid}': use lowercase letters, digits and single hyphens")
        if qid in taken:
            return _fail(f"id '{qid}' is already used; leave out --id for a fresh one")
        new_id = qid
    else:
        new_id = unique_id(slugify(text) or "question", taken)

    if file_name is not None:
        target = _target_path(file_name, questions_dir)
        if target is None:
            return _fail(f"--file must name a file in {display_path(questions_dir)}/")
    else:
        target = choose_file(files, chosen_level, questions_dir)
    scanned = next((f for f in files if f.path == target), None)

    created = not target.exists()
    if created:
        original = b""
        before = ""
        style = ListStyle()
    else:
        try:
            original = target.read_bytes()
        except OSError as exc:
            return _fail(f"{display_path(target)}: cannot read: {exc.strerror or exc}")
        before = original.decode("utf-8-sig")
        root = scanned.loaded.root if scanned is not None else None
        flow = re.match(r"(?:\s*#[^\n]*\n)*\s*\[", before) is not None
        if root is not None and (root.kind != "seq" or flow):
            return _fail(f"cannot append to {display_path(target)}: it is not a block list")
        style = detect_style(before, scanned)

    answer_text = answer.strip("\n") if answer and answer.strip() else TODO_ANSWER
    fields: list[tuple[str, str | list[str]]] = [
        ("id", new_id),
        ("level", chosen_level),
        ("question", text),
        ("answer", answer_text),
    ]
    if tag_list:
        fields.append(("tags", tag_list))
    nl = style.newline
    addition = ""
    if created:
        addition = f"# {deck.level_title(chosen_level)} questions.{nl}{nl}"
    else:
        if before and not before.endswith("\n"):
            addition += nl
        ends_blank = (before + addition).replace("\r\n", "\n").endswith("\n\n")
        if before.strip() and style.blank_line and not ends_blank:
            addition += nl
    new_line = (original.decode("utf-8") + addition).count("\n") + 1
    addition += style.item(fields)

    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with target.open("ab") as handle:
            handle.write(addition.encode("utf-8"))
    except OSError as exc:
        return _fail(f"{display_path(target)}: cannot write: {exc.strerror or exc}")

    check = Diagnostics()
    reread = scan_file(target, check)
    added = [
        item
        for item in reread.items
        if _text_field(item, "id") == new_id
        and _text_field(item, "question") == text
        and (_text_field(item, "answer") or "").strip("\n") == answer_text
    ]
    if check.failed() or len(added) != 1:
        if created:
            target.unlink()
        else:
            target.write_bytes(original)
        for item in check:
            click.echo(item.format(), err=True)
        return _fail(
            f"the new question did not read back from {display_path(target)}; "
            "the file was left as it was",
            EXIT_PROBLEMS,
        )

    where = f"{display_path(target)}:{new_line}"
    if answer_text != TODO_ANSWER:
        settings.info(f"added '{new_id}' to {where}")
    else:
        settings.info(f"added '{new_id}' to {where} — fill in its answer")
    if edit:
        _open_editor(target, new_line)
    return EXIT_OK


new_command = click.command(
    "new", short_help="Append a scaffolded question (fresh unique id).", help=_new.__doc__
)(_new)
for _param in reversed(
    [
        click.Argument(["question"], nargs=-1, required=True),
        click.Option(["--level"], default=None, help="Its level [the deck's first level]."),
        click.Option(
            ["--file", "file_name"],
            default=None,
            metavar="NAME",
            help="Question file to append to (in questions/; created if missing).",
        ),
        click.Option(["--id", "qid"], default=None, help="Its id [a slug of the question]."),
        click.Option(
            ["--tag", "tags"], multiple=True, help="A topic tag from taxonomy.yaml. Repeatable."
        ),
        click.Option(["--answer"], default=None, help="Its answer [a TODO placeholder]."),
        click.Option(["--edit"], is_flag=True, help="Open $EDITOR at the file afterwards."),
    ]
):
    new_command.params.insert(0, _param)

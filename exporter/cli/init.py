"""``exporter init [DIR]``: start a new bank that builds at once (deck, taxonomy, one example
question with math, a table and code, a ``.gitignore`` for ``build/``); never overwrites."""

from __future__ import annotations

import shlex
from pathlib import Path

import click

from exporter.cli.options import EXIT_OK, EXIT_USAGE, Settings, command_options
from exporter.core import yamlwrite
from exporter.core.identity import ID_PATTERN, slugify

LEVELS = ["basic", "intermediate", "advanced"]
"""The levels a new bank starts with (edit deck.yaml to change them)."""

_BUILD_COMMENT = """\

# Defaults for `exporter build` (a flag on the command line overrides them; `exporter
# build -v` shows where each came from). Uncomment and edit what you need:
# build:
#   targets: [all]        # anki, cheatsheet, flashcards, quiz, pdf, all
#   paper: a4             # a4 | letter
#   orientation: portrait # cheat sheet: portrait | landscape
#   columns: 2            # cheat sheet columns, 1-4
#   details: false        # cheat sheet: add the deeper explanations
#   per_page: 8           # flashcards per sheet: 4 | 6 | 8 | 10
#   flip: long            # the printer's duplex edge: long | short
#   offset_x: 0           # flashcards: shift back pages right (mm)
#   offset_y: 0           # flashcards: shift back pages down (mm)
#   deck_layout: level    # Anki subdecks: flat | level | tag
"""

TAXONOMY = """\
# Topic tags. A question gets a tag from its own `tags:` and from every `match:` word
# found in its question or answer (whole words, any case; a trailing * matches endings).
tags:
  activations:
    title: Activation functions
    match: [softmax, sigmoid, relu, activation*]
  probability:
    title: Probability
    match: [probabilit*, distribution*, likelihood]
"""

EXAMPLE_ANSWER = """\
It turns a vector of scores into probabilities:
$\\mathrm{softmax}(z)_i = e^{z_i} / \\sum_j e^{z_j}$, so every output is positive and
they sum to 1. Larger scores get a larger share.

| score $z$ | 2.0 | 1.0 | 0.1 |
|---|---|---|---|
| softmax | 0.66 | 0.24 | 0.10 |"""

EXAMPLE_DETAILS = """\
Subtract the largest score first: the result is the same and `exp` cannot overflow.

```python
import numpy as np

def softmax(z):
    e = np.exp(z - z.max())
    return e / e.sum()
```"""


def _fail(message: str) -> int:
    click.echo(f"error: {message}", err=True)
    return EXIT_USAGE


@click.command("init", short_help="Start a new question bank in DIR (default: here).")
@click.argument("directory", type=click.Path(path_type=Path, file_okay=False), default=".")
@click.option("--title", default=None, help="The deck's title [from DIR's name].")
@click.option("--id", "deck_id", default=None, help="The deck's id, [a-z0-9-]+ [from the title].")
@command_options("reporting")
def init_command(
    settings: Settings, directory: Path, title: str | None, deck_id: str | None
) -> int:
    """Start a new question bank in DIR (default: the current folder).

    Writes source/deck.yaml, source/taxonomy.yaml, one example question (with math, a
    table and code) in source/questions/basic.yaml, and a .gitignore for build/. Refuses
    to touch an existing source/ folder. `exporter build` works on the result at once.
    """
    folder = directory.resolve()
    name = folder.name or "questions"
    title = (title or " ".join(name.replace("-", " ").replace("_", " ").split()).title()).strip()
    if not title:
        return _fail("the title is empty")
    deck_id = deck_id if deck_id is not None else slugify(title, question=False) or "questions"
    if not ID_PATTERN.fullmatch(deck_id):
        return _fail(f"invalid deck id '{deck_id}': use lowercase letters, digits and hyphens")
    source = directory / "source"
    if source.exists():
        return _fail(f"{source} already exists; init never overwrites a bank")
    deck = yamlwrite.mapping(
        [
            ("id", deck_id),
            ("title", title),
            ("description", f"Interview questions: {title}."),
            ("levels", LEVELS),
        ]
    )
    question = yamlwrite.list_item(
        [
            ("id", "softmax"),
            ("level", "basic"),
            ("question", "What does the softmax function compute?"),
            ("answer", EXAMPLE_ANSWER),
            ("details", EXAMPLE_DETAILS),
        ],
        frozenset({"answer", "details"}),
    )
    files = {
        source / "deck.yaml": "# The deck: its id never changes once published (Anki ids derive "
        "from it).\n" + deck + _BUILD_COMMENT,
        source / "taxonomy.yaml": TAXONOMY,
        source / "questions" / "basic.yaml": "# Basic questions. Add more with "
        '`exporter new "…?"`.\n\n' + question,
    }
    try:
        (source / "questions").mkdir(parents=True)
        for path, text in files.items():
            path.write_text(text, encoding="utf-8")
        ignore = directory / ".gitignore"
        lines = ignore.read_text(encoding="utf-8").splitlines() if ignore.is_file() else []
        if not {"build", "build/", "/build", "/build/"} & {line.strip() for line in lines}:
            with ignore.open("a", encoding="utf-8") as handle:
                if lines and not ignore.read_text(encoding="utf-8").endswith("\n"):
                    handle.write("\n")
                handle.write("# outputs of `exporter build`\n/build/\n")
    except OSError as exc:
        return _fail(f"cannot write in {directory}: {exc.strerror or exc}")
    where = "" if folder == Path.cwd().resolve() else f"  cd {shlex.quote(str(directory))}\n"
    settings.info(
        f"Created the bank '{deck_id}' ({title}) in {source}, with one example question.\n"
        "Next:\n"
        f"{where}"
        '  exporter new "What is …?"    add a question (then write its answer)\n'
        "  exporter validate            check every file, every problem located\n"
        f"  exporter build               write build/{deck_id}.apkg and the PDFs"
    )
    return EXIT_OK

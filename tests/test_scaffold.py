"""``exporter new``: append-only scaffolding that keeps every existing byte of the file."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from exporter.build.project import load_project
from exporter.cli.commands import main
from exporter.core.identity import slugify, unique_id
from exporter.core.yamlwrite import scalar

DECK = """\
# The test deck.
id: t
title: T
levels: [basic, intermediate, advanced]
"""
TAXONOMY = """\
tags:
  topic:
    title: Topic
    match: [perceptron, alpha]
  other:
    title: Other
"""
# Indented items, four-space block text, comments everywhere, odd spacing, no final newline.
BASIC = (
    "# Basic questions.   (a comment with trailing spaces)   \n"
    + """\
  # an indented comment

  - id: what-is-a-perceptron
    level:   basic     # aligned comment
    question: 'What is a perceptron?'
    answer: |
        A single linear threshold unit.
    tags: [topic]
  # between items
  - id: alpha
    level: basic
    question: What is alpha?
    answer: >-
        The first letter.
  # trailing comment without newline"""
)
ADVANCED = """\
- id: deep-alpha
  level: advanced
  question: Why is alpha deep?
  answer: Because.
- id: deeper-alpha
  level: advanced
  question: Why is alpha deeper?
  answer: Because, twice.
"""
MIXED = """\
- id: mixed-one
  level: intermediate
  question: Is alpha intermediate?
  answer: Yes.

- id: mixed-two
  level: advanced
  question: Is alpha advanced too?
  answer: Also yes.
"""


@pytest.fixture
def source(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    root = tmp_path / "source"
    (root / "questions").mkdir(parents=True)
    (root / "deck.yaml").write_text(DECK)
    (root / "taxonomy.yaml").write_text(TAXONOMY)
    for name, text in {"basic.yaml": BASIC, "deep.yaml": ADVANCED, "mixed.yaml": MIXED}.items():
        (root / "questions" / name).write_bytes(text.encode())
    return root


def run(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def questions_by_id(source: Path) -> dict[str, object]:
    project = load_project(source)
    assert project.bank is not None, [d.format() for d in project.diagnostics]
    assert not project.diagnostics.errors, [d.format() for d in project.diagnostics]
    return {q.id: q for q in project.bank.questions}


def test_appends_keeping_every_byte_and_the_list_style(source: Path) -> None:
    path = source / "questions" / "basic.yaml"
    before = path.read_bytes()
    result = run("new", "--level", "basic", "--tag", "topic", "What is a perceptron, really?")
    assert result.exit_code == 0, result.stderr
    after = path.read_bytes()
    assert after.startswith(before)
    added = after[len(before) :].decode()
    # Only the missing final newline comes before the item: this file's items are not
    # separated by blank lines. Dash, key and block-text indentation copy the file's.
    assert added == (
        "\n"
        "  - id: perceptron-really\n"
        "    level: basic\n"
        "    question: What is a perceptron, really?\n"
        "    answer: |\n"
        "        TODO: write the answer.\n"
        "    tags: [topic]\n"
    )
    line = after.decode().split("\n").index("  - id: perceptron-really") + 1
    assert result.stderr.strip() == (
        f"added 'perceptron-really' to source/questions/basic.yaml:{line} — fill in its answer"
    )
    new = questions_by_id(source)["perceptron-really"]
    assert new.question == "What is a perceptron, really?"  # type: ignore[attr-defined]
    assert new.answer == "TODO: write the answer."  # type: ignore[attr-defined]
    assert new.tags == ("topic",)  # type: ignore[attr-defined]
    assert run("validate", "--source", "source").exit_code == 0


def test_blank_line_between_items_is_copied(source: Path) -> None:
    path = source / "questions" / "mixed.yaml"
    before = path.read_bytes()
    result = run("new", "--file", "mixed", "--level", "intermediate", "Is beta here?")
    assert result.exit_code == 0, result.stderr
    added = path.read_bytes()[len(before) :].decode()
    assert added.startswith("\n- id: beta-here\n  level: intermediate\n")
    assert "  answer: |\n    TODO: write the answer.\n" in added


def test_ids_are_unique_across_the_bank(source: Path) -> None:
    # "perceptron" is free, then taken by the first; every one goes to deep.yaml
    results = [run("new", "--level", "advanced", "What is a perceptron?") for _ in range(3)]
    assert all(r.exit_code == 0 for r in results), [r.stderr for r in results]
    assert "'perceptron' to source/questions/deep.yaml" in results[0].stderr
    assert "'perceptron-2' to source/questions/deep.yaml" in results[1].stderr
    assert "'perceptron-3' to source/questions/deep.yaml" in results[2].stderr
    ids = questions_by_id(source)
    assert {"what-is-a-perceptron", "perceptron", "perceptron-2", "perceptron-3"} <= set(ids)


def test_ids_remembered_by_the_lock_are_not_reused(source: Path) -> None:
    (source / "deck.lock").write_text("note gamma-gone abc 1 2\n")
    result = run("new", "Is gamma gone?")
    assert result.exit_code == 0, result.stderr
    assert "'gamma-gone-2'" in result.stderr


@pytest.mark.parametrize(
    "question",
    [
        'What\'s "x: y" # z?',
        "- is this a list?",
        "yes",
        "3.14",
        "[not] a {flow}, really",
        "back\\slash and @at & *star!",
        "50% of C# users: why?",
        "'single' quotes",
        "Why O(n log n)?",
        "Ünïcödé — and “curly” quotes?",
    ],
)
def test_tricky_questions_read_back_unchanged(source: Path, question: str) -> None:
    result = run("new", "--level", "basic", "--", question)
    assert result.exit_code == 0, result.stderr
    new_id = result.stderr.split("'")[1]
    assert questions_by_id(source)[new_id].question == question  # type: ignore[attr-defined]


def test_answer_option_and_escapes(source: Path) -> None:
    answer = "First line: with a colon.\n\n    indented code\n# not a comment"
    result = run("new", "--answer", answer, "What is a block?")
    assert result.exit_code == 0, result.stderr
    assert "fill in" not in result.stderr
    assert questions_by_id(source)["block"].answer == answer  # type: ignore[attr-defined]
    for text in ["  leading spaces", "tab\there", "x\u2028y"]:
        result = run("new", "--answer", text, f"Odd answer {len(text)}?")
        assert result.exit_code == 0, result.stderr
        new_id = result.stderr.split("'")[1]
        assert questions_by_id(source)[new_id].answer == text  # type: ignore[attr-defined]


def test_level_chooses_the_file_mostly_of_that_level(source: Path) -> None:
    advanced = run("new", "--level", "advanced", "Is alpha the deepest?")
    default = run("new", "Is alpha basic?")  # the deck's first level
    assert advanced.exit_code == default.exit_code == 0
    assert "source/questions/deep.yaml" in advanced.stderr
    assert "source/questions/basic.yaml" in default.stderr
    assert questions_by_id(source)["alpha-basic"].level == "basic"  # type: ignore[attr-defined]


def test_unknown_level_exits_2_with_one_line(source: Path) -> None:
    before = {p.name: p.read_bytes() for p in (source / "questions").iterdir()}
    result = run("new", "--level", "expert", "What is alpha?")
    assert result.exit_code == 2
    assert result.stderr.strip().count("\n") == 0
    assert "unknown level 'expert'" in result.stderr
    assert "basic, intermediate, advanced" in result.stderr
    assert {p.name: p.read_bytes() for p in (source / "questions").iterdir()} == before


def test_unknown_tag_and_taken_id_exit_2(source: Path) -> None:
    tag = run("new", "--tag", "topik", "Why?")
    assert tag.exit_code == 2
    assert "unknown tag 'topik' (did you mean 'topic'?)" in tag.stderr
    taken = run("new", "--id", "alpha", "Why?")
    assert taken.exit_code == 2
    assert "'alpha' is already used" in taken.stderr
    bad = run("new", "--id", "Not_An_Id", "Why?")
    assert bad.exit_code == 2


def test_new_file_when_no_file_has_the_level(source: Path) -> None:
    (source / "questions" / "mixed.yaml").unlink()
    result = run("new", "--level", "intermediate", "What is an intermediate alpha?")
    assert result.exit_code == 0, result.stderr
    created = source / "questions" / "intermediate.yaml"
    text = created.read_text()
    assert text.startswith("# Intermediate questions.\n\n- id: intermediate-alpha\n")
    assert "source/questions/intermediate.yaml:3 — fill in its answer" in result.stderr
    validate = run("validate", "--source", "source")
    assert validate.exit_code == 0, validate.stderr


def test_crlf_file_gets_crlf_lines(source: Path) -> None:
    path = source / "questions" / "deep.yaml"
    path.write_bytes(ADVANCED.replace("\n", "\r\n").encode())
    before = path.read_bytes()
    result = run("new", "--level", "advanced", "Is alpha windows-ready?")
    assert result.exit_code == 0, result.stderr
    added = path.read_bytes()[len(before) :]
    assert b"\r\n" in added and b"\n" not in added.replace(b"\r\n", b"")
    assert "alpha-windows-ready" in questions_by_id(source)


def test_file_that_cannot_take_an_item_is_restored(source: Path) -> None:
    path = source / "questions" / "deep.yaml"
    path.write_text(ADVANCED + "...\n")  # document end: an appended item is a second document
    before = path.read_bytes()
    result = run("new", "--level", "advanced", "Will this stick?")
    assert result.exit_code == 1
    assert "left as it was" in result.stderr
    assert path.read_bytes() == before


def test_edit_opens_the_editor_at_the_new_line(source: Path, tmp_path: Path) -> None:
    record = tmp_path / "editor-args.txt"
    script = tmp_path / "editor.py"
    script.write_text(f"import sys\nopen({str(record)!r}, 'w').write(repr(sys.argv[1:]))\n")
    runner = CliRunner(env={"VISUAL": None, "EDITOR": f"{sys.executable} {script}"})
    result = runner.invoke(main, ["new", "--edit", "Is editing fun?"], catch_exceptions=False)
    assert result.exit_code == 0, result.stderr
    assert "basic.yaml" in record.read_text()
    untouched = tmp_path / "untouched.txt"
    runner = CliRunner(env={"VISUAL": None, "EDITOR": f"touch {untouched}"})
    assert runner.invoke(main, ["new", "No editor here?"]).exit_code == 0
    assert not untouched.exists()


def test_slug_unique_and_scalar_helpers() -> None:
    # one slug for `new` and `import`: question words and articles are left out
    assert slugify("What is a perceptron?") == "perceptron"
    assert slugify("What is a GRU?") == "gru"
    assert slugify('What\'s "x: y" # z?') == "x-y-z"
    assert slugify("?!") == ""
    long = slugify("Why does the softmax function need the log-sum-exp trick in practice, always?")
    assert len(long) <= 60 and not long.endswith("-")
    assert long == "softmax-function-need-log-sum-exp-trick-in-practice-always"
    assert slugify("My Notes (2024).txt", question=False) == "my-notes-2024-txt"
    assert unique_id("a", {"a", "a-2"}) == "a-3"
    assert scalar("What is a perceptron?") == "What is a perceptron?"
    assert scalar("a: b") == "'a: b'"
    assert scalar("yes") == "'yes'"
    assert scalar("line\nbreak") == '"line\\nbreak"'
    assert scalar("[x]", flow=True) == "'[x]'"


def test_new_and_import_give_a_question_the_same_id(source: Path, tmp_path: Path) -> None:
    from exporter.importers.common import ImportedQuestion, assign_ids

    imported = [ImportedQuestion("What is a GRU?", "A gated unit.", "1", "basic")]
    assign_ids(imported)
    result = run("new", "What is a GRU?")
    assert result.exit_code == 0, result.stderr
    assert f"'{imported[0].id}'" in result.stderr
    assert imported[0].id == "gru"

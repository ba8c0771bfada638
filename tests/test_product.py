"""Using the tool day to day: `exporter init`, settings kept in deck.yaml's build: section,
progress on a terminal, CI-friendly validate formats, placeholder answers, and help that
lists only what each command uses."""

from __future__ import annotations

import io
import json
import os
import pty
import re
import select
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import DECK_YAML, QUESTIONS_YAML, TAXONOMY_YAML, write_source
from pypdf import PdfReader

from exporter.cli.commands import main
from exporter.core.settings import BUILD_SETTINGS, TARGET_CHOICES

LETTER, A4 = (612, 792), (595, 842)


def run(args: list[str], cwd: Path) -> object:
    old = Path.cwd()
    os.chdir(cwd)
    try:
        return CliRunner().invoke(main, args, catch_exceptions=False)
    finally:
        os.chdir(old)


def page_size(pdf: Path) -> tuple[int, int]:
    box = PdfReader(io.BytesIO(pdf.read_bytes())).pages[0].mediabox
    return round(float(box.width)), round(float(box.height))


# -- init ----------------------------------------------------------------------------------


def test_init_makes_a_bank_that_validates_and_builds(tmp_path: Path) -> None:
    result = run(["init", "ml-bank", "--title", "Machine Learning"], tmp_path)
    assert result.exit_code == 0, result.stderr
    assert result.stderr.splitlines()[-4:] == [
        "  cd ml-bank",
        '  exporter new "What is …?"    add a question (then write its answer)',
        "  exporter validate            check every file, every problem located",
        "  exporter build               write build/machine-learning.apkg and the PDFs",
    ]
    bank = tmp_path / "ml-bank"
    assert "/build/" in (bank / ".gitignore").read_text().splitlines()
    example = (bank / "source/questions/basic.yaml").read_text()
    assert "$" in example and "|---|" in example and "```python" in example
    check = run(["validate", "--strict"], bank)
    assert check.exit_code == 0, check.stderr
    built = run(["build", "-t", "anki", "-t", "quiz"], bank)
    assert built.exit_code == 0, built.stderr
    assert (bank / "build/machine-learning.apkg").is_file()
    assert "softmax" in PdfReader(bank / "build/machine-learning-quiz.pdf").pages[0].extract_text()


def test_init_never_overwrites(tmp_path: Path) -> None:
    assert run(["init"], tmp_path).exit_code == 0
    deck = tmp_path / "source" / "deck.yaml"
    deck.write_text(deck.read_text() + "# mine\n")
    before = deck.read_bytes()
    again = run(["init"], tmp_path)
    assert again.exit_code == 2
    assert again.stderr.strip() == "error: source already exists; init never overwrites a bank"
    assert deck.read_bytes() == before
    assert (tmp_path / ".gitignore").read_text().count("/build/") == 1


# -- settings ------------------------------------------------------------------------------


def bank_with(tmp_path: Path, build_section: str) -> Path:
    write_source(tmp_path, QUESTIONS_YAML, DECK_YAML + build_section, TAXONOMY_YAML)
    return tmp_path


def test_settings_persist_and_flags_override_them(tmp_path: Path) -> None:
    bank = bank_with(tmp_path, "build:\n  paper: letter\n  targets: [quiz]\n  seed: 3\n")
    first = run(["build", "-v"], bank)
    assert first.exit_code == 0, first.stderr
    quiz = bank / "build/test-deck-quiz.pdf"
    assert page_size(quiz) == LETTER
    built = sorted(p.name for p in (bank / "build").iterdir() if not p.name.startswith("."))
    assert built == ["test-deck-quiz.pdf"]
    assert "setting paper = letter  (source/deck.yaml:9:10)" in first.stderr
    assert "setting targets = quiz  (source/deck.yaml:10:12)" in first.stderr
    assert "setting columns = cheat sheet 4 (portrait 3), guide 2  (default)" in first.stderr
    again = run(["build"], bank)  # a plain build keeps Letter: nothing to redo
    assert "Nothing to build" in again.stderr and page_size(quiz) == LETTER
    flag = run(["build", "-v", "--paper", "a4"], bank)
    assert "setting paper = a4  (--paper)" in flag.stderr
    assert page_size(quiz) == A4


def test_unknown_and_invalid_settings_are_located_with_hints(tmp_path: Path) -> None:
    bank = bank_with(
        tmp_path, "paper: letter\nbuild:\n  colums: 3\n  flip: shrot\n  targets: [ank]\n"
    )
    result = run(["validate"], bank)
    assert result.exit_code == 1
    lines = [line for line in result.stderr.splitlines() if ": E" in line]
    assert lines == [
        "source/deck.yaml:8:1: E006 unknown field 'paper' in deck.yaml; build settings go "
        "under 'build:' (paper: …)",
        "source/deck.yaml:10:3: E006 unknown field 'colums' in 'build' (did you mean 'columns'?)",
        "source/deck.yaml:11:9: E018 build.flip 'shrot' is not one of long, short "
        "(did you mean 'short'?)",
        "source/deck.yaml:12:13: E018 build.targets unknown target 'ank'; targets are "
        f"{', '.join(TARGET_CHOICES)} (did you mean 'anki'?)",
    ]
    assert run(["build"], bank).exit_code == 1


def test_every_setting_is_a_build_option() -> None:
    """One table: each setting is an option of `exporter build` with the same name."""
    from exporter.build.pipeline import TARGETS

    build = main.get_command(None, "build")  # type: ignore[arg-type]
    names = {p.name for p in build.params}
    for setting in BUILD_SETTINGS:
        assert setting.name in names | {"targets"}, setting.name
    assert set(TARGET_CHOICES) == {*TARGETS, "pdf", "all"}


# -- validate formats and placeholders ---------------------------------------------------------


def test_placeholder_answers_warn_and_fail_strict(tmp_path: Path) -> None:
    emptied = QUESTIONS_YAML.replace(
        "  details: |\n    $v_t = \\beta v_{t-1} + g_t$\n", "  details: ''\n"
    )
    assert emptied != QUESTIONS_YAML
    write_source(tmp_path, emptied, DECK_YAML, TAXONOMY_YAML)
    assert run(["new", "--level", "basic", "What is a GRU?"], tmp_path).exit_code == 0
    plain = run(["validate"], tmp_path)
    assert plain.exit_code == 0
    w111 = [line for line in plain.stderr.splitlines() if "W111" in line]
    assert w111 == [
        "source/questions/basic.yaml:13:12: W111 details of 'momentum' are empty; write them "
        "or remove the key",
        "source/questions/basic.yaml:21:5: W111 answer of 'gru' is a placeholder "
        "('TODO: write the answer.'); write it before it ships",
    ]
    assert run(["validate", "--strict"], tmp_path).exit_code == 1
    assert run(["build", "--strict", "-t", "anki"], tmp_path).exit_code == 1


def test_validate_json_and_github_formats(tmp_path: Path) -> None:
    bad = QUESTIONS_YAML.replace("level: basic", "level: basik", 1)
    write_source(tmp_path, bad, DECK_YAML, TAXONOMY_YAML)
    as_json = run(["validate", "--format", "json"], tmp_path)
    assert as_json.exit_code == 1
    records = [json.loads(line) for line in as_json.stdout.splitlines()]
    assert records == [
        {
            "path": "source/questions/basic.yaml",
            "line": 2,
            "column": 10,
            "code": "E008",
            "severity": "error",
            "message": "unknown level 'basik' (did you mean 'basic'?); levels are basic, "
            "intermediate, advanced",
        }
    ]
    github = run(["validate", "--format", "github"], tmp_path)
    assert github.stdout.splitlines() == [
        "::error file=source/questions/basic.yaml,line=2,col=10,title=E008::unknown level "
        "'basik' (did you mean 'basic'?); levels are basic, intermediate, advanced"
    ]
    assert "Found 1 error" in github.stderr


# -- help ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("command", "present", "absent"),
    [
        ("validate", ["--source", "--strict", "--format"], ["--out", "--templates"]),
        ("stats", ["--source"], ["--out", "--templates"]),
        ("new", ["--source", "--level"], ["--out", "--templates", "--strict", "--ignore"]),
        ("import", ["--source", "--ignore"], ["--out", "--templates"]),
        ("diff", ["--source", "--templates"], ["--out"]),
        ("build", ["--source", "--out", "--templates", "--paper"], []),
        ("init", ["--title"], ["--source", "--out", "--strict"]),
    ],
)
def test_each_command_lists_only_the_options_it_uses(
    command: str, present: list[str], absent: list[str]
) -> None:
    text = CliRunner().invoke(main, [command, "-h"]).output
    for option in present:
        assert option in text, (command, option)
    for option in absent:
        assert option not in text, (command, option)


def test_top_level_help_shows_the_daily_loop_and_whole_descriptions() -> None:
    text = CliRunner().invoke(main, ["-h"], terminal_width=100).output
    for step in ("exporter new", "exporter validate", "exporter diff", "exporter build",
                 "exporter watch", "exporter init"):  # fmt: skip
        assert step in text
    commands = text.split("Commands:")[1]
    assert "..." not in commands
    assert "Import questions from plain text, CSV/TSV or an Anki package into a new" in commands


# -- progress --------------------------------------------------------------------------------


def _build_on_a_terminal(bank: Path, *args: str) -> str:
    master, slave = pty.openpty()
    env = {**os.environ, "TERM": "xterm", "COLUMNS": "100"}
    process = subprocess.Popen(
        [sys.executable, "-m", "exporter", "build", *args],
        cwd=bank, stdin=slave, stdout=slave, stderr=slave, env=env,
    )  # fmt: skip
    os.close(slave)
    output = b""
    while True:
        ready, _, _ = select.select([master], [], [], 120)
        if not ready:
            process.kill()
            break
        try:
            chunk = os.read(master, 65536)
        except OSError:
            break
        if not chunk:
            break
        output += chunk
    process.wait(timeout=60)
    os.close(master)
    return re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", output.decode("utf-8", "replace"))


@pytest.mark.slow
def test_progress_on_a_terminal_only_and_never_with_quiet(tmp_path: Path) -> None:
    write_source(tmp_path, QUESTIONS_YAML, DECK_YAML, TAXONOMY_YAML)
    shown = _build_on_a_terminal(tmp_path, "-t", "flashcards", "-t", "quiz")
    assert "flashcards: laying out sheets" in shown and "quiz: laying out segments" in shown
    assert re.search(r"Done in [\d.]+ m?s: wrote 2 outputs to build/", shown.splitlines()[-1])
    quiet = _build_on_a_terminal(tmp_path, "-q", "--clean", "-t", "flashcards")
    assert quiet.strip() == ""
    piped = run(["build", "--clean", "-t", "flashcards"], tmp_path)
    assert "laying out" not in piped.stderr and "━" not in piped.stderr
    assert piped.stderr.splitlines()[-1].startswith("Done in ")


def test_a_taxonomy_with_no_tags_yet_is_valid(tmp_path: Path) -> None:
    write_source(tmp_path, QUESTIONS_YAML.replace("  tags: [math]\n", ""), DECK_YAML, "tags:\n")
    result = run(["validate"], tmp_path)
    assert result.exit_code == 0, result.stderr
    assert [line.split(": ")[1].split()[0] for line in result.stderr.splitlines()[:-1]] == [
        "W102",
        "W102",
    ]

"""The command line: diagnostics output, summary, exit codes 0/1/2, options and imports."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import click
import pytest
from conftest import DECK_YAML, QUESTIONS_YAML, REAL_SOURCE, REPO_ROOT, ROOTS, MakeSource, RunCli

from exporter import __version__
from exporter.cli.commands import main

PLANTED = ROOTS / "planted-15"

LONG_ANSWER = """\
- id: dropout
  level: basic
  question: What is dropout?
  answer: one two three four five six seven
"""
"""A clean question whose answer is too long for ``answer_word_limit: 5`` (W103 only)."""

SHORT_LIMIT_DECK = DECK_YAML + "answer_word_limit: 5\n"


def assert_no_traceback(*outputs: str) -> None:
    for output in outputs:
        assert "Traceback" not in output
        assert "internal error" not in output


# --- the planted-mistakes golden test ------------------------------------------------


def test_planted_15_mistakes_give_15_located_diagnostics_and_exit_1(
    tmp_path: Path, run_cli: RunCli
) -> None:
    shutil.copytree(PLANTED / "source", tmp_path / "source")
    result = run_cli(["validate"])
    expected = (PLANTED / "expected.txt").read_text(encoding="utf-8").splitlines()
    lines = result.stderr.splitlines()
    assert result.exit_code == 1
    assert lines == expected
    diagnostics, summary = lines[:-1], lines[-1]
    assert len(diagnostics) == 15
    assert summary == "Found 14 errors and 1 warning."
    found_codes = [line.split(": ", 2)[1].split()[0] for line in diagnostics]
    assert len(set(found_codes)) == 15  # fifteen different rules
    assert all(line.startswith("source/questions/") for line in diagnostics)
    assert result.stdout == ""
    assert_no_traceback(result.stderr)


def test_planted_golden_lines_are_well_formed() -> None:
    lines = (PLANTED / "expected.txt").read_text(encoding="utf-8").splitlines()
    for line in lines[:-1]:
        path, row, col, rest = line.split(":", 3)
        assert Path(path).suffix == ".yaml"
        assert int(row) >= 1 and int(col) >= 1
        assert rest[1:5] in {"E00" + str(i) for i in range(1, 10)} | {
            f"E0{i}" for i in range(10, 20)
        } | {f"W10{i}" for i in range(1, 8)}


# --- exit codes ----------------------------------------------------------------------


def test_clean_source_exits_0(make_source: MakeSource, run_cli: RunCli) -> None:
    make_source()
    result = run_cli(["validate"])
    assert result.exit_code == 0
    assert result.stderr.splitlines() == [
        "source: 2 questions, deck 'test-deck'",
        "All checks passed.",
    ]
    assert result.stdout == ""


def test_quiet_clean_run_prints_nothing(make_source: MakeSource, run_cli: RunCli) -> None:
    make_source()
    result = run_cli(["validate", "-q"])
    assert result.exit_code == 0
    assert result.stderr == "" and result.stdout == ""


def test_errors_exit_1_with_one_line_each_and_a_summary(
    make_source: MakeSource, run_cli: RunCli
) -> None:
    make_source(
        QUESTIONS_YAML.replace("level: basic", "level: basics").replace("[math]", "[maths]")
    )
    result = run_cli(["validate", "-q"])
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "source/questions/basic.yaml:2:10: E008 unknown level 'basics' (did you mean 'basic'?); "
        "levels are basic, intermediate, advanced",
        "source/questions/basic.yaml:15:9: E009 unknown tag 'maths' (did you mean 'math'?)",
        "Found 2 errors and 0 warnings.",
    ]


def test_missing_source_folder_exits_2_without_traceback(run_cli: RunCli) -> None:
    result = run_cli(["validate", "--source", "nowhere"])
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        "Error: source folder 'nowhere' does not exist "
        "(run 'exporter init' to start a bank here, or pass --source DIR)"
    ]
    assert_no_traceback(result.stdout, result.stderr)


@pytest.mark.parametrize("command", ["validate", "stats"])
def test_missing_files_exit_2(make_source: MakeSource, run_cli: RunCli, command: str) -> None:
    make_source(deck_yaml=None)
    result = run_cli([command])
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        "source/deck.yaml:1:1: E017 missing deck.yaml",
        "Found 1 error and 0 warnings.",
    ]


def test_unreadable_question_file_exits_2(make_source: MakeSource, run_cli: RunCli) -> None:
    source = make_source()
    (source / "questions" / "more.yaml").mkdir()
    result = run_cli(["validate"])
    assert result.exit_code == 2
    assert (
        "source/questions/more.yaml:1:1: E017 file is a folder, not a regular file" in result.stderr
    )
    assert_no_traceback(result.stderr)


def test_file_too_large_exits_2(
    make_source: MakeSource, run_cli: RunCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    from exporter.source import loader

    make_source(QUESTIONS_YAML + "#" * 5000 + "\n")
    monkeypatch.setattr(loader, "MAX_FILE_BYTES", 4096)
    result = run_cli(["validate"])
    assert result.exit_code == 2
    assert "E017 file is" in result.stderr


@pytest.mark.parametrize(
    "args",
    [
        ["validate", "--no-such-option"],
        ["validate", "--ignore", "X999"],
        ["stats", "--format", "xml"],
        ["no-such-command"],
    ],
)
def test_usage_errors_exit_2(make_source: MakeSource, run_cli: RunCli, args: list[str]) -> None:
    make_source()
    result = run_cli(args)
    assert result.exit_code == 2
    assert "Error:" in result.stderr
    assert_no_traceback(result.stderr)


# --- strict and ignore ---------------------------------------------------------------


def test_warnings_fail_only_with_strict(make_source: MakeSource, run_cli: RunCli) -> None:
    make_source(LONG_ANSWER, deck_yaml=SHORT_LIMIT_DECK)
    warning = (
        "source/questions/basic.yaml:4:11: W103 answer has 7 words; cards read best under 5 "
        "(answer_word_limit in deck.yaml)"
    )
    relaxed = run_cli(["validate"])
    assert relaxed.exit_code == 0
    assert relaxed.stderr.splitlines() == [warning, "Found 0 errors and 1 warning."]
    strict = run_cli(["validate", "--strict"])
    assert strict.exit_code == 1
    assert strict.stderr.splitlines() == [warning, "Found 0 errors and 1 warning."]


@pytest.mark.parametrize("spelling", [["--ignore", "W103"], ["--ignore", "w103,W101"]])
def test_ignore_silences_a_code(
    make_source: MakeSource, run_cli: RunCli, spelling: list[str]
) -> None:
    make_source(LONG_ANSWER, deck_yaml=SHORT_LIMIT_DECK)
    result = run_cli(["validate", "--strict", *spelling])
    assert result.exit_code == 0
    assert "W103" not in result.stderr
    assert result.stderr.splitlines()[-1] == "All checks passed."


def test_ignore_is_repeatable_and_errors_cannot_be_ignored(
    make_source: MakeSource, run_cli: RunCli
) -> None:
    make_source(LONG_ANSWER.replace("level: basic", "level: basics"), deck_yaml=SHORT_LIMIT_DECK)
    assert run_cli(["validate"]).exit_code == 1
    for command in ("validate", "build", "diff", "stats"):
        result = run_cli([command, "--strict", "--ignore", "E008", "--ignore", "W103"])
        assert result.exit_code == 2, command
        assert "E008 is an error and cannot be ignored" in result.stderr
        assert "Traceback" not in result.stderr
    result = run_cli(["validate", "--ignore", "W103", "--ignore", "w101"])
    assert result.exit_code == 1  # the unknown level is still reported
    assert " E008 " in result.stderr and " W103 " not in result.stderr


# --- version, help, entry points -----------------------------------------------------


def test_version(run_cli: RunCli) -> None:
    result = run_cli(["--version"])
    assert result.exit_code == 0
    assert result.stdout.strip() == f"exporter, version {__version__}"


def test_main_help(run_cli: RunCli) -> None:
    result = run_cli(["--help"])
    assert result.exit_code == 0
    assert result.stdout.startswith("Usage: exporter")
    for command in ("validate", "stats", "build"):
        assert command in result.stdout


def _command_names() -> list[str]:
    with click.Context(main) as ctx:
        assert isinstance(main, click.Group)
        return main.list_commands(ctx)


@pytest.mark.parametrize("command", ["validate", "stats", "build"])
def test_help_of_the_core_commands(run_cli: RunCli, command: str) -> None:
    for flag in ("--help", "-h"):
        result = run_cli([command, flag])
        assert result.exit_code == 0, result.stderr
        assert result.stdout.startswith(f"Usage: exporter {command}")
        for option in ("--source", "--strict", "--ignore"):
            assert option in result.stdout


def test_help_of_every_command(run_cli: RunCli) -> None:
    for command in _command_names():
        result = run_cli([command, "--help"])
        assert result.exit_code == 0, (command, result.stderr)
        assert result.stdout.startswith(f"Usage: exporter {command}"), command


def _run_python(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args],
        capture_output=True,
        text=True,
        cwd=cwd or REPO_ROOT,
        timeout=120,
        check=False,
    )


def test_python_m_exporter_version() -> None:
    done = _run_python("-m", "exporter", "--version")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"exporter, version {__version__}"


@pytest.mark.parametrize("command", ["validate", "stats"])
def test_validate_and_stats_do_not_import_renderers(tmp_path: Path, command: str) -> None:
    code = (
        "import sys\n"
        "from exporter.cli.commands import main\n"
        "try:\n"
        "    main([sys.argv[1], '--source', sys.argv[2], '--out', sys.argv[3], '-q'])\n"
        "except SystemExit as exit:\n"
        "    code = exit.code\n"
        "heavy = ('weasyprint', 'genanki', 'anki', 'ziamath', 'pypdf', 'jinja2')\n"
        "print(code, sorted(m for m in heavy if m in sys.modules))\n"
    )
    done = _run_python("-c", code, command, str(REAL_SOURCE), str(tmp_path / "build"))
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "0 []"


# --- the real bank -------------------------------------------------------------------


def test_real_bank_validates_clean_with_strict(tmp_path: Path, run_cli: RunCli) -> None:
    result = run_cli(
        ["validate", "--strict", "--source", str(REAL_SOURCE), "--out", str(tmp_path / "b")]
    )
    assert result.exit_code == 0, result.stderr
    assert result.stderr.splitlines()[-1] == "All checks passed."
    assert_no_traceback(result.stderr)


def test_real_bank_stats_text(tmp_path: Path, run_cli: RunCli) -> None:
    result = run_cli(["stats", "--source", str(REAL_SOURCE), "--out", str(tmp_path / "b")])
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("Deep Learning Interview Questions (deep-learning): ")
    total = int(lines[0].split(": ")[1].split()[0])
    levels = lines[lines.index("Levels") + 1 : lines.index("Topics") - 1]
    assert [line.split()[0] for line in levels] == ["basic", "intermediate", "advanced"]
    assert sum(int(line.split()[1]) for line in levels) == total
    topics = lines[lines.index("Topics") + 1 :]
    topics = topics[: topics.index("")]
    assert len(topics) == 17
    assert all(int(line.split()[1]) > 0 for line in topics)
    assert "Without a topic tag: 0" in lines
    assert "Seed coverage: 81/81" in lines
    assert not any(line.strip().startswith("missing:") for line in lines)


def test_real_bank_covers_every_seed_number_1_to_81(tmp_path: Path, run_cli: RunCli) -> None:
    """The bank answers every question of its seed material, and every card has a topic."""
    result = run_cli(
        ["stats", "--format", "json", "--source", str(REAL_SOURCE), "--out", str(tmp_path / "b")]
    )
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["seed"] == {"total": 81, "covered": list(range(1, 82)), "missing": []}
    assert data["untagged"] == []
    assert data["retired"] == 0
    assert sum(data["levels"].values()) == data["questions"]
    assert list(data["levels"]) == ["basic", "intermediate", "advanced"]
    assert all(count > 0 for count in data["topics"].values())


def test_stats_on_a_small_bank(make_source: MakeSource, run_cli: RunCli) -> None:
    make_source(
        QUESTIONS_YAML
        + "\n- id: epoch\n  level: advanced\n  question: What is an epoch?\n  answer: A pass.\n"
        + "\n- id: old\n  level: basic\n  question: Old dropout?\n  answer: Gone.\n"
        + "  retired: true\n"
        + "  seed: [9]\n"
    )
    result = run_cli(["stats"])
    assert result.exit_code == 0  # W102 is a warning
    assert "W102 question 'epoch' has no topic tag" in result.stderr
    assert result.stdout.splitlines() == [
        "Test deck (test-deck): 3 questions, 1 retired",
        "",
        "Levels",
        "  basic                        1",
        "  intermediate                 1",
        "  advanced                     1",
        "",
        "Topics",
        "  optimization                 1",
        "  regularization               1",
        "  cnn                          0",
        "  math                         1",
        "",
        "Without a topic tag: 1 (epoch)",
        "Seed coverage: 3/10",
        "  missing: 4–10",
    ]
    data = json.loads(run_cli(["stats", "--format", "json"]).stdout)
    assert data["seed"] == {"total": 10, "covered": [1, 2, 3], "missing": list(range(4, 11))}
    assert data["untagged"] == ["epoch"]


def test_stats_of_a_broken_source_exits_1(make_source: MakeSource, run_cli: RunCli) -> None:
    make_source(deck_yaml="id: d\n")
    result = run_cli(["stats"])
    assert result.exit_code == 1
    assert result.stdout == ""
    assert "E003 deck.yaml is missing required field 'title'" in result.stderr


# --- hostile input through the whole command -----------------------------------------

HOSTILE = {
    "bomb.yaml": "a: &a [x, x, x, x, x, x, x, x, x]\n"
    + "".join(
        f"{c}: &{c} [{', '.join([f'*{p}'] * 9)}]\n"
        for p, c in zip("abcdefgh", "bcdefghi", strict=True)
    ),
    "deep.yaml": "[" * 100_000,
    "tag.yaml": "- !!python/object/apply:os.system ['echo pwned']\n",
    "tabs.yaml": "- id: a\n\tlevel: basic\n",
    "binary.yaml": "- id: caf\udce9\n",
    "control.yaml": "- id: a\x00\n",
    "recursive.yaml": "&a [*a]\n",
    "docs.yaml": "[]\n---\n[]\n",
    "merge.yaml": "- <<: {id: m}\n  id: m\n  level: basic\n  question: Dropout?\n  answer: A.\n",
}


def test_hostile_files_never_give_a_traceback(make_source: MakeSource, run_cli: RunCli) -> None:
    files: dict[str, str | bytes] = {
        name: text.encode("utf-8", "surrogateescape") for name, text in HOSTILE.items()
    }
    make_source({"basic.yaml": QUESTIONS_YAML, **files})
    result = run_cli(["validate"])
    assert result.exit_code == 1
    assert_no_traceback(result.stdout, result.stderr)
    lines = result.stderr.splitlines()
    by_file = {line.split(":", 1)[0].rsplit("/", 1)[-1] for line in lines[:-1]}
    assert by_file == set(HOSTILE)
    assert "pwned" not in result.stdout + result.stderr
    assert "source/questions/merge.yaml:1:3: E006 unknown field '<<' in question" in lines

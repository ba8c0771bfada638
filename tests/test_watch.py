"""``exporter watch``: the real command in a subprocess, plus the loop and filter in-process."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from exporter.build.pipeline import BuildRequest
from exporter.cli.watch import WatchFilter, watch_loop

DECK = "id: t\ntitle: T\nlevels: [basic]\n"
TAXONOMY = "tags:\n  topic:\n    title: Topic\n    match: [alpha]\n"
QUESTIONS = """\
# Two questions about alpha.
- id: first
  level: basic
  question: What is alpha?
  answer: |
    Alpha is the first letter.

- id: second
  level: basic
  question: Why does alpha come first?
  answer: |
    Because alpha is where the alphabet starts.
"""


def write_source(root: Path, questions: str = QUESTIONS) -> Path:
    source = root / "source"
    (source / "questions").mkdir(parents=True)
    (source / "deck.yaml").write_text(DECK)
    (source / "taxonomy.yaml").write_text(TAXONOMY)
    (source / "questions" / "q.yaml").write_text(questions)
    return source


def wait_for(
    condition: Callable[[], bool], timeout: float, what: str, output: Output | None = None
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    shown = f"; output so far:\n{output.text()}" if output is not None else ""
    raise AssertionError(f"timed out after {timeout}s waiting for {what}{shown}")


class Output:
    """A subprocess's merged output, read line by line on a background thread."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        self.lines: list[str] = []
        self._lock = threading.Lock()
        assert proc.stdout is not None
        self._stream = proc.stdout
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        for line in self._stream:
            with self._lock:
                self.lines.append(line.rstrip("\n"))

    def snapshot(self) -> list[str]:
        with self._lock:
            return list(self.lines)

    def since(self, start: int) -> list[str]:
        return self.snapshot()[start:]

    def text(self) -> str:
        return "\n".join(self.snapshot())


def test_watch_rebuilds_reports_errors_recovers_and_stops_on_sigint(tmp_path: Path) -> None:
    source = write_source(tmp_path)
    questions = source / "questions" / "q.yaml"
    apkg = tmp_path / "out" / "t.apkg"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    command = [sys.executable, "-u", "-m", "exporter", "watch"]
    command += ["--source", "source", "--out", "out", "-t", "anki", "--debounce", "100"]
    proc = subprocess.Popen(
        command,
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    output = Output(proc)

    def until(condition: Callable[[], bool], timeout: float, what: str) -> None:
        wait_for(condition, timeout, what, output)

    def printed_since(start: int, fragment: str) -> Callable[[], bool]:
        return lambda: any(fragment in text for text in output.since(start))

    try:
        # First build: it starts once the watcher is live, so no later save is missed.
        until(apkg.exists, 20, "the first .apkg")
        until(printed_since(0, "built in"), 5, "'built in'")
        first = apkg.read_bytes()

        # An edit rebuilds the deck. (Wait for the report line, printed once the build is
        # over, before saving again: the next save must not land in the middle of a build.)
        mark = len(output.snapshot())
        edited = QUESTIONS.replace("the first letter", "the first Greek letter")
        questions.write_text(edited)
        until(printed_since(mark, "wrote out/t.apkg"), 10, "'rebuilt … wrote out/t.apkg'")
        assert apkg.read_bytes() != first

        # An error is reported with its location; the watcher keeps running.
        mark = len(output.snapshot())
        broken = edited.replace("level: basic\n  question: Why", "level: basik\n  question: Why")
        questions.write_text(broken)
        lines = broken.split("\n")
        line = next(i for i, text in enumerate(lines, 1) if "basik" in text)
        col = lines[line - 1].index("basik") + 1
        expected = f"source/questions/q.yaml:{line}:{col}: E008 unknown level 'basik'"
        until(printed_since(mark, expected), 10, f"the line {expected!r}")
        until(printed_since(mark, "build failed"), 5, "'build failed'")
        assert proc.poll() is None, output.text()

        # Fixing it builds again.
        mark = len(output.snapshot())
        questions.write_text(edited.replace("where the alphabet", "where the Greek alphabet"))
        until(printed_since(mark, "rebuilt in"), 10, "a rebuild")
        assert proc.poll() is None, output.text()

        # Ctrl-C stops cleanly.
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=10) == 0, output.text()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=5)
    until(printed_since(0, "stopped"), 2, "'stopped'")
    text = output.text()
    assert "Traceback" not in text
    assert "interrupted" not in text


def test_loop_survives_errors_and_skips_ignored_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    source = write_source(tmp_path)
    questions = source / "questions" / "q.yaml"
    out = tmp_path / "build"
    request = BuildRequest(source=Path("source"), out=Path("build"), targets=("anki",))
    printed: list[str] = []

    def batches() -> Iterator[set[tuple[int, str]]]:
        yield set()  # the watcher is ready: the first build
        questions.write_text(QUESTIONS.replace("level: basic", "level: nope", 1))
        yield {(2, str(questions.resolve()))}
        # the build's own writes and editor droppings never trigger a build
        yield {(2, str((source / "deck.lock").resolve())), (1, str(out.resolve() / "t.apkg"))}
        yield {(1, str(questions.resolve()) + ".swp"), (1, str(source.resolve() / "4913"))}
        yield set()
        questions.write_text(QUESTIONS)
        yield {(2, str(questions.resolve()))}

    builds = watch_loop(request, batches(), printed.append)
    assert builds == 3
    text = "\n".join(printed)
    assert "source/questions/q.yaml:3:10: E008 unknown level 'nope'" in text
    assert sum("build failed" in line for line in printed) == 1
    assert "rebuilt in" in printed[-1]
    assert (out / "t.apkg").is_file()


def test_filter_ignores_outputs_lock_and_editor_files(tmp_path: Path) -> None:
    source, templates = tmp_path / "source", tmp_path / "templates"
    selector = WatchFilter.for_request(source, source / "build", templates)
    questions = source / "questions"
    assert selector.relevant(str(questions / "basic.yaml"))
    assert selector.relevant(str(source / "images" / "plot.png"))
    for ignored in [
        source / "deck.lock",
        source / ".deck.lock.abc123.tmp",
        source / "build" / "deck.apkg",
        source / "build" / ".cache" / "markdown.json",
        questions / ".basic.yaml.swp",
        questions / "basic.yaml~",
        questions / ".#basic.yaml",
        questions / "4913",
        source / ".git" / "index",
    ]:
        assert not selector.relevant(str(ignored)), ignored
    every = ("anki", "cheatsheet", "flashcards", "quiz")
    anki_css = str(templates / "anki" / "style.css")
    pdf_css = str(templates / "pdf" / "base.css")
    assert selector.affected([anki_css], every) == ("anki",)
    assert selector.affected([pdf_css], every) == ("cheatsheet", "flashcards", "quiz")
    assert selector.affected([pdf_css], ("anki",)) == ()
    assert selector.affected([anki_css, str(questions / "a.yaml")], every) == every

"""Shared helpers for the test suite: small source folders and a Click runner.

Fixtures
--------
``make_source``
    A factory writing a project under the test's ``tmp_path``::

        source = make_source(QUESTIONS)                      # tmp_path/source
        source = make_source({"a.yaml": A, "b.yaml": B})     # several question files
        source = make_source(QUESTIONS, deck_yaml=None)      # no deck.yaml at all
        source = make_source(QUESTIONS, files={"images/x.png": b"..."})

    It returns the ``source`` folder (``tmp_path / "source"``); the default deck and
    taxonomy (:data:`DECK_YAML`, :data:`TAXONOMY_YAML`) are small and valid. It also
    makes ``tmp_path`` the working directory, so locations print as ``source/…``.

``run_cli``
    Runs ``exporter.cli.commands.main`` in-process with :class:`click.testing.CliRunner`, from
    ``tmp_path`` as working directory (so ``--source`` defaults to ``tmp_path/source``,
    diagnostics print as ``source/questions/…`` and the cache lands in ``tmp_path/build``).
    Unexpected exceptions propagate: a test fails loudly instead of seeing a traceback in
    the output. ``result.stdout`` and ``result.stderr`` are separate (Click ≥ 8.2).

The plain functions :func:`write_source` and :func:`invoke_cli` do the same without
fixtures (for Hypothesis tests, which must not use function-scoped fixtures per example).
They, :func:`load_bank` (load + validate in-process), :func:`diagnostic_lines`, and the
constants (:data:`REAL_SOURCE`, :data:`DECK_YAML`, :data:`PNG_BYTES`, …) are imported with
``from conftest import ...`` (pytest puts ``tests/`` on ``sys.path``).
"""

from __future__ import annotations

import os
import shutil
import struct
import zlib
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from exporter.core.diagnostics import Diagnostics
from exporter.core.model import Bank
from exporter.source.loader import load_source
from exporter.source.validate import validate

REPO_ROOT = Path(__file__).resolve().parent.parent
"""The checkout: ``source/`` is the real bank."""
REAL_SOURCE = REPO_ROOT / "source"
"""The real 81-seed deep-learning bank."""
ROOTS = Path(__file__).resolve().parent / "roots"
"""Prepared source folders used by golden tests (``roots/<name>/source``)."""

DECK_YAML = """\
id: test-deck
title: Test deck
description: A small deck for tests.
levels: [basic, intermediate, advanced]
seed:
  title: Numbered source material
  questions: 10
"""
"""A valid ``deck.yaml``: three levels, seed numbers 1–10, default answer_word_limit (80)."""

TAXONOMY_YAML = """\
tags:
  optimization:
    title: Optimization
    match: [gradient descent, learning rate*, momentum, mini batch*]
  regularization:
    title: Regularization
    match: [dropout, overfit*, regulari*, weight decay]
  cnn:
    title: Convolutional networks
    match: [convolution*, pooling, cnn]
  math:
    title: Mathematics
    description: Formulas and notation.
"""
"""A valid ``taxonomy.yaml``: four topics, the last one without match rules."""

QUESTIONS_YAML = """\
- id: dropout
  level: basic
  question: What is dropout?
  answer: Randomly zeroing activations during training.
  seed: [1]

- id: momentum
  level: intermediate
  question: What does momentum do in gradient descent?
  answer: |
    It keeps a running average of past gradients,
    which smooths the updates.
  details: |
    $v_t = \\beta v_{t-1} + g_t$
  tags: [math]
  seed: [2, 3]
"""
"""Two valid questions (both tagged, seeds 1–3) for tests that need a clean bank."""


def _tiny_png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)  # 1×1, 8-bit RGB
    pixels = zlib.compress(b"\x00\xff\x00\x00")  # filter byte + one red pixel
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


PNG_BYTES = _tiny_png()
"""A valid 1×1 PNG, for image files in test sources (``files={"images/x.png": PNG_BYTES}``)."""


def write_source(
    project_dir: Path,
    questions_yaml: str | Mapping[str, str | bytes] = QUESTIONS_YAML,
    deck_yaml: str | bytes | None = DECK_YAML,
    taxonomy_yaml: str | bytes | None = TAXONOMY_YAML,
    files: Mapping[str, str | bytes] | None = None,
) -> Path:
    """Write ``project_dir/source`` and return it.

    ``questions_yaml`` is the text of ``questions/basic.yaml``, or a mapping of file name
    (inside ``questions/``) to content. ``None`` for the deck or taxonomy leaves that file
    out. ``files`` adds more files by path relative to ``source/`` (e.g. images). ``str``
    content is written as UTF-8 with ``\\n`` line ends exactly as given; ``bytes`` as is.
    """
    source = project_dir / "source"
    if source.exists():
        shutil.rmtree(source)
    (source / "questions").mkdir(parents=True)
    questions = (
        {"basic.yaml": questions_yaml} if isinstance(questions_yaml, str) else questions_yaml
    )
    contents: dict[str, str | bytes | None] = {
        "deck.yaml": deck_yaml,
        "taxonomy.yaml": taxonomy_yaml,
        **{f"questions/{name}": text for name, text in questions.items()},
        **(files or {}),
    }
    for name, content in contents.items():
        if content is None:
            continue
        path = source / name
        path.parent.mkdir(parents=True, exist_ok=True)
        data = content if isinstance(content, bytes) else content.encode("utf-8")
        path.write_bytes(data)
    return source


MakeSource = Callable[..., Path]


@pytest.fixture
def make_source(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> MakeSource:
    """``make_source(questions_yaml, deck_yaml=..., taxonomy_yaml=..., files=...)`` → source/.

    See :func:`write_source`; the project directory is the test's ``tmp_path``, which also
    becomes the working directory, so locations print as ``source/questions/basic.yaml``.
    """
    monkeypatch.chdir(tmp_path)

    def factory(
        questions_yaml: str | Mapping[str, str | bytes] = QUESTIONS_YAML,
        deck_yaml: str | bytes | None = DECK_YAML,
        taxonomy_yaml: str | bytes | None = TAXONOMY_YAML,
        files: Mapping[str, str | bytes] | None = None,
    ) -> Path:
        return write_source(tmp_path, questions_yaml, deck_yaml, taxonomy_yaml, files)

    return factory


def invoke_cli(args: Sequence[str], cwd: Path | None = None) -> Result:
    """Run ``exporter <args>`` in-process (from ``cwd`` when given); exceptions propagate."""
    from exporter.cli.commands import main

    runner = CliRunner()
    previous = Path.cwd()
    if cwd is not None:
        os.chdir(cwd)
    try:
        return runner.invoke(main, list(args), catch_exceptions=False, prog_name="exporter")
    finally:
        os.chdir(previous)


RunCli = Callable[..., Result]


@pytest.fixture
def run_cli(tmp_path: Path) -> RunCli:
    """``run_cli(["validate", "--strict"], cwd=None)`` → :class:`click.testing.Result`.

    Runs from ``tmp_path`` unless ``cwd`` is given. ``result.exit_code``, ``result.stdout``
    (reports such as ``stats``) and ``result.stderr`` (diagnostics, summary, messages).
    """

    def run(args: Sequence[str], cwd: Path | None = None) -> Result:
        return invoke_cli(args, cwd or tmp_path)

    return run


def copy_bank(tmp_path: Path) -> Path:
    """A private copy of the real bank in ``tmp_path/source``, without its lock, so every
    test starts from a first build."""
    source = tmp_path / "source"
    shutil.copytree(REAL_SOURCE, source)
    (source / "deck.lock").unlink(missing_ok=True)
    return source


def edit_bank(source: Path, old: str, new: str) -> None:
    """Replace the first ``old`` found in the bank's question files (it must exist)."""
    for path in sorted((source / "questions").glob("*.yaml")):
        text = path.read_text(encoding="utf-8")
        if old in text:
            path.write_text(text.replace(old, new, 1), encoding="utf-8")
            return
    raise AssertionError(f"{old!r} not found in the bank")


def load_bank(source: Path, ignore: Sequence[str] = ()) -> tuple[Bank | None, Diagnostics]:
    """Load and validate a source folder in-process: the bank (or None) and the diagnostics."""
    diagnostics = Diagnostics(ignore=frozenset(ignore))
    bank = validate(load_source(source, diagnostics), diagnostics)
    return bank, diagnostics


def diagnostic_lines(source: Path, ignore: Sequence[str] = ()) -> list[str]:
    """The formatted diagnostics of a source folder, sorted, as the CLI prints them."""
    from exporter.build.project import load_project

    project = load_project(source, ignore=ignore)
    return [item.format() for item in project.diagnostics]


def codes(diagnostics: Diagnostics) -> list[str]:
    """The rule codes of some diagnostics, in report order."""
    return [item.code for item in diagnostics]


@pytest.fixture
def real_source() -> Path:
    """The real bank (read-only: never write into it)."""
    return REAL_SOURCE

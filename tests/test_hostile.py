"""Hostile and broken sources: exact diagnostics, exit codes, bounded resources, no damage.

Each folder under ``tests/hostile/`` (see its README.md) is a small source with one planted
problem and its golden diagnostics. Every case runs the real CLI in a subprocess, from a
copy of the case, over the outputs of a previous clean build of the valid baseline, and
must: exit with the expected code (1, or 2 for usage/I/O), print exactly the expected
stderr (one located line per problem, then the summary), never print a traceback, finish
within a time and address-space limit, and leave the previous outputs, the lock file and
the source byte-for-byte unchanged.

``UPDATE_GOLDEN=1 pytest tests/test_hostile.py`` rewrites ``expected.txt`` and
``expected_exit.txt`` from the current output; review the diff before committing.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import re
import resource
import shlex
import shutil
import sqlite3
import stat
import subprocess
import sys
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import fuzz_long
import pytest
from hypothesis import HealthCheck, settings

HOSTILE = Path(__file__).resolve().parent / "hostile"
BASELINE = HOSTILE / "_baseline"
CASES = sorted(p.name for p in HOSTILE.iterdir() if p.is_dir() and not p.name.startswith("_"))
UPDATE_GOLDEN = os.environ.get("UPDATE_GOLDEN") == "1"

TIMEOUT = 60.0
"""Seconds before a run is killed (and the test fails)."""
TIME_LIMIT = 20.0
"""Seconds a hostile run may take; the slowest case takes well under 2 s."""
MEMORY_LIMIT = 2 * 1024**3
"""Address-space limit of each run (RLIMIT_AS), so a memory blow-up fails fast."""
DEFAULT_TARGET = ("-t", "anki")
"""Added unless a case's args.txt chooses a target: the fastest complete build."""

DIAGNOSTIC = re.compile(r"^[^:]+:\d+:\d+: [EW]\d{3} \S")
SUMMARY = re.compile(r"^Found \d+ errors? and \d+ warnings?\.$")
TAIL = ("Nothing written.",)
SKIPPED = ".cache"
"""``build/.cache`` holds caches (checked formulas, rendered Markdown), not outputs; a failed
run may add to it. Everything else in the case folder must stay as it was."""


def _limit_resources() -> None:  # runs in the child, before exec
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


@dataclass
class Run:
    """One finished CLI run."""

    code: int
    stdout: str
    stderr: str
    seconds: float


def run_exporter(cwd: Path, *args: str) -> Run:
    """``python -m exporter <args>`` from ``cwd``, limited in time and memory."""
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1", "NO_COLOR": "1"}
    env.pop("PYTHONPATH", None)
    started = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "exporter", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        encoding="utf-8",
        errors="replace",
        timeout=TIMEOUT,
        preexec_fn=_limit_resources,
        env=env,
        check=False,
    )
    return Run(proc.returncode, proc.stdout, proc.stderr, time.perf_counter() - started)


def snapshot(root: Path) -> dict[str, object]:
    """Every path under ``root`` (links not followed) with its bytes' hash or link target."""
    state: dict[str, object] = {}
    for folder, dirs, files in os.walk(root):
        here = Path(folder)
        rel_folder = here.relative_to(root).as_posix()
        if rel_folder == f"build/{SKIPPED}" or rel_folder.startswith(f"build/{SKIPPED}/"):
            continue
        for name in dirs + files:
            path = here / name
            rel = path.relative_to(root).as_posix()
            if rel == f"build/{SKIPPED}":
                continue
            info = path.lstat()
            if path.is_symlink():
                state[rel] = ("link", os.readlink(path))
            elif path.is_dir():
                state[rel] = ("dir",)
            elif not stat.S_ISREG(info.st_mode):  # a FIFO planted on purpose: never opened
                state[rel] = ("special", info.st_mode)
            elif info.st_size > 64 * 1024**2:  # a huge sparse file: its size and time
                state[rel] = ("large", info.st_size, info.st_mtime_ns)
            else:
                try:
                    state[rel] = ("file", hashlib.sha256(path.read_bytes()).hexdigest())
                except OSError:  # unreadable on purpose: its size and mode then
                    state[rel] = ("unreadable", info.st_size, info.st_mode)
    return state


def load_make(case: str) -> ModuleType | None:
    """The case's ``make.py`` module, or None."""
    path = HOSTILE / case / "make.py"
    if not path.is_file():
        return None
    spec = importlib.util.spec_from_file_location(f"hostile_make_{case.replace('-', '_')}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    previous, sys.dont_write_bytecode = sys.dont_write_bytecode, True  # no __pycache__ in cases
    try:
        spec.loader.exec_module(module)
    finally:
        sys.dont_write_bytecode = previous
    return module


def case_args(case: str, strict: bool = True) -> list[str]:
    """``build`` plus the case's extra arguments (``--strict`` dropped when not ``strict``)."""
    args_file = HOSTILE / case / "args.txt"
    extra = shlex.split(args_file.read_text(encoding="utf-8")) if args_file.is_file() else []
    if not strict:
        extra = [a for a in extra if a != "--strict"]
    chosen = any(a in ("-t", "--target") or a.startswith("--target=") for a in extra)
    return ["build", *([] if chosen else DEFAULT_TARGET), *extra]


def prepare(case: str, dest: Path) -> Path:
    """Copy a case to ``dest`` and run its ``make.py``; the copy's root."""
    root = dest / case
    shutil.copytree(
        HOSTILE / case, root, symlinks=True, ignore=shutil.ignore_patterns("__pycache__")
    )
    for name in ("make.py", "expected.txt", "expected_exit.txt", "args.txt", "xfail.txt"):
        (root / name).unlink(missing_ok=True)
    module = load_make(case)
    if module is not None:
        reason = getattr(module, "REQUIRES_NON_ROOT", None)
        if reason and os.geteuid() == 0:
            pytest.skip(f"running as root: {reason}")
        module.make(root)
    return root


@dataclass
class Baseline:
    """A clean build of the valid baseline: its ``build/`` folder and ``deck.lock``."""

    root: Path

    @property
    def build(self) -> Path:
        return self.root / "build"

    @property
    def lock(self) -> Path:
        return self.root / "source" / "deck.lock"

    def install(self, root: Path) -> None:
        """Make ``root`` look as if the baseline had been built there before."""
        shutil.copytree(self.build, root / "build")
        source = root / "source"
        if source.is_dir() and not (source / "deck.lock").exists():
            shutil.copy2(self.lock, source / "deck.lock")


@pytest.fixture(scope="module")
def baseline(tmp_path_factory: pytest.TempPathFactory) -> Baseline:
    root = tmp_path_factory.mktemp("baseline") / "project"
    shutil.copytree(BASELINE, root)
    run = run_exporter(root, "build", *DEFAULT_TARGET)
    assert run.code == 0, run.stderr
    assert (root / "build" / "t.apkg").is_file()
    return Baseline(root)


def test_the_corpus_is_complete() -> None:
    assert len(CASES) >= 40
    for case in CASES:
        folder = HOSTILE / case
        assert (folder / "source").is_dir(), case
        if not UPDATE_GOLDEN:
            assert (folder / "expected.txt").is_file(), f"{case}: run with UPDATE_GOLDEN=1"
            assert (folder / "expected_exit.txt").read_text().strip() in ("1", "2"), case


def with_known_failures(cases: list[str]) -> list[object]:
    """Cases with an ``xfail.txt`` (the reason) are expected to fail until it is fixed."""
    params: list[object] = []
    for case in cases:
        reason_file = HOSTILE / case / "xfail.txt"
        if reason_file.is_file():
            reason = reason_file.read_text(encoding="utf-8").strip()
            params.append(pytest.param(case, marks=pytest.mark.xfail(strict=True, reason=reason)))
        else:
            params.append(case)
    return params


@pytest.mark.parametrize("case", with_known_failures(CASES))
def test_hostile_case(case: str, baseline: Baseline, tmp_path: Path) -> None:
    root = prepare(case, tmp_path)
    baseline.install(root)
    before = snapshot(root)
    lock = root / "source" / "deck.lock"
    lock_before = lock.read_bytes() if lock.is_file() else None

    run = run_exporter(root, *case_args(case))

    lines = run.stderr.splitlines()
    if UPDATE_GOLDEN and not (HOSTILE / case / "xfail.txt").exists():
        (HOSTILE / case / "expected.txt").write_text(run.stderr, encoding="utf-8")
        (HOSTILE / case / "expected_exit.txt").write_text(f"{run.code}\n", encoding="utf-8")
    expected = (HOSTILE / case / "expected.txt").read_text(encoding="utf-8").splitlines()
    expected_code = int((HOSTILE / case / "expected_exit.txt").read_text())

    assert "Traceback" not in run.stdout + run.stderr
    assert "internal error" not in run.stderr
    assert run.code == expected_code, run.stderr
    assert run.code in (1, 2)
    assert lines == expected
    assert run.stdout == ""
    assert lines and lines[-1] in TAIL
    *diagnostics, summary, _ = lines
    assert SUMMARY.match(summary), summary
    assert diagnostics, "a failed build must say why"
    for line in diagnostics:
        assert DIAGNOSTIC.match(line), line
    assert run.seconds < TIME_LIMIT, f"{case} took {run.seconds:.1f}s"
    # nothing written: previous outputs, the lock and the source unchanged, nothing new
    assert snapshot(root) == before
    assert (lock.read_bytes() if lock.is_file() else None) == lock_before
    assert not (root / "PWNED").exists()


# --- warnings-only cases: the package built anyway contains nothing active -------------------

STRICT_CASES = [c for c in CASES if "--strict" in case_args(c)]
ACTIVE_CONTENT = [
    re.compile(r"<\s*script", re.IGNORECASE),
    re.compile(r"<\s*iframe", re.IGNORECASE),
    re.compile(r"<\s*object", re.IGNORECASE),
    re.compile(r"<\s*embed", re.IGNORECASE),
    re.compile(r"<[a-zA-Z][^>]*\son[a-z]+\s*=", re.IGNORECASE),
    re.compile(r"<[a-zA-Z][^>]*(?:href|src)\s*=\s*[\"']?\s*(?:javascript|vbscript|data):", re.I),
]


def package_fields(apkg: Path) -> list[str]:
    """Every note's fields (``notes.flds``, fields separated by 0x1f) in a package."""
    with zipfile.ZipFile(apkg) as archive:
        data = archive.read("collection.anki2")
    database = sqlite3.connect(":memory:")
    try:
        database.deserialize(data)
        return [row[0] for row in database.execute("SELECT flds FROM notes ORDER BY id")]
    finally:
        database.close()


def test_strict_cases_are_listed() -> None:
    assert {"script-in-answer", "onerror-in-answer", "javascript-link", "iframe-in-answer"} <= set(
        STRICT_CASES
    )


@pytest.mark.parametrize("case", STRICT_CASES)
def test_warnings_only_case_builds_without_active_content(case: str, tmp_path: Path) -> None:
    root = prepare(case, tmp_path)
    run = run_exporter(root, *case_args(case, strict=False))
    assert run.code == 0, run.stderr
    assert "Traceback" not in run.stderr
    fields = package_fields(root / "build" / "t.apkg")
    assert len(fields) >= 3
    for flds in fields:
        for pattern in ACTIVE_CONTENT:
            assert not pattern.search(flds), (pattern.pattern, flds[:300])
    expected = (HOSTILE / case / "expected.txt").read_text(encoding="utf-8")
    text = "\n".join(fields)
    if " W104 " in expected:  # the raw HTML is still there, escaped: harmless text
        assert "&lt;" in text
    if " W105 link to " in expected:  # the refused link too, as plain text
        assert "](javascript:" in text


# --- a BOM and CRLF line ends are not broken --------------------------------------------------


def to_bom_crlf(source: Path) -> None:
    """Rewrite every YAML file under ``source`` with a UTF-8 BOM and CRLF line ends."""
    for path in sorted(source.rglob("*.yaml")):
        text = path.read_bytes().decode("utf-8")
        path.write_bytes(b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode("utf-8"))


def test_bom_and_crlf_build_exactly_like_the_plain_file(tmp_path: Path) -> None:
    plain, converted = tmp_path / "plain", tmp_path / "converted"
    shutil.copytree(BASELINE, plain)
    shutil.copytree(BASELINE, converted)
    to_bom_crlf(converted / "source")
    assert (converted / "source" / "deck.yaml").read_bytes().startswith(b"\xef\xbb\xbf")
    first = run_exporter(plain, "build", *DEFAULT_TARGET)
    assert first.code == 0, first.stderr
    lock = (plain / "source" / "deck.lock").read_bytes()
    (converted / "source" / "deck.lock").write_bytes(lock)  # the same lock state
    second = run_exporter(converted, "build", *DEFAULT_TARGET)
    assert second.code == 0, second.stderr
    assert "W1" not in second.stderr and "E0" not in second.stderr
    assert (converted / "build" / "t.apkg").read_bytes() == (
        plain / "build" / "t.apkg"
    ).read_bytes()
    assert (converted / "source" / "deck.lock").read_bytes() == lock


BOM_CRLF_CASES = [
    "duplicate-key",
    "tab-indentation",
    "unknown-level",
    "latex-unbalanced",
    "several-problems-collected",
    "wrong-types-everywhere",
    "yaml-unclosed-quote",
]


@pytest.mark.parametrize("case", BOM_CRLF_CASES)
def test_bom_and_crlf_report_the_same_locations(case: str, tmp_path: Path) -> None:
    root = prepare(case, tmp_path)
    to_bom_crlf(root / "source")
    run = run_exporter(root, *case_args(case))
    expected = (HOSTILE / case / "expected.txt").read_text(encoding="utf-8").splitlines()
    assert run.stderr.splitlines() == expected
    assert run.code == int((HOSTILE / case / "expected_exit.txt").read_text())


# --- the long fuzzing session's properties, briefly (the long run: tests/fuzz_long.py) ------


@pytest.mark.parametrize("name", sorted(fuzz_long.PROPERTIES))
def test_fuzz_long_properties_briefly(name: str) -> None:
    short = settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
    short(fuzz_long.PROPERTIES[name])()

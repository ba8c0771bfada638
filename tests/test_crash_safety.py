"""Crash safety: a build killed with SIGKILL at any moment leaves only whole files.

Two versions of a source, A and B, differ in one answer, so a build of B over the outputs
of A rewrites the package, the manifest and the lock. Their complete outputs are computed
first, in separate folders. Then, many times, a fresh copy of the built A state gets B's
questions, a real ``python -m exporter build`` starts and is killed (SIGKILL: no cleanup
code runs) at a random moment or the instant a temporary output file appears. After each
kill every output must be byte-identical to A's or to B's, the lock must parse and equal
lock A or lock B, and a normal rebuild must then produce exactly B.

A killed process cannot remove its half-written temporary file: ``.<name>.<random>.tmp``
files next to an output are tolerated (and only those), never an incomplete output.

The lock's times are set in the future (year 2096) so that B's new times are always
``latest + 1`` rather than the clock: B's outputs are then the same in every run.
The RNG is seeded: ``CRASH_SEED=<n>`` replays another sequence of kill times.
"""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from exporter.build.lock import parse_lock

HOSTILE = Path(__file__).resolve().parent / "hostile"
BASELINE = HOSTILE / "_baseline" / "source"
SEED = int(os.environ.get("CRASH_SEED", "20240601"))
FUTURE = 4_000_000_000
"""Lock times after the clock (2096), so new entries get ``latest + 1``, not ``now``."""
STRAY_TMP = re.compile(r"^\.(?P<name>.+)\.[A-Za-z0-9_]+\.tmp$")
"""``output.write_atomic``'s temporary files: ``.<output name>.<random>.tmp``."""
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000001e221bc330000000049454e44ae426082"
)


def _bulk_questions(changed: bool, count: int, image: bool) -> str:
    """Distinct questions; with ``image`` the first shows a 1 MB image (a larger package,
    slower to write; the PDF target is slow enough without it)."""
    items = []
    for i in range(count):
        figure = "\n\n    ![figure](figures/big.png)" if image and i == 0 else ""
        words = " ".join(f"w{i}x{j}" for j in range(40))
        opening = "Changed answer" if changed and i == count // 2 else f"Answer {i}"
        items.append(
            f"- id: q-{i:03d}\n  level: basic\n  question: What does term t{i} mean?\n"
            f"  answer: |\n    {opening}: {words}{figure}\n  tags: [regularization]\n"
        )
    return "\n".join(items)


def run_build(cwd: Path, target: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "exporter", "build", "-t", target],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@dataclass
class References:
    """The complete outputs of A and of B (relative path → bytes), and the built A state."""

    work: Path
    built_a: Path
    a: dict[str, bytes]
    b: dict[str, bytes]
    b_questions: bytes
    seconds: float


MANIFEST = "build/.manifest.json"


def outputs(root: Path) -> dict[str, bytes]:
    """The outputs of a project folder: build/ (caches aside) and the lock."""
    found = {}
    for path in sorted((root / "build").iterdir()):
        if path.is_file() and not STRAY_TMP.match(path.name):
            found[f"build/{path.name}"] = path.read_bytes()
    found["source/deck.lock"] = (root / "source" / "deck.lock").read_bytes()
    return found


def comparable(name: str, data: bytes) -> bytes:
    """The bytes to compare; the manifest's input keys aside (they hash the tool's own code,
    which may be edited while the suite runs), so it must only be whole and list the same
    outputs with the same hashes."""
    if name != MANIFEST:
        return data
    targets = json.loads(data)["targets"]
    for entry in targets.values():
        entry.pop("key")
    return json.dumps(targets, sort_keys=True).encode()


def make_references(base: Path, target: str, count: int) -> References:
    """Build A (with a lock dated in the future), then B over it; return both outputs.

    Everything is built in the one folder the kills use: PDF image names depend on the
    absolute path, so the same source built elsewhere may differ.
    """
    image = target == "anki"
    work = base / "work"
    source = work / "source"
    shutil.copytree(BASELINE, source)
    (source / "questions" / "bulk.yaml").write_text(
        _bulk_questions(False, count, image), encoding="utf-8"
    )
    (source / "figures").mkdir()
    (source / "figures" / "big.png").write_bytes(PNG + random.Random(1).randbytes(2**20))
    first = run_build(work, "anki")  # only for the lock, which every target writes
    assert first.returncode == 0, first.stderr
    # the same lock with every time moved to the future: A's digests, deterministic B times
    lock = (source / "deck.lock").read_text(encoding="utf-8")
    future = re.sub(r"\b1\d{9}\b", lambda m: str(FUTURE + int(m.group()) % 1000), lock)
    (source / "deck.lock").write_text(future, encoding="utf-8")
    shutil.rmtree(work / "build")
    started = time.perf_counter()
    built = run_build(work, target)
    seconds = time.perf_counter() - started
    assert built.returncode == 0, built.stderr
    assert (source / "deck.lock").read_text(encoding="utf-8") == future
    built_a = base / "built-a"
    shutil.copytree(work, built_a, symlinks=True)
    a = outputs(work)
    b_questions = _bulk_questions(True, count, image).encode()
    (source / "questions" / "bulk.yaml").write_bytes(b_questions)
    rebuilt = run_build(work, target)
    assert rebuilt.returncode == 0, rebuilt.stderr
    b = outputs(work)
    assert set(a) == set(b) and len(a) >= 3
    assert all(a[name] != b[name] for name in a), "every output must change from A to B"
    return References(work, built_a, a, b, b_questions, seconds)


def start_b_over_a(refs: References, target: str) -> subprocess.Popen[bytes]:
    """The built A state again, with B's questions, and a build of it, running."""
    work = refs.work
    shutil.rmtree(work)
    shutil.copytree(refs.built_a, work, symlinks=True)
    (work / "source" / "questions" / "bulk.yaml").write_bytes(refs.b_questions)
    return subprocess.Popen(
        [sys.executable, "-m", "exporter", "build", "-t", target],
        cwd=work,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def kill_after(proc: subprocess.Popen[bytes], delay: float) -> bool:
    """SIGKILL after ``delay`` seconds; whether the build was still running."""
    try:
        proc.wait(timeout=delay)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        return True
    return False


def kill_when_writing(proc: subprocess.Popen[bytes], folders: list[Path]) -> bool:
    """SIGKILL the instant a temporary output file appears (mid-write); whether it did."""
    deadline = time.perf_counter() + 60
    while proc.poll() is None and time.perf_counter() < deadline:
        for folder in folders:
            with os.scandir(folder) as entries:
                if any(STRAY_TMP.match(entry.name) for entry in entries):
                    proc.send_signal(signal.SIGKILL)
                    proc.wait()
                    return True
    proc.wait()
    return False


def check_whole(work: Path, refs: References) -> str:
    """Every output is A's or B's, whole; the lock parses; strays are only temporaries.

    Returns the state: ``A`` or ``B`` per output (manifest, package, lock), and ``+tmp``
    when a killed write left its temporary file.
    """
    strays = 0
    for folder in (work / "build", work / "source"):
        for path in folder.iterdir():
            stray = STRAY_TMP.match(path.name)
            if stray:  # a killed write: tolerated, but only beside a real output name
                assert f"{folder.name}/{stray.group('name')}" in refs.a, path.name
                strays += 1
    found = outputs(work)
    assert set(found) == set(refs.a), sorted(found)
    state = []
    for name, data in found.items():
        if comparable(name, data) == comparable(name, refs.a[name]):
            state.append("A")
        elif comparable(name, data) == comparable(name, refs.b[name]):
            state.append("B")
        else:
            pytest.fail(f"{name} is neither the old nor the new complete file ({len(data)} bytes)")
    lock = parse_lock(found["source/deck.lock"].decode("utf-8"))
    assert lock in (
        parse_lock(refs.a["source/deck.lock"].decode()),
        parse_lock(refs.b["source/deck.lock"].decode()),
    )
    for cache in sorted((work / "build" / ".cache").glob("*.json")):
        json.loads(cache.read_text(encoding="utf-8"))  # caches are written atomically too
    return "".join(state) + "+tmp" * bool(strays)


def check_recovers(work: Path, refs: References, target: str) -> None:
    """A normal build after the kill completes B exactly."""
    done = run_build(work, target)
    assert done.returncode == 0, done.stderr
    final = outputs(work)
    for name in refs.b:
        if name != MANIFEST:  # its keys hash every source file, stray temporaries included
            assert final[name] == refs.b[name], name


def crash_loop(
    tmp_path: Path,
    target: str,
    size: int,
    random_kills: int,
    writing_kills: int,
    recover: int,
    must_catch_a_write: bool = True,
) -> None:
    """``random_kills`` at random moments, ``writing_kills`` mid-write, in a bank of ``size``
    questions; a rebuild after every ``recover``-th kill (and the last) must complete B."""
    refs = make_references(tmp_path, target, size)
    rng = random.Random(f"{SEED}-{target}")
    work = refs.work
    states: dict[str, int] = {}
    killed = 0
    plan = ["random"] * random_kills + ["writing"] * writing_kills
    for number, how in enumerate(plan):
        proc = start_b_over_a(refs, target)
        if how == "random":  # half anywhere, half late, where the writes are
            low = 0.0 if number % 2 else 0.6 * refs.seconds
            was_running = kill_after(proc, rng.uniform(low, 1.05 * refs.seconds))
        else:
            was_running = kill_when_writing(proc, [work / "build", work / "source"])
        killed += was_running
        state = check_whole(work, refs)
        states[state] = states.get(state, 0) + 1
        if number % recover == 0 or number == len(plan) - 1:
            check_recovers(work, refs, target)
    print(f"{target}: {killed}/{len(plan)} builds killed; output states {states}")
    mid_write = sum(n for state, n in states.items() if "+tmp" in state or len(set(state)) > 1)
    if must_catch_a_write:  # a 1 MB package takes long enough to write to be caught
        assert mid_write >= 1, "no kill landed while outputs were being written"


def test_sigkill_during_anki_builds_leaves_whole_files(tmp_path: Path) -> None:
    crash_loop(tmp_path, "anki", 60, random_kills=16, writing_kills=6, recover=3)


def test_sigkill_during_pdf_builds_leaves_whole_files(tmp_path: Path) -> None:
    pytest.importorskip("weasyprint")
    crash_loop(
        tmp_path,
        "cheatsheet",
        5,
        random_kills=2,
        writing_kills=2,
        recover=4,
        must_catch_a_write=False,
    )

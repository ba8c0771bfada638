"""Reliability cases that need more than a source folder: FIFOs and devices given to
`import`, a full file system (a small tmpfs), SIGTERM during a build, bad option values,
non-UTF-8 arguments, file names with control characters, zip bombs.

Each runs the real CLI as a process (the same limits as `tests/test_hostile.py`: 60 s,
2 GiB of address space) and checks exit code, one located line, no traceback, and that
nothing previous changed.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_hostile import BASELINE, TIMEOUT, _limit_resources, package_fields, run_exporter

from exporter.core.output import OutputError, write_all

DIAGNOSTIC_START = "{path}:1:1: E017 "


def tree_state(root: Path, skip_cache: bool = True) -> dict[str, str]:
    """Every regular file below ``root`` with its hash (``build/.cache`` left out)."""
    state = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if skip_cache and (".cache" in path.relative_to(root).parts):
            continue
        if path.is_file() and not path.is_symlink():
            state[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
    return state


def temporaries(root: Path) -> list[str]:
    """Hidden temporary files an interrupted write could leave (outside the cache)."""
    return sorted(
        p.relative_to(root).as_posix()
        for p in root.rglob(".*.tmp")
        if ".cache" not in p.relative_to(root).parts
    )


def baseline_copy(tmp_path: Path, name: str = "project") -> Path:
    root = tmp_path / name
    shutil.copytree(BASELINE, root)
    return root


# --- import: FIFOs, devices, huge inputs, zip bombs ------------------------------------------


def test_import_refuses_a_fifo_without_opening_it(tmp_path: Path) -> None:
    root = baseline_copy(tmp_path)
    os.mkfifo(root / "notes.txt")
    for extra in ([], ["--format", "apkg"], ["--format", "csv"]):
        run = run_exporter(root, "import", *extra, "notes.txt")
        assert run.code == 2, run.stderr
        assert run.stderr.startswith("notes.txt:1:1: E017 cannot import: file is a FIFO")
        assert "Traceback" not in run.stderr
        assert run.seconds < 20


def test_import_refuses_dev_zero_and_a_huge_text(tmp_path: Path) -> None:
    root = baseline_copy(tmp_path)
    os.symlink("/dev/zero", root / "zero.txt")
    run = run_exporter(root, "import", "zero.txt")
    assert run.code == 2, run.stderr
    assert run.stderr.startswith("zero.txt:1:1: E017 cannot import: file is a device")
    with open(root / "huge.txt", "wb") as handle:  # 1 GB, sparse: no disk used
        handle.truncate(1024**3)
    run = run_exporter(root, "import", "huge.txt")
    assert run.code == 2, run.stderr
    assert run.stderr.startswith("huge.txt:1:1: E017 cannot import: file is 1,073,741,824 bytes")
    assert "MemoryError" not in run.stderr and "Traceback" not in run.stderr
    assert not list((root / "source" / "questions").glob("huge*"))


def test_import_refuses_an_apkg_whose_media_inflate_to_gigabytes(tmp_path: Path) -> None:
    root = baseline_copy(tmp_path)
    bomb = root / "bomb.apkg"
    chunk = b"\0" * (1024 * 1024)
    with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("collection.anki2", b"SQLite format 3\0")
        archive.writestr("media", b'{"0": "big.png"}')
        with archive.open("0", "w", force_zip64=True) as member:
            for _ in range(600):  # 600 MB of zeros in about 600 KB
                member.write(chunk)
    assert bomb.stat().st_size < 5 * 1024 * 1024
    run = run_exporter(root, "import", "bomb.apkg")
    assert run.code == 2, run.stderr
    assert run.stderr.startswith("bomb.apkg:1:1: E017 cannot import: file would inflate to")
    assert "Traceback" not in run.stderr and "MemoryError" not in run.stderr
    assert run.seconds < 20


# --- a FIFO or a huge file in source/ that nothing refers to ---------------------------------


def test_unreferenced_fifo_and_sparse_file_in_source_do_not_hang_the_build(
    tmp_path: Path,
) -> None:
    root = baseline_copy(tmp_path)
    os.mkfifo(root / "source" / "notes.fifo")
    with open(root / "source" / "recording.bin", "wb") as handle:
        handle.truncate(3 * 1024**3)  # 3 GB, sparse
    first = run_exporter(root, "build", "-t", "anki")
    assert first.code == 0, first.stderr
    assert first.seconds < 30
    again = run_exporter(root, "build", "-t", "anki")  # the fingerprint sees no change
    assert again.code == 0 and "up to date" in again.stderr, again.stderr
    with open(root / "source" / "recording.bin", "r+b") as handle:
        handle.seek(5)
        handle.write(b"x")  # a change in a huge file is still noticed (size and time)
    third = run_exporter(root, "build", "-t", "anki")
    assert third.code == 0 and "up to date" not in third.stderr, third.stderr


# --- the output commit on a full file system -------------------------------------------------


@contextlib.contextmanager
def small_tmpfs(where: Path, size: str) -> Iterator[Path]:
    """A tmpfs of ``size`` mounted at ``where`` (skips the test where mounting fails)."""
    where.mkdir(parents=True)
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root (the CI runs as root)")
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)],
        capture_output=True,
        text=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def fill(folder: Path, leave: int) -> Path:
    """A file that leaves about ``leave`` bytes free on ``folder``'s file system."""
    filler = folder / "filler"
    free = shutil.disk_usage(folder).free
    with open(filler, "wb") as handle:
        handle.write(b"\0" * max(0, free - leave))
    return filler


@pytest.mark.slow
def test_a_full_disk_leaves_every_output_and_the_lock_as_they_were(tmp_path: Path) -> None:
    root = baseline_copy(tmp_path)
    # the out folder sorts after source/deck.lock: the old code replaced the lock first
    with small_tmpfs(root / "zz-out", "24m") as out:
        first = run_exporter(root, "build", "-t", "all", "--out", "zz-out")
        assert first.code == 0, first.stderr
        # the cache lives elsewhere, so only the outputs compete for the space left
        shutil.move(out / ".cache", tmp_path / "cache")
        (out / ".cache").symlink_to(tmp_path / "cache")
        outputs = {p.name: p.stat().st_size for p in out.iterdir() if p.is_file()}
        assert {"t.apkg", "t-cheatsheet.pdf", "t-flashcards.pdf", "t-quiz.pdf"} <= set(outputs)
        answers = root / "source" / "questions" / "basic.yaml"
        answers.write_text(
            answers.read_text("utf-8").replace("reduces overfitting", "curbs overfitting"),
            "utf-8",
        )
        lock = (root / "source" / "deck.lock").read_bytes()
        before_out, before_source = tree_state(out), tree_state(root / "source")
        # less room than the largest output needs: the old code replaced the lock (on
        # another file system, sorted first), then failed on the outputs
        filler = fill(out, max(outputs.values()) // 2)
        run = run_exporter(root, "build", "-t", "all", "--out", "zz-out")
        assert run.code == 2, run.stderr
        assert "cannot write: No space left on device" in run.stderr
        assert "Traceback" not in run.stderr and "internal error" not in run.stderr
        assert (root / "source" / "deck.lock").read_bytes() == lock
        filler_hash = before_out.get("filler")
        after = {k: v for k, v in tree_state(out).items() if k != "filler"}
        assert after == {k: v for k, v in before_out.items() if k != "filler"}
        assert filler_hash is None
        assert tree_state(root / "source") == before_source
        assert temporaries(out) == [] and temporaries(root) == []
        filler.unlink()  # with room again, the same build succeeds
        second = run_exporter(root, "build", "-t", "all", "--out", "zz-out")
        assert second.code == 0, second.stderr
        assert (root / "source" / "deck.lock").read_bytes() != lock


def test_write_all_removes_its_temporaries_when_one_output_fails(tmp_path: Path) -> None:
    good, lock = tmp_path / "a.pdf", tmp_path / "deck.lock"
    good.write_bytes(b"old a")
    lock.write_bytes(b"old lock")
    blocked = tmp_path / "not-a-folder"
    blocked.write_bytes(b"a file where a folder should be")
    files = {good: b"new a", lock: b"new lock", blocked / "b.pdf": b"new b"}
    with pytest.raises(OutputError, match=r"not-a-folder/b\.pdf: cannot write"):
        write_all(files, last=[lock])
    assert good.read_bytes() == b"old a" and lock.read_bytes() == b"old lock"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.pdf", "deck.lock", "not-a-folder"]
    assert write_all({good: b"new a", lock: b"new lock"}, last=[lock]) == [good, lock]
    assert good.read_bytes() == b"new a" and lock.read_bytes() == b"new lock"


# --- SIGTERM during a build ------------------------------------------------------------------


def descendants(pid: int) -> set[int]:
    """Every live process below ``pid`` (from /proc)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[0] != "Z":
            parents[int(entry.name)] = int(fields[1])
    found, frontier = set(), {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier}
        found |= frontier
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_sigterm_stops_the_build_and_leaves_no_worker_behind(tmp_path: Path) -> None:
    root = baseline_copy(tmp_path)
    questions = "".join(
        f"- id: extra-{n}\n  level: {'basic' if n % 2 else 'advanced'}\n"
        f"  question: What does gradient descent step {n} do?\n"
        f"  answer: It moves the weights against the gradient, step {n}, with $x_{{{n}}}^2$.\n"
        for n in range(240)
    )
    (root / "source" / "questions" / "extra.yaml").write_text(questions, "utf-8")
    assert run_exporter(root, "build", "-t", "anki").code == 0
    before = tree_state(root)
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    env.pop("PYTHONPATH", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "exporter", "build", "-t", "all", "--clean"],
        cwd=root,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=_limit_resources,
        env=env,
    )
    try:
        workers: set[int] = set()
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline and proc.poll() is None:
            workers |= descendants(proc.pid)
            if len(workers) >= 3:  # the PDF targets and their own layout workers
                break
            time.sleep(0.1)
        assert proc.poll() is None, "the build ended before its workers could be seen"
        assert len(workers) >= 2, workers
        time.sleep(0.5)
        workers |= descendants(proc.pid)
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=15)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 143, stderr
    assert "interrupted" in stderr and "Traceback" not in stderr
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and any(alive(pid) for pid in workers):
        time.sleep(0.1)
    survivors = [pid for pid in workers if alive(pid)]
    for pid in survivors:  # never leave them running, even when the test fails
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
    assert survivors == []
    assert tree_state(root) == before
    assert temporaries(root) == []


# --- bad values on the command line ----------------------------------------------------------


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "1e308", "51", "x"])
def test_non_finite_or_out_of_range_offsets_exit_2(tmp_path: Path, value: str) -> None:
    root = baseline_copy(tmp_path)
    run = run_exporter(root, "build", "-t", "flashcards", f"--offset-x={value}")
    assert run.code == 2, run.stderr
    assert "--offset-x" in run.stderr and "Traceback" not in run.stderr
    assert not (root / "build").exists()


def test_ignoring_an_error_code_exits_2_and_builds_nothing(tmp_path: Path) -> None:
    root = baseline_copy(tmp_path)
    basic = root / "source" / "questions" / "basic.yaml"
    basic.write_text(basic.read_text("utf-8").replace("id: learning-rate", "id: dropout"), "utf-8")
    run = run_exporter(root, "build", "-t", "anki", "--ignore", "E005")
    assert run.code == 2, run.stderr
    assert "E005 is an error and cannot be ignored" in run.stderr
    assert not (root / "build").exists()
    run = run_exporter(root, "build", "-t", "anki", "--ignore", "W102")
    assert run.code == 1 and " E005 duplicate id 'dropout'" in run.stderr


def test_new_refuses_an_argument_that_is_not_utf8(tmp_path: Path) -> None:
    root = baseline_copy(tmp_path)
    before = tree_state(root)
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    env.pop("PYTHONPATH", None)
    for argument in (b"What is \xff\xfe?", b"What is a bell\x07?"):
        proc = subprocess.run(
            [os.fsencode(sys.executable), b"-m", b"exporter", b"new", argument],
            cwd=root,
            capture_output=True,
            timeout=TIMEOUT,
            env=env,
            check=False,
        )
        stderr = proc.stderr.decode("utf-8", "replace")
        assert proc.returncode == 2, stderr
        assert "is not valid UTF-8" in stderr or "contains a control character" in stderr
        assert "E001" not in stderr and "Traceback" not in stderr
    assert tree_state(root) == before


# --- control characters from file names never reach a field ----------------------------------


def test_a_file_name_with_the_field_separator_is_escaped_in_the_source_field(
    tmp_path: Path,
) -> None:
    root = baseline_copy(tmp_path)
    questions = root / "source" / "questions"
    (questions / "basic.yaml").rename(questions / "ba\x1fsic\x07.yaml")
    run = run_exporter(root, "build", "-t", "anki")
    assert run.code == 0, run.stderr
    fields = package_fields(root / "build" / "t.apkg")
    assert len(fields) == 3
    for flds in fields:
        assert len(flds.split("\x1f")) == 5, flds
    assert any("ba\\x1fsic\\x07.yaml" in flds for flds in fields)


# --- the README documents every rule and limit with its value --------------------------------


def test_readme_lists_every_rule_and_the_limits_with_their_values() -> None:
    from exporter.core.diagnostics import RULES
    from exporter.core.identity import MAX_ID_CHARS
    from exporter.text import latex, limits, media

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text("utf-8")
    for code, rule in RULES.items():
        assert f"| {code} | {rule.severity.value} |" in readme, code
    expected = [
        f"| questions in a bank | {limits.MAX_QUESTIONS:,} (counted before parsing) |",
        f"| {limits.MAX_FIELD_CHARS:,} characters |",
        f"| {limits.MAX_TABLE_CELLS:,} cells |",
        f"{latex.MAX_FORMULA_CHARS:,} characters, {latex.MAX_FORMULA_DEPTH} levels",
        f"{latex.MAX_ARRAY_CELLS} array cells",
        f"| {MAX_ID_CHARS} characters |",
        f"{media.MAX_IMAGE_PIXELS:,} pixels",
        f"{media.MAX_IMAGE_SIDE:,} pixels a side",
        f"{limits.MAX_PRINTED_CHARS:,} characters of question",
        f"formula drawing cost {limits.MAX_PRINTED_MATH_COST:,}",
    ]
    for text in expected:
        assert text in readme, text

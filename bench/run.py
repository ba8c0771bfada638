"""Benchmark: every CLI command as a whole process against the bare libraries.

Generates synthetic banks of 81, 1,000 and 10,000 questions (``bench/synth.py``), runs each
command several times as a fresh process, and writes ``bench/RESULTS.md`` with medians,
peak memory (max RSS) and ratios against the bare libraries doing the same work in the same
run: PyYAML + markdown-it + genanki writing the same notes, and WeasyPrint rendering the
exact HTML our PDF targets produce, in one call.

    python bench/run.py [--sizes 81,1000,10000] [--repeat 3] [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))

from synth import make_bank  # noqa: E402

PY = sys.executable

BARE_ANKI = r"""
import sys, time, yaml, genanki
from pathlib import Path
from markdown_it import MarkdownIt
src, out = Path(sys.argv[1]), sys.argv[2]
md = MarkdownIt("commonmark").enable("table")
model = genanki.Model(1607392319, "Simple", fields=[{"name": "Q"}, {"name": "A"}, {"name": "D"}],
    templates=[{"name": "Card 1", "qfmt": "{{Q}}", "afmt": "{{A}}<hr>{{D}}"}])
deck = genanki.Deck(2059400110, "Bench")
for path in sorted((src / "questions").glob("*.yaml")):
    for q in yaml.load(path.read_text("utf-8"), Loader=yaml.CSafeLoader):
        deck.add_note(genanki.Note(model=model, fields=[md.renderInline(q["question"]),
            md.render(q["answer"]), md.render(q.get("details", ""))], guid=q["id"]))
genanki.Package(deck).write_to_file(out, timestamp=0)
"""

BARE_YAML = r"""
import sys, yaml
from pathlib import Path
for path in sorted((Path(sys.argv[1]) / "questions").glob("*.yaml")):
    yaml.load(path.read_text("utf-8"), Loader=yaml.CSafeLoader)
"""

CAPTURE_HTML = r"""
import json, sys, weasyprint
from pathlib import Path
captured = []
real = weasyprint.HTML
def spy(*args, **kwargs):
    captured.append({"string": kwargs.get("string"), "base_url": kwargs.get("base_url")})
    return real(*args, **kwargs)
weasyprint.HTML = spy
import exporter.core.workers
import exporter.render.pdf.cheatsheet as cheatsheet
import exporter.render.pdf.flashcards as flashcards
from exporter.cli.commands import main
# the naive way: one process, the whole document in one WeasyPrint call (every flashcard
# sheet in one document, the cheat sheet as one segment)
flashcards.FLASHCARD_BATCH = 10**9
exporter.core.workers.worker_count = lambda jobs, limit=4: 1
whole = cheatsheet.cheatsheet_segments
cheatsheet.cheatsheet_segments = lambda sections, low=0, high=0: whole(sections, 10**9, 10**9)
try:
    main(sys.argv[2:])
except SystemExit:
    pass
Path(sys.argv[1]).write_text(json.dumps(captured[:1]))  # the whole document, not re-fits
"""

BARE_WEASYPRINT = r"""
import json, sys, weasyprint
from pathlib import Path
docs = json.loads(Path(sys.argv[1]).read_text())
for i, doc in enumerate(docs):
    html = weasyprint.HTML(string=doc["string"], base_url=doc["base_url"])
    html.write_pdf(f"{sys.argv[2]}-{i}.pdf")
"""


def run(cmd: list[str], cwd: Path | None = None) -> tuple[float, float, int]:
    """Run a whole process: (seconds, peak RSS in MB, exit code)."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=os.environ.copy()
    )
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    if proc.stderr:
        proc.stderr.close()
    return elapsed, usage.ru_maxrss / 1024, os.waitstatus_to_exitcode(status)


def measure(cmd: list[str], repeat: int, before=None) -> dict[str, float]:
    """Median time and max memory over ``repeat`` runs (``before`` resets state)."""
    times, peaks = [], []
    for _ in range(repeat):
        if before:
            before()
        seconds, peak, code = run(cmd)
        if code != 0:
            raise SystemExit(f"failed ({code}): {' '.join(cmd)}")
        times.append(seconds)
        peaks.append(peak)
    return {"median": statistics.median(times), "peak_mb": max(peaks), "runs": repeat}


def exporter(*args: str) -> list[str]:
    return [PY, "-m", "exporter", *args]


def bench_size(
    size: int, work: Path, repeat: int, pdf: bool, pdf_only_finish: bool = False
) -> dict[str, dict[str, float]]:
    """Every row for one bank size. ``pdf_only_finish``: the PDF targets of the issue
    (cheat sheet, flashcards) are built once each, to show they finish within memory, and
    the rebuild rows cover the Anki target only (a 10,000-question quiz takes minutes)."""
    root = work / f"bank-{size}"
    source = make_bank(root, size)
    out = root / "build"
    common = ["--source", str(source), "--out", str(out), "-q"]
    results: dict[str, dict[str, float]] = {}
    pdf_repeat = repeat if size <= 100 else 1  # keeps `make bench` within 15 minutes

    def fresh() -> None:
        shutil.rmtree(out, ignore_errors=True)
        (source / "deck.lock").unlink(missing_ok=True)

    # warm the lock once so every measured build starts from the same committed state
    fresh()
    subprocess.run(exporter("build", "-t", "anki", *common), check=True)
    lock = (source / "deck.lock").read_bytes()

    def cold() -> None:
        shutil.rmtree(out, ignore_errors=True)
        (source / "deck.lock").write_bytes(lock)

    results["validate (cold cache)"] = measure(exporter("validate", *common), repeat, cold)
    results["validate"] = measure(exporter("validate", *common), repeat)
    results["build anki (cold cache)"] = measure(
        exporter("build", "-t", "anki", *common), repeat, cold
    )
    results["bare: PyYAML CSafeLoader"] = measure([PY, "-c", BARE_YAML, str(source)], repeat)
    results["bare: PyYAML + markdown-it + genanki"] = measure(
        [PY, "-c", BARE_ANKI, str(source), str(root / "bare.apkg")], repeat
    )
    targets = ["anki"]
    if pdf_only_finish:
        for target in ("cheatsheet", "flashcards"):
            results[f"build {target} (cold cache)"] = measure(
                exporter("build", "-t", target, *common), 1, cold
            )
    elif pdf:
        for target in ("cheatsheet", "flashcards", "quiz"):
            results[f"build {target} (cold cache)"] = measure(
                exporter("build", "-t", target, *common), pdf_repeat, cold
            )
        capture = root / "captured.json"
        for target in ("cheatsheet", "flashcards"):
            cold()
            subprocess.run(
                [PY, "-c", CAPTURE_HTML, str(capture), "build", "-t", target, *common],
                check=True,
            )
            results[f"bare: WeasyPrint, same {target} HTML"] = measure(
                [PY, "-c", BARE_WEASYPRINT, str(capture), str(root / f"bare-{target}")],
                pdf_repeat,
            )
        targets = ["all"]
    subprocess.run(exporter("build", "-t", targets[0], *common), check=True)
    scope = "all targets" if targets == ["all"] else "Anki only"
    results[f"no-op rebuild, {scope}"] = measure(
        exporter("build", "-t", targets[0], *common), repeat
    )
    part = sorted((source / "questions").glob("*.yaml"))[0]
    original = part.read_text("utf-8")
    counter = {"n": 0}

    def edit_one() -> None:
        counter["n"] += 1
        part.write_text(
            original.replace("  answer: |\n", f"  answer: |\n    Edit {counter['n']}.\n", 1)
        )

    results[f"rebuild after one edited answer, {scope}"] = measure(
        exporter("build", "-t", targets[0], *common), pdf_repeat, edit_one
    )
    part.write_text(original)
    if size <= SYNC_MAX:
        results.update(bench_sync(source, out, root, repeat))
    return results


SYNC_MAX = 1000
"""Sync rows only up to this size (each run writes a whole collection)."""
EMPTY_COLLECTION = """
import sys
from anki.collection import Collection
Collection(sys.argv[1]).close()
"""


def bench_sync(source: Path, out: Path, root: Path, repeat: int) -> dict[str, dict[str, float]]:
    """`exporter sync` into an empty collection, with nothing to do, and with every answer
    edited (N changed notes into a collection of N; the deck already rebuilt, so the row
    is the sync itself: load, compare, back up, apply)."""
    import re

    folder = root / "Anki2" / "User 1"
    folder.mkdir(parents=True, exist_ok=True)
    collection = folder / "collection.anki2"
    empty = root / "empty.anki2"
    subprocess.run([PY, "-c", EMPTY_COLLECTION, str(empty)], check=True)
    sync = exporter(
        "sync", "--collection", str(collection), "--source", str(source), "--out", str(out), "-q"
    )

    def restore(saved: Path) -> None:
        for extra in folder.glob("collection.anki2-*"):
            extra.unlink()
        shutil.rmtree(folder / "backups", ignore_errors=True)
        shutil.copy(saved, collection)

    results = {"sync into an empty collection": measure(sync, repeat, lambda: restore(empty))}
    synced = root / "synced.anki2"
    shutil.copy(collection, synced)
    results["sync, nothing changed"] = measure(sync, repeat, lambda: restore(synced))
    originals = {p: p.read_text("utf-8") for p in sorted((source / "questions").glob("*.yaml"))}
    for path, text in originals.items():
        edited = re.sub(r"(\n  answer: \|\n    )", r"\1Edited. ", text)
        path.write_text(re.sub(r"(\n  answer: )(?![|>])", r"\1Edited. ", edited), "utf-8")
    subprocess.run(exporter("build", "-t", "anki", "--source", str(source), "--out", str(out),
                            "-q"), check=True)  # fmt: skip
    results["sync, every answer edited"] = measure(sync, repeat, lambda: restore(synced))
    for path, text in originals.items():
        path.write_text(text, "utf-8")
    return results


def ratio(results: dict[str, dict[str, float]], ours: str, bare: str) -> str:
    if ours in results and bare in results:
        return f"{results[ours]['median'] / results[bare]['median']:.2f}×"
    return "—"


TARGETS = {
    "validate": {81: 0.25, 1000: 0.5, 10000: 2.0},
    "build anki (cold cache)": {81: 0.6, 1000: 1.0, 10000: 4.0},
    "build cheatsheet (cold cache)": {81: 2.0, 1000: 12.0},
    "build flashcards (cold cache)": {81: 1.2, 1000: 8.0},
    "no-op rebuild, all targets": {81: 0.3, 1000: 0.5, 10000: 2.0},
    "rebuild after one edited answer, all targets": {81: 1.5, 1000: 5.0},
    "sync, every answer edited": {1000: 2.0},
}
"""The issue's targets (seconds, whole process, median)."""
MEMORY_TARGETS = {
    "build cheatsheet (cold cache)": {1000: 600, 10000: 2048},
    "build flashcards (cold cache)": {10000: 2048},
}
"""The issue's memory limits (MB, peak RSS of the largest process)."""
STAND_INS = {"no-op rebuild, all targets": "no-op rebuild, Anki only"}
"""Where a size measures a cheaper row instead (no-op: the same input-fingerprint check
whatever the targets), shown with a note."""


def target_lines(all_results: dict[int, dict[str, dict[str, float]]]) -> list[str]:
    sizes = sorted(all_results)
    lines = ["", "## Against the targets", ""]
    lines += ["| command | " + " | ".join(f"{s:,}" for s in sizes) + " |"]
    lines += ["|---|" + "---|" * len(sizes)]
    for row, goals in TARGETS.items():
        cells = []
        for size in sizes:
            goal, got = goals.get(size), all_results[size].get(row)
            note = ""
            if got is None and row in STAND_INS:
                got, note = all_results[size].get(STAND_INS[row]), " (Anki only)"
            limit = MEMORY_TARGETS.get(row, {}).get(size)
            if got is None or (goal is None and limit is None):
                cells.append("—")
                continue
            parts = []
            if goal is not None:
                seconds = got["median"]
                verdict = "met" if seconds <= goal else f"missed by {seconds / goal:.1f}×"
                parts.append(f"{seconds:.2f} s / ≤ {goal:g} s: {verdict}{note}")
            if limit is not None:
                peak = got["peak_mb"]
                verdict = "met" if peak <= limit else f"missed by {peak / limit:.1f}×"
                parts.append(f"{peak:.0f} MB / ≤ {limit:,} MB: {verdict}")
            cells.append("; ".join(parts))
        lines.append(f"| {row} | " + " | ".join(cells) + " |")
    return lines


def write_results(all_results: dict[int, dict[str, dict[str, float]]], path: Path) -> None:
    sizes = sorted(all_results)
    rows = sorted({row for r in all_results.values() for row in r}, key=_row_order)
    lines = [
        "# Benchmark results",
        "",
        f"Generated by `make bench` (`bench/run.py`) on {platform.machine()}, "
        f"{os.cpu_count()} cores, Python {platform.python_version()}. Whole processes; "
        "median time (peak RSS: the largest single process; PDF workers run side by side). "
        "Synthetic banks from `bench/synth.py`.",
        "",
        "| command | " + " | ".join(f"{s:,} questions" for s in sizes) + " |",
        "|---|" + "---|" * len(sizes),
    ]
    for row in rows:
        cells = []
        for size in sizes:
            r = all_results[size].get(row)
            cells.append(f"{r['median']:.2f} s ({r['peak_mb']:.0f} MB)" if r else "—")
        lines.append(f"| {row} | " + " | ".join(cells) + " |")
    lines += ["", "## Ratios against the bare libraries", ""]
    lines += ["| comparison | " + " | ".join(f"{s:,}" for s in sizes) + " |"]
    lines += ["|---|" + "---|" * len(sizes)]
    pairs = [
        ("build anki (cold cache)", "bare: PyYAML + markdown-it + genanki"),
        ("build cheatsheet (cold cache)", "bare: WeasyPrint, same cheatsheet HTML"),
        ("build flashcards (cold cache)", "bare: WeasyPrint, same flashcards HTML"),
        ("validate", "bare: PyYAML CSafeLoader"),
    ]
    for ours, bare in pairs:
        cells = [ratio(all_results[s], ours, bare) for s in sizes]
        lines.append(f"| {ours} / {bare} | " + " | ".join(cells) + " |")
    lines += target_lines(all_results)
    analysis = HERE / "ANALYSIS.md"
    if analysis.is_file():
        lines += ["", analysis.read_text(encoding="utf-8").rstrip()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    (path.with_suffix(".json")).write_text(json.dumps(all_results, indent=1, sort_keys=True))


def _row_order(row: str) -> tuple[int, str]:
    order = ["validate", "build anki", "bare: PyYAML", "build cheatsheet", "build flashcards",
             "build quiz", "bare: WeasyPrint", "no-op", "rebuild after", "sync"]  # fmt: skip
    for index, prefix in enumerate(order):
        if row.startswith(prefix):
            return index, row
    return len(order), row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="81,1000,10000")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-pdf", action="store_true", help="skip the PDF targets")
    parser.add_argument(
        "--pdf-max",
        type=int,
        default=1000,
        help="full PDF rows only up to this size; above it the cheat sheet and flashcards "
        "are built once each (minutes at 10,000 questions)",
    )
    parser.add_argument(
        "--no-pdf-finish",
        action="store_true",
        help="above --pdf-max, skip the single cheat sheet and flashcard builds",
    )
    parser.add_argument("--out", type=Path, default=HERE / "RESULTS.md")
    parser.add_argument(
        "--from-json", action="store_true", help="rewrite RESULTS.md from RESULTS.json only"
    )
    args = parser.parse_args()
    if args.from_json:
        saved = json.loads(args.out.with_suffix(".json").read_text())
        write_results({int(size): rows for size, rows in saved.items()}, args.out)
        return
    sizes = [int(s) for s in args.sizes.split(",")]
    results = {}
    with tempfile.TemporaryDirectory(prefix="exporter-bench-") as tmp:
        for size in sizes:
            started = time.perf_counter()
            pdf = not args.no_pdf and size <= args.pdf_max
            finish = not args.no_pdf and not pdf and not args.no_pdf_finish
            results[size] = bench_size(size, Path(tmp), args.repeat, pdf, finish)
            print(f"{size:>6} questions: {time.perf_counter() - started:.0f} s", flush=True)
    write_results(results, args.out)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()

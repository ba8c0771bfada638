"""Benchmark: every CLI command as a whole process against the bare libraries.

Sizes are a copy of the real bank (``source/`` with its committed lock, shown as "real
bank") and synthetic banks of 1,000 and 10,000 questions (``bench/synth.py``). Each command
runs several times as a fresh process; ``bench/RESULTS.md`` gets medians, CPU time, peak
memory (max RSS) and ratios against the bare libraries doing the same work in the same
run: PyYAML + markdown-it + genanki writing the same notes, and WeasyPrint rendering the
exact HTML each PDF target lays out, in one call. The "Against the targets" table is
issue 18's table, filled from this one run.

    python bench/run.py [--sizes real,1000,10000] [--repeat 3] [--no-pdf]
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
from collections.abc import Callable
from pathlib import Path
from typing import Any

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

BARE_LOOP = "total = 0\nfor n in range(10_000_000):\n    total += n\n"
"""The machine's speed: plain CPython, no library (compare runs of `make bench` by it)."""

CAPTURE_HTML = r"""
import json, sys
from pathlib import Path
from exporter.render.pdf.weasy import import_weasyprint
weasyprint = import_weasyprint()
real = weasyprint.HTML
calls = []
class Spy:
    # WeasyPrint's HTML, remembering the HTML string it was given and how many pages it
    # laid out (render() or write_pdf())
    def __init__(self, *args, **kwargs):
        self.html = real(*args, **kwargs)
        self.call = None
        if kwargs.get("string") is not None:
            base_url = str(kwargs.get("base_url") or "")
            self.call = {"string": kwargs["string"], "base_url": base_url, "pages": 0}
            calls.append(self.call)
    def render(self, *args, **kwargs):
        document = self.html.render(*args, **kwargs)
        if self.call is not None:
            self.call["pages"] = len(document.pages)
        return document
    def write_pdf(self, *args, **kwargs):
        return self.render().write_pdf(*args, **kwargs)
    def __getattr__(self, name):
        return getattr(self.html, name)
weasyprint.HTML = Spy
import exporter.core.workers
import exporter.render.pdf.cheatsheet as cheatsheet
import exporter.render.pdf.flashcards as flashcards
from exporter.cli.commands import main
# the naive way: one process, the whole document in one WeasyPrint call (every flashcard
# sheet in one document, the cheat sheet as one segment, where the renderer still cuts)
patched = ["one process"]
exporter.core.workers.worker_count = lambda jobs, limit=4: 1
if hasattr(flashcards, "FLASHCARD_BATCH"):
    flashcards.FLASHCARD_BATCH = 10**9
    patched.append("flashcards in one batch")
if hasattr(cheatsheet, "DRAW_MEASURED"):
    cheatsheet.DRAW_MEASURED = False
    patched.append("cheat sheet items laid out in the sheet")
import exporter.render.pdf.quiz as quiz
if hasattr(quiz, "quiz_segments"):
    # the questions and the whole key as one segment of the quiz's own template (its key
    # starts on the next page; the renderer puts a blank page before it when that page
    # would be the back of a question page)
    quiz.quiz_segments = lambda items, *a, **k: [
        {"questions": items, "answers": items, "key_title": True}
    ]
    patched.append("quiz in one segment")
code = 0
try:
    main(sys.argv[2:])
except SystemExit as exc:
    code = exc.code or 0
if code or not calls:
    sys.exit(f"capture: the build exited {code} after {len(calls)} WeasyPrint calls")
# the candidates for the whole document: the largest HTML strings laid out (bench/run.py
# takes the largest that laid out as many pages as the target's own PDF)
calls.sort(key=lambda call: -len(call["string"]))
Path(sys.argv[1]).write_text(json.dumps({"candidates": calls[:8], "calls": len(calls),
    "patched": patched}))
"""
"""Runs one PDF target's build and saves the largest HTML strings it gave WeasyPrint,
each with the number of pages it laid out."""

BARE_WEASYPRINT = r"""
import json, sys, weasyprint
from pathlib import Path
doc = json.loads(Path(sys.argv[1]).read_text())
weasyprint.HTML(string=doc["string"], base_url=doc["base_url"]).write_pdf(sys.argv[2])
"""


def run(cmd: list[str], cwd: Path | None = None) -> tuple[float, float, float, int]:
    """Run a whole process: (seconds, CPU seconds, peak RSS in MB, exit code). CPU time
    and peak memory include the forked workers (reaped children count in ``wait4``)."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=os.environ.copy()
    )
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    if proc.stderr:
        proc.stderr.close()
    cpu = usage.ru_utime + usage.ru_stime
    return elapsed, cpu, usage.ru_maxrss / 1024, os.waitstatus_to_exitcode(status)


def measure(cmd: list[str], repeat: int, before: Callable[[], None] | None = None) -> Row:
    """Median time and CPU time, and max memory, over ``repeat`` runs (``before`` resets
    state before each)."""
    times, cpus, peaks = [], [], []
    for _ in range(repeat):
        if before:
            before()
        seconds, cpu, peak, code = run(cmd)
        if code != 0:
            raise SystemExit(f"failed ({code}): {' '.join(cmd)}")
        times.append(seconds)
        cpus.append(cpu)
        peaks.append(peak)
    return {
        "median": statistics.median(times),
        "cpu": statistics.median(cpus),
        "peak_mb": max(peaks),
        "runs": repeat,
    }


def exporter(*args: str) -> list[str]:
    return [PY, "-m", "exporter", *args]


Row = dict[str, Any]
MACHINE_ROW = "machine speed: CPython, 10 million additions"
REAL = "real"
"""The size name of the real bank (a copy of ``source/`` and its committed lock)."""
PDFS = ("cheatsheet", "flashcards", "quiz")


def make_source(size: str, root: Path) -> Path:
    """The bank of one size under ``root``: a copy of the real one, or a synthetic one."""
    if size == REAL:
        shutil.rmtree(root, ignore_errors=True)
        shutil.copytree(REPO / "source", root / "source")
        return root / "source"
    return make_bank(root, int(size))


def bench_size(size: str, work: Path, repeat: int, pdf: bool, pdf_once: bool) -> dict[str, Row]:
    """Every row for one bank size. ``pdf_once`` (the largest bank): the PDFs are built
    once, in the full cold build, to show it finishes within memory; the rebuild rows then
    cover the Anki target only."""
    root = work / f"bank-{size}"
    source = make_source(size, root)
    out = root / "build"
    common = ["--source", str(source), "--out", str(out), "-q"]
    results: dict[str, Row] = {}
    small = size == REAL
    pdf_repeat = repeat if small else 1  # keeps `make bench` within 15 minutes

    # a committed lock: the real bank's own; a synthetic bank's from one first build, so
    # every measured build starts from the same committed state
    if not (source / "deck.lock").is_file():
        shutil.rmtree(out, ignore_errors=True)
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
    if small:
        results[MACHINE_ROW] = measure([PY, "-c", BARE_LOOP], repeat)
    results["bare: PyYAML CSafeLoader"] = measure([PY, "-c", BARE_YAML, str(source)], repeat)
    results["bare: PyYAML + markdown-it + genanki"] = measure(
        [PY, "-c", BARE_ANKI, str(source), str(root / "bare.apkg")], repeat
    )
    # the default targets: the deck, the cheat sheet, the flashcards and the quiz (the
    # issue's "all four outputs"); the guide is built only on request
    target = ["-t", "anki"]
    if pdf or pdf_once:
        results["full cold build, all four outputs"] = measure(
            exporter("build", "--clean", *common), 1 if pdf_once else pdf_repeat, cold
        )
    if pdf:
        for name in PDFS:
            results[f"build {name} (cold cache)"] = measure(
                exporter("build", "-t", name, *common), pdf_repeat, cold
            )
            results.update(bench_naive(name, root, common, pdf_repeat, cold))
        target = []
    scope = "all four outputs" if not target else "Anki only"
    cold()
    subprocess.run(exporter("build", *target, *common), check=True)
    results[f"no-op rebuild, {scope}"] = measure(exporter("build", *target, *common), repeat)
    part = sorted((source / "questions").glob("*.yaml"))[0]
    original = part.read_text("utf-8")
    counter = {"n": 0}

    def edit_one() -> None:
        counter["n"] += 1
        edited = original.replace("  answer: |\n", f"  answer: |\n    Edit {counter['n']}.\n", 1)
        if edited == original:
            raise SystemExit(f"{part}: no block answer to edit")
        part.write_text(edited)

    results[f"rebuild after one edited answer, {scope}"] = measure(
        exporter("build", *target, *common), pdf_repeat, edit_one
    )
    part.write_text(original)
    results.update(bench_sync(source, out, root, repeat if small or pdf else 1))
    (source / "deck.lock").write_bytes(lock)
    return results


CAPTURE_FAILURES: list[str] = []
"""Ratio rows that could not be measured honestly (reported in RESULTS.md)."""
FATAL: list[str] = []
"""The failures that make `make bench` fail (after RESULTS.md is written)."""
NO_WHOLE_DOCUMENT: set[str] = set()
"""Targets whose renderer has no switch to lay the whole document out in one call. Their
capture is still tried and checked; a miss is reported but does not fail the run."""
PAGE_SLACK = {"quiz": 1}
"""Pages the naive document may lack: the quiz's renderer puts a blank page before the
key when the key would start on the back of a question page; one WeasyPrint call on the
quiz's own template does not."""


def bench_naive(
    name: str, root: Path, common: list[str], repeat: int, cold: Callable[[], None]
) -> dict[str, Row]:
    """One naive WeasyPrint call on the HTML the target lays out: captured from a real
    build, rendered by a bare process, and checked to give as many pages as the target's
    own PDF (otherwise the capture did not get the whole document: reported, not timed)."""
    from pypdf import PdfReader

    cold()
    capture = root / f"captured-{name}.json"
    subprocess.run([PY, "-c", CAPTURE_HTML, str(capture), "build", "-t", name, *common],
                   check=True)  # fmt: skip
    ours = sorted((root / "build").glob(f"*-{name}.pdf"))
    want = len(PdfReader(ours[0]).pages) if len(ours) == 1 else -1
    info = json.loads(capture.read_text())
    text = _text_length(ours[0]) if len(ours) == 1 else -1
    got, row = -1, {}
    slack = PAGE_SLACK.get(name, 0)
    near = [c for c in info["candidates"] if 0 <= want - c["pages"] <= slack]
    for candidate in near[:3]:
        chosen = root / f"chosen-{name}.json"
        chosen.write_text(json.dumps(candidate))
        bare_pdf = root / f"bare-{name}.pdf"
        row = measure([PY, "-c", BARE_WEASYPRINT, str(chosen), str(bare_pdf)], repeat)
        # the whole document shows the same text as the target's PDF; a frame (page
        # numbers, headers) has as many pages but a fraction of the text
        if abs(_text_length(bare_pdf) - text) <= 0.1 * text:
            got = len(PdfReader(bare_pdf).pages)
            break
    if not 0 <= want - got <= slack:
        pages = ", ".join(str(c["pages"]) for c in info["candidates"])
        problem = (
            f"{name}: none of the {len(info['candidates'])} largest of {info['calls']} "
            f"captured WeasyPrint calls lays out the target's {want} pages with its text "
            f"(they give {pages} pages; patched: {', '.join(info['patched'])}); the capture "
            "did not get the whole document, so the ratio is not measured"
        )
        fatal = name not in NO_WHOLE_DOCUMENT
        print(f"{'ERROR' if fatal else 'WARNING'}: {problem}", file=sys.stderr, flush=True)
        CAPTURE_FAILURES.append(problem)
        if fatal:
            FATAL.append(problem)
        return {}
    row["pages"] = got
    return {f"bare: WeasyPrint, same {name} HTML": row}


def _text_length(pdf: Path) -> int:
    """How many non-space characters a PDF's pages show."""
    from pypdf import PdfReader

    return sum(len("".join(page.extract_text().split())) for page in PdfReader(pdf).pages)


SYNC_MAX = 10_000
"""Sync rows up to this size."""
EMPTY_COLLECTION = """
import sys
from anki.collection import Collection
Collection(sys.argv[1]).close()
"""


def bench_sync(source: Path, out: Path, root: Path, repeat: int) -> dict[str, Row]:
    """`exporter sync` into an empty collection, then into the collection holding the
    bank: with nothing to do, and with every answer edited (N changed notes into a
    collection of N; the deck already rebuilt, so the row is the sync itself: load,
    compare, back up, apply)."""
    import re

    folder = root / "Anki2" / "User 1"
    folder.mkdir(parents=True, exist_ok=True)
    collection = folder / "collection.anki2"
    empty = root / "empty.anki2"
    subprocess.run([PY, "-c", EMPTY_COLLECTION, str(empty)], check=True)
    sync = exporter(
        "sync", "--collection", str(collection), "--source", str(source), "--out", str(out), "-q"
    )
    build_anki = exporter("build", "-t", "anki", "--source", str(source), "--out", str(out), "-q")
    subprocess.run(build_anki, check=True)

    def restore(saved: Path) -> None:
        for extra in folder.glob("collection.anki2-*"):
            extra.unlink()
        shutil.rmtree(folder / "backups", ignore_errors=True)
        shutil.copy(saved, collection)

    results = {"sync into an empty collection": measure(sync, repeat, lambda: restore(empty))}
    synced = root / "synced.anki2"
    shutil.copy(collection, synced)
    results["sync into the collection holding the bank, nothing changed"] = measure(
        sync, repeat, lambda: restore(synced)
    )
    originals = {p: p.read_text("utf-8") for p in sorted((source / "questions").glob("*.yaml"))}
    for path, text in originals.items():
        edited = re.sub(r"(\n  answer: \|\n    )", r"\1Edited. ", text)
        path.write_text(re.sub(r"(\n  answer: )(?![|>])", r"\1Edited. ", edited), "utf-8")
    subprocess.run(build_anki, check=True)
    results["sync into the collection holding the bank, every answer edited"] = measure(
        sync, repeat, lambda: restore(synced)
    )
    for path, text in originals.items():
        path.write_text(text, "utf-8")
    return results


def ratio(results: dict[str, Row], ours: str, bare: str) -> float | None:
    """Our median over the bare one's, measured side by side in this run."""
    if ours in results and bare in results:
        return float(results[ours]["median"] / results[bare]["median"])
    return None


ANKI_RATIO = ("build anki (cold cache)", "bare: PyYAML + markdown-it + genanki")
RATIOS = [
    ANKI_RATIO,
    *((f"build {name} (cold cache)", f"bare: WeasyPrint, same {name} HTML") for name in PDFS),
    ("validate", "bare: PyYAML CSafeLoader"),
]
SYNC_ROWS = (
    "sync into the collection holding the bank, nothing changed",
    "sync into the collection holding the bank, every answer edited",
)
TARGETS: list[tuple[str, str, dict[str, float]]] = [
    (
        "full cold build, all four outputs",
        "full cold build, all four outputs",
        {REAL: 4.5, "1000": 25},
    ),
    ("flashcards, cold", "build flashcards (cold cache)", {REAL: 1.2, "1000": 8}),
    ("cheat sheet, cold", "build cheatsheet (cold cache)", {REAL: 2.0, "1000": 10}),
    (
        "edit one answer, all outputs",
        "rebuild after one edited answer, all four outputs",
        {REAL: 1.5, "1000": 4},
    ),
    *(
        (f"{name} / one naive WeasyPrint call on the same HTML", f"ratio:{name}", {})
        for name in PDFS
    ),
    ("Anki cold / bare PyYAML + markdown-it + genanki", "ratio:anki", {}),
    *(
        (f"`sync` {row.removeprefix('sync ')}", row, {REAL: 1, "1000": 2, "10000": 10})
        for row in SYNC_ROWS
    ),
]
"""Issue 18's table: (shown as, our row, seconds per size). Ratio rows: see RATIO_TARGETS."""
RATIO_TARGETS = {"anki": {REAL: 1.5, "1000": 1.5, "10000": 1.5}}
RATIO_TARGETS.update({name: {REAL: 0.33, "1000": 0.33} for name in PDFS})
MEMORY_TARGETS = {"full cold build, all four outputs": {"10000": 2048}}
"""The issue's memory limits (MB, peak RSS of the largest process)."""


def _size_name(size: str, results: dict[str, Row]) -> str:
    if size == REAL:
        return f"real bank ({results.get('_questions', '?')})"
    return f"{int(size):,}"


def _sizes(all_results: dict[str, dict[str, Row]]) -> list[str]:
    return sorted(all_results, key=lambda s: -1 if s == REAL else int(s))


def _verdict(got: float, goal: float, unit: str) -> str:
    verdict = "met" if got <= goal else f"missed by {got / goal:.1f}×"
    return f"{got:.2f}{unit} / ≤ {goal:g}{unit}: {verdict}"


def target_lines(all_results: dict[str, dict[str, Row]]) -> list[str]:
    sizes = _sizes(all_results)
    names = [_size_name(s, all_results[s]) for s in sizes]
    lines = ["", "## Against the targets (issue 18)", ""]
    lines += ["| | " + " | ".join(names) + " |", "|---|" + "---|" * len(sizes)]
    for shown, row, goals in TARGETS:
        cells = []
        for size in sizes:
            results = all_results[size]
            if row.startswith("ratio:"):
                name = row.split(":", 1)[1]
                pair = ANKI_RATIO if name == "anki" else RATIOS[1 + PDFS.index(name)]
                value, goal = ratio(results, *pair), RATIO_TARGETS[name].get(size)
                if value is None:
                    failed = any(f.startswith(f"{name}:") for f in results.get("_failures", []))
                    cells.append("not measured (capture failed)" if failed else "—")
                else:
                    cells.append(_verdict(value, goal, "×") if goal else f"{value:.2f}×")
                continue
            got, goal = results.get(row), goals.get(size)
            limit = MEMORY_TARGETS.get(row, {}).get(size)
            if got is None:
                cells.append("—")
                continue
            parts = [_verdict(got["median"], goal, " s") if goal else f"{got['median']:.2f} s"]
            if limit is not None:
                parts.append(f"finished; {_verdict(got['peak_mb'], limit, ' MB')}")
            cells.append("; ".join(parts))
        lines.append(f"| {shown} | " + " | ".join(cells) + " |")
    failures = [f for s in sizes for f in all_results[s].get("_failures", [])]
    if failures:
        lines += ["", "**Not measured:**", *(f"- {f}" for f in failures)]
    return lines


def write_results(all_results: dict[str, dict[str, Row]], path: Path) -> None:
    sizes = _sizes(all_results)
    names = [_size_name(s, all_results[s]) for s in sizes]
    rows = sorted(
        {row for r in all_results.values() for row in r if not row.startswith("_")},
        key=_row_order,
    )
    lines = [
        "# Benchmark results",
        "",
        f"Generated by `make bench` (`bench/run.py`) on {platform.machine()}, "
        f"{os.cpu_count()} cores, Python {platform.python_version()}; load average "
        f"{all_results[sizes[0]].get('_load', '?')} at the start. Whole processes; median "
        "wall time, median CPU time (user + system, forked workers included) and peak RSS "
        "(the largest single process). The real bank is a copy of `source/` with its "
        "committed lock; the others are synthetic banks from `bench/synth.py`. The first "
        "row times plain CPython: machines of one kind differ from day to day, and runs "
        "are compared by it.",
        "",
        "| command | " + " | ".join(names) + " |",
        "|---|" + "---|" * len(sizes),
    ]
    for row in rows:
        cells = []
        for size in sizes:
            r = all_results[size].get(row)
            cells.append(
                f"{r['median']:.2f} s, {r.get('cpu', 0):.2f} s CPU ({r['peak_mb']:.0f} MB)"
                if r
                else "—"
            )
        lines.append(f"| {row} | " + " | ".join(cells) + " |")
    lines += ["", "## Ratios against the bare libraries (wall time, same run)", ""]
    lines += ["| comparison | " + " | ".join(names) + " |", "|---|" + "---|" * len(sizes)]
    for ours, bare in RATIOS:
        values = [ratio(all_results[s], ours, bare) for s in sizes]
        cells = [f"{v:.2f}×" if v is not None else "—" for v in values]
        lines.append(f"| {ours} / {bare} | " + " | ".join(cells) + " |")
    lines += target_lines(all_results)
    analysis = HERE / "ANALYSIS.md"
    if analysis.is_file():
        lines += ["", analysis.read_text(encoding="utf-8").rstrip()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    (path.with_suffix(".json")).write_text(json.dumps(all_results, indent=1, sort_keys=True))


def _row_order(row: str) -> tuple[int, str]:
    order = ["machine speed", "validate", "build anki", "bare: PyYAML", "full cold",
             "build cheatsheet", "build flashcards", "build quiz", "bare: WeasyPrint", "no-op",
             "rebuild after",
             "sync into an", "sync into the collection holding the bank, n", "sync"]  # fmt: skip
    for index, prefix in enumerate(order):
        if row.startswith(prefix):
            return index, row
    return len(order), row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--sizes", default=f"{REAL},1000,10000", help=f"'{REAL}' (the real bank) and numbers"
    )
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-pdf", action="store_true", help="skip the PDF targets")
    parser.add_argument(
        "--pdf-max",
        type=int,
        default=1000,
        help="full PDF rows only up to this size; above it the PDFs are built once, in the "
        "full cold build (minutes at 10,000 questions)",
    )
    parser.add_argument(
        "--no-pdf-finish",
        action="store_true",
        help="above --pdf-max, skip the full cold build",
    )
    parser.add_argument("--out", type=Path, default=HERE / "RESULTS.md")
    parser.add_argument(
        "--from-json", action="store_true", help="rewrite RESULTS.md from RESULTS.json only"
    )
    args = parser.parse_args()
    if args.from_json:
        write_results(json.loads(args.out.with_suffix(".json").read_text()), args.out)
        return
    sizes = [s.strip() for s in args.sizes.split(",")]
    for size in sizes:
        if size != REAL and not size.isdigit():
            parser.error(f"--sizes: {size!r} is neither '{REAL}' nor a number")
    # measure the tool as installed, with its bytecode (PYTHONDONTWRITEBYTECODE would
    # otherwise make every process compile the whole package from source)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    subprocess.run([PY, "-m", "compileall", "-q", str(REPO / "exporter")], env=env, check=True,
                   stdout=subprocess.DEVNULL)  # fmt: skip
    results: dict[str, dict[str, Any]] = {}
    load = " ".join(f"{x:.1f}" for x in os.getloadavg())
    with tempfile.TemporaryDirectory(prefix="exporter-bench-") as tmp:
        for size in sizes:
            started = time.perf_counter()
            count = 0 if size == REAL else int(size)
            pdf = not args.no_pdf and count <= args.pdf_max
            once = not args.no_pdf and not pdf and not args.no_pdf_finish
            before = len(CAPTURE_FAILURES)
            results[size] = bench_size(size, Path(tmp), args.repeat, pdf, once)
            results[size]["_failures"] = CAPTURE_FAILURES[before:]
            results[size]["_questions"] = count or _question_count(REPO / "source")
            results[size]["_load"] = load
            print(f"{size:>6}: {time.perf_counter() - started:.0f} s", flush=True)
    write_results(results, args.out)
    print(f"wrote {args.out}")
    if FATAL:
        raise SystemExit("some ratios were not measured:\n" + "\n".join(FATAL))


def _question_count(source: Path) -> int:
    import yaml

    return sum(
        len(yaml.load(p.read_text("utf-8"), Loader=yaml.CSafeLoader) or [])
        for p in (source / "questions").glob("*.yaml")
    )


if __name__ == "__main__":
    main()

"""Incremental builds, the change preview (`exporter diff`) and removal protection."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import QUESTIONS_YAML, copy_bank, edit_bank

from exporter.build.lock import LOCK_NAME, read_lock
from exporter.cli.commands import main

REPO = Path(__file__).resolve().parent.parent


def cli(*args: str):
    return CliRunner().invoke(main, list(args))


def test_noop_rebuild_skips_every_target_and_touches_nothing(tmp_path):
    source, out = copy_bank(tmp_path), tmp_path / "out"
    first = cli("build", "-t", "anki", "--source", str(source), "--out", str(out))
    assert first.exit_code == 0, first.output
    apkg = out / "deep-learning.apkg"
    stamp = apkg.stat().st_mtime_ns
    second = cli("build", "-t", "anki", "--source", str(source), "--out", str(out))
    assert second.exit_code == 0
    assert "up to date: anki" in second.stderr
    assert "wrote" not in second.stderr
    assert apkg.stat().st_mtime_ns == stamp


def test_noop_rebuild_does_not_import_weasyprint_or_genanki(tmp_path):
    source, out = copy_bank(tmp_path), tmp_path / "out"
    assert cli("build", "-t", "anki", "--source", str(source), "--out", str(out)).exit_code == 0
    code = (
        "import sys; from exporter.cli.commands import main\n"
        "try:\n main(['build','-t','anki','--source',sys.argv[1],'--out',sys.argv[2]])\n"
        "except SystemExit: pass\n"
        "print(sorted(m for m in ('weasyprint','genanki','markdown_it') if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(source), str(out)],
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.strip() == "[]"


def test_a_change_in_source_options_or_output_makes_the_target_stale(tmp_path):
    source, out = copy_bank(tmp_path), tmp_path / "out"
    args = ["build", "-t", "anki", "--source", str(source), "--out", str(out)]
    assert cli(*args).exit_code == 0
    edit_bank(source, "  answer: |\n    Overfitting is", "  answer: |\n    Plainly, overfitting is")
    assert "wrote" in cli(*args).stderr
    assert "up to date" in cli(*args).stderr
    assert "wrote" in cli(*args, "--deck-layout", "flat").stderr
    (out / "deep-learning.apkg").write_bytes(b"damaged")
    assert "wrote" in cli(*args, "--deck-layout", "flat").stderr
    cleaned = cli(*args, "--deck-layout", "flat", "--clean").stderr
    assert "up to date" not in cleaned and "notes: 0 new, 0 changed" in cleaned


def test_failed_build_leaves_previous_outputs_and_lock_intact(tmp_path):
    source, out = copy_bank(tmp_path), tmp_path / "out"
    args = ["build", "-t", "anki", "--source", str(source), "--out", str(out)]
    assert cli(*args).exit_code == 0
    before = (out / "deep-learning.apkg").read_bytes(), (source / LOCK_NAME).read_bytes()
    edit_bank(source, "- id: overfitting\n  level: basic", "- id: overfitting\n  level: basik")
    result = cli(*args)
    assert result.exit_code == 1
    assert "E008 unknown level 'basik' (did you mean 'basic'?)" in result.stderr
    assert "Nothing written." in result.stderr
    assert ((out / "deep-learning.apkg").read_bytes(), (source / LOCK_NAME).read_bytes()) == before


def test_diff_names_changed_parts_and_anki_actions(tmp_path):
    source, out = copy_bank(tmp_path), tmp_path / "out"
    assert cli("build", "-t", "anki", "--source", str(source), "--out", str(out)).exit_code == 0
    edit_bank(source, "  answer: |\n    Overfitting is", "  answer: |\n    Plainly, overfitting is")
    edit_bank(source, "- id: perceptron\n", "- id: perceptron\n  retired: true\n")
    (source / "questions" / "zz-new.yaml").write_text(
        "- id: brand-new\n  level: basic\n  question: What is a neuron?\n"
        "  answer: A unit computing a weighted sum of inputs plus bias, then an activation.\n",
        encoding="utf-8",
    )
    lock_before = (source / LOCK_NAME).read_bytes()
    result = cli("diff", "--source", str(source), "--out", str(out))
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert "~ overfitting: changed (answer) → Anki: update" in lines
    assert "- perceptron: retired (tags) → Anki: update (tagged retired)" in lines
    assert "+ brand-new: new → Anki: add" in lines
    assert lines[-1] == "Since the lock: 1 new, 1 changed, 1 retired, 77 unchanged."
    assert (source / LOCK_NAME).read_bytes() == lock_before


def test_removed_question_is_an_error_unless_allowed(tmp_path):
    source, out = copy_bank(tmp_path), tmp_path / "out"
    assert cli("build", "-t", "anki", "--source", str(source), "--out", str(out)).exit_code == 0
    edit_bank(source, "- id: overfitting\n", "- id: overfitting-renamed\n")
    result = cli("build", "-t", "anki", "--source", str(source), "--out", str(out))
    assert result.exit_code == 1
    assert "E022 published question 'overfitting' is gone from the source" in result.stderr
    assert f"{LOCK_NAME}:" in result.stderr
    preview = cli("diff", "--source", str(source), "--out", str(out))
    assert "! overfitting: removed → Anki: nothing" in preview.stdout
    assert preview.exit_code == 1
    allowed = cli(
        "build", "-t", "anki", "--allow-removal", "--source", str(source), "--out", str(out)
    )
    assert allowed.exit_code == 0, allowed.output
    lock = read_lock(source / LOCK_NAME)
    assert "overfitting" not in lock.notes and "overfitting-renamed" in lock.notes


def test_a_save_during_a_build_makes_the_next_build_stale(tmp_path, monkeypatch):
    """The manifest keys outputs on the inputs as read, not as they are after the build."""
    import exporter.build.pipeline as pipeline

    source, out = copy_bank(tmp_path), tmp_path / "out"
    real = pipeline.target_renderer

    def renderer_that_sees_a_save(name):
        render = real(name)

        def run(context):
            render(context)
            old, new = "- id: overfitting\n  level: basic", "- id: overfitting\n  level: basik"
            edit_bank(source, old, new)

        return run

    monkeypatch.setattr(pipeline, "target_renderer", renderer_that_sees_a_save)
    assert cli("build", "-t", "anki", "--source", str(source), "--out", str(out)).exit_code == 0
    monkeypatch.setattr(pipeline, "target_renderer", real)
    again = cli("build", "-t", "anki", "--source", str(source), "--out", str(out))
    assert again.exit_code == 1
    assert "E008 unknown level 'basik'" in again.stderr


def test_pdf_targets_rendered_in_parallel_match_one_by_one(tmp_path):
    """`-t pdf` renders the three PDFs in forked workers; the bytes must not change."""
    source = tmp_path / "source"
    shutil.copytree(REPO / "tests" / "roots" / "pdf-small" / "source", source)
    together, apart = tmp_path / "together", tmp_path / "apart"
    assert cli("build", "-t", "anki", "--source", str(source), "--out", str(apart)).exit_code == 0
    result = cli("build", "-t", "pdf", "--source", str(source), "--out", str(together))
    assert result.exit_code == 0, result.output
    for target in ("cheatsheet", "guide", "flashcards", "quiz"):
        one = cli("build", "-t", target, "--source", str(source), "--out", str(apart))
        assert one.exit_code == 0, one.output
    names = sorted(p.name for p in together.glob("*.pdf"))
    assert len(names) == 4
    for name in names:
        assert (together / name).read_bytes() == (apart / name).read_bytes(), name


SPIED_BUILD = """
import os, sys
from pathlib import Path
import exporter.build.pipeline as pipeline
import exporter.build.project as project
record, way = Path(sys.argv[1]), sys.argv[2]
real, main_process = project.load_project, os.getpid()
def spy(*args, **kwargs):
    here = os.getpid() == main_process
    with record.open("a") as notes:
        notes.write(("here" if here else "child") + "\\n")
    if way == "child dies" and not here:
        os._exit(3)
    return real(*args, **kwargs)
pipeline.load_project = spy
pipeline.LOAD_BESIDE_IMPORT = way != "in-process"
from exporter.cli.commands import main
main(sys.argv[3:])
"""
"""``exporter`` as a process whose source loads note the process they run in (a forked
child's memory is lost, so in a file); way "child dies" kills a child that loads."""

beside_import = pytest.mark.skipif(
    (os.cpu_count() or 1) < 2 or not hasattr(os, "fork"), reason="needs two cores and fork"
)


def spied_build(record: Path, way: str, *args: str, cwd: Path | None = None):
    result = subprocess.run(
        [sys.executable, "-c", SPIED_BUILD, str(record), way, "build", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
    )
    loads = record.read_text().split() if record.exists() else []
    record.unlink(missing_ok=True)
    return result, loads


@beside_import
def test_the_source_loaded_beside_the_pdf_import_gives_the_same_outputs(tmp_path):
    """With PDF targets stale, the source is loaded in a forked child while WeasyPrint is
    imported; the outputs, the lock and the cache it writes are those of a load in the
    build's own process, and a child that dies makes the build load the source itself."""
    record = tmp_path / "loads"
    outputs = {}
    expected = {"beside": ["child"], "in-process": ["here"], "child dies": ["child", "here"]}
    for way in expected:
        source = tmp_path / way / "source"  # with the committed lock: the same dates
        shutil.copytree(REPO / "source", source)
        out = tmp_path / way / "out"
        args = ["-t", "anki", "-t", "cheatsheet", "-t", "quiz", "--source", str(source)]
        result, loads = spied_build(record, way, *args, "--out", str(out))
        assert result.returncode == 0, result.stderr
        assert loads == expected[way]
        files = [p for p in out.iterdir() if p.is_file() and p.suffix != ".json"]
        # the cache, but for the YAML trees: they are kept under their file's path
        files += [p for p in (out / ".cache").glob("*.json") if p.name != "yaml-tree.json"]
        outputs[way] = {p.name: p.read_bytes() for p in files}
        outputs[way]["lock"] = (source / LOCK_NAME).read_bytes()
    assert len(outputs["beside"]) > 10  # deck, two PDFs, the cache, the lock
    assert outputs["beside"] == outputs["in-process"] == outputs["child dies"]


@beside_import
def test_source_errors_found_beside_the_pdf_import_are_reported_as_always(tmp_path, make_source):
    source = make_source(QUESTIONS_YAML.replace("level: basic", "level: basik", 1))
    result, loads = spied_build(tmp_path / "loads", "beside", "-t", "cheatsheet", cwd=tmp_path)
    assert loads == ["child"]
    assert result.returncode == 1
    assert "source/questions/basic.yaml:" in result.stderr
    assert "E008 unknown level 'basik'" in result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert source.is_dir() and not list(tmp_path.glob("build/*.pdf"))


def test_pdfs_do_not_depend_on_where_the_source_is_checked_out(tmp_path):
    first, second = tmp_path / "a" / "source", tmp_path / "elsewhere" / "deeper" / "source"
    for copy in (first, second):
        shutil.copytree(REPO / "tests" / "roots" / "pdf-small" / "source", copy)
    args = ["build", "-t", "cheatsheet"]
    assert cli(*args, "--source", str(first), "--out", str(first.parent / "out")).exit_code == 0
    shutil.copy(first / LOCK_NAME, second / LOCK_NAME)  # the committed lock travels along
    assert cli(*args, "--source", str(second), "--out", str(second.parent / "out")).exit_code == 0
    (pdf,) = (first.parent / "out").glob("*.pdf")
    assert pdf.read_bytes() == (second.parent / "out" / pdf.name).read_bytes()


def test_parallel_markdown_rendering_gives_the_same_deck(tmp_path, monkeypatch):
    """Large cold builds render Markdown in worker processes; the result must not change."""
    import exporter.build.project as project

    source = copy_bank(tmp_path)
    serial, parallel = tmp_path / "serial", tmp_path / "parallel"
    assert cli("build", "-t", "anki", "--source", str(source), "--out", str(serial)).exit_code == 0
    monkeypatch.setattr(project, "PARALLEL_MARKDOWN_MIN", 10)
    result = cli("build", "-t", "anki", "--source", str(source), "--out", str(parallel))
    assert result.exit_code == 0, result.output
    for name in ("markdown-html.json", "markdown-findings.json"):
        cached = (parallel / ".cache" / name).read_bytes()
        assert cached == (serial / ".cache" / name).read_bytes()
    apkg = "deep-learning.apkg"
    assert (parallel / apkg).read_bytes() == (serial / apkg).read_bytes()


def test_lock_without_part_hashes_is_completed_without_moving_any_time(tmp_path):
    source, out = copy_bank(tmp_path), tmp_path / "out"
    assert cli("build", "-t", "anki", "--source", str(source), "--out", str(out)).exit_code == 0
    full = (source / LOCK_NAME).read_text()
    old_format = "\n".join(
        " ".join(line.split()[:5]) if line.startswith("note ") else line
        for line in full.splitlines()
    )
    (source / LOCK_NAME).write_text(old_format + "\n")
    frozen = cli("build", "-t", "anki", "--frozen", "--source", str(source), "--out", str(out))
    assert frozen.exit_code == 0, frozen.output
    assert (source / LOCK_NAME).read_text() == full


def test_cached_yaml_trees_give_the_same_diagnostics_and_outputs(tmp_path):
    """The second run rebuilds located trees from build/.cache instead of parsing."""
    planted = tmp_path / "planted"
    shutil.copytree(REPO / "tests" / "roots" / "planted-15" / "source", planted / "source")
    cache_out = tmp_path / "cache-out"
    args = ["validate", "--source", str(planted / "source"), "--out", str(cache_out)]
    cold, warm = cli(*args), cli(*args)
    assert (cache_out / ".cache" / "yaml-tree.json").is_file()
    assert cold.exit_code == warm.exit_code == 1
    assert cold.stderr == warm.stderr and cold.stderr.count(": E") >= 14
    source, out = copy_bank(tmp_path), tmp_path / "out"
    build_args = ["build", "-t", "anki", "--source", str(source), "--out", str(out)]
    assert cli(*build_args).exit_code == 0
    first = (out / "deep-learning.apkg").read_bytes()
    (out / "deep-learning.apkg").unlink()
    assert cli(*build_args).exit_code == 0
    assert (out / "deep-learning.apkg").read_bytes() == first


def _edit_and_rebuild(
    tmp_path: Path, targets: list[str], cached: str
) -> tuple[Path, Path, int, int]:
    """Build the real bank, edit one answer and build again; then build the edited bank
    from scratch elsewhere. Returns both output folders, how many blobs matching
    ``cached`` (under build/.cache) the first build stored and how many the rebuild added."""
    source, out = copy_bank(tmp_path), tmp_path / "out"
    args = ["build", *(f"-t{t}" for t in targets), "--source", str(source)]
    assert cli(*args, "--out", str(out)).exit_code == 0
    before = {p.name for p in (out / ".cache").glob(cached)}
    edit_bank(source, "  answer: |\n    Overfitting is", "  answer: |\n    Plainly, overfitting is")
    result = cli(*args, "--out", str(out))
    assert result.exit_code == 0, result.output
    added = {p.name for p in (out / ".cache").glob(cached)} - before
    cold = tmp_path / "cold"
    assert cli(*args, "--out", str(cold)).exit_code == 0
    return out, cold, len(before), len(added)


def test_an_edit_re_renders_one_flashcard_sheet_and_matches_a_cold_build(tmp_path):
    """Flashcard sheets are cached by their HTML: after editing one answer only the sheet
    holding that card is laid out again, and the merged PDF is byte-identical to a build
    from scratch of the edited bank."""
    out, cold, stored, added = _edit_and_rebuild(tmp_path, ["flashcards"], "flashcard-sheets/*.bin")
    assert stored >= 10  # one per sheet of 8 cards
    assert added == 1
    name = "deep-learning-flashcards.pdf"
    assert (out / name).read_bytes() == (cold / name).read_bytes()
    from pypdf import PdfReader

    text = " ".join(page.extract_text() for page in PdfReader(out / name).pages)
    assert "Plainly, overfitting is" in " ".join(text.split())


def test_flashcard_sheets_do_not_depend_on_how_they_are_batched(tmp_path, monkeypatch):
    """Workers lay sheets out in batches; one sheet per layout in one process must give
    the same bytes as the default batches split across processes."""
    import exporter.core.workers as parallel
    import exporter.render.pdf.flashcards as flashcards

    source = copy_bank(tmp_path)
    args = ["build", "-t", "flashcards", "--source", str(source)]
    assert cli(*args, "--out", str(tmp_path / "batched")).exit_code == 0
    monkeypatch.setattr(flashcards, "FLASHCARD_BATCH", 1)
    monkeypatch.setattr(parallel, "worker_count", lambda jobs, limit=4: 1)
    assert cli(*args, "--out", str(tmp_path / "single")).exit_code == 0
    name = "deep-learning-flashcards.pdf"
    assert (tmp_path / "batched" / name).read_bytes() == (tmp_path / "single" / name).read_bytes()


def test_an_edit_re_lays_out_one_segment_of_the_guide_and_quiz(tmp_path):
    """The guide and quiz are laid out in segments cached by their HTML: editing one
    answer re-lays out the guide segment and the answer-key segment holding it, and
    the results (and the cheat sheet, packed anew) are byte-identical to builds from
    scratch of the edited bank."""
    out, cold, stored, added = _edit_and_rebuild(
        tmp_path, ["guide", "quiz", "cheatsheet"], "pdf-segments-*/*.bin"
    )
    assert stored >= 5  # guide segments (and their probes), questions and key of the quiz
    # the key's segment, and the guide's segment: twice (its probe and the part kept up to
    # a page foot) unless it is the last one; the segments after it are reused
    assert added in (2, 3)
    names = ("deep-learning-guide.pdf", "deep-learning-quiz.pdf", "deep-learning-cheatsheet.pdf")
    for name in names:
        assert (out / name).read_bytes() == (cold / name).read_bytes(), name


def test_segments_laid_out_in_one_process_match_the_parallel_ones(tmp_path, monkeypatch):
    import exporter.core.workers as parallel

    source = copy_bank(tmp_path)
    args = ["build", "-t", "guide", "-t", "quiz", "-t", "cheatsheet", "--source", str(source)]
    assert cli(*args, "--out", str(tmp_path / "parallel")).exit_code == 0
    monkeypatch.setattr(parallel, "worker_count", lambda jobs, limit=4: 1)
    assert cli(*args, "--out", str(tmp_path / "serial")).exit_code == 0
    names = ("deep-learning-guide.pdf", "deep-learning-quiz.pdf", "deep-learning-cheatsheet.pdf")
    for name in names:
        one, two = tmp_path / "parallel" / name, tmp_path / "serial" / name
        assert one.read_bytes() == two.read_bytes(), name


def test_an_answer_edit_that_changes_no_cheat_sheet_item_only_restamps_it(tmp_path):
    """The cheat sheet shows a card's key, not its answer: editing the answer's start
    measures nothing and lays no frame out again (both are cached without the dates);
    only the dates move, and the sheet is byte-identical to a build from scratch."""
    from pypdf import PdfReader

    name = "deep-learning-cheatsheet.pdf"
    source, out = copy_bank(tmp_path), tmp_path / "out"
    args = ["build", "-t", "cheatsheet", "--source", str(source)]
    assert cli(*args, "--out", str(out)).exit_code == 0
    first = PdfReader(out / name).metadata["/ModDate"]
    cached = ("cheatsheet-measure-pdf/*.bin", "cheatsheet-frame/*.bin")
    before = [{p.name for p in (out / ".cache").glob(pattern)} for pattern in cached]
    assert all(before)
    edit_bank(source, "  answer: |\n    Overfitting is", "  answer: |\n    Plainly, overfitting is")
    assert cli(*args, "--out", str(out)).exit_code == 0
    after = [{p.name for p in (out / ".cache").glob(pattern)} for pattern in cached]
    assert after == before
    cold = tmp_path / "cold"
    assert cli(*args, "--out", str(cold)).exit_code == 0
    assert (out / name).read_bytes() == (cold / name).read_bytes()
    assert PdfReader(out / name).metadata["/ModDate"] != first  # the note's new time


def test_a_key_edit_measures_one_chunk_of_the_cheat_sheet_again(tmp_path):
    """The cheat sheet measures its items in chunks cached by their HTML: editing one key
    measures only the chunk holding it again, and the sheet matches a cold build."""
    name = "deep-learning-cheatsheet.pdf"
    source, out = copy_bank(tmp_path), tmp_path / "out"
    args = ["build", "-t", "cheatsheet", "--source", str(source)]
    assert cli(*args, "--out", str(out)).exit_code == 0
    pattern = "cheatsheet-measure-pdf/*.bin"
    before = {p.name for p in (out / ".cache").glob(pattern)}
    assert len(before) >= 2  # the real bank's 79 items are measured in two chunks
    edit_bank(source, "  key: Classical ML", "  key: Put briefly, classical ML")
    assert cli(*args, "--out", str(out)).exit_code == 0
    added = {p.name for p in (out / ".cache").glob(pattern)} - before
    assert len(added) == 1
    cold = tmp_path / "cold"
    assert cli(*args, "--out", str(cold)).exit_code == 0
    assert (out / name).read_bytes() == (cold / name).read_bytes()

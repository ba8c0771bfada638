"""The Anki target, checked against Anki's own backend (the `anki` package from PyPI).

Each test builds into a temporary folder and imports into a throw-away collection, so what
is asserted is what a user's Anki would do with the package.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from anki import import_export_pb2 as ie
from anki.collection import Collection, ImportAnkiPackageOptions, ImportAnkiPackageRequest
from click.testing import CliRunner
from conftest import copy_bank, edit_bank

from exporter.build.lock import LOCK_NAME, read_lock
from exporter.cli.commands import main
from exporter.core.identity import NOTE_FIELDS, TEMPLATE_NAME, note_guid
from exporter.render.anki.notes import removed_by_sanitizer, sanitize
from exporter.render.anki.package import notetype_id

REPO = Path(__file__).resolve().parent.parent
IF_NEWER = ie.IMPORT_ANKI_PACKAGE_UPDATE_CONDITION_IF_NEWER


def build(source: Path, out: Path, *args: str) -> Path:
    """Run `exporter build -t anki` through the CLI; the .apkg path."""
    result = CliRunner().invoke(
        main, ["build", "-t", "anki", "--source", str(source), "--out", str(out), *args]
    )
    assert result.exit_code == 0, result.output
    apkgs = sorted(out.glob("*.apkg"))
    assert apkgs, result.output
    return apkgs[0]


def import_into(col: Collection, apkg: Path):
    """Import with Anki's default options (update notes and note types if newer)."""
    options = ImportAnkiPackageOptions(
        merge_notetypes=False,
        update_notes=IF_NEWER,
        update_notetypes=IF_NEWER,
        with_scheduling=False,
        with_deck_configs=False,
    )
    result = col.import_anki_package(
        ImportAnkiPackageRequest(package_path=str(apkg), options=options)
    )
    col.models._clear_cache()
    return result.log


@pytest.fixture
def col(tmp_path: Path):
    (tmp_path / "collection").mkdir()
    collection = Collection(str(tmp_path / "collection" / "c.anki2"))
    yield collection
    collection.close()


@pytest.fixture(scope="module")
def real_bank_questions() -> list[dict]:
    import yaml

    questions = []
    for path in sorted((REPO / "source" / "questions").glob("*.yaml")):
        questions += yaml.safe_load(path.read_text(encoding="utf-8"))
    return questions


def note_by_id(col: Collection, question_id: str):
    ids = col.find_notes(f'"Id:{question_id}"')
    assert len(ids) == 1, (question_id, ids)
    return col.get_note(ids[0])


# 1. import the built deck ---------------------------------------------------------------


def test_import_matches_the_source(tmp_path, col, real_bank_questions):
    apkg = build(copy_bank(tmp_path), tmp_path / "out")
    log = import_into(col, apkg)
    active = [q for q in real_bank_questions if not q.get("retired")]
    assert len(log.new) == len(real_bank_questions)
    assert col.note_count() == len(real_bank_questions)
    assert col.card_count() == len(real_bank_questions)
    names = {d.name for d in col.decks.all_names_and_ids()}
    title = "Deep Learning Interview Questions"
    assert {f"{title}::Basic", f"{title}::Intermediate", f"{title}::Advanced"} <= names
    for question in active:
        note = note_by_id(col, question["id"])
        assert f"deep-learning::level::{question['level']}" in note.tags
        assert any(tag.startswith("deep-learning::topic::") for tag in note.tags)
        for tag in question.get("tags", []):
            assert f"deep-learning::topic::{tag}" in note.tags
        card = note.cards()[0]
        assert col.decks.name(card.did) == f"{title}::{question['level'].capitalize()}"
        assert note.guid == note_guid("deep-learning", question["id"])
        output = card.render_output(reload=True)
        assert "qa-question" in output.question_text
        assert "qa-answer" in output.answer_text
        assert "{{" not in output.answer_text, "template placeholder left unrendered"
        # the answer's first words arrive in the rendered back
        # (formulas left out: Anki keeps their LaTeX, e.g. "\\,", which the words lack)
        prose = re.sub(r"\$[^$]*\$", " ", question["answer"])
        first_words = re.sub(r"[*_`$\\]", "", prose).split()[:3]
        plain = re.sub(r"<[^>]+>", " ", output.answer_text)
        for word in first_words:
            assert word.strip(".,:;()") in plain


def test_fields_hold_math_code_and_tables_as_designed(tmp_path, col):
    apkg = build(copy_bank(tmp_path), tmp_path / "out")
    import_into(col, apkg)
    sigmoid = note_by_id(col, "activation-functions")
    assert "\\(" in sigmoid["Details"] or "\\[" in sigmoid["Details"]
    assert "$" not in re.sub(r"\\\(.*?\\\)|\\\[.*?\\\]", "", sigmoid["Details"], flags=re.S)
    custom = note_by_id(col, "custom-loss-function")
    assert 'class="highlight' in custom["Details"]
    assert "style=" not in custom["Details"], "code colours must come from CSS classes"
    table = note_by_id(col, "single-vs-multi-layer-perceptron")
    assert "<table>" in table["Details"]
    model = col.models.by_name("Interview Q&A (deep-learning)")
    assert [f["name"] for f in model["flds"]] == list(NOTE_FIELDS)
    assert ".nightMode" in model["css"] and ".night_mode" in model["css"]


def test_field_and_template_names_are_frozen(tmp_path):
    """Renaming a field or template is a schema change: Anki would duplicate every note."""
    assert NOTE_FIELDS == ("Question", "Answer", "Details", "Id", "Source")
    assert TEMPLATE_NAME == "Question → Answer"
    apkg = build(copy_bank(tmp_path), tmp_path / "out")
    with zipfile.ZipFile(apkg) as archive:
        (tmp_path / "c.anki2").write_bytes(archive.read("collection.anki2"))
    conn = sqlite3.connect(tmp_path / "c.anki2")
    (models_json,) = conn.execute("SELECT models FROM col").fetchone()
    conn.close()
    (model,) = json.loads(models_json).values()
    assert [f["name"] for f in model["flds"]] == list(NOTE_FIELDS)
    assert [t["name"] for t in model["tmpls"]] == [TEMPLATE_NAME]


def test_ids_are_stable_functions_of_names(tmp_path):
    """Published ids must never change: these values are in users' collections."""
    from exporter.core.diagnostics import Location
    from exporter.core.model import Deck

    deck = Deck("deep-learning", "T", "", ("basic",), Location("x"))
    assert notetype_id(deck) == notetype_id(deck)
    assert note_guid("deep-learning", "perceptron") == "nWl3nf=B,C"
    assert note_guid("deep-learning", "perceptron") != note_guid("other-deck", "perceptron")
    assert notetype_id(deck) == 2292619383860656


# 2. study, edit, rebuild, re-import -----------------------------------------------------


def test_edit_updates_exactly_that_note_and_keeps_history(tmp_path, col):
    source = copy_bank(tmp_path)
    first = build(source, tmp_path / "out1")
    import_into(col, first)
    for card_id in col.find_cards(""):
        card = col.get_card(card_id)
        card.start_timer()
        col.sched.answerCard(card, 3)
    before = {
        cid: (c.ivl, c.due, c.type, c.queue, c.reps, c.did)
        for cid in col.find_cards("")
        for c in [col.get_card(cid)]
    }
    revlog_before = col.db.scalar("select count() from revlog")
    assert revlog_before == len(before)
    # a user moves one card to a deck of their own: the import must not move it back
    own_deck = col.decks.id("My own deck")
    moved = col.find_cards('"Id:overfitting"')[0]
    col.set_deck([moved], own_deck)
    before[moved] = (*before[moved][:5], own_deck)

    edit_bank(
        source,
        "  answer: |\n    Overfitting is",
        "  answer: |\n    EDITED. Overfitting is",
    )
    text = (source / "questions" / "basic.yaml").read_text(encoding="utf-8")
    assert "EDITED." in text
    block = text.split("- id: overfitting", 1)[1]
    old_tags = re.search(r"\n  tags: \[([^\]]*)\]", block).group(0)
    text = text.replace(old_tags, old_tags[:-1] + ", training-practice]", 1)
    (source / "questions" / "basic.yaml").write_text(text, encoding="utf-8")

    second = build(source, tmp_path / "out2")
    log = import_into(col, second)
    assert len(log.updated) == 1
    assert len(log.new) == 0
    assert len(log.conflicting) == 0
    note = note_by_id(col, "overfitting")
    assert note["Answer"].startswith("<p>EDITED.")
    assert "deep-learning::topic::training-practice" in note.tags
    assert col.note_count() == len(before)
    after = {
        cid: (c.ivl, c.due, c.type, c.queue, c.reps, c.did)
        for cid in col.find_cards("")
        for c in [col.get_card(cid)]
    }
    assert after == before
    assert col.db.scalar("select count() from revlog") == revlog_before


# 3. change the CSS ----------------------------------------------------------------------


def test_css_change_updates_the_note_type(tmp_path, col):
    source = copy_bank(tmp_path)
    import_into(col, build(source, tmp_path / "out1"))
    overrides = tmp_path / "templates" / "anki"
    overrides.mkdir(parents=True)
    css = (REPO / "templates" / "anki" / "style.css").read_text(encoding="utf-8")
    (overrides / "style.css").write_text(css + "\n.qa-question { color: teal; }\n")
    second = build(source, tmp_path / "out2", "--templates", str(tmp_path / "templates"))
    log = import_into(col, second)
    assert len(log.new) == 0 and len(log.conflicting) == 0
    model = col.models.by_name("Interview Q&A (deep-learning)")
    assert ".qa-question { color: teal; }" in model["css"]
    assert len(col.models.all_names_and_ids()) == len([m for m in col.models.all_names_and_ids()])
    assert sum(1 for m in col.models.all_names_and_ids() if "Interview" in m.name) == 1


# 4. rebuild without changes -------------------------------------------------------------


def test_rebuild_is_byte_identical_and_reimport_updates_nothing(tmp_path, col):
    source = copy_bank(tmp_path)
    first = build(source, tmp_path / "out1")
    lock_text = (source / LOCK_NAME).read_text()
    second = build(source, tmp_path / "out2")
    assert first.read_bytes() == second.read_bytes()
    assert (source / LOCK_NAME).read_text() == lock_text
    import_into(col, first)
    log = import_into(col, second)
    assert len(log.updated) == 0 and len(log.new) == 0 and len(log.conflicting) == 0


def test_identical_bytes_across_processes_and_hash_seeds(tmp_path):
    source = copy_bank(tmp_path)
    build(source, tmp_path / "warm")  # writes the lock
    outputs = []
    for seed in ("1", "12345"):
        out = tmp_path / f"out-{seed}"
        env = {**os.environ, "PYTHONHASHSEED": seed}
        subprocess.run(
            [
                sys.executable,
                "-m",
                "exporter",
                "build",
                "-q",
                "-t",
                "anki",
                "--source",
                str(source),
                "--out",
                str(out),
            ],
            check=True,
            env=env,
        )
        outputs.append((out / "deep-learning.apkg").read_bytes())
        assert not [p for p in out.iterdir() if p.name.endswith(".tmp")]
    assert outputs[0] == outputs[1]


# the lock -------------------------------------------------------------------------------


def test_lock_changes_only_for_edited_notes_and_always_moves_forward(tmp_path):
    source = copy_bank(tmp_path)
    build(source, tmp_path / "out")
    old = read_lock(source / LOCK_NAME)
    edit_bank(
        source, "  answer: |\n    Overfitting is", "  answer: |\n    Put simply, overfitting is"
    )
    build(source, tmp_path / "out")
    new = read_lock(source / LOCK_NAME)
    changed = [k for k in new.notes if new.notes[k] != old.notes[k]]
    assert changed == ["overfitting"]
    assert new.notes["overfitting"].mod > old.latest
    assert new.notes["overfitting"].added == old.notes["overfitting"].added
    lines = [
        line for line in (source / LOCK_NAME).read_text().splitlines() if line.startswith("note ")
    ]
    assert lines == sorted(lines)


def test_frozen_fails_when_the_lock_would_change_and_writes_nothing(tmp_path):
    source = copy_bank(tmp_path)
    out = tmp_path / "out"
    build(source, out)
    lock_before = (source / LOCK_NAME).read_bytes()
    apkg_before = (out / "deep-learning.apkg").read_bytes()
    ok = CliRunner().invoke(
        main, ["build", "-t", "anki", "--frozen", "--source", str(source), "--out", str(out)]
    )
    assert ok.exit_code == 0, ok.output
    edit_bank(source, "  answer: |\n    Overfitting is", "  answer: |\n    Briefly, overfitting is")
    result = CliRunner().invoke(
        main, ["build", "-t", "anki", "--frozen", "--source", str(source), "--out", str(out)]
    )
    assert result.exit_code == 1
    assert "E021 lock file is out of date (0 new, 1 changed, 0 retired, 78 unchanged)" in (
        result.stderr
    )
    assert (source / LOCK_NAME).read_bytes() == lock_before
    assert (out / "deep-learning.apkg").read_bytes() == apkg_before


# filters, layouts, retired --------------------------------------------------------------


def test_level_filter_gives_a_subset_with_the_same_guids(tmp_path, col):
    source = copy_bank(tmp_path)
    full = build(source, tmp_path / "full")
    basic = build(source, tmp_path / "basic", "--level", "basic")
    assert basic.name == "deep-learning-basic.apkg"
    import_into(col, basic)
    notes = [col.get_note(n) for n in col.find_notes("")]
    assert notes and all("deep-learning::level::basic" in n.tags for n in notes)
    log = import_into(col, full)
    assert len(log.conflicting) == 0
    assert len(log.new) == col.note_count() - len(notes)


def test_deck_layouts(tmp_path, col):
    source = copy_bank(tmp_path)
    import_into(col, build(source, tmp_path / "flat", "--deck-layout", "flat"))
    decks = {col.decks.name(col.get_card(c).did) for c in col.find_cards("")}
    assert decks == {"Deep Learning Interview Questions"}
    tagged = build(source, tmp_path / "tag", "--deck-layout", "tag")
    with zipfile.ZipFile(tagged) as archive:
        (tmp_path / "t.anki2").write_bytes(archive.read("collection.anki2"))
    conn = sqlite3.connect(tmp_path / "t.anki2")
    names = {
        d["name"] for d in json.loads(conn.execute("select decks from col").fetchone()[0]).values()
    }
    conn.close()
    assert "Deep Learning Interview Questions::Convolutional networks" in names


def test_retired_question_is_tagged_set_apart_and_newer(tmp_path, col):
    source = copy_bank(tmp_path)
    import_into(col, build(source, tmp_path / "out1"))
    old = read_lock(source / LOCK_NAME)
    edit_bank(source, "- id: overfitting\n", "- id: overfitting\n  retired: true\n")
    second = build(source, tmp_path / "out2")
    assert read_lock(source / LOCK_NAME).notes["overfitting"].mod > old.notes["overfitting"].mod
    log = import_into(col, second)
    assert len(log.updated) == 1
    note = note_by_id(col, "overfitting")
    assert "deep-learning::retired" in note.tags
    # a collection that never had it gets it in the Retired subdeck, not a study deck
    (tmp_path / "fresh").mkdir()
    fresh = Collection(str(tmp_path / "fresh" / "c.anki2"))
    try:
        import_into(fresh, second)
        card = note_by_id(fresh, "overfitting").cards()[0]
        assert fresh.decks.name(card.did).endswith("::Retired")
    finally:
        fresh.close()


# hostile content ------------------------------------------------------------------------


HOSTILE = """\
- id: hostile
  level: basic
  question: "What about <script>alert(1)</script>?"
  answer: |
    <img src=x onerror=alert(1)> and <iframe src="https://example.com"></iframe>
    and [click](javascript:alert(1)) and <a href="javascript:alert(2)">x</a>
  details: |
    <svg onload=alert(3)></svg> <div onclick="steal()">text</div>
"""


def test_hostile_markup_never_reaches_the_card(tmp_path, col):
    source = copy_bank(tmp_path)
    (source / "questions" / "zz-hostile.yaml").write_text(HOSTILE, encoding="utf-8")
    result = CliRunner().invoke(
        main, ["build", "-t", "anki", "--source", str(source), "--out", str(tmp_path / "out")]
    )
    assert result.exit_code == 0, result.output
    assert "W104" in result.stderr
    import_into(col, tmp_path / "out" / "deep-learning.apkg")
    card = note_by_id(col, "hostile").cards()[0]
    rendered = card.render_output(reload=True)
    for html in (rendered.question_text, rendered.answer_text):
        assert not re.search(r"<\s*(script|iframe|svg)\b", html, re.I)
        assert not re.search(r"<[^>]+\son\w+\s*=", html, re.I)
        assert not re.search(r"<a\b[^>]*href\s*=\s*[\"']?\s*javascript:", html, re.I)


def test_sanitizer_removes_and_reports_dangerous_html():
    dirty = '<p onclick="x()">a</p><script>alert(1)</script><a href="javascript:y()">b</a>'
    clean = sanitize(dirty)
    assert "script" not in clean and "onclick" not in clean and "javascript" not in clean
    assert sorted(removed_by_sanitizer(dirty, clean)) == ["a href", "p onclick", "script"]
    safe = '<p>ok <code class="x">c</code></p>'
    assert removed_by_sanitizer(safe, sanitize(safe)) == []


def test_images_are_bundled_under_content_hashed_names(tmp_path, col):
    source = copy_bank(tmp_path)
    (source / "figures").mkdir()
    png = (
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00"
        b"\x00\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\xcf\xc0\xf0\x1f\x00\x05\x00"
        b"\x01\xff\x89\x99=\x1d\x00\x00\x00\x00IEND\xaeB`\x82"
    )
    (source / "figures" / "dot.png").write_bytes(png)
    edit_bank(
        source,
        "  answer: |\n    Overfitting is",
        "  answer: |\n    ![a dot](figures/dot.png)\n\n    Overfitting is",
    )
    apkg = build(source, tmp_path / "out")
    with zipfile.ZipFile(apkg) as archive:
        media = json.loads(archive.read("media"))
        assert list(media.values()) == [
            n for n in media.values() if re.fullmatch(r"deep-learning-[0-9a-f]{16}\.png", n)
        ]
        assert archive.read("0") == png
    import_into(col, apkg)
    note = note_by_id(col, "overfitting")
    name = next(iter(media.values()))
    assert f'src="{name}"' in note["Answer"]
    assert (Path(col.media.dir()) / name).read_bytes() == png


@pytest.mark.parametrize(
    ("back", "expected"),
    [
        ("<div>{{Question}}</div>\n<p>{{Answr}}</p>\n", ":2:4: E019 Anki template: unknown field "
         "{{Answr}} (did you mean 'Answer'?)"),
        ("{{#Details}}{{Details}}\n", ":1:1: E019 Anki template: {{#Details}} is never closed"),
        (b"\xff{{Answer}}", ": E019 Anki template: cannot read template"),
    ],
)  # fmt: skip
def test_broken_anki_template_override_is_located_and_writes_nothing(tmp_path, back, expected):
    source = copy_bank(tmp_path)
    out = tmp_path / "out"
    build(source, out)
    before = (out / "deep-learning.apkg").read_bytes()
    overrides = tmp_path / "templates" / "anki"
    overrides.mkdir(parents=True)
    target = overrides / "back.html"
    target.write_bytes(back if isinstance(back, bytes) else back.encode())
    templates = str(tmp_path / "templates")
    args = ["build", "-t", "anki", "--source", str(source), "--out", str(out)]
    result = CliRunner().invoke(main, [*args, "--templates", templates])
    assert result.exit_code == 1, result.output
    assert expected in result.stderr
    assert "Traceback" not in result.output
    assert (out / "deep-learning.apkg").read_bytes() == before

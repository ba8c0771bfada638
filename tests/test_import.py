"""`exporter import`: plain text, CSV/TSV and Anki packages into a new question file.

Every test runs the real CLI on a temporary copy of a small source (three levels, a few
tags, one existing question). Packages are made at test time: by our own exporter from
the real bank, by genanki with its Basic note type, and by Anki's backend in the newer
zstd-compressed format.
"""

from __future__ import annotations

import re
import shutil
import sqlite3
import zipfile
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner, Result
from conftest import PNG_BYTES

from exporter.cli.commands import main
from exporter.cli.importing import detect_format
from exporter.core.diagnostics import Diagnostics
from exporter.importers import hyphens
from exporter.importers.apkg import read_sqlite, read_with_anki
from exporter.importers.common import (
    ImportedQuestion,
    ImportFailed,
    ImportOptions,
    assign_ids,
    escape_markdown,
    map_tags,
    questions_yaml,
    slugify,
)
from exporter.importers.htmlmd import html_to_markdown
from exporter.importers.hyphens import HyphenRepair
from exporter.importers.text import parse_text
from exporter.source.loader import load_source
from exporter.source.validate import validate

REPO = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data" / "import"
SEED = Path(__file__).resolve().parents[2] / "shared" / "seeds" / "000_31c63ba55efec47f.txt"

DECK = """\
id: import-test
title: Import test
levels: [basic, intermediate, advanced]
"""
TAXONOMY = """\
tags:
  cnn:
    title: Convolutional networks
    match: [convolution*, cnn]
  regularization:
    title: Regularization
    match: [dropout, overfit*]
  fundamentals:
    title: Fundamentals
"""
EXISTING = """\
- id: existing
  level: basic
  question: What is an existing question?
  answer: One that is already in the bank.
  tags: [fundamentals]
"""


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """tmp_path with source/ (deck, taxonomy, questions/existing.yaml); also the cwd."""
    source = tmp_path / "source"
    (source / "questions").mkdir(parents=True)
    (source / "deck.yaml").write_text(DECK, encoding="utf-8")
    (source / "taxonomy.yaml").write_text(TAXONOMY, encoding="utf-8")
    (source / "questions" / "existing.yaml").write_text(EXISTING, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def run(*args: str | Path) -> Result:
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def imported(project: Path, name: str) -> list[dict]:
    """The questions of source/questions/<name>.yaml, read back through our loader."""
    diagnostics = Diagnostics()
    bank = validate(load_source(project / "source", diagnostics), diagnostics)
    assert bank is not None
    assert not diagnostics.errors, [d.format() for d in diagnostics.errors]
    path = project / "source" / "questions" / f"{name}.yaml"
    assert path.is_file()
    by_file = [q for q in bank.questions if q.location.path.endswith(f"{name}.yaml")]
    plain = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert [q.id for q in by_file] == [q["id"] for q in plain]
    return [
        {
            "id": q.id,
            "level": q.level,
            "question": q.question,
            "answer": q.answer,
            "details": q.details,
            "tags": list(q.tags),
            "guid": q.guid,
            "seed": list(q.seed),
        }
        for q in by_file
    ]


# Plain text ------------------------------------------------------------------------------


def test_text_import_makes_questions_lists_tables_and_levels(project: Path) -> None:
    result = run("import", DATA / "notes.txt", "--level-from-headings")
    assert result.exit_code == 0, result.stderr
    questions = imported(project, "notes")
    assert len(questions) == 8
    assert [q["level"] for q in questions] == ["basic"] * 4 + ["intermediate"] * 2 + [
        "advanced"
    ] * 2
    by_number = dict(enumerate(questions, start=1))
    assert by_number[1]["question"] == "What is a neuron in a neural network?"
    assert "\n\nThe output of one layer" in by_number[1]["answer"]
    assert "- ReLU\n- Sigmoid\n- Tanh" in by_number[2]["answer"]
    assert by_number[3]["question"].startswith("Differentiate between a single-layer network")
    assert "| Single-layer network | Multi-layer network |\n|---|---|" in by_number[3]["answer"]
    assert "Learns non-linear boundaries" in by_number[3]["answer"]
    assert "1. Shuffle the data\n2. Split it" in by_number[5]["answer"]
    assert r"lr\*grad\*x" in by_number[5]["answer"]  # not emphasis
    assert "| Optimizer | Extra state | Typical use |" in by_number[6]["answer"]
    assert "- Adam: adapts" in by_number[6]["answer"]
    assert by_number[8]["question"] == "Explain the role of dropout in training."
    assert by_number[8]["answer"].endswith(
        "| Rate | Effect |\n|---|---|\n| 0.1 | mild |\n| 0.5 | strong |"
    )
    text = (project / "source" / "questions" / "notes.yaml").read_text(encoding="utf-8")
    for filler in ("video walkthrough", "50% off", "next section", "About the Author", "Jane"):
        assert filler not in text
    # the report lists what was skipped, repaired and suspected, then validation runs
    assert "skipped 6 paragraphs" in result.stderr
    assert "singlelayer → single-layer" in result.stderr
    assert "selfnormalizing (self-normalizing?)" in result.stderr
    assert "'Warm-up Questions' → basic" in result.stderr
    assert "W102" in result.stderr and "0 errors" in result.stderr
    assert f"wrote {Path('source/questions/notes.yaml')}" in result.stderr


def test_map_level_and_default_level(project: Path) -> None:
    result = run(
        "import", DATA / "notes.txt", "--level", "intermediate",
        "--map-level", "deep dive questions=advanced", "--map-level", "Nowhere=basic",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    levels = [q["level"] for q in imported(project, "notes")]
    assert levels == ["intermediate"] * 6 + ["advanced"] * 2
    assert "no heading or deck named 'nowhere'" in result.stderr


def test_wrapped_notes_with_blank_lines(project: Path) -> None:
    result = run("import", DATA / "wrapped.txt", "--seed-numbers", "--name", "chapter-3")
    assert result.exit_code == 0, result.stderr
    first, second = imported(project, "chapter-3")
    assert first["question"] == "What is a learning rate schedule?"
    assert first["answer"].startswith("A learning rate schedule changes the step size during\n")
    assert "- step decay: divide by ten every few epochs\n- cosine decay" in first["answer"]
    assert first["seed"] == [1] and second["seed"] == [2]
    assert "skipped 1 paragraph: 'Study notes" in result.stderr


def test_numbered_list_inside_an_answer_is_not_a_question() -> None:
    text = (
        "1. What is a checklist?\nA list of steps:\n2. What comes first?\n3. What comes last?\n"
        "2. Why use one?\nIt keeps you from forgetting steps.\n3. How long should it be?\n"
        "Short.\nPart Two\n1. What is a second section?\nOne that restarts the numbering.\n"
    )
    options = ImportOptions(
        levels=("basic", "advanced"), default_level="basic", level_from_headings=True
    )
    result = parse_text(text, options)
    assert [q.question for q in result.questions] == [
        "What is a checklist?",
        "Why use one?",
        "How long should it be?",
        "What is a second section?",
    ]
    assert (
        result.questions[0].answer
        == "A list of steps:\n\n2. What comes first?\n3. What comes last?"
    )
    assert result.levels_by_name == {"Part Two": "basic"}


def test_hyphens_are_only_reported_on_request(project: Path) -> None:
    result = run("import", DATA / "notes.txt", "--no-hyphen-repair", "--dry-run")
    assert result.exit_code == 0, result.stderr
    assert "singlelayer" in result.stdout and "single-layer" not in result.stdout
    assert "possible lost hyphens" in result.stderr


@pytest.mark.skipif(not SEED.is_file(), reason="the seed blog is not available")
def test_seed_blog_integration(project: Path) -> None:
    result = run("import", SEED, "--level-from-headings", "--name", "blog", "-v")
    assert result.exit_code == 0, result.stderr
    questions = imported(project, "blog")
    assert len(questions) == 81
    levels = [q["level"] for q in questions]
    assert (levels.count("basic"), levels.count("intermediate"), levels.count("advanced")) == (
        26,
        22,
        33,
    )
    q4, q14 = questions[3], questions[13]
    assert "single-layer perceptron and a multi-layer perceptron" in q14["question"]
    assert "| Single-layer Perceptron | Multi-layer Perceptron |" in q14["answer"]
    assert (
        "| Cannot classify non-linear data points | Can classify non-linear data |" in q14["answer"]
    )
    assert "- Sentiment Analysis\n- Computer Vision" in q4["answer"]
    text = (project / "source" / "questions" / "blog.yaml").read_text(encoding="utf-8")
    for filler in ("Get 100% Hike", "Master Most in Demand", "Check out our", "Salary", "Next up"):
        assert filler not in text
    assert "'Get 100% Hike!' (filler at the end of question 6)" in result.stderr
    assert "'Check out our Deep Learning Interview…' (before the first question)" in result.stderr


# CSV / TSV --------------------------------------------------------------------------------


def test_csv_with_header_row_and_html(project: Path) -> None:
    result = run("import", DATA / "cards.csv")
    assert result.exit_code == 0, result.stderr
    decay, cost = imported(project, "cards")
    assert decay["question"] == "What is weight decay?"
    assert decay["answer"] == "An L2 penalty on the weights.\n\nIt keeps them small."
    assert decay["details"] == "Also called *ridge* in linear models."
    assert decay["tags"] == ["regularization"]
    assert cost["question"] == r"What is the cost of d\*e, in \$?"
    assert cost["answer"] == "It is **cheap** & fast"
    assert "'What is left out?' (row 4: empty back)" in result.stderr


def test_anki_plain_text_export(project: Path) -> None:
    result = run("import", DATA / "anki-notes.txt", "--map-level", "Shared::Basics=intermediate")
    assert result.exit_code == 0, result.stderr
    pooling, momentum, colour = imported(project, "anki-notes")
    assert pooling["question"] == "What does a **pooling** layer do?"
    assert (
        pooling["answer"]
        == "It *downsamples* each feature map.\\\nMax pooling keeps the largest value."
    )
    assert pooling["guid"] == "G1:abc" and pooling["level"] == "advanced"
    assert pooling["tags"] == ["cnn"]
    assert momentum["answer"] == "- a running average of gradients\n- smooths the updates"
    assert momentum["level"] == "intermediate"
    assert '<font color="red">Red</font>' in colour["answer"]  # too complex: kept as it is
    assert "cloze notes are not supported" in result.stderr
    assert "dropped tags that are not in the taxonomy: leech, momentum" in result.stderr
    assert "kept 2 fields as HTML" in result.stderr and "W104" in result.stderr


# Anki packages ----------------------------------------------------------------------------


def package_guids(apkg: Path) -> dict[str, str]:
    """Note GUID by the Id field of a package our exporter wrote."""
    with zipfile.ZipFile(apkg) as archive:
        data = archive.read("collection.anki2")
    path = apkg.with_suffix(".sqlite")
    path.write_bytes(data)
    conn = sqlite3.connect(path)
    rows = conn.execute("SELECT guid, flds FROM notes").fetchall()
    conn.close()
    return {flds.split("\x1f")[3]: guid for guid, flds in rows}


def build_anki(source: Path, out: Path) -> Path:
    result = run("build", "-t", "anki", "--source", source, "--out", out)
    assert result.exit_code == 0, result.stderr
    (apkg,) = out.glob("*.apkg")
    return apkg


def test_own_package_round_trip_keeps_guids(project: Path, tmp_path: Path) -> None:
    bank = tmp_path / "bank"
    shutil.copytree(REPO / "source", bank)
    (bank / "deck.lock").unlink(missing_ok=True)
    original = build_anki(bank, tmp_path / "out1")

    result = run("import", original, "--name", "own")
    assert result.exit_code == 0, result.stderr
    questions = imported(project, "own")
    real = [q for f in sorted((REPO / "source" / "questions").glob("*.yaml"))
            for q in yaml.safe_load(f.read_text(encoding="utf-8"))]  # fmt: skip
    assert sorted(q["id"] for q in questions) == sorted(q["id"] for q in real)
    by_id = {q["id"]: q for q in questions}
    for question in real:
        assert by_id[question["id"]]["level"] == question["level"]
    assert (
        "\n| Layers of weights | One (input → output) |"
        in by_id["single-vs-multi-layer-perceptron"]["details"]
    )
    assert "$$" in by_id["activation-functions"]["details"]
    assert "```python" in by_id["custom-loss-function"]["details"]
    guids = package_guids(original)
    assert {q["id"]: q["guid"] for q in questions} == guids

    # building the imported source gives the same notes: Anki updates, never duplicates
    rebuilt = build_anki(project / "source", tmp_path / "out2")
    rebuilt_guids = package_guids(rebuilt)
    assert {k: v for k, v in rebuilt_guids.items() if k != "existing"} == guids
    from anki.collection import Collection

    (tmp_path / "anki").mkdir()
    col = Collection(str(tmp_path / "anki" / "c.anki2"))
    try:
        import_into(col, original)
        log = import_into(col, rebuilt)
        assert len(log.new) == 1  # only the bank's own 'existing' question
        assert col.note_count() == len(guids) + 1
    finally:
        col.close()

    # importing the same package again clashes with what is now in the bank
    again = run("import", original, "--name", "again")
    assert again.exit_code == 1
    assert "already defined at" in again.stderr and "own.yaml" in again.stderr
    assert not (project / "source" / "questions" / "again.yaml").exists()


def import_into(col: object, apkg: Path) -> object:
    """Import into a collection as Anki does by default (update notes when newer)."""
    from anki import import_export_pb2 as ie
    from anki.collection import ImportAnkiPackageOptions, ImportAnkiPackageRequest

    if_newer = ie.IMPORT_ANKI_PACKAGE_UPDATE_CONDITION_IF_NEWER
    options = ImportAnkiPackageOptions(
        merge_notetypes=False,
        update_notes=if_newer,
        update_notetypes=if_newer,
        with_scheduling=False,
        with_deck_configs=False,
    )
    request = ImportAnkiPackageRequest(package_path=str(apkg), options=options)
    return col.import_anki_package(request).log  # type: ignore[attr-defined]


PNG = PNG_BYTES  # a real image: its header is read (pixel size) when validating


def genanki_package(path: Path) -> Path:
    import genanki

    image = path.parent / "dot image.png"
    image.write_bytes(PNG)
    deck = genanki.Deck(2059400110, "Shared deck::Advanced")
    deck.add_note(
        genanki.Note(
            model=genanki.BASIC_MODEL,
            fields=["What is a <b>convolution</b>?", "A sliding dot product.<br>Shares weights."],
            tags=["topic::cnn", "from-the-web"],
            guid="gk1!x",
        )
    )
    deck.add_note(
        genanki.Note(
            model=genanki.BASIC_MODEL,
            fields=[
                "Why use &nbsp;dropout?",
                '<div>To reduce overfitting.</div><img src="dot image.png">',
            ],
            guid="gk2",
        )
    )
    package = genanki.Package(deck)
    package.media_files = [str(image)]
    package.write_to_file(str(path))
    return path


def test_genanki_basic_package(project: Path, tmp_path: Path) -> None:
    apkg = genanki_package(tmp_path / "shared.apkg")
    result = run("import", apkg)
    assert result.exit_code == 0, result.stderr
    convolution, dropout = imported(project, "shared")
    assert convolution == {
        "id": "convolution",
        "level": "advanced",
        "question": "What is a **convolution**?",
        "answer": "A sliding dot product.\\\nShares weights.",
        "details": "",
        "tags": [],  # cnn: found by the taxonomy's match rules anyway
        "guid": "gk1!x",
        "seed": [],
    }
    assert dropout["question"] == "Why use dropout?"
    assert dropout["answer"] == "To reduce overfitting.\n\n![](<images/shared/dot image.png>)"
    assert (project / "source" / "images" / "shared" / "dot image.png").read_bytes() == PNG
    assert "copied 1 images" in result.stderr
    assert "dropped tags that are not in the taxonomy: from-the-web" in result.stderr
    # the SQLite reader (no Anki backend) sees the same notes
    assert [(n.guid, n.fields, n.deck) for n in read_sqlite(apkg).notes] == [
        (n.guid, n.fields, n.deck) for n in read_with_anki(apkg).notes
    ]
    assert read_sqlite(apkg).media == read_with_anki(apkg).media == {"dot image.png": PNG}


def anki_package(path: Path, legacy: bool) -> Path:
    """A package exported by Anki itself (``legacy=False``: the zstd .anki21b format)."""
    from anki.collection import Collection, ExportAnkiPackageOptions

    folder = path.parent / f"col-{path.stem}"
    folder.mkdir()
    col = Collection(str(folder / "c.anki2"))
    try:
        basic = col.models.by_name("Basic (and reversed card)")
        did = col.decks.id("Course::Intermediate")
        for front, back, tags in (
            ("What is <i>pooling</i>?", "Downsampling of feature maps.", ["cnn"]),
            ("What is an epoch?", "One pass over the training data.", ["course::week1"]),
        ):
            note = col.new_note(basic)
            note["Front"], note["Back"] = front, back
            note.tags = tags
            col.add_note(note, did)
        cloze = col.new_note(col.models.by_name("Cloze"))
        cloze["Text"] = "{{c1::Adam}} adapts step sizes."
        col.add_note(cloze, did)
        options = ExportAnkiPackageOptions(
            with_scheduling=False, with_deck_configs=False, with_media=True, legacy=legacy
        )
        col.export_anki_package(out_path=str(path), options=options, limit=None)
        return path
    finally:
        col.close()


def test_anki_exported_package_in_the_newer_format(project: Path, tmp_path: Path) -> None:
    apkg = anki_package(tmp_path / "course.apkg", legacy=False)
    with zipfile.ZipFile(apkg) as archive:
        assert "collection.anki21b" in archive.namelist()
    result = run("import", apkg, "--map-level", "intermediate=advanced")
    assert result.exit_code == 0, result.stderr
    pooling, epoch = imported(project, "course")
    assert pooling["question"] == "What is *pooling*?"
    assert pooling["tags"] == ["cnn"] and pooling["level"] == "advanced"
    assert pooling["guid"] and epoch["guid"] and pooling["guid"] != epoch["guid"]
    assert "cloze notes are not supported" in result.stderr
    assert "course::week1" in result.stderr


def test_sqlite_reader_on_both_anki_formats(tmp_path: Path) -> None:
    legacy = anki_package(tmp_path / "legacy.apkg", legacy=True)
    newer = anki_package(tmp_path / "newer.apkg", legacy=False)
    expected = [(n.guid, n.fields, n.tags, n.deck, n.cloze) for n in read_with_anki(legacy).notes]
    assert [
        (n.guid, n.fields, n.tags, n.deck, n.cloze) for n in read_sqlite(legacy).notes
    ] == expected
    try:
        notes = read_sqlite(newer).notes
    except ImportFailed as exc:  # no zstd decompressor without Anki or zstandard
        assert "collection.anki21b" in str(exc) and "'anki'" in str(exc)
    else:
        assert [(n.guid, n.fields, n.tags, n.deck, n.cloze) for n in notes] == expected


# Refusals and dry runs --------------------------------------------------------------------


def test_id_clash_is_refused_and_nothing_written(project: Path, tmp_path: Path) -> None:
    csv = tmp_path / "clash.csv"
    csv.write_text("id,front,back\nexisting,What?,That.\n", encoding="utf-8")
    result = run("import", csv)
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "id 'existing' (row 2) is already defined at" in lines[0]
    assert "existing.yaml:1:7" in lines[0]
    assert not (project / "source" / "questions" / "clash.yaml").exists()
    assert run("import", csv, "--id-prefix", "imported").exit_code == 0
    assert imported(project, "clash")[0]["id"] == "imported-existing"


def test_existing_output_file_is_not_overwritten(project: Path) -> None:
    target = project / "source" / "questions" / "notes.yaml"
    target.write_text(EXISTING.replace("existing", "other"), encoding="utf-8")
    before = target.read_bytes()
    result = run("import", DATA / "notes.txt")
    assert result.exit_code == 2
    assert "already exists" in result.stderr
    assert target.read_bytes() == before


def test_dry_run_writes_nothing(project: Path) -> None:
    before = sorted(p.relative_to(project) for p in project.rglob("*"))
    result = run("import", DATA / "notes.txt", "--dry-run")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("# Imported from notes.txt (text)")
    assert yaml.safe_load(result.stdout)[0]["id"] == "neuron-in-neural-network"
    assert "nothing written" in result.stderr and "W102" in result.stderr
    assert sorted(p.relative_to(project) for p in project.rglob("*")) == before


def test_usage_errors(project: Path, tmp_path: Path) -> None:
    assert run("import", DATA / "notes.txt", "--level", "expert").exit_code == 2
    assert run("import", DATA / "notes.txt", "--map-level", "Core=expert").exit_code == 2
    assert run("import", DATA / "notes.txt", "--map-level", "no-equals").exit_code == 2
    assert run("import", DATA / "notes.txt", "--name", "../escape").exit_code == 2
    assert run("import", tmp_path / "missing.txt").exit_code == 2
    empty = tmp_path / "empty.txt"
    empty.write_text("Just a paragraph, no questions.\n", encoding="utf-8")
    result = run("import", empty)
    assert result.exit_code == 1 and "no numbered questions" in result.stderr
    broken = tmp_path / "broken.apkg"
    broken.write_bytes(b"not a zip")
    result = run("import", broken)
    assert result.exit_code == 2 and "not an Anki package" in result.stderr


def test_format_detection(tmp_path: Path) -> None:
    cases = {
        "a.apkg": b"PK\x03\x04rest",
        "b.csv": b"front,back\n",
        "c.tsv": b"front\tback\n",
        "d.txt": b"#separator:tab\n#html:true\nx\ty\n",
        "e.txt": b"1. What is it?\nThis.\n",
    }
    found = {}
    for name, data in cases.items():
        (tmp_path / name).write_bytes(data)
        found[name] = detect_format(tmp_path / name)
    assert found == {
        "a.apkg": "apkg",
        "b.csv": "csv",
        "c.tsv": "tsv",
        "d.txt": "tsv",
        "e.txt": "text",
    }


# Building blocks --------------------------------------------------------------------------


TRICKY = [
    "What is: this?",
    "- starts like a list",
    "yes",
    "123",
    "null",
    "#hash first",
    "quote \"inside\" and 'single'",
    "ends with colon:",
    "a # not a comment",
    "unicode: naïve café — ok",
    "@at and `tick`",
    "[bracket] first",
]


def test_emitted_yaml_round_trips_through_the_loader(tmp_path: Path) -> None:
    questions = [
        ImportedQuestion(
            question=text,
            answer=f"Answer {n}\n\n    indented code-ish line\n| pipe | row |\ntrailing\u2028break",
            details="  leading spaces first\nsecond" if n % 2 else "",
            origin=f"case {n}",
            level="basic",
            tags=("cnn",) if n % 3 == 0 else (),
            guid=['ab"c', "x{y}z", "q#1", "a\\b"][n % 4] + str(n),
            seed=(n + 1,),
            retired=n == 5,
        )
        for n, text in enumerate(TRICKY)
    ]
    assign_ids(questions)
    source = tmp_path / "source"
    (source / "questions").mkdir(parents=True)
    (source / "deck.yaml").write_text(DECK, encoding="utf-8")
    (source / "taxonomy.yaml").write_text(TAXONOMY, encoding="utf-8")
    (source / "questions" / "x.yaml").write_text(questions_yaml(questions, ["header"]), "utf-8")
    diagnostics = Diagnostics()
    bank = validate(load_source(source, diagnostics), diagnostics)
    assert bank is not None and not diagnostics.errors, [d.format() for d in diagnostics.errors]
    assert len(bank.questions) == len(questions)
    for loaded, original in zip(bank.questions, questions, strict=True):
        assert loaded.id == original.id
        assert loaded.question == original.question
        assert loaded.answer == original.answer.replace("\u2028", "\n")
        assert loaded.details == original.details
        assert loaded.guid == original.guid
        assert loaded.tags == original.tags
        assert loaded.seed == original.seed
        assert loaded.retired == original.retired


def test_our_own_html_converts_back_to_equivalent_markdown() -> None:
    """Every field of the real bank, rendered as in our packages, converts back to Markdown
    that renders to the same HTML."""
    from exporter.render.anki.notes import sanitize
    from exporter.text import markup

    def normal(fragment: str) -> str:
        return re.sub(r"\s+", " ", fragment).replace("> <", "><").strip()

    count = 0
    for path in sorted((REPO / "source" / "questions").glob("*.yaml")):
        for question in yaml.safe_load(path.read_text(encoding="utf-8")):
            for name in ("question", "answer", "details"):
                if not question.get(name):
                    continue
                inline = name == "question"
                html = sanitize(markup.to_html(question[name], inline))
                markdown = html_to_markdown(html)
                assert markdown is not None, (question["id"], name)
                again = sanitize(markup.to_html(markdown, inline))
                assert normal(again) == normal(html), (question["id"], name)
                count += 1
    assert count > 200


@pytest.mark.parametrize(
    ("html", "markdown"),
    [
        ("a&nbsp;b <i> c </i>d", "a b *c* d"),
        ("Line 1<div>Line 2</div><div><br></div>", "Line 1\n\nLine 2"),
        ("<ol start=3><li>x<li>y <code>a*b</code></ol>", "3. x\n4. y `a*b`"),
        ("\\(x^2\\) and \\[y\\]", "$x^2$ and $$y$$"),
        ("1. not a list<br># nor a heading", "1\\. not a list\\\n\\# nor a heading"),
        ("<table><tr><th>A</th><th>B</th></tr><tr><td>1|2</td><td>3</td></tr></table>",
         "| A | B |\n|---|---|\n| 1\\|2 | 3 |"),
        ("&lt;b&gt; literal", "`<b>` literal"),
        ('<span style="color:red">red</span>', None),
        ("<sub>2</sub>", None),
        ("<u>under</u>", None),
    ],
)  # fmt: skip
def test_html_to_markdown(html: str, markdown: str | None) -> None:
    assert html_to_markdown(html) == markdown


def test_hyphen_repair_without_and_with_a_dictionary(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(hyphens, "dictionary", lambda: None)
    repair = HyphenRepair(vocabulary=frozenset({"normalizing", "layer"}))
    assert repair.fix("A Singlelayer net, CROSSENTROPY, endtoend") == (
        "A Single-layer net, CROSS-ENTROPY, end-to-end"
    )
    assert repair.fix("selfnormalizing overfitting") == "selfnormalizing overfitting"
    assert repair.suspects == {"selfnormalizing (self-normalizing?)": 1}
    assert repair.fix("https://x.org/crossentropy-loss") == "https://x.org/crossentropy-loss"

    words = frozenset({"single", "layer", "cross", "entropy", "colour", "wheel"})
    monkeypatch.setattr(hyphens, "dictionary", lambda: words)
    repair = HyphenRepair()
    assert repair.fix("singlelayer colourwheel minibatch") == "single-layer colourwheel minibatch"
    assert "colourwheel (colour-wheel?)" in repair.suspects
    assert "minibatch → mini-batch" not in repair.repairs  # 'batch' is not in this dictionary


def test_slugs_tags_and_escaping() -> None:
    assert slugify("What is a perceptron?") == "perceptron"
    assert slugify(
        "Differentiate between a single-layer perceptron and a multi-layer perceptron."
    ) == ("differentiate-between-single-layer-perceptron")
    assert slugify("日本語") == ""
    questions = [
        ImportedQuestion("What is X?", "a", "1", "basic"),
        ImportedQuestion("What is X?", "b", "2", "basic"),
        ImportedQuestion("日本語", "c", "3", "basic"),
        ImportedQuestion("Q", "d", "4", "basic", preferred_id="kept-id"),
    ]
    assign_ids(questions)
    assert [q.id for q in questions] == ["x", "x-2", "question-3", "kept-id"]
    options = ImportOptions(
        levels=("basic", "advanced"), default_level="basic", topics=("cnn", "rnn")
    )
    mapped = map_tags(
        ["deck::topic::rnn", "CNN", "deck::level::advanced", "deck::retired", "leech"], options
    )
    assert mapped.tags == ("cnn", "rnn") and mapped.level == "advanced" and mapped.retired
    assert mapped.dropped == ("leech",)
    assert escape_markdown("5 * 3 = $15 <br> _x_ snake_case\n# h\n- l\n1. n") == (
        "5 \\* 3 = \\$15 `<br>` \\_x\\_ snake_case\n\\# h\n\\- l\n1\\. n"
    )

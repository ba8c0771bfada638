"""Study order and retired cards, checked with Anki's own scheduler (the `anki` package).

A new learner imports the built deck with Anki's defaults and studies the parent deck:
the new cards Anki serves must follow the bank (level by level in deck.yaml's order, then
file order, then position in the file), and retired cards must never be served. The
expected order is read from the YAML files here, not from the exporter.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from anki import import_export_pb2 as ie
from anki.collection import Collection, ImportAnkiPackageOptions, ImportAnkiPackageRequest
from click.testing import CliRunner
from conftest import copy_bank, edit_bank

from exporter.build.lock import LOCK_NAME, parse_lock, read_lock
from exporter.cli.commands import main

TITLE = "Deep Learning Interview Questions"
IF_NEWER = ie.IMPORT_ANKI_PACKAGE_UPDATE_CONDITION_IF_NEWER


def build(source: Path, out: Path) -> Path:
    result = CliRunner().invoke(
        main, ["build", "-t", "anki", "--source", str(source), "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    return out / "deep-learning.apkg"


def bank_order(source: Path) -> list[str]:
    """Active question ids in the bank's study order, read straight from the YAML."""
    levels = yaml.safe_load((source / "deck.yaml").read_text(encoding="utf-8"))["levels"]
    questions = []
    for path in sorted((source / "questions").glob("*.yaml")):
        questions += yaml.safe_load(path.read_text(encoding="utf-8"))
    return [
        q["id"]
        for level in levels
        for q in questions
        if q["level"] == level and not q.get("retired")
    ]


def fresh_collection(folder: Path, apkg: Path, with_scheduling: bool = False) -> Collection:
    """A new user's collection after importing ``apkg`` with Anki's default options."""
    folder.mkdir()
    col = Collection(str(folder / "collection.anki2"))
    import_into(col, apkg, with_scheduling)
    return col


def import_into(col: Collection, apkg: Path, with_scheduling: bool = False) -> None:
    options = ImportAnkiPackageOptions(
        merge_notetypes=False,
        update_notes=IF_NEWER,
        update_notetypes=IF_NEWER,
        with_scheduling=with_scheduling,
        with_deck_configs=False,
    )
    col.import_anki_package(ImportAnkiPackageRequest(package_path=str(apkg), options=options))


def served(col: Collection, limit: int | None = None) -> list[str]:
    """The question ids of the new cards the scheduler queues for the parent deck, in the
    order it would show them (``limit`` raises the deck's new cards per day)."""
    did = col.decks.id_for_name(TITLE)
    assert did
    if limit is not None:
        config = col.decks.config_dict_for_deck_id(did)
        config["new"]["perDay"] = limit
        col.decks.update_config(config)
    col.decks.select(did)
    queued = col.sched.get_queued_cards(fetch_limit=1000)
    return [col.get_card(entry.card.id).note()["Id"] for entry in queued.cards]


def test_first_20_new_cards_follow_the_bank_basic_first_and_no_retired(tmp_path):
    source = copy_bank(tmp_path)
    # retire the second basic question: it would otherwise be served second
    edit_bank(source, "- id: perceptron\n", "- id: perceptron\n  retired: true\n")
    col = fresh_collection(tmp_path / "col", build(source, tmp_path / "out"))
    try:
        expected = bank_order(source)
        first = served(col)  # Anki's defaults: 20 new cards a day
        assert first == expected[:20]
        assert "perceptron" not in first
        # and the whole deck, with the daily limit lifted: basic, intermediate, advanced
        everything = served(col, limit=9999)
        assert everything == expected
        retired = col.get_card(col.find_cards('"Id:perceptron"')[0])
        retired_deck = col.decks.name(retired.did)
        assert retired_deck == f"{TITLE} (retired)"  # beside the study deck, not inside it
        assert not retired_deck.startswith(f"{TITLE}::")
    finally:
        col.close()


def test_retired_cards_are_suspended_when_imported_with_scheduling(tmp_path):
    source = copy_bank(tmp_path)
    edit_bank(source, "- id: perceptron\n", "- id: perceptron\n  retired: true\n")
    apkg = build(source, tmp_path / "out")
    col = fresh_collection(tmp_path / "col", apkg, with_scheduling=True)
    try:
        retired = col.get_card(col.find_cards('"Id:perceptron"')[0])
        assert retired.queue == -1  # suspended
        others = [col.get_card(c) for c in col.find_cards('-"Id:perceptron"')]
        assert others and all(card.queue == 0 for card in others)
        assert served(col) == bank_order(source)[:20]
    finally:
        col.close()


def test_questions_added_later_follow_their_level_and_nothing_is_renumbered(tmp_path):
    source = copy_bank(tmp_path)
    build(source, tmp_path / "out1")
    before = read_lock(source / LOCK_NAME)
    assert sorted(e.position for e in before.notes.values()) == list(range(1, 80))
    # a new basic question at the very top of basic.yaml, and a new advanced one
    basic = source / "questions" / "basic.yaml"
    basic.write_text(
        "- id: zz-new-basic\n  level: basic\n  question: What is a tensor?\n"
        "  answer: An n-dimensional array.\n  tags: [fundamentals]\n"
        + basic.read_text(encoding="utf-8"),
        encoding="utf-8",
    )
    advanced = source / "questions" / "advanced.yaml"
    advanced.write_text(
        advanced.read_text(encoding="utf-8")
        + "- id: zz-new-advanced\n  level: advanced\n  question: What is a mixture of experts?\n"
        "  answer: A layer that routes each input to a few of many expert networks.\n"
        "  tags: [fundamentals]\n",
        encoding="utf-8",
    )
    apkg = build(source, tmp_path / "out2")
    after = read_lock(source / LOCK_NAME)
    for question_id, entry in before.notes.items():
        assert after.notes[question_id].position == entry.position, question_id
    assert after.notes["zz-new-basic"].position == 80
    assert after.notes["zz-new-advanced"].position == 81
    col = fresh_collection(tmp_path / "col", apkg)
    try:
        order = served(col, limit=9999)
        old = bank_order(source)
        old.remove("zz-new-basic")
        old.remove("zz-new-advanced")
        last_basic = max(i for i, q in enumerate(order) if q in _level(source, "basic"))
        assert order[last_basic] == "zz-new-basic"  # after the existing basic questions
        assert order[-1] == "zz-new-advanced"
        assert [q for q in order if not q.startswith("zz-")] == old
    finally:
        col.close()


def _level(source: Path, level: str) -> set[str]:
    ids = set()
    for path in sorted((source / "questions").glob("*.yaml")):
        ids |= {q["id"] for q in yaml.safe_load(path.read_text("utf-8")) if q["level"] == level}
    return ids


def test_a_lock_written_before_positions_is_read_and_given_positions_in_bank_order(tmp_path):
    source = copy_bank(tmp_path)
    build(source, tmp_path / "out1")
    lock_path = source / LOCK_NAME
    current = read_lock(lock_path)
    # the older format: note <id> <hash> <added> <mod> <parts>, no position
    legacy = "".join(
        f"note {i} {e.digest} {e.added} {e.mod} {e.parts}\n" for i, e in current.notes.items()
    )
    legacy = f"notetype {current.notetype_digest} {current.notetype_mod}\n" + legacy
    lock_path.write_text(legacy, encoding="utf-8")
    old = parse_lock(legacy)
    assert all(e.position == 0 for e in old.notes.values())
    build(source, tmp_path / "out2")
    again = read_lock(lock_path)
    assert {i: e.mod for i, e in again.notes.items()} == {i: e.mod for i, e in old.notes.items()}
    order = bank_order(source)
    assert sorted(again.notes, key=lambda i: again.notes[i].position) == order


@pytest.mark.parametrize(
    "line",
    [
        "note a 0123456789abcdef0123 10 20 7 question:abc123,answer:def456",
        "note a 0123456789abcdef0123 10 20 question:abc123,answer:def456",
        "note a 0123456789abcdef0123 10 20",
    ],
)
def test_lock_lines_old_and_new_round_trip(line):
    entry = parse_lock(line + "\n").notes["a"]
    assert entry.position == (7 if " 7 " in line else 0)
    assert parse_lock(parse_lock(line).to_text()).notes["a"] == entry

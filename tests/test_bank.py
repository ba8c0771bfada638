"""The deep-learning bank itself: coverage of the seed, levels, tags, originality."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from exporter.build.project import load_project
from exporter.source.stats import bank_stats
from exporter.text.markup import word_count

REPO = Path(__file__).resolve().parent.parent
SEED = REPO.parent / "shared" / "seeds" / "000_31c63ba55efec47f.txt"
SECTIONS = {"basic": range(1, 27), "intermediate": range(27, 49), "advanced": range(49, 82)}


@pytest.fixture(scope="module")
def project():
    loaded = load_project(REPO / "source")
    assert loaded.bank is not None
    return loaded


def test_the_bank_validates_strictly(project):
    assert [d.format() for d in project.diagnostics] == []


def test_every_seed_question_is_covered(project):
    stats = bank_stats(project.bank)
    assert stats.seed_total == 81
    assert stats.seed_covered == list(range(1, 82))
    assert stats.seed_missing == []


def test_levels_follow_the_seed_sections(project):
    for question in project.bank.active:
        assert question.seed, question.id
        first = min(question.seed)
        assert first in SECTIONS[question.level], (question.id, question.seed, question.level)


def test_every_card_has_a_topic_and_an_answer_of_card_length(project):
    assert 12 <= len(project.bank.taxonomy.topics) <= 20
    for question in project.bank.active:
        assert question.topics, question.id
        assert 20 <= word_count(question.answer) <= 70, question.id
        assert question.details, question.id


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower())


@pytest.mark.skipif(not SEED.is_file(), reason="the seed blog is not beside the checkout")
def test_no_card_shares_ten_consecutive_words_with_the_seed(project):
    seed = _words(SEED.read_text(encoding="utf-8"))
    runs = {tuple(seed[i : i + 10]) for i in range(len(seed) - 9)}
    shared = []
    for question in project.bank.questions:
        for field in ("question", "answer", "details"):
            words = _words(getattr(question, field))
            for i in range(len(words) - 9):
                if tuple(words[i : i + 10]) in runs:
                    shared.append((question.id, field, " ".join(words[i : i + 10])))
    assert shared == []


def test_formulas_the_issue_asks_for_are_present(project):
    details = "\n".join(q.details for q in project.bank.questions)
    for needle in (
        r"\sigma",  # sigmoid / swish
        r"\tanh",
        r"\max(0",  # ReLU
        "softmax",
        r"\lfloor",  # conv output size
        r"\sqrt{d_k}",  # attention
        r"\log D",  # GAN objective
        r"\lambda",  # L1/L2 penalties
    ):
        assert needle in details, needle
    assert "```python" in details
    tables = [q for q in project.bank.questions if any(n in q.seed for n in (14, 78, 79, 80))]
    assert tables and all("|---" in q.details or "| ---" in q.details for q in tables)

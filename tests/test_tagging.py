"""Topic tagging: explicit tags plus whole-word, case-insensitive taxonomy rules."""

from __future__ import annotations

import pytest
from conftest import MakeSource, load_bank

from exporter.build.pipeline import Selection
from exporter.core.diagnostics import Location
from exporter.core.model import Question, Taxonomy, Topic
from exporter.source.stats import bank_stats
from exporter.source.tagging import matched_topics, rule_words, tag_questions, topics_for

HERE = Location("t.yaml")


def taxonomy(**rules: list[str]) -> Taxonomy:
    """Topics named by the keywords (``_`` → ``-``), in argument order."""
    return Taxonomy(
        tuple(
            Topic(name.replace("_", "-"), name.title(), "", tuple(match), HERE)
            for name, match in rules.items()
        )
    )


def question(
    text: str, answer: str = "", tags: tuple[str, ...] = (), level: str = "basic"
) -> Question:
    return Question(id="q", level=level, question=text, answer=answer, location=HERE, tags=tags)


@pytest.mark.parametrize(
    ("rule", "text", "found"),
    [
        # whole words only
        ("relu", "Why use ReLU?", True),
        ("relu", "A prelude to training.", False),
        ("gan", "Organic growth of a GAN.", True),
        ("gan", "Organic growth.", False),
        ("rnn", "rnns", False),
        # case-insensitive, punctuation separates words
        ("dropout", "DROPOUT, briefly.", True),
        ("dropout", "(dropout)", True),
        ("dropout", "dropout's effect", True),
        # phrases: spaces and hyphens are equivalent in rules and text
        ("mini batch", "a mini-batch", True),
        ("mini-batch", "a mini batch", True),
        ("mini-batch", "a Mini-Batch", True),
        ("mini-batch", "a minibatch", False),
        ("multi-layer", "multi\n layer perceptron", True),
        ("gradient descent", "gradient of descent", False),
        ("gradient descent", "descent gradient", False),
        ("gradient descent", "the gradient", False),
        # trailing * is a prefix of the last word
        ("normali*", "Batch normalization", True),
        ("normali*", "Normalisation", True),
        ("normali*", "normalize", True),
        ("normali*", "abnormality", False),
        ("normali*", "normal", False),
        ("learning rate*", "learning rates", True),
        ("learning rate*", "learning-rate schedule", True),
        ("learning rate*", "machine learning", False),
        ("batch norm*", "batch normalization", True),
        ("batch norm*", "batch size norm", False),
        ("hidden layer*", "hidden", False),
        # underscores and digits
        ("batch norm", "batch_norm", True),
        ("l2", "L2 penalty", True),
        ("naïve", "A naïve Bayes model", True),
    ],
)
def test_rule_matching(rule: str, text: str, found: bool) -> None:
    assert matched_topics(text, taxonomy(topic=[rule])) == (["topic"] if found else [])


def test_rule_words() -> None:
    assert rule_words("  Leaky ReLU ") == (("leaky", "relu"), False)
    assert rule_words("multi-layer*") == (("multi", "layer"), True)
    assert rule_words("*") == ((), True)


def test_topics_come_in_taxonomy_order_each_once() -> None:
    tax = taxonomy(optimization=["momentum", "gradient descent"], cnn=["pooling"], math=["matrix"])
    text = "Pooling, momentum and a matrix; momentum again with gradient descent."
    assert matched_topics(text, tax) == ["optimization", "cnn", "math"]


def test_explicit_and_auto_tags_are_united_in_taxonomy_order() -> None:
    tax = taxonomy(optimization=["momentum"], regularization=["dropout"], cnn=["pooling"], math=[])
    q = question("What does momentum do?", tags=("math", "cnn"))
    assert topics_for(q, tax) == ("optimization", "cnn", "math")
    # the answer counts too; an explicit tag that is also matched appears once
    q = question("What is it?", answer="Dropout.", tags=("regularization",))
    assert topics_for(q, tax) == ("regularization",)


def test_question_and_answer_are_searched_but_not_details() -> None:
    tax = taxonomy(regularization=["dropout"])
    q = Question(
        id="q", level="basic", question="Q?", answer="A.", details="dropout", location=HERE
    )
    assert topics_for(q, tax) == ()
    # a phrase does not straddle the question/answer boundary
    tax = taxonomy(optimization=["gradient descent"])
    assert topics_for(question("What is a gradient", answer="descent?"), tax) == ()


def test_tag_questions_fills_topics_without_changing_anything_else() -> None:
    tax = taxonomy(regularization=["dropout"])
    original = question("What is dropout?")
    (tagged,) = tag_questions([original], tax)
    assert tagged.topics == ("regularization",)
    assert tagged.tags == () and tagged.question == original.question
    assert original.topics == ()


def test_rules_from_taxonomy_yaml(make_source: MakeSource) -> None:
    text = (
        "- id: a\n  level: basic\n  question: How do Mini-Batches help?\n  answer: Noise.\n"
        "- id: b\n  level: advanced\n  question: Why REGULARIZE a CNN?\n  answer: Overfitting.\n"
    )
    bank, diagnostics = load_bank(make_source(text))
    assert list(diagnostics) == []
    assert bank is not None
    assert [q.topics for q in bank.questions] == [("optimization",), ("regularization", "cnn")]


# --- levels --------------------------------------------------------------------------

LEVELS_YAML = """\
- id: a
  level: basic
  question: What is dropout?
  answer: A.
- id: b
  level: advanced
  question: Why does dropout work?
  answer: An ensemble.
  tags: [math]
- id: c
  level: advanced
  question: What is pooling?
  answer: Downsampling.
- id: d
  level: advanced
  question: What was pooling?
  answer: Retired.
  retired: true
"""


def test_levels_are_kept_counted_and_filterable(make_source: MakeSource) -> None:
    bank, diagnostics = load_bank(make_source(LEVELS_YAML))
    assert list(diagnostics) == []
    assert bank is not None
    assert [q.level for q in bank.questions] == ["basic", "advanced", "advanced", "advanced"]
    stats = bank_stats(bank)
    assert stats.per_level == {"basic": 1, "intermediate": 0, "advanced": 2}
    assert stats.per_topic == {"optimization": 0, "regularization": 2, "cnn": 1, "math": 1}
    by_level = Selection(levels=("advanced",))
    assert [q.id for q in bank.questions if by_level.includes(q)] == ["b", "c", "d"]
    by_level_and_tag = Selection(levels=("advanced",), tags=("regularization",))
    assert [q.id for q in bank.questions if by_level_and_tag.includes(q)] == ["b"]
    assert Selection().includes(bank.questions[0])
    assert by_level_and_tag.suffix == "-advanced-regularization"


def test_a_level_name_in_the_text_is_not_a_topic() -> None:
    tax = taxonomy(math=["matrix"])
    assert topics_for(question("A basic, advanced question", level="basic"), tax) == ()


def test_cached_auto_tags_follow_a_changed_taxonomy_rule(tmp_path) -> None:
    """The build caches each text's matched topics under a hash of every rule: a warm run
    gives the same topics, and a new rule is applied at once."""
    from conftest import copy_bank

    from exporter.build.project import load_project

    source, cache = copy_bank(tmp_path), tmp_path / "cache"

    def topics() -> dict[str, tuple[str, ...]]:
        project = load_project(source, cache_dir=cache)
        project.cache.save()
        assert project.bank is not None
        return {q.id: q.topics for q in project.bank.questions}

    cold = topics()
    assert (cache / "auto-tags.json").is_file()
    assert topics() == cold
    question = next(q for q, t in cold.items() if "cnn" not in t)
    taxonomy = source / "taxonomy.yaml"
    text = taxonomy.read_text()
    project = load_project(source)
    assert project.bank is not None
    words = next(q for q in project.bank.questions if q.id == question).question.split()
    word = max(words, key=len).strip("?.,()").lower()
    taxonomy.write_text(text.replace("match: [cnn, cnns,", f"match: [{word}, cnn, cnns,", 1))
    changed = topics()
    assert "cnn" in changed[question], (question, word)

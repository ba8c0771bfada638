"""Topic tags from the taxonomy: explicit ``tags:`` plus whole-word ``match:`` rules.

Pure functions; no I/O. A rule is a word or phrase matched case-insensitively as whole
words in the question and answer text; a trailing ``*`` matches any word ending
(``normali*`` → normalize, normalization). Spaces in a phrase match any run of white space
or a hyphen, so ``mini batch`` also finds ``mini-batch``.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable
from functools import lru_cache

from exporter.model import Question, Taxonomy, Topic

_WORD = re.compile(r"[^\W_]+")


def rule_words(rule: str) -> tuple[tuple[str, ...], bool]:
    """A rule as lowercase words plus whether its last word is a prefix (``*``)."""
    rule = rule.strip()
    return tuple(_WORD.findall(rule.rstrip("*").lower())), rule.endswith("*")


@lru_cache(maxsize=256)
def _compiled(topic: Topic) -> tuple[tuple[tuple[str, ...], bool], ...]:
    return tuple(rule_words(rule) for rule in topic.match)


def _found(
    words: list[str], positions: dict[str, list[int]], rule: tuple[str, ...], prefix: bool
) -> bool:
    if not rule:
        return False
    *head, last = rule
    if head:
        starts = positions.get(head[0], [])
    elif prefix:
        return any(word.startswith(last) for word in positions)
    else:
        return last in positions
    for start in starts:
        end = start + len(head)
        if end >= len(words) or tuple(words[start:end]) != tuple(head):
            continue
        word = words[end]
        if word == last or (prefix and word.startswith(last)):
            return True
    return False


def matched_topics(text: str, taxonomy: Taxonomy) -> list[str]:
    """Ids of the topics whose rules occur in ``text``, in taxonomy order.

    Words are runs of letters and digits, so hyphens, spaces and punctuation all separate
    words: the rule ``multi-layer`` finds "multi-layer" and "multi layer".
    """
    words = _WORD.findall(text.lower())
    positions: dict[str, list[int]] = {}
    for index, word in enumerate(words):
        positions.setdefault(word, []).append(index)
    found = []
    for topic in taxonomy.topics:
        if any(_found(words, positions, rule, prefix) for rule, prefix in _compiled(topic)):
            found.append(topic.id)
    return found


def topics_for(question: Question, taxonomy: Taxonomy) -> tuple[str, ...]:
    """Explicit tags plus auto-matched ones, in taxonomy order, each once."""
    # Each field on its own, so a phrase never spans the end of the question and the answer.
    auto = {
        topic
        for text in (question.question, question.answer)
        for topic in matched_topics(text, taxonomy)
    }
    chosen = set(question.tags) | auto
    return tuple(topic_id for topic_id in taxonomy.ids if topic_id in chosen)


def tag_questions(questions: Iterable[Question], taxonomy: Taxonomy) -> tuple[Question, ...]:
    """Questions with ``topics`` filled in."""
    return tuple(
        dataclasses.replace(question, topics=topics_for(question, taxonomy))
        for question in questions
    )

"""Topic tags from the taxonomy: explicit ``tags:`` plus whole-word ``match:`` rules.

Pure functions; no I/O. A rule is a word or phrase matched case-insensitively as whole
words in the question and answer text; a trailing ``*`` matches any word ending
(``normali*`` → normalize, normalization). Words are runs of letters and digits, so
``mini batch`` and ``mini-batch`` are the same rule and find each other.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Iterable, Sequence
from functools import lru_cache
from typing import Any

from exporter.core.model import Question, Taxonomy

_WORD = re.compile(r"[^\W_]+")


def rule_words(rule: str) -> tuple[tuple[str, ...], bool]:
    """A rule as lowercase words plus whether its last word is a prefix (``*``)."""
    rule = rule.strip()
    return tuple(_WORD.findall(rule.rstrip("*").lower())), rule.endswith("*")


@dataclasses.dataclass(frozen=True, eq=False)
class _Matcher:
    """A taxonomy's rules indexed for speed: one pass over a text's words finds every
    topic, however many rules there are."""

    exact: dict[str, frozenset[str]]
    """single word → topics"""
    prefixes: dict[int, dict[str, frozenset[str]]]
    """prefix length → prefix → topics (single-word rules ending in ``*``)"""
    phrases: dict[str, tuple[tuple[tuple[str, ...], bool, str], ...]]
    """first word → (rule words, last-is-prefix, topic) for multi-word rules"""


@lru_cache(maxsize=64)
def _matcher(taxonomy: Taxonomy) -> _Matcher:
    exact: dict[str, set[str]] = {}
    prefixes: dict[int, dict[str, set[str]]] = {}
    phrases: dict[str, list[tuple[tuple[str, ...], bool, str]]] = {}
    for topic in taxonomy.topics:
        for rule in topic.match:
            words, prefix = rule_words(rule)
            if not words:
                continue
            if len(words) > 1:
                phrases.setdefault(words[0], []).append((words, prefix, topic.id))
            elif prefix:
                prefixes.setdefault(len(words[0]), {}).setdefault(words[0], set()).add(topic.id)
            else:
                exact.setdefault(words[0], set()).add(topic.id)
    return _Matcher(
        {w: frozenset(t) for w, t in exact.items()},
        {n: {p: frozenset(t) for p, t in m.items()} for n, m in prefixes.items()},
        {w: tuple(rules) for w, rules in phrases.items()},
    )


def _phrase_at(words: list[str], start: int, rule: tuple[str, ...], prefix: bool) -> bool:
    end = start + len(rule)
    if end > len(words) or words[start : end - 1] != list(rule[:-1]):
        return False
    last = words[end - 1]
    return last == rule[-1] or (prefix and last.startswith(rule[-1]))


_LAST: list[Any] = [None, None]
"""The last taxonomy and its matcher: hashing a whole taxonomy per text would cost more
than the matching itself."""


@lru_cache(maxsize=65536)
def _word_topics(matcher: _Matcher, word: str) -> frozenset[str]:
    """Topics a single word matches (exact or prefix rules); cached, as words repeat."""
    found = matcher.exact.get(word, frozenset())
    for length, table in matcher.prefixes.items():
        if len(word) >= length:
            topics = table.get(word[:length])
            if topics:
                found = found | topics
    return found


def matched_topics(text: str, taxonomy: Taxonomy) -> list[str]:
    """Ids of the topics whose rules occur in ``text``, in taxonomy order.

    Words are runs of letters and digits, so hyphens, spaces and punctuation all separate
    words: the rule ``multi-layer`` finds "multi-layer" and "multi layer".
    """
    matcher = _matcher(taxonomy) if _LAST[0] is not taxonomy else _LAST[1]
    _LAST[:] = [taxonomy, matcher]
    words = _WORD.findall(text.lower())
    distinct = set(words)
    found: set[str] = set()
    for word in distinct:
        topics = _word_topics(matcher, word)
        if topics:
            found |= topics
    phrases = matcher.phrases
    starts = distinct.intersection(phrases) if phrases else ()
    if starts:  # only where a phrase can begin: most texts have no such word
        for index, word in enumerate(words):
            if word in starts:
                for rule, prefix, topic in phrases[word]:
                    if topic not in found and _phrase_at(words, index, rule, prefix):
                        found.add(topic)
    if not found:
        return []
    return [topic.id for topic in taxonomy.topics if topic.id in found]


def topics_for(
    question: Question,
    taxonomy: Taxonomy,
    matched: Callable[[str], Sequence[str]] | None = None,
) -> tuple[str, ...]:
    """Explicit tags plus auto-matched ones, in taxonomy order, each once.

    ``matched`` finds the topics of one text (default :func:`matched_topics`; the build
    passes a version cached by content).
    """
    find = matched or (lambda text: matched_topics(text, taxonomy))
    # Each field on its own, so a phrase never spans the end of the question and the answer.
    auto = {topic for text in (question.question, question.answer) for topic in find(text)}
    chosen = set(question.tags) | auto
    return tuple(topic_id for topic_id in taxonomy.ids if topic_id in chosen)


def tag_questions(
    questions: Iterable[Question],
    taxonomy: Taxonomy,
    matched: Callable[[str], Sequence[str]] | None = None,
) -> tuple[Question, ...]:
    """Questions with ``topics`` filled in."""
    return tuple(
        dataclasses.replace(question, topics=topics_for(question, taxonomy, matched))
        for question in questions
    )


def rules_fingerprint(taxonomy: Taxonomy) -> str:
    """A hash of every topic id and rule: what :func:`matched_topics` depends on."""
    from exporter.core.cache import content_key

    return content_key(*(f"{topic.id}\0" + "\0".join(topic.match) for topic in taxonomy.topics))

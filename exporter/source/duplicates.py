"""Near-duplicate questions (W101): two questions whose content words overlap so much that
they probably ask the same thing."""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Sequence

from exporter.core.diagnostics import Diagnostics
from exporter.core.model import Question

NEAR_DUPLICATE_THRESHOLD = 0.8
"""Questions whose content words overlap this much (Jaccard) are reported (W101)."""


def _content_words(text: str) -> frozenset[str]:
    words = set()
    for word in re.findall(r"[a-z0-9]+", text.lower()):
        if word in _STOPWORDS:
            continue
        if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
            word = word[:-1]
        words.add(word)
    return frozenset(words)


def near_duplicates(
    texts: Sequence[str], threshold: float = NEAR_DUPLICATE_THRESHOLD
) -> list[tuple[int, int, float]]:
    """Pairs ``(i, j, jaccard)`` of texts whose content words overlap at least ``threshold``.

    Uses prefix filtering (tokens ordered rare-first; two sets reaching the threshold must
    share a token in their prefixes), so it stays near-linear on large banks.
    """
    sets = [_content_words(text) for text in texts]
    frequency: dict[str, int] = defaultdict(int)
    for words in sets:
        for word in words:
            frequency[word] += 1
    index: dict[str, list[int]] = defaultdict(list)
    pairs = []
    for i, words in enumerate(sets):
        if not words:
            continue
        ordered = sorted(words, key=lambda w: (frequency[w], w))
        prefix = len(ordered) - math.ceil(threshold * len(ordered)) + 1
        candidates: set[int] = set()
        for word in ordered[:prefix]:
            candidates.update(index[word])
            index[word].append(i)
        for j in sorted(candidates):
            other = sets[j]
            score = len(words & other) / len(words | other)
            if score >= threshold:
                pairs.append((j, i, score))
    return pairs


def check_near_duplicates(questions: Sequence[Question], d: Diagnostics) -> None:
    """W101 for every pair of active questions asking nearly the same thing."""
    active = [q for q in questions if not q.retired]
    for i, j, score in near_duplicates([q.question for q in active]):
        first, second = active[i], active[j]
        d.add(
            second.where("question"),
            "W101",
            f"question '{second.id}' nearly repeats '{first.id}' at {first.where('question')}"
            f" ({score:.0%} of content words shared)",
        )


_STOPWORDS = frozenset(
    "a an the is are was were be been of in on at to for and or with what which who "
    "does do did can could would should will you your we our it its this that these "
    "those there their explain describe discuss mean meaning by about as from into some "
    "any".split()
)

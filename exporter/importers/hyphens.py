"""Lost hyphens in text copied from web pages: ``singlelayer`` → ``single-layer``.

Conservative by design: a word is repaired only when its hyphenated form is in the
built-in list of known compounds and, where a system word list exists
(``/usr/share/dict/words``), every part is a dictionary word (or a known prefix such as
``non``). Other words that look joined (not in the dictionary but splitting into two
known words) are only reported, never changed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

DICTIONARY_PATHS = (Path("/usr/share/dict/words"), Path("/usr/dict/words"))
"""Where a system word list is looked for."""

KNOWN_COMPOUNDS = (
    "single-layer", "multi-layer", "two-layer", "cross-entropy", "end-to-end",
    "mini-batch", "mini-batches", "sub-batch", "sub-batches", "non-linear",
    "non-linearity", "non-linearities", "non-linearly", "real-time", "real-world",
    "self-gated", "self-attention", "self-supervised", "self-organizing", "self-organising",
    "semi-supervised", "pre-trained", "pre-training", "fine-tune", "fine-tuned",
    "fine-tunes", "fine-tuning", "bias-variance", "trade-off", "trade-offs",
    "well-covered", "well-known", "well-defined", "short-term", "long-term",
    "general-purpose", "high-level", "low-level", "high-dimensional", "low-dimensional",
    "data-driven", "two-stage", "one-stage", "first-order", "second-order",
    "small-sized", "smaller-sized", "medium-sized", "large-scale", "gradient-based",
    "fixed-length", "fixed-size", "variable-length", "open-source", "cross-functional",
    "cross-validation", "decision-making", "state-of-the-art", "one-hot", "feed-forward",
    "encoder-decoder", "sequence-to-sequence", "multi-class", "multi-label", "multi-head",
    "multi-task", "hand-crafted", "hand-engineered", "zero-centered", "zero-padding",
    "max-pooling", "average-pooling", "up-sampling", "down-sampling", "word-level",
    "character-level", "out-of-vocabulary", "human-level", "trial-and-error",
    "black-box", "in-depth",
)  # fmt: skip
"""Hyphenated spellings repaired when found written as one word (and their plurals)."""

PREFIXES = frozenset(
    "non multi mini sub self semi pre post co re anti inter intra hyper meta under over "
    "up down out cross".split()
)
"""Parts accepted without a dictionary entry (they are prefixes, not words)."""

_SUSPECT_FIRST = frozenset(
    "self non multi cross well high low long short real end fine mini single double two "
    "three first second fixed open general data decision gradient small smaller large "
    "larger deep semi sub state full half hand time zero one black white user task domain "
    "error rule model word bias feed trade".split()
)
"""First parts of joined words worth reporting when no dictionary is available."""

_NOT_SUSPECT = frozenset(
    "preprocessing preprocess preprocessed overfitting overfit underfitting underfit "
    "backpropagation multidimensional dataset datasets database feedback hyperparameter "
    "hyperparameters subset subsets subsequent subsequently endpoint endpoints timestamp "
    "timestamps workflow workflows nonetheless somewhere something sometimes however "
    "wellbeing highlight highlights highlighting highway lowercase uppercase shortcut "
    "shortcuts onboarding oneself online offline deepfake deepfakes userspace datapoint "
    "datapoints endless longstanding realtor singleton firsthand secondhand opensource".split()
)
"""Joined words that are normal spellings, never reported."""

_WORD = re.compile(r"(?<![\w-])[A-Za-z]+(?![\w-])")


def _forms() -> dict[str, str]:
    forms: dict[str, str] = {}
    for compound in KNOWN_COMPOUNDS:
        for suffix in ("", "s", "es"):
            if suffix and compound.endswith("s"):
                continue
            forms.setdefault(compound.replace("-", "") + suffix, compound + suffix)
    return forms


_FORMS = _forms()


@lru_cache(maxsize=1)
def dictionary() -> frozenset[str] | None:
    """The system word list in lower case, or None when there is none."""
    for path in DICTIONARY_PATHS:
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        return frozenset(line.strip().lower() for line in text.splitlines() if line.strip())
    return None


def _known(part: str, words: frozenset[str] | None) -> bool:
    if words is None or part in PREFIXES or len(part) <= 2:
        return True
    return part in words or _stem(part) in words


def _stem(word: str) -> str:
    for suffix in ("ies", "es", "s", "ed", "ing", "ly"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)] + ("y" if suffix == "ies" else "")
    return word


def _match_case(original: str, replacement: str) -> str:
    if original.isupper() and len(original) > 1:
        return replacement.upper()
    if original[0].isupper():
        return replacement[0].upper() + replacement[1:]
    return replacement


@dataclass
class HyphenRepair:
    """Repairs and reports lost hyphens across one import.

    ``vocabulary`` is every word of the input (lower case): without a system dictionary,
    a joined word is suspicious when its second part occurs on its own in the input.
    """

    repair: bool = True
    vocabulary: frozenset[str] = frozenset()
    repairs: dict[str, int] = field(default_factory=dict)
    suspects: dict[str, int] = field(default_factory=dict)

    @staticmethod
    def words_of(texts: Iterable[str]) -> frozenset[str]:
        """The lower-case words of some texts (for ``vocabulary``)."""
        return frozenset(w.lower() for text in texts for w in re.findall(r"[A-Za-z]+", text))

    def fix(self, text: str) -> str:
        """``text`` with known lost hyphens repaired (when repairing), suspects recorded."""
        return _WORD.sub(self._replace, text)

    def _replace(self, match: re.Match[str]) -> str:
        word = match.group(0)
        lower = word.lower()
        words = dictionary()
        hyphenated = _FORMS.get(lower)
        if hyphenated is not None and all(_known(p, words) for p in hyphenated.split("-")):
            key = f"{lower} → {hyphenated}"
            if self.repair:
                self.repairs[key] = self.repairs.get(key, 0) + 1
                return _match_case(word, hyphenated)
            self.suspects[key] = self.suspects.get(key, 0) + 1
            return word
        split = self._suspect_split(lower, words)
        if split:
            key = f"{lower} ({split}?)"
            self.suspects[key] = self.suspects.get(key, 0) + 1
        return word

    def _suspect_split(self, word: str, words: frozenset[str] | None) -> str | None:
        if len(word) < 7 or word in _NOT_SUSPECT:
            return None
        if words is not None and (word in words or _stem(word) in words):
            return None
        for cut in range(3, len(word) - 2):
            left, right = word[:cut], word[cut:]
            if words is not None:
                if (left in words or left in PREFIXES) and len(right) >= 4 and _known(right, words):
                    return f"{left}-{right}"
            elif (
                left in _SUSPECT_FIRST
                and len(right) >= 4
                and (right in self.vocabulary or _stem(right) in self.vocabulary)
            ):
                return f"{left}-{right}"
        return None

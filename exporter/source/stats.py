"""Counts that describe a bank: per level, per topic, untagged questions, seed coverage."""

from __future__ import annotations

from dataclasses import dataclass, field

from exporter.core.model import Bank


@dataclass
class BankStats:
    """What ``exporter stats`` reports."""

    total: int
    retired: int
    per_level: dict[str, int]
    per_topic: dict[str, int]
    untagged: list[str]
    seed_total: int | None
    seed_covered: list[int] = field(default_factory=list)
    seed_missing: list[int] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        """A JSON-ready view."""
        return {
            "questions": self.total,
            "retired": self.retired,
            "levels": self.per_level,
            "topics": self.per_topic,
            "untagged": self.untagged,
            "seed": None
            if self.seed_total is None
            else {
                "total": self.seed_total,
                "covered": self.seed_covered,
                "missing": self.seed_missing,
            },
        }


def bank_stats(bank: Bank) -> BankStats:
    """Compute the statistics of the active (not retired) questions."""
    active = bank.active
    per_level = {level: 0 for level in bank.deck.levels}
    per_topic = {topic: 0 for topic in bank.taxonomy.ids}
    for question in active:
        per_level[question.level] = per_level.get(question.level, 0) + 1
        for topic in question.topics:
            per_topic[topic] += 1
    stats = BankStats(
        total=len(active),
        retired=len(bank.questions) - len(active),
        per_level=per_level,
        per_topic=per_topic,
        untagged=[q.id for q in active if not q.topics],
        seed_total=bank.deck.seed.questions if bank.deck.seed else None,
    )
    if bank.deck.seed:
        covered = {n for q in active for n in q.seed}
        stats.seed_covered = sorted(n for n in covered if 1 <= n <= bank.deck.seed.questions)
        stats.seed_missing = [n for n in range(1, bank.deck.seed.questions + 1) if n not in covered]
    return stats


def compress_ranges(numbers: list[int]) -> str:
    """``[1, 2, 3, 5]`` → ``1–3, 5``."""
    parts: list[str] = []
    start = prev = None
    for n in numbers:
        if start is None:
            start = prev = n
        elif prev is not None and n == prev + 1:
            prev = n
        else:
            parts.append(f"{start}–{prev}" if start != prev else f"{start}")
            start = prev = n
    if start is not None:
        parts.append(f"{start}–{prev}" if start != prev else f"{start}")
    return ", ".join(parts)

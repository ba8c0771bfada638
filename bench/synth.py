"""Synthetic question banks shaped like the real one, for benchmarks.

Each bank has the real deck's levels and taxonomy; questions have a 20–60 word answer
(a list in one of three), details of ~150 words with a table in one of five, one formula
in ten questions and a code block in one of twenty. Words are drawn from the real bank's
vocabulary so auto-tagging does realistic work. Deterministic for a given size.
"""

from __future__ import annotations

import random
import re
import shutil
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
FORMULAS = [
    r"\sigma(z) = \frac{1}{1 + e^{-z}}",
    r"\theta \leftarrow \theta - \eta \nabla_\theta L",
    r"\operatorname{softmax}(QK^\top/\sqrt{d_k})V",
    r"\lfloor (n + 2p - f)/s \rfloor + 1",
    r"\hat{x} = \frac{x - \mu}{\sqrt{\sigma^2 + \epsilon}}",
]
CODE = """```python
def loss(pred, target):
    return ((pred - target) ** 2).mean()
```"""


def _vocabulary() -> list[str]:
    text = " ".join(p.read_text("utf-8") for p in (REPO / "source" / "questions").glob("*.yaml"))
    words = re.findall(r"[a-z][a-z-]{2,}", text.lower())
    return sorted(set(words))


def make_bank(root: Path, size: int) -> Path:
    """Write a bank of ``size`` questions under ``root/source``; returns that folder."""
    rng = random.Random(size)
    vocab = _vocabulary()
    source = root / "source"
    if source.exists():
        shutil.rmtree(source)
    (source / "questions").mkdir(parents=True)
    shutil.copy(REPO / "source" / "taxonomy.yaml", source / "taxonomy.yaml")
    (source / "deck.yaml").write_text(
        f"id: synthetic-{size}\ntitle: Synthetic bank ({size})\n"
        "levels: [basic, intermediate, advanced]\nanswer_word_limit: 200\n",
        encoding="utf-8",
    )

    def sentence(n: int) -> str:
        return " ".join(rng.choice(vocab) for _ in range(n)).capitalize() + "."

    per_file = 500
    levels = ["basic"] * 32 + ["intermediate"] * 27 + ["advanced"] * 41
    for start in range(0, size, per_file):
        lines = [f"# synthetic questions {start + 1}–{min(size, start + per_file)}"]
        for i in range(start, min(size, start + per_file)):
            answer = sentence(rng.randint(12, 25)) + " " + sentence(rng.randint(8, 20))
            if i % 3 == 0:
                answer = sentence(8) + "\n\n" + "\n".join(f"- {sentence(6)}" for _ in range(3))
            details = "\n\n".join(sentence(rng.randint(20, 40)) for _ in range(4))
            if i % 10 == 0:
                details = f"$${FORMULAS[i // 10 % len(FORMULAS)]}$$\n\n" + details
            if i % 5 == 0:
                rows = "\n".join(f"| {rng.choice(vocab)} | {sentence(5)} |" for _ in range(3))
                details += f"\n\n| term | meaning |\n|---|---|\n{rows}"
            if i % 20 == 0:
                details += "\n\n" + CODE
            lines += [
                f"- id: q{i:05d}-{rng.choice(vocab).strip('-')}",
                f"  level: {levels[i % len(levels)]}",
                f'  question: "What is {rng.choice(vocab)} {rng.choice(vocab)} number {i}?"',
                "  answer: |",
                *("    " + line if line else "" for line in answer.splitlines()),
                "  details: |",
                *("    " + line if line else "" for line in details.splitlines()),
                "  tags: [fundamentals]",
            ]
        (source / "questions" / f"part-{start // per_file:03d}.yaml").write_text(
            "\n".join(lines) + "\n", encoding="utf-8"
        )
    return source

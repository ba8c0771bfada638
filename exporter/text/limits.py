"""Size limits that keep every run bounded in time: per field, per table, per bank, and
what a printed PDF accepts per question.

Formula limits live in :mod:`exporter.text.latex`, image limits in
:mod:`exporter.text.media`, the file-size and YAML limits in
:mod:`exporter.source.loader`. The README's "Guarantees" lists them all.
"""

from __future__ import annotations

import re

from exporter.core.model import Question

MAX_FIELD_CHARS = 100_000
"""A question, answer, details or key longer than this is refused (E024)."""
MAX_TABLE_CELLS = 5_000
"""A Markdown table with more cells than this is refused (E024)."""
MAX_QUESTIONS = 15_000
"""A bank with more questions than this is refused (E024): validating and building it
would take minutes."""
MAX_PRINTED_CHARS = 10_000
"""A question whose question, answer and details (as printed) together are longer than
this is left out of the PDFs with a warning (W112): laying out a book-length answer takes
WeasyPrint minutes. The Anki deck still has it."""
MAX_PRINTED_MATH_COST = 100_000
"""The drawing cost (see :func:`formula_cost`) of a question's formulas beyond which it is
left out of the PDFs (W112): about ten seconds of drawing."""

_MATH = re.compile(r"\$\$(.+?)\$\$|\$([^$\n]+?)\$", re.S)
_NESTING = re.compile(r"\\[{}]|\\left\b|\\right\b|[{}]")


def formula_cost(latex: str) -> int:
    """A formula's drawing cost: its length times two to the power of its nesting depth
    (drawing takes about twice as long per level)."""
    depth = deepest = 0
    for token in _NESTING.finditer(latex):
        if token.group() in ("\\{", "\\}"):
            continue
        depth += 1 if token.group() in ("{", "\\left") else -1
        deepest = max(deepest, depth)
    return len(latex) << min(deepest, 16)


def printable_problem(question: Question, details: bool = True) -> str:
    """Why a question is left out of the PDFs, or ``""``: too long, or too many or too
    deeply nested formulas to draw in bounded time."""
    texts = [question.question, question.answer] + ([question.details] if details else [])
    length = sum(len(text) for text in texts)
    if length > MAX_PRINTED_CHARS:
        return f"{length:,} characters to print; the limit is {MAX_PRINTED_CHARS:,}"
    cost = sum(
        formula_cost(match.group(1) or match.group(2) or "")
        for text in texts
        for match in _MATH.finditer(text)
    )
    if cost > MAX_PRINTED_MATH_COST:
        return "its formulas are too many or too deeply nested to draw in bounded time"
    return ""

"""The quiz target: numbered questions in a seeded order with ruled space to write, then the
answer key on a new page.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from exporter.render.pdf.flow import Flow
from exporter.render.pdf.guide import (
    SEGMENT_MAX_ENTRIES,
    SHORT_ENTRY_CHARS,
)
from exporter.render.pdf.job import (
    PAPER_MM,
    PdfJob,
    code_chars,
    plain_length,
)
from exporter.render.pdf.paged import render_paged
from exporter.text import markup

if TYPE_CHECKING:
    from exporter.core.context import RenderContext


QUIZ_MARGIN_MM = 16.0
"""The quiz page's side margins (quiz.css)."""


def render_quiz(context: RenderContext) -> None:
    """``build/<deck>-quiz.pdf``: shuffled, numbered questions with ruled space, then the key.

    The order is ``random.Random(seed).shuffle`` of the active questions in source order, so
    the same seed always gives the same quiz.
    """
    job = PdfJob(context, "quiz")
    seed = int(context.option("seed", 0))
    width = PAPER_MM[job.paper()][0] - 2 * QUIZ_MARGIN_MM
    key_column = (width - 7.0) / 2 - 6.5 - 2.0  # the key's columns, less number and padding
    job.code_chars = {  # a question spans the page and is repeated in the key's columns
        "question": min(code_chars(width - 10.5, 9.5 * 0.86), code_chars(key_column, 7.8 * 0.86)),
        "answer": code_chars(key_column, 7.8 * 0.86),
    }
    entries = job.entries(details=False)
    order = quiz_order([e.id for e in entries], seed)
    by_id = {e.id: e for e in entries}
    items = []
    for number, question_id in enumerate(order, start=1):
        entry = by_id[question_id]
        words = len(markup.plain_text(entry.answer).split())
        items.append(
            {
                "number": number,
                "id": entry.id,
                "question": entry.question,
                "answer": entry.answer,
                "lines": max(3, min(7, math.ceil(words / 12))),
                "short": plain_length(entry.answer) < SHORT_ENTRY_CHARS,
            }
        )
    values = {"items": items, "seed": seed, "count": len(items)}
    render_paged(
        job, "quiz.html.j2", values, quiz_segments(items), context.output_path("-quiz.pdf")
    )


def quiz_segments(
    items: list[dict[str, Any]], high: int = SEGMENT_MAX_ENTRIES
) -> list[dict[str, Any] | Flow]:
    """The quiz cut into segments that each start a new page: the questions, then the
    answer key (which always starts a new sheet: ``recto``, an odd page, so it never
    prints on the back of a question page), each in runs of at most ``high``. Each run
    of the key is a :class:`Flow`, laid out and cached page by page: an edited answer
    re-lays out its own page."""
    segments: list[dict[str, Any] | Flow] = [
        {"questions": items[start : start + high], "answers": [], "key_title": False}
        for start in range(0, len(items), high)
    ] or [{"questions": [], "answers": [], "key_title": False}]
    for start in range(0, len(items), high):
        run = items[start : start + high]
        segment = {"questions": [], "answers": run, "key_title": start == 0, "recto": start == 0}
        ids = [str(item["number"]) for item in run]
        segments.append(Flow(segment, "answers", ids, opening=("key_title", "recto")))
    return segments


def quiz_order(ids: Sequence[str], seed: int) -> list[str]:
    """The quiz order of question ids: a shuffle fixed by ``seed``."""
    order = list(ids)
    random.Random(seed).shuffle(order)
    return order

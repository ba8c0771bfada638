"""What the cheat sheet shows of each question: its topic panel, a short bold label, the
key fact (or the answer's first sentence) and at most one formula, small table or code line.
"""

from __future__ import annotations

import html as html_lib
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from markupsafe import Markup

from exporter.render.pdf.job import PdfJob, anchor_slug, first_topic, wrap_code
from exporter.render.pdf.mathtext import to_html
from exporter.text import markup

if TYPE_CHECKING:
    from collections.abc import Callable

    from exporter.core.context import RenderedQuestion

SMALL_TABLE_ROWS = 6
SMALL_TABLE_CHARS = 340
"""A table is "small" (shown on the cheat sheet) up to this many rows and visible characters."""
WIDE_FORMULA = 27.0
"""A drawn display formula wider than this many em (a column at the sheet's usual type
size, its indent included) is left out, as it would be scaled down below the size of the
text around it; the card's next candidate is taken instead."""


@dataclass
class Item:
    """One question on the cheat sheet."""

    id: str
    level: str
    badge: str
    label: Markup
    key: Markup
    extra: Markup
    extra_kind: str


def level_badge(level: str, index: int) -> str:
    """A level's one-letter badge (its initial, or its number)."""
    return level[:1].upper() if level else str(index + 1)


def cheatsheet_panels(job: PdfJob) -> list[dict[str, Any]]:
    """Topic panels in taxonomy order (then "Other"), each with its items by level then
    source order; a question is filed under its first topic."""
    context = job.context
    taxonomy = context.bank.taxonomy
    deck = context.bank.deck
    levels = {level: i for i, level in enumerate(deck.levels)}
    by_topic: dict[str, list[tuple[int, RenderedQuestion]]] = {}
    for number, rendered in enumerate(job.active()):
        filed = first_topic(rendered.question, taxonomy.ids)
        by_topic.setdefault(filed, []).append((number, rendered))
    panels = []
    for topic_id in [*taxonomy.ids, ""]:
        group = by_topic.get(topic_id)
        if not group:
            continue
        group.sort(key=lambda e: (levels.get(e[1].question.level, 99), e[0]))
        topic = taxonomy.get(topic_id)
        panels.append(
            {
                "id": anchor_slug("topic", topic_id or "other"),
                "title": topic.title if topic is not None else "Other questions",
                "items": [_item(job, rendered, levels) for _, rendered in group],
            }
        )
    return panels


def _item(job: PdfJob, rendered: RenderedQuestion, levels: dict[str, int]) -> Item:
    question = rendered.question
    if rendered.key_html:
        key = job.html(rendered, "key")
    else:
        sentence = first_sentence(question.answer)
        key = job.fragment(markup.render_field(sentence, True).html, question, "answer")
    extra, kind = _extra(job, rendered)
    level_index = levels.get(question.level, 0)
    return Item(
        id=question.id,
        level=question.level,
        badge=level_badge(question.level, level_index),
        label=short_label(question.question, lambda: job.html(rendered, "question")),
        key=Markup(key),
        extra=extra,
        extra_kind=kind,
    )


_BLOCK = re.compile(
    r'(?P<math><div class="math math-display">\\\[(?P<latex>.*?)\\\]</div>)'
    r"|(?P<table><table>.*?</table>)"
    r'|(?P<code><div class="highlight[^"]*"><pre>.*?</pre></div>)',
    re.DOTALL,
)


def _extra(job: PdfJob, rendered: RenderedQuestion) -> tuple[Markup, str]:
    """The card's first display formula, small table or code line (answer, then details)."""
    question = rendered.question
    key_math = _math_signature(rendered.key_html)
    for name in ("answer", "details"):
        text: str = getattr(rendered, f"{name}_html")
        for match in _BLOCK.finditer(text):
            if match.group("math") is not None:
                latex = html_lib.unescape(match.group("latex"))
                signature = _signature(latex)
                if key_math and (signature in key_math or key_math in signature):
                    continue
                if to_html(latex) is None:  # drawn: only if it can be read at column width
                    drawn = job.math.formula(latex, True)
                    if isinstance(drawn, str) or drawn.width > WIDE_FORMULA:
                        continue
                return Markup(job.fragment(match.group("math"), question, name)), "math"
            if match.group("table") is not None:
                table = match.group("table")
                rows = table.count("<tr>")
                if rows <= SMALL_TABLE_ROWS and len(markup.plain_text(table)) <= SMALL_TABLE_CHARS:
                    return Markup(job.fragment(table, question, name)), "table"
                continue
            line = _code_line(match.group("code"))
            if line:
                return Markup(f'<code class="code-line">{line}</code>'), "code"
    return Markup(""), ""


def _code_line(block: str) -> str:
    """The first line of a highlighted block that is not blank, a comment or an import."""
    body = re.sub(r"^.*?<code>", "", block, count=1, flags=re.DOTALL)
    body = re.sub(r"</code></pre></div>$", "", body)
    for line in body.split("\n"):
        plain = html_lib.unescape(re.sub(r"<[^>]+>", "", line)).strip()
        if not plain or plain.startswith(("#", "//", "import ", "from ")):
            continue
        if len(plain) > 90:
            continue
        line = line.strip().replace("<span></span>", "")
        if len(plain) > 38:  # a long line loses its trailing comment
            line = re.sub(r'\s*<span class="c1">[^<]*</span>$', "", line)
        # 36 characters fit a column of the narrowest default sheet (three portrait A4
        # columns) at the largest type: a longer line wraps after the continuation mark
        return wrap_code(line, 36)
    return ""


def _math_signature(key_html: str) -> str:
    found = re.findall(r'<span class="math math-inline">\\\((.*?)\\\)</span>', key_html, re.DOTALL)
    return _signature(html_lib.unescape(" ".join(found))) if found else ""


def _signature(latex: str) -> str:
    return re.sub(r"\\left|\\right|\\[,;!]|\s+", "", latex)


_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z(\"“*`$])")


def first_sentence(markdown_text: str) -> str:
    """The first sentence of a Markdown answer's first paragraph (the fallback key)."""
    paragraph = markdown_text.strip().split("\n\n", 1)[0]
    paragraph = " ".join(line.strip().lstrip("-*+ ") for line in paragraph.splitlines())
    for match in _SENTENCE_END.finditer(paragraph):
        before = paragraph[: match.start()]
        if re.search(r"\b(e\.g|i\.e|vs|etc|cf|al)\.$", before):
            continue
        return before
    return paragraph


_LABEL_RULES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"^what is the difference between (.+?) and (.+)$", re.I), r"\1 vs. \2"),
    (re.compile(r"^how (?:do|does) (.+?) differ from (.+?)(?: in how .*)?$", re.I), r"\1 vs. \2"),
    (re.compile(r"^how (?:do|does) (.+?) differ$", re.I), r"\1 compared"),
    (re.compile(r"^what (?:is|are) (?:an? |the )?(.+?) used for$", re.I), r"\1"),
    (re.compile(r"^what (?:is|are) (?:an? |the )?(.+)$", re.I), r"\1"),
]


def short_label(question: str, question_html: Callable[[], Markup]) -> Markup:
    """A short bold label derived from the question (documented in the README):

    the trailing ``?`` and any ", and …" second half are dropped, "What is (a|an|the) X"
    becomes "X", "What is the difference between X and Y" and "How does X differ from Y"
    become "X vs. Y". A question with Markdown (math, code, emphasis, links) keeps its
    rendered form in full.
    """
    text = " ".join(question.split())
    if re.search(r"[`$*_\[\]<>\\]", text):
        return question_html()
    text = text.rstrip("?").strip()
    head, sep, _tail = text.partition(", and ")
    if sep and len(head.split()) >= 2:
        text = head
    for pattern, replacement in _LABEL_RULES:
        if pattern.match(text):
            text = pattern.sub(replacement, text)
            break
    text = text[:1].upper() + text[1:]
    return Markup(html_lib.escape(text, quote=False))

"""The cheat sheet target: every live question as one dense item (label, key fact, one
formula, table or code line) in boxed topic panels, packed into a page budget.

How it is laid out (see :mod:`exporter.render.pdf.packing` for the packing rules):

1. **Measure.** Every panel heading and every item is laid out by WeasyPrint once, each
   as its own block at the exact column width and type size, in one tall page; their
   heights are read back from their anchors.
2. **Pack.** The heights are packed into pages of ``columns`` columns in Python: a panel
   continues into the next column with its heading repeated ("cont."), an item never
   splits, a panel never starts in the last 10 % of a column, and the last page's columns
   are balanced. The type size is chosen so that the content fills the page budget
   (``--pages``, 4 by default) at between :data:`MIN_SIZE` and :data:`MAX_SIZE` points;
   when it cannot fit at the smallest size the sheet takes more pages and W110 says by
   how much.
3. **Draw.** The packed pages are written as explicit columns (no CSS column balancing)
   and laid out once more into the PDF, with bookmarks per topic and links from the topic
   strip of the masthead.

Measurements and the final PDF are cached by their HTML in ``build/.cache``, so a rebuild
gives the same bytes as a cold build.
"""

from __future__ import annotations

import html as html_lib
import math
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from markupsafe import Markup

from exporter.core.cache import content_key
from exporter.render.pdf.job import PAPER_MM, PdfJob, anchor_slug, first_topic, render_version
from exporter.render.pdf.mathtext import to_html
from exporter.render.pdf.packing import Block, Packed, pack
from exporter.text import markup

if TYPE_CHECKING:
    from collections.abc import Callable

    from exporter.core.context import RenderContext, RenderedQuestion

DEFAULT_PAGES = 4
"""The page budget: two sheets printed on both sides."""
MIN_SIZE = 6.5
"""The smallest body type (pt) the cheat sheet is set in."""
MAX_SIZE = 9.0
"""The largest body type (pt): a small bank is not blown up to fill its budget."""
START_SIZE = 7.4
"""The type size of the first measurement (pt)."""
MEASURE_NAMESPACE = "cheatsheet-measure"
PDF_NAMESPACE = "cheatsheet-pdf"
PX_PER_MM = 96 / 25.4
PX_PER_PT = 96 / 72
MARGIN_MM = (9.0, 9.0, 10.0, 9.0)
"""Page margins (top, right, bottom, left) in mm; the footer sits in the bottom margin."""
GAP_MM = 3.4
"""The gap between columns (mm)."""
PANEL_GAP_PT = 3.2
"""Vertical space between two panels in one column (pt)."""
PANEL_BORDER_PT = 0.6
PANEL_PAD_PT = 1.8
"""Panel border width and inner padding (pt): the measured items sit inside them."""
SMALL_TABLE_ROWS = 6
SMALL_TABLE_CHARS = 340
"""A table is "small" (shown on the cheat sheet) up to this many rows and visible characters."""
WIDE_FORMULA = 30.0
"""A drawn display formula wider than this many em (about one and a half columns) is left
out, as it would be scaled too small to read; the card's next candidate is taken instead."""


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


def render_cheatsheet(context: RenderContext) -> None:
    """``build/<deck>-cheatsheet.pdf``: the dense reference, packed into its page budget."""
    job = PdfJob(context, "cheatsheet")
    job.math.text_display = True
    orientation = str(context.option("orientation", "landscape"))
    if orientation not in ("portrait", "landscape"):
        orientation = "landscape"
    default_columns = 4 if orientation == "landscape" else 3
    columns = max(1, min(4, int(context.option("columns", default_columns))))
    budget = max(1, int(context.option("pages", DEFAULT_PAGES)))
    panels = cheatsheet_panels(job)
    width_mm, height_mm = PAPER_MM[job.paper()]
    if orientation == "landscape":
        width_mm, height_mm = height_mm, width_mm
    geometry = Geometry(width_mm, height_mm, columns)
    levels = [
        {"id": level, "title": context.bank.deck.level_title(level), "badge": _badge(level, i)}
        for i, level in enumerate(context.bank.deck.levels)
    ]
    values: dict[str, Any] = {
        "panels": panels,
        "levels": levels,
        "count": sum(len(p["items"]) for p in panels),
        "orientation": orientation,
        "columns": columns,
        "geometry": geometry,
    }
    size, packed, measured = _fit(job, values, geometry, budget)
    if packed is None or measured is None:
        return
    if len(packed.pages) > budget:
        needed = packed.fill_of(budget)
        where = context.bank.deck.location
        context.diagnostics.add(
            where,
            "W110",
            f"cheat sheet: the content needs {len(packed.pages)} pages at {MIN_SIZE:g} pt, "
            f"{needed:.0%} of the {budget}-page budget (--pages {budget}); "
            f"set in {len(packed.pages)} pages instead",
        )
    pages = _page_values(panels, packed, measured)
    filled = job.fill(
        "cheatsheet.html.j2",
        **values,
        part="content",
        mode="sheet",
        all_panels=panels,
        size=size,
        pages=pages,
        page_count=len(pages),
    )
    if filled is None:
        return
    key = content_key(render_version(), *filled)
    cache = context.cache
    data = cache.get_blob(PDF_NAMESPACE, key)
    if data is None:
        document = job.layout(*filled)
        data = document.write_pdf(
            pdf_identifier=content_key(context.bank.deck.id, "cheatsheet").encode("ascii")
        )
        if not job.refused:
            cache.put_blob(PDF_NAMESPACE, key, data)
            cache.prune_blobs(PDF_NAMESPACE, {key}, limit=20)
    context.outputs.add(context.output_path("-cheatsheet.pdf"), data, owner=job.target)
    job.report_refused()


@dataclass(frozen=True)
class Geometry:
    """The page and its columns, in mm."""

    width: float
    height: float
    columns: int

    @property
    def column_width(self) -> float:
        """One column's width (mm)."""
        inner = self.width - MARGIN_MM[1] - MARGIN_MM[3]
        return (inner - GAP_MM * (self.columns - 1)) / self.columns

    @property
    def column_height(self) -> float:
        """One column's height (mm)."""
        return self.height - MARGIN_MM[0] - MARGIN_MM[2]

    @property
    def margins(self) -> tuple[float, float, float, float]:
        """Top, right, bottom and left page margins (mm)."""
        return MARGIN_MM

    @property
    def gap(self) -> float:
        """The column gap (mm)."""
        return GAP_MM

    @property
    def panel_border(self) -> float:
        """The panel border (pt)."""
        return PANEL_BORDER_PT

    @property
    def panel_pad(self) -> float:
        """The panel padding (pt)."""
        return PANEL_PAD_PT

    @property
    def panel_gap(self) -> float:
        """The space between panels (pt)."""
        return PANEL_GAP_PT


def _fit(
    job: PdfJob, values: dict[str, Any], geometry: Geometry, budget: int
) -> tuple[float, Packed | None, dict[str, float] | None]:
    """The largest type size (between :data:`MIN_SIZE` and :data:`MAX_SIZE`) whose packing
    fits ``budget`` pages, its packing and its measured heights.

    Heights grow with about the square of the type size, so one measurement predicts the
    size that fills the budget; a second (rarely a third) measurement confirms it.
    """
    tried: dict[float, tuple[Packed, dict[str, float]]] = {}

    def attempt(size: float) -> tuple[Packed, dict[str, float]] | None:
        size = min(MAX_SIZE, max(MIN_SIZE, round(size * 20) / 20))
        if size not in tried:
            measured = _measure(job, values, size)
            if measured is None:
                return None
            tried[size] = (_pack(values, measured, geometry), measured)
        return tried[size]

    size = _first_guess(values, geometry, budget)
    for _ in range(4):
        result = attempt(size)
        if result is None:
            return size, None, None
        size = min(MAX_SIZE, max(MIN_SIZE, round(size * 20) / 20))
        packed = result[0]
        ratio = packed.fill_of(budget)
        fits = len(packed.pages) <= budget
        if fits and (ratio >= GOOD_FILL or size >= MAX_SIZE):
            break
        if not fits and size <= MIN_SIZE:
            break
        guess = size / math.sqrt(ratio) * (0.985 if not fits else 0.995)
        guess = min(MAX_SIZE, max(MIN_SIZE, round(guess * 20) / 20))
        fitting = [s for s, (p, _) in tried.items() if len(p.pages) <= budget]
        failing = [s for s, (p, _) in tried.items() if len(p.pages) > budget]
        if failing and guess >= min(failing):
            guess = round((max(fitting, default=MIN_SIZE) + min(failing)) / 2 * 20) / 20
        if guess in tried:
            break
        size = guess
    fitting = [s for s, (p, _) in tried.items() if len(p.pages) <= budget]
    if fitting:
        chosen = max(fitting)
    else:
        chosen = MIN_SIZE
        if attempt(MIN_SIZE) is None:
            return chosen, None, None
    packed, measured = tried[chosen]
    return chosen, packed, measured


GOOD_FILL = 0.9
"""A measured size is kept when its content fills this much of the page budget."""
AREA_PER_CHAR = 0.225
"""About how much column area (in pt² per pt² of type size) one character of an item
takes, labels, badges and spacing included: the first guess of the type size."""
AREA_PER_BLOCK = 3.2
"""The same for a formula, table or code line (per block), and per item (spacing)."""


def _first_guess(values: dict[str, Any], geometry: Geometry, budget: int) -> float:
    """The type size the budget would be filled at, from the characters to set."""
    chars = 0
    blocks = 0
    for panel in values["panels"]:
        blocks += 3
        for item in panel["items"]:
            chars += len(markup.plain_text(str(item.label) + " " + str(item.key)))
            blocks += 1
            if item.extra:
                chars += len(markup.plain_text(str(item.extra)))
                blocks += 2
    width = geometry.column_width * 72 / 25.4
    room = width * (geometry.column_height * 72 / 25.4) * geometry.columns * budget * 0.93
    per_size2 = chars * AREA_PER_CHAR + blocks * AREA_PER_BLOCK * width / 10
    return math.sqrt(room / per_size2) if per_size2 > 0 else START_SIZE


def _measure(job: PdfJob, values: dict[str, Any], size: float) -> dict[str, float] | None:
    """The height (pt) of every panel heading and item at ``size``, by block id.

    The panels are measured in two halves on two processes when there are enough of
    them; each half is cached by its HTML.
    """
    panels = values["panels"]
    halves = (
        [panels[: len(panels) // 2], panels[len(panels) // 2 :]] if len(panels) > 3 else [panels]
    )
    filled = []
    for index, half in enumerate(halves):
        one = job.fill(
            "cheatsheet.html.j2",
            **{**values, "panels": half},
            all_panels=panels,
            part="content",
            mode="measure",
            size=size,
            with_masthead=index == 0,
        )
        if one is None:
            return None
        filled.append(one)
    cache = job.context.cache
    keys = [content_key(render_version(), *one) for one in filled]
    heights: dict[str, float] = {}
    missing = []
    for key, one in zip(keys, filled, strict=True):
        known = cache.get(MEASURE_NAMESPACE, key)
        if isinstance(known, dict):
            heights.update({str(k): float(v) for k, v in known.items()})
        else:
            missing.append((key, one))
    if missing:
        from exporter.core.workers import fork_map, worker_count

        def run(item: tuple[str, tuple[str, str]]) -> tuple[dict[str, float], list[str]]:
            return _measure_one(job, *item[1])

        if worker_count(len(missing)) > 1:
            results = fork_map(run, missing)
        else:
            results = [run(item) for item in missing]
        for (key, _), (found, refused) in zip(missing, results, strict=True):
            heights.update(found)
            job.refused.extend(refused)
            if not refused:
                cache.put(MEASURE_NAMESPACE, key, found)
    return heights


def _measure_one(job: PdfJob, html: str, base_url: str) -> tuple[dict[str, float], list[str]]:
    """Lay one measuring document out (in a worker process); its heights and refusals."""
    before = len(job.refused)
    document = job.layout(html, base_url)
    heights: dict[str, float] = {}
    for page in document.pages:
        for name, (_x1, y1, _x2, y2) in page.anchors.items():
            if name.startswith("m-"):
                heights[name[2:]] = round((y2 - y1) / PX_PER_PT, 3)
    refused = job.refused[before:]
    del job.refused[before:]
    return heights, list(refused)


def _pack(values: dict[str, Any], measured: dict[str, float], geometry: Geometry) -> Packed:
    """Pack the measured blocks into pages of columns (heights in pt)."""
    column_height = geometry.column_height * 72 / 25.4 - 1.0  # 1 pt of slack for rounding
    frame = 2 * (PANEL_BORDER_PT + PANEL_PAD_PT)
    blocks: list[list[Block]] = []
    for panel in values["panels"]:
        head = measured.get(f"h-{panel['id']}", 10.0)
        items = [Block(item.id, measured.get(f"i-{item.id}", 10.0)) for item in panel["items"]]
        blocks.append([Block(panel["id"], head), *items])
    masthead = measured.get("masthead", 30.0)
    return pack(
        blocks,
        columns=geometry.columns,
        height=column_height,
        first_page_top=masthead,
        frame=frame,
        gap=PANEL_GAP_PT,
    )


def _page_values(
    panels: list[dict[str, Any]], packed: Packed, measured: dict[str, float]
) -> list[dict[str, Any]]:
    """The packed pages as template values: columns of panel pieces holding items."""
    by_id = {panel["id"]: panel for panel in panels}
    pages = []
    for number, page in enumerate(packed.pages):
        columns = []
        for column in page:
            pieces = []
            for piece in column:
                panel = by_id[piece.panel]
                items = {item.id: item for item in panel["items"]}
                pieces.append(
                    {
                        "panel": panel,
                        "continued": piece.continued,
                        "items": [items[i] for i in piece.items],
                    }
                )
            columns.append(pieces)
        pages.append({"number": number + 1, "columns": columns, "first": number == 0})
    return pages


def _badge(level: str, index: int) -> str:
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
        badge=_badge(question.level, level_index),
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
    from exporter.render.pdf.job import wrap_code

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

"""The cheat sheet target: every live question as one dense item (label, key fact, one
formula, table or code line) in boxed topic panels, packed into a page budget.

How it is laid out (see :mod:`exporter.render.pdf.packing` for the packing rules):

1. **Measure.** Every panel heading and the masthead are laid out by WeasyPrint once,
   each as its own block at the exact column width and type size, and every item on a
   page of its own (in cached chunks, on one process per core); their heights are read
   back from their anchors.
2. **Pack.** The heights are packed into pages of ``columns`` columns in Python: a panel
   continues into the next column with its heading repeated ("cont."), an item never
   splits, a panel never starts in the last 10 % of a column, and the last page's columns
   are balanced. The type size is chosen so that the content fills the page budget
   (``--pages``, 4 by default) at between :data:`MIN_SIZE` and :data:`MAX_SIZE` points;
   when it cannot fit at the smallest size the sheet takes more pages and W110 says by
   how much.
3. **Draw.** A light frame document lays out the packed pages (panel boxes, headings,
   masthead, footer, bookmarks per topic and links from the topic strip) with an empty
   slot of the measured height for each item, and each item's measured page is drawn
   into its slot (:mod:`exporter.render.pdf.stamp`): no text is laid out twice.

Measurements and the final PDF are cached by their HTML in ``build/.cache``, so a rebuild
gives the same bytes as a cold build.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from exporter.core.cache import content_key
from exporter.render.pdf.cheatitems import cheatsheet_panels, level_badge
from exporter.render.pdf.job import PAPER_MM, PdfJob, render_version
from exporter.render.pdf.packing import Block, Packed, pack
from exporter.text import markup

if TYPE_CHECKING:
    from exporter.core.context import RenderContext

DEFAULT_PAGES = 4
"""The page budget: two sheets printed on both sides."""
MIN_SIZE = 6.5
"""The smallest body type (pt) the cheat sheet is set in."""
MAX_SIZE = 9.0
"""The largest body type (pt): a small bank is not blown up to fill its budget."""
START_SIZE = 7.4
"""The type size of the first measurement (pt)."""
MEASURE_NAMESPACE = "cheatsheet-measure"
MEASURE_PDF_NAMESPACE = "cheatsheet-measure-pdf"
PDF_NAMESPACE = "cheatsheet-pdf"
FRAME_NAMESPACE = "cheatsheet-frame"
DRAW_MEASURED = True
"""Draw each item from the page it was measured on (False: the sheet lays its items out
again, as one plain WeasyPrint document; ``bench/run.py`` times that as the naive way)."""
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
    for _ in range(2):  # the formulas the sheet will draw (then those taken instead of
        with job.math.collecting() as wanted:  # one too wide for its column) ...
            cheatsheet_panels(job)
        if not wanted:
            break
        job.math.prepare(wanted)  # ... drawn side by side
    panels = cheatsheet_panels(job)
    width_mm, height_mm = PAPER_MM[job.paper()]
    if orientation == "landscape":
        width_mm, height_mm = height_mm, width_mm
    geometry = Geometry(width_mm, height_mm, columns)
    levels = [
        {"id": level, "title": context.bank.deck.level_title(level), "badge": level_badge(level, i)}
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
    # the measurements of the sizes tried and not chosen are not needed again
    keep = set(measured.keys)
    context.cache.prune_blobs(MEASURE_PDF_NAMESPACE, keep, limit=max(40, 4 * len(keep)))
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
    pages = _page_values(panels, packed)
    filled = job.fill(
        "cheatsheet.html.j2",
        **values,
        part="content",
        mode="sheet",
        all_panels=panels,
        size=size,
        pages=pages,
        page_count=len(pages),
        timestamp="",  # the dates are set when the items are stamped
        slots={i: measured.heights[f"i-{i}"] for i in measured.boxes} if DRAW_MEASURED else {},
    )
    if filled is None:
        return
    timestamp = job.timestamp()
    key = content_key(render_version(), *filled, *measured.keys, timestamp)
    cache = context.cache
    data = cache.get_blob(PDF_NAMESPACE, key)
    if data is None:
        data = _draw(job, filled, measured, timestamp)
        if not job.refused:
            cache.put_blob(PDF_NAMESPACE, key, data)
            cache.prune_blobs(PDF_NAMESPACE, {key}, limit=20)
    context.outputs.add(context.output_path("-cheatsheet.pdf"), data, owner=job.target)
    job.report_refused()


def _draw(job: PdfJob, filled: tuple[str, str], measured: Measured, timestamp: str) -> bytes:
    """The sheet: the frame (panels, headings, masthead, footer, links and outline) laid
    out with an empty slot of the measured height for each item, and every item drawn
    into its slot from the page it was measured on (:func:`stamp.stamp`), dated
    ``timestamp``.

    The frame is laid out without the dates and cached by its HTML, so an edit that
    changes no item only stamps the sheet again. A user template that draws its items
    itself (no ``s-`` slots) is used as it is.
    """
    from exporter.render.pdf.stamp import Piece, stamp

    cache = job.context.cache
    frame_key = content_key(render_version(), *filled)
    frame = cache.get_blob(FRAME_NAMESPACE, frame_key)
    slots = cache.get(FRAME_NAMESPACE, frame_key)
    if frame is None or not isinstance(slots, list):
        document = job.layout(*filled)
        identifier = content_key(job.context.bank.deck.id, "cheatsheet").encode("ascii")
        frame = document.write_pdf(pdf_identifier=identifier)
        slots = [
            [number, name[2:], round(x, 4), round(y, 4)]
            for number, page in enumerate(document.pages)
            for name, (x, y, _x2, _y2) in sorted(page.anchors.items())
            if name.startswith("s-")
        ]
        slots.append(len(document.pages))
        if not job.refused:
            cache.put_blob(FRAME_NAMESPACE, frame_key, frame)
            cache.put(FRAME_NAMESPACE, frame_key, slots)
            cache.prune_blobs(FRAME_NAMESPACE, {frame_key}, limit=20)
    pieces: list[list[Piece]] = [[] for _ in range(int(slots[-1]))]
    for number, item_id, x, y in slots[:-1]:
        source = measured.boxes.get(str(item_id))
        if source is not None:
            pieces[int(number)].append(Piece(source[0], source[1], source[2], (x, y)))
    return stamp(frame, measured.sources, pieces, timestamp=timestamp)


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
) -> tuple[float, Packed | None, Measured | None]:
    """The largest type size (between :data:`MIN_SIZE` and :data:`MAX_SIZE`) whose packing
    fits ``budget`` pages, its packing and its measured heights.

    Heights grow with about the square of the type size, so one measurement predicts the
    size that fills the budget; a second (rarely a third) measurement confirms it.
    """
    tried: dict[float, tuple[Packed, Measured]] = {}

    def attempt(size: float) -> tuple[Packed, Measured] | None:
        size = min(MAX_SIZE, max(MIN_SIZE, round(size * 20) / 20))
        if size not in tried:
            measured = _measure(job, values, size)
            if measured is None:
                return None
            tried[size] = (_pack(values, measured.heights, geometry), measured)
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


@dataclass
class Measured:
    """One measurement at one type size: every block's height (pt) by block id, and where
    each item was laid out (its own page of a measuring document) for drawing it."""

    heights: dict[str, float]
    boxes: dict[str, tuple[int, int, tuple[float, float, float, float]]]
    """Item id → (measuring document, page, box in CSS px)."""
    sources: list[bytes]
    """The measuring documents' PDFs, which the sheet draws its items from."""
    keys: list[str]
    """The measuring documents' cache keys (their HTML)."""


def _measure(job: PdfJob, values: dict[str, Any], size: float) -> Measured | None:
    """Every panel heading and item at ``size``, laid out once.

    The items are measured in chunks of about :data:`MEASURE_CHUNK` (the masthead and the
    headings with the first), shared among one worker process per core; each chunk is
    cached by its HTML: its heights and boxes as a value, its PDF as a blob (the sheet
    draws the items from it), so an edit measures one chunk again.
    """
    panels = values["panels"]
    filled = []
    for index, chunk in enumerate(_chunks(panels)):
        one = job.fill(
            "cheatsheet.html.j2",
            **{**values, "panels": chunk},
            all_panels=panels,
            part="content",
            mode="measure",
            timestamp="",
            size=size,
            with_masthead=index == 0,
            with_heads=index == 0,
        )
        if one is None:
            return None
        filled.append(one)
    cache = job.context.cache
    keys = [content_key(render_version(), *one) for one in filled]
    found: list[tuple[dict[str, Any], bytes] | None] = []
    missing = []
    for key, one in zip(keys, filled, strict=True):
        known = cache.get(MEASURE_NAMESPACE, key)
        data = cache.get_blob(MEASURE_PDF_NAMESPACE, key) if isinstance(known, dict) else None
        if isinstance(known, dict) and data is not None:
            found.append((known, data))
        else:
            found.append(None)
            missing.append((key, one))
    if missing:
        from exporter.core.workers import fork_map, split, worker_count

        def run(part: list[tuple[str, tuple[str, str]]]) -> list[Any]:
            return [_measure_one(job, *one) for _, one in part]

        groups = split(missing, worker_count(len(missing), limit=os.cpu_count() or 1))
        results = [result for group in fork_map(run, groups) for result in group]
        done = iter(results)
        for index, key in enumerate(keys):
            if found[index] is not None:
                continue
            result, pdf, refused = next(done)
            found[index] = (result, pdf)
            job.refused.extend(refused)
            if not refused:  # refusals are reported on every build, never cached
                cache.put(MEASURE_NAMESPACE, key, result)
                cache.put_blob(MEASURE_PDF_NAMESPACE, key, pdf)
    measured = Measured({}, {}, [], keys)
    for index, entry in enumerate(found):
        assert entry is not None
        result, pdf = entry
        measured.sources.append(pdf)
        measured.heights.update({str(k): float(v) for k, v in result["heights"].items()})
        for item_id, (page, x1, y1, x2, y2) in result["boxes"].items():
            box = (float(x1), float(y1), float(x2), float(y2))
            measured.boxes[str(item_id)] = (index, int(page), box)
    return measured


MEASURE_CHUNK = 60
"""About how many items one measuring document holds (at most :data:`MEASURE_CHUNKS`
documents: a very large bank has larger chunks)."""
MEASURE_CHUNKS = 32


HEAD_SHARE = 0.25
"""What measuring a panel heading or the masthead costs, in items (measured: the real
bank's 17 headings and masthead take as long as about 4.5 items)."""


def _chunks(panels: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """The panels' items cut into runs of nearly equal work (the first, which also holds
    the masthead and the headings, a little shorter), each as the panels it touches (with
    only those items): the measuring documents."""
    items = [(panel, item) for panel in panels for item in panel["items"]]
    count = min(MEASURE_CHUNKS, max(1, math.ceil(len(items) / MEASURE_CHUNK)))
    from exporter.core.workers import split_weighted

    # the first chunk also measures the masthead and every heading, so it holds fewer
    # items; the cuts depend on counts only, so an edited text moves none of them
    heads = HEAD_SHARE * (len(panels) + 1)
    chunks = []
    for run in split_weighted(items, count, lambda _: 1.0, first=heads) or [[]]:
        chunk: list[dict[str, Any]] = []
        for panel, item in run:
            if not chunk or chunk[-1]["id"] != panel["id"]:
                chunk.append({**panel, "items": []})
            chunk[-1]["items"].append(item)
        chunks.append(chunk)
    if not chunks[0]:  # no items: the headings and masthead still need measuring
        chunks[0] = [{**panel, "items": []} for panel in panels]
    else:
        present = {panel["id"] for panel in chunks[0]}
        chunks[0] = [
            *chunks[0],
            *({**panel, "items": []} for panel in panels if panel["id"] not in present),
        ]
    return chunks


def _measure_one(job: PdfJob, html: str, base_url: str) -> tuple[dict[str, Any], bytes, list[str]]:
    """Lay one measuring document out and write it (in a worker process): its heights and
    item boxes, its PDF and its refusals."""
    before = len(job.refused)
    document = job.layout(html, base_url)
    heights: dict[str, float] = {}
    boxes: dict[str, list[float]] = {}
    for number, page in enumerate(document.pages):
        for name, (x1, y1, x2, y2) in page.anchors.items():
            if name.startswith("m-"):
                heights[name[2:]] = round((y2 - y1) / PX_PER_PT, 3)
                if name.startswith("m-i-"):
                    boxes[name[4:]] = [number, *(round(v, 4) for v in (x1, y1, x2, y2))]
    data: bytes = document.write_pdf(pdf_identifier=b"cheatsheet-measure")
    refused = job.refused[before:]
    del job.refused[before:]
    return {"heights": heights, "boxes": boxes}, data, list(refused)


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


def _page_values(panels: list[dict[str, Any]], packed: Packed) -> list[dict[str, Any]]:
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

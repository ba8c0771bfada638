"""The flashcards target: cards on sheets (a front page and the back page behind it), laid
out in batches on worker processes, cached per sheet and merged into one PDF.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from exporter.core.cache import content_key
from exporter.render.pdf.fit import fit_keys, measure_cards, shrink_to_fit
from exporter.render.pdf.grid import CardGrid, card_grid
from exporter.render.pdf.job import (
    PdfJob,
    code_chars,
    last_marked,
    ordered_entries,
    render_version,
)
from exporter.render.pdf.merge import merge_pdfs
from exporter.render.pdf.sheets import (
    BACK_SIZES,
    FRONT_SIZES,
    Card,
    calibration_sheets,
    card_item,
    furniture_pages,
    grid_values,
    sheet_page,
    slot_class,
)

if TYPE_CHECKING:
    from exporter.core.context import RenderContext


CARD_INSET_MM = 10.0
"""The card body's left and right insets together (``.card-body`` in flashcards.css)."""


FLASHCARD_BATCH = 12
"""Sheets (front and back pages) a worker lays out in one WeasyPrint document: large enough
to share its fixed costs, small enough to keep memory flat at 10,000 cards."""


PAGES_NAMESPACE = "flashcard-sheets"
"""Cache namespace of the rendered sheets: PDF blobs and what was found fitting them."""


@dataclass
class Sheet:
    """One sheet of paper: a front page and the back page printed behind it.

    The flashcard PDF is rendered, cached and merged sheet by sheet: each sheet's PDF
    depends only on its own HTML, so an edit re-renders just the sheet holding the card.
    """

    cards: list[Card]
    calibration: bool = False
    key: str = ""
    """Cache key: the sheet's filled HTML and everything else its PDF depends on."""

    def pages(self, grid: CardGrid) -> list[dict[str, Any]]:
        """The template's two page dicts (front, back) at the cards' current sizes."""
        if self.calibration:
            return calibration_sheets(grid)
        fronts = [
            card_item(
                card,
                "front",
                grid.front(i),
                f"f{card.number}",
                scale=grid.type_scale,
                slot=slot_class("front", i),
            )
            for i, card in enumerate(self.cards)
        ]
        backs = [
            card_item(
                card,
                "back",
                grid.back(i),
                f"b{card.number}",
                rotated=grid.rotate_backs,
                scale=grid.type_scale,
                slot=slot_class("back", i),
            )
            for i, card in enumerate(self.cards)
        ]
        # cut marks and card frames are the grid's furniture, drawn under every sheet
        return [sheet_page("front", fronts, []), sheet_page("back", backs, [])]


@dataclass
class SheetResult:
    """What rendering one sheet produced: its PDF and the fitting found for its cards."""

    pdf: bytes
    sizes: dict[str, int]
    """Card side key (``f12``, ``b12``) → index of the font size it was printed at."""
    overflow: list[str]
    """Card side keys that do not fit even at the smallest size (W106)."""
    refused: list[str]
    """URLs the fetcher refused while laying the sheet out (W107)."""

    def to_json(self, blob: str) -> dict[str, Any]:
        """The cacheable facts; the PDF itself is the blob named ``blob``."""
        return {"sizes": self.sizes, "overflow": self.overflow, "pdf": blob}


def render_flashcards(context: RenderContext) -> None:
    """``build/<deck>-flashcards.pdf``: question fronts and answer backs for duplex printing.

    Text starts at the largest size of :data:`FRONT_SIZES` (questions) and
    :data:`BACK_SIZES` (answers), or at the size found for the same text last time. Each
    sheet (front and back page) is a unit: its PDF is cached by the sheet's HTML, so a
    rebuild renders only sheets whose cards changed, in parallel worker processes
    (:func:`_render_sheets`), and the sheets are merged into one file
    (:func:`merge_pdfs`). Text too big for its card is shrunk (:func:`shrink_to_fit`); text that
    does not fit even at the smallest size is reported (W106), never cut silently.
    """
    job = PdfJob(context, "flashcards")
    grid = card_grid(context, job.paper())
    body = grid.card_size[0] - CARD_INSET_MM
    job.code_chars = {  # at the largest type: a card shrunk to fit only gains room
        name: code_chars(body - 0.5 - 0.9 * font * 25.4 / 72, font)
        for name, font in (
            ("question", FRONT_SIZES[0] * grid.type_scale * 0.8),
            ("answer", BACK_SIZES[0] * grid.type_scale * 0.8),
        )
    }
    entries = ordered_entries(job.entries(details=False), context)
    cards = [Card(number, entry) for number, entry in enumerate(entries, start=1)]
    calibration = bool(context.option("calibration", False))
    if not cards and not calibration:
        context.state.setdefault("messages", []).append(
            "flashcards: no questions selected, nothing to print"
        )
        return
    cache = context.cache
    side_keys = fit_keys(context, grid, cards)
    by_number = {card.number: card for card in cards}
    for (number, side), key in side_keys.items():
        known = cache.get("card-fit", key)
        if isinstance(known, int) and 0 <= known < len(
            FRONT_SIZES if side == "front" else BACK_SIZES
        ):
            by_number[number].sizes[side] = known
    sheets = [Sheet([], calibration=True)] if calibration else []
    sheets += [
        Sheet(cards[start : start + grid.per_page]) for start in range(0, len(cards), grid.per_page)
    ]
    version = render_version()
    geometry = grid_values(grid)

    def sheet_key(sheet: Sheet) -> str | None:
        filled = job.fill(
            "flashcards.html.j2", sheets=last_marked(sheet.pages(grid)), timestamp="", **geometry
        )
        return None if filled is None else content_key(version, *filled)

    for sheet in sheets:
        filled_key = sheet_key(sheet)
        if filled_key is None:
            return
        sheet.key = filled_key
    results: dict[str, SheetResult] = {}
    blobs: dict[str, str] = {}
    for sheet in sheets:
        known = cache.get(PAGES_NAMESPACE, sheet.key)
        if not isinstance(known, dict):
            continue
        pdf = cache.get_blob(PAGES_NAMESPACE, str(known.get("pdf", sheet.key)))
        if pdf is not None:
            results[sheet.key] = SheetResult(pdf, dict(known["sizes"]), list(known["overflow"]), [])
            blobs[sheet.key] = str(known.get("pdf", sheet.key))
    missing = [sheet for sheet in sheets if sheet.key not in results]
    if missing:
        fresh = _render_sheets(job, grid, missing)
        for sheet, result in zip(missing, fresh, strict=True):
            results[sheet.key] = result
            job.refused.extend(result.refused)
            if result.refused:  # refusals are reported on every build, never cached
                continue
            cache.put_blob(PAGES_NAMESPACE, sheet.key, result.pdf)
            blobs[sheet.key] = sheet.key
            cache.put(PAGES_NAMESPACE, sheet.key, result.to_json(sheet.key))
            # the next build starts this sheet at the sizes found now: same pages
            for card in sheet.cards:
                for side in ("front", "back"):
                    card.sizes[side] = result.sizes[f"{side[0]}{card.number}"]
            final = sheet_key(sheet)
            if final is not None and final != sheet.key:
                cache.put(PAGES_NAMESPACE, final, result.to_json(sheet.key))
    cache.prune_blobs(PAGES_NAMESPACE, set(blobs.values()), limit=4000)
    for sheet in sheets:
        result = results[sheet.key]
        for card in sheet.cards:
            for side in ("front", "back"):
                index = result.sizes.get(f"{side[0]}{card.number}")
                if index is not None:
                    card.sizes[side] = index
        for key in result.overflow:
            card = by_number[int(key[1:])]
            front = key[0] == "f"
            name = "question" if front else "answer"
            smallest = round((FRONT_SIZES if front else BACK_SIZES)[-1] * grid.type_scale, 2)
            context.diagnostics.add(
                card.entry.source.question.where(name),
                "W106",
                f"the {name} does not fit flashcard {card.number} "
                f"({card.entry.id}) even at {smallest:g} pt; shorten it",
            )
    for (number, side), key in side_keys.items():
        cache.put("card-fit", key, by_number[number].sizes[side])
    under = furniture(job, grid) if not all(sheet.calibration for sheet in sheets) else b""
    if under is None:
        return
    values = job.common_values()
    data = merge_pdfs(
        [results[sheet.key].pdf for sheet in sheets],
        identifier=content_key(context.bank.deck.id, "flashcards"),
        timestamp=values["timestamp"],
        under=[b"" if sheet.calibration else under for sheet in sheets],
    )
    context.outputs.add(context.output_path("-flashcards.pdf"), data, owner="flashcards")
    job.report_refused()


def _render_sheets(job: PdfJob, grid: CardGrid, sheets: list[Sheet]) -> list[SheetResult]:
    """Render sheets to one PDF each, split across worker processes when worth it."""
    from exporter.core.workers import fork_map, split_weighted, worker_count

    workers = worker_count(len(sheets))
    # by their text: long answers take longer and are the ones shrunk and laid out again
    chunks = split_weighted(sheets, workers, _sheet_cost)
    if len(chunks) > 1:  # imported once here, not once in every worker (0.45 s each)
        from exporter.render.pdf.weasy import preload

        preload()
    job.context.progress.start(job.target, len(sheets), f"{job.target}: laying out sheets")
    results = [
        result for part in fork_map(lambda s: _render_run(job, grid, s), chunks) for result in part
    ]
    job.context.progress.finish(job.target)
    return results


def _sheet_cost(sheet: Sheet) -> float:
    """About how long a sheet takes to lay out, in characters of its cards' text."""
    return sum(
        CARD_COST
        + len(card.entry.source.question.question)
        + len(card.entry.source.question.answer)
        for card in sheet.cards
    )


CARD_COST = 80
"""What laying out a card costs beyond its text, in characters."""


def _render_run(job: PdfJob, grid: CardGrid, sheets: list[Sheet]) -> list[SheetResult]:
    """One worker's share: batches of :data:`FLASHCARD_BATCH` sheets per layout."""
    results: list[SheetResult] = []
    for start in range(0, len(sheets), FLASHCARD_BATCH):
        results.extend(_render_batch(job, grid, sheets[start : start + FLASHCARD_BATCH]))
        job.context.progress.advance(job.target, len(sheets[start : start + FLASHCARD_BATCH]))
    return results


def _render_batch(job: PdfJob, grid: CardGrid, sheets: list[Sheet]) -> list[SheetResult]:
    """Lay some sheets out together, fit their cards, and write each sheet's PDF.

    Every sheet is exactly two pages with the built-in template, so a sheet's pages are
    the same whether laid out alone or with others, and its PDF (written from just those
    pages) is too. A template that breaks that rule gets each sheet laid out alone.
    """
    geometry = grid_values(grid)
    refused_before = len(job.refused)

    def lay_out(pages: list[dict[str, Any]]) -> Any:
        filled = job.fill("flashcards.html.j2", sheets=last_marked(pages), timestamp="", **geometry)
        if filled is None:
            raise RuntimeError("the flashcard template failed while rendering")
        return job.layout(*filled)

    def pages_of(batch: list[Sheet]) -> list[dict[str, Any]]:
        return [page for sheet in batch for page in sheet.pages(grid)]

    if len(sheets) > 1:
        document = lay_out(pages_of(sheets))
        if len(document.pages) != 2 * len(sheets):
            return [result for sheet in sheets for result in _render_batch(job, grid, [sheet])]
    else:
        document = lay_out(pages_of(sheets))
    cards = [card for sheet in sheets for card in sheet.cards]

    def relayout(document: Any, changed: set[int]) -> Any:
        """The document with the sheets holding ``changed`` cards laid out again."""
        redo = [
            i for i, sheet in enumerate(sheets) if any(c.number in changed for c in sheet.cards)
        ]
        partial = lay_out(pages_of([sheets[i] for i in redo]))
        pages = list(document.pages)
        if len(partial.pages) == 2 * len(redo) and len(pages) == 2 * len(sheets):
            for n, i in enumerate(redo):
                pages[2 * i : 2 * i + 2] = partial.pages[2 * n : 2 * n + 2]
            return document.copy(pages)
        return lay_out(pages_of(sheets))

    overflowing = measure_cards(document)
    overflow: set[str] = set()
    changed: set[int] = set()
    if overflowing:
        shrink_to_fit(cards, grid, overflowing, lay_out)
        changed = {int(key[1:]) for key in overflowing}
    # sizes only ever get smaller here, so the sheets are laid out again once, at the end
    changed |= unify_sizes(sheets)
    if changed:
        document = relayout(document, changed)
        overflow = set(measure_cards(document))
    refused = job.refused[refused_before:]
    del job.refused[refused_before:]
    single = len(sheets) == 1
    results = []
    for index, sheet in enumerate(sheets):
        part = document if single else document.copy(document.pages[2 * index : 2 * index + 2])
        keys = [f"{side}{card.number}" for card in sheet.cards for side in ("f", "b")]
        sizes = {}
        for card in sheet.cards:
            sizes[f"f{card.number}"] = card.sizes["front"]
            sizes[f"b{card.number}"] = card.sizes["back"]
        results.append(
            SheetResult(
                part.write_pdf(pdf_identifier=b"sheet"),
                sizes,
                sorted((k for k in keys if k in overflow), key=lambda k: (int(k[1:]), k[0])),
                list(refused),
            )
        )
    return results


SIZE_SPREAD = 2
"""Steps of the size list a sheet side's cards may be apart before the odd one out keeps
its own smaller size (one long answer does not shrink a whole sheet)."""


def unify_sizes(sheets: list[Sheet]) -> set[int]:
    """One type size per sheet side where the cards allow it: every card is set at the
    smallest size of its neighbours, except a card that needs more than
    :data:`SIZE_SPREAD` steps below the median (it alone stays smaller). Returns the
    numbers of the cards whose size changed (smaller sizes fit where larger ones did)."""
    changed: set[int] = set()
    for sheet in sheets:
        for side in ("front", "back"):
            indexes = sorted(card.sizes[side] for card in sheet.cards)
            if not indexes:
                continue
            median = indexes[len(indexes) // 2]
            target = max(i for i in indexes if i <= median + SIZE_SPREAD)
            for card in sheet.cards:
                if card.sizes[side] < target:
                    card.sizes[side] = target
                    changed.add(card.number)
    return changed


FURNITURE_NAMESPACE = "flashcard-furniture"
"""Cache namespace of the furniture drawn under every sheet of a grid (PDF blobs)."""


def furniture(job: PdfJob, grid: CardGrid) -> bytes | None:
    """What every sheet of the grid shows besides its text, drawn once: a front page with
    the card frames and cut marks and a back page with its own (the template's
    ``part == "furniture"``). Cached by its HTML, that is by the grid and the template;
    :func:`merge_pdfs` draws it under every sheet. None after a template error (E019)."""
    filled = job.fill(
        "flashcards.html.j2",
        sheets=last_marked(furniture_pages(grid)),
        timestamp="",
        part="furniture",
        **grid_values(grid),
    )
    if filled is None:
        return None
    return job.laid_out_once(FURNITURE_NAMESPACE, filled, b"furniture")

"""Shrink-to-fit for flashcards: the font size each card side fits at, measured in
WeasyPrint's layout and cached by the side's HTML.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from exporter.core.cache import content_key
from exporter.render.pdf.grid import CardGrid
from exporter.render.pdf.sheets import (
    BACK_SIZES,
    FRONT_SIZES,
    Card,
    measuring_pages,
)

if TYPE_CHECKING:
    from exporter.core.context import RenderContext


def fit_keys(
    context: RenderContext, grid: CardGrid, cards: list[Card]
) -> dict[tuple[int, str], str]:
    """Cache keys for the font size each card side was found to fit at: the side's HTML,
    the grid and every PDF template file, so a size is reused only where the same layout
    would find it again (and a rebuild after one edit needs one layout, not three)."""
    templates = content_key(
        *(
            f"{path.name}:{path.read_text('utf-8', errors='replace')}"
            for folder in context.template_dirs("pdf")
            for path in sorted(folder.glob("*"))
            if path.is_file()
        )
    )
    base = (templates, grid.paper, str(grid.per_page))
    keys = {}
    for card in cards:
        keys[(card.number, "front")] = content_key(*base, "front", str(card.entry.question))
        keys[(card.number, "back")] = content_key(*base, "back", str(card.entry.answer))
    return keys


def shrink_to_fit(
    cards: list[Card],
    grid: CardGrid,
    overflowing: dict[str, float],
    lay_out: Callable[[list[dict[str, Any]]], Any],
) -> None:
    """Give every overflowing card side the largest font size that fits its card.

    Text height grows about with the square of the font size (taller lines, and more of
    them), so a side ``r`` times too big should fit at ``size / √r``. The listed size just
    above that estimate and the two just below it are laid out together in one measuring
    document and the largest that fits is kept; a side that fits at none of them tries
    all the smaller sizes in a second round. A side that fits at no size keeps the
    smallest.
    """
    by_number = {card.number: card for card in cards}
    pending: dict[str, list[int]] = {}
    for key, ratio in overflowing.items():
        card = by_number[int(key[1:])]
        side = "front" if key[0] == "f" else "back"
        sizes = FRONT_SIZES if side == "front" else BACK_SIZES
        smaller = list(range(card.sizes[side] + 1, len(sizes)))
        estimate = card.size(side) / math.sqrt(ratio)
        above = [i for i in smaller if sizes[i] > estimate][-1:]
        likely = above + [i for i in smaller if sizes[i] <= estimate][:2] or smaller[-1:]
        pending[key] = likely
        card.sizes[side] = smaller[-1] if smaller else card.sizes[side]
    for _round in range(2):
        tries = {key: indexes for key, indexes in pending.items() if indexes}
        if not tries:
            break
        measured = lay_out(measuring_pages(cards, grid, tries))
        too_big = measure_cards(measured)
        retry: dict[str, list[int]] = {}
        for key, indexes in tries.items():
            card = by_number[int(key[1:])]
            side = "front" if key[0] == "f" else "back"
            fitting = [i for i in indexes if f"{key}-{i}" not in too_big]
            if fitting:
                card.sizes[side] = fitting[0]
            else:
                count = len(FRONT_SIZES if side == "front" else BACK_SIZES)
                retry[key] = list(range(indexes[-1] + 1, count))
        pending = retry


def measure_cards(document: Any) -> dict[str, float]:
    """The ``.fit`` boxes too big for their card body: key → how many times too big."""
    result: dict[str, float] = {}
    for page in document.pages:
        _find_overflow(page._page_box, None, result)
    return result


def _find_overflow(box: Any, parent: Any, result: dict[str, float]) -> None:
    element = getattr(box, "element", None)
    key = element.get("data-fit") if element is not None else None
    if key and parent is not None and getattr(box, "element_tag", "") == "div":
        ratio = _overflow(box, parent)
        if ratio > 1:
            result[key] = ratio
        return
    for child in getattr(box, "children", ()):
        _find_overflow(child, box, result)


def _overflow(fit: Any, body: Any) -> float:
    """How many times too big a ``.fit`` box is for its card body; ≤ 1 when it fits.

    Height is compared with the body's (a centred front is moved into place by a
    transform, so only the height counts); any line, word or table sticking out sideways
    counts by its width. 0.2 px of slack absorbs rounding.
    """
    slack = 0.2
    left = body.content_box_x()
    right = left + body.width
    if fit.style["position"] == "absolute":
        used = fit.margin_height()
    else:
        used = fit.position_y + fit.margin_height() - body.content_box_y()
    ratio = used / max(body.height, 1.0)
    if used <= body.height + slack:
        ratio = min(ratio, 1.0)
    stack = list(getattr(fit, "children", ()))
    while stack:
        box = stack.pop()
        if str(getattr(box, "element_tag", "")).endswith("::marker"):
            continue  # list numbers hang in the list's padding, left of the text
        x = getattr(box, "position_x", None)
        width = getattr(box, "width", None)
        if isinstance(x, (int, float)) and isinstance(width, (int, float)):
            extent = x + box.margin_width()
            if x < left - slack or extent > right + slack:
                wide = (max(extent, right) - min(x, left)) / max(body.width, 1.0)
                ratio = max(ratio, wide, 1.01)
        stack.extend(getattr(box, "children", ()))
    return float(ratio)

"""What goes on a flashcard page: the cards with their font sizes, the furniture drawn under
every sheet (card frames, cut marks), the calibration sheet,
and pages of trial copies for measuring how large a side may be set.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from markupsafe import Markup

from exporter.render.pdf.grid import Box, CardGrid
from exporter.render.pdf.job import (
    Entry,
)

if TYPE_CHECKING:
    pass


FRONT_SIZES = (11.5, 11.0, 10.5, 10.0, 9.5, 9.0, 8.5, 8.0, 7.5, 7.0)
"""Font sizes (pt) tried for a question on a card front, largest first."""


BACK_SIZES = (10.0, 9.5, 9.0, 8.5, 8.0, 7.5, 7.0, 6.5)
"""Font sizes (pt) tried for an answer on a card back; 6.5 pt is the smallest printed."""


CALIBRATION_RANGE_MM = 10
"""The calibration rulers read ±this many millimetres."""


@dataclass
class Card:
    """One flashcard: its entry and the font size chosen for each side."""

    number: int
    entry: Entry
    sizes: dict[str, int] = field(default_factory=lambda: {"front": 0, "back": 0})
    """Index into :data:`FRONT_SIZES` / :data:`BACK_SIZES` per side."""

    def size(self, side: str) -> float:
        """The font size (pt) of a side."""
        sizes = FRONT_SIZES if side == "front" else BACK_SIZES
        return sizes[self.sizes[side]]


def measuring_pages(
    cards: list[Card], grid: CardGrid, measuring: dict[str, list[int]]
) -> list[dict[str, Any]]:
    """Front pages holding copies of some card sides at the sizes to try.

    ``measuring`` maps a card side key such as ``b12`` to the size indexes to try; each
    copy gets the key ``b12-3`` so :func:`measure_cards` reports it on its own.
    """
    by_number = {card.number: card for card in cards}
    copies = []
    for key, indexes in sorted(measuring.items()):
        side = "front" if key[0] == "f" else "back"
        card = by_number[int(key[1:])]
        for index in indexes:
            copies.append((f"{key}-{index}", side, card, index))
    pages = []
    for start in range(0, len(copies), grid.per_page):
        items = [
            card_item(
                card,
                side,
                grid.front(i),
                key,
                size_index=index,
                scale=grid.type_scale,
                slot=slot_class("front", i),
            )
            for i, (key, side, card, index) in enumerate(copies[start : start + grid.per_page])
        ]
        pages.append(sheet_page("front", items, []))
    return pages


def grid_values(grid: CardGrid) -> dict[str, Any]:
    """What every flashcard document of a grid gets besides its sheets: the page size,
    one CSS class per card position (``at-f0``… on fronts, ``at-b0``… on backs) and one
    per type size (``size-f0``… for questions, ``size-b0``… for answers).

    Cards name their position and size by class, never by an inline style: WeasyPrint
    then computes the styles of a card (and of everything inside it) once per position
    and size instead of once per card, which was a third of the layout time.
    """
    width, height = grid.page_size
    slots = [(slot_class("front", i), grid.front(i)) for i in range(grid.per_page)]
    slots += [(slot_class("back", i), grid.back(i)) for i in range(grid.per_page)]
    sizes = [
        {"name": size_class(side, index), "size": f"{round(size * grid.type_scale, 2):g}"}
        for side, table in (("front", FRONT_SIZES), ("back", BACK_SIZES))
        for index, size in enumerate(table)
    ]
    return {
        "page_w": width,
        "page_h": height,
        "slots": [{"name": name, **_box(box)} for name, box in slots],
        "sizes": sizes,
    }


def slot_class(side: str, index: int) -> str:
    """The CSS class placing a card at position ``index`` of a front or back page."""
    return f"at-{side[0]}{index}"


def size_class(side: str, index: int) -> str:
    """The CSS class setting a side's text at index ``index`` of its size list."""
    return f"size-{side[0]}{index}"


def _box(box: Box) -> dict[str, float]:
    return {"x": box.x, "y": box.y, "w": box.w, "h": box.h}


def furniture_pages(grid: CardGrid) -> list[dict[str, Any]]:
    """The two pages of what every sheet of a grid shows besides text (part
    ``furniture``): card frames where the cards go, and the cut marks."""
    fronts = [_frame("front", i) for i in range(grid.per_page)]
    backs = [_frame("back", i, rotated=grid.rotate_backs) for i in range(grid.per_page)]
    return [
        sheet_page("front", fronts, grid.cut_marks()),
        sheet_page("back", backs, grid.cut_marks(back=True)),
    ]


def _frame(side: str, index: int, rotated: bool = False) -> dict[str, Any]:
    return {"side": side, "slot": slot_class(side, index), "rotated": rotated}


def sheet_page(side: str, cards: list[dict[str, Any]], marks: Iterable[Box]) -> dict[str, Any]:
    """One flashcard page for the template: its side, its cards and its cut marks."""
    return {
        "side": side,
        "last": False,
        "cards": cards,
        "marks": [{"x": m.x, "y": m.y, "w": m.w, "h": m.h, "light": False} for m in marks],
        "rings": [],
        "labels": [],
        "texts": [],
    }


def card_item(
    card: Card,
    side: str,
    box: Box,
    key: str,
    size_index: int | None = None,
    rotated: bool = False,
    scale: float = 1.0,
    slot: str = "",
) -> dict[str, Any]:
    """One side of a card for the template: where it goes (``slot``: the class of its
    position, see :func:`grid_values`; ``box``: the same in millimetres), its text and
    its font size (the size list scaled by ``scale``: larger type on larger cards)."""
    entry = card.entry
    sizes = FRONT_SIZES if side == "front" else BACK_SIZES
    index = size_index if size_index is not None else card.sizes[side]
    size = round(sizes[index] * scale, 2)
    front = side == "front"
    return {
        "number": card.number,
        "id": entry.id,
        "key": key,
        "side": side,
        "slot": slot,
        "x": box.x,
        "y": box.y,
        "w": box.w,
        "h": box.h,
        "size": f"{size:g}",
        "size_class": size_class(side, index),
        "rotated": rotated,
        # the label is set flush right by justifying the meta line: it must not break
        "label": entry.level_title.replace(" ", "\u00a0") if front else "",
        "foot": entry.topic_title if front else "",
        "content": entry.question if front else entry.answer,
    }


def calibration_sheets(grid: CardGrid) -> list[dict[str, Any]]:
    """A front and a back page for measuring how far the printer shifts back pages.

    The back page has a large crosshair that a perfect duplex printer puts exactly behind
    the centre of the front page. The front page has a horizontal ruler below the centre
    and a vertical ruler to its right. Held against a light, the crosshair's vertical line
    crosses the horizontal ruler at the correction to add to ``--offset-x`` and its
    horizontal line crosses the vertical ruler at the correction to add to ``--offset-y``.
    The ruler labels already include the mirroring of duplex printing: a shift of the back
    page seen from the front is reversed horizontally after a long-edge flip and vertically
    after a short-edge flip.
    """
    width, height = grid.page_size
    cx, cy = width / 2, height / 2
    sx, sy = (1, -1) if grid.flip == "long" else (-1, 1)
    span, gap, line = CALIBRATION_RANGE_MM, 30.0, 0.15
    front = sheet_page("front", [], [])
    marks, labels = front["marks"], front["labels"]

    def mark(x: float, y: float, w: float, h: float, light: bool = False) -> None:
        marks.append({"x": x, "y": y, "w": w, "h": h, "light": light})

    mark(cx - 4, cy - line / 2, 8, line, light=True)  # where the crosshair should be
    mark(cx - line / 2, cy - 4, line, 8, light=True)
    ruler_y, ruler_x = cy + gap, cx + gap
    mark(cx - span - 1, ruler_y - line / 2, 2 * span + 2, line)
    mark(ruler_x - line / 2, cy - span - 1, line, 2 * span + 2)
    for mm in range(-span, span + 1):
        size = 4.0 if mm % 5 == 0 else 2.0
        mark(cx + mm - line / 2, ruler_y - size, line, size)  # ticks above the ruler
        mark(ruler_x, cy + mm - line / 2, size, line)  # ticks right of the ruler
        if mm % 5 == 0:
            labels.append({"x": cx + mm, "y": ruler_y + 1.2, "text": _signed(sx * mm)})
            labels.append({"x": ruler_x + 7, "y": cy + mm - 0.9, "text": _signed(sy * mm)})
    edge = "long" if grid.flip == "long" else "short"
    text = Markup(
        "<h2>Duplex calibration</h2>"
        "<p>Print this sheet double-sided, flipping on the <b>{edge} edge</b>, exactly like the "
        "cards, and hold it against a light: the large crosshair printed on the back shows "
        "through.</p>"
        "<p>Where its <b>vertical</b> line crosses the horizontal ruler is the number of "
        "millimetres to add to <code>--offset-x</code>; where its <b>horizontal</b> line "
        "crosses the vertical ruler is the number to add to <code>--offset-y</code>. This sheet "
        "was printed with <code>--offset-x&#160;{ox:g}</code> and "
        "<code>--offset-y&#160;{oy:g}</code>. Rebuild and print again until both lines read "
        "0.</p>"
    ).format(edge=edge, ox=grid.offset_x, oy=grid.offset_y)
    front["texts"].append({"x": 20.0, "y": 20.0, "w": width - 40.0, "h": 60.0, "content": text})
    front["texts"].append(
        {
            "x": cx - 30,
            "y": ruler_y + 5,
            "w": 60.0,
            "h": 6.0,
            "content": Markup(
                '<p class="caption" style="text-align:center">add to --offset-x (mm)</p>'
            ),
        }
    )
    front["texts"].append(
        {
            "x": ruler_x + 12,
            "y": cy - 2,
            "w": 40.0,
            "h": 6.0,
            "content": Markup('<p class="caption">add to --offset-y (mm)</p>'),
        }
    )
    back = sheet_page("back", [], [])
    bx, by = cx + grid.offset_x, cy + grid.offset_y
    reach = gap + 15
    back["marks"].extend(
        [
            {"x": bx - reach, "y": by - 0.15, "w": 2 * reach, "h": 0.3, "light": False},
            {"x": bx - 0.15, "y": by - reach, "w": 0.3, "h": 2 * reach, "light": False},
        ]
    )
    back["rings"].append({"x": bx - 4, "y": by - 4, "w": 8, "h": 8})
    back["texts"].append(
        {
            "x": bx - 60,
            "y": by - reach - 10,
            "w": 120.0,
            "h": 8.0,
            "content": Markup('<p style="text-align:center">Back of the calibration sheet</p>'),
        }
    )
    return [front, back]


def _signed(value: int) -> str:
    """A ruler label with a real minus sign (U+2212), not a hyphen: ``+3``, ``0``, ``−3``."""
    if not value:
        return "0"
    return f"+{value}" if value > 0 else f"\u2212{-value}"

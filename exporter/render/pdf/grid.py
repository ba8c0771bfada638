"""Flashcard sheet geometry: the card grid on the paper, backs mirrored for duplex printing,
and cut marks.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from exporter.render.pdf.job import (
    PAPER_MM,
)

if TYPE_CHECKING:
    from exporter.core.context import RenderContext


GRIDS: dict[int, tuple[int, int]] = {4: (2, 2), 6: (2, 3), 8: (2, 4), 10: (2, 5)}
TYPE_SCALE: dict[int, float] = {4: 1.4, 6: 1.15}
"""Type size factor per cards-per-sheet (1 for 8 and 10)."""
"""Flashcards per sheet → (columns, rows)."""


SHEET_MARGIN_MM = 10.0
"""Blank border of a flashcard sheet; cut marks are drawn in it, never on a card."""


@dataclass(frozen=True)
class Box:
    """A rectangle on a sheet, in millimetres from the top-left corner of the page."""

    x: float
    y: float
    w: float
    h: float


@dataclass(frozen=True)
class CardGrid:
    """Where the cards of one sheet go, front and back.

    Duplex geometry (``flip``):

    * ``long`` — the printer turns the sheet over its long edge (the usual "book" mode for
      portrait pages). A point at ``(x, y)`` on the front is behind ``(W − x, y)`` on the
      back page, so the card in column ``c`` of the front is in column ``cols − 1 − c`` of
      the same row on the back. Back pages are drawn upright.
    * ``short`` — the printer turns the sheet over its short edge ("calendar" mode), so
      ``(x, y)`` on the front is behind ``(x, H − y)`` on the back page: the card keeps its
      column and takes row ``rows − 1 − r``. Drawn upright, its answer would then read the
      right way up only when the card is flipped top-over-bottom; each back card is
      therefore also rotated 180° in place, so the printed cards come out exactly as in
      ``long`` mode: turn a cut card over sideways, like a book page, and its answer reads
      upright, behind its own question.

    ``offset_x``/``offset_y`` move everything on back pages right/down (in the back page's
    own coordinates, as seen in a PDF viewer) to compensate a printer's duplex shift; the
    calibration sheet measures it.
    """

    paper: str
    per_page: int
    flip: str = "long"
    offset_x: float = 0.0
    offset_y: float = 0.0

    @property
    def page_size(self) -> tuple[float, float]:
        """Page width and height (mm)."""
        return PAPER_MM[self.paper]

    @property
    def type_scale(self) -> float:
        """How much larger than on 8 cards per sheet the type is set (the card's width
        and height grow by about this much): 4 per sheet 1.4, 6 per sheet 1.15."""
        return TYPE_SCALE.get(self.per_page, 1.0)

    @property
    def shape(self) -> tuple[int, int]:
        """Columns and rows of cards."""
        return GRIDS[self.per_page]

    @property
    def card_size(self) -> tuple[float, float]:
        """Width and height of every card (mm): the sheet inside its margin, no gutters."""
        width, height = self.page_size
        cols, rows = self.shape
        return (width - 2 * SHEET_MARGIN_MM) / cols, (height - 2 * SHEET_MARGIN_MM) / rows

    def slot(self, col: int, row: int, back: bool = False) -> Box:
        """The box of grid cell (col, row); on back pages shifted by the offsets."""
        card_w, card_h = self.card_size
        x = SHEET_MARGIN_MM + col * card_w
        y = SHEET_MARGIN_MM + row * card_h
        if back:
            x += self.offset_x
            y += self.offset_y
        return Box(x, y, card_w, card_h)

    def front(self, index: int) -> Box:
        """Card ``index`` (0-based on its sheet) on the front page."""
        cols, _ = self.shape
        return self.slot(index % cols, index // cols)

    def back(self, index: int) -> Box:
        """Card ``index`` on the back page: the position behind its front after duplexing."""
        cols, rows = self.shape
        col, row = index % cols, index // cols
        if self.flip == "short":
            return self.slot(col, rows - 1 - row, back=True)
        return self.slot(cols - 1 - col, row, back=True)

    @property
    def rotate_backs(self) -> bool:
        """Whether back cards are drawn upside down (short-edge flipping)."""
        return self.flip == "short"

    def cut_marks(self, back: bool = False) -> list[Box]:
        """Thin solid lines in the margin continuing every card edge (never on a card)."""
        width, height = self.page_size
        cols, rows = self.shape
        card_w, card_h = self.card_size
        dx, dy = (self.offset_x, self.offset_y) if back else (0.0, 0.0)
        line = 0.2  # mm, about 0.57 pt
        gap, length = 2.0, SHEET_MARGIN_MM - 4.0
        marks = []
        for col in range(cols + 1):
            x = SHEET_MARGIN_MM + col * card_w - line / 2 + dx
            marks.append(Box(x, SHEET_MARGIN_MM - gap - length + dy, line, length))
            marks.append(Box(x, height - SHEET_MARGIN_MM + gap + dy, line, length))
        for row in range(rows + 1):
            y = SHEET_MARGIN_MM + row * card_h - line / 2 + dy
            marks.append(Box(SHEET_MARGIN_MM - gap - length + dx, y, length, line))
            marks.append(Box(width - SHEET_MARGIN_MM + gap + dx, y, length, line))
        return marks


def card_grid(context: RenderContext, paper: str) -> CardGrid:
    """The grid the options ask for."""
    try:
        per_page = int(context.option("per_page", 8))
    except (TypeError, ValueError):
        per_page = 8
    flip = str(context.option("flip", "long"))
    return CardGrid(
        paper=paper,
        per_page=per_page if per_page in GRIDS else 8,
        flip=flip if flip in ("long", "short") else "long",
        offset_x=float(context.option("offset_x", 0.0)),
        offset_y=float(context.option("offset_y", 0.0)),
    )

"""Packing measured panels into pages of columns, for the cheat sheet.

A panel is a heading block followed by item blocks (heights in pt, measured by
WeasyPrint). The rules:

* items are never split; a panel that does not fit continues at the top of the next
  column, its heading repeated (``continued``);
* a panel never starts in the last :data:`LATE_START` of a column, and never with its
  heading alone: heading and first item go together;
* the first page's columns start below the masthead;
* the last page's columns are balanced: the smallest common column height that still
  holds the rest of the content (found by bisection, the greedy packing being monotone).

Pure Python, deterministic, no layout engine: milliseconds for a thousand items.
"""

from __future__ import annotations

from dataclasses import dataclass, field

LATE_START = 0.10
"""A panel does not start in this last fraction of a column."""


@dataclass(frozen=True)
class Block:
    """A measured block: a panel heading (its id is the panel's) or an item."""

    id: str
    height: float


@dataclass
class Piece:
    """The part of a panel that lies in one column."""

    panel: str
    continued: bool
    items: list[str] = field(default_factory=list)


@dataclass
class Column:
    """One column: its pieces, the height they use and the height it has."""

    capacity: float
    pieces: list[Piece] = field(default_factory=list)
    used: float = 0.0


@dataclass
class Packed:
    """The result: pages of columns of pieces, and how full they are."""

    pages: list[list[list[Piece]]]
    fills: list[float]
    """Each page's used height over its columns' height (the last page against its
    balanced height is not counted: see :attr:`last_fill`)."""
    content: float
    """The height of all blocks with their panel frames (pt)."""
    capacity: float
    """The height one full page offers (pt, all columns; the first page less its masthead)."""
    first_capacity: float

    def fill_of(self, budget: int) -> float:
        """The content over what ``budget`` pages hold (above 1: it does not fit)."""
        room = self.first_capacity + max(0, budget - 1) * self.capacity
        return self.content / room if room > 0 else float("inf")


def _greedy(
    panels: list[list[Block]],
    columns: int,
    caps: list[float],
    default_cap: float,
    frame: float,
    gap: float,
) -> list[Column]:
    cols: list[Column] = []

    def new_column() -> Column:
        index = len(cols)
        page = index // columns
        column = Column(caps[page] if page < len(caps) else default_cap)
        cols.append(column)
        return column

    column = new_column()
    for panel in panels:
        head, items = panel[0], panel[1:]
        first = items[0].height if items else 0.0
        start = column.used + (gap if column.pieces else 0.0)
        if column.pieces and (
            start > (1 - LATE_START) * column.capacity
            or start + head.height + frame + first > column.capacity
        ):
            column = new_column()
            start = 0.0
        piece = Piece(head.id, False)
        column.pieces.append(piece)
        column.used = start + head.height + frame
        for item in items:
            if piece.items and column.used + item.height > column.capacity:
                column = new_column()
                piece = Piece(head.id, True)
                column.pieces.append(piece)
                column.used = head.height + frame
            piece.items.append(item.id)
            column.used += item.height
    return cols


def pack(
    panels: list[list[Block]],
    columns: int,
    height: float,
    first_page_top: float,
    frame: float,
    gap: float,
) -> Packed:
    """Pack ``panels`` (each ``[heading, *items]``) into pages of ``columns`` columns of
    ``height`` pt; the first page's columns are ``first_page_top`` shorter. ``frame`` is a
    panel's border and padding (top and bottom together), ``gap`` the space between two
    panels in a column."""
    first_cap = max(height - first_page_top, height * 0.2)
    caps = [first_cap]
    cols = _greedy(panels, columns, caps, height, frame, gap)
    pages = max(1, -(-len(cols) // columns))
    last_full = first_cap if pages == 1 else height
    # balance the last page: the smallest height that keeps the same number of pages
    low, high = 0.0, last_full
    best = cols
    for _ in range(22):
        middle = (low + high) / 2
        trial_caps = [*([first_cap] + [height] * (pages - 2))[: pages - 1], middle]
        if pages == 1:
            trial_caps = [middle]
        trial = _greedy(panels, columns, trial_caps, height, frame, gap)
        if len(trial) <= pages * columns and all(c.used <= c.capacity + 1e-6 for c in trial):
            high, best = middle, trial
        else:
            low = middle
    result: list[list[list[Piece]]] = []
    fills: list[float] = []
    for page in range(pages):
        chunk = best[page * columns : (page + 1) * columns]
        result.append([c.pieces for c in chunk])
        cap = first_cap if page == 0 else height
        fills.append(sum(c.used for c in chunk) / (cap * columns))
    content = 0.0
    for panel in panels:
        content += sum(b.height for b in panel) + frame + gap
    return Packed(result, fills, content, height * columns, first_cap * columns)

"""Long lists in a paged document (the quiz's answer key) laid out and cached page by page.

A :class:`Flow` is a segment of :mod:`exporter.render.pdf.paged` whose list of items is
cut where the layout itself breaks pages: a **unit** is one page (or a few, when an item
runs over a page break) holding items ``start .. end - 1``, stored in the segment cache
under the key of that unit's own HTML, so :func:`~exporter.render.pdf.paged.render_paged`
treats it as any other segment. The cut between units is invisible: the items flow on as
if the list had been laid out in one piece.

Pagination is greedy: a page that starts with item ``start`` holds the same items, laid out
the same way, whatever came before it and whatever follows the first item that did not
fit. So a unit is valid while its own items and the next item are unchanged (its
**validity key** covers both), and a layout started at any unit boundary gives the same
pages as one started earlier. A cold build lays the whole list out once and cuts it into
units; after an edit only the unit holding it is laid out again (from its first item, with
a few items more than it held), and the next units are taken from the cache as soon as a
page again starts where one started before.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from exporter.core.cache import content_key

if TYPE_CHECKING:
    from exporter.render.pdf.job import PdfJob


FLOWS_NAMESPACE = "pdf-flows-{target}"
"""Cache namespace of the unit boundaries: hints (item → unit lengths seen starting with
it) and validity keys (→ the unit's segment key)."""
FLOW_ITEM = "data-flow-item"
"""The attribute a template puts on each item's element, with the item's id as value."""
WINDOW_MARGIN = 3
"""Items laid out beyond the length a unit had last time, to see where its page ends."""


@dataclass
class Flow:
    """A segment whose ``segment[field]`` list is laid out in units of whole pages.

    ``ids`` name the items (the values of their :data:`FLOW_ITEM` attribute); keys in
    ``opening`` are true in the first unit's segment only (a title, ``recto``)."""

    segment: dict[str, Any]
    listed: str
    ids: list[str]
    opening: tuple[str, ...] = ()
    item_keys: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.item_keys = [
            content_key(*(f"{k}={v}" for k, v in sorted(item.items())))
            for item in self.segment[self.listed]
        ]

    @property
    def count(self) -> int:
        """How many items the flow holds."""
        return len(self.ids)

    def unit(self, start: int, end: int) -> dict[str, Any]:
        """The segment values of the unit holding items ``start .. end - 1``."""
        values = dict(self.segment)
        values[self.listed] = self.segment[self.listed][start:end]
        if start:
            for key in self.opening:
                values[key] = False
        return values


Keyer = Callable[[dict[str, Any]], "str | None"]
"""A segment's cache key (its filled HTML), None after a template error."""


@dataclass
class FlowUnit:
    """One unit laid out: its items, its segment values and key, and its pages."""

    start: int
    end: int
    segment: dict[str, Any]
    key: str
    laid: Any
    """The unit's pages as a :class:`~exporter.render.pdf.paged.Laid` segment."""


def hint_key(flow: Flow, start: int) -> str:
    """Where the lengths of units seen starting with item ``start`` are kept."""
    return content_key("hint", str(start == 0), flow.item_keys[start])


def validity_key(flow: Flow, unit_key: str, end: int) -> str:
    """What a unit ending before item ``end`` depends on: its HTML and the next item."""
    following = flow.item_keys[end] if end < flow.count else "end"
    return content_key("unit", unit_key, following)


def cached_units(
    job: PdfJob, flow: Flow, start: int, keyer: Keyer, known: Callable[[str], bool]
) -> tuple[list[tuple[int, int, str]], int | None]:
    """The units from item ``start`` on that the cache holds: ``(start, end, key)`` each,
    and the item where the cache stops knowing (None when it reaches the end)."""
    cache = job.context.cache
    namespace = FLOWS_NAMESPACE.format(target=job.target)
    units: list[tuple[int, int, str]] = []
    while start < flow.count:
        lengths = cache.get(namespace, hint_key(flow, start))
        found = None
        for length in lengths if isinstance(lengths, list) else []:
            end = start + int(length)
            if not start < end <= flow.count:
                continue
            key = keyer(flow.unit(start, end))
            if key is None:
                return units, start
            if cache.get(namespace, validity_key(flow, key, end)) == key and known(key):
                found = (end, key)
                break
        if found is None:
            return units, start
        units.append((start, found[0], found[1]))
        start = found[0]
    return units, None


def remember(job: PdfJob, flow: Flow, unit: FlowUnit) -> None:
    """Record a unit's boundary in the cache (the hint and the validity key)."""
    cache = job.context.cache
    namespace = FLOWS_NAMESPACE.format(target=job.target)
    hint = hint_key(flow, unit.start)
    lengths = cache.get(namespace, hint)
    seen = [int(n) for n in lengths] if isinstance(lengths, list) else []
    length = unit.end - unit.start
    cache.put(namespace, hint, [length, *(n for n in seen if n != length)][:4])
    cache.put(namespace, validity_key(flow, unit.key, unit.end), unit.key)


def lay_out_flow(
    job: PdfJob,
    flow: Flow,
    start: int,
    keyer: Keyer,
    known: Callable[[str], bool],
    lay_out: Callable[[dict[str, Any], int], list[tuple[Any, list[Any]]]],
    write: Callable[[Any, list[Any]], Any],
) -> list[FlowUnit]:
    """Lay the flow out from item ``start`` until its end, or until the cache knows the
    rest. ``lay_out(segment, first_item)`` lays a segment out and returns its units'
    pages: ``[(document, pages)]``, each list of pages holding whole items;
    ``write(document, pages)`` makes a unit's segment of some of them."""
    cache = job.context.cache
    namespace = FLOWS_NAMESPACE.format(target=job.target)
    units: list[FlowUnit] = []
    while start < flow.count:
        lengths = cache.get(namespace, hint_key(flow, start))
        seen = [int(n) for n in lengths] if isinstance(lengths, list) and lengths else []
        window = max(seen) + WINDOW_MARGIN if seen else flow.count - start
        while True:
            end = min(flow.count, start + window)
            pieces = _bounds(lay_out(flow.unit(start, end), start), flow, start, end)
            # the last piece of a window that stops short of the end is not known to be
            # full: the next items might still fit on its page
            final = pieces if end == flow.count else pieces[:-1]
            if final:
                break
            if end == flow.count:
                raise RuntimeError(f"the flow of {job.target} was laid out on no page")
            window *= 2  # one page held the whole window: its end is not known yet
        for document, pages, first, after in final:
            segment = flow.unit(first, after)
            key = keyer(segment)
            if key is None:
                return units
            units.append(FlowUnit(first, after, segment, key, write(document, pages)))
        start = units[-1].end
        if start < flow.count and cached_units(job, flow, start, keyer, known)[1] is None:
            break
    return units


def _bounds(
    pieces: list[tuple[Any, list[Any]]], flow: Flow, start: int, end: int
) -> list[tuple[Any, list[Any], int, int]]:
    """Each piece with the items it holds: ``(document, pages, first, after)``."""
    index = {item: n for n, item in enumerate(flow.ids)}
    firsts = []
    for _, pages in pieces:
        items = [index[i] for page in pages for i in _items(page._page_box) if i in index]
        firsts.append(min(items) if items else None)
    result = []
    for n, (document, pages) in enumerate(pieces):
        first = start if n == 0 else firsts[n]
        after = firsts[n + 1] if n + 1 < len(pieces) else end
        if first is None or after is None:
            raise RuntimeError("a page of the flow holds none of its items")
        result.append((document, pages, first, after))
    return result


def _items(box: Any) -> list[str]:
    """The flow item ids of the elements in a page box tree, in tree order."""
    found = []
    stack = [box]
    while stack:
        current = stack.pop()
        element = getattr(current, "element", None)
        if element is not None and getattr(current, "element_tag", "") != "":
            value = element.get(FLOW_ITEM)
            if value is not None:
                found.append(value)
                continue
        stack.extend(reversed(getattr(current, "children", ())))
    return found


def cut_pages(document: Any, flow: Flow) -> list[tuple[Any, list[Any]]]:
    """A flow layout's pages grouped into units: a page joins the previous one when an
    item runs over the break between them (so every unit holds whole items)."""
    index = {item: n for n, item in enumerate(flow.ids)}
    groups: list[list[Any]] = []
    last = -1
    for page in document.pages:
        items = [index[i] for i in _items(page._page_box) if i in index]
        # a page with no item of its own (a title alone) stays with its neighbour
        if groups and (not items or min(items) <= last or last < 0):
            groups[-1].append(page)
        else:
            groups.append([page])
        last = max([last, *items])
    return [(document, pages) for pages in groups]

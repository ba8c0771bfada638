"""Flowing PDFs (cheat sheet, quiz) rendered in parts, in parallel, and cached by content.

A document is cut into **segments** that each start on a new page, or, for a flowing
document (the guide), that each end at a page foot (see :func:`_flow`) (the cheat sheet at
section boundaries, the quiz before the answer key). Each segment is laid out by WeasyPrint
on its own, so segments run in parallel worker processes and a segment whose HTML did not
change is taken from ``build/.cache``: an edit re-lays out only the segment holding it.

What depends on the whole document is drawn by a light **frame** document of the same
template (``part == "frame"``): page numbers ("Page N of M"), the date, the contents with
their page numbers, links and the PDF outline. The frame has one page per content page,
holding invisible marks where the segments put their anchors and bookmarks, so WeasyPrint
itself resolves ``target-counter()``, internal links and bookmarks. Each final page is the
frame page with its segment page drawn underneath as a PDF Form XObject
(:func:`exporter.render.pdf.stamp.stack`):
content streams are copied, never parsed, so stacking costs milliseconds per page.

The template protocol: every PDF template renders ``part == "content"`` (one segment:
``segment`` holds its data, ``first`` is true for the first) or ``part == "frame"``
(``base.html.j2`` draws the frame pages; the template's ``frame_top`` block fills the top
of page one, such as the contents list).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from exporter.core.cache import content_key
from exporter.core.diagnostics import Location
from exporter.render.pdf.flow import Flow, cached_units, cut_pages, lay_out_flow, remember
from exporter.render.pdf.job import PdfJob, render_version
from exporter.render.pdf.stamp import stack

SEGMENTS_NAMESPACE = "pdf-segments-{target}"
"""Cache namespace of a target's laid-out segments: PDF blobs and their page facts."""
FRAMES_NAMESPACE = "pdf-frames-{target}"
"""Cache namespace of a target's frame documents (PDF blobs)."""


@dataclass
class Laid:
    """One segment laid out: its PDF and what the frame needs to know about its pages."""

    pdf: bytes
    pages: int
    marks: list[list[Any]]
    """``[page, anchor id or "", x, y, bookmark level or 0, bookmark label]`` (CSS px from
    the page's top-left corner)."""
    box: list[float]
    """The page content area: left margin, top margin and height (CSS px)."""
    refused: list[str]
    tail: list[str] = field(default_factory=list)
    """The ids of the elements with something on the last page, in document order."""

    def to_json(self) -> dict[str, Any]:
        """The cacheable facts; the PDF is stored as a blob under the same key."""
        return {"pages": self.pages, "marks": self.marks, "box": self.box, "tail": self.tail}


Split = Callable[[dict[str, Any], list[str]], "tuple[dict[str, Any], dict[str, Any]] | None"]
"""How a flowing document cuts a segment: given the ids with something on its last page,
the segment kept (ending at a page foot) and the part carried into the next one, or None
to carry it all."""
Join = Callable[[dict[str, Any], dict[str, Any]], dict[str, Any]]
"""How a carried part and the next segment become one segment."""


def render_paged(
    job: PdfJob,
    template: str,
    values: dict[str, Any],
    segments: Sequence[dict[str, Any] | Flow],
    path: Path,
    flow: tuple[Split, Join] | None = None,
) -> None:
    """Render ``template`` as the given segments plus its frame, into ``path``.

    With ``flow``, the document flows on from one segment to the next instead of starting
    each on a new page (see :func:`_flow`; plain segments only).

    ``values`` go to every part; ``segments`` are the per-segment values (at least one),
    passed as ``segment``; a segment with ``recto`` true starts on an odd page (a blank
    page is put before it when needed). A :class:`~exporter.render.pdf.flow.Flow` is a
    segment laid out and cached page by page. Nothing is queued when a template error was
    reported (E019).
    """

    cache = job.context.cache
    version = render_version()
    namespace = SEGMENTS_NAMESPACE.format(target=job.target)
    laid: dict[str, Laid] = {}
    failed = False

    def keyer(segment: dict[str, Any], first: bool = False) -> str | None:
        nonlocal failed
        filled = fill(segment, first)
        if filled is None:
            failed = True
            return None
        return content_key(version, *filled)

    def fill(segment: dict[str, Any], first: bool) -> tuple[str, str] | None:
        return job.fill(
            template, **values, part="content", segment=segment, first=first, timestamp=""
        )

    probes: set[str] = set()

    def filled_key(index: int, segment: dict[str, Any]) -> tuple[str, tuple[str, str]] | None:
        filled = fill(segment, index == 0)
        return None if filled is None else (content_key(version, *filled), filled)

    if flow is not None:
        plain = [segment for segment in segments if not isinstance(segment, Flow)]
        if len(plain) != len(segments):
            raise TypeError("a flowing document takes plain segments only, not a Flow")
        flowed = _flow(job, plain, flow, filled_key, namespace, probes)
        if flowed is None:
            return
        segments = flowed

    def known(key: str) -> bool:
        if key in laid:
            return True
        facts = cache.get(namespace, key)
        pdf = cache.get_blob(namespace, key) if isinstance(facts, dict) else None
        if pdf is not None and isinstance(facts, dict):
            laid[key] = Laid(pdf, int(facts["pages"]), facts["marks"], facts["box"], [])
            return True
        return False

    work: list[tuple[int, Any]] = []  # (segment index, filled HTML or the flow's first item)
    keys: dict[int, str] = {}
    for index, segment in enumerate(segments):
        if isinstance(segment, Flow):
            _, rest = cached_units(job, segment, 0, keyer, known)
            if failed:
                return
            if rest is not None:
                work.append((index, rest))
            continue
        filled = fill(segment, index == 0)
        if filled is None:
            return
        keys[index] = content_key(version, *filled)
        if not known(keys[index]):
            work.append((index, filled))

    def lay_out_flow_window(flow: Flow) -> Callable[[dict[str, Any], int], Any]:
        def lay_out(segment: dict[str, Any], first_item: int) -> Any:
            filled = fill(segment, False)
            if filled is None:
                raise RuntimeError("the template failed while laying out a flow")
            return cut_pages(job.layout(*filled), flow)

        return lay_out

    def run(item: tuple[int, Any]) -> Any:
        index, what = item
        segment = segments[index]
        if isinstance(segment, Flow):
            return lay_out_flow(
                job,
                segment,
                what,
                keyer,
                known,
                lay_out_flow_window(segment),
                lambda document, pages: laid_pages(job, document, pages),
            )
        return _lay_out(job, *what)

    if work:
        from exporter.core.workers import fork_map, split, worker_count

        chunks = split(work, worker_count(len(work)))
        progress = job.context.progress
        progress.start(job.target, len(work), f"{job.target}: laying out segments")
        fresh = fork_map(lambda chunk: [run(item) for item in chunk], chunks)
        progress.finish(job.target)
        for (index, _), result in zip(work, [r for part in fresh for r in part], strict=True):
            segment = segments[index]
            done = (
                [(unit.key, unit.laid) for unit in result]
                if isinstance(segment, Flow)
                else [(keys[index], result)]
            )
            for key, part in done:
                laid[key] = part
                job.refused.extend(part.refused)
                if not part.refused:  # refusals are reported on every build, never cached
                    cache.put_blob(namespace, key, part.pdf)
                    cache.put(namespace, key, part.to_json())
            if isinstance(segment, Flow):
                for unit in result:
                    remember(job, segment, unit)
    ordered: list[tuple[str, dict[str, Any]]] = []
    for index, segment in enumerate(segments):
        if not isinstance(segment, Flow):
            ordered.append((keys[index], segment))
            continue
        units, rest = cached_units(job, segment, 0, keyer, known)
        if rest is not None:
            raise RuntimeError(f"the flow of {job.target} was not laid out to its end")
        ordered.extend((key, segment.unit(start, end)) for start, end, key in units)
    parts = []
    pages_so_far = 0
    for key, segment in ordered:
        part = laid[key]
        if segment.get("recto") and pages_so_far % 2 == 1:
            # a blank back page, so that this segment starts on an odd page (a new sheet)
            parts.append(Laid(b"", 1, [], part.box, []))
            pages_so_far += 1
        parts.append(part)
        pages_so_far += part.pages
    cache.prune_blobs(namespace, {key for key, _ in ordered} | probes, limit=400)
    frame = _frame(job, template, values, parts)
    if frame is None:
        return
    data = stack(frame, [part.pdf for part in parts], timestamp=job.timestamp())
    job.context.outputs.add(path, data, owner=job.target)
    job.report_refused()


def _lay_out(job: PdfJob, html: str, base_url: str) -> Laid:
    """Lay one segment out and write its PDF (runs in a worker process)."""
    before = len(job.refused)
    document = job.layout(html, base_url)
    result = laid_pages(job, document, document.pages, before, whole=True)
    job.context.progress.advance(job.target)
    return result


def laid_pages(
    job: PdfJob, document: Any, pages: list[Any], before: int | None = None, whole: bool = False
) -> Laid:
    """Some pages of a laid-out document as a segment (``whole``: all of them): their
    PDF, marks and page box. URLs refused since ``before`` (default: all that the job
    holds) go with them."""
    marks: list[list[Any]] = []
    seen: set[str] = set()
    for number, page in enumerate(pages):
        for name, (x1, y1, _x2, _y2) in page.anchors.items():
            if name not in seen:  # a box split across pages names its first page only
                seen.add(name)
                marks.append([number, name, round(x1, 3), round(y1, 3), 0, ""])
        for level, label, (x, y), _state in page.bookmarks:
            marks.append([number, "", round(x, 3), round(y, 3), int(level), str(label)])
    if pages:
        page_box = pages[0]._page_box
        box = [
            round(float(page_box.margin_left), 3),
            round(float(page_box.margin_top), 3),
            round(float(page_box.height), 3),
        ]
    else:
        box = [0.0, 0.0, 0.0]
    start = 0 if before is None else before
    refused = job.refused[start:]
    del job.refused[start:]
    tail: list[str] = []
    if pages:
        for child in pages[-1]._page_box.descendants():
            element = getattr(child, "element", None)
            name = element.get("id") if element is not None else None
            if name and name not in tail:
                tail.append(name)
    part = document if whole else document.copy(pages)
    pdf: bytes = part.write_pdf(pdf_identifier=b"segment")
    return Laid(pdf, len(pages), marks, box, list(refused), tail)


def _flow(
    job: PdfJob,
    segments: list[dict[str, Any]],
    flow: tuple[Split, Join],
    filled_key: Callable[[int, dict[str, Any]], tuple[str, tuple[str, str]] | None],
    namespace: str,
    probes: set[str],
) -> list[dict[str, Any]] | None:
    """Segments that end at a page foot, so that the document flows on across them.

    Each segment but the last is laid out once as it is (a *probe*, cached by its HTML
    like any segment); what has something on its last page is carried to the start of the
    next segment, and the rest, which ends at the foot of the page before, is kept. The
    probes run one after the other (each depends on what the one before carried), the
    kept segments are laid out afterwards in parallel. An edit re-lays out its own
    segment's probe and kept part; the segments after it change only when the page break
    moves to another entry.
    """
    split, join = flow
    cache = job.context.cache
    result: list[dict[str, Any]] = []
    carried: dict[str, Any] | None = None
    progress = job.context.progress
    progress.start(job.target, len(segments), f"{job.target}: flowing segments")
    for index, segment in enumerate(segments):
        if carried is not None:
            segment = join(carried, segment)
            carried = None
        if index == len(segments) - 1:
            result.append(segment)
            break
        pair = filled_key(len(result), segment)
        if pair is None:
            progress.finish(job.target)
            return None
        key, filled = pair
        probes.add(key)
        known = cache.get(namespace, key)
        if isinstance(known, dict) and "tail" in known:
            tail = [str(name) for name in known["tail"]]
            pages = int(known["pages"])
            progress.advance(job.target)
        else:
            probe = _lay_out(job, *filled)
            job.refused.extend(probe.refused)
            if not probe.refused:
                cache.put_blob(namespace, key, probe.pdf)
                cache.put(namespace, key, probe.to_json())
            tail, pages = probe.tail, probe.pages
        cut = split(segment, tail) if pages > 1 else None
        if cut is None:
            carried = segment
            continue
        kept, carried = cut
        result.append(kept)
    progress.finish(job.target)
    return result


def _frame(job: PdfJob, template: str, values: dict[str, Any], parts: list[Laid]) -> bytes | None:
    """The frame document for the laid-out segments (cached by its HTML)."""

    pages: list[dict[str, Any]] = []
    for part in parts:
        left, top = part.box[0], part.box[1]
        pages.extend({"marks": []} for _ in range(part.pages))
        for number, name, x, y, level, label in part.marks:
            pages[len(pages) - part.pages + number]["marks"].append(
                {"id": name, "x": x - left, "y": y - top, "level": level, "label": label}
            )
    height = max((part.box[2] for part in parts), default=0.0)
    anchor_pages: dict[str, int] = {}
    for number, page in enumerate(pages, start=1):
        for mark in page["marks"]:
            if mark["id"]:
                anchor_pages.setdefault(mark["id"], number)
    filled = job.fill(
        template,
        **values,
        part="frame",
        segment={},
        first=True,
        timestamp="",  # the dates are set when the pages are stacked
        frame_pages=pages,
        frame_height=height - 0.5,
        anchor_pages=anchor_pages,
    )
    if filled is None:
        return None

    def check(document: Any) -> bool:
        if len(document.pages) == len(pages):
            return True
        where = Location(template)
        for folder in job.context.template_dirs("pdf"):
            if (folder / template).is_file():
                where = Location(str(folder / template))
                break
        job.context.diagnostics.add(
            where,
            "E019",
            f"template error: its frame has {len(document.pages)} pages for "
            f"{len(pages)} content pages; with part == 'frame' a template must draw only "
            "the frame pages of base.html.j2 (see the comment at the top of the built-in "
            "templates)",
        )
        return False

    identifier = content_key(job.context.bank.deck.id, job.target).encode("ascii")
    namespace = FRAMES_NAMESPACE.format(target=job.target)
    return job.laid_out_once(namespace, filled, identifier, check)

"""Flowing PDFs (cheat sheet, quiz) rendered in parts, in parallel, and cached by content.

A document is cut into **segments** that each start on a new page (the cheat sheet at
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

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from exporter.core.cache import content_key
from exporter.core.diagnostics import Location
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

    def to_json(self) -> dict[str, Any]:
        """The cacheable facts; the PDF is stored as a blob under the same key."""
        return {"pages": self.pages, "marks": self.marks, "box": self.box}


def render_paged(
    job: PdfJob,
    template: str,
    values: dict[str, Any],
    segments: list[dict[str, Any]],
    path: Path,
) -> None:
    """Render ``template`` as the given segments plus its frame, into ``path``.

    ``values`` go to every part; ``segments`` are the per-segment values (at least one),
    passed as ``segment``; a segment with ``recto`` true starts on an odd page (a blank
    page is put before it when needed). Nothing is queued when a template error was reported (E019).
    """

    cache = job.context.cache
    version = render_version()
    namespace = SEGMENTS_NAMESPACE.format(target=job.target)
    keyed: list[tuple[str, tuple[str, str]]] = []
    for index, segment in enumerate(segments):
        filled = job.fill(
            template,
            **values,
            part="content",
            segment=segment,
            first=index == 0,
            timestamp="",
        )
        if filled is None:
            return
        keyed.append((content_key(version, *filled), filled))
    laid: dict[str, Laid] = {}
    for key, _ in keyed:
        known = cache.get(namespace, key)
        pdf = cache.get_blob(namespace, key) if isinstance(known, dict) else None
        if pdf is not None and isinstance(known, dict):
            laid[key] = Laid(pdf, int(known["pages"]), known["marks"], known["box"], [])
    missing = [(key, filled) for key, filled in keyed if key not in laid]
    if missing:
        from exporter.core.workers import fork_map, split, worker_count

        chunks = split(missing, worker_count(len(missing)))
        progress = job.context.progress
        progress.start(job.target, len(missing), f"{job.target}: laying out segments")
        fresh = fork_map(lambda chunk: [_lay_out(job, *filled) for _, filled in chunk], chunks)
        progress.finish(job.target)
        for (key, _), result in zip(missing, [r for part in fresh for r in part], strict=True):
            laid[key] = result
            job.refused.extend(result.refused)
            if not result.refused:  # refusals are reported on every build, never cached
                cache.put_blob(namespace, key, result.pdf)
                cache.put(namespace, key, result.to_json())
    parts = []
    pages_so_far = 0
    for (key, _), segment in zip(keyed, segments, strict=True):
        part = laid[key]
        if segment.get("recto") and pages_so_far % 2 == 1:
            # a blank back page, so that this segment starts on an odd page (a new sheet)
            parts.append(Laid(b"", 1, [], part.box, []))
            pages_so_far += 1
        parts.append(part)
        pages_so_far += part.pages
    cache.prune_blobs(namespace, {key for key, _ in keyed}, limit=400)
    frame = _frame(job, template, values, parts)
    if frame is None:
        return
    data = stack(frame, [part.pdf for part in parts])
    job.context.outputs.add(path, data, owner=job.target)
    job.report_refused()


def _lay_out(job: PdfJob, html: str, base_url: str) -> Laid:
    """Lay one segment out and write its PDF (runs in a worker process)."""
    before = len(job.refused)
    document = job.layout(html, base_url)
    marks: list[list[Any]] = []
    seen: set[str] = set()
    for number, page in enumerate(document.pages):
        for name, (x1, y1, _x2, _y2) in page.anchors.items():
            if name not in seen:  # a box split across pages names its first page only
                seen.add(name)
                marks.append([number, name, round(x1, 3), round(y1, 3), 0, ""])
        for level, label, (x, y), _state in page.bookmarks:
            marks.append([number, "", round(x, 3), round(y, 3), int(level), str(label)])
    if document.pages:
        page_box = document.pages[0]._page_box
        box = [
            round(float(page_box.margin_left), 3),
            round(float(page_box.margin_top), 3),
            round(float(page_box.height), 3),
        ]
    else:
        box = [0.0, 0.0, 0.0]
    refused = job.refused[before:]
    del job.refused[before:]
    pdf: bytes = document.write_pdf(pdf_identifier=b"segment")
    job.context.progress.advance(job.target)
    return Laid(pdf, len(document.pages), marks, box, list(refused))


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
        frame_pages=pages,
        frame_height=height - 0.5,
        anchor_pages=anchor_pages,
    )
    if filled is None:
        return None
    cache = job.context.cache
    namespace = FRAMES_NAMESPACE.format(target=job.target)
    key = content_key(render_version(), *filled)
    known = cache.get_blob(namespace, key)
    if known is not None:
        return known
    refused = len(job.refused)
    document = job.layout(*filled)
    if len(document.pages) != len(pages):
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
        return None
    identifier = content_key(job.context.bank.deck.id, job.target).encode("ascii")
    data: bytes = document.write_pdf(pdf_identifier=identifier)
    if len(job.refused) == refused:  # refusals are reported on every build, never cached
        cache.put_blob(namespace, key, data)
        cache.prune_blobs(namespace, {key}, limit=40)
    return data

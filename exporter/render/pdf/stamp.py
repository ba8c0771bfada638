"""Pieces of laid-out PDF pages drawn onto other pages as Form XObjects.

The cheat sheet lays every item out once, each on a page of its own, to measure it; the
packed sheet is then a light frame document (panel boxes, headings, masthead, footer) with
each item's page drawn at its place. Nothing is laid out twice, and because a piece's
page holds only that piece, its text is extracted, searched and copied once, where it is
shown. Content streams are copied as they are (never parsed).
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

PT_PER_PX = 0.75
"""PDF units (pt) per CSS pixel."""


@dataclass(frozen=True)
class Piece:
    """Where one piece of a source page goes: ``source`` and ``page`` index the laid-out
    sources, ``box`` is the piece's (x1, y1, x2, y2) on that page (None: the whole page)
    and ``at`` the (x, y) where its top left corner lands on the target page, all in CSS
    pixels from the page's top left corner, as WeasyPrint's anchors give them."""

    source: int
    page: int
    box: tuple[float, float, float, float] | None
    at: tuple[float, float]


def stack(frame: bytes, contents: list[bytes], timestamp: str = "") -> bytes:
    """The frame's pages, each with the next content page drawn underneath (an empty
    content part: the frame page alone); ``timestamp``: as in :func:`stamp`."""
    sources = [data for data in contents if data]
    placed: list[list[Piece]] = []
    source = 0
    for data in contents:
        if not data:
            placed.append([])
            continue
        placed.extend([Piece(source, n, None, (0.0, 0.0))] for n in range(_pages(data)))
        source += 1
    return stamp(frame, sources, placed, under=True, timestamp=timestamp)


def stamp(
    base: bytes,
    sources: Sequence[bytes],
    pieces: Sequence[Sequence[Piece]],
    under: bool = False,
    timestamp: str = "",
) -> bytes:
    """``base`` with ``pieces[i]`` drawn on its page ``i``: over its content, or under it.

    Each piece becomes a Form XObject holding its source page's content (copied as it is,
    never parsed), clipped to the piece's box (grown by :data:`BLEED` pixels, for glyphs
    that overhang their box) and translated into place. The base keeps its links,
    outline, metadata and identifier; web links inside a piece are carried over, moved
    with it. ``timestamp`` (ISO, UTC) becomes the creation and modification dates: the
    base is laid out without them, so it stays cached when only the source's time moves.
    """
    from pypdf import PdfReader, PdfWriter
    from pypdf.generic import ArrayObject, DecodedStreamObject, NameObject

    base_reader = PdfReader(io.BytesIO(base))
    writer = PdfWriter(clone_from=base_reader)
    readers = [PdfReader(io.BytesIO(data)) for data in sources]
    if len(pieces) != len(writer.pages):
        raise RuntimeError(f"pieces for {len(pieces)} pages, {len(writer.pages)} in the base")
    for index, placed in enumerate(pieces):
        if not placed:
            continue
        target = writer.pages[index]
        target_height = float(target.mediabox.height)
        forms: dict[str, Any] = {}
        drawing: list[str] = []
        annotations: list[Any] = []
        for number, piece in enumerate(placed):
            page = readers[piece.source].pages[piece.page]
            height = float(page.mediabox.height)
            if piece.box is None:
                box: tuple[float, float, float, float] | None = None
                x1 = y1 = 0.0
            else:
                x1, y1, x2, y2 = (v * PT_PER_PX for v in piece.box)
                bleed = BLEED * PT_PER_PX
                box = (x1 - bleed, height - y2 - bleed, x2 + bleed, height - y1 + bleed)
            name = f"/ExporterPiece{number}"
            forms[name] = page_form(writer, page, box)
            # the piece's top left corner (x1, height - y1) lands on the target's "at"
            dx = piece.at[0] * PT_PER_PX - x1
            dy = (target_height - piece.at[1] * PT_PER_PX) - (height - y1)
            move = f"1 0 0 1 {dx:.3f} {dy:.3f} cm " if dx or dy else ""
            drawing.append(f"q {move}{name} Do Q")
            annots: Any = page.get("/Annots")
            for annotation in annots.get_object() if annots is not None else []:
                if _web_link(annotation):
                    moved = annotation.clone(writer)
                    if dx or dy:
                        _move(moved.get_object(), dx, dy)
                    annotations.append(moved)
        own_xobjects(target, forms)
        streams = content_streams(target)
        if under:
            first = DecodedStreamObject()
            first.set_data(("\n".join(drawing) + "\n").encode("ascii"))
            contents = [writer._add_object(first), *streams]
        else:
            # the base's content leaves its own transformation in force: save the state
            # before it and restore it before drawing the pieces
            before, after = DecodedStreamObject(), DecodedStreamObject()
            before.set_data(b"q\n")
            after.set_data(("Q\n" + "\n".join(drawing) + "\n").encode("ascii"))
            contents = [writer._add_object(before), *streams, writer._add_object(after)]
        target[NameObject("/Contents")] = ArrayObject(contents)
        if annotations:
            own: Any = target.raw_get("/Annots") if "/Annots" in target else None
            merged = [*(own.get_object() if own is not None else []), *annotations]
            target[NameObject("/Annots")] = ArrayObject(merged)
    if timestamp:
        date = pdf_date(timestamp)
        writer.add_metadata({"/CreationDate": date, "/ModDate": date})
    writer._ID = base_reader.trailer.get("/ID")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def pdf_date(timestamp: str) -> str:
    """An ISO UTC timestamp (``2026-12-02T10:00:00Z``) as a PDF date."""
    return "D:" + re.sub(r"[-:T]", "", timestamp)


BLEED = 3.0
"""How far (CSS px) around its box a piece is drawn: italic overhangs, badge edges."""


def _move(annotation: Any, dx: float, dy: float) -> None:
    """A link annotation's rectangle moved by (dx, dy) PDF units."""
    from pypdf.generic import ArrayObject, FloatObject, NameObject

    x1, y1, x2, y2 = (float(v) for v in annotation["/Rect"])
    annotation[NameObject("/Rect")] = ArrayObject(
        FloatObject(round(v, 3)) for v in (x1 + dx, y1 + dy, x2 + dx, y2 + dy)
    )


def _pages(data: bytes) -> int:
    from pypdf import PdfReader

    return len(PdfReader(io.BytesIO(data)).pages)


def _web_link(annotation: Any) -> bool:
    """Whether an annotation is a link to a web address (internal links of a laid-out
    part point into that part alone; the base makes the document's own)."""
    action = annotation.get_object().get("/A")
    return action is not None and action.get_object().get("/S") == "/URI"


def page_form(writer: Any, page: Any, box: tuple[float, float, float, float] | None = None) -> Any:
    """A Form XObject added to ``writer`` holding ``page``'s content (its streams decoded
    and joined, never parsed) and its resources, clipped to ``box`` in PDF units (None:
    the page's media box); returns its reference."""
    from pypdf.generic import ArrayObject, DecodedStreamObject, FloatObject, NameObject

    form = DecodedStreamObject()
    form.set_data(b"\n".join(stream.get_object().get_data() for stream in content_streams(page)))
    bbox = (
        ArrayObject(page.mediabox)
        if box is None
        else ArrayObject(FloatObject(round(v, 3)) for v in box)
    )
    form.update(
        {
            NameObject("/Type"): NameObject("/XObject"),
            NameObject("/Subtype"): NameObject("/Form"),
            NameObject("/BBox"): bbox,
            NameObject("/Resources"): page["/Resources"].clone(writer),
        }
    )
    return writer._add_object(form.flate_encode())


def own_xobjects(page: Any, forms: dict[str, Any]) -> None:
    """Give ``page`` resources of its own with ``forms`` (name → reference) added to its
    XObjects: WeasyPrint's pages share one resource dictionary."""
    from pypdf.generic import DictionaryObject, NameObject

    shared: Any = page["/Resources"].get_object()
    resources = DictionaryObject(shared)
    named: Any = shared.get("/XObject")
    xobjects = DictionaryObject(named.get_object() if named is not None else {})
    for name, form in forms.items():
        xobjects[NameObject(name)] = form
    resources[NameObject("/XObject")] = xobjects
    page[NameObject("/Resources")] = resources


def content_streams(page: Any) -> list[Any]:
    """A page's content streams, as the (indirect) references its ``/Contents`` holds."""
    from pypdf.generic import ArrayObject

    existing: Any = page.raw_get("/Contents")
    if isinstance(existing.get_object(), ArrayObject):
        return list(existing.get_object())
    return [existing]

"""Joining PDF parts into one deterministic file with pypdf, optionally drawing a page
of another PDF underneath each page (the flashcards' furniture)."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from exporter.render.pdf.stamp import content_streams, own_xobjects, page_form, pdf_date

if TYPE_CHECKING:
    pass


UNDER_NAME = "/ExporterUnder"
"""The resource name of the Form XObject drawn under a page."""


def merge_pdfs(
    parts: Sequence[bytes],
    identifier: str,
    timestamp: str = "",
    under: Sequence[bytes] | None = None,
) -> bytes:
    """One PDF of all pages of ``parts`` in order, with the first part's metadata.

    ``under`` (one per part, ``b""`` for none): a PDF whose pages are drawn underneath
    that part's pages, one for one, each as a Form XObject written once for the whole
    file however many parts share it (its content stream is copied, never parsed).

    Deterministic: the file identifier is ``identifier`` plus a hash of the parts (and of
    what is drawn under them), and the creation and modification dates are ``timestamp``
    (ISO, UTC) when given.
    """
    import io

    from pypdf import PdfReader, PdfWriter
    from pypdf.generic import ArrayObject, ByteStringObject, DecodedStreamObject, NameObject

    writer = PdfWriter()
    info: dict[str, str] = {}
    forms: dict[bytes, list[Any]] = {}
    prefix: Any = None
    for index, data in enumerate(parts):
        reader = PdfReader(io.BytesIO(data))
        if index == 0:
            info = {k: str(v) for k, v in (reader.metadata or {}).items()}
            root: Any = reader.trailer["/Root"]
            lang = root.get("/Lang")
            if lang is not None:
                writer._root_object[NameObject("/Lang")] = lang.clone(writer)
        start = len(writer.pages)
        writer.append(reader)
        below = under[index] if under is not None else b""
        if not below:
            continue
        if below not in forms:
            forms[below] = _forms(writer, below)
        if prefix is None:
            stream = DecodedStreamObject()
            stream.set_data(f"q {UNDER_NAME} Do Q\n".encode("ascii"))
            prefix = writer._add_object(stream)
        for page, form in zip(writer.pages[start:], forms[below], strict=False):
            _draw_under(page, form, prefix)
    if timestamp:
        info["/CreationDate"] = info["/ModDate"] = pdf_date(timestamp)
    writer.metadata = None
    writer.add_metadata(info)
    digest = hashlib.sha256(identifier.encode("utf-8"))
    for index, part in enumerate(parts):
        digest.update(hashlib.sha256(part).digest())
        if under is not None and under[index]:
            digest.update(hashlib.sha256(under[index]).digest())
    writer._ID = ArrayObject(
        [
            ByteStringObject(identifier.encode("ascii")),
            ByteStringObject(digest.hexdigest()[:32].encode()),
        ]
    )
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _forms(writer: Any, data: bytes) -> list[Any]:
    """Each page of ``data`` as a Form XObject added to ``writer`` (references)."""
    import io

    from pypdf import PdfReader

    return [page_form(writer, page) for page in PdfReader(io.BytesIO(data)).pages]


def _draw_under(page: Any, form: Any, prefix: Any) -> None:
    """Paint ``form`` before the page's own content (``prefix`` calls it)."""
    from pypdf.generic import ArrayObject, NameObject

    own_xobjects(page, {UNDER_NAME: form})
    page[NameObject("/Contents")] = ArrayObject([prefix, *content_streams(page)])

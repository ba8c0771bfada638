"""Joining PDF parts into one deterministic file with pypdf."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    pass


def merge_pdfs(parts: Sequence[bytes], identifier: str, timestamp: str = "") -> bytes:
    """One PDF of all pages of ``parts`` in order, with the first part's metadata.

    Deterministic: the file identifier is ``identifier`` plus a hash of the parts, and the
    creation and modification dates are ``timestamp`` (ISO, UTC) when given.
    """
    import io

    from pypdf import PdfReader, PdfWriter
    from pypdf.generic import ArrayObject, ByteStringObject, NameObject

    writer = PdfWriter()
    info: dict[str, str] = {}
    for index, data in enumerate(parts):
        reader = PdfReader(io.BytesIO(data))
        if index == 0:
            info = {k: str(v) for k, v in (reader.metadata or {}).items()}
            root: Any = reader.trailer["/Root"]
            lang = root.get("/Lang")
            if lang is not None:
                writer._root_object[NameObject("/Lang")] = lang.clone(writer)
        writer.append(reader)
    if timestamp:
        stamp = "D:" + re.sub(r"[-:T]", "", timestamp)
        info["/CreationDate"] = info["/ModDate"] = stamp
    writer.metadata = None
    writer.add_metadata(info)
    digest = hashlib.sha256(identifier.encode("utf-8"))
    for part in parts:
        digest.update(hashlib.sha256(part).digest())
    writer._ID = ArrayObject(
        [
            ByteStringObject(identifier.encode("ascii")),
            ByteStringObject(digest.hexdigest()[:32].encode()),
        ]
    )
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()

"""The only way WeasyPrint reads a resource: files under the source and template folders,
and ``data:`` URIs; everything else is refused and reported (W107).
"""

from __future__ import annotations

import mimetypes
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

from exporter.render.pdf.weasy import import_weasyprint

if TYPE_CHECKING:
    pass


def allowed_file(url: str, roots: Sequence[Path]) -> Path | None:
    """The local file a ``file:`` URL names, if it is a file under one of ``roots``."""
    parts = urlsplit(url)
    if parts.scheme.lower() != "file" or parts.netloc not in ("", "localhost"):
        return None
    try:
        path = Path(unquote(parts.path)).resolve(strict=True)
    except (OSError, RuntimeError, ValueError):
        return None
    if not path.is_file():
        return None
    for root in roots:
        try:
            if path.is_relative_to(root.resolve()):
                return path
        except OSError:
            continue
    return None


def url_allowed(url: str, roots: Sequence[Path]) -> bool:
    """Whether the PDF renderer may load ``url``: a ``data:`` URI or a file under ``roots``."""
    if url[:5].lower() == "data:":
        return True
    return allowed_file(url, roots) is not None


def make_url_fetcher(roots: Sequence[Path], refused: list[str]) -> Any:
    """A WeasyPrint URL fetcher that serves only files under ``roots`` and ``data:`` URIs.

    Every other URL is appended to ``refused`` and fails (WeasyPrint then draws nothing for
    it); the renderer reports each as W107.
    """
    import_weasyprint()
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    allowed_roots = [Path(root) for root in roots]

    class SafeURLFetcher(URLFetcher):  # type: ignore[misc]
        """Serves local files under the allowed folders and data URIs, nothing else."""

        def fetch(self, url: str, headers: Any = None) -> Any:
            if url[:5].lower() == "data:":
                return super().fetch(url, headers)
            path = allowed_file(url, allowed_roots)
            if path is None:
                refused.append(url)
                raise ValueError(f"refused by the PDF URL fetcher: {url}")
            mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            return URLFetcherResponse(path.as_uri(), path.read_bytes(), {"Content-Type": mime})

    return SafeURLFetcher(allowed_protocols=("data", "file"), allow_redirects=False)

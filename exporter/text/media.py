"""Media files that fields refer to: where a reference may point, what counts as an image,
and how large a file may be."""

from __future__ import annotations

import posixpath
import re
import urllib.parse
from pathlib import Path

MAX_MEDIA_BYTES = 5 * 1024 * 1024
"""An image larger than this is not bundled (E013)."""
MAX_IMAGE_PIXELS = 16_777_216
"""An image with more pixels than this (4096 × 4096) is refused (E013): a small PNG can
decode to gigabytes (a decompression bomb), and printing needs far fewer."""
MAX_IMAGE_SIDE = 16_384
"""Nor may either side be longer than this many pixels."""

_IMAGE_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "png"),
    (b"\xff\xd8\xff", "jpg"),
    (b"GIF87a", "gif"),
    (b"GIF89a", "gif"),
)


def sniff_image(data: bytes) -> str | None:
    """The image type by its first bytes (png, jpg, gif, webp), or None."""
    for magic, kind in _IMAGE_MAGIC:
        if data.startswith(magic):
            return kind
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    return None


def image_problem(src: str, source_root: Path) -> tuple[str, str]:
    """Why an image reference is unusable as ``(code, message)``, or ``("", "")``.

    ``src`` is the Markdown destination, which is a URL: ``images/sch%C3%A9ma.png`` and
    ``<images/my file.png>`` (percent-encoded by the parser) name the files as written.
    """
    src = urllib.parse.unquote(src)
    if not src.strip():
        return "E013", "image without a path"
    if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", src) or src.startswith("//"):
        return "E014", f"image '{src}' is a URL; images must be files inside source/"
    if src.startswith("/") or src.startswith("\\"):
        return "E014", f"image '{src}' is an absolute path; use a path relative to source/"
    normal = posixpath.normpath(src.replace("\\", "/"))
    if normal == ".." or normal.startswith("../"):
        return "E014", f"image '{src}' leaves source/"
    if "\0" in normal:  # `%00`: no file has that name, and the OS refuses to look
        return "E013", f"image {src!r} contains a NUL character"
    path = source_root / normal
    try:
        resolved = path.resolve(strict=False)
        root = source_root.resolve()
    except (OSError, RuntimeError):
        return "E013", f"image '{src}' cannot be resolved"
    if resolved != root and root not in resolved.parents:
        return "E014", f"image '{src}' leads outside source/ through a link"
    if not resolved.exists():
        return "E013", f"image '{src}' not found in source/"
    from exporter.core.files import FileRefused, check_regular, read_head

    try:
        size = check_regular(resolved).st_size
        if size > MAX_MEDIA_BYTES:
            return "E013", f"image '{src}' is {size:,} bytes; the limit is {MAX_MEDIA_BYTES:,}"
        head = read_head(resolved, 16)
    except FileRefused as exc:
        return "E013", f"image '{src}' {exc.strerror}"
    except OSError as exc:
        return "E013", f"image '{src}' cannot be read: {exc.strerror or exc}"
    if sniff_image(head) is None:
        return "E013", f"'{src}' is not a PNG, JPEG, GIF or WebP image"
    pixels = image_pixels(resolved)
    if isinstance(pixels, str):
        return "E013", f"image '{src}' cannot be read: {pixels}"
    width, height = pixels
    if width * height > MAX_IMAGE_PIXELS or max(width, height) > MAX_IMAGE_SIDE:
        return "E013", (
            f"image '{src}' is {width:,}×{height:,} pixels; the limit is "
            f"{MAX_IMAGE_PIXELS:,} pixels and {MAX_IMAGE_SIDE:,} on a side"
        )
    return "", ""


def image_pixels(path: Path) -> tuple[int, int] | str:
    """An image's width and height read from its header (Pillow, nothing decoded), or
    why it cannot be read. A decompression bomb is measured, never decoded."""
    import warnings

    from PIL import Image, UnidentifiedImageError

    try:
        with warnings.catch_warnings():
            # the header of a huge image is all we read: Pillow's bomb warning and error
            # are about decoding, which happens only after the limit check passed
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            previous, Image.MAX_IMAGE_PIXELS = Image.MAX_IMAGE_PIXELS, None
            try:
                with Image.open(path) as image:
                    width, height = image.size
            finally:
                Image.MAX_IMAGE_PIXELS = previous
    except UnidentifiedImageError:
        return "Pillow cannot identify the image"
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
        return str(exc).replace(str(path), "the file") or type(exc).__name__
    return int(width), int(height)

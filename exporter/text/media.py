"""Media files that fields refer to (images, and sounds for Anki): where a reference may
point, what counts as an image or a sound, what an SVG may contain, and how large a file
may be."""

from __future__ import annotations

import posixpath
import re
import urllib.parse
from pathlib import Path

MAX_MEDIA_BYTES = 5 * 1024 * 1024
"""A media file larger than this is not bundled (E013)."""
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
_SVG_START = re.compile(
    rb"^(?:\xef\xbb\xbf)?\s*(?:<\?xml[^>]*\?>\s*)?(?:<!--.*?-->\s*)*(?:<!DOCTYPE[^\[>]*(?:\[.*?\])?\s*>\s*)?<svg[\s>]",
    re.DOTALL | re.IGNORECASE,
)
SOUND_TAG = re.compile(r"\[sound:([^\]\n]+)\]")
"""Anki's sound reference, ``[sound:audio/hello.mp3]``, which fields may hold as text."""
AUDIO_EXTENSIONS = frozenset({"mp3", "ogg", "oga", "opus", "wav", "m4a", "flac", "webm"})
"""What a Markdown link may point at to be taken for a sound (``[listen](audio/x.mp3)``)."""


def sniff_image(data: bytes) -> str | None:
    """The image type by its first bytes (png, jpg, gif, webp, svg), or None."""
    for magic, kind in _IMAGE_MAGIC:
        if data.startswith(magic):
            return kind
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    if _SVG_START.match(data[:4096]):
        return "svg"
    return None


def sniff_audio(data: bytes) -> str | None:
    """The sound type by its first bytes (mp3, ogg, wav, m4a, flac, webm), or None."""
    if data.startswith(b"ID3") or (len(data) > 1 and data[0] == 0xFF and data[1] & 0xE0 == 0xE0):
        return "mp3"
    if data.startswith(b"OggS"):
        return "ogg"
    if data[:4] == b"RIFF" and data[8:12] == b"WAVE":
        return "wav"
    if data[4:8] == b"ftyp":
        return "m4a"
    if data.startswith(b"fLaC"):
        return "flac"
    if data.startswith(b"\x1a\x45\xdf\xa3"):
        return "webm"
    return None


def is_audio_link(href: str) -> bool:
    """Whether a link points at a sound file by its extension (``audio/x.mp3``)."""
    path = urllib.parse.unquote(href).split("?")[0].split("#")[0]
    return posixpath.splitext(path)[1][1:].lower() in AUDIO_EXTENSIONS


_SVG_REFERENCE = re.compile(
    r"""(?:\b(?:xlink:)?href|\bsrc)\s*=\s*(?:"([^"]*)"|'([^']*)')|url\(\s*["']?([^"')\s]*)"""
    r"""|@import\s+["']?([^"';\s]+)""",
    re.IGNORECASE,
)
_SVG_REFUSED = re.compile(r"<!ENTITY|<script\b|<foreignObject\b|\bon[a-z]+\s*=", re.IGNORECASE)


def svg_problem(data: bytes) -> str:
    """Why an SVG is unsafe to bundle or print, or ``""``: it must be self-contained (no
    reference to another file or URL, only ``#fragment`` and ``data:`` ones), with no
    entity declarations, scripts, event handlers or embedded HTML."""
    text = data.decode("utf-8", "replace")
    refused = _SVG_REFUSED.search(text)
    if refused:
        return f"contains {refused.group(0).strip().rstrip('=').strip()!r}"
    for match in _SVG_REFERENCE.finditer(text):
        target = next((g for g in match.groups() if g is not None), "").strip()
        if target and not target.startswith("#") and not target.lower().startswith("data:"):
            return f"refers to {target[:60]!r}"
    return ""


def image_problem(src: str, source_root: Path) -> tuple[str, str]:
    """Why an image reference is unusable as ``(code, message)``, or ``("", "")``."""
    return media_problem(src, source_root, "image")


def media_problem(src: str, source_root: Path, kind: str = "image") -> tuple[str, str]:
    """Why a reference to an ``image`` or ``sound`` is unusable as ``(code, message)``, or
    ``("", "")``.

    ``src`` is the Markdown destination, which is a URL: ``images/sch%C3%A9ma.png`` and
    ``<images/my file.png>`` (percent-encoded by the parser) name the files as written.
    """
    src = urllib.parse.unquote(src)
    if not src.strip():
        return "E013", f"{kind} without a path"
    if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", src) or src.startswith("//"):
        return "E014", f"{kind} '{src}' is a URL; {kind}s must be files inside source/"
    if src.startswith("/") or src.startswith("\\"):
        return "E014", f"{kind} '{src}' is an absolute path; use a path relative to source/"
    normal = posixpath.normpath(src.replace("\\", "/"))
    if normal == ".." or normal.startswith("../"):
        return "E014", f"{kind} '{src}' leaves source/"
    if "\0" in normal:  # `%00`: no file has that name, and the OS refuses to look
        return "E013", f"{kind} {src!r} contains a NUL character"
    path = source_root / normal
    try:
        resolved = path.resolve(strict=False)
        root = source_root.resolve()
    except (OSError, RuntimeError):
        return "E013", f"{kind} '{src}' cannot be resolved"
    if resolved != root and root not in resolved.parents:
        return "E014", f"{kind} '{src}' leads outside source/ through a link"
    if not resolved.exists():
        return "E013", f"{kind} '{src}' not found in source/"
    from exporter.core.files import FileRefused, check_regular, read_head

    try:
        size = check_regular(resolved).st_size
        if size > MAX_MEDIA_BYTES:
            return "E013", f"{kind} '{src}' is {size:,} bytes; the limit is {MAX_MEDIA_BYTES:,}"
        head = read_head(resolved, 4096)
        if kind == "image" and sniff_image(head) == "svg":
            head = read_head(resolved, MAX_MEDIA_BYTES)
    except FileRefused as exc:
        return "E013", f"{kind} '{src}' {exc.strerror}"
    except OSError as exc:
        return "E013", f"{kind} '{src}' cannot be read: {exc.strerror or exc}"
    if kind == "sound":
        if sniff_audio(head) is None:
            return "E013", f"'{src}' is not an MP3, Ogg, WAV, M4A, FLAC or WebM sound"
        return "", ""
    found = sniff_image(head)
    if found is None:
        return "E013", f"'{src}' is not a PNG, JPEG, GIF, WebP or SVG image"
    if found == "svg":
        problem = svg_problem(head)
        if problem:
            return "E014", f"SVG image '{src}' {problem}; an SVG must be self-contained"
        return "", ""
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

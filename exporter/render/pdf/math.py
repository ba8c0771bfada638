"""LaTeX formulas → SVG drawn by ziamath, for the PDF renderer.

The rendered Markdown keeps math as ``<span class="math math-inline">\\(…\\)</span>`` and
``<div class="math math-display">\\[…\\]</div>`` (see :mod:`exporter.text.markup`).
:func:`replace_math` swaps each for a drawing of the formula:

* Formulas are drawn once at :data:`DRAW_SIZE` SVG units per em and sized in the page
  with ``em`` lengths, so they follow the font size of the text around them (a formula in a
  6.5 pt flashcard answer is drawn as small as the answer text) without drawing again.
* Inline formulas sit on the text baseline: ziamath reports how far the drawing reaches
  below its baseline (``Math.getyofst()``, the bottom of the bounding box), which becomes a
  negative ``vertical-align``. Display formulas are centred blocks.
* ``ziamath.config.svg2`` is turned off so every glyph is a plain ``<path>``: with SVG 2
  glyphs become ``<symbol id=…>`` definitions whose ids repeat across formulas, which
  inline SVG in one HTML document cannot have.
* Drawings are cached by content (:func:`exporter.core.cache.content_key` of the formula, mode
  and size) in the project's cache namespace ``math-svg``, so a rebuild only draws new
  formulas. A formula ziamath cannot draw is cached as its error and shown as its LaTeX
  source in monospace.

The formulas go into the HTML as ``<img src="data:image/svg+xml;base64,…">`` (the default)
or as inline ``<svg>`` elements. Both give the same PDF, but data URIs lay out faster in
WeasyPrint: an inline SVG puts hundreds of ``<path>`` elements into the HTML tree, each
styled by the CSS cascade, while an image is parsed once per distinct formula. Measured on
the 79-question bank with details (about 430 formulas, 22 pages, WeasyPrint 70, median of
3): layout 6.5 s with ``img`` against 7.5 s with ``svg``, PDF writing 4.8 s against 5.2 s.
"""

from __future__ import annotations

import base64
import contextlib
import html
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from exporter.core.cache import Cache, content_key
from exporter.render.pdf.mathtext import plain, to_html

DRAW_SIZE = 20.0
"""ziamath's font size when drawing: SVG user units per em of the drawn formula."""
MATH_SCALE = 1.0
"""Formulas are drawn this much larger than the text around them (1: the DejaVu math font
has the x-height of DejaVu Sans)."""
MARGIN = 0.5
"""Blank border around a drawing (SVG units), so antialiased edges are not cut."""
CACHE_NAMESPACE = "math-svg"
FORMAT_VERSION = "3"
"""Part of every cache key: bump when the cached drawing's form changes."""
DEFAULT_EMBED = "img"
"""How formulas are put into the HTML: ``"svg"`` (inline element) or ``"img"`` (data URI)."""

_MATH = re.compile(
    r'<span class="math math-inline">\\\((?P<inline>.*?)\\\)</span>'
    r'|<div class="math math-display">\\\[(?P<display>.*?)\\\]</div>',
    re.DOTALL,
)


class MathError(Exception):
    """ziamath could not draw a formula."""


@dataclass(frozen=True)
class Formula:
    """A drawn formula: its SVG (no size attributes) and its box in em."""

    svg: str
    width: float
    height: float
    depth: float
    """How far the drawing reaches below the text baseline, in em (≥ 0 for descenders)."""

    def to_json(self) -> dict[str, Any]:
        """A plain-data form for the cache."""
        return {"svg": self.svg, "w": self.width, "h": self.height, "d": self.depth}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Formula:
        """Rebuild from :meth:`to_json` output."""
        return cls(str(data["svg"]), float(data["w"]), float(data["h"]), float(data["d"]))


_configured = False


def _ziamath() -> Any:
    global _configured
    import ziamath
    from ziamath.config import config

    if not _configured:
        config.svg2 = False
        _configured = True
    return ziamath


MATH_FONTS = (
    "/usr/share/fonts/truetype/dejavu/DejaVuMathTeXGyre.ttf",
    "/usr/share/texmf/fonts/opentype/public/tex-gyre-math/texgyredejavu-math.otf",
)
"""The DejaVu math companion (Debian's fonts-dejavu-extra, or TeX Gyre DejaVu Math), so
drawn formulas match the DejaVu Sans text; ziamath's own STIX Two Math when neither is
installed."""
DELIMITER_CAP = 4.0
"""A drawing taller than this many em that has ``\\left``/``\\right`` is drawn again with
fixed ``\\biggl``/``\\biggr`` delimiters (ziamath grows them to the column's height
around a display sum with limits)."""


def math_font() -> str | None:
    """The math font file formulas are drawn with, or None for ziamath's default."""
    from pathlib import Path

    for path in MATH_FONTS:
        if Path(path).is_file():
            return path
    return None


def _capped(latex: str) -> str:
    latex = re.sub(r"\\left\s*\.", "", latex)
    latex = re.sub(r"\\right\s*\.", "", latex)
    latex = re.sub(r"\\left(?![a-zA-Z])", r"\\biggl", latex)
    latex = re.sub(r"\\right(?![a-zA-Z])", r"\\biggr", latex)
    return re.sub(r"\\middle(?![a-zA-Z])", r"\\biggm", latex)


def draw(latex: str, display: bool) -> Formula:
    """Draw one formula with ziamath; raises :class:`MathError` when it cannot."""
    formula = _draw(latex, display)
    if formula.height > DELIMITER_CAP and "\\left" in latex:
        try:
            return _draw(_capped(latex), display)
        except MathError:
            return formula
    return formula


def _draw(latex: str, display: bool) -> Formula:
    zm = _ziamath()
    import xml.etree.ElementTree as ET

    try:
        math = zm.Latex(latex, size=DRAW_SIZE, inline=not display, margin=MARGIN, font=math_font())
        root = math.svgxml()
        xmin, xmax, ymin, ymax = (
            math.node.bbox.xmin,
            math.node.bbox.xmax,
            math.node.bbox.ymin,
            math.node.bbox.ymax,
        )
    except Exception as exc:  # ziamath and its LaTeX parser raise many exception types
        message = str(exc).strip() or type(exc).__name__
        raise MathError(message) from exc
    width = xmax - xmin + 2 * MARGIN
    height = ymax - ymin + 2 * MARGIN
    if width <= 2 * MARGIN or height <= 2 * MARGIN:
        raise MathError("the formula draws nothing")
    for name in ("width", "height", "xmlns:xlink"):
        root.attrib.pop(name, None)
    root.set("preserveAspectRatio", "xMinYMid meet")
    svg = ET.tostring(root, encoding="unicode", short_empty_elements=True)
    em = DRAW_SIZE
    depth = MARGIN - ymin  # from the baseline (y = 0) down to the drawing's bottom edge
    return Formula(svg, round(width / em, 4), round(height / em, 4), round(depth / em, 4))


def warm() -> None:
    """Import ziamath and load the math font (about 0.2 s), so that processes forked
    afterwards draw formulas at once."""
    with contextlib.suppress(MathError):
        draw("x", False)


PREPARE_MIN = 2
"""Fewer formulas to draw than this are drawn one by one, where they are needed (a fork
costs a few ms, a formula 10–60 ms)."""


def _cost(formula: tuple[str, bool]) -> float:
    return len(formula[0])


def _key(latex: str, display: bool) -> str:
    return content_key(latex, "display" if display else "inline", str(DRAW_SIZE), FORMAT_VERSION)


class MathRenderer:
    """Draws formulas through a cache; remembers nothing else between calls."""

    def __init__(
        self, cache: Cache | None = None, embed: str = DEFAULT_EMBED, text_display: bool = False
    ) -> None:
        self.cache = cache if cache is not None else Cache(None)
        self.embed = embed
        self.text_display = text_display
        """Whether display formulas, too, are set as text when they can be (inline ones
        always are: see :mod:`exporter.render.pdf.mathtext`)."""
        self.drawn = 0
        """How many formulas were drawn (not found in the cache) by this renderer."""
        self.wanted: list[tuple[str, bool]] | None = None
        """While :meth:`collecting`: the formulas asked for, none of them drawn."""

    @contextlib.contextmanager
    def collecting(self) -> Iterator[list[tuple[str, bool]]]:
        """A dry run: while active, every formula asked for that is not drawn yet is noted
        and answered with a blank stand-in (nothing drawn); :meth:`prepare` then draws the
        noted ones side by side. Formulas drawn before (and failures, as their message)
        are answered as they are, so a second dry run after :meth:`prepare` notes the
        ones a choice made on the real drawings asks for next."""
        self.wanted = []
        try:
            yield self.wanted
        finally:
            self.wanted = None

    def prepare(self, wanted: list[tuple[str, bool]]) -> None:
        """Draw the formulas of ``wanted`` that are not cached yet, on one process per core
        (a cold build of a bank with many formulas), into the cache."""
        todo = sorted(
            {(latex, display) for latex, display in wanted if not self._known(latex, display)}
        )
        if len(todo) < PREPARE_MIN:
            return
        from exporter.core.workers import deal, fork_map, worker_count

        warm()  # once, before forking
        # a formula takes about as long to draw as its source is long
        parts = deal(todo, worker_count(len(todo), limit=os.cpu_count() or 1), _cost)

        def run(part: list[tuple[str, bool]]) -> list[dict[str, Any]]:
            results: list[dict[str, Any]] = []
            for latex, display in part:
                try:
                    results.append(draw(latex, display).to_json())
                except MathError as exc:
                    results.append({"error": str(exc)})
            return results

        for part, results in zip(parts, fork_map(run, parts), strict=True):
            for (latex, display), result in zip(part, results, strict=True):
                self.cache.put(CACHE_NAMESPACE, _key(latex, display), result)
                self.drawn += 1

    def _known(self, latex: str, display: bool) -> bool:
        return isinstance(self.cache.get(CACHE_NAMESPACE, _key(latex, display)), dict)

    def formula(self, latex: str, display: bool) -> Formula | str:
        """The drawn formula, or why it cannot be drawn (both cached by content)."""
        key = _key(latex, display)
        cached = self.cache.get(CACHE_NAMESPACE, key)
        if isinstance(cached, dict):
            if "error" in cached:
                return str(cached["error"])
            try:
                return Formula.from_json(cached)
            except (KeyError, TypeError, ValueError):
                pass
        if self.wanted is not None:  # a dry run: noted, to be drawn by prepare
            self.wanted.append((latex, display))
            return Formula("<svg></svg>", 1.0, 1.0, 0.0)
        self.drawn += 1
        try:
            result = draw(latex, display)
        except MathError as exc:
            self.cache.put(CACHE_NAMESPACE, key, {"error": str(exc)})
            return str(exc)
        self.cache.put(CACHE_NAMESPACE, key, result.to_json())
        return result

    def element(self, formula: Formula, display: bool, latex: str) -> str:
        """The HTML element showing a drawn formula at the surrounding font size."""
        scale = MATH_SCALE
        style = f"width:{formula.width * scale:.4f}em"
        if not display:
            # Display formulas keep height:auto so that max-width can shrink them evenly.
            style += f";height:{formula.height * scale:.4f}em"
            style += f";vertical-align:{-formula.depth * scale:.4f}em"
        label = html.escape(latex, quote=True)
        if self.embed == "img":
            data = base64.b64encode(formula.svg.encode("utf-8")).decode("ascii")
            # an invisible text layer over the drawing: the formula stays searchable and
            # copyable (its glyphs are outlines); sized to stay inside the drawing
            words = plain(latex)
            size = min(0.8, formula.width * scale / max(1, len(words)) / 0.62)
            layer = (
                f'<span class="math-layer" style="font-size:{size:.3f}em">'
                f"{html.escape(words)}</span>"
            )
            return (
                f'<span class="math-box"><img class="math-svg" alt="{label}" style="{style}" '
                f'src="data:image/svg+xml;base64,{data}">{layer}</span>'
            )
        return formula.svg.replace("<svg ", f'<svg class="math-svg" style="{style}" ', 1)

    def replace(self, html_text: str, on_error: Callable[[str, str], None]) -> str:
        """``html_text`` with every formula drawn; ``on_error(latex, why)`` for failures."""
        if "math math-" not in html_text:
            return html_text

        def substitute(match: re.Match[str]) -> str:
            display = match.group("display") is not None
            escaped = match.group("display") if display else match.group("inline")
            latex = html.unescape(escaped or "")
            if not display or self.text_display:
                text = to_html(latex)
                if text is not None:
                    if display:
                        return f'<div class="math math-display math-text">{text}</div>'
                    return f'<span class="math math-inline math-text">{text}</span>'
            result = self.formula(latex, display)
            if isinstance(result, str):
                on_error(latex, result)
                source = f"\\[{escaped}\\]" if display else f"\\({escaped}\\)"
                if display:
                    return f'<div class="math math-display math-failed"><code>{source}</code></div>'
                return f'<span class="math math-inline math-failed"><code>{source}</code></span>'
            element = self.element(result, display, latex)
            if display:
                return f'<div class="math math-display">{element}</div>'
            return f'<span class="math math-inline">{element}</span>'

        return _MATH.sub(substitute, html_text)


def replace_math(
    html_text: str,
    on_error: Callable[[str, str], None],
    cache: Cache | None = None,
    embed: str = DEFAULT_EMBED,
) -> str:
    """``html_text`` with its formulas drawn (a one-off :class:`MathRenderer`)."""
    return MathRenderer(cache, embed).replace(html_text, on_error)

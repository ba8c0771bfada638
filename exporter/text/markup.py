"""Markdown → HTML, once, shared by every renderer.

CommonMark plus tables, ``$…$``/``$$…$$`` LaTeX math and fenced code highlighted by
Pygments (CSS classes, no inline colours). Raw HTML in the source is escaped, never passed
through. Math stays LaTeX inside ``<span class="math math-inline">\\(…\\)</span>`` or
``<div class="math math-display">\\[…\\]</div>``: MathJax delimiters that Anki renders as
they are and that the PDF renderer replaces with drawn formulas. Images keep their
source-relative path in ``src``; each renderer maps it to its own reference.

Parsing also collects *findings* (formulas, code languages, images, raw HTML) that the
validator checks, so a field is parsed once for both.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from exporter.text.limits import MAX_TABLE_CELLS
from exporter.text.media import SOUND_TAG, is_audio_link

if TYPE_CHECKING:  # markdown-it is imported on first use: up-to-date builds never need it
    from markdown_it import MarkdownIt
    from markdown_it.token import Token

_RAW_HTML = re.compile(r"</?[A-Za-z][A-Za-z0-9-]*(?:\s[^<>]*)?/?>|<!--")
_UNSAFE_URL = r"(?:javascript|vbscript|file|data):(?:[^\s<>()]|\([^\s<>()]*\))*"
_REFUSED_LINK = re.compile(
    rf"(?:(?P<image>!)\[[^\[\]]*)?\]\(\s*<?(?P<inline>{_UNSAFE_URL})"  # [x](url), ![x](url)
    rf"|^\s*\[[^\]]*\]:\s*<?(?P<reference>{_UNSAFE_URL})"  # [x]: url
    rf"|<(?P<autolink>{_UNSAFE_URL})>",  # <url>
    re.IGNORECASE | re.MULTILINE,
)
"""Links and images markdown-it refuses for their URL scheme: they stay as plain text."""


_CONTAINERS = frozenset({"blockquote_open", "list_item_open"})
"""Blocks whose content the block parser parses one level deeper."""


@dataclass(frozen=True)
class Finding:
    """Something in a Markdown field that needs a check: kind, value and 0-based line."""

    kind: str  # "math" | "code" | "image" | "sound" | "html" | "link" (refused for its scheme)
    # | "nesting" (the parser's nesting limit cut the text; value: the limit)
    # | "table" (more cells than MAX_TABLE_CELLS; value: the count)
    value: str
    line: int


@dataclass
class Parsed:
    """A parsed Markdown field: tokens to render and findings to validate."""

    tokens: list[Token]
    inline: bool
    findings: list[Finding] = field(default_factory=list)


@lru_cache(maxsize=1)
def _markdown() -> MarkdownIt:
    from markdown_it import MarkdownIt
    from mdit_py_plugins.dollarmath import dollarmath_plugin

    md = MarkdownIt("commonmark", {"html": False, "typographer": False})
    md.enable("table")
    md.enable("strikethrough")
    md.use(dollarmath_plugin, allow_space=False, allow_digits=False, double_inline=True)
    rules: Any = md.add_render_rule
    rules("math_inline", _render_math_inline)
    rules("math_inline_double", _render_math_display_inline)
    rules("math_block", _render_math_display)
    rules("math_block_label", _render_math_display)
    rules("fence", _render_fence)
    rules("code_block", _render_fence)
    rules("image", _render_image)
    return md


def _render_math_inline(self: Any, tokens: list[Token], idx: int, options: Any, env: Any) -> str:
    latex = tokens[idx].content.strip()
    return f'<span class="math math-inline">\\({html.escape(latex, quote=False)}\\)</span>'


def _render_math_display(self: Any, tokens: list[Token], idx: int, options: Any, env: Any) -> str:
    latex = tokens[idx].content.strip()
    return f'<div class="math math-display">\\[{html.escape(latex, quote=False)}\\]</div>\n'


def _render_math_display_inline(
    self: Any, tokens: list[Token], idx: int, options: Any, env: Any
) -> str:
    latex = tokens[idx].content.strip()
    return f'<span class="math math-display">\\[{html.escape(latex, quote=False)}\\]</span>'


def _render_image(self: Any, tokens: list[Token], idx: int, options: Any, env: Any) -> str:
    token = tokens[idx]
    src = html.escape(str(token.attrGet("src") or ""))
    alt = html.escape(self.renderInlineAsText(token.children or [], options, env))
    return f'<img src="{src}" alt="{alt}">'


def _render_fence(self: Any, tokens: list[Token], idx: int, options: Any, env: Any) -> str:
    token = tokens[idx]
    language = token.info.strip().split(maxsplit=1)[0] if token.info.strip() else ""
    return highlight_code(token.content, language)


@lru_cache(maxsize=4096)
def highlight_code(code: str, language: str) -> str:
    """Code as highlighted HTML with Pygments CSS classes; plain when the language is unknown."""
    lexer = _lexer(language) if language else None
    if lexer is None:
        cls = f' class="language-{html.escape(language)}"' if language else ""
        return f'<pre class="code"><code{cls}>{html.escape(code)}</code></pre>\n'
    from pygments import highlight
    from pygments.formatters.html import HtmlFormatter

    formatter = HtmlFormatter(cssclass=f"highlight language-{language}", wrapcode=True)
    return str(highlight(code, lexer, formatter))


def _lexer(language: str) -> Any:
    from pygments.lexers import get_lexer_by_name
    from pygments.util import ClassNotFound

    try:
        return get_lexer_by_name(language)
    except ClassNotFound:
        return None


_FENCE_LANGUAGE = re.compile(r"^[ \t>]*(?:`{3,}|~{3,})[ \t]*([^\s`{]+)", re.MULTILINE)


def load_lexers(texts: Iterable[str]) -> None:
    """Load (and compile) the Pygments lexers of the fenced code blocks in ``texts``, so
    that worker processes forked afterwards share them instead of each compiling its own
    (the Python lexer alone compiles about a hundred regular expressions)."""
    languages = {m.group(1) for text in texts if "``" in text or "~~" in text
                 for m in _FENCE_LANGUAGE.finditer(text)}  # fmt: skip
    for language in sorted(languages):
        if known_language(language):
            _lexer(language)


@lru_cache(maxsize=1)
def _language_names() -> frozenset[str]:
    from pygments.lexers._mapping import LEXERS

    return frozenset(alias.lower() for entry in LEXERS.values() for alias in entry[2])


def known_language(language: str) -> bool:
    """Whether Pygments can highlight this fenced-code language (no lexer is loaded)."""
    return language.lower() in _language_names()


def parse(text: str, inline: bool = False) -> Parsed:
    """Parse one field (``inline`` for the question line) and collect its findings."""
    from markdown_it.token import Token

    md = _markdown()
    env: dict[str, Any] = {}
    if inline:
        tokens = [Token("inline", "", 0, content=text, map=[0, 1], children=[])]
        md.inline.parse(text, md, env, tokens[0].children)  # type: ignore[arg-type]
    else:
        tokens = md.parse(text, env)
    parsed = Parsed(tokens, inline)
    _collect(tokens, parsed.findings, 0)
    cells = 0
    for token in tokens:
        if token.type == "table_open":
            cells, line = 0, token.map[0] if token.map else 0
        elif token.type in ("th_open", "td_open"):
            cells += 1
        elif token.type == "table_close" and cells > MAX_TABLE_CELLS:
            parsed.findings.append(Finding("table", f"{cells:,}", line))
    limit = md.options.maxNesting
    for token in tokens:
        # a quote or list item opened at the parser's last level keeps nothing inside:
        # markdown-it silently drops the rest of the field
        if token.type in _CONTAINERS and token.level >= limit - 1:
            line = token.map[0] if token.map else 0
            parsed.findings.append(Finding("nesting", str(limit), line))
            break
    return parsed


def _collect(tokens: list[Token], findings: list[Finding], line: int) -> None:
    for token in tokens:
        here = token.map[0] if token.map else line
        kind = token.type
        if kind.startswith("math_"):
            findings.append(Finding("math", token.content.strip(), here))
        elif kind in ("fence",):
            info = token.info.strip()
            if info:
                findings.append(Finding("code", info.split(maxsplit=1)[0], here))
        elif kind == "image":
            findings.append(Finding("image", str(token.attrGet("src") or ""), here))
        elif kind == "link_open" and is_audio_link(str(token.attrGet("href") or "")):
            findings.append(Finding("sound", str(token.attrGet("href")), here))
        if kind == "text" and "[sound:" in token.content:
            for match in SOUND_TAG.finditer(token.content):
                findings.append(Finding("sound", match.group(1).strip(), here))
        if kind == "text" and any(mark in token.content for mark in ("<", "](", "]:")):
            for match in _RAW_HTML.finditer(token.content):
                findings.append(Finding("html", match.group(0), here))
            for match in _REFUSED_LINK.finditer(token.content):
                url = match.group("inline") or match.group("reference") or match.group("autolink")
                findings.append(Finding("image" if match.group("image") else "link", url, here))
        if token.children:
            _collect(token.children, findings, here)
        if token.map is None:  # inline tokens have no line: count the breaks passed
            line += 1 if kind in ("softbreak", "hardbreak") else token.content.count("\n")


def render(parsed: Parsed) -> str:
    """HTML for a parsed field."""
    md = _markdown()
    if parsed.inline:
        return str(md.renderer.render(parsed.tokens[0].children or [], md.options, {}))
    return str(md.renderer.render(parsed.tokens, md.options, {}))


@dataclass(frozen=True)
class RenderedField:
    """A field's HTML and the findings the validator checks; JSON-serialisable for caching."""

    html: str
    findings: tuple[Finding, ...]

    def to_json(self) -> dict[str, Any]:
        """A plain-data form for the cache."""
        return {"html": self.html, "findings": [[f.kind, f.value, f.line] for f in self.findings]}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RenderedField:
        """Rebuild from :meth:`to_json` output."""
        return cls(data["html"], tuple(Finding(k, v, n) for k, v, n in data["findings"]))


def render_field(text: str, inline: bool = False) -> RenderedField:
    """Parse once, render once: the HTML and the findings of one field."""
    parsed = parse(text, inline)
    return RenderedField(render(parsed), tuple(parsed.findings))


def to_html(text: str, inline: bool = False) -> str:
    """Parse and render in one step."""
    return render(parse(text, inline))


_TAGS = re.compile(r"<[^>]+>")


def plain_text(html_text: str) -> str:
    """Visible text of rendered HTML (for word counts and search)."""
    return html.unescape(_TAGS.sub(" ", html_text))


def word_count(markdown_text: str) -> int:
    """Words a reader sees: Markdown punctuation and formulas count as one word each."""
    return len(re.findall(r"[\w'’-]+|\$[^$]+\$", markdown_text))


def pygments_css(style: str, selector: str = ".highlight") -> str:
    """The CSS rules for highlighted code in a Pygments style."""
    from pygments.formatters.html import HtmlFormatter

    return str(HtmlFormatter(style=style).get_style_defs(selector))


_CSS_COLOR = re.compile(r"(?<![-\w])(color|background-color):\s*#([0-9a-fA-F]{6}|[0-9a-fA-F]{3})\b")


def _rgb(hex_colour: str) -> tuple[int, int, int]:
    value = hex_colour.lstrip("#")
    if len(value) == 3:
        value = "".join(c * 2 for c in value)
    return int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16)


def _hex(rgb: tuple[int, ...]) -> str:
    return "#" + "".join(f"{c:02x}" for c in rgb)


def relative_luminance(hex_colour: str) -> float:
    """WCAG 2 relative luminance of an sRGB colour such as ``#1f2328``."""

    def channel(c: int) -> float:
        x = c / 255
        return x / 12.92 if x <= 0.04045 else ((x + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(c) for c in _rgb(hex_colour))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast_ratio(foreground: str, background: str) -> float:
    """WCAG 2 contrast ratio of two opaque colours (1 to 21)."""
    lighter, darker = sorted(
        (relative_luminance(foreground), relative_luminance(background)), reverse=True
    )
    return (lighter + 0.05) / (darker + 0.05)


def readable_colour(colour: str, background: str, minimum: float) -> str:
    """``colour``, or the closest mix of it towards black or white (whichever the
    background allows) whose contrast with ``background`` reaches ``minimum``."""
    if contrast_ratio(colour, background) >= minimum:
        return _hex(_rgb(colour))
    target = (0, 0, 0) if relative_luminance(background) > 0.18 else (255, 255, 255)
    start = _rgb(colour)
    for step in range(1, 101):
        mixed = tuple(round(c + (t - c) * step / 100) for c, t in zip(start, target, strict=True))
        candidate = _hex(mixed)
        if contrast_ratio(candidate, background) >= minimum:
            return candidate
    return _hex(target)


def readable_pygments_css(
    style: str, selectors: list[str], background: str, minimum: float = 4.5
) -> str:
    """A Pygments style's token rules (no page or line-number rules) under ``selectors``,
    with every token colour moved just far enough towards black or white to reach
    ``minimum`` contrast with ``background`` (or with the token's own background)."""
    from pygments.formatters.html import HtmlFormatter

    lines = HtmlFormatter(style=style).get_token_style_defs(selectors)
    out = []
    for line in lines:
        if "{" not in line or " ." not in line.split("{", 1)[0]:
            continue  # the style's own page background and the line highlight
        own = re.search(r"background-color:\s*#([0-9a-fA-F]{3,6})\b", line)
        under = "#" + own.group(1) if own else background

        def fix(match: re.Match[str], under: str = under) -> str:
            if match.group(1) != "color":
                return match.group(0)
            return f"color: {readable_colour('#' + match.group(2), under, minimum)}"

        out.append(_CSS_COLOR.sub(fix, line))
    return "\n".join(out) + "\n"

"""Simple HTML (Anki fields, CSV exports) to Markdown; anything else is left alone.

Converted: ``b strong i em s del code pre br p div ul ol li h1–h6 blockquote hr a img``,
plain tables, entities such as ``&nbsp;``, MathJax ``\\(…\\)``/``\\[…\\]`` (and the math
and highlighted-code markup our own Anki packages hold). Styled or otherwise unknown markup
(``<span style>``, ``<font>``, ``<sub>`` …) makes :func:`html_to_markdown` return None: the
caller keeps that field as it is and tells the user (the validator warns W104 on it).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from html.parser import HTMLParser

from exporter.importers.common import code_span, escape_inline, escape_line_starts

_VOID = frozenset("br img hr wbr input col area meta link source".split())
_BREAK = "\x00"
_MATH = re.compile(r"\\\((.+?)\\\)|\\\[(.+?)\\\]", re.S)
_ALIGN = re.compile(r"^\s*text-align\s*:\s*(left|center|right)\s*;?\s*$", re.I)
_HTML_HINT = re.compile(r"<[A-Za-z/!][^>]*>|&(?:#\d+|#x[0-9a-fA-F]+|[A-Za-z][A-Za-z0-9]*);")


class Unsupported(Exception):
    """The HTML has something Markdown cannot say simply."""


@dataclass
class _Element:
    tag: str
    attrs: dict[str, str]
    children: list[_Element | str] = field(default_factory=list)

    def text(self) -> str:
        return "".join(c if isinstance(c, str) else c.text() for c in self.children)

    def classes(self) -> list[str]:
        return self.attrs.get("class", "").split()


class _TreeBuilder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = _Element("#root", {})
        self.stack = [self.root]

    def _close_until(self, names: set[str], stop: set[str]) -> None:
        for index in range(len(self.stack) - 1, 0, -1):
            tag = self.stack[index].tag
            if tag in stop:
                return
            if tag in names:
                del self.stack[index:]
                return

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        tag = tag.lower()
        if tag == "li":
            self._close_until({"li"}, {"ul", "ol"})
        elif tag in ("td", "th"):
            self._close_until({"td", "th"}, {"tr", "table"})
        elif tag == "tr":
            self._close_until({"tr"}, {"table"})
        elif tag == "p" and self.stack[-1].tag == "p":
            self.stack.pop()
        element = _Element(tag, {k.lower(): v or "" for k, v in attrs})
        self.stack[-1].children.append(element)
        if tag not in _VOID:
            self.stack.append(element)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag.lower() not in _VOID:
            self.stack.pop()

    def handle_endtag(self, tag: str) -> None:
        tag = tag.lower()
        for index in range(len(self.stack) - 1, 0, -1):
            if self.stack[index].tag == tag:
                del self.stack[index:]
                return

    def handle_data(self, data: str) -> None:
        children = self.stack[-1].children
        if children and isinstance(children[-1], str):
            children[-1] += data
        else:
            children.append(data)


def parse_html(fragment: str) -> _Element:
    """A forgiving element tree of an HTML fragment (comments dropped)."""
    builder = _TreeBuilder()
    builder.feed(fragment)
    builder.close()
    return builder.root


def looks_like_html(text: str) -> bool:
    """Whether a field holds tags or entities (plain text otherwise)."""
    return bool(_HTML_HINT.search(text))


def html_to_markdown(fragment: str) -> str | None:
    """Markdown for a simple HTML fragment, or None when it is too complex to convert."""
    try:
        blocks = _blocks(parse_html(fragment).children)
    except Unsupported:
        return None
    return "\n\n".join(blocks).strip()


def _check_attrs(element: _Element, allowed: Sequence[str] = ()) -> None:
    for name in element.attrs:
        if name not in allowed:
            raise Unsupported(f"<{element.tag} {name}>")


# Inline content ---------------------------------------------------------------------------


def _text(text: str) -> str:
    """Escaped Markdown for a text node; MathJax delimiters become ``$…$``/``$$…$$``."""
    out = []
    position = 0
    for match in _MATH.finditer(text):
        out.append(escape_inline(text[position : match.start()]))
        inline, display = match.group(1), match.group(2)
        latex = " ".join((inline if inline is not None else display).split())
        if "$" in latex:
            raise Unsupported("dollar sign inside math")
        out.append(f"${latex}$" if inline is not None else f"$${latex}$$")
        position = match.end()
    out.append(escape_inline(text[position:]))
    return "".join(out)


def _wrap(inner: str, marker: str) -> str:
    """``inner`` between emphasis markers, its outer spaces moved outside them."""
    if not inner.strip(" " + _BREAK):
        return inner
    lead = inner[: len(inner) - len(inner.lstrip(" "))]
    trail = inner[len(inner.rstrip(" ")) :]
    return f"{lead}{marker}{inner.strip(' ')}{marker}{trail}"


def markdown_url(href: str) -> str:
    """A link or image destination as Markdown: in ``<…>`` when it has spaces or parentheses."""
    if re.search(r"[\s()<>]", href):
        if "<" in href or ">" in href or "\n" in href:
            raise Unsupported("URL with angle brackets")
        return f"<{href}>"
    return href


def _inline(nodes: Sequence[_Element | str]) -> str:
    out = []
    for node in nodes:
        if isinstance(node, str):
            out.append(_text(node.replace("\u00a0", " ")))
            continue
        tag = node.tag
        if tag in ("b", "strong"):
            _check_attrs(node)
            out.append(_wrap(_inline(node.children), "**"))
        elif tag in ("i", "em"):
            _check_attrs(node)
            out.append(_wrap(_inline(node.children), "*"))
        elif tag in ("s", "del", "strike"):
            _check_attrs(node)
            out.append(_wrap(_inline(node.children), "~~"))
        elif tag == "code":
            _check_attrs(node)
            code = " ".join(node.text().replace("\u00a0", " ").split("\n"))
            out.append(code_span(code) if code.strip() else "")
        elif tag == "br":
            out.append(_BREAK)
        elif tag == "a":
            _check_attrs(node, ("href", "title", "rel", "target"))
            href = node.attrs.get("href", "")
            if not re.match(r"(https?:|mailto:)", href):
                raise Unsupported("link that is not http(s) or mailto")
            title = node.attrs.get("title")
            suffix = f' "{title}"' if title and '"' not in title else ""
            out.append(f"[{_inline(node.children).strip()}]({markdown_url(href)}{suffix})")
        elif tag == "img":
            _check_attrs(node, ("src", "alt", "title"))
            alt = escape_inline(node.attrs.get("alt", ""))
            out.append(f"![{alt}]({markdown_url(node.attrs.get('src', ''))})")
        elif tag == "span" and not node.attrs:
            out.append(_inline(node.children))
        elif tag == "span" and node.classes() == ["math", "math-inline"]:
            out.append(_text(node.text()))
        else:
            raise Unsupported(f"<{tag}>")
    return "".join(out)


def _paragraphs(inline: str) -> list[str]:
    """Inline Markdown (with break markers) as paragraphs; two breaks start a new one."""
    text = re.sub(r"\s+", " ", inline)
    lines = [line.strip() for line in text.split(_BREAK)]
    paragraphs: list[list[str]] = [[]]
    for line in lines:
        if line:
            paragraphs[-1].append(line)
        elif paragraphs[-1]:
            paragraphs.append([])
    return [escape_line_starts("\\\n".join(p)) for p in paragraphs if p]


# Blocks -----------------------------------------------------------------------------------

_INLINE_TAGS = frozenset("b strong i em s del strike code br a img span".split())


def _blocks(nodes: Sequence[_Element | str]) -> list[str]:
    blocks: list[str] = []
    pending: list[_Element | str] = []

    def flush() -> None:
        if pending:
            blocks.extend(_paragraphs(_inline(pending)))
            pending.clear()

    for node in nodes:
        if isinstance(node, str) or (node.tag in _INLINE_TAGS and not _is_block_span(node)):
            pending.append(node)
            continue
        flush()
        blocks.extend(_block(node))
    flush()
    return [b for b in blocks if b.strip()]


def _is_block_span(node: _Element) -> bool:
    return node.tag == "span" and node.classes() == ["math", "math-display"]


def _language(*elements: _Element) -> str:
    for element in elements:
        for name in element.classes():
            if name.startswith("language-"):
                return name[len("language-") :]
    return ""


def _fence(code: str, language: str) -> str:
    code = code.replace("\u00a0", " ").rstrip("\n")
    longest = max((len(run) for run in re.findall(r"`{3,}", code)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{language}\n{code}\n{fence}"


def _block(node: _Element) -> list[str]:
    tag = node.tag
    classes = node.classes()
    if tag in ("p", "div") and not node.attrs:
        return _blocks(node.children)
    if tag in ("div", "span") and classes == ["math", "math-display"]:
        latex = node.text().strip()
        match = re.fullmatch(r"\\\[(.*)\\\]", latex, re.S)
        latex = " ".join((match.group(1) if match else latex).split())
        return [f"$${latex}$$"]
    if tag == "div" and classes and classes[0] == "highlight":
        pres = [c for c in node.children if isinstance(c, _Element) and c.tag == "pre"]
        if len(pres) != 1:
            raise Unsupported("highlight block without one <pre>")
        return [_fence(pres[0].text(), _language(node, pres[0]))]
    if tag == "pre":
        _check_attrs(node, ("class",))
        if classes not in ([], ["code"]):
            raise Unsupported("<pre class>")
        codes = [c for c in node.children if isinstance(c, _Element) and c.tag == "code"]
        return [_fence(node.text(), _language(node, *codes))]
    if tag in ("ul", "ol"):
        return [_list(node)]
    if re.fullmatch(r"h[1-6]", tag):
        _check_attrs(node)
        return [
            "#" * int(tag[1]) + " " + " ".join(_inline(node.children).replace(_BREAK, " ").split())
        ]
    if tag == "blockquote":
        _check_attrs(node)
        inner = "\n\n".join(_blocks(node.children))
        return ["\n".join(f"> {line}" if line else ">" for line in inner.split("\n"))]
    if tag == "hr":
        return ["---"]
    if tag == "table":
        return [_table(node)]
    raise Unsupported(f"<{tag}>")


def _list(node: _Element) -> str:
    ordered = node.tag == "ol"
    _check_attrs(node, ("start",) if ordered else ())
    try:
        start = int(node.attrs.get("start", "1"))
    except ValueError as exc:
        raise Unsupported("ol start") from exc
    items = []
    for child in node.children:
        if isinstance(child, str):
            if child.strip():
                raise Unsupported("text between list items")
            continue
        if child.tag != "li":
            raise Unsupported(f"<{child.tag}> in a list")
        _check_attrs(child)
        items.append(child)
    loose = any(isinstance(c, _Element) and c.tag == "p" for item in items for c in item.children)
    rendered = []
    for number, item in enumerate(items, start=start):
        marker = f"{number}. " if ordered else "- "
        blocks = _blocks(item.children)
        body = ("\n\n" if loose else "\n").join(blocks)
        lines = body.split("\n") if body else [""]
        pad = " " * len(marker)
        text = (
            marker + lines[0] + "".join("\n" + (pad + line if line else "") for line in lines[1:])
        )
        rendered.append(text.rstrip())
    return ("\n\n" if loose else "\n").join(rendered)


def _table(node: _Element) -> str:
    _check_attrs(node)
    rows: list[_Element] = []

    def collect(element: _Element) -> None:
        for child in element.children:
            if isinstance(child, str):
                if child.strip():
                    raise Unsupported("text inside a table")
                continue
            if child.tag in ("thead", "tbody", "tfoot"):
                _check_attrs(child)
                collect(child)
            elif child.tag == "tr":
                _check_attrs(child)
                rows.append(child)
            else:
                raise Unsupported(f"<{child.tag}> in a table")

    collect(node)
    if not rows:
        raise Unsupported("empty table")
    grid: list[list[str]] = []
    aligns: list[str] = []
    for row_index, row in enumerate(rows):
        cells = []
        for cell in row.children:
            if isinstance(cell, str):
                if cell.strip():
                    raise Unsupported("text between table cells")
                continue
            if cell.tag not in ("td", "th"):
                raise Unsupported(f"<{cell.tag}> in a table row")
            _check_attrs(cell, ("style",))
            style = cell.attrs.get("style")
            align = ""
            if style is not None:
                match = _ALIGN.match(style)
                if not match:
                    raise Unsupported("styled table cell")
                align = match.group(1).lower()
            if row_index == 0:
                aligns.append(align)
            content = _inline(cell.children)
            if _BREAK in content:
                raise Unsupported("line break in a table cell")
            cells.append(" ".join(content.split()).replace("|", "\\|"))
        grid.append(cells)
    width = len(grid[0])
    if width == 0 or any(len(cells) != width for cells in grid):
        raise Unsupported("ragged table")
    rule = {"": "---", "left": ":---", "center": ":---:", "right": "---:"}
    lines = ["| " + " | ".join(grid[0]) + " |", "|" + "|".join(rule[a] for a in aligns) + "|"]
    lines += ["| " + " | ".join(cells) + " |" for cells in grid[1:]]
    return "\n".join(lines)

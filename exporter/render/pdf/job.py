"""One PDF target being rendered: its questions as template entries, the Jinja environment,
formula drawing, and what a cached PDF part depends on.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from html import unescape
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

from markupsafe import Markup

from exporter import __version__
from exporter.core.cache import content_key
from exporter.core.diagnostics import Location, display_path, excerpt
from exporter.core.files import read_bytes
from exporter.render.pdf.fetcher import make_url_fetcher
from exporter.render.pdf.math import MathRenderer
from exporter.render.pdf.weasy import import_weasyprint
from exporter.text import markup
from exporter.text.media import MAX_MEDIA_BYTES, SOUND_TAG, sniff_image

if TYPE_CHECKING:
    from jinja2 import Environment, Template

    from exporter.core.context import RenderContext, RenderedQuestion
    from exporter.core.model import Question


PAPER_MM: dict[str, tuple[float, float]] = {"a4": (210.0, 297.0), "letter": (215.9, 279.4)}
"""Portrait paper sizes in millimetres (width, height)."""


@dataclass
class Entry:
    """A question prepared for a PDF template: safe HTML and the facts around it."""

    number: int
    source: RenderedQuestion
    question: Markup
    answer: Markup
    details: Markup
    level_title: str
    topic_titles: tuple[str, ...]
    """Titles of all the question's topics, in taxonomy order."""
    topic: str = ""
    """The topic the question is filed under (see :func:`first_topic`), or ``""``."""
    topic_title: str = ""
    """The title of :attr:`topic`."""

    @property
    def id(self) -> str:
        """The question id."""
        return self.source.question.id


_IMG_SRC = re.compile(r'(<img\b[^>]*?\bsrc=")([^"]*)(")')


_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")


@dataclass
class PdfJob:
    """One PDF target being rendered: templates, formula drawing and reporting."""

    context: RenderContext
    target: str
    math: MathRenderer = field(init=False)
    refused: list[str] = field(default_factory=list)
    code_chars: dict[str, int] = field(default_factory=dict)
    """Characters of code that fit on one line, per field name (``answer``, ``details``):
    longer code lines are broken with a continuation mark (see :func:`wrap_code`)."""
    _env: Environment | None = None

    def __post_init__(self) -> None:
        self.math = MathRenderer(self.context.cache, embed="img")

    # -- questions -----------------------------------------------------------------------

    def active(self) -> list[RenderedQuestion]:
        """The selected questions that are not retired, in source order; one too long or
        too heavy to lay out in bounded time is left out of this PDF (W112)."""
        from exporter.text.limits import printable_problem

        chosen = []
        for rendered in self.context.questions:
            question = rendered.question
            if question.retired:
                continue
            why = printable_problem(question)
            if why:
                self.context.diagnostics.add(
                    question.where("answer"),
                    "W112",
                    f"question '{question.id}' left out of the {self.target} PDF: {why}",
                )
                continue
            chosen.append(rendered)
        return chosen

    def html(self, rendered: RenderedQuestion, name: str) -> Markup:
        """One field's HTML ready for the PDF: images made absolute, formulas drawn."""
        return self.fragment(getattr(rendered, f"{name}_html"), rendered.question, name)

    def fragment(self, text: str, question: Question, name: str) -> Markup:
        """Any HTML from a question's field ready for the PDF (images made absolute,
        formulas drawn); a formula that cannot be drawn is E011 at that field."""
        if not text:
            return Markup("")
        if "<img" in text:
            text = _IMG_SRC.sub(self._absolute_image, text)
        if "[sound:" in text:  # a sound cannot play on paper: a note mark instead
            text = SOUND_TAG.sub("♪", text)

        def failed(latex: str, why: str) -> None:
            self.context.diagnostics.add(
                question.where(name), "E011", f"formula cannot be drawn ({why}): {excerpt(latex)}"
            )

        return Markup(typeset(self.math.replace(text, failed), self.code_chars.get(name, 0)))

    def _absolute_image(self, match: re.Match[str]) -> str:
        """An image inside the source as a data URI: the PDF then names it by content,
        not by the folder the source happens to be checked out in."""
        src = unescape(match.group(2))
        if not src or _SCHEME.match(src) or src.startswith(("/", "\\")):
            return match.group(0)
        root = self.context.source.resolve()
        path = (root / unquote(src)).resolve()
        try:
            if root not in path.parents:
                return match.group(0)
            data = read_bytes(path, MAX_MEDIA_BYTES)  # regular files only, bounded
        except (OSError, ValueError):
            return match.group(0)
        kind = sniff_image(data)
        if kind is None:
            return match.group(0)
        mime = "image/jpeg" if kind == "jpg" else f"image/{kind}"
        uri = f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"
        return f"{match.group(1)}{uri}{match.group(3)}"

    def entries(self, details: bool) -> list[Entry]:
        """Every active question prepared for a template, in source order."""
        taxonomy = self.context.bank.taxonomy
        deck = self.context.bank.deck
        result = []
        for number, rendered in enumerate(self.active(), start=1):
            question = rendered.question
            titles = tuple(
                topic.title for t in question.topics if (topic := taxonomy.get(t)) is not None
            )
            filed = first_topic(question, taxonomy.ids)
            filed_under = taxonomy.get(filed)
            result.append(
                Entry(
                    number=number,
                    source=rendered,
                    question=Markup(first_words_together(self.html(rendered, "question"))),
                    answer=self.html(rendered, "answer"),
                    details=self.html(rendered, "details") if details else Markup(""),
                    level_title=deck.level_title(question.level),
                    topic_titles=titles,
                    topic=filed,
                    topic_title=filed_under.title if filed_under is not None else "",
                )
            )
        return result

    # -- templates -----------------------------------------------------------------------

    def environment(self) -> Environment:
        """The Jinja2 environment: the user's template folder first, then the built-ins."""
        if self._env is None:
            from jinja2 import StrictUndefined
            from jinja2.sandbox import ImmutableSandboxedEnvironment

            from exporter.render.pdf.templating import ConfinedLoader

            # sandboxed: a user template cannot reach Python internals
            # (``cycler.__init__.__globals__.os``) nor change the values it is given
            self._env = ImmutableSandboxedEnvironment(
                loader=ConfinedLoader(self.context.template_dirs("pdf")),
                autoescape=True,
                undefined=StrictUndefined,
                trim_blocks=False,
                lstrip_blocks=False,
            )
        return self._env

    def template_roots(self) -> list[Path]:
        """The template folders, resolved."""
        return [d.resolve() for d in self.context.template_dirs("pdf")]

    def fill(self, name: str, **values: Any) -> tuple[str, str] | None:
        """The template's HTML and the base URL for its relative links, or None after E019.

        Relative URLs in a template (a logo, a font) are resolved in the first template
        folder: the user's ``--templates`` folder when there is one.
        """
        from jinja2 import TemplateNotFound, TemplateSyntaxError

        from exporter.render.pdf.templating import TemplateRefused

        try:
            template: Template = self.environment().get_template(name)
            html = template.render({**self.common_values(), **values})
        except TemplateSyntaxError as exc:
            where = Location(exc.filename or name, exc.lineno or 1)
            self.context.diagnostics.add(where, "E019", f"template syntax error: {exc.message}")
            return None
        except TemplateRefused as exc:
            where = self._error_location(exc, name)
            self.context.diagnostics.add(where, "E019", str(exc.message))
            return None
        except TemplateNotFound as exc:
            self.context.diagnostics.add(
                self.context.bank.deck.location, "E019", f"template not found: {exc.name}"
            )
            return None
        except Exception as exc:  # a template's own runtime error: undefined name, bad filter…
            self.context.diagnostics.add(
                self._error_location(exc, name), "E019", f"template error: {exc}"
            )
            return None
        return html, self.template_roots()[0].as_uri() + "/"

    def _error_location(self, exc: BaseException, name: str) -> Location:
        """The template line a runtime error happened on (Jinja maps frames to templates)."""
        import traceback

        roots = self.template_roots()
        found: Location | None = None
        for frame, line in traceback.walk_tb(exc.__traceback__):
            path = Path(frame.f_code.co_filename)
            real = path.absolute()  # a user's --templates folder may be relative
            if any(real.is_relative_to(root) for root in roots):
                found = Location(display_path(real), line or 1)
        if found is not None:
            return found
        for folder in self.context.template_dirs("pdf"):
            if (folder / name).is_file():
                return Location(str(folder / name))
        return Location(name)

    def common_values(self) -> dict[str, Any]:
        """Values every template gets: deck, dates, metadata and the code colours."""
        deck = self.context.bank.deck
        when = self._when()
        titles = {
            "cheatsheet": "Cheat sheet",
            "guide": "Guide",
            "flashcards": "Flashcards",
            "quiz": "Quiz",
        }
        return {
            "deck": deck,
            "lang": "en",
            "title": f"{deck.title} — {titles.get(self.target, self.target)}",
            "description": deck.description,
            "generator": f"interview-deck-exporter {__version__}",
            "date": when.strftime("%Y-%m-%d") if when else "",
            "timestamp": self.timestamp(),
            "paper": self.paper(),
            "pygments_css": Markup(code_css()),
            "part": "content",
        }

    def _when(self) -> datetime | None:
        seconds = self.context.content_time()
        return datetime.fromtimestamp(seconds, timezone.utc) if seconds > 0 else None

    def timestamp(self) -> str:
        """The source's time (ISO, UTC) the PDFs carry as their dates, or ""."""
        when = self._when()
        return when.strftime("%Y-%m-%dT%H:%M:%SZ") if when else ""

    def paper(self) -> str:
        """The paper option, checked."""
        paper = str(self.context.option("paper", "a4")).lower()
        return paper if paper in PAPER_MM else "a4"

    # -- WeasyPrint ----------------------------------------------------------------------

    def layout(self, html: str, base_url: str) -> Any:
        """Lay the HTML out with WeasyPrint and the safe fetcher; returns the Document."""
        HTML = import_weasyprint().HTML

        roots = [self.context.source.resolve(), *self.template_roots()]
        fetcher = make_url_fetcher(roots, self.refused)
        return HTML(string=html, base_url=base_url, url_fetcher=fetcher).render()

    def laid_out_once(
        self,
        namespace: str,
        filled: tuple[str, str],
        identifier: bytes,
        check: Callable[[Any], bool] | None = None,
    ) -> bytes | None:
        """The PDF of one filled document, from the cache or laid out and cached by its
        HTML (unless a URL was refused: refusals are reported on every build). ``check``
        sees the laid-out document first; None when it refuses it."""
        cache = self.context.cache
        key = content_key(render_version(), *filled)
        known = cache.get_blob(namespace, key)
        if known is not None:
            return known
        refused = len(self.refused)
        document = self.layout(*filled)
        if check is not None and not check(document):
            return None
        data: bytes = document.write_pdf(pdf_identifier=identifier)
        if len(self.refused) == refused:
            cache.put_blob(namespace, key, data)
            cache.prune_blobs(namespace, {key}, limit=40)
        return data

    def report_refused(self) -> None:
        """One W107 per refused URL, at the question that references it when known."""
        seen: set[str] = set()
        for url in self.refused:
            if url in seen:
                continue
            seen.add(url)
            self.context.diagnostics.add(
                self.locate(url), "W107", f"{self.target}: reference refused: {url}"
            )
        self.refused.clear()

    def locate(self, url: str) -> Location:
        """Where a refused URL comes from: a question field, a user template or the deck."""
        needles = {url, unquote(url)}
        if url.startswith("file://"):
            needles.add(unquote(urlsplit(url).path))
        for rendered in self.context.questions:
            question = rendered.question
            for name in ("answer", "details", "question"):
                text = getattr(question, name)
                if text and any(needle in text for needle in needles):
                    return question.where(name)
        user = self.context.user_templates
        if user is not None and (user / "pdf").is_dir():
            for path in sorted((user / "pdf").iterdir()):
                try:
                    lines = path.read_text("utf-8").splitlines()
                except (OSError, UnicodeDecodeError):
                    continue
                for number, line in enumerate(lines, start=1):
                    for needle in needles:
                        col = line.find(needle)
                        if col >= 0:
                            return Location(str(path), number, col + 1)
        return self.context.bank.deck.location


_code_css_cache: list[str] = []


def code_css() -> str:
    """The Pygments colour rules for code blocks (``.highlight …``), built once."""
    if not _code_css_cache:
        css = markup.pygments_css("default", ".highlight")
        # Pygments also styles bare ``pre`` and line-number tables; keep only code colours.
        rules = [line for line in css.splitlines() if line.startswith(".highlight")]
        _code_css_cache.append("\n".join(rules))
    return _code_css_cache[0]


_TAG_OR_TEXT = re.compile(r"(<[^>]*>)")
_COMPOUND = re.compile(r"\(?\b[A-Za-z0-9]{1,10}(?:-[A-Za-z0-9]{1,10})+\b\)?")
_RAW = ("code", "pre", "svg", "style", "script")


def typeset(html: str, code_chars: int = 0) -> str:
    """Text fixes for print: short hyphenated compounds ("trade-offs", "(U-Net)") never
    break at their hyphen, and code lines become blocks that wrap with a hanging indent;
    with ``code_chars`` (characters per line of the block) a longer code line is broken
    by :func:`wrap_code`, each continuation after a mark. Text inside code, ``pre`` and
    drawings is left alone; tags are never touched."""
    if "-" not in html and "<pre" not in html:
        return html
    out: list[str] = []
    raw = 0
    for part in _TAG_OR_TEXT.split(html):
        if part.startswith("<"):
            name = re.match(r"</?([a-zA-Z0-9]+)", part)
            tag = name.group(1).lower() if name else ""
            if tag in _RAW and not part.endswith("/>"):
                raw += -1 if part.startswith("</") else 1
            out.append(part)
        elif raw <= 0 and "-" in part:
            out.append(_COMPOUND.sub(r'<span class="nobr">\g<0></span>', part))
        else:
            out.append(part)
    text = "".join(out)
    if "<pre" in text:
        text = _PRE_CODE.sub(lambda match: _code_lines(match, code_chars), text)
    return text


_PRE_CODE = re.compile(r"(<pre[^>]*>(?:<span></span>)?<code[^>]*>)(.*?)(</code></pre>)", re.DOTALL)
CODE_MARK = "\u21aa"
"""The continuation mark (↪) at the start of a wrapped code line's continuations."""
CODE_HANG = 2
"""Characters a continuation is indented by, past the line's own indentation, before its
mark (the ``ch`` units of ``.code-line`` and ``.code-cont`` in base.css)."""


def _code_lines(match: re.Match[str], chars: int = 0) -> str:
    """Each line of a code block as a block of its own (hanging indent when it wraps)."""
    body = match.group(2)
    if body.endswith("\n"):
        body = body[:-1]
    lines = "".join(
        f'<span class="code-line">{wrap_code(line, chars) if line else " "}</span>'
        for line in body.split("\n")
    )
    return f"{match.group(1)}{lines}{match.group(3)}"


_CODE_TOKEN = re.compile(r"<[^>]*>|&[#0-9A-Za-z]+;|[^<&]")
_BREAK_AFTER = set(" ,;([{=+*/:")


def wrap_code(line: str, chars: int) -> str:
    """One highlighted code line (HTML) broken to ``chars`` characters per printed line.

    Breaks fall after a space or punctuation; a word longer than a line is cut where the
    line ends. Each continuation is a ``code-cont`` block that starts at the line's own
    indentation plus :data:`CODE_HANG`, with the mark (``code-mark``) and a space before its
    text, and the tags open at the break are closed and opened again around it.
    """
    tokens = _CODE_TOKEN.findall(line)
    glyphs = [i for i, token in enumerate(tokens) if not token.startswith("<")]
    if chars <= 0 or len(glyphs) <= chars:
        return line
    plain = [unescape(tokens[i]) for i in glyphs]
    indent = len(plain) - len("".join(plain).lstrip(" "))
    room = chars - CODE_HANG - indent - 2  # continuations: hang, indentation, mark, space
    if room < 8:
        indent, room = 0, chars - CODE_HANG - 2
    cuts: list[int] = []  # glyph indices where a new printed line starts
    start, width = 0, chars
    while len(plain) - start > width:
        end = start + width
        best = next((i for i in range(end, start, -1) if plain[i - 1] in _BREAK_AFTER), 0)
        cut = best if best > start + width // 3 else end
        while cut < len(plain) and plain[cut] == " ":
            cut += 1  # spaces stay at the end of the line they follow
        if cut >= len(plain):
            break
        cuts.append(cut)
        start, width = cut, room
    if not cuts:
        return line
    at = {glyphs[cut] for cut in cuts}
    prefix = " " * indent
    out: list[str] = []
    opened: list[str] = []
    any_cont = False
    for index, token in enumerate(tokens):
        if index in at:
            closing = "</span>" * (len(opened) + (len(out) > 0 and any_cont))
            any_cont = True
            out.append(
                f'{closing}<span class="code-cont">{prefix}<span class="code-mark">'
                f"{CODE_MARK}</span> {''.join(opened)}"
            )
        if token.startswith("</"):
            if opened:
                opened.pop()
        elif token.startswith("<") and not token.endswith("/>"):
            opened.append(token)
        out.append(token)
    return "".join(out) + "</span>"


def code_chars(width_mm: float, font_pt: float) -> int:
    """How many characters of DejaVu Sans Mono (0.602 em wide) set at ``font_pt`` fit in
    ``width_mm``, one left for rounding."""
    return max(10, int(width_mm * 72 / 25.4 / (0.6021 * font_pt)) - 1)


_LEAD = re.compile(r"^((?:<[^>]+>)*)([^<\s]{1,12}) (<code>[^<\s]+</code>[^<\s]*|[^<\s]+)")


def first_words_together(html: str) -> str:
    """A heading whose first two words never part: no lone "What" at a line end.

    The first word (at most 12 characters) and the second (a word or a one-word code span)
    are joined by a no-break space inside ``<span class="glued">``, the second word in a
    span of its own. The first word begins the line, so the pair only ever parts when it
    is wider than the line: then the CSS of ``.glued`` breaks the second word instead
    (hyphenated, or anywhere in code), so the pair stays inside its column.
    """
    # str(): a Markup subject would escape the tags of the replacement
    glued = '\\1<span class="glued">\\2\u00a0<span>\\3</span></span>'
    return _LEAD.sub(glued, str(html), count=1)


def plain_length(html: str) -> int:
    """How many characters of visible text an HTML fragment has, spaces collapsed."""
    return len(" ".join(markup.plain_text(html).split()))


def ordered_entries(entries: list[Entry], context: RenderContext) -> list[Entry]:
    """Entries by level (deck order), then first topic (taxonomy order), then source order."""
    levels = {level: i for i, level in enumerate(context.bank.deck.levels)}
    topics = {topic: i for i, topic in enumerate(context.bank.taxonomy.ids)}

    def key(entry: Entry) -> tuple[int, int, int]:
        level = levels.get(entry.source.question.level, len(levels))
        topic = topics.get(entry.topic, len(topics))
        return (level, topic, entry.number)

    return sorted(entries, key=key)


def first_topic(question: Question, topic_ids: Sequence[str]) -> str:
    """The topic a question is filed under: its first explicit tag, else its first topic.

    Explicit ``tags:`` are in the author's order, so the first one is the topic the author
    meant; auto-tagged topics come in taxonomy order and only decide when there is none.
    An empty string when the question has no topic at all.
    """
    for tag in (*question.tags, *question.topics):
        if tag in topic_ids:
            return tag
    return ""


def anchor_slug(*parts: str) -> str:
    """An HTML anchor id made of ``parts``: ``("level", "Basic")`` → ``level-basic``."""
    return "-".join(re.sub(r"[^a-z0-9]+", "-", part.lower()).strip("-") for part in parts)


def last_marked(pages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The pages with only the final one marked ``last`` (no page break after it)."""
    marked = [dict(page, last=False) for page in pages]
    if marked:
        marked[-1]["last"] = True
    return marked


def render_version() -> str:
    """What a cached PDF part (flashcard sheet, segment, frame) depends on besides its
    HTML: this tool's version, the code that lays parts out and the WeasyPrint and pypdf
    releases (read from package metadata: no import)."""
    from importlib.metadata import PackageNotFoundError, version

    releases = []
    for package in ("weasyprint", "pypdf"):
        try:
            releases.append(version(package))
        except PackageNotFoundError:  # pragma: no cover - a broken install
            releases.append("?")
    code = [path.read_text("utf-8") for path in sorted(Path(__file__).parent.glob("*.py"))]
    return content_key(__version__, *releases, *code)

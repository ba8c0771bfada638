"""The printable PDFs: cheat sheet, flashcards and quiz, laid out by WeasyPrint.

Each renderer fills a Jinja2 template (``templates/pdf``, overridable with ``--templates``)
with the questions' already-safe HTML, lets WeasyPrint lay it out, and hands the PDF bytes
to ``context.outputs``; nothing is written here. WeasyPrint is imported only inside the
functions that use it, so other targets never pay for it.

Shared rules:

* Formulas are drawn as SVG by ziamath (:mod:`exporter.mathsvg`), cached by content.
* WeasyPrint fetches resources only through :func:`make_url_fetcher`: files under the
  source folder and the template folders, and ``data:`` URIs. Anything else (web URLs,
  ``file:///etc/passwd``…) is refused and reported as W107.
* Output is byte-for-byte reproducible: no clock (dates come from the content time of the
  lock file), a fixed PDF identifier, DejaVu fonts and stable ordering everywhere.
"""

from __future__ import annotations

import base64
import hashlib
import math
import mimetypes
import random
import re
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from html import unescape
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

from markupsafe import Markup

from exporter import __version__, markup
from exporter.cache import content_key
from exporter.diagnostics import Location
from exporter.mathsvg import MathRenderer
from exporter.notes import MAX_MEDIA_BYTES, sniff_image

if TYPE_CHECKING:
    from jinja2 import Environment, Template

    from exporter.build import RenderContext, RenderedQuestion
    from exporter.model import Question

PAPER_MM: dict[str, tuple[float, float]] = {"a4": (210.0, 297.0), "letter": (215.9, 279.4)}
"""Portrait paper sizes in millimetres (width, height)."""
GRIDS: dict[int, tuple[int, int]] = {4: (2, 2), 6: (2, 3), 8: (2, 4), 10: (2, 5)}
"""Flashcards per sheet → (columns, rows)."""
SHEET_MARGIN_MM = 10.0
"""Blank border of a flashcard sheet; cut marks are drawn in it, never on a card."""
FRONT_SIZES = (11.5, 11.0, 10.5, 10.0, 9.5, 9.0, 8.5, 8.0, 7.5, 7.0)
"""Font sizes (pt) tried for a question on a card front, largest first."""
BACK_SIZES = (10.0, 9.5, 9.0, 8.5, 8.0, 7.5, 7.0, 6.5)
"""Font sizes (pt) tried for an answer on a card back; 6.5 pt is the smallest printed."""
SHORT_ENTRY_CHARS = 320
"""A cheat-sheet entry with less visible text than this is never split across columns."""
CALIBRATION_RANGE_MM = 10
"""The calibration rulers read ±this many millimetres."""


# ---------------------------------------------------------------------------------------
# Importing WeasyPrint


def import_weasyprint() -> ModuleType:
    """WeasyPrint, imported a quarter faster on Linux.

    WeasyPrint opens pango, harfbuzz and fontconfig trying several names per library, most
    meant for other systems. For each name that fails, cffi asks
    ``ctypes.util.find_library``, which spawns ``ldconfig``, ``gcc`` and ``ld``: about 50
    processes and 0.16 s of the 0.6 s import. During the import that lookup answers
    "not found" at once, so the names that load directly (``libpango-1.0.so.0``…) are
    used; if that ever fails, the import is retried the normal way.
    """
    loaded = sys.modules.get("weasyprint")
    if loaded is not None:  # imported before (by us, or plainly by a caller)
        _cache_array_types(sys.modules["weasyprint.text.ffi"].ffi)
        return loaded
    import ctypes.util

    original = ctypes.util.find_library
    try:
        if sys.platform.startswith("linux"):
            ctypes.util.find_library = lambda name: None
        try:
            import weasyprint
        except OSError:
            ctypes.util.find_library = original
            for name in [m for m in sys.modules if m.split(".")[0] == "weasyprint"]:
                del sys.modules[name]
            import weasyprint  # noqa: F401
    finally:
        ctypes.util.find_library = original
    _cache_array_types(sys.modules["weasyprint.text.ffi"].ffi)
    return sys.modules["weasyprint"]


_SIZED_ARRAY = re.compile(r"^([A-Za-z_][A-Za-z0-9_ ]*)\[(\d+)\]$")


def _cache_array_types(ffi: Any) -> None:
    """Make WeasyPrint's ``ffi.new("T[n]", items)`` calls reuse one parsed C type.

    Subsetting a font asks cffi for ``hb_codepoint_t[<count>]`` arrays; cffi parses every
    new type string with pycparser (about 12 ms each), and the count differs every time:
    0.4 s of writing the ten sheets of the real bank's flashcards. ``T[]`` with the same
    items is the same array, and its type is parsed once.
    """
    if getattr(ffi, "_exporter_arrays", False):
        return
    new = ffi.new

    def new_array(cdecl: Any, init: Any = None) -> Any:
        if isinstance(cdecl, str) and init is not None and hasattr(init, "__len__"):
            match = _SIZED_ARRAY.match(cdecl)
            if match is not None and int(match.group(2)) == len(init):
                return new(f"{match.group(1)}[]", init)
        return new(cdecl, init)

    ffi.new = new_array
    ffi._exporter_arrays = True


# ---------------------------------------------------------------------------------------
# Safe resource fetching


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


# ---------------------------------------------------------------------------------------
# Shared machinery


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
    _env: Environment | None = None

    def __post_init__(self) -> None:
        self.math = MathRenderer(self.context.project.cache, embed="img")

    # -- questions -----------------------------------------------------------------------

    def active(self) -> list[RenderedQuestion]:
        """The selected questions that are not retired, in source order."""
        return [r for r in self.context.questions if not r.question.retired]

    def html(self, rendered: RenderedQuestion, name: str) -> Markup:
        """One field's HTML ready for the PDF: images made absolute, formulas drawn."""
        text: str = getattr(rendered, f"{name}_html")
        if not text:
            return Markup("")
        if "<img" in text:
            text = _IMG_SRC.sub(self._absolute_image, text)
        question = rendered.question

        def failed(latex: str, why: str) -> None:
            self.context.diagnostics.add(
                question.where(name), "E011", f"formula cannot be drawn ({why}): {latex}"
            )

        return Markup(self.math.replace(text, failed))

    def _absolute_image(self, match: re.Match[str]) -> str:
        """An image inside the source as a data URI: the PDF then names it by content,
        not by the folder the source happens to be checked out in."""
        src = unescape(match.group(2))
        if not src or _SCHEME.match(src) or src.startswith(("/", "\\")):
            return match.group(0)
        root = self.context.project.source.resolve()
        path = (root / unquote(src)).resolve()
        try:
            if root not in path.parents or path.stat().st_size > MAX_MEDIA_BYTES:
                return match.group(0)
            data = path.read_bytes()
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
                    question=self.html(rendered, "question"),
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
            from jinja2 import Environment, FileSystemLoader, StrictUndefined

            dirs = [str(d) for d in self.context.template_dirs("pdf")]
            self._env = Environment(
                loader=FileSystemLoader(dirs),
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

        try:
            template: Template = self.environment().get_template(name)
            html = template.render({**self.common_values(), **values})
        except TemplateSyntaxError as exc:
            where = Location(exc.filename or name, exc.lineno or 1)
            self.context.diagnostics.add(where, "E019", f"template syntax error: {exc.message}")
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
            if path.is_absolute() and any(path.is_relative_to(root) for root in roots):
                found = Location(str(path), line or 1)
        if found is not None:
            return found
        for folder in self.context.template_dirs("pdf"):
            if (folder / name).is_file():
                return Location(str(folder / name))
        return Location(name)

    def common_values(self) -> dict[str, Any]:
        """Values every template gets: deck, dates, metadata and the code colours."""
        deck = self.context.bank.deck
        seconds = self.context.content_time()
        when = datetime.fromtimestamp(seconds, timezone.utc) if seconds > 0 else None
        titles = {"cheatsheet": "Cheat sheet", "flashcards": "Flashcards", "quiz": "Quiz"}
        return {
            "deck": deck,
            "lang": "en",
            "title": f"{deck.title} — {titles.get(self.target, self.target)}",
            "description": deck.description,
            "generator": f"interview-deck-exporter {__version__}",
            "date": when.strftime("%Y-%m-%d") if when else "",
            "timestamp": when.strftime("%Y-%m-%dT%H:%M:%SZ") if when else "",
            "paper": self.paper(),
            "pygments_css": Markup(_code_css()),
            "part": "content",
        }

    def paper(self) -> str:
        """The paper option, checked."""
        paper = str(self.context.option("paper", "a4")).lower()
        return paper if paper in PAPER_MM else "a4"

    # -- WeasyPrint ----------------------------------------------------------------------

    def layout(self, html: str, base_url: str) -> Any:
        """Lay the HTML out with WeasyPrint and the safe fetcher; returns the Document."""
        HTML = import_weasyprint().HTML

        roots = [self.context.project.source.resolve(), *self.template_roots()]
        fetcher = make_url_fetcher(roots, self.refused)
        return HTML(string=html, base_url=base_url, url_fetcher=fetcher).render()

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
        user = self.context.request.templates
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


def _code_css() -> str:
    if not _code_css_cache:
        css = markup.pygments_css("default", ".highlight")
        # Pygments also styles bare ``pre`` and line-number tables; keep only code colours.
        rules = [line for line in css.splitlines() if line.startswith(".highlight")]
        _code_css_cache.append("\n".join(rules))
    return _code_css_cache[0]


def _plain_length(html: str) -> int:
    return len(" ".join(markup.plain_text(html).split()))


def _ordered(entries: list[Entry], context: RenderContext) -> list[Entry]:
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


def _slug(*parts: str) -> str:
    return "-".join(re.sub(r"[^a-z0-9]+", "-", part.lower()).strip("-") for part in parts)


# ---------------------------------------------------------------------------------------
# Cheat sheet


def render_cheatsheet(context: RenderContext) -> None:
    """``build/<deck>-cheatsheet.pdf``: every question and answer, dense, with contents."""
    job = PdfJob(context, "cheatsheet")
    details = bool(context.option("details", False))
    group_by = str(context.option("group_by", "level"))
    orientation = str(context.option("orientation", "portrait"))
    columns = max(1, min(4, int(context.option("columns", 2))))
    entries = job.entries(details)
    sections = cheatsheet_sections(entries, context, group_by)
    values = {
        "sections": sections,
        "toc_columns": toc_columns(sections),
        "count": len(entries),
        "orientation": orientation if orientation in ("portrait", "landscape") else "portrait",
        "columns": columns,
        "group_by": group_by,
        "details": details,
    }
    from exporter.render.paged import render_paged

    segments = cheatsheet_segments(sections)
    render_paged(
        job, "cheatsheet.html.j2", values, segments, context.output_path("-cheatsheet.pdf")
    )


SEGMENT_MIN_ENTRIES = 20
"""Entries a cheat-sheet segment holds at least: each segment starts a new page, so a small
bank stays one flowing document."""
SEGMENT_MAX_ENTRIES = 150
"""Entries after which a long section is cut (at a topic boundary when there is one), so an
edit re-lays out a few pages and the two cores share the work."""


def cheatsheet_segments(
    sections: list[dict[str, Any]],
    low: int = SEGMENT_MIN_ENTRIES,
    high: int = SEGMENT_MAX_ENTRIES,
) -> list[dict[str, Any]]:
    """The cheat sheet cut into segments that each start a new page.

    Cuts fall at section starts; a section longer than ``high`` entries is also cut at
    topic boundaries (inside a topic only when the topic alone is longer). Consecutive
    pieces are joined until a segment holds ``low`` entries. A segment that starts inside
    a section or topic names it (``continued``, ``continued_topic``) for the running head.
    """
    pieces: list[dict[str, Any]] = []
    for section in sections:
        runs: list[list[tuple[dict[str, Any], list[Any], bool]]] = [[]]
        size = 0
        for topic in section["topics"]:
            entries = topic["entries"]
            if size and size + len(entries) > high:
                runs.append([])
                size = 0
            for start in range(0, len(entries), high):
                if start:
                    runs.append([])
                    size = 0
                chunk = entries[start : start + high]
                runs[-1].append((topic, chunk, start > 0))
                size += len(chunk)
        for index, run in enumerate(runs):
            if not run:
                continue
            topics = [
                {
                    "id": "" if cont else topic["id"],
                    "title": "" if cont else topic["title"],
                    "entries": chunk,
                }
                for topic, chunk, cont in run
            ]
            first_topic, _, topic_cont = run[0]
            pieces.append(
                {
                    "section": {
                        "id": section["id"] if index == 0 else "",
                        "title": section["title"] if index == 0 else "",
                        "topics": topics,
                    },
                    "continued": "" if index == 0 else section["title"],
                    "continued_topic": first_topic["title"] if topic_cont else "",
                    "size": sum(len(t["entries"]) for t in topics),
                }
            )
    segments: list[dict[str, Any]] = []
    for piece in pieces:
        if segments and segments[-1]["size"] < low:
            segments[-1]["sections"].append(piece["section"])
            segments[-1]["size"] += piece["size"]
            continue
        segments.append(
            {
                "sections": [piece["section"]],
                "continued": piece["continued"],
                "continued_topic": piece["continued_topic"],
                "size": piece["size"],
            }
        )
    if len(segments) > 1 and segments[-1]["size"] < low:
        last = segments.pop()
        segments[-1]["sections"].extend(last["sections"])
        segments[-1]["size"] += last["size"]
    return segments or [{"sections": [], "continued": "", "continued_topic": "", "size": 0}]


def cheatsheet_sections(
    entries: list[Entry], context: RenderContext, group_by: str
) -> list[dict[str, Any]]:
    """Sections (levels or topics) holding topics holding entries, each question once."""
    taxonomy = context.bank.taxonomy
    deck = context.bank.deck
    sections: list[dict[str, Any]] = []
    if group_by == "tag":
        levels = {level: i for i, level in enumerate(deck.levels)}
        by_topic: dict[str, list[Entry]] = {}
        for entry in entries:
            by_topic.setdefault(entry.topic, []).append(entry)
        for topic_id in [*taxonomy.ids, ""]:
            group = by_topic.get(topic_id)
            if not group:
                continue
            group.sort(key=lambda e: (levels.get(e.source.question.level, 99), e.number))
            topic = taxonomy.get(topic_id)
            title = topic.title if topic is not None else "Other questions"
            items = [_sheet_entry(e, badge=e.level_title) for e in group]
            sections.append(
                {
                    "id": _slug("topic", topic_id or "other"),
                    "title": title,
                    "topics": [{"id": "", "title": "", "entries": items}],
                }
            )
        return sections
    for level in deck.levels:
        in_level = [e for e in _ordered(entries, context) if e.source.question.level == level]
        if not in_level:
            continue
        topics: list[dict[str, Any]] = []
        for entry in in_level:
            topic_id = entry.topic
            if not topics or topics[-1]["key"] != topic_id:
                topic = taxonomy.get(topic_id)
                topics.append(
                    {
                        "key": topic_id,
                        "id": _slug("level", level, topic_id or "other"),
                        "title": topic.title if topic is not None else "Other questions",
                        "entries": [],
                    }
                )
            topics[-1]["entries"].append(_sheet_entry(entry))
        sections.append(
            {"id": _slug("level", level), "title": deck.level_title(level), "topics": topics}
        )
    return sections


def toc_columns(sections: list[dict[str, Any]], count: int = 3) -> list[list[dict[str, Any]]]:
    """The table of contents split into ``count`` columns of about the same length.

    Each section (with its topics) gets a column of its own when there are at most
    ``count`` sections and none is much longer than the rest; otherwise the lines are
    cut into equal runs, never right after a section title.
    """
    groups: list[list[dict[str, Any]]] = []
    for section in sections:
        group = [{"kind": "section", "id": section["id"], "title": section["title"]}]
        group += [
            {"kind": "topic", "id": topic["id"], "title": topic["title"]}
            for topic in section["topics"]
            if topic["title"]
        ]
        groups.append(group)
    lines = [line for group in groups for line in group]
    target = max(1, math.ceil(len(lines) / count))
    if len(groups) <= count and all(len(group) <= 2 * target for group in groups):
        columns = groups
    else:
        columns = [[]]
        for line in lines:
            if len(columns[-1]) >= target and len(columns) < count:
                if columns[-1][-1]["kind"] == "section":
                    columns.append([columns[-1].pop()])
                else:
                    columns.append([])
            columns[-1].append(line)
    for column in columns:
        for index, line in enumerate(column):
            line["later"] = index > 0 and line["kind"] == "section"
    return [column for column in columns if column]


def _sheet_entry(entry: Entry, badge: str = "") -> dict[str, Any]:
    visible = _plain_length(entry.answer) + _plain_length(entry.details)
    has_blocks = "<table" in entry.details or "<pre" in entry.details
    return {
        "id": entry.id,
        "question": entry.question,
        "answer": entry.answer,
        "details": entry.details,
        "badge": badge,
        "short": visible < SHORT_ENTRY_CHARS and not has_blocks,
    }


# ---------------------------------------------------------------------------------------
# Flashcards


@dataclass(frozen=True)
class Box:
    """A rectangle on a sheet, in millimetres from the top-left corner of the page."""

    x: float
    y: float
    w: float
    h: float


@dataclass(frozen=True)
class CardGrid:
    """Where the cards of one sheet go, front and back.

    Duplex geometry (``flip``):

    * ``long`` — the printer turns the sheet over its long edge (the usual "book" mode for
      portrait pages). A point at ``(x, y)`` on the front is behind ``(W − x, y)`` on the
      back page, so the card in column ``c`` of the front is in column ``cols − 1 − c`` of
      the same row on the back. Back pages are drawn upright.
    * ``short`` — the printer turns the sheet over its short edge ("calendar" mode), so
      ``(x, y)`` on the front is behind ``(x, H − y)`` on the back page: the card keeps its
      column and takes row ``rows − 1 − r``. Drawn upright, its answer would then read the
      right way up only when the card is flipped top-over-bottom; each back card is
      therefore also rotated 180° in place, so the printed cards come out exactly as in
      ``long`` mode: turn a cut card over sideways, like a book page, and its answer reads
      upright, behind its own question.

    ``offset_x``/``offset_y`` move everything on back pages right/down (in the back page's
    own coordinates, as seen in a PDF viewer) to compensate a printer's duplex shift; the
    calibration sheet measures it.
    """

    paper: str
    per_page: int
    flip: str = "long"
    offset_x: float = 0.0
    offset_y: float = 0.0

    @property
    def page_size(self) -> tuple[float, float]:
        """Page width and height (mm)."""
        return PAPER_MM[self.paper]

    @property
    def shape(self) -> tuple[int, int]:
        """Columns and rows of cards."""
        return GRIDS[self.per_page]

    @property
    def card_size(self) -> tuple[float, float]:
        """Width and height of every card (mm): the sheet inside its margin, no gutters."""
        width, height = self.page_size
        cols, rows = self.shape
        return (width - 2 * SHEET_MARGIN_MM) / cols, (height - 2 * SHEET_MARGIN_MM) / rows

    def slot(self, col: int, row: int, back: bool = False) -> Box:
        """The box of grid cell (col, row); on back pages shifted by the offsets."""
        card_w, card_h = self.card_size
        x = SHEET_MARGIN_MM + col * card_w
        y = SHEET_MARGIN_MM + row * card_h
        if back:
            x += self.offset_x
            y += self.offset_y
        return Box(x, y, card_w, card_h)

    def front(self, index: int) -> Box:
        """Card ``index`` (0-based on its sheet) on the front page."""
        cols, _ = self.shape
        return self.slot(index % cols, index // cols)

    def back(self, index: int) -> Box:
        """Card ``index`` on the back page: the position behind its front after duplexing."""
        cols, rows = self.shape
        col, row = index % cols, index // cols
        if self.flip == "short":
            return self.slot(col, rows - 1 - row, back=True)
        return self.slot(cols - 1 - col, row, back=True)

    @property
    def rotate_backs(self) -> bool:
        """Whether back cards are drawn upside down (short-edge flipping)."""
        return self.flip == "short"

    def cut_marks(self, back: bool = False) -> list[Box]:
        """Thin solid lines in the margin continuing every card edge (never on a card)."""
        width, height = self.page_size
        cols, rows = self.shape
        card_w, card_h = self.card_size
        dx, dy = (self.offset_x, self.offset_y) if back else (0.0, 0.0)
        line = 0.2  # mm, about 0.57 pt
        gap, length = 2.0, SHEET_MARGIN_MM - 4.0
        marks = []
        for col in range(cols + 1):
            x = SHEET_MARGIN_MM + col * card_w - line / 2 + dx
            marks.append(Box(x, SHEET_MARGIN_MM - gap - length + dy, line, length))
            marks.append(Box(x, height - SHEET_MARGIN_MM + gap + dy, line, length))
        for row in range(rows + 1):
            y = SHEET_MARGIN_MM + row * card_h - line / 2 + dy
            marks.append(Box(SHEET_MARGIN_MM - gap - length + dx, y, length, line))
            marks.append(Box(width - SHEET_MARGIN_MM + gap + dx, y, length, line))
        return marks


def card_grid(context: RenderContext, paper: str) -> CardGrid:
    """The grid the options ask for."""
    try:
        per_page = int(context.option("per_page", 8))
    except (TypeError, ValueError):
        per_page = 8
    flip = str(context.option("flip", "long"))
    return CardGrid(
        paper=paper,
        per_page=per_page if per_page in GRIDS else 8,
        flip=flip if flip in ("long", "short") else "long",
        offset_x=float(context.option("offset_x", 0.0)),
        offset_y=float(context.option("offset_y", 0.0)),
    )


@dataclass
class Card:
    """One flashcard: its entry and the font size chosen for each side."""

    number: int
    entry: Entry
    sizes: dict[str, int] = field(default_factory=lambda: {"front": 0, "back": 0})
    """Index into :data:`FRONT_SIZES` / :data:`BACK_SIZES` per side."""

    def size(self, side: str) -> float:
        """The font size (pt) of a side."""
        sizes = FRONT_SIZES if side == "front" else BACK_SIZES
        return sizes[self.sizes[side]]


FLASHCARD_BATCH = 12
"""Sheets (front and back pages) a worker lays out in one WeasyPrint document: large enough
to share its fixed costs, small enough to keep memory flat at 10,000 cards."""
PAGES_NAMESPACE = "flashcard-sheets"
"""Cache namespace of the rendered sheets: PDF blobs and what was found fitting them."""


@dataclass
class Sheet:
    """One sheet of paper: a front page and the back page printed behind it.

    The flashcard PDF is rendered, cached and merged sheet by sheet: each sheet's PDF
    depends only on its own HTML, so an edit re-renders just the sheet holding the card.
    """

    cards: list[Card]
    calibration: bool = False
    key: str = ""
    """Cache key: the sheet's filled HTML and everything else its PDF depends on."""

    def pages(self, grid: CardGrid) -> list[dict[str, Any]]:
        """The template's two page dicts (front, back) at the cards' current sizes."""
        if self.calibration:
            return calibration_sheets(grid)
        fronts = [
            _card_item(card, "front", grid.front(i), f"f{card.number}")
            for i, card in enumerate(self.cards)
        ]
        backs = [
            _card_item(card, "back", grid.back(i), f"b{card.number}", rotated=grid.rotate_backs)
            for i, card in enumerate(self.cards)
        ]
        return [
            _sheet("front", fronts, grid.cut_marks()),
            _sheet("back", backs, grid.cut_marks(back=True)),
        ]


@dataclass
class SheetResult:
    """What rendering one sheet produced: its PDF and the fitting found for its cards."""

    pdf: bytes
    sizes: dict[str, int]
    """Card side key (``f12``, ``b12``) → index of the font size it was printed at."""
    overflow: list[str]
    """Card side keys that do not fit even at the smallest size (W106)."""
    refused: list[str]
    """URLs the fetcher refused while laying the sheet out (W107)."""

    def to_json(self, blob: str) -> dict[str, Any]:
        """The cacheable facts; the PDF itself is the blob named ``blob``."""
        return {"sizes": self.sizes, "overflow": self.overflow, "pdf": blob}


def render_flashcards(context: RenderContext) -> None:
    """``build/<deck>-flashcards.pdf``: question fronts and answer backs for duplex printing.

    Text starts at the largest size of :data:`FRONT_SIZES` (questions) and
    :data:`BACK_SIZES` (answers), or at the size found for the same text last time. Each
    sheet (front and back page) is a unit: its PDF is cached by the sheet's HTML, so a
    rebuild renders only sheets whose cards changed, in parallel worker processes
    (:func:`_render_sheets`), and the sheets are merged into one file
    (:func:`merge_pdfs`). Text too big for its card is shrunk (:func:`_shrink`); text that
    does not fit even at the smallest size is reported (W106), never cut silently.
    """
    job = PdfJob(context, "flashcards")
    grid = card_grid(context, job.paper())
    entries = _ordered(job.entries(details=False), context)
    cards = [Card(number, entry) for number, entry in enumerate(entries, start=1)]
    calibration = bool(context.option("calibration", False))
    if not cards and not calibration:
        context.state.setdefault("messages", []).append(
            "flashcards: no questions selected, nothing to print"
        )
        return
    cache = context.project.cache
    fit_keys = _fit_keys(context, grid, cards)
    by_number = {card.number: card for card in cards}
    for (number, side), key in fit_keys.items():
        known = cache.get("card-fit", key)
        if isinstance(known, int) and 0 <= known < len(
            FRONT_SIZES if side == "front" else BACK_SIZES
        ):
            by_number[number].sizes[side] = known
    sheets = [Sheet([], calibration=True)] if calibration else []
    sheets += [
        Sheet(cards[start : start + grid.per_page]) for start in range(0, len(cards), grid.per_page)
    ]
    width, height = grid.page_size
    version = render_version()

    def sheet_key(sheet: Sheet) -> str | None:
        filled = job.fill(
            "flashcards.html.j2",
            sheets=_last(sheet.pages(grid)),
            page_w=width,
            page_h=height,
            timestamp="",
        )
        return None if filled is None else content_key(version, *filled)

    for sheet in sheets:
        filled_key = sheet_key(sheet)
        if filled_key is None:
            return
        sheet.key = filled_key
    results: dict[str, SheetResult] = {}
    blobs: dict[str, str] = {}
    for sheet in sheets:
        known = cache.get(PAGES_NAMESPACE, sheet.key)
        if not isinstance(known, dict):
            continue
        pdf = cache.get_blob(PAGES_NAMESPACE, str(known.get("pdf", sheet.key)))
        if pdf is not None:
            results[sheet.key] = SheetResult(pdf, dict(known["sizes"]), list(known["overflow"]), [])
            blobs[sheet.key] = str(known.get("pdf", sheet.key))
    missing = [sheet for sheet in sheets if sheet.key not in results]
    if missing:
        fresh = _render_sheets(job, grid, missing)
        for sheet, result in zip(missing, fresh, strict=True):
            results[sheet.key] = result
            job.refused.extend(result.refused)
            if result.refused:  # refusals are reported on every build, never cached
                continue
            cache.put_blob(PAGES_NAMESPACE, sheet.key, result.pdf)
            blobs[sheet.key] = sheet.key
            cache.put(PAGES_NAMESPACE, sheet.key, result.to_json(sheet.key))
            # the next build starts this sheet at the sizes found now: same pages
            for card in sheet.cards:
                for side in ("front", "back"):
                    card.sizes[side] = result.sizes[f"{side[0]}{card.number}"]
            final = sheet_key(sheet)
            if final is not None and final != sheet.key:
                cache.put(PAGES_NAMESPACE, final, result.to_json(sheet.key))
    cache.prune_blobs(PAGES_NAMESPACE, set(blobs.values()), limit=4000)
    for sheet in sheets:
        result = results[sheet.key]
        for card in sheet.cards:
            for side in ("front", "back"):
                index = result.sizes.get(f"{side[0]}{card.number}")
                if index is not None:
                    card.sizes[side] = index
        for key in result.overflow:
            card = by_number[int(key[1:])]
            front = key[0] == "f"
            name = "question" if front else "answer"
            smallest = (FRONT_SIZES if front else BACK_SIZES)[-1]
            context.diagnostics.add(
                card.entry.source.question.where(name),
                "W106",
                f"the {name} does not fit flashcard {card.number} "
                f"({card.entry.id}) even at {smallest:g} pt; shorten it",
            )
    for (number, side), key in fit_keys.items():
        cache.put("card-fit", key, by_number[number].sizes[side])
    values = job.common_values()
    data = merge_pdfs(
        [results[sheet.key].pdf for sheet in sheets],
        identifier=content_key(context.bank.deck.id, "flashcards"),
        timestamp=values["timestamp"],
    )
    context.outputs.add(context.output_path("-flashcards.pdf"), data, owner="flashcards")
    job.report_refused()


def _last(pages: list[dict[str, Any]]) -> list[dict[str, Any]]:
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
    code = [(Path(__file__).parent / name).read_text("utf-8") for name in ("pdf.py", "paged.py")]
    return content_key(__version__, *releases, *code)


def _render_sheets(job: PdfJob, grid: CardGrid, sheets: list[Sheet]) -> list[SheetResult]:
    """Render sheets to one PDF each, split across worker processes when worth it."""
    from exporter.parallel import fork_map, split, worker_count

    workers = worker_count(len(sheets))
    chunks = split(sheets, workers)
    return [
        result for part in fork_map(lambda s: _render_run(job, grid, s), chunks) for result in part
    ]


def _render_run(job: PdfJob, grid: CardGrid, sheets: list[Sheet]) -> list[SheetResult]:
    """One worker's share: batches of :data:`FLASHCARD_BATCH` sheets per layout."""
    results: list[SheetResult] = []
    for start in range(0, len(sheets), FLASHCARD_BATCH):
        results.extend(_render_batch(job, grid, sheets[start : start + FLASHCARD_BATCH]))
    return results


def _render_batch(job: PdfJob, grid: CardGrid, sheets: list[Sheet]) -> list[SheetResult]:
    """Lay some sheets out together, fit their cards, and write each sheet's PDF.

    Every sheet is exactly two pages with the built-in template, so a sheet's pages are
    the same whether laid out alone or with others, and its PDF (written from just those
    pages) is too. A template that breaks that rule gets each sheet laid out alone.
    """
    width, height = grid.page_size
    refused_before = len(job.refused)

    def lay_out(pages: list[dict[str, Any]]) -> Any:
        filled = job.fill(
            "flashcards.html.j2", sheets=_last(pages), page_w=width, page_h=height, timestamp=""
        )
        if filled is None:
            raise RuntimeError("the flashcard template failed while rendering")
        return job.layout(*filled)

    def pages_of(batch: list[Sheet]) -> list[dict[str, Any]]:
        return [page for sheet in batch for page in sheet.pages(grid)]

    if len(sheets) > 1:
        document = lay_out(pages_of(sheets))
        if len(document.pages) != 2 * len(sheets):
            return [result for sheet in sheets for result in _render_batch(job, grid, [sheet])]
    else:
        document = lay_out(pages_of(sheets))
    cards = [card for sheet in sheets for card in sheet.cards]
    overflowing = measure_cards(document)
    overflow: set[str] = set()
    if overflowing:
        _shrink(cards, grid, overflowing, lay_out)
        changed = {int(key[1:]) for key in overflowing}
        redo = [
            i for i, sheet in enumerate(sheets) if any(c.number in changed for c in sheet.cards)
        ]
        partial = lay_out(pages_of([sheets[i] for i in redo]))
        pages = list(document.pages)
        if len(partial.pages) == 2 * len(redo) and len(pages) == 2 * len(sheets):
            for n, i in enumerate(redo):
                pages[2 * i : 2 * i + 2] = partial.pages[2 * n : 2 * n + 2]
            document = document.copy(pages)
        else:
            document = lay_out(pages_of(sheets))
        overflow = set(measure_cards(document))
    refused = job.refused[refused_before:]
    del job.refused[refused_before:]
    single = len(sheets) == 1
    results = []
    for index, sheet in enumerate(sheets):
        part = document if single else document.copy(document.pages[2 * index : 2 * index + 2])
        keys = [f"{side}{card.number}" for card in sheet.cards for side in ("f", "b")]
        sizes = {}
        for card in sheet.cards:
            sizes[f"f{card.number}"] = card.sizes["front"]
            sizes[f"b{card.number}"] = card.sizes["back"]
        results.append(
            SheetResult(
                part.write_pdf(pdf_identifier=b"sheet"),
                sizes,
                sorted((k for k in keys if k in overflow), key=lambda k: (int(k[1:]), k[0])),
                list(refused),
            )
        )
    return results


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


def _fit_keys(
    context: RenderContext, grid: CardGrid, cards: list[Card]
) -> dict[tuple[int, str], str]:
    """Cache keys for the font size each card side was found to fit at: the side's HTML,
    the grid and every PDF template file, so a size is reused only where the same layout
    would find it again (and a rebuild after one edit needs one layout, not three)."""
    templates = content_key(
        *(
            f"{path.name}:{path.read_text('utf-8', errors='replace')}"
            for folder in context.template_dirs("pdf")
            for path in sorted(folder.glob("*"))
            if path.is_file()
        )
    )
    base = (templates, grid.paper, str(grid.per_page))
    keys = {}
    for card in cards:
        keys[(card.number, "front")] = content_key(*base, "front", str(card.entry.question))
        keys[(card.number, "back")] = content_key(*base, "back", str(card.entry.answer))
    return keys


def _shrink(
    cards: list[Card],
    grid: CardGrid,
    overflowing: dict[str, float],
    lay_out: Callable[[list[dict[str, Any]]], Any],
) -> None:
    """Give every overflowing card side the largest font size that fits its card.

    Text height grows about with the square of the font size (taller lines, and more of
    them), so a side ``r`` times too big should fit at ``size / √r``. The listed size just
    above that estimate and the two just below it are laid out together in one measuring
    document and the largest that fits is kept; a side that fits at none of them tries
    all the smaller sizes in a second round. A side that fits at no size keeps the
    smallest.
    """
    by_number = {card.number: card for card in cards}
    pending: dict[str, list[int]] = {}
    for key, ratio in overflowing.items():
        card = by_number[int(key[1:])]
        side = "front" if key[0] == "f" else "back"
        sizes = FRONT_SIZES if side == "front" else BACK_SIZES
        smaller = list(range(card.sizes[side] + 1, len(sizes)))
        estimate = card.size(side) / math.sqrt(ratio)
        above = [i for i in smaller if sizes[i] > estimate][-1:]
        likely = above + [i for i in smaller if sizes[i] <= estimate][:2] or smaller[-1:]
        pending[key] = likely
        card.sizes[side] = smaller[-1] if smaller else card.sizes[side]
    for _round in range(2):
        tries = {key: indexes for key, indexes in pending.items() if indexes}
        if not tries:
            break
        measured = lay_out(measuring_pages(cards, grid, tries))
        too_big = measure_cards(measured)
        retry: dict[str, list[int]] = {}
        for key, indexes in tries.items():
            card = by_number[int(key[1:])]
            side = "front" if key[0] == "f" else "back"
            fitting = [i for i in indexes if f"{key}-{i}" not in too_big]
            if fitting:
                card.sizes[side] = fitting[0]
            else:
                count = len(FRONT_SIZES if side == "front" else BACK_SIZES)
                retry[key] = list(range(indexes[-1] + 1, count))
        pending = retry


def measuring_pages(
    cards: list[Card], grid: CardGrid, measuring: dict[str, list[int]]
) -> list[dict[str, Any]]:
    """Front pages holding copies of some card sides at the sizes to try.

    ``measuring`` maps a card side key such as ``b12`` to the size indexes to try; each
    copy gets the key ``b12-3`` so :func:`measure_cards` reports it on its own.
    """
    by_number = {card.number: card for card in cards}
    copies = []
    for key, indexes in sorted(measuring.items()):
        side = "front" if key[0] == "f" else "back"
        card = by_number[int(key[1:])]
        for index in indexes:
            copies.append((f"{key}-{index}", side, card, index))
    pages = []
    for start in range(0, len(copies), grid.per_page):
        items = [
            _card_item(card, side, grid.front(i), key, size_index=index, rotated=False)
            for i, (key, side, card, index) in enumerate(copies[start : start + grid.per_page])
        ]
        pages.append(_sheet("front", items, []))
    return pages


def _sheet(side: str, cards: list[dict[str, Any]], marks: Iterable[Box]) -> dict[str, Any]:
    return {
        "side": side,
        "last": False,
        "cards": cards,
        "marks": [{"x": m.x, "y": m.y, "w": m.w, "h": m.h, "light": False} for m in marks],
        "rings": [],
        "labels": [],
        "texts": [],
    }


def _card_item(
    card: Card,
    side: str,
    box: Box,
    key: str,
    size_index: int | None = None,
    rotated: bool = False,
) -> dict[str, Any]:
    entry = card.entry
    sizes = FRONT_SIZES if side == "front" else BACK_SIZES
    size = sizes[size_index] if size_index is not None else card.size(side)
    front = side == "front"
    return {
        "number": card.number,
        "id": entry.id,
        "key": key,
        "side": side,
        "x": box.x,
        "y": box.y,
        "w": box.w,
        "h": box.h,
        "size": f"{size:g}",
        "rotated": rotated,
        "label": entry.level_title if front else "",
        "foot": entry.topic_title if front else "",
        "content": entry.question if front else entry.answer,
    }


def calibration_sheets(grid: CardGrid) -> list[dict[str, Any]]:
    """A front and a back page for measuring how far the printer shifts back pages.

    The back page has a large crosshair that a perfect duplex printer puts exactly behind
    the centre of the front page. The front page has a horizontal ruler below the centre
    and a vertical ruler to its right. Held against a light, the crosshair's vertical line
    crosses the horizontal ruler at the correction to add to ``--offset-x`` and its
    horizontal line crosses the vertical ruler at the correction to add to ``--offset-y``.
    The ruler labels already include the mirroring of duplex printing: a shift of the back
    page seen from the front is reversed horizontally after a long-edge flip and vertically
    after a short-edge flip.
    """
    width, height = grid.page_size
    cx, cy = width / 2, height / 2
    sx, sy = (1, -1) if grid.flip == "long" else (-1, 1)
    span, gap, line = CALIBRATION_RANGE_MM, 30.0, 0.15
    front = _sheet("front", [], [])
    marks, labels = front["marks"], front["labels"]

    def mark(x: float, y: float, w: float, h: float, light: bool = False) -> None:
        marks.append({"x": x, "y": y, "w": w, "h": h, "light": light})

    mark(cx - 4, cy - line / 2, 8, line, light=True)  # where the crosshair should be
    mark(cx - line / 2, cy - 4, line, 8, light=True)
    ruler_y, ruler_x = cy + gap, cx + gap
    mark(cx - span - 1, ruler_y - line / 2, 2 * span + 2, line)
    mark(ruler_x - line / 2, cy - span - 1, line, 2 * span + 2)
    for mm in range(-span, span + 1):
        size = 4.0 if mm % 5 == 0 else 2.0
        mark(cx + mm - line / 2, ruler_y - size, line, size)  # ticks above the ruler
        mark(ruler_x, cy + mm - line / 2, size, line)  # ticks right of the ruler
        if mm % 5 == 0:
            labels.append(
                {"x": cx + mm, "y": ruler_y + 1.2, "text": f"{sx * mm:+d}" if mm else "0"}
            )
            labels.append(
                {"x": ruler_x + 7, "y": cy + mm - 0.9, "text": f"{sy * mm:+d}" if mm else "0"}
            )
    edge = "long" if grid.flip == "long" else "short"
    text = Markup(
        "<h2>Duplex calibration</h2>"
        "<p>Print this sheet double-sided, flipping on the <b>{edge} edge</b>, exactly like the "
        "cards, and hold it against a light: the large crosshair printed on the back shows "
        "through.</p>"
        "<p>Where its <b>vertical</b> line crosses the horizontal ruler is the number of "
        "millimetres to add to <code>--offset-x</code>; where its <b>horizontal</b> line "
        "crosses the vertical ruler is the number to add to <code>--offset-y</code>. This sheet "
        "was printed with <code>--offset-x&#160;{ox:g}</code> and "
        "<code>--offset-y&#160;{oy:g}</code>. Rebuild and print again until both lines read "
        "0.</p>"
    ).format(edge=edge, ox=grid.offset_x, oy=grid.offset_y)
    front["texts"].append({"x": 20.0, "y": 20.0, "w": width - 40.0, "h": 60.0, "content": text})
    front["texts"].append(
        {
            "x": cx - 30,
            "y": ruler_y + 5,
            "w": 60.0,
            "h": 6.0,
            "content": Markup(
                '<p class="caption" style="text-align:center">add to --offset-x (mm)</p>'
            ),
        }
    )
    front["texts"].append(
        {
            "x": ruler_x + 12,
            "y": cy - 2,
            "w": 40.0,
            "h": 6.0,
            "content": Markup('<p class="caption">add to --offset-y (mm)</p>'),
        }
    )
    back = _sheet("back", [], [])
    bx, by = cx + grid.offset_x, cy + grid.offset_y
    reach = gap + 15
    back["marks"].extend(
        [
            {"x": bx - reach, "y": by - 0.15, "w": 2 * reach, "h": 0.3, "light": False},
            {"x": bx - 0.15, "y": by - reach, "w": 0.3, "h": 2 * reach, "light": False},
        ]
    )
    back["rings"].append({"x": bx - 4, "y": by - 4, "w": 8, "h": 8})
    back["texts"].append(
        {
            "x": bx - 60,
            "y": by - reach - 10,
            "w": 120.0,
            "h": 8.0,
            "content": Markup('<p style="text-align:center">Back of the calibration sheet</p>'),
        }
    )
    return [front, back]


def measure_cards(document: Any) -> dict[str, float]:
    """The ``.fit`` boxes too big for their card body: key → how many times too big."""
    result: dict[str, float] = {}
    for page in document.pages:
        _find_overflow(page._page_box, None, result)
    return result


def _find_overflow(box: Any, parent: Any, result: dict[str, float]) -> None:
    element = getattr(box, "element", None)
    key = element.get("data-fit") if element is not None else None
    if key and parent is not None and getattr(box, "element_tag", "") == "div":
        ratio = _overflow(box, parent)
        if ratio > 1:
            result[key] = ratio
        return
    for child in getattr(box, "children", ()):
        _find_overflow(child, box, result)


def _overflow(fit: Any, body: Any) -> float:
    """How many times too big a ``.fit`` box is for its card body; ≤ 1 when it fits.

    Height is compared with the body's (a centred front is moved into place by a
    transform, so only the height counts); any line, word or table sticking out sideways
    counts by its width. 0.2 px of slack absorbs rounding.
    """
    slack = 0.2
    left = body.content_box_x()
    right = left + body.width
    if fit.style["position"] == "absolute":
        used = fit.margin_height()
    else:
        used = fit.position_y + fit.margin_height() - body.content_box_y()
    ratio = used / max(body.height, 1.0)
    if used <= body.height + slack:
        ratio = min(ratio, 1.0)
    stack = list(getattr(fit, "children", ()))
    while stack:
        box = stack.pop()
        if str(getattr(box, "element_tag", "")).endswith("::marker"):
            continue  # list numbers hang in the list's padding, left of the text
        x = getattr(box, "position_x", None)
        width = getattr(box, "width", None)
        if isinstance(x, (int, float)) and isinstance(width, (int, float)):
            extent = x + box.margin_width()
            if x < left - slack or extent > right + slack:
                wide = (max(extent, right) - min(x, left)) / max(body.width, 1.0)
                ratio = max(ratio, wide, 1.01)
        stack.extend(getattr(box, "children", ()))
    return float(ratio)


# ---------------------------------------------------------------------------------------
# Quiz


def render_quiz(context: RenderContext) -> None:
    """``build/<deck>-quiz.pdf``: shuffled, numbered questions with ruled space, then the key.

    The order is ``random.Random(seed).shuffle`` of the active questions in source order, so
    the same seed always gives the same quiz.
    """
    job = PdfJob(context, "quiz")
    seed = int(context.option("seed", 0))
    entries = job.entries(details=False)
    order = quiz_order([e.id for e in entries], seed)
    by_id = {e.id: e for e in entries}
    items = []
    for number, question_id in enumerate(order, start=1):
        entry = by_id[question_id]
        words = len(markup.plain_text(entry.answer).split())
        items.append(
            {
                "number": number,
                "id": entry.id,
                "question": entry.question,
                "answer": entry.answer,
                "lines": max(3, min(7, math.ceil(words / 12))),
                "short": _plain_length(entry.answer) < SHORT_ENTRY_CHARS,
            }
        )
    values = {"items": items, "seed": seed, "count": len(items)}
    from exporter.render.paged import render_paged

    render_paged(
        job, "quiz.html.j2", values, quiz_segments(items), context.output_path("-quiz.pdf")
    )


def quiz_segments(
    items: list[dict[str, Any]], high: int = SEGMENT_MAX_ENTRIES
) -> list[dict[str, Any]]:
    """The quiz cut into segments that each start a new page: the questions, then the
    answer key (which always starts a new page), each in runs of at most ``high``."""
    segments: list[dict[str, Any]] = [
        {"questions": items[start : start + high], "answers": [], "key_title": False}
        for start in range(0, len(items), high)
    ] or [{"questions": [], "answers": [], "key_title": False}]
    segments += [
        {"questions": [], "answers": items[start : start + high], "key_title": start == 0}
        for start in range(0, len(items), high)
    ]
    return segments


def quiz_order(ids: Sequence[str], seed: int) -> list[str]:
    """The quiz order of question ids: a shuffle fixed by ``seed``."""
    order = list(ids)
    random.Random(seed).shuffle(order)
    return order

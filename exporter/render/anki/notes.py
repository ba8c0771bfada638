"""What each Anki note holds: sanitized field HTML, tags, media, and a content hash.

Pure and light (no genanki): the lock file hashes exactly these values, so a note's
``mod`` changes exactly when what Anki would store changes.
"""

from __future__ import annotations

import hashlib
import html
import os
import posixpath
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from exporter.core.cache import Cache, content_key
from exporter.core.diagnostics import Diagnostics, Location
from exporter.core.files import FileRefused, read_bytes
from exporter.core.identity import NOTE_FIELDS, TEMPLATE_NAME
from exporter.core.model import Deck, Question
from exporter.text.media import (
    MAX_MEDIA_BYTES,
    SOUND_TAG,
    is_audio_link,
    sniff_audio,
    sniff_image,
    svg_problem,
)

_ALLOWED_TAGS = {
    "a", "b", "blockquote", "br", "code", "del", "div", "em", "h1", "h2", "h3", "h4",
    "h5", "h6", "hr", "i", "img", "li", "ol", "p", "pre", "s", "span", "strong", "sub",
    "sup", "table", "tbody", "td", "th", "thead", "tr", "ul",
}  # fmt: skip
_ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt"},
    "span": {"class"},
    "div": {"class"},
    "pre": {"class"},
    "code": {"class"},
    "ol": {"start"},
    "th": {"style"},
    "td": {"style"},
}
_TAG_SIGNATURE = re.compile(r"<([a-zA-Z][a-zA-Z0-9]*)([^>]*)>")
_ATTR_NAME = re.compile(r"([a-zA-Z_:][-a-zA-Z0-9_:.]*)\s*=")
_IMG_SRC = re.compile(r'(<img\b[^>]*\bsrc=")([^"]*)(")')
_AUDIO_LINK = re.compile(r'<a\b[^>]*\bhref="([^"]*)"[^>]*>(.*?)</a>', re.DOTALL)
"""A Markdown link in rendered HTML; to a sound file it becomes Anki's ``[sound:…]``."""
_FILE_NAME_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")


def sanitize(fragment: str) -> str:
    """Keep only allow-listed tags, attributes and URL schemes (no scripts or handlers)."""
    return str(_cleaner().clean(fragment))


@lru_cache(maxsize=1)
def _cleaner() -> Any:
    """One nh3 sanitizer for the run: ``nh3.clean`` would convert the allow-lists to Rust
    on every call, three times the cost of cleaning a field."""
    import nh3

    return nh3.Cleaner(
        tags=_ALLOWED_TAGS,
        clean_content_tags={"script", "style", "iframe", "object", "embed", "template"},
        attributes=_ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        filter_style_properties={"text-align"},
        link_rel="noopener noreferrer",
        strip_comments=True,
    )


def _signature(fragment: str) -> list[str]:
    found = []
    for match in _TAG_SIGNATURE.finditer(fragment):
        attrs = sorted(name.lower() for name in _ATTR_NAME.findall(match.group(2)))
        found.append(match.group(1).lower() + "".join(f" {a}" for a in attrs if a != "rel"))
    return found


def removed_by_sanitizer(before: str, after: str) -> list[str]:
    """Tags or attributes present before sanitizing and missing after (for W105)."""
    remaining = list(_signature(after))
    lost = []
    for item in _signature(before):
        if item in remaining:
            remaining.remove(item)
        else:
            lost.append(item)
    return lost


@dataclass(frozen=True)
class Media:
    """An image bundled with the deck under a content-hashed name."""

    name: str
    data: bytes


@dataclass(frozen=True)
class NoteContent:
    """Everything Anki stores for one note, and the hash the lock file records."""

    question: Question
    fields: tuple[str, ...]
    tags: tuple[str, ...]
    media: tuple[Media, ...]
    digest: str

    def parts(self) -> dict[str, str]:
        """A short hash per part (question, answer, details, tags, source, media), so a
        change can be named precisely."""
        values = {
            "question": [self.fields[0]],
            "answer": [self.fields[1]],
            "details": [self.fields[2]],
            "tags": list(self.tags),
            "source": list(self.fields[3:]),
            "media": [m.name for m in self.media],
        }
        return {name: digest_of(items, (), ())[:6] for name, items in values.items()}


def note_tags(question: Question, deck: Deck) -> tuple[str, ...]:
    """Hierarchical Anki tags: ``<prefix>::level::<level>``, ``<prefix>::topic::<id>``."""
    prefix = deck.tag_prefix
    tags = [f"{prefix}::level::{question.level}"]
    tags += [f"{prefix}::topic::{topic}" for topic in question.topics]
    if question.retired:
        tags.append(f"{prefix}::retired")
    return tuple(sorted(tags))


def study_order(deck: Deck, questions: Iterable[Question]) -> list[Question]:
    """The order a new learner meets the questions: level by level in ``deck.yaml``'s
    order, then the bank's order (question files in name order, then position in file).
    ``questions`` are given in the bank's order."""
    rank = {level: i for i, level in enumerate(deck.levels)}
    return sorted(questions, key=lambda q: rank.get(q.level, len(rank)))


def card_positions(
    deck: Deck, questions: Iterable[Question], recorded: Mapping[str, int]
) -> dict[str, int]:
    """Each question's study position: the ``due`` of its new card in Anki.

    ``recorded`` holds the positions given before (the lock's, removed notes' included);
    they are kept as they are, so a published card is never renumbered. A question without
    one gets the next free position after every recorded one, in :func:`study_order`, so a
    question added later comes after the existing questions of its level.
    """
    positions: dict[str, int] = {}
    following = max(recorded.values(), default=0) + 1
    for question in study_order(deck, questions):
        known = recorded.get(question.id, 0)
        if known > 0:
            positions[question.id] = known
        else:
            positions[question.id] = following
            following += 1
    return positions


def source_label(question: Question) -> str:
    """The Source field: the question's file and seed numbers (no line numbers, so
    editing one question never changes another note)."""
    name = posixpath.basename(question.location.path.replace("\\", "/"))
    # a file name may hold any character but / and NUL: control characters (U+001F is
    # Anki's field separator) are shown escaped, never stored
    label = _FILE_NAME_CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", name)
    if question.seed:
        label += " · seed " + ", ".join(str(n) for n in question.seed)
    return html.escape(label)


def digest_of(fields: Iterable[str], tags: Iterable[str], media: Iterable[Media]) -> str:
    """A stable hash of a note's stored content."""
    h = hashlib.sha256()
    for value in (*fields, "\0tags", *tags, "\0media", *(m.name for m in media)):
        h.update(value.encode("utf-8"))
        h.update(b"\x1f")
    return h.hexdigest()[:20]


def build_note(
    question: Question,
    htmls: tuple[str, str, str],
    deck: Deck,
    source_root: Path,
    diagnostics: Diagnostics,
    cache: Cache | None = None,
) -> NoteContent:
    """The sanitized fields, tags and media of one question (sanitizing cached by content)."""
    media: dict[str, Media] = {}

    def bundle(match: re.Match[str]) -> str:
        src = unquote(html.unescape(match.group(2)))
        item = _media_for(src, source_root, deck.id)
        if item is None:
            return match.group(0)
        media[item.name] = item
        return match.group(1) + html.escape(item.name) + match.group(3)

    def bundle_sound(src: str) -> str | None:
        item = _media_for(unquote(html.unescape(src)), source_root, deck.id, sound=True)
        if item is None:
            return None
        media[item.name] = item
        return f"[sound:{item.name}]"

    def sound_tag(match: re.Match[str]) -> str:
        return bundle_sound(match.group(1).strip()) or match.group(0)

    def sound_link(match: re.Match[str]) -> str:
        if not is_audio_link(html.unescape(match.group(1))):
            return match.group(0)
        tag = bundle_sound(match.group(1))
        return match.group(0) if tag is None else f"{match.group(2)} {tag}"

    fields = []
    for name, fragment in zip(("question", "answer", "details"), htmls, strict=True):
        with_media = _IMG_SRC.sub(bundle, fragment)
        if "[sound:" in with_media:
            with_media = SOUND_TAG.sub(sound_tag, with_media)
        if "<a " in with_media:
            with_media = _AUDIO_LINK.sub(sound_link, with_media)
        clean, lost = _sanitized(with_media, cache)
        if lost:
            diagnostics.add(
                question.where(name),
                "W105",
                f"sanitizer removed {', '.join(sorted(set(lost)))} from the {name}",
            )
        fields.append(clean.strip())
    fields += [html.escape(question.id), source_label(question)]
    tags = note_tags(question, deck)
    ordered_media = tuple(media[name] for name in sorted(media))
    return NoteContent(
        question, tuple(fields), tags, ordered_media, digest_of(fields, tags, ordered_media)
    )


def _sanitized(fragment: str, cache: Cache | None) -> tuple[str, list[str]]:
    if not fragment:
        return "", []
    key = content_key(fragment)
    if cache is not None:
        hit = cache.get("sanitized", key)
        if hit is not None:
            return str(hit[0]), list(hit[1])
    clean = sanitize(fragment)
    lost = [] if clean == fragment else removed_by_sanitizer(fragment, clean)
    if cache is not None:
        cache.put("sanitized", key, [clean, lost])
    return clean, lost


def _media_for(src: str, source_root: Path, deck_id: str, sound: bool = False) -> Media | None:
    """The bundled form of an image (or sound) the validator accepted; None for anything
    else (an SVG with outside references included)."""
    path = (source_root / posixpath.normpath(src)).resolve()
    try:
        if source_root.resolve() not in path.parents:
            return None
        data = read_bytes(path, MAX_MEDIA_BYTES)  # regular files only, bounded
    except OSError:
        return None
    kind = sniff_audio(data) if sound else sniff_image(data)
    if kind is None or (kind == "svg" and svg_problem(data)):
        return None
    digest = hashlib.sha256(data).hexdigest()[:16]
    return Media(f"{deck_id}-{digest}.{kind}", data)


NOTETYPE_FILES = ("front.html", "back.html", "style.css")


@dataclass(frozen=True)
class NoteType:
    """The note type's name, card templates and CSS, and a hash of them for the lock."""

    name: str
    front: str
    back: str
    css: str
    digest: str


def notetype_name(deck: Deck) -> str:
    """The note type's name in Anki, e.g. ``Interview Q&A (deep-learning)``."""
    return f"Interview Q&A ({deck.id})"


class NoteTypeError(Exception):
    """The card templates are unusable; carries one (location, message) per problem."""

    def __init__(self, problems: list[tuple[Location, str]]) -> None:
        super().__init__("; ".join(message for _, message in problems))
        self.problems = problems


_MUSTACHE = re.compile(r"\{\{(.*?)\}\}", re.S)
_SPECIAL_FIELDS = {"Tags", "Type", "Deck", "Subdeck", "Card", "CardFlag"}


def template_problems(text: str, display: str, back: bool) -> list[tuple[Location, str]]:
    """Placeholders Anki could not fill: unknown fields (with a hint), unbalanced
    ``{{#…}}``/``{{/…}}`` sections, and ``{{`` never closed."""
    import difflib

    known = set(NOTE_FIELDS) | _SPECIAL_FIELDS | ({"FrontSide"} if back else set())
    problems: list[tuple[Location, str]] = []
    sections: list[tuple[str, Location]] = []

    def where(offset: int) -> Location:
        line = text.count("\n", 0, offset) + 1
        return Location(display, line, offset - (text.rfind("\n", 0, offset) + 1) + 1)

    for match in _MUSTACHE.finditer(text):
        body = match.group(1).strip()
        loc = where(match.start())
        if body[:1] in "#^":
            sections.append((body[1:].strip(), loc))
            name = body[1:].strip()
        elif body[:1] == "/":
            name = body[1:].strip()
            if not sections or sections[-1][0] != name:
                problems.append((loc, f"{{{{/{name}}}}} closes no open {{{{#{name}}}}}"))
                continue
            sections.pop()
            continue
        else:
            name = body.rsplit(":", 1)[-1].strip()
            if body.startswith(("cloze:", "c1:")) or not name:
                continue
        if name not in known:
            close = difflib.get_close_matches(name, sorted(known), n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            problems.append((loc, f"unknown field {{{{{body}}}}}{hint}"))
    stray = _MUSTACHE.sub(lambda m: " " * len(m.group(0)), text).find("{{")
    if stray >= 0:
        problems.append((where(stray), "'{{' is never closed with '}}'"))
    for name, loc in sections:
        problems.append((loc, f"{{{{#{name}}}}} is never closed"))
    return problems


CODE_STYLES = (("xcode", "#f6f8fa"), ("github-dark", "#1e1e1e"))
"""The Pygments styles of code blocks by day and by night, and the code-block background
each is drawn on (``--code-bg`` in ``style.css``): every token colour is adjusted to reach
4.5:1 against it."""
NIGHT = (".nightMode", ".night_mode")
"""The classes Anki puts on the card (or an ancestor) in night mode."""


def generated_css(deck: Deck) -> str:
    """What the note type's CSS gets beyond ``style.css``: code token colours for day and
    night that meet WCAG AA (4.5:1), and the rule that shows the "retired" banner on notes
    tagged ``<prefix>::retired`` (the template puts the tags in ``data-tags``)."""
    from exporter.text.markup import readable_pygments_css

    (day, day_bg), (night, night_bg) = CODE_STYLES
    night_selectors = [f".card{n} .highlight" for n in NIGHT] + [
        f"{n} .card .highlight" for n in NIGHT
    ]
    retired = f"{deck.tag_prefix}::retired"
    return (
        f"\n/* Generated: code colours (Pygments '{day}' by day, '{night}' by night, each token"
        " at 4.5:1 or more) and the retired banner. */\n"
        + readable_pygments_css(day, [".card .highlight"], day_bg)
        # night: first undo every day colour (a token the night style leaves alone takes
        # the text colour), then the night style's own
        + ", ".join(f"{s} [class]" for s in night_selectors)
        + " { color: inherit; background-color: transparent; font-weight: inherit;"
        " font-style: inherit }\n"
        + readable_pygments_css(night, night_selectors, night_bg)
        + f'.qa-card[data-tags~="{retired}"] .qa-retired {{ display: block; }}\n'
    )


_ACTIVE_HTML = re.compile(
    r"<\s*(?P<tag>script|iframe|frame|object|embed|applet|base|form|meta|link|svg|math)\b"
    r"|<[^>]*?[\s/\"'](?P<handler>on[a-z]+)\s*="
    r"|(?P<scheme>(?:java|vb)script\s*:|data\s*:\s*(?!image/(?:png|jpeg|gif|webp)[;,]))",
    re.IGNORECASE,
)
"""What makes a card template run code or load things: script-capable elements, event
handler attributes, ``javascript:``/``vbscript:`` and non-image ``data:`` URLs."""
_ACTIVE_CSS = re.compile(
    r"(?P<rule>@import|expression\s*\(|-moz-binding|behavior\s*:|(?:java|vb)script\s*:)"
    r"|(?P<remote>url\(\s*[\"']?\s*(?:[a-z][a-z0-9+.-]*:|//))",
    re.IGNORECASE,
)
"""What makes card CSS run code or fetch from elsewhere (fonts and images must be local)."""
MAX_TEMPLATE_BYTES = 1024 * 1024
"""A larger card template or style sheet is refused."""


def active_content(text: str, display: str, css: bool = False) -> list[tuple[Location, str]]:
    """Script, event handlers, ``javascript:`` URLs (and in CSS imports, expressions and
    remote URLs) in a user's card template: each a located problem (E019). Character
    references are decoded first, so ``&#106;avascript:`` is found too."""

    def where(offset: int) -> Location:
        line = text.count("\n", 0, offset) + 1
        return Location(display, line, offset - (text.rfind("\n", 0, offset) + 1) + 1)

    pattern = _ACTIVE_CSS if css else _ACTIVE_HTML
    problems: list[tuple[Location, str]] = []
    for match in pattern.finditer(text):
        group, found = next((k, v) for k, v in match.groupdict().items() if v)
        what = f"<{found.lower()}>" if group == "tag" else f"'{found.strip()}'"
        start = match.start() if group == "tag" else match.start(group)
        problems.append((where(start), f"{what} is not allowed in a card template"))
    decoded = html.unescape(text)
    if not css and len(pattern.findall(decoded)) > len(problems):
        problems.append((Location(display), "an encoded script, handler or URL is not allowed"))
    return problems


def load_notetype(deck: Deck, template_dirs: Iterable[Path]) -> NoteType:
    """Read ``front.html``, ``back.html`` and ``style.css``, each from the first folder
    that has it (the user's override folder first); raises :class:`NoteTypeError` when a
    template cannot be read or refers to fields the note type does not have."""
    from exporter.core.diagnostics import display_path

    dirs = list(template_dirs)
    texts = []
    problems: list[tuple[Location, str]] = []
    for name in NOTETYPE_FILES:
        for folder in dirs:
            path = folder / name
            if os.path.lexists(path):
                shown = display_path(path)
                text = ""
                try:
                    resolved, root = path.resolve(), folder.resolve()
                    if root not in resolved.parents:
                        raise FileRefused("a link that leads outside its template folder")
                    text = read_bytes(resolved, MAX_TEMPLATE_BYTES).decode("utf-8")
                except (OSError, RuntimeError, UnicodeDecodeError) as exc:
                    reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
                    problems.append((Location(shown), f"cannot read template: {reason}"))
                if name.endswith(".html"):
                    problems += template_problems(text, shown, back=name == "back.html")
                problems += active_content(text, shown, css=name.endswith(".css"))
                texts.append(text)
                break
        else:
            problems.append((Location(display_path(dirs[0])), f"no {name} in any template folder"))
            texts.append("")
    if problems:
        raise NoteTypeError(problems)
    front, back, css = texts
    css += generated_css(deck)
    digest = digest_of((notetype_name(deck), *NOTE_FIELDS, TEMPLATE_NAME, front, back, css), (), ())
    return NoteType(notetype_name(deck), front, back, css, digest)

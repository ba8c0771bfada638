"""Reads source/ YAML into located trees: every key and value keeps its line and column.

The YAML is parsed with PyYAML's event stream (the C parser when available) and composed
here, iteratively, so that a hostile file cannot exhaust the C stack (deep nesting), memory
(alias bombs) or construct Python objects (custom tags): each of those becomes a located
diagnostic instead. Duplicate mapping keys, which PyYAML silently collapses, are reported.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from exporter.core.cache import Cache, content_key
from exporter.core.diagnostics import Diagnostic, Diagnostics, Location, display_path
from exporter.core.files import FileRefused, read_bytes
from exporter.text.limits import MAX_QUESTIONS

try:  # the C parser is ~10x faster; fall back to the pure-Python one
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]

MAX_FILE_BYTES = 20 * 1024 * 1024
"""A source file larger than this is refused unread (E017)."""
MAX_DEPTH = 64
"""Deeper nesting than this is refused (E016); real banks need four levels."""
MAX_EXPANDED_NODES = 300_000
"""A file of more values than this is refused: E016 when aliases expand to it (a 'billion
laughs' guard), E024 when it is simply that large (about 30,000 questions; the bank
limit is lower, see exporter.text.limits)."""

_SCALAR_TAGS = {
    "tag:yaml.org,2002:str",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:null",
    "tag:yaml.org,2002:timestamp",
}
_MAP_TAG = "tag:yaml.org,2002:map"
_STR_TAG = "tag:yaml.org,2002:str"
_SEQ_TAG = "tag:yaml.org,2002:seq"


class YamlRefused(Exception):
    """A structural limit was hit while composing; carries the location."""

    def __init__(self, location: Location, message: str, code: str = "E016") -> None:
        super().__init__(message)
        self.location = location
        self.message = message
        self.code = code


@dataclass(eq=False, slots=True)
class Node:
    """A located YAML value.

    ``value`` is a Python scalar for ``kind == "scalar"``, a list of nodes for ``"seq"``, and
    a ``dict`` of key to :class:`Entry` for ``"map"``.
    """

    kind: str
    loc: Location
    value: Any
    style: str | None = None
    size: int = 1
    content_loc: Location | None = None
    """For block scalars (``|``/``>``): where the text itself starts."""

    def text_location(self, line_offset: int = 0) -> Location:
        """The location of line ``line_offset`` (0-based) of a string value's text."""
        if self.content_loc is not None:
            base = self.content_loc
            return Location(base.path, base.line + line_offset, base.col)
        return self.loc


@dataclass(eq=False, slots=True)
class Entry:
    """One mapping entry: where its key stands, and its value."""

    key_loc: Location
    node: Node


@dataclass
class SourceFile:
    """A parsed YAML file (``root`` is None when it could not be parsed)."""

    path: Path
    display: str
    root: Node | None
    items: int = 0
    """Top-level block list items (``- `` at the start of a line), counted before parsing."""


@dataclass
class RawSource:
    """The source folder as located YAML trees, before any schema is applied."""

    root: Path
    deck: SourceFile | None
    taxonomy: SourceFile | None
    questions: list[SourceFile] = field(default_factory=list)


def read_text(path: Path, display: str, diagnostics: Diagnostics) -> str | None:
    """Read a UTF-8 file (BOM allowed, CRLF normalised) or report why it cannot be read."""
    try:
        # stat before open (a FIFO or a device is never opened), and the limit counted
        # in bytes actually read (a link to /dev/zero has a size of 0)
        data = read_bytes(path, MAX_FILE_BYTES)
    except FileRefused as exc:
        diagnostics.add(Location(display), "E017", f"file {exc.strerror}")
        return None
    except OSError as exc:
        diagnostics.add(Location(display), "E017", f"cannot read file: {exc.strerror or exc}")
        return None
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = data[: exc.start]
        line = before.count(b"\n") + 1
        # Everything before the bad byte is valid UTF-8: count its characters, not bytes.
        col = len(before[before.rfind(b"\n") + 1 :].decode("utf-8")) + 1
        diagnostics.add(
            Location(display, line, col),
            "E001",
            f"invalid UTF-8 byte 0x{data[exc.start]:02x}; files must be UTF-8",
        )
        return None
    return text.replace("\r\n", "\n").replace("\r", "\n")


_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
"""C0 control characters (but tab, line feed and carriage return) and DEL: never in a
text. U+001F is Anki's field separator: one in a field splits the note, and Anki then
refuses the whole deck."""
_CONTROL_NAMES = {
    "\x00": "NUL",
    "\x1b": "escape",
    "\x1f": "Anki's field separator",
    "\x7f": "DEL",
}


def _control_name(char: str) -> str:
    return _CONTROL_NAMES.get(char, "a control character")


_TAB_PROBLEM = re.compile(r"\btab\b|'\\t'")
_NON_PRINTABLE = re.compile(
    "[^\x09\x0a\x0d\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]"
)
"""What PyYAML's reader refuses (its own ``NON_PRINTABLE``)."""


def _char_at(text: str, line: int, column: int) -> str:
    """The character at a 0-based line and column (as PyYAML counts), or an empty string."""
    lines = _LINE_BREAK.split(text)
    return lines[line][column : column + 1] if line < len(lines) else ""


_LINE_BREAK = re.compile("\r\n|[\n\r\x85\u2028\u2029]")
"""Line breaks as YAML 1.1 (and so PyYAML's marks) count them."""


def _split_lines(text: str) -> list[str]:
    """``text`` cut at every line break YAML counts (:data:`_LINE_BREAK`)."""
    if "\r" in text or "\x85" in text or "\u2028" in text or "\u2029" in text:
        return _LINE_BREAK.split(text)
    return text.split("\n")  # the same cut, several times faster


def _offset_location(text: str, offset: int, display: str) -> Location:
    """The 1-based line and column of a character offset, counted as PyYAML counts."""
    breaks = _LINE_BREAK.findall(text, 0, offset)
    start = text.rfind(breaks[-1], 0, offset) + len(breaks[-1]) if breaks else 0
    return Location(display, len(breaks) + 1, offset - start + 1)


def parse_yaml(text: str, display: str, diagnostics: Diagnostics) -> Node | None:
    """Compose one YAML document into a located :class:`Node` tree, or report why not."""
    try:
        return _compose(text, display, diagnostics)
    except YamlRefused as exc:
        diagnostics.add(exc.location, exc.code, exc.message)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        loc = Location(display, mark.line + 1, mark.column + 1) if mark else Location(display)
        problem = (exc.problem or exc.context or "invalid YAML").strip()
        if _TAB_PROBLEM.search(problem) or (
            mark and _char_at(text, mark.line, mark.column) == "\t"
        ):
            problem = "tab character: YAML indentation must use spaces"
        diagnostics.add(loc, "E001", f"YAML syntax error: {problem}")
    except yaml.reader.ReaderError as exc:
        # Its position is in bytes with the C parser and in characters without: find the
        # character again so the location is right either way, and keep the message short.
        bad = _NON_PRINTABLE.search(text)
        loc = _offset_location(text, bad.start(), display) if bad else Location(display)
        code = ord(bad.group()) if bad else exc.character
        diagnostics.add(
            loc, "E001", f"YAML syntax error: control character U+{code:04X} is not allowed"
        )
    except yaml.YAMLError as exc:
        diagnostics.add(Location(display), "E001", f"YAML syntax error: {exc}")
    return None


def load_file(
    path: Path,
    diagnostics: Diagnostics,
    cache: Cache | None = None,
    max_items: int | None = None,
) -> SourceFile:
    """Read and parse one YAML file.

    With a ``cache``, the located tree of a file whose text was seen before is rebuilt from
    the cache instead of being parsed again (with the diagnostics the parse gave). With
    ``max_items``, a file whose top-level list has more items is refused (E024) before it
    is parsed: composing 100,000 questions alone would take most of a minute.
    """
    display = display_path(path)
    text = read_text(path, display, diagnostics)
    if text is None:
        return SourceFile(path, display, None)
    items = 0
    if max_items is not None:
        for items, match in enumerate(_LIST_ITEM.finditer(text), start=1):
            if items > max_items:
                where = _offset_location(text, match.start(), display)
                diagnostics.add(
                    where,
                    "E024",
                    f"the bank has more than {MAX_QUESTIONS:,} questions (the limit); split "
                    "it into several banks",
                )
                return SourceFile(path, display, None, items)
    key = content_key(_TREE_FORMAT, display, text) if cache is not None else ""
    if cache is not None:
        hit = cache.get("yaml-tree", key)
        if hit is not None:
            for code, line, col, message in hit["diagnostics"]:
                diagnostics.extend([Diagnostic(Location(display, line, col), code, message)])
            return SourceFile(path, display, _decode(hit["root"], display), items)
    found = Diagnostics()  # unfiltered, so the cache serves any --ignore
    root = parse_yaml(text, display, found)
    diagnostics.extend(found.items)
    if cache is not None and root is not None and root.size <= _CACHEABLE_NODES:
        try:
            encoded = _encode(root)
        except _NotCacheable:
            return SourceFile(path, display, root, items)
        found_items = [[d.code, d.location.line, d.location.col, d.message] for d in found.items]
        cache.put("yaml-tree", key, {"root": encoded, "diagnostics": found_items})
    return SourceFile(path, display, root, items)


_LIST_ITEM = re.compile(r"^-(?:[ \t]|$)", re.MULTILINE)
"""A top-level block list item (a question of a question file)."""
_TREE_FORMAT = "tree-1"
_CACHEABLE_NODES = 500_000
"""Larger (alias-expanded) trees are parsed every time rather than cached."""
_KINDS = {"m": "map", "s": "seq", "v": "scalar"}


class _NotCacheable(Exception):
    """A value JSON cannot hold (a timestamp): that file is simply not cached."""


def _encode(node: Node) -> list[Any]:
    content = node.content_loc
    kind = node.kind
    loc = node.loc
    head: list[Any] = [
        _CODES[kind],
        loc.line,
        loc.col,
        node.style,
        node.size,
        content.line if content else 0,
        content.col if content else 0,
    ]
    if kind == "scalar":
        value = node.value
        if value is not None and type(value) not in _JSON_SCALARS:
            raise _NotCacheable
        head.append(value)
    elif kind == "seq":
        head.append([_encode(child) for child in node.value])
    else:
        head.append(
            [[k, e.key_loc.line, e.key_loc.col, _encode(e.node)] for k, e in node.value.items()]
        )
    return head


_CODES = {"map": "m", "seq": "s", "scalar": "v"}
_JSON_SCALARS = frozenset({str, bool, int, float})


def _decode(data: list[Any], display: str) -> Node:
    kind, line, col, style, size, content_line, content_col, value = data
    node = Node(_KINDS[kind], Location(display, line, col), None, style, size)
    if content_line:
        node.content_loc = Location(display, content_line, content_col)
    if kind == "v":
        node.value = value
    elif kind == "s":
        node.value = [_decode(child, display) for child in value]
    else:
        node.value = {
            key: Entry(Location(display, key_line, key_col), _decode(child, display))
            for key, key_line, key_col, child in value
        }
    return node


def load_source(root: Path, diagnostics: Diagnostics, cache: Cache | None = None) -> RawSource:
    """Parse ``deck.yaml``, ``taxonomy.yaml`` and ``questions/*.yaml`` under ``root``.

    Missing files are reported (E017); question files are read in sorted name order so
    every run sees the bank in the same order.
    """
    raw = RawSource(root=root, deck=None, taxonomy=None)
    for name in ("deck.yaml", "taxonomy.yaml"):
        path = root / name
        if not os.path.lexists(path):  # anything else there is read, or refused, below
            diagnostics.add(Location(display_path(path)), "E017", f"missing {name}")
            continue
        loaded = load_file(path, diagnostics, cache)
        if name == "deck.yaml":
            raw.deck = loaded
        else:
            raw.taxonomy = loaded
    questions_dir = root / "questions"
    files = sorted(questions_dir.glob("*.yaml")) + sorted(questions_dir.glob("*.yml"))
    if not files:
        diagnostics.add(
            Location(display_path(questions_dir)), "E017", "no question files (*.yaml) found"
        )
    seen = 0
    for path in sorted(files):
        if seen > MAX_QUESTIONS:
            break  # already refused: the rest is not parsed
        loaded = load_file(path, diagnostics, cache, max_items=MAX_QUESTIONS - seen)
        seen += loaded.items
        raw.questions.append(loaded)
    return raw


def _scalar_value(resolved_tag: str, value: str, loc: Location) -> Any:
    constructor = _CONSTRUCTOR
    if resolved_tag == _STR_TAG or resolved_tag not in constructor.yaml_constructors:
        # Plain text, or a YAML 1.1 oddity the safe constructor lacks (``<<`` merge keys,
        # ``=`` value keys): kept as text, so a stray ``<<:`` is an unknown field.
        return value
    node = yaml.ScalarNode(resolved_tag, value)
    try:
        return constructor.yaml_constructors[resolved_tag](constructor, node)
    except (ValueError, yaml.YAMLError) as exc:
        raise YamlRefused(loc, f"cannot read value {value!r}: {exc}") from None


_CONSTRUCTOR = yaml.constructor.SafeConstructor()
_DROPPED_KEY = object()
"""Stands for a list or mapping used as a key (reported E004) until its value is dropped."""
_RESOLVER = yaml.resolver.Resolver()


def _content_location(lines: list[str], mark_line: int, display: str) -> Location:
    """Where a block scalar's text starts: the first non-blank line after its indicator."""
    for index in range(mark_line + 1, len(lines)):
        line = lines[index]
        if line.strip():
            return Location(display, index + 1, len(line) - len(line.lstrip(" ")) + 1)
    return Location(display, mark_line + 2, 1)


def _compose(text: str, display: str, diagnostics: Diagnostics) -> Node | None:
    """Build the located tree from the parser's events with an explicit stack."""
    lines: list[str] | None = None
    anchors: dict[str, Node] = {}
    # Each frame: (node, pending key for maps (None when awaiting a key), key location)
    stack: list[list[Any]] = []
    root: Node | None = None
    documents = 0
    aliased = False

    def loc_of(mark: Any) -> Location:
        return Location(display, mark.line + 1, mark.column + 1)

    def attach(node: Node) -> None:
        nonlocal root
        if not stack:
            root = node
            return
        frame = stack[-1]
        parent: Node = frame[0]
        if parent.kind == "seq":
            parent.value.append(node)
        elif frame[1] is None:
            if node.kind != "scalar" or not isinstance(node.value, str):
                diagnostics.add(node.loc, "E004", "mapping keys must be plain strings")
                # a list or mapping key is dropped with its value: never turned into text
                frame[1] = str(node.value) if node.kind == "scalar" else _DROPPED_KEY
                frame[2] = node.loc
                return
            frame[1] = node.value
            frame[2] = node.loc
            return
        else:
            key, key_loc = frame[1], frame[2]
            frame[1] = None
            if key is _DROPPED_KEY:
                return
            if key in parent.value:
                first = parent.value[key].key_loc
                diagnostics.add(
                    key_loc, "E002", f"duplicate key '{key}' (first defined at {first})"
                )
                return
            parent.value[key] = Entry(key_loc, node)
        parent.size += node.size
        if parent.size > MAX_EXPANDED_NODES:
            if aliased:
                raise YamlRefused(parent.loc, "document expands to too many nodes (alias bomb?)")
            raise YamlRefused(
                node.loc,
                f"file has more than {MAX_EXPANDED_NODES:,} values (the size limit); split "
                "the bank",
                "E024",
            )

    def check_tag(tag: str | None, expected: set[str], loc: Location) -> None:
        if tag and tag not in ("!", *expected):
            raise YamlRefused(loc, f"YAML tag {tag} is not allowed; only plain data is accepted")

    parser = _Loader(text)
    next_event = parser.get_event
    scalar_event, alias_event = yaml.ScalarEvent, yaml.AliasEvent
    starts = (yaml.SequenceStartEvent, yaml.MappingStartEvent)
    ends = (yaml.SequenceEndEvent, yaml.MappingEndEvent)
    resolve = _RESOLVER.resolve
    plain_tags: dict[str, str] = {}
    control = _CONTROL.search
    try:
        while parser.check_event():
            event: Any = next_event()
            kind = type(event)
            if kind is scalar_event:  # most events: checked first, by exact type
                mark = event.start_mark
                loc = Location(display, mark.line + 1, mark.column + 1)
                tag = event.tag
                if tag and tag != "!":
                    if tag not in _SCALAR_TAGS:
                        check_tag(tag, _SCALAR_TAGS, loc)
                elif tag is None and event.implicit[0]:  # plain: int, bool, null, … or text
                    tag = plain_tags.get(event.value)
                    if tag is None:
                        tag = plain_tags[event.value] = resolve(  # type: ignore[no-untyped-call]
                            yaml.ScalarNode, event.value, event.implicit
                        )
                else:  # quoted, block or "!": text (the resolver's answer without asking)
                    tag = _STR_TAG
                style = event.style
                content_loc = None
                if style == "|" or style == ">":
                    if lines is None:  # split as PyYAML counts lines, so marks index it
                        lines = _split_lines(text)
                    content_loc = _content_location(lines, loc.line - 1, display)
                value = _scalar_value(tag, event.value, loc)
                node = Node("scalar", loc, value, style, 1, content_loc)
                if type(value) is str:
                    bad = control(value)
                    if bad is not None:  # an escape such as "\x1f": YAML lets it through
                        diagnostics.add(
                            loc,
                            "E023",
                            f"text contains the control character U+{ord(bad.group()):04X} "
                            f"({_control_name(bad.group())}); only tabs and line breaks are "
                            "allowed",
                        )
                if event.anchor:
                    anchors[event.anchor] = node
                attach(node)
            elif kind in starts:
                loc = loc_of(event.start_mark)
                is_seq = kind is yaml.SequenceStartEvent
                check_tag(event.tag, {_SEQ_TAG if is_seq else _MAP_TAG}, loc)
                if len(stack) >= MAX_DEPTH:
                    raise YamlRefused(loc, f"nesting deeper than {MAX_DEPTH} levels")
                node = Node("seq" if is_seq else "map", loc, [] if is_seq else {})
                if event.anchor:
                    anchors[event.anchor] = node
                stack.append([node, None, None])
            elif kind in ends:
                node = stack.pop()[0]
                attach(node)
            elif kind is alias_event:
                aliased = True
                loc = loc_of(event.start_mark)
                target = anchors.get(event.anchor or "")
                if target is None:
                    raise YamlRefused(loc, f"unknown alias *{event.anchor}")
                if any(frame[0] is target for frame in stack):
                    raise YamlRefused(loc, f"alias *{event.anchor} refers to itself")
                attach(target)
            elif kind is yaml.DocumentStartEvent:
                documents += 1
                if documents > 1:
                    raise YamlRefused(loc_of(event.start_mark), "only one YAML document is allowed")
    finally:
        parser.dispose()
    return root

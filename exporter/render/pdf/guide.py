"""The guide target (the long-form document: every question with its answer and details),
grouped into sections and cut into segments laid out by :mod:`exporter.render.pdf.paged`.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from exporter.render.pdf.job import (
    PAPER_MM,
    Entry,
    PdfJob,
    anchor_slug,
    code_chars,
    ordered_entries,
    plain_length,
)
from exporter.render.pdf.paged import render_paged

if TYPE_CHECKING:
    from exporter.core.context import RenderContext


SHORT_ENTRY_CHARS = 320
"""A guide entry with less visible text than this is never split across columns."""


def render_guide(context: RenderContext) -> None:
    """``build/<deck>-guide.pdf``: every question, answer and details, with contents."""
    job = PdfJob(context, "guide")
    details = bool(context.option("details", True))
    group_by = str(context.option("group_by", "level"))
    orientation = str(context.option("orientation", "portrait"))
    columns = max(1, min(4, int(context.option("columns", 2))))
    job.code_chars = guide_code_chars(job.paper(), orientation, columns)
    entries = job.entries(details)
    sections = guide_sections(entries, context, group_by)
    values = {
        "sections": sections,
        "toc_columns": toc_columns(sections),
        "count": len(entries),
        "orientation": orientation if orientation in ("portrait", "landscape") else "portrait",
        "columns": columns,
        "group_by": group_by,
        "details": details,
    }
    segments = guide_segments(sections)
    path = context.output_path("-guide.pdf")
    render_paged(job, "guide.html.j2", values, segments, path, flow=(split_segment, join_segments))


def _flat(segment: dict[str, Any]) -> list[tuple[dict[str, Any], dict[str, Any], Any]]:
    return [
        (section, topic, entry)
        for section in segment["sections"]
        for topic in section["topics"]
        for entry in topic["entries"]
    ]


def _grouped(
    flat: list[tuple[dict[str, Any], dict[str, Any], Any]], cut: bool
) -> list[dict[str, Any]]:
    """Sections of topics of entries again; with ``cut``, the first section and topic lose
    their title and id when the run starts inside them (they continue a piece before)."""
    sections: list[dict[str, Any]] = []
    last: tuple[int, int] = (0, 0)
    for index, (section, topic, entry) in enumerate(flat):
        if not sections or id(section) != last[0]:
            inside = cut and index == 0 and section["topics"][0]["entries"][0] is not entry
            sections.append(
                {
                    "id": "" if inside else section["id"],
                    "title": "" if inside else section["title"],
                    "topics": [],
                }
            )
        if id(section) != last[0] or id(topic) != last[1]:
            inside = cut and index == 0 and topic["entries"][0] is not entry
            sections[-1]["topics"].append(
                {
                    "id": "" if inside else topic["id"],
                    "title": "" if inside else topic["title"],
                    "entries": [],
                }
            )
        sections[-1]["topics"][-1]["entries"].append(entry)
        last = (id(section), id(topic))
    return sections


def split_segment(
    segment: dict[str, Any], tail: list[str]
) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """The segment cut before the first entry with something on its last page (``tail``:
    the ids there): the part kept ends at the foot of the page before, the rest is carried
    into the next segment. None when nothing would be kept."""
    on_last = set(tail)
    flat = _flat(segment)
    cut = next((i for i, (_, _, entry) in enumerate(flat) if f"q-{entry['id']}" in on_last), 0)
    if cut <= 0:
        return None
    kept = dict(segment, sections=_grouped(flat[:cut], False), size=cut)
    section, topic, _ = flat[cut]
    rest = _grouped(flat[cut:], True)
    in_section = rest[0]["title"] == "" and section["title"]
    in_topic = rest[0]["topics"][0]["title"] == "" and topic["title"]
    carried = {
        "sections": rest,
        "continued": section["title"] if in_section else "",
        "continued_topic": topic["title"] if in_topic else "",
        "size": len(flat) - cut,
    }
    if not in_section and not section["title"]:  # a section already continued before
        carried["continued"] = segment["continued"]
    if not in_topic and not topic["title"]:
        carried["continued_topic"] = segment["continued_topic"]
    return kept, carried


def join_segments(carried: dict[str, Any], segment: dict[str, Any]) -> dict[str, Any]:
    """A carried part followed by the next segment, as one segment."""
    return {
        "sections": [*carried["sections"], *segment["sections"]],
        "continued": carried["continued"],
        "continued_topic": carried["continued_topic"],
        "size": carried["size"] + segment["size"],
    }


BODY_PT = 7.4
"""The guide's body type (``body.guide`` in guide.css); code is 0.86 of it, details 0.95."""
SIDE_MARGIN_MM = 11.0
COLUMN_GAP_MM = 6.0
"""The page's side margins and the column gap (guide.css)."""


def guide_code_chars(paper: str, orientation: str, columns: int) -> dict[str, int]:
    """Characters of code per line in an answer's and in the details' code blocks."""
    width, height = PAPER_MM[paper]
    if orientation == "landscape":
        width = height
    column = (width - 2 * SIDE_MARGIN_MM - (columns - 1) * COLUMN_GAP_MM) / columns
    result = {}
    for name, scale, inset in (("answer", 1.0, 0.0), ("details", 0.95, 2.1)):
        font = BODY_PT * scale * 0.86
        pad = 0.5 + 0.9 * font * 25.4 / 72  # the block's border and side padding (mm)
        result[name] = code_chars(column - inset - pad, font)
    return result


SEGMENT_MIN_ENTRIES = 20
"""Entries a guide segment holds at least: each segment starts a new page, so a small
bank stays one flowing document."""


SEGMENT_MAX_ENTRIES = 150
"""Entries after which a long section is cut (at a topic boundary when there is one), so an
edit re-lays out a few pages and the two cores share the work."""


def guide_segments(
    sections: list[dict[str, Any]],
    low: int = SEGMENT_MIN_ENTRIES,
    high: int = SEGMENT_MAX_ENTRIES,
) -> list[dict[str, Any]]:
    """The guide cut into segments that each start a new page.

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


def guide_sections(
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
                    "id": anchor_slug("topic", topic_id or "other"),
                    "title": title,
                    "topics": [{"id": "", "title": "", "entries": items}],
                }
            )
        return sections
    for level in deck.levels:
        in_level = [
            e for e in ordered_entries(entries, context) if e.source.question.level == level
        ]
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
                        "id": anchor_slug("level", level, topic_id or "other"),
                        "title": topic.title if topic is not None else "Other questions",
                        "entries": [],
                    }
                )
            topics[-1]["entries"].append(_sheet_entry(entry))
        sections.append(
            {"id": anchor_slug("level", level), "title": deck.level_title(level), "topics": topics}
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
    visible = plain_length(entry.answer) + plain_length(entry.details)
    has_blocks = "<table" in entry.details or "<pre" in entry.details
    return {
        "id": entry.id,
        "question": entry.question,
        "answer": entry.answer,
        "details": entry.details,
        "badge": badge,
        "short": visible < SHORT_ENTRY_CHARS and not has_blocks,
    }

"""Schema and cross-file rules: located YAML trees in, a :class:`Bank` and diagnostics out.

Every rule reports through :class:`Diagnostics` and carries on, so one run lists every
problem. Rule codes are documented in ``exporter.core.diagnostics.RULES`` and the README.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from exporter.core.diagnostics import Diagnostics, Location, did_you_mean, excerpt
from exporter.core.identity import ID_PATTERN, MAX_ID_CHARS
from exporter.core.model import (
    INLINE_FIELDS,
    MARKDOWN_FIELDS,
    QUESTION_FIELDS,
    Bank,
    Deck,
    Question,
    SeedInfo,
    Taxonomy,
    Topic,
)
from exporter.core.settings import SETTINGS_BY_NAME
from exporter.source.duplicates import check_near_duplicates
from exporter.source.loader import Node, RawSource
from exporter.source.rules import build_settings, check_placeholders
from exporter.source.tagging import rule_words, tag_questions
from exporter.text import markup
from exporter.text.latex import REFUSED, latex_error
from exporter.text.limits import MAX_FIELD_CHARS, MAX_QUESTIONS, MAX_TABLE_CELLS
from exporter.text.media import media_problem


@dataclass(frozen=True)
class FieldSpec:
    """One allowed key of a mapping: whether it is required."""

    required: bool = False


def _kind_name(node: Node) -> str:
    if node.kind == "map":
        return "a mapping"
    if node.kind == "seq":
        return "a list"
    value = node.value
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, float):
        return "a decimal number"
    if isinstance(value, int):
        return "a number"
    if isinstance(value, str):
        return "text"
    return type(value).__name__


class _Checker:
    """Typed accessors that report wrong types and return None."""

    def __init__(self, diagnostics: Diagnostics) -> None:
        self.d = diagnostics

    def mapping(
        self,
        node: Node | None,
        fields: dict[str, FieldSpec],
        what: str,
        loc: Location,
        hints: dict[str, str] | None = None,
    ) -> dict[str, Node] | None:
        if node is None or node.kind != "map":
            got = _kind_name(node) if node is not None else "an empty document"
            self.d.add(node.loc if node else loc, "E004", f"{what} must be a mapping, got {got}")
            return None
        values: dict[str, Node] = {}
        for key, entry in node.value.items():
            if key not in fields:
                hint = (hints or {}).get(key) or did_you_mean(key, fields)
                self.d.add(entry.key_loc, "E006", f"unknown field '{key}' in {what}{hint}")
                continue
            values[key] = entry.node
        for key, spec in fields.items():
            if spec.required and key not in values:
                self.d.add(node.loc, "E003", f"{what} is missing required field '{key}'")
        return values

    def text(self, node: Node | None, name: str, allow_empty: bool = True) -> str | None:
        if node is None:
            return None
        if node.kind != "scalar" or not isinstance(node.value, str):
            if node.kind == "scalar" and node.value is None and allow_empty:
                return ""
            self.d.add(node.loc, "E004", f"'{name}' must be text, got {_kind_name(node)}")
            return None
        return str(node.value)

    def integer(self, node: Node | None, name: str) -> int | None:
        if node is None:
            return None
        value = node.value
        if node.kind != "scalar" or isinstance(value, bool) or not isinstance(value, int):
            self.d.add(node.loc, "E004", f"'{name}' must be a whole number, got {_kind_name(node)}")
            return None
        return value

    def boolean(self, node: Node | None, name: str) -> bool | None:
        if node is None:
            return None
        if node.kind != "scalar" or not isinstance(node.value, bool):
            self.d.add(node.loc, "E004", f"'{name}' must be true or false, got {_kind_name(node)}")
            return None
        return bool(node.value)

    def items(self, node: Node | None, name: str) -> list[Node] | None:
        if node is None:
            return None
        if node.kind != "seq":
            self.d.add(node.loc, "E004", f"'{name}' must be a list, got {_kind_name(node)}")
            return None
        return list(node.value)

    def text_list(self, node: Node | None, name: str) -> list[tuple[str, Node]] | None:
        items = self.items(node, name)
        if items is None:
            return None
        out = []
        for item in items:
            value = self.text(item, f"{name}[]", allow_empty=False)
            if value is not None:
                out.append((value, item))
        return out


DECK_FIELDS = {
    "id": FieldSpec(required=True),
    "title": FieldSpec(required=True),
    "description": FieldSpec(),
    "levels": FieldSpec(required=True),
    "seed": FieldSpec(),
    "tag_prefix": FieldSpec(),
    "answer_word_limit": FieldSpec(),
    "build": FieldSpec(),
}
SEED_FIELDS = {"title": FieldSpec(), "questions": FieldSpec(required=True)}
TAXONOMY_FIELDS = {"tags": FieldSpec(required=True)}
TOPIC_FIELDS = {
    "title": FieldSpec(required=True),
    "description": FieldSpec(),
    "match": FieldSpec(),
}
QUESTION_SPECS = {
    name: FieldSpec(required=name in ("id", "level", "question", "answer"))
    for name in QUESTION_FIELDS
}


def _check_id(value: str, node: Node, what: str, d: Diagnostics) -> bool:
    if ID_PATTERN.fullmatch(value):
        if len(value) <= MAX_ID_CHARS:
            return True
        d.add(
            node.loc,
            "E007",
            f"{what} '{excerpt(value)}' has {len(value)} characters; the limit is {MAX_ID_CHARS}",
        )
        return False
    d.add(
        node.loc,
        "E007",
        f"invalid {what} '{excerpt(value)}': use lowercase letters, digits and single hyphens",
    )
    return False


def build_deck(raw: RawSource, d: Diagnostics) -> Deck | None:
    """The deck from ``deck.yaml``, or None when it is unusable."""
    if raw.deck is None:
        return None
    check = _Checker(d)
    loc = Location(raw.deck.display)
    if raw.deck.root is None:  # empty, or unparsable (already reported)
        if not _has_errors_for(d, raw.deck.display):
            d.add(loc, "E004", "deck.yaml is empty; it must be a mapping")
        return None
    moved = {name: f"; build settings go under 'build:' ({name}: …)" for name in SETTINGS_BY_NAME}
    fields = check.mapping(raw.deck.root, DECK_FIELDS, "deck.yaml", loc, moved)
    if fields is None:
        return None
    deck_id = check.text(fields.get("id"), "id", allow_empty=False)
    if deck_id is not None and not _check_id(deck_id, fields["id"], "deck id", d):
        deck_id = None
    title = check.text(fields.get("title"), "title", allow_empty=False)
    if title is not None and not title.strip():
        d.add(fields["title"].loc, "E010", "deck title is empty")
    description = check.text(fields.get("description"), "description") or ""
    levels: list[str] = []
    level_items = check.text_list(fields.get("levels"), "levels")
    if level_items is not None:
        if not level_items and "levels" in fields:
            d.add(fields["levels"].loc, "E018", "'levels' must list at least one level")
        for level, item in level_items:
            if not _check_id(level, item, "level", d):
                continue
            if level in levels:
                d.add(item.loc, "E005", f"duplicate level '{level}'")
                continue
            levels.append(level)
    seed = None
    seed_fields = (
        check.mapping(fields["seed"], SEED_FIELDS, "'seed'", fields["seed"].loc)
        if "seed" in fields
        else None
    )
    if seed_fields is not None:
        count = check.integer(seed_fields.get("questions"), "seed.questions")
        if count is not None and count < 1:
            d.add(seed_fields["questions"].loc, "E018", "'seed.questions' must be at least 1")
            count = None
        seed_title = check.text(seed_fields.get("title"), "seed.title") or ""
        if count is not None:
            seed = SeedInfo(seed_title, count)
    prefix = check.text(fields.get("tag_prefix"), "tag_prefix", allow_empty=False)
    if prefix is not None and not _check_id(prefix, fields["tag_prefix"], "tag prefix", d):
        prefix = None
    limit = check.integer(fields.get("answer_word_limit"), "answer_word_limit")
    if limit is not None and limit < 1:
        d.add(fields["answer_word_limit"].loc, "E018", "'answer_word_limit' must be positive")
        limit = None
    build = build_settings(fields.get("build"), d)
    if deck_id is None or title is None or not levels:
        return None
    return Deck(
        id=deck_id,
        title=title,
        description=description.strip(),
        levels=tuple(levels),
        location=raw.deck.root.loc if raw.deck.root else loc,
        seed=seed,
        tag_prefix=prefix or deck_id,
        answer_word_limit=limit or 80,
        build=build,
    )


def _has_errors_for(d: Diagnostics, display: str) -> bool:
    return any(item.location.path == display for item in d.items)


def build_taxonomy(raw: RawSource, d: Diagnostics) -> Taxonomy | None:
    """The taxonomy from ``taxonomy.yaml``, or None when it is unusable."""
    if raw.taxonomy is None:
        return None
    check = _Checker(d)
    loc = Location(raw.taxonomy.display)
    if raw.taxonomy.root is None:
        if not _has_errors_for(d, raw.taxonomy.display):
            d.add(loc, "E004", "taxonomy.yaml is empty; it must be a mapping with 'tags'")
        return None
    fields = check.mapping(raw.taxonomy.root, TAXONOMY_FIELDS, "taxonomy.yaml", loc)
    if fields is None or "tags" not in fields:
        return None
    tags_node = fields["tags"]
    if tags_node.kind == "scalar" and tags_node.value is None:  # `tags:` alone: no topics yet
        return Taxonomy(())
    if tags_node.kind != "map":
        d.add(tags_node.loc, "E004", f"'tags' must be a mapping, got {_kind_name(tags_node)}")
        return None
    topics = []
    for topic_id, entry in tags_node.value.items():
        if not _check_id(topic_id, Node("scalar", entry.key_loc, topic_id), "tag id", d):
            continue
        what = f"tag '{topic_id}'"
        topic_fields = check.mapping(entry.node, TOPIC_FIELDS, what, entry.key_loc)
        if topic_fields is None:
            continue
        title = check.text(topic_fields.get("title"), "title", allow_empty=False)
        description = check.text(topic_fields.get("description"), "description") or ""
        rules = check.text_list(topic_fields.get("match"), "match") or []
        good_rules = []
        for rule, node in rules:
            if "*" in rule.rstrip("*") or not rule_words(rule)[0]:
                d.add(
                    node.loc,
                    "E018",
                    f"invalid match rule {rule!r}: it needs a letter or digit, '*' only at the end",
                )
                continue
            good_rules.append(rule)
        if title is not None:
            topics.append(
                Topic(topic_id, title, description.strip(), tuple(good_rules), entry.key_loc)
            )
    return Taxonomy(tuple(topics))


def build_questions(raw: RawSource, d: Diagnostics) -> list[Question]:
    """Every well-formed question of every question file, in file then source order."""
    check = _Checker(d)
    questions: list[Question] = []
    count = 0
    for source_file in raw.questions:
        root = source_file.root
        if root is None:
            if not _has_errors_for(d, source_file.display):
                d.add(Location(source_file.display), "E018", "question file is empty")
            continue
        items = check.items(root, "question file")
        if items is None:
            continue
        for item in items:
            count += 1
            if count > MAX_QUESTIONS:
                d.add(
                    item.loc,
                    "E024",
                    f"the bank has more than {MAX_QUESTIONS:,} questions (the limit); split "
                    "it into several banks",
                )
                return []
            question = _build_question(item, check, d)
            if question is not None:
                questions.append(question)
    return questions


def _build_question(item: Node, check: _Checker, d: Diagnostics) -> Question | None:
    fields = check.mapping(item, QUESTION_SPECS, "question", item.loc)
    if fields is None:
        return None
    qid = check.text(fields.get("id"), "id", allow_empty=False)
    if qid is not None and not _check_id(qid, fields["id"], "id", d):
        qid = None
    level = check.text(fields.get("level"), "level", allow_empty=False)
    texts: dict[str, str | None] = {}
    for name in MARKDOWN_FIELDS:
        texts[name] = check.text(fields.get(name), name)
    too_long = False
    for name, value in texts.items():
        if value is not None and len(value) > MAX_FIELD_CHARS:
            d.add(
                fields[name].loc,
                "E024",
                f"'{name}' has {len(value):,} characters; the limit is {MAX_FIELD_CHARS:,}",
            )
            too_long = True  # never parsed: Markdown of that size takes minutes
    for name in ("question", "answer"):
        value = texts[name]
        if value is not None and not value.strip():
            d.add(fields[name].loc, "E010", f"empty {name}")
            texts[name] = None
    tags: list[str] = []
    for tag, tag_node in check.text_list(fields.get("tags"), "tags") or []:
        if tag in tags:
            d.add(tag_node.loc, "E005", f"tag '{tag}' listed twice")
        else:
            tags.append(tag)
    seeds: list[int] = []
    for seed_node in check.items(fields.get("seed"), "seed") or []:
        number = check.integer(seed_node, "seed[]")
        if number is not None:
            seeds.append(number)
    retired = check.boolean(fields.get("retired"), "retired")
    details = texts["details"]
    if details is not None and not details.strip() and not retired and qid is not None:
        d.add(
            fields["details"].loc,
            "W111",
            f"details of '{qid}' are empty; write them or remove the key",
        )
    guid = check.text(fields.get("guid"), "guid", allow_empty=False)
    if guid is not None and (not guid.strip() or any(c.isspace() for c in guid)):
        d.add(fields["guid"].loc, "E018", "'guid' must be a non-empty string without spaces")
        guid = None
    if qid is None or level is None or texts["question"] is None or texts["answer"] is None:
        return None
    if too_long:
        return None
    # Only block scalars (| and >) keep the text's lines where the file has them; in a
    # quoted or plain scalar a line of the text (an escaped \n) is no line of the file.
    text_locations = {
        name: fields[name].text_location()
        for name in MARKDOWN_FIELDS
        if name in fields and fields[name].style in ("|", ">")
    }
    return Question(
        id=qid,
        level=level,
        question=texts["question"].strip(),
        answer=texts["answer"].strip("\n"),
        details=(texts["details"] or "").strip("\n"),
        key=(texts["key"] or "").strip(),
        tags=tuple(tags),
        seed=tuple(seeds),
        retired=bool(retired),
        guid=guid,
        location=item.loc,
        field_locations={name: node.loc for name, node in fields.items()},
        text_locations=text_locations,
    )


def check_questions(
    questions: Sequence[Question],
    deck: Deck,
    taxonomy: Taxonomy,
    source_root: Path,
    d: Diagnostics,
    findings: Callable[[Question, str], Sequence[markup.Finding]] | None = None,
    math_check: Callable[[str], str | None] = latex_error,
) -> list[Question]:
    """Cross-question rules; returns the questions that are usable for rendering."""
    get_findings = findings or (
        lambda q, name: markup.parse(getattr(q, name), name in INLINE_FIELDS).findings
    )
    seen: dict[str, Question] = {}
    guids: dict[str, Question] = {}
    usable = []
    uses_keys = any(q.key.strip() for q in questions if not q.retired)
    for question in questions:
        if question.guid is not None:
            owner = guids.setdefault(question.guid, question)
            if owner is not question:
                d.add(
                    question.where("guid"),
                    "E005",
                    f"duplicate guid '{question.guid}' (also used by '{owner.id}' at "
                    f"{owner.where('guid')})",
                )
        first = seen.get(question.id)
        if first is not None:
            d.add(
                question.where("id"),
                "E005",
                f"duplicate id '{question.id}' (first defined at {first.where('id')})",
            )
            continue
        seen[question.id] = question
        ok = True
        if question.level not in deck.levels:
            hint = did_you_mean(question.level, deck.levels)
            d.add(
                question.where("level"),
                "E008",
                f"unknown level '{question.level}'{hint}; levels are {', '.join(deck.levels)}",
            )
            ok = False
        for tag in question.tags:
            if taxonomy.get(tag) is None:
                hint = did_you_mean(tag, taxonomy.ids)
                d.add(question.where("tags"), "E009", f"unknown tag '{tag}'{hint}")
        if deck.seed is not None:
            for number in question.seed:
                if not 1 <= number <= deck.seed.questions:
                    d.add(
                        question.where("seed"),
                        "E015",
                        f"seed number {number} is out of range 1–{deck.seed.questions}",
                    )
        else:
            for number in question.seed:
                if number < 1:
                    d.add(question.where("seed"), "E015", f"seed number {number} must be ≥ 1")
        for name in MARKDOWN_FIELDS:
            if getattr(question, name):
                found = get_findings(question, name)
                _check_markdown(question, name, found, source_root, d, math_check)
        if not question.retired:
            check_placeholders(question, d)
            words = markup.word_count(question.answer)
            if words > deck.answer_word_limit:
                d.add(
                    question.text_where("answer"),
                    "W103",
                    f"answer has {words} words; cards read best under "
                    f"{deck.answer_word_limit} (answer_word_limit in deck.yaml)",
                )
            _check_key(question, d, uses_keys)
        if ok:
            usable.append(question)
    return usable


KEY_WORD_LIMIT = 30
"""W108 above this many words in a question's ``key:`` (the cheat sheet's one or two lines)."""


def _check_key(question: Question, d: Diagnostics, uses_keys: bool) -> None:
    """W108 for a key fact too long for the cheat sheet, W109 for a live card without one
    in a bank that uses keys (a bank with no key at all is not told so card by card: its
    cheat sheet shows first sentences throughout)."""
    if not question.key.strip():
        if not uses_keys:
            return
        d.add(
            question.location,
            "W109",
            "no 'key:' fact; the cheat sheet falls back to the answer's first sentence",
        )
        return
    words = markup.word_count(question.key)
    if words > KEY_WORD_LIMIT:
        d.add(
            question.text_where("key"),
            "W108",
            f"key fact has {words} words; the cheat sheet wants at most {KEY_WORD_LIMIT}",
        )


def _check_markdown(
    question: Question,
    name: str,
    findings: Sequence[markup.Finding],
    source_root: Path,
    d: Diagnostics,
    math_check: Callable[[str], str | None],
) -> None:
    for finding in findings:
        loc = question.text_where(name, finding.line)
        if finding.kind == "math":
            problem = math_check(finding.value)
            if problem:
                what = "is refused" if problem.startswith(REFUSED) else "does not parse"
                why = problem.removeprefix(REFUSED)
                d.add(loc, "E011", f"LaTeX {what}: {why} in ${excerpt(finding.value)}$")
        elif finding.kind == "code":
            if not markup.known_language(finding.value):
                d.add(loc, "E012", f"unknown code-block language '{excerpt(finding.value)}'")
        elif finding.kind in ("image", "sound"):
            problem_code, message = media_problem(finding.value, source_root, finding.kind)
            if problem_code:
                d.add(loc, problem_code, message)
        elif finding.kind == "html":
            d.add(
                loc, "W104", f"raw HTML {excerpt(finding.value)!r} is shown as text; use Markdown"
            )
        elif finding.kind == "table":
            d.add(
                loc,
                "E024",
                f"table of {finding.value} cells; the limit is {MAX_TABLE_CELLS:,} cells",
            )
        elif finding.kind == "nesting":
            d.add(
                loc,
                "E025",
                f"lists and quotes nested too deeply (the Markdown parser keeps {finding.value} "
                "levels, a list item counts two): the text inside would be lost",
            )
        elif finding.kind == "link":
            d.add(
                loc,
                "W105",
                f"link to '{excerpt(finding.value)}' refused: javascript:, vbscript:, file: and "
                "data: links are unsafe; it is shown as text",
            )


def validate(
    raw: RawSource,
    d: Diagnostics,
    findings: Callable[[Question, str], Sequence[markup.Finding]] | None = None,
    math_check: Callable[[str], str | None] = latex_error,
    prepare: Callable[[Sequence[Question]], None] | None = None,
    matched: Callable[[Taxonomy], Callable[[str], Sequence[str]]] | None = None,
) -> Bank | None:
    """Apply every rule; the tagged :class:`Bank`, or None when deck or taxonomy is unusable.

    ``matched`` gives, for the taxonomy, the function that finds a text's topics (the
    build's is cached by content); the default matches afresh.
    """
    deck = build_deck(raw, d)
    taxonomy = build_taxonomy(raw, d)
    questions = build_questions(raw, d)
    if prepare is not None:  # e.g. render every field's Markdown in parallel, once
        prepare(questions)
    if deck is None or taxonomy is None:
        return None
    usable = check_questions(questions, deck, taxonomy, raw.root, d, findings, math_check)
    check_near_duplicates(usable, d)
    tagged = tag_questions(usable, taxonomy, matched(taxonomy) if matched else None)
    for question in tagged:
        if not question.retired and not question.topics:
            d.add(
                question.where("question"),
                "W102",
                f"question '{question.id}' has no topic tag; add 'tags:' or a taxonomy rule",
            )
    return Bank(deck, taxonomy, tagged)

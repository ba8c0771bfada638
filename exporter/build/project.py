"""A source folder loaded and validated, with the slow per-field work (Markdown, LaTeX
checks, auto-tags) cached by content and shared by validation and every renderer."""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from exporter.core.cache import Cache, content_key
from exporter.core.context import RenderedQuestion
from exporter.core.diagnostics import Diagnostics
from exporter.core.model import INLINE_FIELDS, Bank, Question, Taxonomy
from exporter.source.loader import load_source
from exporter.source.validate import validate
from exporter.text import markup
from exporter.text.latex import latex_error


@dataclass
class Project:
    """A loaded and validated source folder."""

    source: Path
    bank: Bank | None
    diagnostics: Diagnostics
    cache: Cache = field(default_factory=lambda: Cache(None))
    _keys: dict[tuple[str, bool], str] = field(default_factory=dict, repr=False)

    def _field_key(self, text: str, inline: bool) -> str:
        """The cache key of a Markdown field (hashed once per run: validation, prefetch
        and rendering all look the same fields up)."""
        key = self._keys.get((text, inline))
        if key is None:
            key = self._keys[(text, inline)] = content_key(text, "inline" if inline else "block")
        return key

    def check_math(self, latex: str) -> str | None:
        """Why a formula will not render (cached by content across runs), or None."""
        key = content_key(latex)
        if self.cache.contains("latex-check", key):
            cached: str | None = self.cache.get("latex-check", key)
            return cached
        problem = latex_error(latex)
        self.cache.put("latex-check", key, problem)
        return problem

    def field(self, text: str, inline: bool) -> markup.RenderedField:
        """A Markdown field's HTML and findings, cached by content across runs.

        HTML and findings live in two cache files, so validating (which needs only the
        findings) never reads the much larger HTML.
        """
        key = self._field_key(text, inline)
        html = self.cache.get("markdown-html", key)
        found = self.cache.get("markdown-findings", key)
        if html is not None and found is not None:
            return markup.RenderedField.from_json({"html": html, "findings": found})
        rendered = markup.render_field(text, inline)
        self._remember(key, rendered.to_json())
        return rendered

    def findings(self, text: str, inline: bool) -> tuple[markup.Finding, ...]:
        """What the validator checks in a Markdown field (cached; no HTML is read)."""
        key = self._field_key(text, inline)
        found = self.cache.get("markdown-findings", key)
        if found is not None:
            return markup.RenderedField.from_json({"html": "", "findings": found}).findings
        return self.field(text, inline).findings

    def _remember(self, key: str, data: dict[str, Any]) -> None:
        self.cache.put("markdown-html", key, data["html"])
        self.cache.put("markdown-findings", key, data["findings"])

    def prefetch(self, questions: Sequence[Question]) -> None:
        """Render the Markdown of every field not yet cached, in parallel worker processes
        when there are enough of them to pay for the workers (a cold 10,000-question bank)."""
        missing: dict[str, tuple[str, bool]] = {}
        for q in questions:
            fields = ((q.question, True), (q.key, True), (q.answer, False), (q.details, False))
            for text, inline in fields:
                if text:
                    key = self._field_key(text, inline)
                    if key not in missing and not self.cache.contains("markdown-html", key):
                        missing[key] = (text, inline)
        from exporter.core.workers import fork_map, split, worker_count

        workers = worker_count(len(missing))
        if len(missing) < PARALLEL_MARKDOWN_MIN or workers < 2:
            return
        markup.render_field("", False)  # load markdown-it once, before forking
        markup.load_lexers(text for text, _ in missing.values())
        chunks = split(list(missing.items()), workers)
        for results in fork_map(_render_markdown_chunk, chunks):
            for key, data in results:
                self._remember(key, data)

    def topic_finder(self, taxonomy: Taxonomy) -> Callable[[str], Sequence[str]]:
        """:func:`~exporter.source.tagging.matched_topics` for ``taxonomy``, cached by content
        (the text and every topic rule) across runs."""
        from exporter.source.tagging import matched_topics, rules_fingerprint

        rules = rules_fingerprint(taxonomy)

        def matched(text: str) -> Sequence[str]:
            key = content_key(rules, text)
            found: list[str] | None = self.cache.get("auto-tags", key)
            if found is None:
                found = matched_topics(text, taxonomy)
                self.cache.put("auto-tags", key, found)
            return found

        return matched

    def rendered(self, questions: Iterable[Question]) -> list[RenderedQuestion]:
        """HTML for the given questions' fields."""
        return [
            RenderedQuestion(
                q,
                self.field(q.question, True).html,
                self.field(q.answer, False).html,
                self.field(q.details, False).html if q.details else "",
                self.field(q.key, True).html if q.key else "",
            )
            for q in questions
        ]


PARALLEL_MARKDOWN_MIN = 1500
"""Fields to render before a pool of worker processes pays for itself."""


def _render_markdown_chunk(
    items: list[tuple[str, tuple[str, bool]]],
) -> list[tuple[str, dict[str, Any]]]:
    return [(key, markup.render_field(text, inline).to_json()) for key, (text, inline) in items]


@contextmanager
def paused_gc() -> Iterator[None]:
    """No cyclic garbage collection inside: loading and checking a bank builds large,
    acyclic trees (nodes, questions, Markdown tokens, HTML), and each automatic full
    collection would walk all of them again, a quarter of the CPU time of a cold
    10,000-question build. Collection resumes afterwards, so a long-running process
    (``exporter watch``) still frees any cycle made meanwhile."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def load_project(
    source: Path, ignore: Iterable[str] = (), cache_dir: Path | None = None
) -> Project:
    """Read and validate a source folder; problems are in ``project.diagnostics``.

    ``cache_dir`` keeps results of slow checks between runs (``build/.cache``).
    """
    with paused_gc():
        return _load_project(source, ignore, cache_dir)


def _load_project(source: Path, ignore: Iterable[str], cache_dir: Path | None) -> Project:
    diagnostics = Diagnostics(ignore=frozenset(ignore))
    project = Project(source, None, diagnostics, Cache(cache_dir))
    raw = load_source(source, diagnostics, project.cache)
    project.bank = validate(
        raw,
        diagnostics,
        findings=lambda q, name: project.findings(getattr(q, name), name in INLINE_FIELDS),
        math_check=project.check_math,
        prepare=project.prefetch,
        matched=project.topic_finder,
    )
    return project


def deck_build_settings(source: Path) -> tuple[tuple[str, Any, Any], ...]:
    """The valid settings of ``deck.yaml``'s ``build:`` section (nothing when the file is
    unusable: the build reports why). Reads only ``deck.yaml``."""
    from exporter.core.diagnostics import Diagnostics as Quiet
    from exporter.source.loader import RawSource, load_file
    from exporter.source.validate import build_deck

    path = source / "deck.yaml"
    if not path.is_file():
        return ()
    quiet = Quiet()
    raw = RawSource(root=source, deck=load_file(path, quiet), taxonomy=None)
    deck = build_deck(raw, quiet)
    return deck.build if deck is not None else ()

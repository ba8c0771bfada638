"""What a target renderer is given: the bank with its fields rendered to HTML, and the
places it may read from and hand its outputs to. Renderers import this, never the pipeline."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from exporter.core.cache import Cache
from exporter.core.diagnostics import Diagnostics
from exporter.core.model import Bank, Question
from exporter.core.output import OutputSet
from exporter.core.progress import NO_PROGRESS, Progress


@dataclass(frozen=True)
class RenderedQuestion:
    """A question with its Markdown fields rendered to HTML."""

    question: Question
    question_html: str
    answer_html: str
    details_html: str
    key_html: str = ""
    """The key fact (``key:``, inline Markdown) as HTML, empty when the card has none."""


@dataclass
class RenderContext:
    """Everything a target renderer may use."""

    bank: Bank
    questions: list[RenderedQuestion]
    """The selected questions (retired ones included), in source order."""
    diagnostics: Diagnostics
    outputs: OutputSet
    source: Path
    """The source folder: the only place, with the template folders, files are read from."""
    out: Path
    """The output folder."""
    cache: Cache = field(default_factory=lambda: Cache(None))
    options: Mapping[str, Any] = field(default_factory=dict)
    """Target options from the command line; ``None`` means "use the default"."""
    templates: Mapping[str, list[Path]] = field(default_factory=dict)
    """Template folders per kind (``anki``, ``pdf``), the user's first."""
    user_templates: Path | None = None
    """The user's ``--templates`` folder, if any."""
    name_suffix: str = ""
    """The file-name suffix of a subset build (``-basic``), empty for the whole bank."""
    state: dict[str, Any] = field(default_factory=dict)
    """What the pipeline recorded for renderers (note contents, lock times, messages)."""
    progress: Progress = NO_PROGRESS
    """Where slow renderers report steps (segments, sheets); callable from worker processes."""

    def option(self, name: str, default: Any = None) -> Any:
        """A target option from the command line, or its default."""
        value = self.options.get(name)
        return default if value is None else value

    def template_dirs(self, kind: str) -> list[Path]:
        """Where templates of ``kind`` (``anki``/``pdf``) are looked up: user's first."""
        return list(self.templates.get(kind, []))

    def output_path(self, suffix: str) -> Path:
        """``build/<deck id><filter suffix><suffix>``, e.g. ``deep-learning-quiz.pdf``."""
        return self.out / f"{self.bank.deck.id}{self.name_suffix}{suffix}"

    def content_time(self, questions: Iterable[Question] | None = None) -> int:
        """When the content last changed (Unix seconds, from the lock file, not the clock)."""
        times = self.state.get("note_times", {})
        chosen = questions if questions is not None else [r.question for r in self.questions]
        return max((times.get(q.id, 0) for q in chosen), default=0) or self.state.get(
            "content_time", 0
        )

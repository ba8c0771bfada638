"""The pipeline: load → validate → tag → render Markdown → render targets → write.

No Click and no printing here: results and diagnostics are returned to the caller. Every
target gathers its output in memory first; nothing is written unless every requested
target succeeded and the source has no errors.
"""

from __future__ import annotations

import hashlib
import importlib
import os
import shutil
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from exporter import __version__, markup
from exporter.cache import Cache, content_key
from exporter.diagnostics import Diagnostics, Location
from exporter.latex import latex_error
from exporter.loader import display_path, load_source
from exporter.model import Bank, Question, Taxonomy
from exporter.output import OutputSet, write_all
from exporter.validate import validate

TARGETS: dict[str, str] = {
    "anki": "exporter.render.anki:render",
    "cheatsheet": "exporter.render.pdf:render_cheatsheet",
    "flashcards": "exporter.render.pdf:render_flashcards",
    "quiz": "exporter.render.pdf:render_quiz",
}
"""Every build target and the function that renders it (imported only when built)."""
BUILTIN_TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
"""The templates shipped with the tool (``templates/anki``, ``templates/pdf``)."""


@dataclass(frozen=True)
class RenderedQuestion:
    """A question with its Markdown fields rendered to HTML."""

    question: Question
    question_html: str
    answer_html: str
    details_html: str


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
            for text, inline in ((q.question, True), (q.answer, False), (q.details, False)):
                if text:
                    key = self._field_key(text, inline)
                    if key not in missing and not self.cache.contains("markdown-html", key):
                        missing[key] = (text, inline)
        from exporter.parallel import fork_map, split, worker_count

        workers = worker_count(len(missing))
        if len(missing) < PARALLEL_MARKDOWN_MIN or workers < 2:
            return
        markup.render_field("", False)  # load markdown-it once, before forking
        chunks = split(list(missing.items()), workers)
        for results in fork_map(_render_markdown_chunk, chunks):
            for key, data in results:
                self._remember(key, data)

    def topic_finder(self, taxonomy: Taxonomy) -> Callable[[str], Sequence[str]]:
        """:func:`~exporter.tagging.matched_topics` for ``taxonomy``, cached by content
        (the text and every topic rule) across runs."""
        from exporter.tagging import matched_topics, rules_fingerprint

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
            )
            for q in questions
        ]


PARALLEL_MARKDOWN_MIN = 1500
"""Fields to render before a pool of worker processes pays for itself."""


def _render_markdown_chunk(
    items: list[tuple[str, tuple[str, bool]]],
) -> list[tuple[str, dict[str, Any]]]:
    return [(key, markup.render_field(text, inline).to_json()) for key, (text, inline) in items]


def load_project(
    source: Path, ignore: Iterable[str] = (), cache_dir: Path | None = None
) -> Project:
    """Read and validate a source folder; problems are in ``project.diagnostics``.

    ``cache_dir`` keeps results of slow checks between runs (``build/.cache``).
    """
    diagnostics = Diagnostics(ignore=frozenset(ignore))
    project = Project(source, None, diagnostics, Cache(cache_dir))
    raw = load_source(source, diagnostics, project.cache)
    project.bank = validate(
        raw,
        diagnostics,
        findings=lambda q, name: project.findings(getattr(q, name), name == "question"),
        math_check=project.check_math,
        prepare=project.prefetch,
        matched=project.topic_finder,
    )
    return project


@dataclass(frozen=True)
class Selection:
    """Which questions a build includes: all, or those of some levels and/or tags."""

    levels: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()

    def includes(self, question: Question) -> bool:
        """Whether the question passes both filters (an empty filter passes everything)."""
        if self.levels and question.level not in self.levels:
            return False
        return not self.tags or bool(set(self.tags) & set(question.topics))

    @property
    def suffix(self) -> str:
        """A file-name suffix naming the filter, empty for the whole bank."""
        parts = list(self.levels) + list(self.tags)
        return "-" + "-".join(parts) if parts else ""


@dataclass
class BuildRequest:
    """What to build and how."""

    source: Path
    out: Path
    targets: tuple[str, ...] = tuple(TARGETS)
    templates: Path | None = None
    selection: Selection = Selection()
    options: dict[str, Any] = field(default_factory=dict)
    frozen: bool = False
    strict: bool = False
    ignore: tuple[str, ...] = ()
    allow_removal: bool = False
    clean: bool = False


@dataclass
class RenderContext:
    """Everything a target renderer may use."""

    project: Project
    bank: Bank
    request: BuildRequest
    questions: list[RenderedQuestion]
    diagnostics: Diagnostics
    outputs: OutputSet
    state: dict[str, Any] = field(default_factory=dict)

    def option(self, name: str, default: Any = None) -> Any:
        """A target option from the command line, or its default."""
        value = self.request.options.get(name)
        return default if value is None else value

    def template_dirs(self, kind: str) -> list[Path]:
        """Where templates of ``kind`` (``anki``/``pdf``) are looked up: user's first."""
        return template_dirs(self.request, kind)

    def output_path(self, suffix: str) -> Path:
        """``build/<deck id><filter suffix><suffix>``, e.g. ``deep-learning-quiz.pdf``."""
        name = f"{self.bank.deck.id}{self.request.selection.suffix}{suffix}"
        return self.request.out / name

    def content_time(self, questions: Iterable[Question] | None = None) -> int:
        """When the content last changed (Unix seconds, from the lock file, not the clock)."""
        times = self.state.get("note_times", {})
        chosen = questions if questions is not None else [r.question for r in self.questions]
        return max((times.get(q.id, 0) for q in chosen), default=0) or self.state.get(
            "content_time", 0
        )


def target_renderer(name: str) -> Callable[[RenderContext], None]:
    """Import the renderer of a target only when that target is built."""
    module_name, func = TARGETS[name].split(":")
    renderer: Callable[[RenderContext], None] = getattr(importlib.import_module(module_name), func)
    return renderer


@dataclass
class BuildResult:
    """The outcome of a build: the project (None when every target was up to date), what
    was written, what was rebuilt with identical bytes, and which targets were skipped."""

    project: Project | None
    written: list[Path] = field(default_factory=list)
    unchanged: list[Path] = field(default_factory=list)
    state: dict[str, Any] = field(default_factory=dict)
    up_to_date: list[str] = field(default_factory=list)

    @property
    def diagnostics(self) -> Diagnostics:
        """All problems of the run (none when nothing had to be built)."""
        return self.project.diagnostics if self.project else Diagnostics()

    @property
    def failed_to_load(self) -> bool:
        """Whether the source could not be turned into a bank."""
        return self.project is not None and self.project.bank is None


def template_dirs(request: BuildRequest, kind: str) -> list[Path]:
    """Where templates of ``kind`` (``anki``/``pdf``) are looked up: the user's first."""
    dirs = []
    if request.templates is not None and (request.templates / kind).is_dir():
        dirs.append(request.templates / kind)
    dirs.append(BUILTIN_TEMPLATES / kind)
    return dirs


def _record_content(
    project: Project, bank: Bank, request: BuildRequest, rendered: list[RenderedQuestion]
) -> dict[str, Any]:
    """Build every note's stored content, and update the lock with what changed."""
    from exporter.changes import plan_content

    d = project.diagnostics
    htmls = {r.question.id: (r.question_html, r.answer_html, r.details_html) for r in rendered}
    plan = plan_content(
        bank,
        htmls,
        project.source,
        template_dirs(request, "anki"),
        d,
        request.allow_removal,
        project.cache,
    )
    if plan is None:
        return {}
    update = plan.update
    messages = [f"notes: {plan.summary()}"]
    if update.changed_anything and request.frozen:
        d.add(
            Location(display_path(plan.lock_path)),
            "E021",
            f"lock file is out of date ({plan.summary()}); run 'exporter build' "
            "and commit source/deck.lock",
        )
    return {
        "plan": plan,
        "notes": plan.notes,
        "notetype": plan.notetype,
        "lock": update.lock,
        "lock_update": update,
        "lock_path": plan.lock_path,
        "note_times": {i: e.mod for i, e in update.lock.notes.items()},
        "content_time": update.lock.latest,
        "messages": messages,
    }


PDF_TARGETS = ("cheatsheet", "flashcards", "quiz")
"""The PDF targets (``-t pdf``)."""
PARALLEL_TARGETS = frozenset(PDF_TARGETS)
"""Targets heavy enough (WeasyPrint layout) to be worth a process of their own."""
ALWAYS_LAY_OUT = frozenset({"cheatsheet", "quiz"})
"""PDF targets that lay pages out on every build (flashcards reuse cached sheets)."""


def render_targets(context: RenderContext, names: list[str]) -> dict[str, list[Path]]:
    """Run the renderers; the heavy ones in parallel forked processes when there are two
    or more of them and more than one core, while this process renders the light ones.
    Returns each target's output paths."""
    heavy = [n for n in names if n in PARALLEL_TARGETS]
    parallel = len(heavy) > 1 and (os.cpu_count() or 1) > 1 and hasattr(os, "fork")
    children = _start_children(context, heavy) if parallel else []
    produced: dict[str, list[Path]] = {}
    for name in names:
        if parallel and name in heavy:
            continue
        before = set(context.outputs.files)
        target_renderer(name)(context)
        produced[name] = sorted(set(context.outputs.files) - before)
    if parallel:
        produced.update(_collect_children(context, children))
    return produced


_Child = tuple[str, Any, Any]
"""A forked target: its name, the process and the end of the pipe its results come on."""


def _start_children(context: RenderContext, names: list[str]) -> list[_Child]:
    import multiprocessing

    fork = multiprocessing.get_context("fork")
    if ALWAYS_LAY_OUT & set(names):
        # every child that lays pages out would import WeasyPrint (0.45 s) and pypdf on
        # its own; two cores are better spent on layout
        import pypdf  # noqa: F401

        from exporter.render.pdf import import_weasyprint

        import_weasyprint()
    children = []
    for name in names:
        receive, send = fork.Pipe(duplex=False)
        process = fork.Process(target=_child_render, args=(context, name, send), daemon=True)
        process.start()
        send.close()
        children.append((name, process, receive))
    return children


def _collect_children(context: RenderContext, children: list[_Child]) -> dict[str, list[Path]]:
    produced: dict[str, list[Path]] = {}
    failures = []
    for name, process, receive in children:
        try:
            outcome = receive.recv()
        except EOFError:
            outcome = ("error", f"the {name} worker died (exit code {process.exitcode})")
        process.join()
        if outcome[0] != "ok":
            failures.append(outcome[1])
            continue
        _, files, diagnostics, cache_updates, messages = outcome
        for path, data in files.items():
            context.outputs.add(path, data, owner=name)
        context.diagnostics.extend(diagnostics)
        for namespace, entries in cache_updates.items():
            for key, value in entries.items():
                context.project.cache.put(namespace, key, value)
        context.state.setdefault("messages", []).extend(messages)
        produced[name] = sorted(files)
    if failures:
        raise RuntimeError("; ".join(failures))
    return produced


def _child_render(context: RenderContext, name: str, send: Any) -> None:
    """Render one target in a forked process, send the results, and leave at once:
    tearing down WeasyPrint's layout objects at exit would only cost time."""
    try:
        files_before = set(context.outputs.files)
        seen = len(context.diagnostics.items)
        messages_before = len(context.state.get("messages", []))
        cache = context.project.cache
        cache.dirty.clear()
        target_renderer(name)(context)
        files = {p: d for p, d in context.outputs.files.items() if p not in files_before}
        updates = {ns: cache.data[ns] for ns in cache.dirty}
        messages = context.state.get("messages", [])[messages_before:]
        send.send(("ok", files, context.diagnostics.items[seen:], updates, messages))
    except BaseException as exc:  # reported by the parent
        send.send(("error", f"{name}: {type(exc).__name__}: {exc}"))
    finally:
        send.close()
        os._exit(0)


def _target_keys(request: BuildRequest, fingerprint: str) -> dict[str, str]:
    from exporter.manifest import target_key

    common = [
        __version__,
        ",".join(request.selection.levels),
        ",".join(request.selection.tags),
        str(request.strict),
        ",".join(sorted(request.ignore)),
        str(request.allow_removal),
    ]
    return {
        name: target_key(name, fingerprint, request.options, common) for name in request.targets
    }


def build(request: BuildRequest) -> BuildResult:
    """Run the pipeline for the stale targets; writes only when everything succeeded.

    Targets whose inputs and options are unchanged since the last successful build (see
    :mod:`exporter.manifest`) are skipped without loading the source at all.
    """
    from exporter.lock import LOCK_NAME
    from exporter.manifest import Manifest, file_hash, input_fingerprint

    anki_and_pdf = template_dirs(request, "anki") + template_dirs(request, "pdf")
    manifest = Manifest(request.out)
    if request.clean:
        shutil.rmtree(request.out / ".cache", ignore_errors=True)
        manifest.targets = {}
    # Taken before anything is read: a save during the build makes the next build stale.
    inputs = input_fingerprint(request.source, anki_and_pdf, skip=LOCK_NAME)
    lock_path = request.source / LOCK_NAME
    keys = _target_keys(request, inputs + (file_hash(lock_path) or ""))
    stale = [name for name in request.targets if not manifest.fresh(name, keys[name])]
    if not stale:
        return BuildResult(None, up_to_date=list(request.targets))
    project = load_project(request.source, request.ignore, request.out / ".cache")
    result = BuildResult(project, up_to_date=[t for t in request.targets if t not in stale])
    bank = project.bank
    if bank is None or project.diagnostics.failed(request.strict):
        project.cache.save()
        return result
    everything = project.rendered(bank.questions)
    state = _record_content(project, bank, request, everything)
    if project.diagnostics.failed(request.strict):
        project.cache.save()
        return result
    context = RenderContext(
        project=project,
        bank=bank,
        request=request,
        questions=[r for r in everything if request.selection.includes(r.question)],
        diagnostics=project.diagnostics,
        outputs=OutputSet(),
        state=state,
    )
    update = state["lock_update"]
    if update.changed_anything or update.refreshed or (update.removed and request.allow_removal):
        context.outputs.add(state["lock_path"], state["lock"].to_text().encode(), owner="lock")
    produced = render_targets(context, stale)
    result.state = context.state
    project.cache.save()
    if project.diagnostics.failed(request.strict):
        return result
    written = write_all(context.outputs.files)
    result.written = written
    result.unchanged = sorted(set(context.outputs.files) - set(written))
    # key the outputs on the inputs as they were read and the lock as this build left it
    lock_text = state["lock"].to_text().encode()
    keys = _target_keys(request, inputs + hashlib.sha256(lock_text).hexdigest())
    for name, outputs in produced.items():
        manifest.record(name, keys[name], outputs)
    write_all({manifest.path: manifest.to_bytes()})
    return result

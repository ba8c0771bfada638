"""The pipeline: load → validate → tag → render Markdown → render targets → write.

No Click and no printing here: results and diagnostics are returned to the caller. Every
target gathers its output in memory first; nothing is written unless every requested
target succeeded and the source has no errors.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import importlib
import os
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from exporter import __version__
from exporter.build.project import Project, load_project, paused_gc
from exporter.core.context import RenderContext, RenderedQuestion
from exporter.core.diagnostics import Diagnostics, Location, display_path
from exporter.core.install import builtin_templates
from exporter.core.model import Bank, Question
from exporter.core.output import OutputSet, write_all
from exporter.core.progress import NO_PROGRESS, Progress
from exporter.core.settings import DEFAULT_TARGETS

TARGETS: dict[str, str] = {
    "anki": "exporter.render.anki.package:render",
    "cheatsheet": "exporter.render.pdf.cheatsheet:render_cheatsheet",
    "guide": "exporter.render.pdf.guide:render_guide",
    "flashcards": "exporter.render.pdf.flashcards:render_flashcards",
    "quiz": "exporter.render.pdf.quiz:render_quiz",
}
"""Every build target and the function that renders it (imported only when built)."""


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
    targets: tuple[str, ...] = DEFAULT_TARGETS
    templates: Path | None = None
    selection: Selection = Selection()
    options: dict[str, Any] = field(default_factory=dict)
    frozen: bool = False
    strict: bool = False
    ignore: tuple[str, ...] = ()
    allow_removal: bool = False
    clean: bool = False
    progress: Progress = NO_PROGRESS
    """Where renderers report their steps (the CLI draws bars on a terminal)."""


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
    dirs.append(builtin_templates() / kind)
    return dirs


def content_plan(
    project: Project,
    bank: Bank,
    request: BuildRequest,
    rendered: list[RenderedQuestion] | None = None,
) -> Any:
    """What every note stores and how the lock changes
    (:class:`~exporter.build.changes.ContentPlan`, or None when the lock is unreadable):
    the one planning step of ``build``, ``diff`` and ``sync``. ``rendered``: the bank's
    questions already rendered, else they are rendered here."""
    from exporter.build.changes import plan_content

    if rendered is None:
        rendered = project.rendered(bank.questions)
    htmls = {r.question.id: (r.question_html, r.answer_html, r.details_html) for r in rendered}
    return plan_content(
        bank,
        htmls,
        project.source,
        template_dirs(request, "anki"),
        project.diagnostics,
        request.allow_removal,
        project.cache,
    )


def _record_content(
    project: Project, bank: Bank, request: BuildRequest, rendered: list[RenderedQuestion]
) -> dict[str, Any]:
    """Build every note's stored content, and update the lock with what changed."""
    d = project.diagnostics
    plan = content_plan(project, bank, request, rendered)
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


PDF_TARGETS = ("cheatsheet", "guide", "flashcards", "quiz")
"""The PDF targets (``-t pdf``)."""
PARALLEL_TARGETS = frozenset(PDF_TARGETS)
"""Targets heavy enough (WeasyPrint layout) to be worth a process of their own."""
LOAD_BESIDE_IMPORT = True
"""Load the source in a forked child while this process imports WeasyPrint, when PDF
targets are stale (see :func:`_load`; False: one after the other, in this process)."""
LOAD_BESIDE_MAX_BYTES = 5_000_000
"""Question files larger than this in all (about 3,000 questions like the real ones) are
loaded in this process: pickling the project would cost more than the import saves."""
ALWAYS_LAY_OUT = frozenset({"cheatsheet", "guide", "quiz"})
"""PDF targets that lay pages out on every build (flashcards reuse cached sheets)."""


def render_targets(context: RenderContext, names: list[str]) -> dict[str, list[Path]]:
    """Run the renderers; the heavy ones in parallel forked processes when there are two
    or more of them and more than one core, while this process renders the light ones.
    Returns each target's output paths."""
    heavy = [n for n in names if n in PARALLEL_TARGETS]
    parallel = len(heavy) > 1 and (os.cpu_count() or 1) > 1 and hasattr(os, "fork")
    children: list[_Child] = []
    try:
        children = _start_children(context, heavy) if parallel else []
        produced: dict[str, list[Path]] = {}
        for name in names:
            if parallel and name in heavy:
                continue
            before = set(context.outputs.files)
            context.progress.start(name, 0, f"{name}: rendering")
            target_renderer(name)(context)
            context.progress.finish(name)
            produced[name] = sorted(set(context.outputs.files) - before)
        if parallel:
            produced.update(_collect_children(context, children))
    except BaseException:  # an interrupt, SIGTERM or a failure: no worker outlives it
        for _, process, _ in children:
            if process.is_alive():
                process.kill()
        for _, process, _ in children:
            process.join()
        raise
    return produced


_Child = tuple[str, Any, Any]
"""A forked target: its name, the process and the end of the pipe its results come on."""


def _start_children(context: RenderContext, names: list[str]) -> list[_Child]:
    import multiprocessing

    fork = multiprocessing.get_context("fork")
    if ALWAYS_LAY_OUT & set(names):
        # every child that lays pages out would import WeasyPrint (0.45 s) and pypdf on
        # its own; two cores are better spent on layout
        from exporter.render.pdf.weasy import preload

        preload()
    children: list[_Child] = []
    for name in names:
        receive, send = fork.Pipe(duplex=False)
        inherited = [receive, *(child[2] for child in children)]  # closed in the child
        process = fork.Process(
            target=_child_render,
            args=(context, name, send, inherited, os.getpid()),
            daemon=True,
        )
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
                context.cache.put(namespace, key, value)
        context.state.setdefault("messages", []).extend(messages)
        produced[name] = sorted(files)
    if failures:
        raise RuntimeError("; ".join(failures))
    return produced


def _child_render(
    context: RenderContext, name: str, send: Any, inherited: list[Any], parent: int
) -> None:
    """Render one target in a forked process, send the results, and leave at once:
    tearing down WeasyPrint's layout objects at exit would only cost time. It closes the
    pipe ends it inherited and dies with its parent (see ``child_setup``)."""
    from exporter.core.workers import child_setup

    try:
        for connection in inherited:
            connection.close()
        child_setup(parent)
        files_before = set(context.outputs.files)
        seen = len(context.diagnostics.items)
        messages_before = len(context.state.get("messages", []))
        cache = context.cache
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
    from exporter.build.manifest import target_key

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
    :mod:`exporter.build.manifest`) are skipped without loading the source at all.
    """
    from exporter.build.lock import LOCK_NAME
    from exporter.build.manifest import Manifest, file_hash, input_fingerprint

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
    request.progress.start("source", 0, "reading and checking the source")
    project, loaded = _load(request, stale)
    request.progress.finish("source")
    result = BuildResult(project, up_to_date=[t for t in request.targets if t not in stale])
    bank = project.bank
    if bank is None or loaded is None:
        project.cache.save()
        return result
    everything, state = loaded
    if project.diagnostics.failed(request.strict):
        project.cache.save()
        return result
    context = RenderContext(
        bank=bank,
        questions=[r for r in everything if request.selection.includes(r.question)],
        diagnostics=project.diagnostics,
        outputs=OutputSet(),
        source=project.source,
        out=request.out,
        cache=project.cache,
        options=request.options,
        templates={kind: template_dirs(request, kind) for kind in ("anki", "pdf")},
        user_templates=request.templates,
        name_suffix=request.selection.suffix,
        state=state,
        progress=request.progress,
    )
    update = state["lock_update"]
    if update.changed_anything or update.refreshed or (update.removed and request.allow_removal):
        context.outputs.add(state["lock_path"], state["lock"].to_text().encode(), owner="lock")
    # the bank, its HTML and notes stay alive to the end: frozen, the collections the
    # renderers cause (and those of forked workers) never walk them again
    gc.freeze()
    try:
        return _render_and_write(request, project, context, stale, inputs, manifest, result)
    finally:
        gc.unfreeze()


_Loaded = tuple[Project, tuple[list[RenderedQuestion], dict[str, Any]] | None]
"""The loaded project, and its rendered questions and note plan (None when the source
has errors)."""


def _load(request: BuildRequest, stale: list[str]) -> _Loaded:
    """Read and check the source, render its fields and plan every note.

    When PDF targets are stale and there are two cores, this runs in a forked child while
    this process imports WeasyPrint and pypdf (which the PDF targets need, and their
    workers then inherit): the two took turns before, and each takes about as long as the
    other. The child sends the loaded project back pickled (15 ms for the real bank, 0.1 s
    for 1,000 questions): above :data:`LOAD_BESIDE_MAX_BYTES` of questions that costs
    more than the import, and the source is loaded here. Should the child fail in any
    way, the source is loaded here too, so its errors are reported as always.
    """

    def load() -> _Loaded:
        project = load_project(request.source, request.ignore, request.out / ".cache")
        bank = project.bank
        if bank is None or project.diagnostics.failed(request.strict):
            return project, None
        with paused_gc():  # what each note stores: more large acyclic data
            everything = project.rendered(bank.questions)
            state = _record_content(project, bank, request, everything)
        return project, (everything, state)

    overlap = (
        LOAD_BESIDE_IMPORT
        and bool(set(stale) & PARALLEL_TARGETS)
        and "weasyprint" not in sys.modules  # imported already (`exporter watch`)
        and (os.cpu_count() or 1) > 1
        and hasattr(os, "fork")
        and _source_bytes(request.source) <= LOAD_BESIDE_MAX_BYTES
    )
    if not overlap:
        return load()
    from exporter.core.workers import fork_map
    from exporter.render.pdf.weasy import preload

    def side() -> None:
        with contextlib.suppress(Exception):  # a broken install is reported where it is used
            preload()

    def run(job: str) -> _Loaded | None:
        if job == "import":
            side()
            return None
        return load()

    try:
        with paused_gc():
            loaded = fork_map(run, ["import", "load"])[1]
    except RuntimeError:  # the child failed: load here, the usual way
        loaded = None
    return loaded if loaded is not None else load()


def _source_bytes(source: Path) -> int:
    """The size of the question files (a glance: no file is read)."""
    total = 0
    with contextlib.suppress(OSError):
        for path in (source / "questions").rglob("*.y*ml"):
            with contextlib.suppress(OSError):
                total += path.stat().st_size
    return total


def _render_and_write(
    request: BuildRequest,
    project: Project,
    context: RenderContext,
    stale: list[str],
    inputs: str,
    manifest: Any,
    result: BuildResult,
) -> BuildResult:
    """Render the stale targets, then write every output, the lock and the manifest."""
    state = context.state
    produced = render_targets(context, stale)
    result.state = context.state
    project.cache.save()
    if project.diagnostics.failed(request.strict):
        return result
    # one commit: every output complete on disk before any replaces its old file, the
    # lock last (a lock ahead of its outputs would mark stale notes as delivered)
    written = write_all(context.outputs.files, last=[state.get("lock_path", request.source)])
    result.written = written
    result.unchanged = sorted(set(context.outputs.files) - set(written))
    # key the outputs on the inputs as they were read and the lock as this build left it
    lock_text = state["lock"].to_text().encode()
    keys = _target_keys(request, inputs + hashlib.sha256(lock_text).hexdigest())
    for name, outputs in produced.items():
        manifest.record(name, keys[name], outputs)
    write_all({manifest.path: manifest.to_bytes()})
    return result

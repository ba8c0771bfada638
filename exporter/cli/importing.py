"""``exporter import FILE``: existing material in, one new question file out.

The importer for the format reads FILE; the questions get ids (slugs of the question, or
the ids our own packages carry); nothing is written when an id or GUID is already in the
bank (exit 1) or the output file exists (exit 2). The new file is written atomically and
the whole source is validated, as ``exporter validate`` would.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click

from exporter.cli.options import (
    EXIT_PROBLEMS,
    EXIT_USAGE,
    INIT_HINT,
    Settings,
    command_options,
    report,
)
from exporter.core.diagnostics import did_you_mean
from exporter.core.identity import ID_PATTERN, slugify
from exporter.importers.common import (
    ImportedQuestion,
    ImportFailed,
    ImportOptions,
    ImportResult,
    Skipped,
    assign_ids,
    excerpt,
    normalize_name,
    questions_yaml,
    unreadable,
)

FORMATS = ("auto", "text", "csv", "tsv", "apkg")
"""The ``--format`` choices."""
SHOWN = 3
"""Items listed per report line (``-v`` lists all)."""


def detect_format(path: Path) -> str:
    """The input format from the file's first bytes and its extension."""
    from exporter.core.files import read_head

    try:
        head = read_head(path, 4096)  # a regular file only: a FIFO is never opened
    except OSError as exc:
        raise unreadable(path, exc) from exc
    if head.startswith(b"PK\x03\x04") or path.suffix.lower() in (".apkg", ".colpkg"):
        return "apkg"
    if path.suffix.lower() == ".csv":
        return "csv"
    if path.suffix.lower() in (".tsv", ".tab"):
        return "tsv"
    text = head.decode("utf-8", "replace").lstrip("\ufeff")
    if re.match(r"#(separator|html|tags column|guid column|notetype|deck|columns)\b", text, re.I):
        return "tsv"
    return "text"


def run_importer(path: Path, input_format: str, options: ImportOptions) -> ImportResult:
    """Read ``path`` with the importer for ``input_format`` (``auto`` detects it)."""
    from exporter.core.files import check_regular

    try:
        check_regular(path)
    except OSError as exc:
        raise unreadable(path, exc) from exc
    if input_format == "auto":
        input_format = detect_format(path)
    if input_format == "text":
        from exporter.importers.text import import_text

        return import_text(path, options)
    if input_format in ("csv", "tsv"):
        from exporter.importers.tabular import import_table

        return import_table(path, options, "\t" if input_format == "tsv" else None)
    from exporter.importers.apkg import import_apkg

    return import_apkg(path, options)


def file_stem_slug(path: Path) -> str:
    """A default output name from the input's file name: ``My Notes.txt`` → ``my-notes``."""
    return slugify(path.stem, question=False) or "imported"


def _parse_map(values: Sequence[str], levels: Sequence[str]) -> dict[str, str]:
    mapping: dict[str, str] = {}
    for value in values:
        name, sep, level = value.rpartition("=")
        level = level.strip()
        if not sep or not name.strip():
            raise click.BadParameter(f"expected 'Heading or deck=level', got {value!r}")
        if level not in levels:
            hint = did_you_mean(level, levels)
            raise click.BadParameter(
                f"unknown level '{level}'{hint}; levels are {', '.join(levels)}"
            )
        mapping[normalize_name(name)] = level
    return mapping


def _existing_ids(source: Path) -> dict[str, str]:
    """Every id in the source's question files (valid or not) and where it is defined."""
    from exporter.core.diagnostics import Diagnostics
    from exporter.source.loader import load_source

    raw = load_source(source, Diagnostics())
    found: dict[str, str] = {}
    for source_file in raw.questions:
        root = source_file.root
        if root is None or root.kind != "seq":
            continue
        for item in root.value:
            if item.kind != "map" or "id" not in item.value:
                continue
            node = item.value["id"].node
            if node.kind == "scalar" and node.value is not None:
                found.setdefault(str(node.value), str(node.loc))
    return found


def _clash(questions: Sequence[ImportedQuestion], project: Any, source: Path) -> str | None:
    """Why the import would clash with the bank (an id or a GUID), or None."""
    existing = _existing_ids(source)
    clashes = [(q, existing[q.id]) for q in questions if q.id in existing]
    if clashes:
        question, where = clashes[0]
        more = f" (and {len(clashes) - 1} more)" if len(clashes) > 1 else ""
        return (
            f"id '{question.id}' ({question.origin}) is already defined at {where}{more}; "
            "nothing written (rename it, or use --id-prefix)"
        )
    from exporter.core.identity import note_guid

    bank = project.bank
    guids = {q.guid or note_guid(bank.deck.id, q.id): q for q in bank.questions}
    for question in questions:
        owner = guids.get(question.guid or "")
        if owner is not None:
            return (
                f"guid '{question.guid}' ({question.origin}) already belongs to '{owner.id}' "
                f"at {owner.location}; that note is in the bank already; nothing written"
            )
    return None


def _check_guids(result: ImportResult) -> None:
    """Drop GUIDs the validator would refuse: with spaces, or repeated within the input."""
    seen: dict[str, str] = {}
    for question in result.questions:
        guid = question.guid
        if guid is None:
            continue
        if not guid.strip() or any(c.isspace() for c in guid):
            result.notes.append(f"{question.origin}: guid {guid!r} has spaces; not kept")
            question.guid = None
        elif guid in seen:
            result.notes.append(
                f"{question.origin}: guid {guid!r} repeats {seen[guid]}'s; not kept"
            )
            question.guid = None
        else:
            seen[guid] = question.origin


def _drop_derived_tags(questions: Sequence[ImportedQuestion], taxonomy: Any) -> None:
    """Leave out tags the taxonomy's match rules find anyway (our own packages list all)."""
    from exporter.source.tagging import matched_topics

    for question in questions:
        derived = set(matched_topics(question.question, taxonomy))
        derived |= set(matched_topics(question.answer, taxonomy))
        question.tags = tuple(tag for tag in question.tags if tag not in derived)


def _listing(items: Sequence[str], verbose: bool) -> str:
    if verbose or len(items) <= SHOWN:
        return ", ".join(items)
    return ", ".join(items[:SHOWN]) + f", … and {len(items) - SHOWN} more (-v lists all)"


def _counted(counter: Counter[str]) -> list[str]:
    return [f"{key} ×{n}" if n > 1 else key for key, n in counter.most_common()]


def print_report(
    settings: Settings, result: ImportResult, path: Path, options: ImportOptions
) -> None:
    """What was made and skipped, repairs and notes, on stderr (nothing with ``-q``)."""
    levels = Counter(q.level for q in result.questions)
    per_level = ", ".join(f"{lv} {levels[lv]}" for lv in options.levels if levels[lv])
    count = len(result.questions)
    noun = "question" if count == 1 else "questions"
    settings.info(f"imported {count} {noun} from {path.name} ({result.format}): {per_level}")
    if result.levels_by_name:
        pairs = [
            f"{excerpt(name, 60)!r} → {level}" for name, level in result.levels_by_name.items()
        ]
        settings.info("  levels: " + "; ".join(pairs))
    by_kind: dict[str, list[Skipped]] = {}
    for item in result.skipped:
        by_kind.setdefault(item.kind, []).append(item)
    for kind, skipped in by_kind.items():
        plural = kind if len(skipped) == 1 else f"{kind}s"
        if settings.verbose:
            settings.info(f"  skipped {len(skipped)} {plural}:")
            for item in skipped:
                settings.info(f"    {item.text!r} ({item.reason})")
            continue
        shown = [f"{item.text!r}" for item in skipped]
        if kind != "paragraph":
            shown = [f"{item.text!r} ({item.reason})" for item in skipped]
        settings.info(f"  skipped {len(skipped)} {plural}: {_listing(shown, False)}")
    if result.repairs:
        places = sum(result.repairs.values())
        settings.info(
            f"  repaired lost hyphens in {places} places: "
            + _listing(_counted(result.repairs), settings.verbose)
        )
    if result.suspects:
        settings.info(
            "  possible lost hyphens, left as they are: "
            + _listing(_counted(result.suspects), settings.verbose)
        )
    if result.dropped_tags:
        settings.info(
            "  dropped tags that are not in the taxonomy: "
            + _listing(_counted(result.dropped_tags), settings.verbose)
        )
    if result.html_kept:
        fields = "field" if len(result.html_kept) == 1 else "fields"
        settings.info(
            f"  kept {len(result.html_kept)} {fields} as HTML (too complex to convert; "
            "the validator warns W104 on them): " + _listing(result.html_kept, settings.verbose)
        )
    for note in result.notes:
        settings.info(f"  note: {note}")


@click.command("import")
@command_options("source", "cache", "checks", "reporting")
@click.argument("file", type=click.Path(path_type=Path, exists=True, dir_okay=False))
@click.option(
    "--format",
    "input_format",
    type=click.Choice(FORMATS),
    default="auto",
    show_default=True,
    help="Input format; auto: .apkg → apkg, .csv → csv, .tsv or Anki's text export → tsv, "
    "else text.",
)
@click.option("--level", default=None, help="Level of questions nothing else places [first level].")
@click.option(
    "--level-from-headings",
    is_flag=True,
    help="Text: the 1st, 2nd, … section heading gives the deck's 1st, 2nd, … level.",
)
@click.option(
    "--map-level",
    "map_levels",
    multiple=True,
    metavar="'NAME=LEVEL'",
    help="A heading (text) or deck (CSV, .apkg), in any case, whose questions get LEVEL. "
    "Repeatable.",
)
@click.option("--name", default=None, help="Output file name, without .yaml [from FILE].")
@click.option("--id-prefix", default=None, help="Put this before every generated id.")
@click.option(
    "--seed-numbers", is_flag=True, help="Text: keep each question's number as its seed:."
)
@click.option(
    "--no-hyphen-repair",
    is_flag=True,
    help="Text: only report lost hyphens (singlelayer), do not repair them.",
)
@click.option("--dry-run", is_flag=True, help="Print the YAML and the report; write nothing.")
def import_command(
    settings: Settings,
    file: Path,
    input_format: str,
    level: str | None,
    level_from_headings: bool,
    map_levels: tuple[str, ...],
    name: str | None,
    id_prefix: str | None,
    seed_numbers: bool,
    no_hyphen_repair: bool,
    dry_run: bool,
) -> int:
    """Import questions from plain text, CSV/TSV or an Anki package into a new question file.

    \b
    FILE is one of:
      text   numbered questions ("12. What is …?") with answer paragraphs, bullets,
             simple tables and section headings (blog posts, course notes)
      csv    Anki's "Notes in Plain Text" export or a spreadsheet (front, back, tags)
      tsv    the same, tab-separated
      apkg   an Anki package; GUIDs are kept, so re-exports update existing notes

    Writes source/questions/<name>.yaml (never overwriting) and validates the source.
    Exits 1 when an id is already in the bank, 2 when the file exists.
    """
    from exporter.build.project import load_project

    if not settings.source.is_dir():
        raise click.UsageError(f"source folder '{settings.source}' does not exist{INIT_HINT}")
    project = load_project(settings.source, ignore=settings.ignore)
    bank = project.bank
    if bank is None:
        code = report(settings, project.diagnostics)
        click.echo(
            "error: deck.yaml or taxonomy.yaml is unusable; fix it before importing", err=True
        )
        return code or EXIT_PROBLEMS
    levels = bank.deck.levels
    if level is not None and level not in levels:
        hint = did_you_mean(level, levels)
        raise click.BadParameter(
            f"unknown level '{level}'{hint}; levels are {', '.join(levels)}", param_hint="--level"
        )
    try:
        level_map = _parse_map(map_levels, levels)
    except click.BadParameter as exc:
        exc.param_hint = "--map-level"
        raise
    stem = name if name is not None else file_stem_slug(file)
    stem = stem[:-5] if stem.endswith(".yaml") else stem
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", stem):
        raise click.BadParameter(f"'{stem}' is not a plain file name", param_hint="--name")
    if id_prefix is not None and not ID_PATTERN.fullmatch(id_prefix):
        raise click.BadParameter(
            "use lowercase letters, digits and single hyphens", param_hint="--id-prefix"
        )
    output = settings.source / "questions" / f"{stem}.yaml"
    for candidate in (output, output.with_suffix(".yml")):
        if candidate.exists():
            click.echo(
                f"error: {candidate} already exists; refusing to overwrite it "
                "(choose another --name)",
                err=True,
            )
            return EXIT_USAGE

    options = ImportOptions(
        levels=levels,
        default_level=level or levels[0],
        topics=bank.taxonomy.ids,
        level_map=level_map,
        level_from_headings=level_from_headings,
        seed_numbers=seed_numbers,
        repair_hyphens=not no_hyphen_repair,
        media_folder=f"images/{stem}",
    )
    from exporter.cli.progress import status

    try:
        with status(f"importing {file.name}…", settings.quiet):
            result = run_importer(file, input_format, options)
    except ImportFailed as exc:
        click.echo(str(exc) if exc.located else f"error: {exc}", err=True)
        return exc.code
    seen = {normalize_name(n) for n in result.levels_by_name}
    seen |= {normalize_name(n.split("::")[-1]) for n in result.levels_by_name}
    for key in level_map:
        if key not in seen:
            result.notes.append(f"--map-level: no heading or deck named {key!r} in {file.name}")
    if not result.questions:
        print_report(settings, result, file, options)
        click.echo(f"error: no questions found in {file}; nothing written", err=True)
        return EXIT_PROBLEMS
    _check_guids(result)
    assign_ids(result.questions, id_prefix or "")
    _drop_derived_tags(result.questions, bank.taxonomy)
    clash = _clash(result.questions, project, settings.source)
    if clash:
        click.echo(f"error: {clash}", err=True)
        return EXIT_PROBLEMS

    media: dict[Path, bytes] = {}
    for relative, data in sorted(result.files.items()):
        target = settings.source / relative
        if target.exists():
            if target.is_file() and target.read_bytes() == data:
                continue
            click.echo(
                f"error: {target} already exists with other content; refusing to "
                "overwrite it (choose another --name)",
                err=True,
            )
            return EXIT_USAGE
        media[target] = data

    header = [f"Imported from {file.name} ({result.format}) by `exporter import`."]
    text = questions_yaml(result.questions, header)
    _check_round_trip(text, output, len(result.questions))
    print_report(settings, result, file, options)
    if dry_run:
        click.echo(text, nl=False)
        if media:
            folder = settings.source / options.media_folder
            settings.info(f"dry run: would copy {len(media)} images to {folder}")
        settings.info(f"dry run: would write {output}; nothing written")
        return report(settings, _validate_with(settings, output, text, media).diagnostics)
    from exporter.core.output import OutputError, write_atomic

    for target, data in [*media.items(), (output, text.encode("utf-8"))]:
        try:
            write_atomic(target, data)
        except OSError as exc:
            raise OutputError(f"{target}: cannot write: {exc.strerror or exc}") from exc
    if media:
        settings.info(f"copied {len(media)} images to {settings.source / options.media_folder}")
    settings.info(f"wrote {output}")
    with status("checking the source…", settings.quiet):
        after = load_project(
            settings.source, ignore=settings.ignore, cache_dir=settings.out / ".cache"
        )
    after.cache.save()
    return report(settings, after.diagnostics)


def _check_round_trip(text: str, output: Path, expected: int) -> None:
    """The emitted YAML must read back as exactly the questions written (a bug otherwise)."""
    from exporter.core.diagnostics import Diagnostics
    from exporter.source.loader import parse_yaml

    diagnostics = Diagnostics()
    root = parse_yaml(text, str(output), diagnostics)
    if diagnostics.items or root is None or root.kind != "seq" or len(root.value) != expected:
        problems = "; ".join(item.format() for item in diagnostics.items) or "wrong shape"
        raise RuntimeError(f"generated YAML does not read back: {problems}")


def _validate_with(settings: Settings, output: Path, text: str, media: dict[Path, bytes]) -> Any:
    """The source validated as if ``text`` were written to ``output`` (for ``--dry-run``);
    images the import would copy (``media``) are not reported missing."""
    from exporter.build.project import Project
    from exporter.core.diagnostics import Diagnostics, display_path
    from exporter.source.loader import SourceFile, load_source, parse_yaml
    from exporter.source.validate import validate

    diagnostics = Diagnostics(ignore=frozenset(settings.ignore))
    project = Project(settings.source, None, diagnostics)
    raw = load_source(settings.source, diagnostics)
    display = display_path(output)
    if not raw.questions:  # the new file will be the first one
        diagnostics.items = [d for d in diagnostics.items if "no question files" not in d.message]
    raw.questions.append(SourceFile(output, display, parse_yaml(text, display, diagnostics)))
    raw.questions.sort(key=lambda f: f.path)
    project.bank = validate(
        raw,
        diagnostics,
        findings=lambda q, name: project.field(getattr(q, name), name == "question").findings,
        math_check=project.check_math,
    )
    if media:
        names = {str(path.relative_to(settings.source)).replace("\\", "/") for path in media}
        diagnostics.items = [
            d
            for d in diagnostics.items
            if not (d.code == "E013" and any(f"'{name}'" in d.message for name in names))
        ]
    return project

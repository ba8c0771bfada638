"""Anki packages (.apkg): genanki-made, Anki-exported, legacy or the newer zstd format.

When Anki's own backend (the ``anki`` package) is installed, the package is imported into a
throw-away collection and read through Anki's API, which understands every format Anki
has written. Otherwise the package's SQLite file is read directly: ``collection.anki21`` or
``collection.anki2`` always, ``collection.anki21b`` (zstd-compressed) when Python 3.14's
``compression.zstd`` or the ``zstandard`` package can decompress it.

Each note becomes a question: the first field the question, the second the answer, other
non-empty fields the details (our own note type: Question, Answer, Details, and ``Id`` as
the id). The note's GUID is kept in ``guid:``, so building the deck again updates the
notes already in the user's collection instead of adding copies.
"""

from __future__ import annotations

import html
import importlib
import io
import json
import re
import sqlite3
import tempfile
import urllib.parse
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from exporter.core.files import FileRefused
from exporter.core.identity import ID_PATTERN, NOTE_FIELDS
from exporter.importers.common import (
    MAX_PACKAGE_BYTES,
    ImportFailed,
    ImportOptions,
    ImportResult,
    unreadable,
)
from exporter.importers.fields import NoteInput, note_question
from exporter.importers.htmlmd import markdown_url

COLLECTION_NAMES = ("collection.anki21b", "collection.anki21", "collection.anki2")
"""The collection files a package may hold, newest format first (newer packages also
carry a dummy ``collection.anki2`` asking old Anki versions to update)."""


@dataclass(frozen=True)
class PackageNote:
    """A note as stored in a package."""

    note_id: int
    guid: str
    notetype: str
    field_names: tuple[str, ...]
    fields: tuple[str, ...]
    tags: tuple[str, ...]
    deck: str | None
    cloze: bool


@dataclass
class Package:
    """A package's notes and the images they show (by media file name)."""

    notes: list[PackageNote]
    media: dict[str, bytes] = field(default_factory=dict)
    media_problem: str | None = None


_IMG_SRC = re.compile(r"""<img\b[^>]*?\bsrc\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))""", re.I)
_MD_IMAGE = re.compile(r"!\[([^\]]*)\]\((<[^>\n]*>|[^)\s]+)\)")


def referenced_media(notes: list[PackageNote]) -> set[str]:
    """The media file names the notes' ``<img>`` tags refer to (plain names only)."""
    names = set()
    for note in notes:
        for value in note.fields:
            for match in _IMG_SRC.finditer(value):
                name = html.unescape(next(g for g in match.groups() if g is not None))
                if _plain_name(name):
                    names.add(name)
    return names


def _plain_name(name: str) -> bool:
    return bool(name) and not re.search(r"[/\\:<>\"]|^\.|[\x00-\x1f]", name)


def anki_available() -> bool:
    """Whether Anki's backend (the ``anki`` package) can be imported."""
    try:
        importlib.import_module("anki.collection")
    except Exception:  # ImportError, or a backend that fails to load
        return False
    return True


def import_apkg(path: Path, options: ImportOptions, use_anki: bool | None = None) -> ImportResult:
    """Questions from an Anki package; ``use_anki`` None uses the backend when installed."""
    if not zipfile.is_zipfile(path):
        raise ImportFailed(f"{path}: not an Anki package (not a zip file)")
    check_inflated_size(path)
    if use_anki is None:
        use_anki = anki_available()
    package = read_with_anki(path) if use_anki else read_sqlite(path)
    result = ImportResult("apkg")
    for index, note in enumerate(package.notes, start=1):
        note_question(_note_input(note, index), options, result)
    order = {level: index for index, level in enumerate(options.levels)}
    result.questions.sort(key=lambda q: order.get(q.level, len(order)))
    missing: set[str] = set()
    for question in result.questions:
        question.question = _relink(question.question, package, options, result, missing)
        question.answer = _relink(question.answer, package, options, result, missing)
        question.details = _relink(question.details, package, options, result, missing)
    if missing:
        names = sorted(missing)
        shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
        why = f" ({package.media_problem})" if package.media_problem else ""
        result.notes.append(f"images not found in the package{why}: {shown}")
    return result


def _relink(
    text: str, package: Package, options: ImportOptions, result: ImportResult, missing: set[str]
) -> str:
    """Point image references at the copies the import writes under ``media_folder``."""

    def replace(match: re.Match[str]) -> str:
        src = match.group(2)
        name = urllib.parse.unquote(src[1:-1] if src.startswith("<") else src)
        data = package.media.get(name)
        if data is None:
            if _plain_name(name):
                missing.add(name)
            return match.group(0)
        target = f"{options.media_folder}/{name}"
        result.files[target] = data
        return f"![{match.group(1)}]({markdown_url(target)})"

    return _MD_IMAGE.sub(replace, text)


def _note_input(note: PackageNote, index: int) -> NoteInput:
    origin = f"note {index}"
    fields = list(zip(note.field_names, note.fields, strict=False))
    preferred_id = None
    if note.field_names[: len(NOTE_FIELDS)] == NOTE_FIELDS:
        # our own note type: Question, Answer, Details, Id, Source (derived, not imported)
        candidate = html.unescape(re.sub(r"<[^>]+>", "", note.fields[3])).strip()
        preferred_id = candidate if ID_PATTERN.fullmatch(candidate) else None
        fields = fields[:3]
    return NoteInput(
        origin=origin,
        fields=fields,
        tags=note.tags,
        deck=note.deck,
        guid=note.guid,
        notetype=note.notetype,
        cloze=note.cloze,
        preferred_id=preferred_id,
        html=True,
    )


# Through Anki's backend -------------------------------------------------------------------


def read_with_anki(path: Path) -> Package:
    """The package's notes and images, imported into a throw-away collection by Anki."""
    from anki import import_export_pb2
    from anki.collection import Collection, ImportAnkiPackageOptions, ImportAnkiPackageRequest

    always = import_export_pb2.IMPORT_ANKI_PACKAGE_UPDATE_CONDITION_ALWAYS
    with tempfile.TemporaryDirectory(prefix="exporter-import-") as folder:
        col = Collection(str(Path(folder) / "collection.anki2"))
        try:
            try:
                col.import_anki_package(
                    ImportAnkiPackageRequest(
                        package_path=str(path.resolve()),
                        options=ImportAnkiPackageOptions(
                            merge_notetypes=False,
                            update_notes=always,
                            update_notetypes=always,
                            with_scheduling=False,
                            with_deck_configs=False,
                        ),
                    )
                )
            except Exception as exc:  # the backend's errors carry a readable message
                raise ImportFailed(f"{path}: Anki cannot read this package: {exc}") from exc
            notes = [_backend_note(col, note_id) for note_id in sorted(col.find_notes(""))]
            media_dir = Path(col.media.dir())
            media = {}
            for name in sorted(referenced_media(notes)):
                file = media_dir / name
                if file.is_file():
                    media[name] = file.read_bytes()
            return Package(notes, media)
        finally:
            col.close()


def check_inflated_size(path: Path, limit: int = MAX_PACKAGE_BYTES) -> None:
    """Refuse (E017) a package whose members would inflate beyond ``limit`` bytes in
    total: a few megabytes of zip can hold gigabytes of media (a zip bomb). The sizes
    are the archive's own; readers never inflate a member past its declared size."""
    try:
        with zipfile.ZipFile(path) as archive:
            total = sum(max(0, info.file_size) for info in archive.infolist())
    except (OSError, zipfile.BadZipFile, ValueError) as exc:
        raise ImportFailed(f"{path}: cannot read the package: {exc}") from exc
    if total > limit:
        raise unreadable(
            path,
            FileRefused(f"would inflate to {total:,} bytes; the limit is {limit:,}"),
        )


def _backend_note(col: Any, note_id: int) -> PackageNote:
    note = col.get_note(note_id)
    notetype = note.note_type() or {}
    cards = note.cards()
    deck = None
    if cards:
        card = cards[0]
        deck = str(col.decks.name(card.odid or card.did))
    return PackageNote(
        note_id=int(note_id),
        guid=str(note.guid),
        notetype=str(notetype.get("name", "")),
        field_names=tuple(str(f["name"]) for f in notetype.get("flds", [])),
        fields=tuple(str(v) for v in note.fields),
        tags=tuple(str(t) for t in note.tags),
        deck=deck,
        cloze=notetype.get("type") == 1,
    )


# Straight from the SQLite file ------------------------------------------------------------


def _zstd_decompress(data: bytes, path: Path) -> bytes:
    try:
        zstd: Any = importlib.import_module("compression.zstd")  # Python 3.14+
        inflated = bytes(zstd.decompress(data))
        if len(inflated) > MAX_PACKAGE_BYTES:
            raise unreadable(path, FileRefused("inflates beyond the limit"))
        return inflated
    except ImportError:
        pass
    try:
        zstandard: Any = importlib.import_module("zstandard")
    except ImportError:
        raise ImportFailed(
            f"{path}: this package uses Anki's newer compressed format (collection.anki21b); "
            "install the 'anki' package (or 'zstandard') to read it, or export it from Anki "
            "with 'Support older Anki versions' ticked"
        ) from None
    reader = zstandard.ZstdDecompressor().stream_reader(io.BytesIO(data))
    inflated = bytes(reader.read(MAX_PACKAGE_BYTES + 1))  # never more than the limit
    if len(inflated) > MAX_PACKAGE_BYTES:
        raise unreadable(
            path, FileRefused(f"the collection inflates beyond {MAX_PACKAGE_BYTES:,} bytes")
        )
    return inflated


def read_sqlite(path: Path) -> Package:
    """The package's notes and images, read from its SQLite collection without Anki."""
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            member = next((n for n in COLLECTION_NAMES if n in names), None)
            if member is None:
                raise ImportFailed(f"{path}: no Anki collection inside the package")
            data = archive.read(member)
            index = archive.read("media") if "media" in names else b"{}"
            notes = _read_collection(data, member, path)
            package = Package(notes)
            if member.endswith("anki21b"):
                package.media_problem = "the newer format's media list is not read without Anki"
            else:
                by_name = {str(v): str(k) for k, v in json.loads(index or b"{}").items()}
                for name in sorted(referenced_media(notes)):
                    entry = by_name.get(name)
                    if entry is not None and entry in names:
                        package.media[name] = archive.read(entry)
            return package
    except (OSError, zipfile.BadZipFile, ValueError) as exc:
        raise ImportFailed(f"{path}: cannot read the package: {exc}") from exc


def _read_collection(data: bytes, member: str, path: Path) -> list[PackageNote]:
    if member.endswith("anki21b"):
        data = _zstd_decompress(data, path)
    with tempfile.TemporaryDirectory(prefix="exporter-import-") as folder:
        database = Path(folder) / "collection.sqlite"
        database.write_bytes(data)
        conn = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
        try:
            return _read_tables(conn)
        except sqlite3.DatabaseError as exc:
            raise ImportFailed(f"{path}: the collection cannot be read: {exc}") from exc
        finally:
            conn.close()


def _read_tables(conn: sqlite3.Connection) -> list[PackageNote]:
    tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    notetypes: dict[int, tuple[str, list[str], bool]] = {}
    decks: dict[int, str] = {}
    if "notetypes" in tables:  # schema 18 (collection.anki21b)
        for ntid, name, config in conn.execute("SELECT id, name, config FROM notetypes"):
            # NotetypeConfig field 1 is the kind; 1 means cloze (protobuf omits 0)
            cloze = bytes(config or b"")[:2] == b"\x08\x01"
            notetypes[int(ntid)] = (str(name), [], cloze)
        for ntid, _, name in conn.execute("SELECT ntid, ord, name FROM fields ORDER BY ntid, ord"):
            if int(ntid) in notetypes:
                notetypes[int(ntid)][1].append(str(name))
        for deck_id, name in conn.execute("SELECT id, name FROM decks"):
            decks[int(deck_id)] = str(name).replace("\x1f", "::")
    else:  # schema 11 (collection.anki2 / .anki21): JSON in the col table
        models_json, decks_json = conn.execute("SELECT models, decks FROM col").fetchone()
        for model in json.loads(models_json).values():
            names = [str(f["name"]) for f in sorted(model["flds"], key=lambda f: f["ord"])]
            notetypes[int(model["id"])] = (str(model["name"]), names, model.get("type") == 1)
        for deck in json.loads(decks_json).values():
            decks[int(deck["id"])] = str(deck["name"])
    note_decks: dict[int, str] = {}
    for nid, did, odid in conn.execute("SELECT nid, did, odid FROM cards ORDER BY nid, ord"):
        note_decks.setdefault(int(nid), decks.get(int(odid or did), ""))
    notes = []
    for nid, guid, mid, tags, flds in conn.execute(
        "SELECT id, guid, mid, tags, flds FROM notes ORDER BY id"
    ):
        name, field_names, cloze = notetypes.get(int(mid), ("", [], False))
        values = str(flds).split("\x1f")
        names = field_names + [f"Field {n}" for n in range(len(field_names) + 1, len(values) + 1)]
        notes.append(
            PackageNote(
                note_id=int(nid),
                guid=str(guid),
                notetype=name,
                field_names=tuple(names[: len(values)]),
                fields=tuple(values),
                tags=tuple(str(tags).split()),
                deck=note_decks.get(int(nid)) or None,
                cloze=cloze,
            )
        )
    return notes

"""The build manifest (``build/.manifest.json``): which inputs produced which outputs.

A target is up to date when the hash of its inputs (every source file, the templates,
the tool's own code, and the options that affect that target) matches the manifest and
its outputs are on disk unchanged. Then the build skips it without loading anything.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from exporter.core.files import FileRefused, stream_hash

MANIFEST_NAME = ".manifest.json"
_CODE_ROOT = Path(__file__).resolve().parents[1]
MAX_HASHED_BYTES = 64 * 1024 * 1024
"""Files larger than this are fingerprinted by size and modification time, not read."""

TARGET_OPTIONS: dict[str, tuple[str, ...]] = {
    "anki": ("deck_layout",),
    "cheatsheet": ("paper", "orientation", "columns", "pages"),
    "guide": ("paper", "orientation", "columns", "details", "group_by"),
    "flashcards": ("paper", "per_page", "flip", "offset_x", "offset_y", "calibration"),
    "quiz": ("paper", "seed"),
}
"""The build options each target depends on; other options do not make it stale."""


def _hash_tree(digest: Any, root: Path, skip: Iterable[str] = ()) -> None:
    """Hash every entry below ``root``: names and contents of files, and a marker for
    anything that cannot be read (a dangling link, a loop, no permission), so a broken
    entry makes the build run and report it instead of looking up to date."""
    skipped = set(skip)
    if not root.is_dir():
        digest.update(f"missing:{root}".encode())
        return
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if rel in skipped or "__pycache__" in rel:
            continue
        digest.update(rel.encode("utf-8") + b"\0")
        try:
            if path.is_dir():
                digest.update(b"<dir>")
                continue
            # streamed, regular files only: a FIFO or a device is never opened (it
            # would block or never end) and a huge file never read into memory
            stream_hash(path, digest.update, MAX_HASHED_BYTES)
        except FileRefused as exc:
            digest.update(f"<refused {exc.strerror}>".encode())
        except OSError as exc:
            digest.update(f"<unreadable {exc.errno}>".encode())
        digest.update(b"\0")


def input_fingerprint(source: Path, template_dirs: Iterable[Path], skip: str = "") -> str:
    """A hash of everything a build reads: source files, templates, the tool's code.

    ``skip`` leaves out one source file (the lock, which the build itself writes and which
    is keyed separately by the content the build used).
    """
    digest = hashlib.sha256()
    digest.update(b"source")
    _hash_tree(digest, source, skip=(skip,) if skip else ())
    digest.update(b"code")
    _hash_tree(digest, _CODE_ROOT)
    for folder in template_dirs:
        digest.update(b"templates")
        _hash_tree(digest, folder)
    return digest.hexdigest()


def target_key(
    name: str, fingerprint: str, options: Mapping[str, Any], common: Iterable[str]
) -> str:
    """The key of one target: the inputs plus the options that affect it."""
    relevant = {key: options.get(key) for key in TARGET_OPTIONS.get(name, ())}
    payload = json.dumps([name, fingerprint, relevant, list(common)], sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()


def file_hash(path: Path) -> str | None:
    """The SHA-256 of a file, or None when it cannot be read."""
    digest = hashlib.sha256()
    try:
        stream_hash(path, digest.update, MAX_HASHED_BYTES)
    except OSError:
        return None
    return digest.hexdigest()


class Manifest:
    """Target → (key, outputs with their hashes), read from and written to the out folder."""

    def __init__(self, out: Path) -> None:
        self.path = out / MANIFEST_NAME
        self.targets: dict[str, dict[str, Any]] = {}
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            if isinstance(data, dict) and isinstance(data.get("targets"), dict):
                self.targets = data["targets"]
        except (OSError, ValueError):
            self.targets = {}

    def fresh(self, name: str, key: str) -> bool:
        """Whether the target was built from this key and its outputs are intact."""
        entry = self.targets.get(name)
        if not entry or entry.get("key") != key:
            return False
        outputs = entry.get("outputs", {})
        return bool(outputs) and all(file_hash(Path(p)) == h for p, h in outputs.items())

    def record(self, name: str, key: str, outputs: Iterable[Path]) -> None:
        """Remember what a target produced from ``key``."""
        self.targets[name] = {
            "key": key,
            "outputs": {str(p): file_hash(p) for p in sorted(outputs)},
        }

    def to_bytes(self) -> bytes:
        """The manifest file's content."""
        return json.dumps({"targets": self.targets}, indent=1, sort_keys=True).encode()

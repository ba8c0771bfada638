"""A small content-addressed cache under ``build/.cache``: results keyed by input hash.

Each namespace is one JSON file, read once and written back atomically only when it
gained entries, so repeated runs skip work whose inputs did not change (LaTeX checks,
drawn formulas). A missing, unreadable or corrupt cache is simply empty.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from pathlib import Path
from typing import Any

from exporter import __version__

MAX_ENTRIES = 50_000
"""A namespace larger than this is emptied instead of growing without bound."""
_PRODUCERS = (
    "text/markup.py",
    "text/latex.py",
    "text/media.py",
    "text/limits.py",
    "render/pdf/math.py",
    "render/anki/notes.py",
    "source/loader.py",
    "source/tagging.py",
)
"""The modules (under ``exporter/``) whose output is cached."""


def _code_version() -> str:
    """The tool version plus a hash of the modules whose output is cached, so a change in
    how Markdown or math is rendered never serves stale entries."""
    digest = hashlib.sha256(__version__.encode())
    for name in _PRODUCERS:
        try:
            digest.update((Path(__file__).parents[1] / name).read_bytes())
        except OSError:
            digest.update(name.encode())
    return digest.hexdigest()[:16]


def content_key(*parts: str) -> str:
    """A short stable hash of some strings."""
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part.encode("utf-8"))
        digest.update(b"\0")
    return digest.hexdigest()[:32]


class Cache:
    """Namespaced key → JSON value stores, persisted in ``folder`` (None: memory only)."""

    def __init__(self, folder: Path | None) -> None:
        self.folder = folder
        self.version = _code_version()
        self.data: dict[str, dict[str, Any]] = {}
        self.dirty: set[str] = set()
        self.blobs: dict[tuple[str, str], bytes] = {}
        """Blobs of a memory-only cache (no folder)."""

    def _load(self, namespace: str) -> dict[str, Any]:
        store = self.data.get(namespace)
        if store is None:
            store = {}
            if self.folder is not None:
                try:
                    loaded = json.loads((self.folder / f"{namespace}.json").read_text("utf-8"))
                    if isinstance(loaded, dict) and loaded.get("version") == self.version:
                        store = dict(loaded.get("entries", {}))
                except (OSError, ValueError):
                    store = {}
            self.data[namespace] = store
        return store

    def get(self, namespace: str, key: str) -> Any:
        """The cached value, or None."""
        return self._load(namespace).get(key)

    def contains(self, namespace: str, key: str) -> bool:
        """Whether a value is cached for ``key``."""
        return key in self._load(namespace)

    def put(self, namespace: str, key: str, value: Any) -> None:
        """Remember a value."""
        store = self._load(namespace)
        if store.get(key, object()) != value:
            if len(store) >= MAX_ENTRIES:
                store.clear()
            store[key] = value
            self.dirty.add(namespace)

    def save(self) -> None:
        """Write back the namespaces that changed; failures only cost speed next time."""
        if self.folder is None:
            return
        from exporter.core.output import write_atomic

        for namespace in sorted(self.dirty):
            payload = {"version": self.version, "entries": self.data[namespace]}
            with contextlib.suppress(OSError):
                write_atomic(  # not flushed to disk: a lost cache costs only speed
                    self.folder / f"{namespace}.json",
                    json.dumps(payload, sort_keys=True, separators=(",", ":")).encode(),
                    sync=False,
                )
        self.dirty.clear()

    # -- blobs: large binary results (rendered PDF pages), one file per key --------------

    def get_blob(self, namespace: str, key: str) -> bytes | None:
        """A stored blob, or None."""
        if self.folder is None:
            return self.blobs.get((namespace, key))
        try:
            return (self.folder / namespace / f"{key}.bin").read_bytes()
        except OSError:
            return None

    def put_blob(self, namespace: str, key: str, data: bytes) -> None:
        """Store a blob at once (atomically); failures only cost speed next time."""
        if self.folder is None:
            self.blobs[(namespace, key)] = data
            return
        from exporter.core.output import write_atomic

        with contextlib.suppress(OSError):
            write_atomic(self.folder / namespace / f"{key}.bin", data, sync=False)

    def prune_blobs(self, namespace: str, keep: set[str], limit: int) -> None:
        """Delete the blobs of ``namespace`` not in ``keep`` once there are more than
        ``limit`` (or twice as many as are kept), so the folder cannot grow without bound."""
        if self.folder is None:
            return
        try:
            names = [p for p in (self.folder / namespace).iterdir() if p.suffix == ".bin"]
        except OSError:
            return
        if len(names) <= max(limit, 2 * len(keep)):
            return
        for path in names:
            if path.stem not in keep:
                with contextlib.suppress(OSError):
                    path.unlink()

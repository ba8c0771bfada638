"""Where Anki keeps a learner's collection: its data folder, profiles and ``collection.anki2``.

Anki's data folder is ``~/.local/share/Anki2`` on Linux (``$XDG_DATA_HOME/Anki2`` when
set), ``~/Library/Application Support/Anki2`` on macOS and ``%APPDATA%\\Anki2`` on Windows;
``$ANKI_BASE`` overrides it, as it does for Anki itself. ``prefs21.db`` there lists the
profiles (table ``profiles``, one row per name plus ``_global``); each profile is a folder
holding ``collection.anki2``. Pure file-system reads: no Anki backend needed.
"""

from __future__ import annotations

import os
import sqlite3
import sys
from collections.abc import Mapping
from pathlib import Path

COLLECTION_FILE = "collection.anki2"
PREFS_FILE = "prefs21.db"


class ProfileError(Exception):
    """No usable collection could be found; the message says what was found instead."""


def anki_base(
    platform: str | None = None, env: Mapping[str, str] | None = None, home: Path | None = None
) -> Path:
    """Anki's data folder on this (or the given) platform."""
    platform = platform or sys.platform
    env = os.environ if env is None else env
    home = home or Path.home()
    if env.get("ANKI_BASE"):
        return Path(env["ANKI_BASE"])
    if platform.startswith("win"):
        appdata = env.get("APPDATA")
        return Path(appdata) / "Anki2" if appdata else home / "AppData" / "Roaming" / "Anki2"
    if platform == "darwin":
        return home / "Library" / "Application Support" / "Anki2"
    data_home = env.get("XDG_DATA_HOME")
    return (Path(data_home) if data_home else home / ".local" / "share") / "Anki2"


def profile_names(base: Path) -> list[str]:
    """The profiles with a collection: those ``prefs21.db`` lists, else every folder of
    ``base`` holding a ``collection.anki2``."""
    listed: list[str] = []
    prefs = base / PREFS_FILE
    if prefs.is_file():
        try:
            conn = sqlite3.connect(f"{prefs.resolve().as_uri()}?mode=ro", uri=True)
            try:
                listed = [str(row[0]) for row in conn.execute("select name from profiles")]
            finally:
                conn.close()
        except sqlite3.Error:
            listed = []
    if not listed and base.is_dir():
        listed = [p.name for p in base.iterdir() if p.is_dir()]
    names = {n for n in listed if n != "_global" and (base / n / COLLECTION_FILE).is_file()}
    return sorted(names, key=str.lower)


def find_collection(
    profile: str | None = None,
    base: Path | None = None,
    platform: str | None = None,
    env: Mapping[str, str] | None = None,
    home: Path | None = None,
) -> Path:
    """The ``collection.anki2`` of ``profile``, or of the only profile there is; raises
    :class:`ProfileError` when there is none, several (without ``profile``), or no such one."""
    base = base or anki_base(platform, env, home)
    names = profile_names(base)
    if profile is not None:
        for name in names:
            if name.lower() == profile.lower():  # Anki's profile names ignore case
                return base / name / COLLECTION_FILE
        found = ", ".join(names) if names else "none"
        raise ProfileError(f"no Anki profile '{profile}' in {base} (profiles found: {found})")
    if not names:
        raise ProfileError(
            f"no Anki profile with a collection in {base}; open Anki once, "
            "or pass --collection PATH"
        )
    if len(names) > 1:
        raise ProfileError(
            f"{len(names)} Anki profiles in {base}: {', '.join(names)}; "
            "choose one with --profile NAME"
        )
    return base / names[0] / COLLECTION_FILE

"""The build settings a bank may keep in the ``build:`` section of ``deck.yaml``: one table
that validation, the command line and ``build -v`` all read (adding a setting is one row).

Each setting has the name of its ``exporter build`` option (``--per-page`` → ``per_page``),
so a flag given on the command line overrides the file, and the file overrides the
default.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

TARGET_CHOICES = ("anki", "cheatsheet", "guide", "flashcards", "quiz", "pdf", "all")
"""What ``-t`` and the ``targets`` setting accept (``pdf`` = every PDF, ``all`` = everything)."""
DEFAULT_TARGETS = ("anki", "cheatsheet", "flashcards", "quiz")
"""What a plain ``exporter build`` makes: the deck and the three printables (the long-form
``guide`` is built on request: ``-t guide``, ``-t pdf``, ``-t all`` or ``build: targets``)."""


@dataclass(frozen=True)
class BuildSetting:
    """One persistent build setting.

    ``kind`` is ``choice`` (one of ``choices``), ``int`` (``minimum``..``maximum``),
    ``float``, ``bool`` or ``targets`` (a list of :data:`TARGET_CHOICES`).
    """

    name: str
    kind: str
    default: Any
    help: str
    choices: tuple[str, ...] = ()
    minimum: int | None = None
    maximum: int | None = None

    @property
    def flag(self) -> str:
        """The command-line flag that overrides it (``--per-page``; ``-t`` for targets)."""
        return "-t/--target" if self.kind == "targets" else "--" + self.name.replace("_", "-")


BUILD_SETTINGS: tuple[BuildSetting, ...] = (
    BuildSetting("targets", "targets", DEFAULT_TARGETS, "what a plain `exporter build` builds"),
    BuildSetting("paper", "choice", "a4", "PDF paper size", ("a4", "letter")),
    BuildSetting(
        "orientation",
        "choice",
        "cheat sheet landscape, guide portrait",
        "cheat sheet and guide page orientation",
        ("portrait", "landscape"),
    ),
    BuildSetting(
        "columns",
        "int",
        "cheat sheet 4 (portrait 3), guide 2",
        "cheat sheet and guide columns",
        minimum=1,
        maximum=4,
    ),
    BuildSetting("pages", "int", 4, "cheat sheet page budget", minimum=1, maximum=99),
    BuildSetting("details", "bool", True, "guide: the deeper explanations"),
    BuildSetting("group_by", "choice", "level", "guide grouping", ("level", "tag")),
    BuildSetting("per_page", "choice", "8", "flashcards per sheet", ("4", "6", "8", "10")),
    BuildSetting("flip", "choice", "long", "the printer's duplex edge", ("long", "short")),
    BuildSetting("offset_x", "float", 0.0, "flashcards: shift back pages right (mm)"),
    BuildSetting("offset_y", "float", 0.0, "flashcards: shift back pages down (mm)"),
    BuildSetting("seed", "int", 0, "quiz shuffle seed", minimum=0),
    BuildSetting("deck_layout", "choice", "level", "Anki subdecks", ("flat", "level", "tag")),
)
"""Every setting of the ``build:`` section, in the order the README documents them."""
SETTINGS_BY_NAME = {setting.name: setting for setting in BUILD_SETTINGS}


def check_value(setting: BuildSetting, value: Any) -> tuple[Any, str]:
    """The value as the build option takes it, and ``""``; or ``None`` and why it is wrong.

    Numbers for a choice of numbers (``per_page: 8``) are taken as their text, as on the
    command line.
    """
    if setting.kind == "choice":
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str):
            return None, f"must be one of {', '.join(setting.choices)}"
        if value.lower() not in setting.choices:
            return None, f"'{value}' is not one of {', '.join(setting.choices)}"
        return value.lower(), ""
    if setting.kind == "bool":
        if not isinstance(value, bool):
            return None, "must be true or false"
        return value, ""
    if setting.kind == "int":
        if isinstance(value, bool) or not isinstance(value, int):
            return None, "must be a whole number"
        low, high = setting.minimum, setting.maximum
        if (low is not None and value < low) or (high is not None and value > high):
            span = f"{low}–{high}" if high is not None else f"at least {low}"
            return None, f"{value} is out of range ({span})"
        return value, ""
    if setting.kind == "float":
        if isinstance(value, bool) or not isinstance(value, int | float):
            return None, "must be a number (millimetres)"
        return float(value), ""
    # targets
    names = [value] if isinstance(value, str) else value
    if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
        return None, f"must be a target or a list of targets ({', '.join(TARGET_CHOICES)})"
    for name in names:
        if name not in TARGET_CHOICES:
            return None, f"unknown target '{name}'; targets are {', '.join(TARGET_CHOICES)}"
    return tuple(names), ""

"""Where the installed tool finds its own files (the built-in templates, through
``importlib.resources``), and the error an unusable installation raises."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

REQUIRED_TEMPLATES = ("anki/front.html", "anki/back.html", "anki/style.css", "pdf/base.html.j2")
"""Files whose absence means the installation is broken, not the user's templates."""


class InstallError(Exception):
    """The installation cannot work (its templates are missing): exit code 2, one line."""


def builtin_templates() -> Path:
    """The folder of the built-in templates (``anki/``, ``pdf/``).

    A wheel carries them as package data in ``exporter/templates``; an editable install
    or a checkout reads the repository's top-level ``templates/`` folder.
    """
    packaged = resources.files("exporter") / "templates"
    candidates = []
    if isinstance(packaged, Path):
        candidates.append(packaged)
    checkout = Path(__file__).resolve().parents[2]
    if (checkout / "pyproject.toml").is_file():
        candidates.append(checkout / "templates")
    for folder in candidates:
        if folder.is_dir():
            missing = [name for name in REQUIRED_TEMPLATES if not (folder / name).is_file()]
            if missing:
                raise InstallError(
                    f"the built-in templates in {folder} are incomplete (no {missing[0]}); "
                    "reinstall the exporter"
                )
            return folder
    where = candidates[0] if candidates else packaged
    raise InstallError(
        f"the built-in templates are missing from this installation (looked in {where}); "
        "reinstall the exporter (pip install --force-reinstall interview-deck-exporter)"
    )

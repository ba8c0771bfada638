"""The Jinja template loader of the PDF targets: only files inside the template roots.

A user's template folder may hold symbolic links, and a template may ``{% include %}``
any name: the loader resolves every name (links followed) and refuses whatever leads
outside the template folders (``/etc/passwd`` through a link, ``../../secret``), and
anything that is not a regular file (a FIFO would block the build), with a
:class:`TemplateRefused` that the PDF job reports as E019.
"""

from __future__ import annotations

import functools
import posixpath
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from jinja2 import BaseLoader, TemplateNotFound

from exporter.core.files import FileRefused, read_bytes

MAX_TEMPLATE_BYTES = 2 * 1024 * 1024
"""A larger template file is refused."""


class TemplateRefused(TemplateNotFound):
    """A template name that resolves outside the template folders, or to something that
    is not a regular file (raised where Jinja expects a missing template)."""

    def __init__(self, name: str, reason: str) -> None:
        super().__init__(name, f"template {name!r} refused: {reason}")
        self.reason = reason


class ConfinedLoader(BaseLoader):
    """Templates from the first of ``roots`` that has them, never from outside them."""

    def __init__(self, roots: Iterable[Path]) -> None:
        self.roots = [Path(root) for root in roots]

    def get_source(
        self, environment: Any, template: str
    ) -> tuple[str, str | None, Callable[[], bool] | None]:
        """The template's text, its file name and an up-to-date check."""
        parts = [p for p in template.replace("\\", "/").split("/") if p not in ("", ".")]
        if ".." in parts or template.startswith(("/", "\\")):
            raise TemplateRefused(template, "it leaves the template folders")
        for root in self.roots:
            path = root.joinpath(*parts) if parts else root
            if not path.exists() and not path.is_symlink():
                continue
            resolved = path.resolve()
            real_root = root.resolve()
            if resolved != real_root and real_root not in resolved.parents:
                raise TemplateRefused(template, "a link that leads outside the template folders")
            try:
                data = read_bytes(resolved, MAX_TEMPLATE_BYTES)
                text = data.decode("utf-8")
            except UnicodeDecodeError:
                raise TemplateRefused(template, "not UTF-8 text") from None
            except FileRefused as exc:
                raise TemplateRefused(template, f"the file {exc.strerror}") from None
            except OSError as exc:
                raise TemplateRefused(template, exc.strerror or str(exc)) from None
            mtime = resolved.stat().st_mtime
            filename = str(path)
            return text, filename, functools.partial(_unchanged, resolved, mtime)
        raise TemplateNotFound(template)

    def list_templates(self) -> list[str]:
        """Every template name below the roots (for Jinja's ``list_templates``)."""
        names: set[str] = set()
        for root in self.roots:
            if root.is_dir():
                for path in root.rglob("*"):
                    if path.is_file():
                        names.add(posixpath.join(*path.relative_to(root).parts))
        return sorted(names)


def _unchanged(path: Path, mtime: float) -> bool:
    try:
        return path.stat().st_mtime == mtime
    except OSError:
        return False

"""How long work tells the command line how far it got: a tiny protocol renderers (and
the sync) call, so they never import a terminal library; the CLI supplies the drawing.

Calls may come from forked worker processes: an implementation must accept them from
any process (the CLI's sends each call down an inherited pipe).
"""

from __future__ import annotations

from typing import Protocol


class Progress(Protocol):
    """Steps of named tasks: ``start`` with a total, ``advance`` as steps finish."""

    def start(self, task: str, total: int, label: str) -> None:
        """A task of ``total`` steps begins (0: unknown); ``label`` says what it does."""

    def advance(self, task: str, steps: int = 1) -> None:
        """``steps`` more steps of ``task`` are done."""

    def finish(self, task: str) -> None:
        """``task`` is complete (its line may disappear)."""


class NoProgress:
    """Reports nothing: the default (tests, ``-q``, output that is not a terminal)."""

    def start(self, task: str, total: int, label: str) -> None:
        """Nothing."""

    def advance(self, task: str, steps: int = 1) -> None:
        """Nothing."""

    def finish(self, task: str) -> None:
        """Nothing."""


NO_PROGRESS = NoProgress()
"""The shared do-nothing reporter."""

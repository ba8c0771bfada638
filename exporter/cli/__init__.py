"""The ``exporter`` command line: Click commands, their output and exit codes."""

from exporter.cli.commands import main, run

__all__ = ["main", "run"]

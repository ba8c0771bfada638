"""The ``exporter`` command line: Click commands, their output and exit codes."""

from exporter.cli.commands import main

__all__ = ["main"]

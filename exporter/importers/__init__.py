"""Importers: turn existing material (plain text, CSV/TSV, Anki packages) into questions.

Each importer is a pure function from a file and :class:`~exporter.importers.common.ImportOptions`
to an :class:`~exporter.importers.common.ImportResult` (the questions it made, what it skipped
and why, notes such as repaired hyphens). The ``exporter import`` command
(:mod:`exporter.cli.importing`) gives the questions ids, refuses clashes with the bank,
writes one new YAML file and validates the whole source.
"""

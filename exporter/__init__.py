"""Turns a version-controlled bank of interview questions into Anki decks and printables."""

__version__ = "0.1.0"

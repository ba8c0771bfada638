"""The Anki target: what a note stores, and the byte-reproducible ``.apkg``."""

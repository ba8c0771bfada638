"""Target renderers: each turns the validated bank into output bytes; none writes files."""

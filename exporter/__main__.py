"""``python -m exporter``: runs the command-line interface."""

from exporter.cli.commands import run

if __name__ == "__main__":
    run()

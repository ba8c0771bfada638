"""``python -m exporter``: runs the command-line interface."""

from exporter.cli.commands import main

if __name__ == "__main__":
    main()

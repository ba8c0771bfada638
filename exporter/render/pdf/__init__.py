"""The printable PDFs: cheat sheet, flashcards and quiz, laid out by WeasyPrint.

Each renderer fills a Jinja2 template (``templates/pdf``, overridable with ``--templates``)
with the questions' already-safe HTML, lets WeasyPrint lay it out, and hands the PDF bytes
to ``context.outputs``; nothing is written here. WeasyPrint is imported only inside the
functions that use it, so other targets never pay for it.

Shared rules:

* Formulas are drawn as SVG by ziamath (:mod:`exporter.render.pdf.math`), cached by content.
* WeasyPrint fetches resources only through
  :func:`~exporter.render.pdf.fetcher.make_url_fetcher`: files under the source folder and
  the template folders, and ``data:`` URIs. Anything else (web URLs,
  ``file:///etc/passwd``…) is refused and reported as W107.
* Output is byte-for-byte reproducible: no clock (dates come from the content time of the
  lock file), a fixed PDF identifier, DejaVu fonts and stable ordering everywhere.
"""

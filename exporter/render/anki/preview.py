"""The card preview: every card of a built ``.apkg`` as Anki's own backend renders it, front
and back, by day and by night, in one searchable HTML page with MathJax typeset offline.

The package is imported with Anki's default options into a throw-away collection (the
``anki`` package, Anki's Rust backend), and each card's ``render_output()`` is what goes on
the page, inside Anki's card classes (``card card1``, plus ``nightMode night_mode`` at
night) under the note type's CSS. MathJax is the copy that ships inside the ``aqt`` wheel
of the same Anki version, with Anki's own configuration, copied beside the page: nothing is
fetched when the page is opened. Cards are listed in the order a new learner meets them
(deck by deck in name order, then by position), retired cards last.
"""

from __future__ import annotations

import html
import json
import tempfile
from dataclasses import dataclass
from pathlib import Path

MATHJAX_ROOT = "_aqt/data/web/js"
"""Where the ``aqt`` wheel keeps Anki's MathJax configuration and MathJax itself."""
MATHJAX_FILES = ("vendor/mathjax/tex-chtml-full.js",)
MATHJAX_FOLDERS = ("vendor/mathjax/a11y", "vendor/mathjax/output/chtml/fonts/woff-v2")
"""The parts of MathJax a card page loads (the speech rule data is left out)."""
DAY_CANVAS, NIGHT_CANVAS = "#ffffff", "#2c2c2c"
"""The reviewer's page background by day and by night (the card draws on top of it)."""


class PreviewError(Exception):
    """The preview cannot be made here (Anki's backend or MathJax is not installed)."""


@dataclass(frozen=True)
class PreviewCard:
    """One card as the backend rendered it."""

    id: str
    deck: str
    tags: tuple[str, ...]
    position: int
    suspended: bool
    question: str
    answer: str


def mathjax_files() -> dict[str, bytes]:
    """Anki's MathJax, from the installed ``aqt`` wheel: page-relative path → bytes
    (``mathjax/tex-chtml-full.js``, its fonts, and Anki's configuration ``mathjax/anki.js``)."""
    import importlib.metadata

    try:
        dist = importlib.metadata.distribution("aqt")
    except importlib.metadata.PackageNotFoundError:
        raise PreviewError(
            "the preview needs MathJax from Anki's 'aqt' wheel: "
            "pip install --no-deps aqt==<the installed anki version> (make does this)"
        ) from None
    root = Path(str(dist.locate_file(MATHJAX_ROOT)))
    files: dict[str, bytes] = {}
    try:
        files["mathjax/anki.js"] = (root / "mathjax.js").read_bytes()
        for name in MATHJAX_FILES:
            files["mathjax/" + name.split("/", 2)[2]] = (root / name).read_bytes()
        for folder in MATHJAX_FOLDERS:
            for path in sorted((root / folder).iterdir()):
                relative = path.relative_to(root / "vendor/mathjax").as_posix()
                files["mathjax/" + relative] = path.read_bytes()
    except OSError as exc:
        raise PreviewError(f"MathJax is incomplete in the aqt wheel at {root}: {exc}") from None
    return files


def rendered_cards(apkg: Path) -> tuple[list[PreviewCard], str, dict[str, bytes]]:
    """Import ``apkg`` into a throw-away collection with Anki's default options; every
    card as rendered, the note type CSS, and the media files the cards use."""
    try:
        from anki.collection import (
            Collection,
            ImportAnkiPackageOptions,
            ImportAnkiPackageRequest,
        )
    except ImportError:
        raise PreviewError("the preview needs Anki's backend: pip install anki") from None

    with tempfile.TemporaryDirectory(prefix="exporter-preview-") as folder:
        col = Collection(str(Path(folder) / "preview.anki2"))
        try:
            request = ImportAnkiPackageRequest(
                package_path=str(apkg), options=ImportAnkiPackageOptions()
            )
            col.import_anki_package(request)
            cards: list[tuple[tuple[int, str, int], PreviewCard]] = []
            css: dict[str, str] = {}
            for card_id in col.find_cards(""):
                card = col.get_card(card_id)
                note = card.note()
                output = card.render_output(reload=True)
                css.setdefault(output.css, "")
                deck = col.decks.name(card.did)
                item = PreviewCard(
                    id=note["Id"] if "Id" in note else str(note.id),
                    deck=deck,
                    tags=tuple(note.tags),
                    position=card.due,
                    suspended=card.queue == -1,
                    question=output.question_text,
                    answer=output.answer_text,
                )
                retired = any(tag.endswith("::retired") for tag in note.tags)
                cards.append(((int(retired), deck.lower(), card.due), item))
            media_dir = Path(col.media.dir())
            media = {
                path.name: path.read_bytes()
                for path in sorted(media_dir.iterdir())
                if path.is_file()
            }
        finally:
            col.close()
    ordered = [item for _, item in sorted(cards, key=lambda pair: (pair[0], pair[1].id))]
    return ordered, "\n".join(css), media


def preview_files(apkg: Path, title: str) -> dict[str, bytes]:
    """Every file of the preview folder: ``index.html``, MathJax and the cards' media."""
    files = mathjax_files()
    cards, css, media = rendered_cards(apkg)
    for name, data in media.items():
        files["media/" + name] = data
    files["index.html"] = preview_page(cards, css, title).encode("utf-8")
    return files


def _face(html_text: str, side: str, mode: str) -> str:
    night = " nightMode night_mode" if mode == "night" else ""
    return (
        f'<figure class="pv-face pv-{mode}" data-side="{side}" data-mode="{mode}">'
        f"<figcaption>{side} · {mode}</figcaption>"
        f'<div class="card card1{night}">{html_text}</div></figure>'
    )


def _media_links(text: str) -> str:
    """Point ``<img src="name">`` at ``media/name`` (Anki serves media from the
    collection's media folder; the preview keeps it in its own)."""
    import re

    return re.sub(
        r'(<img\b[^>]*\bsrc=")(?![a-z][a-z0-9+.-]*:|/)([^"]+)"', r'\1media/\2"', text, flags=re.I
    )


def preview_page(cards: list[PreviewCard], css: str, title: str) -> str:
    """The preview page: a search box, then per card its id, deck, position and tags over
    the front and the back, by day and by night."""
    items = []
    for card in cards:
        tags = " ".join(card.tags)
        state = " · suspended" if card.suspended else ""
        faces = "".join(
            _face(_media_links(text), side, mode)
            for side, text in (("front", card.question), ("back", card.answer))
            for mode in ("day", "night")
        )
        items.append(
            f'<section class="pv-item" id="card-{html.escape(card.id)}" '
            f'data-id="{html.escape(card.id)}" data-tags="{html.escape(tags)}">'
            f'<h2 class="pv-title"><a href="#card-{html.escape(card.id)}">'
            f"{html.escape(card.id)}</a></h2>"
            f'<p class="pv-about">{html.escape(card.deck.replace(chr(31), "::"))} · new '
            f"#{card.position}{state}<br>{html.escape(tags)}</p>"
            f'<div class="pv-faces">{faces}</div></section>'
        )
    count = json.dumps(len(cards))
    return PAGE.format(
        title=html.escape(title),
        css=css.replace("</", "<\\/"),
        page_css=PAGE_CSS.replace("{day}", DAY_CANVAS).replace("{night}", NIGHT_CANVAS),
        count=len(cards),
        total=count,
        items="\n".join(items),
        script=PAGE_SCRIPT,
    )


PAGE_CSS = """
body.pv-page { margin: 0; font: 15px/1.4 system-ui, sans-serif; color: #1f2328;
  background: #eaeef2; }
.pv-bar { display: flex; flex-wrap: wrap; gap: 0.5em 1em;
  align-items: center; padding: 0.6em 1em; background: #ffffff; border-bottom: 1px solid #8c959f; }
.pv-bar h1 { font-size: 1.05em; margin: 0; }
.pv-bar input[type=search] { flex: 1 1 14em; font: inherit; padding: 0.3em 0.5em;
  border: 1px solid #6e7781; border-radius: 4px; }
.pv-item { margin: 1em 0; padding: 0 0 0.5em; }
.pv-item[hidden] { display: none; }
.pv-title { font-size: 1em; margin: 0 1em; }
.pv-title a { color: #0b5cad; }
.pv-about { margin: 0.1em 1em 0.5em; color: #424a53; font-size: 0.85em; overflow-wrap: anywhere; }
.pv-faces { display: grid; grid-template-columns: minmax(0, 1fr); gap: 0.6em; }
@media (min-width: 760px) {
  .pv-faces { grid-template-columns: repeat(2, minmax(0, 1fr)); margin: 0 1em; }
}
.pv-face { margin: 0; border: 1px solid #8c959f; min-width: 0; }
.pv-face > figcaption { font-size: 0.75em; padding: 0.15em 0.6em; text-transform: uppercase;
  letter-spacing: 0.04em; background: #ffffff; color: #424a53; border-bottom: 1px solid #8c959f; }
.pv-day { background: {day}; }
.pv-night { background: {night}; }
.pv-night > figcaption { background: #1e1e1e; color: #d0d0d0; }
"""

PAGE_SCRIPT = """
(function () {
  var input = document.getElementById("pv-filter");
  var count = document.getElementById("pv-count");
  var items = Array.prototype.slice.call(document.querySelectorAll(".pv-item"));
  function filter() {
    var words = input.value.toLowerCase().split(/\\s+/).filter(Boolean);
    var shown = 0;
    items.forEach(function (item) {
      var hay = (item.dataset.id + " " + item.dataset.tags).toLowerCase();
      var hit = words.every(function (w) { return hay.indexOf(w) >= 0; });
      item.hidden = !hit;
      if (hit) { shown += 1; }
    });
    count.textContent = shown + " of " + items.length + " cards";
    var query = input.value ? "#q=" + encodeURIComponent(input.value) : location.pathname;
    history.replaceState(null, "", query);
  }
  var open = document.getElementById("pv-open");
  function details() {
    document.querySelectorAll("details.qa-details").forEach(function (d) {
      d.open = open.checked;
    });
  }
  input.addEventListener("input", filter);
  open.addEventListener("change", details);
  var match = /^#q=(.*)$/.exec(location.hash);
  if (match) { input.value = decodeURIComponent(match[1]); filter(); }
  details();
})();
"""

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} · card preview</title>
<style>{css}</style>
<style>{page_css}</style>
<script src="mathjax/anki.js"></script>
<script>
window.MathJax.loader.paths.mathjax = "mathjax";
window.MathJax.startup.pageReady = function () {{
  return MathJax.typesetPromise().then(function () {{
    document.documentElement.dataset.mathjax = "done";
  }});
}};
</script>
<script src="mathjax/tex-chtml-full.js" defer></script>
</head>
<body class="pv-page">
<header class="pv-bar"><h1>{title}</h1>
<input type="search" id="pv-filter" placeholder="Filter by id or tag"
  aria-label="Filter by id or tag">
<label><input type="checkbox" id="pv-open" checked> open details</label>
<span id="pv-count" data-total={total}>{count} cards</span></header>
<main>
{items}
</main>
<script>{script}</script>
</body></html>
"""

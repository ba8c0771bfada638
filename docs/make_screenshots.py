"""Render Anki cards from the built deck to PNG screenshots (docs/anki-*.png).

Imports build/<deck>.apkg into a throw-away collection with Anki's own backend, takes the
rendered front and back HTML of a few cards, and photographs them in headless Chromium in
day and night mode at phone width. MathJax (as Anki bundles it) is taken from an npm
install given with --mathjax; without it formulas show as their LaTeX source.

    python docs/make_screenshots.py --mathjax /path/to/node_modules/mathjax/es5/tex-svg.js
"""

from __future__ import annotations

import argparse
import subprocess
import tempfile
from pathlib import Path

from anki.collection import Collection, ImportAnkiPackageOptions, ImportAnkiPackageRequest

REPO = Path(__file__).resolve().parent.parent
PAGE = """<!doctype html><html><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>{css}</style>
<script>window.MathJax = {{tex: {{inlineMath: [["\\\\(", "\\\\)"]],
displayMath: [["\\\\[", "\\\\]"]]}}, svg: {{fontCache: "global"}}}};</script>
{mathjax}
</head><body class="card{night}">{html}</body></html>"""


def shoot(html_path: Path, png: Path, width: int, height: int) -> None:
    subprocess.run(
        [
            "chromium", "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
            "--disable-background-networking", "--disable-component-update", "--no-first-run",
            f"--window-size={width},{height}", "--virtual-time-budget=4000",
            f"--screenshot={png}", html_path.as_uri(),
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--apkg", type=Path, default=REPO / "build" / "deep-learning.apkg")
    parser.add_argument("--mathjax", type=Path, default=None)
    parser.add_argument("--out", type=Path, default=REPO / "docs")
    args = parser.parse_args()
    mathjax = f'<script src="{args.mathjax.resolve().as_uri()}"></script>' if args.mathjax else ""
    with tempfile.TemporaryDirectory() as tmp:
        col = Collection(str(Path(tmp) / "c.anki2"))
        request = ImportAnkiPackageRequest(
            package_path=str(args.apkg), options=ImportAnkiPackageOptions()
        )
        col.import_anki_package(request)
        shots = [("activation-functions", "front"), ("activation-functions", "back"),
                 ("custom-loss-function", "back")]  # fmt: skip
        for question_id, side in shots:
            note = col.get_note(col.find_notes(f'"Id:{question_id}"')[0])
            card = note.cards()[0]
            out = card.render_output(reload=True)
            html = out.question_text if side == "front" else out.answer_text
            html = html.replace("<details ", "<details open ")
            css = note.note_type()["css"]
            for mode, night in (("day", ""), ("night", " nightMode night_mode")):
                page = Path(tmp) / f"{question_id}-{side}-{mode}.html"
                page.write_text(
                    PAGE.format(css=css, mathjax=mathjax, night=night, html=html),
                    encoding="utf-8",
                )
                height = 420 if side == "front" else 1500
                png = args.out / f"anki-{question_id}-{side}-{mode}.png"
                shoot(page, png, 430, height)
                print("wrote", png)
        col.close()


if __name__ == "__main__":
    main()

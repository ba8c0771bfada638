"""Photograph cards of the card preview (docs/anki-*.png) in headless Chromium.

Run `exporter preview` first: it writes build/preview/index.html with every card as Anki's
own backend renders it, by day and by night, with Anki's MathJax. This script opens that
page at phone width (375 px) and at a desktop width (each card about 780 px wide) and
saves one card's front and back, day and night:

    .venv/bin/exporter preview && .venv/bin/python docs/make_screenshots.py

Writes docs/anki-<id>-<front|back>-<day|night>-<phone|desktop>.png.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

from test_cards_browser import open_at, start_browser  # noqa: E402

SCREENS = {"phone": 375, "desktop": 1600}
"""Viewport widths: a phone shows one card per row, a desktop two (day beside night)."""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--preview", type=Path, default=REPO / "build" / "preview" / "index.html")
    parser.add_argument("--card", default="batch-vs-layer-vs-instance-normalization")
    parser.add_argument("--out", type=Path, default=REPO / "docs")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as profile:
        driver = start_browser(Path(profile))
        try:
            for screen, width in SCREENS.items():
                open_at(driver, args.preview, width, height=4000)
                for side in ("front", "back"):
                    for mode in ("day", "night"):
                        face = driver.find_element(
                            "css selector",
                            f'#card-{args.card} .pv-face[data-side="{side}"][data-mode="{mode}"]'
                            " > .card",
                        )
                        driver.execute_script("arguments[0].scrollIntoView()", face)
                        png = args.out / f"anki-{args.card}-{side}-{mode}-{screen}.png"
                        png.write_bytes(face.screenshot_as_png)
                        print("wrote", png)
        finally:
            driver.quit()


if __name__ == "__main__":
    main()

"""The cards as a learner sees them, measured in a real browser (headless Chromium).

`exporter preview` writes every card of the real bank as Anki's backend renders it, day
and night; Chromium opens that page at phone width (375 px) and desktop width (1000 px)
and the checks below measure the layout and the computed styles: nothing wider than its
card unless it is inside a scroll box (which shows a cue), every formula typeset by
MathJax, every text and code token at 4.5:1 or more against what is behind it, block edges
at 3:1, and no word broken inside a table cell. A control test breaks the CSS on purpose
and expects each check to notice.

Needs Debian's `chromium` and `chromium-driver` (the Makefile installs them with apt) and
MathJax from the `aqt` wheel; without them the tests are skipped, saying why.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import copy_bank, edit_bank

from exporter.cli.commands import main

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
WIDTHS = (375, 1000)

MEASURE = (Path(__file__).parent / "cards_measure.js").read_text(encoding="utf-8")
"""The checks, in the page: the problems found per check, and counts of what was measured."""

BREAK_THE_CSS = """
const s = document.createElement("style");
s.textContent = `
  .qa-card table { display: table !important; overflow: visible !important;
    width: auto !important; }
  .qa-card th, .qa-card td { overflow-wrap: anywhere !important; min-width: 0 !important; }
  .card .highlight .c1, .card .highlight .mi { color: #aaaaaa !important; }
  .qa-card .math-display { overflow: visible !important; }
  .card.nightMode pre { border-color: #303030 !important; }
`;
document.head.appendChild(s);
"""


def _skip_reason() -> str | None:
    if CHROMIUM is None or CHROMEDRIVER is None:
        return "needs Debian's chromium and chromium-driver (make installs them with apt-get)"
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "needs selenium (requirements.lock)"
    from exporter.render.anki.preview import PreviewError, mathjax_files

    try:
        mathjax_files()
    except PreviewError as exc:
        return str(exc)
    return None


pytestmark = pytest.mark.skipif(_skip_reason() is not None, reason=_skip_reason() or "")


def start_browser(profile: Path):
    """Headless Chromium through Debian's chromedriver, with a fresh profile and nothing
    that talks to the network on its own."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
    ):
        options.add_argument(flag)
    return webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)


def open_at(driver, page: Path, width: int, height: int = 900) -> None:
    """Load the preview at a given viewport width and wait for MathJax to finish."""
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600},
    )
    driver.get(page.as_uri())
    deadline = time.monotonic() + 60
    while driver.execute_script("return document.documentElement.dataset.mathjax") != "done":
        assert time.monotonic() < deadline, "MathJax did not finish within 60 s"
        time.sleep(0.1)


def make_preview(tmp: Path, source: Path) -> Path:
    result = CliRunner().invoke(
        main, ["preview", "--source", str(source), "--out", str(tmp / "out"), "-q"]
    )
    assert result.exit_code == 0, result.output
    return tmp / "out" / "preview" / "index.html"


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    driver = start_browser(tmp_path_factory.mktemp("chromium-profile"))
    yield driver
    driver.quit()


STRESS = Path(__file__).parent / "data" / "layout-stress.yaml"
"""A card made to be hard to lay out: long inline code and URLs, a table of long words,
a wide formula and a wide line of code."""


@pytest.fixture(scope="module")
def preview(tmp_path_factory) -> Path:
    """The real bank's preview, with one question retired so the banner is measured too,
    and one card made to be hard to lay out (:data:`STRESS`)."""
    tmp = tmp_path_factory.mktemp("preview")
    source = copy_bank(tmp)
    edit_bank(source, "- id: overfitting\n", "- id: overfitting\n  retired: true\n")
    basic = source / "questions" / "basic.yaml"
    stress = STRESS.read_text(encoding="utf-8")
    basic.write_text(basic.read_text(encoding="utf-8") + stress, encoding="utf-8")
    return make_preview(tmp, source)


@pytest.fixture(scope="module")
def measured(browser, preview) -> dict[int, dict]:
    results = {}
    for width in WIDTHS:
        open_at(browser, preview, width)
        results[width] = browser.execute_script(MEASURE)
    return results


def test_preview_shows_every_card_front_and_back_day_and_night(measured, preview):
    page = preview.read_text(encoding="utf-8")
    cards = page.count('class="pv-item"')
    assert cards == 80  # the bank and the stress card
    assert 'id="card-layout-stress"' in page
    for width in WIDTHS:
        counts = measured[width]["counts"]
        assert counts["cards"] == 4 * cards, counts
        assert counts["formulas"] > 100, counts  # the bank's formulas, by day and night
        assert counts["cells"] > 100 and counts["tokens"] > 50, counts
    assert measured[375]["counts"]["card_width"] <= 375
    assert page.count("card card1 nightMode night_mode") == 2 * cards


@pytest.mark.parametrize("width", WIDTHS)
def test_nothing_is_wider_than_its_card_outside_a_scroll_box(measured, width):
    result = measured[width]
    assert not result["counts"]["page_scrolls_sideways"]
    assert result["overflow"] == [], "\n".join(result["overflow"][:20])
    assert result["cue"] == [], "scroll boxes without a visible cue: " + ", ".join(result["cue"])


def test_phone_width_has_scroll_boxes_that_show_a_cue(measured):
    # at 375 px the wide tables, formulas and code blocks of the bank must scroll
    assert measured[375]["counts"]["scroll_boxes"] >= 4, measured[375]["counts"]


@pytest.mark.parametrize("width", WIDTHS)
def test_every_formula_is_typeset(measured, width):
    assert measured[width]["math"] == [], "\n".join(measured[width]["math"][:20])


@pytest.mark.parametrize("width", WIDTHS)
def test_text_and_code_tokens_reach_4_5_to_1_and_block_edges_3_to_1(measured, width):
    result = measured[width]
    assert result["contrast"] == [], "\n".join(result["contrast"][:20])
    assert result["edges"] == [], "\n".join(result["edges"][:20])


@pytest.mark.parametrize("width", WIDTHS)
def test_no_word_is_broken_inside_a_table_cell(measured, width):
    assert measured[width]["words"] == [], "\n".join(measured[width]["words"][:20])


def test_retired_card_shows_its_banner_and_others_do_not(browser, preview, measured):
    open_at(browser, preview, 1000)
    shown = browser.execute_script(
        "return Array.from(document.querySelectorAll('.qa-retired'))"
        ".filter(e => e.getBoundingClientRect().height > 0)"
        ".map(e => e.closest('.pv-item').dataset.id)"
    )
    assert set(shown) == {"overfitting"}
    assert len(shown) == 4  # front and back, day and night


def test_the_checks_catch_broken_css(browser, preview, measured):
    """The control: the same page with the old CSS faults put back fails every check."""
    open_at(browser, preview, 375)
    browser.execute_script(BREAK_THE_CSS)
    broken = browser.execute_script(MEASURE)
    assert broken["overflow"], "an unscrolled wide table and formula went unnoticed"
    assert broken["words"], "words broken in table cells went unnoticed"
    tokens = [line for line in broken["contrast"] if "<span.c1>" in line or "<span.mi>" in line]
    assert tokens, broken["contrast"]
    assert broken["edges"], "an invisible night code-block edge went unnoticed"

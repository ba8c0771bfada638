"""The cheat sheet (packed topic panels of key facts), the key rules (W108-W110) and the
print fixes every PDF shares, read back from the real bank's PDFs with pypdf/pdfplumber."""

from __future__ import annotations

import itertools
import re
import shutil
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pdfplumber
import pytest
from conftest import REPO_ROOT, copy_bank, load_bank, write_source
from pypdf import PdfReader

from exporter.build.pipeline import BuildRequest, BuildResult, Selection, build
from exporter.render.pdf import cheatsheet as cs
from exporter.render.pdf.cheatitems import first_sentence, short_label
from exporter.render.pdf.mathtext import to_html
from exporter.render.pdf.packing import Block, pack
from exporter.text import markup

pytestmark = pytest.mark.filterwarnings("ignore:path is deprecated:DeprecationWarning")
MM = 72 / 25.4


def run_build(source: Path, out: Path, targets: tuple[str, ...], **options: Any) -> BuildResult:
    return build(BuildRequest(source=source, out=out, targets=targets, options=options))


def squeeze(text: str) -> str:
    """Text without any white space (line breaks, no-break spaces), for substring checks."""
    return re.sub(r"\s+", "", text)


@dataclass
class Sheet:
    path: Path
    result: BuildResult

    @property
    def questions(self) -> list[Any]:
        assert self.result.project is not None and self.result.project.bank is not None
        return [q for q in self.result.project.bank.questions if not q.retired]


@pytest.fixture(scope="module")
def bank(tmp_path_factory: pytest.TempPathFactory) -> Sheet:
    root = tmp_path_factory.mktemp("cheatsheet")
    source = copy_bank(root)
    result = run_build(source, root / "build", ("cheatsheet",))
    assert not result.diagnostics.failed(), [d.format() for d in result.diagnostics]
    return Sheet(root / "build" / "deep-learning-cheatsheet.pdf", result)


def columns_of(page: Any, columns: int = 4) -> list[tuple[float, float]]:
    """The x ranges of the sheet's columns (A4 landscape, the renderer's margins)."""
    geometry = cs.Geometry(297.0, 210.0, columns)
    left = geometry.margins[3] * MM
    width = geometry.column_width * MM
    gap = geometry.gap * MM
    return [(left + i * (width + gap), left + i * (width + gap) + width) for i in range(columns)]


def text_area(page: Any) -> tuple[float, float, float, float]:
    top, right, bottom, left = (m * MM for m in cs.MARGIN_MM)
    return left, top, float(page.width) - right, float(page.height) - bottom


def column_bottoms(
    page: Any,
    columns: list[tuple[float, float]] | None = None,
    area: tuple[float, float] | None = None,
) -> list[float]:
    """The lowest glyph of each column (pt from the page top), the footer left out; by
    default the cheat sheet's columns and text area, else ``columns`` and ``(top, bottom)``."""
    top, bottom = area if area is not None else text_area(page)[1::2]
    result = []
    for x0, x1 in columns if columns is not None else columns_of(page):
        chars = [
            c for c in page.chars if x0 - 1 <= c["x0"] and c["x1"] <= x1 + 1 and c["top"] < bottom
        ]
        result.append(max((c["bottom"] for c in chars), default=top))
    return result


def fill_ratio(bottoms: list[float], top: float, bottom: float) -> float:
    """How full a page is: its columns' text height over their full height."""
    return sum(b - top for b in bottoms) / (len(bottoms) * (bottom - top))


def test_real_bank_fits_four_pages_and_shows_every_key(bank: Sheet) -> None:
    reader = PdfReader(bank.path)
    assert len(reader.pages) <= 4
    text = squeeze(" ".join(page.extract_text() or "" for page in reader.pages))
    missing = []
    for question in bank.questions:
        assert question.key, f"{question.id} has no key"
        html = markup.render_field(question.key, True).html
        html = re.sub(r'<span class="math math-inline">.*?</span>', "\0", html, flags=re.S)
        for piece in markup.plain_text(html).split("\0"):
            if squeeze(piece) and squeeze(piece) not in text:
                missing.append((question.id, piece))
    assert not missing, missing[:5]


def test_pages_are_full_and_the_last_page_is_balanced(bank: Sheet) -> None:
    with pdfplumber.open(bank.path) as pdf:
        pages = pdf.pages
        assert len(pages) >= 2
        _left, top, _right, bottom = text_area(pages[0])
        for number, page in enumerate(pages[:-1], start=1):
            bottoms = column_bottoms(page)
            fill = fill_ratio(bottoms, top, bottom)
            assert fill >= 0.85, (number, round(fill, 3), bottoms)
        last = [b - top for b in column_bottoms(pages[-1])]
        assert max(last) - min(last) <= 0.3 * max(last), last


def test_no_panel_starts_in_the_last_tenth_of_a_column(bank: Sheet) -> None:
    with pdfplumber.open(bank.path) as pdf:
        for number, page in enumerate(pdf.pages, start=1):
            _left, top, _right, bottom = text_area(page)
            heads = head_rects(page)
            assert heads, number
            for rect in heads:
                assert rect["top"] < top + 0.9 * (bottom - top), (number, rect["top"])


def head_rects(page: Any) -> list[dict[str, Any]]:
    """The panel headings' backgrounds: bars of the heading colour, one column wide."""
    (x0, x1), *_ = columns_of(page)
    return [
        r
        for r in page.rects
        if 3 < r["height"] < 20 and r["width"] <= x1 - x0 + 2 and _is_head_colour(r)
    ]


def _is_head_colour(rect: dict[str, Any]) -> bool:
    colour = rect.get("non_stroking_color")
    if not isinstance(colour, (list, tuple)) or len(colour) != 3:
        return False
    red, green, _blue = (float(c) for c in colour)
    return abs(red - 0x1F / 255) < 0.02 and abs(green - 0x3A / 255) < 0.02


def test_no_glyph_outside_the_text_area(bank: Sheet) -> None:
    with pdfplumber.open(bank.path) as pdf:
        for number, page in enumerate(pdf.pages, start=1):
            left, top, right, bottom = text_area(page)
            footer = [c for c in page.chars if c["top"] >= bottom]
            body = [c for c in page.chars if c["top"] < bottom]
            outside = [
                c["text"]
                for c in body
                if c["x0"] < left - 0.5
                or c["x1"] > right + 0.5
                or c["top"] < top - 0.5
                or c["bottom"] > bottom + 0.5
            ]
            assert not outside, (number, "".join(outside)[:60])
            assert footer and all(c["bottom"] < float(page.height) - 3 * MM for c in footer)
            heads = [r["top"] for r in head_rects(page)]
            columns_top = min(heads) - 1  # the masthead spans the columns on page one
            for x0, x1 in columns_of(page):
                inside = [
                    c
                    for c in body
                    if c["x0"] >= x0 - 1 and c["x0"] < x1 and c["top"] >= columns_top
                ]
                over = [c["text"] for c in inside if c["x1"] > x1 + 1]
                assert not over, (number, "".join(over)[:60])


def test_outline_has_every_topic_and_the_topic_strip_links(bank: Sheet) -> None:
    reader = PdfReader(bank.path)
    titles = [item.title for item in reader.outline if not isinstance(item, list)]
    assert "Fundamentals" in titles and "Transformers and attention" in titles
    links = [
        annot.get_object()
        for annot in reader.pages[0].get("/Annots", [])
        if annot.get_object().get("/Subtype") == "/Link"
    ]
    assert len(links) >= len(titles)


def test_no_contents_list_on_a_four_page_sheet(bank: Sheet) -> None:
    text = PdfReader(bank.path).pages[0].extract_text() or ""
    assert "Contents" not in text


def test_too_small_a_budget_warns_w110_and_takes_more_pages(tmp_path: Path) -> None:
    source = copy_bank(tmp_path)
    result = run_build(source, tmp_path / "out", ("cheatsheet",), pages=1)
    found = [d for d in result.diagnostics if d.code == "W110"]
    assert len(found) == 1, [d.format() for d in result.diagnostics]
    assert found[0].location.path.endswith("deck.yaml")
    pages = len(PdfReader(tmp_path / "out" / "deep-learning-cheatsheet.pdf").pages)
    assert pages > 1
    assert f"needs {pages} pages at 6.5 pt" in found[0].message
    assert "of the 1-page budget" in found[0].message


def test_key_rules_w108_and_w109_are_located(tmp_path: Path) -> None:
    long_key = " ".join(["word"] * 31)
    source = write_source(
        tmp_path,
        f"""\
- id: dropout
  level: basic
  question: What is dropout?
  answer: Randomly zeroing activations during training. It regularizes.
  key: {long_key}

- id: momentum
  level: basic
  question: What does momentum do?
  answer: It smooths the updates.
""",
    )
    _bank, diagnostics = load_bank(source)
    found = {d.code: d for d in diagnostics if d.code in ("W108", "W109")}
    assert found["W108"].location.line == 5 and "31 words" in found["W108"].message
    assert found["W109"].location.line == 7  # the question's "- id:" line
    keyless = write_source(
        tmp_path / "keyless",
        """\
- id: momentum
  level: basic
  question: What does momentum do?
  answer: It smooths the updates.
""",
    )
    _bank, diagnostics = load_bank(keyless)
    assert "W109" not in [d.code for d in diagnostics]  # a bank without keys is not nagged


def test_a_card_without_key_shows_its_first_sentence(tmp_path: Path) -> None:
    source = write_source(
        tmp_path,
        """\
- id: dropout
  level: basic
  question: What is dropout?
  answer: Randomly zeroing activations, e.g. half of them, during training. It regularizes.
  key: A regularizer that drops units at random.

- id: momentum
  level: basic
  question: What does momentum do?
  answer: It smooths the updates of gradient descent. Second sentence here.
  details: |
    $$v_t = \\frac{\\beta v_{t-1} + g_t}{1 - \\beta^t}$$
""",
    )
    result = run_build(source, tmp_path / "out", ("cheatsheet",))
    assert not result.diagnostics.failed()
    text = squeeze(PdfReader(tmp_path / "out" / "test-deck-cheatsheet.pdf").pages[0].extract_text())
    assert squeeze("It smooths the updates of gradient descent.") in text
    assert "Secondsentence" not in text
    assert squeeze("A regularizer that drops units at random.") in text
    # the drawn formula (a fraction of groups: not settable as text) carries its text
    assert "βv_t−1+g_t" in text


def test_first_sentence_and_short_label() -> None:
    assert first_sentence("It works, e.g. here. Then more.") == "It works, e.g. here."
    assert first_sentence("One line only") == "One line only"

    def full() -> Any:
        return "unused"

    assert short_label("What is a perceptron?", full) == "Perceptron"
    assert short_label("What is the swish activation function, and why is it used?", full) == (
        "Swish activation function"
    )
    assert short_label("What is the difference between A and B?", full) == "A vs. B"
    assert short_label("How does deep learning differ from classical ML?", full) == (
        "Deep learning vs. classical ML"
    )
    assert short_label("Why do RNNs suffer from vanishing gradients?", full) == (
        "Why do RNNs suffer from vanishing gradients"
    )
    assert short_label("What is `x`?", full) == "unused"


def test_math_as_text_keeps_the_sans_face_and_falls_back_to_drawings() -> None:
    html = to_html(r"\hat{y}=\sigma(\mathbf{w}^\top\mathbf{x}+b)")
    assert html is not None and "<sup" in html and "σ" in html and "<b>w</b>" in html
    assert to_html(r"\frac{a+b}{c}") is None
    assert to_html(r"\begin{pmatrix}a\end{pmatrix}") is None
    assert to_html(r"\frac{1}{2}") == "1/2"


def test_packing_rules() -> None:
    panels = [
        [Block(f"p{p}", 10.0)] + [Block(f"p{p}i{i}", 30.0) for i in range(7)] for p in range(6)
    ]
    packed = pack(panels, columns=3, height=200.0, first_page_top=20.0, frame=4.0, gap=3.0)
    for page in packed.pages:
        for column in page:
            for index, piece in enumerate(column):
                assert piece.items, "a heading is never alone"
                if index:
                    assert not piece.continued
    for fill in packed.fills[:-1]:
        assert fill >= 0.85
    ids = [i for page in packed.pages for col in page for piece in col for i in piece.items]
    assert ids == [b.id for panel in panels for b in panel[1:]]


def _odd_key_page(path: Path) -> int:
    for number, page in enumerate(PdfReader(path).pages, start=1):
        if "Answer key" in " ".join((page.extract_text() or "").split()):
            return number
    raise AssertionError("no answer key")


@pytest.mark.slow
@pytest.mark.parametrize("paper", ["a4", "letter"])
@pytest.mark.parametrize("levels", [(), ("basic",)])
def test_quiz_key_starts_on_a_new_sheet(
    tmp_path: Path, paper: str, levels: tuple[str, ...]
) -> None:
    source = copy_bank(tmp_path)
    request = BuildRequest(
        source=source,
        out=tmp_path / "out",
        targets=("quiz",),
        selection=Selection(levels),
        options={"paper": paper},
    )
    assert not build(request).diagnostics.failed()
    (path,) = (tmp_path / "out").glob("*-quiz.pdf")
    number = _odd_key_page(path)
    assert number % 2 == 1, (paper, levels, number)


@pytest.mark.slow
def test_guide_code_blocks_never_split_and_formulas_have_text(tmp_path: Path) -> None:
    source = copy_bank(tmp_path)
    assert not run_build(source, tmp_path / "out", ("guide",)).diagnostics.failed()
    path = tmp_path / "out" / "deep-learning-guide.pdf"
    ends: list[tuple[bool, bool]] = []  # per column: (first line is code, last line is code)
    with pdfplumber.open(path) as pdf:
        width = float(pdf.pages[0].width)
        for page in pdf.pages:
            top, bottom = 14 * MM, float(page.height) - 13 * MM
            for x0, x1 in ((0, width / 2), (width / 2, width)):
                chars = [
                    c
                    for c in page.chars
                    if x0 <= c["x0"] < x1 and top <= c["top"] < bottom and c["text"].strip()
                ]
                lines: dict[int, list[Any]] = {}
                for c in chars:
                    lines.setdefault(round(c["top"]), []).append(c)
                if not lines:
                    continue
                ordered = [lines[k] for k in sorted(lines)]

                def code(line: list[Any]) -> bool:
                    return all("Mono" in c["fontname"] for c in line)

                ends.append((code(ordered[0]), code(ordered[-1])))
            for x0, x1 in ((0, width / 2), (width / 2, width)):
                inside = [c for c in page.chars if x0 <= c["x0"] < x1 - 4]
                assert all(c["x1"] <= x1 + 1 for c in inside if x1 < width), "glyph over gutter"
            assert all(
                c["x0"] >= 11 * MM - 1 and c["x1"] <= width - 11 * MM + 1 for c in page.chars
            )
    with pdfplumber.open(path) as pdf:  # the running head names level and topic on every page
        for number, page in enumerate(pdf.pages[1:], start=2):
            head = " ".join(w["text"] for w in page.extract_words() if w["top"] < 14 * MM)
            assert re.search(r"(Basic|Intermediate|Advanced) · \w", head), (number, head)
    for (_, last_code), (first_code, _) in itertools.pairwise(ends):
        assert not (last_code and first_code), "a code block continues in the next column"
    text = " ".join(page.extract_text() or "" for page in PdfReader(path).pages)
    assert "∂" in text and "σ" in text  # formulas as text or with their text layer


def test_flashcard_fronts_have_no_ids_and_backs_no_borders(tmp_path: Path) -> None:
    source = tmp_path / "source"
    shutil.copytree(REPO_ROOT / "tests" / "roots" / "pdf-small" / "source", source)
    assert not run_build(source, tmp_path / "out", ("flashcards",)).diagnostics.failed()
    path = tmp_path / "out" / "pdf-small-flashcards.pdf"
    reader = PdfReader(path)
    front, back = reader.pages[0].extract_text() or "", reader.pages[1].extract_text() or ""
    assert "alpha-blending" not in front.replace("\n", "")
    assert "alpha-blending" in back.replace("\n", "") or "alpha" in back
    with pdfplumber.open(path) as pdf:
        assert pdf.pages[0].rects or pdf.pages[0].lines
        sizes = Counter(round(c["size"], 1) for c in pdf.pages[1].chars if c["size"] > 6.2)
        assert sizes, "back text"


def test_items_are_drawn_where_a_direct_layout_puts_them(bank: Sheet, tmp_path: Path) -> None:
    """The sheet lays each item out once (to measure it) and draws that layout into its
    slot of the frame. A user template that draws the items itself (no slots) gives the
    same sheet laid out directly: every glyph must be the same, at the same place, and
    shown once."""
    templates = tmp_path / "templates" / "pdf"
    templates.mkdir(parents=True)
    builtin = (REPO_ROOT / "templates" / "pdf" / "cheatsheet.html.j2").read_text()
    assert "{%- if entry.id in slots %}" in builtin
    templates.joinpath("cheatsheet.html.j2").write_text(
        builtin.replace("{%- if entry.id in slots %}", "{%- if false %}")
    )
    source = bank.path.parent.parent / "source"
    out = tmp_path / "direct"
    result = build(
        BuildRequest(
            source=source, out=out, targets=("cheatsheet",), templates=tmp_path / "templates"
        )
    )
    assert not result.diagnostics.failed(), [d.format() for d in result.diagnostics]
    direct = out / "deep-learning-cheatsheet.pdf"

    def glyphs(path: Path) -> list[list[tuple[str, float, float]]]:
        with pdfplumber.open(path) as pdf:
            return [
                sorted((c["text"], round(c["x0"], 0), round(c["top"], 0)) for c in page.chars)
                for page in pdf.pages
            ]

    stamped, laid_out = glyphs(bank.path), glyphs(direct)
    assert len(stamped) == len(laid_out)
    for number, (ours, theirs) in enumerate(zip(stamped, laid_out, strict=True), start=1):
        assert len(ours) == len(theirs), number
        moved = [(a, b) for a, b in zip(ours, theirs, strict=True) if a != b]
        assert len(moved) <= len(ours) // 200, (number, moved[:5])
    # every question's label is shown once: its measured page is drawn once, nowhere else
    text = squeeze(" ".join(p.extract_text() or "" for p in PdfReader(bank.path).pages))
    checked = 0
    for question in bank.questions:
        first = squeeze(re.split(r"[$`*_\\(\[]", question.key)[0])[:25]
        if len(first) >= 16:
            assert text.count(first) == 1, (question.id, first)
            checked += 1
    assert checked >= 20


def test_formulas_drawn_side_by_side_match_one_by_one() -> None:
    """``prepare`` draws the formulas a dry run collected on forked workers into the cache;
    what it caches is what drawing them here gives, failures included."""
    from exporter.core.cache import Cache
    from exporter.render.pdf.math import MathRenderer, draw

    wanted = [
        (r"\frac{a}{b+c}", True),
        (r"\sum_{i=1}^{n} x_i^2", True),
        (r"\sqrt{\sigma^2 + \epsilon}", False),
        (r"\left(\frac{1}{2}\right)", True),
        (r"\frac{1}{", True),
        (r"\frac{a}{b+c}", True),
    ]
    renderer = MathRenderer(Cache(None))
    with renderer.collecting() as noted:
        for latex, display in wanted:
            assert renderer.formula(latex, display) is not None
    assert noted == wanted and renderer.drawn == 0
    renderer.prepare(noted)
    assert renderer.drawn == 5  # each distinct formula once
    for latex, display in wanted:
        got = renderer.formula(latex, display)
        try:
            expected: object = draw(latex, display)
        except Exception as exc:
            expected = str(exc)
        assert got == expected, latex
    assert renderer.drawn == 5  # all answered from the cache
    # a second dry run answers what is drawn as drawn and notes only what is new
    with renderer.collecting() as again:
        assert renderer.formula(r"\frac{a}{b+c}", True) == draw(r"\frac{a}{b+c}", True)
        renderer.formula(r"\int_0^1 f", True)
    assert again == [(r"\int_0^1 f", True)] and renderer.drawn == 5

"""The printable PDFs (cheat sheet, flashcards, quiz), read back with pypdf and pdfplumber.

One module-scoped build of ``roots/pdf-small`` (9 active questions, 1 retired) serves most
tests; the rest build small variants. Everything uses the real WeasyPrint.
"""

from __future__ import annotations

import math
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pdfplumber
import pytest
from conftest import DECK_YAML, REPO_ROOT, ROOTS, TAXONOMY_YAML
from pypdf import PdfReader

from exporter.build.pipeline import BuildRequest, BuildResult, build
from exporter.core.cache import Cache
from exporter.render.pdf.fetcher import allowed_file, make_url_fetcher, url_allowed
from exporter.render.pdf.grid import CardGrid
from exporter.render.pdf.job import PAPER_MM
from exporter.render.pdf.math import CACHE_NAMESPACE, MathRenderer
from exporter.render.pdf.quiz import quiz_order

pytestmark = pytest.mark.filterwarnings("ignore:path is deprecated:DeprecationWarning")

PT_PER_MM = 72 / 25.4
SMALL = ROOTS / "pdf-small" / "source"


def normalized(text: str) -> str:
    """Whitespace collapsed, so line breaks inside a sentence do not matter."""
    return " ".join(text.split())


def page_texts(path: Path) -> list[str]:
    """Each page's text in drawing order (pypdf follows the content stream)."""
    return [normalized(page.extract_text() or "") for page in PdfReader(path).pages]


def run_build(source: Path, out: Path, targets: tuple[str, ...], **options: Any) -> BuildResult:
    return build(BuildRequest(source=source, out=out, targets=targets, options=options))


def codes(result: BuildResult) -> list[str]:
    return [d.code for d in result.diagnostics]


@dataclass
class SmallBuild:
    source: Path
    out: Path
    result: BuildResult
    active: list[Any]
    retired: list[Any]

    def pdf(self, name: str) -> Path:
        return self.out / f"pdf-small-{name}.pdf"


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> SmallBuild:
    root = tmp_path_factory.mktemp("pdf-small")
    source = root / "source"
    shutil.copytree(SMALL, source)
    out = root / "build"
    result = run_build(source, out, ("cheatsheet", "guide", "flashcards", "quiz"), details=True)
    assert not result.diagnostics.failed(), [d.format() for d in result.diagnostics]
    assert result.project is not None and result.project.bank is not None
    questions = result.project.bank.questions
    return SmallBuild(
        source,
        out,
        result,
        [q for q in questions if not q.retired],
        [q for q in questions if q.retired],
    )


def prefix(question: Any) -> str:
    return normalized(question.question)[:30]


# ---------------------------------------------------------------------------------------
# Cheat sheet


def test_guide_has_every_active_question_once(small: SmallBuild) -> None:
    text = " ".join(page_texts(small.pdf("guide")))
    assert len(small.active) == 9
    for question in small.active:
        assert text.count(prefix(question)) == 1, question.id
    for question in small.retired:
        assert prefix(question) not in text


def test_guide_contents_page_numbers_header_and_footer(small: SmallBuild, tmp_path: Path) -> None:
    result = run_build(
        small.source,
        tmp_path,
        ("guide",),
        details=True,
        columns=1,
        orientation="landscape",
    )
    assert not result.diagnostics.failed()
    path = tmp_path / "pdf-small-guide.pdf"
    pages = page_texts(path)
    assert len(pages) == 2, "one landscape column makes the small bank two pages long"
    assert PdfReader(path).pages[0].mediabox.width > PdfReader(path).pages[0].mediabox.height
    assert "Contents" in pages[0]
    with pdfplumber.open(path) as pdf:
        words = pdf.pages[0].extract_words()
    for level, question_id in (("Basic", "alpha-basics"), ("Advanced", "alpha-premultiplied")):
        title = next(w for w in words if w["text"] == level)  # the first one is in the contents
        numbers = [
            w["text"]
            for w in words
            if abs(w["top"] - title["top"]) < 1 and w["x0"] > title["x1"] and w["text"].isdigit()
        ]
        assert numbers, f"no page number for {level} in the contents"
        page = int(numbers[0])
        question = next(q for q in small.active if q.id == question_id)
        assert prefix(question) in pages[page - 1], f"{level} is not on page {page}"
    for number, text in enumerate(pages, start=1):
        assert f"Page {number} of {len(pages)}" in text
    # running header with the deck title on every page after the first
    assert re.search(r"PDF Test Deck Advanced · \w+ topic", pages[1])  # deck title, section


def test_pdfs_have_no_dotted_or_dashed_lines() -> None:
    css = "".join(p.read_text() for p in (REPO_ROOT / "templates" / "pdf").glob("*"))
    assert not re.search(r"\b(dotted|dashed)\b", re.sub(r"/\*.*?\*/", "", css, flags=re.S))
    assert "column-fill: auto" in css


# ---------------------------------------------------------------------------------------
# Flashcards


@dataclass(frozen=True)
class CardBox:
    x0: float
    top: float
    x1: float
    bottom: float

    def contains(self, x: float, y: float, slack: float = 0.5) -> bool:
        return (
            self.x0 - slack <= x <= self.x1 + slack and self.top - slack <= y <= self.bottom + slack
        )


def card_boxes(page: Any) -> list[CardBox]:
    """The outer edge of every card frame on a page.

    WeasyPrint draws each frame as two filled rectangles (outer and inner edge of the
    border); the outer one is the card box, not inside any other rectangle.
    """
    boxes = [
        CardBox(r["x0"], r["top"], r["x1"], r["bottom"])
        for r in page.rects
        if r["x1"] - r["x0"] > 100 and r["bottom"] - r["top"] > 100
    ]

    def within(inner: CardBox, outer: CardBox) -> bool:
        return (
            outer.x0 <= inner.x0
            and inner.x1 <= outer.x1
            and outer.top <= inner.top
            and inner.bottom <= outer.bottom
        )

    return [b for b in boxes if not any(o is not b and within(b, o) for o in boxes)]


def numbered_boxes(page: Any) -> dict[int, CardBox]:
    """Card number (from the ``#k`` label) → the card frame that holds it."""
    result = {}
    boxes = card_boxes(page)
    for word in page.extract_words():
        if re.fullmatch(r"#\d+", word["text"]):
            holder = [b for b in boxes if b.contains(word["x0"], word["top"], 0)]
            assert len(holder) == 1, f"label {word['text']} is not inside exactly one card"
            result[int(word["text"][1:])] = holder[0]
    return result


def test_flashcard_page_count_and_texts(small: SmallBuild) -> None:
    path = small.pdf("flashcards")
    pages = page_texts(path)
    count = len(small.active)
    assert len(pages) == 2 * math.ceil(count / 8) == 4
    fronts = " ".join(pages[0::2])
    backs = " ".join(pages[1::2])
    for question in small.active:
        assert prefix(question) in fronts, question.id
        assert prefix(question) not in backs
        assert question.id not in fronts and question.id in backs  # ids give answers away
    for question in small.retired:
        assert question.id not in fronts + backs


def test_flashcard_backs_mirror_fronts_long_edge(small: SmallBuild) -> None:
    with pdfplumber.open(small.pdf("flashcards")) as pdf:
        width = float(pdf.pages[0].width)
        seen = 0
        for front, back in zip(pdf.pages[0::2], pdf.pages[1::2], strict=True):
            fronts, backs = numbered_boxes(front), numbered_boxes(back)
            assert fronts.keys() == backs.keys() and fronts
            for number, box in fronts.items():
                mirrored = backs[number]
                tolerance = 0.5 * PT_PER_MM
                assert abs(mirrored.x0 - (width - box.x1)) < tolerance, number
                assert abs(mirrored.x1 - (width - box.x0)) < tolerance, number
                assert abs(mirrored.top - box.top) < tolerance, number
                assert abs(mirrored.bottom - box.bottom) < tolerance, number
                seen += 1
        assert seen == len(small.active)


def test_every_card_has_the_same_size_and_text_stays_inside(small: SmallBuild) -> None:
    with pdfplumber.open(small.pdf("flashcards")) as pdf:
        sizes = set()
        for page in pdf.pages:
            boxes = card_boxes(page)
            assert boxes
            sizes.update((round(b.x1 - b.x0, 1), round(b.bottom - b.top, 1)) for b in boxes)
            for char in page.chars:
                x = (char["x0"] + char["x1"]) / 2
                y = (char["top"] + char["bottom"]) / 2
                assert any(b.contains(x, y, 0) for b in boxes), f"{char['text']!r} outside a card"
                inside = [b for b in boxes if b.contains(x, y, 0)]
                assert all(b.x0 <= char["x0"] + 0.3 and char["x1"] <= b.x1 + 0.3 for b in inside), (
                    f"{char['text']!r} crosses a card edge"
                )
        width, height = PAPER_MM["a4"]
        expected = ((width - 20) / 2 * PT_PER_MM, (height - 20) / 4 * PT_PER_MM)
        assert len(sizes) == 1
        ((w, h),) = sizes
        assert abs(w - expected[0]) < 0.5 and abs(h - expected[1]) < 0.5


def test_flashcards_short_edge_calibration_and_per_page(small: SmallBuild, tmp_path: Path) -> None:
    result = run_build(
        small.source,
        tmp_path / "out",
        ("flashcards",),
        per_page="4",
        flip="short",
        calibration=True,
    )
    assert not result.diagnostics.failed()
    path = tmp_path / "out" / "pdf-small-flashcards.pdf"
    pages = page_texts(path)
    assert len(pages) == 2 + 2 * math.ceil(len(small.active) / 4) == 8
    assert "Duplex calibration" in pages[0]
    with pdfplumber.open(path) as pdf:
        height = float(pdf.pages[0].height)
        for front, back in zip(pdf.pages[2::2], pdf.pages[3::2], strict=True):
            fronts = sorted((b.x0, b.top, b.x1, b.bottom) for b in card_boxes(front))
            backs = sorted(
                (b.x0, height - b.bottom, b.x1, height - b.top) for b in card_boxes(back)
            )
            assert len(fronts) == len(backs)
            for f, b in zip(fronts, backs, strict=True):
                assert all(abs(p - q) < 0.5 * PT_PER_MM for p, q in zip(f, b, strict=True))


def test_card_grid_geometry() -> None:
    for paper in ("a4", "letter"):
        for per_page in (4, 6, 8, 10):
            width, height = PAPER_MM[paper]
            long = CardGrid(paper, per_page, "long")
            short = CardGrid(paper, per_page, "short")
            for index in range(per_page):
                front = long.front(index)
                back = long.back(index)
                assert (back.w, back.h) == (front.w, front.h)
                assert back.x == pytest.approx(width - front.x - front.w)
                assert back.y == pytest.approx(front.y)
                back = short.back(index)
                assert back.x == pytest.approx(front.x)
                assert back.y == pytest.approx(height - front.y - front.h)
            assert short.rotate_backs and not long.rotate_backs
    shifted = CardGrid("a4", 8, "long", offset_x=1.5, offset_y=-2)
    plain = CardGrid("a4", 8, "long")
    assert shifted.back(0).x == pytest.approx(plain.back(0).x + 1.5)
    assert shifted.back(0).y == pytest.approx(plain.back(0).y - 2)
    assert shifted.front(0) == plain.front(0)


LONG_ANSWER = " ".join(f"word{i} is a rather long token of filler text" for i in range(120))


def test_answer_too_long_for_its_card_is_reported(make_source: Any, tmp_path: Path) -> None:
    questions = f"""\
- id: short-one
  level: basic
  question: What is dropout?
  answer: Randomly zeroing activations during training.
  tags: [regularization]

- id: very-long
  level: basic
  question: Why is this answer far too long?
  answer: {LONG_ANSWER}
  tags: [regularization]
"""
    source = make_source(questions, deck_yaml=DECK_YAML, taxonomy_yaml=TAXONOMY_YAML)
    result = run_build(source, tmp_path / "build", ("flashcards",))
    w106 = [d for d in result.diagnostics if d.code == "W106"]
    assert len(w106) == 1, [d.format() for d in result.diagnostics]
    found = w106[0]
    assert found.location.path.endswith("basic.yaml")
    assert found.location.line == 10  # the answer of the second question
    assert "flashcard 2" in found.message and "very-long" in found.message
    assert (tmp_path / "build" / "test-deck-flashcards.pdf").is_file()  # a warning only


def test_card_frames_and_cut_marks_are_drawn_once_under_every_sheet(small: SmallBuild) -> None:
    """The furniture (frames, cut marks) is one cached two-page PDF painted under each
    sheet as a shared Form XObject; fronts get grey frames, backs none."""
    blobs = list((small.out / ".cache" / "flashcard-furniture").glob("*.bin"))
    assert len(blobs) == 1
    reader = PdfReader(small.pdf("flashcards"))
    under = []
    for page in reader.pages:
        xobjects = page["/Resources"]["/XObject"]
        under.append(xobjects.raw_get("/ExporterUnder").idnum)
        assert page.get_contents().get_data().startswith(b"q /ExporterUnder Do Q")
    assert len(set(under[0::2])) == 1 and len(set(under[1::2])) == 1  # written once
    assert under[0] != under[1]
    grey = (0.705882, 0.705882, 0.705882)
    with pdfplumber.open(small.pdf("flashcards")) as pdf:
        fronts = [r for r in pdf.pages[0].rects if r["non_stroking_color"] == grey]
        backs = [r for r in pdf.pages[1].rects if r["non_stroking_color"] == grey]
        marks = [
            r for r in pdf.pages[0].rects if r["x1"] - r["x0"] < 2 and r["bottom"] - r["top"] > 10
        ]
    assert fronts and not backs  # borders on fronts only
    assert len(marks) == 2 * (2 + 1)  # a vertical mark above and below each column edge


# ---------------------------------------------------------------------------------------
# Quiz


def quiz_sequence(path: Path, questions: list[Any]) -> tuple[list[str], int]:
    """Question ids in the order the quiz prints them, and the answer key's page index."""
    pages = page_texts(path)
    key_page = next(i for i, text in enumerate(pages) if "Answer key" in text)
    body = " ".join(pages[:key_page])
    positions = {q.id: body.find(prefix(q)) for q in questions}
    assert all(pos >= 0 for pos in positions.values()), positions
    return sorted(positions, key=positions.__getitem__), key_page


def numbered_lines(path: Path, first_page: int) -> dict[int, str]:
    """Answer-key number → the text on the same line to its right (numbers are floats)."""
    result: dict[int, str] = {}
    with pdfplumber.open(path) as pdf:
        for page in pdf.pages[first_page:]:
            words = page.extract_words()
            for word in words:
                if re.fullmatch(r"\d+\.", word["text"]):
                    same_line = sorted(
                        (w for w in words if abs(w["top"] - word["top"]) < 2),
                        key=lambda w: w["x0"],
                    )
                    right = [w["text"] for w in same_line if 0 <= w["x0"] - word["x1"] < 200]
                    result[int(word["text"][:-1])] = " ".join(right)
    return result


def test_quiz_order_is_fixed_by_the_seed(small: SmallBuild, tmp_path: Path) -> None:
    ids = [q.id for q in small.active]
    default_order, _ = quiz_sequence(small.pdf("quiz"), small.active)
    assert default_order == quiz_order(ids, 0)
    result = run_build(small.source, tmp_path / "out", ("quiz",), seed=7)
    assert not result.diagnostics.failed()
    seeded, _ = quiz_sequence(tmp_path / "out" / "pdf-small-quiz.pdf", small.active)
    assert seeded == quiz_order(ids, 7)
    assert seeded != default_order
    assert quiz_order(ids, 7) == quiz_order(list(ids), 7)  # stable for a given seed
    assert sorted(seeded) == sorted(ids)


def test_quiz_numbers_lines_and_answer_key_on_a_new_page(small: SmallBuild) -> None:
    path = small.pdf("quiz")
    order, key_page = quiz_sequence(path, small.active)
    pages = page_texts(path)
    assert key_page >= 1 and "Answer key" not in " ".join(pages[:key_page])
    key = " ".join(pages[key_page:])
    lines = numbered_lines(path, key_page)
    by_id = {q.id: q for q in small.active}
    for number, question_id in enumerate(order, start=1):
        question = normalized(by_id[question_id].question)
        if "$" not in question[:30]:
            first_words = " ".join(question.split()[:3])
            assert lines[number].startswith(first_words), (number, question_id, lines[number])
        answer = normalized(by_id[question_id].answer)
        if "$" not in answer[:30] and not answer.startswith("-"):
            assert " ".join(answer.split()[:3]) in normalized(key), question_id
        assert prefix(by_id[question_id]) in key  # each key entry repeats its question
    with pdfplumber.open(path) as pdf:
        ruled = [r for r in pdf.pages[0].rects if r["x1"] - r["x0"] > 300]
        assert len(ruled) >= 3 * min(len(order), 3), "ruled answer lines under the questions"


def test_quiz_key_is_cached_page_by_page_and_matches_a_cold_build(
    make_source: Any, tmp_path: Path
) -> None:
    """The answer key is cut into units of whole pages where WeasyPrint breaks them; an
    edit re-lays out the unit holding it, and the result is byte-identical to a build from
    scratch, also around an answer too long for one column (it runs over a page)."""
    entries = []
    for n in range(1, 61):
        answer = LONG_ANSWER if n == 12 else f"Answer {n} is " + "filler words go here " * 20
        entries.append(
            f"- id: q{n:02d}\n  level: basic\n  question: What is item {n}?\n"
            f"  answer: {answer}\n  tags: [regularization]\n"
        )
    source = make_source("\n".join(entries), deck_yaml=DECK_YAML, taxonomy_yaml=TAXONOMY_YAML)
    out, cold = tmp_path / "out", tmp_path / "cold"
    assert not run_build(source, out, ("quiz",)).diagnostics.failed()
    units = tmp_path / "out" / ".cache" / "pdf-segments-quiz"
    before = {p.name for p in units.glob("*.bin")}
    pages = len(PdfReader(out / "test-deck-quiz.pdf").pages)
    assert len(before) >= 4  # the questions, then the key in several units
    path = source / "questions" / "basic.yaml"
    path.write_text(path.read_text().replace("Answer 30 is ", "Answer thirty, edited, is "))
    assert not run_build(source, out, ("quiz",)).diagnostics.failed()
    added = {p.name for p in units.glob("*.bin")} - before
    assert 1 <= len(added) <= 2, added  # the edited page (and the next, if it moved)
    assert not run_build(source, cold, ("quiz",)).diagnostics.failed()
    edited = (out / "test-deck-quiz.pdf").read_bytes()
    assert edited == (cold / "test-deck-quiz.pdf").read_bytes()
    assert len(PdfReader(out / "test-deck-quiz.pdf").pages) == pages
    text = normalized(" ".join(page_texts(out / "test-deck-quiz.pdf")))
    assert "Answer thirty, edited, is" in text and text.count("What is item 12?") == 2


# ---------------------------------------------------------------------------------------
# Determinism


def test_two_builds_give_identical_bytes(small: SmallBuild, tmp_path: Path) -> None:
    out = tmp_path / "again"
    shutil.copytree(small.out / ".cache", out / ".cache")  # formulas come from the cache
    env = dict(os.environ, PYTHONHASHSEED="12345")
    command = [sys.executable, "-m", "exporter", "build", "-q", "-t", "pdf", "--details"]
    command += ["--source", str(small.source), "--out", str(out)]
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    for name in ("cheatsheet", "guide", "flashcards", "quiz"):
        first = small.pdf(name).read_bytes()
        second = (out / f"pdf-small-{name}.pdf").read_bytes()
        assert first == second, name


# ---------------------------------------------------------------------------------------
# Safety: the URL fetcher


def test_url_policy(tmp_path: Path) -> None:
    root = tmp_path / "source"
    (root / "images").mkdir(parents=True)
    inside = root / "images" / "a.png"
    inside.write_bytes(b"png")
    (tmp_path / "secret.txt").write_text("secret")
    (root / "images" / "link.txt").symlink_to(tmp_path / "secret.txt")
    assert allowed_file(inside.as_uri(), [root]) == inside.resolve()
    assert allowed_file((tmp_path / "secret.txt").as_uri(), [root]) is None
    assert allowed_file((root / "images" / "link.txt").as_uri(), [root]) is None
    assert allowed_file(root.as_uri() + "/images/../../secret.txt", [root]) is None
    assert allowed_file("file:///etc/passwd", [root]) is None
    assert not url_allowed("http://example.com/x.css", [root])
    assert not url_allowed("https://example.com/x.png", [root])
    assert url_allowed("data:text/plain,hello", [root])


def test_url_fetcher_refuses_and_records(tmp_path: Path) -> None:
    (tmp_path / "ok.css").write_text("p { color: red }")
    refused: list[str] = []
    fetcher = make_url_fetcher([tmp_path], refused)
    for url in ("http://example.com/x.css", "file:///etc/passwd", "ftp://example.com/f"):
        with pytest.raises(ValueError, match="refused"):
            fetcher(url)
    assert refused == ["http://example.com/x.css", "file:///etc/passwd", "ftp://example.com/f"]
    response = fetcher((tmp_path / "ok.css").as_uri())
    assert response.read() == b"p { color: red }" and response.content_type == "text/css"
    assert fetcher("data:text/plain,hello").read() == b"hello"
    assert len(refused) == 3


def test_user_template_references_are_refused_with_w107(small: SmallBuild, tmp_path: Path) -> None:
    templates = tmp_path / "templates"
    (templates / "pdf").mkdir(parents=True)
    builtin = (REPO_ROOT / "templates" / "pdf" / "base.css").read_text()
    (templates / "pdf" / "base.css").write_text(
        '@import url("http://example.com/x.css");\n'
        + builtin
        + '\nbody { background-image: url("file:///etc/passwd"); }\n'
    )
    request = BuildRequest(
        source=small.source, out=tmp_path / "out", targets=("guide",), templates=templates
    )
    result = build(request)
    refused = [d for d in result.diagnostics if d.code == "W107"]
    messages = " ".join(d.message for d in refused)
    assert "http://example.com/x.css" in messages and "file:///etc/passwd" in messages
    assert all(d.location.path.endswith("base.css") for d in refused)
    assert {d.location.line for d in refused} >= {1}
    assert (tmp_path / "out" / "pdf-small-guide.pdf").is_file()


def test_template_error_is_e019_and_nothing_is_written(small: SmallBuild, tmp_path: Path) -> None:
    templates = tmp_path / "templates"
    (templates / "pdf").mkdir(parents=True)
    (templates / "pdf" / "quiz.html.j2").write_text(
        '{% extends "base.html.j2" %}\n{% block body %}\n{% if %}\n{% endblock %}\n'
    )
    request = BuildRequest(
        source=small.source, out=tmp_path / "out", targets=("quiz",), templates=templates
    )
    result = build(request)
    errors = [d for d in result.diagnostics if d.code == "E019"]
    assert len(errors) == 1
    assert errors[0].location.path.endswith("quiz.html.j2") and errors[0].location.line == 3
    assert not (tmp_path / "out" / "pdf-small-quiz.pdf").exists()


def test_template_runtime_error_is_e019_at_its_line(small: SmallBuild, tmp_path: Path) -> None:
    templates = tmp_path / "templates"
    (templates / "pdf").mkdir(parents=True)
    (templates / "pdf" / "quiz.html.j2").write_text(
        '{% extends "base.html.j2" %}\n{% block body %}\n<p>{{ no_such_value }}</p>\n'
        "{% endblock %}\n"
    )
    request = BuildRequest(
        source=small.source, out=tmp_path / "out", targets=("quiz",), templates=templates
    )
    errors = [d for d in build(request).diagnostics if d.code == "E019"]
    assert len(errors) == 1 and "no_such_value" in errors[0].message
    assert errors[0].location.path.endswith("quiz.html.j2") and errors[0].location.line == 3


def test_source_images_are_embedded(small: SmallBuild) -> None:
    with pdfplumber.open(small.pdf("guide")) as pdf:
        assert sum(len(page.images) for page in pdf.pages) == 1
    with pdfplumber.open(small.pdf("flashcards")) as pdf:
        assert sum(len(page.images) for page in pdf.pages) == 1
    assert not [d for d in small.result.diagnostics if d.code == "W107"]


def test_question_text_cannot_become_template_code(make_source: Any, tmp_path: Path) -> None:
    questions = """\
- id: jinja-text
  level: basic
  question: What does {{ 7 * 7 }} print in a template?
  answer: "It prints {% raw %} and <b>tags</b> literally."
  tags: [regularization]
"""
    source = make_source(questions)
    result = run_build(source, tmp_path / "build", ("quiz",))
    assert not result.diagnostics.failed(), [d.format() for d in result.diagnostics]
    text = " ".join(page_texts(tmp_path / "build" / "test-deck-quiz.pdf"))
    assert "{{ 7 * 7 }}" in text and "49" not in text
    assert "<b>tags</b>" in text


# ---------------------------------------------------------------------------------------
# Math


def test_inline_math_sits_on_the_baseline_and_scales_with_the_text() -> None:
    renderer = MathRenderer(Cache(None))
    errors: list[tuple[str, str]] = []
    html = renderer.replace(
        '<p>a <span class="math math-inline">\\(\\frac{y_i}{2^k}\\)</span> b</p>'
        '<div class="math math-display">\\[\\frac{a}{b}\\]</div>',
        lambda latex, why: errors.append((latex, why)),
    )
    assert not errors
    inline, display = re.findall(r'<img class="math-svg"[^>]*>', html)
    found = re.search(r"width:([\d.]+)em;height:([\d.]+)em;vertical-align:(-[\d.]+)em", inline)
    assert found
    width, height, align = (float(v) for v in found.groups())
    assert 1 < height < 3 and 0 < width < 3  # a fraction of about two em: follows the text
    assert -1.2 < align < -0.2  # the denominator reaches below the baseline
    assert "vertical-align" not in display and "height" not in display
    assert re.findall(r'class="math-layer"[^>]*>([^<]*)<', html)[0] == "(y_i)/(2^k)"
    svg = renderer.formula("y_i", False)
    assert not isinstance(svg, str) and "<symbol" not in svg.svg and " id=" not in svg.svg


def test_math_is_cached_by_content_and_failures_fall_back_to_source() -> None:
    cache = Cache(None)
    first = MathRenderer(cache)
    errors: list[tuple[str, str]] = []
    html = first.replace(
        '<span class="math math-inline">\\(\\sqrt[3]{x}\\)</span> and '
        '<span class="math math-inline">\\(\\frac{a}\\)</span>',
        lambda latex, why: errors.append((latex, why)),
    )
    assert first.drawn == 2 and len(cache.data[CACHE_NAMESPACE]) == 2  # none set as text
    assert [latex for latex, _ in errors] == ["\\frac{a}"]
    assert "<code>\\(\\frac{a}\\)</code>" in html
    second = MathRenderer(cache)
    again = second.replace(
        '<span class="math math-inline">\\(\\sqrt[3]{x}\\)</span> and '
        '<span class="math math-inline">\\(\\frac{a}\\)</span>',
        lambda latex, why: errors.append((latex, why)),
    )
    assert second.drawn == 0 and again == html and len(errors) == 2


def test_formula_ziamath_cannot_draw_is_e011(make_source: Any, tmp_path: Path) -> None:
    questions = """\
- id: broken-formula
  level: basic
  question: What is a half-written fraction?
  answer: It looks like $\\frac{a}$ here.
  tags: [math]
"""
    source = make_source(questions)
    result = run_build(source, tmp_path / "build", ("guide",))
    errors = [d for d in result.diagnostics if d.code == "E011"]
    assert len(errors) == 1 and errors[0].location.line == 4
    assert "\\frac{a}" in errors[0].message
    assert not (tmp_path / "build" / "test-deck-guide.pdf").exists()


def test_weasyprint_is_not_imported_by_the_module() -> None:
    modules = ", ".join(
        f"exporter.render.pdf.{name}"
        for name in (
            "cheatsheet",
            "guide",
            "packing",
            "mathtext",
            "flashcards",
            "quiz",
            "paged",
            "job",
            "math",
            "fit",
        )
    )
    code = f"import sys, {modules}; print('weasyprint' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


def test_weasyprint_import_helper_restores_ctypes_and_keeps_font_subsetting() -> None:
    """`import_weasyprint` answers cffi's library lookups itself during the import; after
    it, ctypes is untouched, HarfBuzz subsetting is loaded and arrays still work."""
    code = (
        "import ctypes.util\n"
        "before = ctypes.util.find_library\n"
        "from exporter.render.pdf.weasy import import_weasyprint\n"
        "weasyprint = import_weasyprint()\n"
        "from weasyprint.text.ffi import ffi, harfbuzz_subset\n"
        "array = ffi.new('unsigned int[3]', [7, 8, 9])\n"
        "print(ctypes.util.find_library is before, harfbuzz_subset is not None,\n"
        "      list(array), len(array), ffi.typeof(array) is ffi.typeof('unsigned int[]'),\n"
        "      len(ffi.new('unsigned int[4]', [1])), import_weasyprint() is weasyprint)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO_ROOT
    )
    assert done.stdout.split() == ["True", "True", "[7,", "8,", "9]", "3", "True", "4", "True"]


# ---------------------------------------------------------------------------------------
# Segments: documents laid out in parts, with a frame for page numbers, contents and links


def test_guide_segments_cut_at_sections_then_topics() -> None:
    from exporter.render.pdf.guide import guide_segments

    def section(name: str, *sizes: int) -> dict[str, Any]:
        topics = [
            {"id": f"{name}-t{i}", "title": f"{name} topic {i}", "entries": list(range(n))}
            for i, n in enumerate(sizes)
        ]
        return {"id": name, "title": name.title(), "topics": topics}

    small = [section("basic", 3, 4), section("advanced", 5)]
    assert len(guide_segments(small)) == 1  # a small bank stays one flowing document
    three = [section("basic", 10, 15), section("middle", 30), section("advanced", 22)]
    segments = guide_segments(three)
    assert [s["size"] for s in segments] == [25, 30, 22]
    assert [s["continued"] for s in segments] == ["", "", ""]
    long = [section("basic", 100, 100, 400)]
    segments = guide_segments(long, low=20, high=150)
    assert [s["size"] for s in segments] == [100, 100, 150, 150, 100]
    assert segments[0]["sections"][0]["title"] == "Basic"
    assert [s["continued"] for s in segments[1:]] == ["Basic"] * 4
    assert [s["continued_topic"] for s in segments] == [
        "",
        "",
        "",
        "basic topic 2",
        "basic topic 2",
    ]
    # a continued piece has no title and no id, so ids stay unique
    assert segments[3]["sections"][0]["topics"][0]["title"] == ""
    assert segments[3]["sections"][0]["id"] == ""
    entries = [
        e for s in segments for sec in s["sections"] for t in sec["topics"] for e in t["entries"]
    ]
    assert len(entries) == 600


def test_contents_links_and_outline_point_at_the_right_pages(tmp_path: Path) -> None:
    """The real bank's cheat sheet is three segments: the frame's contents numbers, its
    links and the PDF outline must all agree with where the sections really are."""
    from conftest import copy_bank

    source = copy_bank(tmp_path)
    result = run_build(source, tmp_path / "out", ("guide",))
    assert not result.diagnostics.failed()
    path = tmp_path / "out" / "deep-learning-guide.pdf"
    reader = PdfReader(path)
    texts = [normalized(page.extract_text()) for page in reader.pages]
    page_of = {id(page.indirect_reference.get_object()): n for n, page in enumerate(reader.pages)}
    links = []
    for annotation in reader.pages[0].get("/Annots", []):
        annotation = annotation.get_object()
        if annotation.get("/Subtype") == "/Link" and "/Dest" in annotation:
            dest = annotation["/Dest"]
            if isinstance(dest, str):  # a named destination
                target = reader.get_destination_page_number(reader.named_destinations[dest])
            else:
                target = page_of[id(dest[0].get_object())]
            links.append((annotation["/Rect"], target))
    assert len(links) >= 40  # three levels and their topics, title and number each
    with pdfplumber.open(path) as pdf:
        height = float(pdf.pages[0].height)
        words = pdf.pages[0].extract_words()
    checked = 0
    for rect, target in links:  # a link has two boxes: the title and its page number
        x0, x1 = sorted(float(v) for v in rect[0::2])
        y0, y1 = sorted(float(v) for v in rect[1::2])
        numbers = [
            w["text"]
            for w in words
            if w["text"].isdigit()
            and x0 - 1 <= w["x0"]
            and w["x1"] <= x1 + 1
            and height - y1 - 1 <= w["top"]
            and w["bottom"] <= height - y0 + 1
        ]
        if numbers:
            assert numbers == [str(target + 1)], (rect, numbers, target)
            checked += 1
    assert checked >= 20
    outline = reader.outline
    flat = [item for item in outline if not isinstance(item, list)]
    levels = [item for item in flat if item.title in ("Basic", "Intermediate", "Advanced")]
    nested = [i for group in outline if isinstance(group, list) for i in group]
    titles = {i.title for i in nested if not isinstance(i, list)}
    assert {"Basic", "Intermediate", "Advanced"} <= titles | {i.title for i in levels}
    for item in [*levels, *(i for i in nested if not isinstance(i, list))]:
        if item.title in ("Basic", "Intermediate", "Advanced"):
            assert item.title in texts[reader.get_destination_page_number(item)]
    for number, text in enumerate(texts, start=1):
        assert f"Page {number} of {len(texts)}" in text


def test_web_links_in_answers_survive_stacking(tmp_path: Path) -> None:
    source = tmp_path / "source"
    shutil.copytree(SMALL, source)
    questions = sorted((source / "questions").glob("*.yaml"))[0]
    text = questions.read_text()
    marker = "  answer: |\n"
    assert marker in text
    questions.write_text(
        text.replace(marker, marker + "    See [the docs](https://example.org/guide).\n", 1)
    )
    result = run_build(source, tmp_path / "out", ("guide", "quiz"))
    assert not result.diagnostics.failed(), [d.format() for d in result.diagnostics]
    for name in ("guide", "quiz"):
        reader = PdfReader(tmp_path / "out" / f"pdf-small-{name}.pdf")
        uris = [
            a.get_object()["/A"].get("/URI")
            for page in reader.pages
            for a in page.get("/Annots", [])
            if "/A" in a.get_object()
        ]
        assert "https://example.org/guide" in uris, name


def test_a_template_whose_frame_breaks_the_page_count_is_e019(tmp_path: Path) -> None:
    """A custom template whose frame is not the frame pages of base.html.j2: the frame's
    pages no longer match the content's, which is reported at the template, and nothing
    is written."""
    from conftest import copy_bank

    source = copy_bank(tmp_path)
    templates = tmp_path / "templates"
    (templates / "pdf").mkdir(parents=True)
    (templates / "pdf" / "guide.html.j2").write_text(
        "<html><body>{% for s in sections %}<p>{{ s.title }}</p>{% endfor %}"
        '{% if part != "frame" %}<div style="break-before: page">end</div>{% endif %}'
        "</body></html>\n"
    )
    out = tmp_path / "out"
    request = BuildRequest(source=source, out=out, targets=("guide",), templates=templates)
    result = build(request)
    errors = [d for d in result.diagnostics if d.code == "E019"]
    assert len(errors) == 1, [d.format() for d in result.diagnostics]
    assert errors[0].location.path == str(templates / "pdf" / "guide.html.j2")
    assert "frame" in errors[0].message
    assert not list(out.glob("*.pdf"))


def test_refused_references_are_reported_again_on_a_cached_rebuild(tmp_path: Path) -> None:
    """Parts whose layout refused a URL are never cached, so the W107 comes back on the
    next build instead of vanishing behind the cache."""
    source = tmp_path / "source"
    shutil.copytree(SMALL, source)
    templates = tmp_path / "templates"
    (templates / "pdf").mkdir(parents=True)
    builtin = (REPO_ROOT / "templates" / "pdf" / "base.css").read_text()
    (templates / "pdf" / "base.css").write_text(
        builtin + '\nbody { background-image: url("http://example.com/bg.png"); }\n'
    )
    out = tmp_path / "out"
    targets = ("cheatsheet", "guide", "flashcards", "quiz")
    for attempt in range(2):
        if attempt:  # any edit makes the targets stale; unchanged parts come from the cache
            questions = sorted((source / "questions").glob("*.yaml"))[-1]
            questions.write_text(questions.read_text() + "\n# edited\n")
        request = BuildRequest(source=source, out=out, targets=targets, templates=templates)
        result = build(request)
        owners = {d.message.split(":")[0] for d in result.diagnostics if d.code == "W107"}
        assert owners == set(targets), (attempt, [d.format() for d in result.diagnostics])

"""Typesetting read back from real PDFs: wrapped code lines carry a continuation mark and
keep off column 0, the guide flows across level breaks without half-empty pages, and no
question's first word stands alone on a line, not even before a second word as wide as the
line (which breaks instead, inside its column)."""

from __future__ import annotations

import itertools
import re
from pathlib import Path
from typing import Any

import pdfplumber
import pytest
from conftest import DECK_YAML, TAXONOMY_YAML, copy_bank, write_source
from test_cheatsheet import column_bottoms, fill_ratio
from test_pdf import card_boxes

from exporter.build.pipeline import BuildRequest, build
from exporter.render.pdf.job import CODE_MARK
from exporter.text import markup

pytestmark = pytest.mark.filterwarnings("ignore:path is deprecated:DeprecationWarning")
MM = 72 / 25.4

LONG_LINE = "model = resnet50(weights=ResNet50_Weights.IMAGENET1K_V2, progress=False)  # cached"
LONG_WORD = "name = 'a_single_identifier_longer_than_any_printed_line_of_code_in_its_column_xyz'"
CODE_QUESTIONS = f"""\
- id: long-code
  level: basic
  question: How do you load a pretrained network with its best weights?
  answer: |
    Ask the library for it:

    ```python
    {LONG_LINE}
    ```
  details: |
    ```python
    for epoch in range(10):
        {LONG_LINE}
    {LONG_WORD}
    ```
  tags: [cnn]
"""


def lines_of(page: Any) -> list[list[dict[str, Any]]]:
    """The page's printed lines: characters grouped by their top, split where a wide gap
    parts two columns or cards, each line left to right."""
    rows: dict[int, list[dict[str, Any]]] = {}
    for char in page.chars:
        rows.setdefault(round(char["top"]), []).append(char)
    return _split_rows([rows[top] for top in sorted(rows)])


def _split_rows(rows: list[list[dict[str, Any]]]) -> list[list[dict[str, Any]]]:
    """Rows of characters cut into lines where a wide gap parts two columns or cards."""
    lines: list[list[dict[str, Any]]] = []
    for row in rows:
        run: list[dict[str, Any]] = []
        for char in sorted(row, key=lambda c: c["x0"]):
            if run and char["x0"] - run[-1]["x1"] > 3 * char["size"]:
                lines.append(run)
                run = []
            run.append(char)
        lines.append(run)
    return lines


def text_of(line: list[dict[str, Any]]) -> str:
    return "".join(c["text"] for c in line)


@pytest.fixture(scope="module")
def code_pdfs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("code")
    source = write_source(root, CODE_QUESTIONS, DECK_YAML, TAXONOMY_YAML)
    targets = ("guide", "quiz", "flashcards", "cheatsheet")
    result = build(BuildRequest(source=source, out=root / "out", targets=targets, options={}))
    assert not result.diagnostics.failed(), [d.format() for d in result.diagnostics]
    return {target: root / "out" / f"test-deck-{target}.pdf" for target in targets}


@pytest.mark.parametrize("target", ["guide", "quiz", "flashcards", "cheatsheet"])
def test_wrapped_code_lines_continue_after_a_mark_past_the_line_start(
    code_pdfs: dict[str, Path], target: str
) -> None:
    continuations = 0
    with pdfplumber.open(code_pdfs[target]) as pdf:
        for page in pdf.pages:
            width, height = float(page.width), float(page.height)
            code = [
                [c for c in line if "Mono" in c["fontname"] or c["text"] == CODE_MARK]
                for line in lines_of(page)
            ]
            code = [line for line in code if line and text_of(line).strip()]
            for before, line in itertools.pairwise(code):
                glyphs = [c for c in line if c["text"].strip()]
                if glyphs[0]["text"] != CODE_MARK:
                    assert CODE_MARK not in text_of(line), text_of(line)
                    continue
                continuations += 1
                first = next(
                    (c for c in before if c["text"].strip() and c["text"] != CODE_MARK), None
                )
                assert first is not None
                # the previous printed line of the same code line starts further left
                opening = [c for c in before if c["text"] == CODE_MARK]
                start = opening[0]["x0"] - 2 * glyphs[0]["width"] if opening else first["x0"]
                assert glyphs[0]["x0"] > start + 1, (target, text_of(before), text_of(line))
                assert glyphs[1]["x0"] > glyphs[0]["x1"], text_of(line)
            for line in code:  # never outside the page's text area
                for char in line:
                    assert char["x0"] >= 5 * MM and char["x1"] <= width - 5 * MM, text_of(line)
                    assert char["top"] >= 5 * MM and char["bottom"] <= height - 5 * MM
    assert continuations >= 1, f"{target}: no code line wrapped"
    if target == "guide":  # the answer's line, the details' indented line and long word
        assert continuations >= 3


def test_a_long_code_line_is_copied_with_its_marks(code_pdfs: dict[str, Path]) -> None:
    with pdfplumber.open(code_pdfs["guide"]) as pdf:
        text = " ".join(page.extract_text() or "" for page in pdf.pages)
    joined = re.sub(rf"\s*{CODE_MARK}\s*", "", text)
    assert "".join(LONG_WORD.split()) in "".join(joined.split())


@pytest.fixture(scope="module")
def real(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Any]]:
    root = tmp_path_factory.mktemp("real")
    source = copy_bank(root)
    request = BuildRequest(
        source=source, out=root / "out", targets=("guide", "quiz", "flashcards"), options={}
    )
    result = build(request)
    assert not result.diagnostics.failed()
    assert result.project is not None and result.project.bank is not None
    return root / "out", [q for q in result.project.bank.questions if not q.retired]


@pytest.mark.slow
def test_guide_pages_are_full_across_level_breaks(real: tuple[Path, list[Any]]) -> None:
    out, _ = real
    with pdfplumber.open(out / "deep-learning-guide.pdf") as pdf:
        pages = pdf.pages
        width = float(pages[0].width)
        column = (width - 22 * MM - 6 * MM) / 2
        columns = [(11 * MM, 11 * MM + column), (width - 11 * MM - column, width - 11 * MM)]
        fills = []
        for page in pages[:-1]:
            area = (14 * MM, float(page.height) - 13 * MM)
            fills.append(round(fill_ratio(column_bottoms(page, columns, area), *area), 3))
        assert min(fills) >= 0.85, fills
        text = " ".join(page.extract_text() or "" for page in pages)
        for level in ("Basic", "Intermediate", "Advanced"):  # levels start mid-page
            assert level in text


def baseline_lines(page: Any) -> list[list[dict[str, Any]]]:
    """The page's printed lines grouped by baseline (code and bold text of different
    sizes share a line), split where a wide gap parts two columns or cards."""
    rows: list[list[dict[str, Any]]] = []
    for char in sorted(page.chars, key=lambda c: (-c["matrix"][5], c["x0"])):
        if rows and abs(rows[-1][0]["matrix"][5] - char["matrix"][5]) < 1:
            rows[-1].append(char)
        else:
            rows.append([char])
    return _split_rows(rows)


def _below(lines: list[list[dict[str, Any]]], line: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The next printed line under ``line`` in the same column or card (empty if none)."""
    x0, x1, base = line[0]["x0"], line[-1]["x1"], line[0]["matrix"][5]
    under = [
        other
        for other in lines
        if other[0]["matrix"][5] < base - 1 and other[0]["x0"] < x1 and other[-1]["x1"] > x0
    ]
    return max(under, key=lambda other: other[0]["matrix"][5], default=[])


def _squeezed(line: list[dict[str, Any]]) -> str:
    """A line's text without spaces and without a leading question number."""
    return re.sub(r"^\d+\.", "", "".join(text_of(line).split()))


def first_word_breaks(
    path: Path, target: str, pairs: set[tuple[str, str]]
) -> tuple[list[tuple[int, str, str]], list[tuple[int, list[dict[str, Any]]]]]:
    """Where a question's first two words (``pairs``, spaces squeezed out) meet a line end
    in a real PDF (flashcards: fronts only): the lines holding the first word alone
    (page, first word, what follows), and the lines ending inside the second word, which
    show that the pair was wider than the line (page, line, with the line under it)."""
    lonely, split = [], []
    with pdfplumber.open(path) as pdf:
        pages = pdf.pages[::2] if target == "flashcards" else pdf.pages
        for number, page in enumerate(pages, start=1):
            lines = baseline_lines(page)
            for line in lines:
                text = _squeezed(line)
                for first, second in pairs:
                    after = _squeezed(_below(lines, line))
                    if text == first and after.startswith(second[:12]):
                        lonely.append((number, first, after[:30]))
                    tail = text[len(first) :].rstrip("-\u2010")
                    if text.startswith(first + second[:4]) and len(tail) < len(second):
                        split.append((number, line + _below(lines, line)))
    return lonely, split


def _first_words(question: str) -> tuple[str, str]:
    words = markup.plain_text(markup.render_field(question, True).html).split()
    return (words[0], words[1]) if len(words) > 1 else (words[0], "")


@pytest.mark.slow
@pytest.mark.parametrize("target", ["guide", "quiz", "flashcards"])
def test_no_question_starts_with_its_first_word_alone_on_a_line(
    real: tuple[Path, list[Any]], target: str
) -> None:
    out, questions = real
    pairs = {_first_words(q.question) for q in questions if _first_words(q.question)[1]}
    lonely, _ = first_word_breaks(out / f"deep-learning-{target}.pdf", target, pairs)
    assert not lonely, lonely[:5]


# Second words about as wide as a line: without the glue of job.first_words_together each
# of them leaves its first word alone on a line in the guide, the quiz and the flashcards.
WIDE_SECOND_WORDS = [
    "Describe `torch.distributed.algorithms.ddp_comm_hooks.default_hooks` in a sentence.",
    "Explain `transformers.models.bert.modeling_bert.BertForSequenceClassification` briefly.",
    "When `torch.distributed.fsdp.fully_sharded_data_parallel.FullyShardedDataParallel` "
    "wraps a model, what is sharded?",
    "Tokenize Llanfairpwllgwyngyllgogerychwyrndrobwllllantysiliogogogoch with BPE: how many "
    "pieces?",
    "Why Pneumonoultramicroscopicsilicovolcanoconiosis?",
    "Explain `torch.optim.lr_scheduler.CosineAnnealingWarmRestarts` briefly.",
]
WIDE_PAIRS = {
    ("".join(first.split()), "".join(second.strip("`").split()))
    for first, second in (_first_words(q) for q in WIDE_SECOND_WORDS)
}
WIDE_YAML = "".join(
    f"- id: wide-{i}\n  level: basic\n  question: '{q}'\n  answer: A short answer.\n"
    "  tags: [math]\n\n"
    for i, q in enumerate(WIDE_SECOND_WORDS)
)


@pytest.fixture(scope="module")
def wide_pdfs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("wide")
    source = write_source(root, WIDE_YAML, DECK_YAML, TAXONOMY_YAML)
    targets = ("guide", "quiz", "flashcards")
    result = build(BuildRequest(source=source, out=root / "out", targets=targets, options={}))
    assert not result.diagnostics.failed(), [d.format() for d in result.diagnostics]
    return {target: root / "out" / f"test-deck-{target}.pdf" for target in targets}


def text_columns(target: str, page: Any) -> list[tuple[float, float]]:
    """The x ranges text may use on a page: the guide's and the answer key's two columns,
    the quiz's one, each flashcard."""
    width = float(page.width)
    if target == "flashcards":
        return [(box.x0, box.x1) for box in card_boxes(page)]
    margin, gap = (11 * MM, 6 * MM) if target == "guide" else (16 * MM, 7 * MM)
    if target == "quiz" and "Answer key" not in (page.extract_text() or ""):
        return [(margin, width - margin)]
    column = (width - 2 * margin - gap) / 2
    return [(margin, margin + column), (width - margin - column, width - margin)]


@pytest.mark.parametrize("target", ["guide", "quiz", "flashcards"])
def test_a_second_word_too_wide_for_the_line_breaks_and_keeps_its_first_word(
    wide_pdfs: dict[str, Path], target: str
) -> None:
    lonely, split = first_word_breaks(wide_pdfs[target], target, WIDE_PAIRS)
    assert not lonely, lonely[:5]
    # the bank tests something: pairs wider than the line, second words of code and of text
    in_code = {any("Mono" in char["fontname"] for char in line) for _, line in split}
    assert in_code == {True, False}, f"{target}: no wide pair broke inside its second word"
    with pdfplumber.open(wide_pdfs[target]) as pdf:
        pages = pdf.pages[::2] if target == "flashcards" else pdf.pages
        for number, line in split:
            columns = text_columns(target, pages[number - 1])
            for char in line:
                assert any(a - 0.5 <= char["x0"] and char["x1"] <= b + 0.5 for a, b in columns), (
                    target,
                    number,
                    text_of(line),
                )

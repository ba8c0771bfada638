"""Property tests: no input, however broken, makes the loader, validator or renderer raise."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import QUESTIONS_YAML, load_bank, write_source
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from exporter.core.diagnostics import RULES, Diagnostics
from exporter.core.model import QUESTION_FIELDS
from exporter.source.loader import parse_yaml
from exporter.text.latex import latex_error
from exporter.text.markup import render_field

FUZZ = settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


@pytest.fixture(scope="module")
def project_dir() -> Iterator[Path]:
    """One scratch project reused by every example (each example rewrites it)."""
    with tempfile.TemporaryDirectory() as folder:
        yield Path(folder)


def check_diagnostics(diagnostics: Diagnostics) -> None:
    """Every reported problem is a declared rule with a 1-based location, on one line."""
    for item in diagnostics:
        assert item.code in RULES
        assert item.location.line >= 1 and item.location.col >= 1
        assert "\n" not in item.format()


def validate_text(project_dir: Path, questions: str | bytes, **files: str | bytes) -> None:
    write_source(project_dir, {"basic.yaml": questions}, **files)  # type: ignore[arg-type]
    _, diagnostics = load_bank(project_dir / "source")
    check_diagnostics(diagnostics)


# --- arbitrary text and bytes as a question file -------------------------------------


def soup(pieces: list[str], max_size: int) -> st.SearchStrategy[str]:
    """Strings made of the given characters and multi-character tokens."""
    return st.lists(st.sampled_from(pieces), max_size=max_size).map("".join)


YAMLISH = soup([*"-:?[]{},&*!|>'\"#%@` \t\n\r\\abcdé0123456789", "\x00", "\ufeff", "$", "<b>"], 200)


@FUZZ
@given(text=st.text(max_size=300))
def test_arbitrary_text_as_question_file_never_raises(project_dir: Path, text: str) -> None:
    validate_text(project_dir, text)


@FUZZ
@given(text=YAMLISH)
def test_yaml_punctuation_soup_never_raises(project_dir: Path, text: str) -> None:
    validate_text(project_dir, text)


@FUZZ
@given(data=st.binary(max_size=300))
def test_arbitrary_bytes_never_raise(project_dir: Path, data: bytes) -> None:
    validate_text(project_dir, data)


@FUZZ
@given(text=st.text(max_size=300))
def test_arbitrary_text_as_deck_and_taxonomy_never_raises(project_dir: Path, text: str) -> None:
    validate_text(project_dir, QUESTIONS_YAML, deck_yaml=text, taxonomy_yaml=text)


@FUZZ
@given(text=YAMLISH)
def test_parse_yaml_only_reports(text: str) -> None:
    diagnostics = Diagnostics()
    parse_yaml(text, "f.yaml", diagnostics)
    check_diagnostics(diagnostics)


# --- arbitrary YAML trees ------------------------------------------------------------

SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**20), max_value=10**20)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=40)
    | st.sampled_from(
        [
            "basic",
            "advanced",
            "dropout",
            "math",
            "$x^$",
            "```pyhton\nx\n```",
            "![a](../x.png)",
            "<b>",
            "",
        ]
    )
)
KEYS = st.sampled_from(
    [*QUESTION_FIELDS, "detials", "<<", "title", "levels", "seed", "tags", "match", "questions"]
) | st.text(max_size=10)
TREES = st.recursive(
    SCALARS,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(KEYS, children, max_size=5),
    max_leaves=10,
)


def dump(tree: Any) -> str:
    return yaml.safe_dump(tree, allow_unicode=True, sort_keys=False)


@FUZZ
@given(questions=st.lists(st.dictionaries(KEYS, TREES, max_size=6), max_size=3))
def test_arbitrary_question_trees_never_raise(project_dir: Path, questions: list[Any]) -> None:
    validate_text(project_dir, dump(questions))


@FUZZ
@given(tree=TREES)
def test_arbitrary_tree_as_question_file_never_raises(project_dir: Path, tree: Any) -> None:
    validate_text(project_dir, dump(tree))


@FUZZ
@given(
    deck=st.dictionaries(
        KEYS | st.sampled_from(["id", "answer_word_limit", "tag_prefix"]), TREES, max_size=6
    ),
    taxonomy=TREES,
)
def test_arbitrary_deck_and_taxonomy_trees_never_raise(
    project_dir: Path, deck: dict[str, Any], taxonomy: Any
) -> None:
    validate_text(
        project_dir, QUESTIONS_YAML, deck_yaml=dump(deck), taxonomy_yaml=dump({"tags": taxonomy})
    )


MARKDOWN_TOKENS = [
    "```",
    "$$",
    "\\frac",
    "\\left",
    "\\begin{x}",
    "../",
    "http://",
    "    ",
    "> ",
    "1. ",
]
MARKDOWNISH = soup([*"$\\{}^_*`#|-![]()<>&\n abcx12", *MARKDOWN_TOKENS], 120)
LATEX_TOKENS = [
    "\\frac",
    "\\left",
    "\\right",
    "\\sqrt",
    "\\foo",
    "\\begin{matrix}",
    "\\end{matrix}",
]


@FUZZ
@given(
    question=MARKDOWNISH,
    answer=MARKDOWNISH,
    details=MARKDOWNISH,
    level=st.sampled_from(["basic", "advanced", "nope"]),
    seed=st.lists(st.integers(min_value=-5, max_value=20), max_size=3),
)
def test_well_formed_questions_with_arbitrary_markdown_never_raise(
    project_dir: Path, question: str, answer: str, details: str, level: str, seed: list[int]
) -> None:
    item = {
        "id": "q",
        "level": level,
        "question": question,
        "answer": answer,
        "details": details,
        "seed": seed,
    }
    validate_text(project_dir, dump([item, {**item, "id": "r"}]))


# --- Markdown and LaTeX --------------------------------------------------------------


@FUZZ
@given(text=st.text(max_size=300), inline=st.booleans())
def test_render_field_never_raises(text: str, inline: bool) -> None:
    rendered = render_field(text, inline)
    assert isinstance(rendered.html, str)
    assert "<script" not in rendered.html.lower()


@FUZZ
@given(text=MARKDOWNISH, inline=st.booleans())
def test_render_field_on_markdown_soup_never_raises(text: str, inline: bool) -> None:
    rendered = render_field(text, inline)
    assert "<script" not in rendered.html.lower()
    for finding in rendered.findings:
        assert finding.kind in {"math", "code", "image", "html"}
        assert finding.line >= 0


@FUZZ
@given(latex=soup([*"\\{}^_&ax1 ()[]|", *LATEX_TOKENS], 40))
def test_latex_error_never_raises(latex: str) -> None:
    problem = latex_error(latex)
    assert problem is None or (isinstance(problem, str) and problem)

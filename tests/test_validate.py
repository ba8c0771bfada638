"""Validation rules: one test per rule code, with the exact message and location."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from conftest import PNG_BYTES, MakeSource, codes, load_bank

from exporter.core.diagnostics import (
    RULES,
    Diagnostic,
    Diagnostics,
    Location,
    Severity,
    did_you_mean,
)
from exporter.source.duplicates import near_duplicates
from exporter.text.media import image_problem

Q = "source/questions/basic.yaml"
DECK = "source/deck.yaml"
TAXONOMY = "source/taxonomy.yaml"


def problems(
    make_source: MakeSource, questions: str | dict[str, str], **kwargs: object
) -> list[str]:
    """The formatted diagnostics of a source with these questions (sorted, as printed)."""
    _, diagnostics = load_bank(make_source(questions, **kwargs))
    return [item.format() for item in diagnostics]


def one_question(extra: str = "", answer: str = "Randomly zeroing activations.") -> str:
    """A valid question about dropout (auto-tagged), plus ``extra`` YAML lines."""
    return (
        f"- id: dropout\n  level: basic\n  question: What is dropout?\n  answer: {answer}\n{extra}"
    )


def test_clean_source_has_no_diagnostics(make_source: MakeSource) -> None:
    bank, diagnostics = load_bank(make_source())
    assert list(diagnostics) == []
    assert diagnostics.summary() == "All checks passed."
    assert bank is not None
    assert [q.id for q in bank.questions] == ["dropout", "momentum"]
    assert bank.deck.levels == ("basic", "intermediate", "advanced")
    assert bank.deck.answer_word_limit == 80
    assert bank.deck.tag_prefix == "test-deck"
    momentum = bank.questions[1]
    assert (
        momentum.answer
        == "It keeps a running average of past gradients,\nwhich smooths the updates."
    )
    assert momentum.details == "$v_t = \\beta v_{t-1} + g_t$"
    assert momentum.seed == (2, 3)
    assert momentum.topics == ("optimization", "math")


# --- E001 / E016: one broken file does not hide the others ----------------------------


def test_e001_syntax_error_in_one_file_still_checks_the_others(make_source: MakeSource) -> None:
    lines = problems(
        make_source,
        {
            "a.yaml": "- id: broken\n  level: basic\n  question: [unclosed\n",
            "b.yaml": one_question("  level: advanced\n"),
        },
    )
    assert len(lines) == 2
    assert lines[0].startswith("source/questions/a.yaml:4:1: E001 YAML syntax error: ")
    assert lines[1] == (
        "source/questions/b.yaml:5:3: E002 duplicate key 'level' "
        "(first defined at source/questions/b.yaml:2:3)"
    )


def test_e016_refused_file_is_not_also_reported_empty(make_source: MakeSource) -> None:
    lines = problems(
        make_source,
        {"a.yaml": "!!python/object/apply:os.system [ls]\n", "b.yaml": one_question()},
    )
    assert lines == [
        "source/questions/a.yaml:1:1: E016 YAML tag "
        "tag:yaml.org,2002:python/object/apply:os.system is not allowed; "
        "only plain data is accepted"
    ]


# --- E002 duplicate key --------------------------------------------------------------


def test_e002_duplicate_key_has_both_locations(make_source: MakeSource) -> None:
    assert problems(make_source, one_question("  answer: Another answer.\n")) == [
        f"{Q}:5:3: E002 duplicate key 'answer' (first defined at {Q}:4:3)"
    ]


def test_e002_duplicate_key_in_a_flow_mapping_and_in_deck(make_source: MakeSource) -> None:
    deck = "id: d\ntitle: T\nlevels: [basic]\ntitle: Again\n"
    lines = problems(
        make_source,
        "- {id: a, level: basic, id: b, question: Dropout?, answer: A}\n",
        deck_yaml=deck,
    )
    assert lines == [
        f"{DECK}:4:1: E002 duplicate key 'title' (first defined at {DECK}:2:1)",
        f"{Q}:1:25: E002 duplicate key 'id' (first defined at {Q}:1:4)",
    ]


# --- E003 missing required field -----------------------------------------------------


@pytest.mark.parametrize("field", ["id", "level", "question", "answer"])
def test_e003_missing_required_question_field(make_source: MakeSource, field: str) -> None:
    lines = one_question().splitlines(keepends=True)
    kept = [line for line in lines if not line.lstrip("- ").startswith(f"{field}:")]
    text = "".join(kept)
    if field == "id":
        text = "- " + text.lstrip(" ")
    assert problems(make_source, text) == [
        f"{Q}:1:3: E003 question is missing required field '{field}'"
    ]


def test_e003_missing_required_deck_and_taxonomy_fields(make_source: MakeSource) -> None:
    lines = problems(
        make_source,
        one_question(),
        deck_yaml="id: d\nlevels: [basic]\n",
        taxonomy_yaml="tags:\n  regularization:\n    match: [dropout]\n",
    )
    assert lines == [
        f"{DECK}:1:1: E003 deck.yaml is missing required field 'title'",
        f"{TAXONOMY}:3:5: E003 tag 'regularization' is missing required field 'title'",
    ]


# --- E004 wrong type -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ("  tags: regularization\n", "5:9: E004 'tags' must be a list, got text"),
        ("  seed: 3\n", "5:9: E004 'seed' must be a list, got a number"),
        ("  seed: [one]\n", "5:10: E004 'seed[]' must be a whole number, got text"),
        ("  seed: [true]\n", "5:10: E004 'seed[]' must be a whole number, got a boolean"),
        ("  seed: [1.5]\n", "5:10: E004 'seed[]' must be a whole number, got a decimal number"),
        ("  retired: maybe\n", "5:12: E004 'retired' must be true or false, got text"),
        ("  details: [a, b]\n", "5:12: E004 'details' must be text, got a list"),
        ("  tags: [[a]]\n", "5:10: E004 'tags[]' must be text, got a list"),
    ],
)
def test_e004_wrong_type_of_question_field(
    make_source: MakeSource, extra: str, expected: str
) -> None:
    assert problems(make_source, one_question(extra)) == [f"{Q}:{expected}"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "- id: 12\n  level: basic\n  question: Dropout?\n  answer: A\n",
            "1:7: E004 'id' must be text, got a number",
        ),
        (
            "- id: a\n  level: [basic]\n  question: Dropout?\n  answer: A\n",
            "2:10: E004 'level' must be text, got a list",
        ),
        (
            "- id: a\n  level: basic\n  question: {x: 1}\n  answer: A\n",
            "3:13: E004 'question' must be text, got a mapping",
        ),
        ("- just a sentence\n", "1:3: E004 question must be a mapping, got text"),
        ("id: a\nlevel: basic\n", "1:1: E004 'question file' must be a list, got a mapping"),
        ("---\n", "2:1: E004 'question file' must be a list, got nothing (null)"),
    ],
)
def test_e004_wrong_type_drops_the_question(
    make_source: MakeSource, text: str, expected: str
) -> None:
    bank, diagnostics = load_bank(make_source(text))
    assert [d.format() for d in diagnostics] == [f"{Q}:{expected}"]
    assert bank is not None and bank.questions == ()


@pytest.mark.parametrize(
    ("deck", "expected"),
    [
        ("- a list\n", "1:1: E004 deck.yaml must be a mapping, got a list"),
        ("", "1:1: E004 deck.yaml is empty; it must be a mapping"),
        ("id: d\ntitle: T\nlevels: basic\n", "3:9: E004 'levels' must be a list, got text"),
        (
            "id: d\ntitle: T\nlevels: [basic]\nanswer_word_limit: many\n",
            "4:20: E004 'answer_word_limit' must be a whole number, got text",
        ),
        (
            "id: d\ntitle: T\nlevels: [basic]\nseed: 81\n",
            "4:7: E004 'seed' must be a mapping, got a number",
        ),
    ],
)
def test_e004_wrong_type_in_deck(make_source: MakeSource, deck: str, expected: str) -> None:
    lines = problems(make_source, one_question(), deck_yaml=deck)
    assert lines == [f"{DECK}:{expected}"]


@pytest.mark.parametrize(
    ("taxonomy", "expected"),
    [
        ("tags: [a, b]\n", "1:7: E004 'tags' must be a mapping, got a list"),
        ("", "1:1: E004 taxonomy.yaml is empty; it must be a mapping with 'tags'"),
        (
            "tags:\n  regularization: Regularization\n",
            "2:19: E004 tag 'regularization' must be a mapping, got text",
        ),
        (
            "tags:\n  regularization: {title: R, match: dropout}\n",
            "2:37: E004 'match' must be a list, got text",
        ),
    ],
)
def test_e004_wrong_type_in_taxonomy(make_source: MakeSource, taxonomy: str, expected: str) -> None:
    lines = problems(make_source, one_question("  tags: []\n"), taxonomy_yaml=taxonomy)
    assert f"{TAXONOMY}:{expected}" in lines
    assert [line for line in lines if "W102" not in line] == [f"{TAXONOMY}:{expected}"]


# --- E005 duplicate id ---------------------------------------------------------------


def test_e005_duplicate_id_points_at_the_first(make_source: MakeSource) -> None:
    text = one_question() + "\n" + one_question(answer="Another.")
    bank, diagnostics = load_bank(make_source(text))
    assert [d.format() for d in diagnostics] == [
        f"{Q}:6:7: E005 duplicate id 'dropout' (first defined at {Q}:1:7)"
    ]
    assert bank is not None and [q.answer for q in bank.questions] == [
        "Randomly zeroing activations."
    ]


def test_e005_ids_must_be_unique_across_files(make_source: MakeSource) -> None:
    lines = problems(make_source, {"a.yaml": one_question(), "b.yaml": "\n\n" + one_question()})
    assert lines == [
        "source/questions/b.yaml:3:7: E005 duplicate id 'dropout' "
        "(first defined at source/questions/a.yaml:1:7)"
    ]


def test_e005_duplicate_tag_and_level(make_source: MakeSource) -> None:
    deck = "id: d\ntitle: T\nlevels: [basic, basic]\n"
    lines = problems(make_source, one_question("  tags: [math, math]\n"), deck_yaml=deck)
    assert lines == [
        f"{DECK}:3:17: E005 duplicate level 'basic'",
        f"{Q}:5:16: E005 tag 'math' listed twice",
    ]


# --- E006 unknown field --------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "hint"),
    [
        ("detials", " (did you mean 'details'?)"),
        ("tag", " (did you mean 'tags'?)"),
        ("retierd", " (did you mean 'retired'?)"),
        ("difficulty", ""),
    ],
)
def test_e006_unknown_question_field(make_source: MakeSource, key: str, hint: str) -> None:
    assert problems(make_source, one_question(f"  {key}: x\n")) == [
        f"{Q}:5:3: E006 unknown field '{key}' in question{hint}"
    ]


def test_e006_unknown_field_in_deck_seed_and_taxonomy(make_source: MakeSource) -> None:
    deck = "id: d\ntitle: T\nlevels: [basic]\nseed: {questions: 5, titel: x}\nanswer_limit: 9\n"
    taxonomy = "tags:\n  regularization:\n    title: R\n    matches: [dropout]\n"
    lines = problems(
        make_source,
        one_question("  tags: [regularization]\n"),
        deck_yaml=deck,
        taxonomy_yaml=taxonomy,
    )
    assert lines == [
        f"{DECK}:4:22: E006 unknown field 'titel' in 'seed' (did you mean 'title'?)",
        f"{DECK}:5:1: E006 unknown field 'answer_limit' in deck.yaml "
        "(did you mean 'answer_word_limit'?)",
        f"{TAXONOMY}:4:5: E006 unknown field 'matches' in tag 'regularization' "
        "(did you mean 'match'?)",
    ]


# --- E007 id format ------------------------------------------------------------------


@pytest.mark.parametrize(
    "bad", ["Dropout", "drop_out", "drop--out", "-drop", "drop-", "'drop out'", "dröp", "'a.b'"]
)
def test_e007_invalid_id(make_source: MakeSource, bad: str) -> None:
    shown = bad.strip("'")
    lines = problems(make_source, one_question().replace("id: dropout", f"id: {bad}"))
    assert lines == [
        f"{Q}:1:7: E007 invalid id '{shown}': use lowercase letters, digits and single hyphens"
    ]


@pytest.mark.parametrize("good", ["a", "a-1", "x2-y3-z4", "'42'"])
def test_valid_ids(make_source: MakeSource, good: str) -> None:
    assert problems(make_source, one_question().replace("id: dropout", f"id: {good}")) == []


def test_e007_invalid_deck_tag_and_level_ids(make_source: MakeSource) -> None:
    deck = "id: Deep Learning\ntitle: T\nlevels: [basic, Hard]\ntag_prefix: DL\n"
    taxonomy = (
        "tags:\n  Regularization:\n    title: R\n"
        "  regularization:\n    title: R\n    match: [dropout]\n"
    )
    lines = problems(make_source, one_question(), deck_yaml=deck, taxonomy_yaml=taxonomy)
    suffix = ": use lowercase letters, digits and single hyphens"
    assert lines == [
        f"{DECK}:1:5: E007 invalid deck id 'Deep Learning'{suffix}",
        f"{DECK}:3:17: E007 invalid level 'Hard'{suffix}",
        f"{DECK}:4:13: E007 invalid tag prefix 'DL'{suffix}",
        f"{TAXONOMY}:2:3: E007 invalid tag id 'Regularization'{suffix}",
    ]


# --- E008 unknown level --------------------------------------------------------------


def test_e008_unknown_level_with_hint(make_source: MakeSource) -> None:
    bank, diagnostics = load_bank(
        make_source(one_question().replace("level: basic", "level: basics"))
    )
    assert [d.format() for d in diagnostics] == [
        f"{Q}:2:10: E008 unknown level 'basics' (did you mean 'basic'?); "
        "levels are basic, intermediate, advanced"
    ]
    assert bank is not None and bank.questions == ()


def test_e008_unknown_level_without_hint(make_source: MakeSource) -> None:
    assert problems(make_source, one_question().replace("level: basic", "level: expert")) == [
        f"{Q}:2:10: E008 unknown level 'expert'; levels are basic, intermediate, advanced"
    ]


# --- E009 unknown tag ----------------------------------------------------------------


def test_e009_unknown_tag_with_and_without_hint(make_source: MakeSource) -> None:
    assert problems(make_source, one_question("  tags: [regularisation, cooking]\n")) == [
        f"{Q}:5:9: E009 unknown tag 'cooking'",
        f"{Q}:5:9: E009 unknown tag 'regularisation' (did you mean 'regularization'?)",
    ]


# --- E010 empty text -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("answer: Randomly zeroing activations.", "answer: ''", "4:11: E010 empty answer"),
        ("answer: Randomly zeroing activations.", "answer:", "4:10: E010 empty answer"),
        ("answer: Randomly zeroing activations.", "answer: |\n\n", "4:11: E010 empty answer"),
        ("question: What is dropout?", "question: '   '", "3:13: E010 empty question"),
    ],
)
def test_e010_empty_text(make_source: MakeSource, old: str, new: str, expected: str) -> None:
    bank, diagnostics = load_bank(make_source(one_question().replace(old, new)))
    assert [d.format() for d in diagnostics] == [f"{Q}:{expected}"]
    assert bank is not None and bank.questions == ()


def test_e010_empty_deck_title(make_source: MakeSource) -> None:
    deck = "id: d\ntitle: '  '\nlevels: [basic]\n"
    assert problems(make_source, one_question(), deck_yaml=deck) == [
        f"{DECK}:2:8: E010 deck title is empty"
    ]


def test_empty_details_are_a_placeholder(make_source: MakeSource) -> None:
    # an empty `details:` is a marker left to fill in (W111), not an error
    assert problems(make_source, one_question("  details:\n")) == [
        "source/questions/basic.yaml:5:11: W111 details of 'dropout' are empty; write them "
        "or remove the key"
    ]


# --- E011 LaTeX ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("formula", "problem"),
    [
        (r"x^", "'^' without an argument"),
        (r"x_", "'_' without an argument"),
        (r"\frac{a}{b", "unbalanced braces: '{' without '}'"),
        (r"a}", "unbalanced braces: '}' without '{'"),
        (r"\left( x", "\\left without \\right"),
        (r"x \right)", "\\right without \\left"),
        (r"\begin{matrix} a \end{pmatrix}", "\\end{pmatrix} without a matching \\begin"),
        (r"\begin{cases} a", "\\begin{cases} without \\end"),
        (r"\end", "\\end without an environment name"),
        (r"\foo{x}", "unknown command \\foo"),
    ],
)
def test_e011_latex_that_does_not_parse(
    make_source: MakeSource, formula: str, problem: str
) -> None:
    text = one_question(f"  details: |\n    Intro.\n\n    ${formula}$ here.\n")
    assert problems(make_source, text) == [
        f"{Q}:8:5: E011 LaTeX does not parse: {problem} in ${formula}$"
    ]


def test_e011_display_math_is_located_at_its_line(make_source: MakeSource) -> None:
    text = one_question("  details: |\n    Intro.\n\n    $$\n    \\frac{1}{2\n    $$\n")
    assert problems(make_source, text) == [
        f"{Q}:8:5: E011 LaTeX does not parse: unbalanced braces: '{{' without '}}' "
        "in $\\frac{1}{2$"
    ]


@pytest.mark.parametrize(
    "formula",
    [
        r"\frac{\partial L}{\partial w}",
        r"\mathbb{R}^n",
        r"\operatorname{softmax}(z)_i",
        r"\sqrt[3]{x}",
        r"\left( \sum_{i=1}^{n} x_i \right)",
        r"\begin{pmatrix} a & b \\ c & d \end{pmatrix}",
        r"a < b",
        r"\text{ok}",
    ],
)
def test_valid_latex_is_accepted(make_source: MakeSource, formula: str) -> None:
    assert problems(make_source, one_question(f"  details: |\n    ${formula}$\n")) == []


# --- E012 code language --------------------------------------------------------------


def test_e012_unknown_code_language(make_source: MakeSource) -> None:
    details = (
        "  details: |\n    Code:\n\n"
        "    ```pyhton\n    x = 1\n    ```\n\n"
        "    ```python\n    y = 2\n    ```\n\n"
        "    ```\n    plain\n    ```\n"
    )
    assert problems(make_source, one_question(details)) == [
        f"{Q}:8:5: E012 unknown code-block language 'pyhton'"
    ]


# --- E013 / E014 images --------------------------------------------------------------


def test_e013_missing_image_and_existing_image(make_source: MakeSource) -> None:
    details = "  details: |\n    ![ok](images/ok.png)\n    ![gone](images/gone.png)\n"
    lines = problems(make_source, one_question(details), files={"images/ok.png": PNG_BYTES})
    assert lines == [f"{Q}:7:5: E013 image 'images/gone.png' not found in source/"]


def test_e013_image_names_are_urls_so_percent_encoding_is_decoded(make_source: MakeSource) -> None:
    # Regression: the parser percent-encodes destinations; the files exist as written.
    details = (
        "  details: |\n"
        "    ![a](images/schéma.png) ![b](<images/my plot.png>) ![c](images/my%20plot.png)\n"
    )
    files = {"images/schéma.png": PNG_BYTES, "images/my plot.png": PNG_BYTES}
    assert problems(make_source, one_question(details), files=files) == []


def test_e013_image_that_is_not_an_image_or_too_large(
    make_source: MakeSource, monkeypatch: pytest.MonkeyPatch
) -> None:
    from exporter.text import media

    details = "  details: |\n    ![a](images/fake.png)\n    ![b](images/big.png)\n"
    files = {"images/fake.png": b"<svg/>", "images/big.png": PNG_BYTES + b"\0" * 100}
    monkeypatch.setattr(media, "MAX_MEDIA_BYTES", 100)
    assert problems(make_source, one_question(details), files=files) == [
        f"{Q}:6:5: E013 'images/fake.png' is not a PNG, JPEG, GIF, WebP or SVG image",
        f"{Q}:7:5: E013 image 'images/big.png' is {len(files['images/big.png'])} bytes; "
        "the limit is 100",
    ]


@pytest.mark.parametrize(
    ("src", "expected"),
    [
        ("", "E013 image without a path"),
        ("images", "E013 image 'images' is a folder, not a regular file"),
        (".", "E013 image '.' is a folder, not a regular file"),
        ("../secret.png", "E014 image '../secret.png' leaves source/"),
        ("images/../../secret.png", "E014 image 'images/../../secret.png' leaves source/"),
        (
            "/etc/passwd",
            "E014 image '/etc/passwd' is an absolute path; use a path relative to source/",
        ),
        (
            "https://example.com/x.png",
            "E014 image 'https://example.com/x.png' is a URL; images must be files inside source/",
        ),
        (
            "//example.com/x.png",
            "E014 image '//example.com/x.png' is a URL; images must be files inside source/",
        ),
        (
            "file:///etc/passwd",
            "E014 image 'file:///etc/passwd' is a URL; images must be files inside source/",
        ),
    ],
)
def test_image_problems(make_source: MakeSource, src: str, expected: str) -> None:
    source = make_source(one_question(), files={"images/ok.png": b"x"})
    code, message = image_problem(src, source)
    assert f"{code} {message}" == expected


def test_e014_image_through_a_symlink_leaving_source(
    make_source: MakeSource, tmp_path: Path
) -> None:
    outside = tmp_path / "outside.png"
    outside.write_bytes(b"x")
    details = "  details: |\n    ![x](images/link.png)\n"
    source = make_source(one_question(details))
    (source / "images").mkdir()
    (source / "images" / "link.png").symlink_to(outside)
    _, diagnostics = load_bank(source)
    assert [d.format() for d in diagnostics] == [
        f"{Q}:6:5: E014 image 'images/link.png' leads outside source/ through a link"
    ]


def test_e014_in_markdown_is_located(make_source: MakeSource) -> None:
    details = "  details: |\n    Text.\n\n    ![x](../../etc/passwd)\n"
    assert problems(make_source, one_question(details)) == [
        f"{Q}:8:5: E014 image '../../etc/passwd' leaves source/"
    ]


# --- E015 seed numbers ---------------------------------------------------------------


def test_e015_seed_out_of_range(make_source: MakeSource) -> None:
    assert problems(make_source, one_question("  seed: [0, 1, 10, 11]\n")) == [
        f"{Q}:5:9: E015 seed number 0 is out of range 1–10",
        f"{Q}:5:9: E015 seed number 11 is out of range 1–10",
    ]


def test_e015_without_seed_in_deck_only_positive_numbers(make_source: MakeSource) -> None:
    deck = "id: d\ntitle: T\nlevels: [basic]\n"
    assert problems(make_source, one_question("  seed: [0, 500]\n"), deck_yaml=deck) == [
        f"{Q}:5:9: E015 seed number 0 must be ≥ 1"
    ]


# --- E018 invalid values -------------------------------------------------------------


def test_e018_invalid_deck_values(make_source: MakeSource) -> None:
    deck = "id: d\ntitle: T\nlevels: []\nseed: {questions: 0}\nanswer_word_limit: 0\n"
    assert problems(make_source, one_question(), deck_yaml=deck) == [
        f"{DECK}:3:9: E018 'levels' must list at least one level",
        f"{DECK}:4:19: E018 'seed.questions' must be at least 1",
        f"{DECK}:5:20: E018 'answer_word_limit' must be positive",
    ]


def test_e018_invalid_match_rules(make_source: MakeSource) -> None:
    taxonomy = "tags:\n  regularization:\n    title: R\n    match: ['*', 'a*b', '--', dropout]\n"
    suffix = "it needs a letter or digit, '*' only at the end"
    assert problems(make_source, one_question(), taxonomy_yaml=taxonomy) == [
        f"{TAXONOMY}:4:13: E018 invalid match rule '*': {suffix}",
        f"{TAXONOMY}:4:18: E018 invalid match rule 'a*b': {suffix}",
        f"{TAXONOMY}:4:25: E018 invalid match rule '--': {suffix}",
    ]


# --- W101 near-duplicates ------------------------------------------------------------

NEAR_DUPLICATES = """\
- id: learning-rate
  level: basic
  question: What does the learning rate control in gradient descent?
  answer: The step size.

- id: learning-rate-again
  level: basic
  question: What does the learning rate control during gradient descent?
  answer: How far each update moves.
"""


def test_w101_near_duplicate_has_both_locations(make_source: MakeSource) -> None:
    assert problems(make_source, NEAR_DUPLICATES) == [
        f"{Q}:8:13: W101 question 'learning-rate-again' nearly repeats 'learning-rate' "
        f"at {Q}:3:13 (83% of content words shared)"
    ]


def test_w101_across_files(make_source: MakeSource) -> None:
    first, second = NEAR_DUPLICATES.split("\n\n")
    lines = problems(make_source, {"a.yaml": first + "\n", "b.yaml": second})
    assert lines == [
        "source/questions/b.yaml:3:13: W101 question 'learning-rate-again' nearly repeats "
        "'learning-rate' at source/questions/a.yaml:3:13 (83% of content words shared)"
    ]


def test_w101_not_for_different_questions_or_retired_ones(make_source: MakeSource) -> None:
    text = (
        NEAR_DUPLICATES.replace("during gradient descent", "with momentum and weight decay")
        + "  retired: false\n\n"
        + NEAR_DUPLICATES.split("\n\n")[0].replace("id: learning-rate", "id: old")
        + "\n  retired: true\n"
    )
    assert problems(make_source, text) == []


def test_near_duplicates_scales_and_finds_a_planted_pair() -> None:
    rng = random.Random(7)
    vocabulary = [f"word{i}" for i in range(3000)]
    texts = [" ".join(rng.sample(vocabulary, 8)) for _ in range(5000)]
    texts[1234] = "How does batch normalization speed up training of deep networks?"
    texts[4321] = "How does batch normalization speed up the training of deep networks?"
    pairs = near_duplicates(texts)
    assert (1234, 4321) in {(i, j) for i, j, _ in pairs}
    assert all(score >= 0.8 for _, _, score in pairs)
    assert all(i < j for i, j, _ in pairs)


def test_near_duplicates_ignores_stopwords_and_plurals() -> None:
    pairs = near_duplicates(
        ["What are the activation functions?", "Explain activation function", "Describe pooling"]
    )
    assert pairs == [(0, 1, 1.0)]
    assert near_duplicates(["", "the of a", "?"]) == []


# --- W102 no topic -------------------------------------------------------------------


def test_w102_question_without_topic(make_source: MakeSource) -> None:
    text = (
        "- id: epoch\n  level: basic\n  question: What is an epoch?\n"
        "  answer: One pass over the data.\n"
    )
    assert problems(make_source, text) == [
        f"{Q}:3:13: W102 question 'epoch' has no topic tag; add 'tags:' or a taxonomy rule"
    ]
    assert problems(make_source, text + "  tags: [math]\n") == []
    assert problems(make_source, text + "  retired: true\n") == []


# --- W103 long answers ---------------------------------------------------------------


def test_w103_default_limit_is_80_words(make_source: MakeSource) -> None:
    assert problems(make_source, one_question(answer=" ".join(["word"] * 80))) == []
    assert problems(make_source, one_question(answer=" ".join(["word"] * 81))) == [
        f"{Q}:4:11: W103 answer has 81 words; cards read best under 80 "
        "(answer_word_limit in deck.yaml)"
    ]


def test_w103_limit_is_configurable_and_located_in_block_text(make_source: MakeSource) -> None:
    deck = "id: d\ntitle: T\nlevels: [basic]\nanswer_word_limit: 5\n"
    text = one_question(answer="|\n    One two three\n    four five six.")
    assert problems(make_source, text, deck_yaml=deck) == [
        f"{Q}:5:5: W103 answer has 6 words; cards read best under 5 "
        "(answer_word_limit in deck.yaml)"
    ]
    retired = one_question("  retired: true\n", answer="one two three four five six")
    assert problems(make_source, retired, deck_yaml=deck) == []


# --- W104 raw HTML -------------------------------------------------------------------


def test_w104_raw_html_is_reported(make_source: MakeSource) -> None:
    details = "  details: |\n    Text.\n\n    <div>raw</div>\n"
    assert problems(make_source, one_question(details)) == [
        f"{Q}:8:5: W104 raw HTML '</div>' is shown as text; use Markdown",
        f"{Q}:8:5: W104 raw HTML '<div>' is shown as text; use Markdown",
    ]


def test_w104_not_for_comparisons_or_code(make_source: MakeSource) -> None:
    details = "  details: |\n    If a < b and c > d, or `<div>` in code, or $a<b$.\n"
    assert problems(make_source, one_question(details)) == []


# --- hints, ignore, summary ----------------------------------------------------------


@pytest.mark.parametrize(
    ("word", "choices", "hint"),
    [
        ("detials", ["details", "tags"], " (did you mean 'details'?)"),
        ("regularisation", ["regularization", "cnn"], " (did you mean 'regularization'?)"),
        ("zzz", ["details", "tags"], ""),
        ("x", [], ""),
    ],
)
def test_did_you_mean(word: str, choices: list[str], hint: str) -> None:
    assert did_you_mean(word, choices) == hint


def test_ignored_codes_are_not_reported(make_source: MakeSource) -> None:
    source = make_source(NEAR_DUPLICATES + "  tags: [nope]\n")
    _, all_diagnostics = load_bank(source)
    assert codes(all_diagnostics) == ["W101", "E009"]
    _, diagnostics = load_bank(source, ignore=["E009"])
    assert codes(diagnostics) == ["W101"]
    assert not diagnostics.failed() and diagnostics.failed(strict=True)


def test_every_error_is_reported_in_one_run(make_source: MakeSource) -> None:
    text = (
        one_question("  detials: x\n")
        + "\n- id: Bad\n  level: basic\n  question: Dropout?\n  answer: A\n"
        + "\n- id: c\n  level: expert\n  question: Dropout again?\n  answer: A\n  tags: [nope]\n"
    )
    assert codes(load_bank(make_source(text))[1]) == ["E006", "E007", "E008", "E009"]


def test_summary_and_failure() -> None:
    diagnostics = Diagnostics()
    assert diagnostics.summary() == "All checks passed."
    diagnostics.add(Location("a.yaml", 2, 3), "W103", "long")
    assert diagnostics.summary() == "Found 0 errors and 1 warning."
    assert not diagnostics.failed() and diagnostics.failed(strict=True)
    diagnostics.add(Location("a.yaml", 1, 1), "E005", "dup")
    diagnostics.add(Location("a.yaml", 1, 1), "E005", "dup")  # reported once
    assert diagnostics.summary() == "Found 1 error and 1 warning."
    assert [d.format() for d in diagnostics] == ["a.yaml:1:1: E005 dup", "a.yaml:2:3: W103 long"]
    assert diagnostics.failed()


def test_source_text_with_line_breaks_still_gives_one_line(make_source: MakeSource) -> None:
    # Regression: a multi-line formula or a key with a newline split the diagnostic line.
    details = (
        "  details: |\n    $$\n    \\begin{aligned}\n"
        "    a &= \\frac{1}{2\n    \\end{aligned}\n    $$\n"
    )
    text = one_question(details) + '  "two\\nlines": x\n'
    assert problems(make_source, text) == [
        f"{Q}:6:5: E011 LaTeX does not parse: unbalanced braces: '{{' without '}}' "
        "in $\\begin{aligned} a &= \\frac{1}{2 \\end{aligned}$",
        f"{Q}:11:3: E006 unknown field 'two lines' in question",
    ]


def test_unknown_codes_are_a_programming_error() -> None:
    with pytest.raises(KeyError):
        Diagnostics().add(Location("a"), "E999", "nope")


def test_rule_table_is_consistent() -> None:
    for code, rule in RULES.items():
        assert rule.code == code
        assert code[0] == ("E" if rule.severity is Severity.ERROR else "W")
        assert rule.summary
    assert Diagnostic(Location("p", 3, 4), "E001", "m").format() == "p:3:4: E001 m"

"""The located YAML loader: positions, refusals and hostile input, all as diagnostics."""

from __future__ import annotations

import dataclasses
import os
import time
from pathlib import Path

import pytest
from conftest import DECK_YAML, QUESTIONS_YAML, TAXONOMY_YAML, MakeSource, load_bank

from exporter.core.diagnostics import Diagnostics, Location
from exporter.source import loader
from exporter.source.loader import Node, load_file, load_source, parse_yaml, read_text


def parse(text: str) -> tuple[Node | None, list[str]]:
    """Parse text as ``f.yaml``: the tree and the formatted diagnostics."""
    diagnostics = Diagnostics()
    root = parse_yaml(text, "f.yaml", diagnostics)
    return root, [item.format() for item in diagnostics]


def loc(line: int, col: int) -> Location:
    return Location("f.yaml", line, col)


# --- locations ---------------------------------------------------------------------------


def test_every_key_and_value_has_its_line_and_column() -> None:
    root, problems = parse("id: dropout\nlevel: basic\nnested:\n  key: [a, b]\n  n: 42\n")
    assert problems == []
    assert root is not None and root.kind == "map" and root.loc == loc(1, 1)
    entries = root.value
    assert entries["id"].key_loc == loc(1, 1)
    assert entries["id"].node.loc == loc(1, 5)
    assert entries["id"].node.value == "dropout"
    assert entries["level"].key_loc == loc(2, 1)
    assert entries["level"].node.loc == loc(2, 8)
    nested = entries["nested"]
    assert nested.key_loc == loc(3, 1)
    assert nested.node.kind == "map" and nested.node.loc == loc(4, 3)
    key = nested.node.value["key"]
    assert key.key_loc == loc(4, 3)
    assert key.node.kind == "seq" and key.node.loc == loc(4, 8)
    assert [item.loc for item in key.node.value] == [loc(4, 9), loc(4, 12)]
    assert [item.value for item in key.node.value] == ["a", "b"]
    number = nested.node.value["n"].node
    assert number.value == 42 and number.loc == loc(5, 6)


def test_sequence_items_of_a_question_file_are_located() -> None:
    root, _ = parse("- id: a\n  level: basic\n\n- id: b\n")
    assert root is not None and root.kind == "seq"
    first, second = root.value
    assert first.loc == loc(1, 3) and second.loc == loc(4, 3)
    assert first.value["level"].key_loc == loc(2, 3)
    assert first.value["level"].node.loc == loc(2, 10)


def test_columns_count_characters_not_bytes() -> None:
    root, problems = parse("ünïcödé: [été, x]\n")
    assert problems == []
    assert root is not None
    seq = root.value["ünïcödé"].node
    assert [item.loc.col for item in seq.value] == [11, 16]


def test_block_scalar_text_location_is_the_first_text_line() -> None:
    text = "- id: a\n  answer: |\n    first line\n    second line\n  details: >\n\n      folded\n"
    root, problems = parse(text)
    assert problems == []
    assert root is not None
    fields = root.value[0].value
    answer = fields["answer"].node
    assert answer.value == "first line\nsecond line\n"
    assert answer.loc == loc(2, 11)  # the "|" indicator
    assert answer.style == "|"
    assert answer.content_loc == loc(3, 5)
    assert answer.text_location() == loc(3, 5)
    assert answer.text_location(1) == loc(4, 5)
    details = fields["details"].node
    assert details.style == ">"
    assert details.content_loc == loc(7, 7)  # blank lines after the indicator are skipped


def test_plain_and_quoted_scalars_have_their_own_text_location() -> None:
    root, _ = parse("a: plain text\nb: 'quoted'\n")
    assert root is not None
    assert root.value["a"].node.text_location() == loc(1, 4)
    assert root.value["b"].node.text_location() == loc(2, 4)
    assert root.value["b"].node.style == "'"


def test_question_text_locations_follow_block_scalars(make_source: MakeSource) -> None:
    bank, diagnostics = load_bank(make_source())
    assert list(diagnostics) == []
    assert bank is not None
    momentum = bank.questions[1]
    path = "source/questions/basic.yaml"
    assert momentum.location == Location(path, 7, 3)
    assert momentum.where("id") == Location(path, 7, 7)
    assert momentum.where("answer") == Location(path, 10, 11)
    assert momentum.text_where("answer") == Location(path, 11, 5)
    assert momentum.text_where("answer", 1) == Location(path, 12, 5)
    assert momentum.text_where("question") == Location(path, 9, 13)
    assert momentum.where("nonexistent") == momentum.location


def test_scalar_types_are_resolved_like_safe_load() -> None:
    root, problems = parse(
        "s: text\ni: 12\nf: 1.5\nb: true\nn: null\nq: '12'\nt: !!str 7\nd: 2024-01-31\n"
    )
    assert problems == []
    assert root is not None
    values = {key: entry.node.value for key, entry in root.value.items()}
    assert values["s"] == "text"
    assert values["i"] == 12 and isinstance(values["i"], int)
    assert values["f"] == 1.5
    assert values["b"] is True
    assert values["n"] is None
    assert values["q"] == "12"
    assert values["t"] == "7"
    assert str(values["d"]) == "2024-01-31"


def test_aliases_to_earlier_values_are_allowed() -> None:
    root, problems = parse("a: &shared [x, y]\nb: *shared\n")
    assert problems == []
    assert root is not None
    assert [n.value for n in root.value["b"].node.value] == ["x", "y"]


def test_merge_key_is_kept_as_a_plain_key_not_a_crash() -> None:
    # Regression: the safe constructor has no '<<' (merge) or '=' (value) constructor.
    root, problems = parse("<<: {a: 1}\nb: =\n")
    assert problems == []
    assert root is not None
    assert list(root.value) == ["<<", "b"]
    assert root.value["b"].node.value == "="


def test_non_string_keys_are_wrong_type() -> None:
    _, problems = parse("1: x\n? [a, b]\n: y\n")
    assert problems == [
        "f.yaml:1:1: E004 mapping keys must be plain strings",
        "f.yaml:2:3: E004 mapping keys must be plain strings",
    ]


# --- syntax ------------------------------------------------------------------------------


def test_syntax_error_is_located() -> None:
    root, problems = parse("id: a\nlevel: b: c\n")
    assert root is None
    assert problems == [
        "f.yaml:2:9: E001 YAML syntax error: mapping values are not allowed in this context"
    ]


def test_unclosed_quote_is_a_syntax_error() -> None:
    root, problems = parse("question: 'never closed\n")
    assert root is None
    assert len(problems) == 1 and problems[0].startswith("f.yaml:2:1: E001 YAML syntax error")


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("a:\n\tb: 1\n", "2:1"),
        ("\tkey: 1\n", "1:1"),
        ("a:\n  - x\n \t- y\n", "3:2"),
        ("answer: |\n\ttext\n", "2:1"),
    ],
)
def test_tab_indentation_is_reported_as_such(text: str, where: str) -> None:
    root, problems = parse(text)
    assert root is None
    assert problems == [
        f"f.yaml:{where}: E001 YAML syntax error: tab character: YAML indentation must use spaces"
    ]


def test_tabs_inside_values_are_fine() -> None:
    root, problems = parse("a: [x,\n\ty]\nb: 'tab\there'\n")
    assert problems == []
    assert root is not None and root.value["b"].node.value == "tab\there"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a: '\x00'\n", "f.yaml:1:5: E001 YAML syntax error: control character U+0000"),
        ("a: 1\néé: \x07\n", "f.yaml:2:5: E001 YAML syntax error: control character U+0007"),
    ],
)
def test_control_characters_are_located_on_one_line(text: str, expected: str) -> None:
    # Regression: the C reader's message spanned two lines with a byte position, at 1:1.
    root, problems = parse(text)
    assert root is None
    assert problems == [f"{expected} is not allowed"]


# --- encoding ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "where", "byte"),
    [
        (b"a: 1\nb: caf\xe9\n", "2:7", "e9"),
        ("ü: ".encode() + b"\xff\n", "1:4", "ff"),
        (b"\xef\xbb\xbfab\xc3", "1:3", "c3"),
        (b"x: 1\r\ny: \x80\r\n", "2:4", "80"),
    ],
)
def test_invalid_utf8_points_at_the_byte(
    tmp_path: Path, data: bytes, where: str, byte: str
) -> None:
    path = tmp_path / "f.yaml"
    path.write_bytes(data)
    diagnostics = Diagnostics()
    assert read_text(path, "f.yaml", diagnostics) is None
    assert [d.format() for d in diagnostics] == [
        f"f.yaml:{where}: E001 invalid UTF-8 byte 0x{byte}; files must be UTF-8"
    ]


def _variants(text: str) -> dict[str, bytes]:
    plain = text.encode("utf-8")
    crlf = text.replace("\n", "\r\n").encode("utf-8")
    bom = b"\xef\xbb\xbf"
    return {"plain": plain, "bom": bom + plain, "crlf": crlf, "bom+crlf": bom + crlf}


@pytest.mark.parametrize("variant", ["bom", "crlf", "bom+crlf"])
def test_bom_and_crlf_give_the_same_bank(make_source: MakeSource, variant: str) -> None:
    questions = QUESTIONS_YAML + (
        "\n- id: folded\n  level: advanced\n  question: What is pooling?\n"
        "  answer: >\n    Downsampling\n    by a max.\n\n    Second paragraph.\n"
    )
    expected, expected_diags = load_bank(make_source(questions))
    assert expected is not None and list(expected_diags) == []

    files = {name: _variants(text)[variant] for name, text in [("basic.yaml", questions)]}
    source = make_source(
        files,
        deck_yaml=_variants(DECK_YAML)[variant],
        taxonomy_yaml=_variants(TAXONOMY_YAML)[variant],
    )
    bank, diagnostics = load_bank(source)
    assert list(diagnostics) == []
    assert bank is not None
    assert bank.deck == expected.deck
    assert bank.taxonomy == expected.taxonomy
    assert len(bank.questions) == len(expected.questions) == 3
    for got, want in zip(bank.questions, expected.questions, strict=True):
        # Field by field, locations included (same relative path in both runs).
        for field in dataclasses.fields(want):
            assert getattr(got, field.name) == getattr(want, field.name), field.name
    assert "\r" not in bank.questions[1].answer
    assert bank.questions[2].answer == "Downsampling by a max.\nSecond paragraph."


# --- refused constructs ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "where", "tag"),
    [
        ("!!python/object/apply:os.system ['touch pwned']\n", "1:1", "python/object/apply"),
        ("- a: !!python/object/apply:os.system ['touch pwned']\n", "1:6", "python/object/apply"),
        ("a: !!python/name:os.system\n", "1:4", "python/name:os.system"),
        (
            "%TAG !x! tag:yaml.org,2002:python/object/apply:\n---\na: !x!os.system [ls]\n",
            "3:4",
            "python/object/apply:os.system",
        ),
        ("a: !local value\n", "1:4", "!local"),
        ("a: !!binary aGVsbG8=\n", "1:4", "tag:yaml.org,2002:binary"),
        ("a: !!set {x}\n", "1:4", "tag:yaml.org,2002:set"),
    ],
)
def test_custom_tags_are_refused_and_never_constructed(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, text: str, where: str, tag: str
) -> None:
    calls: list[object] = []
    monkeypatch.setattr(os, "system", lambda *args: calls.append(args) or 0)
    monkeypatch.chdir(tmp_path)
    root, problems = parse(text)
    assert root is None
    assert len(problems) == 1
    assert problems[0].startswith(f"f.yaml:{where}: E016 YAML tag ")
    assert tag in problems[0]
    assert problems[0].endswith("is not allowed; only plain data is accepted")
    assert calls == []
    assert not (tmp_path / "pwned").exists()


def test_billion_laughs_is_refused_quickly() -> None:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    previous = "a"
    for name in "bcdefghi":
        lines.append(f"{name}: &{name} [" + ", ".join([f"*{previous}"] * 9) + "]")
        previous = name
    started = time.perf_counter()
    root, problems = parse("\n".join(lines) + "\n")
    elapsed = time.perf_counter() - started
    assert root is None
    assert len(problems) == 1
    assert problems[0].startswith("f.yaml:")
    assert problems[0].endswith("E016 document expands to too many nodes (alias bomb?)")
    assert elapsed < 10  # it is refused after ~2M nodes, not after 9^9


@pytest.mark.parametrize("opener", ["[", "{", "- "])
def test_deep_nesting_is_refused_without_crash(opener: str) -> None:
    # 100,000 levels overflow the C stack of PyYAML's recursive composer; ours is iterative.
    root, problems = parse(opener * 100_000)
    assert root is None
    depth = loader.MAX_DEPTH
    col = depth * len(opener) + 1
    assert problems == [f"f.yaml:1:{col}: E016 nesting deeper than {depth} levels"]


def test_nesting_within_the_limit_is_fine() -> None:
    depth = loader.MAX_DEPTH - 1
    root, problems = parse("[" * depth + "x" + "]" * depth)
    assert problems == []
    assert root is not None and root.kind == "seq"


@pytest.mark.parametrize(
    ("text", "where", "alias"),
    [("&a [*a]\n", "1:5", "a"), ("&r {x: [1, *r]}\n", "1:12", "r")],
)
def test_recursive_alias_is_refused(text: str, where: str, alias: str) -> None:
    root, problems = parse(text)
    assert root is None
    assert problems == [f"f.yaml:{where}: E016 alias *{alias} refers to itself"]


def test_unknown_alias_is_refused() -> None:
    _, problems = parse("a: *nowhere\n")
    assert problems == ["f.yaml:1:4: E016 unknown alias *nowhere"]


def test_value_that_cannot_be_read_is_refused() -> None:
    _, problems = parse("a: 2024-13-45\n")
    assert len(problems) == 1
    assert problems[0].startswith("f.yaml:1:4: E016 cannot read value '2024-13-45'")


def test_multi_document_file_is_refused() -> None:
    root, problems = parse("- id: a\n---\n- id: b\n")
    assert root is None
    assert problems == ["f.yaml:2:1: E016 only one YAML document is allowed"]


def test_explicit_single_document_is_fine() -> None:
    root, problems = parse("%YAML 1.1\n---\na: 1\n...\n")
    assert problems == []
    assert root is not None and root.value["a"].node.value == 1


@pytest.mark.parametrize("text", ["", "\n\n", "# only a comment\n"])
def test_empty_file_has_no_tree(text: str) -> None:
    assert parse(text) == (None, [])


def test_empty_question_file_is_reported_once(make_source: MakeSource) -> None:
    source = make_source({"basic.yaml": QUESTIONS_YAML, "empty.yaml": "# nothing yet\n"})
    bank, diagnostics = load_bank(source)
    assert [d.format() for d in diagnostics] == [
        "source/questions/empty.yaml:1:1: E018 question file is empty"
    ]
    assert bank is not None and len(bank.questions) == 2


# --- reading files -----------------------------------------------------------------------


def test_file_too_large_is_refused_unread(
    make_source: MakeSource, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = make_source(QUESTIONS_YAML + "# padding\n" * 200)
    monkeypatch.setattr(loader, "MAX_FILE_BYTES", 1000)
    size = (source / "questions" / "basic.yaml").stat().st_size
    diagnostics = Diagnostics()
    raw = load_source(source, diagnostics)
    assert [d.format() for d in diagnostics] == [
        f"source/questions/basic.yaml:1:1: E017 file is {size:,} bytes; the limit is 1,000"
    ]
    assert raw.questions[0].root is None
    assert raw.deck is not None and raw.deck.root is not None


def test_directory_named_like_a_yaml_file_is_unreadable(make_source: MakeSource) -> None:
    source = make_source()
    (source / "questions" / "folder.yaml").mkdir()
    bank, diagnostics = load_bank(source)
    lines = [d.format() for d in diagnostics]
    assert lines == ["source/questions/folder.yaml:1:1: E017 file is a folder, not a regular file"]
    assert bank is not None and len(bank.questions) == 2


@pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root can read a chmod 000 file"
)
def test_unreadable_file_is_reported(make_source: MakeSource) -> None:
    source = make_source()
    path = source / "questions" / "basic.yaml"
    path.chmod(0)
    try:
        diagnostics = Diagnostics()
        load_source(source, diagnostics)
    finally:
        path.chmod(0o644)
    assert [d.format() for d in diagnostics] == [
        "source/questions/basic.yaml:1:1: E017 cannot read file: Permission denied"
    ]


def test_symlink_loop_is_reported_not_followed(make_source: MakeSource) -> None:
    source = make_source()
    loop = source / "questions" / "loop.yaml"
    loop.symlink_to("loop.yaml")
    diagnostics = Diagnostics()
    load_source(source, diagnostics)
    lines = [d.format() for d in diagnostics]
    assert len(lines) == 1
    assert lines[0].startswith("source/questions/loop.yaml:1:1: E017 cannot read file: ")
    assert "symbolic links" in lines[0]


def test_missing_files_are_each_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "source").mkdir()
    diagnostics = Diagnostics()
    raw = load_source(Path("source"), diagnostics)
    assert [d.format() for d in diagnostics] == [
        "source/deck.yaml:1:1: E017 missing deck.yaml",
        "source/questions:1:1: E017 no question files (*.yaml) found",
        "source/taxonomy.yaml:1:1: E017 missing taxonomy.yaml",
    ]
    assert raw.deck is None and raw.taxonomy is None and raw.questions == []


def test_question_files_are_read_in_name_order(make_source: MakeSource) -> None:
    source = make_source({"b.yaml": "[]\n", "a.yml": "[]\n", "c.yaml": "[]\n"})
    raw = load_source(source, Diagnostics())
    assert [f.path.name for f in raw.questions] == ["a.yml", "b.yaml", "c.yaml"]


def test_paths_outside_the_working_directory_stay_absolute(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    inside = tmp_path / "work"
    inside.mkdir()
    outside = tmp_path / "elsewhere.yaml"
    outside.write_text("a: [\n", encoding="utf-8")
    monkeypatch.chdir(inside)
    diagnostics = Diagnostics()
    loaded = load_file(outside, diagnostics)
    assert loaded.display == str(outside)
    assert [d.location.path for d in diagnostics] == [str(outside)]

"""Sounds and SVG images: validated like images, bundled into the deck, and an SVG that
refers to anything outside itself refused (it could read local files or the network)."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest
from anki.collection import Collection, ImportAnkiPackageOptions, ImportAnkiPackageRequest
from conftest import DECK_YAML, TAXONOMY_YAML, diagnostic_lines, write_source

from exporter.cli.commands import main

MP3 = b"ID3\x04\x00\x00\x00\x00\x00\x00" + b"\xff\xfb\x90\x64" + b"\x00" * 200
SVG = (
    b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" '
    b'xmlns:xlink="http://www.w3.org/1999/xlink" width="40" height="20">'
    b'<defs><linearGradient id="g"><stop offset="0" stop-color="#08f"/></linearGradient></defs>'
    b'<rect width="40" height="20" fill="url(#g)"/></svg>\n'
)


def question(answer: str) -> str:
    return (
        "- id: sound-check\n  level: basic\n  question: What does dropout sound like?\n"
        f"  answer: |\n    {answer}\n  tags: [math]\n"
    )


def test_sounds_and_svg_are_bundled_and_play_in_anki(tmp_path: Path) -> None:
    from click.testing import CliRunner

    answer = "Listen: [sound:audio/hi.mp3] or [the link](audio/link.mp3). ![a bar](fig/bar.svg)"
    files = {"audio/hi.mp3": MP3, "audio/link.mp3": MP3 + b"x", "fig/bar.svg": SVG}
    source = write_source(tmp_path, question(answer), DECK_YAML, TAXONOMY_YAML, files)
    assert diagnostic_lines(source) == []
    out = tmp_path / "out"
    result = CliRunner().invoke(
        main,
        ["build", "-t", "anki", "-t", "cheatsheet", "--source", str(source), "--out", str(out)],
    )
    assert result.exit_code == 0, result.output
    apkg = out / "test-deck.apkg"
    with zipfile.ZipFile(apkg) as archive:
        names = sorted(json.loads(archive.read("media")).values())
    assert [n.rsplit(".", 1)[1] for n in names] == ["mp3", "mp3", "svg"]
    (tmp_path / "col").mkdir()
    col = Collection(str(tmp_path / "col" / "c.anki2"))
    try:
        options = ImportAnkiPackageOptions(merge_notetypes=False, with_scheduling=False)
        col.import_anki_package(ImportAnkiPackageRequest(package_path=str(apkg), options=options))
        note = col.get_note(col.find_notes("")[0])
        sounds = [n for n in names if n.endswith(".mp3")]
        for name in sounds:
            assert f"[sound:{name}]" in note["Answer"]
            assert (Path(col.media.dir()) / name).read_bytes() in (MP3, MP3 + b"x")
        assert "the link [sound:" in note["Answer"]
        svg = next(n for n in names if n.endswith(".svg"))
        assert f'src="{svg}"' in note["Answer"]
        # Anki's own renderer turns [sound:…] into play buttons on the card
        card = note.cards()[0]
        assert card.answer_av_tags(), "Anki found no sound on the card"
    finally:
        col.close()


@pytest.mark.parametrize(
    ("answer", "files", "expected"),
    [
        ("[sound:audio/none.mp3]", {}, "E013 sound 'audio/none.mp3' not found in source/"),
        ("[play](audio/none.ogg)", {}, "E013 sound 'audio/none.ogg' not found in source/"),
        ("[sound:../x.mp3]", {}, "E014 sound '../x.mp3' leaves source/"),
        ("[sound:a.mp3]", {"a.mp3": b"not audio"}, "E013 'a.mp3' is not an MP3, Ogg, WAV"),
        (
            "![x](e.svg)",
            {"e.svg": b'<svg xmlns="http://www.w3.org/2000/svg"><image href="file:///etc/passwd"/></svg>'},
            "E014 SVG image 'e.svg' refers to 'file:///etc/passwd'; an SVG must be self-contained",
        ),
        (
            "![x](w.svg)",
            {"w.svg": b"<svg><rect style=\"fill:url('http://example.com/p.svg#a')\"/></svg>"},
            "E014 SVG image 'w.svg' refers to 'http://example.com/p.svg#a'",
        ),
        (
            "![x](s.svg)",
            {"s.svg": b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'},
            "E014 SVG image 's.svg' contains '<script'",
        ),
        (
            "![x](x.svg)",
            {"x.svg": b'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY e SYSTEM "file:///etc/passwd">]><svg>&e;</svg>'},
            "E014 SVG image 'x.svg' contains '<!ENTITY'",
        ),
    ],
)  # fmt: skip
def test_bad_media_is_located(tmp_path: Path, answer: str, files: dict, expected: str) -> None:
    source = write_source(tmp_path, question(answer), DECK_YAML, TAXONOMY_YAML, files)
    lines = diagnostic_lines(source)
    assert len(lines) == 1 and expected in lines[0], lines
    assert lines[0].split(":")[1:3] == ["5", "5"], lines  # the answer's line and column


def test_an_svg_refused_is_never_bundled_nor_printed(tmp_path: Path) -> None:
    from click.testing import CliRunner

    bad = b'<svg xmlns="http://www.w3.org/2000/svg"><image href="http://example.com/x.png"/></svg>'
    source = write_source(
        tmp_path, question("![x](bad.svg)"), DECK_YAML, TAXONOMY_YAML, {"bad.svg": bad}
    )
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["build", "--source", str(source), "--out", str(out)])
    assert result.exit_code == 1
    assert "E014 SVG image 'bad.svg' refers to 'http://example.com/x.png'" in result.output
    assert not out.exists() or (not any(out.glob("*.apkg")) and not any(out.glob("*.pdf")))

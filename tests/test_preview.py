"""`exporter preview` without a browser: what the page holds, that it loads nothing from the
network, and a clear exit 2 when MathJax is missing."""

from __future__ import annotations

import importlib.metadata
import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import copy_bank

from exporter.cli.commands import main
from exporter.render.anki.preview import PreviewError, mathjax_files


def run_preview(source: Path, out: Path):
    return CliRunner().invoke(main, ["preview", "--source", str(source), "--out", str(out)])


def _has_mathjax() -> bool:
    try:
        mathjax_files()
    except PreviewError:
        return False
    return True


@pytest.mark.skipif(not _has_mathjax(), reason="needs the aqt wheel's MathJax (make installs it)")
def test_preview_lists_every_card_day_and_night_and_loads_only_local_files(tmp_path):
    source = copy_bank(tmp_path)
    result = run_preview(source, tmp_path / "out")
    assert result.exit_code == 0, result.output
    folder = tmp_path / "out" / "preview"
    page = (folder / "index.html").read_text(encoding="utf-8")
    ids = re.findall(r'<section class="pv-item" id="card-([a-z0-9-]+)"', page)
    assert len(ids) == len(set(ids)) == 79
    assert ids[0] == "machine-learning-vs-deep-learning"  # the study order: basic first
    assert page.count('class="card card1"') == page.count("card card1 nightMode night_mode")
    assert page.count('class="card card1"') == 2 * 79
    assert 'data-tags="deep-learning::level::basic' in page
    sources = re.findall(r'<script src="([^"]+)"', page)
    assert sources == ["mathjax/anki.js", "mathjax/tex-chtml-full.js"]
    for src in sources:
        assert (folder / src).is_file()
    assert not re.search(r'(src|href)="(https?:)?//', page), "the page must load nothing remote"
    fonts = list((folder / "mathjax" / "output" / "chtml" / "fonts" / "woff-v2").glob("*.woff"))
    assert len(fonts) > 10
    first = (folder / "index.html").read_bytes()
    assert run_preview(source, tmp_path / "out").exit_code == 0
    assert (folder / "index.html").read_bytes() == first  # same source, same page


def test_preview_without_mathjax_exits_2_with_one_line(tmp_path, monkeypatch):
    source = copy_bank(tmp_path)
    real = importlib.metadata.distribution

    def no_aqt(name: str):
        if name == "aqt":
            raise importlib.metadata.PackageNotFoundError(name)
        return real(name)

    monkeypatch.setattr(importlib.metadata, "distribution", no_aqt)
    result = run_preview(source, tmp_path / "out")
    assert result.exit_code == 2
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert errors == [
        "error: the preview needs MathJax from Anki's 'aqt' wheel: pip install --no-deps "
        "aqt==<the installed anki version> (make does this)"
    ]
    assert "Traceback" not in result.output
    assert not (tmp_path / "out" / "preview").exists()

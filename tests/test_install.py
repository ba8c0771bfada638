"""The tool as a user installs it: the wheel in a fresh virtual environment, used outside
this checkout (``exporter init``, ``exporter build``, an ``exporter sync`` dry run); the
build backend writes nothing into ``build/``; an unusable installation exits 2; the
dependency internals the PDF renderer relies on still exist in the pinned releases, and
their fallbacks work."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest
import tomllib
from click.testing import CliRunner

from exporter.cli.commands import main

REPO = Path(__file__).resolve().parent.parent


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    env["PATH"] = os.environ.get("PATH", "")
    return env


def _run(args: list[str], cwd: Path, timeout: int = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        args, cwd=cwd, env=_env(), capture_output=True, text=True, timeout=timeout, check=False
    )


def _tree(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*")} if folder.exists() else set()


@pytest.mark.slow
def test_the_wheel_works_in_a_fresh_venv_outside_the_checkout(tmp_path: Path) -> None:
    build_before = _tree(REPO / "build")
    wheels = tmp_path / "wheels"
    made = _run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
         str(REPO), "-w", str(wheels)],
        tmp_path,
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    assert _tree(REPO / "build") == build_before, "building the wheel wrote into build/"
    (wheel,) = wheels.glob("*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    for template in ("anki/front.html", "anki/back.html", "anki/style.css", "pdf/base.html.j2"):
        assert f"exporter/templates/{template}" in names
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)

    venv = tmp_path / "venv"
    assert _run([sys.executable, "-m", "venv", str(venv)], tmp_path).returncode == 0
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "-q"]
    installed = _run([*pip, "-c", str(REPO / "requirements.lock"), f"{wheel}[sync]"], tmp_path, 900)
    assert installed.returncode == 0, installed.stderr[-2000:]
    exporter = str(venv / "bin" / "exporter")

    bank = tmp_path / "my bank"
    bank.mkdir()
    where = _run(
        [str(venv / "bin" / "python"), "-c", "import exporter; print(exporter.__file__)"], bank
    )
    assert str(venv) in where.stdout, where.stdout  # the wheel, not this checkout
    init = _run([exporter, "init"], bank)
    assert init.returncode == 0, init.stderr
    assert "exporter validate" in init.stderr and "exporter build" in init.stderr
    built = _run([exporter, "build"], bank)
    assert built.returncode == 0, built.stderr
    assert re.search(r"Done in [\d.]+ m?s: wrote 4 outputs to build/", built.stderr), built.stderr
    outputs = sorted(p.name for p in (bank / "build").iterdir() if not p.name.startswith("."))
    assert outputs == [
        "my-bank-cheatsheet.pdf", "my-bank-flashcards.pdf", "my-bank-quiz.pdf", "my-bank.apkg",
    ]  # fmt: skip
    from pypdf import PdfReader

    for name in outputs[:3]:
        reader = PdfReader(io.BytesIO((bank / "build" / name).read_bytes()))
        assert len(reader.pages) >= 1
        assert "softmax" in "".join(page.extract_text() for page in reader.pages).lower()
    from anki.collection import Collection, ImportAnkiPackageOptions, ImportAnkiPackageRequest

    (tmp_path / "col").mkdir()
    col = Collection(str(tmp_path / "col" / "c.anki2"))
    try:
        options = ImportAnkiPackageOptions(merge_notetypes=False, with_scheduling=False)
        request = ImportAnkiPackageRequest(
            package_path=str(bank / "build/my-bank.apkg"), options=options
        )
        col.import_anki_package(request)
        (note_id,) = col.find_notes("")
        assert "softmax" in col.get_note(note_id)["Question"]
    finally:
        col.close()

    # `exporter sync --dry-run` from the wheel (its `sync` extra) against an empty
    # collection: it reads the real collection, says what it would add, changes nothing
    (tmp_path / "empty").mkdir()
    empty = tmp_path / "empty" / "collection.anki2"
    Collection(str(empty)).close()
    before = empty.read_bytes()
    dry = _run([exporter, "sync", "--dry-run", "--collection", str(empty)], bank)
    assert dry.returncode == 0, dry.stderr
    assert "dry run" in dry.stdout and "1 added" in dry.stdout, dry.stdout
    assert "nothing changed" in dry.stdout
    assert empty.read_bytes() == before

    # an installation without its templates is an install problem: exit 2, one line
    site = Path(where.stdout.strip()).parent
    (site / "templates" / "anki" / "back.html").unlink()
    broken = _run([exporter, "build", "--clean"], bank)
    assert broken.returncode == 2, broken.stderr
    lines = broken.stderr.strip().splitlines()
    assert len(lines) == 1 and "templates" in lines[0] and "reinstall" in lines[0], lines


def test_incomplete_builtin_templates_exit_2_with_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import exporter.core.install as install

    monkeypatch.setattr(
        install, "REQUIRED_TEMPLATES", (*install.REQUIRED_TEMPLATES, "anki/gone.html")
    )
    source = REPO / "source"
    result = CliRunner().invoke(main, ["build", "--source", str(source), "--out", str(tmp_path)])
    assert result.exit_code == 2
    assert result.stderr.strip().count("\n") == 0
    assert "built-in templates" in result.stderr and "anki/gone.html" in result.stderr
    assert not any(tmp_path.glob("*.apkg"))


def _pinned(name: str) -> str:
    for line in (REPO / "requirements.lock").read_text().splitlines():
        if line.lower().startswith(name.lower() + "=="):
            return line.split("==")[1]
    raise AssertionError(f"{name} is not pinned")


@pytest.mark.parametrize("name", ["weasyprint", "pypdf"])
def test_dependencies_with_internals_are_bounded_and_the_pin_is_inside(name: str) -> None:
    from importlib.metadata import version

    from packaging.requirements import Requirement

    dependencies = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
    requirement = next(Requirement(d) for d in dependencies if Requirement(d).name.lower() == name)
    assert any(spec.operator == "<" for spec in requirement.specifier), f"{name} has no upper bound"
    assert requirement.specifier.contains(_pinned(name))
    assert version(name) == _pinned(name)


def test_the_pinned_releases_still_have_the_internals_we_use() -> None:
    """render/pdf/fit.py and paged.py read ``page._page_box``; stamp.py and merge.py call
    ``PdfWriter._add_object`` and ``_root_object`` and set ``_ID``; weasy.py wraps ``ffi.new`` of
    ``weasyprint.text.ffi``. If a release renames one, this fails before a user's build."""
    from pypdf import PdfWriter

    from exporter.render.pdf.weasy import import_weasyprint

    weasyprint = import_weasyprint()
    document = weasyprint.HTML(string="<p>x</p>").render()
    box = document.pages[0]._page_box
    for attribute in ("margin_left", "margin_top", "height", "children"):
        assert hasattr(box, attribute)
    writer = PdfWriter()
    assert callable(writer._add_object) and writer._root_object is not None
    assert hasattr(writer, "_ID")
    ffi = sys.modules["weasyprint.text.ffi"].ffi
    assert getattr(ffi, "_exporter_arrays", False)  # the array-type cache is in place
    assert len(ffi.new("unsigned int[3]", [1, 2, 3])) == 3


def test_weasyprint_import_falls_back_to_the_normal_lookup() -> None:
    """When a library does not load under its direct name, the fast import retries the
    normal way and still gives a working WeasyPrint."""
    script = textwrap.dedent(
        """
        import ctypes.util
        import cffi.api
        real = cffi.api.FFI.dlopen
        refused = []
        def flaky(self, name, *args):
            # no library loads while the fast path's lookup is in place
            if ctypes.util.find_library.__name__ == "<lambda>":
                refused.append(name)
                raise OSError(f"cannot load library {name!r} (simulated)")
            return real(self, name, *args)
        cffi.api.FFI.dlopen = flaky
        from exporter.render.pdf.weasy import import_weasyprint
        weasyprint = import_weasyprint()
        pdf = weasyprint.HTML(string="<p>fallback</p>").write_pdf()
        assert refused and pdf.startswith(b"%PDF"), refused
        assert ctypes.util.find_library.__name__ == "find_library"
        print("ok")
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().splitlines()[-1] == "ok"

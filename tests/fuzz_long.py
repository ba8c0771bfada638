"""The long fuzzing session (run by hand; not collected by pytest, not part of ``make test``).

    .venv/bin/python tests/fuzz_long.py                  # 20,000 examples per property
    .venv/bin/python tests/fuzz_long.py -n 500 -k yaml   # a quick look at some properties

Hypothesis drives the loader, the validator, the Markdown renderer, the LaTeX check, the
image-path check and the Anki field sanitizer with hostile input, and checks properties
stronger than "does not raise":

* the YAML loader agrees with ``yaml.safe_load`` whenever both accept a text (differential);
* every diagnostic is a declared rule, one line, located inside the file it names;
* rendered Markdown never contains an active element, event handler or script URL, before
  and after the sanitizer, whatever raw HTML, link or image the text holds;
* each example finishes within a deadline (no pathological slowness).

Failures are printed with the shrunk example and stored in ``.hypothesis/`` for replay.
What the sessions found is recorded in docs/FUZZING.md; the short versions of these
properties run in ``make test`` (tests/test_fuzz.py).
"""

from __future__ import annotations

import argparse
import datetime
import functools
import math
import re
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parent))

from conftest import DECK_YAML, QUESTIONS_YAML, TAXONOMY_YAML, write_source

from exporter.build.project import load_project
from exporter.core.diagnostics import RULES, Diagnostics
from exporter.render.anki.notes import sanitize
from exporter.source.loader import Node, parse_yaml
from exporter.text.latex import latex_error
from exporter.text.markup import render_field
from exporter.text.media import image_problem

DEADLINE_MS = 2000

ACTIVE = [
    re.compile(r"<\s*(script|iframe|object|embed|style|link|meta|base|form|svg|math)\b", re.I),
    re.compile(r"<[a-zA-Z][^>]*\son[a-z]+\s*=", re.I),
    re.compile(
        r"<[a-zA-Z][^>]*\b(href|src|action|formaction)\s*=\s*[\"']?\s*(javascript|vbscript):", re.I
    ),
]
DATA_URL = re.compile(r"<[a-zA-Z][^>]*\b(href|src)\s*=\s*[\"']?\s*data:(?P<type>[^;,\"'>]*)", re.I)
"""markdown-it keeps ``data:image/{png,gif,jpeg,webp}`` URLs (CommonMark's safe list); the
Anki sanitizer drops every ``data:`` URL (reported as W105)."""


def soup(pieces: list[str], max_size: int) -> st.SearchStrategy[str]:
    """Strings made of the given characters and multi-character tokens."""
    return st.lists(st.sampled_from(pieces), max_size=max_size).map("".join)


# --- YAML -----------------------------------------------------------------------------------

SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=30)
    | st.dates(min_value=datetime.date(1, 1, 1))
    | st.sampled_from(
        [
            "yes",
            "no",
            "on",
            "~",
            "null",
            "0x1f",
            "0o17",
            "1e3",
            "1_000",
            ".nan",
            "<<",
            "=",
            "",
            " ",
            "-",
            "? x",
            "a: b",
            "#c",
            "&a",
            "*a",
            "!t",
            "'",
            '"',
            "\t",
            "\r\n",
            "\ufeff",
            "\x85",
            "\u2028",
        ]
    )
)
KEYS = st.text(max_size=12) | st.sampled_from(
    ["id", "level", "question", "answer", "tags", "<<", "="]
)


def trees() -> st.SearchStrategy[Any]:
    def extend(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
        lists = st.lists(children, max_size=5)
        maps = st.dictionaries(KEYS, children, max_size=5)
        shared = lists.map(lambda items: [items, items])  # the dumper writes &anchor / *alias
        return lists | maps | shared

    return st.recursive(SCALARS, extend, max_leaves=25)


@st.composite
def dumped_yaml(draw: st.DrawFn) -> str:
    tree = draw(trees())
    text = yaml.safe_dump(
        tree,
        allow_unicode=draw(st.booleans()),
        default_flow_style=draw(st.sampled_from([False, True, None])),
        width=draw(st.sampled_from([20, 80, 10_000])),
        indent=draw(st.sampled_from([2, 4, 7])),
        explicit_start=draw(st.booleans()),
        sort_keys=False,
    )
    # mutations: near-valid YAML is where parsers disagree
    for _ in range(draw(st.integers(0, 3))):
        if not text:
            break
        pos = draw(st.integers(0, len(text) - 1))
        action = draw(st.sampled_from(["insert", "delete", "swap", "dup"]))
        piece = draw(
            st.sampled_from(
                [
                    *"-:?[]{},&*!|>'\"#%@` \t\n\\",
                    "&x ",
                    "*x",
                    "!!str ",
                    "!!python/none ",
                    "<<: ",
                    "---\n",
                    "...\n",
                    "\ufeff",
                    "\x00",
                ]
            )
        )
        if action == "insert":
            text = text[:pos] + piece + text[pos:]
        elif action == "delete":
            text = text[:pos] + text[pos + 1 :]
        elif action == "swap" and pos + 1 < len(text):
            text = text[:pos] + text[pos + 1] + text[pos] + text[pos + 2 :]
        else:
            lines = text.split("\n")
            line = pos % len(lines)
            lines.insert(line, lines[line])
            text = "\n".join(lines)
    return text


YAMLISH = soup(
    [
        *"-:?[]{},&*!|>'\"#%@` \t\n\r\\abcé019.",
        "\x00",
        "\ufeff",
        "&a ",
        "*a",
        "!!python/object:x ",
        "!!binary ",
        "!!set ",
        "<<: ",
        "---\n",
        "%YAML 1.1\n",
        "%TAG ! tag:x,1:\n",
        "? ",
        "- ",
        "  ",
        "|-\n",
        ">+\n",
    ],
    300,
)


def plain(node: Node | None) -> Any:
    """Our located tree as plain Python data, for comparing with ``yaml.safe_load``."""
    if node is None:
        return None
    if node.kind == "seq":
        return [plain(child) for child in node.value]
    if node.kind == "map":
        return {key: plain(entry.node) for key, entry in node.value.items()}
    return node.value


def same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    if type(a) is not type(b):
        return False
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    return bool(a == b)


YAML_LINE_BREAK = re.compile("\r\n|[\n\r\x85\u2028\u2029]")
"""YAML 1.1 (and PyYAML's marks) break lines on NEL, LS and PS too, not only on LF/CR."""


def check_located(diagnostics: Diagnostics, texts: dict[str, str]) -> None:
    """Every diagnostic: a declared rule, one line, inside the text of the file it names."""
    for item in diagnostics:
        assert item.code in RULES, item
        line = item.format()
        assert "\n" not in line and "\r" not in line, line
        loc = item.location
        assert loc.line >= 1 and loc.col >= 1, line
        text = texts.get(loc.path)
        if text is not None:
            lines = YAML_LINE_BREAK.split(text)
            assert loc.line <= len(lines) + 1, (line, len(lines))
            # known: a line or paragraph separator (U+2028/9) inside a block scalar is a line
            # break for YAML but not for Markdown, so a finding after one is a line early
            if loc.line <= len(lines) and not re.search("[\u2028\u2029]", text):
                assert loc.col <= len(lines[loc.line - 1]) + 2, (line, lines[loc.line - 1])


NON_SPECIFIC_TAG = re.compile(r"(?:^|[\s\[{,:?-])!(?=[\s\]},]|$)", re.MULTILINE)
"""``! null``: a string by the YAML spec (and for us), None for PyYAML: a known difference."""


def yaml_differential(text: str) -> None:
    diagnostics = Diagnostics()
    started = time.perf_counter()
    root = parse_yaml(text, "f.yaml", diagnostics)
    assert time.perf_counter() - started < 1.0
    check_located(diagnostics, {"f.yaml": text})
    if diagnostics.items or "<<" in text or NON_SPECIFIC_TAG.search(text):
        return
    try:
        expected = yaml.load(text, Loader=yaml.CSafeLoader)
    except yaml.YAMLError:
        # we accepted what PyYAML refuses: only constructs we read as plain text may differ
        return
    except (ValueError, OverflowError, RecursionError):
        return
    assert same(plain(root), expected), (plain(root), expected)


# --- a whole source -------------------------------------------------------------------------


@functools.lru_cache(maxsize=1)
def project_dir() -> Path:
    """One scratch project for every example (each example rewrites its source)."""
    return Path(tempfile.mkdtemp(prefix="fuzz-long-"))


def validate_files(questions: str, deck: str = DECK_YAML, taxonomy: str = TAXONOMY_YAML) -> None:
    source = write_source(project_dir(), {"q.yaml": questions}, deck, taxonomy)
    project = load_project(source)
    texts = {
        str(source / "questions" / "q.yaml"): questions,
        str(source / "deck.yaml"): deck,
        str(source / "taxonomy.yaml"): taxonomy,
    }
    check_located(project.diagnostics, texts)
    if project.bank is not None and not project.diagnostics.errors:
        for rendered in project.rendered(project.bank.questions):
            for html in (rendered.question_html, rendered.answer_html, rendered.details_html):
                check_inert(html)


MARKDOWNISH = soup(
    [
        *"$\\{}^_*`#|-![]()<>&\"'=\n :/.%abcx12",
        "```", "$$", "\\frac", "\\left", "\\begin{x}", "../", "http://", "javascript:",
        "JaVaScRiPt:", "vbscript:", "data:text/html,", "data:image/png;base64,AA", "file:///",
        "&#106;avascript:", "<script>", "</script>", "<img src=x onerror=alert(1)>",
        "<iframe src=", "<a href=", "<svg onload=", "<!--", "-->", "<style>", "onclick=", "](",
        "![", "[x]: ", "    ", "> ", "1. ", "%00", "%0A", "&lt;", "<http://a>", "<javascript:x>",
        "\t", "\r\n", "\u2028",
    ],
    160,
)  # fmt: skip


def check_inert(html: str, sanitized: bool = False) -> None:
    for pattern in ACTIVE:
        assert not pattern.search(html), (pattern.pattern, html)
    for match in DATA_URL.finditer(html):
        assert not sanitized, html
        assert match.group("type").lower() in {"image/png", "image/gif", "image/jpeg", "image/webp"}


def markdown_is_inert(text: str, inline: bool) -> None:
    started = time.perf_counter()
    rendered = render_field(text, inline)
    assert time.perf_counter() - started < 1.0
    check_inert(rendered.html)
    check_inert(sanitize(rendered.html), sanitized=True)
    lines = len(re.split("\r\n|\r|\n", text))  # CommonMark line endings
    for finding in rendered.findings:
        assert finding.kind in {"math", "code", "image", "html", "link"}, finding
        assert 0 <= finding.line < lines, (finding, lines)


@st.composite
def question_files(draw: st.DrawFn) -> str:
    items = []
    for index in range(draw(st.integers(1, 3))):
        item = {
            "id": draw(st.sampled_from(["a", "b", f"q{index}", "A", "a-b", ""])),
            "level": draw(st.sampled_from(["basic", "advanced", "nope"])),
            "question": draw(MARKDOWNISH),
            "answer": draw(MARKDOWNISH),
        }
        if draw(st.booleans()):
            item["details"] = draw(MARKDOWNISH)
        if draw(st.booleans()):
            item["tags"] = draw(st.lists(st.sampled_from(["math", "cnn", "nope", 3]), max_size=3))
        items.append(item)
    return yaml.safe_dump(
        items,
        allow_unicode=True,
        sort_keys=False,
        default_style=draw(st.sampled_from([None, "|", '"'])),
    )


# --- the properties -------------------------------------------------------------------------

PROPERTIES: dict[str, Callable[..., None]] = {}


def prop(name: str, **strategies: st.SearchStrategy[Any]) -> Callable[[Callable[..., None]], None]:
    def register(func: Callable[..., None]) -> None:
        PROPERTIES[name] = given(**strategies)(func)

    return register


@prop("yaml-dumped-differential", text=dumped_yaml())
def _(text: str) -> None:
    yaml_differential(text)


@prop("yaml-soup-differential", text=YAMLISH)
def _(text: str) -> None:
    yaml_differential(text)


@prop("yaml-text-differential", text=st.text(max_size=200))
def _(text: str) -> None:
    yaml_differential(text)


@prop("validate-dumped-trees", text=dumped_yaml())
def _(text: str) -> None:
    validate_files(text)


@prop("validate-deck-and-taxonomy", deck=dumped_yaml(), taxonomy=dumped_yaml())
def _(deck: str, taxonomy: str) -> None:
    validate_files(QUESTIONS_YAML, deck, taxonomy)


@prop("validate-markdown-questions", text=question_files())
def _(text: str) -> None:
    validate_files(text)


@prop("markdown-inert", text=MARKDOWNISH, inline=st.booleans())
def _(text: str, inline: bool) -> None:
    markdown_is_inert(text, inline)


@prop("markdown-inert-text", text=st.text(max_size=300), inline=st.booleans())
def _(text: str, inline: bool) -> None:
    markdown_is_inert(text, inline)


@prop(
    "latex",
    latex=soup(
        [
            *"\\{}^_&ax1 ()[]|'$%#~",
            "\\frac",
            "\\left",
            "\\right",
            "\\begin{matrix}",
            "\\end{matrix}",
            "\\begin{",
            "\\end{",
            "\\sqrt",
            "\\foo",
            "\\\\",
            "\\operatorname",
            "\\mathbb",
            "\\text{",
            "\\hat",
            "^{",
            "_{",
        ],
        60,
    ),
)
def _(latex: str) -> None:
    started = time.perf_counter()
    problem = latex_error(latex)
    assert time.perf_counter() - started < 1.0
    assert problem is None or (isinstance(problem, str) and problem and "\n" not in problem)


@prop(
    "image-path",
    src=soup(
        [*"./\\%0a:-_ ~é\x00", "..", "%2e", "%2f", "%00", "%0A", "http:", "//", "C:", "file:"],
        30,
    )
    | st.text(max_size=30),
)
def _(src: str) -> None:
    code, message = image_problem(src, project_dir() / "source")
    assert code in ("", "E013", "E014"), (code, message)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", "--examples", type=int, default=20_000)
    parser.add_argument("-k", "--only", default="", help="run properties whose name has this")
    args = parser.parse_args()
    write_source(project_dir())
    failures = 0
    total_started = time.perf_counter()
    for name, test in PROPERTIES.items():
        if args.only not in name:
            continue
        configured = settings(
            max_examples=args.examples,
            deadline=DEADLINE_MS,
            suppress_health_check=list(HealthCheck),
            print_blob=True,
        )(test)
        started = time.perf_counter()
        try:
            configured()
            status = "ok"
        except Exception:  # report and go on with the next property
            failures += 1
            status = "FAILED"
            traceback.print_exc()
        print(
            f"{name:32} {status:6} {args.examples} examples, {time.perf_counter() - started:7.1f}s",
            flush=True,
        )
    print(f"total {time.perf_counter() - total_started:.0f}s, {failures} failing properties")
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())

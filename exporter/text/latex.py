"""A fast, dependency-light check that a LaTeX formula will parse.

Catches what breaks MathJax and the PDF math renderer: unbalanced braces, unmatched
``\\left``/``\\right`` and ``\\begin``/``\\end``, a dangling ``^``/``_``, and commands neither
knows. Unknown commands are found by converting with latex2mathml, which leaves them as
literal ``\\name`` text.
"""

from __future__ import annotations

import re
from functools import lru_cache

_COMMAND = re.compile(r"\\([A-Za-z]+|.)")
_UNKNOWN_IN_MATHML = re.compile(r">\\([A-Za-z]+)<")


REFUSED = "refused: "
"""How :func:`latex_error` begins a reason that is a refusal, not a parse error."""
MAX_FORMULA_CHARS = 2_000
"""A longer formula is refused (E011): converting and drawing math is super-linear, and a
real formula is a few hundred characters."""
MAX_ARRAY_CELLS = 400
"""A formula with more matrix/array cells than this (``&`` and ``\\`` counted) is refused."""

MAX_FORMULA_DEPTH = 8
"""Deeper nesting of ``{…}`` groups and ``\\left…\\right`` pairs is refused: drawing a
formula costs about twice as much per level (real formulas nest three or four deep)."""
_NESTING = re.compile(r"\\[{}]|\\left\b|\\right\b|[{}]")

_REFUSED_COMMANDS = {
    "style": "sets CSS styles",
    "class": "sets a CSS class",
    "cssId": "sets an element id",
    "require": "loads a MathJax extension",
    "data": "sets data attributes",
    "html": "inserts HTML",
    "mmlToken": "sets MathML attributes",
    "label": "sets an element id",
    "def": "defines a macro",
    "gdef": "defines a macro",
    "edef": "defines a macro",
    "xdef": "defines a macro",
    "let": "defines a macro",
    "newcommand": "defines a macro",
    "renewcommand": "defines a macro",
    "providecommand": "defines a macro",
    "newenvironment": "defines an environment",
    "renewenvironment": "defines an environment",
    "DeclareMathOperator": "defines a macro",
    "texttip": "adds an action",
    "mathtip": "adds an action",
    "toggle": "adds an action",
    "mathup": "loads a MathJax extension",
}
"""MathJax commands that set links, styles, classes, ids or attributes, define macros or
load extensions: refused in every formula (E011), in Anki cards and PDFs alike."""
_CHECKED_ARGUMENT = {
    "href": re.compile(r"https?://[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]+"),
    "color": re.compile(r"#?[A-Za-z0-9]+"),
    "textcolor": re.compile(r"#?[A-Za-z0-9]+"),
    "colorbox": re.compile(r"#?[A-Za-z0-9]+"),
    "fcolorbox": re.compile(r"#?[A-Za-z0-9]+"),
    "unicode": re.compile(r"x?[0-9A-Fa-f]{1,6}|[0-9]{1,7}"),
}
r"""Commands allowed only when their first argument is provably safe: ``\href`` to an
http(s) URL, a colour by name or hex, a character by number."""
_OPTION_REFUSED = {"unicode", "bbox", "color", "textcolor", "colorbox", "fcolorbox"}
"""Commands whose ``[…]`` option is refused (fonts, CSS in ``\bbox``, colour models)."""
_BBOX_OPTION = re.compile(
    r"\[(?:#?[A-Za-z0-9]+|[0-9.]+(?:pt|px|em|ex|mu)?)(?:,\s*(?:#?[A-Za-z0-9]+|[0-9.]+(?:pt|px|em|ex|mu)?))*\]"
)


def unsafe_command(latex: str) -> str | None:
    """Why a formula is refused for what it would make MathJax do (a ``javascript:``
    link, CSS, a class or id, a macro, an extension), or None when it is provably safe."""
    for match in _COMMAND.finditer(latex):
        name = match.group(1)
        if name in _REFUSED_COMMANDS:
            return f"\\{name} is not allowed (it {_REFUSED_COMMANDS[name]})"
        rest = latex[match.end() :].lstrip()
        if name == "bbox":
            option = _BBOX_OPTION.match(rest)
            if rest.startswith("[") and option is None:
                return "\\bbox is allowed only with a colour or a padding as its option"
            continue
        if name in _OPTION_REFUSED and rest.startswith("["):
            return f"\\{name}[…] is not allowed (only \\{name}{{…}})"
        pattern = _CHECKED_ARGUMENT.get(name)
        if pattern is None:
            continue
        argument = re.match(r"\{([^{}]*)\}", rest)
        if argument is None or not pattern.fullmatch(argument.group(1).strip()):
            shown = argument.group(1).strip()[:40] if argument else rest[:20]
            if name == "href":
                return f"\\href is allowed only to an http(s) URL, not {shown!r}"
            return f"\\{name} is allowed only with a plain value, not {shown!r}"
    return None


def _size_error(latex: str) -> str | None:
    if len(latex) > MAX_FORMULA_CHARS:
        return f"formula of {len(latex):,} characters; the limit is {MAX_FORMULA_CHARS:,}"
    depth = deepest = 0
    for token in _NESTING.finditer(latex):
        if token.group() in ("\\{", "\\}"):
            continue  # a literal brace
        depth += 1 if token.group() in ("{", "\\left") else -1
        deepest = max(deepest, depth)
    if deepest > MAX_FORMULA_DEPTH:
        return f"formula nested {deepest} levels deep; the limit is {MAX_FORMULA_DEPTH}"
    cells = latex.count("&") + latex.count("\\\\")
    if cells > MAX_ARRAY_CELLS:
        return f"formula with {cells:,} array cells; the limit is {MAX_ARRAY_CELLS:,}"
    return None


@lru_cache(maxsize=8192)
def latex_error(latex: str) -> str | None:
    """Why ``latex`` will not render (or is refused), or None when it is fine."""
    if not latex.strip():
        return "empty formula"
    refused = _size_error(latex) or unsafe_command(latex)
    if refused:
        return REFUSED + refused
    structural = _structure_error(latex)
    if structural:
        return structural
    try:
        from latex2mathml.converter import convert

        mathml = convert(latex)
    except Exception as exc:  # latex2mathml raises many exception types
        name = type(exc).__name__
        words = re.sub(r"(?<!^)(?=[A-Z])", " ", name.removesuffix("Error")).lower()
        return f"{words}".strip() or "cannot parse"
    unknown = _UNKNOWN_IN_MATHML.search(mathml)
    if unknown:
        return f"unknown command \\{unknown.group(1)}"
    return None


def _structure_error(latex: str) -> str | None:
    depth = 0
    envs: list[str] = []
    lefts = 0
    pos = 0
    while pos < len(latex):
        char = latex[pos]
        if char == "\\":
            match = _COMMAND.match(latex, pos)
            if not match:
                return "a lone backslash at the end"
            name = match.group(1)
            pos = match.end()
            if name in ("begin", "end"):
                env = re.match(r"\s*\{([A-Za-z*]+)\}", latex[pos:])
                if not env:
                    return f"\\{name} without an environment name"
                pos += env.end()
                if name == "begin":
                    envs.append(env.group(1))
                elif not envs or envs.pop() != env.group(1):
                    return f"\\end{{{env.group(1)}}} without a matching \\begin"
            elif name == "left":
                lefts += 1
            elif name == "right":
                lefts -= 1
                if lefts < 0:
                    return "\\right without \\left"
            continue
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
            if depth < 0:
                return "unbalanced braces: '}' without '{'"
        elif char in "^_":
            rest = latex[pos + 1 :].lstrip()
            if not rest or rest[0] in "}^_&":
                return f"'{char}' without an argument"
        pos += 1
    if depth:
        return "unbalanced braces: '{' without '}'"
    if envs:
        return f"\\begin{{{envs[-1]}}} without \\end"
    if lefts:
        return "\\left without \\right"
    return None

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


@lru_cache(maxsize=8192)
def latex_error(latex: str) -> str | None:
    """Why ``latex`` will not render, or None when it is fine."""
    if not latex.strip():
        return "empty formula"
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

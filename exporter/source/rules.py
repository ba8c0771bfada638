"""Two small rule sets of the source: the ``build:`` settings of ``deck.yaml`` (checked
against the table in :mod:`exporter.core.settings`) and placeholder answers (W111)."""

from __future__ import annotations

import re
from typing import Any

from exporter.core.diagnostics import Diagnostics, Location, did_you_mean
from exporter.core.model import Question
from exporter.core.settings import SETTINGS_BY_NAME, TARGET_CHOICES, check_value
from exporter.source.loader import Node


def build_settings(node: Node | None, d: Diagnostics) -> tuple[tuple[str, Any, Location], ...]:
    """The ``build:`` section of deck.yaml: each known setting with a valid value; unknown
    settings (E006, with "did you mean") and bad values (E004, E018) are reported."""
    if node is None or (node.kind == "scalar" and node.value is None):
        return ()
    if node.kind != "map":
        d.add(node.loc, "E004", "'build' must be a mapping of settings (paper: letter, …)")
        return ()
    chosen = []
    for name, entry in node.value.items():
        setting = SETTINGS_BY_NAME.get(name)
        if setting is None:
            hint = did_you_mean(name, SETTINGS_BY_NAME)
            d.add(entry.key_loc, "E006", f"unknown field '{name}' in 'build'{hint}")
            continue
        value_node = entry.node
        value: Any
        if value_node.kind == "seq":
            value = [item.value if item.kind == "scalar" else item for item in value_node.value]
        elif value_node.kind == "scalar":
            value = value_node.value
        else:
            value = {}
        checked, problem = check_value(setting, value)
        where = value_node.loc
        if problem:
            code = "E004" if problem.startswith("must") else "E018"
            hint = ""
            if setting.kind == "choice" and isinstance(value, str):
                hint = did_you_mean(value, setting.choices)
            elif setting.kind == "targets":
                names = value if isinstance(value, list) else [value]
                wrong = next(
                    (n for n in names if isinstance(n, str) and n not in TARGET_CHOICES), ""
                )
                hint = did_you_mean(wrong, TARGET_CHOICES) if wrong else ""
                if value_node.kind == "seq":  # point at the item itself
                    items = [i for i in value_node.value if i.kind == "scalar" and i.value == wrong]
                    where = items[0].loc if items else where
            d.add(where, code, f"build.{name} {problem}{hint}")
            continue
        chosen.append((name, checked, value_node.loc))
    return tuple(chosen)


PLACEHOLDER = re.compile(r"(?i)^\s*(?:todo|tbd|fixme|xxx)\b|^\s*(?:\.\.\.|…|\?+)\s*$")
"""A line that marks unwritten text: ``TODO: write the answer.`` (what ``exporter new``
scaffolds), ``TBD``, ``FIXME``, ``XXX``, or a line that is only ``...``/``…``/``?``."""


def check_placeholders(question: Question, d: Diagnostics) -> None:
    """W111 for an answer or details still holding a placeholder (an empty ``details:``
    is reported while the question is built)."""
    for name in ("answer", "details"):
        text = getattr(question, name)
        for offset, line in enumerate(text.split("\n")):
            if PLACEHOLDER.search(line):
                d.add(
                    question.text_where(name, offset),
                    "W111",
                    f"{name} of '{question.id}' is a placeholder ({line.strip()[:40]!r}); "
                    "write it before it ships",
                )
                break

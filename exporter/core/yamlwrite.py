"""The one YAML writer of the tool (``new``, ``init`` and ``import``): values written by
PyYAML's own emitter, so whatever it writes reads back as exactly the same data.

PyYAML picks the scalar style: plain when that is unambiguous, quoted when the text would
read as a number, a boolean, null or YAML syntax, ``|`` block text for answers unless
the text holds characters a block cannot carry (then double-quoted with escapes). We
only choose the layout: key order, flow lists for tags, the indentation, the line end.
"""

from __future__ import annotations

from collections.abc import Sequence

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

_STR = "tag:yaml.org,2002:str"
_INT = "tag:yaml.org,2002:int"
_BOOL = "tag:yaml.org,2002:bool"
_MAP = "tag:yaml.org,2002:map"
_SEQ = "tag:yaml.org,2002:seq"
_WIDTH = 1_000_000
"""No line folding: one-line values stay on one line."""

_OTHER_BREAKS = frozenset("\x85\u2028\u2029")
"""Line breaks other than ``\\n``, which a block scalar would write as breaks."""

Value = str | int | bool | Sequence[str | int]
"""What a field may hold: text, a number, a flag, or a flat list (written ``[a, b]``)."""


def _scalar(value: str | int | bool, style: str | None = None) -> ScalarNode:
    if isinstance(value, bool):
        return ScalarNode(_BOOL, "true" if value else "false")
    if isinstance(value, int):
        return ScalarNode(_INT, str(value))
    return ScalarNode(_STR, value, style=style)


def _node(value: Value, block: bool) -> Node:
    if isinstance(value, str | int | bool):
        # a block scalar keeps a final line end ("|"): the reader gets the text back with
        # one "\n", which every field reader strips
        # (PyYAML would also break block lines at U+2028 and kin: quoted instead)
        if block and isinstance(value, str) and value.strip() and not _OTHER_BREAKS & set(value):
            return _scalar(value.rstrip("\n") + "\n", "|")
        return _scalar(value)
    return SequenceNode(_SEQ, [_scalar(v) for v in value], flow_style=True)


def _emit(node: Node, indent: int, newline: str) -> str:
    text: str = yaml.serialize(
        node,
        Dumper=yaml.SafeDumper,
        allow_unicode=True,
        width=_WIDTH,
        indent=indent,
        line_break=newline,
    )
    return text


def scalar(value: str, flow: bool = False) -> str:
    """``value`` as a one-line YAML scalar (plain when unambiguous, else quoted).

    ``flow``: the scalar is an item of a flow list ``[a, b]``.
    """
    node = _scalar(value, '"' if "\n" in value else None)
    wrapped: Node = (
        SequenceNode(_SEQ, [node], flow_style=True)
        if flow
        else MappingNode(_MAP, [(_scalar("k"), node)])
    )
    text = _emit(wrapped, 2, "\n").rstrip("\n")
    return text[1:-1] if flow else text[3:]


def mapping(
    fields: Sequence[tuple[str, Value]],
    block_fields: frozenset[str] = frozenset(),
    indent: int = 2,
    newline: str = "\n",
) -> str:
    """A YAML mapping at column 0, one key per field in the given order.

    Keys in ``block_fields`` are written as ``|`` block text indented ``indent`` deeper
    than the keys; lists are flow lists.
    """
    node = MappingNode(
        _MAP, [(_scalar(key), _node(value, key in block_fields)) for key, value in fields]
    )
    return _emit(node, indent, newline)


def list_item(
    fields: Sequence[tuple[str, Value]],
    block_fields: frozenset[str] = frozenset(),
    dash: str = "- ",
    block_indent: int = 2,
    newline: str = "\n",
) -> str:
    """One item of a block list: ``dash`` before the first key (``"- "``, ``"  - "``),
    the other keys under it, block text ``block_indent`` deeper than the keys."""
    text = mapping(fields, block_fields, min(max(block_indent, 2), 9), newline)
    pad = " " * len(dash)
    lines = text.split(newline)
    out = [dash + lines[0]]
    out.extend(pad + line if line else "" for line in lines[1:])
    return newline.join(out)

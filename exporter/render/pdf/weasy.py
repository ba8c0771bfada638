"""Importing WeasyPrint quickly: cffi's library lookups answered in-process during the
import, and font subsetting without re-parsing C array types.
"""

from __future__ import annotations

import re
import sys
from types import ModuleType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    pass


def import_weasyprint() -> ModuleType:
    """WeasyPrint, imported a quarter faster on Linux.

    WeasyPrint opens pango, harfbuzz and fontconfig trying several names per library, most
    meant for other systems. For each name that fails, cffi asks
    ``ctypes.util.find_library``, which spawns ``ldconfig``, ``gcc`` and ``ld``: about 50
    processes and 0.16 s of the 0.6 s import. During the import that lookup answers
    "not found" at once, so the names that load directly (``libpango-1.0.so.0``…) are
    used; if that ever fails, the import is retried the normal way.
    """
    loaded = sys.modules.get("weasyprint")
    if loaded is not None:  # imported before (by us, or plainly by a caller)
        _cache_array_types(sys.modules["weasyprint.text.ffi"].ffi)
        return loaded
    import ctypes.util

    original = ctypes.util.find_library
    try:
        if sys.platform.startswith("linux"):
            ctypes.util.find_library = lambda name: None
        try:
            import weasyprint
        except OSError:
            ctypes.util.find_library = original
            for name in [m for m in sys.modules if m.split(".")[0] == "weasyprint"]:
                del sys.modules[name]
            import weasyprint  # noqa: F401
    finally:
        ctypes.util.find_library = original
    _cache_array_types(sys.modules["weasyprint.text.ffi"].ffi)
    return sys.modules["weasyprint"]


_SIZED_ARRAY = re.compile(r"^([A-Za-z_][A-Za-z0-9_ ]*)\[(\d+)\]$")


def _cache_array_types(ffi: Any) -> None:
    """Make WeasyPrint's ``ffi.new("T[n]", items)`` calls reuse one parsed C type.

    Subsetting a font asks cffi for ``hb_codepoint_t[<count>]`` arrays; cffi parses every
    new type string with pycparser (about 12 ms each), and the count differs every time:
    0.4 s of writing the ten sheets of the real bank's flashcards. ``T[]`` with the same
    items is the same array, and its type is parsed once.
    """
    if getattr(ffi, "_exporter_arrays", False):
        return
    new = ffi.new

    def new_array(cdecl: Any, init: Any = None) -> Any:
        if isinstance(cdecl, str) and init is not None and hasattr(init, "__len__"):
            match = _SIZED_ARRAY.match(cdecl)
            if match is not None and int(match.group(2)) == len(init):
                return new(f"{match.group(1)}[]", init)
        return new(cdecl, init)

    ffi.new = new_array
    ffi._exporter_arrays = True


def preload() -> None:
    """Import WeasyPrint and pypdf once in a process about to fork PDF workers, so the
    workers inherit them instead of each importing them again."""
    import pypdf  # noqa: F401

    import_weasyprint()

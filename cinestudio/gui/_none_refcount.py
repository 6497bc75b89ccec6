"""Work around PySide6 6.12.0 on CPython < 3.12, which loses references to None, True and False.

Every call of a C++ method that returns void, every C++ call of a Python override returning None
(``paintEvent``) takes one reference from ``None`` that it never gave; every ``Signal.emit()``
does the same to ``True``/``False``. These singletons have a few thousand references at start-up,
so a GUI that repaints a plot dies within minutes: "Fatal Python error: none_dealloc" (or
"bool_dealloc").

CPython 3.12 made these objects immortal, which hides the bug. On older interpreters where the
leak is detected, `install()` gives them the same treatment: their reference counts are raised by
2**40 (a million leaking calls per second would need 12 days to spend it). Nothing else changes;
it is a no-op where the bug is absent.
"""

from __future__ import annotations

import ctypes
import sys

_BUMP = 1 << 40
_installed = False


def leaks() -> dict[str, bool]:
    """Which singletons lose references: probed with void calls and signal emits."""
    from PySide6.QtCore import QObject, Signal
    from PySide6.QtGui import QPainterPath

    class _Probe(QObject):
        ping = Signal()

    path = QPainterPath()
    probe = _Probe()
    none0, false0 = sys.getrefcount(None), sys.getrefcount(False)
    for _ in range(16):
        path.moveTo(0.0, 0.0)
        probe.ping.emit()
    return {"None": sys.getrefcount(None) <= none0 - 8, "bool": sys.getrefcount(False) <= false0 - 8}


def install() -> bool:
    """Apply the workaround when needed; True when it was applied (now or before)."""
    global _installed
    if _installed:
        return True
    if sys.version_info >= (3, 12) or sys.implementation.name != "cpython":
        return False
    found = leaks()
    if not any(found.values()):
        return False
    for obj in (None, True, False):
        ctypes.c_ssize_t.from_address(id(obj)).value += _BUMP
    _installed = True
    return True

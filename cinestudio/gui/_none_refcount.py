"""Work around PySide6 6.12.0 on CPython < 3.12: every call of a C++ method that returns void
takes one reference from ``None`` without having given one (`label.setText("x")` leaves
``sys.getrefcount(None)`` one lower). ``None`` has a few thousand references at start-up, so a GUI
that repaints a plot dies within seconds to minutes with "Fatal Python error: none_dealloc".

CPython 3.12 made ``None`` immortal, which hides the bug. On older interpreters where the leak is
detected, `install()` gives ``None`` the same treatment: its reference count is raised by 2**40
(a million void calls per second would need 12 days to spend it). Nothing else changes; the
function is a no-op where the bug is absent.
"""

from __future__ import annotations

import ctypes
import sys

_BUMP = 1 << 40
_installed = False


def leaks_none() -> bool:
    """True when a void PySide6 method call loses a reference to None (probed on QPainterPath)."""
    from PySide6.QtGui import QPainterPath

    path = QPainterPath()
    before = sys.getrefcount(None)
    for _ in range(16):
        path.moveTo(0.0, 0.0)
    return sys.getrefcount(None) <= before - 8


def install() -> bool:
    """Apply the workaround when needed; True when it was applied (now or before)."""
    global _installed
    if _installed:
        return True
    if sys.version_info >= (3, 12) or sys.implementation.name != "cpython" or not leaks_none():
        return False
    ctypes.c_ssize_t.from_address(id(None)).value += _BUMP
    _installed = True
    return True

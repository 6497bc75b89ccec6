"""Guards the PySide6 pin in pyproject.toml.

PySide6 6.12.0 on CPython < 3.12 takes a reference from None on every void C++ call and from
True/False on every Signal.emit() without giving it back; a GUI that repaints dies within minutes
("Fatal Python error: none_dealloc"). The pin keeps such a release out; this test fails if one
comes back in.
"""

import sys

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QPainterPath


class _Probe(QObject):
    ping = Signal(bool)


def test_qt_calls_and_signals_do_not_leak_references_to_singletons(qapp):
    if sys.version_info >= (3, 12):
        return  # immortal singletons: a leak would be harmless and invisible
    path, probe = QPainterPath(), _Probe()
    received = []
    probe.ping.connect(received.append)
    none0, false0, true0 = sys.getrefcount(None), sys.getrefcount(False), sys.getrefcount(True)
    for _ in range(200):
        path.moveTo(0.0, 0.0)
        probe.ping.emit(False)
    received.clear()
    lost = {"None": none0 - sys.getrefcount(None), "False": false0 - sys.getrefcount(False),
            "True": true0 - sys.getrefcount(True)}
    assert all(n < 50 for n in lost.values()), f"PySide6 loses references: {lost}"

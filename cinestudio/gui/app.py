"""Starting the Qt application: `run_gui` for people, `render_screenshot` for docs and checks."""

from __future__ import annotations

import os
import sys
from pathlib import Path


def _application():
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("CineStudio")
    app.setOrganizationName("CineStudio")
    return app


def run_gui(workspace: Path) -> int:
    from cinestudio.gui.main_window import MainWindow

    app = _application()
    window = MainWindow(workspace)
    window.show()
    return app.exec()


def render_screenshot(workspace: Path, out: Path, tab: str | None = None, settle_ms: int = 1500) -> Path:
    """Open the main window offscreen, let background loads finish, save a PNG and close."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QEventLoop, QTimer

    from cinestudio.fsutil import atomic_path
    from cinestudio.gui.main_window import TAB_NAMES, MainWindow

    app = _application()
    window = MainWindow(workspace)
    if tab:
        window.tabs.setCurrentIndex([t.lower() for t in TAB_NAMES].index(tab.lower()))
    window.show()
    loop = QEventLoop()
    QTimer.singleShot(settle_ms, loop.quit)
    loop.exec()
    app.processEvents()
    with atomic_path(out) as tmp:
        if not window.grab().save(str(tmp), "PNG"):
            raise OSError(f"could not write {out}")
    window.close()
    return out

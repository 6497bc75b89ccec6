"""The export dialog: MP4, GIF, contact sheet, per-shot clips and JSON, with progress and cancel.

The export itself (`cinestudio.storyboard.service.export_active`, given as `export_fn`) runs in a
worker thread of the tab's `TaskRunner`; the dialog shows its progress and, when done, the files.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (QCheckBox, QDialog, QDialogButtonBox, QFileDialog, QFormLayout, QHBoxLayout, QLabel,
                               QLineEdit, QProgressBar, QPushButton, QVBoxLayout, QWidget)

from cinestudio.gui.workers import Task, TaskRunner

FORMAT_LABELS = (("mp4", "Sequence as MP4 (H.264)"), ("gif", "Sequence as GIF (looping)"),
                 ("contact", "Contact sheet (PNG)"), ("clips", "One clip per shot (MP4)"),
                 ("json", "Board JSON + render sidecar (seeds, LoRAs, scores)"))


class ExportDialog(QDialog):
    def __init__(self, runner: TaskRunner, export_fn: Callable[..., dict[str, Any]], default_dir: Path,
                 board_name: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("export-dialog")
        self.setWindowTitle(f"Export — {board_name}")
        self.setMinimumWidth(520)
        self.runner, self.export_fn = runner, export_fn
        self.task: Task | None = None
        self.result: dict[str, Any] | None = None
        self.error: str | None = None

        self.folder = QLineEdit(str(default_dir))
        self.folder.setObjectName("export-folder")
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        row = QHBoxLayout()
        row.addWidget(self.folder, 1)
        row.addWidget(browse)
        self.checks: dict[str, QCheckBox] = {}
        checks = QVBoxLayout()
        for key, label in FORMAT_LABELS:
            box = QCheckBox(label)
            box.setObjectName(f"export-{key}")
            box.setChecked(True)
            box.toggled.connect(self._sync)
            self.checks[key] = box
            checks.addWidget(box)
        self.progress = QProgressBar()
        self.progress.setObjectName("export-progress")
        self.progress.setRange(0, 100)
        self.progress.setValue(0)
        self.status = QLabel("Exports each shot's render in use. Unrendered shots must be rendered first.")
        self.status.setObjectName("export-status")
        self.status.setWordWrap(True)
        self.status.setOpenExternalLinks(False)
        self.status.linkActivated.connect(lambda url: QDesktopServices.openUrl(QUrl(url)))

        self.buttons = QDialogButtonBox()
        self.export_button = self.buttons.addButton("Export", QDialogButtonBox.ButtonRole.AcceptRole)
        self.export_button.setObjectName("export-start")
        self.close_button = self.buttons.addButton(QDialogButtonBox.StandardButton.Close)
        self.export_button.clicked.connect(self.start)
        self.close_button.clicked.connect(self._close_or_cancel)

        form = QFormLayout()
        form.addRow("Folder", row)
        form.addRow("Write", checks)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.progress)
        layout.addWidget(self.status)
        layout.addWidget(self.buttons)

    def formats(self) -> list[str]:
        return [k for k, box in self.checks.items() if box.isChecked()]

    def _sync(self) -> None:
        self.export_button.setEnabled(bool(self.formats()) and self.task is None)

    def _browse(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Export to", self.folder.text())
        if folder:
            self.folder.setText(folder)

    def start(self) -> Task | None:
        formats = self.formats()
        if not formats or self.task is not None:
            return None
        out = Path(self.folder.text()).expanduser()
        self.result, self.error = None, None
        self.progress.setValue(0)
        self.status.setText("Exporting…")
        self.export_button.setEnabled(False)
        self.close_button.setText("Cancel")
        self.task = self.runner.submit(self.export_fn, out, formats, on_result=lambda r: self._done(out, r),
                                       on_error=self._failed, on_progress=self._progress, name="storyboard-export")
        return self.task

    def _progress(self, done: int, total: int, message: str) -> None:
        if total:
            self.progress.setValue(int(100 * done / total))
        self.status.setText(f"Exporting… {message}")

    def _done(self, out: Path, result: dict[str, Any]) -> None:
        self.task = None
        self.result = result
        self.progress.setValue(100)
        outs = result.get("outputs", {})
        names = ", ".join(outs[k] for k in ("mp4", "gif", "contact_sheet", "sidecar") if k in outs)
        url = QUrl.fromLocalFile(str(out)).toString()
        self.status.setText(f"Exported {result.get('total_frames', 0)} frames "
                            f"({result.get('seconds', 0):.1f} s): {names}. <a href='{url}'>Open folder</a>")
        self.close_button.setText("Close")
        self._sync()

    def _failed(self, exc: BaseException) -> None:
        self.task = None
        self.error = str(getattr(exc, "reason", None) and f"{exc.subject}: {exc.reason}" or exc)
        self.status.setText(f"<span style='color:#e0604f'>Export failed: {self.error}</span>")
        self.close_button.setText("Close")
        self._sync()

    def _close_or_cancel(self) -> None:
        if self.task is not None:
            self.task.cancel()
            self.task = None
            self.status.setText("Export cancelled.")
            self.close_button.setText("Close")
            self._sync()
            return
        self.reject()

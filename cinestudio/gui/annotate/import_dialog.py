"""Import videos: pick files and folders, run the import use-case in a worker, follow its
progress, cancel it, and read what happened to every file (clips, duplicates, errors)."""

from __future__ import annotations

import html
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QDialog, QDialogButtonBox, QFileDialog, QHBoxLayout, QLabel,
                               QListWidget, QProgressBar, QPushButton, QTextBrowser, QVBoxLayout,
                               QWidget)

from cinestudio.gui.annotate.backend import AnnotateBackend
from cinestudio.gui.workers import Task, TaskRunner

VIDEO_FILTER = ("Videos (*.mp4 *.m4v *.mov *.avi *.mkv *.webm *.mpg *.mpeg *.ts *.mts *.wmv "
                "*.flv *.3gp *.ogv *.gif);;All files (*)")


def report_html(report: dict[str, Any]) -> str:
    """The import report as readable HTML (what went in, duplicates, errors with reasons)."""
    imported = report.get("imported", [])
    clips = sum(len(e.get("clips", [])) for e in imported)
    parts = [f"<p><b>{len(imported)}</b> file(s) imported as <b>{clips}</b> clip(s)"
             + (f", <b>{len(report.get('duplicates', []))}</b> duplicate(s) skipped"
                if report.get("duplicates") else "")
             + (f", <b>{len(report.get('already_imported', []))}</b> already in"
                if report.get("already_imported") else "")
             + (f", <b style='color:#c83c3c'>{len(report.get('errors', []))}</b> failed"
                if report.get("errors") else "")
             + (" — <b>cancelled</b>" if report.get("cancelled") else "") + ".</p>"]
    if imported:
        parts.append("<p><b>Imported</b></p><ul>")
        for e in imported:
            n = len(e.get("clips", []))
            skipped = e.get("skipped") or e.get("skipped_shots") or []
            extra = f", {len(skipped)} short shot(s) skipped" if skipped else ""
            parts.append(f"<li>{html.escape(Path(e['path']).name)} — {n} shot(s){extra}</li>")
        parts.append("</ul>")
    if report.get("duplicates"):
        parts.append("<p><b>Duplicates</b> (same content as a source already in)</p><ul>")
        for e in report["duplicates"]:
            parts.append(f"<li>{html.escape(Path(e['path']).name)} = "
                         f"{html.escape(Path(str(e.get('duplicate_of', ''))).name)}"
                         f" ({html.escape(str(e.get('match', '')))})</li>")
        parts.append("</ul>")
    if report.get("errors"):
        parts.append("<p style='color:#c83c3c'><b>Errors</b></p><ul>")
        for e in report["errors"]:
            parts.append(f"<li><b>{html.escape(Path(e['path']).name)}</b>: "
                         f"{html.escape(str(e.get('error', '')))}</li>")
        parts.append("</ul>")
    return "".join(parts)


class ImportDialog(QDialog):
    imported = Signal(dict)   # the report, when an import ends (finished or cancelled)

    def __init__(self, runner: TaskRunner, backend: AnnotateBackend, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Import videos")
        self.setObjectName("import-dialog")
        self.resize(640, 520)
        self.runner, self.backend = runner, backend
        self.task: Task | None = None
        self.report: dict[str, Any] | None = None
        self.last_dir = str(Path.home())

        intro = QLabel("Each video is split into shots (one clip per shot); pre-labels and "
                       "thumbnails are made on the way. Files already in the workspace — even "
                       "renamed or re-encoded — are skipped.")
        intro.setWordWrap(True)
        self.paths = QListWidget()
        self.paths.setObjectName("import-paths")
        self.paths.setSelectionMode(QListWidget.SelectionMode.ExtendedSelection)
        self.add_files = QPushButton("Add files…")
        self.add_folder = QPushButton("Add folder…")
        self.remove = QPushButton("Remove")
        self.add_files.clicked.connect(self._choose_files)
        self.add_folder.clicked.connect(self._choose_folder)
        self.remove.clicked.connect(self._remove_selected)
        pick = QHBoxLayout()
        pick.addWidget(self.add_files)
        pick.addWidget(self.add_folder)
        pick.addWidget(self.remove)
        pick.addStretch(1)

        self.progress = QProgressBar()
        self.progress.setObjectName("import-progress")
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.message = QLabel("Add files or folders, then Import.")
        self.message.setObjectName("import-message")
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.result = QTextBrowser()
        self.result.setObjectName("import-report")
        self.result.setOpenLinks(False)

        self.buttons = QDialogButtonBox()
        self.start_button = self.buttons.addButton("Import", QDialogButtonBox.ButtonRole.AcceptRole)
        self.cancel_button = self.buttons.addButton("Cancel import", QDialogButtonBox.ButtonRole.ActionRole)
        self.close_button = self.buttons.addButton(QDialogButtonBox.StandardButton.Close)
        self.start_button.clicked.connect(self.start)
        self.cancel_button.clicked.connect(self.cancel)
        self.close_button.clicked.connect(self.close)
        self.start_button.setDefault(True)

        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.paths, 1)
        layout.addLayout(pick)
        layout.addWidget(self.progress)
        layout.addWidget(self.message)
        layout.addWidget(self.result, 2)
        layout.addWidget(self.buttons)
        self._sync()

    # -- paths -------------------------------------------------------------------------------

    def add_paths(self, paths: Sequence[str | os.PathLike[str]]) -> None:
        have = {self.paths.item(i).text() for i in range(self.paths.count())}
        for p in paths:
            text = os.fspath(p)
            if text and text not in have:
                self.paths.addItem(text)
                have.add(text)
        self._sync()

    def path_list(self) -> list[str]:
        return [self.paths.item(i).text() for i in range(self.paths.count())]

    def _choose_files(self) -> None:
        files, _ = QFileDialog.getOpenFileNames(self, "Add videos", self.last_dir, VIDEO_FILTER)
        if files:
            self.last_dir = str(Path(files[0]).parent)
            self.add_paths(files)

    def _choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Add a folder of videos", self.last_dir)
        if folder:
            self.last_dir = folder
            self.add_paths([folder])

    def _remove_selected(self) -> None:
        for item in self.paths.selectedItems():
            self.paths.takeItem(self.paths.row(item))
        self._sync()

    # -- running ---------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self.task is not None

    def start(self) -> None:
        paths = self.path_list()
        if not paths or self.running:
            return
        self.report = None
        self.result.clear()
        self.progress.setRange(0, 0)   # busy until the first report
        self.message.setText("Starting…")
        self.task = self.runner.submit(self.backend.import_paths, paths, name="import",
                                       on_result=self._finished, on_error=self._failed,
                                       on_progress=self._progress)
        self._sync()

    def cancel(self) -> None:
        if self.task is not None:
            self.task.request_stop()   # the use-case stops; its partial report still comes
            self.message.setText("Stopping after the current file…")
            self.cancel_button.setEnabled(False)

    def _progress(self, done: int, total: int, message: str) -> None:
        self.progress.setRange(0, max(1, total))
        self.progress.setValue(done)
        self.message.setText(f"{done} / {total} files — {message}")

    def _finished(self, report: dict[str, Any]) -> None:
        self.task = None
        self.report = report
        self.progress.setRange(0, 1)
        self.progress.setValue(1)
        n = sum(len(e.get("clips", [])) for e in report.get("imported", []))
        self.message.setText(("Cancelled. " if report.get("cancelled") else "Done. ")
                             + f"{n} new clip(s).")
        self.result.setHtml(report_html(report))
        self._sync()
        self.imported.emit(report)

    def _failed(self, exc: BaseException) -> None:
        self.task = None
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        reason = getattr(exc, "reason", None)
        subject = getattr(exc, "subject", None)
        text = f"{subject}: {reason}" if reason else f"{type(exc).__name__}: {exc}"
        self.message.setText("Import failed")
        self.result.setHtml(f"<p style='color:#c83c3c'><b>Import failed</b><br>{html.escape(text)}</p>")
        self._sync()

    def _sync(self) -> None:
        running = self.running
        self.start_button.setEnabled(not running and self.paths.count() > 0)
        self.cancel_button.setEnabled(running)
        self.close_button.setEnabled(not running)
        for w in (self.add_files, self.add_folder, self.remove, self.paths):
            w.setEnabled(not running)

    def closeEvent(self, event) -> None:
        if self.running:
            self.cancel()
            event.ignore()
            return
        super().closeEvent(event)

    def reject(self) -> None:  # Esc
        if self.running:
            self.cancel()
            return
        super().reject()

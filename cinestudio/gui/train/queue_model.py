"""The queue table: one row per job — id, kind, state, a progress bar, ETA, message."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QApplication, QStyle, QStyledItemDelegate, QStyleOptionProgressBar

from cinestudio.jobs.kinds import kind_title
from cinestudio.jobs.protocol import format_duration
from cinestudio.store import JobRecord

COLUMNS = ("#", "Job", "State", "Progress", "ETA", "Message")
PROGRESS_COL = 3
STATE_COLORS = {
    "queued": "#7a7a7a", "running": "#1f6fd1", "succeeded": "#2e7d32", "failed": "#c62828",
    "cancelled": "#8d6e00", "interrupted": "#b35c00",
}

Index = QModelIndex | QPersistentModelIndex


class JobTableModel(QAbstractTableModel):
    def __init__(self, eta: Callable[[int], float | None] | None = None, parent: Any = None):
        super().__init__(parent)
        self.jobs: list[JobRecord] = []
        self.active_run: str | None = None
        self.eta = eta or (lambda job_id: None)

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.jobs)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        return None

    def job_at(self, row: int) -> JobRecord | None:
        return self.jobs[row] if 0 <= row < len(self.jobs) else None

    def row_of(self, job_id: int) -> int | None:
        return next((i for i, j in enumerate(self.jobs) if j.id == job_id), None)

    def set_jobs(self, jobs: list[JobRecord], active_run: str | None = None) -> None:
        """Replace the rows; same ids in the same order only repaint (selection survives)."""
        self.active_run = active_run
        if [j.id for j in jobs] == [j.id for j in self.jobs]:
            self.jobs = list(jobs)
            if jobs:
                self.dataChanged.emit(self.index(0, 0), self.index(len(jobs) - 1, len(COLUMNS) - 1))
            return
        self.beginResetModel()
        self.jobs = list(jobs)
        self.endResetModel()

    def refresh_etas(self) -> None:
        if self.jobs:
            self.dataChanged.emit(self.index(0, 4), self.index(len(self.jobs) - 1, 4),
                                  [Qt.ItemDataRole.DisplayRole])

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        job = self.job_at(index.row())
        if job is None:
            return None
        col = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            if col == 0:
                return str(job.id)
            if col == 1:
                title = kind_title(job.kind)
                return title + (" ★" if self.active_run and job.run_dir == self.active_run else "")
            if col == 2:
                return job.state + (" (stopping)" if job.cancel_requested and job.state == "running" else "")
            if col == PROGRESS_COL:
                if job.state == "succeeded":
                    return "done"
                total = job.progress_total
                return f"{job.progress_done}/{total}" if total else ""
            if col == 4:
                eta = self.eta(job.id) if job.state == "running" else None
                return format_duration(eta) if eta is not None else ""
            if col == 5:
                return job.error if job.state == "failed" else (job.message or "")
        if role == Qt.ItemDataRole.ForegroundRole and col == 2:
            return QColor(STATE_COLORS.get(job.state, "#000000"))
        if role == Qt.ItemDataRole.ToolTipRole:
            if col == 1 and self.active_run and job.run_dir == self.active_run:
                return "The workspace's CameraCLIP for pre-labelling"
            if col == 5:
                return job.error or job.message
        if role == Qt.ItemDataRole.UserRole:
            if job.state == "succeeded":
                return 1.0
            total = job.progress_total
            return (job.progress_done / total) if total else None
        return None


class ProgressDelegate(QStyledItemDelegate):
    """Draws the progress column as a bar."""

    def paint(self, painter: Any, option: Any, index: QModelIndex) -> None:
        if index.column() != PROGRESS_COL:
            super().paint(painter, option, index)
            return
        fraction = index.data(Qt.ItemDataRole.UserRole)
        if fraction is None:
            super().paint(painter, option, index)
            return
        bar = QStyleOptionProgressBar()
        bar.rect = option.rect.adjusted(2, 3, -2, -3)
        bar.minimum, bar.maximum = 0, 1000
        bar.progress = int(round(1000 * max(0.0, min(1.0, fraction))))
        bar.text = index.data(Qt.ItemDataRole.DisplayRole) or ""
        bar.textVisible = True
        bar.state = QStyle.StateFlag.State_Enabled | QStyle.StateFlag.State_Horizontal
        style = option.widget.style() if option.widget is not None else QApplication.style()
        style.drawControl(QStyle.ControlElement.CE_ProgressBar, bar, painter)

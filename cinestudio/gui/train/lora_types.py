"""The scheme's classes, one row each, with the newest LoRA training of that type: status,
steps, final loss and the first frame of its newest preview."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QSize, Qt, Signal
from PySide6.QtGui import QColor, QImage, QPixmap
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView, QWidget

from cinestudio.gui.train import backend
from cinestudio.store import WorkspaceStore

THUMB = 40          # preview thumbnail, px
STATE_COLORS = {"succeeded": "#2e7d32", "failed": "#c62828", "running": "#1565c0", "queued": "#6d4c41",
                "cancelled": "#757575", "interrupted": "#ef6c00"}


def load_rows(store: WorkspaceStore) -> tuple[list[backend.LoraTypeRow], dict[str, QImage]]:
    """The rows and each preview's first frame, scaled (worker thread: QImage only)."""
    rows = backend.lora_types(store)
    thumbs = {}
    for row in rows:
        if row.preview is not None:
            image = QImage(str(row.preview))     # a GIF's first frame
            if not image.isNull():
                thumbs[row.key] = image.scaled(THUMB, THUMB, Qt.AspectRatioMode.KeepAspectRatio,
                                               Qt.TransformationMode.FastTransformation)
    return rows, thumbs


class LoraTypesModel(QAbstractTableModel):
    COLUMNS = ("Type", "Axis", "Status", "Steps", "Loss")

    def __init__(self, parent: Any = None):
        super().__init__(parent)
        self.rows: list[backend.LoraTypeRow] = []
        self.thumbs: dict[str, QPixmap] = {}

    def set_rows(self, rows: list[backend.LoraTypeRow], thumbs: dict[str, QImage]) -> None:
        self.beginResetModel()
        self.rows = list(rows)
        self.thumbs = {k: QPixmap.fromImage(v) for k, v in thumbs.items()}
        self.endResetModel()

    def rowCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self.COLUMNS[section]
        return None

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        row = self.rows[index.row()]
        col = index.column()
        job = row.job
        if role == Qt.ItemDataRole.DisplayRole:
            if col == 0:
                return row.label
            if col == 1:
                return row.axis
            if col == 2:
                return row.status
            if col == 3:
                return "" if row.steps is None else str(row.steps)
            if col == 4:
                return "" if row.loss is None else f"{row.loss:.4f}"
        if role == Qt.ItemDataRole.DecorationRole and col == 0:
            return self.thumbs.get(row.key)
        if role == Qt.ItemDataRole.ForegroundRole and col == 2:
            if job is not None:
                return QColor(STATE_COLORS.get(job.state, "#333333"))
            return QColor(STATE_COLORS["succeeded"] if row.status == "trained" else "#9e9e9e")
        if role == Qt.ItemDataRole.ToolTipRole:
            if job is None:
                return f"{row.key}: " + (f"run {row.run} (trained outside the job queue)" if row.run else "no LoRA yet")
            return f"{row.key}: job {job.id}, run {job.run_dir}" + (f"\n{job.message}" if job.message else "") + \
                (f"\nerror: {job.error}" if job.error else "")
        return None


class LoraTypesView(QTableView):
    """The table; picking a row with a training shows that job (`jobPicked`)."""

    jobPicked = Signal(int)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("lora-types")
        self.types = LoraTypesModel(self)
        self.setModel(self.types)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.verticalHeader().setVisible(False)
        self.verticalHeader().setDefaultSectionSize(THUMB + 6)
        self.setIconSize(QSize(THUMB, THUMB))
        self.setAlternatingRowColors(True)
        header = self.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        self.clicked.connect(self._picked)

    def _picked(self, index: QModelIndex) -> None:
        job = self.types.rows[index.row()].job if index.isValid() else None
        if job is not None:
            self.jobPicked.emit(job.id)

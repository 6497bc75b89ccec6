"""A shot's render history (keep, compare, revert) and the side-by-side compare dialog."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QIcon, QPixmap
from PySide6.QtWidgets import (QDialog, QDialogButtonBox, QHBoxLayout, QLabel, QListWidget, QListWidgetItem,
                               QPushButton, QVBoxLayout, QWidget)

from cinestudio.gui.widgets.player import PlayerWidget


def render_caption(rec, active: bool) -> str:
    when = rec.created_at.astimezone().strftime("%b %d %H:%M:%S")
    details = rec.details or {}
    seed = details.get("seed", (rec.inputs or {}).get("seed", "?"))
    marks = (" ● in use" if active else "") + (" ★ kept" if rec.kept else "")
    title = (rec.inputs or {}).get("title")
    moves = " → ".join((rec.inputs or {}).get("movements", []))
    return (f"{rec.backend} · {when}{marks}\n"
            f"seed {seed} · {rec.frames} f · {moves}" + (f" · “{title}”" if title else ""))


class RenderHistory(QWidget):
    useRequested = Signal(int)            # render id: make it the shot's render (revert)
    keepRequested = Signal(int, bool)
    compareRequested = Signal(int)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("render-history")
        self.workspace: Path | None = None
        self.renders: list = []
        self.active_id: int | None = None
        self.list = QListWidget()
        self.list.setObjectName("render-history-list")
        self.list.setIconSize(QSize(80, 45))
        self.list.setSpacing(2)
        self.list.setWordWrap(True)
        self.list.currentRowChanged.connect(lambda _r: self._sync())
        self.list.itemDoubleClicked.connect(lambda _i: self._use())
        self.use_button = QPushButton("Use this render")
        self.use_button.setToolTip("Show and export this render for the shot (revert to it)")
        self.use_button.clicked.connect(self._use)
        self.keep_button = QPushButton("Keep")
        self.keep_button.setCheckable(True)
        self.keep_button.setToolTip("Kept renders are never cleaned up")
        self.keep_button.clicked.connect(self._keep)
        self.compare_button = QPushButton("Compare…")
        self.compare_button.setToolTip("Play this render beside the one in use")
        self.compare_button.clicked.connect(self._compare)
        buttons = QHBoxLayout()
        buttons.setSpacing(4)
        for b in (self.use_button, self.keep_button, self.compare_button):
            buttons.addWidget(b)
        self.empty = QLabel("No renders of this shot yet.")
        self.empty.setStyleSheet("color: palette(placeholder-text);")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 8, 10, 8)
        layout.addWidget(self.empty)
        layout.addWidget(self.list, 1)
        layout.addLayout(buttons)
        self.set_renders([], None, None)

    def set_renders(self, renders: list, active_id: int | None, workspace: Path | None) -> None:
        current = self.selected()
        self.renders, self.active_id, self.workspace = list(renders), active_id, workspace
        self.list.blockSignals(True)
        self.list.clear()
        for rec in self.renders:
            item = QListWidgetItem(render_caption(rec, rec.id == active_id))
            if rec.thumbnail_path and workspace is not None:
                pm = QPixmap(str(workspace / rec.thumbnail_path))
                if not pm.isNull():
                    item.setIcon(QIcon(pm))
            item.setData(Qt.ItemDataRole.UserRole, rec.id)
            item.setSizeHint(QSize(0, 52))
            self.list.addItem(item)
        ids = [r.id for r in self.renders]
        keep = current.id if current is not None and current.id in ids else active_id
        if keep in ids:
            self.list.setCurrentRow(ids.index(keep))
        self.list.blockSignals(False)
        self.empty.setVisible(not self.renders)
        self.list.setVisible(bool(self.renders))
        self._sync()

    def selected(self):
        row = self.list.currentRow()
        return self.renders[row] if 0 <= row < len(self.renders) else None

    def _sync(self) -> None:
        rec = self.selected()
        self.use_button.setEnabled(rec is not None and rec.id != self.active_id)
        self.keep_button.setEnabled(rec is not None)
        self.keep_button.setChecked(bool(rec is not None and rec.kept))
        self.compare_button.setEnabled(rec is not None and self.active_id is not None and rec.id != self.active_id)

    def _use(self) -> None:
        rec = self.selected()
        if rec is not None and rec.id != self.active_id:
            self.useRequested.emit(rec.id)

    def _keep(self) -> None:
        rec = self.selected()
        if rec is not None:
            self.keepRequested.emit(rec.id, self.keep_button.isChecked())

    def _compare(self) -> None:
        rec = self.selected()
        if rec is not None:
            self.compareRequested.emit(rec.id)


class CompareDialog(QDialog):
    """Two renders of one shot side by side, played together."""

    def __init__(self, workspace: Path, left, right, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("compare-dialog")
        self.setWindowTitle("Compare renders")
        self.resize(1240, 480)
        self.players = []
        row = QHBoxLayout()
        for rec, what in ((left, "in use"), (right, "selected")):
            col = QVBoxLayout()
            label = QLabel(f"<b>{what}</b> — " + render_caption(rec, False).replace("\n", "<br>"))
            label.setWordWrap(True)
            player = PlayerWidget(cache_frames=max(60, rec.frames + 4))
            player.load(str(workspace / rec.clip_path), 0, rec.frames, rec.fps, rec.width, rec.height)
            col.addWidget(label)
            col.addWidget(player, 1)
            row.addLayout(col, 1)
            self.players.append(player)
        play = QPushButton("▶ Play both")
        play.clicked.connect(self.play_both)
        box = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        box.rejected.connect(self.reject)
        box.addButton(play, QDialogButtonBox.ButtonRole.ActionRole)
        layout = QVBoxLayout(self)
        layout.addLayout(row, 1)
        layout.addWidget(box)

    def play_both(self) -> None:
        for p in self.players:
            p.seek(0)
            p.play()

    def done(self, result: int) -> None:
        for p in self.players:
            p.shutdown()
        super().done(result)

    def closeEvent(self, event) -> None:
        for p in self.players:
            p.shutdown()
        super().closeEvent(event)

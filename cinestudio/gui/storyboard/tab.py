"""The Storyboard tab: lay out shots in cinematic language, render them, play the cut, export.

Layout: a toolbar (board, shot editing, undo/redo, backend, render, export); the preview player
(whole sequence or one shot) beside the shot inspector and the shot's render history; the cut to
scale (`SequenceBar`) over the strip of shot cards.

Threads: the UI thread edits the `BoardDocument` (undoable) and paints. The database is touched
only by `io` (one worker, so saves stay in order); renders run on `render_runner` (previz in a
worker thread; diffusion as jobs in worker processes); the preview cut is encoded in a worker and
decoded by the player's own decoder thread, so playback never waits on anything.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

from PySide6.QtCore import QItemSelectionModel, QSettings, Qt, QTimer
from PySide6.QtGui import QKeySequence, QPixmap, QShortcut
from PySide6.QtWidgets import (QButtonGroup, QComboBox, QDialog, QDialogButtonBox, QDoubleSpinBox, QFileDialog,
                               QFormLayout, QFrame, QHBoxLayout, QInputDialog, QLabel, QLineEdit, QMenu,
                               QMessageBox, QProgressBar, QPushButton, QScrollArea, QSpinBox, QSplitter,
                               QTabWidget, QToolButton, QVBoxLayout, QWidget)

from cinestudio.errors import UserInputError
from cinestudio.gui.storyboard.document import BoardDocument
from cinestudio.gui.storyboard.export_dialog import ExportDialog
from cinestudio.gui.storyboard.history import CompareDialog, RenderHistory
from cinestudio.gui.storyboard.inspector import ShotInspector
from cinestudio.gui.storyboard.strip import SequenceBar, ShotListModel, ShotStrip
from cinestudio.gui.widgets.player import PlayerWidget
from cinestudio.gui.workers import Task, TaskRunner
from cinestudio.progress import Cancelled
from cinestudio.storyboard import service
from cinestudio.storyboard.model import MAX_MOVEMENTS, Board, Shot, default_file_name
from cinestudio.storyboard.plan import content_hash
from cinestudio.storyboard.preview import build_preview
from cinestudio.storyboard.validate import validate_board
from cinestudio.taxonomy import Taxonomy, load_taxonomy

PREVIEWS_DIR = "media/storyboards/previews"
SAVE_DELAY_MS = 300
PREVIEW_DELAY_MS = 250
BACKENDS = (("previz", "Previz (simulator, seconds)"), ("diffusion", "Diffusion (CameraDiff + CLIPLoRA)"))


# ------------------------------------------------------------------------------------------------
# Work done in worker threads (plain functions: no widgets touched)

def _open_store(workspace: Path):
    from cinestudio.store import open_workspace

    return open_workspace(workspace)


def _load(store, board_id: int | None) -> tuple[list[dict], Board | None, dict]:
    boards = service.list_boards(store)
    if board_id is None or board_id not in [b["id"] for b in boards]:
        board_id = boards[0]["id"] if boards else None
    if board_id is None:
        return boards, None, {}
    board = service.load_board(store, board_id)
    return boards, board, store.storyboards.active_renders(board_id)


def _render(store, board: Board, backend: str, shot_ids: list[str], progress=None, should_stop=None,
            backend_impl=None) -> dict:
    """Save the board, then render the shots one by one (each recorded as soon as it is done)."""
    service.save_board(store, board)
    n = len(shot_ids)
    out = service.ShotRenders()
    out.fresh = set()
    for i, sid in enumerate(shot_ids):
        def sub(d: int, t: int, m: str = "", _i=i, _sid=sid) -> None:
            if progress is not None:
                progress(int(1000 * (_i + (d / t if t else 0)) / n), 1000, f"{_sid}|{m}")

        sub(0, 1, "starting")
        done = service.render_shots(store, board, backend, shot_ids=[sid], progress=sub,
                                    should_stop=should_stop, backend_impl=backend_impl)
        out.update(done)
        out.fresh |= done.fresh
    return out


class BoardSettingsDialog(QDialog):
    """Frame rate, size, previz look and diffusion settings of the board."""

    def __init__(self, board: Board, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle(f"Board settings — {board.name}")
        self.setObjectName("board-settings")
        self.fps = QDoubleSpinBox()
        self.fps.setRange(1, 120)
        self.fps.setValue(board.fps)
        self.width_box = QSpinBox()
        self.width_box.setRange(16, 4096)
        self.width_box.setSingleStep(16)
        self.width_box.setValue(board.width)
        self.height_box = QSpinBox()
        self.height_box.setRange(16, 4096)
        self.height_box.setSingleStep(16)
        self.height_box.setValue(board.height)
        self.environment = QComboBox()
        for label, value in (("any (per shot)", None), ("outdoor", "outdoor"), ("indoor", "indoor")):
            self.environment.addItem(label, value)
        self.environment.setCurrentIndex(max(0, self.environment.findData(board.previz.get("environment"))))
        self.time = QComboBox()
        for value in (None, "day", "morning", "golden", "dusk", "night", "overcast"):
            self.time.addItem(value or "any (per shot)", value)
        self.time.setCurrentIndex(max(0, self.time.findData(board.previz.get("time_of_day"))))
        ds = board.diffusion_settings()
        self.base = QLineEdit(ds.get("base") or "")
        self.base.setPlaceholderText("pipeline folder, e.g. runs/diff-tiny (cinestudio diff make-tiny)")
        self.loras = QLineEdit(ds.get("loras") if isinstance(ds.get("loras"), str) else "")
        self.loras.setPlaceholderText("folder of class LoRAs (<class_key>.safetensors)")
        self.method = QComboBox()
        for m in ("cliplora", "merge", "switch", "composite"):
            self.method.addItem(m, m)
        self.method.setCurrentIndex(max(0, self.method.findData(ds.get("method"))))
        self.steps = QSpinBox()
        self.steps.setRange(1, 500)
        self.steps.setValue(int(ds.get("steps") or 20))
        self.guidance = QDoubleSpinBox()
        self.guidance.setRange(0, 30)
        self.guidance.setValue(float(ds.get("guidance") or 7.5))
        self.cameraclip = QLineEdit(ds.get("cameraclip") or "")
        self.cameraclip.setPlaceholderText("CameraCLIP run folder (CLIPLoRA weights, scores)")
        self.setMinimumWidth(520)
        self._start = str(board.base_dir or Path.home())
        form = QFormLayout(self)
        form.addRow("Frame rate (fps)", self.fps)
        size = QHBoxLayout()
        size.addWidget(self.width_box)
        size.addWidget(QLabel("×"))
        size.addWidget(self.height_box)
        form.addRow("Frame size", size)
        form.addRow(QLabel("<b>Previz</b>"))
        form.addRow("Environment", self.environment)
        form.addRow("Time of day", self.time)
        form.addRow(QLabel("<b>Diffusion</b>"))
        form.addRow("Base pipeline", self._with_browse(self.base))
        form.addRow("LoRA folder", self._with_browse(self.loras))
        form.addRow("Composition", self.method)
        form.addRow("Steps", self.steps)
        form.addRow("Guidance", self.guidance)
        form.addRow("CameraCLIP run", self._with_browse(self.cameraclip))
        box = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        box.accepted.connect(self.accept)
        box.rejected.connect(self.reject)
        form.addRow(box)

    def _with_browse(self, edit: QLineEdit) -> QWidget:
        def browse() -> None:
            folder = QFileDialog.getExistingDirectory(self, "Choose a folder", edit.text() or self._start)
            if folder:
                edit.setText(folder)

        row = QWidget()
        lay = QHBoxLayout(row)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(edit, 1)
        button = QPushButton("Browse…")
        button.clicked.connect(browse)
        lay.addWidget(button)
        return row

    def apply(self, board: Board) -> None:
        board.fps = float(self.fps.value())
        board.width, board.height = int(self.width_box.value()), int(self.height_box.value())
        board.previz = {k: v for k, v in (("environment", self.environment.currentData()),
                                          ("time_of_day", self.time.currentData())) if v}
        diff = dict(board.diffusion)
        for key, value in (("base", self.base.text().strip() or None), ("loras", self.loras.text().strip() or None),
                           ("method", self.method.currentData()), ("steps", int(self.steps.value())),
                           ("guidance", float(self.guidance.value())),
                           ("cameraclip", self.cameraclip.text().strip() or None)):
            if value is None:
                diff.pop(key, None)
            else:
                diff[key] = value
        board.diffusion = diff


class StoryboardTab(QWidget):
    def __init__(self, workspace: Path, taxonomy: Taxonomy | None = None, parent: QWidget | None = None, *,
                 settings: QSettings | None = None):
        super().__init__(parent)
        self.setObjectName("storyboard-tab")
        self.workspace = Path(workspace)
        self.settings = settings or QSettings()
        self.taxonomy = taxonomy or load_taxonomy()
        self.store = None
        self.io = TaskRunner(self, max_threads=1, name="storyboard-io")
        self.render_runner = TaskRunner(self, max_threads=1, name="storyboard-render")
        self.preview_runner = TaskRunner(self, max_threads=1, name="storyboard-preview")
        self.doc = BoardDocument(self)
        self.doc.changed.connect(self._on_doc_changed)
        self.boards: list[dict] = []
        self.active: dict[str, Any] = {}          # shot id -> RenderRecord in use
        self.render_task: Task | None = None
        self.rendering: list[str] = []
        self.preview_path: Path | None = None
        self.preview_mode = "sequence"            # or "shot"
        self.preview_range = (0, 0)
        self.preview_pending = False
        self.last_error: str | None = None
        self._thumbs: dict[str, QPixmap] = {}
        self._issues: dict[int | None, list[str]] = {}
        self._loading_board = False
        self._save_timer = QTimer(self, singleShot=True, interval=SAVE_DELAY_MS)
        self._save_timer.timeout.connect(self.save_now)
        self._preview_timer = QTimer(self, singleShot=True, interval=PREVIEW_DELAY_MS)
        self._preview_timer.timeout.connect(self._build_preview)
        self._build()
        self._build_shortcuts()
        self.set_workspace(self.workspace)

    # ------------------------------------------------------------------------------ building

    def _tool(self, text: str, tip: str, slot, name: str) -> QToolButton:
        b = QToolButton()
        b.setText(text)
        b.setToolTip(tip)
        b.setObjectName(name)
        b.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        b.clicked.connect(slot)
        return b

    def _build(self) -> None:
        self.board_box = QComboBox()
        self.board_box.setObjectName("board-select")
        self.board_box.setMinimumWidth(200)
        self.board_box.activated.connect(self._board_chosen)
        self.board_menu_button = QToolButton()
        self.board_menu_button.setText("Board")
        self.board_menu_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QMenu(self)
        menu.addAction("New board…", self.new_board)
        menu.addAction("Rename…", self.rename_board)
        menu.addAction("Settings (fps, size, diffusion)…", self.board_settings)
        menu.addSeparator()
        menu.addAction("Import board JSON…", self.import_board)
        menu.addAction("Export board JSON…", self.export_board_json)
        menu.addSeparator()
        menu.addAction("Delete board…", self.delete_board)
        self.board_menu_button.setMenu(menu)

        self.add_button = self._tool("+ Add shot", "Add a shot after the selected one (Ctrl+N)", self.add_shot,
                                     "add-shot")
        self.dup_button = self._tool("Duplicate", "Duplicate the selected shot (Ctrl+D)", self.duplicate_shot,
                                     "duplicate-shot")
        self.del_button = self._tool("Delete", "Delete the selected shot (Del)", self.delete_shot, "delete-shot")
        self.undo_button = self._tool("↶", "Undo (Ctrl+Z)", self.doc.undo_stack.undo, "undo")
        self.redo_button = self._tool("↷", "Redo (Ctrl+Shift+Z)", self.doc.undo_stack.redo, "redo")
        self.doc.undo_stack.canUndoChanged.connect(self.undo_button.setEnabled)
        self.doc.undo_stack.canRedoChanged.connect(self.redo_button.setEnabled)
        self.doc.undo_stack.undoTextChanged.connect(lambda t: self.undo_button.setToolTip(f"Undo {t} (Ctrl+Z)"))
        self.doc.undo_stack.redoTextChanged.connect(lambda t: self.redo_button.setToolTip(f"Redo {t} (Ctrl+Shift+Z)"))
        self.undo_button.setEnabled(False)
        self.redo_button.setEnabled(False)

        self.backend_box = QComboBox()
        self.backend_box.setObjectName("backend")
        for key, label in BACKENDS:
            self.backend_box.addItem(label, key)
        self.render_shot_button = QPushButton("Render shot")
        self.render_shot_button.setObjectName("render-shot")
        self.render_shot_button.setToolTip("Render the selected shot (Ctrl+Return)")
        self.render_shot_button.clicked.connect(self.render_selected)
        self.render_all_button = QPushButton("Render all")
        self.render_all_button.setObjectName("render-all")
        self.render_all_button.setToolTip("Render every shot that changed (Ctrl+Shift+Return)")
        self.render_all_button.setDefault(True)
        self.render_all_button.clicked.connect(self.render_all)
        self.export_button = QPushButton("Export…")
        self.export_button.setObjectName("export")
        self.export_button.setToolTip("MP4, GIF, contact sheet, per-shot clips, JSON")
        self.export_button.clicked.connect(self.show_export_dialog)

        bar = QHBoxLayout()
        bar.setContentsMargins(8, 6, 8, 4)
        bar.setSpacing(4)
        bar.addWidget(QLabel("Storyboard"))
        bar.addWidget(self.board_box)
        bar.addWidget(self.board_menu_button)
        bar.addSpacing(10)
        for w in (self.add_button, self.dup_button, self.del_button):
            bar.addWidget(w)
        bar.addSpacing(6)
        bar.addWidget(self.undo_button)
        bar.addWidget(self.redo_button)
        bar.addStretch(1)
        bar.addWidget(QLabel("Backend"))
        bar.addWidget(self.backend_box)
        bar.addWidget(self.render_shot_button)
        bar.addWidget(self.render_all_button)
        bar.addSpacing(6)
        bar.addWidget(self.export_button)

        # preview
        self.mode_sequence = QPushButton("Sequence")
        self.mode_shot = QPushButton("Shot")
        self.mode_group = QButtonGroup(self)
        for i, b in enumerate((self.mode_sequence, self.mode_shot)):
            b.setCheckable(True)
            b.setObjectName(f"mode-{'sequence' if i == 0 else 'shot'}")
            self.mode_group.addButton(b, i)
        self.mode_sequence.setChecked(True)
        self.mode_group.idClicked.connect(lambda i: self.set_preview_mode("sequence" if i == 0 else "shot"))
        self.now_label = QLabel("—")
        self.now_label.setObjectName("now-playing")
        self.preview_state = QLabel()
        self.preview_state.setObjectName("preview-state")
        self.preview_state.setStyleSheet("color: palette(placeholder-text);")
        head = QHBoxLayout()
        head.setContentsMargins(8, 4, 8, 4)
        head.addWidget(QLabel("Preview"))
        head.addWidget(self.mode_sequence)
        head.addWidget(self.mode_shot)
        head.addSpacing(10)
        head.addWidget(self.now_label, 1)
        head.addWidget(self.preview_state)
        self.player = PlayerWidget(cache_frames=600, chunk=24)
        self.player.positionChanged.connect(self._on_position)
        self.player.view.set_message("Render the board to see it move")
        preview = QWidget()
        pv = QVBoxLayout(preview)
        pv.setContentsMargins(0, 0, 0, 0)
        pv.setSpacing(0)
        pv.addLayout(head)
        pv.addWidget(self.player, 1)

        # inspector + history
        self.inspector = ShotInspector(self.taxonomy)
        self.inspector.edited.connect(self.edit_field)
        self.inspector.picked.connect(self.pick)
        self.inspector.clearMovements.connect(lambda: self.pick("movement", "static"))
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.inspector)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.history = RenderHistory()
        self.history.useRequested.connect(self.use_render)
        self.history.keepRequested.connect(self.keep_render)
        self.history.compareRequested.connect(self.compare_render)
        self.side = QTabWidget()
        self.side.setObjectName("storyboard-side")
        self.side.setDocumentMode(True)
        self.side.addTab(scroll, "Shot")
        self.side.addTab(self.history, "Render history")
        self.side.setMinimumWidth(400)
        side = self.side

        self.split = QSplitter(Qt.Orientation.Horizontal)
        self.split.addWidget(preview)
        self.split.addWidget(side)
        self.split.setStretchFactor(0, 1)
        self.split.setSizes([820, 440])

        # strip
        self.model = ShotListModel(self)
        self.model.taxonomy = self.taxonomy
        self.model.moveRequested.connect(self.move_shot)
        self.strip = ShotStrip(self.model)
        self.strip.selectionModel().currentChanged.connect(lambda cur, _prev: self._on_selected(cur.row()))
        self.strip.deleteRequested.connect(self.delete_shot)
        self.strip.doubleClicked.connect(lambda idx: self._play_shot(idx.row()))
        self.summary = QLabel()
        self.summary.setObjectName("board-summary")
        self.seqbar = SequenceBar()
        self.seqbar.seekRequested.connect(self._seek_sequence)
        strip_box = QWidget()
        strip_box.setObjectName("strip-box")
        sb = QVBoxLayout(strip_box)
        sb.setContentsMargins(8, 4, 8, 0)
        sb.setSpacing(4)
        sb.addWidget(self.summary)
        sb.addWidget(self.seqbar)
        sb.addWidget(self.strip)

        # status
        self.progress = QProgressBar()
        self.progress.setObjectName("render-progress")
        self.progress.setRange(0, 1000)
        self.progress.setMaximumWidth(260)
        self.progress.setTextVisible(False)
        self.progress.hide()
        self.status = QLabel()
        self.status.setObjectName("storyboard-status")
        self.cancel_button = QPushButton("Cancel render")
        self.cancel_button.setObjectName("cancel-render")
        self.cancel_button.clicked.connect(self.cancel_render)
        self.cancel_button.hide()
        status = QHBoxLayout()
        status.setContentsMargins(8, 0, 8, 4)
        status.addWidget(self.status, 1)
        status.addWidget(self.progress)
        status.addWidget(self.cancel_button)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addLayout(bar)
        layout.addWidget(self.split, 1)
        layout.addWidget(strip_box)
        layout.addLayout(status)
        self._sync_actions()

    def _build_shortcuts(self) -> None:
        def add(seq: str, slot) -> QShortcut:
            sc = QShortcut(QKeySequence(seq), self)
            sc.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            sc.activated.connect(slot)
            return sc

        self.shortcuts = [
            add("Ctrl+Z", self.doc.undo_stack.undo), add("Ctrl+Shift+Z", self.doc.undo_stack.redo),
            add("Ctrl+Y", self.doc.undo_stack.redo), add("Ctrl+N", self.add_shot), add("Ctrl+D", self.duplicate_shot),
            add("Ctrl+Return", self.render_selected), add("Ctrl+Shift+Return", self.render_all),
            add("Ctrl+E", self.show_export_dialog),
        ]
        # transport keys only where typing is not going on (the strip and the player)
        for w in (self.strip, self.player, self.seqbar):
            for seq, slot in (("Space", self.player.toggle_play), ("Left", lambda: self.player.step(-1)),
                              ("Right", lambda: self.player.step(1)), ("Home", lambda: self.player.seek(0)),
                              ("L", lambda: self.player.set_loop(not self.player.loop))):
                sc = QShortcut(QKeySequence(seq), w)
                sc.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
                sc.activated.connect(slot)
                self.shortcuts.append(sc)

    # ------------------------------------------------------------------------------ workspace

    def set_workspace(self, workspace: Path) -> None:
        self.save_now()
        self.workspace = Path(workspace)
        self.active = {}
        self._thumbs.clear()
        self.doc.load(None)
        self.player.clear("Render the board to see it move")
        self._set_status("Opening the workspace…")
        old, self.store = self.store, None
        self.io.submit(_open_store, self.workspace, on_result=lambda store: self._opened(store, old),
                       on_error=self._failed, name="open-storyboards")

    def _opened(self, store, old) -> None:
        if old is not None:
            self.io.submit(old.close, name="close-store")
        self.store = store
        self.reload()

    def reload(self, board_id: int | None = None) -> None:
        """Load the board list and a board (default: the last one open) in a worker."""
        if self.store is None:
            return
        if board_id is None:
            board_id = self.doc.board.id if self.doc.board is not None else self.settings.value(
                "storyboard/board", None, type=int)
        self.io.submit(_load, self.store, board_id, on_result=self._loaded, on_error=self._failed,
                       name="load-storyboard")

    def _loaded(self, result) -> None:
        boards, board, active = result
        self.boards = boards
        self.board_box.blockSignals(True)
        self.board_box.clear()
        for b in boards:
            self.board_box.addItem(f"{b['name']}  ({b['shots']})", b["id"])
        if board is not None:
            self.board_box.setCurrentIndex(self.board_box.findData(board.id))
        self.board_box.blockSignals(False)
        self.active = dict(active)
        if board is not None:
            self.settings.setValue("storyboard/board", board.id)
            try:
                tax = load_taxonomy(board.scheme) if board.scheme else self.taxonomy
            except UserInputError:
                tax = self.taxonomy
            if tax.scheme != self.taxonomy.scheme:
                self.taxonomy = tax
                self.inspector.set_taxonomy(tax)
        self.model.taxonomy = self.taxonomy
        self._loading_board = True
        self.doc.load(board)
        self._loading_board = False
        self._set_status("" if board is not None else "No storyboard yet: Board ▾ → New board…")
        if board is not None and board.shots:
            self.select_row(0)

    def _board_chosen(self, index: int) -> None:
        board_id = self.board_box.itemData(index)
        if self.doc.board is not None and board_id == self.doc.board.id:
            return
        self.save_now()
        self.reload(board_id)

    # ------------------------------------------------------------------------------ views

    @property
    def board(self) -> Board | None:
        return self.doc.board

    def current_row(self) -> int | None:
        idx = self.strip.currentIndex()
        return idx.row() if idx.isValid() else None

    def current_shot(self) -> Shot | None:
        row = self.current_row()
        return self.model.shot(row) if row is not None else None

    def select_row(self, row: int) -> None:
        if 0 <= row < self.model.rowCount():
            self.strip.selectionModel().setCurrentIndex(self.model.index(row),
                                                        QItemSelectionModel.SelectionFlag.ClearAndSelect)
            self.strip.scrollTo(self.model.index(row))

    def select_shot(self, shot_id: str) -> None:
        row = self.model.row_of(shot_id)
        if row is not None:
            self.select_row(row)

    def _on_doc_changed(self, what: str) -> None:
        board = self.doc.board
        keep = self.current_shot().id if self.current_shot() is not None else None
        self._validate()
        if what in ("loaded", "shots", "board"):
            self.model.set_board(board, self.taxonomy)
            self._refresh_cards()
            if keep is not None and board is not None and keep in [s.id for s in board.shots]:
                self.select_shot(keep)
            elif what != "loaded" and board is not None and board.shots:
                self.select_row(min(len(board.shots) - 1, max(0, (self._last_row or 0))))
            else:
                self._on_selected(self.current_row() if self.current_row() is not None else -1)
        else:
            sid = what.split(":", 1)[1]
            self.model.update_board(board, sid)
            self._refresh_cards([sid])
            row = self.model.row_of(sid)
            if row is not None and row == self.current_row():
                self._show_inspector(row)
        self.seqbar.set_board(board)
        self._update_summary()
        self._refresh_board_names()
        self._sync_actions()
        if what != "loaded" and not self._loading_board:
            self._save_timer.start()
        self._schedule_preview()

    _last_row: int | None = 0

    def _validate(self) -> None:
        self._issues = {}
        if self.doc.board is None:
            return
        for issue in validate_board(self.doc.board, self.taxonomy):
            self._issues.setdefault(issue.shot, []).append(issue.message)

    def _refresh_cards(self, shot_ids: list[str] | None = None) -> None:
        board = self.doc.board
        if board is None:
            return
        for i, shot in enumerate(board.shots):
            if shot_ids is not None and shot.id not in shot_ids:
                continue
            st = self.model.state(shot.id)
            st.issues = list(self._issues.get(i, []))
            rec = self.active.get(shot.id)
            st.backend = rec.backend if rec is not None else None
            st.thumbnail = self._thumbnail(rec.thumbnail_path) if rec is not None and rec.thumbnail_path else None
            try:
                st.stale = rec is not None and rec.content_hash != content_hash(board, shot, rec.backend)
            except (OSError, KeyError, ValueError):
                st.stale = True
            st.rendering = st.rendering if shot.id in self.rendering else None
            self.model.touch(shot.id)

    def _thumbnail(self, rel: str) -> QPixmap | None:
        pm = self._thumbs.get(rel)
        if pm is None:
            pm = QPixmap(str(self.workspace / rel))
            if pm.isNull():
                return None
            self._thumbs[rel] = pm
        return pm

    def _update_summary(self) -> None:
        b = self.doc.board
        if b is None:
            self.summary.setText("")
            return
        total = b.total_frames()
        rendered = sum(1 for s in b.shots if s.id in self.active)
        stale = sum(1 for s in b.shots if self.model.state(s.id).stale)
        problems = sum(len(v) for v in self._issues.values() if v)
        text = (f"<b>{b.name}</b> · {len(b.shots)} shot{'s' if len(b.shots) != 1 else ''} · "
                f"{total / b.fps:.1f} s · {total} frames at {b.fps:g} fps · {b.width}×{b.height} · "
                f"{rendered}/{len(b.shots)} rendered")
        if stale:
            text += f" · <span style='color:#e6911e'>{stale} changed</span>"
        if problems and b.shots:
            text += f" · <span style='color:#e0604f'>⚠ {problems} problem{'s' if problems > 1 else ''}</span>"
        self.summary.setText(text)

    def _sync_actions(self) -> None:
        has_board = self.doc.board is not None
        has_shot = self.current_shot() is not None
        busy = self.render_task is not None
        self.add_button.setEnabled(has_board)
        self.dup_button.setEnabled(has_shot)
        self.del_button.setEnabled(has_shot)
        self.render_shot_button.setEnabled(has_shot and not busy)
        self.render_all_button.setEnabled(has_board and bool(self.doc.board.shots) and not busy)
        self.export_button.setEnabled(has_board and bool(self.doc.board.shots))
        self.board_menu_button.setEnabled(self.store is not None)

    def _on_selected(self, row: int) -> None:
        if row is not None and row >= 0:
            self._last_row = row
        self._show_inspector(row)
        self.seqbar.selected = row if row is not None and row >= 0 else None
        self.seqbar.update()
        self._sync_actions()
        self._load_history()
        if self.preview_mode == "shot":
            self._apply_preview()
        elif row is not None and row >= 0 and not self.player.playing and self.doc.board is not None:
            ranges = self.doc.board.shot_ranges()
            if row < len(ranges) and self.player.frame_count:
                self.player.seek(ranges[row][0])

    def _show_inspector(self, row: int | None) -> None:
        board = self.doc.board
        shot = self.model.shot(row) if row is not None and row >= 0 else None
        self.inspector.show_shot(shot, board, row or 0, self._issues.get(row, []) if shot else [])

    # ------------------------------------------------------------------------------ editing

    def _edit_current(self, text: str, change, merge: str | None = None) -> bool:
        shot = self.current_shot()
        if shot is None:
            return False
        sid = shot.id

        def apply(board: Board) -> str | None:
            target = board.shots[board.index_of(sid)]
            return f"shot:{sid}" if change(target, board) is not False else None

        return self.doc.edit(text, apply, merge=f"{merge}:{sid}" if merge else None)

    def edit_field(self, field: str, value) -> None:
        shot = self.current_shot()
        if shot is None:
            return
        if field == "reference_image" and value:
            try:
                value = service.copy_reference_image(self.store, value) if self.store is not None else str(value)
            except UserInputError as exc:
                self._set_status(f"{exc.subject}: {exc.reason}", error=True)
                return
        if getattr(shot, field) == value:
            return
        labels = {"title": "rename shot", "prompt": "edit prompt", "notes": "edit notes", "duration": "change duration",
                  "duration_unit": "change duration unit", "seed": "change seed", "reference_image":
                  "set reference image", "loras": "change LoRA weights"}

        def change(target: Shot, board: Board):
            if field == "duration_unit":
                n = target.frames(board.fps)
                target.duration_unit = value
                target.duration = float(n) if value == "frames" else round(n / board.fps, 3)
            else:
                setattr(target, field, value)

        merge = field if field in ("title", "prompt", "notes", "duration", "seed", "loras") else None
        self._edit_current(labels.get(field, f"edit {field}"), change, merge)

    def pick(self, axis: str, key: str) -> None:
        def change(target: Shot, _board: Board):
            if axis == "framing":
                if target.framing == key:
                    return False
                target.framing = key
            elif axis == "angle":
                if target.angle == key:
                    return False
                target.angle = key
            else:
                moves = list(target.movements)
                if key == "static":
                    new = ["static"]
                elif key in moves:
                    new = [m for m in moves if m != key] or ["static"]
                else:
                    new = ([m for m in moves if m != "static"] + [key])[-MAX_MOVEMENTS:]
                if new == moves:
                    return False
                target.movements = new

        self._edit_current(f"set {axis}", change)

    def add_shot(self, shot: Shot | None = None) -> Shot | None:
        if self.doc.board is None:
            return None
        row = self.current_row()
        at = len(self.doc.board.shots) if row is None else row + 1
        new = shot or Shot(title=f"Shot {len(self.doc.board.shots) + 1}", seed=len(self.doc.board.shots) + 1)

        def change(board: Board) -> str:
            board.shots.insert(at, new.copy())
            return "shots"

        self.doc.edit("add shot", change)
        self.select_shot(new.id)
        return new

    def duplicate_shot(self) -> Shot | None:
        shot = self.current_shot()
        if shot is None:
            return None
        dup = shot.copy(new_id=True)
        dup.title = f"{shot.title} (copy)" if shot.title else ""
        return self.add_shot(dup)

    def delete_shot(self) -> None:
        row = self.current_row()
        shot = self.current_shot()
        if shot is None:
            return
        self._last_row = max(0, row - 1) if row == len(self.doc.board.shots) - 1 else row

        def change(board: Board) -> str:
            board.shots.pop(board.index_of(shot.id))
            return "shots"

        self.doc.edit(f"delete shot {row + 1}", change)

    def move_shot(self, src: int, dst: int) -> None:
        board = self.doc.board
        if board is None or src == dst or not (0 <= src < len(board.shots) and 0 <= dst < len(board.shots)):
            return
        sid = board.shots[src].id

        def change(b: Board) -> str:
            b.shots.insert(dst, b.shots.pop(src))
            return "shots"

        self.doc.edit(f"move shot {src + 1} to {dst + 1}", change)
        self.select_shot(sid)

    def save_now(self) -> Task | None:
        self._save_timer.stop()
        if self.store is None or self.doc.board is None or self.doc.board.id is None:
            return None
        return self.io.submit(service.save_board, self.store, self.doc.board.copy(), on_error=self._failed,
                              on_result=lambda _b: self._refresh_board_names(), name="save-storyboard")

    def _refresh_board_names(self) -> None:
        b = self.doc.board
        if b is None:
            return
        i = self.board_box.findData(b.id)
        if i >= 0:
            self.board_box.setItemText(i, f"{b.name}  ({len(b.shots)})")

    # ------------------------------------------------------------------------------ boards

    def new_board(self, name: str | None = None) -> None:
        if self.store is None:
            return
        if name is None:
            name, ok = QInputDialog.getText(self, "New storyboard", "Name")
            if not ok or not name.strip():
                return
        self.save_now()

        def create(store, nm):
            return service.create_board(store, service.unique_name(store, nm.strip()), actor="gui").id

        self.io.submit(create, self.store, name, on_result=self.reload, on_error=self._failed, name="new-board")

    def rename_board(self) -> None:
        b = self.doc.board
        if b is None:
            return
        name, ok = QInputDialog.getText(self, "Rename storyboard", "Name", text=b.name)
        if ok and name.strip() in [x["name"] for x in self.boards if x["id"] != b.id]:
            self._set_status(f"{name.strip()}: a storyboard with this name exists already", error=True)
            return
        if ok and name.strip() and name.strip() != b.name:
            self.doc.edit("rename board", lambda board: (setattr(board, "name", name.strip()), "board")[1])

    def board_settings(self) -> BoardSettingsDialog | None:
        b = self.doc.board
        if b is None:
            return None
        dialog = BoardSettingsDialog(b, self)
        dialog.accepted.connect(lambda: self.doc.edit("board settings", lambda board: (dialog.apply(board),
                                                                                      "board")[1]))
        dialog.open()
        return dialog

    def delete_board(self) -> None:
        b = self.doc.board
        if b is None:
            return
        answer = QMessageBox.question(self, "Delete storyboard",
                                      f"Delete “{b.name}” and its render history? Rendered files stay in the cache.")
        if answer != QMessageBox.StandardButton.Yes:
            return
        self._save_timer.stop()
        bid = b.id
        self.doc.load(None)
        self.io.submit(lambda store: store.storyboards.delete(bid, actor="gui"), self.store,
                       on_result=lambda _ok: self.reload(None), on_error=self._failed, name="delete-board")

    def import_board(self, path: str | None = None) -> None:
        if self.store is None:
            return
        if path is None:
            path, _ = QFileDialog.getOpenFileName(self, "Import storyboard", str(self.workspace),
                                                  "Storyboards (*.cinestudio-board.json *.json)")
            if not path:
                return
        self.save_now()
        self.io.submit(lambda store: service.import_board(store, path).id, self.store, on_result=self.reload,
                       on_error=self._failed, name="import-board")

    def export_board_json(self, path: str | None = None) -> None:
        b = self.doc.board
        if b is None:
            return
        if path is None:
            path, _ = QFileDialog.getSaveFileName(self, "Export storyboard", str(Path.home() / default_file_name(b)),
                                                  "Storyboards (*.cinestudio-board.json)")
            if not path:
                return
        self.io.submit(service.export_board_file, self.store, b.copy(), path,
                       on_result=lambda p: self._set_status(f"Board written to {p}"), on_error=self._failed,
                       name="export-board-json")

    # ------------------------------------------------------------------------------ rendering

    @property
    def backend(self) -> str:
        return self.backend_box.currentData()

    def render_selected(self) -> Task | None:
        shot = self.current_shot()
        return self.render([shot.id]) if shot is not None else None

    def render_all(self) -> Task | None:
        if self.doc.board is None:
            return None
        return self.render([s.id for s in self.doc.board.shots])

    def render(self, shot_ids: list[str], backend: str | None = None) -> Task | None:
        board = self.doc.board
        if board is None or self.store is None or self.render_task is not None or not shot_ids:
            return None
        backend = backend or self.backend
        sub = board.copy()
        sub.shots = [s for s in board.shots if s.id in shot_ids]
        problems = [i.message for i in validate_board(sub, self.taxonomy, backend=backend) if i.severity == "error"]
        if problems:
            self._set_status("Cannot render: " + "; ".join(problems[:3]) + (" …" if len(problems) > 3 else ""),
                             error=True)
            return None
        self._save_timer.stop()
        options = {}
        if backend == "diffusion":
            options["backend_impl"] = self._diffusion_backend()
            if options["backend_impl"] is None:
                return None
        self.rendering = list(shot_ids)
        for sid in shot_ids:
            self.model.state(sid).rendering = 0.0
            self.model.touch(sid)
        self.progress.setValue(0)
        self.progress.show()
        self.cancel_button.show()
        self._set_status(f"Rendering {len(shot_ids)} shot{'s' if len(shot_ids) > 1 else ''} ({backend})…")
        self.render_task = self.render_runner.submit(
            _render, self.store, board.copy(), backend, list(shot_ids), on_result=self._rendered,
            on_error=self._render_failed, on_progress=self._render_progress, name="storyboard-render", **options)
        self._sync_actions()
        return self.render_task

    def _diffusion_backend(self):
        try:
            from cinestudio.storyboard.diffusion import DiffusionBackend

            return DiffusionBackend(store=self.store, device="auto")
        except UserInputError as exc:
            self._set_status(f"{exc.subject}: {exc.reason}", error=True)
            return None

    def _render_progress(self, done: int, total: int, message: str) -> None:
        sid, _, text = message.partition("|")
        self.progress.setValue(int(1000 * done / total) if total else 0)
        if sid in self.rendering:
            n = len(self.rendering)
            i = self.rendering.index(sid)
            frac = max(0.0, min(1.0, (done / total if total else 0) * n - i))
            self.model.state(sid).rendering = frac
            self.model.touch(sid)
            row = self.model.row_of(sid)
            self._set_status(f"Rendering shot {row + 1 if row is not None else '?'} ({i + 1}/{n}) — {text}")

    def _end_render(self) -> None:
        for sid in self.rendering:
            self.model.state(sid).rendering = None
            self.model.touch(sid)
        self.rendering = []
        self.render_task = None
        self.progress.hide()
        self.cancel_button.hide()
        self._sync_actions()

    def _rendered(self, renders: dict) -> None:
        n = len(renders)
        fresh = len(getattr(renders, "fresh", ()) or ())
        self._end_render()
        self.active.update(renders)
        self._refresh_cards()
        self._update_summary()
        self._load_history()
        self._schedule_preview(autoplay=True)
        self._set_status(f"Rendered {n} shot{'s' if n != 1 else ''}"
                         + (f" ({n - fresh} unchanged, from the cache)" if n - fresh > 0 else "") + ".")

    def _render_failed(self, exc: BaseException) -> None:
        self._end_render()
        if isinstance(exc, Cancelled):
            self._set_status("Render cancelled (finished shots are kept).")
        else:
            self._failed(exc)
        self._reload_active()

    def cancel_render(self) -> None:
        if self.render_task is not None:
            self.render_task.request_stop()
            self._set_status("Cancelling…")

    def _reload_active(self) -> None:
        b = self.doc.board
        if b is None or self.store is None or b.id is None:
            return
        bid = b.id
        self.io.submit(lambda store: store.storyboards.active_renders(bid), self.store,
                       on_result=self._active_loaded, on_error=self._failed, name="active-renders")

    def _active_loaded(self, active: dict) -> None:
        self.active = dict(active)
        self._refresh_cards()
        self._update_summary()
        self._load_history()
        self._schedule_preview()

    # ------------------------------------------------------------------------------ history

    def _load_history(self) -> None:
        shot = self.current_shot()
        b = self.doc.board
        if shot is None or b is None or b.id is None or self.store is None:
            self.history.set_renders([], None, self.workspace)
            self.side.setTabText(1, "Render history")
            return
        bid, sid = b.id, shot.id
        self.io.submit(lambda store: store.storyboards.renders(bid, sid), self.store,
                       on_result=lambda recs: self._history_loaded(sid, recs), on_error=self._failed,
                       name="render-history")

    def _history_loaded(self, sid: str, renders: list) -> None:
        shot = self.current_shot()
        if shot is None or shot.id != sid:
            return
        rec = self.active.get(sid)
        self.history.set_renders(renders, rec.id if rec is not None else None, self.workspace)
        self.side.setTabText(1, f"Render history ({len(renders)})" if renders else "Render history")

    def use_render(self, render_id: int) -> None:
        shot, b = self.current_shot(), self.doc.board
        if shot is None or b is None:
            return
        bid, sid = b.id, shot.id

        def use(store):
            store.storyboards.set_active(bid, sid, render_id)
            return store.storyboards.active_renders(bid)

        self.io.submit(use, self.store, on_result=self._active_loaded, on_error=self._failed, name="use-render")

    def keep_render(self, render_id: int, kept: bool) -> None:
        self.io.submit(lambda store: store.storyboards.set_kept(render_id, kept), self.store,
                       on_result=lambda _r: self._load_history(), on_error=self._failed, name="keep-render")

    def compare_render(self, render_id: int) -> CompareDialog | None:
        shot = self.current_shot()
        if shot is None:
            return None
        active = self.active.get(shot.id)
        other = next((r for r in self.history.renders if r.id == render_id), None)
        if active is None or other is None:
            return None
        dialog = CompareDialog(self.workspace, active, other, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, True)
        dialog.show()
        self._compare = dialog
        return dialog

    # ------------------------------------------------------------------------------ preview

    def _schedule_preview(self, autoplay: bool = False) -> None:
        self._autoplay = getattr(self, "_autoplay", False) or autoplay
        self._preview_timer.start()

    def _build_preview(self) -> None:
        b = self.doc.board
        if b is None or not b.shots or b.total_frames() <= 0:
            self.preview_path = None
            self.player.clear("Add shots, then Render all to see the cut")
            return
        if self.preview_pending:
            self._preview_timer.start()
            return
        clips = {sid: (self.workspace / rec.clip_path, rec.content_hash) for sid, rec in self.active.items()}
        self.preview_pending = True
        self.preview_state.setText("updating the preview…")
        board = b.copy()
        self.preview_runner.submit(build_preview, board, clips, self.workspace / PREVIEWS_DIR,
                                   on_result=lambda p: self._preview_built(board, p),
                                   on_error=self._preview_failed, name="storyboard-preview")

    def _preview_failed(self, exc: BaseException) -> None:
        self.preview_pending = False
        self.preview_state.setText("")
        self._failed(exc)

    def _preview_built(self, board: Board, path: Path | None) -> None:
        self.preview_pending = False
        self.preview_state.setText("")
        autoplay, self._autoplay = getattr(self, "_autoplay", False), False
        if path is None:
            return
        if self.preview_path == path and self.player.frame_count:
            if autoplay and not self.player.playing:
                self.player.play()
            return
        self.preview_board = board
        self.preview_path = path
        self._apply_preview(autoplay=autoplay)

    def set_preview_mode(self, mode: str) -> None:
        self.preview_mode = mode
        (self.mode_sequence if mode == "sequence" else self.mode_shot).setChecked(True)
        self._apply_preview()

    def _apply_preview(self, autoplay: bool = False) -> None:
        """(Re)load the player on the preview file: the whole cut, or the selected shot's range."""
        if self.preview_path is None or self.doc.board is None:
            return
        board = getattr(self, "preview_board", self.doc.board)
        ranges = board.shot_ranges()
        total = board.total_frames()
        was_playing = self.player.playing
        old_start = self.preview_range[0]
        old_abs = old_start + self.player.position
        if self.preview_mode == "shot":
            shot = self.current_shot()
            row = self.model.row_of(shot.id) if shot is not None else None
            if row is None or row >= len(ranges) or ranges[row][1] <= ranges[row][0]:
                return
            rng = ranges[row]
        else:
            rng = (0, total)
        self.preview_range = rng
        self.player.load(str(self.preview_path), rng[0], rng[1], board.fps, board.width, board.height)
        if rng[0] <= old_abs < rng[1] and self.preview_mode == "sequence":
            self.player.seek(old_abs - rng[0])
        if autoplay or was_playing:
            self.player.play()
        self._on_position(self.player.position)

    def _on_position(self, index: int) -> None:
        board = getattr(self, "preview_board", None) or self.doc.board
        if board is None:
            return
        frame = self.preview_range[0] + index
        row = board.shot_at(frame)
        if row != self.model.playing_row and row is not None and self.player.playing:
            self.strip.scrollTo(self.model.index(row))
        self.model.set_playing(row)
        self.seqbar.set_playhead(frame, row)
        total = board.total_frames()
        if row is None:
            self.now_label.setText("—")
            return
        shot = board.shots[row]
        a, _b = board.shot_ranges()[row]
        self.now_label.setText(f"Shot {row + 1}/{len(board.shots)} · {shot.title or 'untitled'} · "
                               f"frame {frame - a + 1}/{shot.frames(board.fps)} · "
                               f"{frame / board.fps:.2f} / {total / board.fps:.2f} s")

    def _seek_sequence(self, frame: int) -> None:
        board = getattr(self, "preview_board", None) or self.doc.board
        if board is None or self.preview_path is None:
            return
        if self.preview_mode == "shot":
            row = board.shot_at(frame)
            if row is not None:
                self.select_row(row)
                self.player.seek(frame - board.shot_ranges()[row][0])
            return
        self.player.pause()
        self.player.seek(frame)

    def _play_shot(self, row: int) -> None:
        self.select_row(row)
        if self.preview_mode == "sequence" and self.doc.board is not None and self.player.frame_count:
            self.player.seek(self.doc.board.shot_ranges()[row][0])
        self.player.play()

    # ------------------------------------------------------------------------------ export

    def show_export_dialog(self) -> ExportDialog | None:
        b = self.doc.board
        if b is None or self.store is None:
            return None
        self.save_now()
        board = b.copy()
        store = self.store

        def export(out: Path, formats: list[str], progress=None, should_stop=None):
            return service.export_active(store, board, out, formats=formats, progress=progress,
                                         should_stop=should_stop)

        folder = self.workspace / "exports" / default_file_name(board).replace(".cinestudio-board.json", "")
        dialog = ExportDialog(self.render_runner, export, folder, board.name, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, True)
        dialog.show()
        self._export_dialog = dialog
        return dialog

    # ------------------------------------------------------------------------------ misc

    def _set_status(self, text: str, error: bool = False) -> None:
        self.status.setText(f"<span style='color:#e0604f'>{text}</span>" if error else text)
        if error:
            self.last_error = text

    def _failed(self, exc: BaseException) -> None:
        if isinstance(exc, UserInputError):
            self._set_status(f"{exc.subject}: {exc.reason}", error=True)
        else:
            self._set_status(f"Error: {exc}", error=True)
            print(getattr(exc, "__traceback_text__", repr(exc)))

    def shutdown(self) -> None:
        """Stop playback, renders and workers; save; close the store (the window calls this)."""
        self.doc.undo_stack.blockSignals(True)
        self.doc.blockSignals(True)
        self.player.shutdown()
        for dialog in (getattr(self, "_compare", None), getattr(self, "_export_dialog", None)):
            with contextlib.suppress(RuntimeError, AttributeError):
                if dialog is not None:
                    dialog.close()
        if self.render_task is not None:
            self.render_task.request_stop()
        self.render_runner.shutdown(30.0)
        self.preview_runner.shutdown(30.0)
        self.save_now()
        self.io.wait(10.0)
        self.io.shutdown(10.0)
        if self.store is not None:
            self.store.close()
            self.store = None

    def closeEvent(self, event) -> None:
        self.shutdown()
        super().closeEvent(event)

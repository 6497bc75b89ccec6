"""The Annotate tab: label clips, verify them, import videos, see where the dataset stands.

    ┌ toolbar: [Annotate | Verify | Stats]  annotator [ana]  undo redo  Import…   counts ┐
    │ filters         │                                    │ Clip #12 · stage · source     │
    │ clip list       │   player (frame-accurate)          │ suggestion  [Accept ⏎]        │
    │ (lazy, paged,   │                                    │ FRAMING / ANGLE / MOVEMENT    │
    │  thumbnails)    │   ⏮ ◀ ▶ ▶ ⏭ ───●──── 12 / 47 ⟲ 1× │ pickers with keys + definition │
    │ 100 of 10,000   │   key help                         │ caption · (verify box)        │
    └─────────────────┴────────────────────────────────────┴────────────────────────────────┘

Everything that touches the workspace runs in workers (`TaskRunner`): reads on a small pool,
writes on a one-thread queue so they land in the order they were made. A label change is an
undoable command that autosaves at once; the views then refresh exactly the clip it changed.
"""

from __future__ import annotations

import getpass
from pathlib import Path
from typing import Any

from PySide6.QtCore import QItemSelectionModel, QSettings, Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut, QUndoGroup, QUndoStack
from PySide6.QtWidgets import (QApplication, QButtonGroup, QFrame, QHBoxLayout, QLabel,
                               QLineEdit, QListView, QPushButton, QSplitter, QStackedWidget,
                               QToolButton, QVBoxLayout, QWidget)

from cinestudio.gui.annotate.backend import AnnotateBackend, ClipRow, LabelState
from cinestudio.gui.annotate.clip_delegate import STAGE_COLORS, ClipDelegate
from cinestudio.gui.annotate.clip_model import ClipListModel
from cinestudio.gui.annotate.commands import DraftCommand, SetLabelCommand, describe
from cinestudio.gui.annotate.editing import (drop_last_movement, pick, take_suggestion,
                                             with_caption)
from cinestudio.gui.annotate.filters import FilterBar
from cinestudio.gui.annotate.import_dialog import ImportDialog
from cinestudio.gui.annotate.keymap import ACTIONS, class_shortcuts
from cinestudio.gui.annotate.label_panel import LabelPanel
from cinestudio.gui.annotate.stats_panel import StatsPanel
from cinestudio.gui.annotate.verify_panel import ask_reason
from cinestudio.gui.widgets.player import PlayerWidget
from cinestudio.gui.widgets.thumbnails import ThumbnailCache
from cinestudio.gui.workers import TaskRunner
from cinestudio.store.models import STAGES
from cinestudio.taxonomy import Taxonomy

MODES = ("annotate", "verify", "stats")
SETTINGS_ANNOTATOR = "annotate/annotator"
KEY_HELP = ("<b>Space</b> play · <b>← →</b> frame · <b>J K</b> next / previous clip · "
            "<b>⏎</b> accept · <b>⌫</b> drop last movement · <b>Ctrl+Z</b> undo · "
            "<b>L</b> loop")


def _default_annotator() -> str:
    try:
        return getpass.getuser()
    except Exception:
        return ""


class AnnotateTab(QWidget):
    modeChanged = Signal(str)
    rowChanged = Signal(object)      # the ClipRow now shown (None: no clip)
    saved = Signal(int)              # a clip whose label or review was written

    def __init__(self, workspace: Path, taxonomy: Taxonomy, parent: QWidget | None = None, *,
                 settings: QSettings | None = None, page_size: int = 100):
        super().__init__(parent)
        self.setObjectName("annotate-tab")
        self.workspace = Path(workspace)
        self.taxonomy = taxonomy
        self.settings = settings if settings is not None else QSettings("CineStudio", "CineStudio")
        self.mode = "annotate"
        self.row: ClipRow | None = None
        self.state = LabelState()            # what the pickers show (my label, or the draft)
        self.drafts: dict[int, LabelState] = {}
        self._pending: dict[tuple[int, str], tuple[int, LabelState]] = {}
        self._write_seq = 0
        self._select_after_load: int | None = None
        self._advance_after_fetch = False
        self._opened = False
        self._stats_dirty = True
        self._list_mode = "annotate"          # what the list shows: clips, or the verify queue
        self._annotate_stage: str | None = None

        self.reader = TaskRunner(self, max_threads=2, name="annotate-read")
        self.writer = TaskRunner(self, max_threads=1, name="annotate-write")
        self.importer = TaskRunner(self, max_threads=1, name="annotate-import")
        self.ask_reason = ask_reason          # replaceable (tests answer without a dialog)
        self.backend = AnnotateBackend(self.workspace)

        self.undo_group = QUndoGroup(self)
        self.label_stack = QUndoStack(self.undo_group)
        self.draft_stack = QUndoStack(self.undo_group)
        self.undo_group.setActiveStack(self.label_stack)

        self._build()
        self._build_shortcuts()
        self.open_workspace()

    # ------------------------------------------------------------------------ construction

    def _build(self) -> None:
        # toolbar
        self.mode_buttons: dict[str, QPushButton] = {}
        group = QButtonGroup(self)
        group.setExclusive(True)
        modes = QHBoxLayout()
        modes.setSpacing(0)
        for i, mode in enumerate(MODES):
            b = QPushButton(mode.capitalize())
            b.setObjectName(f"mode-{mode}")
            b.setCheckable(True)
            b.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            b.setMinimumWidth(86)
            radius = ("border-top-left-radius: 5px; border-bottom-left-radius: 5px;" if i == 0 else
                      "border-top-right-radius: 5px; border-bottom-right-radius: 5px;"
                      if i == len(MODES) - 1 else "")
            b.setStyleSheet(
                "QPushButton { border: 1px solid palette(mid); padding: 4px 12px; "
                f"background: palette(button); {radius} }}"
                "QPushButton:checked { background: #2f6fde; color: white; border-color: #2f6fde; "
                "font-weight: 600; }")
            b.clicked.connect(lambda _=False, m=mode: self.set_mode(m))
            group.addButton(b)
            modes.addWidget(b)
            self.mode_buttons[mode] = b
        self.mode_buttons["annotate"].setChecked(True)
        self.mode_buttons["annotate"].setToolTip("Label clips (your own label per clip)")
        self.mode_buttons["verify"].setToolTip("Review annotated clips: disagreements first")
        self.mode_buttons["stats"].setToolTip("Class balance and inter-annotator agreement")

        self.who_label = QLabel("Annotator")
        self.annotator_edit = QLineEdit()
        self.annotator_edit.setObjectName("annotator")
        self.annotator_edit.setPlaceholderText("your name")
        self.annotator_edit.setMaximumWidth(150)
        self.annotator_edit.setToolTip("Labels and reviews are saved under this name "
                                       "(remembered between sessions)")
        name = str(self.settings.value(SETTINGS_ANNOTATOR, "") or "") or _default_annotator()
        self.annotator_edit.setText(name)
        self.annotator_edit.editingFinished.connect(self._annotator_changed)

        self.undo_button = QToolButton()
        self.undo_button.setObjectName("undo")
        self.undo_button.setText("↶ Undo")
        self.redo_button = QToolButton()
        self.redo_button.setObjectName("redo")
        self.redo_button.setText("Redo ↷")
        self.undo_button.clicked.connect(self.undo_group.undo)
        self.redo_button.clicked.connect(self.undo_group.redo)
        for b in (self.undo_button, self.redo_button):
            b.setAutoRaise(True)
            b.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            b.setEnabled(False)
        self.undo_group.canUndoChanged.connect(self.undo_button.setEnabled)
        self.undo_group.canRedoChanged.connect(self.redo_button.setEnabled)
        self.undo_group.undoTextChanged.connect(
            lambda t: self.undo_button.setToolTip(f"Undo {t} (Ctrl+Z)" if t else "Undo (Ctrl+Z)"))
        self.undo_group.redoTextChanged.connect(
            lambda t: self.redo_button.setToolTip(f"Redo {t} (Ctrl+Shift+Z)" if t
                                                  else "Redo (Ctrl+Shift+Z)"))

        self.import_button = QPushButton("Import videos…")
        self.import_button.setObjectName("import")
        self.import_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.import_button.clicked.connect(self.show_import_dialog)
        self.counts = QLabel()
        self.counts.setObjectName("stage-counts")
        self.counts.setTextFormat(Qt.TextFormat.RichText)

        toolbar = QHBoxLayout()
        toolbar.setContentsMargins(8, 6, 8, 6)
        toolbar.addLayout(modes)
        toolbar.addSpacing(16)
        toolbar.addWidget(self.who_label)
        toolbar.addWidget(self.annotator_edit)
        toolbar.addSpacing(8)
        toolbar.addWidget(self.undo_button)
        toolbar.addWidget(self.redo_button)
        toolbar.addStretch(1)
        toolbar.addWidget(self.counts)
        toolbar.addSpacing(12)
        toolbar.addWidget(self.import_button)
        bar = QFrame()
        bar.setObjectName("annotate-toolbar")
        bar.setLayout(toolbar)
        bar.setStyleSheet("#annotate-toolbar { border-bottom: 1px solid palette(mid); }")

        # left: filters + list
        self.filters = FilterBar(self.taxonomy)
        self.filters.changed.connect(self.reload)
        self.model = ClipListModel(self.reader, self.backend)
        self.thumbnails = ThumbnailCache(self.reader, self._load_thumbnail, parent=self)
        self.thumbnails.ready.connect(self.model.refresh_row)
        self.delegate = ClipDelegate(self.thumbnails, self.taxonomy, self)
        self.list = QListView()
        self.list.setObjectName("clip-list")
        self.list.setModel(self.model)
        self.list.setItemDelegate(self.delegate)
        self.list.setUniformItemSizes(True)
        self.list.setSelectionMode(QListView.SelectionMode.SingleSelection)
        self.list.setVerticalScrollMode(QListView.ScrollMode.ScrollPerPixel)
        self.list.setMouseTracking(True)
        self.list.setMinimumWidth(300)
        self.list.selectionModel().currentRowChanged.connect(self._on_current_changed)
        self.model.idsLoaded.connect(self._on_ids_loaded)
        self.model.pageLoaded.connect(self._on_page_loaded)
        self.model.loadFailed.connect(lambda msg: self.list_status.setText(f"Cannot list clips: {msg}"))
        self.list_status = QLabel("Opening workspace…")
        self.list_status.setObjectName("list-status")
        self.list_status.setStyleSheet("color: palette(placeholder-text);")
        self.list_title = QLabel("<b>CLIPS</b>")
        self.list_title.setStyleSheet("letter-spacing: 1px;")
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(8, 6, 4, 6)
        left_layout.setSpacing(6)
        left_layout.addWidget(self.list_title)
        left_layout.addWidget(self.filters)
        left_layout.addWidget(self.list, 1)
        left_layout.addWidget(self.list_status)

        # centre: player
        self.player = PlayerWidget()
        self.key_help = QLabel(KEY_HELP)
        self.key_help.setObjectName("key-help")
        self.key_help.setWordWrap(True)
        self.key_help.setStyleSheet("color: palette(placeholder-text); padding: 4px 8px;")
        centre = QWidget()
        centre_layout = QVBoxLayout(centre)
        centre_layout.setContentsMargins(4, 6, 4, 6)
        centre_layout.setSpacing(0)
        centre_layout.addWidget(self.player, 1)
        centre_layout.addWidget(self.key_help)

        # right: label panel
        self.panel = LabelPanel(self.taxonomy)
        self._connect_panel()

        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.setObjectName("annotate-splitter")
        self.splitter.addWidget(left)
        self.splitter.addWidget(centre)
        self.splitter.addWidget(self.panel)
        self.splitter.setStretchFactor(0, 0)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setStretchFactor(2, 0)
        self.splitter.setSizes([340, 560, 380])
        self.splitter.setChildrenCollapsible(False)
        self.panel.setMinimumWidth(340)

        self.stats_panel = StatsPanel(self.taxonomy)
        self.stats_panel.refreshRequested.connect(self.refresh_stats)
        self.pages = QStackedWidget()
        self.pages.addWidget(self.splitter)
        self.pages.addWidget(self.stats_panel)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(bar)
        layout.addWidget(self.pages, 1)
        self.model.set_annotator(self.annotator)
        self.delegate.annotator = self.annotator
        self.filters.set_me(self.annotator)

    def _connect_panel(self) -> None:
        self.panel.picked.connect(self.pick)
        self.panel.acceptSuggestion.connect(self.accept)
        self.panel.captionEdited.connect(self.set_caption)
        self.panel.verify_box.acceptRequested.connect(self.verify_accept)
        self.panel.verify_box.fixRequested.connect(self.verify_fix)
        self.panel.verify_box.rejectRequested.connect(self.verify_reject)
        self.panel.verify_box.useLabel.connect(self.use_annotator_label)

    def _build_shortcuts(self) -> None:
        self.shortcuts: dict[str, QShortcut] = {}
        self._class_shortcuts: list[QShortcut] = []

        def add(name: str, sequence: str, slot) -> None:
            sc = QShortcut(QKeySequence(sequence), self)
            sc.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            sc.activated.connect(slot)
            self.shortcuts[f"{name}:{sequence}"] = sc

        slots = {
            "next_clip": lambda: self.move(1),
            "previous_clip": lambda: self.move(-1),
            "accept_suggestion": self.accept,
            "fix": self.verify_fix,
            "reject": self.verify_reject,
            "remove_last_movement": self.remove_last_movement,
            "play_pause": self.player.toggle_play,
            "step_back": lambda: self.player.step(-1),
            "step_forward": lambda: self.player.step(1),
            "first_frame": lambda: self.player.seek(0),
            "last_frame": lambda: self.player.seek(self.player.frame_count - 1),
            "loop": lambda: self.player.set_loop(not self.player.loop),
            "undo": self.undo_group.undo,
            "redo": self.undo_group.redo,
            "focus_caption": lambda: self.panel.caption.setFocus(),
        }
        for name, sequences in ACTIONS.items():
            for seq in sequences:
                add(name, seq, slots[name])
        self._install_class_shortcuts()

    def _install_class_shortcuts(self) -> None:
        for sc in self._class_shortcuts:
            sc.setEnabled(False)
            sc.deleteLater()
        self._class_shortcuts = []
        for (axis, key), seq in class_shortcuts(self.taxonomy).items():
            sc = QShortcut(QKeySequence(seq), self)
            sc.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            sc.activated.connect(lambda a=axis, k=key: self.panel.pickers[a].trigger(k))
            self._class_shortcuts.append(sc)

    # ------------------------------------------------------------------------ workspace

    @property
    def annotator(self) -> str:
        return self.annotator_edit.text().strip()

    def set_workspace(self, workspace: Path) -> None:
        """Show another workspace (pending writes to the current one finish first)."""
        self.player.clear()
        self.reader.cancel_all()
        self.reader.wait()
        self.importer.cancel_all()
        self.importer.wait()
        self.writer.wait()
        self.backend.close()
        self.workspace = Path(workspace)
        self.backend = AnnotateBackend(self.workspace)
        self.model.backend = self.backend
        self.thumbnails.clear()
        self.label_stack.clear()
        self.draft_stack.clear()
        self.drafts.clear()
        self._pending.clear()
        self.show_row(None)
        self.open_workspace()

    def open_workspace(self) -> None:
        self._opened = False
        self.list_status.setText("Opening workspace…")
        backend = self.backend
        self.reader.submit(backend.open, name="open-workspace",
                           on_result=lambda info: self._on_opened(backend, info),
                           on_error=self._on_open_failed)

    def _on_opened(self, backend: AnnotateBackend, info: dict[str, Any]) -> None:
        if backend is not self.backend:
            return
        self._opened = True
        tax = info.get("taxonomy")
        if tax is not None and tax != self.taxonomy:
            self.set_taxonomy(tax)
        self.filters.set_annotators(info.get("annotators", []))
        self._show_counts(info.get("counts", {}))
        self.reload()

    def _on_open_failed(self, exc: BaseException) -> None:
        reason = getattr(exc, "reason", None) or str(exc)
        self.list_status.setText(f"Cannot open this workspace: {reason}")
        self.player.clear("Cannot open this workspace")

    def set_taxonomy(self, taxonomy: Taxonomy) -> None:
        """Label with another scheme (the workspace's): rebuilds pickers and keys."""
        self.taxonomy = taxonomy
        self.filters.set_taxonomy(taxonomy)
        self.delegate.taxonomy = taxonomy
        self.stats_panel.taxonomy = taxonomy
        old = self.panel
        self.panel = LabelPanel(taxonomy)
        self.panel.setMinimumWidth(340)
        self._connect_panel()
        self.splitter.replaceWidget(2, self.panel)
        old.deleteLater()
        self.panel.set_verify_mode(self.mode == "verify")
        self._install_class_shortcuts()
        self.show_row(self.row)

    def _show_counts(self, counts: dict[str, int]) -> None:
        total = sum(counts.get(s, 0) for s in STAGES)
        parts = [f"<b>{total:,}</b> clips"]
        for st in STAGES:
            n = counts.get(st, 0)
            parts.append(f"<span style='color:{STAGE_COLORS[st].name()}'>●</span> {n:,} {st}")
        self.counts.setText("&nbsp;&nbsp;".join(parts))

    def _refresh_counts(self) -> None:
        backend = self.backend
        self.reader.submit(lambda: backend.store.clips.count_by_stage(), name="counts",
                           on_result=self._show_counts)

    # ------------------------------------------------------------------------ the list

    def reload(self) -> None:
        """List the clips the filters (and the mode) select, keeping the current clip if listed."""
        if not self._opened:
            return
        self._select_after_load = self.row.id if self.row is not None else None
        where = self.filters.clip_filter()
        backend = self.backend
        if self.mode == "verify":
            self.model.load(lambda: backend.verify_queue(where))
        else:
            self.model.load(lambda: backend.clip_ids(where))
        self.list_status.setText("Loading…")

    def _on_ids_loaded(self, total: int) -> None:
        self._update_list_status()
        if total == 0:
            self.show_row(None)
            empty = ("No clip to review: annotated clips appear here." if self.mode == "verify"
                     else "No clip matches the filters." if not self.filters.is_default()
                     else "This workspace has no clips yet: Import videos… to start.")
            self.player.clear(empty)

    def _on_page_loaded(self, first: int, count: int) -> None:
        self._update_list_status()
        if self._advance_after_fetch:
            self._advance_after_fetch = False
            self.select_row(first)
            return
        if self.list.currentIndex().isValid():
            return
        target = 0
        if self._select_after_load is not None:
            r = self.model.row_of(self._select_after_load)
            if r is None and self.model.canFetchMore():
                return
            target = r if r is not None else 0
        self._select_after_load = None
        if first == 0 or self.model.rowCount() > target:
            self.select_row(target)

    def _update_list_status(self) -> None:
        loaded, total = self.model.rowCount(), self.model.total
        what = "to review" if self.mode == "verify" else "clips"
        if loaded < total:
            self.list_status.setText(f"{total:,} {what} · {loaded:,} loaded (scroll for more)")
        else:
            self.list_status.setText(f"{total:,} {what}")

    def select_row(self, row: int) -> None:
        index = self.model.index(row, 0)
        if not index.isValid():
            return
        self.list.selectionModel().setCurrentIndex(
            index, QItemSelectionModel.SelectionFlag.ClearAndSelect)
        self.list.scrollTo(index)

    def select_clip(self, clip_id: int) -> bool:
        r = self.model.row_of(clip_id)
        if r is None:
            return False
        self.select_row(r)
        return True

    def move(self, delta: int) -> None:
        """Next (+1) / previous (-1) clip; at the end of the loaded rows, load the next page."""
        current = self.list.currentIndex().row()
        target = current + delta if current >= 0 else 0
        if target >= self.model.rowCount():
            if self.model.canFetchMore():
                self._advance_after_fetch = True
                self.model.fetchMore()
            return
        if target < 0:
            return
        self.select_row(target)

    def _on_current_changed(self, current, _previous) -> None:
        row = self.model.row_at(current.row()) if current.isValid() else None
        self.draft_stack.clear()
        self.show_row(row, load_media=True)
        if row is not None:
            # the page may be a little old: fetch this clip afresh
            backend, clip_id = self.backend, row.id
            self.reader.submit(backend.row, clip_id, name="clip-row",
                               on_result=self._fresh_row)

    def _fresh_row(self, row: ClipRow) -> None:
        self.model.update_rows([row])
        if self.row is not None and self.row.id == row.id:
            self.show_row(row)

    def show_row(self, row: ClipRow | None, load_media: bool = False) -> None:
        """Show a clip in the panel (and, with `load_media`, in the player)."""
        self.row = row
        self.panel.set_row(row)
        if row is None:
            if load_media:
                self.player.clear()
            self.state = LabelState()
            self.panel.set_state(self.state)
            self.rowChanged.emit(None)
            return
        if load_media:
            self.player.load(row.source_path, row.clip.start_frame, row.clip.end_frame, row.fps,
                             row.width, row.height)
        self.state = self._state_for(row)
        self.panel.set_state(self.state)
        self._sync_verify_actions()
        self.rowChanged.emit(row)

    def _state_for(self, row: ClipRow) -> LabelState:
        if self.mode == "verify":
            if row.id in self.drafts:
                return self.drafts[row.id]
            verified = row.verified_label()
            return verified if verified is not None else row.resolved_label()
        pending = self._pending.get((row.id, self.annotator))
        if pending is not None:
            return pending[1]
        return LabelState.of(row.label_of(self.annotator)) if self.annotator else LabelState()

    def _load_thumbnail(self, row: ClipRow):
        return self.backend.thumbnail(row)

    # ------------------------------------------------------------------------ labelling

    def _can_label(self) -> bool:
        if self.row is None:
            return False
        if not self.annotator:
            self.panel.set_status("<span style='color:#c83c3c'>Type your name in the toolbar "
                                  "first: labels are saved under it.</span>")
            self.annotator_edit.setFocus()
            return False
        return True

    def pick(self, axis: str, key: str) -> None:
        """A class key or click: change the label (undoable, autosaved) or the verify draft."""
        if not self._can_label():
            return
        after = pick(self.state, axis, key)
        self._change(after, describe(axis, key, self.state, after))

    def remove_last_movement(self) -> None:
        if self._can_label() and self.state.movements:
            self._change(drop_last_movement(self.state), "remove last movement")

    def set_caption(self, text: str) -> None:
        if self._can_label():
            self._change(with_caption(self.state, text), "caption")

    def _leave_text_field(self) -> bool:
        """Enter in a text field (caption, annotator) finishes the typing, nothing more."""
        focus = QApplication.focusWidget()
        if isinstance(focus, QLineEdit) and self.isAncestorOf(focus):
            focus.clearFocus()          # editingFinished saves it
            self.list.setFocus()
            return True
        return False

    def accept(self) -> None:
        """Enter: take the suggestion (annotate) or accept the label (verify)."""
        if self._leave_text_field():
            return
        if self.mode == "verify":
            self.verify_accept()
            return
        if not self._can_label() or not self.row.suggestions:
            return
        after = take_suggestion(self.state, self.row.suggested_label)
        if after != self.state:
            self._change(after, "accept suggestion")

    def _change(self, after: LabelState, text: str) -> None:
        row = self.row
        if after == self.state or row is None:
            return
        if self.mode == "verify":
            self.draft_stack.push(DraftCommand(self._apply_draft, row.id, self.state, after, text))
        else:
            self.label_stack.push(SetLabelCommand(self, row.id, self.annotator, self.state, after,
                                                  f"{text} (clip {row.id})"))

    def write_label(self, clip_id: int, annotator: str, label: LabelState) -> None:
        """Save a label now (a command's redo/undo): shown at once, written in the background."""
        self._write_seq += 1
        seq = self._write_seq
        self._pending[(clip_id, annotator)] = (seq, label)
        if self.row is not None and self.row.id != clip_id:
            self.select_clip(clip_id)   # undo of a change made on another clip: go there
        if self.row is not None and self.row.id == clip_id and annotator == self.annotator \
                and self.mode == "annotate":
            self.state = label
            self.panel.set_state(label)
        self.panel.set_status("Saving…")
        backend, tax = self.backend, self.taxonomy
        self.writer.submit(backend.set_label, clip_id, annotator, label, tax, name="save-label",
                           on_result=lambda row: self._saved(seq, clip_id, annotator, row),
                           on_error=lambda exc: self._save_failed(seq, clip_id, annotator, exc))

    def _saved(self, seq: int, clip_id: int, annotator: str, row: ClipRow) -> None:
        pending = self._pending.get((clip_id, annotator))
        if pending is not None and pending[0] == seq:
            del self._pending[(clip_id, annotator)]
        self.model.update_rows([row])
        if self.row is not None and self.row.id == clip_id:
            self.row = row
            self.panel.set_row(row)
            self.panel.set_state(self.state)
            self._sync_verify_actions()
        if not self._pending:
            self.panel.set_status(f"✓ Saved as <b>{annotator}</b>")
        self._stats_dirty = True
        self._refresh_counts()
        self.saved.emit(clip_id)

    def _save_failed(self, seq: int, clip_id: int, annotator: str, exc: BaseException) -> None:
        pending = self._pending.get((clip_id, annotator))
        if pending is not None and pending[0] == seq:
            del self._pending[(clip_id, annotator)]
        reason = getattr(exc, "reason", None) or str(exc)
        self.panel.set_status(f"<span style='color:#c83c3c'>Not saved: {reason}</span>")
        backend = self.backend
        self.reader.submit(backend.row, clip_id, name="clip-row", on_result=self._fresh_row)

    # ------------------------------------------------------------------------ verify

    def _apply_draft(self, clip_id: int, label: LabelState) -> None:
        self.drafts[clip_id] = label
        if self.row is not None and self.row.id == clip_id:
            self.state = label
            self.panel.set_state(label)
            self._sync_verify_actions()

    def use_annotator_label(self, annotator: str) -> None:
        if self.row is None:
            return
        lab = self.row.label_of(annotator)
        if lab is not None:
            self._change(LabelState.of(lab), f"use {annotator}'s label")

    def _accept_source(self) -> tuple[bool, str | None]:
        """Whether the draft can be accepted as it is, and from which annotator."""
        row = self.row
        if row is None or not row.clip.labels or not self.state.complete:
            return False, None
        resolved = row.resolved_label()
        if self.state == resolved and not row.disagreement:
            return True, None
        for lab in row.clip.labels:
            if LabelState.of(lab) == self.state:
                return True, lab.annotator
        # the same label apart from the caption still counts as accepting that annotator's
        for lab in row.clip.labels:
            if LabelState.of(lab).summary() == self.state.summary():
                return True, lab.annotator
        return False, None

    def _sync_verify_actions(self) -> None:
        if self.mode != "verify":
            return
        can_accept, _ = self._accept_source()
        can_fix = self.row is not None and self.state.complete and not can_accept
        self.panel.verify_box.set_actions(can_accept, can_fix or (self.row is not None and
                                                               self.state.complete),
                                          self.row is not None)

    def _reviewer(self) -> str | None:
        if self.row is None or self.mode != "verify":
            return None
        if not self.annotator:
            self._can_label()
            return None
        return self.annotator

    def verify_accept(self) -> None:
        reviewer = self._reviewer()
        if reviewer is None:
            return
        ok, annotator = self._accept_source()
        if not ok:
            if self.state.complete:
                self.verify_fix()
            else:
                self.panel.set_status("<span style='color:#c83c3c'>The label is incomplete: "
                                      "set framing, angle and a movement, then Save fix.</span>")
            return
        self._review("accept", from_annotator=annotator)

    def verify_fix(self) -> None:
        if self._leave_text_field():
            return
        reviewer = self._reviewer()
        if reviewer is None:
            return
        if not self.state.complete:
            self.panel.set_status("<span style='color:#c83c3c'>A fix needs framing, angle and at "
                                  "least one movement.</span>")
            return
        ok, annotator = self._accept_source()
        if ok:
            self._review("accept", from_annotator=annotator)
        else:
            self._review("fix", label=self.state)

    def verify_reject(self) -> None:
        if self._reviewer() is None:
            return
        reason = self.ask_reason(self)
        if reason:
            self._review("reject", reason=reason)

    def _review(self, decision: str, *, label: LabelState | None = None,
                reason: str | None = None, from_annotator: str | None = None) -> None:
        row, reviewer = self.row, self.annotator
        backend, tax = self.backend, self.taxonomy
        self.panel.set_status("Saving review…")
        self.writer.submit(backend.review, row.id, reviewer, decision, label, reason,
                           from_annotator, tax, name="review",
                           on_result=lambda r: self._reviewed(decision, r),
                           on_error=lambda exc: self._save_failed(-1, row.id, reviewer, exc))

    def _reviewed(self, decision: str, row: ClipRow) -> None:
        self.drafts.pop(row.id, None)
        self.model.update_rows([row])
        was_current = self.row is not None and self.row.id == row.id
        word = {"accept": "Accepted", "fix": "Fixed", "reject": "Rejected"}[decision]
        self._stats_dirty = True
        self._refresh_counts()
        self.saved.emit(row.id)
        if was_current:
            self.draft_stack.clear()
            self.show_row(row)
            self.move(1)
        self.panel.set_status(f"✓ {word} clip #{row.id} as <b>{self.annotator}</b>")

    # ------------------------------------------------------------------------ modes

    def set_mode(self, mode: str) -> None:
        if mode not in MODES:
            raise ValueError(mode)
        self.mode = mode
        self.mode_buttons[mode].setChecked(True)
        if mode == "stats":
            self.player.pause()
            self.pages.setCurrentWidget(self.stats_panel)
            if self._stats_dirty or self.stats_panel.data is None:
                self.refresh_stats()
            self.modeChanged.emit(mode)
            return
        self.pages.setCurrentWidget(self.splitter)
        verify = mode == "verify"
        self.who_label.setText("Reviewer" if verify else "Annotator")
        self.undo_group.setActiveStack(self.draft_stack if verify else self.label_stack)
        self.undo_button.setEnabled(self.undo_group.canUndo())
        self.redo_button.setEnabled(self.undo_group.canRedo())
        self.panel.set_verify_mode(verify)
        self.delegate.verify_mode = verify
        self.draft_stack.clear()
        self.show_row(self.row)        # the same clip, seen in this mode, until the list reloads
        self.list_title.setText("<b>VERIFY QUEUE</b> <span style='color:gray'>disagreements "
                                "first</span>" if verify else "<b>CLIPS</b>")
        last = self._list_mode
        if verify != (last == "verify"):
            self.filters.blockSignals(True)
            if verify:
                self._annotate_stage = self.filters.stage.currentData()
                self.filters.set_stage("annotated")
            else:
                self.filters.set_stage(self._annotate_stage)
            self.filters.blockSignals(False)
            self.filters.stage.setEnabled(not verify)
            self._list_mode = mode
            self.reload()
        self.modeChanged.emit(mode)

    def refresh_stats(self) -> None:
        self.stats_panel.set_loading()
        backend = self.backend
        self._stats_dirty = False
        self.reader.submit(backend.stats, name="stats",
                           on_result=lambda data: self.stats_panel.set_stats(data, self.taxonomy),
                           on_error=lambda exc: self.stats_panel.set_error(
                               getattr(exc, "reason", None) or str(exc)))

    # ------------------------------------------------------------------------ annotator

    def _annotator_changed(self) -> None:
        name = self.annotator
        self.settings.setValue(SETTINGS_ANNOTATOR, name)
        self.settings.sync()
        self.model.set_annotator(name)
        self.delegate.annotator = name
        self.filters.set_me(name)
        if self.row is not None:
            self.show_row(self.row)

    def set_annotator(self, name: str) -> None:
        self.annotator_edit.setText(name)
        self._annotator_changed()

    # ------------------------------------------------------------------------ import

    def show_import_dialog(self, paths: list[str] | None = None) -> ImportDialog:
        dialog = ImportDialog(self.importer, self.backend, self)
        dialog.imported.connect(self._on_imported)
        if paths:
            dialog.add_paths(paths)
        self.import_dialog = dialog
        dialog.show()
        return dialog

    def _on_imported(self, report: dict[str, Any]) -> None:
        self._stats_dirty = True
        self.reader.submit(self.backend.annotators, name="annotators",
                           on_result=self.filters.set_annotators)
        self._refresh_counts()
        self.reload()

    # ------------------------------------------------------------------------ closing

    def shutdown(self) -> None:
        """Stop the player's decoder and every worker; pending label writes finish first."""
        self.player.shutdown()
        self.importer.cancel_all()
        self.writer.wait(30.0)
        self.writer.shutdown()
        self.reader.shutdown()
        self.importer.shutdown()
        self.backend.close()

    def closeEvent(self, event) -> None:
        self.shutdown()
        super().closeEvent(event)


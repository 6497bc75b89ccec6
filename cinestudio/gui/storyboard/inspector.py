"""The shot inspector: every field of the selected shot, with class pickers that show definitions.

It only reports what the user did (`edited(field, value)`, `picked(axis, key)`); the tab turns
that into an undoable edit of the board and sets the new shot back with `show_shot`, so undo,
autosave and validation stay in one place.
"""

from __future__ import annotations

import random
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont, QPixmap
from PySide6.QtWidgets import (QAbstractItemView, QComboBox, QDoubleSpinBox, QFileDialog, QFormLayout, QFrame,
                               QHBoxLayout, QHeaderView, QLabel, QLineEdit, QPlainTextEdit, QPushButton,
                               QSizePolicy, QSpinBox, QTableWidget, QTableWidgetItem, QToolButton, QVBoxLayout,
                               QWidget)

from cinestudio.gui.widgets.class_picker import ClassPicker
from cinestudio.storyboard.model import Board, Shot
from cinestudio.taxonomy import Taxonomy

IMAGE_FILTER = "Pictures (*.png *.jpg *.jpeg *.bmp *.webp *.tif *.tiff)"


def _section(text: str) -> QLabel:
    label = QLabel(text.upper())
    font = QFont(label.font())
    font.setPointSizeF(font.pointSizeF() * 0.8)
    font.setBold(True)
    font.setLetterSpacing(QFont.SpacingType.PercentageSpacing, 108)
    label.setFont(font)
    label.setStyleSheet("color: palette(placeholder-text); padding-top: 8px;")
    return label


class _PlainEdit(QPlainTextEdit):
    def __init__(self, lines: int, placeholder: str):
        super().__init__()
        self.setPlaceholderText(placeholder)
        self.setTabChangesFocus(True)
        fm = self.fontMetrics()
        self.setFixedHeight(fm.lineSpacing() * lines + 14)


class ShotInspector(QWidget):
    edited = Signal(str, object)     # field, value
    picked = Signal(str, str)        # axis, class key
    clearMovements = Signal()

    def __init__(self, taxonomy: Taxonomy, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("shot-inspector")
        self.shot: Shot | None = None
        self.board: Board | None = None
        self._loading = False

        self.header = QLabel("No shot selected")
        hf = QFont(self.header.font())
        hf.setPointSizeF(hf.pointSizeF() * 1.2)
        hf.setBold(True)
        self.header.setFont(hf)
        self.issues = QLabel()
        self.issues.setObjectName("shot-issues")
        self.issues.setWordWrap(True)
        self.issues.setStyleSheet("color: #e0604f;")
        self.issues.hide()

        self.title = QLineEdit()
        self.title.setObjectName("shot-title")
        self.title.setPlaceholderText("Title (e.g. Establishing)")
        self.title.textEdited.connect(lambda t: self._emit("title", t))
        self.prompt = _PlainEdit(3, "What the shot shows — the diffusion prompt")
        self.prompt.setObjectName("shot-prompt")
        self.prompt.textChanged.connect(lambda: self._emit("prompt", self.prompt.toPlainText()))

        self.duration = QDoubleSpinBox()
        self.duration.setObjectName("shot-duration")
        self.duration.setRange(0.0, 9999.0)
        self.duration.setDecimals(2)
        self.duration.setKeyboardTracking(False)
        self.duration.valueChanged.connect(lambda v: self._emit("duration", float(v)))
        self.unit = QComboBox()
        self.unit.setObjectName("shot-duration-unit")
        self.unit.addItem("seconds", "seconds")
        self.unit.addItem("frames", "frames")
        self.unit.currentIndexChanged.connect(lambda _i: self._emit("duration_unit", self.unit.currentData()))
        self.duration_hint = QLabel()
        self.duration_hint.setStyleSheet("color: palette(placeholder-text);")
        dur_row = QHBoxLayout()
        dur_row.setSpacing(6)
        dur_row.addWidget(self.duration, 1)
        dur_row.addWidget(self.unit)
        dur_row.addWidget(self.duration_hint, 1)

        self.seed = QSpinBox()
        self.seed.setObjectName("shot-seed")
        self.seed.setRange(0, 2 ** 31 - 1)
        self.seed.setKeyboardTracking(False)
        self.seed.valueChanged.connect(lambda v: self._emit("seed", int(v)))
        dice = QToolButton()
        dice.setText("New seed")
        dice.setToolTip("A random seed (another take of the same shot)")
        dice.clicked.connect(lambda: self._emit("seed", random.randrange(0, 2 ** 31 - 1), force=True))
        seed_row = QHBoxLayout()
        seed_row.addWidget(self.seed, 1)
        seed_row.addWidget(dice)

        self.framing = ClassPicker("framing", taxonomy.classes("framing"), columns=3)
        self.angle = ClassPicker("angle", taxonomy.classes("angle"), columns=3)
        self.movement = ClassPicker("movement", taxonomy.classes("movement"), multi=True, columns=3)
        for picker in (self.framing, self.angle, self.movement):
            picker.picked.connect(lambda key, p=picker: self._pick(p.axis, key))
        self.moves_text = QLabel()
        self.moves_text.setObjectName("shot-movements")
        self.moves_text.setWordWrap(True)
        clear_moves = QToolButton()
        clear_moves.setText("Reset to static")
        clear_moves.clicked.connect(self.clearMovements.emit)
        moves_row = QHBoxLayout()
        moves_row.addWidget(self.moves_text, 1)
        moves_row.addWidget(clear_moves)

        self.ref_thumb = QLabel()
        self.ref_thumb.setFixedSize(96, 54)
        self.ref_thumb.setFrameShape(QFrame.Shape.StyledPanel)
        self.ref_thumb.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.ref_label = QLabel("none — the simulator builds a scene")
        self.ref_label.setObjectName("shot-reference")
        self.ref_label.setWordWrap(True)
        self.ref_label.setStyleSheet("color: palette(placeholder-text);")
        choose = QPushButton("Choose…")
        choose.clicked.connect(self._choose_reference)
        clear_ref = QPushButton("Clear")
        clear_ref.clicked.connect(lambda: self._emit("reference_image", None, force=True))
        ref_buttons = QVBoxLayout()
        ref_buttons.addWidget(choose)
        ref_buttons.addWidget(clear_ref)
        ref_row = QHBoxLayout()
        ref_row.addWidget(self.ref_thumb)
        ref_row.addWidget(self.ref_label, 1)
        ref_row.addLayout(ref_buttons)

        self.loras = QTableWidget(0, 2)
        self.loras.setObjectName("shot-loras")
        self.loras.setHorizontalHeaderLabels(["LoRA", "weight"])
        self.loras.verticalHeader().hide()
        self.loras.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.loras.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        self.loras.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.loras.setFixedHeight(92)
        self.loras.itemChanged.connect(lambda _item: self._emit_loras())
        add_lora = QToolButton()
        add_lora.setText("+ LoRA weight")
        add_lora.clicked.connect(self._add_lora)
        del_lora = QToolButton()
        del_lora.setText("Remove")
        del_lora.clicked.connect(self._remove_lora)
        lora_hint = QLabel("Empty: the LoRAs of the shot's classes, weighted by CLIPLoRA.")
        lora_hint.setWordWrap(True)
        lora_hint.setStyleSheet("color: palette(placeholder-text);")
        lora_buttons = QHBoxLayout()
        lora_buttons.addWidget(add_lora)
        lora_buttons.addWidget(del_lora)
        lora_buttons.addStretch(1)

        self.notes = _PlainEdit(2, "Notes for the crew")
        self.notes.setObjectName("shot-notes")
        self.notes.textChanged.connect(lambda: self._emit("notes", self.notes.toPlainText()))

        form = QFormLayout()
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.addRow("Title", self.title)
        form.addRow("Prompt", self.prompt)
        form.addRow("Duration", dur_row)
        form.addRow("Seed", seed_row)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 8, 10, 8)
        layout.setSpacing(4)
        layout.addWidget(self.header)
        layout.addWidget(self.issues)
        layout.addLayout(form)
        layout.addWidget(_section("Framing"))
        layout.addWidget(self.framing)
        layout.addWidget(_section("Angle"))
        layout.addWidget(self.angle)
        layout.addWidget(_section("Movement — in sequence, click to add or remove"))
        layout.addWidget(self.movement)
        layout.addLayout(moves_row)
        layout.addWidget(_section("Reference image (previz moves over it)"))
        layout.addLayout(ref_row)
        layout.addWidget(_section("LoRA weights (diffusion)"))
        layout.addWidget(self.loras)
        layout.addWidget(lora_hint)
        layout.addLayout(lora_buttons)
        layout.addWidget(_section("Notes"))
        layout.addWidget(self.notes)
        layout.addStretch(1)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Minimum)
        self.set_enabled(False)

    # -- showing ---------------------------------------------------------------------------

    def set_taxonomy(self, taxonomy: Taxonomy) -> None:
        for name in ("framing", "angle", "movement"):
            old: ClassPicker = getattr(self, name)
            new = ClassPicker(name, taxonomy.classes(name), multi=name == "movement", columns=3)
            new.picked.connect(lambda key, p=new: self._pick(p.axis, key))
            self.layout().replaceWidget(old, new)
            old.deleteLater()
            setattr(self, name, new)
        if self.shot is not None and self.board is not None:
            self.show_shot(self.shot, self.board, self._index, [])

    def set_enabled(self, on: bool) -> None:
        for w in self.findChildren(QWidget):
            if w is not self.header:
                w.setEnabled(on)

    def show_shot(self, shot: Shot | None, board: Board | None, index: int = 0,
                  issues: list[str] | None = None) -> None:
        self._loading = True
        try:
            self.shot, self.board, self._index = shot, board, index
            if shot is None or board is None:
                self.header.setText("No shot selected" if board is None or board.shots else
                                    "Add a shot to start the board")
                self.issues.hide()
                self.set_enabled(False)
                return
            self.set_enabled(True)
            self.header.setText(f"Shot {index + 1}" + (f" — {shot.title}" if shot.title else ""))
            if issues:
                self.issues.setText("⚠ " + "<br>⚠ ".join(i.split(": ", 1)[-1] for i in issues))
                self.issues.show()
            else:
                self.issues.hide()
            if self.title.text() != shot.title:
                self.title.setText(shot.title)
            if self.prompt.toPlainText() != shot.prompt:
                self.prompt.setPlainText(shot.prompt)
            if self.notes.toPlainText() != shot.notes:
                self.notes.setPlainText(shot.notes)
            self.unit.setCurrentIndex(0 if shot.duration_unit == "seconds" else 1)
            self.duration.setDecimals(2 if shot.duration_unit == "seconds" else 0)
            self.duration.setSingleStep(0.25 if shot.duration_unit == "seconds" else 1)
            self.duration.setValue(float(shot.duration))
            n = shot.frames(board.fps)
            self.duration_hint.setText(f"= {n} frames at {board.fps:g} fps" if shot.duration_unit == "seconds"
                                       else f"= {n / board.fps:.2f} s at {board.fps:g} fps")
            self.seed.setValue(int(shot.seed) % (2 ** 31 - 1))
            self.framing.set_value(shot.framing)
            self.angle.set_value(shot.angle)
            self.movement.set_value(list(shot.movements))
            self.moves_text.setText("<b>Sequence:</b> " + " → ".join(
                self.movement.classes[m].label if m in self.movement.classes else f"<s>{m}</s>"
                for m in shot.movements))
            self._show_reference(shot, board)
            self.loras.blockSignals(True)
            self.loras.setRowCount(0)
            for name, weight in (shot.loras or {}).items():
                self._append_lora(name, weight)
            self.loras.blockSignals(False)
        finally:
            self._loading = False

    def _show_reference(self, shot: Shot, board: Board) -> None:
        if not shot.reference_image:
            self.ref_label.setText("none — the simulator builds a scene")
            self.ref_thumb.setPixmap(QPixmap())
            self.ref_thumb.setText("—")
            return
        path = board.resolve_path(shot.reference_image)
        pm = QPixmap(str(path)) if path is not None and path.is_file() else QPixmap()
        if pm.isNull():
            self.ref_thumb.setPixmap(QPixmap())
            self.ref_thumb.setText("missing")
        else:
            self.ref_thumb.setPixmap(pm.scaled(self.ref_thumb.size(), Qt.AspectRatioMode.KeepAspectRatio,
                                               Qt.TransformationMode.SmoothTransformation))
        self.ref_label.setText(Path(shot.reference_image).name)
        self.ref_label.setToolTip(shot.reference_image)

    # -- reporting -------------------------------------------------------------------------

    def _emit(self, field: str, value, force: bool = False) -> None:
        if self._loading and not force:
            return
        if self.shot is None:
            return
        self.edited.emit(field, value)

    def _pick(self, axis: str, key: str) -> None:
        if self.shot is not None:
            self.picked.emit(axis, key)

    def _choose_reference(self) -> None:
        start = str(self.board.base_dir) if self.board is not None and self.board.base_dir else ""
        path, _ = QFileDialog.getOpenFileName(self, "Reference image", start, IMAGE_FILTER)
        if path:
            self._emit("reference_image", path, force=True)

    def _append_lora(self, name: str, weight: float) -> None:
        r = self.loras.rowCount()
        self.loras.insertRow(r)
        self.loras.setItem(r, 0, QTableWidgetItem(name))
        self.loras.setItem(r, 1, QTableWidgetItem(f"{float(weight):g}"))

    def _add_lora(self) -> None:
        if self.shot is None:
            return
        taken = set((self.shot.loras or {}).keys())
        name = next((m for m in self.shot.movements if m not in taken and m != "static"), "lora")
        self._emit("loras", {**(self.shot.loras or {}), name: 1.0}, force=True)

    def _remove_lora(self) -> None:
        if self.shot is None:
            return
        rows = sorted({i.row() for i in self.loras.selectedIndexes()}) or [self.loras.rowCount() - 1]
        names = [self.loras.item(r, 0).text() for r in rows if 0 <= r < self.loras.rowCount()]
        self._emit("loras", {k: v for k, v in (self.shot.loras or {}).items() if k not in names} or None, force=True)

    def _emit_loras(self) -> None:
        if self._loading:
            return
        out: dict[str, float] = {}
        for r in range(self.loras.rowCount()):
            name = (self.loras.item(r, 0).text() if self.loras.item(r, 0) else "").strip()
            try:
                weight = float(self.loras.item(r, 1).text()) if self.loras.item(r, 1) else 1.0
            except ValueError:
                weight = 1.0
            if name:
                out[name] = weight
        self._emit("loras", out or None)

"""Verify mode's part of the label panel: the annotators' labels side by side (disagreements
marked), and the reviewer's decisions: accept, fix (the pickers' label), reject with a reason."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import (QHBoxLayout, QHeaderView, QInputDialog, QLabel, QPushButton,
                               QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget)

from cinestudio.gui.annotate.backend import ClipRow, LabelState
from cinestudio.taxonomy import AXES, Taxonomy

DISAGREE_BG = QColor(250, 225, 225)
REJECT_REASONS = ("not a single shot (contains a cut)", "unclear or ambiguous camera work",
                  "corrupt or unreadable frames", "too short to judge", "duplicate clip")


def ask_reason(parent: QWidget) -> str | None:
    """The reviewer's reason for a rejection (None if they cancel)."""
    reason, ok = QInputDialog.getItem(parent, "Reject clip", "Why is this clip rejected?",
                                      list(REJECT_REASONS), 0, True)
    reason = (reason or "").strip()
    return reason if ok and reason else None


class VerifyBox(QWidget):
    useLabel = Signal(str)          # annotator whose label becomes the draft
    acceptRequested = Signal()
    fixRequested = Signal()
    rejectRequested = Signal()

    def __init__(self, taxonomy: Taxonomy, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("verify-box")
        self.taxonomy = taxonomy
        self.row: ClipRow | None = None
        title = QLabel("<b>ANNOTATIONS</b>")
        title.setStyleSheet("color: palette(placeholder-text); letter-spacing: 1px;")
        self.table = QTableWidget(0, 3)
        self.table.setObjectName("verify-labels")
        self.table.setHorizontalHeaderLabels([a.capitalize() for a in AXES])
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QTableWidget.SelectionMode.SingleSelection)
        self.table.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.table.verticalHeader().setDefaultSectionSize(24)
        self.table.setToolTip("Click an annotator's row to start from their label")
        self.table.cellClicked.connect(self._on_click)
        self.review_line = QLabel()
        self.review_line.setWordWrap(True)
        self.review_line.setObjectName("verify-review")
        self.accept_button = QPushButton("✓ Accept  ⏎")
        self.accept_button.setObjectName("verify-accept")
        self.accept_button.setToolTip("Verify the annotators' label as it is (Enter)")
        self.fix_button = QPushButton("✎ Save fix  ⇧⏎")
        self.fix_button.setObjectName("verify-fix")
        self.fix_button.setToolTip("Verify the label as the pickers show it now (Shift+Enter)")
        self.reject_button = QPushButton("✗ Reject…  Del")
        self.reject_button.setObjectName("verify-reject")
        self.reject_button.setToolTip("Reject the clip, with a reason (Delete)")
        for b in (self.accept_button, self.fix_button, self.reject_button):
            b.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            b.setMinimumHeight(30)
        self.accept_button.setStyleSheet("QPushButton:enabled { background: #2e9650; color: white; "
                                         "border-radius: 4px; font-weight: 600; }")
        self.fix_button.setStyleSheet("QPushButton:enabled { background: #2f6fde; color: white; "
                                      "border-radius: 4px; font-weight: 600; }")
        self.accept_button.clicked.connect(self.acceptRequested.emit)
        self.fix_button.clicked.connect(self.fixRequested.emit)
        self.reject_button.clicked.connect(self.rejectRequested.emit)
        buttons = QHBoxLayout()
        buttons.setSpacing(6)
        buttons.addWidget(self.accept_button, 1)
        buttons.addWidget(self.fix_button, 1)
        buttons.addWidget(self.reject_button, 1)
        # the annotators' labels sit with the clip's details (the label panel places them);
        # the decisions stay in view at the panel's foot
        self.annotations = QWidget()
        self.annotations.setObjectName("verify-annotations")
        top = QVBoxLayout(self.annotations)
        top.setContentsMargins(0, 0, 0, 0)
        top.setSpacing(4)
        top.addWidget(title)
        top.addWidget(self.table)
        top.addWidget(self.review_line)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        layout.addLayout(buttons)

    def _name(self, axis: str, key: str) -> str:
        try:
            return self.taxonomy.get(axis, key).label
        except Exception:
            return key

    def set_row(self, row: ClipRow | None) -> None:
        self.row = row
        labels = row.clip.labels if row is not None else ()
        self.table.setRowCount(len(labels))
        self.table.setVerticalHeaderLabels([lab.annotator for lab in labels])
        header = self.table.horizontalHeader().sizeHint().height()
        self.table.setFixedHeight(header + 24 * max(1, len(labels)) + 4)
        disagree = set(row.disagreement) if row is not None else set()
        for r, lab in enumerate(labels):
            state = LabelState.of(lab)
            values = [self._name("framing", state.framing) if state.framing else "—",
                      self._name("angle", state.angle) if state.angle else "—",
                      " → ".join(self._name("movement", m) for m in state.movements) or "—"]
            for c, (axis, text) in enumerate(zip(AXES, values)):
                item = QTableWidgetItem(text)
                item.setToolTip(text)
                if axis in disagree:
                    item.setBackground(DISAGREE_BG)
                    font = QFont(item.font())
                    font.setBold(True)
                    item.setFont(font)
                self.table.setItem(r, c, item)
        review = row.clip.review if row is not None else None
        if review is not None:
            what = {"accept": "accepted", "fix": "fixed", "reject": "rejected"}[review.decision]
            extra = f" — {review.reason}" if review.reason else ""
            self.review_line.setText(f"<span style='color:#2e9650'>Already {what} by "
                                     f"<b>{review.reviewer}</b>{extra}.</span> A new decision "
                                     "replaces it.")
        elif disagree:
            self.review_line.setText("<span style='color:#c83c3c'>Annotators disagree on "
                                     f"<b>{', '.join(sorted(disagree))}</b>: settle it in the "
                                     "pickers, then Save fix.</span>")
        elif not labels:
            self.review_line.setText("Nobody labelled this clip yet: label it in the pickers and "
                                     "Save fix, or reject it.")
        else:
            self.review_line.setText("")

    def set_actions(self, can_accept: bool, can_fix: bool, can_reject: bool) -> None:
        self.accept_button.setEnabled(can_accept)
        self.fix_button.setEnabled(can_fix)
        self.reject_button.setEnabled(can_reject)

    def _on_click(self, r: int, _c: int) -> None:
        if self.row is not None and 0 <= r < len(self.row.clip.labels):
            self.useLabel.emit(self.row.clip.labels[r].annotator)

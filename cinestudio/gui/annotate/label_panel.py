"""The label panel: the selected clip, its suggestion, the three pickers and the caption.

It shows a `LabelState` and reports what the user asks (`picked(axis, key)`, `acceptSuggestion`,
`captionEdited`); the tab turns those into undoable, autosaved changes and sets the new state
back with `set_state`. In Verify mode the `VerifyBox` (annotators' labels, decisions) shows
below the pickers.
"""

from __future__ import annotations

import html

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QFrame, QHBoxLayout, QLabel, QLineEdit, QPushButton, QScrollArea,
                               QVBoxLayout, QWidget)

from cinestudio.gui.annotate.backend import ClipRow, LabelState, Suggestion
from cinestudio.gui.annotate.clip_delegate import STAGE_COLORS
from cinestudio.gui.annotate.keymap import class_shortcuts, display
from cinestudio.gui.annotate.verify_panel import VerifyBox
from cinestudio.gui.widgets.class_picker import ClassPicker
from cinestudio.taxonomy import AXES, Taxonomy

AXIS_TITLES = {"framing": "FRAMING", "angle": "ANGLE", "movement": "MOVEMENT"}
AXIS_HINTS = {"framing": "shot size · one", "angle": "camera pitch · one",
              "movement": "in order · several"}


def _section_title(text: str, hint: str) -> QLabel:
    label = QLabel(f"<b>{text}</b>&nbsp;&nbsp;<span style='color:gray; font-weight:normal'>"
                   f"{hint}</span>")
    label.setStyleSheet("letter-spacing: 1px; margin-top: 4px;")
    return label


def _line() -> QFrame:
    line = QFrame()
    line.setFrameShape(QFrame.Shape.HLine)
    line.setStyleSheet("color: palette(midlight);")
    return line


class LabelPanel(QWidget):
    picked = Signal(str, str)          # axis, class key
    acceptSuggestion = Signal()
    captionEdited = Signal(str)

    def __init__(self, taxonomy: Taxonomy, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("label-panel")
        self.taxonomy = taxonomy
        self.row: ClipRow | None = None
        self.state = LabelState()
        self.verify_mode = False
        self.shortcuts = class_shortcuts(taxonomy)

        self.title = QLabel("No clip")
        self.title.setObjectName("clip-title")
        self.title.setStyleSheet("font-size: 13pt; font-weight: 600;")
        self.stage = QLabel()
        self.stage.setObjectName("clip-stage")
        self.meta = QLabel()
        self.meta.setObjectName("clip-meta")
        self.meta.setWordWrap(True)
        self.meta.setStyleSheet("color: palette(placeholder-text);")
        self.meta.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        self.suggestion = QLabel()
        self.suggestion.setObjectName("suggestion")
        self.suggestion.setWordWrap(True)
        self.accept_button = QPushButton("Accept suggestion  ⏎")
        self.accept_button.setObjectName("accept-suggestion")
        self.accept_button.setToolTip("Take the machine's suggestion on every axis it covers "
                                      "(Enter)")
        self.accept_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.accept_button.clicked.connect(self.acceptSuggestion.emit)
        self.suggestion_box = QFrame()
        self.suggestion_box.setObjectName("suggestion-box")
        self.suggestion_box.setStyleSheet(
            "#suggestion-box { background: rgba(235, 160, 60, 28); border: 1px solid "
            "rgba(230, 145, 30, 120); border-radius: 5px; }")
        sug = QHBoxLayout(self.suggestion_box)
        sug.setContentsMargins(8, 5, 6, 5)
        sug.addWidget(self.suggestion, 1)
        sug.addWidget(self.accept_button)

        self.pickers: dict[str, ClassPicker] = {}
        self.values: dict[str, QLabel] = {}
        body = QVBoxLayout()
        body.setSpacing(4)
        for axis in AXES:
            picker = ClassPicker(axis, self.taxonomy.classes(axis),
                                 {key: display(seq) for (ax, key), seq in self.shortcuts.items()
                                  if ax == axis},
                                 multi=axis == "movement", columns=3 if axis == "movement" else 2)
            picker.picked.connect(lambda key, a=axis: self.picked.emit(a, key))
            self.pickers[axis] = picker
            head = QHBoxLayout()
            head.addWidget(_section_title(AXIS_TITLES[axis], AXIS_HINTS[axis]))
            head.addStretch(1)
            value = QLabel()
            value.setObjectName(f"value-{axis}")
            value.setStyleSheet("font-weight: 600;")
            self.values[axis] = value
            head.addWidget(value)
            body.addLayout(head)
            body.addWidget(picker)
        self.sequence_hint = QLabel("⌫ drops the last movement · static excludes the others")
        self.sequence_hint.setWordWrap(True)
        self.sequence_hint.setStyleSheet("color: palette(placeholder-text); font-size: 8pt;")
        body.addWidget(self.sequence_hint)

        self.caption = QLineEdit()
        self.caption.setObjectName("caption")
        self.caption.setPlaceholderText("Caption (optional) — Ctrl+E, Enter to save")
        self.caption.setClearButtonEnabled(True)
        self.caption.editingFinished.connect(self._caption_done)

        self.verify_box = VerifyBox(self.taxonomy)
        self.verify_box.setVisible(False)
        self.verify_box.annotations.setVisible(False)
        self.status = QLabel()
        self.status.setObjectName("save-status")
        self.status.setStyleSheet("color: palette(placeholder-text);")

        inner = QWidget()
        layout = QVBoxLayout(inner)
        layout.setContentsMargins(10, 8, 10, 8)
        layout.setSpacing(6)
        head = QHBoxLayout()
        head.addWidget(self.title)
        head.addStretch(1)
        head.addWidget(self.stage)
        layout.addLayout(head)
        layout.addWidget(self.meta)
        layout.addWidget(self.suggestion_box)
        layout.addWidget(self.verify_box.annotations)
        layout.addWidget(_line())
        layout.addLayout(body)
        layout.addWidget(self.caption)
        layout.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(inner)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        # the footer never scrolls away: save status, and the reviewer's decisions
        footer = QFrame()
        footer.setObjectName("label-footer")
        footer.setStyleSheet("#label-footer { border-top: 1px solid palette(mid); }")
        foot = QVBoxLayout(footer)
        foot.setContentsMargins(10, 6, 10, 8)
        foot.setSpacing(6)
        foot.addWidget(self.verify_box)
        foot.addWidget(self.status)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(0)
        outer.addWidget(scroll, 1)
        outer.addWidget(footer)
        self.set_row(None)

    # -- content ---------------------------------------------------------------------------

    def set_verify_mode(self, on: bool) -> None:
        self.verify_mode = on
        self.verify_box.setVisible(on)
        self.verify_box.annotations.setVisible(on)
        self._sync_suggestion()

    def set_row(self, row: ClipRow | None) -> None:
        self.row = row
        enabled = row is not None
        for picker in self.pickers.values():
            picker.setEnabled(enabled)
        self.caption.setEnabled(enabled)
        if row is None:
            self.title.setText("No clip selected")
            self.stage.setText("")
            self.meta.setText("Pick a clip in the list (J / K move through it).")
            self.verify_box.set_row(None)
            self._sync_suggestion()
            return
        self.title.setText(f"Clip #{row.id}")
        color = STAGE_COLORS.get(row.stage)
        self.stage.setText(f"<span style='color:{color.name() if color else 'gray'};"
                           f" font-weight:600'>● {row.stage}</span>")
        c = row.clip
        fps = f"{row.fps:g} fps" if row.fps else "fps unknown"
        dur = f" · {row.duration_s:.2f} s" if row.duration_s is not None else ""
        size = f" · {row.width}×{row.height}" if row.width and row.height else ""
        others = ""
        if row.annotators:
            others = "<br>Labelled by " + ", ".join(row.annotators)
        others += self._review_line(row)
        self.meta.setText(f"{row.source_name} · frames {c.start_frame}–{c.end_frame - 1} "
                          f"({row.frames}){dur} · {fps}{size}{others}")
        for axis, picker in self.pickers.items():
            s = row.suggestions.get(axis)
            picker.set_suggestion(s.keys if s else (), s.confidence if s else None)
        self.verify_box.set_row(row)
        self._sync_suggestion()

    def _review_line(self, row: ClipRow) -> str:
        """The verdict, so a reviewed clip never reads as unlabelled to an annotator who did not
        label it (the pickers show the current annotator's own label)."""
        review = row.clip.review
        if review is None:
            return ""
        if review.decision == "reject":
            color = STAGE_COLORS.get("rejected")
            why = f": {html.escape(review.reason)}" if review.reason else ""
            return (f"<br><span style='color:{color.name() if color else 'red'}'>Rejected by "
                    f"{html.escape(review.reviewer)}{why}</span>")
        label = row.verified_label()
        parts = [self._name("framing", label.framing) if label and label.framing else "",
                 self._name("angle", label.angle) if label and label.angle else "",
                 " → ".join(self._name("movement", k) for k in label.movements) if label else ""]
        what = " · ".join(p for p in parts if p) or "—"
        return f"<br><b>Verified</b> by {html.escape(review.reviewer)}: <b>{html.escape(what)}</b>"

    def _name(self, axis: str, key: str) -> str:
        try:
            return self.taxonomy.get(axis, key).label
        except Exception:
            return key

    def _sync_suggestion(self) -> None:
        row = self.row
        sugg: dict[str, Suggestion] = row.suggestions if row is not None else {}
        if not sugg or self.verify_mode:
            self.suggestion_box.setVisible(False)
            return
        self.suggestion_box.setVisible(True)
        parts = []
        for axis in AXES:
            s = sugg.get(axis)
            if s is None:
                continue
            names = " → ".join(self._name(axis, k) for k in s.keys)
            conf = f" <span style='color:gray'>{s.confidence:.0%}</span>" if s.confidence is not None else ""
            parts.append(f"<b>{names}</b>{conf}")
        origins = sorted({s.origin for s in sugg.values()})
        dissent = []
        for axis in AXES:
            s = sugg.get(axis)
            for origin, keys, conf in (s.dissent if s is not None else ()):
                names = " → ".join(self._name(axis, k) for k in keys)
                dissent.append(f"{origin} says <b>{names}</b>" + (f" {conf:.0%}" if conf is not None else ""))
        warning = (f"<br><span style='color:#b35900'>Pre-labellers disagree: {'; '.join(dissent)}"
                   " — look closely</span>") if dissent else ""
        self.suggestion.setText("Suggested: " + " · ".join(parts) + warning
                                + f"<br><span style='color:gray; font-size:8pt'>from "
                                f"{', '.join(origins)} — never saved unless you accept</span>")
        self.accept_button.setEnabled(self.state.empty or self.state != self._taken())

    def _taken(self) -> LabelState:
        from cinestudio.gui.annotate.editing import take_suggestion

        return take_suggestion(self.state, self.row.suggested_label) if self.row else self.state

    def set_state(self, state: LabelState) -> None:
        """Show `state` in the pickers (does not emit anything)."""
        self.state = state
        self.pickers["framing"].set_value(state.framing)
        self.pickers["angle"].set_value(state.angle)
        self.pickers["movement"].set_value(state.movements)
        for axis in AXES:
            v = state.key_for(axis)
            if axis == "movement":
                text = " → ".join(self._name(axis, k) for k in v) if v else ""
            else:
                text = self._name(axis, v) if v else ""
            self.values[axis].setText(text or "<span style='color:gray; font-weight:normal'>"
                                      "not set</span>")
        if not self.caption.hasFocus():
            self.caption.setText(state.caption or "")
            self.caption.setCursorPosition(0)
        self._sync_suggestion()

    def set_status(self, text: str) -> None:
        self.status.setText(text)

    def _caption_done(self) -> None:
        if self.row is None:
            return
        text = self.caption.text().strip()
        if text != (self.state.caption or ""):
            self.captionEdited.emit(text)

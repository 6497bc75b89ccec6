"""A picker for the classes of one taxonomy axis: a grid of buttons, each with its key.

Each button shows the class's label and its shortcut; its tooltip is the class definition, and
the definition of the class under the mouse (else of the picked one) stays visible below the
grid. Single-choice axes (framing, angle) show one picked class; a multi-choice axis (movement)
shows an ordered sequence, each picked button numbered by its place in it. The machine's
suggestion is outlined with its confidence. The picker only reports clicks (`picked`); the
owner decides what they change and sets the new value back (so undo and autosave stay in one
place).
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QEvent, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPainterPath, QPalette, QPen
from PySide6.QtWidgets import (QAbstractButton, QGridLayout, QLabel, QSizePolicy, QVBoxLayout,
                               QWidget)

from cinestudio.taxonomy import CinematicClass

ACCENT = QColor(47, 111, 222)
SUGGEST = QColor(230, 145, 30)


class ClassButton(QAbstractButton):
    """One class: key badge, label, and its order in a sequence or a suggestion mark."""

    hovered = Signal(str)

    def __init__(self, cls: CinematicClass, shortcut: str | None, parent: QWidget | None = None):
        super().__init__(parent)
        self.cls = cls
        self.shortcut_text = shortcut or ""
        self.order: int | None = None         # 1-based place in a movement sequence
        self.suggested: float | None | bool = False
        self.picked = False
        self.setObjectName(f"class-{cls.key}")
        self.setToolTip(f"<b>{cls.label}</b> <code>{cls.key}</code>"
                        + (f" — key <b>{self.shortcut_text}</b>" if shortcut else "")
                        + f"<br>{cls.definition}")
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setMouseTracking(True)
        self.setAttribute(Qt.WidgetAttribute.WA_Hover, True)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)

    def sizeHint(self) -> QSize:
        fm = QFontMetrics(self.font())
        return QSize(fm.horizontalAdvance(self.cls.label) + 48, max(28, fm.height() + 12))

    def minimumSizeHint(self) -> QSize:
        return QSize(60, self.sizeHint().height())

    def set_state(self, picked: bool, order: int | None = None) -> None:
        if (self.picked, self.order) != (picked, order):
            self.picked, self.order = picked, order
            self.update()

    def set_suggested(self, suggested: float | None | bool) -> None:
        if self.suggested != suggested:
            self.suggested = suggested
            self.update()

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.HoverEnter:
            self.hovered.emit(self.cls.key)
        elif event.type() == QEvent.Type.HoverLeave:
            self.hovered.emit("")
        return super().event(event)

    def paintEvent(self, _event) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        pal = self.palette()
        rect = QRectF(self.rect()).adjusted(1, 1, -1, -1)
        hover = self.underMouse() and self.isEnabled()
        if self.picked:
            bg, fg, border = ACCENT, QColor("white"), ACCENT.darker(115)
        else:
            bg = pal.color(QPalette.ColorRole.Base)
            if hover:
                bg = QColor(ACCENT.red(), ACCENT.green(), ACCENT.blue(), 28)
            fg = pal.color(QPalette.ColorRole.Text)
            border = pal.color(QPalette.ColorRole.Mid)
        if not self.isEnabled():
            fg = pal.color(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text)
        path = QPainterPath()
        path.addRoundedRect(rect, 5, 5)
        p.fillPath(path, bg)
        if self.suggested is not False and not self.picked:
            pen = QPen(SUGGEST, 1.6, Qt.PenStyle.DashLine)
        elif self.suggested is not False:
            pen = QPen(SUGGEST, 2.2)
        else:
            pen = QPen(border, 1)
        p.setPen(pen)
        p.drawPath(path)

        # key badge
        x = rect.left() + 6
        if self.shortcut_text:
            badge_font = QFont(self.font())
            badge_font.setPointSizeF(max(7.0, self.font().pointSizeF() * 0.85))
            badge_font.setBold(True)
            fm = QFontMetrics(badge_font)
            bw = max(18, fm.horizontalAdvance(self.shortcut_text) + 8)
            badge = QRectF(x, rect.center().y() - 9, bw, 18)
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(QColor(255, 255, 255, 60) if self.picked else pal.color(QPalette.ColorRole.AlternateBase).darker(108))
            p.drawRoundedRect(badge, 3, 3)
            p.setFont(badge_font)
            p.setPen(fg if self.picked else pal.color(QPalette.ColorRole.Text).lighter(140))
            p.drawText(badge, Qt.AlignmentFlag.AlignCenter, self.shortcut_text)
            x = badge.right() + 7

        # right side: order in the sequence, or the suggestion's confidence
        right = rect.right() - 6
        p.setFont(self.font())
        small = QFont(self.font())
        small.setPointSizeF(max(7.0, self.font().pointSizeF() * 0.85))
        if self.order is not None:
            circle = QRectF(right - 18, rect.center().y() - 9, 18, 18)
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(QColor("white") if self.picked else ACCENT)
            p.drawEllipse(circle)
            p.setPen(ACCENT if self.picked else QColor("white"))
            bold = QFont(small)
            bold.setBold(True)
            p.setFont(bold)
            p.drawText(circle, Qt.AlignmentFlag.AlignCenter, str(self.order))
            right = circle.left() - 4
        elif self.suggested is not False and isinstance(self.suggested, float):
            text = f"{self.suggested:.0%}"
            fm = QFontMetrics(small)
            tw = fm.horizontalAdvance(text)
            label_w = QFontMetrics(self.font()).horizontalAdvance(self.cls.label)
            if x + label_w + tw + 6 <= right:   # only where the class name still fits
                p.setFont(small)
                p.setPen(QColor("white") if self.picked else SUGGEST.darker(115))
                p.drawText(QRectF(right - tw, rect.top(), tw, rect.height()),
                           Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignRight, text)
                right = right - tw - 4

        p.setFont(self.font())
        p.setPen(fg)
        text_rect = QRectF(x, rect.top(), max(0.0, right - x), rect.height())
        label = QFontMetrics(self.font()).elidedText(self.cls.label, Qt.TextElideMode.ElideRight,
                                                     int(text_rect.width()))
        p.drawText(text_rect, Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft, label)
        p.end()


class ClassPicker(QWidget):
    """The classes of one axis; `picked(key)` on a click (or `trigger(key)` from a shortcut)."""

    picked = Signal(str)

    def __init__(self, axis: str, classes: Sequence[CinematicClass],
                 shortcuts: dict[str, str] | None = None, *, multi: bool = False,
                 columns: int = 2, parent: QWidget | None = None):
        super().__init__(parent)
        self.axis = axis
        self.multi = multi
        self.classes = {c.key: c for c in classes}
        self.setObjectName(f"picker-{axis}")
        self.buttons: dict[str, ClassButton] = {}
        grid = QGridLayout()
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setHorizontalSpacing(4)
        grid.setVerticalSpacing(4)
        for i, cls in enumerate(classes):
            button = ClassButton(cls, (shortcuts or {}).get(cls.key))
            button.clicked.connect(lambda _=False, k=cls.key: self.picked.emit(k))
            button.hovered.connect(self._on_hover)
            self.buttons[cls.key] = button
            grid.addWidget(button, i // columns, i % columns)
        self.definition = QLabel()
        self.definition.setObjectName(f"definition-{axis}")
        self.definition.setWordWrap(True)
        self.definition.setTextFormat(Qt.TextFormat.RichText)
        self.definition.setMinimumHeight(QFontMetrics(self.font()).height() * 2)
        self.definition.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.definition.setStyleSheet("color: palette(placeholder-text);")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        layout.addLayout(grid)
        layout.addWidget(self.definition)
        self._value: tuple[str, ...] = ()
        self._hover = ""
        self._show_definition()

    # -- value ---------------------------------------------------------------------------------

    def value(self) -> tuple[str, ...]:
        """The picked keys (at most one on a single-choice axis), in order."""
        return self._value

    def set_value(self, keys: Sequence[str] | str | None) -> None:
        if keys is None:
            keys = ()
        elif isinstance(keys, str):
            keys = (keys,)
        self._value = tuple(k for k in keys if k in self.buttons)
        for key, button in self.buttons.items():
            if key in self._value:
                order = self._value.index(key) + 1 if self.multi and len(self._value) > 1 else None
                button.set_state(True, order)
            else:
                button.set_state(False)
        self._show_definition()

    def set_suggestion(self, keys: Sequence[str] = (), confidence: float | None = None) -> None:
        for key, button in self.buttons.items():
            if key in keys:
                button.set_suggested(confidence if confidence is not None else True)
            else:
                button.set_suggested(False)

    def trigger(self, key: str) -> None:
        if key in self.buttons and self.buttons[key].isEnabled():
            self.picked.emit(key)

    # -- definitions ---------------------------------------------------------------------------

    def _on_hover(self, key: str) -> None:
        self._hover = key
        self._show_definition()

    def _show_definition(self) -> None:
        key = self._hover or (self._value[-1] if self._value else "")
        if not key:
            self.definition.setText("<i>Hover a class (or pick one) for its definition.</i>")
            return
        cls = self.classes[key]
        self.definition.setText(f"<b>{cls.label}</b>: {cls.definition}")

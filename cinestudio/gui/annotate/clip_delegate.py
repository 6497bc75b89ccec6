"""How one clip looks in the list: thumbnail, id and source, stage, label or suggestion.

    ┌────────┐ #12  street_scene.mp4                        [annotated]
    │ thumb  │ Close-up · Eye level · Pan left → Zoom in
    └────────┘ 48 fr · 2.0 s · ana, ben · ≠ angle
"""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QRect, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPalette
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem

from cinestudio.gui.annotate.backend import ClipRow, LabelState
from cinestudio.gui.annotate.clip_model import ROW_ROLE
from cinestudio.gui.widgets.thumbnails import ThumbnailCache
from cinestudio.taxonomy import AXES, Taxonomy

STAGE_COLORS = {
    "collected": QColor(120, 124, 134),
    "annotated": QColor(47, 111, 222),
    "verified": QColor(46, 150, 80),
    "rejected": QColor(200, 60, 60),
}
SUGGEST = QColor(200, 120, 20)
WARN = QColor(200, 60, 60)
THUMB = QSize(96, 54)
ROW_HEIGHT = 66


def stage_pill(painter: QPainter, right: float, top: float, stage: str, font: QFont) -> float:
    """Draw a stage pill ending at `right`; returns its left edge."""
    fm = QFontMetrics(font)
    w = fm.horizontalAdvance(stage) + 12
    rect = QRectF(right - w, top, w, fm.height() + 1)
    color = STAGE_COLORS.get(stage, QColor(120, 120, 120))
    painter.setPen(Qt.PenStyle.NoPen)
    fill = QColor(color)
    fill.setAlpha(38)
    painter.setBrush(fill)
    painter.drawRoundedRect(rect, rect.height() / 2, rect.height() / 2)
    painter.setPen(color.darker(110))
    painter.setFont(font)
    painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, stage)
    return rect.left()


class ClipDelegate(QStyledItemDelegate):
    def __init__(self, thumbnails: ThumbnailCache, taxonomy: Taxonomy, parent=None):
        super().__init__(parent)
        self.thumbnails = thumbnails
        self.taxonomy = taxonomy
        self.annotator = ""
        self.verify_mode = False

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex) -> QSize:
        return QSize(260, ROW_HEIGHT)

    def label_line(self, row: ClipRow) -> tuple[str, QColor | None, bool]:
        """(text, colour or None for the normal text colour, italic) of the second line."""
        verified = row.verified_label()
        if verified is not None:
            return "✓ " + verified.summary(self.taxonomy), STAGE_COLORS["verified"].darker(120), False
        if row.stage == "rejected" and row.clip.review is not None:
            return f"✗ rejected: {row.clip.review.reason or ''}", WARN, False
        if self.verify_mode and row.clip.labels:
            return self.labels_text(row), None, False
        mine = row.label_of(self.annotator) if self.annotator else None
        if mine is not None:
            return LabelState.of(mine).summary(self.taxonomy), None, False
        if row.clip.labels:
            return (f"{'/'.join(row.annotators)}: " + row.resolved_label().summary(self.taxonomy),
                    QColor(110, 110, 120), False)
        if row.suggestions:
            return "suggested: " + self.suggestion_text(row), SUGGEST, True
        return "not labelled", QColor(140, 140, 150), True

    def labels_text(self, row: ClipRow) -> str:
        """The annotators' labels in one line; where they disagree, each value ("A | B")."""
        parts = []
        for axis in AXES:
            values: list[str] = []
            for lab in row.clip.labels:
                v = LabelState.of(lab).key_for(axis)
                text = (" → ".join(self._name(axis, k) for k in v) if axis == "movement"
                        else self._name(axis, v) if v else "")
                if text and text not in values:
                    values.append(text)
            parts.append(" | ".join(values) or "—")
        return " · ".join(parts)

    def suggestion_text(self, row: ClipRow) -> str:
        parts = []
        for axis in AXES:
            s = row.suggestions.get(axis)
            if s is None:
                continue
            names = " → ".join(self._name(axis, k) for k in s.keys)
            parts.append(names + (f" {s.confidence:.0%}" if s.confidence is not None else ""))
        return " · ".join(parts)

    def _name(self, axis: str, key: str) -> str:
        try:
            return self.taxonomy.get(axis, key).label
        except Exception:
            return key

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex) -> None:
        row: ClipRow | None = index.data(ROW_ROLE)
        if row is None:
            return super().paint(painter, option, index)
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        pal = option.palette
        rect = option.rect
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        if selected:
            painter.fillRect(rect, pal.color(QPalette.ColorRole.Highlight).lighter(175)
                             if not option.state & QStyle.StateFlag.State_HasFocus
                             else pal.color(QPalette.ColorRole.Highlight).lighter(160))
            painter.fillRect(QRect(rect.left(), rect.top(), 3, rect.height()),
                             pal.color(QPalette.ColorRole.Highlight))
        elif option.state & QStyle.StateFlag.State_MouseOver:
            painter.fillRect(rect, pal.color(QPalette.ColorRole.AlternateBase))
        painter.setPen(pal.color(QPalette.ColorRole.Midlight))
        painter.drawLine(rect.left(), rect.bottom(), rect.right(), rect.bottom())

        # thumbnail
        thumb = QRect(rect.left() + 8, rect.top() + (rect.height() - THUMB.height()) // 2,
                      THUMB.width(), THUMB.height())
        painter.fillRect(thumb, QColor(30, 30, 34))
        pixmap = self.thumbnails.get(row.id, row)
        if pixmap is not None and not pixmap.isNull():
            scaled = pixmap.size().scaled(thumb.size(), Qt.AspectRatioMode.KeepAspectRatio)
            target = QRect(0, 0, scaled.width(), scaled.height())
            target.moveCenter(thumb.center())
            painter.drawPixmap(target, pixmap)
        else:
            painter.setPen(QColor(130, 130, 140))
            painter.drawText(thumb, Qt.AlignmentFlag.AlignCenter,
                             "no image" if self.thumbnails.failed(row.id) else "…")

        # text block
        base = QFont(option.font)
        bold = QFont(base)
        bold.setBold(True)
        small = QFont(base)
        small.setPointSizeF(max(7.0, base.pointSizeF() * 0.86))
        fm, fms = QFontMetrics(base), QFontMetrics(small)
        x = thumb.right() + 10
        right = rect.right() - 8
        line_h = fm.height()
        top = rect.top() + (rect.height() - 3 * line_h - 2) // 2

        painter.setFont(bold)
        painter.setPen(pal.color(QPalette.ColorRole.Text))
        id_text = f"#{row.id}"
        painter.drawText(QRect(x, top, 1000, line_h), Qt.AlignmentFlag.AlignVCenter, id_text)
        name_x = x + QFontMetrics(bold).horizontalAdvance(id_text) + 6
        painter.setFont(base)
        name = fm.elidedText(row.source_name, Qt.TextElideMode.ElideMiddle, right - name_x)
        painter.setPen(pal.color(QPalette.ColorRole.Text).lighter(130))
        painter.drawText(QRect(name_x, top, right - name_x, line_h),
                         Qt.AlignmentFlag.AlignVCenter, name)

        text, color, italic = self.label_line(row)
        font2 = QFont(base)
        font2.setItalic(italic)
        painter.setFont(font2)
        painter.setPen(color or pal.color(QPalette.ColorRole.Text))
        painter.drawText(QRect(x, top + line_h + 1, right - x, line_h), Qt.AlignmentFlag.AlignVCenter,
                         QFontMetrics(font2).elidedText(text, Qt.TextElideMode.ElideRight, right - x))

        # third line: stage and disagreement on the right, length and annotators on the left
        y3 = top + 2 * line_h + 2
        pill_left = stage_pill(painter, right, y3, row.stage, small)
        disagree = row.disagreement
        warn = ("≠ " + ", ".join(disagree)) if disagree else ""
        warn_w = fms.horizontalAdvance(warn) + 8 if warn else 0
        if warn:
            painter.setFont(small)
            painter.setPen(WARN)
            painter.drawText(QRect(int(pill_left) - warn_w - 2, y3, warn_w, line_h),
                             Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignRight, warn)
        parts = [f"{row.frames} fr"]
        if row.duration_s is not None:
            parts.append(f"{row.duration_s:.1f} s")
        if row.annotators:
            parts.append(", ".join(row.annotators))
        meta = " · ".join(parts)
        painter.setFont(small)
        painter.setPen(pal.color(QPalette.ColorRole.PlaceholderText))
        avail = int(pill_left) - warn_w - 8 - x
        painter.drawText(QRect(x, y3, max(0, avail), line_h), Qt.AlignmentFlag.AlignVCenter,
                         fms.elidedText(meta, Qt.TextElideMode.ElideRight, max(0, avail)))
        painter.restore()

"""The strip of shot cards (thumbnail, number, type badges, duration) and the sequence bar.

`ShotListModel` shows the board's shots; dragging a card asks for a move (`moveRequested`), which
the tab turns into an undoable edit — the model itself never reorders. `ShotCardDelegate` paints
the cards: the active render's thumbnail (or a slate), a "changed" mark when the shot no longer
matches its render, problems, and the card of the shot under the playhead. `SequenceBar` is the
whole cut drawn to scale (one segment per shot) with the playhead; clicking it seeks.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from PySide6.QtCore import (QAbstractListModel, QByteArray, QMimeData, QModelIndex, QPoint, QRect, QRectF, QSize,
                            Qt, Signal)
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPainterPath, QPen, QPixmap
from PySide6.QtWidgets import QAbstractItemView, QListView, QStyle, QStyledItemDelegate, QWidget

from cinestudio.storyboard.model import Board, Shot
from cinestudio.taxonomy import Taxonomy

MIME = "application/x-cinestudio-shot-row"
ACCENT = QColor(47, 111, 222)
PLAYING = QColor(46, 190, 120)
STALE = QColor(230, 145, 30)
ERROR = QColor(220, 70, 60)
AXIS_COLOURS = {"framing": QColor(58, 110, 200), "angle": QColor(128, 84, 200), "movement": QColor(196, 120, 30)}
CARD_W, CARD_H = 200, 200
ShotRole = Qt.ItemDataRole.UserRole + 1


@dataclass
class CardState:
    """What a card shows besides the shot itself."""

    thumbnail: QPixmap | None = None
    stale: bool = False           # the shot changed since its active render
    rendering: float | None = None   # 0..1 while a render of it runs
    issues: list[str] = field(default_factory=list)
    backend: str | None = None


def class_label(taxonomy: Taxonomy | None, axis: str, key: str) -> str:
    if taxonomy is not None:
        try:
            return taxonomy.get(axis, key).label
        except Exception:
            pass
    return key.replace("_", " ").capitalize()


class ShotListModel(QAbstractListModel):
    moveRequested = Signal(int, int)     # from row, to row (the row the shot ends up at)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.board: Board | None = None
        self.taxonomy: Taxonomy | None = None
        self.states: dict[str, CardState] = {}
        self.playing_row: int | None = None

    # -- content -------------------------------------------------------------------------------

    def set_board(self, board: Board | None, taxonomy: Taxonomy | None = None) -> None:
        self.beginResetModel()
        self.board = board
        if taxonomy is not None:
            self.taxonomy = taxonomy
        if board is not None:
            keep = {s.id for s in board.shots}
            self.states = {k: v for k, v in self.states.items() if k in keep}
        self.endResetModel()

    def update_board(self, board: Board, shot_id: str | None = None) -> None:
        """Same shots in the same order: repaint one card (or all)."""
        self.board = board
        if shot_id is None:
            if self.rowCount():
                self.dataChanged.emit(self.index(0), self.index(self.rowCount() - 1))
            return
        row = self.row_of(shot_id)
        if row is not None:
            self.dataChanged.emit(self.index(row), self.index(row))

    def state(self, shot_id: str) -> CardState:
        st = self.states.get(shot_id)
        if st is None:
            st = self.states[shot_id] = CardState()
        return st

    def touch(self, shot_id: str) -> None:
        row = self.row_of(shot_id)
        if row is not None:
            self.dataChanged.emit(self.index(row), self.index(row))

    def set_playing(self, row: int | None) -> None:
        if row == self.playing_row:
            return
        old, self.playing_row = self.playing_row, row
        for r in (old, row):
            if r is not None and 0 <= r < self.rowCount():
                self.dataChanged.emit(self.index(r), self.index(r))

    def row_of(self, shot_id: str) -> int | None:
        if self.board is None:
            return None
        for i, s in enumerate(self.board.shots):
            if s.id == shot_id:
                return i
        return None

    def shot(self, row: int) -> Shot | None:
        if self.board is None or not 0 <= row < len(self.board.shots):
            return None
        return self.board.shots[row]

    # -- Qt model ------------------------------------------------------------------------------

    def rowCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: B008
        if parent.isValid() or self.board is None:
            return 0
        return len(self.board.shots)

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        shot = self.shot(index.row()) if index.isValid() else None
        if shot is None:
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return shot.title or f"Shot {index.row() + 1}"
        if role == ShotRole:
            return shot
        if role == Qt.ItemDataRole.ToolTipRole:
            st = self.states.get(shot.id)
            moves = " → ".join(class_label(self.taxonomy, "movement", m) for m in shot.movements)
            tip = (f"<b>{index.row() + 1}. {shot.title or 'Untitled'}</b><br>"
                   f"{class_label(self.taxonomy, 'framing', shot.framing)} · "
                   f"{class_label(self.taxonomy, 'angle', shot.angle)} · {moves}<br>"
                   f"{shot.duration_text(self.board.fps)} · seed {shot.seed}")
            if shot.prompt:
                tip += f"<br><i>{shot.prompt}</i>"
            if st is not None and st.issues:
                tip += "<br><span style='color:#d04a3c'>" + "<br>".join(st.issues) + "</span>"
            elif st is not None and st.stale:
                tip += "<br>Changed since its render — render again to see it."
            return tip
        return None

    def flags(self, index: QModelIndex) -> Qt.ItemFlag:
        base = Qt.ItemFlag.ItemIsEnabled
        if not index.isValid():
            return base | Qt.ItemFlag.ItemIsDropEnabled
        return base | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsDragEnabled

    def supportedDropActions(self) -> Qt.DropAction:
        return Qt.DropAction.MoveAction

    def supportedDragActions(self) -> Qt.DropAction:
        return Qt.DropAction.MoveAction

    def mimeTypes(self) -> list[str]:
        return [MIME]

    def mimeData(self, indexes) -> QMimeData:
        data = QMimeData()
        rows = sorted({i.row() for i in indexes if i.isValid()})
        data.setData(MIME, QByteArray(str(rows[0] if rows else -1).encode()))
        return data

    def canDropMimeData(self, data, action, row, column, parent) -> bool:
        return data.hasFormat(MIME)

    def dropMimeData(self, data: QMimeData, action, row: int, column: int, parent: QModelIndex) -> bool:
        """A card dropped before `row` (or on `parent`): ask for the move, reorder nothing here
        (returning False keeps the view from deleting the dragged row)."""
        if not data.hasFormat(MIME) or self.board is None:
            return False
        try:
            src = int(bytes(data.data(MIME)).decode())
        except ValueError:
            return False
        n = len(self.board.shots)
        if not 0 <= src < n:
            return False
        if row < 0:
            row = parent.row() if parent.isValid() else n
        dst = row - 1 if row > src else row
        dst = max(0, min(n - 1, dst))
        if dst != src:
            self.moveRequested.emit(src, dst)
        return False


def _pill(painter: QPainter, x: int, y: int, text: str, colour: QColor, fm: QFontMetrics, max_w: int,
          dark: bool) -> int:
    text = fm.elidedText(text, Qt.TextElideMode.ElideRight, max_w - 12)
    w = fm.horizontalAdvance(text) + 12
    h = fm.height() + 4
    path = QPainterPath()
    path.addRoundedRect(QRectF(x, y, w, h), h / 2, h / 2)
    fill = QColor(colour)
    fill.setAlpha(70 if dark else 38)
    painter.fillPath(path, fill)
    painter.setPen(QPen(colour.lighter(125) if dark else colour, 1))
    painter.drawPath(path)
    painter.setPen(colour.lighter(175) if dark else colour.darker(160))
    painter.drawText(QRect(x, y, w, h), Qt.AlignmentFlag.AlignCenter, text)
    return w


class ShotCardDelegate(QStyledItemDelegate):
    def __init__(self, model: ShotListModel, parent=None):
        super().__init__(parent)
        self.model = model

    def sizeHint(self, option, index) -> QSize:
        return QSize(CARD_W, CARD_H)

    def paint(self, painter: QPainter, option, index: QModelIndex) -> None:
        shot: Shot | None = index.data(ShotRole)
        if shot is None:
            return
        board = self.model.board
        st = self.model.states.get(shot.id) or CardState()
        row = index.row()
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        pal = option.palette
        rect = option.rect.adjusted(5, 6, -5, -6)
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        playing = self.model.playing_row == row
        hover = bool(option.state & QStyle.StateFlag.State_MouseOver)
        base = pal.color(pal.ColorRole.Base)
        bg = base.lighter(112) if base.lightness() < 128 else base.darker(104)
        if hover and not selected:
            bg = bg.lighter(108) if base.lightness() < 128 else bg.darker(103)
        card = QPainterPath()
        card.addRoundedRect(QRectF(rect), 8, 8)
        painter.fillPath(card, bg)
        border = ACCENT if selected else (PLAYING if playing else pal.color(pal.ColorRole.Mid))
        painter.setPen(QPen(border, 2.5 if (selected or playing) else 1))
        painter.drawPath(card)

        # thumbnail (or slate)
        m = 8
        tw = rect.width() - 2 * m
        th = int(tw * (board.height / board.width if board else 9 / 16))
        th = min(th, 104)
        trect = QRect(rect.left() + m, rect.top() + m, tw, th)
        clip = QPainterPath()
        clip.addRoundedRect(QRectF(trect), 5, 5)
        painter.save()
        painter.setClipPath(clip)
        if st.thumbnail is not None and not st.thumbnail.isNull():
            pm = st.thumbnail.scaled(trect.size(), Qt.AspectRatioMode.KeepAspectRatioByExpanding,
                                     Qt.TransformationMode.SmoothTransformation)
            painter.drawPixmap(trect, pm, QRect((pm.width() - tw) // 2, (pm.height() - th) // 2, tw, th))
        else:
            painter.fillRect(trect, QColor(30, 32, 38))
            if st.rendering is None:
                painter.setPen(QColor(140, 142, 152))
                painter.drawText(trect, Qt.AlignmentFlag.AlignCenter, "not rendered")
        if st.rendering is not None:
            painter.fillRect(trect, QColor(0, 0, 0, 120))
            bar = QRect(trect.left(), trect.bottom() - 5, int(tw * max(0.0, min(1.0, st.rendering))), 5)
            painter.fillRect(bar, ACCENT.lighter(120))
            painter.setPen(QColor(240, 240, 244))
            painter.drawText(trect, Qt.AlignmentFlag.AlignCenter, "rendering…")
        painter.restore()

        bold = QFont(option.font)
        bold.setBold(True)
        small = QFont(option.font)
        small.setPointSizeF(max(7.0, option.font.pointSizeF() * 0.82))
        fm_small = QFontMetrics(small)

        # number badge
        num = str(row + 1)
        painter.setFont(bold)
        bw = max(22, QFontMetrics(bold).horizontalAdvance(num) + 12)
        badge = QRectF(trect.left() + 5, trect.top() + 5, bw, 20)
        path = QPainterPath()
        path.addRoundedRect(badge, 6, 6)
        painter.fillPath(path, PLAYING if playing else ACCENT)
        painter.setPen(QColor(255, 255, 255))
        painter.drawText(badge, Qt.AlignmentFlag.AlignCenter, num)
        if st.stale and st.rendering is None:
            painter.setFont(small)
            text = "changed"
            w = fm_small.horizontalAdvance(text) + 12
            srect = QRectF(trect.right() - w - 5, trect.top() + 5, w, fm_small.height() + 4)
            p2 = QPainterPath()
            p2.addRoundedRect(srect, 5, 5)
            painter.fillPath(p2, STALE)
            painter.setPen(QColor(20, 20, 20))
            painter.drawText(srect, Qt.AlignmentFlag.AlignCenter, text)
        if st.backend == "diffusion" and st.rendering is None:
            painter.setFont(small)
            srect = QRectF(trect.right() - 24, trect.bottom() - 20, 20, 16)
            painter.setPen(QColor(255, 255, 255))
            painter.drawText(srect, Qt.AlignmentFlag.AlignCenter, "AI")

        # title
        y = trect.bottom() + 6
        painter.setFont(bold)
        fmb = QFontMetrics(bold)
        painter.setPen(pal.color(pal.ColorRole.Text))
        title = fmb.elidedText(shot.title or f"Shot {row + 1}", Qt.TextElideMode.ElideRight, tw)
        painter.drawText(QRect(trect.left(), y, tw, fmb.height()), Qt.AlignmentFlag.AlignLeft, title)
        y += fmb.height() + 4

        # type badges: framing and angle (wrapped when they do not fit), movements + duration
        painter.setFont(small)
        tax = self.model.taxonomy
        dark = base.lightness() < 128
        framing = class_label(tax, "framing", shot.framing)
        angle = class_label(tax, "angle", shot.angle)
        row_h = fm_small.height() + 8
        fw = fm_small.horizontalAdvance(framing) + 12
        aw = fm_small.horizontalAdvance(angle) + 12
        x = trect.left()
        x += _pill(painter, x, y, framing, AXIS_COLOURS["framing"], fm_small, tw, dark) + 4
        if fw + 4 + aw > tw:
            y += row_h
            x = trect.left()
        _pill(painter, x, y, angle, AXIS_COLOURS["angle"], fm_small, trect.right() - x, dark)
        y += row_h
        dur = shot.duration_text(board.fps) if board else ""
        dw = fm_small.horizontalAdvance(dur)
        moves = " → ".join(class_label(tax, "movement", mv) for mv in shot.movements)
        _pill(painter, trect.left(), y, moves, AXIS_COLOURS["movement"], fm_small, tw - dw - 8, dark)
        painter.setPen(pal.color(pal.ColorRole.PlaceholderText))
        painter.drawText(QRect(trect.left(), y, tw, fm_small.height() + 4),
                         Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, dur)
        y += row_h
        if st.issues:
            painter.setPen(ERROR)
            painter.drawText(QRect(trect.left(), y - 2, tw, fm_small.height()), Qt.AlignmentFlag.AlignLeft,
                             f"⚠ {len(st.issues)} problem{'s' if len(st.issues) > 1 else ''}")
        painter.restore()


class ShotStrip(QListView):
    """The horizontal strip of cards: select, drag to reorder, Delete to remove."""

    deleteRequested = Signal()
    activated_ = Signal(int)

    def __init__(self, model: ShotListModel, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("shot-strip")
        self.setModel(model)
        self.setItemDelegate(ShotCardDelegate(model, self))
        self.setViewMode(QListView.ViewMode.ListMode)
        self.setFlow(QListView.Flow.LeftToRight)
        self.setWrapping(False)
        self.setUniformItemSizes(True)
        self.setSpacing(0)
        self.setHorizontalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setDragEnabled(True)
        self.setAcceptDrops(True)
        self.setDropIndicatorShown(True)
        self.setDragDropMode(QAbstractItemView.DragDropMode.DragDrop)
        self.setDefaultDropAction(Qt.DropAction.MoveAction)
        self.setMouseTracking(True)
        self.setFixedHeight(CARD_H + 22)
        self.setFrameShape(QListView.Shape.NoFrame)

    def keyPressEvent(self, event) -> None:
        if event.key() in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace):
            self.deleteRequested.emit()
            return
        super().keyPressEvent(event)


class SequenceBar(QWidget):
    """The cut to scale: a segment per shot, the playhead, the playing shot lit; click to seek."""

    seekRequested = Signal(int)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("sequence-bar")
        self.ranges: list[tuple[int, int]] = []
        self.labels: list[str] = []
        self.total = 0
        self.playhead: int | None = None
        self.current: int | None = None
        self.selected: int | None = None
        self.setFixedHeight(30)
        self.setMouseTracking(True)
        self.setCursor(Qt.CursorShape.PointingHandCursor)

    def set_board(self, board: Board | None) -> None:
        if board is None:
            self.ranges, self.labels, self.total = [], [], 0
        else:
            self.ranges = board.shot_ranges()
            self.labels = [f"{i + 1}" + (f" {s.title}" if s.title else "") for i, s in enumerate(board.shots)]
            self.total = board.total_frames()
        self.update()

    def set_playhead(self, frame: int | None, current: int | None) -> None:
        self.playhead, self.current = frame, current
        self.update()

    def x_of(self, frame: float) -> float:
        return 0.0 if not self.total else frame * self.width() / self.total

    def paintEvent(self, _event) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        pal = self.palette()
        p.fillRect(self.rect(), pal.color(pal.ColorRole.Window).darker(115))
        if not self.total:
            p.setPen(pal.color(pal.ColorRole.PlaceholderText))
            p.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, "no shots")
            p.end()
            return
        fm = QFontMetrics(self.font())
        h = self.height()
        for i, (a, b) in enumerate(self.ranges):
            x0, x1 = self.x_of(a), self.x_of(b)
            seg = QRectF(x0 + 1, 3, max(1.0, x1 - x0 - 2), h - 6)
            colour = ACCENT.darker(140) if i % 2 == 0 else ACCENT.darker(170)
            if i == self.selected:
                colour = ACCENT
            if i == self.current:
                colour = PLAYING.darker(120)
            path = QPainterPath()
            path.addRoundedRect(seg, 4, 4)
            p.fillPath(path, colour)
            p.setPen(QColor(235, 236, 240))
            text = fm.elidedText(self.labels[i], Qt.TextElideMode.ElideRight, int(seg.width()) - 8)
            p.drawText(seg.adjusted(4, 0, -4, 0), Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft, text)
        if self.playhead is not None:
            x = self.x_of(self.playhead + 0.5)
            p.setPen(QPen(QColor(255, 255, 255), 2))
            p.drawLine(QPoint(int(x), 0), QPoint(int(x), h))
        p.end()

    def _seek(self, x: float) -> None:
        if self.total:
            self.seekRequested.emit(max(0, min(self.total - 1, int(x * self.total / max(1, self.width())))))

    def mousePressEvent(self, event) -> None:
        self._seek(event.position().x())

    def mouseMoveEvent(self, event) -> None:
        if event.buttons() & Qt.MouseButton.LeftButton:
            self._seek(event.position().x())

"""A horizontal stacked bar chart of class counts (pyqtgraph): one bar per class, one colour per
series (e.g. verified / labelled / suggested), class names on the left axis."""

from __future__ import annotations

from collections.abc import Sequence

import pyqtgraph as pg
from PySide6.QtGui import QColor, QFont, QPalette
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget


class BalanceChart(QWidget):
    def __init__(self, title: str, parent: QWidget | None = None, *, legend: bool = True):
        super().__init__(parent)
        self.title = QLabel(f"<b>{title}</b>")
        pal = self.palette()
        self.plot = pg.PlotWidget(background=pal.color(QPalette.ColorRole.Base))
        self.plot.setMenuEnabled(False)
        self.plot.setMouseEnabled(x=False, y=False)
        self.plot.hideButtons()
        self.plot.showGrid(x=True, y=False, alpha=0.25)
        item = self.plot.getPlotItem()
        text = pal.color(QPalette.ColorRole.Text)
        for name in ("left", "bottom"):
            axis = item.getAxis(name)
            axis.setTextPen(pg.mkPen(text))
            axis.setPen(pg.mkPen(pal.color(QPalette.ColorRole.Mid)))
            font = QFont(self.font())
            font.setPointSizeF(max(7.0, font.pointSizeF() * 0.9))
            axis.setStyle(tickFont=font)
        item.getAxis("left").setWidth(110)
        self.legend = QLabel()
        self.legend.setTextFormat(pg.QtCore.Qt.TextFormat.RichText)
        self.legend.setVisible(legend)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.title)
        layout.addWidget(self.plot, 1)
        layout.addWidget(self.legend)
        self.bars: list[pg.BarGraphItem] = []
        self.totals: dict[str, int] = {}

    def set_data(self, classes: Sequence[tuple[str, str]],
                 series: Sequence[tuple[str, QColor, dict[str, int]]]) -> None:
        """`classes`: (key, label) top to bottom; `series`: (name, colour, key -> count)."""
        item = self.plot.getPlotItem()
        for bar in self.bars:
            item.removeItem(bar)
        self.bars = []
        n = len(classes)
        ys = [n - 1 - i for i in range(n)]
        left = [0.0] * n
        self.totals = {key: 0 for key, _ in classes}
        for _name, color, counts in series:
            widths = [float(counts.get(key, 0)) for key, _ in classes]
            if not any(widths):
                continue
            bar = pg.BarGraphItem(x0=list(left), y=ys, width=widths, height=0.7,
                                  brush=pg.mkBrush(color), pen=pg.mkPen(color.darker(115)))
            item.addItem(bar)
            self.bars.append(bar)
            left = [a + b for a, b in zip(left, widths)]
        for (key, _), total in zip(classes, left):
            self.totals[key] = int(total)
        item.getAxis("left").setTicks([[(y, label) for y, (_, label) in zip(ys, classes)]])
        item.setYRange(-0.6, n - 0.4, padding=0)
        item.setXRange(0, max(1.0, max(left, default=1.0)) * 1.08, padding=0)
        self.legend.setText("&nbsp;&nbsp;".join(
            f"<span style='color:{c.name()}'>■</span> {name}" for name, c, _ in series))

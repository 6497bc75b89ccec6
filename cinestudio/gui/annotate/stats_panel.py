"""Where the dataset stands: clips per stage, class balance per axis, agreement (kappa).

The numbers come from the `dataset.stats` use-case (the same as ``cinestudio stats``), computed
in a worker; `refresh()` asks again (the tab calls it when the panel is shown after changes).
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (QFrame, QGridLayout, QHBoxLayout, QHeaderView, QLabel, QPushButton,
                               QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget)

from cinestudio.gui.annotate.clip_delegate import STAGE_COLORS
from cinestudio.gui.widgets.balance_chart import BalanceChart
from cinestudio.store.models import STAGES
from cinestudio.taxonomy import AXES, Taxonomy

SERIES = (("verified", "Verified", QColor(46, 150, 80)),
          ("labels", "Labelled, not yet reviewed", QColor(47, 111, 222)),
          ("prelabels", "Suggested (unlabelled)", QColor(235, 160, 60)))


def kappa_words(kappa: float | None) -> str:
    """Landis & Koch's reading of a kappa."""
    if kappa is None:
        return "—"
    for bound, words in ((0.0, "poor"), (0.2, "slight"), (0.4, "fair"), (0.6, "moderate"),
                         (0.8, "substantial")):
        if kappa <= bound:
            return words
    return "almost perfect"


class StageCard(QFrame):
    def __init__(self, title: str, color: QColor, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName(f"card-{title.lower()}")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setStyleSheet(f"#card-{title.lower()} {{ border: 1px solid palette(mid); "
                           f"border-left: 4px solid {color.name()}; border-radius: 4px; "
                           f"background: palette(base); }}")
        self.value = QLabel("–")
        self.value.setStyleSheet(f"font-size: 20pt; font-weight: 600; color: {color.name()};")
        caption = QLabel(title)
        caption.setStyleSheet("color: palette(placeholder-text);")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 6, 12, 6)
        layout.setSpacing(0)
        layout.addWidget(self.value)
        layout.addWidget(caption)


class StatsPanel(QWidget):
    refreshRequested = Signal()

    def __init__(self, taxonomy: Taxonomy, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("stats-panel")
        self.taxonomy = taxonomy
        self.data: dict[str, Any] | None = None
        self.cards: dict[str, StageCard] = {"total": StageCard("Total", QColor(60, 60, 70))}
        for st in STAGES:
            self.cards[st] = StageCard(st.capitalize(), STAGE_COLORS[st])
        cards = QHBoxLayout()
        for card in self.cards.values():
            cards.addWidget(card, 1)
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.clicked.connect(self.refreshRequested.emit)
        self.summary = QLabel()
        self.summary.setStyleSheet("color: palette(placeholder-text);")

        self.kappa = QTableWidget(len(AXES), 5)
        self.kappa.setObjectName("kappa-table")
        self.kappa.setHorizontalHeaderLabels(["κ", "Agreement", "Method", "Clips", "Disagree"])
        self.kappa.setVerticalHeaderLabels([a.capitalize() for a in AXES])
        self.kappa.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.kappa.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.kappa.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.kappa.setSelectionMode(QTableWidget.SelectionMode.NoSelection)
        self.kappa.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.kappa.setFixedHeight(self.kappa.horizontalHeader().sizeHint().height()
                                  + 3 * self.kappa.verticalHeader().defaultSectionSize() + 6)
        self.kappa.setToolTip("Inter-annotator agreement over clips with two or more annotators "
                              "on that axis: Cohen's kappa for two annotators, Fleiss' otherwise.")

        self.charts = {axis: BalanceChart(axis.capitalize(), legend=False)
                       for axis in AXES}
        self.legend = QLabel("&nbsp;&nbsp;&nbsp;".join(
            f"<span style='color:{c.name()}; font-size:14pt'>■</span> {name}"
            for _key, name, c in SERIES))
        charts = QGridLayout()
        charts.setHorizontalSpacing(14)
        for i, axis in enumerate(AXES):
            charts.addWidget(self.charts[axis], 0, i)

        head = QHBoxLayout()
        title = QLabel("<h3 style='margin:0'>Dataset statistics</h3>")
        head.addWidget(title)
        head.addWidget(self.summary, 1)
        head.addWidget(self.refresh_button)
        kappa_box = QVBoxLayout()
        kappa_box.addWidget(QLabel("<b>Inter-annotator agreement</b>"))
        kappa_box.addWidget(self.kappa)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 10, 12, 10)
        layout.setSpacing(10)
        layout.addLayout(head)
        layout.addLayout(cards)
        layout.addLayout(kappa_box)
        balance_head = QHBoxLayout()
        balance_head.addWidget(QLabel("<b>Class balance</b> <span style='color:gray'>— every "
                                      "class of the scheme, gaps included</span>"))
        balance_head.addStretch(1)
        balance_head.addWidget(self.legend)
        layout.addLayout(balance_head)
        layout.addLayout(charts, 1)

    def set_loading(self) -> None:
        self.summary.setText("Computing…")

    def set_error(self, message: str) -> None:
        self.summary.setText(f"Could not compute statistics: {message}")

    def set_stats(self, data: dict[str, Any], taxonomy: Taxonomy | None = None) -> None:
        self.data = data
        if taxonomy is not None:
            self.taxonomy = taxonomy
        clips = data.get("clips", {})
        for key, card in self.cards.items():
            card.value.setText(f"{clips.get(key, 0):,}")
        self.summary.setText(
            f"scheme {data.get('scheme')} · {data.get('sources', 0)} sources · "
            f"{data.get('labels', 0)} labels by {len(data.get('annotators', []))} annotators · "
            f"{data.get('reviews', 0)} reviews")
        for row, axis in enumerate(AXES):
            a = (data.get("agreement") or {}).get(axis) or {}
            kappa = a.get("kappa")
            cells = [f"{kappa:.3f}" if kappa is not None else "—", kappa_words(kappa),
                     {"cohen": "Cohen", "fleiss": "Fleiss"}.get(a.get("method"), "—"),
                     str(a.get("items", 0)), str(a.get("disagreements", 0))]
            for col, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
                self.kappa.setItem(row, col, item)
        balance = data.get("balance") or {}
        for axis in AXES:
            classes = [(c.key, c.label) for c in self.taxonomy.classes(axis)]
            series = [(name, color, (balance.get(key) or {}).get(axis) or {})
                      for key, name, color in SERIES]
            self.charts[axis].set_data(classes, series)

"""The clip list's filters: stage, label, annotator, pre-labels (confidence, disagreement) → a
`ClipFilter`."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QComboBox, QGridLayout, QLabel, QWidget

from cinestudio.store import ClipFilter
from cinestudio.store.models import STAGES
from cinestudio.taxonomy import AXES, Taxonomy

MINE = "\x00mine"          # annotator choice: labelled by me
NOT_MINE = "\x00not-mine"  # annotator choice: not yet labelled by me

CONFIDENCE_CHOICES: tuple[tuple[str, float | None, float | None], ...] = (
    ("Any confidence", None, None),
    ("Uncertain (< 50%)", None, 0.4999),
    ("Unsure (< 80%)", None, 0.7999),
    ("Confident (≥ 80%)", 0.8, None),
)
DISAGREE = "\x00disagree"  # pre-label choice: pre-labellers put different first choices on an axis


def _combo(name: str, tip: str) -> QComboBox:
    box = QComboBox()
    box.setObjectName(name)
    box.setToolTip(tip)
    box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
    box.setMinimumContentsLength(8)
    return box


class FilterBar(QWidget):
    changed = Signal()

    def __init__(self, taxonomy: Taxonomy, parent: QWidget | None = None):
        super().__init__(parent)
        self.me = ""
        self.stage = _combo("filter-stage", "Show clips at this stage")
        self.stage.addItem("All stages", None)
        for st in STAGES:
            self.stage.addItem(st.capitalize(), st)
        self.label = _combo("filter-label", "Clips some annotator labelled with this class")
        self.annotator = _combo("filter-annotator", "Clips labelled (or not yet) by an annotator")
        self.confidence = _combo("filter-confidence", "Clips with a pre-label of this confidence, or whose "
                                 "pre-labellers disagree (worth a careful look)")
        for text, lo, hi in CONFIDENCE_CHOICES:
            self.confidence.addItem(text, (lo, hi))
        # short, to fit the narrow box unelided; the item's tooltip says it in full
        self.confidence.addItem("Disagree", DISAGREE)
        self.confidence.setItemData(self.confidence.count() - 1, "Pre-labellers put different first choices on "
                                    "an axis (worth a careful look)", Qt.ItemDataRole.ToolTipRole)
        self.set_taxonomy(taxonomy)
        self.set_annotators([])
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setHorizontalSpacing(6)
        grid.setVerticalSpacing(4)
        for col, (text, box) in enumerate((("Stage", self.stage), ("Label", self.label))):
            grid.addWidget(self._caption(text), 0, 2 * col)
            grid.addWidget(box, 0, 2 * col + 1)
        for col, (text, box) in enumerate((("By", self.annotator), ("Conf.", self.confidence))):
            grid.addWidget(self._caption(text), 1, 2 * col)
            grid.addWidget(box, 1, 2 * col + 1)
        grid.setColumnStretch(1, 1)
        grid.setColumnStretch(3, 1)
        for box in (self.stage, self.label, self.annotator, self.confidence):
            box.currentIndexChanged.connect(lambda _i: self.changed.emit())

    @staticmethod
    def _caption(text: str) -> QLabel:
        label = QLabel(text)
        label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        label.setStyleSheet("color: palette(placeholder-text);")
        return label

    def set_taxonomy(self, taxonomy: Taxonomy) -> None:
        current = self.label.currentData()
        self.label.blockSignals(True)
        self.label.clear()
        self.label.addItem("Any label", None)
        for axis in AXES:
            self.label.insertSeparator(self.label.count())
            for cls in taxonomy.classes(axis):
                self.label.addItem(f"{cls.label}", cls.key)
                self.label.setItemData(self.label.count() - 1, f"{axis}: {cls.definition}",
                                       Qt.ItemDataRole.ToolTipRole)
        i = self.label.findData(current)
        self.label.setCurrentIndex(max(0, i))
        self.label.blockSignals(False)

    def set_annotators(self, names: list[str]) -> None:
        current = self.annotator.currentData()
        self.annotator.blockSignals(True)
        self.annotator.clear()
        self.annotator.addItem("Anyone", None)
        self.annotator.addItem("Me", MINE)
        self.annotator.addItem("Not yet me", NOT_MINE)
        self.annotator.insertSeparator(self.annotator.count())
        for name in names:
            self.annotator.addItem(name, name)
        i = self.annotator.findData(current)
        self.annotator.setCurrentIndex(max(0, i))
        self.annotator.blockSignals(False)

    def set_me(self, name: str) -> None:
        changed = name != self.me
        self.me = name
        if changed and self.annotator.currentData() in (MINE, NOT_MINE):
            self.changed.emit()

    def set_stage(self, stage: str | None) -> None:
        self.stage.setCurrentIndex(max(0, self.stage.findData(stage)))

    def clip_filter(self) -> ClipFilter:
        who = self.annotator.currentData()
        annotator = unlabelled_by = None
        if who == MINE:
            annotator = self.me or "\x00nobody"
        elif who == NOT_MINE:
            unlabelled_by = self.me or "\x00nobody"
        elif who:
            annotator = who
        pre = self.confidence.currentData()
        disagree = True if pre == DISAGREE else None
        lo, hi = (None, None) if pre == DISAGREE else (pre or (None, None))
        return ClipFilter(stage=self.stage.currentData(), label_key=self.label.currentData(),
                          annotator=annotator, unlabelled_by=unlabelled_by,
                          min_confidence=lo, max_confidence=hi, prelabels_disagree=disagree)

    def is_default(self) -> bool:
        return all(box.currentIndex() == 0 for box in
                   (self.stage, self.label, self.annotator, self.confidence))

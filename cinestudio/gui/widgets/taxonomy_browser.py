"""A read-only browser of the taxonomy: axes, classes, definitions and CameraCLIP prompts."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QLabel, QListWidget, QListWidgetItem, QSplitter, QTabWidget,
                               QVBoxLayout, QWidget)

from cinestudio.taxonomy import AXES, Taxonomy


class TaxonomyBrowser(QWidget):
    """One tab per axis; selecting a class shows its definition and prompts."""

    def __init__(self, taxonomy: Taxonomy, parent: QWidget | None = None):
        super().__init__(parent)
        self.taxonomy = taxonomy
        self.axis_tabs = QTabWidget()
        self.lists: dict[str, QListWidget] = {}
        for axis in AXES:
            lst = QListWidget()
            lst.setObjectName(f"taxonomy-{axis}")
            for cls in taxonomy.classes(axis):
                item = QListWidgetItem(cls.label)
                item.setData(Qt.ItemDataRole.UserRole, cls.key)
                item.setToolTip(cls.definition)
                lst.addItem(item)
            lst.currentItemChanged.connect(lambda cur, _prev, a=axis: self._show(a, cur))
            self.lists[axis] = lst
            self.axis_tabs.addTab(lst, f"{axis.capitalize()} ({lst.count()})")
        self.details = QLabel()
        self.details.setWordWrap(True)
        self.details.setTextFormat(Qt.TextFormat.RichText)
        self.details.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.details.setMargin(8)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.axis_tabs)
        split.addWidget(self.details)
        split.setSizes([260, 140])
        title = QLabel(f"<b>Taxonomy</b> — scheme <code>{taxonomy.scheme}</code>, {len(taxonomy)} classes")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(title)
        layout.addWidget(split)
        self.lists[AXES[0]].setCurrentRow(0)

    def _show(self, axis: str, item: QListWidgetItem | None) -> None:
        if item is None:
            return
        cls = self.taxonomy.get(axis, item.data(Qt.ItemDataRole.UserRole))
        prompts = "".join(f"<li>{p}</li>" for p in cls.prompts)
        self.details.setText(f"<b>{cls.label}</b> <code>{cls.key}</code><br>{cls.definition}"
                             f"<br><i>CameraCLIP prompts:</i><ul>{prompts}</ul>")

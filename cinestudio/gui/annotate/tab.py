"""The Annotate tab.

Foundation stage: an overview of the workspace (sources and clips, loaded off the UI thread) and
the taxonomy reference annotators label against. Labelling, verification and import come with
the dataset-workflow issue and will replace the notice at the top.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QSplitter, QVBoxLayout, QWidget

from cinestudio.gui.widgets.taxonomy_browser import TaxonomyBrowser
from cinestudio.taxonomy import Taxonomy


class AnnotateTab(QWidget):
    def __init__(self, workspace: Path, taxonomy: Taxonomy, parent: QWidget | None = None):
        super().__init__(parent)
        self.workspace = workspace
        self.notice = QLabel(
            "Labelling, verification and import arrive with the dataset-workflow issue. "
            "Here now: the workspace's clips and the taxonomy you will label with.")
        self.notice.setObjectName("annotate-notice")
        self.notice.setWordWrap(True)
        self.notice.setStyleSheet("padding: 6px; background: palette(alternate-base);")
        self.taxonomy_browser = TaxonomyBrowser(taxonomy)
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(self.taxonomy_browser)
        layout = QVBoxLayout(self)
        layout.addWidget(self.notice)
        layout.addWidget(self.splitter, 1)

    def set_workspace(self, workspace: Path) -> None:
        self.workspace = workspace

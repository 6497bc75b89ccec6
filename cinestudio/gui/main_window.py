"""The main window: one tab per job of the crew (Annotate, Train, Storyboard)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (QDialog, QFileDialog, QMainWindow, QMessageBox, QTabWidget,
                               QVBoxLayout, QWidget)

from cinestudio import __version__
from cinestudio.taxonomy import Taxonomy, load_taxonomy

TAB_NAMES = ("Annotate", "Train", "Storyboard")


class MainWindow(QMainWindow):
    def __init__(self, workspace: Path, taxonomy: Taxonomy | None = None,
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.workspace = workspace
        self.taxonomy = taxonomy or load_taxonomy()
        self.setWindowTitle(f"CineStudio — {workspace.name}")
        self.resize(1280, 800)
        self.tabs = QTabWidget()
        self.tabs.setObjectName("main-tabs")
        self.tabs.setDocumentMode(True)
        self.setCentralWidget(self.tabs)
        self._build_tabs()
        self._build_menus()
        self.statusBar().showMessage(f"Workspace: {workspace}")

    def _build_tabs(self) -> None:
        from cinestudio.gui.annotate.tab import AnnotateTab

        self.annotate_tab = AnnotateTab(self.workspace, self.taxonomy)
        self.tabs.addTab(self.annotate_tab, "Annotate")
        from cinestudio.gui.train.tab import TrainTab

        self.train_tab = TrainTab(self.workspace)
        self.tabs.addTab(self.train_tab, "Train")
        from cinestudio.gui.storyboard.tab import StoryboardTab

        self.storyboard_tab = StoryboardTab(self.workspace, self.taxonomy)
        self.tabs.addTab(self.storyboard_tab, "Storyboard")

    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        open_action = QAction("&Open workspace…", self)
        open_action.setShortcut(QKeySequence.StandardKey.Open)
        open_action.triggered.connect(self._choose_workspace)
        file_menu.addAction(open_action)
        file_menu.addSeparator()
        quit_action = QAction("&Quit", self)
        quit_action.setShortcut(QKeySequence.StandardKey.Quit)
        quit_action.triggered.connect(self.close)
        file_menu.addAction(quit_action)

        view_menu = self.menuBar().addMenu("&View")
        for index, name in enumerate(TAB_NAMES):
            action = QAction(name, self)
            action.setShortcut(QKeySequence(f"Ctrl+{index + 1}"))
            action.triggered.connect(lambda _checked=False, i=index: self.tabs.setCurrentIndex(i))
            view_menu.addAction(action)

        help_menu = self.menuBar().addMenu("&Help")
        reference = QAction("&Taxonomy reference", self)
        reference.setShortcut(QKeySequence("F1"))
        reference.triggered.connect(self.show_taxonomy)
        help_menu.addAction(reference)
        about = QAction("&About CineStudio", self)
        about.triggered.connect(lambda: QMessageBox.about(
            self, "About CineStudio",
            f"CineStudio {__version__}\nCinematic-language control for text-to-video diffusion."))
        help_menu.addAction(about)

    def show_taxonomy(self) -> QDialog:
        """The taxonomy's classes, definitions and CameraCLIP prompts, in a window of its own."""
        from cinestudio.gui.widgets.taxonomy_browser import TaxonomyBrowser

        dialog = QDialog(self)
        dialog.setWindowTitle("Taxonomy reference")
        dialog.resize(560, 520)
        layout = QVBoxLayout(dialog)
        dialog.browser = TaxonomyBrowser(self.annotate_tab.taxonomy)
        layout.addWidget(dialog.browser)
        dialog.show()
        return dialog

    def _choose_workspace(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Open workspace", str(self.workspace))
        if folder:
            self.open_workspace(Path(folder))

    def closeEvent(self, event) -> None:
        self.annotate_tab.shutdown()
        self.storyboard_tab.shutdown()
        self.train_tab.shutdown()
        super().closeEvent(event)

    def open_workspace(self, folder: Path) -> None:
        self.workspace = folder
        self.setWindowTitle(f"CineStudio — {folder.name}")
        self.statusBar().showMessage(f"Workspace: {folder}")
        self.annotate_tab.set_workspace(folder)
        self.storyboard_tab.set_workspace(folder)
        self.train_tab.set_workspace(folder)

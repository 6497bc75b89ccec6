"""The clip list's model: lazy, paged, loaded off the UI thread.

`load(ids_fn)` runs `ids_fn()` (the ids of the clips to list, in order: cheap even for 100,000
clips) in a worker; the model then shows nothing but grows page by page through the usual Qt
`canFetchMore` / `fetchMore` protocol as the view scrolls, each page's rows (labels, pre-labels,
source) read in a worker too. Opening a workspace of 10,000 clips therefore costs one id query
and one page. `update_rows` swaps in rows that changed (after a label is saved) and repaints
exactly them; `load` again after filters change.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from PySide6.QtCore import QAbstractListModel, QModelIndex, QPersistentModelIndex, Qt, Signal

from cinestudio.gui.annotate.backend import AnnotateBackend, ClipRow
from cinestudio.gui.workers import TaskRunner

ROW_ROLE = Qt.ItemDataRole.UserRole + 1
ID_ROLE = Qt.ItemDataRole.UserRole + 2

Index = QModelIndex | QPersistentModelIndex


class ClipListModel(QAbstractListModel):
    idsLoaded = Signal(int)          # total number of clips matching, once the ids are in
    pageLoaded = Signal(int, int)    # first row, number of rows
    loadFailed = Signal(str)

    def __init__(self, runner: TaskRunner, backend: AnnotateBackend, *, page_size: int = 100,
                 parent: Any = None):
        super().__init__(parent)
        self.runner = runner
        self.backend = backend
        self.page_size = page_size
        self._ids: list[int] = []
        self._rows: list[ClipRow] = []
        self._row_of: dict[int, int] = {}
        self._generation = 0
        self._fetching = False
        self._ids_pending = False
        self.annotator = ""
        self.pages_fetched = 0

    # -- loading ---------------------------------------------------------------------------

    def load(self, ids_fn: Callable[[], list[int]]) -> None:
        """Replace the list by the clips `ids_fn()` returns (run in a worker)."""
        self._generation += 1
        gen = self._generation
        self.beginResetModel()
        self._ids, self._rows, self._row_of = [], [], {}
        self._fetching = False
        self._ids_pending = True
        self.pages_fetched = 0
        self.endResetModel()
        self.runner.submit(ids_fn, name="clip-ids",
                           on_result=lambda ids: self._ids_arrived(gen, ids),
                           on_error=lambda exc: self._failed(gen, exc))

    def _ids_arrived(self, generation: int, ids: list[int]) -> None:
        if generation != self._generation:
            return
        self._ids_pending = False
        self._ids = list(ids)
        self.idsLoaded.emit(len(self._ids))
        if self.canFetchMore(QModelIndex()):
            self.fetchMore(QModelIndex())

    def _failed(self, generation: int, exc: BaseException) -> None:
        if generation != self._generation:
            return
        self._ids_pending = False
        self._fetching = False
        self.loadFailed.emit(str(exc))

    @property
    def loading(self) -> bool:
        return self._ids_pending or self._fetching

    @property
    def total(self) -> int:
        """Clips matching (known once the ids are in), whether their rows are loaded or not."""
        return len(self._ids)

    def ids(self) -> list[int]:
        return list(self._ids)

    def canFetchMore(self, parent: Index = QModelIndex()) -> bool:
        if parent.isValid():
            return False
        return not self._fetching and len(self._rows) < len(self._ids)

    def fetchMore(self, parent: Index = QModelIndex()) -> None:
        if not self.canFetchMore(parent):
            return
        start = len(self._rows)
        page = self._ids[start:start + self.page_size]
        self._fetching = True
        gen = self._generation
        self.runner.submit(self.backend.rows, page, name="clip-page",
                           on_result=lambda rows: self._page_arrived(gen, start, page, rows),
                           on_error=lambda exc: self._failed(gen, exc))

    def _page_arrived(self, generation: int, start: int, page: Sequence[int],
                      rows: list[ClipRow]) -> None:
        if generation != self._generation:
            return
        self._fetching = False
        by_id = {r.id: r for r in rows}
        # ids deleted meanwhile are dropped from the list
        gone = [cid for cid in page if cid not in by_id]
        if gone:
            dropped = set(gone)
            self._ids = self._ids[:start] + [c for c in self._ids[start:] if c not in dropped]
        rows = [by_id[cid] for cid in page if cid in by_id]
        if rows:
            first = len(self._rows)
            self.beginInsertRows(QModelIndex(), first, first + len(rows) - 1)
            for r in rows:
                self._row_of[r.id] = len(self._rows)
                self._rows.append(r)
            self.endInsertRows()
            self.pages_fetched += 1
            self.pageLoaded.emit(first, len(rows))
        elif self.canFetchMore():
            self.fetchMore()

    # -- rows --------------------------------------------------------------------------------

    def rowCount(self, parent: Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._rows)

    def row_at(self, row: int) -> ClipRow | None:
        return self._rows[row] if 0 <= row < len(self._rows) else None

    def row_of(self, clip_id: int) -> int | None:
        return self._row_of.get(clip_id)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        row = self._rows[index.row()]
        if role == ROW_ROLE:
            return row
        if role == ID_ROLE:
            return row.id
        if role == Qt.ItemDataRole.DisplayRole:
            return f"#{row.id} {row.source_name}"
        if role == Qt.ItemDataRole.ToolTipRole:
            return (f"Clip {row.id}: frames {row.clip.start_frame}–{row.clip.end_frame - 1} of "
                    f"{row.source_name}\nStage: {row.stage}"
                    + (f"\nLabelled by: {', '.join(row.annotators)}" if row.annotators else ""))
        return None

    def update_rows(self, rows: Sequence[ClipRow]) -> None:
        """Swap in changed rows and repaint exactly them."""
        for r in rows:
            i = self._row_of.get(r.id)
            if i is None:
                continue
            self._rows[i] = r
            index = self.index(i, 0)
            self.dataChanged.emit(index, index)

    def refresh_row(self, clip_id: int) -> None:
        i = self._row_of.get(clip_id)
        if i is not None:
            index = self.index(i, 0)
            self.dataChanged.emit(index, index)

    def set_annotator(self, annotator: str) -> None:
        """Whose labels the rows show; repaints the loaded rows."""
        self.annotator = annotator
        if self._rows:
            self.dataChanged.emit(self.index(0, 0), self.index(len(self._rows) - 1, 0))

"""The open board as an undoable document: every edit is a snapshot command on a QUndoStack.

`BoardDocument.edit(text, change, merge=...)` copies the board, lets `change` mutate the copy and
pushes a command holding the board before and after; undo and redo swap them back in. Edits that
share a `merge` key (typing in one field of one shot) merge into one undo step. `changed` fires
after every change of the board (edit, undo, redo, load) with what changed: ``"shots"`` when the
list of shots (order, count) changed, else ``"shot:<id>"`` or ``"board"``; views refresh that.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoCommand, QUndoStack

from cinestudio.storyboard.model import Board

_MERGE_ID = 0x5B0A


class _Snapshot(QUndoCommand):
    def __init__(self, doc: BoardDocument, text: str, before: Board, after: Board, what: str,
                 merge: str | None):
        super().__init__(text)
        self.doc, self.before, self.after, self.what, self.merge = doc, before, after, what, merge

    def id(self) -> int:  # noqa: A003 (Qt's name)
        return _MERGE_ID if self.merge else -1

    def mergeWith(self, other: QUndoCommand) -> bool:
        if not isinstance(other, _Snapshot) or other.merge != self.merge or not self.merge:
            return False
        self.after = other.after
        return True

    def redo(self) -> None:
        self.doc._set(self.after.copy(), self.what)

    def undo(self) -> None:
        self.doc._set(self.before.copy(), self.what)


class BoardDocument(QObject):
    changed = Signal(str)      # "shots", "shot:<id>", "board" or "loaded"

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self.board: Board | None = None
        self.undo_stack = QUndoStack(self)

    def load(self, board: Board | None) -> None:
        """Show another board (forgets the undo history)."""
        self.undo_stack.clear()
        self.board = board
        self.changed.emit("loaded")

    def edit(self, text: str, change: Callable[[Board], str | None], *, merge: str | None = None) -> bool:
        """Apply `change` to a copy of the board as one undoable step; `change` returns what it
        changed ("shots", "shot:<id>", "board"; None: nothing, no step is pushed)."""
        if self.board is None:
            return False
        before = self.board.copy()
        after = self.board.copy()
        what = change(after)
        if what is None:
            return False
        self.undo_stack.push(_Snapshot(self, text, before, after, what, merge))
        return True

    def _set(self, board: Board, what: str) -> None:
        board.id = self.board.id if self.board is not None else board.id
        board.base_dir = self.board.base_dir if self.board is not None else board.base_dir
        self.board = board
        self.changed.emit(what)

"""Undoable label changes: each one is saved to the store at once, and undone there too.

A `SetLabelCommand` knows the label before and after; redo writes `after`, undo writes `before`
(deleting the label when there was none). The writes go through the `LabelWriter` the tab
provides (a serial worker: the UI thread never waits on the database), which also updates the
views optimistically. A `DraftCommand` changes only the verify draft (nothing is stored until the
reviewer decides).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from PySide6.QtGui import QUndoCommand

from cinestudio.gui.annotate.backend import LabelState


class LabelWriter(Protocol):
    def write_label(self, clip_id: int, annotator: str, label: LabelState) -> None: ...


class SetLabelCommand(QUndoCommand):
    def __init__(self, writer: LabelWriter, clip_id: int, annotator: str, before: LabelState,
                 after: LabelState, text: str):
        super().__init__(text)
        self.writer, self.clip_id, self.annotator = writer, clip_id, annotator
        self.before, self.after = before, after

    def redo(self) -> None:
        self.writer.write_label(self.clip_id, self.annotator, self.after)

    def undo(self) -> None:
        self.writer.write_label(self.clip_id, self.annotator, self.before)


class DraftCommand(QUndoCommand):
    """A change to the reviewer's draft label of one clip (verify mode)."""

    def __init__(self, apply: Callable[[int, LabelState], None], clip_id: int,
                 before: LabelState, after: LabelState, text: str):
        super().__init__(text)
        self.apply, self.clip_id, self.before, self.after = apply, clip_id, before, after

    def redo(self) -> None:
        self.apply(self.clip_id, self.after)

    def undo(self) -> None:
        self.apply(self.clip_id, self.before)


def describe(axis: str, key: str, before: LabelState, after: LabelState) -> str:
    """The undo stack's text for a pick ("framing close_up", "movement − pan_left", ...)."""
    if axis == "movement":
        sign = "+" if key in after.movements and key not in before.movements else "−"
        return f"movement {sign} {key}"
    value = after.key_for(axis)
    return f"{axis} {value}" if value else f"clear {axis}"

"""The Storyboard tab with pytest-qt: add, duplicate, delete, reorder, edit, undo; render (previz, off
the UI thread); the preview's playback state; render history; export."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QMimeData, QModelIndex, Qt

from cinestudio.media.probe import probe
from cinestudio.store import open_workspace
from cinestudio.storyboard import service
from cinestudio.storyboard.model import Shot


def _shots() -> list[Shot]:
    return [Shot("Wide", framing="long_shot", movements=["pan_right"], duration=8, duration_unit="frames", seed=1,
                 id="sa000001"),
            Shot("Close", framing="close_up", movements=["static"], duration=6, duration_unit="frames", seed=2,
                 id="sa000002")]


@pytest.fixture
def sb_workspace(tmp_path):
    root = tmp_path / "ws"
    with open_workspace(root) as store:
        service.create_board(store, "Tab test", fps=12, width=96, height=54, shots=_shots())
    return root


@pytest.fixture
def sbtab(qtbot, sb_workspace, taxonomy, settings):
    from cinestudio.gui.storyboard.tab import StoryboardTab

    widget = StoryboardTab(sb_workspace, taxonomy, settings=settings)
    qtbot.addWidget(widget)
    widget.resize(1280, 800)
    widget.show()
    qtbot.waitExposed(widget)
    qtbot.waitUntil(lambda: widget.board is not None and widget.current_shot() is not None, timeout=5000)
    return widget


def _stored(workspace, tab) -> list[tuple[str, str]]:
    tab.save_now()
    assert tab.io.wait(5.0)
    with open_workspace(workspace) as store:
        board = service.load_board(store, "Tab test")
    return [(s.title, s.framing) for s in board.shots]


def test_add_duplicate_delete_undo_redo(qtbot, sbtab, sb_workspace):
    assert sbtab.model.rowCount() == 2 and sbtab.current_row() == 0
    qtbot.mouseClick(sbtab.add_button, Qt.MouseButton.LeftButton)
    assert sbtab.model.rowCount() == 3 and sbtab.current_row() == 1     # after the selected shot
    qtbot.mouseClick(sbtab.dup_button, Qt.MouseButton.LeftButton)
    assert sbtab.model.rowCount() == 4 and sbtab.current_shot().title.endswith("(copy)")
    assert len({s.id for s in sbtab.board.shots}) == 4
    sbtab.strip.setFocus()
    qtbot.keyClick(sbtab.strip, Qt.Key.Key_Delete)
    assert sbtab.model.rowCount() == 3
    sbtab.doc.undo_stack.undo()
    assert sbtab.model.rowCount() == 4
    qtbot.keyClick(sbtab, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert sbtab.model.rowCount() == 3
    for _ in range(3):
        sbtab.doc.undo_stack.undo()
    assert [s.title for s in sbtab.board.shots] == ["Wide", "Close"]
    assert _stored(sb_workspace, sbtab) == [("Wide", "long_shot"), ("Close", "close_up")]


def test_drag_to_reorder_is_one_undoable_step(qtbot, sbtab, sb_workspace):
    sbtab.add_shot(Shot("Third", id="sa000003"))                  # after the selected (first) shot
    assert [s.title for s in sbtab.board.shots] == ["Wide", "Third", "Close"]
    mime = sbtab.model.mimeData([sbtab.model.index(0)])
    assert mime.hasFormat("application/x-cinestudio-shot-row")
    # drop card 0 at the end of the strip (the view's drop: row = count)
    assert sbtab.model.dropMimeData(mime, Qt.DropAction.MoveAction, 3, 0, QModelIndex()) is False
    assert [s.title for s in sbtab.board.shots] == ["Third", "Close", "Wide"]
    assert sbtab.current_shot().title == "Wide"                      # the moved card stays selected
    assert sbtab.seqbar.ranges[-1] == (30, 38)                       # the cut follows the order
    sbtab.doc.undo_stack.undo()
    assert [s.title for s in sbtab.board.shots] == ["Wide", "Third", "Close"]
    sbtab.doc.undo_stack.redo()
    assert _stored(sb_workspace, sbtab)[2] == ("Wide", "long_shot")
    assert not sbtab.model.dropMimeData(QMimeData(), Qt.DropAction.MoveAction, 0, 0, QModelIndex())


def test_edit_in_the_inspector(qtbot, sbtab, sb_workspace):
    insp = sbtab.inspector
    insp.title.selectAll()
    qtbot.keyClicks(insp.title, "Opening")
    assert sbtab.board.shots[0].title == "Opening"
    assert sbtab.doc.undo_stack.count() == 1                         # typing merges into one step
    qtbot.mouseClick(insp.angle.buttons["low_angle"], Qt.MouseButton.LeftButton)
    qtbot.mouseClick(insp.movement.buttons["zoom_in"], Qt.MouseButton.LeftButton)
    shot = sbtab.board.shots[0]
    assert shot.angle == "low_angle" and shot.movements == ["pan_right", "zoom_in"]
    assert insp.movement.buttons["zoom_in"].order == 2              # numbered in the sequence
    assert "Low angle" in insp.angle.definition.text()              # the taxonomy's definition shows
    qtbot.mouseClick(insp.movement.buttons["pan_right"], Qt.MouseButton.LeftButton)
    assert sbtab.board.shots[0].movements == ["zoom_in"]
    insp.unit.setCurrentIndex(0)                                     # frames -> seconds keeps the length
    assert (sbtab.board.shots[0].duration_unit, sbtab.board.shots[0].frames(12)) == ("seconds", 8)
    insp.duration.setValue(0)
    assert "duration" in insp.issues.text() and sbtab.model.states["sa000001"].issues
    assert "problem" in sbtab.summary.text()
    sbtab.doc.undo_stack.undo()
    assert not insp.issues.isVisible()
    assert _stored(sb_workspace, sbtab)[0] == ("Opening", "long_shot")


def test_render_all_then_play_the_cut(qtbot, sbtab):
    assert sbtab.render_all() is not None
    assert sbtab.render_all_button.isEnabled() is False              # one render at a time
    qtbot.waitUntil(lambda: sbtab.render_task is None, timeout=30000)
    assert sbtab.last_error is None
    assert set(sbtab.active) == {"sa000001", "sa000002"}
    assert all(sbtab.model.states[s].thumbnail is not None for s in sbtab.active)
    assert "2/2 rendered" in sbtab.summary.text()
    qtbot.waitUntil(lambda: sbtab.preview_path is not None and sbtab.player.frame_count == 14, timeout=15000)
    assert probe(sbtab.preview_path).frames == 14
    player = sbtab.player
    player.pause()
    player.seek(9)                                                    # frame 9 is in shot 2
    qtbot.waitUntil(lambda: player.shown_index == 9, timeout=5000)
    assert sbtab.model.playing_row == 1 and sbtab.seqbar.current == 1
    assert sbtab.now_label.text().startswith("Shot 2/2 · Close · frame 2/6")
    player.step(-2)
    assert player.position == 7 and sbtab.model.playing_row == 0
    player.set_loop(True)
    player.play()
    qtbot.waitUntil(lambda: player.position < 7, timeout=5000)      # looped around
    assert player.playing
    player.pause()
    sbtab.set_preview_mode("shot")                                    # one shot: its frame range
    assert player.frame_count == 8 and sbtab.preview_range == (0, 8)
    sbtab.select_row(1)
    assert player.frame_count == 6 and sbtab.preview_range == (8, 14)
    # the shot's render history; a changed shot is marked and renders again
    sbtab.edit_field("seed", 77)
    assert sbtab.model.states["sa000002"].stale
    sbtab.render_selected()
    qtbot.waitUntil(lambda: sbtab.render_task is None, timeout=30000)
    assert not sbtab.model.states["sa000002"].stale
    qtbot.waitUntil(lambda: len(sbtab.history.renders) == 2, timeout=5000)
    older = sbtab.history.renders[1]
    sbtab.history.list.setCurrentRow(1)
    assert sbtab.history.use_button.isEnabled()
    sbtab.history.use_button.click()                                  # revert to the first take
    qtbot.waitUntil(lambda: sbtab.active["sa000002"].id == older.id, timeout=5000)
    assert sbtab.model.states["sa000002"].stale                       # seed 77 no longer matches it


def test_export_dialog_writes_the_files(qtbot, sbtab, tmp_path):
    sbtab.render_all()
    qtbot.waitUntil(lambda: sbtab.render_task is None, timeout=30000)
    dialog = sbtab.show_export_dialog()
    dialog.folder.setText(str(tmp_path / "export"))
    dialog.checks["gif"].setChecked(False)
    dialog.checks["clips"].setChecked(False)
    dialog.start()
    qtbot.waitUntil(lambda: dialog.result is not None or dialog.error is not None, timeout=20000)
    assert dialog.error is None and dialog.progress.value() == 100
    assert probe(tmp_path / "export" / "sequence.mp4").frames == 14
    assert (tmp_path / "export" / "contact-sheet.png").is_file()
    assert (tmp_path / "export" / "render.json").is_file() and not (tmp_path / "export" / "sequence.gif").exists()
    assert "Open folder" in dialog.status.text()
    dialog.close()


def test_render_refuses_a_board_with_problems(qtbot, sbtab):
    sbtab.edit_field("duration", 0.0)
    assert sbtab.render_selected() is None
    assert "Cannot render" in sbtab.status.text() and "at least one frame" in sbtab.status.text()

"""The Annotate tab end to end with pytest-qt: select, label by keyboard, autosave, undo/redo,
accept a suggestion, navigate, verify (accept / fix / reject), the annotator setting."""

from __future__ import annotations

from PySide6.QtCore import Qt

from cinestudio.gui.widgets.images import qimage_to_rgb
from cinestudio.store import open_workspace
from tests.helpers.videos import frame_number


def stored(workspace, clip_id, annotator="tess"):
    with open_workspace(workspace) as store:
        return store.labels.get(clip_id, annotator), store.clips.get(clip_id)


def label_is(workspace, clip_id, expected, annotator="tess"):
    lab, _ = stored(workspace, clip_id, annotator)
    if expected is None:
        return lab is None
    return lab is not None and (lab.framing, lab.angle, tuple(lab.movements)) == expected


def test_selecting_a_clip_shows_it_in_the_panel_and_the_player(qtbot, tab):
    assert tab.panel.title.text() == "Clip #1"
    assert "a.mp4" in tab.panel.meta.text()
    # the pre-label is offered, not applied
    assert tab.panel.suggestion_box.isVisible() and "Pan left" in tab.panel.suggestion.text()
    assert tab.state.empty
    qtbot.waitUntil(lambda: tab.player.shown_index == 0, timeout=5000)
    assert frame_number(qimage_to_rgb(tab.player.current_image())) == 0
    tab.select_row(1)                      # clip 2 = frames 15..29 of a.mp4
    assert tab.row.id == 2
    qtbot.waitUntil(lambda: tab.player.shown_index == 0, timeout=5000)
    assert frame_number(qimage_to_rgb(tab.player.current_image())) == 15


def test_label_by_keyboard_autosaves_and_undo_redo_revert_the_store(qtbot, tab, workspace):
    # 3 = medium_shot, Q = eye_level, S = pan_left, X = zoom_in (in that order)
    for key in (Qt.Key.Key_3, Qt.Key.Key_Q, Qt.Key.Key_S, Qt.Key.Key_X):
        qtbot.keyClick(tab.list, key)
    assert tab.state.movements == ("pan_left", "zoom_in")
    assert tab.panel.pickers["movement"].buttons["zoom_in"].order == 2
    qtbot.waitUntil(lambda: label_is(workspace, 1, ("medium_shot", "eye_level",
                                                    ("pan_left", "zoom_in"))), timeout=5000)
    assert stored(workspace, 1)[1].stage == "annotated"
    # the list row repaints with the saved label
    qtbot.waitUntil(lambda: tab.model.row_at(0).label_of("tess") is not None, timeout=5000)

    qtbot.keyClick(tab.list, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert tab.state.movements == ("pan_left",)
    qtbot.waitUntil(lambda: label_is(workspace, 1, ("medium_shot", "eye_level", ("pan_left",))),
                    timeout=5000)
    for _ in range(3):
        qtbot.keyClick(tab.list, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    # every change undone: the label is gone from the store and the clip is collected again
    qtbot.waitUntil(lambda: label_is(workspace, 1, None), timeout=5000)
    qtbot.waitUntil(lambda: stored(workspace, 1)[1].stage == "collected", timeout=5000)
    assert tab.state.empty

    qtbot.keyClick(tab.list, Qt.Key.Key_Z,
                   Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    qtbot.waitUntil(lambda: label_is(workspace, 1, ("medium_shot", None, ())), timeout=5000)


def test_picking_again_clears_static_excludes_and_backspace_drops_the_last_move(qtbot, tab):
    qtbot.keyClick(tab.list, Qt.Key.Key_3)
    qtbot.keyClick(tab.list, Qt.Key.Key_3)
    assert tab.state.framing is None
    for key in (Qt.Key.Key_S, Qt.Key.Key_X):
        qtbot.keyClick(tab.list, key)
    qtbot.keyClick(tab.list, Qt.Key.Key_A)          # static replaces the moves
    assert tab.state.movements == ("static",)
    qtbot.keyClick(tab.list, Qt.Key.Key_D)          # a move drops static
    qtbot.keyClick(tab.list, Qt.Key.Key_X)
    assert tab.state.movements == ("pan_right", "zoom_in")
    qtbot.keyClick(tab.list, Qt.Key.Key_Backspace)
    assert tab.state.movements == ("pan_right",)
    # the writes all land, in order
    qtbot.waitUntil(lambda: not tab._pending, timeout=5000)


def test_enter_accepts_the_suggestion(qtbot, tab, workspace):
    qtbot.keyClick(tab.list, Qt.Key.Key_Return)
    assert tab.state.movements == ("pan_left",)
    qtbot.waitUntil(lambda: label_is(workspace, 1, (None, None, ("pan_left",))), timeout=5000)


def test_j_and_k_move_through_the_clips(qtbot, tab):
    qtbot.keyClick(tab.list, Qt.Key.Key_J)
    assert tab.row.id == 2
    qtbot.keyClick(tab.list, Qt.Key.Key_J)
    assert tab.row.id == 3
    qtbot.keyClick(tab.list, Qt.Key.Key_K)
    assert tab.row.id == 2
    # clip 3 shows the current annotator's (empty) label, not someone else's
    qtbot.keyClick(tab.list, Qt.Key.Key_J)
    assert tab.state.empty and "ana" in tab.panel.meta.text()


def test_labels_need_an_annotator_name_which_is_remembered(qtbot, tab, settings):
    tab.set_annotator("")
    qtbot.keyClick(tab.list, Qt.Key.Key_3)
    assert tab.state.empty and "name" in tab.panel.status.text()
    tab.set_annotator("zoe")
    assert settings.value("annotate/annotator") == "zoe"
    qtbot.keyClick(tab.list, Qt.Key.Key_3)
    assert tab.state.framing == "medium_shot"
    qtbot.waitUntil(lambda: not tab._pending, timeout=5000)


def test_filters_narrow_the_list(qtbot, tab):
    box = tab.filters.stage
    box.setCurrentIndex(box.findData("annotated"))
    qtbot.waitUntil(lambda: tab.model.total == 2 and tab.model.rowCount() == 2, timeout=5000)
    assert [tab.model.row_at(i).id for i in range(2)] == [3, 4]
    box.setCurrentIndex(0)
    label = tab.filters.label
    label.setCurrentIndex(label.findData("low_angle"))
    qtbot.waitUntil(lambda: tab.model.total == 1 and tab.model.rowCount() == 1, timeout=5000)
    assert tab.model.row_at(0).id == 4
    label.setCurrentIndex(0)
    conf = tab.filters.confidence
    conf.setCurrentIndex(conf.findText("Confident (≥ 80%)"))
    qtbot.waitUntil(lambda: tab.model.total == 1 and tab.model.rowCount() == 1, timeout=5000)
    assert tab.model.row_at(0).id == 1


def test_verify_queue_puts_disagreements_first_and_records_decisions(qtbot, tab, workspace):
    tab.set_annotator("rita")
    tab.set_mode("verify")
    qtbot.waitUntil(lambda: tab.model.total == 2 and tab.model.rowCount() == 2, timeout=5000)
    assert [tab.model.row_at(i).id for i in range(2)] == [4, 3]   # disagreement first
    qtbot.waitUntil(lambda: tab.row is not None and tab.row.id == 4, timeout=5000)
    # ana and ben disagree on the angle: nothing to accept as is until it is settled
    assert not tab.panel.verify_box.accept_button.isEnabled()
    assert tab.panel.verify_box.table.rowCount() == 2
    tab.list.setFocus()
    qtbot.keyClick(tab.list, Qt.Key.Key_R)          # R = overhead: a fix of the angle
    assert tab.state.angle == "overhead"
    qtbot.keyClick(tab.list, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)   # draft undo
    assert tab.state.angle is None
    qtbot.keyClick(tab.list, Qt.Key.Key_R)
    qtbot.keyClick(tab.list, Qt.Key.Key_Return, Qt.KeyboardModifier.ShiftModifier)
    qtbot.waitUntil(lambda: stored(workspace, 4)[1].stage == "verified", timeout=5000)
    review = stored(workspace, 4)[1].review
    assert (review.decision, review.reviewer, review.angle) == ("fix", "rita", "overhead")
    # the queue moved on to clip 3, where they agree: Enter accepts
    qtbot.waitUntil(lambda: tab.row is not None and tab.row.id == 3, timeout=5000)
    assert tab.panel.verify_box.accept_button.isEnabled()
    qtbot.keyClick(tab.list, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: stored(workspace, 3)[1].stage == "verified", timeout=5000)
    assert stored(workspace, 3)[1].review.decision == "accept"
    # reject (with a reason) replaces a decision
    tab.ask_reason = lambda parent: "contains a cut"
    tab.select_clip(3)
    qtbot.keyClick(tab.list, Qt.Key.Key_Delete)
    qtbot.waitUntil(lambda: stored(workspace, 3)[1].stage == "rejected", timeout=5000)
    assert stored(workspace, 3)[1].review.reason == "contains a cut"
    qtbot.waitUntil(lambda: not tab.writer.pending(), timeout=5000)
    # an annotator who did not label them sees the verdicts, not an unlabelled clip
    tab.set_mode("annotate")
    tab.set_annotator("tess")
    qtbot.waitUntil(lambda: tab.model.total == 4 and not tab.model.loading, timeout=5000)
    tab.select_clip(4)
    qtbot.waitUntil(lambda: "Verified</b> by rita" in tab.panel.meta.text(), timeout=5000)
    assert "Overhead" in tab.panel.meta.text() and tab.state.empty
    tab.select_clip(3)
    qtbot.waitUntil(lambda: "Rejected by rita: contains a cut" in tab.panel.meta.text(), timeout=5000)


def test_stats_mode_shows_counts_balance_and_kappa(qtbot, tab):
    tab.set_mode("stats")
    qtbot.waitUntil(lambda: tab.stats_panel.data is not None, timeout=10000)
    panel = tab.stats_panel
    assert panel.cards["total"].value.text() == "4"
    assert panel.cards["annotated"].value.text() == "2"
    assert panel.kappa.item(0, 3).text() == "2"      # framing: 2 clips with two annotators
    assert panel.charts["angle"].totals["low_angle"] == 1
    tab.set_mode("annotate")
    assert tab.pages.currentWidget() is tab.splitter


def test_opening_another_workspace_shows_its_clips(qtbot, tab, tmp_path):
    tab.set_workspace(tmp_path / "empty")
    qtbot.waitUntil(lambda: tab._opened and not tab.model.loading, timeout=5000)
    assert tab.model.total == 0 and tab.row is None
    assert "no clips yet" in tab.player.view.message
    assert not tab.label_stack.canUndo()


def test_typing_a_caption_is_not_taken_for_shortcuts(qtbot, tab, workspace):
    tab.panel.caption.setFocus()
    qtbot.keyClicks(tab.panel.caption, "a slow pan")        # letters and space: text, not keys
    assert tab.state.empty and tab.player.playing is False
    qtbot.keyClick(tab.panel.caption, Qt.Key.Key_Return)    # saves the caption only
    assert tab.state.caption == "a slow pan" and tab.state.movements == ()
    qtbot.waitUntil(lambda: not tab._pending, timeout=5000)
    lab, _ = stored(workspace, 1)
    assert lab.caption == "a slow pan" and lab.movements == ()


def test_pre_labellers_that_disagree_are_shown_with_the_suggestion(qtbot, workspace, taxonomy, settings):
    from cinestudio.gui.annotate.tab import AnnotateTab
    from cinestudio.store import PrelabelSpec

    with open_workspace(workspace) as store:   # clip 1 has motion's "pan left" at 0.9
        store.prelabels.replace(1, "cameraclip", [PrelabelSpec("movement", "tracking", 0.6)])
        store.prelabels.replace(2, "motion", [PrelabelSpec("movement", "static", 0.8)])
        store.prelabels.replace(2, "cameraclip", [PrelabelSpec("movement", "static", 0.7)])
    settings.setValue("annotate/annotator", "tess")
    widget = AnnotateTab(workspace, taxonomy, settings=settings)
    qtbot.addWidget(widget)
    widget.show()
    qtbot.waitUntil(lambda: widget.row is not None and widget.row.id == 1, timeout=5000)
    text = widget.panel.suggestion.text()
    assert "Pan left" in text and "disagree" in text and "cameraclip says <b>Tracking</b> 60%" in text
    widget.select_row(1)                     # both origins say static: no warning
    qtbot.waitUntil(lambda: widget.row.id == 2, timeout=5000)
    assert "Static" in widget.panel.suggestion.text() and "disagree" not in widget.panel.suggestion.text()
    conf = widget.filters.confidence          # the list can show just the clips they disagree on
    conf.setCurrentIndex(conf.findText("Disagree"))
    qtbot.waitUntil(lambda: widget.model.total == 1 and widget.model.rowCount() == 1, timeout=5000)
    assert widget.model.row_at(0).id == 1

"""The import dialog runs the import use-case off the UI thread, with progress, cancel and a
report naming every failed file; the leak check catches a worker left running."""

from __future__ import annotations

import threading
import time

import pytest

from cinestudio.gui.annotate.import_dialog import ImportDialog
from cinestudio.gui.workers import ManagedThread, TaskRunner, live_workers
from tests.gui.conftest import assert_no_live_workers
from tests.helpers.videos import make_moving_video


def test_import_a_folder_with_a_corrupt_file(qtbot, tab, tmp_path):
    folder = tmp_path / "footage"
    make_moving_video(folder / "one.mp4", frames=30, size=(64, 48), fps=10, seed=5)
    make_moving_video(folder / "sub" / "two.mp4", frames=30, size=(64, 48), fps=10, seed=6)
    (folder / "broken.mp4").write_text("not a video at all")
    threads = []
    real = tab.backend.import_paths

    def spy(paths, **kwargs):
        threads.append(threading.current_thread())
        return real(paths, **kwargs)

    tab.backend.import_paths = spy
    dialog = tab.show_import_dialog([str(folder)])
    progress = []
    dialog.progress.valueChanged.connect(progress.append)
    with qtbot.waitSignal(dialog.imported, timeout=30000) as blocker:
        dialog.start_button.click()
        assert dialog.running and not dialog.close_button.isEnabled()
    report = blocker.args[0]
    assert threads and threads[0] is not threading.main_thread()
    assert [e["path"].rsplit("/", 1)[-1] for e in report["errors"]] == ["broken.mp4"]
    assert len(report["imported"]) == 2
    text = dialog.result.toPlainText()
    assert "broken.mp4" in text and "failed" in text
    assert dialog.progress.value() == dialog.progress.maximum() and progress
    assert dialog.close_button.isEnabled()
    # the list shows the new clips
    new = sum(len(e["clips"]) for e in report["imported"])
    qtbot.waitUntil(lambda: tab.model.total == 4 + new, timeout=5000)
    dialog.close()


def test_cancel_stops_the_import_and_keeps_its_report(qtbot, tab):
    started = threading.Event()

    def slow_import(paths, *, progress=None, should_stop=None):
        for k in range(1000):
            started.set()
            if should_stop():
                return {"imported": [{"path": "x.mp4", "clips": [9]}], "duplicates": [],
                        "errors": [], "already_imported": [], "cancelled": True}
            progress(k, 1000, f"file {k}")
            time.sleep(0.01)
        return {}

    tab.backend.import_paths = slow_import
    dialog = ImportDialog(tab.importer, tab.backend, tab)
    qtbot.addWidget(dialog)
    dialog.add_paths(["somewhere"])
    dialog.start()
    qtbot.waitUntil(lambda: "file" in dialog.message.text(), timeout=5000)
    dialog.close()                                   # closing while running asks to stop
    assert dialog.isVisible() or dialog.running
    with qtbot.waitSignal(dialog.imported, timeout=5000) as blocker:
        dialog.cancel()
    assert blocker.args[0]["cancelled"] and "Cancelled" in dialog.message.text()


def test_the_leak_check_fails_a_test_that_leaves_a_worker_running(qtbot):
    stop = threading.Event()

    class Sleeper(ManagedThread):
        def work(self):
            stop.wait(10)

    thread = Sleeper("sleeper")
    thread.start()
    qtbot.waitUntil(lambda: "thread:sleeper" in live_workers(), timeout=2000)
    threading.Timer(0.2, stop.set).start()
    with pytest.raises(pytest.fail.Exception, match="leaked running workers: thread:sleeper"):
        assert_no_live_workers()
    thread.wait()
    assert live_workers() == []


def test_task_runner_delivers_results_on_the_ui_thread_and_drops_cancelled_ones(qtbot):
    runner = TaskRunner(max_threads=2)
    got, where = [], []
    gate = threading.Event()
    runner.submit(lambda: 41 + 1, on_result=lambda v: (got.append(v),
                                                        where.append(threading.current_thread())))
    slow = runner.submit(lambda: gate.wait(5) and "late", on_result=got.append)
    slow.cancel()
    gate.set()
    qtbot.waitUntil(lambda: not runner.pending(), timeout=5000)
    assert got == [42] and where == [threading.main_thread()]
    runner.shutdown()

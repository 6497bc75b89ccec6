"""The clip list's model is lazy: ids first, then rows page by page as the view asks."""

from __future__ import annotations

import hashlib

import pytest
from PySide6.QtWidgets import QListView

from cinestudio.gui.annotate.backend import AnnotateBackend
from cinestudio.gui.annotate.clip_model import ROW_ROLE, ClipListModel
from cinestudio.gui.workers import TaskRunner
from cinestudio.store import ClipFilter, open_workspace


@pytest.fixture(scope="module")
def big_workspace(tmp_path_factory):
    """250 clips (rows only: the model never decodes anything); the tests only read it."""
    tmp_path = tmp_path_factory.mktemp("big")
    root = tmp_path / "big"
    with open_workspace(root) as store:
        src, _ = store.sources.add(path=str(tmp_path / "none.mp4"), size_bytes=1, fps=25.0,
                                   content_sha256=hashlib.sha256(b"x").hexdigest(), frames=10_000)
        store.clips.add_many(src.id, [(i * 10, i * 10 + 10) for i in range(250)])
    return root


class CountingBackend(AnnotateBackend):
    def __init__(self, workspace):
        super().__init__(workspace)
        self.row_requests: list[int] = []

    def rows(self, ids):
        self.row_requests.append(len(ids))
        return super().rows(ids)


@pytest.fixture
def model(qtbot, big_workspace):
    holder = QListView()
    qtbot.addWidget(holder)
    runner = TaskRunner(holder, max_threads=2)
    backend = CountingBackend(big_workspace)
    m = ClipListModel(runner, backend, page_size=100)
    yield m
    runner.shutdown()
    backend.close()


def test_opening_loads_the_ids_and_one_page_only(qtbot, model):
    with qtbot.waitSignal(model.pageLoaded, timeout=5000):
        model.load(lambda: model.backend.clip_ids(ClipFilter()))
    assert model.total == 250
    assert model.rowCount() == 100
    assert model.backend.row_requests == [100]
    assert model.canFetchMore()
    row = model.index(99, 0).data(ROW_ROLE)
    assert row.id == 100 and row.source_name == "none.mp4"


def test_fetch_more_adds_pages_until_the_end(qtbot, model):
    with qtbot.waitSignal(model.pageLoaded, timeout=5000):
        model.load(lambda: model.backend.clip_ids(ClipFilter()))
    for expected in (200, 250):
        with qtbot.waitSignal(model.pageLoaded, timeout=5000):
            model.fetchMore()
        assert model.rowCount() == expected
    assert not model.canFetchMore()
    assert model.backend.row_requests == [100, 100, 50]


def test_a_view_scrolled_to_the_bottom_fetches_the_next_page(qtbot, model):
    view = QListView()
    qtbot.addWidget(view)
    view.setUniformItemSizes(True)
    view.resize(300, 400)
    view.setModel(model)
    view.show()
    with qtbot.waitSignal(model.pageLoaded, timeout=5000):
        model.load(lambda: model.backend.clip_ids(ClipFilter()))
    view.scrollToBottom()
    qtbot.waitUntil(lambda: model.rowCount() >= 200, timeout=5000)


def test_update_rows_repaints_exactly_the_changed_row(qtbot, model):
    with qtbot.waitSignal(model.pageLoaded, timeout=5000):
        model.load(lambda: model.backend.clip_ids(ClipFilter()))
    changed = []
    model.dataChanged.connect(lambda a, b: changed.append((a.row(), b.row())))
    fresh = model.backend.row(7)
    model.update_rows([fresh])
    assert changed == [(6, 6)]


def test_a_new_load_drops_the_results_of_the_previous_one(qtbot, model):
    model.load(lambda: model.backend.clip_ids(ClipFilter()))
    with qtbot.waitSignal(model.idsLoaded, timeout=5000) as blocker:
        model.load(lambda: model.backend.clip_ids(ClipFilter(ids=(1, 2, 3))))
    assert blocker.args == [3]
    qtbot.waitUntil(lambda: model.rowCount() == 3, timeout=5000)
    qtbot.wait(100)
    assert model.rowCount() == 3 and model.total == 3

"""GUI test fixtures: a small workspace with real (tiny) videos, private QSettings, and a check
that fails any test leaving a worker thread or task running after its widgets closed."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest

from cinestudio.gui.workers import live_workers, wait_for_workers


def assert_no_live_workers() -> None:
    """Fail when a registered worker (task or managed thread) still runs; waits for it first
    so one test's leak cannot crash the next."""
    leaked = live_workers()
    if leaked:
        wait_for_workers(10.0)
        pytest.fail(f"test leaked running workers: {', '.join(leaked)}", pytrace=False)


@pytest.fixture(autouse=True)
def no_leaked_workers():
    """pytest-qt closes the test's widgets before fixtures tear down: by then every worker a
    widget started must have stopped (closeEvent → shutdown)."""
    yield
    assert_no_live_workers()


@pytest.fixture(autouse=True, scope="session")
def private_qsettings(tmp_path_factory):
    from PySide6.QtCore import QSettings

    folder = str(tmp_path_factory.mktemp("qsettings"))
    for fmt in (QSettings.Format.NativeFormat, QSettings.Format.IniFormat):
        QSettings.setPath(fmt, QSettings.Scope.UserScope, folder)
    yield


@pytest.fixture
def settings(tmp_path):
    from PySide6.QtCore import QSettings

    return QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


# The small workspace: two sources (tiny H.264 videos whose frames carry their own index),
# four clips. Clip ids are stable: 1, 2 (source a), 3, 4 (source b).
#   1: a[0, 15)   collected, motion pre-label pan_left 0.9
#   2: a[15, 30)  collected
#   3: b[0, 20)   annotated by ana and ben, who agree
#   4: b[20, 40)  annotated by ana and ben, who disagree on the angle
ANA = {"framing": "close_up", "angle": "eye_level", "movements": ["pan_left"]}


def _build_workspace(root: Path) -> Path:
    from cinestudio.store import PrelabelSpec, open_workspace
    from tests.helpers.videos import make_moving_video

    media = root / "videos"
    a = make_moving_video(media / "a.mp4", frames=30, size=(64, 48), fps=10, gop=8)
    b = make_moving_video(media / "b.mp4", frames=40, size=(64, 48), fps=10, gop=8, seed=1)
    with open_workspace(root / "ws") as store:
        src_a, _ = store.sources.add(path=str(a), content_sha256=_sha("a"), size_bytes=a.stat().st_size,
                                     frames=30, fps=10.0, width=64, height=48, codec="h264")
        src_b, _ = store.sources.add(path=str(b), content_sha256=_sha("b"), size_bytes=b.stat().st_size,
                                     frames=40, fps=10.0, width=64, height=48, codec="h264")
        c1, c2 = store.clips.add_many(src_a.id, [(0, 15), (15, 30)])
        c3, c4 = store.clips.add_many(src_b.id, [(0, 20), (20, 40)])
        store.prelabels.replace(c1.id, "motion", [PrelabelSpec("movement", "pan_left", 0.9)])
        store.labels.set(c3.id, "ana", **ANA)
        store.labels.set(c3.id, "ben", **ANA)
        store.labels.set(c4.id, "ana", **ANA)
        store.labels.set(c4.id, "ben", **{**ANA, "angle": "low_angle"})
        assert [c1.id, c2.id, c3.id, c4.id] == [1, 2, 3, 4]
    return root / "ws"


@pytest.fixture(scope="session")
def workspace_template(tmp_path_factory) -> Path:
    return _build_workspace(tmp_path_factory.mktemp("template"))


@pytest.fixture
def workspace(workspace_template, tmp_path) -> Path:
    """A fresh copy of the small workspace (its videos stay where the template made them)."""
    target = tmp_path / "ws"
    shutil.copytree(workspace_template, target)
    return target


@pytest.fixture
def taxonomy():
    from cinestudio.taxonomy import load_taxonomy

    return load_taxonomy()


@pytest.fixture
def tab(qtbot, workspace, taxonomy, settings):
    """The Annotate tab on the small workspace, shown, with its first clip selected."""
    from cinestudio.gui.annotate.tab import AnnotateTab

    settings.setValue("annotate/annotator", "tess")
    widget = AnnotateTab(workspace, taxonomy, settings=settings)
    qtbot.addWidget(widget)
    widget.resize(1280, 800)
    widget.show()
    qtbot.waitExposed(widget)
    widget.activateWindow()
    qtbot.waitUntil(lambda: widget.row is not None and widget.row.id == 1, timeout=5000)
    widget.list.setFocus()
    return widget

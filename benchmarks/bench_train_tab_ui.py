"""Is the Train tab's UI thread ever blocked while a training runs?

Opens the Train tab (offscreen) on a fresh workspace with 14 tiny clips, measures the event loop
with a 10 ms timer (`UiLatencyProbe`) for `--idle` seconds with nothing running (the baseline: what
this machine's load alone does to a Qt event loop), then starts a real CameraCLIP training from the
form and measures again until it has finished. Prints, for both phases, the largest gap between
timer ticks, the 99th percentile and how many gaps exceeded 50 ms; and the slowest of the tab's
own UI-thread handlers (wall clock and its own CPU time).

    QT_QPA_PLATFORM=offscreen python benchmarks/bench_train_tab_ui.py [--epochs 4] [--idle 10]

Goal: no handler over 50 ms, and the training phase's gaps no worse than the idle baseline's.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--epochs", type=int, default=4)
    ap.add_argument("--idle", type=float, default=10.0, help="Seconds of idle baseline.")
    ap.add_argument("--timeout", type=float, default=600.0)
    args = ap.parse_args(argv)

    from PySide6.QtCore import QEventLoop, QTimer
    from PySide6.QtWidgets import QApplication

    from cinestudio.gui.train.latency import UiLatencyProbe
    from cinestudio.gui.train.tab import TrainTab
    from cinestudio.store import open_workspace
    from tests.jobs.helpers import make_tiny_set

    app = QApplication.instance() or QApplication([])
    from cinestudio.gui.train.job_view import CurvePanel

    paints: list[float] = []
    base_paint = CurvePanel.paintEvent

    def timed_paint(self, event):  # how long the plots take to repaint (UI thread, not a handler)
        t = time.perf_counter()
        base_paint(self, event)
        paints.append((time.perf_counter() - t) * 1000)

    CurvePanel.paintEvent = timed_paint

    def spin(seconds: float, until=None) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and not (until and until()):
            loop = QEventLoop()
            QTimer.singleShot(50, loop.quit)
            loop.exec()

    with tempfile.TemporaryDirectory() as tmp:
        ws = Path(tmp) / "ws"
        make_tiny_set(ws / "sim")
        open_workspace(ws).close()
        tab = TrainTab(ws)
        tab.resize(1280, 760)
        tab.show()
        form = tab.form
        spin(20, lambda: form.start.isEnabled())
        form.epochs.setValue(args.epochs)
        form.batch.setValue(6)
        form.device.setCurrentText("cpu")
        form.extra = {"num_frames": 4}
        form.changed()
        spin(20, lambda: form.start.isEnabled())

        idle = UiLatencyProbe()
        idle.start()
        spin(args.idle)
        idle.stop()
        tab.controller.slowest_ms = tab.controller.slowest_cpu_ms = 0.0

        busy = UiLatencyProbe()
        busy.start()
        t0 = time.monotonic()
        form.start.click()
        job = lambda: tab.selected_job()  # noqa: E731
        spin(args.timeout, lambda: job() is not None and job().state in ("succeeded", "failed", "cancelled"))
        busy.stop()
        elapsed = time.monotonic() - t0
        state = job().state if job() else "none"
        c = tab.controller
        print(f"idle baseline   : {idle.summary()}")
        print(f"training ({state}, {elapsed:.0f} s, {tab.view.curves.points('loss')} loss points): {busy.summary()}")
        print(f"slowest tab handler: {c.slowest_ms:.1f} ms wall ({c.slowest_name}), "
              f"{c.slowest_cpu_ms:.1f} ms CPU")
        if paints:
            print(f"curve repaints: {len(paints)}, slowest {max(paints):.1f} ms, median {sorted(paints)[len(paints) // 2]:.1f} ms")
        ratio = busy.percentile(99) / max(1e-6, idle.percentile(99))
        print(f"p99 gap, training vs idle baseline: {ratio:.2f}×")
        tab.close()
        app.processEvents()
    return 0 if state == "succeeded" else 1


if __name__ == "__main__":
    sys.exit(main())

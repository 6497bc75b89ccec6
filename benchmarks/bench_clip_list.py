"""Opening the Annotate tab's clip list on a workspace of 10,000 clips.

    QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/bench_clip_list.py [--clips 10000]
        [--repeats 3] [--keep DIR]

The workspace: 200 sources (one small H.264 file on disk, registered 200 times under different
hashes) × 50 clips; every clip has a motion pre-label, one in five a human label. Building it is
not timed (`--keep DIR` keeps it for the next run).

Timed, each run in a fresh process state (a new tab, a new database connection pool):
- ``lazy`` (CineStudio's list): from constructing the `AnnotateTab` (workspace opened in a
  worker) until the list shows its first page and the first clip is selected in the panel;
- ``eager`` (the named baseline): what a non-lazy list must do before it can show anything,
  reading every clip's row (labels, pre-labels, source) — `backend.rows(all ids)`.

Goal (issue 4): the list opens in under a second with 10,000 clips. Prints the median times and
the ratio eager / lazy.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

GOAL_S = 1.0


def build(root: Path, clips: int) -> Path:
    from cinestudio.store import PrelabelSpec, open_workspace
    from tests.helpers.videos import make_moving_video

    ws = root / "ws"
    marker = ws / f".bench-{clips}"
    if marker.exists():
        return ws
    video = make_moving_video(root / "clip.mp4", frames=60, size=(160, 90), fps=25)
    per_source = 50
    with open_workspace(ws) as store:
        n = 0
        for s in range(clips // per_source):
            sha = hashlib.sha256(f"bench-{s}".encode()).hexdigest()
            with store.transaction() as tx:
                src, _ = tx.sources.add(path=str(video), content_sha256=sha, size_bytes=1,
                                        frames=60, fps=25.0, width=160, height=90, codec="h264",
                                        display_name=f"source_{s:04d}.mp4")
                recs = tx.clips.add_many(src.id, [(k, k + 8) for k in range(per_source)])
                tx.prelabels.replace_many("motion", {c.id: [PrelabelSpec("movement", "pan_left", 0.7)]
                                                     for c in recs})
                for c in recs[::5]:
                    tx.labels.set(c.id, "ana", framing="close_up", angle="eye_level",
                                  movements=["pan_left"])
            n += len(recs)
        assert n == clips, n
    marker.touch()
    return ws


def time_lazy(ws: Path) -> tuple[float, int, int]:
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from cinestudio.gui.annotate.tab import AnnotateTab
    from cinestudio.taxonomy import load_taxonomy

    app = QApplication.instance() or QApplication([])
    tax = load_taxonomy()
    settings = QSettings(str(ws.parent / "bench.ini"), QSettings.Format.IniFormat)
    t0 = time.perf_counter()
    tab = AnnotateTab(ws, tax, settings=settings)
    tab.resize(1280, 800)
    tab.show()
    deadline = t0 + 30
    while (tab.row is None or tab.model.rowCount() == 0) and time.perf_counter() < deadline:
        app.processEvents()
        time.sleep(0.001)
    app.processEvents()
    elapsed = time.perf_counter() - t0
    total, loaded = tab.model.total, tab.model.rowCount()
    tab.close()
    tab.deleteLater()
    app.processEvents()
    return elapsed, total, loaded


def time_eager(ws: Path) -> float:
    from cinestudio.gui.annotate.backend import AnnotateBackend
    from cinestudio.store import ClipFilter

    backend = AnnotateBackend(ws)
    t0 = time.perf_counter()
    backend.open()
    rows = backend.rows(backend.clip_ids(ClipFilter()))
    elapsed = time.perf_counter() - t0
    backend.close()
    assert rows
    return elapsed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clips", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--keep", type=Path, default=None, help="build/keep the workspace here")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        root = args.keep or Path(tmp)
        root.mkdir(parents=True, exist_ok=True)
        t0 = time.perf_counter()
        ws = build(root, args.clips)
        print(f"workspace of {args.clips:,} clips ready in {time.perf_counter() - t0:.1f} s")
        lazy, eager = [], []
        for _ in range(args.repeats):
            elapsed, total, loaded = time_lazy(ws)
            assert total == args.clips, (total, args.clips)
            lazy.append(elapsed)
            eager.append(time_eager(ws))
        lz, eg = statistics.median(lazy), statistics.median(eager)
        ok = lz < GOAL_S
        print(f"open the clip list ({args.clips:,} clips, first page of {loaded} rows shown and "
              f"the first clip selected): lazy {lz * 1e3:.0f} ms; eager baseline (read every "
              f"row) {eg * 1e3:.0f} ms -> {eg / lz:.1f}x faster than eager; goal < "
              f"{GOAL_S:.0f} s: {'met' if ok else 'MISSED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())

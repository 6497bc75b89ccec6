"""Import across processes: kill -9 in the middle, then a re-run; two importers at once."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cinestudio.media.encode import write_mp4
from cinestudio.store import open_workspace
from tests.helpers.photo_moves import PHOTOS, photo, photo_move

MOVES = ("pan_left", "pan_right", "tilt_up", "tilt_down", "zoom_in", "zoom_out")
N_FILES = 12
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def many(tmp_path_factory) -> Path:
    """N_FILES distinct single-shot videos (camera moves over different real photographs)."""
    d = tmp_path_factory.mktemp("many")
    for i in range(N_FILES):
        img = photo(PHOTOS[i % len(PHOTOS)])
        if img is None:
            pytest.skip("scikit-image's sample photographs are missing")
        frames = photo_move(img, MOVES[i % len(MOVES)], frames=30, size=(160, 96), rng=i)
        write_mp4(d / f"clip_{i:02d}.mp4", frames, fps=10)
    return d


def _import(ws: Path, folder: Path) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, "-m", "cinestudio", "--workspace", str(ws), "import",
                             str(folder), "--json"], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def _count(ws: Path, table: str) -> int:
    db = ws / "cinestudio.db"
    if not db.exists():
        return 0
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as con:
            return con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    except sqlite3.OperationalError:   # not created yet
        return 0


def _check_consistent(ws: Path) -> None:
    with sqlite3.connect(ws / "cinestudio.db") as con:
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    with open_workspace(ws) as store:
        for src in store.sources.all():
            clips = store.clips.find(source_id=src.id)
            assert len(clips) == 1, f"{src.path}: {len(clips)} clips"   # every file: one shot
            for c in clips:
                assert (store.paths.root / c.thumbnail_path).is_file()
                assert any(p.origin == "motion" for p in c.prelabels)


def test_kill_9_during_import_then_rerun_completes(tmp_path, many):
    ws = tmp_path / "ws"
    proc = _import(ws, many)
    deadline = time.monotonic() + 120
    while _count(ws, "sources") < 2:
        assert proc.poll() is None, f"import ended before it could be killed: {proc.stderr.read()}"
        assert time.monotonic() < deadline
        time.sleep(0.005)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL
    done = _count(ws, "sources")
    assert 2 <= done < N_FILES, "the kill should land in the middle of the import"
    _check_consistent(ws)

    rerun = _import(ws, many)
    out, err = rerun.communicate(timeout=300)
    assert rerun.returncode == 0, err
    report = json.loads(out)
    assert len(report["already_imported"]) + len(report["imported"]) == N_FILES
    assert len(report["imported"]) == N_FILES - len(report["already_imported"]) >= 1
    _check_consistent(ws)
    with open_workspace(ws) as store:
        assert store.sources.count() == N_FILES and store.clips.count() == N_FILES
        assert sorted(Path(s.path).name for s in store.sources.all()) == sorted(
            p.name for p in many.iterdir())


def test_two_importers_at_once_both_succeed_and_lose_nothing(tmp_path, many):
    ws = tmp_path / "ws"
    a, b = _import(ws, many), _import(ws, many)
    (out_a, err_a), (out_b, err_b) = a.communicate(timeout=300), b.communicate(timeout=300)
    assert a.returncode == 0, err_a
    assert b.returncode == 0, err_b
    ra, rb = json.loads(out_a), json.loads(out_b)
    names = lambda entries: {Path(e["path"]).name for e in entries}  # noqa: E731
    assert not names(ra["imported"]) & names(rb["imported"])                 # nothing twice
    assert names(ra["imported"]) | names(rb["imported"]) == {p.name for p in many.iterdir()}
    for r in (ra, rb):
        assert r["errors"] == [] and r["duplicates"] == []
        assert names(r["imported"]) | names(r["already_imported"]) == {p.name for p in many.iterdir()}
    _check_consistent(ws)
    with open_workspace(ws) as store:
        assert store.sources.count() == N_FILES and store.clips.count() == N_FILES

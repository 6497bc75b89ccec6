"""Shared by the jobs and Train-tab tests: tiny labelled clips, workers as subprocesses, waiting,
and the leak check (no test may leave a worker process or a reader thread running)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

from tests.cameraclip.clips import make_clips

VAL_FILES = ("pan_left_01.mp4", "zoom_in_01.mp4")

# A few seconds of real CameraCLIP training on 12 clips (4 frames, batch 6: 2 steps per epoch).
TINY_TRAIN = {"epochs": 3, "batch_size": 6, "num_frames": 4, "lr": 2e-3, "seed": 1,
              "log_every": 1, "evaluate": False, "scale_expert_clips": 0, "track_expert_clips": 0,
              "movement_cnn_epochs": 0}


def make_tiny_set(folder: Path) -> Path:
    """14 clips (7 movements × 2, 48 px, 16 frames) in the simulator's format; 2 are validation."""
    labels = make_clips(folder, per_move=2, seed=0)
    rows = [json.loads(x) for x in labels.read_text(encoding="utf-8").splitlines()]
    for row in rows:
        row["split"] = "val" if row["file"] in VAL_FILES else "train"
    labels.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return folder


def worker_cmd(workspace: Path, job_id: int, *extra: str) -> list[str]:
    return [sys.executable, "-m", "cinestudio.jobs.worker", str(job_id), "--workspace", str(workspace),
            "--threads", "1", *extra]


def start_worker(workspace: Path, job_id: int, *extra: str) -> subprocess.Popen:
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONUNBUFFERED="1")
    return subprocess.Popen(worker_cmd(workspace, job_id, *extra), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, env=env, text=True)


def wait_for(predicate: Callable[[], object], timeout: float = 60.0, interval: float = 0.1,
             what: str = "condition") -> object:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(interval)


def child_pids() -> set[int]:
    try:
        import psutil
    except ImportError:  # pragma: no cover
        me = str(os.getpid())
        out = set()
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if fields[1] == me and fields[0] not in ("Z", "X"):
                out.add(int(stat.parent.name))
        return out
    return {p.pid for p in psutil.Process().children(recursive=True) if p.status() != psutil.STATUS_ZOMBIE}


def job_threads() -> list[str]:
    return sorted(t.name for t in threading.enumerate() if t.is_alive() and t.name.startswith("job-"))


def check_no_leaks(before: set[int], settle_s: float = 3.0) -> list[str]:
    """Processes started during the test that still run (killed here), and job threads alive."""
    from cinestudio.jobs.runner import live_worker_processes

    deadline = time.monotonic() + settle_s
    while time.monotonic() < deadline and (child_pids() - before or job_threads() or live_worker_processes()):
        time.sleep(0.1)
    leaks = []
    for pid in child_pids() - before:
        leaks.append(f"process {pid}")
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    leaks += [f"thread {name}" for name in job_threads()]
    leaks += [f"worker pid {pid} (job {job}) not reaped by its runner" for pid, job in live_worker_processes().items()]
    return leaks

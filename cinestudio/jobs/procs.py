"""Processes and devices, without torch: is a worker alive, is there a GPU, which slot a job takes."""

from __future__ import annotations

import os
import sys
from datetime import datetime, timezone
from pathlib import Path

from cinestudio.store.jobs import this_host
from cinestudio.store.records import JobRecord

WORKER_MODULE = "cinestudio.jobs.worker"
STALE_HEARTBEAT_S = 180.0   # a job on another host with no heartbeat for this long is gone


def pid_alive(pid: int) -> bool:
    """The process exists and is not a zombie (a killed child nobody has waited for yet)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    try:
        state = stat.read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True   # no /proc (macOS): trust kill(0)
    return state not in ("Z", "X")


def is_worker(pid: int) -> bool:
    """`pid` is alive and (where /proc tells) runs a job worker — not a recycled pid."""
    if not pid_alive(pid):
        return False
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return True
    return WORKER_MODULE in cmdline or "jobs worker" in cmdline


def worker_alive(job: JobRecord, stale_after_s: float = STALE_HEARTBEAT_S) -> bool:
    """The liveness test for `JobRepository.mark_interrupted`: the pid on this host, the heartbeat
    elsewhere."""
    if job.host == this_host():
        return job.pid is not None and is_worker(job.pid)
    if job.heartbeat_at is None:
        return False
    beat = job.heartbeat_at if job.heartbeat_at.tzinfo else job.heartbeat_at.replace(tzinfo=timezone.utc)
    return (datetime.now(timezone.utc) - beat).total_seconds() < stale_after_s


def gpu_available() -> bool:
    """A CUDA GPU is visible (checked without importing torch; ``CINESTUDIO_GPU=0|1`` overrides)."""
    forced = os.environ.get("CINESTUDIO_GPU")
    if forced in ("0", "1"):
        return forced == "1"
    if os.environ.get("CUDA_VISIBLE_DEVICES", None) in ("", "-1"):
        return False
    gpus = Path("/proc/driver/nvidia/gpus")
    if gpus.is_dir():
        return any(gpus.iterdir())
    return sys.platform == "win32" and bool(os.environ.get("CUDA_PATH"))


def uses_gpu(device: str, device_class: str, gpu: bool | None = None) -> bool:
    """Whether a job with this device setting takes the GPU slot."""
    if device_class != "gpu" or device == "cpu":
        return False
    if device.startswith("cuda"):
        return True
    return gpu_available() if gpu is None else gpu


def resolved_device(device: str, device_class: str, gpu: bool | None = None) -> str:
    """``auto`` made concrete for the worker: cuda when the job takes the GPU, else cpu."""
    if device != "auto":
        return device
    return "cuda" if uses_gpu(device, device_class, gpu) else "cpu"


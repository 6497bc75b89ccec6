"""The jobs use-cases the CLI and the GUI share: submit, cancel, resume, recover, describe.

    job = submit(store, "clip-train", {"data": "media/demo-sim", "epochs": 5}, device="auto")
    cancel(store, job.id)          # queued: at once; running: the worker checkpoints and stops
    resume(store, job.id)          # cancelled / interrupted / failed: queued again, from its checkpoint
    recover(store)                 # running jobs whose worker is gone -> interrupted

A job's run folder (``WORKSPACE/runs/<kind>-<id>``) holds the use-case's own files plus
``events.jsonl`` (the protocol, `cinestudio.jobs.protocol`) and ``worker.log`` (its stderr).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from cinestudio.errors import UserInputError
from cinestudio.jobs.kinds import ValidationContext, check_device, get_kind
from cinestudio.jobs.procs import worker_alive
from cinestudio.jobs.protocol import EVENTS_NAME, STDERR_NAME, last_events, read_events
from cinestudio.store import JobRecord, WorkspaceStore

ACTIVE_STATES = ("queued", "running")


def validate(store: WorkspaceStore | None, kind: str, config: dict[str, Any], *,
             workspace: Path | None = None) -> dict[str, Any]:
    """The kind's checked, normalised configuration (raises UserInputError)."""
    if not isinstance(config, dict):
        raise UserInputError("config", "must be a JSON object")
    root = workspace if workspace is not None else store.paths.root  # type: ignore[union-attr]
    return get_kind(kind).validate(dict(config), ValidationContext(Path(root), store))


def submit(store: WorkspaceStore, kind: str, config: dict[str, Any], *, device: str = "auto") -> JobRecord:
    """Validate and queue a job; its run folder is ``runs/<kind>-<id>`` (created by the worker)."""
    device = check_device(device)
    spec = get_kind(kind)
    if spec.device_class == "cpu" and device.startswith("cuda"):
        raise UserInputError(device, f"{kind} jobs run on the CPU")
    checked = validate(store, kind, config)
    job = store.jobs.create(kind, checked, device=device)
    return store.jobs.set_run_dir(job.id, f"runs/{kind}-{job.id:04d}")


def cancel(store: WorkspaceStore, job_id: int) -> JobRecord:
    return store.jobs.request_cancel(job_id)


def resume(store: WorkspaceStore, job_id: int) -> JobRecord:
    job = store.jobs.get(job_id)
    if not get_kind(job.kind).resumable and job.state != "failed":
        raise UserInputError(f"job {job_id}", f"{job.kind} jobs cannot resume")
    return store.jobs.resume(job_id)


def recover(store: WorkspaceStore) -> list[JobRecord]:
    """Mark running jobs whose worker is gone (SIGKILL, reboot) as interrupted; call on start."""
    return store.jobs.mark_interrupted(worker_alive)


def run_path(store: WorkspaceStore | Path, job: JobRecord) -> Path | None:
    """The job's run folder as a path (absolute), or None."""
    if not job.run_dir:
        return None
    root = store if isinstance(store, Path) else store.paths.root
    path = Path(job.run_dir)
    return path if path.is_absolute() else root / path


def events_path(store: WorkspaceStore | Path, job: JobRecord) -> Path | None:
    run = run_path(store, job)
    return None if run is None else run / EVENTS_NAME


def job_events(store: WorkspaceStore | Path, job: JobRecord) -> list[dict[str, Any]]:
    path = events_path(store, job)
    return [] if path is None else read_events(path)


def eta_seconds(store: WorkspaceStore | Path, job: JobRecord) -> float | None:
    """Seconds left (the worker's estimate for its current phase, aged since it was sent)."""
    if job.state != "running":
        return None
    path = events_path(store, job)
    last = last_events(path, ("progress",)).get("progress") if path else None
    if not last or last.get("eta_s") is None:
        return None
    return max(0.0, float(last["eta_s"]) - max(0.0, time.time() - float(last.get("t", time.time()))))


def stderr_tail(store: WorkspaceStore | Path, job: JobRecord, lines: int = 20) -> str:
    run = run_path(store, job)
    if run is None or not (run / STDERR_NAME).is_file():
        return ""
    text = (run / STDERR_NAME).read_text(encoding="utf-8", errors="replace")
    return "\n".join(text.splitlines()[-lines:])


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def job_dict(store: WorkspaceStore | Path, job: JobRecord, *, eta: bool = True) -> dict[str, Any]:
    """A JSON-ready view of a job (``jobs list/show --json``)."""
    run = run_path(store, job)
    total = job.progress_total
    return {
        "id": job.id, "kind": job.kind, "state": job.state, "device": job.device,
        "progress": {"done": job.progress_done, "total": total,
                     "fraction": round(job.progress_done / total, 4) if total else None},
        "message": job.message, "error": job.error,
        "eta_s": round(e, 1) if eta and (e := eta_seconds(store, job)) is not None else None,
        "checkpoint_step": job.checkpoint_step, "attempts": job.attempts,
        "cancel_requested": job.cancel_requested, "pid": job.pid, "host": job.host,
        "run_dir": str(run) if run else None, "config": job.config, "result": job.result,
        "created_at": _iso(job.created_at), "started_at": _iso(job.started_at),
        "finished_at": _iso(job.finished_at), "heartbeat_at": _iso(job.heartbeat_at),
    }


__all__ = ["ACTIVE_STATES", "cancel", "eta_seconds", "events_path", "job_dict", "job_events", "recover",
           "resume", "run_path", "stderr_tail", "submit", "validate"]

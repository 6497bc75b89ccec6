"""What the Train tab asks of the workspace, as plain functions run in worker threads (`TaskRunner`):
list jobs, find training data, validate and submit a training, cancel, resume, pick the
pre-labelling model. Everything goes through `cinestudio.jobs.service` and the store; nothing here
imports torch or the models."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cinestudio.jobs import service
from cinestudio.jobs.clip_train import KIND as CLIP_TRAIN
from cinestudio.jobs.clip_train import MANIFEST_NAMES, WORKSPACE_PREFIX, WORKSPACE_STAGES, inspect_data
from cinestudio.store import JobRecord, WorkspaceStore
from cinestudio.store.settings import CAMERACLIP_RUN

SKIP_DIRS = {"runs", "thumbs", "cache", "__pycache__", ".git"}
MAX_DEPTH = 4


@dataclass(frozen=True)
class DataChoice:
    label: str          # what the combo box shows
    value: str          # the job's ``data`` (workspace-relative path, absolute path or workspace:STAGE)
    clips: int | None


@dataclass(frozen=True)
class JobsSnapshot:
    jobs: tuple[JobRecord, ...]
    active_model: str | None        # the CAMERACLIP_RUN setting, as stored


def snapshot(store: WorkspaceStore, limit: int = 200) -> JobsSnapshot:
    jobs = store.jobs.find(limit=limit, newest_first=True)
    active = store.settings.get(CAMERACLIP_RUN)
    return JobsSnapshot(tuple(jobs), None if active in (None, "") else str(active))


def recover(store: WorkspaceStore) -> list[JobRecord]:
    return service.recover(store)


def _count_lines(path: Path) -> int | None:
    try:
        with open(path, "rb") as fh:
            return sum(1 for line in fh if line.strip())
    except OSError:
        return None


def discover_data(store: WorkspaceStore) -> list[DataChoice]:
    """Simulator sets and exports inside the workspace, and its annotated / verified clips."""
    root = store.paths.root
    found: list[DataChoice] = []
    for folder, dirs, files in os.walk(root):
        depth = len(Path(folder).relative_to(root).parts)
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS and not d.startswith(".") and depth < MAX_DEPTH)
        for name in MANIFEST_NAMES:
            if name in files:
                rel = Path(folder).relative_to(root).as_posix() or "."
                kind = "simulator set" if name == "labels.jsonl" else "export"
                n = _count_lines(Path(folder) / name)
                found.append(DataChoice(f"{rel} — {kind}" + (f" ({n} clips)" if n is not None else ""), rel, n))
                break
    counts = store.clips.count_by_stage()
    for stage in WORKSPACE_STAGES:
        n = counts.get(stage, 0)
        found.append(DataChoice(f"Workspace clips: {stage} ({n}), exported when the job starts",
                                WORKSPACE_PREFIX + stage, n))
    return found


def describe_data(store: WorkspaceStore, data: str) -> dict[str, Any]:
    return inspect_data(data, store.paths.root, store=store)


def validate(store: WorkspaceStore, config: dict[str, Any]) -> dict[str, Any]:
    """The checked configuration plus a one-line summary of what would run."""
    checked = service.validate(store, CLIP_TRAIN, config)
    info = inspect_data(checked["data"], store.paths.root, checked.get("scheme") or "cinematic2k", store=store)
    return {"config": checked, "data": info}


def submit(store: WorkspaceStore, config: dict[str, Any], device: str) -> JobRecord:
    return service.submit(store, CLIP_TRAIN, config, device=device)


def cancel(store: WorkspaceStore, job_id: int) -> JobRecord:
    return service.cancel(store, job_id)


def resume(store: WorkspaceStore, job_id: int) -> JobRecord:
    return service.resume(store, job_id)


def use_for_prelabelling(store: WorkspaceStore, job_id: int) -> str:
    """Make the job's run the workspace's CameraCLIP (setting ``CAMERACLIP_RUN``); returns it."""
    job = store.jobs.get(job_id)
    run = service.run_path(store, job)
    if job.state != "succeeded" or run is None or not (run / "model.safetensors").is_file():
        from cinestudio.errors import UserInputError

        raise UserInputError(f"job {job_id}", "has no finished model to use")
    store.settings.set(CAMERACLIP_RUN, job.run_dir, actor="train-tab")
    return str(job.run_dir)

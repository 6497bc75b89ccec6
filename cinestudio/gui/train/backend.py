"""What the Train tab asks of the workspace, as plain functions run in worker threads (`TaskRunner`):
list jobs, find training data, validate and submit a training, cancel, resume, pick the
pre-labelling model. Everything goes through `cinestudio.jobs.service` and the store; nothing here
imports torch or the models."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cinestudio.jobs import service
from cinestudio.jobs.clip_train import KIND as CLIP_TRAIN
from cinestudio.jobs.clip_train import MANIFEST_NAMES, WORKSPACE_PREFIX, WORKSPACE_STAGES, inspect_data
from cinestudio.jobs.lora_train import LORA_KIND, queue_every_type
from cinestudio.store import JobRecord, WorkspaceStore
from cinestudio.store.settings import CAMERACLIP_RUN
from cinestudio.taxonomy import AXES, DEFAULT_SCHEME, load_taxonomy

SKIP_DIRS = {"runs", "thumbs", "cache", "__pycache__", ".git"}
MAX_DEPTH = 4


@dataclass(frozen=True)
class DataChoice:
    label: str          # what the combo box shows: short, so that it fits the form's width
    value: str          # the job's ``data`` (workspace-relative path, absolute path or workspace:STAGE)
    clips: int | None
    detail: str = ""    # the item's tooltip: what the label leaves out


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
                found.append(DataChoice(f"{rel} ({kind})", rel, n,
                                        f"{rel}/{name}: {kind}" + (f", {n} clips" if n is not None else "")))
                break
    counts = store.clips.count_by_stage()
    for stage in WORKSPACE_STAGES:
        n = counts.get(stage, 0)
        found.append(DataChoice(f"Workspace: {stage} clips ({n})", WORKSPACE_PREFIX + stage, n,
                                f"The workspace's {n} {stage} clips, exported into the run folder when the job starts"))
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


# -- CameraDiff LoRAs -------------------------------------------------------------------------------

PIPELINE_MARK = "model_index.json"   # a diffusers pipeline folder
# Mirrors of cameradiff.train_lora's names (the GUI must not import cameradiff; a test keeps them equal).
LORA_PREVIEWS = "previews"           # a LoRA run's preview GIFs
LORA_RUN_CONFIG = "config.json"      # a LoRA run's description ({"kind": "lora-train", "config": ...})


def discover_bases(store: WorkspaceStore) -> list[DataChoice]:
    """Diffusers pipeline folders in the workspace: `diff train-base` results under ``runs/``,
    `diff make-tiny` outputs, copies of real bases."""
    root = store.paths.root
    found: list[DataChoice] = []
    for folder, dirs, files in os.walk(root):
        rel = Path(folder).relative_to(root)
        if PIPELINE_MARK in files:
            found.append(DataChoice(f"{rel.as_posix()} — pipeline", rel.as_posix(), None))
            dirs[:] = []
            continue
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS - {"runs"} and not d.startswith(".")
                         and len(rel.parts) < MAX_DEPTH)
    return found


def validate_lora(store: WorkspaceStore, config: dict[str, Any]) -> dict[str, Any]:
    """The checked ``lora-train`` configuration and what its data holds."""
    checked = service.validate(store, LORA_KIND, config)
    info = inspect_data(checked["data"], store.paths.root, checked.get("scheme") or DEFAULT_SCHEME, store=store)
    return {"config": checked, "data": info}


def submit_lora(store: WorkspaceStore, config: dict[str, Any], device: str) -> JobRecord:
    return service.submit(store, LORA_KIND, config, device=device)


def submit_every_type(store: WorkspaceStore, config: dict[str, Any], device: str
                      ) -> tuple[list[JobRecord], list[dict[str, str]]]:
    """One job per class the data can train; the others come back as ``[{"type", "reason"}]``."""
    return queue_every_type(store, {k: v for k, v in config.items() if k != "type"}, device)


@dataclass(frozen=True)
class LoraTypeRow:
    """One class of the scheme and its newest LoRA: a ``lora-train`` job's, else a run folder made
    by ``cinestudio lora train`` outside the job system."""

    axis: str
    key: str
    label: str
    status: str                 # not trained / queued / running N % / trained / failed / ...
    job: JobRecord | None
    run: Path | None
    steps: int | None
    loss: float | None          # the final loss of a finished run
    preview: Path | None        # the newest preview GIF of the run


def lora_previews(run: Path | None) -> list[Path]:
    """A LoRA run's preview GIFs, oldest first (their names carry the step)."""
    folder = run / LORA_PREVIEWS if run is not None else None
    return sorted(folder.glob("*.gif")) if folder is not None and folder.is_dir() else []


def _newest_preview(run: Path | None) -> Path | None:
    gifs = lora_previews(run)
    return gifs[-1] if gifs else None


def _job_status(job: JobRecord) -> str:
    if job.state == "running" and job.progress_total:
        return f"running {100 * job.progress_done // max(1, job.progress_total)} %"
    return {"succeeded": "trained"}.get(job.state, job.state)


def _cli_runs(store: WorkspaceStore, taken: set[Path]) -> dict[str, tuple[Path, dict[str, Any]]]:
    """LoRA run folders under ``runs/`` that no job owns: {type: (run, its config.json)}, newest."""
    found: dict[str, tuple[float, Path, dict[str, Any]]] = {}
    runs = store.paths.root / "runs"
    for run in runs.iterdir() if runs.is_dir() else []:
        cfg = run / LORA_RUN_CONFIG
        if run.resolve() in taken or not cfg.is_file():
            continue
        try:
            info = json.loads(cfg.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if not isinstance(info, dict) or info.get("kind") != LORA_KIND:
            continue
        key = str((info.get("config") or {}).get("type"))
        stamp = cfg.stat().st_mtime
        if key not in found or stamp > found[key][0]:
            found[key] = (stamp, run, info)
    return {k: (run, info) for k, (_, run, info) in found.items()}


def lora_types(store: WorkspaceStore, scheme: str = DEFAULT_SCHEME) -> list[LoraTypeRow]:
    """Every class of the scheme, axis by axis, with its newest LoRA training."""
    tax = load_taxonomy(scheme)
    newest: dict[str, JobRecord] = {}
    taken: set[Path] = set()
    for job in store.jobs.find(kind=LORA_KIND, newest_first=True):
        newest.setdefault(str(job.config.get("type")), job)
        run = service.run_path(store, job)
        if run is not None:
            taken.add(run.resolve())
    cli = _cli_runs(store, taken)
    rows = []
    for axis in AXES:
        for c in tax.classes(axis):
            job = newest.get(c.key)
            if job is not None:
                run = service.run_path(store, job)
                result = job.result or {}
                rows.append(LoraTypeRow(axis, c.key, c.label, _job_status(job), job, run, result.get("steps"),
                                        (result.get("metrics") or {}).get("final_loss"), _newest_preview(run)))
            elif c.key in cli:
                run, info = cli[c.key]
                status = {"complete": "trained"}.get(str(info.get("status")), str(info.get("status")))
                rows.append(LoraTypeRow(axis, c.key, c.label, status, None, run, info.get("steps_done"),
                                        (info.get("metrics") or {}).get("final_loss"), _newest_preview(run)))
            else:
                rows.append(LoraTypeRow(axis, c.key, c.label, "not trained", None, None, None, None, None))
    return rows

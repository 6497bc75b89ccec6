"""Worker side of ``lora-train`` and ``diff-train-base``: the CameraDiff use-cases inside a job.

- a job that ran before resumes its run folder (same step count, same batches); metric lines
  logged after the last checkpoint are dropped first, so curves do not double back;
- the run folder is watched while training: new ``metrics.jsonl`` lines become ``metric``
  messages, a new ``checkpoints/last.safetensors`` (LoRA) or ``checkpoints/unet.safetensors``
  (base) a checkpoint, every new preview / sample GIF an artifact;
- at the end the LoRA file (or the trained ``pipeline/``) is an artifact.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cinestudio.jobs.clip_train import resolve_data
from cinestudio.jobs.clip_train_run import RunWatcher, checkpoint_step
from cinestudio.jobs.context import JobContext
from cinestudio.jobs.protocol import EVENTS_NAME, STDERR_NAME

# The worker writes these into the run folder before the training starts: not a run to resume.
JOB_FILES = (EVENTS_NAME, STDERR_NAME)


class _Watcher(RunWatcher):
    """`RunWatcher` (metrics, checkpoint) plus GIFs appearing in `folder`, and another checkpoint name."""

    def __init__(self, ctx: JobContext, folder: str, checkpoint: str):
        super().__init__(ctx)
        self.folder = ctx.run_dir / folder
        self.ckpt_name = checkpoint
        self.stamps[checkpoint] = self._stamp(checkpoint)
        self.seen = set(self._gifs())

    def _gifs(self) -> list[Path]:
        return sorted(self.folder.glob("*.gif")) if self.folder.is_dir() else []

    def poll(self) -> None:
        super().poll()
        if self.ckpt_name != "checkpoints/last.safetensors" and self._changed(self.ckpt_name):
            step = checkpoint_step(self.run / self.ckpt_name)
            if step is not None:
                self.ctx.checkpoint(step, self.ckpt_name)
        for gif in self._gifs():
            if gif not in self.seen:
                self.seen.add(gif)
                self.ctx.artifact("preview", self.ctx.rel(gif))


def _rel_run(ctx: JobContext) -> str:
    try:
        return str(ctx.run_dir.resolve().relative_to(ctx.workspace.resolve()))
    except ValueError:
        return str(ctx.run_dir)


def _base_ref(ref: str | None, ctx: JobContext) -> str | None:
    if not ref:
        return ref
    path = resolve_data(ref, ctx.workspace)
    return str(path) if path.exists() else ref


def run_lora(ctx: JobContext) -> dict[str, Any]:
    from cinestudio.cameradiff.train_lora import CONFIG_NAME, LoraTrainConfig, train_lora

    cfg = dict(ctx.config)
    resume = (ctx.run_dir / CONFIG_NAME).is_file()
    if resume:
        ctx.log(f"resuming the run from step {checkpoint_step(ctx.run_dir / 'checkpoints/last.safetensors') or 0}")
    config = LoraTrainConfig.from_dict({**cfg, "data": str(resolve_data(cfg["data"], ctx.workspace)),
                                        "base": _base_ref(cfg["base"], ctx), "out": str(ctx.run_dir),
                                        "device": ctx.device, "threads": ctx.threads,
                                        "motion_adapter": _base_ref(cfg.get("motion_adapter"), ctx)})
    watcher = _Watcher(ctx, "previews", "checkpoints/last.safetensors")

    def progress(done: int, total: int, message: str = "") -> None:
        ctx.progress(done, total, message, phase="prepare" if message.startswith("caching") else "train")
        watcher.poll()

    try:
        summary = train_lora(config, progress, ctx.should_stop, resume=resume, kept_files=JOB_FILES)
    finally:
        watcher.poll()
    ctx.artifact("lora", ctx.rel(summary["lora"]), summary.get("steps"))
    summary["run"] = _rel_run(ctx)
    summary["lora"] = ctx.rel(summary["lora"])
    return summary


def run_base(ctx: JobContext) -> dict[str, Any]:
    from cinestudio.cameradiff.train_base import CONFIG_NAME, UNET_CKPT, BaseTrainConfig, train_base

    cfg = dict(ctx.config)
    resume = (ctx.run_dir / CONFIG_NAME).is_file()
    if resume:
        ctx.log("resuming the run from its checkpoints")
    config = BaseTrainConfig.from_dict({**cfg, "data": str(resolve_data(cfg["data"], ctx.workspace)),
                                        "init": _base_ref(cfg.get("init"), ctx), "out": str(ctx.run_dir),
                                        "vae_from": _base_ref(cfg.get("vae_from"), ctx),
                                        "device": ctx.device, "threads": ctx.threads})
    watcher = _Watcher(ctx, "samples", str(UNET_CKPT))

    def progress(done: int, total: int, message: str = "") -> None:
        phase = "prepare" if message.startswith("caching") else ("vae" if message.startswith("VAE") else "train")
        ctx.progress(done, total, message, phase=phase)
        watcher.poll()

    try:
        summary = train_base(config, progress, ctx.should_stop, resume=resume, kept_files=JOB_FILES)
    finally:
        watcher.poll()
    ctx.artifact("pipeline", ctx.rel(summary["pipeline"]), summary.get("steps_done"))
    summary["run"] = _rel_run(ctx)
    summary["pipeline"] = ctx.rel(summary["pipeline"])
    return summary

"""Worker side of ``clip-train``: `cinestudio.cameraclip.train.train` inside a job.

- data ``workspace:STAGE`` is exported into ``RUN/data`` first (once; a resumed job reuses it);
- a job that ran before resumes the run folder (``train(..., resume=True)``): same step count, same
  data order; metric lines logged after the last checkpoint are dropped first, so curves do not
  double back;
- the run folder is watched while training: new ``metrics.jsonl`` lines become ``metric``
  messages, a new ``checkpoints/last.safetensors`` a checkpoint (the step read from its metadata),
  a redrawn ``training.png`` an artifact;
- at the end the model is evaluated on the validation clips (``RUN/eval``: ``confusion.png``, ``misread.png``,
  ``result.json``).
"""

from __future__ import annotations

import json
import os
from dataclasses import fields
from pathlib import Path
from typing import Any

from safetensors import safe_open

from cinestudio.fsutil import write_json_atomic, write_text_atomic
from cinestudio.jobs.clip_train import WORKSPACE_PREFIX, inspect_data, resolve_data
from cinestudio.jobs.context import JobContext
from cinestudio.taxonomy import AXES, DEFAULT_SCHEME, load_taxonomy

# The run folder's names, as cinestudio.cameraclip.train / .infer write them (a test keeps them
# equal). The model code loads with torch only once a job's data has passed its checks, so a job
# with bad data fails in a second, not after loading torch.
CONFIG_NAME = "config.json"
WEIGHTS_NAME = "model.safetensors"
LAST_CHECKPOINT = Path("checkpoints") / "last.safetensors"
METRICS_NAME = "metrics.jsonl"
PLOT_NAME = "training.png"
EVAL_DIR = "eval"
EVAL_RESULT = "result.json"
EVAL_CLIPS = "clips.jsonl"


def checkpoint_step(path: str | os.PathLike[str]) -> int | None:
    """The step stored in a checkpoint's metadata (reads the header only)."""
    try:
        with safe_open(str(path), framework="pt", device="cpu") as fh:
            return int((fh.metadata() or {}).get("step", 0))
    except Exception:
        return None


def metric_values(record: dict[str, Any]) -> dict[str, float]:
    """A metrics.jsonl record as flat numbers: loss, loss_<axis>, lr, val_r1.<axis>."""
    out: dict[str, float] = {}
    for key, value in record.items():
        if key in ("step", "epoch", "elapsed_s"):
            continue
        if isinstance(value, dict):
            for sub, v in value.items():
                if isinstance(v, (int, float)):
                    out[f"{key}.{sub}"] = float(v)
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            out[key] = float(value)
    return out


class RunWatcher:
    """Turns what `train` writes into the run folder into protocol messages."""

    def __init__(self, ctx: JobContext):
        self.ctx = ctx
        self.run = ctx.run_dir
        metrics = self.run / METRICS_NAME
        self.offset = metrics.stat().st_size if metrics.is_file() else 0
        self.stamps = {name: self._stamp(name) for name in (str(LAST_CHECKPOINT), PLOT_NAME)}

    def _stamp(self, name: str) -> int | None:
        try:
            return (self.run / name).stat().st_mtime_ns
        except FileNotFoundError:
            return None

    def _changed(self, name: str) -> bool:
        stamp = self._stamp(name)
        if stamp is not None and stamp != self.stamps.get(name):
            self.stamps[name] = stamp
            return True
        return False

    def poll(self) -> None:
        path = self.run / METRICS_NAME
        if path.is_file() and path.stat().st_size > self.offset:
            with open(path, "rb") as fh:
                fh.seek(self.offset)
                data = fh.read()
            complete = data[: data.rfind(b"\n") + 1]
            self.offset += len(complete)
            for line in complete.splitlines():
                try:
                    record = json.loads(line)
                except ValueError:
                    continue
                values = metric_values(record)
                if values:
                    self.ctx.metric(int(record.get("step", 0)), values)
        if self._changed(str(LAST_CHECKPOINT)):
            step = checkpoint_step(self.run / LAST_CHECKPOINT)
            if step is not None:
                self.ctx.checkpoint(step, str(LAST_CHECKPOINT))
        if self._changed(PLOT_NAME):
            self.ctx.artifact("plot", PLOT_NAME)


def _trim_metrics(run: Path, step: int) -> None:
    """Drop metric lines logged after `step` (the checkpoint a resumed run continues from)."""
    path = run / METRICS_NAME
    if not path.is_file():
        return
    keep = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            if int(json.loads(line).get("step", 0)) <= step:
                keep.append(line + "\n")
        except ValueError:
            continue
    write_text_atomic(path, "".join(keep))


def _data_path(ctx: JobContext) -> Path:
    data = str(ctx.config["data"])
    if not data.startswith(WORKSPACE_PREFIX):
        return resolve_data(data, ctx.workspace)
    stage = data[len(WORKSPACE_PREFIX):]
    out = ctx.run_dir / "data"
    if not (out / "manifest.jsonl").is_file():
        from cinestudio.dataset.export import export_dataset

        ctx.log(f"exporting the workspace's {stage} clips into {ctx.rel(out)}")
        report = export_dataset(ctx.store, out, stage=stage, overwrite=True, should_stop=ctx.should_stop,
                                progress=lambda d, t, m="": ctx.progress(d, t, m or "exporting", phase="export"))
        for err in report.errors:
            ctx.log(f"clip {err.get('clip_id')} not exported: {err.get('error')}", "warning")
        ctx.artifact("dataset", ctx.rel(out / "manifest.jsonl"))
    return out


def _evaluate(ctx: JobContext) -> dict[str, Any]:
    from cinestudio.cameraclip.data import load_items, split_items
    from cinestudio.cameraclip.evaluate import evaluate

    saved = json.loads((ctx.run_dir / CONFIG_NAME).read_text(encoding="utf-8"))
    cfg = saved.get("train", {})
    tax = load_taxonomy(saved.get("scheme") or DEFAULT_SCHEME)
    items = load_items(cfg["data"], tax)
    _, val = split_items(items, float(cfg.get("val_fraction", 0.1)))
    subset, split = (val, "validation") if val else (items, "training (no validation clips)")
    report = ctx.run_dir / EVAL_DIR
    manifest = report / EVAL_CLIPS
    report.mkdir(parents=True, exist_ok=True)
    write_text_atomic(manifest, "".join(json.dumps({
        "file": str(it.path), "start": it.start, "end": it.end, "caption": it.caption,
        **{a: list(it.labels[a]) for a in AXES}}) + "\n" for it in subset))
    ctx.log(f"evaluating on {len(subset)} {split} clips")
    result = evaluate(ctx.run_dir, manifest, report_dir=report, device=ctx.device,
                      progress=lambda d, t, m="": ctx.progress(d, t, "evaluating", phase="evaluate"),
                      should_stop=ctx.should_stop)
    result["split"] = split
    result["confusion_png"] = ctx.rel(result["confusion_png"])
    if result["misread_png"]:
        result["misread_png"] = ctx.rel(result["misread_png"])
    write_json_atomic(report / EVAL_RESULT, result)
    ctx.artifact("confusion", result["confusion_png"])
    if result["misread_png"]:
        ctx.artifact("misread", result["misread_png"])
    ctx.artifact("evaluation", ctx.rel(report / EVAL_RESULT))
    return {"split": split, "n": result["n"], "r1": result["r1"], "per_axis": result["per_axis"],
            "flip_rate": result["flips"]["rate"], "confusion_png": result["confusion_png"]}


def run(ctx: JobContext) -> dict[str, Any]:
    cfg = dict(ctx.config)
    data = _data_path(ctx)
    resume = (ctx.run_dir / CONFIG_NAME).is_file()
    # the data may have changed since the job was submitted: check it before loading torch
    inspect_data(str(data), ctx.workspace, cfg.get("scheme") or DEFAULT_SCHEME)
    from cinestudio.cameraclip.experts import PAIRS
    from cinestudio.cameraclip.train import TrainConfig, train

    expert_messages = tuple(f"{prefix}{p.title}" for p in PAIRS.values() for prefix in ("rendering ", "")) + ("movement CNN",)

    if resume:
        step = checkpoint_step(ctx.run_dir / LAST_CHECKPOINT) or 0
        _trim_metrics(ctx.run_dir, step)
        ctx.log(f"resuming the run from step {step}")
    names = {f.name for f in fields(TrainConfig)}
    config = TrainConfig.from_dict({**{k: v for k, v in cfg.items() if k in names}, "data": str(data),
                                    "out": str(ctx.run_dir), "device": ctx.device, "threads": ctx.threads})
    watcher = RunWatcher(ctx)

    def progress(done: int, total: int, message: str = "") -> None:
        phase = ("prepare" if message.startswith("caching")
                 else "expert" if message.startswith(expert_messages) else "train")
        ctx.progress(done, total, message, phase=phase)
        watcher.poll()

    try:
        summary = train(config, progress, ctx.should_stop, resume=resume)
    finally:
        watcher.poll()
    ctx.artifact("model", WEIGHTS_NAME, summary.get("steps"))
    if cfg.get("evaluate", True):
        summary["evaluation"] = _evaluate(ctx)
    try:
        summary["run"] = str(ctx.run_dir.resolve().relative_to(ctx.workspace.resolve()))
    except ValueError:
        summary["run"] = str(ctx.run_dir)
    return summary

"""Training one LoRA per cinematic type: `train_lora(config, progress, should_stop, resume)`.

A run is a folder (kohya_ss / OneTrainer style):

- ``config.json``   kind ``lora-train``, the exact `LoraTrainConfig`, the base's description, the
                    examples used (clips and label-true variants), status, ``lora_file``;
- ``metrics.jsonl`` one line per logged step (loss, lr) and per preview (the optical-flow verdict);
- ``previews/``     ``step_NNNNNN.gif`` samples rendered with the LoRA from a fixed seed;
- ``checkpoints/last.safetensors``  LoRA weights + optimizer state + step (every
                    ``checkpoint_every`` steps and when stopped); ``resume`` goes on from it with the
                    same step count and the same batches (batches and noise are drawn from
                    ``(seed, step)``, so a resumed run retraces the uninterrupted one);
- ``<type>.safetensors``  the LoRA (see `lora`): diffusers format, ``unet.`` prefix, metadata.

Objective: the usual noise-prediction MSE (or v-prediction, per the base's scheduler) of the
frozen base + LoRA on the VAE latents of the type's clips, with the LoRA on the motion modules for
movements and on spatial attention for framing and angle (`lora.AXIS_TARGET`; ``target``
overrides). Text per example: ``prompt`` mode ``class`` (default: one of the class's prompts,
``caption_dropout`` of the time empty), ``caption``, ``labels``, ``empty`` or a fixed text.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from collections.abc import Collection
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np

from cinestudio.cameradiff.noise import mixed_noise, warp_for
from cinestudio.cameradiff.train_base import base_config, trained_noise
from cinestudio.cpu_threads import training_threads
from cinestudio.errors import UserInputError
from cinestudio.fsutil import has_content, write_json_atomic
from cinestudio.progress import Cancelled, ProgressFn, StopFn, check_stop
from cinestudio.taxonomy import DEFAULT_SCHEME, load_taxonomy

KIND = "lora-train"
CONFIG_NAME = "config.json"
METRICS_NAME = "metrics.jsonl"
LAST_CHECKPOINT = Path("checkpoints") / "last.safetensors"
PREVIEWS = "previews"


@dataclass
class LoraTrainConfig:
    type: str
    data: str
    base: str
    out: str
    rank: int = 8
    alpha: float | None = None
    target: str = "auto"
    steps: int = 500
    lr: float = 1e-4
    weight_decay: float = 1e-2
    warmup_steps: int = 20
    batch_size: int = 1
    resolution: int | None = None  # square; None: the base's native size
    crop: float | None = None  # centre crop as in train-base (None: the base's own, from cinestudio_base.json)
    frames: int = 16
    seed: int = 0
    prompt: str = "class"
    caption_dropout: float = 0.1
    augment: bool = True
    preview_every: int = 100
    preview_steps: int = 20
    preview_prompt: str = ""
    preview_guidance: float = 7.5
    checkpoint_every: int = 100
    log_every: int = 10
    max_minutes: float | None = None
    max_clips: int | None = None
    device: str = "auto"
    threads: int | None = None
    motion_adapter: str | None = None
    gradient_checkpointing: bool = False
    scheme: str = DEFAULT_SCHEME

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LoraTrainConfig:
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})


def _holder(params: dict[str, Any]):
    """The LoRA tensors as one module (shared Parameters), for safetensors checkpoints."""
    import torch

    holder = torch.nn.Module()
    holder.p = torch.nn.ParameterDict({k.replace(".", "__"): v for k, v in params.items()})
    return holder


def _lr_at(step: int, base: float, warmup: int) -> float:
    return base * min(1.0, (step + 1) / max(1, warmup))


def _write_metrics(run: Path, record: dict) -> None:
    with open(run / METRICS_NAME, "a", encoding="utf-8") as fh:
        fh.write(json.dumps(record) + "\n")


def _trim_metrics(run: Path, step: int) -> None:
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
    from cinestudio.fsutil import write_text_atomic

    write_text_atomic(path, "".join(keep))


def _check_config(cfg: LoraTrainConfig) -> None:
    for name, lo in (("rank", 1), ("steps", 1), ("batch_size", 1), ("frames", 2), ("checkpoint_every", 1),
                     ("log_every", 1), ("preview_steps", 1)):
        if int(getattr(cfg, name)) < lo:
            raise UserInputError(f"--{name.replace('_', '-')}", f"must be at least {lo}")
    if not (0 < cfg.lr < 1):
        raise UserInputError("--lr", "must be between 0 and 1")
    if cfg.resolution is not None and cfg.resolution < 8:
        raise UserInputError("--resolution", "must be at least 8 pixels")


def preview(pipe, adapter: str, cfg: LoraTrainConfig, size: int, path: Path,
            noise: tuple[float, float] = (0.0, 0.0)) -> dict[str, Any]:
    """Render a sample with the LoRA (fixed seed; `noise`: the start noise's share and warp, as
    `diff render` takes them from the base), write it as a GIF, read its motion."""
    from cinestudio.cameradiff.compose import ComposeOptions, compose
    from cinestudio.cameradiff.lora import LoraRef
    from cinestudio.cameradiff.render import motion_verdict
    from cinestudio.media.encode import write_gif

    ref = LoraRef(path=Path(adapter), adapter=adapter, meta={"key": cfg.type})
    was_training = pipe.unet.training
    pipe.unet.eval()
    try:
        out = compose(pipe, cfg.preview_prompt, [ref], ComposeOptions(
            method="merge", steps=cfg.preview_steps, num_frames=cfg.frames, height=size, width=size,
            seed=cfg.seed, guidance_scale=cfg.preview_guidance, noise_share=noise[0], noise_warp=noise[1]))
    finally:
        pipe.unet.train(was_training)
    write_gif(path, list(out.frames), fps=8)
    return motion_verdict(out.frames)


def base_crop(trained: dict[str, Any]) -> float:
    """The centre crop of a `base_config` (1.0 for a base that is not a `train-base` one)."""
    try:
        return float(trained.get("crop", 1.0))
    except (TypeError, ValueError):
        return 1.0


def train_lora(cfg: LoraTrainConfig, progress: ProgressFn | None = None, should_stop: StopFn | None = None,
               resume: bool = False, kept_files: Collection[str] = ()) -> dict[str, Any]:
    """Train (or, with `resume`, continue) the LoRA of ``cfg.type``; returns a summary."""
    import torch
    import torch.nn.functional as F

    from cinestudio.cameraclip.checkpoint import load_checkpoint, save_checkpoint
    from cinestudio.cameradiff import data as dmod
    from cinestudio.cameradiff import lora as lmod
    from cinestudio.cameradiff.backend import BackendOptions, describe_pipeline, load_pipeline

    _check_config(cfg)
    progress = progress or (lambda d, t, m="": None)
    tax = load_taxonomy(cfg.scheme)
    axis = tax.axis_of(cfg.type)
    target = lmod.target_for(axis, cfg.target)
    run = Path(cfg.out)
    cfg_path = run / CONFIG_NAME
    ckpt = run / LAST_CHECKPOINT
    if resume:
        if not cfg_path.is_file():
            raise UserInputError(run, "nothing to resume (no config.json)")
        saved = json.loads(cfg_path.read_text(encoding="utf-8"))
        old = saved.get("config", {})
        for key in ("type", "base", "rank", "target", "frames", "resolution", "seed"):
            if key in old and old[key] != getattr(cfg, key) and not (key == "target" and old[key] == target):
                raise UserInputError(run, f"the run was made with {key}={old[key]!r}, not {getattr(cfg, key)!r}")
    elif has_content(run, kept_files):   # `kept_files`: what another tool keeps there (a job's protocol)
        raise UserInputError(run, "folder is not empty (use --resume to continue the run in it)")
    run.mkdir(parents=True, exist_ok=True)
    if cfg.threads:
        torch.set_num_threads(int(cfg.threads))
    torch.manual_seed(cfg.seed)

    pipe = load_pipeline(cfg.base, BackendOptions(device=cfg.device, dtype="float32",
                                                  motion_adapter=cfg.motion_adapter))
    device = pipe._execution_device
    # on CPU without --threads: 1 thread or all, whichever runs steps faster now (another process on
    # a core makes an all-core pool many times slower; cinestudio.cpu_threads)
    governor = training_threads(cfg.threads, device.type == "cpu", torch.set_num_threads, torch.get_num_threads)
    native = int(pipe.unet.config.sample_size) * int(pipe.vae_scale_factor)
    size = int(cfg.resolution or native)
    items, examples = dmod.load_examples(cfg.data, tax, cfg.type, cfg.augment, cfg.max_clips)
    for module in (pipe.unet, pipe.vae, pipe.text_encoder):
        module.requires_grad_(False)
    adapter = cfg.type
    targeted = lmod.add_lora(pipe.unet, adapter, cfg.rank, cfg.alpha, target)
    params = lmod.lora_parameters(pipe.unet, adapter)
    for p in params.values():
        p.requires_grad_(True)
    if cfg.gradient_checkpointing:
        pipe.unet.enable_gradient_checkpointing()
    holder = _holder(params)
    optim = torch.optim.AdamW(list(holder.parameters()), lr=cfg.lr, weight_decay=cfg.weight_decay)
    start = 0
    if resume and ckpt.is_file():
        start = load_checkpoint(ckpt, holder, optim)["step"]
        _trim_metrics(run, start)

    lora_file = f"{cfg.type}.safetensors"
    trained = base_config(cfg.base)
    noise_share, noise_warp = trained_noise(trained)
    info = {"kind": KIND, "format": 1, "config": asdict(cfg), "axis": axis, "target": target,
            "lora_file": lora_file, "status": "running", "base_info": describe_pipeline(pipe),
            "clips": len(items), "examples": len(examples), "variants": dmod.variant_counts(examples),
            "target_modules": len(targeted), "trainable_parameters": int(sum(p.numel() for p in params.values())),
            "resolution": size, "crop": base_crop(trained) if cfg.crop is None else cfg.crop,
            # the noise the base was trained on (train-base --noise-share/--noise-warp): the LoRA
            # learns under the same, and its previews start from it, as `diff render` does
            "noise_share": noise_share, "noise_warp": noise_warp}
    write_json_atomic(cfg_path, info)

    frames = dmod.ExampleFrames(run / "cache", cfg.frames, size, info["crop"])
    frames.warm(examples, lambda d, t, m: progress(d, t, m), should_stop)
    latents = dmod.LatentCache(pipe.vae, frames, device)
    noise_sched = _training_scheduler(pipe)
    kind = noise_sched.config.prediction_type
    text_cache: dict[str, Any] = {}

    def embed(text: str):
        if text not in text_cache:
            with torch.no_grad():
                emb, _ = pipe.encode_prompt(text, device, 1, False)
            text_cache[text] = emb
        return text_cache[text]

    t_start = time.perf_counter()
    losses: list[float] = []
    previews: list[dict] = []
    stopped = None
    pipe.unet.train()
    step = start

    def checkpoint(at: int) -> None:
        save_checkpoint(run / LAST_CHECKPOINT, holder, optim, step=at, extra={"type": cfg.type})

    def do_preview(at: int) -> None:
        path = run / PREVIEWS / f"step_{at:06d}.gif"
        path.parent.mkdir(parents=True, exist_ok=True)
        verdict = preview(pipe, adapter, cfg, size, path, (info["noise_share"], info["noise_warp"]))
        rec = {"step": at, "preview": str(path.relative_to(run)), "motion": verdict["verdict"],
               "motion_matches": verdict["verdict"] == cfg.type if axis == "movement" else None}
        previews.append(rec)
        _write_metrics(run, rec)

    try:
        if start == 0 and cfg.preview_every:
            do_preview(0)
        for step in range(start, cfg.steps):
            if should_stop is not None and should_stop():
                stopped = "cancelled"
                break
            if cfg.max_minutes is not None and time.perf_counter() - t_start > cfg.max_minutes * 60:
                stopped = "time limit"
                break
            governor.begin_step()
            rng = np.random.default_rng([cfg.seed, step, 0x10EA])
            batch = [examples[int(i)] for i in rng.integers(len(examples), size=cfg.batch_size)]
            x0 = latents.batch(batch)  # (B, C, T, h, w)
            gen = torch.Generator(device="cpu").manual_seed(int(cfg.seed) * 1_000_003 + step)
            shifts = [warp_for((ex.labels.get("movement") or [None])[0], info["noise_warp"]) for ex in batch] \
                if info["noise_warp"] else None
            noise = mixed_noise(tuple(x0.shape), gen, info["noise_share"], shifts).to(device)   # share 0: randn
            t = torch.randint(0, noise_sched.config.num_train_timesteps, (len(batch),), generator=gen).to(device)
            noisy = noise_sched.add_noise(x0, noise, t)
            texts = ["" if rng.random() < cfg.caption_dropout else dmod.example_text(ex, cfg.prompt, tax, rng, cfg.type)
                     for ex in batch]
            emb = torch.cat([embed(s) for s in texts]).repeat_interleave(cfg.frames, dim=0)
            target_t = noise if kind == "epsilon" else noise_sched.get_velocity(x0, noise, t)
            for g in optim.param_groups:
                g["lr"] = _lr_at(step, cfg.lr, cfg.warmup_steps)
            pred = pipe.unet(noisy, t, encoder_hidden_states=emb).sample
            loss = F.mse_loss(pred.float(), target_t.float())
            optim.zero_grad(set_to_none=True)
            loss.backward()
            optim.step()
            losses.append(float(loss.detach()))
            governor.end_step()
            done = step + 1
            if done % cfg.log_every == 0 or done == cfg.steps:
                window = losses[-cfg.log_every:]
                _write_metrics(run, {"step": done, "loss": round(float(np.mean(window)), 6),
                                     "lr": optim.param_groups[0]["lr"], "threads": torch.get_num_threads(),
                                     "elapsed_s": round(time.perf_counter() - t_start, 2)})
            if done % cfg.checkpoint_every == 0:
                checkpoint(done)
            if cfg.preview_every and done % cfg.preview_every == 0 and done != cfg.steps:
                do_preview(done)
            progress(done, cfg.steps, f"loss {np.mean(losses[-20:]):.4f}")
        else:
            step = cfg.steps
    except Cancelled:
        stopped = "cancelled"
    steps_done = step if stopped else cfg.steps
    checkpoint(steps_done)
    if stopped == "cancelled":
        info["status"] = "stopped"
        info["steps_done"] = steps_done
        write_json_atomic(cfg_path, info)
        raise Cancelled(f"stopped at step {steps_done}; --resume continues")
    if cfg.preview_every:
        do_preview(steps_done)
    final_loss = _final_loss(run)
    metrics = {"final_loss": final_loss, "steps": steps_done,
               "preview_motion": previews[-1]["motion"] if previews else None,
               "preview_matches": previews[-1]["motion_matches"] if previews else None}
    meta = {"key": cfg.type, "axis": axis, "target": target, "rank": cfg.rank,
            "alpha": cfg.alpha if cfg.alpha is not None else cfg.rank, "base": cfg.base,
            "steps": steps_done, "metrics": metrics, "resolution": size, "frames": cfg.frames,
            "prompt": cfg.prompt, "scheme": cfg.scheme, "data": cfg.data,
            "examples": len(examples), "created": time.strftime("%Y-%m-%dT%H:%M:%S")}
    lmod.save_lora(run / lora_file, pipe.unet, adapter, meta)
    info.update({"status": "complete" if not stopped else f"partial ({stopped})", "steps_done": steps_done,
                 "metrics": metrics})
    write_json_atomic(cfg_path, info)
    return {"run": str(run), "lora": str(run / lora_file), "type": cfg.type, "axis": axis, "target": target,
            "steps": steps_done, "examples": len(examples), "metrics": metrics, "status": info["status"],
            "elapsed_s": round(time.perf_counter() - t_start, 2), "previews": [p["preview"] for p in previews]}


def _training_scheduler(pipe):
    from diffusers import DDPMScheduler

    return DDPMScheduler.from_config(pipe.scheduler.config)


def _final_loss(run: Path) -> float | None:
    path = run / METRICS_NAME
    if not path.is_file():
        return None
    losses = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            rec = json.loads(line)
        except ValueError:
            continue
        if "loss" in rec:
            losses.append(rec["loss"])
    if not losses:
        return None
    tail = losses[-max(1, math.ceil(len(losses) / 10)):]
    return round(float(np.mean(tail)), 6)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m cinestudio.cameradiff.train_lora", description=__doc__.split("\n")[0])
    for f in fields(LoraTrainConfig):
        flag = "--" + f.name.replace("_", "-")
        if f.type in ("bool", bool):
            p.add_argument(flag, action=argparse.BooleanOptionalAction, default=f.default)
        elif f.name in ("type", "data", "base", "out"):
            p.add_argument(flag, required=True)
        else:
            conv = {"int": int, "float": float}.get(str(f.type).split(" ")[0], str)
            p.add_argument(flag, type=conv if conv is not str else None, default=f.default)
    p.add_argument("--resume", action="store_true")
    return p


def main(argv: list[str] | None = None) -> int:
    args = vars(build_parser().parse_args(argv))
    resume = args.pop("resume")
    cfg = LoraTrainConfig.from_dict(args)

    def report(done: int, total: int, message: str = "") -> None:
        print(json.dumps({"done": done, "total": total, "message": message}), file=sys.stderr, flush=True)

    try:
        summary = train_lora(cfg, report, resume=resume)
    except UserInputError as exc:
        print(f"error: {exc.subject}: {exc.reason}", file=sys.stderr)
        return 2
    except Cancelled as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 130
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

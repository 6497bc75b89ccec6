"""Training CameraCLIP: `train(config, progress, should_stop)` and a `main(argv)` for job workers.

A run is a folder:
- ``config.json``: the exact configuration (model spec, training options, taxonomy, the names of the
  parameters that trained), enough to reproduce the run;
- ``metrics.jsonl``: one JSON object per logged step (loss per axis, lr) and per epoch (validation
  R@1 per axis);
- ``training.png``: loss and validation R@1 curves;
- ``checkpoints/last.safetensors``: model + optimizer state + step (written every
  ``checkpoint_every`` steps, at each epoch's end, and when stopped), from which ``resume`` goes on
  with the same step count; ``model.safetensors``: the final weights.
- ``cache/``: the sampled frames and motion features of every clip (unless ``cache`` points
  elsewhere), so epochs and resumed runs do not decode again.

Loss: for each axis, video embeddings against the embeddings of all the axis's classes (one random
prompt template per class and step) — video→text over every class, text→video over the batch,
with all same-class videos as positives (soft targets); plus, with ``caption_weight``, a symmetric
video↔caption term where identical captions are positives.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import sys
import time
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from cinestudio.cameraclip import augment, features, movement_cnn
from cinestudio.cameraclip.checkpoint import load_checkpoint, save_checkpoint
from cinestudio.cameraclip.data import ClipTable, FrameCache, load_items, load_table, split_items
from cinestudio.cameraclip.experts import (PAIRS, ExpertConfig, ExpertPair, ExpertStore, PairExpert,
                                           default_expert_cache, fit_expert)
from cinestudio.cameraclip.infer import CONFIG_NAME, LAST_CHECKPOINT, WEIGHTS_NAME, resolve_device
from cinestudio.cameraclip.model import CameraCLIP
from cinestudio.cameraclip.movement_cnn import MovementCNN
from cinestudio.cameraclip.plots import training_plot
from cinestudio.cameraclip.pooling import DEFAULT_POOLING, POOLINGS
from cinestudio.cameraclip.registry import DEFAULT_MODEL, ModelSpec
from cinestudio.cpu_threads import training_threads, usable_cpus
from cinestudio.errors import UserInputError
from cinestudio.fsutil import write_json_atomic
from cinestudio.progress import Cancelled, ProgressFn, StopFn, check_stop
from cinestudio.taxonomy import AXES, DEFAULT_SCHEME, Taxonomy, load_taxonomy

RECIPES = ("auto", "full", "scratch", "paper")
METRICS_NAME = "metrics.jsonl"
PLOT_NAME = "training.png"


@dataclass
class TrainConfig:
    data: str
    out: str
    model: str = DEFAULT_MODEL
    pretrained: str | None = None
    pooling: str = DEFAULT_POOLING
    recipe: str = "auto"  # auto: "paper" with pretrained weights, "scratch" without
    epochs: int = 16  # or max_minutes, whichever ends first; longer fits the simulator, not real footage
    batch_size: int = 32
    lr: float = 1e-3
    weight_decay: float = 0.05
    warmup_steps: int = 50
    seed: int = 0
    device: str = "auto"
    num_frames: int = 8
    val_fraction: float = 0.1
    caption_weight: float = 0.25
    movement_prior: float = 0.0  # estimator-prior bonus on movement at inference (cameraclip.prior)
    motion_features: int = 0  # motion feature version (cameraclip.features); 0: the current default
    movement_focus: float = 0.0  # focal weighting of hard clips in the movement loss (soft_clip_loss)
    flip: bool = True
    reverse: bool = True
    jitter: bool = True
    shake: bool = True
    train_frames: int = 3  # frames per clip through the image encoder while training (0: all)
    full_frames_fraction: float = 0.15  # the last steps encode all frames, as inference does
    checkpoint_every: int = 100
    log_every: int = 10
    max_minutes: float | None = 15.0  # time budget of the training loop (after frame caching); None: epochs only
    threads: int | None = None  # torch threads; None: on CPU, the fastest count now (cinestudio.cpu_threads)
    scale_expert_clips: int = 400  # clips rendered per framing and scale move for the zoom/dolly expert; 0: none
    scale_expert_epochs: int = 8
    track_expert_clips: int = 200  # pans each way per framing (tracking shots: twice as many) for the pan/tracking expert; 0: none
    track_expert_epochs: int = 8
    movement_cnn_epochs: int = 8  # passes of the movement CNN over the training clips (cameraclip.movement_cnn); 0: none
    reuse_expert: bool = True  # copy a stored expert trained with the same settings instead of training it again
    expert_cache: str | None = None  # where trained experts are kept for reuse; None: the per-user cache folder
    scheme: str = DEFAULT_SCHEME
    cache: str | None = None
    extra: dict = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: dict) -> TrainConfig:
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})


# ---- which parameters train ---------------------------------------------------------------------
PAPER_IMAGE_BLOCKS = 4
PAPER_TEXT_BLOCKS = 2


def select_trainable(model: CameraCLIP, recipe: str) -> list[str]:
    """Set ``requires_grad`` per recipe and return the names of the trainable parameters.

    ``full``: everything. ``scratch`` (the default without pretrained weights): everything but the
    text tower's token-embedding table, which stays at its random initialisation — for a
    from-scratch model it is most of the parameters (49k tokens × width) and most of the optimizer's
    time, and random token vectors serve a short prompt vocabulary as well as learned ones.
    ``paper``: the last 4 image blocks, ``visual.ln_post``, ``visual.proj``, the last 2 text
    blocks, ``ln_final``, ``text_projection``, ``logit_scale`` (a ResNet image tower, as in
    open_clip's RN50: its last stage and attention pooling). The temporal pooling module is new
    and trains in every recipe.
    """
    if recipe not in ("full", "scratch", "paper"):
        raise UserInputError(recipe, f"unknown recipe (known: {', '.join(RECIPES)})")
    clip = model.clip
    for p in model.parameters():
        p.requires_grad_(recipe != "paper")
    if recipe == "scratch":
        clip.token_embedding.weight.requires_grad_(False)
    if recipe == "paper":
        parts: list[torch.nn.Module | torch.nn.Parameter] = []
        if hasattr(clip.visual, "transformer"):
            vblocks = clip.visual.transformer.resblocks
            parts += list(vblocks[-PAPER_IMAGE_BLOCKS:]) + [clip.visual.ln_post]
        else:  # open_clip's ModifiedResNet: the last stage and the attention pooling
            parts += [clip.visual.layer4, clip.visual.attnpool]
        tblocks = clip.transformer.resblocks
        parts += list(tblocks[-PAPER_TEXT_BLOCKS:]) + [clip.ln_final, model.pooling]
        for part in parts:
            for p in part.parameters():
                p.requires_grad_(True)
        for p in (getattr(clip.visual, "proj", None), clip.text_projection, clip.logit_scale):
            if isinstance(p, torch.nn.Parameter):
                p.requires_grad_(True)
            elif isinstance(p, torch.nn.Module):
                for q in p.parameters():
                    q.requires_grad_(True)
    return [n for n, p in model.named_parameters() if p.requires_grad]


def _param_groups(model: CameraCLIP, weight_decay: float) -> list[dict]:
    decay, no_decay = [], []
    for name, p in model.named_parameters():
        if not p.requires_grad:
            continue
        if p.ndim < 2 or "logit_scale" in name or "embedding" in name or name.endswith(".cls") \
                or name.endswith(".pos"):
            no_decay.append(p)
        else:
            decay.append(p)
    return [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]


def lr_at(step: int, total: int, base: float, warmup: int, progress: float | None = None) -> float:
    """Linear warm-up, then cosine decay to 0 over the run (`progress` in [0, 1] overrides the
    step-based progress, for time-budgeted runs)."""
    if step < warmup:
        return base * (step + 1) / warmup
    if progress is None:
        progress = (step - warmup) / max(1, total - warmup)
    return base * 0.5 * (1 + math.cos(math.pi * min(1.0, progress)))


# ---- labels -------------------------------------------------------------------------------------
def multi_hot(labels: list[dict], tax: Taxonomy, axis: str) -> np.ndarray:
    keys = tax.keys(axis)
    out = np.zeros((len(labels), len(keys)), np.float32)
    for i, lab in enumerate(labels):
        for k in lab.get(axis, ()):
            out[i, keys.index(k)] = 1.0
    return out


def soft_clip_loss(logits: torch.Tensor, targets: torch.Tensor, focus: float = 0.0) -> torch.Tensor:
    """Symmetric cross-entropy with soft targets. logits, targets: (videos, texts).

    `focus` > 0 weighs each video's video→text term by ``(1 - p)^focus`` (p: the probability it
    gives its true classes; weights normalised to mean 1, not differentiated): hard examples —
    a zoom the model takes for a dolly — count more, ones it already gets right less (focal loss)."""
    rows = targets.sum(1) > 0
    cols = targets.sum(0) > 0
    if not rows.any():
        return logits.sum() * 0.0
    logp = F.log_softmax(logits[rows], 1)
    per_row = -(logp * (targets[rows] / targets[rows].sum(1, keepdim=True))).sum(1)
    if focus > 0:
        with torch.no_grad():
            p_true = (logp.exp() * (targets[rows] > 0)).sum(1).clamp(0.0, 1.0)
            w = (1.0 - p_true) ** focus
            w = w / w.mean().clamp(min=1e-6)
        per_row = per_row * w
    v2t = per_row.mean()
    lt = logits[rows][:, cols].T
    tt = targets[rows][:, cols].T
    t2v = -(F.log_softmax(lt, 1) * (tt / tt.sum(1, keepdim=True))).sum(1).mean()
    return 0.5 * (v2t + t2v)


# ---- evaluation used during training and by `evaluate` --------------------------------------------
@torch.no_grad()
def predict_table(model: CameraCLIP, tax: Taxonomy, table: ClipTable, batch_size: int = 64,
                  movement_prior: float = 0.0, experts: list[PairExpert] | tuple = (),
                  four_ways: bool = False, movement_cnn: MovementCNN | None = None) -> dict:
    """Per axis: predicted class index per clip (video → the axis's class texts). With
    `four_ways`, movement is read from the clip, mirrored, reversed and both
    (`cinestudio.cameraclip.symmetry`); with `movement_prior` > 0, it is the ensemble with the
    classical estimator (`cinestudio.cameraclip.prior`), and with `experts`, zoom against dolly
    and pan against tracking are decided with them (`cinestudio.cameraclip.experts`); with
    `movement_cnn`, its reading is mixed in (`cinestudio.cameraclip.movement_cnn`); ``pred_learned``
    is the model's own choice, read once."""
    from cinestudio.cameraclip.infer import class_embeddings, embed_prepared, movement_choice

    was_training = model.training
    model.eval()
    video = embed_prepared(model, table.frames, model.encode_motion(table.motion), batch_size)
    out = {}
    for axis in AXES:
        keys, text = class_embeddings(model, tax, axis)
        sims = video @ text.T
        pred = sims.argmax(1).cpu().numpy()
        out[axis] = {"keys": keys, "pred": pred, "pred_learned": pred, "sims": sims.cpu().numpy()}
        if axis != "movement" or not len(table):
            continue
        if four_ways or movement_prior > 0 or experts or movement_cnn is not None:
            out[axis]["pred"] = movement_choice(model, table.frames, table.motion, video, keys, text,
                                                movement_prior, experts, four_ways, batch_size, movement_cnn)[1]
    model.train(was_training)
    return out


def retrieval_r1(pred: dict, table: ClipTable, tax: Taxonomy) -> dict[str, float | None]:
    r1: dict[str, float | None] = {}
    for axis in AXES:
        keys = pred[axis]["keys"]
        hits = [keys[p] in it.labels[axis] for p, it in zip(pred[axis]["pred"], table.items) if it.labels[axis]]
        r1[axis] = round(float(np.mean(hits)), 4) if hits else None
    return r1


# ---- the loop -----------------------------------------------------------------------------------
class _Batcher:
    """Shuffled batches per epoch (a function of seed and epoch, so resume lands mid-epoch exactly)."""

    def __init__(self, n: int, batch_size: int, seed: int):
        self.n, self.batch_size, self.seed = n, batch_size, seed
        self.per_epoch = max(1, math.ceil(n / batch_size))

    def batch(self, step: int) -> np.ndarray:
        epoch, k = divmod(step, self.per_epoch)
        order = np.random.default_rng([self.seed, epoch]).permutation(self.n)
        return order[k * self.batch_size:(k + 1) * self.batch_size]


def _write_metrics(path: Path, record: dict) -> None:
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(json.dumps(record) + "\n")


def _plot(run: Path) -> None:
    loss_x, loss_y, r1 = [], [], {a: ([], []) for a in AXES}
    for line in (run / METRICS_NAME).read_text(encoding="utf-8").splitlines():
        rec = json.loads(line)
        if "loss" in rec:
            loss_x.append(rec["step"])
            loss_y.append(rec["loss"])
        for axis, v in (rec.get("val_r1") or {}).items():
            if v is not None:
                r1[axis][0].append(rec["step"])
                r1[axis][1].append(v)
    training_plot(run / PLOT_NAME, (loss_x, loss_y), r1)


def train(config: TrainConfig, progress: ProgressFn | None = None, should_stop: StopFn | None = None,
          resume: bool = False) -> dict:
    """Train CameraCLIP into the run folder ``config.out``; return a summary dict.

    With ``resume`` and an existing run, its saved configuration is used and training continues from
    ``checkpoints/last.safetensors`` (same step count, same data order). Raises `Cancelled` when
    `should_stop()` asks, after writing a checkpoint.
    """
    progress = progress or (lambda done, total, message="": None)
    run = Path(config.out)
    cfg_path = run / CONFIG_NAME
    if cfg_path.is_file():
        if not resume:
            raise UserInputError(run, "run folder already holds a run (use --resume, or another --out)")
        saved = json.loads(cfg_path.read_text(encoding="utf-8"))
        config = TrainConfig.from_dict({**saved["train"], "out": str(run),
                                        "threads": config.threads, "device": config.device})
        motion_version = ModelSpec.from_dict(saved.get("model") or {}).motion_features
    else:
        motion_version = config.motion_features or ModelSpec().motion_features
    if motion_version not in features.VERSIONS:
        raise UserInputError(str(motion_version), f"unknown motion feature version (known: {features.VERSIONS})")
    if config.pooling not in POOLINGS:
        raise UserInputError(config.pooling, f"unknown pooling (known: {', '.join(POOLINGS)})")
    if config.recipe not in RECIPES:
        raise UserInputError(config.recipe, f"unknown recipe (known: {', '.join(RECIPES)})")
    if config.epochs < 1 or config.batch_size < 2 or config.lr <= 0:
        raise UserInputError("options", "need --epochs ≥ 1, --batch-size ≥ 2 and --lr > 0")
    device = resolve_device(config.device)
    # By default on CPU, the thread count that runs steps fastest now: all cores on an idle machine,
    # 1 while another process takes one (a 2-thread pool then runs 12-18x slower).
    governor = training_threads(config.threads, device == "cpu", torch.set_num_threads, torch.get_num_threads)
    random.seed(config.seed)
    np.random.seed(config.seed)
    torch.manual_seed(config.seed)

    tax = load_taxonomy(config.scheme)
    config = replace(config, data=str(Path(config.data).resolve()))
    items = load_items(config.data, tax)
    train_items, val_items = split_items(items, config.val_fraction)
    if len(train_items) < 2:
        raise UserInputError(config.data, "need at least 2 training clips")

    spec = ModelSpec(model=config.model, pretrained=config.pretrained, pooling=config.pooling,
                     num_frames=config.num_frames, motion_features=motion_version)
    model = CameraCLIP(spec, device=device)
    recipe = config.recipe if config.recipe != "auto" else ("paper" if config.pretrained else "scratch")
    trainable = select_trainable(model, recipe)
    optimizer = torch.optim.AdamW(_param_groups(model, config.weight_decay), lr=config.lr, betas=(0.9, 0.98),
                                  eps=1e-6)

    run.mkdir(parents=True, exist_ok=True)
    cache = FrameCache(Path(config.cache) if config.cache else run / "cache", config.num_frames, model.image_size)
    step, elapsed_before = 0, 0.0
    last = run / LAST_CHECKPOINT
    if resume and last.is_file():
        state = load_checkpoint(last, model, optimizer)
        step = state["step"]
        elapsed_before = float(state["extra"].get("elapsed_s", 0.0))
    elif not cfg_path.is_file():
        n_total = sum(p.numel() for p in model.parameters())
        write_json_atomic(cfg_path, {
            "format": "cinestudio.cameraclip.run/1", "model": spec.to_dict(), "train": asdict(config),
            "recipe": recipe, "scheme": config.scheme,
            "image_size": model.image_size, "motion_features": features.fingerprint(),
            "n_train": len(train_items), "n_val": len(val_items),
            "n_parameters": n_total, "n_trainable": sum(p.numel() for p in model.parameters() if p.requires_grad),
            "trainable_parameters": trainable,
            "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        })
    metrics = run / METRICS_NAME

    progress(0, len(train_items) + len(val_items), "caching frames")
    workers = caching_workers(config)
    train_table = load_table(train_items, cache, lambda d, t, m: progress(d, t + len(val_items), m), should_stop,
                             "caching frames", workers)
    val_table = load_table(val_items, cache, lambda d, t, m: progress(len(train_items) + d, len(train_items) + t, m),
                           should_stop, "caching frames", workers)

    # labels of the 4 variants, as multi-hot per axis: (variant, N, C)
    variants = [[augment.variant_labels(it.labels, v) for it in train_items] for v in range(4)]
    targets = {a: torch.tensor(np.stack([multi_hot(variants[v], tax, a) for v in range(4)])) for a in AXES}
    reversible = np.array([augment.can_reverse(it.labels, it.labels_hold) for it in train_items])
    prompts = {a: [list(c.prompts) for c in tax.classes(a)] for a in AXES}
    captions = [it.caption for it in train_items]
    use_captions = config.caption_weight > 0 and any(captions)

    batcher = _Batcher(len(train_items), config.batch_size, config.seed)
    total = config.epochs * batcher.per_epoch
    model.train()
    t0 = time.monotonic()
    deadline = t0 + 60 * config.max_minutes - elapsed_before if config.max_minutes else None
    stopped_early = False
    running: list[float] = []

    def elapsed() -> float:
        return elapsed_before + time.monotonic() - t0

    def checkpoint() -> None:
        save_checkpoint(last, model, optimizer, step=step, epoch=step // batcher.per_epoch,
                        extra={"elapsed_s": round(elapsed(), 2)})

    def validate() -> dict:
        r1 = retrieval_r1(predict_table(model, tax, val_table, movement_prior=config.movement_prior), val_table,
                          tax) if len(val_table) else {}
        _write_metrics(metrics, {"step": step, "epoch": max(0, step - 1) // batcher.per_epoch, "val_r1": r1,
                                 "elapsed_s": round(elapsed(), 1)})
        _plot(run)
        return r1

    val_r1: dict = {}
    while step < total:
        try:
            check_stop(should_stop)
        except Cancelled:
            checkpoint()
            raise
        if deadline is not None and time.monotonic() > deadline:
            stopped_early = True
            break
        governor.begin_step()
        gen = torch.Generator().manual_seed(config.seed * 1_000_003 + step)
        idx = batcher.batch(step)
        rng = np.random.default_rng([config.seed, step, 7])
        flips = (rng.random(len(idx)) < 0.5) if config.flip else np.zeros(len(idx), bool)
        revs = (rng.random(len(idx)) < 0.5) & reversible[idx] if config.reverse else np.zeros(len(idx), bool)
        var = flips.astype(int) + 2 * revs.astype(int)
        # progress through the run: by steps, or by time when a time budget is set (whichever is
        # further), so a time-budgeted run still anneals and ends on full frames
        frac = step / total
        if config.max_minutes:
            frac = max(frac, elapsed() / (60 * config.max_minutes))
        t_all = config.num_frames
        k = config.train_frames
        sparse = 0 < k < t_all and frac < 1 - config.full_frames_fraction
        if sparse:  # one random frame from each of k equal segments, per clip (TSN-style)
            edges = np.linspace(0, t_all, k + 1)
            lo, hi = np.ceil(edges[:-1]).astype(int), np.ceil(edges[1:]).astype(int)
            fidx = np.stack([rng.integers(lo, np.maximum(hi, lo + 1)) for _ in idx]).clip(0, t_all - 1)
        else:
            fidx = np.tile(np.arange(t_all), (len(idx), 1))
        frames = np.stack([augment.variant_frames(train_table.frames[i], v)[f] for i, v, f in zip(idx, var, fidx)])
        x = torch.from_numpy(frames).permute(0, 1, 4, 2, 3).float().div_(255.0)
        if config.jitter:
            x = augment.photometric(x, gen)
        x = ((x.to(device) - model.pixel_mean) / model.pixel_std)
        raw = np.stack([augment.variant_motion(train_table.motion[i], v) for i, v in zip(idx, var)])
        if config.shake:
            raw = augment.shake_motion(raw, rng)
        motion = model.motion_tensor(model.encode_motion(raw))

        for g in optimizer.param_groups:
            g["lr"] = lr_at(step, total, config.lr, config.warmup_steps, frac if config.max_minutes else None)
        video = model.encode_video(x, motion, frame_index=torch.from_numpy(fidx).to(device) if sparse else None)
        texts, spans = [], {}
        for a in AXES:
            chosen = [p[int(torch.randint(len(p), (1,), generator=gen))] for p in prompts[a]]
            spans[a] = (len(texts), len(texts) + len(chosen))
            texts += chosen
        batch_caps = [captions[i] for i in idx] if use_captions else []
        cap_rows = [j for j, c in enumerate(batch_caps) if c]
        all_texts = texts + [batch_caps[j] for j in cap_rows]
        unique = list(dict.fromkeys(all_texts))  # encode each distinct text once
        where = {t: i for i, t in enumerate(unique)}
        text_emb = model.encode_texts(unique)[torch.tensor([where[t] for t in all_texts], device=device)]
        scale = model.logit_scale.exp().clamp(max=100.0)
        losses = {}
        for a in AXES:
            lo, hi = spans[a]
            tgt = targets[a][torch.from_numpy(var), torch.from_numpy(idx)].to(device)
            losses[a] = soft_clip_loss(scale * video @ text_emb[lo:hi].T, tgt,
                                       config.movement_focus if a == "movement" else 0.0)
        loss = sum(losses.values())
        if cap_rows:
            caps = [batch_caps[j] for j in cap_rows]
            same = torch.tensor([[float(c1 == c2) for c2 in caps] for c1 in caps], device=device)
            cap_logits = scale * video[cap_rows] @ text_emb[len(texts):].T
            losses["caption"] = soft_clip_loss(cap_logits, same)
            loss = loss + config.caption_weight * losses["caption"]
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_([p for p in model.parameters() if p.requires_grad], 1.0)
        optimizer.step()
        with torch.no_grad():
            model.logit_scale.clamp_(0, math.log(100))
        step += 1
        running.append(loss.item())
        governor.end_step()
        if step % config.log_every == 0 or step == total:
            _write_metrics(metrics, {"step": step, "epoch": (step - 1) // batcher.per_epoch,
                                     "loss": round(float(np.mean(running)), 5),
                                     **{f"loss_{k}": round(v.item(), 5) for k, v in losses.items()},
                                     "lr": optimizer.param_groups[0]["lr"], "threads": torch.get_num_threads(),
                                     "elapsed_s": round(elapsed(), 1)})
            running.clear()
        progress(step, total, f"epoch {(step - 1) // batcher.per_epoch + 1}/{config.epochs} loss {running[-1] if running else loss.item():.3f}")
        if step % batcher.per_epoch == 0 or step == total:
            val_r1 = validate()
            checkpoint()
        elif step % config.checkpoint_every == 0:
            checkpoint()

    if stopped_early:
        val_r1 = validate()
    checkpoint()
    save_checkpoint(run / WEIGHTS_NAME, model, None, step=step, epoch=step // batcher.per_epoch)
    summary = {"run": str(run), "steps": step, "total_steps": total, "epochs": config.epochs,
               "stopped_early": stopped_early, "elapsed_s": round(elapsed(), 1), "recipe": recipe,
               "n_train": len(train_items), "n_val": len(val_items), "n_trainable_parameters":
                   sum(p.numel() for p in model.parameters() if p.requires_grad), "val_r1": val_r1}
    cnn = add_movement_cnn(run, config, tax, train_table, device, progress, should_stop, governor, keep=resume)
    if cnn is not None:
        summary[movement_cnn.CONFIG_KEY] = cnn[1]
    experts = []
    for pair in PAIRS.values():
        added = add_expert(run, config, tax, pair, device, progress, should_stop, governor, keep=resume)
        if added is not None:
            experts.append(added[0])
            summary[pair.config_key] = added[1]
    if (experts or cnn is not None) and len(val_table):
        summary["val_r1_with_expert"] = retrieval_r1(predict_table(
            model, tax, val_table, movement_prior=config.movement_prior, experts=experts,
            movement_cnn=cnn[0] if cnn is not None else None), val_table, tax)
        _write_metrics(metrics, {"step": step, "val_r1_with_expert": summary["val_r1_with_expert"]})
    return summary


def caching_workers(config: TrainConfig) -> int:
    """Threads that decode clips and compute their optical flow: no more than the CPUs this process
    may use (its affinity mask) or a job's share of them, and 4 at most."""
    return max(1, min(4, config.threads or usable_cpus()))


def add_movement_cnn(run: Path, config: TrainConfig, tax: Taxonomy, table: ClipTable, device: str,
                     progress: ProgressFn | None = None, should_stop: StopFn | None = None, step_timer=None,
                     keep: bool = True) -> tuple[MovementCNN, dict] | None:
    """Train the run's movement CNN (`cinestudio.cameraclip.movement_cnn`) on the training clips of
    `table` into ``RUN/movement_cnn.safetensors`` and record it in ``config.json``; return it and
    its summary, or None when the run is to have none (``movement_cnn_epochs`` 0). With `keep`, one
    the run already has stays (a resumed run)."""
    if config.movement_cnn_epochs <= 0 or not len(table):
        return None
    path = run / movement_cnn.FILE_NAME
    cfg_path = run / CONFIG_NAME
    saved = json.loads(cfg_path.read_text(encoding="utf-8"))
    if keep and path.is_file() and saved.get(movement_cnn.CONFIG_KEY):
        return MovementCNN.read(path, device)[0], saved[movement_cnn.CONFIG_KEY]
    cnn, summary = movement_cnn.train_movement_cnn(
        table.frames, [it.labels["movement"] for it in table.items], tax.keys("movement"),
        config.movement_cnn_epochs, config.seed, device, progress, should_stop, step_timer)
    cnn.save(path, summary)
    write_json_atomic(cfg_path, {**saved, movement_cnn.CONFIG_KEY: summary})
    return cnn, summary


def _finished_run_config(run: Path) -> tuple[dict, TrainConfig]:
    """A finished run's saved ``config.json`` and its training configuration (writing into the
    run), for adding what comes after the training loop (the movement CNN, an expert)."""
    from cinestudio.cameraclip.infer import read_run_config

    saved = read_run_config(run)
    if not (run / WEIGHTS_NAME).is_file():
        raise UserInputError(run, "the run has not finished training (no model.safetensors); resume it first")
    return saved, TrainConfig.from_dict({**saved.get("train", {}), "out": str(run)})


def add_movement_cnn_to_run(run: str | os.PathLike[str], epochs: int | None = None, seed: int | None = None,
                            device: str = "auto", progress: ProgressFn | None = None,
                            should_stop: StopFn | None = None) -> dict:
    """Train (again) the movement CNN of a trained run on the run's own training clips (its data
    must still be where the run found it; cached frames are reused), e.g. for a run made before
    the CNN existed. The options default to the run's own settings."""
    run = Path(run)
    saved, config = _finished_run_config(run)
    config.movement_cnn_epochs = epochs or config.movement_cnn_epochs or TrainConfig.movement_cnn_epochs
    config.seed = config.seed if seed is None else seed
    tax = load_taxonomy(config.scheme)
    items = load_items(config.data, tax)
    train_items, _ = split_items(items, config.val_fraction)
    cache = FrameCache(Path(config.cache) if config.cache else run / "cache", config.num_frames,
                       int(saved.get("image_size") or 64))
    table = load_table(train_items, cache, progress, should_stop, "caching frames", caching_workers(config))
    device = resolve_device(device)
    governor = training_threads(config.threads, device == "cpu", torch.set_num_threads, torch.get_num_threads)
    added = add_movement_cnn(run, config, tax, table, device, progress, should_stop, governor, keep=False)
    if added is None:
        raise UserInputError(run, "no training clips to train the movement CNN on")
    return added[1]


def expert_settings(config: TrainConfig, pair: ExpertPair) -> tuple[int, int]:
    """A run's clips per cell and epochs for the expert of `pair` (clips 0: none)."""
    return getattr(config, f"{pair.name}_expert_clips"), getattr(config, f"{pair.name}_expert_epochs")


def add_expert(run: Path, config: TrainConfig, tax: Taxonomy, pair: ExpertPair, device: str,
               progress: ProgressFn | None = None, should_stop: StopFn | None = None, step_timer=None,
               keep: bool = True) -> tuple[PairExpert, dict] | None:
    """Render clips and train the run's expert for `pair` (`cinestudio.cameraclip.experts`) into
    ``RUN/PAIR_expert.safetensors`` and record it in ``config.json``; return it and its summary, or
    None when the run is to have none (its clips 0, or the taxonomy lacks the pair's classes). With
    `keep`, an expert the run already has stays (a resumed run). With ``config.reuse_expert``, an
    expert trained earlier with the same settings and code is copied from the store
    (``config.expert_cache``, by default the per-user cache) and a new one is kept there; its
    summary then says ``reused``."""
    path = run / pair.file
    clips, epochs = expert_settings(config, pair)
    if clips <= 0 or not pair.applies(tax.keys("movement")):
        return None
    cfg_path = run / CONFIG_NAME
    saved = json.loads(cfg_path.read_text(encoding="utf-8"))
    if keep and path.is_file() and saved.get(pair.config_key):
        return PairExpert.load(path, config.num_frames, device, pair), saved[pair.config_key]
    expert_config = ExpertConfig(clips_per_cell=clips, epochs=epochs, seed=config.seed, num_frames=config.num_frames,
                                 scheme=config.scheme, pair=pair.name)
    store = ExpertStore(Path(config.expert_cache) if config.expert_cache else default_expert_cache())
    stored = store.load(expert_config, device) if config.reuse_expert else None
    if stored is not None:
        expert, summary = stored
        summary = {**summary, "reused": str(store.path(expert_config))}
        if progress is not None:
            progress(1, 1, f"{pair.title} expert: reused, trained earlier with the same settings")
    else:
        workers = config.threads or usable_cpus()  # render processes: a job's share of the cores, when it has one
        expert, summary = fit_expert(expert_config, device, progress, should_stop, workers, step_timer)
    expert.save(path, summary)
    if stored is None and config.reuse_expert:
        store.save(expert_config, path)
    write_json_atomic(cfg_path, {**saved, pair.config_key: summary})
    return expert, summary


def pairs_for_run(run: str | os.PathLike[str]) -> list[ExpertPair]:
    """The experts whose classes a trained run's taxonomy has (a scheme without tracking shots has
    no pan/tracking expert)."""
    from cinestudio.cameraclip.infer import read_run_config

    saved = read_run_config(run)
    keys = load_taxonomy(saved.get("scheme") or DEFAULT_SCHEME).keys("movement")
    return [pair for pair in PAIRS.values() if pair.applies(keys)]


def add_expert_to_run(run: str | os.PathLike[str], pair: ExpertPair, clips: int | None = None,
                      epochs: int | None = None, seed: int | None = None, device: str = "auto",
                      progress: ProgressFn | None = None, should_stop: StopFn | None = None,
                      reuse: bool | None = None, expert_cache: str | os.PathLike[str] | None = None) -> dict:
    """Train (again) an expert of a trained run, e.g. one made before that expert existed or with
    its clips 0; the options default to the run's own settings. `reuse`: copy an expert stored
    with the same settings (default: as the run did)."""
    run = Path(run)
    _, config = _finished_run_config(run)
    run_clips, run_epochs = expert_settings(config, pair)
    setattr(config, f"{pair.name}_expert_clips", clips or run_clips or getattr(TrainConfig, f"{pair.name}_expert_clips"))
    setattr(config, f"{pair.name}_expert_epochs", epochs or run_epochs)
    config.seed = config.seed if seed is None else seed
    config.reuse_expert = config.reuse_expert if reuse is None else reuse
    config.expert_cache = str(expert_cache) if expert_cache else config.expert_cache
    tax = load_taxonomy(config.scheme)
    if not pair.applies(tax.keys("movement")):
        raise UserInputError(run, f"scheme {config.scheme} has no {pair.title} classes to tell apart")
    device = resolve_device(device)
    governor = training_threads(config.threads, device == "cpu", torch.set_num_threads, torch.get_num_threads)
    added = add_expert(run, config, tax, pair, device, progress, should_stop, governor, keep=False)
    assert added is not None
    return added[1]


# ---- main(argv) ---------------------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m cinestudio.cameraclip.train", description=__doc__.split("\n")[0])
    defaults = TrainConfig(data="", out="")
    p.add_argument("--data", required=True)
    p.add_argument("--out", required=True)
    for f in fields(TrainConfig):
        if f.name in ("data", "out", "extra"):
            continue
        flag = "--" + f.name.replace("_", "-")
        default = getattr(defaults, f.name)
        if isinstance(default, bool):
            p.add_argument(flag, action=argparse.BooleanOptionalAction, default=default)
        elif isinstance(default, int) and not isinstance(default, bool):
            p.add_argument(flag, type=int, default=default)
        elif isinstance(default, float):
            p.add_argument(flag, type=float, default=default)
        elif f.name in ("max_minutes",):
            p.add_argument(flag, type=float, default=default)
        elif f.name in ("threads",):
            p.add_argument(flag, type=int, default=default)
        else:
            p.add_argument(flag, default=default)
    p.add_argument("--resume", action="store_true")
    return p


def main(argv: list[str] | None = None) -> int:
    """Train from the command line; progress and the summary are JSON lines on stdout."""
    args = vars(build_parser().parse_args(argv))
    resume = args.pop("resume")
    config = TrainConfig.from_dict(args)

    def report(done: int, total: int, message: str = "") -> None:
        sys.stdout.write(json.dumps({"progress": done, "total": total, "message": message}) + "\n")
        sys.stdout.flush()

    try:
        summary = train(config, report, resume=resume)
    except UserInputError as exc:
        sys.stderr.write(f"error: {exc.subject}: {exc.reason}\n")
        return 2
    except (Cancelled, KeyboardInterrupt):
        sys.stderr.write("error: cancelled\n")
        return 130
    sys.stdout.write(json.dumps({"result": summary}) + "\n")
    return 0


if __name__ == "__main__":  # pragma: no cover
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    sys.exit(main())

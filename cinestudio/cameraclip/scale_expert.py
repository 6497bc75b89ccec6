"""A zoom/dolly expert beside CameraCLIP: a small CNN that tells a zoom from a dolly.

Zoom against dolly is the movement error CameraCLIP makes most (docs/cameraclip.md). The expert
sees the clip's sampled frames themselves, minus their mean and stacked as channels (early
fusion), where CameraCLIP sees per-frame embeddings and motion features; the two err on
different clips. It trains on clips rendered for it by the simulator (`plan_scale_moves`), not on
the run's own training clips: trained on those, it helped simulated test clips but not real
footage.

How it combines (`choose_scale_moves`): only where CameraCLIP's top movement is a zoom or a dolly,
the type is decided by the plain mean of two probabilities that the clip is a dolly — CameraCLIP's
(its zoom and dolly classes renormalised) and the expert's. The direction (in or out) and every
other class stay CameraCLIP's. Free-text scores (`score_frames`) never change.

A run keeps its expert in ``scale_expert.safetensors``; the run's ``config.json`` says how it was
made (``scale_expert``).

The expert depends on its configuration (clip count, epochs, seed, frames) and the code that renders
and trains it, never on the run's data. `ExpertStore` keeps trained experts under a key of exactly
those (`expert_key`), by default in the per-user cache folder, so that a later run with the same
settings copies it in seconds instead of spending minutes rendering and training the same thing.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import math
import os
import shutil
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from multiprocessing import get_context
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from cinestudio.cameraclip.checkpoint import load_checkpoint, save_checkpoint
from cinestudio.errors import UserInputError
from cinestudio.fsutil import atomic_path
from cinestudio.progress import ProgressFn, StopFn, check_stop

log = logging.getLogger(__name__)

EXPERT_NAME = "scale_expert.safetensors"
#: The classes the expert decides between, as (zoom, dolly) twins of one direction.
TWINS = (("zoom_in", "dolly_in"), ("zoom_out", "dolly_out"))
#: Renders are made like `cinestudio simulate`'s default clips: 16 frames at 64 px, 8 fps.
RENDER_FRAMES, RENDER_SIZE, RENDER_FPS = 16, 64, 8.0
#: Frame differences are small; scaled so the first layer sees values of order 1.
INPUT_GAIN = 4.0
WIDTHS = (48, 64, 96, 128, 128)
STRIDES = (1, 2, 2, 2, 1)


@dataclass
class ExpertConfig:
    clips_per_cell: int = 400  # rendered clips per framing and scale move
    epochs: int = 8
    batch_size: int = 32
    lr: float = 2e-3
    weight_decay: float = 1e-4
    val_fraction: float = 0.05
    seed: int = 0
    num_frames: int = 8
    size: int = RENDER_SIZE
    scheme: str = "cinematic2k"


def has_scale_moves(movement_keys: list[str]) -> bool:
    """Whether a taxonomy's movement axis has a zoom and a dolly to tell apart."""
    return any(z in movement_keys and d in movement_keys for z, d in TWINS)


class ScaleMoveNet(nn.Module):
    """``(B, T*3, S, S)`` mean-removed frames → logits ``(B, 2)``: zoom, dolly."""

    def __init__(self, num_frames: int = 8):
        super().__init__()
        layers: list[nn.Module] = []
        cin = 3 * num_frames
        for width, stride in zip(WIDTHS, STRIDES):
            layers += [nn.Conv2d(cin, width, 3, stride, 1, bias=False), nn.BatchNorm2d(width), nn.ReLU(inplace=True)]
            cin = width
        self.features = nn.Sequential(*layers)
        self.head = nn.Linear(cin, 2)
        self.num_frames = num_frames

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x).mean((2, 3)))


def expert_input(frames: torch.Tensor | np.ndarray, size: int) -> torch.Tensor:
    """uint8 clips ``(B, T, H, W, 3)`` → the net's input ``(B, T*3, size, size)``: each clip's frames
    minus their mean (what moves, not what is there), times `INPUT_GAIN`."""
    x = torch.as_tensor(frames).permute(0, 1, 4, 2, 3).float().div_(255.0)
    b, t, c, h, w = x.shape
    if (h, w) != (size, size):
        x = F.interpolate(x.reshape(b * t, c, h, w), size=(size, size), mode="area").reshape(b, t, c, size, size)
    x = (x - x.mean(1, keepdim=True)) * INPUT_GAIN
    return x.reshape(b, t * c, size, size)


# ---- the clips it trains on ---------------------------------------------------------------------
def _render_chunk(args: tuple) -> tuple[np.ndarray, np.ndarray]:
    """Render some planned clips and sample their frames (run in a worker process)."""
    plans, num_frames = args
    from cinestudio.camerasim.dataset import DEFAULT_SUBJECT_WALKS, render_clip
    from cinestudio.media.sampling import uniform_indices

    idx = uniform_indices(0, RENDER_FRAMES, num_frames)  # as `sample_frames` samples an MP4
    frames = np.stack([render_clip(p, frames=RENDER_FRAMES, size=RENDER_SIZE, fps=RENDER_FPS,
                                   subject_walks=DEFAULT_SUBJECT_WALKS).frames[idx] for p in plans])
    labels = np.array([p.movement.startswith("dolly") for p in plans], np.int64)
    return frames, labels


def render_training_clips(config: ExpertConfig, progress: ProgressFn | None = None,
                          should_stop: StopFn | None = None, workers: int = 1,
                          chunk: int = 64) -> tuple[np.ndarray, np.ndarray]:
    """The expert's clips: uint8 frames ``(N, T, 64, 64, 3)`` and labels (0 zoom, 1 dolly), rendered
    by the simulator in `workers` processes. Deterministic for ``config.seed``, whatever `workers`."""
    from cinestudio.camerasim.dataset import plan_scale_moves

    plans = plan_scale_moves(config.clips_per_cell, config.seed, config.scheme)
    chunks = [(plans[i:i + chunk], config.num_frames) for i in range(0, len(plans), chunk)]
    progress = progress or (lambda d, t, m="": None)
    frames, labels, done = [], [], 0
    progress(0, len(plans), "rendering zoom/dolly clips")
    if workers <= 1:
        results = map(_render_chunk, chunks)
        pool = None
    else:  # spawn: the parent holds torch's thread pools, which a forked child must not inherit
        pool = ProcessPoolExecutor(workers, mp_context=get_context("spawn"))
        results = pool.map(_render_chunk, chunks)
    try:
        for f, lab in results:
            check_stop(should_stop)
            frames.append(f)
            labels.append(lab)
            done += len(lab)
            progress(done, len(plans), "rendering zoom/dolly clips")
    finally:
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
    return np.concatenate(frames), np.concatenate(labels)


# ---- training -----------------------------------------------------------------------------------
def _augment(x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """Random left-right mirror and time reversal of uint8 clips ``(B, T, H, W, 3)``: neither
    changes zoom against dolly."""
    b = x.shape[0]
    mirror = torch.rand(b, generator=gen) < 0.5
    reverse = torch.rand(b, generator=gen) < 0.5
    x = torch.where(mirror[:, None, None, None, None], x.flip(3), x)
    return torch.where(reverse[:, None, None, None, None], x.flip(1), x)


@torch.no_grad()
def _accuracy(net: ScaleMoveNet, frames: np.ndarray, labels: np.ndarray, size: int, device: str) -> float | None:
    if not len(labels):
        return None
    p = _predict(net, frames, size, device)
    return round(float(np.mean((p > 0.5) == labels.astype(bool))), 4)


@torch.no_grad()
def _predict(net: ScaleMoveNet, frames: np.ndarray, size: int, device: str, batch_size: int = 128) -> np.ndarray:
    was_training = net.training
    net.eval()
    out = [torch.softmax(net(expert_input(frames[i:i + batch_size], size).to(device)), 1)[:, 1].cpu()
           for i in range(0, len(frames), batch_size)]
    net.train(was_training)
    return torch.cat(out).numpy() if out else np.zeros(0, np.float32)


def train_expert(config: ExpertConfig, frames: np.ndarray, labels: np.ndarray, device: str = "cpu",
                 progress: ProgressFn | None = None, should_stop: StopFn | None = None,
                 step_timer=None) -> tuple[ScaleMoveNet, dict]:
    """Train the expert on rendered clips; return it and a summary (steps, time, held-out accuracy).
    `step_timer`: an object with ``begin_step()``/``end_step()`` (the CPU thread governor)."""
    progress = progress or (lambda d, t, m="": None)
    torch.manual_seed(config.seed)
    order = np.random.default_rng([config.seed, 0xE]).permutation(len(labels))
    n_val = int(round(config.val_fraction * len(labels)))
    val, tr = order[:n_val], order[n_val:]
    net = ScaleMoveNet(config.num_frames).to(device)
    opt = torch.optim.AdamW(net.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    per_epoch = max(1, math.ceil(len(tr) / config.batch_size))
    total = config.epochs * per_epoch
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=config.lr, total_steps=total)
    gen = torch.Generator().manual_seed(config.seed)
    t0 = time.monotonic()
    losses: list[float] = []
    net.train()
    for step in range(total):
        check_stop(should_stop)
        if step_timer is not None:
            step_timer.begin_step()
        epoch, k = divmod(step, per_epoch)
        perm = np.random.default_rng([config.seed, epoch]).permutation(tr)
        idx = np.sort(perm[k * config.batch_size:(k + 1) * config.batch_size])
        x = expert_input(_augment(torch.from_numpy(frames[idx]), gen), config.size).to(device)
        y = torch.from_numpy(labels[idx]).to(device)
        loss = F.cross_entropy(net(x), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        losses.append(loss.item())
        if step_timer is not None:
            step_timer.end_step()
        progress(step + 1, total, f"zoom/dolly expert: epoch {epoch + 1}/{config.epochs} loss {np.mean(losses[-20:]):.3f}")
    net.eval()
    summary = {"steps": total, "n_train": len(tr), "n_val": len(val), "train_s": round(time.monotonic() - t0, 1),
               "final_loss": round(float(np.mean(losses[-per_epoch:])), 4) if losses else None,
               "val_accuracy": _accuracy(net, frames[val], labels[val], config.size, device)}
    return net, summary


# ---- a trained expert ---------------------------------------------------------------------------
@dataclass
class ScaleExpert:
    """A trained zoom/dolly expert as a run uses it."""

    net: ScaleMoveNet
    size: int = RENDER_SIZE

    @property
    def device(self) -> str:
        return str(next(self.net.parameters()).device)

    def p_dolly(self, frames: np.ndarray) -> np.ndarray:
        """Probability that each clip ``(B, T, H, W, 3)`` uint8 is a dolly rather than a zoom."""
        return _predict(self.net, np.asarray(frames), self.size, self.device)

    def save(self, path: str | os.PathLike[str], summary: dict | None = None) -> Path:
        return save_checkpoint(path, self.net, None, extra={"size": self.size, "num_frames": self.net.num_frames,
                                                            **(summary or {})})

    @classmethod
    def load(cls, path: str | os.PathLike[str], num_frames: int, device: str = "cpu") -> ScaleExpert:
        net = ScaleMoveNet(num_frames)
        state = load_checkpoint(path, net)
        return cls(net.to(device).eval(), int(state["extra"].get("size", RENDER_SIZE)))


def fit_expert(config: ExpertConfig, device: str = "cpu", progress: ProgressFn | None = None,
               should_stop: StopFn | None = None, workers: int = 1, step_timer=None) -> tuple[ScaleExpert, dict]:
    """Render the clips and train the expert on them; the summary says what it took."""
    t0 = time.monotonic()
    frames, labels = render_training_clips(config, progress, should_stop, workers)
    render_s = time.monotonic() - t0
    net, summary = train_expert(config, frames, labels, device, progress, should_stop, step_timer)
    return ScaleExpert(net, config.size), {"config": asdict(config), "clips": int(len(labels)),
                                            "render_s": round(render_s, 1), **summary}


# ---- reusing trained experts --------------------------------------------------------------------
@functools.lru_cache(maxsize=1)
def _code_fingerprint() -> str:
    """A hash of the code that renders the expert's clips and trains it: the simulator package and
    this module (any change there may change the expert), and the numeric libraries' versions.
    Computed once per process, as `features.fingerprint` is."""
    import cv2

    from cinestudio import camerasim

    digest = hashlib.sha1()
    for path in sorted(Path(camerasim.__file__).parent.glob("*.py")) + [Path(__file__)]:
        digest.update(path.name.encode("utf-8"))
        digest.update(path.read_bytes())
    digest.update(repr((np.__version__, torch.__version__, cv2.__version__)).encode("utf-8"))
    return digest.hexdigest()


def expert_key(config: ExpertConfig) -> str:
    """What decides a trained expert: its configuration and `_code_fingerprint` (not the device:
    CPU and GPU train the same expert up to float rounding)."""
    payload = json.dumps({"config": asdict(config), "code": _code_fingerprint()}, sort_keys=True)
    return hashlib.sha1(payload.encode("utf-8")).hexdigest()[:16]


def default_expert_cache() -> Path:
    """The per-user folder of trained experts (e.g. ~/.cache/CineStudio/scale_experts)."""
    from platformdirs import user_cache_dir

    from cinestudio.workspace import APP_NAME

    return Path(user_cache_dir(APP_NAME, appauthor=False)) / "scale_experts"


@dataclass
class ExpertStore:
    """Trained experts kept by `expert_key`: ``FOLDER/KEY.safetensors``, the training summary in its
    metadata. A damaged or unreadable entry counts as missing; a store that cannot be written to
    (full disk, read-only) only costs the reuse, never the run."""

    folder: Path

    def path(self, config: ExpertConfig) -> Path:
        return self.folder / f"{expert_key(config)}.safetensors"

    def load(self, config: ExpertConfig, device: str = "cpu") -> tuple[ScaleExpert, dict] | None:
        path = self.path(config)
        if not path.is_file():
            return None
        try:
            net = ScaleMoveNet(config.num_frames)
            extra = load_checkpoint(path, net)["extra"]
        except UserInputError as exc:
            log.warning("ignoring a damaged stored zoom/dolly expert: %s", exc)
            return None
        summary = {k: v for k, v in extra.items() if k not in ("size", "num_frames")}
        return ScaleExpert(net.to(device).eval(), int(extra.get("size", config.size))), summary

    def save(self, config: ExpertConfig, source: Path) -> Path | None:
        """Copy a run's saved expert file into the store (atomically); None when it cannot."""
        path = self.path(config)
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            with atomic_path(path) as tmp:
                shutil.copyfile(source, tmp)
        except OSError as exc:
            log.warning("could not keep the zoom/dolly expert for reuse in %s: %s", self.folder, exc)
            return None
        return path


# ---- combining with CameraCLIP ------------------------------------------------------------------
def choose_scale_moves(probs: np.ndarray, keys: list[str], p_dolly_expert: np.ndarray) -> np.ndarray:
    """Movement class per clip from CameraCLIP's probabilities ``(B, C)`` over `keys` and the
    expert's p(dolly) ``(B,)``: CameraCLIP's top class, except that where it is a zoom or a dolly,
    the type is the one the mean of CameraCLIP's and the expert's p(dolly) favours."""
    probs = np.asarray(probs, dtype=np.float64)
    pred = probs.argmax(1)
    twins = [(keys.index(z), keys.index(d)) for z, d in TWINS if z in keys and d in keys]
    if not twins:
        return pred
    zoom_cols, dolly_cols = [z for z, _ in twins], [d for _, d in twins]
    mass = probs[:, zoom_cols + dolly_cols].sum(1)
    p_clip = probs[:, dolly_cols].sum(1) / np.maximum(mass, 1e-12)
    dolly = 0.5 * (p_clip + np.asarray(p_dolly_expert, dtype=np.float64)) > 0.5
    out = pred.copy()
    for z, d in twins:
        at = (pred == z) | (pred == d)
        out[at] = np.where(dolly[at], d, z)
    return out

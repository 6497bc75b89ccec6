"""Experts beside CameraCLIP: small CNNs that each tell two groups of movement classes apart.

CameraCLIP's largest movement errors are between classes whose frames differ only in how things
move against each other: a zoom against a dolly (only parallax tells them apart), and a pan against a
tracking shot (a tracking shot keeps its moving subject in place while the background sweeps by)
(docs/cameraclip.md). An expert sees the clip's sampled frames themselves, minus their mean and
stacked as channels (early fusion), where CameraCLIP sees per-frame embeddings and motion features;
the two err on different clips. Each `ExpertPair` names its two groups and the simulator's planner
of its training clips: `SCALE` (zoom against dolly, `plan_scale_moves`) and `TRACK` (pan against
tracking, `plan_track_moves`). Experts train on clips rendered for them by the simulator, not on the
run's own training clips: trained on those, the zoom/dolly expert helped simulated test clips but
not real footage.

How they combine (`choose_moves`): only where CameraCLIP's top movement is in a pair's groups, the
group is decided by the plain mean of two probabilities that the clip belongs to the second group —
CameraCLIP's (the pair's classes renormalised) and the expert's. Within the group, the top class's
twin keeps its direction (a zoom in becomes a dolly in); where there is no twin, the group's most
probable class is taken (a pan becomes a tracking shot, a tracking shot the more probable pan).
Every other class stays CameraCLIP's. Free-text scores (`score_frames`) never change.

A run keeps each expert in ``PAIR_expert.safetensors`` (`ExpertPair.file`); the run's
``config.json`` says how it was made (``scale_expert``, ``track_expert``).

An expert depends on its configuration (pair, clip count, epochs, seed, frames) and the code that
renders and trains it, never on the run's data. `ExpertStore` keeps trained experts under a key of
exactly those (`expert_key`), by default in the per-user cache folder, so that a later run with the
same settings copies it in seconds instead of spending minutes rendering and training the same thing.
"""

from __future__ import annotations

import contextlib
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

from cinestudio.cameraclip.augment import variant_frames
from cinestudio.cameraclip.checkpoint import load_checkpoint, save_checkpoint
from cinestudio.errors import UserInputError
from cinestudio.fsutil import atomic_path, newest_first, prune_oldest
from cinestudio.progress import ProgressFn, StopFn, check_stop

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ExpertPair:
    """Two groups of movement classes an expert tells apart (labels 0 and 1). Classes at the same
    place in groups of equal length are twins (a zoom in and a dolly in)."""

    name: str  # "scale", "track": the run's file and config key are named after it
    title: str  # for people: "zoom/dolly"
    first: tuple[str, ...]
    second: tuple[str, ...]
    planner: str  # the `cinestudio.camerasim.dataset` function that plans its training clips

    @property
    def file(self) -> str:
        return f"{self.name}_expert.safetensors"

    @property
    def config_key(self) -> str:
        return f"{self.name}_expert"

    def applies(self, movement_keys: list[str]) -> bool:
        """Whether a taxonomy's movement axis has classes of both groups to tell apart."""
        return any(k in movement_keys for k in self.first) and any(k in movement_keys for k in self.second)

    def twin(self, key: str) -> str | None:
        """The class at the same place in the other group (None: groups of unequal length)."""
        if len(self.first) != len(self.second):
            return None
        if key in self.first:
            return self.second[self.first.index(key)]
        return self.first[self.second.index(key)] if key in self.second else None


SCALE = ExpertPair("scale", "zoom/dolly", ("zoom_in", "zoom_out"), ("dolly_in", "dolly_out"), "plan_scale_moves")
TRACK = ExpertPair("track", "pan/tracking", ("pan_left", "pan_right"), ("tracking",), "plan_track_moves")
PAIRS = {p.name: p for p in (SCALE, TRACK)}


def expert_names(**used: bool) -> tuple[str, ...]:
    """The names of the experts to use, from a switch per pair name (``scale=False``: every expert
    but the zoom/dolly one), so that command-line switches cannot drift from `PAIRS`."""
    unknown = sorted(set(used) - set(PAIRS))
    if unknown:
        raise ValueError(f"unknown expert {', '.join(unknown)}; known: {', '.join(PAIRS)}")
    return tuple(name for name in PAIRS if used.get(name, True))


#: Renders are made like `cinestudio simulate`'s default clips: 16 frames at 64 px, 8 fps.
RENDER_FRAMES, RENDER_SIZE, RENDER_FPS = 16, 64, 8.0
#: Frame differences are small; scaled so the first layer sees values of order 1.
INPUT_GAIN = 4.0
WIDTHS = (48, 64, 96, 128, 128)
STRIDES = (1, 2, 2, 2, 1)


@dataclass
class ExpertConfig:
    clips_per_cell: int = 400  # rendered clips per framing and move (`ExpertPair.planner`)
    epochs: int = 8
    batch_size: int = 32
    lr: float = 2e-3
    weight_decay: float = 1e-4
    val_fraction: float = 0.05
    seed: int = 0
    num_frames: int = 8
    size: int = RENDER_SIZE
    scheme: str = "cinematic2k"
    pair: str = SCALE.name  # which `ExpertPair`

    def __post_init__(self):
        if self.pair not in PAIRS:
            raise UserInputError(self.pair, f"unknown expert; one of {', '.join(PAIRS)}")


class PairNet(nn.Module):
    """``(B, T*3, S, S)`` mean-removed frames → logits ``(B, 2)``: the pair's first group, second."""

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
    plans, num_frames, second = args
    from cinestudio.camerasim.dataset import DEFAULT_SUBJECT_WALKS, render_clip
    from cinestudio.media.sampling import uniform_indices

    idx = uniform_indices(0, RENDER_FRAMES, num_frames)  # as `sample_frames` samples an MP4
    frames = np.stack([render_clip(p, frames=RENDER_FRAMES, size=RENDER_SIZE, fps=RENDER_FPS,
                                   subject_walks=DEFAULT_SUBJECT_WALKS).frames[idx] for p in plans])
    labels = np.array([p.movement in second for p in plans], np.int64)
    return frames, labels


def render_training_clips(config: ExpertConfig, progress: ProgressFn | None = None,
                          should_stop: StopFn | None = None, workers: int = 1,
                          chunk: int = 64) -> tuple[np.ndarray, np.ndarray]:
    """The expert's clips: uint8 frames ``(N, T, 64, 64, 3)`` and labels (0: the pair's first group,
    1: its second), rendered by the simulator in `workers` processes. Deterministic for
    ``config.seed``, whatever `workers`."""
    from cinestudio.camerasim import dataset

    pair = PAIRS[config.pair]
    plans = getattr(dataset, pair.planner)(config.clips_per_cell, config.seed, config.scheme)
    chunks = [(plans[i:i + chunk], config.num_frames, pair.second) for i in range(0, len(plans), chunk)]
    progress = progress or (lambda d, t, m="": None)
    frames, labels, done = [], [], 0
    progress(0, len(plans), f"rendering {pair.title} clips")
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
            progress(done, len(plans), f"rendering {pair.title} clips")
    finally:
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
    return np.concatenate(frames), np.concatenate(labels)


# ---- training -----------------------------------------------------------------------------------
def _augment(x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """Random left-right mirror and time reversal of uint8 clips ``(B, T, H, W, 3)``: neither
    changes zoom against dolly, nor pan against tracking."""
    b = x.shape[0]
    mirror = torch.rand(b, generator=gen) < 0.5
    reverse = torch.rand(b, generator=gen) < 0.5
    x = torch.where(mirror[:, None, None, None, None], x.flip(3), x)
    return torch.where(reverse[:, None, None, None, None], x.flip(1), x)


@torch.no_grad()
def _accuracy(net: PairNet, frames: np.ndarray, labels: np.ndarray, size: int, device: str) -> float | None:
    if not len(labels):
        return None
    p = _predict(net, frames, size, device)
    return round(float(np.mean((p > 0.5) == labels.astype(bool))), 4)


@torch.no_grad()
def _predict(net: PairNet, frames: np.ndarray, size: int, device: str, batch_size: int = 128) -> np.ndarray:
    was_training = net.training
    net.eval()
    out = [torch.softmax(net(expert_input(frames[i:i + batch_size], size).to(device)), 1)[:, 1].cpu()
           for i in range(0, len(frames), batch_size)]
    net.train(was_training)
    return torch.cat(out).numpy() if out else np.zeros(0, np.float32)


def train_expert(config: ExpertConfig, frames: np.ndarray, labels: np.ndarray, device: str = "cpu",
                 progress: ProgressFn | None = None, should_stop: StopFn | None = None,
                 step_timer=None) -> tuple[PairNet, dict]:
    """Train the expert on rendered clips; return it and a summary (steps, time, held-out accuracy).
    `step_timer`: an object with ``begin_step()``/``end_step()`` (the CPU thread governor)."""
    progress = progress or (lambda d, t, m="": None)
    torch.manual_seed(config.seed)
    order = np.random.default_rng([config.seed, 0xE]).permutation(len(labels))
    n_val = int(round(config.val_fraction * len(labels)))
    val, tr = order[:n_val], order[n_val:]
    net = PairNet(config.num_frames).to(device)
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
        progress(step + 1, total, f"{PAIRS[config.pair].title} expert: epoch {epoch + 1}/{config.epochs} loss {np.mean(losses[-20:]):.3f}")
    net.eval()
    summary = {"steps": total, "n_train": len(tr), "n_val": len(val), "train_s": round(time.monotonic() - t0, 1),
               "final_loss": round(float(np.mean(losses[-per_epoch:])), 4) if losses else None,
               "val_accuracy": _accuracy(net, frames[val], labels[val], config.size, device)}
    return net, summary


# ---- a trained expert ---------------------------------------------------------------------------
@dataclass
class PairExpert:
    """A trained expert as a run uses it."""

    net: PairNet
    pair: ExpertPair = SCALE
    size: int = RENDER_SIZE

    @property
    def device(self) -> str:
        return str(next(self.net.parameters()).device)

    def p_second(self, frames: np.ndarray, variants: tuple[int, ...] = (0,)) -> np.ndarray:
        """Probability that each clip ``(B, T, H, W, 3)`` uint8 is of the pair's second group (a
        dolly rather than a zoom, a tracking shot rather than a pan), averaged over `variants` of
        the clips (`augment.variant_frames`: mirrored, reversed, both). Neither a mirror nor a
        reversal changes the group, and the expert trains on both; read over all four, a mirrored
        or reversed clip gets exactly the original's probability, as CameraCLIP's four-way reading
        of movement does (`cinestudio.cameraclip.symmetry`)."""
        frames = np.asarray(frames)
        return np.mean([_predict(self.net, variant_frames(frames, v), self.size, self.device) for v in variants], 0)

    def save(self, path: str | os.PathLike[str], summary: dict | None = None) -> Path:
        return save_checkpoint(path, self.net, None, extra={"size": self.size, "num_frames": self.net.num_frames,
                                                            **(summary or {})})

    @classmethod
    def load(cls, path: str | os.PathLike[str], num_frames: int, device: str = "cpu",
             pair: ExpertPair = SCALE) -> PairExpert:
        return cls.read(path, num_frames, device, pair)[0]

    @classmethod
    def read(cls, path: str | os.PathLike[str], num_frames: int, device: str = "cpu",
             pair: ExpertPair = SCALE) -> tuple[PairExpert, dict]:
        """The expert saved at `path` and the summary saved with it."""
        net = PairNet(num_frames)
        extra = load_checkpoint(path, net)["extra"]
        summary = {k: v for k, v in extra.items() if k not in ("size", "num_frames")}
        return cls(net.to(device).eval(), pair, int(extra.get("size", RENDER_SIZE))), summary


def fit_expert(config: ExpertConfig, device: str = "cpu", progress: ProgressFn | None = None,
               should_stop: StopFn | None = None, workers: int = 1, step_timer=None) -> tuple[PairExpert, dict]:
    """Render the clips and train the expert on them; the summary says what it took."""
    t0 = time.monotonic()
    frames, labels = render_training_clips(config, progress, should_stop, workers)
    render_s = time.monotonic() - t0
    net, summary = train_expert(config, frames, labels, device, progress, should_stop, step_timer)
    return PairExpert(net, PAIRS[config.pair], config.size), {"config": asdict(config), "clips": int(len(labels)),
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
    """The per-user folder of trained experts (e.g. ~/.cache/CineStudio/experts)."""
    from platformdirs import user_cache_dir

    from cinestudio.workspace import APP_NAME

    return Path(user_cache_dir(APP_NAME, appauthor=False)) / "experts"


#: Experts a store keeps (about 1.4 MB each): the most recently used. Every code change makes new
#: keys (`_code_fingerprint`), so without a bound the folder would only grow.
KEEP_EXPERTS = 32


@dataclass
class ExpertStore:
    """Trained experts kept by `expert_key`: ``FOLDER/KEY.safetensors``, the training summary in its
    metadata; the `keep` most recently used (saved or loaded) stay. A damaged or unreadable entry
    counts as missing; a store that cannot be written to (full disk, read-only) only costs the
    reuse, never the run."""

    folder: Path
    keep: int = KEEP_EXPERTS

    def path(self, config: ExpertConfig) -> Path:
        return self.folder / f"{expert_key(config)}.safetensors"

    def load(self, config: ExpertConfig, device: str = "cpu") -> tuple[PairExpert, dict] | None:
        path = self.path(config)
        if not path.is_file():
            return None
        try:
            found = PairExpert.read(path, config.num_frames, device, PAIRS[config.pair])
        except UserInputError as exc:
            log.warning("ignoring a damaged stored %s expert: %s", PAIRS[config.pair].title, exc)
            return None
        with contextlib.suppress(OSError):  # marks it used, so pruning keeps it
            os.utime(path)
        return found

    def kept(self) -> list[Path]:
        """The stored experts, most recently used first (not the temporary files of a save)."""
        return newest_first(self.folder, "*.safetensors")

    def prune(self) -> list[Path]:
        """Delete all but the `keep` most recently used experts; return those deleted."""
        return prune_oldest(self.folder, "*.safetensors", self.keep)

    def save(self, config: ExpertConfig, source: Path) -> Path | None:
        """Copy a run's saved expert file into the store (atomically); None when it cannot."""
        path = self.path(config)
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            with atomic_path(path) as tmp:
                shutil.copyfile(source, tmp)
        except OSError as exc:
            log.warning("could not keep the %s expert for reuse in %s: %s", PAIRS[config.pair].title, self.folder, exc)
            return None
        self.prune()
        return path


# ---- combining with CameraCLIP ------------------------------------------------------------------
def choose_moves(probs: np.ndarray, keys: list[str], p_second: dict[str, np.ndarray]) -> np.ndarray:
    """Movement class per clip from CameraCLIP's probabilities ``(B, C)`` over `keys` and, per pair
    name, an expert's probabilities ``(B,)`` that each clip is of the pair's second group:
    CameraCLIP's top class, except that where it belongs to a pair, the group is the one the mean
    of CameraCLIP's and the expert's probability favours (the top's twin there, or that group's
    most probable class)."""
    probs = np.asarray(probs, dtype=np.float64)
    pred = probs.argmax(1)
    out = pred.copy()
    for name, p_expert in p_second.items():
        pair = PAIRS[name]
        first = [keys.index(k) for k in pair.first if k in keys]
        second = [keys.index(k) for k in pair.second if k in keys]
        if not first or not second:
            continue
        mass = probs[:, first + second].sum(1)
        p_clip = probs[:, second].sum(1) / np.maximum(mass, 1e-12)
        is_second = 0.5 * (p_clip + np.asarray(p_expert, dtype=np.float64)) > 0.5
        for i in np.flatnonzero(np.isin(pred, first + second)):
            group = second if is_second[i] else first
            if pred[i] in group:
                continue
            twin = pair.twin(keys[pred[i]])
            out[i] = keys.index(twin) if twin in keys else group[int(np.argmax(probs[i, group]))]
    return out

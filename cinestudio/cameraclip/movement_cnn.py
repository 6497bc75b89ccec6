"""A second reader of movement beside CameraCLIP: the experts' small CNN, over every movement class.

The zoom/dolly and pan/tracking experts (`cinestudio.cameraclip.experts`) read a clip's 8 frames
minus their mean, stacked as channels (early fusion), and each decides one pair of classes on
clips the simulator renders for it. The movement CNN is the same network with one output per
movement class, trained after CameraCLIP on the run's own training clips (their cached frames,
so nothing is rendered or decoded again), mirrored and reversed with their labels swapped.

It reads pixels where CameraCLIP reads its motion features and frame embeddings, and the two
are wrong on different clips: where `movement_choice` picks a class, the log-probabilities are
mixed, ``(1 - w) · CameraCLIP's + w · the CNN's`` (`MIX_WEIGHT`), both read four ways
(`cinestudio.cameraclip.symmetry`), before the experts decide their pairs. Measured post hoc on
three runs (docs/cameraclip.md, twentieth session): simulated movement 0.864–0.870 → 0.886–0.892
on 500 held-out clips, real camera moves 0.937–0.944 → 0.942–0.947. Free-text similarities
(`score`, CLIPLoRA's guidance by text) do not change.
"""

from __future__ import annotations

import json
import math
import os
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from cinestudio.cameraclip.augment import variant_frames
from cinestudio.cameraclip.checkpoint import load_checkpoint, read_checkpoint, save_checkpoint
from cinestudio.cameraclip.experts import RENDER_SIZE, PairNet, expert_input
from cinestudio.cameraclip.symmetry import VARIANTS, class_permutation
from cinestudio.progress import ProgressFn, StopFn, check_stop

FILE_NAME = "movement_cnn.safetensors"
CONFIG_KEY = "movement_cnn"  # its summary in the run's config.json
MIX_WEIGHT = 0.3  # the CNN's share of the mixed log-probabilities (chosen post hoc, twentieth session)
LR = 2e-3
WEIGHT_DECAY = 1e-4
BATCH_SIZE = 32


def _network(num_frames: int, n_classes: int) -> PairNet:
    """The experts' network with one output per movement class. (Its head is replaced here rather
    than given a parameter in `experts`: any change to that module's code changes the keys of the
    experts kept for reuse, and every user would train them again for nothing.)"""
    net = PairNet(num_frames)
    net.head = torch.nn.Linear(net.head.in_features, n_classes)
    return net


@dataclass
class MovementCNN:
    """A trained movement CNN and the movement classes of its outputs, in order."""

    net: PairNet
    keys: list[str]
    weight: float = MIX_WEIGHT
    size: int = RENDER_SIZE

    @property
    def device(self) -> str:
        return str(next(self.net.parameters()).device)

    @torch.no_grad()
    def log_probs(self, frames: np.ndarray, keys: list[str], variants: tuple[int, ...] = VARIANTS,
                  batch_size: int = 128) -> np.ndarray:
        """Mean over `variants` (mirrored, reversed, both) of the movement log-probabilities
        ``(B, len(keys))`` of uint8 clips ``(B, T, H, W, 3)``, each variant's mapped back to the
        original classes, in the order of `keys` (a run's class order)."""
        if sorted(keys) != sorted(self.keys):
            raise ValueError(f"the movement CNN reads {self.keys}, not {keys}")
        order = [self.keys.index(k) for k in keys]
        frames = np.asarray(frames)
        self.net.eval()
        total, n = np.zeros((len(frames), len(keys))), 0
        for v in variants:
            perm = class_permutation(self.keys, v)
            if perm is None:
                continue
            clips = variant_frames(frames, v)
            lp = torch.cat([torch.log_softmax(self.net(expert_input(clips[i:i + batch_size], self.size)
                                                       .to(self.device)), 1).cpu()
                            for i in range(0, len(clips), batch_size)]).numpy()
            total += lp[:, perm][:, order]
            n += 1
        return total / max(n, 1)

    def save(self, path: str | os.PathLike[str], summary: dict | None = None) -> Path:
        return save_checkpoint(path, self.net, None, extra={"keys": self.keys, "weight": self.weight, "size": self.size,
                                                            "num_frames": self.net.num_frames, **(summary or {})})

    @classmethod
    def read(cls, path: str | os.PathLike[str], device: str = "cpu") -> tuple[MovementCNN, dict]:
        """The movement CNN saved at `path` and the summary saved with it."""
        extra = json.loads(read_checkpoint(path)[1].get("extra", "{}"))
        net = _network(int(extra["num_frames"]), len(extra["keys"]))
        load_checkpoint(path, net)
        summary = {k: v for k, v in extra.items() if k not in ("keys", "weight", "size", "num_frames")}
        return cls(net.to(device).eval(), list(extra["keys"]), float(extra["weight"]), int(extra["size"])), summary


def mix(clip_log_probs: np.ndarray, cnn: MovementCNN | None, frames: np.ndarray, keys: list[str],
        variants: tuple[int, ...] = VARIANTS) -> np.ndarray:
    """CameraCLIP's movement log-probabilities ``(B, C)`` over `keys`, mixed with the CNN's reading of
    the same clips (unchanged without one)."""
    if cnn is None:
        return clip_log_probs
    return (1.0 - cnn.weight) * clip_log_probs + cnn.weight * cnn.log_probs(frames, keys, variants)


def train_movement_cnn(frames: np.ndarray, labels: list[tuple[str, ...]], keys: list[str], epochs: int = 8,
                       seed: int = 0, device: str = "cpu", progress: ProgressFn | None = None,
                       should_stop: StopFn | None = None, step_timer=None) -> tuple[MovementCNN, dict]:
    """Train the CNN on clips ``(N, T, S, S, 3)`` uint8 with their movement labels (the first of
    each clip's; clips without one are left out). Each batch clip is read as is, mirrored,
    reversed or both at random, its label swapped to match. `step_timer`: the CPU thread
    governor (``begin_step()``/``end_step()``)."""
    progress = progress or (lambda d, t, m="": None)
    use = [i for i, lab in enumerate(labels) if lab and lab[0] in keys]
    if not use:
        raise ValueError("no clips with a movement label to train the movement CNN on")
    y = np.array([keys.index(labels[i][0]) for i in use])
    perms = [class_permutation(keys, v) for v in VARIANTS]
    allowed = [v for v in VARIANTS if perms[v] is not None]
    torch.manual_seed(seed)
    net = _network(frames.shape[1], len(keys)).to(device)
    opt = torch.optim.AdamW(net.parameters(), lr=LR, weight_decay=WEIGHT_DECAY)
    per_epoch = max(1, math.ceil(len(use) / BATCH_SIZE))
    total = epochs * per_epoch
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=LR, total_steps=total)
    rng = np.random.default_rng([seed, 0xC11])
    t0 = time.monotonic()
    losses: list[float] = []
    net.train()
    for step in range(total):
        check_stop(should_stop)
        if step_timer is not None:
            step_timer.begin_step()
        epoch, k = divmod(step, per_epoch)
        if k == 0:
            order = rng.permutation(len(use))
        batch = np.sort(order[k * BATCH_SIZE:(k + 1) * BATCH_SIZE])
        variant = rng.choice(allowed, len(batch))
        clips = np.stack([variant_frames(frames[use[i]][None], int(v))[0] for i, v in zip(batch, variant)])
        # the variant's frames show the class the original's label turns into
        target = torch.from_numpy(np.array([perms[v][y[i]] for i, v in zip(batch, variant)]))
        loss = F.cross_entropy(net(expert_input(clips, RENDER_SIZE).to(device)), target.to(device))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        losses.append(loss.item())
        if step_timer is not None:
            step_timer.end_step()
        progress(step + 1, total, f"movement CNN: epoch {epoch + 1}/{epochs} loss {np.mean(losses[-20:]):.3f}")
    net.eval()
    summary = {"clips": len(use), "epochs": epochs, "seed": seed, "steps": total,
               "train_s": round(time.monotonic() - t0, 1),
               "final_loss": round(float(np.mean(losses[-per_epoch:])), 4)}
    return MovementCNN(net, list(keys)), summary

"""Training examples for CameraDiff: CameraCLIP's loader, label-true augmentation, latents.

Clips come from `cinestudio.cameraclip.data` (a simulator ``labels.jsonl`` or an export manifest;
frames sampled uniformly and fitted to a square by its `FrameCache`). Each clip can be used as is
or in one of the variants of `cameraclip.augment` — horizontally flipped, time-reversed, or both —
*only with its labels transformed the same way* (a reversed zoom_out is a zoom_in; a flipped
pan_left is a pan_right) and only where the transform keeps every label true (`augment.can_reverse`:
reversing a dolly would change what the first frame's framing is, unless the simulator says that
framing and angle hold on every frame). A LoRA for class K trains on every (clip, variant) whose
transformed labels contain K, so zoom_in also learns from reversed zoom_out clips.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from cinestudio.cameraclip import augment
from cinestudio.cameraclip.data import ClipItem, FrameCache, load_items
from cinestudio.errors import UserInputError
from cinestudio.progress import ProgressFn, StopFn, check_stop
from cinestudio.taxonomy import AXES, Taxonomy

VARIANT_NAMES = {0: "as is", 1: "flipped", 2: "reversed", 3: "flipped+reversed"}


@dataclass(frozen=True)
class Example:
    item: ClipItem
    variant: int
    labels: dict[str, tuple[str, ...]]

    @property
    def key(self) -> str:
        return f"{self.item.key}#{self.variant}"


def variant_ok(item: ClipItem, variant: int) -> bool:
    return not (variant & 2) or augment.can_reverse(item.labels, item.labels_hold)


def examples_for(items: list[ClipItem], key: str | None = None, axis: str | None = None,
                 augment_variants: bool = True) -> list[Example]:
    """(clip, variant) pairs whose (transformed) labels hold `key` on `axis` (all when key is None)."""
    variants = (0, 1, 2, 3) if augment_variants else (0,)
    out = []
    for item in items:
        for v in variants:
            if not variant_ok(item, v):
                continue
            labels = augment.variant_labels(item.labels, v)
            if key is None or key in labels.get(axis or "", ()):
                out.append(Example(item, v, labels))
    return out


def load_examples(data: str | os.PathLike[str], tax: Taxonomy, key: str | None = None,
                  augment_variants: bool = True, max_clips: int | None = None) -> tuple[list[ClipItem], list[Example]]:
    items = load_items(data, tax)
    if max_clips:
        items = items[:max_clips]
    axis = tax.axis_of(key) if key else None
    examples = examples_for(items, key, axis, augment_variants)
    if not examples:
        raise UserInputError(str(data), f"no clips of type {key!r} (nor any that become one by a label-true "
                                        "flip or time reversal)" if key else "no usable clips")
    return items, examples


def variant_counts(examples: list[Example]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for ex in examples:
        name = VARIANT_NAMES[ex.variant]
        counts[name] = counts.get(name, 0) + 1
    return counts


def example_text(ex: Example, mode: str, tax: Taxonomy, rng: np.random.Generator, key: str | None = None) -> str:
    """The training text of an example.

    ``class``: one of the prompts of the LoRA's class (its transformed label); ``caption``: the clip's
    caption when used as is, else (a flipped/reversed caption would lie) prompts of its transformed
    labels; ``labels``: prompts of every known label; ``empty``: ""; anything else: that text."""
    def prompt_of(k: str) -> str:
        prompts = tax.get(tax.axis_of(k), k).prompts
        return prompts[int(rng.integers(len(prompts)))]

    if mode == "empty":
        return ""
    if mode == "class":
        if key is None:
            raise ValueError("class prompts need the LoRA's class")
        return prompt_of(key)
    if mode in ("caption", "labels"):
        if mode == "caption" and ex.variant == 0 and ex.item.caption:
            return ex.item.caption
        parts = [prompt_of(ex.labels[a][0]) for a in AXES if ex.labels.get(a)]
        return ", ".join(parts)
    return mode


class ExampleFrames:
    """Frames of examples at the training size: the clip's cached frames, then its variant."""

    def __init__(self, cache_dir: str | os.PathLike[str] | None, num_frames: int, size: int, crop: float = 1.0):
        """``crop`` < 1: frames are read at ``size / crop`` px and their centre ``size`` px kept — a
        narrower field of view at native resolution, in which a camera move covers 1/crop times more
        of the picture."""
        if not 0 < crop <= 1:
            raise UserInputError(str(crop), "crop must be in (0, 1]")
        self.size = size
        self.crop = crop
        self.cache = FrameCache(cache_dir, num_frames, size if crop == 1 else int(round(size / crop)))
        self._mem: dict[str, np.ndarray] = {}

    def get(self, ex: Example) -> np.ndarray:
        base = self._mem.get(ex.item.key)
        if base is None:
            base, _ = self.cache.get(ex.item)
            if self.crop != 1:
                o = (base.shape[1] - self.size) // 2
                base = np.ascontiguousarray(base[:, o:o + self.size, o:o + self.size])
            self._mem[ex.item.key] = base
        return augment.variant_frames(base, ex.variant)

    def warm(self, examples: list[Example], progress: ProgressFn | None = None,
             should_stop: StopFn | None = None) -> None:
        items = list({ex.item.key: ex for ex in examples}.values())
        for i, ex in enumerate(items):
            check_stop(should_stop)
            self.get(ex)
            if progress is not None:
                progress(i + 1, len(items), "caching frames")


def frames_to_tensor(frames: np.ndarray):
    """``(T, H, W, 3)`` uint8 → ``(T, 3, H, W)`` float in [-1, 1]."""
    import torch

    x = torch.from_numpy(np.ascontiguousarray(frames)).permute(0, 3, 1, 2).float()
    return x / 127.5 - 1.0


class LatentCache:
    """VAE latents ``(C, T, h, w)`` of examples (the posterior mean, times the scaling factor), kept
    in memory: the VAE is frozen while a LoRA or the UNet trains."""

    def __init__(self, vae, frames: ExampleFrames, device: str, dtype: Any = None, chunk: int = 16):
        self.vae = vae
        self.frames = frames
        self.device = device
        self.dtype = dtype
        self.chunk = chunk
        self._mem: dict[str, Any] = {}

    def get(self, ex: Example):
        import torch

        lat = self._mem.get(ex.key)
        if lat is None:
            x = frames_to_tensor(self.frames.get(ex)).to(self.device, self.vae.dtype)
            with torch.no_grad():
                parts = [self.vae.encode(x[i:i + self.chunk]).latent_dist.mean for i in range(0, len(x), self.chunk)]
            lat = torch.cat(parts) * float(self.vae.config.scaling_factor)
            lat = lat.permute(1, 0, 2, 3).contiguous()  # (C, T, h, w)
            self._mem[ex.key] = lat
        return lat if self.dtype is None else lat.to(self.dtype)

    def batch(self, examples: list[Example]):
        import torch

        return torch.stack([self.get(ex) for ex in examples])


def cache_dir_for(run: Path, name: str = "cache") -> Path:
    return run / name

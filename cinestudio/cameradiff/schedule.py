"""Weight schedules: which LoRA acts on which frames, how strongly, with smooth transitions.

A *unit* is one ``--lora FILE[:WEIGHT][@START-END]``: an adapter, a user weight and a frame range
(the whole clip when no range is given). A *segment* is a distinct frame range; several units may
share one (types at once, e.g. framing + movement), and consecutive segments make a multi-shot
video (types in sequence, e.g. frames 0–7 pan left, 8–15 zoom in).

Each unit has a *window* over the frames: its range's indicator, smoothed by a Hann kernel
``blend`` frames wide (edges replicated). Windows of adjacent ranges that tile the clip still sum
to 1 on every frame, so a transition is a cross-fade of ``blend`` frames, not a jump. A method
turns the units' *multipliers* per denoising step (merge: all 1; switch: one unit per segment at a
time; CLIPLoRA: what CameraCLIP asks for) into the strengths the mixer applies::

    strength[adapter, frame] = Σ_{units u of adapter} multiplier_u · weight_u · window_u[frame]
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cinestudio.errors import UserInputError


@dataclass(frozen=True)
class Unit:
    adapter: int  # index into the render's adapters
    weight: float
    start: int
    end: int  # exclusive
    key: str | None = None


@dataclass(frozen=True)
class Segment:
    start: int
    end: int
    units: tuple[int, ...]  # indices of the units on this range

    def frames(self, n: int) -> np.ndarray:
        """`n` frame indices spread uniformly over the segment (repeats when it is shorter)."""
        return np.linspace(self.start, self.end - 1, n).round().astype(int)


def make_units(refs: list, num_frames: int) -> list[Unit]:
    """Units from `lora.LoraRef`s (adapter = position in `refs`)."""
    units = []
    for i, ref in enumerate(refs):
        start = 0 if ref.start is None else int(ref.start)
        end = num_frames if ref.end is None else min(int(ref.end), num_frames)
        if start >= num_frames or end <= start:
            raise UserInputError(f"{ref.path}@{ref.start}-{ref.end or ''}",
                                 f"frame range is outside the video's {num_frames} frames")
        units.append(Unit(adapter=i, weight=float(ref.weight), start=start, end=end, key=ref.key))
    return units


def segments_of(units: list[Unit], num_frames: int) -> list[Segment]:
    """Distinct frame ranges, in order, with the units on each (the whole clip if no units)."""
    ranges: dict[tuple[int, int], list[int]] = {}
    for i, u in enumerate(units):
        ranges.setdefault((u.start, u.end), []).append(i)
    if not ranges:
        return [Segment(0, num_frames, ())]
    return [Segment(s, e, tuple(ix)) for (s, e), ix in sorted(ranges.items())]


def hann_kernel(blend: int) -> np.ndarray:
    if blend <= 1:
        return np.ones(1, np.float64)
    k = np.hanning(blend + 2)[1:-1]
    return k / k.sum()


def windows(units: list[Unit], num_frames: int, blend: int = 2) -> np.ndarray:
    """``(units, frames)`` windows in [0, 1]: each range's indicator smoothed over `blend` frames."""
    k = hann_kernel(int(blend))
    pad = len(k) // 2
    out = np.zeros((len(units), num_frames), np.float64)
    for i, u in enumerate(units):
        ind = np.zeros(num_frames)
        ind[u.start:u.end] = 1.0
        if len(k) > 1:
            padded = np.pad(ind, (pad, len(k) - 1 - pad), mode="edge")
            ind = np.convolve(padded, k[::-1], mode="valid")
        out[i] = ind
    return out.astype(np.float32)


def strengths(units: list[Unit], wins: np.ndarray, n_adapters: int, multipliers: np.ndarray | None = None) -> np.ndarray:
    """``(adapters, frames)`` strengths from the units' windows, weights and multipliers."""
    mult = np.ones(len(units), np.float32) if multipliers is None else np.asarray(multipliers, np.float32)
    out = np.zeros((n_adapters, wins.shape[1] if len(units) else 0), np.float32)
    for i, u in enumerate(units):
        out[u.adapter] += mult[i] * u.weight * wins[i]
    return out


def switch_multipliers(segments: list[Segment], n_units: int, step: int, tau: int) -> np.ndarray:
    """LoRA Switch: in every segment one unit is on at a time, the next every `tau` steps."""
    m = np.zeros(n_units, np.float32)
    for seg in segments:
        if seg.units:
            m[seg.units[(step // max(1, tau)) % len(seg.units)]] = 1.0
    return m


def composite_passes(strength: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """LoRA Composite: one UNet pass per adapter (that adapter alone, at its strengths) and each
    pass's share of every frame's noise prediction, ``|s_a(f)| / Σ_b |s_b(f)|`` (equal shares
    where no adapter acts), so with constant weights the predictions are simply averaged."""
    n, f = strength.shape
    active = [a for a in range(n) if np.any(strength[a] != 0)]
    if not active:
        return []
    mag = np.abs(strength[active])
    total = mag.sum(axis=0)
    share = np.where(total > 0, mag / np.where(total > 0, total, 1), 1.0 / len(active))
    passes = []
    for j, a in enumerate(active):
        alone = np.zeros_like(strength)
        alone[a] = strength[a]
        passes.append((alone, share[j].astype(np.float32)))
    return passes

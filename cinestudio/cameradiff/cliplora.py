"""CLIPLoRA: CameraCLIP-guided, cost-aware re-weighting of several cinematic LoRAs while denoising.

The algorithm (one render; units and segments as in `schedule`)::

    multipliers m_u ← 1 for every unit u (a LoRA on a frame range, with user weight w_u)
    for each denoising step i = 0 … S−1:
        UNet with strengths Σ_u m_u · w_u · window_u   (per adapter, per frame)
        scheduler step
        if (i + 1) % k == 0 and i + 1 ≤ stop·S and not settled and calls < max_calls:   # a scoring step
            x̂0 ← predicted clean latent from x_t and the guided noise prediction      (`predict_x0`)
            preview ← VAE-decode of x̂0, only the frames the scorer looks at (T per segment)
            e_u ← CameraCLIP's expression of u's type on its segment's frames:
                  the softmax probability of the class among its axis's classes (prompt-ensembled)
            d_u ← mean(e) − e_u                          # > 0: under-expressed
            m*_u ← U · softmax(d / temperature)_u,  clipped to [m_min, m_max]
            m_u ← (1 − η) · m_u + η · m*_u               # momentum η: no oscillation
            settled ← max |Δm| < settle_tol  or  max(e) − min(e) < gap_tol
        otherwise the step costs nothing extra (a *skipped* scoring step when settled).

The multipliers keep their mean at 1: CLIPLoRA moves strength from types that already show to
types that do not, rather than adding strength (too much LoRA strength breaks images). Several
segments (a multi-shot schedule) are scored each against their own types, and all units compete in
the one softmax, so a segment whose move is not yet visible gains weight from one that is.

Cost: a scoring call is one partial VAE decode plus one CameraCLIP forward (T frames per segment);
with k = 5 over 25 steps that is at most 4 calls (the last step is never scored: nothing would
follow it), fewer once settled or past ``stop`` (late steps refine texture, not motion). The
render's report lists every call (step, expressions, multipliers, milliseconds) and the skipped
ones, so the cost is explicit.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

import numpy as np

from cinestudio.cameradiff.schedule import Segment, Unit


class Scorer(Protocol):
    """What CLIPLoRA asks of a judge: how strongly each type shows in some frames, in [0, 1]."""

    num_frames: int

    def expression(self, frames: np.ndarray, keys: list[str]) -> np.ndarray:
        """`frames` ``(T, H, W, 3)`` uint8 → one number per key."""


class CameraClipScorer:
    """A trained CameraCLIP run as a `Scorer` (`cameraclip.infer`)."""

    def __init__(self, run):
        self.run = run
        self.num_frames = int(run.model.spec.num_frames)
        self.calls = 0

    @classmethod
    def load(cls, run_dir, device: str = "auto") -> CameraClipScorer:
        from cinestudio.cameraclip.infer import load_run

        return cls(load_run(run_dir, device))

    def axis_of(self, key: str) -> str:
        return self.run.taxonomy.axis_of(key)

    def scores(self, frames: np.ndarray, keys: list[str]) -> dict[str, dict[str, float]]:
        """Per key: ``probability`` (softmax over its axis) and cosine ``similarity``."""
        from cinestudio.cameraclip.infer import classify_frames

        self.calls += 1
        axes = tuple(dict.fromkeys(self.axis_of(k) for k in keys))
        ranked = classify_frames(self.run, frames, axes=axes)
        out = {}
        for key in keys:
            row = next(r for r in ranked[self.axis_of(key)] if r["key"] == key)
            out[key] = {"probability": row["score"], "similarity": row["similarity"]}
        return out

    def expression(self, frames: np.ndarray, keys: list[str]) -> np.ndarray:
        s = self.scores(frames, keys)
        return np.array([s[k]["probability"] for k in keys], np.float64)


@dataclass
class GuideOptions:
    k: int = 5  # score every k steps
    temperature: float = 0.1
    momentum: float = 0.5
    min_multiplier: float = 0.25
    max_multiplier: float = 3.0
    settle_tol: float = 0.05
    gap_tol: float = 0.05
    stop: float = 0.8  # no scoring after this fraction of the steps
    max_calls: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class GuideState:
    multipliers: np.ndarray
    calls: int = 0
    skipped: int = 0
    settled_at: int | None = None
    log: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0

    def report(self) -> dict[str, Any]:
        return {"calls": self.calls, "skipped": self.skipped, "settled_at_step": self.settled_at,
                "seconds": round(self.seconds, 4), "log": self.log,
                "final_multipliers": [round(float(m), 4) for m in self.multipliers]}


def target_multipliers(expr: np.ndarray, opts: GuideOptions) -> np.ndarray:
    """``U · softmax((mean(e) − e) / temperature)``, clipped to the allowed range."""
    e = np.asarray(expr, np.float64)
    if e.size <= 1:
        return np.ones_like(e)
    d = (e.mean() - e) / max(opts.temperature, 1e-6)
    p = np.exp(d - d.max())
    m = e.size * p / p.sum()
    return np.clip(m, opts.min_multiplier, opts.max_multiplier)


class ClipLoraGuide:
    """The state machine above; `step` is called at the end of every denoising step."""

    def __init__(self, units: list[Unit], segments: list[Segment], scorer: Scorer, total_steps: int,
                 opts: GuideOptions | None = None):
        self.units = units
        self.segments = segments
        self.scorer = scorer
        self.total = int(total_steps)
        self.opts = opts or GuideOptions()
        self.state = GuideState(multipliers=np.ones(len(units), np.float64))

    def is_scoring_step(self, step: int) -> bool:
        """Whether the end of `step` (0-based) is a scoring point, settled or not."""
        n = step + 1
        return (n % max(1, self.opts.k) == 0 and n < self.total and n <= self.opts.stop * self.total
                and len(self.units) > 0)

    def wants(self, step: int) -> bool:
        if not self.is_scoring_step(step):
            return False
        st = self.state
        if st.settled_at is not None or (self.opts.max_calls is not None and st.calls >= self.opts.max_calls):
            st.skipped += 1
            return False
        return True

    def frames_needed(self) -> list[np.ndarray]:
        return [seg.frames(self.scorer.num_frames) for seg in self.segments]

    def update(self, step: int, preview: dict[int, np.ndarray]) -> np.ndarray:
        """Score `preview` (frame index → uint8 frame) and move the multipliers; return them."""
        st = self.state
        t0 = time.perf_counter()
        expr = np.zeros(len(self.units), np.float64)
        for seg, idx in zip(self.segments, self.frames_needed()):
            if not seg.units:
                continue
            frames = np.stack([preview[int(i)] for i in idx])
            keys = [self.units[u].key or f"unit{u}" for u in seg.units]
            expr[list(seg.units)] = self.scorer.expression(frames, keys)
        before = st.multipliers.copy()
        target = target_multipliers(expr, self.opts)
        eta = float(np.clip(self.opts.momentum, 0.0, 1.0))
        st.multipliers = (1 - eta) * before + eta * target
        st.calls += 1
        delta = float(np.max(np.abs(st.multipliers - before))) if len(before) else 0.0
        gap = float(expr.max() - expr.min()) if len(expr) else 0.0
        if delta < self.opts.settle_tol or gap < self.opts.gap_tol:
            st.settled_at = step
        spent = time.perf_counter() - t0
        st.log.append({"step": step, "expression": [round(float(x), 4) for x in expr],
                       "multipliers": [round(float(x), 4) for x in st.multipliers],
                       "delta": round(delta, 4), "gap": round(gap, 4), "settled": st.settled_at is not None,
                       "score_ms": round(spent * 1000, 2)})
        return st.multipliers

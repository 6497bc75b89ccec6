"""The classical motion estimator's verdict as a prior on CameraCLIP's movement classes.

An ensemble of the learned model and `cinestudio.media.motion`: the estimator's rules (a global
similarity fit, parallax for dolly vs zoom) transfer from simulated to real footage better than
what a small model learns from simulated clips alone, while the model knows the classes the
estimator cannot name (tracking, rack focus) and reads the picture. CameraCLIP's movement
log-probabilities (softmax of its scaled similarities over the axis's classes) get a fixed bonus,
in nats, on the class the estimator names from the clip's own motion features (the same 8 frames;
no extra optical flow) and on the classes it is blind to, which it would call static or a pan.
The model overrules the estimator only where it is confident by more than the bonus.

A run's bonus is its ``movement_prior`` (0: the learned model alone); it changes only which movement
class wins (classify, eval), never the similarities of free texts (`score_frames`).
"""

from __future__ import annotations

import numpy as np

# Classes the estimator cannot name: a still-looking picture (or a pan) may be any of these.
ESTIMATOR_BLIND = ("tracking", "rack_focus", "handheld")


def estimator_verdict(raw: np.ndarray) -> str:
    """The estimator's dominant movement for one clip's raw motion ``(T-1, RAW_DIM)`` (columns
    dx, dy, log-scale, rotation, parallax first; square frames)."""
    from cinestudio.media.motion import classify_pairs

    raw = np.asarray(raw, dtype=np.float64)
    _, dominant = classify_pairs(raw[:, :4], raw[:, 4], aspect=1.0)
    return dominant[0] if dominant else "static"


def movement_bonus(raw: np.ndarray, keys: list[str], bonus: float, mode: str = "still") -> np.ndarray:
    """``(B, len(keys))`` log-prior bonus from raw motion ``(B, T-1, RAW_DIM)``: `bonus` on the
    estimator's class (when the taxonomy has it) and, when it sees a still picture or a pan/tilt,
    on the classes it is blind to (a tracking shot or a rack focus looks like that to it)."""
    out = np.zeros((len(raw), len(keys)), np.float32)
    if bonus <= 0:
        return out
    blind = [keys.index(k) for k in ESTIMATOR_BLIND if k in keys]
    for i, clip in enumerate(raw):
        verdict = estimator_verdict(clip)
        if verdict not in keys:
            continue
        out[i, keys.index(verdict)] = bonus
        if mode == "all" or verdict.startswith(("static", "pan", "tilt", "truck", "pedestal")):
            out[i, blind] = bonus
        if mode == "type" and verdict.startswith(("zoom", "dolly")):
            twin = verdict.replace("zoom", "dolly") if verdict.startswith("zoom") else verdict.replace("dolly", "zoom")
            if twin in keys:
                out[i, keys.index(twin)] = bonus
    return out

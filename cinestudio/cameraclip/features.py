"""Model inputs made from decoded frames: square frames at the model's size, and motion features.

Frames follow the project's convention (``uint8`` RGB, ``(T, H, W, 3)``). `fit_frames` resizes the
short side to the model's image size and centre-crops, like open_clip's own transform.

`motion_features` turns the classical global-motion fit of `cinestudio.media.motion` (per frame
pair: dx, dy as fractions of the frame size, log-scale, rotation in radians, and parallax — how much
of the flow no single homography explains, which separates a dolly from a zoom; pairs it cannot
track are NaN, here 0) into model features: each value twice, scaled linearly and through a signed
log, so slow and fast moves of one direction look alike to the model.
"""

from __future__ import annotations

import cv2
import numpy as np

RAW_DIM = 5  # dx, dy, log-scale, rotation, parallax
MOTION_DIM = 2 * RAW_DIM
_LOG_TAU = np.array([0.002, 0.002, 0.002, 0.002, 0.05], dtype=np.float32)
_LINEAR = np.array([10.0, 10.0, 10.0, 10.0, 1.0], dtype=np.float32)


def fit_frames(frames: np.ndarray, size: int) -> np.ndarray:
    """Resize the short side to `size` and centre-crop to ``(T, size, size, 3)`` uint8."""
    frames = np.asarray(frames)
    if frames.ndim != 4 or frames.shape[-1] != 3:
        raise ValueError(f"expected frames (T, H, W, 3), got {frames.shape}")
    t, h, w, _ = frames.shape
    if (h, w) == (size, size):
        return np.ascontiguousarray(frames, dtype=np.uint8)
    scale = size / min(h, w)
    nh, nw = max(size, round(h * scale)), max(size, round(w * scale))
    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    out = np.empty((t, size, size, 3), dtype=np.uint8)
    y0, x0 = (nh - size) // 2, (nw - size) // 2
    for i in range(t):
        resized = cv2.resize(np.ascontiguousarray(frames[i]), (nw, nh), interpolation=interp)
        out[i] = resized[y0:y0 + size, x0:x0 + size]
    return out


def raw_motion(frames: np.ndarray) -> np.ndarray:
    """Per frame pair (dx, dy, log-scale, rotation, parallax), ``(T-1, 5)`` float32, NaNs as 0."""
    from cinestudio.media.motion import global_motion

    frames = np.ascontiguousarray(frames, dtype=np.uint8)
    motion = np.asarray(global_motion(frames, with_parallax=True), dtype=np.float32)[:, :RAW_DIM]
    return np.nan_to_num(motion, nan=0.0, posinf=0.0, neginf=0.0)


def encode_motion(raw: np.ndarray) -> np.ndarray:
    """``(..., 5)`` raw motion → ``(..., MOTION_DIM)`` model features."""
    raw = np.asarray(raw, dtype=np.float32)
    logs = np.sign(raw) * np.log1p(np.abs(raw) / _LOG_TAU)
    return np.concatenate([np.clip(raw * _LINEAR, -5, 5), logs], axis=-1).astype(np.float32)


def motion_features(frames: np.ndarray) -> np.ndarray:
    """``(T, S, S, 3)`` frames → ``(T-1, MOTION_DIM)`` motion features."""
    return encode_motion(raw_motion(frames))

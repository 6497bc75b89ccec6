"""Model inputs made from decoded frames: square frames at the model's size, and motion features.

Frames follow the project's convention (``uint8`` RGB, ``(T, H, W, 3)``). `fit_frames` resizes the
short side to the model's image size and centre-crops, like open_clip's own transform.

`motion_features` turns the classical global-motion fit of `cinestudio.media.motion` (per frame
pair: dx, dy as fractions of the frame size, log-scale, rotation in radians, and parallax — how much
of the flow no single homography explains, which separates a dolly from a zoom; pairs it cannot
track are NaN, here 0), plus a few local cues that one global fit cannot give (`local_motion`:
centre-vs-border dense flow for tracking and parallax, sharpness change for rack focus), into
model features: each value twice, scaled linearly and through a signed log, so slow and fast
moves of one direction look alike to the model.
"""

from __future__ import annotations

import functools
import hashlib
import inspect
import sys

import cv2
import numpy as np

GLOBAL_DIM = 5  # dx, dy, log-scale, rotation, parallax (cinestudio.media.motion)
LOCAL_DIM = 6  # centre-minus-global flow dx, dy; border-minus-global dx, dy; sharpness change centre, border
RAW_DIM = GLOBAL_DIM + LOCAL_DIM
MOTION_DIM = 2 * RAW_DIM
_LOG_TAU = np.array([0.002] * 4 + [0.05] + [0.002] * 4 + [0.01, 0.01], dtype=np.float32)
_LINEAR = np.array([10.0] * 4 + [1.0] + [10.0] * 4 + [3.0, 3.0], dtype=np.float32)


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


def _sharpness(gray: np.ndarray, centre: np.ndarray) -> tuple[float, float]:
    lap = np.abs(cv2.Laplacian(gray, cv2.CV_32F))
    return float(lap[centre].mean()) + 1e-3, float(lap[~centre].mean()) + 1e-3


def local_motion(frames: np.ndarray) -> np.ndarray:
    """Per frame pair, what one global fit misses, ``(T-1, LOCAL_DIM)``: the mean dense flow
    (Farnebäck) of the frame's centre and of its border, each minus the whole frame's (as fractions
    of the width: a tracked subject stays put while the background moves; a dolly moves near and
    far things differently), and the log change of sharpness in centre and border (rack focus)."""
    grays = [cv2.cvtColor(np.ascontiguousarray(f), cv2.COLOR_RGB2GRAY) for f in frames]
    h, w = grays[0].shape
    yy, xx = np.mgrid[0:h, 0:w]
    centre = (np.abs(xx - (w - 1) / 2) < w / 4) & (np.abs(yy - (h - 1) / 2) < h / 4)
    sharp = [_sharpness(g, centre) for g in grays]
    out = np.zeros((len(grays) - 1, LOCAL_DIM), np.float32)
    for i in range(len(grays) - 1):
        flow = cv2.calcOpticalFlowFarneback(grays[i], grays[i + 1], None, 0.5, 2, 9, 2, 5, 1.1, 0)
        whole = flow.reshape(-1, 2).mean(0)
        c, b = flow[centre].mean(0) - whole, flow[~centre].mean(0) - whole
        out[i, :4] = [c[0] / w, c[1] / h, b[0] / w, b[1] / h]
        out[i, 4] = np.log(sharp[i + 1][0] / sharp[i][0])
        out[i, 5] = np.log(sharp[i + 1][1] / sharp[i][1])
    return out


def raw_motion(frames: np.ndarray) -> np.ndarray:
    """Per frame pair: the global fit (dx, dy, log-scale, rotation, parallax) and `local_motion`,
    ``(T-1, RAW_DIM)`` float32; pairs the global fit cannot track are 0."""
    from cinestudio.media.motion import global_motion

    frames = np.ascontiguousarray(frames, dtype=np.uint8)
    motion = np.asarray(global_motion(frames, with_parallax=True), dtype=np.float32)[:, :GLOBAL_DIM]
    motion = np.nan_to_num(motion, nan=0.0, posinf=0.0, neginf=0.0)
    return np.concatenate([motion, local_motion(frames)], axis=1)


@functools.lru_cache(maxsize=1)
def fingerprint() -> str:
    """A short hash of the code that computes the motion features (this module and the global
    motion estimator): frame caches are keyed by it, and a run records the one it was trained with,
    since a model only understands the features it learned from."""
    from cinestudio.media import motion

    digest = hashlib.sha1()
    for module in (sys.modules[__name__], motion):
        digest.update(inspect.getsource(module).encode("utf-8"))
    return digest.hexdigest()[:12]


def encode_motion(raw: np.ndarray) -> np.ndarray:
    """``(..., RAW_DIM)`` raw motion → ``(..., MOTION_DIM)`` model features."""
    raw = np.asarray(raw, dtype=np.float32)
    logs = np.sign(raw) * np.log1p(np.abs(raw) / _LOG_TAU)
    return np.concatenate([np.clip(raw * _LINEAR, -5, 5), logs], axis=-1).astype(np.float32)


def motion_features(frames: np.ndarray) -> np.ndarray:
    """``(T, S, S, 3)`` frames → ``(T-1, MOTION_DIM)`` motion features."""
    return encode_motion(raw_motion(frames))

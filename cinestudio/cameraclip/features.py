"""Model inputs made from decoded frames: square frames at the model's size, and motion features.

Frames follow the project's convention (``uint8`` RGB, ``(T, H, W, 3)``). `fit_frames` resizes the
short side to the model's image size and centre-crops, like open_clip's own transform.

`motion_features` turns the classical global-motion fit of `cinestudio.media.motion` (per frame
pair: dx, dy as fractions of the frame size, log-scale, rotation in radians, and parallax — how much
of the flow no single homography explains, which separates a dolly from a zoom; pairs it cannot
track are NaN, here 0), plus a few local cues that one global fit cannot give (`local_motion`:
centre-vs-border dense flow for tracking and parallax, sharpness change for rack focus), and a
coarse flow field over a longer baseline (`grid_motion`: a 3×3 grid of mean flow and local scale,
each minus the frame's dense similarity fit, and that fit's residual — where near and far things
move differently, which separates a dolly from a zoom and a tracked subject from its background),
into model features: each value twice, scaled linearly and through a signed log, so slow and fast
moves of one direction look alike to the model.

Versions (`ModelSpec.motion_features`): 1 = the global fit and `local_motion` (runs trained before
the grid existed), 2 = those and `grid_motion` without the two sharpness changes, 3 = version 2 plus
one derived column, the sharpness contrast (centre minus border log-sharpness change: a rack focus
sharpens one and blurs the other, while magnifying a real photograph blurs both alike), 4 = version 3
plus `focus_field` (where in a 3×3 grid the picture sharpens or blurs, each cell against the
frame's median: a rack focus moves the sharp zone, a still picture changes nowhere; it halved the
rack focus ↔ static mix-ups, docs/cameraclip.md, eleventh session). The cache always holds the full
raw vector; every version reads (and derives from) the same raw columns.
"""

from __future__ import annotations

import functools
import hashlib
import inspect

import cv2
import numpy as np

GLOBAL_DIM = 5  # dx, dy, log-scale, rotation, parallax (cinestudio.media.motion)
LOCAL_DIM = 6  # centre-minus-global flow dx, dy; border-minus-global dx, dy; sharpness change centre, border
GRID = 3  # grid_motion's cells per side
GRID_BASELINE = 3  # grid_motion measures flow over windows of up to this many frame gaps
GRID_DIM = 3 * GRID * GRID + 5  # per cell dx, dy, scale (minus the global fit); the fit (dx, dy, scale, rotation); residual
V1_RAW_DIM = GLOBAL_DIM + LOCAL_DIM
GRID_FIT = V1_RAW_DIM + 3 * GRID * GRID  # raw column of grid_motion's fit (dx, dy, scale, ...)
FOCUS_DIM = GRID * GRID  # focus_field: per cell, log-sharpness change minus the frame's median change
V3_RAW_DIM = V1_RAW_DIM + GRID_DIM
RAW_DIM = V3_RAW_DIM + FOCUS_DIM
MOTION_VERSION = 4  # what new models use (see the module docstring)
_LOG_TAU = np.array([0.002] * 4 + [0.05] + [0.002] * 4 + [0.01, 0.01] + [0.002] * GRID_DIM + [0.01] * FOCUS_DIM,
                    dtype=np.float32)
_LINEAR = np.array([10.0] * 4 + [1.0] + [10.0] * 4 + [3.0, 3.0] + [20.0] * GRID_DIM + [3.0] * FOCUS_DIM,
                   dtype=np.float32)


VERSIONS = (1, 2, 3, 4)


def raw_dim(version: int = MOTION_VERSION) -> int:
    """Raw motion columns a model of this feature version reads."""
    if version not in VERSIONS:
        raise ValueError(f"unknown motion feature version {version!r}")
    return V1_RAW_DIM if version == 1 else V3_RAW_DIM if version in (2, 3) else RAW_DIM


_SHARPNESS = (GLOBAL_DIM + 4, GLOBAL_DIM + 5)


def model_columns(version: int = MOTION_VERSION) -> list[int]:
    """The raw columns a model of this feature version reads as they are. Versions 2 and 3 leave
    out the sharpness changes: magnifying a real photograph (a zoom in) blurs it, which a model
    trained on rendered clips (rendered sharp at every focal length) took for a dolly; version 3
    reads their difference instead (`derived_columns`)."""
    cols = list(range(raw_dim(version)))
    return cols if version == 1 else [c for c in cols if c not in _SHARPNESS]


def derived_columns(raw: np.ndarray, version: int = MOTION_VERSION) -> np.ndarray:
    """Columns a feature version computes from raw ones, ``(..., k)``: versions 3 and 4's sharpness
    contrast (centre minus border log-sharpness change; a uniform blur or sharpening cancels)."""
    raw = np.asarray(raw, dtype=np.float32)
    if version in _DERIVED:
        return raw[..., _SHARPNESS[0]:_SHARPNESS[0] + 1] - raw[..., _SHARPNESS[1]:_SHARPNESS[1] + 1]
    return raw[..., :0]


_DERIVED = {v: (np.array([0.01], np.float32), np.array([3.0], np.float32)) for v in (3, 4)}  # log tau, linear scale


def motion_dim(version: int = MOTION_VERSION) -> int:
    """Model input features per frame pair for a feature version."""
    return 2 * (len(model_columns(version)) + (len(_DERIVED[version][0]) if version in _DERIVED else 0))


MOTION_DIM = motion_dim()


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


@functools.lru_cache(maxsize=8)
def _grid_geometry(h: int, w: int):
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    x = ((xx - (w - 1) / 2) / w).ravel()
    y = ((yy - (h - 1) / 2) / w).ravel()
    cell = (np.minimum((yy * GRID / h).astype(int), GRID - 1) * GRID
            + np.minimum((xx * GRID / w).astype(int), GRID - 1)).ravel()
    n = GRID * GRID
    count = np.bincount(cell, minlength=n).astype(np.float64)
    xd = x - (np.bincount(cell, x, n) / count)[cell]
    yd = y - (np.bincount(cell, y, n) / count)[cell]
    spread = np.bincount(cell, xd * xd + yd * yd, n)
    one, zero = np.ones_like(x), np.zeros_like(x)
    design = np.concatenate([np.stack([one, zero, x, -y], 1), np.stack([zero, one, y, x], 1)])
    return cell, count, xd, yd, spread, np.linalg.pinv(design), design


def grid_motion(frames: np.ndarray) -> np.ndarray:
    """Per frame pair, a coarse flow field ``(T-1, GRID_DIM)``: dense flow (Farnebäck) over the
    window of frames around the pair (up to `GRID_BASELINE` gaps: parallax grows with the
    baseline while the flow's noise does not), per frame gap and as a fraction of the width;
    a least-squares similarity fit (dx, dy, scale rate, rotation) of it; then per cell of a
    3×3 grid (row by row) the mean flow and the local scale rate, each minus the fit's, and the
    fit's RMS residual. A zoom or pan leaves the cells at ~0; a dolly makes near cells grow
    faster than far ones; a tracked subject stays put in its cells while the rest moves."""
    grays = [cv2.cvtColor(np.ascontiguousarray(f), cv2.COLOR_RGB2GRAY) for f in frames]
    t = len(grays)
    h, w = grays[0].shape
    cell, count, xd, yd, spread, pinv, design = _grid_geometry(h, w)
    n = GRID * GRID
    half = GRID_BASELINE // 2 + 1
    out = np.zeros((max(0, t - 1), GRID_DIM), np.float32)
    done: dict[tuple[int, int], np.ndarray] = {}
    for i in range(t - 1):
        a, b = max(0, i - half + 1), min(t - 1, i + half)
        if (a, b) not in done:
            flow = cv2.calcOpticalFlowFarneback(grays[a], grays[b], None, 0.5, 3, 9, 3, 5, 1.1, 0)
            flow = flow.astype(np.float64) / (w * (b - a))
            u, v = flow[..., 0].ravel(), flow[..., 1].ravel()
            uv = np.concatenate([u, v])
            fit = pinv @ uv
            resid = float(np.sqrt(np.mean((uv - design @ fit) ** 2)))
            mu = np.bincount(cell, u, n) / count - fit[0]
            mv = np.bincount(cell, v, n) / count - fit[1]
            scale = np.bincount(cell, xd * u + yd * v, n) / spread - fit[2]
            done[(a, b)] = np.concatenate([mu, mv, scale, fit, [resid]])
        out[i] = done[(a, b)]
    return out


def focus_field(frames: np.ndarray) -> np.ndarray:
    """Per frame pair, where the picture sharpens or blurs, ``(T-1, FOCUS_DIM)``: per cell of the
    3×3 grid (row by row) the log change of the mean absolute Laplacian, minus the median over the
    cells. A rack focus sharpens some cells and blurs others; magnifying a photograph, motion blur
    or a change of exposure move every cell alike and cancel."""
    grays = [cv2.cvtColor(np.ascontiguousarray(f), cv2.COLOR_RGB2GRAY) for f in frames]
    h, w = grays[0].shape
    cell, count = _grid_geometry(h, w)[:2]
    # + half a grey level: in a flat cell (sky, a blank wall) grain alone would swing the log widely
    logs = np.stack([np.log(np.bincount(cell, np.abs(cv2.Laplacian(g, cv2.CV_32F)).ravel().astype(np.float64),
                                        GRID * GRID) / count + 0.5) for g in grays])
    change = np.diff(logs, axis=0)
    return (change - np.median(change, axis=1, keepdims=True)).astype(np.float32)


def raw_motion(frames: np.ndarray) -> np.ndarray:
    """Per frame pair: the global fit (dx, dy, log-scale, rotation, parallax), `local_motion`,
    `grid_motion` and `focus_field`, ``(T-1, RAW_DIM)`` float32; pairs the global fit cannot track
    are 0."""
    from cinestudio.media.motion import global_motion

    frames = np.ascontiguousarray(frames, dtype=np.uint8)
    motion = np.asarray(global_motion(frames, with_parallax=True), dtype=np.float32)[:, :GLOBAL_DIM]
    motion = np.nan_to_num(motion, nan=0.0, posinf=0.0, neginf=0.0)
    return np.concatenate([motion, local_motion(frames), grid_motion(frames), focus_field(frames)], axis=1)


@functools.lru_cache(maxsize=1)
def fingerprint() -> str:
    """A short hash of the code that computes the raw motion features (`fit_frames`, `raw_motion`
    and its helpers here, and the global motion estimator): frame caches are keyed by it, and a run
    records the one it was trained with, since a model only understands the features it learned
    from. (How raw features are encoded for a model is not cached and not part of it.)"""
    from cinestudio.media import motion

    digest = hashlib.sha1()
    for obj in (fit_frames, _sharpness, local_motion, _grid_geometry, grid_motion, focus_field, raw_motion, motion):
        digest.update(inspect.getsource(obj).encode("utf-8"))
    digest.update(repr((GLOBAL_DIM, LOCAL_DIM, GRID, GRID_BASELINE, GRID_DIM)).encode("utf-8"))
    return digest.hexdigest()[:12]


#: Fingerprints of earlier feature code, with the newest version whose columns it computed as this
#: code does: appending columns for a new version changes the fingerprint, not the columns before.
SAME_COLUMNS = {"ace410692432": 3}  # before `focus_field` (version 4) was appended


def features_match(trained_with: str | None, version: int) -> bool:
    """Whether a run trained on features of fingerprint `trained_with` reads, at its feature
    `version`, the values this code computes (unknown: assume so)."""
    return not trained_with or trained_with == fingerprint() or SAME_COLUMNS.get(trained_with, 0) >= version


def encode_motion(raw: np.ndarray, version: int = MOTION_VERSION) -> np.ndarray:
    """``(..., RAW_DIM)`` raw motion → ``(..., motion_dim(version))`` model features (the raw
    columns of `model_columns`)."""
    d = raw_dim(version)
    raw = np.asarray(raw, dtype=np.float32)
    if raw.shape[-1] < d:
        raise ValueError(f"raw motion has {raw.shape[-1]} columns, feature version {version} needs {d}")
    cols = model_columns(version)
    tau, linear = _LOG_TAU[cols], _LINEAR[cols]
    picked = raw[..., cols]
    if version in _DERIVED:
        picked = np.concatenate([picked, derived_columns(raw, version)], axis=-1)
        tau = np.concatenate([tau, _DERIVED[version][0]])
        linear = np.concatenate([linear, _DERIVED[version][1]])
    logs = np.sign(picked) * np.log1p(np.abs(picked) / tau)
    return np.concatenate([np.clip(picked * linear, -5, 5), logs], axis=-1).astype(np.float32)


def motion_features(frames: np.ndarray, version: int = MOTION_VERSION) -> np.ndarray:
    """``(T, S, S, 3)`` frames → ``(T-1, motion_dim(version))`` motion features."""
    return encode_motion(raw_motion(frames), version)

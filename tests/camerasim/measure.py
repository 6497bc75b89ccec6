"""Simple pixel measures used by the simulator tests (no dependency on cinestudio.media.motion,
which is checked against the simulator, not the other way round)."""

from __future__ import annotations

import math

import cv2
import numpy as np


def gray(frame: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY)


def phase_shift(frames: np.ndarray) -> np.ndarray:
    """Summed phase-correlation shift (dx, dy) of consecutive frames: where the content moved."""
    win = cv2.createHanningWindow((frames.shape[2], frames.shape[1]), cv2.CV_32F)
    total = np.zeros(2)
    for a, b in zip(frames[:-1], frames[1:]):
        (dx, dy), _ = cv2.phaseCorrelate(gray(a).astype(np.float32), gray(b).astype(np.float32), win)
        total += (dx, dy)
    return total


def similarity(frames: np.ndarray, masks: np.ndarray | None = None, rows: tuple[float, float] | None = None) -> dict:
    """Chained LK + RANSAC similarity from the first to the last frame (points under `masks`
    ignored, and only within the `rows` band, fractions of the height, if given): translation of
    the image centre, scale and rotation (degrees, positive = the content turns clockwise on
    screen)."""
    S = np.eye(3)
    for i, (a, b) in enumerate(zip(frames[:-1], frames[1:])):
        ga, gb = gray(a), gray(b)
        keep = None
        if masks is not None or rows is not None:
            keep = np.ones(ga.shape, np.uint8) if masks is None else (masks[i] < 0.05).astype(np.uint8)
            if rows is not None:
                h = ga.shape[0]
                keep[: int(rows[0] * h)] = 0
                keep[int(rows[1] * h):] = 0
        p = cv2.goodFeaturesToTrack(ga, 300, 0.005, 3, mask=keep)
        if p is None or len(p) < 6:
            continue
        q, st, _ = cv2.calcOpticalFlowPyrLK(ga, gb, p, None)
        ok = st[:, 0] == 1
        if ok.sum() < 6:
            continue
        M, _ = cv2.estimateAffinePartial2D(p[ok], q[ok], method=cv2.RANSAC, ransacReprojThreshold=1.0)
        if M is not None:
            S = np.vstack([M, [0, 0, 1]]) @ S
    h, w = frames.shape[1:3]
    c = np.array([(w - 1) / 2, (h - 1) / 2, 1.0])
    moved = S @ c
    return {"dx": float(moved[0] - c[0]), "dy": float(moved[1] - c[1]),
            "scale": float(math.sqrt(abs(np.linalg.det(S[:2, :2])))),
            "rotation": float(math.degrees(math.atan2(S[1, 0], S[0, 0])))}


def sharpness(frame: np.ndarray, mask: np.ndarray) -> float:
    """Mean squared Laplacian of the grey image inside `mask` (eroded, to skip the outline),
    after a slight blur so that sensor noise does not count as detail."""
    g = cv2.GaussianBlur(gray(frame).astype(np.float32), (0, 0), 1.0)
    lap = cv2.Laplacian(g, cv2.CV_32F, ksize=3)
    m = cv2.erode((mask > 0.5).astype(np.uint8), np.ones((5, 5), np.uint8))
    if m.sum() < 20:
        return float("nan")
    return float((lap[m > 0] ** 2).mean())

"""The real-photo camera moves themselves: a shaking camera moves near and far content alike."""

import cv2
import numpy as np
import pytest

from tests.helpers import photo_moves as pm


def _shift(a: np.ndarray, b: np.ndarray, box) -> np.ndarray:
    """How far the content of `box` (x0, y0, x1, y1) moved from frame `a` to frame `b` (x, y px)."""
    x0, y0, x1, y1 = box
    ga = cv2.cvtColor(a[y0:y1, x0:x1], cv2.COLOR_RGB2GRAY).astype(np.float64)
    gb = cv2.cvtColor(b[y0:y1, x0:x1], cv2.COLOR_RGB2GRAY).astype(np.float64)
    (dx, dy), _ = cv2.phaseCorrelate(ga, gb)
    return np.array([dx, dy])


def test_a_shaking_dolly_moves_the_near_photo_with_the_background_only_more():
    """A hand-held camera's shake shifts all content the same way, near content more. The
    near cut-out once moved against the background: a motion no camera makes."""
    far, near = pm.photo("astronaut.png"), pm.photo("coffee.png")
    if far is None or near is None:
        pytest.skip(pm.SKIP_REASON)
    frames = pm.photo_move(far, "dolly_in", frames=8, size=(256, 192), speed=0.0, shake=1.0, rng=1, near=near)
    # the cut-out sits left of centre and fills about half the frame; the right edge shows the background
    near_box, far_box = (50, 60, 130, 140), (206, 10, 254, 180)
    agree = 0
    for i in range(1, len(frames)):
        n = _shift(frames[0], frames[i], near_box)
        f = _shift(frames[0], frames[i], far_box)
        if np.abs(f).max() > 0.3:
            assert np.dot(n, f) > 0, (i, n, f)
            ratio = np.linalg.norm(n) / np.linalg.norm(f)
            assert 2.0 < ratio < 5.0, (i, n, f)  # 3 by construction; phase correlation is rough
            agree += 1
    assert agree >= 3


def test_a_walking_subject_moves_across_a_still_camera_and_leaves_the_background_still():
    """The benchmark's "subject" clips: a static camera sees a cut-out walk across the photo."""
    far, mover = pm.photo("astronaut.png"), pm.photo("coffee.png")
    if far is None or mover is None:
        pytest.skip(pm.SKIP_REASON)
    plain = pm.photo_move(far, "static", frames=9, size=(128, 96), rng=3)
    walked = pm.photo_move(far, "static", frames=9, size=(128, 96), rng=3, mover=mover)
    assert np.array_equal(plain[0], plain[-1])  # the camera does not move
    changed = np.abs(walked.astype(int) - plain.astype(int)).max(axis=(0, 3)) > 0
    assert 0.1 < changed.mean() < 0.7  # the subject's track, not the whole frame
    cols = np.nonzero(changed.any(axis=0))[0]
    first = np.nonzero((np.abs(walked[0].astype(int) - plain[0].astype(int)).max(axis=2) > 0).any(axis=0))[0]
    last = np.nonzero((np.abs(walked[-1].astype(int) - plain[-1].astype(int)).max(axis=2) > 0).any(axis=0))[0]
    shift = (last.mean() - first.mean())
    assert abs(shift) > 0.1 * 128 and cols.size > first.size  # it crossed part of the frame
    assert np.array_equal(walked[:, :, :5], plain[:, :, :5]) or np.array_equal(walked[:, :, -5:], plain[:, :, -5:])

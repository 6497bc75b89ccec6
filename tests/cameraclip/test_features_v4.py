"""Version-4 motion features: version 3 plus the focus field (where the picture sharpens or blurs)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from cinestudio.cameraclip import augment, features

FOCUS = slice(features.V3_RAW_DIM, features.RAW_DIM)


def _texture(seed: int, size: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    img = rng.integers(0, 256, size=(size // 3, size // 3, 3), dtype=np.uint8)
    return np.ascontiguousarray(cv2.resize(img, (size, size), interpolation=cv2.INTER_NEAREST))


def _focused(img: np.ndarray, left_sigma: float, right_sigma: float) -> np.ndarray:
    """The picture with its left third blurred by one amount and the rest by another."""
    w = img.shape[1]
    out = cv2.GaussianBlur(img, (0, 0), right_sigma) if right_sigma > 0 else img.copy()
    left = cv2.GaussianBlur(img, (0, 0), left_sigma) if left_sigma > 0 else img
    out[:, :w // 3] = left[:, :w // 3]
    return out


def test_version_4_is_version_3_plus_the_focus_field():
    raw = np.random.default_rng(0).normal(scale=0.02, size=(7, features.RAW_DIM)).astype(np.float32)
    v3, v4 = features.encode_motion(raw, 3), features.encode_motion(raw, 4)
    n3, k = v3.shape[-1] // 2, features.FOCUS_DIM
    assert v4.shape == (7, features.motion_dim(4)) and features.motion_dim(4) == features.motion_dim(3) + 2 * k
    # version 3's columns come first in each half (linear, then signed log); the focus field follows each
    assert np.allclose(v4[:, :n3 - 1], v3[:, :n3 - 1]) and np.allclose(v4[:, n3 + k:2 * n3 + k - 1], v3[:, n3:-1])
    assert np.allclose(v4[:, n3 - 1:n3 - 1 + k], np.clip(3 * raw[:, FOCUS], -5, 5))
    assert features.raw_dim(3) == features.V3_RAW_DIM and features.raw_dim(4) == features.RAW_DIM
    assert features.encode_motion(raw[:, :features.V3_RAW_DIM], 3).shape == v3.shape  # version 3 needs no focus field


def test_focus_field_follows_a_rack_focus_not_a_uniform_blur():
    img = _texture(2, 63)
    still = np.stack([img] * 4)
    uniform = np.stack([_focused(img, s, s) for s in (0.0, 0.5, 0.9, 1.3)])   # a magnified photograph
    rack = np.stack([_focused(img, 1.5 - s, s) for s in (0.0, 0.5, 1.0, 1.5)])  # focus pulled to the left third
    assert np.abs(features.focus_field(still)).max() == 0.0
    assert np.abs(features.focus_field(uniform)).max() < 0.05
    field = features.focus_field(rack).reshape(3, features.GRID, features.GRID)  # pairs × rows × columns
    assert (field[:, :, 0] > 0.5).all() and (field[:, :, 1:] < 0.1).all()   # the left sharpens against the rest
    # the mirror moves the sharpening cells to the right; played backwards, the left blurs
    raw = np.zeros((3, features.RAW_DIM), np.float32)
    raw[:, FOCUS] = features.focus_field(rack)
    np.testing.assert_allclose(augment.variant_motion(raw, 1)[:, FOCUS], features.focus_field(rack[:, :, ::-1]), atol=1e-5)
    np.testing.assert_allclose(augment.variant_motion(raw, 2)[:, FOCUS], features.focus_field(rack[::-1]), atol=1e-5)


@pytest.mark.parametrize("trained_with,version,same", [
    (None, 4, True),                      # a run that did not record it
    ("ace410692432", 3, True),            # version-3 runs from before the focus field: their columns are unchanged
    ("ace410692432", 4, False),
    ("0123456789ab", 3, False),           # other code
])
def test_runs_know_whether_their_features_are_still_computed_the_same(trained_with, version, same):
    assert features.features_match(trained_with, version) is same
    assert features.features_match(features.fingerprint(), version)

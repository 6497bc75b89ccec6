"""The estimator prior on movement, and old runs' motion-feature version."""

from __future__ import annotations

import numpy as np

from cinestudio.cameraclip import features
from cinestudio.cameraclip.prior import estimator_verdict, movement_bonus
from cinestudio.cameraclip.registry import ModelSpec

KEYS = ["static", "pan_left", "pan_right", "zoom_in", "dolly_in", "tracking", "rack_focus"]


def _raw(dx=0.0, log_scale=0.0, parallax=0.0):
    raw = np.zeros((7, features.RAW_DIM), np.float32)
    raw[:, 0], raw[:, 2], raw[:, 4] = dx, log_scale, parallax
    return raw


def test_estimator_verdict_and_bonus():
    assert estimator_verdict(_raw()) == "static"
    assert estimator_verdict(_raw(dx=0.02)) == "pan_left"  # content moves right: the camera pans left
    assert estimator_verdict(_raw(log_scale=0.03)) == "zoom_in"
    assert estimator_verdict(_raw(log_scale=0.03, parallax=1.0)) == "dolly_in"
    bonus = movement_bonus(np.stack([_raw(), _raw(log_scale=0.03)]), KEYS, 2.0)
    # still: static and the classes the estimator is blind to; zoom: only the zoom
    assert bonus[0].tolist() == [2, 0, 0, 0, 0, 2, 2] and bonus[1].tolist() == [0, 0, 0, 2, 0, 0, 0]
    assert not movement_bonus(np.stack([_raw()]), KEYS, 0.0).any()


def test_old_runs_read_version_1_features():
    assert ModelSpec.from_dict({"model": "cameraclip-tiny"}).motion_features == 1
    assert ModelSpec().motion_features == features.MOTION_VERSION == 4
    raw = np.random.default_rng(0).normal(size=(7, features.RAW_DIM)).astype(np.float32)
    assert features.encode_motion(raw, 1).shape == (7, 22)
    assert features.encode_motion(raw, 2).shape == (7, features.motion_dim(2))

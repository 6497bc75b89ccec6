"""Version-3 motion features: version 2 plus the sharpness contrast (centre minus border)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from cinestudio.cameraclip import augment, features


def _texture(seed: int, size: int = 64) -> np.ndarray:
    rng = np.random.default_rng(seed)
    img = rng.integers(0, 256, size=(size // 4, size // 4, 3), dtype=np.uint8)
    img = cv2.resize(img, (size, size), interpolation=cv2.INTER_NEAREST)
    return np.ascontiguousarray(img)


def _blurred(img: np.ndarray, centre_sigma: float, border_sigma: float) -> np.ndarray:
    """The picture with its centre (the middle half each way) and its border blurred apart."""
    h, w = img.shape[:2]
    out = cv2.GaussianBlur(img, (0, 0), border_sigma) if border_sigma > 0 else img.copy()
    c = cv2.GaussianBlur(img, (0, 0), centre_sigma) if centre_sigma > 0 else img
    out[h // 4:3 * h // 4, w // 4:3 * w // 4] = c[h // 4:3 * h // 4, w // 4:3 * w // 4]
    return out


def _contrast(frames: np.ndarray) -> np.ndarray:
    raw = np.zeros((len(frames) - 1, features.RAW_DIM), np.float32)
    raw[:, features.GLOBAL_DIM:features.V1_RAW_DIM] = features.local_motion(frames)
    return features.derived_columns(raw, 3)[:, 0]


def test_version_3_is_version_2_plus_the_sharpness_contrast():
    raw = np.random.default_rng(0).normal(scale=0.02, size=(7, features.RAW_DIM)).astype(np.float32)
    v2, v3 = features.encode_motion(raw, 2), features.encode_motion(raw, 3)
    n2 = v2.shape[-1] // 2
    assert v3.shape == (7, features.motion_dim(3)) and features.motion_dim(3) == features.motion_dim(2) + 2
    # linear halves, then signed-log halves: version 2's columns unchanged, one more in each half
    assert np.allclose(v3[:, :n2], v2[:, :n2]) and np.allclose(v3[:, n2 + 1:2 * n2 + 1], v2[:, n2:])
    contrast = raw[:, 9] - raw[:, 10]
    assert np.allclose(v3[:, n2], np.clip(3 * contrast, -5, 5))
    with pytest.raises(ValueError):
        features.encode_motion(raw, 5)


def test_sharpness_contrast_sees_a_rack_focus_not_a_uniform_blur():
    img = _texture(1)
    uniform = np.stack([_blurred(img, s, s) for s in (0.0, 0.5, 0.9, 1.3)])   # a magnified photo
    rack = np.stack([_blurred(img, s, 1.3 - s) for s in (1.3, 0.9, 0.5, 0.0)])  # focus pulled to the centre
    assert np.abs(_contrast(uniform)).max() < 0.15
    assert (_contrast(rack) > 0.3).all()
    # a rack focus played backwards pulls the other way; a mirror changes nothing
    raw = np.zeros((3, features.RAW_DIM), np.float32)
    raw[:, features.GLOBAL_DIM:features.V1_RAW_DIM] = features.local_motion(rack)
    c = features.derived_columns(raw, 3)[:, 0]
    assert np.allclose(features.derived_columns(augment.variant_motion(raw, 2), 3)[:, 0], -c[::-1])
    assert np.allclose(features.derived_columns(augment.variant_motion(raw, 1), 3)[:, 0], c)


def test_training_takes_a_feature_version(tmp_path, clip_data):
    import json

    from cinestudio.cameraclip.infer import load_run
    from cinestudio.cameraclip.train import TrainConfig, train
    from cinestudio.errors import UserInputError

    from typer.testing import CliRunner

    from cinestudio.cli import app

    res = CliRunner().invoke(app, ["clip", "train", "--data", str(clip_data), "--out", str(tmp_path / "run"),
                                   "--epochs", "1", "--batch-size", "7", "--device", "cpu", "--motion-features", "3",
                                   "--movement-focus", "1", "--scale-expert-clips", "0",
                                   "--track-expert-clips", "0", "--json"])
    assert res.exit_code == 0, res.output
    saved = json.loads((tmp_path / "run" / "config.json").read_text(encoding="utf-8"))
    assert saved["model"]["motion_features"] == 3 and saved["train"]["movement_focus"] == 1.0
    assert load_run(tmp_path / "run").model.motion_dim == features.motion_dim(3)
    with pytest.raises(UserInputError):
        train(TrainConfig(data=str(clip_data), out=str(tmp_path / "bad"), epochs=1, device="cpu", motion_features=7))


def test_movement_focus_weighs_hard_clips_more():
    import torch

    from cinestudio.cameraclip.train import soft_clip_loss

    targets = torch.eye(3)[[0, 1, 2, 0]]
    logits = torch.tensor([[5.0, 0, 0], [0, 5.0, 0], [0, 0, 5.0], [0, 5.0, 0]])  # the last one is wrong
    plain = soft_clip_loss(logits, targets)
    assert torch.equal(plain, soft_clip_loss(logits, targets, 0.0))
    focused = soft_clip_loss(logits.clone().requires_grad_(True), targets, 2.0)
    assert focused > plain   # the wrong clip's term weighs more than the mean
    # gradient reaches the logits through the loss terms only (the weights are constants)
    x = logits.clone().requires_grad_(True)
    soft_clip_loss(x, targets, 2.0).backward()
    assert x.grad[3].abs().sum() > 10 * x.grad[0].abs().sum()

"""The movement CNN: it learns from mirrored and reversed clips with their labels swapped, reads
four ways exactly symmetrically, mixes into CameraCLIP's reading, and survives a save."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from cinestudio.cameraclip.augment import variant_frames
from cinestudio.cameraclip.movement_cnn import MIX_WEIGHT, MovementCNN, mix, train_movement_cnn

KEYS = ["static", "pan_left", "pan_right"]


def _pans(n_per_class: int, seed: int) -> tuple[np.ndarray, list[tuple[str, ...]]]:
    """8-frame 32 px clips of a random texture: still, or the window sliding 2 px a frame to the
    left (the picture moves right: a pan left) or to the right."""
    rng = np.random.default_rng(seed)
    clips, labels = [], []
    for key, step in (("static", 0), ("pan_left", -2), ("pan_right", 2)):
        for _ in range(n_per_class):
            texture = rng.integers(0, 256, (32, 64, 3), dtype=np.uint8)
            texture = np.repeat(np.repeat(texture[::4, ::4], 4, 0), 4, 1)  # blobs the CNN can follow
            x0 = 16
            clips.append(np.stack([texture[:, x0 + step * t:x0 + step * t + 32] for t in range(8)]))
            labels.append((key,))
    return np.stack(clips), labels


@pytest.fixture(scope="module")
def trained():
    frames, labels = _pans(16, seed=0)
    cnn, summary = train_movement_cnn(frames, labels, KEYS, epochs=12, seed=0)
    return cnn, summary


def test_it_learns_pans_from_clips_seen_mirrored_and_reversed(trained):
    cnn, summary = trained
    assert summary["clips"] == 48 and summary["steps"] == 12 * 2
    frames, labels = _pans(10, seed=1)  # clips it has not seen
    pred = cnn.log_probs(frames, KEYS).argmax(1)
    truth = np.array([KEYS.index(lab[0]) for lab in labels])
    # a label swap done wrong would teach that a mirrored pan left is a pan left: pans at chance
    assert (pred == truth).mean() >= 0.8


def test_four_way_reading_is_exactly_symmetric_and_follows_the_callers_class_order(trained):
    cnn, _ = trained
    frames, _ = _pans(2, seed=2)
    lp = cnn.log_probs(frames, KEYS)
    mirrored = cnn.log_probs(variant_frames(frames, 1), KEYS)
    np.testing.assert_allclose(mirrored, lp[:, [0, 2, 1]], atol=1e-5)  # left and right swap places
    reordered = cnn.log_probs(frames, ["pan_right", "static", "pan_left"])
    np.testing.assert_allclose(reordered, lp[:, [2, 0, 1]], atol=1e-6)
    with pytest.raises(ValueError):
        cnn.log_probs(frames, ["static", "pan_left"])


def test_mixing_weighs_the_cnn_by_its_weight_and_nothing_without_one(trained):
    cnn, _ = trained
    frames, _ = _pans(1, seed=3)
    clip = np.log(np.full((len(frames), 3), 1 / 3))
    assert mix(clip, None, frames, KEYS) is clip
    expected = (1 - MIX_WEIGHT) * clip + MIX_WEIGHT * cnn.log_probs(frames, KEYS)
    np.testing.assert_allclose(mix(clip, cnn, frames, KEYS), expected, atol=1e-6)


def test_save_and_read_give_the_same_reader(trained, tmp_path):
    cnn, summary = trained
    path = cnn.save(tmp_path / "movement_cnn.safetensors", summary)
    again, saved_summary = MovementCNN.read(path)
    assert again.keys == KEYS and again.weight == MIX_WEIGHT and saved_summary == summary
    frames, _ = _pans(1, seed=4)
    np.testing.assert_allclose(again.log_probs(frames, KEYS), cnn.log_probs(frames, KEYS), atol=1e-6)
    assert all(torch.equal(a, b) for a, b in zip(again.net.state_dict().values(), cnn.net.state_dict().values()))

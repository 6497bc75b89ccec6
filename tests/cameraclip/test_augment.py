from __future__ import annotations

import numpy as np
import pytest

from cinestudio.cameraclip import augment


def test_flip_swaps_left_right_only():
    frames = np.arange(2 * 4 * 5 * 3, dtype=np.uint8).reshape(2, 4, 5, 3)
    labels = {"framing": ("close_up",), "angle": ("low_angle",), "movement": ("pan_left",)}
    flipped, lab = augment.hflip(frames, labels)
    assert np.array_equal(flipped[:, :, 0], frames[:, :, -1])
    assert lab == {"framing": ("close_up",), "angle": ("low_angle",), "movement": ("pan_right",)}
    assert augment.hflip(frames, {**labels, "movement": ("tilt_up",)})[1]["movement"] == ("tilt_up",)
    assert augment.hflip(frames, {**labels, "movement": ("truck_left",)})[1]["movement"] == ("truck_right",)


def test_reverse_swaps_direction_and_refuses_when_labels_would_lie():
    frames = np.zeros((3, 2, 2, 3), np.uint8)
    frames[0] = 1
    rev, lab = augment.reverse(frames, {"framing": ("long_shot",), "angle": (), "movement": ("pan_left",)})
    assert rev[-1].max() == 1 and lab["movement"] == ("pan_right",)
    # a reversed dolly starts where it ended: its framing label would no longer hold
    with pytest.raises(ValueError):
        augment.reverse(frames, {"framing": ("long_shot",), "angle": (), "movement": ("dolly_in",)})
    _, lab = augment.reverse(frames, {"framing": (), "angle": (), "movement": ("zoom_in",)})
    assert lab["movement"] == ("zoom_out",)


def test_variants_compose():
    labels = {"framing": (), "angle": (), "movement": ("pan_left",)}
    assert augment.variant_labels(labels, 3)["movement"] == ("pan_left",)  # flip + reverse
    assert augment.variant_labels(labels, 2)["movement"] == ("pan_right",)


def test_variant_motion_matches_the_motion_of_the_variant_frames():
    from cinestudio.cameraclip.features import raw_motion
    from tests.cameraclip.clips import render

    frames = render("pan_left", "medium_shot", "eye_level", np.random.default_rng(2), frames=8, size=64)
    raw = raw_motion(frames)
    for v in (1, 2, 3):
        derived = augment.variant_motion(raw, v)
        measured = raw_motion(augment.variant_frames(frames, v))
        assert np.allclose(derived[:, :4], measured[:, :4], atol=3e-3), v  # global dx, dy, scale, rotation
        assert np.sign(derived[:, 0]).tolist() == np.sign(measured[:, 0]).tolist()


def test_variant_motion_mirrors_the_flow_grid():
    from cinestudio.cameraclip import features
    from tests.cameraclip.clips import render

    frames = render("zoom_in", "medium_shot", "eye_level", np.random.default_rng(4), frames=8, size=64)
    raw = features.raw_motion(frames)
    assert raw.shape == (7, features.RAW_DIM)
    grid = slice(features.V1_RAW_DIM, features.RAW_DIM)
    derived = augment.variant_motion(raw, 1)[:, grid]
    measured = features.raw_motion(augment.variant_frames(frames, 1))[:, grid]
    assert np.corrcoef(derived.ravel(), measured.ravel())[0, 1] > 0.95
    # a version-1 slice (runs trained before the grid) flips the same way it always did
    assert np.allclose(augment.variant_motion(raw[:, :11], 3), augment.variant_motion(raw, 3)[:, :11])

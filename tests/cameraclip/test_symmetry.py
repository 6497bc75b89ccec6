"""Movement read four ways (`cinestudio.cameraclip.symmetry`): as is, mirrored, reversed, both."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from cinestudio.cameraclip.augment import variant_frames, variant_motion
from cinestudio.cameraclip.symmetry import class_permutation, movement_log_probs

KEYS = ["static", "pan_left", "pan_right", "tilt_up", "tilt_down", "zoom_in", "zoom_out", "tracking"]


def test_each_variant_maps_a_class_to_the_one_it_turns_into():
    named = {v: [KEYS[i] for i in class_permutation(KEYS, v)] for v in range(4)}
    assert named[0] == KEYS
    assert named[1] == ["static", "pan_right", "pan_left", "tilt_up", "tilt_down", "zoom_in", "zoom_out", "tracking"]
    assert named[2] == ["static", "pan_right", "pan_left", "tilt_down", "tilt_up", "zoom_out", "zoom_in", "tracking"]
    assert named[3] == ["static", "pan_left", "pan_right", "tilt_down", "tilt_up", "zoom_out", "zoom_in", "tracking"]
    # a scheme with a pan left and no pan right is not closed under the mirror
    assert class_permutation(["static", "pan_left"], 1) is None and class_permutation(["static", "pan_left"], 0) is not None


@pytest.fixture(scope="module")
def model_and_clip():
    from cinestudio.cameraclip import features
    from cinestudio.cameraclip.infer import class_embeddings, prepare_clip_raw
    from cinestudio.cameraclip.model import build_model
    from cinestudio.cameraclip.registry import ModelSpec
    from cinestudio.taxonomy import load_taxonomy
    from tests.cameraclip.clips import render

    torch.manual_seed(0)
    model = build_model(ModelSpec()).eval()
    frames = render("pan_left", "medium_shot", "eye_level", np.random.default_rng(2), frames=8, size=64)
    fitted, raw = prepare_clip_raw(model, frames)
    keys, text = class_embeddings(model, load_taxonomy("cinematic2k"), "movement")
    assert raw.shape[-1] == features.RAW_DIM
    return model, fitted[None], raw[None], keys, text


def test_the_four_way_reading_of_a_mirrored_or_reversed_clip_is_the_originals_with_classes_swapped(model_and_clip):
    model, frames, raw, keys, text = model_and_clip
    four = movement_log_probs(model, frames, raw, keys, text)
    one = movement_log_probs(model, frames, raw, keys, text, variants=(0,))
    for v in (1, 2, 3):
        # a batch's variant is each clip's: mirrored across its width, reversed in time
        assert np.array_equal(variant_frames(frames, v)[0], variant_frames(frames[0], v))
        perm = class_permutation(keys, v)
        four_v = movement_log_probs(model, variant_frames(frames, v), variant_motion(raw, v), keys, text)
        one_v = movement_log_probs(model, variant_frames(frames, v), variant_motion(raw, v), keys, text, variants=(0,))
        assert np.allclose(four_v, four[:, perm], atol=1e-5)
        # read once, an untrained model is not symmetric: the average is what makes it so
        assert not np.allclose(one_v, one[:, perm], atol=1e-3)


def test_read_once_it_is_the_models_own_softmax(model_and_clip):
    model, frames, raw, keys, text = model_and_clip
    from cinestudio.cameraclip.infer import embed_prepared

    video = embed_prepared(model, frames, model.encode_motion(raw))
    scale = model.logit_scale.exp().clamp(max=100.0)
    expected = torch.log_softmax(scale * (video @ text.T), dim=1).detach().numpy()
    assert np.allclose(movement_log_probs(model, frames, raw, keys, text, variants=(0,)), expected, atol=1e-6)
    four = movement_log_probs(model, frames, raw, keys, text)
    assert four.shape == expected.shape and not np.allclose(four, expected, atol=1e-4)
    # callers that have the clips' embeddings already pass them: the same reading
    assert np.allclose(movement_log_probs(model, frames, raw, keys, text, video=video), four, atol=1e-6)

"""The four composition methods on the tiny pipeline: run, deterministic, sensitive to weights;
per-frame schedules; the mixer agrees with set_adapters."""

from __future__ import annotations

import numpy as np
import pytest

from cinestudio.cameradiff import schedule as sch
from cinestudio.cameradiff.compose import ComposeOptions, compose
from cinestudio.cameradiff.mixing import AdapterMixer
from cinestudio.errors import UserInputError
from tests.cameradiff.conftest import RENDER, StubScorer, refs_of

STUB = {"pan_left": 0.8, "zoom_in": 0.2, "close_up": 0.5}


def run(loaded, refs, method, **kw):
    pipe, _ = loaded
    scorer = StubScorer(STUB) if method == "cliplora" else None
    return compose(pipe, "a scene", refs, ComposeOptions(**{**RENDER, "method": method, **kw}), scorer=scorer)


@pytest.mark.parametrize("method", ["merge", "switch", "composite", "cliplora"])
def test_method_runs_deterministic_and_weight_sensitive(loaded, method):
    pair = refs_of(loaded, "pan_left", "zoom_in")
    a = run(loaded, pair, method, guide=_guide())
    b = run(loaded, refs_of(loaded, "pan_left", "zoom_in"), method, guide=_guide())
    assert a.frames.shape == (8, 16, 16, 3)
    np.testing.assert_array_equal(a.frames, b.frames)
    other_seed = run(loaded, pair, method, seed=1, guide=_guide())
    assert np.abs(other_seed.frames.astype(int) - a.frames).max() > 0
    weaker = run(loaded, refs_of(loaded, ("pan_left", 0.2), ("zoom_in", 0.2)), method, guide=_guide())
    assert np.abs(weaker.frames.astype(int) - a.frames).mean() > 0.5
    steps = RENDER["steps"]
    assert a.report["unet_calls"] == (2 * steps if method == "composite" else steps)
    assert len(a.report["multipliers_per_step"]) == steps


def _guide(**kw):
    from cinestudio.cameradiff.cliplora import GuideOptions

    return GuideOptions(**{"k": 1, **kw})


def test_switch_rotates_every_tau(loaded):
    out = run(loaded, refs_of(loaded, "pan_left", "zoom_in"), "switch", steps=6, tau=2)
    assert out.report["multipliers_per_step"] == [[1, 0], [1, 0], [0, 1], [0, 1], [1, 0], [1, 0]]


def test_unloaded_adapters_do_not_act(loaded):
    """Adapters loaded but not named in the render are off (the session pipeline holds three)."""
    only_pan = run(loaded, refs_of(loaded, "pan_left"), "merge")
    pan_and_zero_zoom = run(loaded, refs_of(loaded, "pan_left", ("zoom_in", 0.0)), "merge")
    np.testing.assert_array_equal(only_pan.frames, pan_and_zero_zoom.frames)
    none = run(loaded, [], "merge")
    assert np.abs(none.frames.astype(int) - only_pan.frames).max() > 3


def test_mixer_matches_set_adapters(loaded):
    """Merge through the lora_B hooks is what peft's set_adapters(names, weights) does."""
    pipe, _ = loaded
    refs = refs_of(loaded, ("pan_left", 0.6), ("close_up", 1.5))
    ours = run(loaded, refs, "merge").frames.astype(int)
    names = [r.adapter for r in refs]
    import torch

    pipe.set_adapters(names, [0.6, 1.5])
    theirs = pipe("a scene", num_frames=8, height=16, width=16, num_inference_steps=RENDER["steps"],
                  guidance_scale=RENDER["guidance_scale"],
                  latents=torch.randn((1, 4, 8, 8, 8), generator=torch.Generator().manual_seed(0)),
                  output_type="np").frames[0]
    pipe.set_adapters(names, [1.0, 1.0])
    assert np.abs((theirs * 255).round().astype(int) - ours).max() <= 1


def test_per_frame_strength(loaded):
    """A strength that is 0 on some frames: all-0 is the base, all-w is merge at w, and a LoRA on
    frames 0-3 moves frames 0-3 more than frames 4-7."""
    pipe, _ = loaded
    refs = refs_of(loaded, "close_up")
    base = run(loaded, [], "merge").frames.astype(int)
    full = run(loaded, refs, "merge").frames.astype(int)
    first = run(loaded, refs_of(loaded, ("close_up", 1.0, 0, 4)), "merge", blend=0).frames.astype(int)
    d_first = np.abs(first - base).mean(axis=(1, 2, 3))
    d_full = np.abs(full - base).mean(axis=(1, 2, 3))
    assert d_first[:4].mean() > 2 * d_first[4:].mean()
    assert d_full[4:].mean() > 2 * d_first[4:].mean()
    # the mixer's frame layout: a spatial and a motion layer each see per-frame scales
    mixer = AdapterMixer(pipe.unet, [refs[0].adapter], 8)
    try:
        assert mixer.layers > 0
    finally:
        mixer.close()


def test_windows_cross_fade():
    units = [sch.Unit(0, 1.0, 0, 8), sch.Unit(1, 1.0, 8, 16)]
    w = sch.windows(units, 16, blend=4)
    np.testing.assert_allclose(w.sum(axis=0), 1.0, atol=1e-6)
    assert w[0, 0] == 1.0 and w[1, 15] == 1.0
    assert 0 < w[0, 8] < 1 and 0 < w[1, 7] < 1
    assert np.all(np.diff(w[0]) <= 1e-7)  # monotone hand-over
    hard = sch.windows(units, 16, blend=0)
    assert hard[0, :8].tolist() == [1.0] * 8 and hard[0, 8:].tolist() == [0.0] * 8
    s = sch.strengths(units, w, 2, np.array([1.0, 0.5]))
    np.testing.assert_allclose(s[1], 0.5 * w[1])


def test_composite_shares():
    s = np.array([[1.0, 1.0, 0.0], [1.0, 0.0, 0.0]], np.float32)
    passes = sch.composite_passes(s)
    assert len(passes) == 2
    shares = np.stack([p[1] for p in passes])
    np.testing.assert_allclose(shares, [[0.5, 1.0, 0.5], [0.5, 0.0, 0.5]])
    assert passes[0][0][1].sum() == 0 and passes[1][0][0].sum() == 0


def test_sequence_segments_in_report(loaded):
    out = run(loaded, refs_of(loaded, ("pan_left", 1.0, 0, 4), ("zoom_in", 1.0, 4, 8)), "merge")
    segs = out.report["segments"]
    assert [(s["start"], s["end"], s["keys"]) for s in segs] == [(0, 4, ["pan_left"]), (4, 8, ["zoom_in"])]


def test_bad_inputs(loaded):
    pipe, _ = loaded
    with pytest.raises(UserInputError, match="multiple"):
        run(loaded, [], "merge", height=12, width=12)
    with pytest.raises(UserInputError, match="frames"):
        run(loaded, [], "merge", num_frames=64)
    with pytest.raises(UserInputError, match="outside"):
        run(loaded, refs_of(loaded, ("pan_left", 1.0, 9, 12)), "merge")
    with pytest.raises(UserInputError, match="unknown method"):
        run(loaded, [], "blend")
    with pytest.raises(UserInputError, match="CameraCLIP"):
        compose(pipe, "x", refs_of(loaded, "pan_left"), ComposeOptions(**{**RENDER, "method": "cliplora"}))

"""CLIPLoRA: the re-weighting moves toward the under-expressed type, counts and skips its calls,
scores each segment against its own types; x̂0 prediction; the CameraCLIP scorer."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from cinestudio.cameradiff.cliplora import ClipLoraGuide, GuideOptions, target_multipliers
from cinestudio.cameradiff.compose import ComposeOptions, compose
from cinestudio.cameradiff.mixing import predict_x0
from cinestudio.cameradiff.schedule import make_units, segments_of
from tests.cameradiff.conftest import RENDER, StubScorer, refs_of


def test_target_multipliers_favour_the_weak():
    m = target_multipliers(np.array([0.9, 0.1]), GuideOptions(temperature=0.2))
    assert m[1] > 1 > m[0]
    np.testing.assert_allclose(target_multipliers(np.array([0.4, 0.4, 0.4]), GuideOptions()), 1.0)
    assert target_multipliers(np.array([0.3]), GuideOptions()).tolist() == [1.0]
    clipped = target_multipliers(np.array([1.0, 0.0, 0.0]), GuideOptions(temperature=0.01, min_multiplier=0.25))
    assert clipped.min() >= 0.25


def test_weights_move_toward_the_under_expressed_type(loaded):
    pipe, _ = loaded
    scorer = StubScorer({"pan_left": 0.9, "zoom_in": 0.1})
    opts = ComposeOptions(**{**RENDER, "steps": 10, "method": "cliplora"},
                          guide=GuideOptions(k=2, settle_tol=0.0, gap_tol=0.0))
    out = compose(pipe, "a scene", refs_of(loaded, "pan_left", "zoom_in"), opts, scorer=scorer)
    report = out.report["cliplora"]
    # scoring after steps 2, 4, 6, 8 (1-based); none after the last step or past stop=0.8
    assert [e["step"] for e in report["log"]] == [1, 3, 5, 7] and report["calls"] == 4 == len(scorer.calls)
    pan, zoom = report["final_multipliers"]
    assert zoom > 1.5 and pan < 0.6
    hist = out.report["multipliers_per_step"]
    assert hist[0] == [1.0, 1.0] and hist[2][1] > hist[1][1]  # the new weights apply from the next step
    assert all(h[1] >= g[1] for g, h in zip(hist, hist[1:]))
    # the preview the scorer saw: T frames of the decoded x̂0
    assert scorer.calls[0][0] == (4, 16, 16, 3)
    # and the video differs from merge's
    merge = compose(pipe, "a scene", refs_of(loaded, "pan_left", "zoom_in"),
                    ComposeOptions(**{**RENDER, "steps": 10, "method": "merge"}))
    assert np.abs(merge.frames.astype(int) - out.frames).max() > 0


def test_settled_guide_skips_calls(loaded):
    pipe, _ = loaded
    scorer = StubScorer({"pan_left": 0.5, "zoom_in": 0.5})
    opts = ComposeOptions(**{**RENDER, "steps": 10, "method": "cliplora"}, guide=GuideOptions(k=2))
    report = compose(pipe, "a scene", refs_of(loaded, "pan_left", "zoom_in"), opts, scorer=scorer).report["cliplora"]
    assert report["calls"] == 1 and report["skipped"] == 3 and report["settled_at_step"] == 1
    assert report["final_multipliers"] == [1.0, 1.0]
    budget = ComposeOptions(**{**RENDER, "steps": 10, "method": "cliplora"},
                            guide=GuideOptions(k=1, max_calls=2, settle_tol=0, gap_tol=0))
    report = compose(pipe, "a scene", refs_of(loaded, "pan_left", "zoom_in"), budget,
                     scorer=StubScorer({"pan_left": 0.9, "zoom_in": 0.1})).report["cliplora"]
    assert report["calls"] == 2 and report["skipped"] == 6


def test_segments_scored_against_their_own_types(loaded):
    pipe, _ = loaded
    scorer = StubScorer({"pan_left": 0.9, "zoom_in": 0.2, "close_up": 0.3})
    refs = refs_of(loaded, ("pan_left", 1.0, 0, 4), ("zoom_in", 1.0, 4, 8), ("close_up", 1.0, 4, 8))
    opts = ComposeOptions(**{**RENDER, "steps": 6, "method": "cliplora"}, guide=GuideOptions(k=3, settle_tol=0, gap_tol=0))
    out = compose(pipe, "a scene", refs, opts, scorer=scorer)
    assert [keys for _, keys in scorer.calls] == [["pan_left"], ["zoom_in", "close_up"]]
    m = out.report["cliplora"]["final_multipliers"]
    assert m[1] > 1 > m[0] and m[1] > m[2] > m[0]


def test_guide_unit_bookkeeping():
    class R:
        def __init__(self, key, start=None, end=None):
            self.key, self.weight, self.start, self.end, self.path = key, 1.0, start, end, key

    units = make_units([R("a"), R("b")], 16)
    guide = ClipLoraGuide(units, segments_of(units, 16), StubScorer({"a": 1, "b": 0}, 8), total_steps=25,
                          opts=GuideOptions(k=5))
    assert [s for s in range(25) if guide.is_scoring_step(s)] == [4, 9, 14, 19]
    assert guide.frames_needed()[0].tolist() == [0, 2, 4, 6, 9, 11, 13, 15]


def test_predict_x0_matches_the_scheduler(tiny_base):
    from diffusers import DDIMScheduler

    from cinestudio.cameradiff.backend import ddim_scheduler

    for kind in ("epsilon", "v_prediction"):
        sched: DDIMScheduler = ddim_scheduler({"num_train_timesteps": 1000, "beta_start": 0.00085, "beta_end": 0.012,
                                               "prediction_type": kind})
        sched.set_timesteps(10)
        gen = torch.Generator().manual_seed(0)
        x = torch.randn((1, 4, 2, 4, 4), generator=gen)
        eps = torch.randn(x.shape, generator=gen)
        t = sched.timesteps[3]
        ref = sched.step(eps, t, x).pred_original_sample
        torch.testing.assert_close(predict_x0(sched, x, eps, t), ref, atol=1e-5, rtol=1e-5)


def test_cameraclip_scorer_probabilities():
    """The real scorer on a randomly initialised CameraCLIP: one probability per key, per its axis."""
    from cinestudio.cameraclip.infer import LoadedRun
    from cinestudio.cameraclip.model import CameraCLIP
    from cinestudio.cameraclip.registry import ModelSpec
    from cinestudio.cameradiff.cliplora import CameraClipScorer
    from cinestudio.taxonomy import load_taxonomy

    torch.manual_seed(0)
    run = LoadedRun(model=CameraCLIP(ModelSpec(), device="cpu").eval(), taxonomy=load_taxonomy(), config={})
    scorer = CameraClipScorer(run)
    frames = np.random.default_rng(0).integers(0, 255, (8, 32, 32, 3), dtype=np.uint8)
    e = scorer.expression(frames, ["pan_left", "close_up"])
    assert e.shape == (2,) and np.all((e > 0) & (e < 1))
    s = scorer.scores(frames, ["zoom_in"])
    assert set(s["zoom_in"]) == {"probability", "similarity"}
    with pytest.raises(Exception):
        scorer.axis_of("not_a_type")

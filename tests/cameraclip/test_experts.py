"""The experts (zoom/dolly, pan/tracking): their clips, training, how they combine with CameraCLIP, their files."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from cinestudio.camerasim.dataset import plan_scale_moves, plan_track_moves
from cinestudio.cameraclip.experts import (SCALE, TRACK, ExpertConfig, ExpertStore, PairExpert, PairNet, choose_moves,
                                           default_expert_cache, expert_input, expert_key, expert_names,
                                           render_training_clips, train_expert)

KEYS = ["static", "zoom_in", "zoom_out", "dolly_in", "dolly_out", "pan_left", "pan_right", "tracking"]


def _probs(**p):
    row = np.array([p.get(k, 0.0) for k in KEYS])
    return row / row.sum()


def test_only_a_top_zoom_or_dolly_changes_and_only_its_type():
    probs = np.stack([
        _probs(zoom_in=0.5, dolly_in=0.3, static=0.2),    # CameraCLIP p(dolly) 0.375; expert 0.9 → mean 0.64: dolly
        _probs(zoom_out=0.6, dolly_out=0.1, pan_left=0.3),  # 0.143 and 0.8 → 0.47: stays a zoom
        _probs(dolly_out=0.7, zoom_out=0.2, static=0.1),  # 0.78 and 0.1 → 0.44: a zoom, still out
        _probs(static=0.6, dolly_in=0.4),                 # the top is no scale move: unchanged
    ])
    got = choose_moves(probs, KEYS, {"scale": np.array([0.9, 0.8, 0.1, 0.0])})
    assert [KEYS[i] for i in got] == ["dolly_in", "zoom_out", "zoom_out", "static"]
    # without the scale classes in the taxonomy the choice is CameraCLIP's own
    assert list(choose_moves(probs[:, [0, 5]], ["static", "pan_left"], {"scale": np.ones(4)})) == [0, 1, 0, 0]
    assert SCALE.applies(KEYS) and not SCALE.applies(["static", "zoom_in", "pan_left"])


def test_a_top_pan_or_tracking_shot_follows_the_mean_of_the_pan_tracking_experts_and_cameraclips_view():
    probs = np.stack([
        _probs(pan_left=0.5, tracking=0.3, static=0.2),   # CameraCLIP p(tracking) 0.375; expert 0.9 → 0.64: tracking
        _probs(tracking=0.5, pan_left=0.1, pan_right=0.3),  # 0.556 and 0.2 → 0.38: the more probable pan, right
        _probs(pan_right=0.6, tracking=0.2, zoom_in=0.2),  # 0.25 and 0.6 → 0.43: stays a pan right
        _probs(zoom_in=0.5, dolly_in=0.3, tracking=0.2),   # the top is no pan: the zoom/dolly expert decides
    ])
    experts = {"track": np.array([0.9, 0.2, 0.6, 1.0]), "scale": np.array([0.5, 0.5, 0.5, 0.9])}
    assert [KEYS[i] for i in choose_moves(probs, KEYS, experts)] == ["tracking", "pan_right", "pan_right", "dolly_in"]
    assert TRACK.applies(KEYS) and not TRACK.applies(["static", "pan_left", "pan_right"])
    assert TRACK.twin("pan_left") is None and SCALE.twin("zoom_out") == "dolly_out" and SCALE.twin("dolly_in") == "zoom_in"
    with pytest.raises(Exception, match="unknown expert"):
        ExpertConfig(pair="roll")


def test_track_plans_pair_each_framing_with_tracking_shots_as_many_as_its_pans():
    plans = plan_track_moves(2, seed=4)
    framings = {p.framing for p in plans}
    assert framings and "extreme_close_up" not in framings  # no tracking shot fills the frame with a face
    for framing in framings:
        moves = [p.movement for p in plans if p.framing == framing]
        assert sorted(moves) == ["pan_left"] * 2 + ["pan_right"] * 2 + ["tracking"] * 4
    assert plans == plan_track_moves(2, seed=4) and plans != plan_track_moves(2, seed=5)


def test_plans_cover_every_framing_but_the_extreme_close_up_evenly_and_repeat_for_a_seed():
    plans = plan_scale_moves(2, seed=4)
    cells = {(p.framing, p.movement) for p in plans}
    assert len(plans) == 2 * len(cells) and all(p.movement.startswith(("zoom", "dolly")) for p in plans)
    assert "extreme_close_up" not in {p.framing for p in plans} and len({p.framing for p in plans}) == 4
    assert plans == plan_scale_moves(2, seed=4) and plans != plan_scale_moves(2, seed=5)


def test_renders_are_the_same_whatever_the_number_of_worker_processes():
    cfg = ExpertConfig(clips_per_cell=1, seed=2, num_frames=4)
    one, labels = render_training_clips(cfg, workers=1)
    two, labels2 = render_training_clips(cfg, workers=2, chunk=5)
    assert one.shape == (16, 4, 64, 64, 3) and one.dtype == np.uint8
    assert np.array_equal(one, two) and np.array_equal(labels, labels2) and labels.sum() == 8
    with pytest.raises(Exception, match="at least 1"):
        plan_scale_moves(0, seed=1)
    tracked, labels = render_training_clips(ExpertConfig(clips_per_cell=1, seed=2, num_frames=4, pair="track"))
    assert tracked.shape == (16, 4, 64, 64, 3) and labels.tolist() == [0, 0, 1, 1] * 4  # per framing: pans, tracking


def _toy_clips(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Label 1: a bright bar moving in the middle of the picture; label 0: moving near an edge. Like
    zoom against dolly, neither a mirror nor time running backwards changes the label."""
    frames = rng.integers(0, 60, (n, 4, 64, 64, 3)).astype(np.uint8)
    labels = rng.integers(0, 2, n)
    for i, y in enumerate(labels):
        left = 24 if y else (2 if rng.random() < 0.5 else 46)
        for t in range(4):
            frames[i, t, :, left + 4 * t:left + 4 * t + 4] = 255
    return frames, labels.astype(np.int64)


def test_training_learns_a_separable_task_and_the_weights_round_trip(tmp_path):
    frames, labels = _toy_clips(160, np.random.default_rng(0))
    net, summary = train_expert(ExpertConfig(epochs=3, batch_size=16, num_frames=4, val_fraction=0.2, lr=3e-3),
                                frames, labels)
    assert summary["steps"] == 3 * 8 and summary["n_val"] == 32
    expert = PairExpert(net)
    test, truth = _toy_clips(64, np.random.default_rng(1))
    p = expert.p_second(test)
    assert p.shape == (64,) and np.all((p >= 0) & (p <= 1))
    assert np.mean((p > 0.5) == truth.astype(bool)) >= 0.9
    path = expert.save(tmp_path / "expert.safetensors", summary)
    again = PairExpert.load(path, num_frames=4, pair=TRACK)
    assert again.pair is TRACK and np.allclose(again.p_second(test), p, atol=1e-6)
    assert not path.read_bytes().startswith(b"\x80")  # safetensors (a JSON header), not a pickle
    with pytest.raises(Exception, match="does not fit"):
        PairExpert.load(path, num_frames=8)


def test_read_four_ways_an_expert_gives_a_mirrored_or_reversed_clip_the_originals_probability():
    from cinestudio.cameraclip.augment import variant_frames
    from cinestudio.cameraclip.symmetry import VARIANTS

    torch.manual_seed(0)
    expert = PairExpert(PairNet(4).eval())  # untrained: nothing in its weights is symmetric
    clips = np.random.default_rng(0).integers(0, 256, (3, 4, 64, 64, 3), dtype=np.uint8)
    once, four = expert.p_second(clips), expert.p_second(clips, VARIANTS)
    for v in (1, 2, 3):
        assert np.allclose(expert.p_second(variant_frames(clips, v), VARIANTS), four, atol=1e-6)
    assert not np.allclose(expert.p_second(variant_frames(clips, 1)), once, atol=1e-6)  # read once it is not
    assert np.allclose(expert.p_second(clips, (0, 1)), (once + expert.p_second(variant_frames(clips, 1))) / 2)


def test_input_removes_what_stands_still_and_resizes():
    still = np.full((2, 4, 32, 32, 3), 90, np.uint8)
    x = expert_input(still, 64)
    assert x.shape == (2, 12, 64, 64) and torch.count_nonzero(x) == 0
    assert PairNet(4)(x).shape == (2, 2)


class _FixedExpert:
    def __init__(self, p: float, pair=SCALE):
        self.p, self.pair = p, pair

    def p_second(self, frames, variants=(0,)):
        return np.full(len(frames), self.p)


@torch.no_grad()
def test_classify_swaps_a_top_zoom_with_its_dolly_twin_when_the_expert_says_so():
    from cinestudio.cameraclip.infer import LoadedRun, class_embeddings, classify_frames, embed_clips
    from cinestudio.cameraclip.model import build_model
    from cinestudio.cameraclip.registry import ModelSpec
    from cinestudio.taxonomy import load_taxonomy
    from tests.cameraclip.clips import render

    torch.manual_seed(0)
    run = LoadedRun(model=build_model(ModelSpec()).eval(), taxonomy=load_taxonomy("cinematic2k"), config={})
    frames = render("zoom_in", "medium_shot", "eye_level", np.random.default_rng(3), frames=8, size=64)
    keys, text = class_embeddings(run.model, run.taxonomy, "movement")
    text = text.clone()
    text[keys.index("zoom_in")] = embed_clips(run, frames)[0]  # CameraCLIP's top: zoom in, for sure
    run._class_cache = {"movement": (keys, text)}
    alone = classify_frames(run, frames, axes=("movement",), four_ways=False)["movement"]
    assert alone[0]["key"] == "zoom_in"
    run.experts = [_FixedExpert(0.0), _FixedExpert(1.0, TRACK)]  # the pan/tracking expert: not for a zoom
    assert classify_frames(run, frames, axes=("movement",), four_ways=False)["movement"] == alone
    run.experts = [_FixedExpert(1.0)]
    swapped = classify_frames(run, frames, axes=("movement",), four_ways=False)["movement"]
    score = {r["key"]: r["score"] for r in alone}
    assert swapped[0]["key"] == "dolly_in" and swapped[0]["score"] == score["zoom_in"]
    assert {r["key"]: r["score"] for r in swapped}["zoom_in"] == score["dolly_in"]
    assert all(score[r["key"]] == r["score"] for r in swapped if r["key"] not in ("zoom_in", "dolly_in"))


def test_kept_experts_are_found_by_settings_and_a_damaged_or_unwritable_store_costs_only_the_reuse(tmp_path):
    config = ExpertConfig(clips_per_cell=3, epochs=2, seed=1)
    assert expert_key(config) == expert_key(ExpertConfig(clips_per_cell=3, epochs=2, seed=1))
    assert len({expert_key(config), expert_key(ExpertConfig(clips_per_cell=3, epochs=2, seed=2)),
                expert_key(ExpertConfig(clips_per_cell=4, epochs=2, seed=1))}) == 3
    torch.manual_seed(0)
    expert = PairExpert(PairNet(8).eval())
    saved = expert.save(tmp_path / "run" / "scale_expert.safetensors", {"clips": 12, "val_accuracy": 0.5})
    store = ExpertStore(tmp_path / "kept")
    assert store.load(config) is None
    assert store.save(config, saved) == store.path(config)
    got, summary = store.load(config)
    assert summary == {"clips": 12, "val_accuracy": 0.5}
    clips = np.random.default_rng(0).integers(0, 256, (3, 8, 64, 64, 3), dtype=np.uint8)
    assert np.allclose(got.p_second(clips), expert.p_second(clips))
    assert store.load(ExpertConfig(clips_per_cell=3, epochs=2, seed=2)) is None  # other settings: not this one
    assert store.load(ExpertConfig(clips_per_cell=3, epochs=2, seed=1, pair="track")) is None  # nor another expert
    store.path(config).write_bytes(b"not a checkpoint")
    assert store.load(config) is None
    blocked = tmp_path / "file"
    blocked.write_text("a file where the folder should be")
    assert ExpertStore(blocked / "kept").save(config, saved) is None
    # tests keep the per-user folder in their temp folder (conftest)
    assert str(default_expert_cache()).startswith(str(tmp_path.parent))


def test_the_store_keeps_only_the_most_recently_used_experts(tmp_path):
    import os

    torch.manual_seed(0)
    saved = PairExpert(PairNet(8).eval()).save(tmp_path / "run" / "scale_expert.safetensors", {"clips": 12})
    store = ExpertStore(tmp_path / "kept", keep=2)
    configs = [ExpertConfig(clips_per_cell=3, epochs=2, seed=s) for s in range(3)]
    for age, config in zip((300, 200), configs[:2]):  # the first two, saved minutes apart (oldest first)
        store.save(config, saved)
        os.utime(store.path(config), (1e9 - age, 1e9 - age))
    saving = store.folder / ".abc.tmp1.safetensors"  # another process's save in flight
    saving.write_bytes(b"half")
    os.utime(saving, (1, 1))
    assert store.load(configs[0]) is not None  # using the oldest makes it the newest
    store.save(configs[2], saved)
    assert set(store.kept()) == {store.path(configs[2]), store.path(configs[0])}
    assert not store.path(configs[1]).exists() and saving.exists()
    assert store.prune() == []


def test_expert_names_follow_the_switches_and_refuse_an_unknown_pair():
    assert expert_names() == ("scale", "track")
    assert expert_names(scale=False) == ("track",)
    assert expert_names(scale=False, track=False) == ()
    with pytest.raises(ValueError, match="zoom"):
        expert_names(zoom=True)


def test_a_run_gets_the_experts_its_schemes_classes_call_for(tmp_path, monkeypatch):
    import json

    from cinestudio.cameraclip import train as train_mod

    (tmp_path / "config.json").write_text(json.dumps({"scheme": "cinematic2k"}), encoding="utf-8")
    assert train_mod.pairs_for_run(tmp_path) == [SCALE, TRACK]

    class _NoTracking:
        def keys(self, axis):
            return ["static", "pan_left", "pan_right", "zoom_in", "dolly_in"]

    monkeypatch.setattr(train_mod, "load_taxonomy", lambda scheme: _NoTracking())
    assert train_mod.pairs_for_run(tmp_path) == [SCALE]

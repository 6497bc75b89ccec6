"""A tiny seeded train → eval → classify → score round through the CLI, and resume."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from typer.testing import CliRunner

from cinestudio.cameraclip.checkpoint import read_checkpoint
from cinestudio.cameraclip.data import load_items
from cinestudio.cli import app
from cinestudio.progress import Cancelled

runner = CliRunner()


def invoke(*args):
    result = runner.invoke(app, list(map(str, args)))
    return result


def test_train_eval_classify_score_round(tmp_path, clip_data):
    run = tmp_path / "run"
    res = invoke("clip", "train", "--data", clip_data, "--out", run, "--epochs", 2, "--batch-size", 6,
                 "--seed", 3, "--device", "cpu", "--threads", 1, "--scale-expert-clips", 1, "--scale-expert-epochs", 1,
                 "--track-expert-clips", 1, "--track-expert-epochs", 1, "--json")
    assert res.exit_code == 0, res.output
    summary = json.loads(res.stdout)
    assert summary["steps"] == summary["total_steps"] > 0
    config = json.loads((run / "config.json").read_text(encoding="utf-8"))
    assert config["recipe"] == "scratch" and "clip.logit_scale" in config["trainable_parameters"]
    # the zoom/dolly expert: 1 clip per framing (4, not the extreme close-up) and scale move (4)
    assert (run / "scale_expert.safetensors").is_file()
    assert config["scale_expert"]["clips"] == summary["scale_expert"]["clips"] == 16
    # the pan/tracking expert: per framing (4) 1 pan each way and 2 tracking shots
    assert (run / "track_expert.safetensors").is_file() and config["track_expert"]["clips"] == 16
    assert config["track_expert"]["config"]["pair"] == "track"
    # the movement CNN: on the run's 12 training clips (2 go to validation), 8 epochs of one batch
    assert (run / "movement_cnn.safetensors").is_file()
    assert config["movement_cnn"]["clips"] == summary["n_train"] and config["movement_cnn"]["steps"] == 8
    assert set(summary["val_r1_with_expert"]) == {"framing", "angle", "movement"}
    assert "clip.token_embedding.weight" not in config["trainable_parameters"]
    assert (run / "model.safetensors").is_file() and (run / "checkpoints" / "last.safetensors").is_file()
    assert (run / "training.png").stat().st_size > 0
    metrics = [json.loads(x) for x in (run / "metrics.jsonl").read_text(encoding="utf-8").splitlines()]
    assert any("loss" in m for m in metrics) and any("val_r1" in m for m in metrics)
    assert {m["threads"] for m in metrics if "loss" in m} == {1}  # --threads fixes the count

    res = invoke("clip", "eval", run, "--data", clip_data, "--json")
    assert res.exit_code == 0, res.output
    ev = json.loads(res.stdout)
    assert ev["n"] == 14 and set(ev["per_axis"]) == {"framing", "angle", "movement"}
    assert all(0.0 <= v <= 1.0 for v in ev["per_axis"].values())
    assert "pan_left/pan_right" in ev["flips"]["pairs"]
    assert len(ev["confusion"]["movement"]["matrix"]) == 11
    assert ev["scale_expert"] is ev["track_expert"] is True and all("movement_learned" in p for p in ev["predictions"])
    assert ev["four_ways"] is True
    labels = {it.path.name: it.labels for it in load_items(clip_data)}  # as `clip eval` reads them
    misread = sum(p[a] not in labels[p["file"]][a] for p in ev["predictions"] for a in ("framing", "angle", "movement")
                  if labels[p["file"]][a])
    assert ev["misread"]["n"] == misread
    assert (ev["misread_png"] is None) if misread == 0 else Path(ev["misread_png"]).stat().st_size > 0
    res = invoke("clip", "eval", run, "--data", clip_data, "--one-way", "--no-scale-expert", "--no-track-expert",
                 "--no-movement-cnn", "--json")
    assert res.exit_code == 0 and json.loads(res.stdout)["four_ways"] is False
    once = json.loads(res.stdout)
    assert ev["movement_cnn"] is True and once["movement_cnn"] is False
    # read once, without the experts and the movement CNN: the run's choice is the learned model's own
    assert once["per_axis"] == once["per_axis_learned"] and "movement_learned" not in once["predictions"][0]
    res = invoke("clip", "eval", run, "--data", clip_data, "--no-scale-expert", "--json")
    assert res.exit_code == 0 and json.loads(res.stdout)["scale_expert"] is False
    assert json.loads(res.stdout)["track_expert"] is True
    before = (run / "scale_expert.safetensors").read_bytes()
    track_before = (run / "track_expert.safetensors").read_bytes()
    res = invoke("clip", "expert", run, "--pair", "scale", "--clips", 1, "--epochs", 1, "--seed", 5, "--json")  # train it again
    assert res.exit_code == 0, res.output
    assert list(json.loads(res.stdout)) == ["scale_expert"]
    again = json.loads(res.stdout)["scale_expert"]
    assert again["clips"] == 16 and again["config"]["seed"] == 5
    assert (run / "track_expert.safetensors").read_bytes() == track_before  # only the expert asked for
    assert json.loads((run / "config.json").read_text(encoding="utf-8"))["scale_expert"] == again
    assert (run / "scale_expert.safetensors").read_bytes() != before
    # the same settings again: the expert kept for reuse is copied, not trained
    trained, _ = read_checkpoint(run / "scale_expert.safetensors")
    res = invoke("clip", "expert", run, "--clips", 1, "--epochs", 1, "--seed", 5, "--json")  # both experts
    assert res.exit_code == 0, res.output
    reused = json.loads(res.stdout)["scale_expert"]
    assert reused["reused"] and {k: v for k, v in reused.items() if k != "reused"} == again
    assert "reused" not in json.loads(res.stdout)["track_expert"]  # not kept with seed 5 yet: trained
    copied, _ = read_checkpoint(run / "scale_expert.safetensors")
    assert copied.keys() == trained.keys() and all(torch.equal(copied[k], trained[k]) for k in trained)
    res = invoke("clip", "expert", run, "--pair", "scale", "--clips", 1, "--epochs", 1, "--seed", 5, "--no-reuse", "--json")
    assert res.exit_code == 0 and "reused" not in json.loads(res.stdout)["scale_expert"]
    res = invoke("clip", "expert", run, "--pair", "zoom", "--json")
    assert res.exit_code == 2 and "--pair" in res.stderr
    # the movement CNN trained again, on the run's own training clips (their cached frames)
    res = invoke("clip", "expert", run, "--pair", "movement", "--epochs", 1, "--seed", 4, "--json")
    assert res.exit_code == 0, res.output
    cnn = json.loads(res.stdout)["movement_cnn"]
    assert cnn["steps"] == 1 and cnn["seed"] == 4 and cnn["clips"] == summary["n_train"]
    assert json.loads((run / "config.json").read_text(encoding="utf-8"))["movement_cnn"] == cnn
    assert (run / "eval" / "confusion.png").stat().st_size > 0

    clip = clip_data / "pan_left_00.mp4"
    res = invoke("clip", "classify", run, clip, "--json")
    assert res.exit_code == 0, res.output
    cls = json.loads(res.stdout)["axes"]
    assert len(cls["movement"]) == 11 and abs(sum(r["score"] for r in cls["movement"]) - 1) < 1e-2

    res = invoke("clip", "score", run, clip, "--text", "the camera pans to the left", "--text", "a close-up", "--json")
    assert res.exit_code == 0, res.output
    scores = json.loads(res.stdout)["scores"]
    assert [s["text"] for s in scores] == ["the camera pans to the left", "a close-up"]
    assert all(-1.0 <= s["similarity"] <= 1.0 for s in scores)

    # same seed, same data, same thread count → same run
    res = invoke("clip", "train", "--data", clip_data, "--out", tmp_path / "run2", "--epochs", 2,
                 "--batch-size", 6, "--seed", 3, "--device", "cpu", "--threads", 1, "--scale-expert-clips", 0,
                 "--track-expert-clips", 0, "--movement-cnn-epochs", 0, "--json")
    assert json.loads(res.stdout)["val_r1"] == summary["val_r1"]
    a = [json.loads(x) for x in (run / "metrics.jsonl").read_text().splitlines()]
    b = [json.loads(x) for x in (tmp_path / "run2" / "metrics.jsonl").read_text().splitlines()]
    assert [m.get("loss") for m in a if "val_r1_with_expert" not in m] == [m.get("loss") for m in b]
    assert "val_r1_with_expert" in a[-1] and "val_r1_with_expert" not in b[-1]
    assert not (tmp_path / "run2" / "scale_expert.safetensors").exists() and "scale_expert" not in json.loads(res.stdout)
    assert not (tmp_path / "run2" / "track_expert.safetensors").exists() and "track_expert" not in json.loads(res.stdout)
    assert not (tmp_path / "run2" / "movement_cnn.safetensors").exists() and "movement_cnn" not in json.loads(res.stdout)


def test_bad_inputs_are_one_error_line(tmp_path, clip_data):
    res = invoke("clip", "eval", tmp_path / "nowhere", "--data", clip_data, "--json")
    assert res.exit_code == 2 and res.stdout == ""
    assert res.stderr.strip().startswith("error: ") and len(res.stderr.strip().splitlines()) == 1
    res = invoke("clip", "train", "--data", tmp_path, "--out", tmp_path / "r", "--json")
    assert res.exit_code == 2 and "labels.jsonl" in res.stderr
    res = invoke("clip", "expert", tmp_path / "nowhere", "--json")
    assert res.exit_code == 2 and res.stderr.startswith("error: ")


def test_resume_continues_the_step_count(tmp_path, clip_data):
    from cinestudio.cameraclip.train import TrainConfig, train

    cfg = TrainConfig(data=str(clip_data), out=str(tmp_path / "run"), epochs=2, batch_size=6, seed=1,
                      device="cpu", log_every=1, scale_expert_clips=0, track_expert_clips=0)
    seen = []

    def progress(done, total, message=""):
        if message.startswith("epoch"):
            seen.append(done)

    with pytest.raises(Cancelled):
        train(cfg, progress, should_stop=lambda: len(seen) >= 2)
    assert seen == [1, 2]
    with pytest.raises(Exception, match="--resume"):
        train(cfg)
    seen.clear()
    summary = train(cfg, progress, resume=True)
    assert seen[0] == 3 and summary["steps"] == summary["total_steps"] == seen[-1]
    steps = [json.loads(x)["step"] for x in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()
             if "loss" in json.loads(x)]
    assert steps == list(range(1, summary["total_steps"] + 1))


def test_caching_threads_stay_within_the_usable_cpus(tmp_path, clip_data, monkeypatch):
    """An affinity mask (taskset, a container's cpuset) narrower than the machine caps the caching
    threads, as it caps training's own thread choice."""
    from cinestudio.cameraclip import train as train_module

    workers_seen = []
    real_load_table = train_module.load_table

    def recording_load_table(*args, **kwargs):
        workers_seen.append(args[5] if len(args) > 5 else kwargs.get("workers"))
        return real_load_table(*args, **kwargs)

    monkeypatch.setattr(train_module, "load_table", recording_load_table)
    monkeypatch.setattr(train_module.os, "cpu_count", lambda: 8)
    monkeypatch.setattr(train_module, "usable_cpus", lambda: 1)
    cfg = train_module.TrainConfig(data=str(clip_data), out=str(tmp_path / "run"), epochs=1, batch_size=6, seed=1,
                                   device="cpu", scale_expert_clips=0, track_expert_clips=0,
                                   cache=str(tmp_path / "cache"))
    train_module.train(cfg)
    assert workers_seen == [1, 1]

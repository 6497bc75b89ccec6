"""LoRA training (label-true examples, files, resume equals an uninterrupted run, stop), lora list,
the render CLI's outputs and replay, and the base-training recipe on a toy scale."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from safetensors import safe_open
from typer.testing import CliRunner

from cinestudio.cameraclip.data import ClipItem
from cinestudio.cameradiff.data import examples_for
from cinestudio.cameradiff.train_lora import LoraTrainConfig, train_lora
from cinestudio.progress import Cancelled
from tests.cameraclip.clips import make_clips


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    folder = tmp_path_factory.mktemp("clips")
    make_clips(folder, per_move=1, seed=0, frames=8, size=32,
               moves=("static", "pan_left", "pan_right", "zoom_in", "zoom_out"))
    return folder


def _cfg(tiny_base, clips, out, **kw):
    # one thread, as the fixtures run: the thread governor has a test of its own
    return LoraTrainConfig(**{"type": "pan_left", "data": str(clips), "base": str(tiny_base), "out": str(out),
                              "rank": 2, "steps": 4, "lr": 5e-3, "resolution": 16, "frames": 4,
                              "preview_every": 0, "checkpoint_every": 2, "log_every": 1, "device": "cpu",
                              "threads": 1, **kw})


def test_lora_training_on_cpu_picks_its_thread_count(tiny_base, clips, tmp_path, monkeypatch):
    """Without --threads, a CPU run times 1 thread against all usable ones and keeps the faster
    (cinestudio.cpu_threads); the metrics say which ran each step. With --threads, that count."""
    import torch

    from cinestudio.cameradiff import train_lora as tl

    before = torch.get_num_threads()
    asked, real = [], tl.training_threads

    def spy(threads, on_cpu, set_threads, get_threads):
        asked.append((threads, on_cpu))
        return real(threads, on_cpu, set_threads, get_threads)

    monkeypatch.setattr(tl, "training_threads", spy)
    try:
        train_lora(_cfg(tiny_base, clips, tmp_path / "auto", threads=None, steps=14, checkpoint_every=100))
        train_lora(_cfg(tiny_base, clips, tmp_path / "fixed", steps=2))
    finally:
        torch.set_num_threads(before)
    assert asked == [(None, True), (1, True)]
    from cinestudio.cpu_threads import usable_cpus

    auto = [json.loads(x)["threads"] for x in (tmp_path / "auto" / "metrics.jsonl").read_text().splitlines()
            if '"loss"' in x]
    fixed = [json.loads(x)["threads"] for x in (tmp_path / "fixed" / "metrics.jsonl").read_text().splitlines()
             if '"loss"' in x]
    # the first trial times both counts within 14 steps (6 on one thread, then the other)
    assert len(auto) == 14 and set(auto) == {1, usable_cpus()} and fixed == [1, 1]


def test_examples_keep_labels_true():
    def item(move, hold=False, framing="close_up"):
        return ClipItem(path=Path(f"{move}.mp4"), labels={"framing": (framing,), "angle": (), "movement": (move,)},
                        labels_hold=hold)

    items = [item("pan_left"), item("pan_right"), item("zoom_out"), item("zoom_out", hold=True)]
    pan = examples_for(items, "pan_left", "movement")
    assert sorted((e.item.labels["movement"][0], e.variant) for e in pan) == [
        ("pan_left", 0), ("pan_left", 3), ("pan_right", 1), ("pan_right", 2)]
    zoom = examples_for(items, "zoom_in", "movement")
    # a reversed zoom_out is a zoom_in, but only where framing holds on every frame
    assert [(e.item.labels_hold, e.variant) for e in zoom] == [(True, 2), (True, 3)]
    close = examples_for(items, "close_up", "framing", augment_variants=False)
    assert len(close) == 4 and {e.variant for e in close} == {0}


def test_train_resume_and_stop(tiny_base, clips, tmp_path):
    straight = train_lora(_cfg(tiny_base, clips, tmp_path / "a"))
    assert straight["status"] == "complete" and Path(straight["lora"]).name == "pan_left.safetensors"
    with safe_open(straight["lora"], "pt") as fh:
        meta = json.loads(fh.metadata()["cinestudio"])
        tensors_a = {k: fh.get_tensor(k) for k in fh.keys()}
    assert meta["key"] == "pan_left" and meta["axis"] == "movement" and meta["target"] == "motion"
    assert meta["steps"] == 4 and meta["metrics"]["final_loss"] is not None
    assert all(k.startswith("unet.") and "motion_modules" in k for k in tensors_a)

    seen = {"step": 0}

    def progress(done: int, total: int, message: str = "") -> None:
        if message.startswith("loss"):
            seen["step"] = done

    with pytest.raises(Cancelled):
        train_lora(_cfg(tiny_base, clips, tmp_path / "b"), progress, should_stop=lambda: seen["step"] >= 2)
    info = json.loads((tmp_path / "b" / "config.json").read_text())
    assert info["status"] == "stopped" and info["steps_done"] == 2
    resumed = train_lora(_cfg(tiny_base, clips, tmp_path / "b"), resume=True)
    assert resumed["steps"] == 4
    with safe_open(resumed["lora"], "pt") as fh:
        for k in fh.keys():
            np.testing.assert_allclose(fh.get_tensor(k).numpy(), tensors_a[k].numpy(), rtol=1e-4, atol=1e-6)
    losses = [json.loads(x) for x in (tmp_path / "b" / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in losses] == [1, 2, 3, 4]
    from cinestudio.errors import UserInputError

    with pytest.raises(UserInputError, match="not empty"):
        train_lora(_cfg(tiny_base, clips, tmp_path / "a"))
    with pytest.raises(UserInputError, match="no clips of type"):
        train_lora(_cfg(tiny_base, clips, tmp_path / "c", type="tilt_up"))


def test_cli_train_list_render_replay(tiny_base, clips, tmp_path, lora_files):
    from cinestudio.cli import app

    runner = CliRunner()
    ws = tmp_path / "ws"
    res = runner.invoke(app, ["--workspace", str(ws), "lora", "train", "--type", "close_up", "--data", str(clips),
                              "--base", str(tiny_base), "--rank", "2", "--steps", "2", "--resolution", "16",
                              "--frames", "4", "--preview-every", "0", "--device", "cpu", "--json"])
    assert res.exit_code == 0, res.output
    summary = json.loads(res.stdout)
    assert summary["target"] == "spatial" and summary["run"].endswith("lora-close_up")
    res = runner.invoke(app, ["--workspace", str(ws), "lora", "list", "--json"])
    listed = json.loads(res.stdout)["loras"]
    assert [(e["type"], e["status"], e["steps"]) for e in listed] == [("close_up", "complete", 2)]
    assert listed[0]["lora"] == "runs/lora-close_up/close_up.safetensors"

    out = tmp_path / "r" / "video.mp4"
    args = ["diff", "render", "--base", str(tiny_base), "--prompt", "a scene", "--method", "switch",
            "--lora", f"{lora_files['pan_left']}:0.8@0-4", "--lora", f"{ws / listed[0]['lora']}@4-8",
            "--steps", "3", "--frames", "8", "--size", "16", "--seed", "3", "--out", str(out), "--device", "cpu"]
    res = runner.invoke(app, args + ["--json"])
    assert res.exit_code == 0, res.output
    side = json.loads(out.with_suffix(".json").read_text())
    assert out.is_file() and out.with_suffix(".gif").is_file()
    assert side["method"] == "switch" and side["seed"] == 3 and side["steps"] == 3
    assert [s["types"] for s in side["segments"]] == [["pan_left"], ["close_up"]]
    assert all("verdict" in s["motion"] for s in side["segments"])
    assert len(side["schedule"]["multipliers_per_step"]) == 3 and side["loras"][0]["weight"] == 0.8
    assert len(side["loras"][0]["sha256"]) == 64 and side["timings"]["render_s"] > 0
    # replay: same video
    from cinestudio.media.decode import read_frames

    first = read_frames(out)
    again = tmp_path / "r" / "again.mp4"
    res = runner.invoke(app, ["diff", "render", "--replay", str(out.with_suffix(".json")), "--out", str(again)])
    assert res.exit_code == 0, res.output
    replayed = json.loads(again.with_suffix(".json").read_text())
    assert {**replayed["config"], "out": None} == {**side["config"], "out": None}
    assert replayed["schedule"] == side["schedule"] and replayed["loras"] == side["loras"]
    # user errors: exit 2 with one line
    for bad in (["--lora", str(tmp_path / "none.safetensors")], ["--method", "cliplora", "--lora", str(lora_files["pan_left"])],
                ["--method", "blend"]):
        res = runner.invoke(app, ["diff", "render", "--base", str(tiny_base), "--prompt", "x", "--out",
                                  str(tmp_path / "bad.mp4"), "--device", "cpu", *bad])
        assert res.exit_code == 2 and res.output.startswith("error:"), res.output
    # Same file, same frames, bit for bit — also right after the in-process `lora train` above (with
    # x264's mb-tree the first render's MP4 depended on what that left in the heap: media.encode)
    assert again.read_bytes() == out.read_bytes()
    np.testing.assert_array_equal(read_frames(again), first)


def test_train_base_toy_and_resume(tmp_path, clips):
    from cinestudio.cameradiff.backend import load_pipeline
    from cinestudio.cameradiff.train_base import BaseTrainConfig, train_base

    cfg = BaseTrainConfig(data=str(clips), out=str(tmp_path / "base"), preset="test", size=16, frames=4, vae_steps=2,
                          vae_batch=4, steps=2, batch_size=2, log_every=1, checkpoint_every=1, sample_every=0,
                          device="cpu")
    first = train_base(cfg)
    assert first["steps_done"] == 2 and Path(first["pipeline"], "model_index.json").is_file()
    cfg.steps, cfg.decoder_steps = 3, 2
    again = train_base(cfg, resume=True)
    assert again["steps_done"] == 3 and again["vae_steps_done"] == 2 and again["decoder_steps_done"] == 2
    from cinestudio.cpu_threads import usable_cpus

    logged = [json.loads(x) for x in (tmp_path / "base" / "metrics.jsonl").read_text().splitlines()]
    unet = [r for r in logged if r.get("stage") == "unet" and "loss" in r]
    assert len(unet) == 3 and all(r["threads"] in (1, usable_cpus()) for r in unet)  # the count that ran the step
    pipe = load_pipeline(again["pipeline"], device="cpu")
    assert pipe.vae.config.scaling_factor != 0.18215  # set from the training latents
    from cinestudio.cameraclip.checkpoint import read_checkpoint

    stage1, _ = read_checkpoint(tmp_path / "base" / "checkpoints" / "vae.safetensors")
    now = pipe.vae.state_dict()
    enc = [k for k in now if k.startswith("encoder.")]
    dec = [k for k in now if k.startswith("decoder.")]
    assert all(np.array_equal(stage1[f"model.{k}"].numpy(), now[k].numpy()) for k in enc)  # same latents
    assert not all(np.array_equal(stage1[f"model.{k}"].numpy(), now[k].numpy()) for k in dec)


def test_train_base_movement_curriculum_eval_and_vae_from(tmp_path, clips):
    """Movement prompts, a movement subset, the prompt-following evaluation in metrics, a VAE taken
    from another run (stage 1 skipped) and the motion modules' own learning rate."""
    from cinestudio.cameradiff.backend import load_pipeline
    from cinestudio.cameradiff.train_base import BaseTrainConfig, _texts, train_base
    from cinestudio.taxonomy import load_taxonomy

    first = train_base(BaseTrainConfig(data=str(clips), out=str(tmp_path / "a"), preset="test", size=16, frames=4,
                                       vae_steps=2, vae_batch=4, steps=1, batch_size=2, sample_every=0, text_lr=0.0,
                                       device="cpu"))
    cfg = BaseTrainConfig(data=str(clips), out=str(tmp_path / "b"), preset="test", size=16, frames=4, vae_steps=5,
                          steps=2, batch_size=2, log_every=1, sample_every=0, eval_every=2, eval_seeds=1,
                          sample_steps=2, movements=["static", "pan_left", "pan_right"], motion_lr_scale=3.0,
                          vae_from=str(tmp_path / "a"), crop=0.5, motion_loss=1.0, prediction="v_prediction",
                          device="cpu")
    out = train_base(cfg)
    assert out["vae_steps_done"] == 0  # stage 1 skipped: the VAE came from run a
    assert not (tmp_path / "a" / "checkpoints" / "text.safetensors").exists()  # text_lr=0: frozen text encoder
    assert (tmp_path / "b" / "checkpoints" / "text.safetensors").is_file()  # trained along (the default)
    ta = load_pipeline(first["pipeline"], device="cpu").text_encoder.state_dict()
    tb = load_pipeline(out["pipeline"], device="cpu").text_encoder.state_dict()
    assert not all(np.array_equal(v.numpy(), tb[k].numpy()) for k, v in ta.items())
    va = load_pipeline(first["pipeline"], device="cpu").vae
    vb = load_pipeline(out["pipeline"], device="cpu").vae
    assert vb.config.scaling_factor == va.config.scaling_factor
    assert load_pipeline(out["pipeline"], device="cpu").scheduler.config.prediction_type == "v_prediction"
    assert all(np.array_equal(v.numpy(), vb.state_dict()[k].numpy()) for k, v in va.state_dict().items())
    info = json.loads((tmp_path / "b" / "config.json").read_text())
    assert info["examples"] == 12  # static, pan_left, pan_right × 4 variants (the zooms left out)
    records = [json.loads(x) for x in (tmp_path / "b" / "metrics.jsonl").read_text().splitlines()]
    ev = [r for r in records if r.get("stage") == "eval"]
    assert ev and ev[-1]["step"] == 2 and set(ev[-1]["follow"]) == {"static", "pan_left", "pan_right"}
    assert 0.0 <= ev[-1]["follow_rate"] <= 1.0 and len(ev[-1]["verdicts"]["pan_left"]) == 1
    assert (tmp_path / "b" / "samples" / "step_000002_pan_left.gif").is_file()
    lrs = {r["lr"] for r in records if "lr" in r}
    assert lrs  # the logged lr is the spatial layers'; the motion modules run at 3×

    lora = train_lora(_cfg(out["pipeline"], clips, tmp_path / "lora", steps=1, checkpoint_every=1))
    assert json.loads((tmp_path / "lora" / "config.json").read_text())["crop"] == 0.5  # the base's own crop
    assert lora["status"] == "complete"

    tax = load_taxonomy("cinematic2k")
    from cinestudio.cameradiff.data import load_examples

    _, examples = load_examples(str(clips), tax)
    texts = _texts(examples * 20, np.random.default_rng(0), tax, cfg)
    moves = {p: k for k in tax.keys("movement") for p in tax.get("movement", k).prompts}
    named = [t for t in texts if t in moves]
    assert len(named) > 0.5 * len(texts) and "a scene" in texts and "" in texts
    assert all(moves[t] == ex.labels["movement"][0] for t, ex in zip(texts, examples * 20) if t in moves)


def test_example_frames_crop(tmp_path, clips):
    from cinestudio.cameradiff.data import ExampleFrames, load_examples
    from cinestudio.taxonomy import load_taxonomy

    _, examples = load_examples(str(clips), load_taxonomy("cinematic2k"))
    ex = next(e for e in examples if e.variant == 1)
    full = ExampleFrames(None, 4, 32).get(ex)
    centre = ExampleFrames(None, 4, 16, crop=0.5).get(ex)
    assert centre.shape == (4, 16, 16, 3)
    np.testing.assert_array_equal(centre, full[:, 8:24, 8:24])  # the centre, flipped like the whole


def test_mixed_noise_is_seeded_and_shares_variance():
    import torch

    from cinestudio.cameradiff.train_base import mixed_noise

    shape = (64, 4, 8, 8, 8)
    plain = mixed_noise(shape, torch.Generator().manual_seed(3), 0.0)
    assert torch.equal(plain, torch.randn(shape, generator=torch.Generator().manual_seed(3)))  # share 0: as before
    a = mixed_noise(shape, torch.Generator().manual_seed(3), 0.8)
    b = mixed_noise(shape, torch.Generator().manual_seed(3), 0.8)
    assert torch.equal(a, b)  # deterministic with a seed
    assert abs(float(a.std()) - 1.0) < 0.05  # each frame stays N(0, 1)
    x, y = a[:, :, 0].flatten(), a[:, :, 5].flatten()
    corr = float(((x - x.mean()) * (y - y.mean())).mean() / (x.std() * y.std()))
    assert abs(corr - 0.8) < 0.05  # two frames correlate by the shared share


def test_train_base_noise_share_and_text_aux(tmp_path, clips):
    """--noise-share and --text-aux reach the config, the saved base's description and the metrics,
    and the run is deterministic for a seed."""
    from cinestudio.cameradiff.train_base import BaseTrainConfig, train_base
    from cinestudio.errors import UserInputError

    def run(name):
        cfg = BaseTrainConfig(data=str(clips), out=str(tmp_path / name), preset="test", size=16, frames=4, vae_steps=2,
                              vae_batch=4, steps=2, batch_size=4, log_every=1, sample_every=2, eval_every=2,
                              eval_seeds=1, sample_steps=2, movements=["static", "pan_left", "pan_right"],
                              noise_share=0.5, text_aux=1.0, noise_warp=0.5, neutral_fraction=0.0,
                              empty_fraction=0.0, device="cpu")
        return train_base(cfg)

    first, second = run("a"), run("b")
    info = json.loads((tmp_path / "a" / "config.json").read_text())
    assert info["config"]["noise_share"] == 0.5 and info["config"]["text_aux"] == 1.0
    assert info["config"]["noise_warp"] == 0.5
    base = json.loads((tmp_path / "a" / "pipeline" / "cinestudio_base.json").read_text())
    assert base["config"]["noise_share"] == 0.5
    records = [json.loads(x) for x in (tmp_path / "a" / "metrics.jsonl").read_text().splitlines()]
    assert any("text_aux_loss" in r for r in records)
    ev = [r for r in records if r.get("stage") == "eval"]
    assert ev and "drift" in ev[-1]
    assert first["last_loss"] == second["last_loss"]
    with pytest.raises(UserInputError):
        train_base(BaseTrainConfig(data=str(clips), out=str(tmp_path / "c"), preset="test", size=16, frames=4,
                                   noise_share=1.0, device="cpu"))
    with pytest.raises(UserInputError):
        train_base(BaseTrainConfig(data=str(clips), out=str(tmp_path / "d"), preset="test", size=16, frames=4,
                                   vae_steps=1, vae_batch=4, steps=1, batch_size=2, sample_every=0, text_aux=1.0,
                                   text_lr=0.0, device="cpu"))
    with pytest.raises(UserInputError):  # the warp moves the shared part: no share, nothing to move
        train_base(BaseTrainConfig(data=str(clips), out=str(tmp_path / "e"), preset="test", size=16, frames=4,
                                   noise_warp=0.5, device="cpu"))


def test_base_motion_benchmark_reports_drift(tiny_base, tmp_path):
    """benchmarks/base_motion.py: verdicts, follow rate and drift per movement; --noise-share reaches it."""
    import importlib.util

    path = Path(__file__).resolve().parents[2] / "benchmarks" / "base_motion.py"
    spec = importlib.util.spec_from_file_location("base_motion_bench", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    main = mod.main

    out = tmp_path / "bm.json"
    assert main(["--base", str(tiny_base), "--movement", "static", "pan_left", "--seeds", "1", "--steps", "2",
                 "--frames", "4", "--size", "16", "--noise-share", "0.5", "--warp", "0.5", "--prompt", "a scene", "--json", str(out)]) == 0
    summary = json.loads(out.read_text())
    assert summary["warp"] == 0.5  # the warp speed the samples were drawn with, not a measured one
    assert {row["prompt"] for row in summary["movements"].values()} == {"a scene"}
    assert summary["noise_share"] == 0.5 and set(summary["movements"]) == {"static", "pan_left"}
    assert all("drift" in row and len(row["verdicts"]) == 1 for row in summary["movements"].values())


def test_base_motion_probe(tiny_base, clips):
    """The diagnosis probe: one loss per condition and noise-level band, the same for the same seed."""
    import importlib.util

    path = Path(__file__).resolve().parents[2] / "benchmarks" / "base_motion.py"
    spec = importlib.util.spec_from_file_location("base_motion_bench", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    from cinestudio.cameradiff.backend import load_pipeline

    pipe = load_pipeline(str(tiny_base), device="cpu")
    a = mod.probe(pipe, str(clips), ["static", "pan_left", "pan_right"], clips=3, frames=4, size=16)
    assert set(a) == {"as trained", "motion modules bypassed", "frames shuffled", "opposite prompt", "neutral prompt"}
    assert all(len(row) == 4 and all(v > 0 for v in row.values()) for row in a.values())
    assert a == mod.probe(pipe, str(clips), ["static", "pan_left", "pan_right"], clips=3, frames=4, size=16)


def test_warped_noise_slides_with_the_camera_move():
    """--noise-warp: the shared part of the noise slides with the picture content of the clip's move
    (a pan left moves content right), deterministic for a seed; and the option reaches the config."""
    import torch

    from cinestudio.cameradiff.train_base import BaseTrainConfig, mixed_noise, warp_for

    assert warp_for("pan_left", 1.0) == (1.0, 0.0) and warp_for("tilt_down", 0.5) == (0.0, -0.5)
    assert warp_for("static", 1.0) == (0.0, 0.0) and warp_for("zoom_in", 1.0) == (0.0, 0.0)
    shape = (2, 4, 6, 8, 8)
    shifts = [warp_for("pan_left", 1.0), warp_for("tilt_up", 1.0)]
    a = mixed_noise(shape, torch.Generator().manual_seed(5), 0.999999, shifts)
    assert torch.equal(a, mixed_noise(shape, torch.Generator().manual_seed(5), 0.999999, shifts))
    # content moves right (pan left): column x of frame k is column x+1 of frame k+1
    assert torch.allclose(a[0, :, 1:, :, 1:], a[0, :, :-1, :, :-1], atol=1e-2)
    # content moves down (tilt up)
    assert torch.allclose(a[1, :, 1:, 1:, :], a[1, :, :-1, :-1, :], atol=1e-2)
    assert abs(float(a.std()) - 1.0) < 0.1
    assert BaseTrainConfig.from_dict({"data": "d", "out": "o", "noise_warp": 0.7}).noise_warp == 0.7

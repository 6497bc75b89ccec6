"""Loading bases: the diffusers layout make-tiny writes, SD-style + adapter, clear errors (exit 2)."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from typer.testing import CliRunner

from cinestudio.cameradiff.backend import load_pipeline
from cinestudio.errors import UserInputError


def test_tiny_layout_and_tokenizer(tiny_base):
    import open_clip
    from transformers import CLIPTokenizer

    index = json.loads((tiny_base / "model_index.json").read_text())
    assert index["_class_name"] == "AnimateDiffPipeline"
    assert index["unet"][1] == "UNetMotionModel" and index["motion_adapter"][1] == "MotionAdapter"
    tok = CLIPTokenizer.from_pretrained(tiny_base / "tokenizer")
    text = "the camera pans to the left"
    ours = tok(text).input_ids
    theirs = open_clip.get_tokenizer("ViT-B-32")([text])[0].tolist()
    assert ours == theirs[:len(ours)] and tok.model_max_length == 77


def test_load_renders(tiny_base):
    from cinestudio.cameradiff.compose import ComposeOptions, compose

    pipe = load_pipeline(tiny_base, device="cpu")
    out = compose(pipe, "a scene", [], ComposeOptions(steps=2, num_frames=4, height=16, width=16))
    assert out.frames.shape == (4, 16, 16, 3) and out.frames.dtype == np.uint8


def test_missing_weights_are_clear(tiny_base, tmp_path, monkeypatch):
    import huggingface_hub.constants

    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)  # fail at once, no network tries
    with pytest.raises(UserInputError, match="missing"):
        load_pipeline(tmp_path / "nowhere", device="cpu")
    with pytest.raises(UserInputError, match="no model_index.json"):
        load_pipeline(tmp_path, device="cpu")
    broken = tmp_path / "broken"
    shutil.copytree(tiny_base, broken)
    for f in (broken / "unet").glob("*.safetensors"):
        f.unlink()
    with pytest.raises(UserInputError, match="unet"):
        load_pipeline(broken, device="cpu")
    with pytest.raises(UserInputError, match="hub id"):
        load_pipeline("nobody-here/no-such-base", device="cpu")


def test_sd_layout_with_motion_adapter(tmp_path):
    """A Stable-Diffusion-style folder plus a MotionAdapter: the usual real-world setup."""
    from diffusers import StableDiffusionPipeline

    from cinestudio.cameradiff.tiny import PRESETS, build_components

    c = build_components(PRESETS["test"], seed=3)
    sd = StableDiffusionPipeline(vae=c["vae"], text_encoder=c["text_encoder"], tokenizer=c["tokenizer"], unet=c["unet"],
                                 scheduler=c["scheduler"], safety_checker=None, feature_extractor=None,
                                 requires_safety_checker=False)
    sd.save_pretrained(tmp_path / "sd")
    c["motion_adapter"].save_pretrained(tmp_path / "adapter")
    with pytest.raises(UserInputError):  # the default adapter is a hub id: not here offline
        load_pipeline(tmp_path / "sd", device="cpu", motion_adapter=str(tmp_path / "no-adapter"))
    pipe = load_pipeline(tmp_path / "sd", device="cpu", motion_adapter=str(tmp_path / "adapter"))
    assert type(pipe.unet).__name__ == "UNetMotionModel"
    assert pipe._cinestudio_source["motion_adapter"].endswith("adapter")


def test_cli_make_tiny_and_missing_base(tmp_path):
    from cinestudio.cli import app

    runner = CliRunner()
    res = runner.invoke(app, ["diff", "render", "--base", str(tmp_path / "none"), "--prompt", "x",
                              "--out", str(tmp_path / "o.mp4"), "--device", "cpu"])
    assert res.exit_code == 2
    assert "error:" in res.output and "missing" in res.output
    res = runner.invoke(app, ["diff", "make-tiny", str(tmp_path / "t"), "--seed", "1", "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["seed"] == 1
    res = runner.invoke(app, ["diff", "make-tiny", str(tmp_path / "t")])
    assert res.exit_code == 2 and "not empty" in res.output

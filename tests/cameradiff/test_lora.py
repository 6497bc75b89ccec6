"""LoRA files: where they sit, save → load round trip that changes the output, the unet. pitfall."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from cinestudio.cameradiff import lora as L
from cinestudio.cameradiff.backend import load_pipeline
from cinestudio.cameradiff.compose import ComposeOptions, compose
from cinestudio.errors import UserInputError
from tests.cameradiff.conftest import RENDER, random_lora


def _render(pipe, refs, **kw):
    return compose(pipe, "a scene", refs, ComposeOptions(**{**RENDER, **kw})).frames.astype(np.int16)


def test_targets_are_the_right_layers(tiny_base):
    pipe = load_pipeline(tiny_base, device="cpu")
    motion = L.target_modules(pipe.unet, "motion")
    spatial = L.target_modules(pipe.unet, "spatial")
    assert motion and all(".motion_modules." in n for n in motion)
    assert spatial and not any("motion_modules" in n for n in spatial)
    assert all(n.split(".")[-1] in ("to_q", "to_k", "to_v") or n.endswith("to_out.0") for n in motion + spatial)
    assert set(L.target_modules(pipe.unet, "both")) == set(motion) | set(spatial)
    assert L.target_for("movement") == "motion" and L.target_for("framing") == "spatial" == L.target_for("angle")


def test_round_trip_changes_the_output(tiny_base, tmp_path):
    """Saved with the pipeline's save_lora_weights and loaded with load_lora_weights, the LoRA acts:
    the output equals the in-memory LoRA's and differs from the base's (the ``unet.`` prefix pitfall)."""
    pipe = load_pipeline(tiny_base, device="cpu")
    base = _render(pipe, [])
    random_lora(pipe, "tilt_up", "motion", seed=11)
    ref = L.LoraRef(path=tmp_path / "x", adapter="tilt_up", meta={"key": "tilt_up"})
    trained = _render(pipe, [ref])
    path = L.save_lora(tmp_path / "tilt_up.safetensors", pipe.unet, "tilt_up", {"key": "tilt_up", "axis": "movement"})
    from safetensors import safe_open

    with safe_open(str(path), "pt") as fh:
        assert all(k.startswith("unet.") for k in fh.keys())
        assert "lora_adapter_metadata" in fh.metadata()
    assert L.read_metadata(path)["key"] == "tilt_up"

    fresh = load_pipeline(tiny_base, device="cpu")
    refs = L.load_loras(fresh, [L.parse_lora_arg(str(path))])
    assert L.loaded_layers(fresh.unet, refs[0].adapter) == len(L.target_modules(fresh.unet, "motion"))
    loaded = _render(fresh, refs)
    assert np.abs(loaded - base).max() > 3
    np.testing.assert_array_equal(loaded, trained)
    # a plain diffusers user gets the same effect
    plain = load_pipeline(tiny_base, device="cpu")
    plain.load_lora_weights(str(path), adapter_name="t")
    out = plain("a scene", num_frames=8, height=16, width=16, num_inference_steps=4, guidance_scale=4.0,
                latents=torch.randn((1, 4, 8, 8, 8), generator=torch.Generator().manual_seed(0)),
                output_type="np").frames[0]
    assert np.abs((out * 255).round().astype(np.int16) - trained).max() <= 1


def test_bare_unet_save_is_caught(tiny_base, tmp_path):
    from peft.utils import get_peft_model_state_dict
    from safetensors.torch import save_file

    pipe = load_pipeline(tiny_base, device="cpu")
    random_lora(pipe, "bare", "motion", seed=5)
    state = {k: v.contiguous() for k, v in get_peft_model_state_dict(pipe.unet, adapter_name="bare").items()}
    save_file(state, str(tmp_path / "bare.safetensors"))
    fresh = load_pipeline(tiny_base, device="cpu")
    with pytest.raises(UserInputError, match="loaded as nothing"):
        L.load_loras(fresh, [L.parse_lora_arg(str(tmp_path / "bare.safetensors"))])


def test_parse_lora_arg(lora_files, tmp_path):
    p = lora_files["pan_left"]
    r = L.parse_lora_arg(f"{p}:0.7@8-16")
    assert (r.weight, r.start, r.end, r.key) == (0.7, 8, 16, "pan_left")
    r = L.parse_lora_arg(f"{p}@4-")
    assert (r.weight, r.start, r.end) == (1.0, 4, None)
    r = L.parse_lora_arg(str(p.parent.parent / p.parent.name / p.name) + ":2")
    assert r.weight == 2.0
    for bad in (f"{p}@8-4", f"{p}@x", str(tmp_path / "none.safetensors")):
        with pytest.raises(UserInputError):
            L.parse_lora_arg(bad)
    (tmp_path / "junk.safetensors").write_bytes(b"not a file")
    with pytest.raises(UserInputError, match="readable"):
        L.parse_lora_arg(str(tmp_path / "junk.safetensors"))
    run = tmp_path / "run"
    run.mkdir()
    (run / "pan_left.safetensors").write_bytes(p.read_bytes())
    assert L.parse_lora_arg(f"{run}:0.5").path == run / "pan_left.safetensors"

"""The pretrained path (an open_clip checkpoint file) with the paper's partial-training recipe."""

from __future__ import annotations

import json

import torch
from safetensors.torch import save_file

from cinestudio.cameraclip.registry import create_clip
from cinestudio.cameraclip.train import TrainConfig, train


def test_pretrained_checkpoint_and_paper_recipe(tmp_path, clip_data):
    torch.manual_seed(5)
    clip = create_clip("cameraclip-tiny")
    weights = tmp_path / "tiny_clip.safetensors"
    save_file({k: v.contiguous() for k, v in clip.state_dict().items()}, str(weights))

    summary = train(TrainConfig(data=str(clip_data), out=str(tmp_path / "run"), model="cameraclip-tiny", pretrained=str(weights), scale_expert_clips=0, track_expert_clips=0,
                                epochs=1, batch_size=7, device="cpu"))
    assert summary["recipe"] == "paper"
    config = json.loads((tmp_path / "run" / "config.json").read_text(encoding="utf-8"))
    names = config["trainable_parameters"]
    # 4 layers in the tiny image tower: all 4 train; 3 text layers: the last 2
    assert any(n.startswith("clip.visual.transformer.resblocks.0.") for n in names)
    assert not any(n.startswith("clip.transformer.resblocks.0.") for n in names)
    assert any(n.startswith("clip.transformer.resblocks.2.") for n in names)
    for must in ("clip.visual.proj", "clip.visual.ln_post.weight", "clip.ln_final.weight", "clip.text_projection",
                 "clip.logit_scale"):
        assert must in names
    assert "clip.token_embedding.weight" not in names and "clip.visual.conv1.weight" not in names
    assert any(n.startswith("pooling.") for n in names)

    # frozen parts really did not move
    from cinestudio.cameraclip.checkpoint import read_checkpoint

    trained, _ = read_checkpoint(tmp_path / "run" / "model.safetensors")
    assert torch.equal(trained["model.clip.token_embedding.weight"], clip.state_dict()["token_embedding.weight"])
    assert not torch.equal(trained["model.clip.ln_final.weight"], clip.state_dict()["ln_final.weight"])

"""Checkpoints are safetensors (no pickle) and round-trip weights, optimizer state and step."""

from __future__ import annotations

import json
import struct

import pytest
import torch

from cinestudio.cameraclip.checkpoint import load_checkpoint, save_checkpoint
from cinestudio.cameraclip.model import build_model
from cinestudio.errors import UserInputError


def test_safetensors_round_trip(tmp_path):
    torch.manual_seed(0)
    model = build_model()
    opt = torch.optim.AdamW([p for p in model.parameters()], lr=1e-3)
    x = torch.randn(2, 8, 3, 64, 64)
    m = torch.randn(2, 7, model.motion_dim)
    model.encode_video(x, m).sum().backward()
    opt.step()
    path = save_checkpoint(tmp_path / "ck.safetensors", model, opt, step=17, epoch=3, extra={"elapsed_s": 1.5})

    raw = path.read_bytes()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    assert header["__metadata__"]["step"] == "17" and not raw.startswith(b"\x80")  # not a pickle

    torch.manual_seed(1)
    other = build_model()
    other_opt = torch.optim.AdamW([p for p in other.parameters()], lr=1e-3)
    state = load_checkpoint(path, other, other_opt)
    assert state == {"step": 17, "epoch": 3, "extra": {"elapsed_s": 1.5}}
    for (k, a), (_, b) in zip(model.state_dict().items(), other.state_dict().items()):
        assert torch.equal(a, b), k
    s1, s2 = opt.state_dict(), other_opt.state_dict()
    assert s1["param_groups"] == s2["param_groups"]
    for idx in s1["state"]:
        for key in s1["state"][idx]:
            assert torch.equal(torch.as_tensor(s1["state"][idx][key]), torch.as_tensor(s2["state"][idx][key]))
    with torch.no_grad():
        model.eval(), other.eval()
        assert torch.allclose(model.encode_video(x, m), other.encode_video(x, m), atol=1e-6)


def test_damaged_checkpoint_is_a_user_error(tmp_path):
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"not a checkpoint")
    with pytest.raises(UserInputError):
        load_checkpoint(bad, build_model())

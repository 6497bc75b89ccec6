"""Mean pooling cannot see frame order; the order-aware (motion) pooling can."""

from __future__ import annotations

import numpy as np
import torch

from cinestudio.cameraclip.model import build_model
from cinestudio.cameraclip.pooling import MeanPooling, TemporalPooling
from cinestudio.cameraclip.registry import ModelSpec
from tests.cameraclip.clips import render


def test_mean_pooling_is_order_blind_and_temporal_is_not():
    torch.manual_seed(0)
    emb = torch.randn(2, 8, 128)
    motion = torch.randn(2, 7, 22)
    rev = emb.flip(1)
    assert torch.allclose(MeanPooling()(emb), MeanPooling()(rev), atol=1e-6)
    temporal = TemporalPooling(128, 8, motion_dim=22).eval()
    assert not torch.allclose(temporal(emb, motion), temporal(rev, motion), atol=1e-4)


def _video_pair(model):
    """A pan-left clip and the same frames reversed (a pan right), as model inputs."""
    from cinestudio.cameraclip.infer import prepare_clip

    frames = render("pan_left", "medium_shot", "eye_level", np.random.default_rng(1), frames=8, size=64)
    out = []
    for clip in (frames, frames[::-1].copy()):
        fitted, motion = prepare_clip(model, clip)
        out.append((model.to_pixels(fitted[None]), model.motion_tensor(motion[None])))
    return out


@torch.no_grad()
def test_whole_model_mean_is_order_blind_motion_is_not():
    torch.manual_seed(0)
    mean_model = build_model(ModelSpec(pooling="mean")).eval()
    (p1, m1), (p2, m2) = _video_pair(mean_model)
    assert torch.allclose(mean_model.encode_video(p1, m1), mean_model.encode_video(p2, m2), atol=1e-5)

    motion_model = build_model(ModelSpec(pooling="motion")).eval()
    (p1, m1), (p2, m2) = _video_pair(motion_model)
    # the motion features themselves see the direction: reversed pan → opposite dx
    assert float(m1[0, :, 0].mean()) * float(m2[0, :, 0].mean()) < 0
    a, b = motion_model.encode_video(p1, m1), motion_model.encode_video(p2, m2)
    assert float((a - b).abs().max()) > 1e-3

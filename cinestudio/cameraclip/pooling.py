"""Temporal pooling: per-frame image embeddings (+ motion features) → one video embedding.

- ``mean``: the paper's recipe, the mean of the frame embeddings. Blind to order: the same frames
  reversed (a pan left played backwards is a pan right) give the same embedding.
- ``temporal``: a small transformer over the frame embeddings with positional embeddings (order
  aware, but on CPU-scale budgets it learns motion from embeddings slowly; kept for comparison).
- ``motion`` (default): the temporal transformer also gets one token per frame pair made from the
  pair's global camera motion (dx, dy, log-scale, rotation; `cinestudio.cameraclip.features`),
  so direction is an input rather than something to discover from pixels. Its output is added to
  the mean of the frame embeddings, so framing/angle (static, per-frame) keep the short path.
"""

from __future__ import annotations

import torch
from torch import nn

POOLINGS = ("motion", "temporal", "mean")
DEFAULT_POOLING = "motion"


def masked_mean(frame_emb: torch.Tensor, frame_mask: torch.Tensor | None) -> torch.Tensor:
    if frame_mask is None:
        return frame_emb.mean(dim=1)
    w = frame_mask.to(frame_emb.dtype).unsqueeze(-1)
    return (frame_emb * w).sum(1) / w.sum(1).clamp(min=1.0)


class MeanPooling(nn.Module):
    uses_motion = False

    def forward(self, frame_emb: torch.Tensor, motion: torch.Tensor | None = None,
                frame_mask: torch.Tensor | None = None) -> torch.Tensor:
        return masked_mean(frame_emb, frame_mask)


class TemporalPooling(nn.Module):
    """Transformer over [CLS, frame tokens, (motion tokens)] with learned positions."""

    def __init__(self, embed_dim: int, num_frames: int, motion_dim: int = 0, layers: int = 2,
                 heads: int = 4, width: int | None = None):
        super().__init__()
        width = width or min(embed_dim, 256)
        while width % heads:
            heads -= 1
        self.uses_motion = motion_dim > 0
        self.num_frames = num_frames
        self.frame_in = nn.Sequential(nn.LayerNorm(embed_dim), nn.Linear(embed_dim, width))
        if self.uses_motion:
            self.motion_in = nn.Sequential(nn.Linear(motion_dim, width), nn.GELU(), nn.Linear(width, width))
        n_tokens = 1 + num_frames + (num_frames - 1 if self.uses_motion else 0)
        self.cls = nn.Parameter(torch.zeros(1, 1, width))
        self.pos = nn.Parameter(torch.randn(1, n_tokens, width) * 0.02)
        layer = nn.TransformerEncoderLayer(width, heads, dim_feedforward=2 * width, dropout=0.0,
                                           activation="gelu", batch_first=True, norm_first=True)
        self.transformer = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
        self.out = nn.Sequential(nn.LayerNorm(width), nn.Linear(width, embed_dim))

    def forward(self, frame_emb: torch.Tensor, motion: torch.Tensor | None = None,
                frame_mask: torch.Tensor | None = None) -> torch.Tensor:
        """`frame_mask` ``(B, T)``, True where a frame was encoded (training may encode a subset)."""
        b, t, _ = frame_emb.shape
        if t != self.num_frames:
            raise ValueError(f"temporal pooling built for {self.num_frames} frames, got {t}")
        tokens = [self.cls.expand(b, -1, -1), self.frame_in(frame_emb)]
        if self.uses_motion:
            if motion is None or motion.shape[1] != t - 1:
                raise ValueError("motion pooling needs (B, T-1, F) motion features")
            tokens.append(self.motion_in(motion.to(frame_emb.dtype)))
        x = torch.cat(tokens, dim=1) + self.pos
        pad = None
        if frame_mask is not None:
            pad = torch.zeros(x.shape[:2], dtype=torch.bool, device=x.device)
            pad[:, 1:1 + t] = ~frame_mask.bool()
        x = self.transformer(x, src_key_padding_mask=pad)
        return masked_mean(frame_emb, frame_mask) + self.out(x[:, 0])


def build_pooling(name: str, embed_dim: int, num_frames: int, motion_dim: int,
                  layers: int = 2, heads: int = 4) -> nn.Module:
    if name == "mean":
        return MeanPooling()
    if name == "temporal":
        return TemporalPooling(embed_dim, num_frames, 0, layers, heads)
    if name == "motion":
        return TemporalPooling(embed_dim, num_frames, motion_dim, layers, heads)
    raise ValueError(f"unknown pooling {name!r} (known: {', '.join(POOLINGS)})")

"""CameraCLIP: an open_clip model whose image side sees a clip (frames → image encoder → pooling).

`CameraCLIP.encode_video` takes ``(B, T, 3, S, S)`` normalised frames and ``(B, T-1, F)`` motion
features and returns L2-normalised video embeddings; `encode_text` takes token ids. The class's
`prepare` turns uint8 frames into those inputs (fit to size, motion features, normalisation).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from cinestudio.cameraclip import features
from cinestudio.cameraclip.pooling import build_pooling
from cinestudio.cameraclip.registry import ModelSpec, create_clip, get_tokenizer, image_norm, image_size


class CameraCLIP(nn.Module):
    def __init__(self, spec: ModelSpec, clip: nn.Module | None = None, device: str = "cpu"):
        super().__init__()
        self.spec = spec
        self.clip = clip if clip is not None else create_clip(spec.model, spec.pretrained, device=device)
        self.embed_dim = int(self.clip.text_projection.shape[1]) if hasattr(self.clip, "text_projection") \
            and self.clip.text_projection is not None else int(self.clip.visual.output_dim)
        self.image_size = image_size(self.clip)
        mean, std = image_norm(self.clip)
        self.register_buffer("pixel_mean", torch.tensor(mean).view(1, 1, 3, 1, 1), persistent=False)
        self.register_buffer("pixel_std", torch.tensor(std).view(1, 1, 3, 1, 1), persistent=False)
        self.pooling = build_pooling(spec.pooling, self.embed_dim, spec.num_frames,
                                     features.motion_dim(spec.motion_features), spec.temporal_layers,
                                     spec.temporal_heads)
        self.tokenizer = get_tokenizer(spec.model)
        self.to(device)

    @property
    def uses_motion(self) -> bool:
        return bool(getattr(self.pooling, "uses_motion", False))

    @property
    def device(self) -> torch.device:
        return self.clip.logit_scale.device

    @property
    def logit_scale(self) -> torch.Tensor:
        return self.clip.logit_scale

    # ---- inputs -------------------------------------------------------------------------------
    def prepare_frames(self, frames: np.ndarray) -> np.ndarray:
        """uint8 ``(T, H, W, 3)`` → ``(T, S, S, 3)`` at the model's image size."""
        return features.fit_frames(frames, self.image_size)

    def to_pixels(self, frames_uint8: np.ndarray | torch.Tensor) -> torch.Tensor:
        """uint8 ``(B, T, S, S, 3)`` → normalised float ``(B, T, 3, S, S)`` on the model's device."""
        x = torch.as_tensor(frames_uint8, device=self.device)
        x = x.permute(0, 1, 4, 2, 3).float().div_(255.0)
        return (x - self.pixel_mean) / self.pixel_std

    @property
    def motion_dim(self) -> int:
        return features.motion_dim(self.spec.motion_features)

    def encode_motion(self, raw: np.ndarray) -> np.ndarray:
        """Raw motion ``(..., T-1, RAW_DIM)`` (the frame cache's) → this model's motion features."""
        return features.encode_motion(raw, self.spec.motion_features)

    def motion_tensor(self, motion: np.ndarray | torch.Tensor | None) -> torch.Tensor | None:
        if motion is None or not self.uses_motion:
            return None
        return torch.as_tensor(motion, dtype=torch.float32, device=self.device)

    # ---- encoders -----------------------------------------------------------------------------
    def encode_frames(self, pixels: torch.Tensor) -> torch.Tensor:
        """``(B, T, 3, S, S)`` → per-frame embeddings ``(B, T, D)`` (not normalised)."""
        b, t = pixels.shape[:2]
        emb = self.clip.encode_image(pixels.reshape(b * t, *pixels.shape[2:]))
        return emb.reshape(b, t, -1)

    def encode_video(self, pixels: torch.Tensor, motion: torch.Tensor | None = None,
                     normalize: bool = True, frame_index: torch.Tensor | None = None) -> torch.Tensor:
        """Video embeddings from ``(B, T, 3, S, S)`` pixels and ``(B, T-1, F)`` motion features.

        With `frame_index` ``(B, K)`` (training's sparse frame sampling), `pixels` holds only those
        K frames of each clip ``(B, K, 3, S, S)``; the other frames are masked out of the pooling.
        """
        emb = self.encode_frames(pixels)
        mask = None
        if frame_index is not None:
            b, k, d = emb.shape
            t = self.spec.num_frames
            full = emb.new_zeros((b, t, d))
            full.scatter_(1, frame_index.unsqueeze(-1).expand(b, k, d), emb)
            mask = torch.zeros((b, t), dtype=torch.bool, device=emb.device)
            mask.scatter_(1, frame_index, True)
            emb = full
        out = self.pooling(emb, motion, mask)
        return nn.functional.normalize(out, dim=-1) if normalize else out

    def tokenize(self, texts: list[str]) -> torch.Tensor:
        return self.tokenizer(list(texts)).to(self.device)

    def encode_text(self, tokens: torch.Tensor, normalize: bool = True) -> torch.Tensor:
        return self.clip.encode_text(tokens, normalize=normalize)

    def encode_texts(self, texts: list[str]) -> torch.Tensor:
        return self.encode_text(self.tokenize(texts))


def build_model(spec: ModelSpec | None = None, device: str = "cpu") -> CameraCLIP:
    return CameraCLIP(spec or ModelSpec(), device=device)

"""Which open_clip architecture CameraCLIP wraps, and how it is built (from scratch or pretrained).

The default, ``cameraclip-tiny-rn`` (a small ResNet; ``cameraclip-tiny`` is a small ViT), is registered from a JSON config shipped in
``resources/cameraclip/`` (``open_clip.add_model_config``) and trained from scratch, since nothing
can be downloaded here. A user with weights picks any open_clip architecture and a pretrained tag
or local checkpoint (``--model ViT-B-32 --pretrained openai`` or ``--pretrained /path/to.pt``);
that path goes through open_clip's own loader unchanged.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from pathlib import Path

from cinestudio.errors import UserInputError
from cinestudio.resources import resources_dir

DEFAULT_MODEL = "cameraclip-tiny-rn"
OPENAI_MEAN = (0.48145466, 0.4578275, 0.40821073)
OPENAI_STD = (0.26862954, 0.26130258, 0.27577711)

_registered = False


def configs_dir() -> Path:
    return resources_dir() / "cameraclip"


def register_models() -> list[str]:
    """Register CameraCLIP's own architectures with open_clip (idempotent); return their names."""
    global _registered
    import open_clip

    folder = configs_dir()
    names = sorted(p.stem for p in folder.glob("*.json"))
    if not _registered and folder.is_dir():
        open_clip.add_model_config(folder)
        _registered = True
    return names


def list_models() -> list[str]:
    import open_clip

    register_models()
    return list(open_clip.list_models())


@dataclass(frozen=True)
class ModelSpec:
    """What to build: an open_clip architecture, its weights, and the video side around it."""

    model: str = DEFAULT_MODEL
    pretrained: str | None = None  # open_clip tag ("openai") or a local checkpoint file
    pooling: str = "motion"  # see cinestudio.cameraclip.pooling.POOLINGS
    num_frames: int = 8
    temporal_layers: int = 2
    temporal_heads: int = 4
    motion_features: int = 4  # version of the motion features (cinestudio.cameraclip.features)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> ModelSpec:
        known = {k: data[k] for k in cls.__dataclass_fields__ if k in data}
        known.setdefault("motion_features", 1)  # runs saved before the version existed used version 1
        return cls(**known)


def create_clip(model: str = DEFAULT_MODEL, pretrained: str | None = None, device: str = "cpu"):
    """Build an open_clip CLIP model (``pretrained=None``: random initialisation).

    Raises `UserInputError` for an unknown architecture, or a pretrained tag/file that cannot be
    loaded (e.g. a tag whose weights would have to be downloaded while offline).
    """
    import open_clip

    register_models()
    if model.replace("/", "-") not in open_clip.list_models():
        raise UserInputError(model, "unknown open_clip architecture (try cameraclip-tiny-rn, cameraclip-tiny, ViT-B-32, ...)")
    if pretrained and not Path(pretrained).is_file() and pretrained not in open_clip.list_pretrained_tags_by_model(model):
        raise UserInputError(pretrained, f"neither a checkpoint file nor a pretrained tag of {model} "
                                         f"(tags: {', '.join(open_clip.list_pretrained_tags_by_model(model)) or 'none'})")
    root = logging.getLogger()
    level = root.level
    if not pretrained:  # open_clip warns on the root logger that no weights were loaded: intended here
        root.setLevel(logging.ERROR)
    try:
        clip = open_clip.create_model(model, pretrained=pretrained or None, device=device)
    except RuntimeError as exc:
        if pretrained:
            raise UserInputError(pretrained, f"could not load pretrained weights for {model}: {exc}") from None
        raise
    finally:
        root.setLevel(level)
    logging.getLogger(__name__).info("built %s (pretrained=%s)", model, pretrained)
    return clip


def image_norm(clip) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """The mean/std an open_clip model's image tower expects."""
    cfg = getattr(getattr(clip, "visual", None), "preprocess_cfg", None) or {}
    mean = tuple(cfg.get("mean") or getattr(clip.visual, "image_mean", None) or OPENAI_MEAN)
    std = tuple(cfg.get("std") or getattr(clip.visual, "image_std", None) or OPENAI_STD)
    return mean, std


def image_size(clip) -> int:
    size = getattr(clip.visual, "image_size", 224)
    return int(size[0] if isinstance(size, (tuple, list)) else size)


def get_tokenizer(model: str = DEFAULT_MODEL):
    import open_clip

    register_models()
    return open_clip.get_tokenizer(model)

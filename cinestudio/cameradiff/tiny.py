"""Tiny, randomly initialised AnimateDiff pipelines built offline, saved in the diffusers layout.

`make_tiny(out_dir, seed)` builds the same classes a real AnimateDiff setup uses —
`UNet2DConditionModel` turned into a `UNetMotionModel` by a `MotionAdapter`, an `AutoencoderKL`, a
`CLIPTextModel` with a `CLIPTokenizer`, a `DDIMScheduler` — only very small, and saves the
`AnimateDiffPipeline` with ``save_pretrained``; tests, the demo and `train_base` then go through the
real loading path (`backend.load_pipeline`). Nothing is downloaded: the tokenizer's vocabulary is
built from the byte-pair-encoding file that ships inside open_clip (the same 49,408-token CLIP
vocabulary the SD-1.5 tokenizer has, token for token).

Presets (`PRESETS`): ``test`` is as small as the classes allow (16 px, renders in a fraction of a
second on a CPU); ``base`` is the starting point of `train_base` (a 3-level UNet, 4× VAE).
"""

from __future__ import annotations

import gzip
import os
import shutil
import tempfile
from dataclasses import asdict, dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

from cinestudio.errors import UserInputError

TOKENS = 49408  # 256 bytes + 256 bytes</w> + 48,894 merges + 2 specials (= SD-1.5's CLIP vocabulary)
MAX_TOKENS = 77


@dataclass(frozen=True)
class TinySpec:
    """Sizes of a tiny pipeline (``unet_channels``: one entry per UNet level; ``vae_channels``: one
    per VAE level, so the VAE downsamples by 2**(len - 1))."""

    unet_channels: tuple[int, ...] = (8, 16)
    cross_attention_levels: tuple[bool, ...] = (True, False)
    layers_per_block: int = 1
    vae_channels: tuple[int, ...] = (8, 8)
    vae_layers_per_block: int = 1
    latent_channels: int = 4
    text_width: int = 16
    text_layers: int = 1
    text_heads: int = 2
    attention_head_dim: int = 4
    motion_heads: int = 2
    motion_layers_per_block: int = 1
    norm_groups: int = 4
    image_size: int = 16  # default render size in pixels
    max_frames: int = 32  # length of the motion modules' positional embedding

    @property
    def vae_factor(self) -> int:
        return 2 ** (len(self.vae_channels) - 1)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TinySpec:
        known = {k: (tuple(v) if isinstance(v, list) else v) for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**known)


PRESETS: dict[str, TinySpec] = {
    "test": TinySpec(),
    "base": TinySpec(unet_channels=(32, 64, 96), cross_attention_levels=(True, True, False), layers_per_block=1,
                     vae_channels=(32, 48, 64), latent_channels=4, text_width=64, text_layers=2, text_heads=4,
                     attention_head_dim=8, motion_heads=4, norm_groups=8, image_size=64, max_frames=32),
}


@lru_cache(maxsize=1)
def _clip_bpe() -> tuple[dict[str, int], tuple[tuple[str, str], ...]]:
    import open_clip
    from open_clip.tokenizer import bytes_to_unicode

    bpe = Path(open_clip.__file__).parent / "bpe_simple_vocab_16e6.txt.gz"
    lines = gzip.open(bpe).read().decode("utf-8").split("\n")
    merges = [tuple(m.split()) for m in lines[1:49152 - 256 - 2 + 1]]  # as open_clip / OpenAI CLIP
    vocab = list(bytes_to_unicode().values())
    vocab = vocab + [v + "</w>" for v in vocab]
    vocab += ["".join(m) for m in merges]
    vocab += ["<|startoftext|>", "<|endoftext|>"]
    assert len(vocab) == TOKENS
    return {v: i for i, v in enumerate(vocab)}, tuple(merges)  # type: ignore[return-value]


def build_tokenizer():
    """A `CLIPTokenizer` with CLIP's vocabulary, built from open_clip's BPE file (no download)."""
    from transformers import CLIPTokenizer

    vocab, merges = _clip_bpe()
    try:  # transformers 5: the tokenizers-backed class takes the vocabulary and merges themselves
        return CLIPTokenizer(vocab=dict(vocab), merges=list(merges), model_max_length=MAX_TOKENS)
    except TypeError:  # transformers 4: files
        folder = Path(tempfile.mkdtemp(prefix="cinestudio-tok-"))
        try:
            import json

            (folder / "vocab.json").write_text(json.dumps(vocab), encoding="utf-8")
            (folder / "merges.txt").write_text("#version: 0.2\n" + "\n".join(" ".join(m) for m in merges) + "\n",
                                               encoding="utf-8")
            return CLIPTokenizer(vocab_file=str(folder / "vocab.json"), merges_file=str(folder / "merges.txt"),
                                 model_max_length=MAX_TOKENS)
        finally:
            shutil.rmtree(folder, ignore_errors=True)


def build_components(spec: TinySpec, seed: int = 0) -> dict[str, Any]:
    """Randomly initialised components of an AnimateDiff pipeline of `spec`'s sizes."""
    import torch
    from diffusers import AutoencoderKL, MotionAdapter, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel

    from cinestudio.cameradiff.backend import ddim_scheduler

    if len(spec.unet_channels) != len(spec.cross_attention_levels):
        raise ValueError("unet_channels and cross_attention_levels must have one entry per level")
    torch.manual_seed(seed)
    down = tuple("CrossAttnDownBlock2D" if a else "DownBlock2D" for a in spec.cross_attention_levels)
    up = tuple("CrossAttnUpBlock2D" if a else "UpBlock2D" for a in reversed(spec.cross_attention_levels))
    latent = spec.image_size // spec.vae_factor
    unet = UNet2DConditionModel(
        sample_size=latent, in_channels=spec.latent_channels, out_channels=spec.latent_channels,
        block_out_channels=spec.unet_channels, layers_per_block=spec.layers_per_block,
        down_block_types=down, up_block_types=up, cross_attention_dim=spec.text_width,
        attention_head_dim=spec.attention_head_dim, norm_num_groups=spec.norm_groups)
    adapter = MotionAdapter(block_out_channels=spec.unet_channels,
                            motion_layers_per_block=spec.motion_layers_per_block,
                            motion_norm_num_groups=spec.norm_groups, motion_num_attention_heads=spec.motion_heads,
                            motion_max_seq_length=spec.max_frames)
    vae = AutoencoderKL(in_channels=3, out_channels=3, latent_channels=spec.latent_channels,
                        block_out_channels=spec.vae_channels, layers_per_block=spec.vae_layers_per_block,
                        down_block_types=("DownEncoderBlock2D",) * len(spec.vae_channels),
                        up_block_types=("UpDecoderBlock2D",) * len(spec.vae_channels),
                        norm_num_groups=spec.norm_groups, sample_size=spec.image_size)
    text = CLIPTextModel(CLIPTextConfig(
        vocab_size=TOKENS, hidden_size=spec.text_width, intermediate_size=spec.text_width * 4,
        num_hidden_layers=spec.text_layers, num_attention_heads=spec.text_heads,
        max_position_embeddings=MAX_TOKENS, bos_token_id=TOKENS - 2, eos_token_id=TOKENS - 1,
        pad_token_id=TOKENS - 1, projection_dim=spec.text_width))
    scheduler = ddim_scheduler({"num_train_timesteps": 1000, "beta_start": 0.00085, "beta_end": 0.012})
    return {"unet": unet, "motion_adapter": adapter, "vae": vae, "text_encoder": text,
            "tokenizer": build_tokenizer(), "scheduler": scheduler}


def assemble(components: dict[str, Any]):
    from diffusers import AnimateDiffPipeline

    return AnimateDiffPipeline(vae=components["vae"], text_encoder=components["text_encoder"],
                               tokenizer=components["tokenizer"], unet=components["unet"],
                               motion_adapter=components["motion_adapter"], scheduler=components["scheduler"],
                               feature_extractor=None, image_encoder=None)


def save_pipeline_atomic(pipe, out_dir: str | os.PathLike[str], overwrite: bool = False,
                         extra_files: dict[str, str] | None = None) -> Path:
    """``pipe.save_pretrained`` into a temporary folder beside `out_dir`, then rename it there."""
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise UserInputError(out, "exists and is not a folder")
    if out.exists() and any(out.iterdir()) and not overwrite:
        raise UserInputError(out, "folder is not empty (choose another, or allow overwriting)")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        pipe.save_pretrained(tmp)
        for name, text in (extra_files or {}).items():
            (tmp / name).write_text(text, encoding="utf-8")
        if out.exists():
            old = out.with_name(f".{out.name}.old")
            shutil.rmtree(old, ignore_errors=True)
            os.replace(out, old)
            os.replace(tmp, out)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out


def make_tiny(out_dir: str | os.PathLike[str], seed: int = 0, preset: str = "test", overwrite: bool = False,
              **overrides: Any) -> dict[str, Any]:
    """Build a tiny random AnimateDiff pipeline and save it in the diffusers layout at `out_dir`.

    Returns ``{"out", "preset", "seed", "spec", "parameters"}``. ``overrides`` change `TinySpec`
    fields (e.g. ``image_size=32``).
    """
    import json

    from cinestudio.cameradiff.backend import quiet_hub_output

    if preset not in PRESETS:
        raise UserInputError(preset, f"unknown preset (known: {', '.join(PRESETS)})")
    spec = replace(PRESETS[preset], **overrides)
    quiet_hub_output()
    pipe = assemble(build_components(spec, seed))
    params = {name: sum(p.numel() for p in getattr(pipe, name).parameters())
              for name in ("unet", "vae", "text_encoder")}
    info = {"preset": preset, "seed": seed, "spec": spec.to_dict(), "parameters": params,
            "note": "randomly initialised by `cinestudio diff make-tiny`: renders noise until trained"}
    out = save_pipeline_atomic(pipe, out_dir, overwrite=overwrite,
                               extra_files={TINY_INFO: json.dumps(info, indent=2) + "\n"})
    return {"out": str(out), **info}


TINY_INFO = "cinestudio_tiny.json"

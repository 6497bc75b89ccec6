"""Cinematic LoRAs: where they sit in the UNet, how they are saved, loaded and checked.

Where (``target``; `AXIS_TARGET` gives each axis's default, ``--target`` overrides it):

- ``motion``  — the motion modules' temporal attention (``motion_modules.*.transformer_blocks.*.
  attn1/attn2`` ``to_q/to_k/to_v/to_out.0``), as AnimateDiff's MotionLoRAs do. Camera movement is
  how the picture changes from frame to frame, and those layers are the only ones that mix frames;
  the spatial layers keep rendering the same kind of picture.
- ``spatial`` — the spatial transformer blocks' self- and cross-attention (``attentions.*.
  transformer_blocks.*.attn1/attn2``). Framing (the subject's size) and angle (the camera's pitch:
  horizon, perspective) are properties of every single frame: where things are laid out in it, and
  how the prompt's subject is placed — spatial self-attention and cross-attention do that.
- ``both``    — the union, for types that change over the clip and within frames.

File format: a safetensors file written by the pipeline's ``save_lora_weights`` (the diffusers
LoRA format: keys ``unet.<module>.lora_A.weight`` / ``lora_B.weight``, the peft `LoraConfig` in
the ``lora_adapter_metadata`` field), so ``pipe.load_lora_weights(file)`` loads it anywhere; plus
a ``cinestudio`` metadata field (JSON): the type (``key``, ``axis``), ``target``, ``rank``,
``alpha``, ``base``, ``steps``, ``metrics``, the training resolution and frames. Adapters saved
from the bare UNet lack the ``unet.`` prefix and ``load_lora_weights`` then loads nothing without a
word; `load_lora` therefore checks that the adapter landed on LoRA layers and raises otherwise.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cinestudio.errors import UserInputError

ATTN_PROJ = r"attn[12]\.(?:to_q|to_k|to_v|to_out\.0)"
MOTION_TARGET = rf".*motion_modules\.\d+\.transformer_blocks\.\d+\.{ATTN_PROJ}"
SPATIAL_TARGET = rf".*attentions\.\d+\.transformer_blocks\.\d+\.{ATTN_PROJ}"
TARGETS = {"motion": MOTION_TARGET, "spatial": SPATIAL_TARGET, "both": rf"(?:{MOTION_TARGET})|(?:{SPATIAL_TARGET})"}
AXIS_TARGET = {"movement": "motion", "framing": "spatial", "angle": "spatial"}
META_KEY = "cinestudio"
PEFT_META_KEY = "lora_adapter_metadata"
FORMAT = "cinestudio.lora/1"


def target_for(axis: str, target: str = "auto") -> str:
    if target in (None, "", "auto"):
        return AXIS_TARGET[axis]
    if target not in TARGETS:
        raise UserInputError(target, f"unknown LoRA target (known: auto, {', '.join(TARGETS)})")
    return target


def target_modules(unet, target: str) -> list[str]:
    rx = re.compile(TARGETS[target])
    return [n for n, m in unet.named_modules() if rx.fullmatch(n) and hasattr(m, "weight")]


def is_motion_layer(name: str) -> bool:
    return ".motion_modules." in f".{name}"


def add_lora(unet, adapter_name: str, rank: int = 8, alpha: float | None = None, target: str = "motion",
             dropout: float = 0.0) -> list[str]:
    """Add a peft LoRA adapter on `target`'s attention layers; returns the targeted module names.

    lora_B starts at zero (the standard init), so a fresh adapter leaves the output unchanged."""
    from peft import LoraConfig

    names = target_modules(unet, target)
    if not names:
        raise UserInputError(target, "this UNet has no layers of that kind to put a LoRA on")
    config = LoraConfig(r=int(rank), lora_alpha=float(alpha if alpha is not None else rank),
                        target_modules=TARGETS[target], lora_dropout=dropout, init_lora_weights=True)
    with warnings.catch_warnings():  # "already found a peft_config": several adapters are intended
        warnings.simplefilter("ignore", UserWarning)
        unet.add_adapter(config, adapter_name=adapter_name)
    return names


def lora_parameters(unet, adapter_name: str) -> dict[str, Any]:
    """The adapter's trainable tensors by (peft) name."""
    return {n: p for n, p in unet.named_parameters() if f".{adapter_name}." in n and "lora_" in n}


def _peft_metadata(unet, adapter_name: str) -> dict[str, Any]:
    cfg = unet.peft_config[adapter_name].to_dict()
    out = {}
    for k, v in cfg.items():
        if isinstance(v, set):
            v = sorted(v)
        out[f"unet.{k}"] = v
    return out


def save_lora(path: str | os.PathLike[str], unet, adapter_name: str, meta: dict[str, Any]) -> Path:
    """Write the adapter with ``AnimateDiffPipeline.save_lora_weights`` (``unet.`` prefix, peft
    config) plus the ``cinestudio`` metadata, atomically, to `path` (a ``.safetensors`` file)."""
    import safetensors.torch
    from diffusers import AnimateDiffPipeline
    from peft.utils import get_peft_model_state_dict

    path = Path(path)
    if path.suffix != ".safetensors":
        raise UserInputError(path, "a LoRA file name ends in .safetensors")
    state = get_peft_model_state_dict(unet, adapter_name=adapter_name)
    state = {k: v.detach().to("cpu").contiguous().clone() for k, v in state.items()}
    if not state:
        raise ValueError(f"adapter {adapter_name!r} has no LoRA weights to save")
    metadata = {"format": "pt", PEFT_META_KEY: json.dumps(_peft_metadata(unet, adapter_name), sort_keys=True,
                                                          default=str),
                META_KEY: json.dumps({"format": FORMAT, **meta}, sort_keys=True, default=str)}

    def save_function(weights: dict, filename: str) -> None:
        safetensors.torch.save_file(weights, filename, metadata=metadata)

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.stem}.", dir=path.parent))
    try:
        AnimateDiffPipeline.save_lora_weights(tmp, unet_lora_layers=state, weight_name=path.name,
                                              save_function=save_function, safe_serialization=True)
        os.replace(tmp / path.name, path)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return path


def read_metadata(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The file's ``cinestudio`` metadata (empty for a LoRA made elsewhere); raises for unreadable files."""
    from safetensors import safe_open

    path = Path(path)
    try:
        with safe_open(str(path), framework="pt", device="cpu") as fh:
            meta = dict(fh.metadata() or {})
            keys = list(fh.keys())
    except Exception as exc:  # safetensors has its own error types
        raise UserInputError(path, f"not a readable safetensors LoRA file ({exc})") from None
    if not any("lora" in k for k in keys):
        raise UserInputError(path, "holds no LoRA weights (no lora_A/lora_B tensors)")
    try:
        return json.loads(meta.get(META_KEY, "{}"))
    except json.JSONDecodeError:
        return {}


def resolve_lora_file(ref: str | os.PathLike[str]) -> Path:
    """A LoRA file, or a LoRA run folder (its ``<type>.safetensors``)."""
    path = Path(ref).expanduser()
    if path.is_file():
        return path
    if path.is_dir():
        cfg = path / "config.json"
        if cfg.is_file():
            try:
                name = json.loads(cfg.read_text(encoding="utf-8")).get("lora_file")
            except (OSError, ValueError):
                name = None
            if name and (path / name).is_file():
                return path / name
        files = sorted(p for p in path.glob("*.safetensors"))
        if len(files) == 1:
            return files[0]
        raise UserInputError(path, "no finished LoRA in this folder" if not files
                             else "several .safetensors files here; name one")
    raise UserInputError(path, "no such LoRA file or run folder")


@dataclass
class LoraRef:
    """One ``--lora FILE[:WEIGHT][@START-END]``: a LoRA, its weight and the frames it covers."""

    path: Path
    weight: float = 1.0
    start: int | None = None
    end: int | None = None  # exclusive; None: to the last frame
    meta: dict[str, Any] = field(default_factory=dict)
    adapter: str = ""

    @property
    def key(self) -> str | None:
        return self.meta.get("key")

    def to_dict(self) -> dict[str, Any]:
        return {"file": str(self.path), "weight": self.weight, "start": self.start, "end": self.end,
                "adapter": self.adapter, "key": self.key, "axis": self.meta.get("axis"),
                "target": self.meta.get("target"), "base": self.meta.get("base"), "steps": self.meta.get("steps")}


def parse_lora_arg(text: str) -> LoraRef:
    """``FILE``, ``FILE:0.8``, ``FILE@0-8``, ``FILE:0.8@8-16`` (frames ``[START, END)``)."""
    spec = text.strip()
    start = end = None
    if "@" in spec:
        spec, _, rng = spec.rpartition("@")
        m = re.fullmatch(r"\s*(\d+)\s*-\s*(\d*)\s*", rng)
        if not m:
            raise UserInputError(text, "frame range after @ must be START-END (END exclusive, may be empty)")
        start, end = int(m.group(1)), (int(m.group(2)) if m.group(2) else None)
        if end is not None and end <= start:
            raise UserInputError(text, "frame range END must be greater than START")
    weight = 1.0
    head, sep, tail = spec.rpartition(":")
    if sep and head and not re.fullmatch(r"[A-Za-z]", head):  # not a Windows drive letter
        try:
            weight = float(tail)
            spec = head
        except ValueError:
            pass
    path = resolve_lora_file(spec)
    meta = read_metadata(path)
    return LoraRef(path=path, weight=weight, start=start, end=end, meta=meta)


def _adapter_name(ref: LoraRef, used: set[str]) -> str:
    base = re.sub(r"\W+", "_", ref.key or ref.path.stem).strip("_") or "lora"
    name, i = base, 2
    while name in used:
        name, i = f"{base}_{i}", i + 1
    used.add(name)
    return name


def loaded_layers(unet, adapter_name: str) -> int:
    """How many LoRA layers of the UNet hold `adapter_name` (0: it loaded as nothing)."""
    from peft.tuners.lora import LoraLayer

    return sum(1 for m in unet.modules() if isinstance(m, LoraLayer) and adapter_name in m.lora_A)


def load_loras(pipe, refs: list[LoraRef]) -> list[LoraRef]:
    """Load each LoRA into the pipeline under its own adapter name (with ``load_lora_weights``),
    check it landed, and activate them all at weight 1 (callers scale them, see `mixing`)."""
    used = set(getattr(pipe.unet, "peft_config", {}) or {})
    for ref in refs:
        ref.adapter = _adapter_name(ref, used)
        try:
            with warnings.catch_warnings():  # "already found a peft_config": several adapters are intended
                warnings.simplefilter("ignore", UserWarning)
                pipe.load_lora_weights(str(ref.path), adapter_name=ref.adapter)
        except (ValueError, KeyError, RuntimeError, OSError) as exc:
            raise UserInputError(ref.path, f"could not load this LoRA into the base: {' '.join(str(exc).split())[:300]}") from None
        if loaded_layers(pipe.unet, ref.adapter) == 0:
            raise UserInputError(ref.path, "loaded as nothing: its keys do not match this UNet (a LoRA saved from the "
                                           "bare UNet lacks the 'unet.' prefix, or it was made for another base)")
    if refs:
        pipe.set_adapters([r.adapter for r in refs], [1.0] * len(refs))
    return refs


def unload_loras(pipe) -> None:
    if getattr(pipe.unet, "peft_config", None):
        pipe.unload_lora_weights()

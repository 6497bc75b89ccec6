"""CameraDiff: cinematic LoRAs on AnimateDiff, and their composition (merge, switch, composite, CLIPLoRA).

One concept per module:

- `backend`    load an `AnimateDiffPipeline` (local folder or hub id; device, fp16, slicing, offload)
- `tiny`       `make_tiny`: tiny random pipelines of the same classes, saved in the diffusers layout
- `lora`       where a type's LoRA sits (motion vs spatial attention), save/load/check LoRA files
- `schedule`   units (LoRA × weight × frame range), segments, smooth windows, switch/composite plans
- `mixing`     per-adapter, per-frame strengths (hooks on lora_B); the UNet tap; x̂0 prediction
- `cliplora`   the CameraCLIP-guided re-weighting (algorithm in its docstring) and the scorer protocol
- `compose`    `compose(pipe, prompt, loras, ComposeOptions)`: one interface, four methods
- `render`     the render use-case: MP4 + GIF + sidecar JSON (`RenderConfig`, `render`)
- `train_lora` `train_lora(LoraTrainConfig, progress, should_stop)`: one LoRA per cinematic type
- `train_base` `train_base(BaseTrainConfig, ...)`: a small base trained on simulator clips
- `runs`       the LoRAs of a workspace (``lora list``)

Importing this package is cheap; torch and diffusers load with the submodules that need them.
The functions named like their modules (`compose`, `render`, `train_lora`, `train_base`) are
imported from those modules (``from cinestudio.cameradiff.compose import compose``): once a
submodule is loaded, Python binds its name on the package, so a package-level alias would
sometimes be the module.
"""

from __future__ import annotations

import importlib

_EXPORTS = {
    "load_pipeline": "backend", "BackendOptions": "backend", "make_tiny": "tiny",
    "add_lora": "lora", "save_lora": "lora", "load_loras": "lora", "parse_lora_arg": "lora", "LoraRef": "lora",
    "ComposeOptions": "compose", "METHODS": "compose",
    "ClipLoraGuide": "cliplora", "GuideOptions": "cliplora", "CameraClipScorer": "cliplora",
    "RenderConfig": "render",
    "LoraTrainConfig": "train_lora",
    "BaseTrainConfig": "train_base",
    "list_loras": "runs",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(importlib.import_module(f"{__name__}.{_EXPORTS[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

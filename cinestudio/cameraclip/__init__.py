"""CameraCLIP: a CLIP that reads cinematic language (framing, angle, camera movement) in clips.

One concept per module:

- `registry`   which open_clip architecture (the tiny from-scratch default, or any pretrained one)
- `features`   frames at the model's size; motion features from the classical global-motion fit
- `pooling`    temporal pooling: ``mean`` (the paper's), ``temporal``, ``motion`` (default)
- `model`      `CameraCLIP`: frames → image encoder → pooling → video embedding; text encoder
- `augment`    augmentations that keep labels true (flip, time reversal with label swaps, ...)
- `data`       simulator ``labels.jsonl`` / export manifests → `ClipItem`; the frame cache
- `checkpoint` safetensors checkpoints (weights + optimizer state + step), no pickles
- `experts`    the experts beside CameraCLIP (zoom/dolly, pan/tracking): small CNNs trained on
               fresh renders (and kept for reuse: `ExpertStore`)
- `movement_cnn` a second movement reader: the experts' CNN over every movement class, trained on
               the run's own clips and mixed into CameraCLIP's movement reading
- `symmetry`   movement read four ways: as is, mirrored, reversed and both, averaged
- `train`      `train(TrainConfig, progress, should_stop)` and `main(argv)`; the run folder
- `evaluate`   retrieval R@1 per axis, confusion matrices, direction flip rates, misread clips
- `infer`      `load_run`, `classify_frames`, `score_frames` (the library entry for CLIPLoRA)

Importing this package is cheap; torch and open_clip load with the submodules that need them.
The training and evaluation functions are `cinestudio.cameraclip.train.train` and
`cinestudio.cameraclip.evaluate.evaluate`.
"""

from __future__ import annotations

import importlib

_EXPORTS = {
    "ModelSpec": "registry", "DEFAULT_MODEL": "registry", "CameraCLIP": "model", "build_model": "model",
    "TrainConfig": "train", "LoadedRun": "infer",
    "load_run": "infer", "classify_frames": "infer", "score_frames": "infer", "embed_clips": "infer",
    "load_items": "data", "ClipItem": "data",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(importlib.import_module(f"{__name__}.{_EXPORTS[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

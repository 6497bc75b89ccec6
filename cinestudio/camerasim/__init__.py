"""Camera simulator: a procedural 3-D scene seen through a pinhole camera, exactly labelled.

- `camera`: the pinhole `Camera`, the label definitions (framing by visible height at the
  subject, angle by pitch/roll/height) and camera paths (`camera_path`: every movement class).
- `scene`, `figures`, `textures`: sky, ground or room, human figures, objects, lighting.
- `render`: the fast planar renderer (homographies, depth of field, fog, film look).
- `shot`: the shot API, ``render_shot(ShotSpec(...)) -> RenderedShot`` (also for previz).
- `still`: camera moves over a reference picture.
- `dataset`: ``simulate_dataset(out_dir, per_class, seed, ...)`` → MP4 clips + labels.jsonl.

No Qt, no database: plain functions that take data and return data (see docs/camerasim.md).
"""

from __future__ import annotations

_LAZY = {
    "Camera": "cinestudio.camerasim.camera",
    "ShotSpec": "cinestudio.camerasim.shot",
    "RenderedShot": "cinestudio.camerasim.shot",
    "render_shot": "cinestudio.camerasim.shot",
    "simulate_dataset": "cinestudio.camerasim.dataset",
    "plan_dataset": "cinestudio.camerasim.dataset",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'cinestudio.camerasim' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)

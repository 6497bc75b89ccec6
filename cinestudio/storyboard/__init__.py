"""Storyboards: sequences of shots in cinematic language, rendered as previz or with diffusion.

One concept per module (no Qt anywhere; the Storyboard tab and the CLI share these):

- `model`       `Board` / `Shot`, durations in frames or seconds, the ``.cinestudio-board.json``
                format (`board_to_dict`, `board_from_dict`, `load_board_file`, `save_board_file`)
- `validate`    `validate_board` → every `Issue` at once (unknown class key, zero duration,
                missing reference image, ...); `check_board` raises them as one UserInputError
- `plan`        `plan_render`: frames per shot, sequence ranges, content hash, what is cached
- `cache`       `RenderCache`: rendered clips by content hash (clip, thumbnail, details)
- `previz`      the previz backend: camera simulator per shot, or a planar move over a picture
- `diffusion`   the diffusion backend: CameraDiff + CLIPLoRA, one render job per shot
- `render`      `render_board(board, backend, out_dir)`: plan, render the missing shots, export
- `export`      `export_board`: clips, sequence MP4 + GIF, contact sheet, sidecar JSON
- `motioncheck` the optical-flow verdict on a rendered shot against its intended movement
- `score`       CameraCLIP scores of rendered shots (imports torch: CLI and workers only)
- `service`     the use-cases on a workspace: boards in the database, render history
- `demo`        the demo workspace's sample board

The format and the workflow are documented in ``docs/storyboard.md``.
"""

from __future__ import annotations

import importlib

_EXPORTS = {
    "Board": "model", "Shot": "model", "board_to_dict": "model", "board_from_dict": "model",
    "load_board_file": "model", "save_board_file": "model",
    "Issue": "validate", "validate_board": "validate", "check_board": "validate",
    "RenderPlan": "plan", "plan_render": "plan", "content_hash": "plan",
    "RenderCache": "cache", "render_previz": "previz",
    "render_board": "render", "export_board": "export", "ShotClip": "export",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(importlib.import_module(f"{__name__}.{_EXPORTS[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

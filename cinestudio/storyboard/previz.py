"""The previz backend: each shot through the camera simulator, on the CPU, in about a second.

Without a reference image the simulator builds a procedural scene around a subject and moves
its pinhole camera through the shot's framing, angle and movements (`camerasim.render_shot`);
with one, the camera makes the same moves over the still as a plane (`camerasim.still`). The
board's ``previz`` settings may fix the ``environment`` (indoor / outdoor) and ``time_of_day``
so a sequence keeps one look.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from cinestudio.errors import UserInputError
from cinestudio.progress import ProgressFn, StopFn, check_stop
from cinestudio.storyboard.model import Board, Shot

MAX_REFERENCE_SIDE = 2048
ENVIRONMENTS = ("outdoor", "indoor")


@dataclass
class ShotFrames:
    """What a backend returns for one shot: the frames and what the sidecar should say."""

    frames: np.ndarray                      # (N, H, W, 3) uint8 RGB
    details: dict[str, Any] = field(default_factory=dict)


def load_reference_image(path: str | Path) -> np.ndarray:
    """An RGB uint8 picture (huge ones shrunk); UserInputError when it cannot be read."""
    p = Path(path)
    try:
        data = np.frombuffer(p.read_bytes(), np.uint8)
    except OSError as exc:
        raise UserInputError(p, f"cannot read the reference image: {exc.strerror or exc}") from None
    img = cv2.imdecode(data, cv2.IMREAD_COLOR) if data.size else None
    if img is None:
        raise UserInputError(p, "not a readable picture (PNG, JPEG, BMP, WebP or TIFF)")
    h, w = img.shape[:2]
    scale = MAX_REFERENCE_SIDE / max(h, w)
    if scale < 1:
        img = cv2.resize(img, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA)
    return cv2.cvtColor(img, cv2.COLOR_BGR2RGB)


def previz_spec(board: Board, shot: Shot):
    from cinestudio.camerasim.shot import ShotSpec

    ref = board.resolve_path(shot.reference_image)
    env = board.previz.get("environment")
    return ShotSpec(
        framing=shot.framing, angle=shot.angle, movements=list(shot.movements) or ["static"],
        frames=shot.frames(board.fps), size=(int(board.width), int(board.height)), fps=float(board.fps),
        seed=int(shot.seed), reference_image=load_reference_image(ref) if ref is not None else None,
        subject=True, environment=env if env in ENVIRONMENTS else None,
        time_of_day=board.previz.get("time_of_day") or None,
    )


def render_previz(board: Board, shot: Shot, *, progress: ProgressFn | None = None,
                  should_stop: StopFn | None = None) -> ShotFrames:
    """Render one shot with the camera simulator."""
    from cinestudio.camerasim.shot import render_shot

    check_stop(should_stop)
    spec = previz_spec(board, shot)
    if progress is not None:
        progress(0, spec.frames, "simulating")
    rendered = render_shot(spec)
    if progress is not None:
        progress(spec.frames, spec.frames, "simulated")
    params = rendered.params
    details = {
        "backend": "previz",
        "seed": int(shot.seed),
        "source": "reference_image" if spec.reference_image is not None else "procedural_scene",
        "scene": params.get("scene"),
        "camera": {"start": _camera_brief(params.get("start")), "end": _camera_brief(params.get("end"))},
        "moves": params.get("moves"),
    }
    return ShotFrames(rendered.frames, details)


def _camera_brief(cam: dict | None) -> dict | None:
    if not cam:
        return None
    keep = ("position", "yaw", "pitch", "roll", "focal_mm", "focus_m", "visible_height")
    return {k: cam[k] for k in keep if k in cam}

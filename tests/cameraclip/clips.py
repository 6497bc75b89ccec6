"""Tiny labelled clips for CameraCLIP tests, in the simulator's ``labels.jsonl`` format.

A crop window moves over a smooth random texture (pan/tilt slide it, zoom scales it); a sky/ground
split gives the angle (horizon low = looking up, high = looking down), a square's size the framing.
Crude, but every label is true by construction, and a clip takes milliseconds.
"""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np

from cinestudio.media.encode import write_mp4

MOVES = ("static", "pan_left", "pan_right", "tilt_up", "tilt_down", "zoom_in", "zoom_out")
FRAMINGS = {"long_shot": 0.15, "medium_shot": 0.35, "close_up": 0.6}
ANGLES = {"eye_level": 0.5, "high_angle": 0.25, "low_angle": 0.75}


def texture(rng: np.random.Generator, size: int = 192) -> np.ndarray:
    small = rng.integers(0, 256, size=(size // 8, size // 8, 3), dtype=np.uint8)
    return cv2.resize(small, (size, size), interpolation=cv2.INTER_CUBIC)


def render(move: str, framing: str, angle: str, rng: np.random.Generator, frames: int = 16,
           size: int = 48) -> np.ndarray:
    tex = texture(rng)
    horizon = ANGLES[angle]
    sky = np.array(rng.integers(150, 255, 3), np.uint8)
    tex[: int(tex.shape[0] * horizon)] = (0.3 * tex[: int(tex.shape[0] * horizon)] + 0.7 * sky).astype(np.uint8)
    out = []
    speed = rng.uniform(1.5, 3.0)
    for t in range(frames):
        tt = t - (frames - 1) / 2
        cx = cy = tex.shape[0] / 2
        scale = 1.6
        if move == "pan_left":
            cx -= speed * tt  # window slides left: content moves right
        elif move == "pan_right":
            cx += speed * tt
        elif move == "tilt_up":
            cy -= speed * tt
        elif move == "tilt_down":
            cy += speed * tt
        elif move == "zoom_in":
            scale *= np.exp(-0.03 * t)
        elif move == "zoom_out":
            scale *= np.exp(0.03 * t - 0.03 * frames)
        m = np.array([[scale, 0, cx - scale * size / 2], [0, scale, cy - scale * size / 2]])
        frame = cv2.warpAffine(tex, m, (size, size), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                               borderMode=cv2.BORDER_REFLECT101)
        side = int(FRAMINGS[framing] * size)
        y0 = size // 2 - side // 2
        frame[y0:y0 + side, size // 2 - side // 2:size // 2 - side // 2 + side] = (230, 40, 40)
        out.append(frame)
    return np.stack(out)


def make_clips(folder: Path, per_move: int = 2, seed: int = 0, frames: int = 16, size: int = 48,
               moves: tuple[str, ...] = MOVES) -> Path:
    """Write clips + labels.jsonl into `folder`; return the labels file."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    lines = []
    for move in moves:
        for k in range(per_move):
            framing = list(FRAMINGS)[int(rng.integers(len(FRAMINGS)))]
            angle = list(ANGLES)[int(rng.integers(len(ANGLES)))]
            name = f"{move}_{k:02d}.mp4"
            write_mp4(folder / name, list(render(move, framing, angle, rng, frames, size)), fps=8)
            lines.append({"file": name, "framing": framing, "angle": angle, "movement": move,
                          "caption": f"a {framing.replace('_', ' ')} at {angle.replace('_', ' ')}, "
                                     f"{move.replace('_', ' ')}"})
    labels = folder / "labels.jsonl"
    labels.write_text("".join(json.dumps(x) + "\n" for x in lines), encoding="utf-8")
    return labels

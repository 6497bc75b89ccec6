"""Thumbnails: one frame, shrunk to fit a box, as an array or a JPEG/PNG file."""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np

from cinestudio.errors import UserInputError
from cinestudio.fsutil import atomic_path
from cinestudio.media._reader import read_at

__all__ = ["thumbnail", "save_thumbnail", "fit_size"]

_ENCODINGS = {".jpg": ".jpg", ".jpeg": ".jpg", ".png": ".png", ".webp": ".webp"}


def fit_size(width: int, height: int, max_size: int) -> tuple[int, int]:
    """(width, height) shrunk so the longer side is at most `max_size` (never enlarged)."""
    if max_size < 1:
        raise ValueError(f"max_size must be positive, got {max_size}")
    scale = min(1.0, max_size / max(width, height))
    return max(1, round(width * scale)), max(1, round(height * scale))


def thumbnail(path: str | os.PathLike[str], frame_index: int | None = None, max_size: int = 160) -> np.ndarray:
    """Frame `frame_index` (default: the middle frame) as an RGB array whose longer side is at
    most `max_size` pixels. MediaError/UserInputError for unreadable files or a bad index."""
    frame = read_at(path, (lambda frames: [frames // 2]) if frame_index is None else [frame_index])[0]
    h, w = frame.shape[:2]
    size = fit_size(w, h, max_size)
    if size == (w, h):
        return frame
    return cv2.resize(frame, size, interpolation=cv2.INTER_AREA)


def save_thumbnail(path: str | os.PathLike[str], out_path: str | os.PathLike[str], frame_index: int | None = None,
                   max_size: int = 160, quality: int = 90) -> Path:
    """Write `thumbnail(path, frame_index, max_size)` to `out_path` (.jpg/.jpeg/.png/.webp, by
    suffix) atomically, and return `out_path`."""
    out = Path(out_path)
    ext = _ENCODINGS.get(out.suffix.lower())
    if ext is None:
        raise UserInputError(out, f"unsupported image type {out.suffix or '(no suffix)'!r}: use .jpg, .png or .webp")
    image = thumbnail(path, frame_index, max_size)
    params = [cv2.IMWRITE_JPEG_QUALITY, int(quality)] if ext == ".jpg" else []
    ok, buf = cv2.imencode(ext, cv2.cvtColor(image, cv2.COLOR_RGB2BGR), params)
    if not ok:
        raise RuntimeError(f"OpenCV could not encode a {ext} image")
    with atomic_path(out) as tmp:
        tmp.write_bytes(buf.tobytes())
    return out

"""Rendered shots by content hash: ``ROOT/ab/abcdef….mp4`` + ``.json`` (details) + ``.jpg`` (thumb).

A render is stored once per content hash (`cinestudio.storyboard.plan.content_hash`), so an
unchanged shot is never rendered twice, and the render history of a shot is a list of hashes.
Clips are H.264 at a high quality (crf 12); every file is written atomically and the details
file last, so an entry exists only when all its files do.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from cinestudio.fsutil import atomic_path, write_json_atomic

CLIP_CRF = 12
THUMB_MAX = 256


@dataclass(frozen=True)
class CachedRender:
    content_hash: str
    clip: Path
    thumbnail: Path
    details: dict[str, Any]

    @property
    def frames(self) -> int:
        return int(self.details.get("frames", 0))


class RenderCache:
    def __init__(self, root: str | os.PathLike[str]):
        self.root = Path(root)

    def _stem(self, content_hash: str) -> Path:
        if len(content_hash) < 8 or not all(c in "0123456789abcdef" for c in content_hash):
            raise ValueError(f"not a content hash: {content_hash!r}")
        return self.root / content_hash[:2] / content_hash

    def paths(self, content_hash: str) -> tuple[Path, Path, Path]:
        stem = self._stem(content_hash)
        return stem.with_suffix(".mp4"), stem.with_suffix(".jpg"), stem.with_suffix(".json")

    def get(self, content_hash: str) -> CachedRender | None:
        clip, thumb, meta = self.paths(content_hash)
        if not (meta.is_file() and clip.is_file()):
            return None
        try:
            details = json.loads(meta.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return CachedRender(content_hash, clip, thumb, details)

    def put(self, content_hash: str, frames: np.ndarray, fps: float, details: dict[str, Any]) -> CachedRender:
        from cinestudio.media.encode import write_mp4

        clip, thumb, meta = self.paths(content_hash)
        frames = np.asarray(frames)
        write_mp4(clip, frames, fps, crf=CLIP_CRF, gop=max(1, min(len(frames), 48)))
        save_thumb(frames[len(frames) // 2], thumb)
        info = {**details, "content_hash": content_hash, "frames": int(len(frames)),
                "width": int(frames.shape[2]), "height": int(frames.shape[1]), "fps": float(fps)}
        write_json_atomic(meta, info)
        return CachedRender(content_hash, clip, thumb, info)

    def read_frames(self, content_hash: str) -> np.ndarray:
        from cinestudio.media.decode import read_frames

        entry = self.get(content_hash)
        if entry is None:
            raise KeyError(content_hash)
        return read_frames(entry.clip)


def save_thumb(frame: np.ndarray, path: str | os.PathLike[str], max_side: int = THUMB_MAX) -> Path:
    h, w = frame.shape[:2]
    scale = min(1.0, max_side / max(h, w))
    small = frame if scale >= 1 else cv2.resize(frame, (max(1, round(w * scale)), max(1, round(h * scale))),
                                                interpolation=cv2.INTER_AREA)
    ok, data = cv2.imencode(".jpg", cv2.cvtColor(np.ascontiguousarray(small), cv2.COLOR_RGB2BGR),
                            [cv2.IMWRITE_JPEG_QUALITY, 90])
    if not ok:
        raise OSError(f"could not encode a thumbnail for {path}")
    path = Path(path)
    with atomic_path(path) as tmp:
        tmp.write_bytes(data.tobytes())
    return path

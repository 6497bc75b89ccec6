"""Uniform frame sampling by seeking, not by decoding everything.

`sample_frames` picks the centres of `n` equal segments of a frame range (`uniform_indices`)
and reaches each by seeking to the keyframe before it and decoding forward to the exact frame
(non-reference frames on the way are skipped for codecs that allow it). Streams where seeking is
not reliable (no timestamps, duplicate timestamps, a target that never comes out) are decoded
sequentially instead, so the result is always the same as decoding everything and indexing.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence

import numpy as np

from cinestudio.media._av import Size, check_path
from cinestudio.media._reader import check_range, read_at, video_index

__all__ = ["uniform_indices", "sample_frames", "sample_indices", "read_frames_at"]


def uniform_indices(start: int, end: int, n: int) -> list[int]:
    """The centre frame of each of `n` equal segments of [start, end) (end exclusive).

    Deterministic; when `n` exceeds the number of frames, frames repeat (each segment's centre
    falls on the frame it lies in), so exactly `n` indices always come back.
    """
    if n < 1:
        raise ValueError(f"n must be at least 1, got {n}")
    if end <= start:
        raise ValueError(f"empty frame range [{start}, {end})")
    length = end - start
    return [start + min(length - 1, math.floor(length * (2 * k + 1) / (2 * n))) for k in range(n)]


def sample_indices(path: str | os.PathLike[str], n: int = 8, start: int = 0, end: int | None = None) -> list[int]:
    """The frame indices `sample_frames` would return for these arguments."""
    frames, _ = video_index(path)
    end = check_range(path, start, end, frames)
    return uniform_indices(start, end, n)


def sample_frames(path: str | os.PathLike[str], n: int = 8, start: int = 0, end: int | None = None,
                  size: Size = None) -> np.ndarray:
    """`n` frames spread uniformly over [start, end) of the video, as an (n, H, W, 3) uint8 array.

    `end` defaults to the number of frames that decode; `size` resizes (an int: the longer side;
    a (width, height) pair: exactly). Raises MediaError for unreadable files and
    UserInputError for a frame range outside the video.
    """
    p = check_path(path)
    return read_at(p, lambda frames: uniform_indices(start, check_range(p, start, end, frames), n), size)


def read_frames_at(path: str | os.PathLike[str], indices: Sequence[int], size: Size = None) -> np.ndarray:
    """The frames at `indices` (any order, repeats allowed), reached by seeking where possible."""
    return read_at(path, indices, size)

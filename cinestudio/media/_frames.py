"""Low-resolution frame reading for analysis (shot detection, motion), straight from PyAV.

Private to `cinestudio.media`: decodes sequentially with frame threading and lets swscale do the
downscaling (much cheaper than converting full-size RGB and resizing). Bad files become
`MediaError` / `UserInputError` with a one-line reason.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import av
import numpy as np

from cinestudio.errors import MediaError, UserInputError
from cinestudio.progress import StopFn, check_stop


def check_file(path: str | os.PathLike[str]) -> Path:
    p = Path(path)
    if not p.exists():
        raise UserInputError(os.fspath(path), "no such file")
    if p.is_dir():
        raise UserInputError(os.fspath(path), "is a folder, not a video file")
    if p.stat().st_size == 0:
        raise MediaError(os.fspath(path), "empty file (0 bytes)")
    return p


def _open(path: str | os.PathLike[str]):
    p = check_file(path)
    try:
        container = av.open(os.fspath(p))
    except (av.FFmpegError, OSError, ValueError) as exc:
        raise MediaError(os.fspath(path), f"not a readable video ({_short(exc)})") from None
    if not container.streams.video:
        container.close()
        raise MediaError(os.fspath(path), "has no video stream")
    return container


def _short(exc: BaseException) -> str:
    msg = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    # PyAV messages repeat the path; keep the reason only.
    if ":" in msg and "'" in msg:
        msg = msg.split(":")[-1].strip() or msg
    return msg[:120]


def small_size(width: int, height: int, max_side: int) -> tuple[int, int]:
    """(w, h) no larger than `max_side` on the longest side, even, aspect kept."""
    f = min(1.0, max_side / max(width, height))
    w = max(8, int(round(width * f / 2)) * 2)
    h = max(8, int(round(height * f / 2)) * 2)
    return w, h


def iter_small_frames(path: str | os.PathLike[str], max_side: int, fmt: str = "bgr24",
                      start: int = 0, end: int | None = None,
                      should_stop: StopFn | None = None) -> Iterator[tuple[int, np.ndarray]]:
    """(index, frame) for frames [start, end) decoded at most `max_side` px, in `fmt`
    ("bgr24", "rgb24" or "gray"). Counts frames by decoding (headers lie)."""
    container = _open(path)
    try:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        size = None
        index = -1
        try:
            for frame in container.decode(stream):
                index += 1
                if index < start:
                    continue
                if end is not None and index >= end:
                    break
                if index % 32 == 0:
                    check_stop(should_stop)
                if size is None:
                    size = small_size(frame.width, frame.height, max_side)
                small = frame.reformat(width=size[0], height=size[1], format=fmt,
                                       interpolation="AREA")
                yield index, small.to_ndarray()
        except av.FFmpegError as exc:
            if index < 0:
                raise MediaError(os.fspath(path), f"no decodable video frames ({_short(exc)})") from None
            # A truncated file: keep what decoded.
            return
    finally:
        container.close()


def video_fps(path: str | os.PathLike[str]) -> float:
    container = _open(path)
    try:
        s = container.streams.video[0]
        rate = s.average_rate or s.guessed_rate or s.base_rate
        return float(rate) if rate else 0.0
    finally:
        container.close()


def read_gray_frames(path: str | os.PathLike[str], start: int, end: int | None, max_side: int,
                     should_stop: StopFn | None = None) -> tuple[float, list[np.ndarray]]:
    fps = video_fps(path)
    frames = [f for _, f in iter_small_frames(path, max_side, "gray", start, end, should_stop)]
    return fps, frames

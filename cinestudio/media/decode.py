"""Decoding frames: frame-accurate ranges as numpy RGB arrays.

Index i is the i-th frame, in presentation order, of the frames that actually decode (the same
numbering `probe` counts and `sampling` uses). Ranges are half-open: [start, end).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator

import numpy as np

from cinestudio.media._av import Size, check_path, decode_all, open_video, to_rgb
from cinestudio.media._reader import check_range, iter_at, video_index
from cinestudio.progress import StopFn

__all__ = ["iter_frames", "read_frames", "iter_analysis_frames", "iter_analysis_views"]


def iter_frames(path: str | os.PathLike[str], start: int = 0, end: int | None = None,
                size: Size = None) -> Iterator[np.ndarray]:
    """Yield the frames [start, end) of the video as (H, W, 3) uint8 RGB arrays.

    From the first frame to the end of the file the frames are simply decoded in order; any
    other range first indexes the file (a demux-only pass, cached) to check the range and to
    seek close to `start`. `size` resizes (an int: the longer side; (width, height): exactly).
    Raises MediaError for unreadable files and UserInputError for a range outside the video
    (before yielding anything).
    """
    p = check_path(path)
    if start == 0 and end is None:
        return _iter_all(p, size)
    frames, index = video_index(p)
    end = check_range(p, start, end, frames)
    return (arr for _, arr in iter_at(p, range(start, end), size, index))


def _iter_all(path, size: Size) -> Iterator[np.ndarray]:
    with open_video(path) as (container, stream):
        for frame in decode_all(container, stream):
            yield to_rgb(frame, size)


THREADED_DECODE_PIXELS = 1280 * 720   # analysis: FFmpeg's frame threads from this picture size


def iter_analysis_frames(path: str | os.PathLike[str], max_side: int, fmt: str = "bgr24", *,
                         should_stop: StopFn | None = None, depth: int = 24) -> Iterator[np.ndarray]:
    """Every frame of the video, shrunk to at most `max_side` px (aspect kept, even sides), in
    `fmt` ("bgr24", "rgb24" or "gray"), for analysis rather than display (see
    `iter_analysis_views`). Closing the generator stops decoding."""
    views = iter_analysis_views(path, (max_side, fmt), should_stop=should_stop, depth=depth)

    def each() -> Iterator[np.ndarray]:
        try:
            for _, frame, _ in views:
                yield frame
        finally:
            views.close()

    return each()


def iter_analysis_views(path: str | os.PathLike[str], main: tuple[int, str],
                        extra: Callable[[int], Iterable[tuple[int, str]]] | None = None, *,
                        should_stop: StopFn | None = None, depth: int = 24
                        ) -> Iterator[tuple[int, np.ndarray, dict[tuple[int, str], np.ndarray]]]:
    """(index, main, {view: array}) for every frame of the video: the frame shrunk to the `main`
    view ``(longest side px, fmt)`` and to each view `extra(index)` names for that frame (e.g. a
    thumbnail size every few frames), each scaled straight from the decoded picture.

    Decoding runs on a background thread `depth` frames ahead of the caller (PyAV releases the
    GIL), without the H.264 deblocking filter (invisible at analysis size, ~15 % of decoding),
    and on that thread alone below `THREADED_DECODE_PIXELS` (the caller's analysis is the other
    core's work; from there up decoding is most of the work and FFmpeg's frame threads spread
    it). Scaling is shared: whichever of the two threads has time does it
    (`_frames.prefetched`). Closing the generator stops decoding and closes the file at once.
    Raises MediaError for unreadable files (on the first frame asked for).
    """
    from cinestudio.media import _frames

    decoded = _frames.decoded_frames(path, should_stop, frame_threads=False, fast=True,
                                     threads_from_pixels=THREADED_DECODE_PIXELS)
    # closing it stops the decoding thread and closes the file at once
    return _frames.prefetched(decoded, depth, batch=8, shared=_frames.ViewScaler(main, extra, threads=1))


def read_frames(path: str | os.PathLike[str], start: int = 0, end: int | None = None,
                size: Size = None) -> np.ndarray:
    """The frames [start, end) as one (N, H, W, 3) uint8 array (mind the memory for long ranges)."""
    p = check_path(path)
    if start == 0 and end is None:
        # validate up front (a bad file raises MediaError before anything is decoded)
        with open_video(p):
            pass
    frames = list(iter_frames(p, start, end, size))
    if not frames:
        from cinestudio.errors import MediaError

        raise MediaError(p, "no video frame can be decoded")
    return np.stack(frames)

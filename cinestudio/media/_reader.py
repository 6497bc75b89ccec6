"""Reading frames by index, by seeking when the stream allows it (private).

`video_index(path)` gives the number of frames that decode and, when the stream is seekable,
each frame's presentation timestamp (cached per file identity: path, size, mtime). `iter_at`
yields the requested frames, seeking where it can and decoding sequentially where it must, so
both ways give the same frames.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import numpy as np

from cinestudio.errors import MediaError, UserInputError
from cinestudio.media._av import (
    COUNT_ALWAYS_FORMATS,
    PacketIndex,
    SeekFailed,
    Size,
    check_path,
    open_video,
    scan,
    seek_decode,
    sequential_decode,
    to_rgb,
)


def video_index(path: str | os.PathLike[str], opened: tuple | None = None) -> tuple[int, PacketIndex]:
    """(frames that decode, packet index) for the video at `path`, cached per file identity.

    `opened` may be an already open (container, stream) of that file, used for the scan when the
    index is not cached yet (saves opening it twice; the container is left at its end).
    """
    p = check_path(path)
    st = p.stat()
    key = (str(p.resolve()), st.st_size, st.st_mtime_ns)
    with _CACHE_LOCK:
        hit = _CACHE.get(key)
        if hit is not None:
            _CACHE.move_to_end(key)
            return hit
    result = _build_index(p, opened)
    with _CACHE_LOCK:
        _CACHE[key] = result
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    return result


_CACHE: OrderedDict[tuple[str, int, int], tuple[int, PacketIndex]] = OrderedDict()
_CACHE_SIZE = 64
_CACHE_LOCK = threading.Lock()


def _build_index(path: Path, opened: tuple | None) -> tuple[int, PacketIndex]:
    if opened is None:
        with open_video(path) as (container, stream):
            return _build_index(path, (container, stream))
    container, stream = opened
    header = max(0, int(stream.frames or 0))
    fmt = container.format.name
    index = scan(container, stream, verify_tail=False)
    trusted = (fmt not in COUNT_ALWAYS_FORMATS and header > 0 and index.packets == header
               and not index.corrupt and not index.read_error)
    if not trusted:
        with open_video(path) as (container2, stream2):
            index = scan(container2, stream2, verify_tail=True)
    if index.frames == 0:
        raise MediaError(path, "no video frame can be decoded")
    return index.frames, index


def check_range(path: str | os.PathLike[str], start: int, end: int | None, frames: int) -> int:
    """Validate a [start, end) frame range against a video of `frames` frames; returns end."""
    end = frames if end is None else end
    if start < 0 or end < 0:
        raise UserInputError(path, f"frame range {start}–{end} has a negative index")
    if end > frames:
        raise UserInputError(path, f"frame range {start}–{end} goes past the end (the video has {frames} frames)")
    if start >= end:
        raise UserInputError(path, f"frame range {start}–{end} is empty")
    return end


def iter_at(path: str | os.PathLike[str], targets: Sequence[int], size: Size = None,
            index: PacketIndex | None = None, opened: tuple | None = None) -> Iterator[tuple[int, np.ndarray]]:
    """Yield (i, RGB frame) for the sorted unique frame indices `targets`, in order.

    `opened`: an open (container, stream) of the file to seek in (else the file is opened).
    """
    p = check_path(path)
    targets = list(targets)
    done = 0
    if index is not None and index.seekable and targets:
        try:
            if opened is not None:
                for i, frame in seek_decode(*opened, index, targets):
                    yield i, to_rgb(frame, size)
                    done += 1
            else:
                with open_video(p) as (container, stream):
                    for i, frame in seek_decode(container, stream, index, targets):
                        yield i, to_rgb(frame, size)
                        done += 1
        except SeekFailed:
            pass
    if done < len(targets):
        rest = targets[done:]
        with open_video(p) as (container, stream):
            for i, frame in sequential_decode(container, stream, rest):
                yield i, to_rgb(frame, size)
                done += 1
    if done < len(targets):
        raise MediaError(p, f"frame {targets[done]} could not be decoded")


def read_at(path: str | os.PathLike[str], indices: Sequence[int] | Callable[[int], Sequence[int]],
            size: Size = None) -> np.ndarray:
    """Frames at `indices` (any order, repeats allowed) as an (N, H, W, 3) uint8 array.

    `indices` may be a function of the number of frames that returns them.
    """
    p = check_path(path)
    with open_video(p) as opened:
        frames, index = video_index(p, opened)
        indices = [int(i) for i in (indices(frames) if callable(indices) else indices)]
        if not indices:
            raise ValueError("no frame indices given")
        for i in indices:
            if not 0 <= i < frames:
                raise UserInputError(p, f"frame {i} is outside the video (it has {frames} frames)")
        got = dict(iter_at(p, sorted(set(indices)), size, index, opened))
    return np.stack([got[i] for i in indices])


def clear_cache() -> None:
    with _CACHE_LOCK:
        _CACHE.clear()


__all__ = ["video_index", "check_range", "iter_at", "read_at", "clear_cache"]

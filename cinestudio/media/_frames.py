"""Low-resolution frame reading for analysis (shot detection, motion) — private to media.

Whole files are decoded sequentially with frame threading, and swscale does the downscaling
(much cheaper than converting full-size RGB and resizing); frame ranges go through
`decode.iter_frames` (frame-accurate seeking). Opening and error reporting are the shared ones of
`_av` (MediaError with a one-line reason for missing, empty, text, truncated files ...).
"""

from __future__ import annotations

import os
import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any

import cv2
import numpy as np
from av.video.reformatter import VideoReformatter

from cinestudio.media._av import decode_all, frame_rate, open_video
from cinestudio.progress import StopFn, check_stop

if TYPE_CHECKING:
    import av


def small_size(width: int, height: int, max_side: int) -> tuple[int, int]:
    """(w, h) no larger than `max_side` on the longest side, even, aspect kept."""
    f = min(1.0, max_side / max(width, height))
    w = max(8, int(round(width * f / 2)) * 2)
    h = max(8, int(round(height * f / 2)) * 2)
    return w, h


def video_info(path: str | os.PathLike[str]) -> tuple[float, int]:
    """(fps, the container's frame count or 0) — the count may lie; only for progress bars."""
    with open_video(path) as (container, stream):
        count = int(stream.frames or 0)
        return frame_rate(stream), count


def iter_small_frames(path: str | os.PathLike[str], max_side: int, fmt: str = "bgr24",
                      start: int = 0, end: int | None = None,
                      should_stop: StopFn | None = None, *, frame_threads: bool = True,
                      fast: bool = False) -> Iterator[tuple[int, np.ndarray]]:
    """(index, frame) for the frames [start, end) at most `max_side` px, in `fmt` ("bgr24",
    "rgb24" or "gray"). Indices count frames that decode (headers lie).

    Whole-file reads only: `frame_threads` lets FFmpeg decode several frames at once (faster on
    an idle machine, ~10 % more CPU in all: a caller with its own worker threads turns it off);
    `fast` skips the decoder's deblocking filter, ~15 % less decoding for H.264 — invisible
    once frames are shrunk for analysis, but not exact frames."""
    if start == 0:
        frames = _iter_all(path, max_side, fmt, should_stop, frame_threads, fast)
        try:
            for index, frame in frames:
                if end is not None and index >= end:
                    return
                yield index, frame
        finally:
            frames.close()   # closes the file at once when stopping early
        return
    from cinestudio.media.decode import iter_frames

    code = {"bgr24": cv2.COLOR_RGB2BGR, "gray": cv2.COLOR_RGB2GRAY}.get(fmt)
    # seeks close to `start`; the scaler shrinks each frame (longest side `max_side`)
    for k, rgb in enumerate(iter_frames(path, start, end, size=max_side)):
        if k % 32 == 0:
            check_stop(should_stop)
        yield start + k, (cv2.cvtColor(rgb, code) if code is not None else rgb)


def _iter_all(path, max_side: int, fmt: str, should_stop: StopFn | None,
              frame_threads: bool = True, fast: bool = False):
    return shrink_frames(decoded_frames(path, should_stop, frame_threads, fast), max_side, fmt)


def decoded_frames(path, should_stop: StopFn | None = None, frame_threads: bool | None = True,
                   fast: bool = False, threads_from_pixels: int | None = None
                   ) -> Iterator[tuple[int, "av.VideoFrame"]]:
    """(index, decoded frame) of the whole file, not converted: the caller (or another thread)
    scales them (`ViewScaler`). `frame_threads`: True adds FFmpeg's frame threads to its default
    slice threads, None keeps the default, False decodes on the calling thread alone (for
    callers that keep the cores busy with threads of their own) — unless the picture has at
    least `threads_from_pixels` pixels: there decoding is most of the work, and FFmpeg's frame
    threads spread it best. `fast` skips the H.264 deblocking filter (~15 % of decoding;
    invisible once frames are shrunk for analysis, but not exact frames)."""
    with open_video(path) as (container, stream):
        big = threads_from_pixels is not None and \
            (stream.width or 0) * (stream.height or 0) >= threads_from_pixels
        if frame_threads or big:
            stream.thread_type = "AUTO"
        elif frame_threads is False:
            stream.thread_type = "NONE"
        if fast:
            stream.codec_context.options = {**stream.codec_context.options,
                                            "skip_loop_filter": "all"}
        for index, frame in enumerate(decode_all(container, stream)):
            if index % 32 == 0:
                check_stop(should_stop)
            yield index, frame


def shrink_frames(frames: Iterator[tuple[int, "av.VideoFrame"]], max_side: int,
                  fmt: str, threads: int = 0) -> Iterator[tuple[int, np.ndarray]]:
    """(index, array) of decoded frames scaled by swscale (area averaging) to at most `max_side`
    px, in `fmt`, on `threads` threads (0: as many as there are cores). Closing it closes
    `frames`."""
    views = scaled_views(frames, (max_side, fmt), None, threads)
    try:
        for index, small, _ in views:
            yield index, small
    finally:
        views.close()


View = tuple[int, str]   # (longest side in px, pixel format: "bgr24", "rgb24" or "gray")


class ViewScaler:
    """``(index, decoded frame) -> (index, main view, {view: array})``: the frame scaled by
    swscale (area averaging, aspect kept, even sides) to the `main` view and to each view
    `extra(index)` names for that frame — each straight from the decoded picture, so a smaller
    view costs no second resize of a larger one. Callable from several threads (each keeps its
    own scalers: one per view, since switching sizes would rebuild swscale's context)."""

    def __init__(self, main: View, extra: Callable[[int], Iterable[View]] | None = None,
                 threads: int = 0):
        self.main, self.extra, self.threads = main, extra, threads
        self._local = threading.local()

    def scale(self, frame: "av.VideoFrame", view: View) -> np.ndarray:
        scalers = self._local.__dict__.setdefault("scalers", {})
        got = scalers.get(view)
        if got is None:
            got = scalers[view] = (VideoReformatter(), small_size(frame.width, frame.height, view[0]))
        scaler, (w, h) = got
        return scaler.reformat(frame, width=w, height=h, format=view[1], interpolation="AREA",
                               threads=self.threads).to_ndarray()

    def __call__(self, item: tuple[int, "av.VideoFrame"]
                 ) -> tuple[int, np.ndarray, dict[View, np.ndarray]]:
        index, frame = item
        views = {v: self.scale(frame, v) for v in self.extra(index)} if self.extra is not None else {}
        return index, self.scale(frame, self.main), views


def scaled_views(frames: Iterator[tuple[int, "av.VideoFrame"]], main: View,
                 extra: Callable[[int], Iterable[View]] | None = None, threads: int = 0
                 ) -> Iterator[tuple[int, np.ndarray, dict[View, np.ndarray]]]:
    """`ViewScaler` applied to every decoded frame, on the calling thread. Closing it closes
    `frames`."""
    scaler = ViewScaler(main, extra, threads)
    try:
        for item in frames:
            yield scaler(item)
    finally:
        close = getattr(frames, "close", None)
        if close is not None:
            close()


def prefetched(frames: Iterator, depth: int = 16, batch: int = 1,
               shared: Callable[[Any], Any] | None = None) -> Iterator:
    """Run the iterator `frames` (decoding) in a background thread, `depth` items ahead, so that
    decoding overlaps the caller's work (PyAV releases the GIL while it decodes and scales).
    Items cross over `batch` at a time: each hand-over wakes a thread, and per frame those
    wake-ups cost more than cheap frames do. Exceptions are re-raised in the caller; closing the
    generator stops the thread.

    `shared` is a stage (e.g. scaling) that either thread may run on each item, whichever has
    time: the background thread runs it on a batch when the caller is behind (the queue at least
    half full), the caller runs it on the others. The split then follows what each side costs —
    decoding is most of the work for HD pictures, analysis for small ones, and either side may
    lose its core to other load — without a fixed rule for who scales."""
    batch = max(1, int(batch))
    q: queue.Queue = queue.Queue(maxsize=max(1, depth // batch))
    stop = threading.Event()
    done = object()

    def put(item) -> bool:
        while not stop.is_set():
            try:
                q.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def hand_over(chunk: list) -> bool:
        if shared is not None and 2 * q.qsize() >= q.maxsize:
            return put((True, [shared(x) for x in chunk]))
        return put((shared is None, chunk))

    def work() -> None:
        try:
            chunk: list = []
            for item in frames:
                chunk.append(item)
                if len(chunk) >= batch:
                    if not hand_over(chunk):
                        break
                    chunk = []
            if chunk:
                hand_over(chunk)
            put(done)
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer
            put(exc)
        finally:
            close = getattr(frames, "close", None)
            if close is not None and stop.is_set():
                try:
                    close()
                except Exception:
                    pass

    thread = threading.Thread(target=work, name="cinestudio-decode", daemon=True)
    thread.start()
    try:
        while True:
            item = q.get()
            if item is done:
                return
            if isinstance(item, BaseException):
                raise item
            ready, chunk = item
            if ready:
                yield from chunk
            else:
                for x in chunk:
                    yield shared(x)  # type: ignore[misc]
    finally:
        stop.set()
        while thread.is_alive():
            try:
                q.get_nowait()
            except queue.Empty:
                thread.join(timeout=0.05)


def read_gray_frames(path: str | os.PathLike[str], start: int, end: int | None, max_side: int,
                     should_stop: StopFn | None = None) -> tuple[float, list[np.ndarray]]:
    fps, _ = video_info(path)
    frames = [f for _, f in iter_small_frames(path, max_side, "gray", start, end, should_stop)]
    return fps, frames

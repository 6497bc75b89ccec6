"""Frames of one clip for a player: decoded in a worker thread, kept in a small cache.

`FrameSource.open(path, start, end)` points it at frames [start, end) of a video file; frame
indices given to `frame()` / `request()` are relative to the clip (0 .. frames-1). `request(i)`
asks for frame i (and the chunk after it, or before it when stepping backwards); when a frame
lands in the cache `frameReady(i)` is emitted on the UI thread. The UI thread never decodes.

The decoder thread works on one job at a time and drops it as soon as a newer request makes it
stale (a scrub across the clip does not queue up every frame on the way). Forward requests that
continue where the last one stopped keep reading from the same open decoder, so playback costs
one decode per frame, not one seek per chunk.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass

from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtGui import QImage

from cinestudio.gui.widgets.images import rgb_to_qimage
from cinestudio.gui.workers import ManagedThread


@dataclass(frozen=True)
class _Job:
    generation: int
    path: str
    clip_start: int      # absolute index of clip frame 0 in the file
    clip_end: int        # absolute end (exclusive)
    first: int           # clip-relative range to decode [first, last)
    last: int
    size: int | None


class _DecodeThread(ManagedThread):
    decoded = Signal(int, int, QImage)     # generation, clip-relative index, image
    failed = Signal(int, str)              # generation, message
    jobDone = Signal(int, int, int)        # generation, first, last of the job (done or dropped)

    def __init__(self, parent: QObject | None = None):
        super().__init__("frame-decoder", parent)
        self._cond = threading.Condition()
        self._job: _Job | None = None
        self._stopping = False

    def submit(self, job: _Job) -> None:
        with self._cond:
            self._job = job
            self._cond.notify()

    def stop(self) -> None:
        with self._cond:
            self._stopping = True
            self._job = None
            self._cond.notify()

    def _take(self) -> _Job | None:
        with self._cond:
            while self._job is None and not self._stopping:
                self._cond.wait()
            job, self._job = self._job, None
            return None if self._stopping else job

    def _superseded(self) -> bool:
        with self._cond:
            return self._stopping or self._job is not None

    def work(self) -> None:
        from cinestudio.media.decode import iter_frames

        stream = None          # an open forward decoder: (key, generator, next clip index)
        try:
            while True:
                job = self._take()
                if job is None:
                    return
                key = (job.generation, job.path, job.clip_start, job.clip_end, job.size)
                if stream is None or stream[0] != key or stream[2] != job.first:
                    if stream is not None:
                        stream[1].close()
                    try:
                        gen = iter_frames(job.path, job.clip_start + job.first, job.clip_end, job.size)
                    except Exception as exc:  # unreadable file, bad range: tell the player
                        stream = None
                        self.failed.emit(job.generation, str(exc))
                        self.jobDone.emit(job.generation, job.first, job.last)
                        continue
                    stream = [key, gen, job.first]
                index = stream[2]
                try:
                    while index < job.last:
                        frame = next(stream[1], None)
                        if frame is None:
                            break
                        self.decoded.emit(job.generation, index, rgb_to_qimage(frame))
                        index += 1
                        stream[2] = index
                        if self._superseded():
                            break
                except Exception as exc:
                    stream[1].close()
                    stream = None
                    self.failed.emit(job.generation, str(exc))
                self.jobDone.emit(job.generation, job.first, job.last)
        finally:
            if stream is not None:
                stream[1].close()


class FrameSource(QObject):
    """A clip's frames, decoded ahead of the playhead into an LRU cache."""

    frameReady = Signal(int)
    failed = Signal(str)

    def __init__(self, parent: QObject | None = None, *, cache_frames: int = 120, chunk: int = 24,
                 max_size: int = 960, cache_bytes: int = 96 * 2**20):
        super().__init__(parent)
        self.cache_frames = cache_frames
        self.cache_bytes = cache_bytes    # 96 MiB: ~64 frames at 960x540, 120 at smaller sizes
        self._bytes = 0
        self.chunk = chunk
        self.max_size = max_size
        self._cache: OrderedDict[int, QImage] = OrderedDict()
        self._generation = 0
        self._clip: tuple[str, int, int, int | None] | None = None
        self._inflight: tuple[int, int] | None = None
        self._thread: _DecodeThread | None = None
        self.error: str | None = None

    # -- the clip ----------------------------------------------------------------------------

    @property
    def frame_count(self) -> int:
        return 0 if self._clip is None else self._clip[2] - self._clip[1]

    def open(self, path: str, start: int, end: int, width: int | None = None,
             height: int | None = None) -> None:
        """Show frames [start, end) of the file at `path` from now on (drops the cache)."""
        self._generation += 1
        self._cache.clear()
        self._bytes = 0
        self._inflight = None
        self.error = None
        size = None
        if width and height and max(width, height) > self.max_size:
            size = self.max_size
        elif not (width and height):
            size = None
        self._clip = (str(path), int(start), int(end), size)

    def clear(self) -> None:
        self._generation += 1
        self._cache.clear()
        self._bytes = 0
        self._inflight = None
        self._clip = None

    # -- frames ------------------------------------------------------------------------------

    def frame(self, index: int) -> QImage | None:
        image = self._cache.get(index)
        if image is not None:
            self._cache.move_to_end(index)
        return image

    def cached(self, index: int) -> bool:
        return index in self._cache

    def request(self, index: int, backwards: bool = False) -> None:
        """Make sure frame `index` is (being) decoded, with a chunk ahead of it."""
        if self._clip is None or not 0 <= index < self.frame_count:
            return
        if index in self._cache and not backwards:
            # prefetch: keep a chunk decoded ahead of the playhead
            ahead = index
            limit = min(self.frame_count, index + self.chunk // 2)
            while ahead < limit and ahead in self._cache:
                ahead += 1
            if ahead >= limit:
                return
            index = ahead
        elif index in self._cache:
            return
        if self._inflight is not None and self._inflight[0] <= index < self._inflight[1]:
            return
        if backwards:
            first = max(0, index - self.chunk + 1)
            while first < index and first in self._cache:
                first += 1
            last = index + 1
        else:
            first = index
            last = min(self.frame_count, index + self.chunk)
        self._inflight = (first, last)
        path, start, end, size = self._clip
        self._ensure_thread().submit(_Job(self._generation, path, start, end, first, last, size))

    def _ensure_thread(self) -> _DecodeThread:
        if self._thread is None:
            self._thread = _DecodeThread()
            self._thread.decoded.connect(self._on_decoded)
            self._thread.failed.connect(self._on_failed)
            self._thread.jobDone.connect(self._on_job_done)
            self._thread.start()
        return self._thread

    @Slot(int, int, QImage)
    def _on_decoded(self, generation: int, index: int, image: QImage) -> None:
        if generation != self._generation:
            return
        old = self._cache.pop(index, None)
        if old is not None:
            self._bytes -= old.sizeInBytes()
        self._cache[index] = image
        self._bytes += image.sizeInBytes()
        while len(self._cache) > 1 and (len(self._cache) > self.cache_frames
                                        or self._bytes > self.cache_bytes):
            _, dropped = self._cache.popitem(last=False)
            self._bytes -= dropped.sizeInBytes()
        self.frameReady.emit(index)

    @Slot(int, int, int)
    def _on_job_done(self, generation: int, first: int, last: int) -> None:
        if generation == self._generation and self._inflight == (first, last):
            self._inflight = None

    @Slot(int, str)
    def _on_failed(self, generation: int, message: str) -> None:
        if generation != self._generation:
            return
        self._inflight = None
        self.error = message
        self.failed.emit(message)

    def shutdown(self) -> None:
        """Stop the decoder thread and wait for it (call when the player closes)."""
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.stop()
            thread.wait()
            thread.decoded.disconnect(self._on_decoded)
            thread.failed.disconnect(self._on_failed)
            thread.jobDone.disconnect(self._on_job_done)
            thread.deleteLater()

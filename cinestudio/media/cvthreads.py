"""OpenCV's own thread pool, turned off while our threads already keep the cores busy.

OpenCV parallelises `resize`, `cvtColor`, `goodFeaturesToTrack`, ... over a pool of its own whose
workers spin for a while after each call. Where several of our threads already run OpenCV calls
side by side (import analysis: decoding, motion and shot detection on three threads), those
spinning workers take the cores the other threads need. Measured on import analysis of 640x360
clips: with other work on the machine, 1.85 CPU ms per frame with the default pool and 1.44 with
one thread, 1.25x faster in wall time; on an idle machine the same wall time and ~4 % less CPU.
The setting is process-wide, so it is reference-counted: the default comes back when the last
user leaves.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

import cv2

_lock = threading.Lock()
_users = 0
_saved = 0


@contextmanager
def single_threaded_opencv() -> Iterator[None]:
    """OpenCV calls run on the calling thread only, for the length of the block."""
    global _users, _saved
    with _lock:
        if _users == 0:
            _saved = cv2.getNumThreads()
            cv2.setNumThreads(1)
        _users += 1
    try:
        yield
    finally:
        with _lock:
            _users -= 1
            if _users == 0:
                cv2.setNumThreads(_saved)

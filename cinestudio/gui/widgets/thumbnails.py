"""Thumbnails loaded asynchronously, newest request first, kept in a bounded cache.

`get(key, payload)` returns the pixmap when it is cached, else None and schedules a load of
`loader(payload)` (an RGB array, run in a worker thread); `ready(key)` is emitted when it
arrives. Only a couple of loads run at a time and the most recent requests go first, so while a
list scrolls fast the rows on screen load before the ones scrolled past.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QImage, QPixmap

from cinestudio.gui.widgets.images import rgb_to_qimage
from cinestudio.gui.workers import TaskRunner


class ThumbnailCache(QObject):
    ready = Signal(object)

    def __init__(self, runner: TaskRunner, loader: Callable[[Any], np.ndarray], *,
                 capacity: int = 500, parallel: int = 2, parent: QObject | None = None):
        super().__init__(parent)
        self.runner = runner
        self.loader = loader
        self.capacity = capacity
        self.parallel = parallel
        self._pixmaps: OrderedDict[Hashable, QPixmap] = OrderedDict()
        self._failed: set[Hashable] = set()
        self._queued: OrderedDict[Hashable, Any] = OrderedDict()
        self._running: set[Hashable] = set()
        self._generation = 0

    def get(self, key: Hashable, payload: Any) -> QPixmap | None:
        pixmap = self._pixmaps.get(key)
        if pixmap is not None:
            self._pixmaps.move_to_end(key)
            return pixmap
        if key in self._failed or key in self._running:
            return None
        self._queued[key] = payload
        self._queued.move_to_end(key)
        self._pump()
        return None

    def failed(self, key: Hashable) -> bool:
        return key in self._failed

    def invalidate(self, key: Hashable) -> None:
        self._pixmaps.pop(key, None)
        self._failed.discard(key)

    def clear(self) -> None:
        self._generation += 1
        self._pixmaps.clear()
        self._failed.clear()
        self._queued.clear()
        self._running.clear()

    def _pump(self) -> None:
        while self._queued and len(self._running) < self.parallel:
            key, payload = self._queued.popitem(last=True)   # newest first
            self._running.add(key)
            gen = self._generation
            self.runner.submit(self._load, payload, name="thumbnail",
                               on_result=lambda img, k=key, g=gen: self._done(k, g, img),
                               on_error=lambda _exc, k=key, g=gen: self._done(k, g, None))

    def _load(self, payload: Any) -> QImage:
        return rgb_to_qimage(self.loader(payload))

    def _done(self, key: Hashable, generation: int, image: QImage | None) -> None:
        if generation != self._generation:
            return
        self._running.discard(key)
        if image is None or image.isNull():
            self._failed.add(key)
        else:
            self._pixmaps[key] = QPixmap.fromImage(image)
            while len(self._pixmaps) > self.capacity:
                self._pixmaps.popitem(last=False)
        self.ready.emit(key)
        self._pump()

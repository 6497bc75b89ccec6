"""`UiLatencyProbe`: how long the event loop goes without running a 10 ms timer — the measure of
"the UI thread is never blocked for more than 50 ms" (used by the Train tab test and benchmark)."""

from __future__ import annotations

import time

from PySide6.QtCore import QObject, Qt, QTimer


class UiLatencyProbe(QObject):
    def __init__(self, interval_ms: int = 10, parent: QObject | None = None):
        super().__init__(parent)
        self.interval_ms = interval_ms
        self.timer = QTimer(self)
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self._tick)
        self.gaps_ms: list[float] = []
        self._last: float | None = None

    def start(self) -> None:
        self._last = time.perf_counter()
        self.timer.start()

    def stop(self) -> None:
        self.timer.stop()
        self._last = None

    def _tick(self) -> None:
        now = time.perf_counter()
        if self._last is not None:
            self.gaps_ms.append((now - self._last) * 1000.0)
        self._last = now

    @property
    def max_gap_ms(self) -> float:
        return max(self.gaps_ms, default=0.0)

    def percentile(self, q: float) -> float:
        if not self.gaps_ms:
            return 0.0
        data = sorted(self.gaps_ms)
        return data[min(len(data) - 1, int(q / 100.0 * len(data)))]

    def over(self, ms: float) -> int:
        return sum(1 for g in self.gaps_ms if g > ms)

    def summary(self) -> str:
        return (f"{len(self.gaps_ms)} ticks of {self.interval_ms} ms: max gap {self.max_gap_ms:.1f} ms, "
                f"p99 {self.percentile(99):.1f} ms, {self.over(50)} gaps > 50 ms")

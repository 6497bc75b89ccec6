"""`JobHistory`: one job's protocol messages folded into what a view shows — metric series, the
log, artifacts, the latest progress — across attempts (a resumed attempt's ``started`` message
drops the points logged after the checkpoint it continues from, so curves never double back)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from cinestudio.jobs.protocol import format_event

MAX_LOG_LINES = 5000


@dataclass
class JobHistory:
    job_id: int
    series: dict[str, tuple[list[float], list[float]]] = field(default_factory=dict)
    log: list[str] = field(default_factory=list)
    artifacts: dict[str, dict[str, Any]] = field(default_factory=dict)
    progress: dict[str, Any] | None = None
    done: dict[str, Any] | None = None
    error: dict[str, Any] | None = None
    attempt: int = 0
    version: int = 0                 # bumped by every message that changes what is shown
    last_seq: int = 0

    def add(self, messages: list[dict[str, Any]]) -> bool:
        """Fold messages in; True when anything changed."""
        changed = False
        for msg in messages:
            kind = msg.get("type")
            if kind == "started":
                self.attempt = int(msg.get("attempt") or self.attempt + 1)
                self.done = self.error = None
                self.progress = None
                resume = msg.get("resume_step")
                self._truncate(resume if resume is not None else 0)
            elif kind == "progress":
                self.progress = msg
            elif kind == "metric":
                step = float(msg.get("step", 0))
                for name, value in (msg.get("values") or {}).items():
                    if isinstance(value, (int, float)):
                        xs, ys = self.series.setdefault(name, ([], []))
                        xs.append(step)
                        ys.append(float(value))
            elif kind == "artifact":
                self.artifacts[str(msg.get("name"))] = msg
            elif kind == "done":
                self.done = msg
            elif kind == "error":
                self.error = msg
            if kind != "metric" and kind != "progress":
                self.log.append(format_event(msg))
            elif kind == "progress" and msg.get("done") == msg.get("total"):
                self.log.append(format_event(msg))
            changed = True
        if len(self.log) > MAX_LOG_LINES:
            del self.log[: len(self.log) - MAX_LOG_LINES]
        if changed:
            self.version += 1
        return changed

    def _truncate(self, step: float) -> None:
        for name, (xs, ys) in self.series.items():
            keep = sum(1 for x in xs if x <= step)
            del xs[keep:], ys[keep:]

    def eta_s(self, now: float | None = None) -> float | None:
        """The worker's latest estimate, aged by the time since it was sent."""
        if self.progress is None or self.progress.get("eta_s") is None or self.done or self.error:
            return None
        now = time.time() if now is None else now
        return max(0.0, float(self.progress["eta_s"]) - max(0.0, now - float(self.progress.get("t", now))))

    def names(self, prefix: str) -> list[str]:
        return sorted(n for n in self.series if n.startswith(prefix))

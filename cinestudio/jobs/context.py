"""`JobContext`: what a kind's use-case adapter gets from the worker."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cinestudio.progress import Cancelled


def _ignore(*args: Any, **kwargs: Any) -> None:
    return None


@dataclass
class JobContext:
    """One run of one job.

    ``progress(done, total, message, phase=...)`` and ``should_stop()`` follow
    `cinestudio.progress`; ``metric(step, values)``, ``log(message, level)``,
    ``artifact(name, path, step)`` become protocol messages; ``checkpoint(step, path)`` records
    that the run folder now holds a checkpoint at `step` (what `resume` continues from).
    ``resume_step`` is the checkpoint step of an earlier attempt (None on the first).
    """

    job_id: int
    kind: str
    config: dict[str, Any]
    run_dir: Path
    workspace: Path
    device: str = "auto"
    threads: int | None = None
    attempt: int = 1
    resume_step: int | None = None
    store: Any = None
    progress: Callable[..., None] = _ignore
    should_stop: Callable[[], bool] = field(default=lambda: False)
    metric: Callable[[int, dict[str, float]], None] = _ignore
    log: Callable[..., None] = _ignore
    artifact: Callable[..., None] = _ignore
    checkpoint: Callable[..., None] = _ignore

    def check_stop(self) -> None:
        if self.should_stop():
            raise Cancelled("stopped on request")

    def rel(self, path: str | Path) -> str:
        """`path` relative to the run folder when inside it (for artifact messages)."""
        p = Path(path)
        try:
            return str(p.resolve().relative_to(self.run_dir.resolve()))
        except ValueError:
            return str(p)

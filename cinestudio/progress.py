"""The callback protocol long functions take, so CLI, job worker and tests share one code path.

``progress(done, total, message)`` reports advancement; ``should_stop()`` is polled between units
of work and, when it returns True, the function stops cleanly and raises `Cancelled`.
"""

from __future__ import annotations

from collections.abc import Callable

from cinestudio.errors import CineStudioError

ProgressFn = Callable[[int, int, str], None]
StopFn = Callable[[], bool]


class Cancelled(CineStudioError):
    """Raised when `should_stop()` asked a long function to stop."""


def no_progress(done: int, total: int, message: str = "") -> None:
    """A progress callback that ignores reports."""


def never_stop() -> bool:
    return False


def check_stop(should_stop: StopFn | None) -> None:
    if should_stop is not None and should_stop():
        raise Cancelled("stopped on request")
